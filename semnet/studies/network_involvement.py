"""The network-involvement study (Mikhailitchenko, 2021), end to end.

``run(data, out)`` carries out the analysis plan of ``STUDY.md`` on any survey with the
study's columns (by default the bundled synthetic three-country survey) and writes
every table as Markdown, LaTeX, HTML and CSV, a path diagram (SVG; PNG too when
matplotlib is installed) and a ``manifest.json`` recording how the outputs were made:

1. descriptives, reliability (alpha, omega, AVE) and discriminant validity (HTMT2,
   Fornell–Larcker) per country;
2. the measurement model (CFA) per country and pooled;
3. cross-national measurement invariance (configural → metric → scalar → strict),
   partial invariance by score tests, latent mean differences;
4. the structural model for the three countries jointly, with tests that the
   NI → DOI path is equal across countries;
5. the NI × ET interaction: LMS on the pooled sample with simple slopes and the
   Johnson–Neyman region, product indicators per country, and the high/low-turbulence
   group comparison;
6. indirect effects GM → NI → DOI and RC → NI → DOI with delta-method and bootstrap CIs.

Missing answers are handled by FIML wherever the estimator allows it; LMS and the
bootstrap use the complete cases (stated in the table notes).

Each step of the plan is a function below (:data:`STEPS`, in order); :func:`run` loads
the data and the model files, checks the output folder, runs the steps and writes the
outputs (see :mod:`semnet.studies._output`: only into a new, empty or earlier output
folder, each file atomically).
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from semnet._version import __version__
from semnet.datasets import bundled_path, network_involvement_path, read
from semnet.errors import DataError, SemnetError
from semnet.report.format import format_p_clause
from semnet.studies._output import MANIFEST, OutputFolder, OutputFolderError

#: the repository root when semnet runs from a source checkout (the model files and the
#: bundled survey are found with :func:`model_files` and :func:`default_data_path`)
ROOT = Path(__file__).resolve().parents[2]
CONSTRUCTS = {
    "gm": ["gm1", "gm2", "gm3", "gm4"],
    "rc": ["rc1", "rc2", "rc3", "rc4"],
    "et": ["et1", "et2", "et3", "et4"],
    "ni": ["ni1", "ni2", "ni3", "ni4", "ni5"],
    "doi": ["doi1", "doi2", "doi3"],
}
LABELS = {
    "gm": "Global mindset",
    "rc": "Relationship commitment",
    "et": "Environmental turbulence",
    "ni": "Network involvement",
    "doi": "Degree of internationalization",
}
GROUP = "country"
ITEMS = [i for items in CONSTRUCTS.values() for i in items]
#: optional firm-level controls of the DOI equation, used when the data have them
CONTROLS = ("firm_size", "firm_age")
REQUIRED = [GROUP, *ITEMS]
#: the model files of the study (``<name>.lav``)
MODELS = ("measurement", "structural", "moderated", "mediation")
FIML = {"missing": "fiml"}

__all__ = [
    "CONSTRUCTS",
    "CONTROLS",
    "GROUP",
    "ITEMS",
    "LABELS",
    "MODELS",
    "REQUIRED",
    "STEPS",
    "OutputFolderError",
    "StudyResult",
    "default_data_path",
    "load_data",
    "model_files",
    "run",
]


@dataclass(frozen=True)
class StudyResult:
    """What :func:`run` produced: the tables (by name), the output files and the
    manifest."""

    tables: dict[str, object]
    files: tuple[Path, ...]
    manifest: dict = field(default_factory=dict)


def model_files(models_dir: str | Path | None = None) -> dict[str, str]:
    """The text of the study's model files (:data:`MODELS`), by name.

    ``models_dir`` is a folder holding ``measurement.lav``, ``structural.lav``,
    ``moderated.lav`` and ``mediation.lav``; by default the copies shipped with semnet
    (the ``models/`` folder of the repository).

    Examples
    --------
    >>> from semnet.studies import network_involvement
    >>> sorted(network_involvement.model_files())
    ['measurement', 'mediation', 'moderated', 'structural']
    """
    wanted = ", ".join(f"{name}.lav" for name in MODELS)
    if models_dir is None:
        folder = bundled_path("semnet.studies", "models", "models")
        if folder is None:
            raise SemnetError(
                "the study's model files are missing from this semnet install; reinstall "
                f"semnet, or pass models_dir= a folder holding {wanted}."
            )
    else:
        folder = Path(models_dir)
        if not folder.is_dir():
            raise SemnetError(
                f"the models folder {str(folder)!r} does not exist; pass models_dir= the "
                f"folder holding {wanted} (copy the 'models/' folder of the semnet "
                "repository to change them)."
            )
    missing = [n for n in MODELS if not folder.joinpath(f"{n}.lav").is_file()]
    if missing:
        raise SemnetError(
            f"the models folder {str(folder)!r} lacks {', '.join(f'{n}.lav' for n in missing)}"
            f"; pass models_dir= a folder holding {wanted}."
        )
    return {name: folder.joinpath(f"{name}.lav").read_text(encoding="utf-8")
            for name in MODELS}  # fmt: skip


def default_data_path() -> Path:
    """The bundled synthetic survey (``sample_data/network_involvement.csv``).

    Examples
    --------
    >>> from semnet.studies import network_involvement
    >>> network_involvement.default_data_path().name
    'network_involvement.csv'
    """
    return network_involvement_path()


def load_data(data: pd.DataFrame | str | Path | None) -> tuple[pd.DataFrame, str]:
    """The survey as a DataFrame and the SHA-256 of its content.

    ``data`` is a DataFrame, or the path of a CSV, Parquet, SPSS or Stata file
    (:func:`semnet.datasets.read`); ``None`` is the bundled survey. The hash is that of
    the file's bytes (of the DataFrame as CSV for a DataFrame).

    Examples
    --------
    >>> from semnet.studies import network_involvement
    >>> frame, digest = network_involvement.load_data(None)
    >>> frame.shape, len(digest)
    ((950, 23), 64)
    """
    if data is None:
        data = default_data_path()
    if isinstance(data, str | Path):
        frame = read(data, value_labels=[GROUP])
        digest = hashlib.sha256(Path(data).read_bytes()).hexdigest()
    elif isinstance(data, pd.DataFrame):
        frame = data.copy()
        digest = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()
    else:
        raise DataError("data must be a DataFrame or the path of a data file.")
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(
            f"the data lack the column(s) {', '.join(missing)}; the study needs "
            f"{', '.join(REQUIRED)} (and optionally firm_size, firm_age)."
        )
    return frame, digest


@dataclass
class _State:
    """What the steps share: the inputs, the tables so far, and fits handed on."""

    frame: pd.DataFrame
    models: dict[str, str]
    seed: int
    bootstrap: int
    progress: bool
    countries: list[str] = field(init=False)
    #: rows with every item answered (LMS and the bootstrap use them)
    complete: pd.DataFrame = field(init=False)
    tables: dict[str, Any] = field(default_factory=dict)
    cfa_country: dict[str, Any] = field(default_factory=dict)
    partial: Any = None
    mediation: Any = None

    def __post_init__(self) -> None:
        self.countries = [str(c) for c in pd.unique(self.frame[GROUP])]
        self.complete = self.frame.dropna(subset=ITEMS)

    def country(self, c: str) -> pd.DataFrame:
        return self.frame[self.frame[GROUP].astype(str) == c]

    def add(self, name: str, title: str, frame: pd.DataFrame, notes: tuple = ()) -> None:
        from semnet.report.tables import Table

        self.tables[name] = Table(name, title, frame, notes)


# 1. descriptives, reliability, discriminant validity ------------------------------------
def _reliability(s: _State) -> None:
    import semnet

    desc = []
    for c in s.countries:
        part = s.country(c)
        for item in ITEMS:
            col = pd.to_numeric(part[item], errors="coerce")
            desc.append({"country": c, "item": item, "n": int(col.notna().sum()),
                         "mean": col.mean(), "sd": col.std(),
                         "missing_pct": 100 * col.isna().mean()})  # fmt: skip
    s.add("table1_descriptives", "Item descriptives by country", pd.DataFrame(desc),
          ("SD with divisor n - 1; missing answers excluded.",))  # fmt: skip
    s.cfa_country = {c: semnet.cfa(s.models["measurement"], s.country(c), **FIML)
                     for c in s.countries}  # fmt: skip
    rel = []
    for c, fit in s.cfa_country.items():
        r = semnet.reliability(fit)
        r.insert(0, "country", c)
        rel.append(r.drop(columns="group"))
    s.add("table2_reliability", "Reliability and convergent validity by country",
          pd.concat(rel, ignore_index=True),
          ("alpha: Cronbach; omega: composite reliability (semTools compRelSEM); AVE: "
           "average variance extracted; from the per-country CFA (FIML).",))  # fmt: skip
    disc = []
    ht = semnet.htmt(s.models["measurement"], s.frame, group=GROUP)
    for c in s.countries:
        fl = semnet.fornell_larcker(s.cfa_country[c])[""]
        names = list(ht[c].index)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                disc.append({
                    "country": c, "factor_a": a, "factor_b": b,
                    "htmt2": ht[c].loc[a, b], "latent_r": fl.loc[a, b],
                    "sqrt_ave_a": fl.loc[a, a], "sqrt_ave_b": fl.loc[b, b],
                })  # fmt: skip
    s.add("table3_discriminant", "Discriminant validity by country", pd.DataFrame(disc),
          ("HTMT2 (Roemer et al. 2021) from complete cases; Fornell-Larcker: latent "
           "correlation vs. square roots of AVE.",))  # fmt: skip


# 2. CFA fit per country and pooled ----------------------------------------------------------
def _cfa(s: _State) -> None:
    import semnet

    pooled = semnet.cfa(s.models["measurement"], s.frame, **FIML)
    rows = []
    for c, fit in [*s.cfa_country.items(), ("pooled", pooled)]:
        fm = fit.fit_measures()
        rows.append({"sample": c, "n": fit.ntotal, **{
            k: fm[k] for k in ("chisq", "df", "pvalue", "cfi", "tli", "rmsea",
                               "rmsea_ci_lower", "rmsea_ci_upper", "srmr")}})  # fmt: skip
    s.add("table4_cfa_fit", "Measurement model fit", pd.DataFrame(rows),
          ("ML with FIML for missing answers; RMSEA with 90% CI.",))  # fmt: skip


# 3. invariance -------------------------------------------------------------------------------
def _invariance(s: _State) -> None:
    from semnet.analyses.invariance import invariance

    inv = invariance(s.models["measurement"], s.frame, group=GROUP, **FIML)
    ladder = inv.table().reset_index().rename(columns={"index": "level"})
    s.add("table5_invariance", "Cross-national measurement invariance", ladder,
          ("Decisions by Chen (2007): a level fails when CFI drops by more than .010 and "
           "RMSEA rises by more than .015 or SRMR by more than .030 (loadings) / .010 "
           "(intercepts, residuals); chi-square differences by LRT.",))  # fmt: skip
    s.partial = inv.partial(level="scalar", rule="chisq")
    s.add("table6_partial", "Partial invariance search (score tests)",
          s.partial.audit.reset_index(drop=True),
          ("Constraints freed one at a time while the chi-square difference test of the "
           "level is significant (alpha .05): the parameter with the largest "
           "(Bonferroni-adjusted) joint score test first; markers are never freed.",))  # fmt: skip
    means = inv.latent_means(partial=s.partial)
    s.add("table7_latent_means", "Latent mean differences (reference: first country)",
          means.reset_index(drop=True),
          ("From the partial scalar model of table 6 (the freed parameters are not "
           "constrained equal); effect size: difference over the pooled latent SD.",))  # fmt: skip


# 4. multi-group structural model ---------------------------------------------------------
def _structural(s: _State) -> None:
    import semnet

    partial_params = tuple(s.partial.freed)
    # the optional controls enter the DOI equation when the data have them; with FIML
    # they are modelled as random variables (their missing values included)
    controls = [c for c in CONTROLS if c in s.frame.columns]
    struct_text = s.models["structural"]
    control_note = ""
    if controls:
        struct_text += "\ndoi ~ " + " + ".join(controls) + "\n"
        control_note = f" DOI also regressed on the controls {', '.join(controls)}."
    options = {"group": GROUP, "group_equal": ["loadings", "intercepts"],
               "group_partial": partial_params, **FIML, "fixed_x": not controls}  # fmt: skip
    est = semnet.sem(struct_text, s.frame, **options).estimates()
    paths = est[est["op"] == "~"][["group", "lhs", "op", "rhs", "est", "se", "pvalue",
                                   "std_all"]]  # fmt: skip
    s.add("table8_structural", "Structural paths by country", paths.reset_index(drop=True),
          ("Multi-group model with (partially) invariant loadings and intercepts; FIML."
           + control_note,))  # fmt: skip
    n = len(s.countries)
    labelled = struct_text.replace(
        "doi ~ ni", f"doi ~ c({', '.join(f'b{i + 1}' for i in range(n))})*ni"
    )
    lab_fit = semnet.sem(labelled, s.frame, **options)
    w = lab_fit.wald(" ; ".join(f"b1 == b{i + 1}" for i in range(1, n)))
    tests = [{"test": "all countries equal", "stat": w["stat"], "df": w["df"],
              "pvalue": w["pvalue"]}]  # fmt: skip
    for i in range(n):
        for j in range(i + 1, n):
            w = lab_fit.wald(f"b{i + 1} == b{j + 1}")
            tests.append({"test": f"{s.countries[i]} = {s.countries[j]}", "stat": w["stat"],
                          "df": w["df"], "pvalue": w["pvalue"]})  # fmt: skip
    s.add("table9_path_equality", "Is NI -> DOI equal across countries? (Wald tests)",
          pd.DataFrame(tests))  # fmt: skip


# 5. moderation ----------------------------------------------------------------------------
def _moderation(s: _State) -> None:
    _moderation_lms(s)
    _moderation_by_country(s)
    _moderation_by_turbulence(s)


def _moderation_lms(s: _State) -> None:
    import semnet

    lms_fit = semnet.sem(s.models["moderated"], s.complete[ITEMS], interaction="lms")
    le = lms_fit.estimates()
    inter = le[(le["op"] == "~") & (le["lhs"] == "doi")][
        ["lhs", "op", "rhs", "est", "se", "pvalue", "std_all"]]
    lr = lms_fit.lr_test()
    s.add("table10_moderation_lms", "DOI regressed on NI x ET (LMS, pooled sample)",
          inter.reset_index(drop=True),
          (f"Latent moderated structural equations on {len(s.complete)} complete cases; "
           f"LR test of the interaction: chi2 = {float(lr['chisq_diff']):.2f}, df = "
           f"{int(lr['df_diff'])}, {format_p_clause(lr['pvalue'])}.",))  # fmt: skip
    slopes = semnet.simple_slopes(lms_fit, "ni", "et", (-1.0, 0.0, 1.0))
    jn = semnet.johnson_neyman(lms_fit, "ni", "et")[0]
    s.add("table11_simple_slopes", "Effect of NI on DOI at levels of ET (LMS)",
          slopes.drop(columns=["group"]),
          (f"ET in SDs around its mean. Johnson-Neyman: {jn.region()} (raw ET metric; "
           f"ET mean {jn.mean:.3f}, SD {jn.sd:.3f}).",))  # fmt: skip


def _moderation_by_country(s: _State) -> None:
    import semnet

    pi_fit = semnet.sem(
        s.models["moderated"], s.frame, group=GROUP, interaction="double_mean",
        interaction_match=True, group_equal=["loadings"], **FIML,
    )  # fmt: skip
    pe = pi_fit.estimates()
    s.add("table12_moderation_pi", "NI x ET by country (double-mean-centred product "
          "indicators)",
          pe[(pe["op"] == "~") & (pe["rhs"] == "ni:et")][
              ["group", "lhs", "op", "rhs", "est", "se", "pvalue", "std_all"]
          ].reset_index(drop=True),
          ("Matched pairs of NI and ET items (ni1.et1 ... ni4.et4; ni5 has no partner), "
           "double-mean centred over the pooled sample; FIML.",))  # fmt: skip


def _moderation_by_turbulence(s: _State) -> None:
    import semnet

    by_groups = semnet.moderation_by_groups(
        s.models["structural"], s.frame, moderator=CONSTRUCTS["et"], path="doi~ni", **FIML
    )
    w, lrt = by_groups.wald, by_groups.lrt
    s.add(
        "table13_turbulence_groups", "NI -> DOI in low vs. high turbulence firms",
        by_groups.table,
        (f"Split at the median of the mean ET items ({by_groups.cut:g}); loadings and "
         f"intercepts equal across the two groups; FIML. Equality of the path: Wald "
         f"chi2 = {w['stat']:.3f}, df = {int(w['df'])}, {format_p_clause(w['pvalue'])}; "
         f"LRT chi2 = {lrt['chisq_diff'].iloc[1]:.3f}, "
         f"{format_p_clause(lrt['pvalue'].iloc[1])}.",),
    )


# 6. mediation ---------------------------------------------------------------------------------
def _mediation(s: _State) -> None:
    import semnet

    s.mediation = semnet.sem(s.models["mediation"], s.frame, **FIML)
    ind = pd.concat([semnet.indirect_effects(s.mediation, x, y="doi") for x in ("gm", "rc")],
                    ignore_index=True)  # fmt: skip
    ind = ind.drop(columns=[c for c in ("group",) if c in ind.columns])
    if s.bootstrap:
        med_cc = semnet.sem(s.models["mediation"], s.complete[ITEMS])
        boot = semnet.bootstrap(med_cc, n=s.bootstrap, seed=s.seed, ci=("percentile",),
                                progress=s.progress)  # fmt: skip
        bt = boot.table(ci="percentile")
        s.add("table15_bootstrap", "Indirect and total effects: bootstrap CIs",
              bt[bt["op"] == ":="].reset_index(drop=True),
              (f"{s.bootstrap} case-resampling bootstrap draws on {med_cc.ntotal} complete "
               f"cases (seed {s.seed}); {boot.n_failed} failed draws.",))  # fmt: skip
    s.add("table14_indirect", "Indirect effects on DOI through NI", ind,
          ("Delta-method SEs from the FIML fit.",))  # fmt: skip


#: the analysis plan: (name in ``manifest.json``'s timings, step), in order
STEPS: tuple[tuple[str, Callable[[_State], None]], ...] = (
    ("reliability", _reliability),
    ("cfa", _cfa),
    ("invariance", _invariance),
    ("structural", _structural),
    ("moderation", _moderation),
    ("mediation", _mediation),
)


def _manifest(s: _State, digest: str, timings: dict, outputs: list[str]) -> dict:
    return {
        "semnet_version": __version__,
        "study": "Mikhailitchenko (2021), network involvement of SMEs; synthetic data "
        "unless you passed your own",
        "seed": s.seed,
        "bootstrap": s.bootstrap,
        "data_sha256": digest,
        "n_cases": len(s.frame),
        "countries": s.countries,
        "options": {
            "estimator": "ML",
            "missing": "fiml",
            "interaction": "lms and double_mean",
            "invariance_rule": "chen2007",
        },
        "timings_seconds": timings,
        "outputs": sorted(outputs),
    }


def _figure(s: _State) -> Any:
    """Figure 1: the moderated structural model (double-mean-centred product indicators,
    as table 12) in one panel per country and one for the pooled sample."""
    import semnet
    from semnet.report.diagram import diagram_layout

    options = {"interaction": "double_mean", "interaction_match": True, **FIML}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=semnet.SemnetWarning)
        by_country = semnet.sem(s.models["moderated"], s.frame, group=GROUP,
                                group_equal=["loadings"], **options)  # fmt: skip
        pooled = semnet.sem(s.models["moderated"], s.frame, **options)
    est, r2 = by_country.estimates(), by_country.r_squared()
    panels, r2s = {}, {}
    for g, n in by_country.nobs.items():
        title = f"{g} (n = {n})"
        panels[title] = est[est["group"] == g]
        rows = r2[r2["group"] == g]
        r2s[title] = dict(zip(rows["name"], rows["r2"], strict=True))
    title = f"Pooled (n = {pooled.ntotal})"
    panels[title] = pooled.estimates()
    r2s[title] = dict(zip(pooled.r_squared()["name"], pooled.r_squared()["r2"], strict=True))
    return diagram_layout(
        panels, labels={**LABELS, "ni:et": "NI × ET"}, r2=r2s,
        title="Figure 1. Network involvement, environmental turbulence and the degree of "
        "internationalization by country (standardized estimates; product indicators, FIML)",
    )  # fmt: skip


def _write(folder: OutputFolder, s: _State, digest: str, timings: dict,
           t0: float) -> tuple[list[Path], dict]:  # fmt: skip
    """Write the tables, the path diagram (SVG, and PNG when matplotlib is installed) and
    the manifest (last) into ``folder``."""
    import importlib.util

    from semnet.report.diagram import save_diagram

    figure = _figure(s)
    with folder.staging() as stage:
        names = [p.name for table in s.tables.values() for p in table.write(stage)]
        kinds = ("svg", "png") if importlib.util.find_spec("matplotlib") else ("svg",)
        for kind in kinds:
            names.append(save_diagram(figure, stage / f"figure1_path_diagram.{kind}").name)
        timings["total"] = round(time.perf_counter() - t0, 3)
        manifest = _manifest(s, digest, timings, names)
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        files = folder.commit(stage, [*names, MANIFEST])
    return files, manifest


def run(
    data: pd.DataFrame | str | Path | None = None,
    out: str | Path = "out",
    *,
    seed: int = 2021,
    bootstrap: int = 200,
    models_dir: str | Path | None = None,
    progress: bool = False,
    overwrite: bool = False,
) -> StudyResult:
    """Run the whole analysis plan and write its outputs into ``out``.

    The inputs and the output folder are checked before anything is fitted. ``out`` is
    created if needed; a folder that already holds files is used only if an earlier run
    wrote it (its ``manifest.json``), unless ``overwrite=True``. Each output file is
    written atomically and a symbolic link in ``out`` is replaced, never written
    through; files of an earlier run that this run does not write again are removed.

    Parameters
    ----------
    data : DataFrame or path, optional
        The survey (default: the bundled synthetic three-country survey); a path may be
        a CSV, Parquet, SPSS or Stata file (:func:`semnet.datasets.read`).
    out : path
        Output folder (created).
    seed : int
        Seed of every random step (bootstrap); the same seed gives identical tables.
    bootstrap : int
        Bootstrap draws for the indirect effects (0 skips the bootstrap).
    models_dir : path, optional
        Folder with the model files :data:`MODELS` (default: the shipped ones).
    progress : bool
        Show a progress bar for the bootstrap.
    overwrite : bool
        Write into a non-empty folder that no earlier run wrote.

    Raises
    ------
    DataError
        The data cannot be read or lack a column of :data:`REQUIRED`.
    OutputFolderError
        ``out`` is a file, cannot be written, or holds files semnet did not write.

    Examples
    --------
    >>> from semnet.studies import network_involvement
    >>> result = network_involvement.run(out="out", bootstrap=200)  # doctest: +SKIP
    """
    import semnet

    t0 = time.perf_counter()
    frame, digest = load_data(data)
    models = model_files(models_dir)
    folder = OutputFolder.open(out, overwrite=overwrite)
    state = _State(frame, models, seed, bootstrap, progress)
    timings: dict[str, float] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=semnet.SemnetWarning)
        t = time.perf_counter()
        for name, step in STEPS:
            step(state)
            now = time.perf_counter()
            timings[name] = round(now - t, 3)
            t = now
    files, manifest = _write(folder, state, digest, timings, t0)
    return StudyResult(dict(state.tables), tuple(files), manifest)
