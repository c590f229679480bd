"""The network-involvement study (Mikhailitchenko, 2021), end to end.

``run(data, out)`` carries out the analysis plan of ``STUDY.md`` on any survey with the
study's columns (by default the bundled synthetic three-country survey) and writes
every table as Markdown, LaTeX, HTML and CSV, a path diagram (SVG) and a
``manifest.json`` recording how the outputs were made:

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
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from semnet import __version__
from semnet.errors import DataError, SemnetError

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


@dataclass(frozen=True)
class StudyResult:
    """What :func:`run` produced: the tables (by name), the output files and the
    manifest."""

    tables: dict[str, object]
    files: tuple[Path, ...]
    manifest: dict = field(default_factory=dict)


def _models_dir(models_dir: str | Path | None) -> Path:
    path = Path(models_dir) if models_dir is not None else ROOT / "models"
    if not (path / "measurement.lav").exists():
        raise SemnetError(
            f"the study's model files are not in {str(path)!r}; pass models_dir= the folder "
            "holding measurement.lav, structural.lav, moderated.lav and mediation.lav "
            "(the 'models/' folder of the semnet repository)."
        )
    return path


def default_data_path() -> Path:
    return ROOT / "sample_data" / "network_involvement.csv"


def load_data(data: pd.DataFrame | str | Path | None) -> tuple[pd.DataFrame, str]:
    """The survey as a DataFrame and the SHA-256 of its content."""
    if data is None:
        data = default_data_path()
    if isinstance(data, str | Path):
        path = Path(data)
        if not path.exists():
            raise DataError(f"data file {str(path)!r} does not exist.")
        raw = path.read_bytes()
        frame = pd.read_csv(path)
        digest = hashlib.sha256(raw).hexdigest()
    elif isinstance(data, pd.DataFrame):
        frame = data.copy()
        digest = hashlib.sha256(frame.to_csv(index=False).encode()).hexdigest()
    else:
        raise DataError("data must be a DataFrame or the path of a CSV file.")
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(
            f"the data lack the column(s) {', '.join(missing)}; the study needs "
            f"{', '.join(REQUIRED)} (and optionally firm_size, firm_age)."
        )
    return frame, digest


def run(
    data: pd.DataFrame | str | Path | None = None,
    out: str | Path = "out",
    *,
    seed: int = 2021,
    bootstrap: int = 200,
    models_dir: str | Path | None = None,
    progress: bool = False,
) -> StudyResult:
    """Run the whole analysis plan and write its outputs into ``out``.

    Parameters
    ----------
    data : DataFrame or path, optional
        The survey (default: the bundled synthetic three-country survey).
    out : path
        Output folder (created).
    seed : int
        Seed of every random step (bootstrap); the same seed gives identical tables.
    bootstrap : int
        Bootstrap draws for the indirect effects (0 skips the bootstrap).

    Examples
    --------
    >>> from semnet.studies import network_involvement
    >>> result = network_involvement.run(out="out", bootstrap=200)  # doctest: +SKIP
    """
    import semnet
    from semnet.analyses.invariance import invariance
    from semnet.report.diagram import path_diagram
    from semnet.report.tables import Table

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    frame, digest = load_data(data)
    models = _models_dir(models_dir)
    text = {name: (models / f"{name}.lav").read_text(encoding="utf-8")
            for name in ("measurement", "structural", "moderated", "mediation")}  # fmt: skip
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tables: dict[str, Table] = {}
    countries = [str(c) for c in pd.unique(frame[GROUP])]
    fiml = {"missing": "fiml"}

    def lap(name: str, start: float) -> float:
        now = time.perf_counter()
        timings[name] = round(now - start, 3)
        return now

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=semnet.SemnetWarning)
        # 1. descriptives, reliability, discriminant validity ------------------------
        t = time.perf_counter()
        desc = []
        for c in countries:
            part = frame[frame[GROUP].astype(str) == c]
            for item in ITEMS:
                col = pd.to_numeric(part[item], errors="coerce")
                desc.append({"country": c, "item": item, "n": int(col.notna().sum()),
                             "mean": col.mean(), "sd": col.std(),
                             "missing_pct": 100 * col.isna().mean()})  # fmt: skip
        tables["table1_descriptives"] = Table(
            "table1_descriptives", "Item descriptives by country", pd.DataFrame(desc),
            ("SD with divisor n - 1; missing answers excluded.",),
        )
        cfa_country = {
            c: semnet.cfa(text["measurement"], frame[frame[GROUP].astype(str) == c], **fiml)
            for c in countries
        }
        rel = []
        for c, fit in cfa_country.items():
            r = semnet.reliability(fit)
            r.insert(0, "country", c)
            rel.append(r.drop(columns="group"))
        tables["table2_reliability"] = Table(
            "table2_reliability", "Reliability and convergent validity by country",
            pd.concat(rel, ignore_index=True),
            ("alpha: Cronbach; omega: composite reliability (semTools compRelSEM); AVE: "
             "average variance extracted; from the per-country CFA (FIML).",),
        )
        disc = []
        ht = semnet.htmt(text["measurement"], frame, group=GROUP)
        for c in countries:
            fl = semnet.fornell_larcker(cfa_country[c])[""]
            names = list(ht[c].index)
            for i, a in enumerate(names):
                for b in names[i + 1 :]:
                    disc.append({
                        "country": c, "factor_a": a, "factor_b": b,
                        "htmt2": ht[c].loc[a, b], "latent_r": fl.loc[a, b],
                        "sqrt_ave_a": fl.loc[a, a], "sqrt_ave_b": fl.loc[b, b],
                    })  # fmt: skip
        tables["table3_discriminant"] = Table(
            "table3_discriminant", "Discriminant validity by country",
            pd.DataFrame(disc),
            ("HTMT2 (Roemer et al. 2021) from complete cases; Fornell-Larcker: latent "
             "correlation vs. square roots of AVE.",),
        )
        t = lap("reliability", t)

        # 2. CFA fit per country and pooled ------------------------------------------
        pooled = semnet.cfa(text["measurement"], frame, **fiml)
        rows = []
        for c, fit in [*cfa_country.items(), ("pooled", pooled)]:
            fm = fit.fit_measures()
            rows.append({"sample": c, "n": fit.ntotal, **{
                k: fm[k] for k in ("chisq", "df", "pvalue", "cfi", "tli", "rmsea",
                                   "rmsea_ci_lower", "rmsea_ci_upper", "srmr")}})  # fmt: skip
        tables["table4_cfa_fit"] = Table(
            "table4_cfa_fit", "Measurement model fit", pd.DataFrame(rows),
            ("ML with FIML for missing answers; RMSEA with 90% CI.",),
        )
        t = lap("cfa", t)

        # 3. invariance ----------------------------------------------------------------
        inv = invariance(text["measurement"], frame, group=GROUP, **fiml)
        ladder = inv.table().reset_index().rename(columns={"index": "level"})
        tables["table5_invariance"] = Table(
            "table5_invariance", "Cross-national measurement invariance", ladder,
            ("Decisions by Chen (2007): a level fails when CFI drops by more than .010 and "
             "RMSEA rises by more than .015 or SRMR by more than .030 (loadings) / .010 "
             "(intercepts, residuals); chi-square differences by LRT.",),
        )
        part = inv.partial(level="scalar", rule="chisq")
        tables["table6_partial"] = Table(
            "table6_partial", "Partial invariance search (score tests)",
            part.audit.reset_index(drop=True),
            ("Constraints freed one at a time while the chi-square difference test of the "
             "level is significant (alpha .05): the parameter with the largest "
             "(Bonferroni-adjusted) joint score test first; markers are never freed.",),
        )
        means = inv.latent_means(partial=part)
        tables["table7_latent_means"] = Table(
            "table7_latent_means", "Latent mean differences (reference: first country)",
            means.reset_index(drop=True),
            ("From the partial scalar model of table 6 (the freed parameters are not "
             "constrained equal); effect size: difference over the pooled latent SD.",),
        )
        t = lap("invariance", t)

        # 4. multi-group structural model ---------------------------------------------
        partial_params = tuple(part.freed)
        # the optional controls enter the DOI equation when the data have them; with FIML
        # they are modelled as random variables (their missing values included)
        controls = [c for c in CONTROLS if c in frame.columns]
        struct_text = text["structural"]
        control_note = ""
        if controls:
            struct_text += "\ndoi ~ " + " + ".join(controls) + "\n"
            control_note = f" DOI also regressed on the controls {', '.join(controls)}."
        sfit = {**fiml, "fixed_x": not controls}
        structural = semnet.sem(
            struct_text, frame, group=GROUP, group_equal=["loadings", "intercepts"],
            group_partial=partial_params, **sfit,
        )  # fmt: skip
        est = structural.estimates()
        paths = est[est["op"] == "~"][["group", "lhs", "op", "rhs", "est", "se", "pvalue",
                                       "std_all"]]  # fmt: skip
        tables["table8_structural"] = Table(
            "table8_structural", "Structural paths by country", paths.reset_index(drop=True),
            ("Multi-group model with (partially) invariant loadings and intercepts; FIML."
             + control_note,),
        )
        labelled = struct_text.replace(
            "doi ~ ni", f"doi ~ c({', '.join(f'b{i + 1}' for i in range(len(countries)))})*ni"
        )
        lab_fit = semnet.sem(
            labelled, frame, group=GROUP, group_equal=["loadings", "intercepts"],
            group_partial=partial_params, **sfit,
        )  # fmt: skip
        tests = []
        joint = " ; ".join(f"b1 == b{i + 1}" for i in range(1, len(countries)))
        w = lab_fit.wald(joint)
        tests.append({"test": "all countries equal", "stat": w["stat"], "df": w["df"],
                      "pvalue": w["pvalue"]})  # fmt: skip
        for i in range(len(countries)):
            for j in range(i + 1, len(countries)):
                w = lab_fit.wald(f"b{i + 1} == b{j + 1}")
                tests.append({"test": f"{countries[i]} = {countries[j]}", "stat": w["stat"],
                              "df": w["df"], "pvalue": w["pvalue"]})  # fmt: skip
        tables["table9_path_equality"] = Table(
            "table9_path_equality", "Is NI -> DOI equal across countries? (Wald tests)",
            pd.DataFrame(tests),
        )
        t = lap("structural", t)

        # 5. moderation ------------------------------------------------------------------
        complete = frame.dropna(subset=ITEMS)
        lms_fit = semnet.sem(text["moderated"], complete[ITEMS], interaction="lms")
        le = lms_fit.estimates()
        inter = le[(le["op"] == "~") & (le["lhs"] == "doi")][
            ["lhs", "op", "rhs", "est", "se", "pvalue", "std_all"]]
        lr = lms_fit.lr_test()
        tables["table10_moderation_lms"] = Table(
            "table10_moderation_lms", "DOI regressed on NI x ET (LMS, pooled sample)",
            inter.reset_index(drop=True),
            (f"Latent moderated structural equations on {len(complete)} complete cases; "
             f"LR test of the interaction: chi2 = {float(lr['chisq_diff']):.2f}, df = "
             f"{int(lr['df_diff'])}, p = {float(lr['pvalue']):.4g}.",),
        )
        slopes = semnet.simple_slopes(lms_fit, "ni", "et", (-1.0, 0.0, 1.0))
        jn = semnet.johnson_neyman(lms_fit, "ni", "et")[0]
        tables["table11_simple_slopes"] = Table(
            "table11_simple_slopes", "Effect of NI on DOI at levels of ET (LMS)",
            slopes.drop(columns=["group"]),
            (f"ET in SDs around its mean. Johnson-Neyman: {jn.region()} (raw ET metric; "
             f"ET mean {jn.mean:.3f}, SD {jn.sd:.3f}).",),
        )
        pi_fit = semnet.sem(
            text["moderated"], frame, group=GROUP, interaction="double_mean",
            interaction_match=True, group_equal=["loadings"], **fiml,
        )  # fmt: skip
        pe = pi_fit.estimates()
        tables["table12_moderation_pi"] = Table(
            "table12_moderation_pi", "NI x ET by country (double-mean-centred product "
            "indicators)",
            pe[(pe["op"] == "~") & (pe["rhs"] == "ni:et")][
                ["group", "lhs", "op", "rhs", "est", "se", "pvalue", "std_all"]
            ].reset_index(drop=True),
            ("Matched pairs of NI and ET items (ni1.et1 ... ni4.et4; ni5 has no partner), "
             "double-mean centred over the pooled sample; FIML.",),
        )
        by_groups = semnet.moderation_by_groups(
            text["structural"], frame, moderator=CONSTRUCTS["et"], path="doi~ni", **fiml
        )
        w, lrt = by_groups.wald, by_groups.lrt
        tables["table13_turbulence_groups"] = Table(
            "table13_turbulence_groups", "NI -> DOI in low vs. high turbulence firms",
            by_groups.table,
            (f"Split at the median of the mean ET items ({by_groups.cut:g}); loadings and "
             f"intercepts equal across the two groups; FIML. Equality of the path: Wald "
             f"chi2 = {w['stat']:.3f}, df = {int(w['df'])}, p = {w['pvalue']:.4g}; LRT "
             f"chi2 = {lrt['chisq_diff'].iloc[1]:.3f}, p = {lrt['pvalue'].iloc[1]:.4g}.",),
        )
        t = lap("moderation", t)

        # 6. mediation ---------------------------------------------------------------------
        med = semnet.sem(text["mediation"], frame, **fiml)
        ind = []
        for x in ("gm", "rc"):
            e = semnet.indirect_effects(med, x, y="doi")
            ind.append(e)
        ind = pd.concat(ind, ignore_index=True)
        med_tables = ind.drop(columns=[c for c in ("group",) if c in ind.columns])
        notes = ["Delta-method SEs from the FIML fit."]
        if bootstrap:
            med_cc = semnet.sem(text["mediation"], complete[ITEMS])
            boot = semnet.bootstrap(med_cc, n=bootstrap, seed=seed, ci=("percentile",),
                                    progress=progress)  # fmt: skip
            bt = boot.table(ci="percentile")
            boot_rows = bt[bt["op"] == ":="].reset_index(drop=True)
            tables["table15_bootstrap"] = Table(
                "table15_bootstrap", "Indirect and total effects: bootstrap CIs",
                boot_rows,
                (f"{bootstrap} case-resampling bootstrap draws on {med_cc.ntotal} complete "
                 f"cases (seed {seed}); {boot.n_failed} failed draws.",),
            )
        tables["table14_indirect"] = Table(
            "table14_indirect", "Indirect effects on DOI through NI", med_tables,
            tuple(notes),
        )
        t = lap("mediation", t)

    files: list[Path] = []
    for table in tables.values():
        files += table.write(out)
    svg = path_diagram(
        med.estimates(), title="Network involvement and internationalization "
        "(standardized estimates, pooled sample)", labels=LABELS,
    )  # fmt: skip
    diagram = out / "figure1_path_diagram.svg"
    diagram.write_text(svg, encoding="utf-8")
    files.append(diagram)
    timings["total"] = round(time.perf_counter() - t0, 3)
    manifest = {
        "semnet_version": __version__,
        "study": "Mikhailitchenko (2021), network involvement of SMEs; synthetic data "
        "unless you passed your own",
        "seed": seed,
        "bootstrap": bootstrap,
        "data_sha256": digest,
        "n_cases": len(frame),
        "countries": countries,
        "options": {
            "estimator": "ML",
            "missing": "fiml",
            "interaction": "lms and double_mean",
            "invariance_rule": "chen2007",
        },
        "timings_seconds": timings,
        "outputs": sorted(p.name for p in files),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    files.append(out / "manifest.json")
    return StudyResult(dict(tables), tuple(files), manifest)
