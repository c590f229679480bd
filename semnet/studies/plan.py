"""The analysis plan of a seed study (:mod:`semnet.studies.registry`), end to end.

:func:`run` carries out, on the study's synthetic survey or on any data with its columns:

1. ``descriptives``: item means, SDs and missing answers by group;
2. ``reliability``: standardized loadings, alpha, omega and AVE per group (configural CFA);
3. ``invariance``: the ladder configural -> metric -> scalar -> strict across the study's
   groups, the partial-invariance search by score tests and the latent mean differences;
4. ``structural``: the multi-group structural model (``multigroup.lav``, loadings and
   intercepts equal except those the search freed), its paths and ``:=`` comparisons;
5. ``moderation``: the paper's full model (``structural.lav``) in each group with
   double-mean-centred product indicators, and the LMS block (``moderated.lav``);
6. ``mediation``: bootstrap CIs of the ``:=`` effects of the multi-group model.

The tables are APA journal tables (:mod:`semnet.report.journal`) with the construct names
of the ``# @label`` lines of the model files, written as Markdown, LaTeX, HTML and CSV (the
CSV full precision, long format); with them a path diagram of the multi-group structural
model (one panel per group), ``report.html``, ``tables.docx`` (when python-docx is
installed) and a ``manifest.json`` (:mod:`semnet.studies._output`). One invariance rule
(:data:`INVARIANCE_RULE`, the chi-square difference test) judges the ladder and the partial
search. Missing answers are handled by FIML; LMS and the bootstrap use the complete cases
(stated in the notes).
"""

from __future__ import annotations

import json
import re
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from semnet._version import __version__
from semnet.analyses.parallel import check_jobs
from semnet.studies._output import MANIFEST, OutputFolder
from semnet.studies.network_involvement import StudyResult

__all__ = ["STEPS", "run"]

FIML = {"missing": "fiml", "fixed_x": False}
PATH_COLUMNS = ["group", "lhs", "op", "rhs", "label", "est", "se", "pvalue", "std_all"]
EFFECT_COLUMNS = ["lhs", "rhs", "est", "se", "pvalue", "ci_lower", "ci_upper"]
#: one decision rule for the invariance ladder and the partial search (as the
#: network-involvement study): the chi-square difference test at .05
INVARIANCE_RULE = "chisq"
REPORT_HTML, REPORT_DOCX = "report.html", "tables.docx"
FIGURE = "figure1_path_diagram"


@dataclass
class _State:
    """What the steps share: the study, the inputs, the tables so far and fits handed on."""

    study: Any
    frame: pd.DataFrame
    models: dict[str, str]
    seed: int
    bootstrap: int
    progress: bool
    groups: list[str] = field(init=False)
    #: construct names: the model files' ``# @label`` lines, else the study's labels
    labels: dict[str, str] = field(init=False)
    tables: dict[str, Any] = field(default_factory=dict)
    inv: Any = None
    partial: Any = None
    structural: Any = None
    freed: tuple[str, ...] = ()
    #: worker processes of the bootstrap (its draws do not depend on them)
    jobs: int = 1

    def __post_init__(self) -> None:
        from semnet.report.journal import model_labels

        self.groups = [str(g) for g in pd.unique(self.frame[self.study.group])]
        self.labels = {**self.study.labels, **model_labels(self.models["measurement"]),
                       **model_labels(self.models["multigroup"])}  # fmt: skip

    def part(self, g: str) -> pd.DataFrame:
        return self.frame[self.frame[self.study.group].astype(str) == g]

    def complete(self) -> pd.DataFrame:
        return self.frame.dropna(subset=self.study.required)

    def add(self, name: str, table: Any) -> None:
        """Add a journal table under its file stem ``name`` (``table3_invariance``)."""
        from dataclasses import replace

        self.tables[name] = replace(table, name=name, label=_number(name))

    def text_table(self, name: str, title: str, frame: pd.DataFrame, header: dict,
                   notes: tuple = (), **kwargs: Any) -> None:  # fmt: skip
        from semnet.report.tables import Table

        self.add(name, Table(name, title, frame.reset_index(drop=True), notes=notes,
                             header=header, **kwargs))  # fmt: skip

    def n_note(self, frame: pd.DataFrame | None = None) -> str:
        """``N = 600 (indirect = 300, direct = 300).`` of ``frame`` (default: all cases)."""
        frame = self.frame if frame is None else frame
        counts = frame[self.study.group].astype(str).value_counts()
        return (f"N = {len(frame)} ("
                + ", ".join(f"{g} = {int(counts.get(g, 0))}" for g in self.groups) + ").")

    def name(self, code: str) -> str:
        return " × ".join(self.labels.get(c, c) for c in str(code).split(":"))


