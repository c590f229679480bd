"""The analysis plan of a seed study (:mod:`semnet.studies.registry`), end to end.

:func:`run` carries out, on the study's synthetic survey or on any data with its columns:

1. ``descriptives``: item descriptives by group;
2. ``reliability``: alpha, omega and AVE per group (configural CFA);
3. ``invariance``: the ladder configural -> metric -> scalar -> strict across the study's
   groups, the partial-invariance search by score tests and the latent mean differences;
4. ``structural``: the multi-group structural model (``multigroup.lav``, loadings and
   intercepts equal except those the search freed), its paths and ``:=`` comparisons;
5. ``moderation``: the paper's full model (``structural.lav``) in each group with
   double-mean-centred product indicators, and the LMS block (``moderated.lav``);
6. ``mediation``: bootstrap CIs of the ``:=`` effects of the multi-group model.

Tables are written by the report Table engine as Markdown, LaTeX, HTML and CSV with a
``manifest.json`` (:mod:`semnet.studies._output`). Missing answers are handled by FIML;
LMS and the bootstrap use the complete cases (stated in the notes).
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
from semnet.studies._output import MANIFEST, OutputFolder
from semnet.studies.network_involvement import StudyResult

__all__ = ["STEPS", "run"]

FIML = {"missing": "fiml", "fixed_x": False}
PATH_COLUMNS = ["group", "lhs", "op", "rhs", "label", "est", "se", "pvalue", "std_all"]
EFFECT_COLUMNS = ["lhs", "rhs", "est", "se", "pvalue", "ci_lower", "ci_upper"]


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
    tables: dict[str, Any] = field(default_factory=dict)
    inv: Any = None
    partial: Any = None
    freed: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.groups = [str(g) for g in pd.unique(self.frame[self.study.group])]

    def part(self, g: str) -> pd.DataFrame:
        return self.frame[self.frame[self.study.group].astype(str) == g]

    def complete(self) -> pd.DataFrame:
        return self.frame.dropna(subset=self.study.required)

    def add(self, name: str, title: str, frame: pd.DataFrame, notes: tuple = ()) -> None:
        from semnet.report.tables import Table

        self.tables[name] = Table(name, title, frame.reset_index(drop=True), notes)


def _descriptives(s: _State) -> None:
    rows = []
    for g in s.groups:
        part = s.part(g)
        for item in s.study.items:
            col = pd.to_numeric(part[item], errors="coerce")
            rows.append({"group": g, "item": item, "n": int(col.notna().sum()),
                         "mean": col.mean(), "sd": col.std(),
                         "missing_pct": 100 * col.isna().mean()})  # fmt: skip
    s.add("table1_descriptives", f"Item descriptives by {s.study.group}", pd.DataFrame(rows),
          ("SD with divisor n - 1; missing answers excluded.",))  # fmt: skip


def _reliability(s: _State) -> None:
    import semnet
    from semnet.analyses.invariance import invariance

    s.inv = invariance(s.models["measurement"], s.frame, group=s.study.group, **FIML)
    rel = semnet.reliability(s.inv.fits["configural"])
    s.add("table2_reliability", f"Reliability and convergent validity by {s.study.group}",
          rel, ("alpha: Cronbach; omega: composite reliability; AVE: average variance "
                "extracted; from the configural CFA (FIML).",))  # fmt: skip


def _invariance(s: _State) -> None:
    ladder = s.inv.table().reset_index().rename(columns={"index": "level"})
    s.add("table3_invariance", f"Measurement invariance across {s.study.group}", ladder,
          ("Decisions by Chen (2007) cut-offs on CFI, RMSEA and SRMR; chi-square "
           "differences by LRT; FIML.",))  # fmt: skip
    s.partial = s.inv.partial(level="scalar", rule="chisq")
    s.add("table4_partial", "Partial invariance search (score tests)", s.partial.audit,
          ("Constraints freed one at a time while the chi-square difference test of the "
           "level is significant (alpha .05); markers are never freed.",))  # fmt: skip
    s.add("table5_latent_means", "Latent mean differences (reference: first group)",
          s.inv.latent_means(partial=s.partial),
          ("From the partial scalar model of table 4; effect size: difference over the "
           "pooled latent SD.",))  # fmt: skip


def _names_in(model: str) -> set[str]:
    code = "\n".join(line.split("#", 1)[0] for line in model.splitlines())
    return set(re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", code))


def _structural(s: _State) -> None:
    import semnet

    text = s.models["multigroup"]
    known = _names_in(text)
    # freed parameters of variables the multi-group model does not have are dropped
    s.freed = tuple(p for p in s.partial.freed if _names_in(p.replace("~1", "")) <= known)
    fit = semnet.sem(text, s.frame, group=s.study.group,
                     group_equal=["loadings", "intercepts"], group_partial=s.freed, **FIML)
    est = fit.estimates()
    note = (f"Loadings and intercepts equal across groups except {', '.join(s.freed) or 'none'}"
            "; FIML.")
    s.add("table6_structural", f"Structural paths by {s.study.group}",
          est[est["op"] == "~"][PATH_COLUMNS], (note,))  # fmt: skip
    s.add("table7_effects", "Defined effects and group differences (delta method)",
          est[est["op"] == ":="][EFFECT_COLUMNS], (note,))  # fmt: skip


def _moderation(s: _State) -> None:
    import semnet

    rows, lms_rows = [], []
    lms_items = sorted(_names_in(s.models["moderated"]) & set(s.study.items))
    for g in s.groups:
        fit = semnet.sem(s.models["structural"], s.part(g), interaction="double_mean",
                         interaction_match=True, **FIML)  # fmt: skip
        est = fit.estimates()
        rows.append(est[est["op"].isin(["~", ":="])].assign(group=g)[PATH_COLUMNS])
        lms = semnet.sem(s.models["moderated"], s.part(g).dropna(subset=lms_items),
                         interaction="lms")  # fmt: skip
        le = lms.estimates()
        lr = lms.lr_test()
        lms_rows.append(le[le["op"] == "~"].assign(
            group=g, lr_chisq=float(lr["chisq_diff"]), lr_pvalue=float(lr["pvalue"]),
            n=lms.ntotal)[[*PATH_COLUMNS[:-1], "n", "lr_chisq", "lr_pvalue"]])  # fmt: skip
    s.add("table8_full_model", f"The paper's model in each {s.study.group} group "
          "(double-mean-centred product indicators)", pd.concat(rows),
          ("Matched pairs of items form the product indicators, double-mean centred within "
           "the group; FIML.",))  # fmt: skip
    s.add("table9_moderation_lms", "Latent interaction by LMS in each group",
          pd.concat(lms_rows),
          ("Latent moderated structural equations on the cases that answered every item "
           "of the block; lr_*: likelihood-ratio test of the interaction.",))  # fmt: skip


def _mediation(s: _State) -> None:
    if not s.bootstrap:
        return
    import semnet

    cc = s.complete()
    fit = semnet.sem(s.models["multigroup"], cc, group=s.study.group,
                     group_equal=["loadings", "intercepts"],
                     group_partial=s.freed)  # fmt: skip
    boot = semnet.bootstrap(fit, n=s.bootstrap, seed=s.seed, ci=("percentile",),
                            progress=s.progress)  # fmt: skip
    bt = boot.table(ci="percentile")
    s.add("table10_bootstrap", "Indirect effects and group differences: bootstrap CIs",
          bt[bt["op"] == ":="],
          (f"{s.bootstrap} case-resampling bootstrap draws within groups on {fit.ntotal} "
           f"complete cases (seed {s.seed}); {boot.n_failed} failed draws.",))  # fmt: skip


#: the analysis plan: (name, step), in order (the registry's ``plan``)
STEPS: tuple[tuple[str, Callable[[_State], None]], ...] = (
    ("descriptives", _descriptives),
    ("reliability", _reliability),
    ("invariance", _invariance),
    ("structural", _structural),
    ("moderation", _moderation),
    ("mediation", _mediation),
)


def _write(folder: OutputFolder, s: _State, manifest: dict) -> list[Path]:
    with folder.staging() as stage:
        names = [p.name for table in s.tables.values() for p in table.write(stage)]
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
    frame, digest = study.load(data)
    models = study.model_files(models_dir)
    folder = OutputFolder.open(out, overwrite=overwrite)
    state = _State(study, frame, models, seed, bootstrap, progress)
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
                                            "interaction": "double_mean and lms"},
        "timings_seconds": timings,
    }  # fmt: skip
    files = _write(folder, state, manifest)
    return StudyResult(dict(state.tables), tuple(files), manifest)