def _number(name: str) -> str:
    """``"Table 3"`` for the file stem ``table3_invariance``."""
    m = re.match(r"table(\d+)_", name)
    return f"Table {m.group(1)}" if m else ""


_FIML_NOTE = "Estimator: ML; full-information maximum likelihood (FIML) for missing answers."


def _descriptives(s: _State) -> None:
    tidy = []
    for g in s.groups:
        part = s.part(g)
        for item in s.study.items:
            col = pd.to_numeric(part[item], errors="coerce")
            tidy.append({"group": g, "item": item, "n": int(col.notna().sum()),
                         "mean": col.mean(), "sd": col.std(),
                         "missing_pct": 100 * col.isna().mean()})  # fmt: skip
    stats = pd.DataFrame(tidy).set_index(["group", "item"])
    rows, rules = [], []
    for factor, items in s.study.constructs.items():
        rules.append(len(rows))
        for k, item in enumerate(items):
            row: dict[str, Any] = {"construct": s.name(factor) if k == 0 else "", "item": item}
            for g in s.groups:
                hit = stats.loc[(g, item)]
                row |= {f"{g}_m": hit["mean"], f"{g}_sd": hit["sd"],
                        f"{g}_miss": hit["missing_pct"]}  # fmt: skip
            rows.append(row)
    header = {"construct": "Construct", "item": "Item"}
    for g in s.groups:
        header |= {f"{g}_m": "M", f"{g}_sd": "SD", f"{g}_miss": "% missing"}
    s.text_table("table1_descriptives", f"Item means, standard deviations and missing "
                 f"answers by {s.study.group}", pd.DataFrame(rows), header,
                 (f"SD with divisor n − 1; missing answers excluded. {s.n_note()}",),
                 digits=2, spans=(("", 2), *((g, 3) for g in s.groups)),
                 rules=tuple(rules[1:]), tidy=pd.DataFrame(tidy),
                 columns={"construct": "text", "item": "text"})  # fmt: skip


def _reliability(s: _State) -> None:
    from semnet.analyses.invariance import invariance
    from semnet.report.journal import measurement_table

    s.inv = invariance(s.models["measurement"], s.frame, group=s.study.group,
                       rule=INVARIANCE_RULE, **FIML)  # fmt: skip
    s.add("table2_reliability", measurement_table(
        s.inv.fits["configural"], labels=s.labels,
        title="Measurement model: standardized loadings, reliability and convergent "
        f"validity by {s.study.group}",
        notes=("From the configural multi-group CFA; α, CR and AVE use its FIML "
               "estimates of the items' covariances.",)))  # fmt: skip


def _invariance(s: _State) -> None:
    from semnet.report.journal import invariance_table, partial_search_table

    s.partial = s.inv.partial(level="scalar")
    table = invariance_table(
        s.inv, s.partial, title=f"Measurement invariance across {s.study.group}",
        notes=("The partial levels free the parameters named (in every group), found by "
               "the search of table 4; the latent means and the structural model use the "
               "partial scalar model.",))  # fmt: skip
    ladder = s.inv.table().reset_index().rename(columns={"index": "level"})
    s.add("table3_invariance", _with_tidy(table, ladder))
    s.add("table4_partial", partial_search_table(s.partial, labels=s.labels,
                                                 name="table4_partial", fit_index=False,
                                                 notes=(
        "Step 0 is the level with every constraint; each further step frees, in every "
        "group, the constraint with the largest joint score test (Bonferroni-adjusted p "
        "over the candidates) while the level fails by the rule of table 3 (the χ² "
        "difference test against the previous level, p > .05 to hold); markers are never "
        f"freed. {_FIML_NOTE} {s.n_note()}",)))
    _latent_means(s)


def _with_tidy(table: Any, tidy: pd.DataFrame) -> Any:
    """``table`` with ``tidy`` as its CSV data (the full-precision long format)."""
    from dataclasses import replace

    return replace(table, tidy=tidy.reset_index(drop=True))


def _latent_means(s: _State) -> None:
    from semnet.report.format import STAR_NOTE

    means = s.inv.latent_means(partial=s.partial).reset_index(drop=True)
    ref, others = s.groups[0], s.groups[1:]
    rows = []
    for factor in dict.fromkeys(means["factor"]):
        row: dict[str, Any] = {"construct": s.name(factor)}
        for g in others:
            hit = means[(means["factor"] == factor) & (means["group"].astype(str) == g)]
            hit = hit.iloc[0]
            row |= {f"{g}_d": (hit["est"], hit["pvalue"]), f"{g}_se": hit["se"],
                    f"{g}_es": hit["effect_size"]}  # fmt: skip
        rows.append(row)
    header, columns = {"construct": "Construct"}, {"construct": "text"}
    for g in others:
        header |= {f"{g}_d": "Δ", f"{g}_se": "SE", f"{g}_es": "d"}
        columns[f"{g}_d"] = "starred"
    s.text_table(
        "table5_latent_means", f"Latent mean differences from {ref}", pd.DataFrame(rows),
        header,
        (f"Δ = latent mean minus that of {ref} (fixed at 0), from the partial scalar "
         f"model of table 3; d = Δ over the pooled latent SD. {_FIML_NOTE} {s.n_note()}",
         STAR_NOTE),
        spans=(("", 1), *((f"{g} − {ref}", 3) for g in others)),
        tidy=means, columns=columns,
    )  # fmt: skip


def _names_in(model: str) -> set[str]:
    code = "\n".join(line.split("#", 1)[0] for line in model.splitlines())
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", code))


def _structural(s: _State) -> None:
    import semnet
    from semnet.report.journal import describe_parameter, paths_table

    text = s.models["multigroup"]
    known = _names_in(text)
    # freed parameters of variables the multi-group model does not have are dropped
    s.freed = tuple(p for p in s.partial.freed if _names_in(p.replace("~1", "")) <= known)
    fit = semnet.sem(text, s.frame, group=s.study.group,
                     group_equal=["loadings", "intercepts"], group_partial=s.freed, **FIML)
    s.structural = fit
    est = fit.estimates()
    exempt = " and ".join(describe_parameter(p, s.labels) for p in s.freed)
    dropped = " and ".join(describe_parameter(p, s.labels)
                           for p in s.partial.freed if p not in s.freed)  # fmt: skip
    note = ("Loadings and intercepts equal across groups"
            + (f" except {exempt} (partial scalar invariance)." if exempt
               else " (scalar invariance).")
            + (f" The search of table 4 also freed {dropped}, whose item this model does "
               "not have." if dropped else ""))  # fmt: skip
    s.add("table6_structural", _with_tidy(paths_table(
        fit, labels=s.labels, title=f"Structural paths by {s.study.group} (multi-group "
        "model, standardized)", notes=(note,)), est[est["op"] == "~"][PATH_COLUMNS]))
    effects = est[est["op"] == ":="][EFFECT_COLUMNS]
    _effects_table(s, effects, note)


def _formula(text: str) -> str:
    """A ``:=`` definition for print: ``a1_1*c2_1+b2_1`` -> ``a1_1·c2_1 + b2_1``."""
    return re.sub(r"\s*([+-])\s*", r" \1 ", str(text).replace("*", "·")).strip()


def _effects_table(s: _State, effects: pd.DataFrame, note: str) -> None:
    from semnet.report.format import STAR_NOTE

    shown = pd.DataFrame({
        "effect": effects["lhs"], "definition": [_formula(f) for f in effects["rhs"]],
        "b": list(zip(effects["est"], effects["pvalue"], strict=True)), "se": effects["se"],
        "ci": list(zip(effects["ci_lower"], effects["ci_upper"], strict=True)),
    })  # fmt: skip
    s.text_table(
        "table7_effects", "Defined effects and group differences (delta method)", shown,
        {"effect": "Effect", "definition": "Definition (path labels)", "b": "b", "se": "SE",
         "ci": "95% CI"},
        (f"Unstandardized effects defined in the model file (:= lines); labels ending _1, "
         f"_2 … are the paths of the groups in the order {', '.join(s.groups)}; d_ names "
         f"a group difference. {note} {_FIML_NOTE} {s.n_note()}", STAR_NOTE),
        tidy=effects, columns={"effect": "text", "definition": "text", "b": "starred",
                               "ci": "interval"},
    )  # fmt: skip


def _moderation(s: _State) -> None:
    import semnet
    from semnet.report.journal import paths_table

    rows, lms_rows, fits = [], [], {}
    lms_items = sorted(_names_in(s.models["moderated"]) & set(s.study.items))
    for g in s.groups:
        fit = semnet.sem(s.models["structural"], s.part(g), interaction="double_mean",
                         interaction_match=True, **FIML)  # fmt: skip
        fits[g] = fit
        est = fit.estimates()
        rows.append(est[est["op"].isin(["~", ":="])].assign(group=g)[PATH_COLUMNS])
        lms = semnet.sem(s.models["moderated"], s.part(g).dropna(subset=lms_items),
                         interaction="lms")  # fmt: skip
        le = lms.estimates()
        lr = lms.lr_test()
        lms_rows.append(le[le["op"] == "~"].assign(
            group=g, lr_chisq=float(lr["chisq_diff"]), lr_pvalue=float(lr["pvalue"]),
            n=lms.ntotal)[[*PATH_COLUMNS[:-1], "n", "lr_chisq", "lr_pvalue"]])  # fmt: skip
    s.add("table8_full_model", _with_tidy(paths_table(
        fits, labels=s.labels, title=f"The paper's model in each {s.study.group} group "
        "(double-mean-centred product indicators, standardized)",
        notes=("One model per group. Matched pairs of items form the product indicators, "
               "double-mean centred within the group.",)),
        pd.concat(rows)))  # fmt: skip
    _lms_table(s, pd.concat(lms_rows).reset_index(drop=True))


def _lms_table(s: _State, tidy: pd.DataFrame) -> None:
    from semnet.report.format import STAR_NOTE, format_p_clause

    paths = list(dict.fromkeys(zip(tidy["lhs"], tidy["rhs"], strict=True)))
    rows = []
    for lhs, rhs in paths:
        row: dict[str, Any] = {"path": f"{s.name(rhs)} → {s.name(lhs)}"}
        for g in s.groups:
            hit = tidy[(tidy["group"] == g) & (tidy["lhs"] == lhs) & (tidy["rhs"] == rhs)]
            hit = hit.iloc[0]
            row |= {f"{g}_b": (hit["est"], hit["pvalue"]), f"{g}_se": hit["se"]}
        rows.append(row)
    header, columns = {"path": "Path"}, {"path": "text"}
    for g in s.groups:
        header |= {f"{g}_b": "b", f"{g}_se": "SE"}
        columns[f"{g}_b"] = "starred"
    first = tidy.groupby("group", sort=False).first()
    tests = "; ".join(
        f"{g}: χ²(1) = {first.loc[g, 'lr_chisq']:.2f}, {format_p_clause(first.loc[g, 'lr_pvalue'])}"
        f" (n = {int(first.loc[g, 'n'])})" for g in s.groups)
    s.text_table(
        "table9_moderation_lms", "Latent interaction by LMS in each group (unstandardized)",
        pd.DataFrame(rows), header,
        ("Latent moderated structural equations (ML) on the cases of each group that "
         "answered every item of the block (LMS does not allow FIML). Likelihood-ratio "
         f"test of the interaction: {tests}.", STAR_NOTE),
        spans=(("", 1), *((g, 2) for g in s.groups)), tidy=tidy, columns=columns,
    )  # fmt: skip


def _mediation(s: _State) -> None:
    if not s.bootstrap:
        return
    import semnet

    cc = s.complete()
    fit = semnet.sem(s.models["multigroup"], cc, group=s.study.group,
                     group_equal=["loadings", "intercepts"],
                     group_partial=s.freed)  # fmt: skip
    boot = semnet.bootstrap(fit, n=s.bootstrap, seed=s.seed, ci=("percentile",),
                            progress=s.progress, n_jobs=s.jobs)  # fmt: skip
    bt = boot.table(ci="percentile")
    bt = bt[bt["op"] == ":="]
    shown = pd.DataFrame({
        "effect": bt["name"], "definition": [_formula(f) for f in bt["rhs"]], "b": bt["est"],
        "se": bt["boot_se"],
        "ci": list(zip(bt["ci_lower_percentile"], bt["ci_upper_percentile"], strict=True)),
    })  # fmt: skip
    s.text_table(
        "table10_bootstrap", "Indirect effects and group differences: bootstrap CIs", shown,
        {"effect": "Effect", "definition": "Definition (path labels)", "b": "b",
         "se": "Bootstrap SE", "ci": "95% percentile CI"},
        (f"{s.bootstrap} case-resampling bootstrap draws within groups (seed {s.seed}; "
         f"{boot.n_failed} failed) of the multi-group model of table 6, ML on the "
         f"complete cases: {s.n_note(cc)} An interval without 0 marks an effect "
         "different from 0 at the 5% level.",),
        tidy=bt, columns={"effect": "text", "definition": "text", "ci": "interval"},
    )  # fmt: skip


#: the analysis plan: (name, step), in order (the registry's ``plan``)
def _fit(s: _State) -> None:
    """Table 11: the fit of the measurement models of the ladder and of the structural
    model of table 6 (the multi-group fits the other tables report)."""
    from semnet.report.journal import fit_table

    rows = [("Measurement (configural)", "Multi-group", s.inv.fits["configural"])]
    if s.partial.freed:
        rows.append(("Measurement (partial scalar)", "Multi-group", s.partial.fit))
    else:
        rows.append(("Measurement (scalar)", "Multi-group", s.inv.fits["scalar"]))
    rows.append(("Structural (table 6)", "Multi-group", s.structural))
    s.add("table11_fit", fit_table(rows, title="Model fit", notes=(
        f"Multi-group models of the {len(s.groups)} groups, {s.n_note()} The structural "
        "model is that of table 6, with the equality constraints its note states.",)))


STEPS: tuple[tuple[str, Callable[[_State], None]], ...] = (
    ("descriptives", _descriptives),
    ("reliability", _reliability),
    ("invariance", _invariance),
    ("structural", _structural),
    ("moderation", _moderation),
    ("mediation", _mediation),
    ("fit", _fit),
)


def _figure(s: _State) -> Any:
    """Figure 1: the multi-group structural model of table 6, one panel per group."""
    from semnet.report.diagram import diagram_layout

    fit = s.structural
    est, r2 = fit.estimates(), fit.r_squared()
    panels, r2s = {}, {}
    for g, n in fit.nobs.items():
        title = f"{g} (n = {n})"
        panels[title] = est[est["group"].astype(str) == str(g)]
        rows = r2[r2["group"].astype(str) == str(g)]
        r2s[title] = dict(zip(rows["name"], rows["r2"], strict=True))
    return diagram_layout(
        panels, labels=s.labels, r2=r2s, ncols=1,
        title=f"Figure 1. The multi-group structural model of table 6 by {s.study.group} "
        "(standardized estimates; FIML)",
    )  # fmt: skip


def _intro(s: _State) -> list[str]:
    return [
        f"Source: {s.study.reference.rstrip('.')}. Groups by {s.study.group}: {s.n_note()} "
        "Descriptives, reliability and validity, measurement invariance, the multi-group "
        f"structural model, moderation and mediation, made by semnet {__version__} (seed "
        f"{s.seed}, {s.bootstrap} bootstrap draws).",
        "Each table is also written as Markdown, LaTeX, HTML and CSV (full precision, "
        "long format) in this folder.",
    ]


def _write(folder: OutputFolder, s: _State, manifest: dict) -> list[Path]:
    """Write the tables, the path diagram (SVG, and PNG when matplotlib is installed),
    report.html, tables.docx (with python-docx) and the manifest (last) into ``folder``."""
    import importlib.util

    from semnet.report.diagram import save_diagram
    from semnet.report.docx import docx_available, write_docx
    from semnet.report.tables import html_page

    figure = _figure(s)
    tables = list(s.tables.values())
    title = f"{s.study.title}: tables"
    with folder.staging() as stage:
        names = [p.name for table in tables for p in table.write(stage)]
        kinds = ("svg", "png") if importlib.util.find_spec("matplotlib") else ("svg",)
        names += [save_diagram(figure, stage / f"{FIGURE}.{kind}").name for kind in kinds]
        (stage / REPORT_HTML).write_text(
            html_page(tables, title=title, intro=_intro(s), figures=[("", figure.to_svg())]),
            encoding="utf-8")  # fmt: skip
        names.append(REPORT_HTML)
        docx = docx_available()
        if docx:
            write_docx(tables, stage / REPORT_DOCX, title=title, intro=_intro(s))
            names.append(REPORT_DOCX)
        manifest["report"] = {
            "html": REPORT_HTML, "docx": REPORT_DOCX if docx else None,
            "docx_status": "written" if docx else "skipped: python-docx is not installed "
            "(pip install \"semnet[docx]\")",
        }  # fmt: skip
        manifest["outputs"] = sorted(names)
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        return folder.commit(stage, [*names, MANIFEST])


def run(
    study: Any,
    data: pd.DataFrame | str | Path | None = None,
    out: str | Path = "out",
    *,
    seed: int = 2021,
    bootstrap: int = 200,
    models_dir: str | Path | None = None,
    progress: bool = False,
    overwrite: bool = False,
    jobs: int = 1,
) -> StudyResult:
    """Run a seed study's analysis plan and write its tables into ``out``.

    Parameters
    ----------
    study : Study
        A registered study (:func:`semnet.studies.get`).
    data : DataFrame or path, optional
        The survey (default: the study's synthetic survey).
    out : path
        Output folder: new, empty, or written by an earlier run (else ``overwrite``).
    seed : int
        Seed of the bootstrap; the same seed gives byte-identical tables.
    bootstrap : int
        Bootstrap draws for the indirect effects (0 skips the bootstrap).
    models_dir : path, optional
        Folder with the study's model files (default: the shipped ones).
    progress : bool
        Progress bar for the bootstrap.
    overwrite : bool
        Write into a non-empty folder that no earlier run wrote.
    jobs : int
        Worker processes of the bootstrap (``-1``: every CPU); the draws, and so the
        tables, are the same whatever their number.

    Returns
    -------
    StudyResult

    Examples
    --------
    >>> from semnet.studies import get, plan
    >>> result = plan.run(get("indirect-export"), out="out", bootstrap=50)  # doctest: +SKIP
    """
    import semnet

    t0 = time.perf_counter()
    check_jobs(jobs)
    frame, digest = study.load(data)
    models = study.model_files(models_dir)
    folder = OutputFolder.open(out, overwrite=overwrite)
    state = _State(study, frame, models, seed, bootstrap, progress, jobs=jobs)
    timings: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=semnet.SemnetWarning)
        for name, step in STEPS:
            t = time.perf_counter()
            step(state)
            timings[name] = round(time.perf_counter() - t, 3)
    timings["total"] = round(time.perf_counter() - t0, 3)
    manifest = {
        "semnet_version": __version__, "study": study.name, "reference": study.reference,
        "seed": seed, "bootstrap": bootstrap, "data_sha256": digest, "n_cases": len(frame),
        "groups": state.groups, "options": {"estimator": "ML", "missing": "fiml",
                                            "interaction": "double_mean and lms",
                                            "invariance_rule": INVARIANCE_RULE},
        "timings_seconds": timings,
    }  # fmt: skip
    files = _write(folder, state, manifest)
    return StudyResult(dict(state.tables), tuple(files), manifest)
