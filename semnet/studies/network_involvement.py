"""The network-involvement study (Mikhailitchenko, 2021), end to end.

``run(data, out)`` carries out the analysis plan of ``STUDY.md`` on any survey with the
study's columns (by default the bundled synthetic three-country survey) and writes
every table (APA style, :mod:`semnet.report.journal`) as Markdown, LaTeX, HTML and CSV,
a path diagram (SVG; PNG too when matplotlib is installed), one ``report.html`` with
every table and the figure, ``tables.docx`` (every table as a Word table, when
python-docx is installed) and a ``manifest.json`` recording how the outputs were made:

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

Missing answers are handled by FIML wherever the estimator allows it (the bootstrap
refits the FIML model to every resample); LMS and HTMT use the complete cases (stated
in the table notes). One decision rule (:data:`INVARIANCE_RULE`) judges the invariance
ladder and the partial-invariance search.

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

import numpy as np
import pandas as pd

from semnet._version import __version__
from semnet.analyses.parallel import Progress, check_jobs, want_progress
from semnet.datasets import bundled_path, network_involvement_path, read
from semnet.errors import DataError, SemnetError
from semnet.report.format import format_number, format_p_clause, format_pvalue
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
#: names of the optional controls in the tables
CONTROL_LABELS = {"firm_size": "Firm size", "firm_age": "Firm age"}
GROUP = "country"
ITEMS = [i for items in CONSTRUCTS.values() for i in items]
#: optional firm-level controls of the DOI equation, used when the data have them
CONTROLS = ("firm_size", "firm_age")
REQUIRED = [GROUP, *ITEMS]
#: the model files of the study (``<name>.lav``)
MODELS = ("measurement", "structural", "moderated", "mediation")
FIML = {"missing": "fiml"}
#: the study's tables, in the order they are numbered
TABLES = ("descriptives", "measurement", "htmt", "fornell_larcker", "method_variance", "fit",
          "invariance", "partial", "latent_means", "alignment", "structural", "path_equality",
          "moderation_lms", "simple_slopes", "moderation_pi", "turbulence_groups", "indirect",
          "ordinal")
#: the report with every table and the figure, and the Word file of every table
REPORT_HTML, REPORT_DOCX = "report.html", "tables.docx"
#: the one decision rule of the invariance ladder and the partial-invariance search
INVARIANCE_RULE = "chisq"

__all__ = [
    "CONSTRUCTS",
    "CONTROLS",
    "GROUP",
    "INVARIANCE_RULE",
    "ITEMS",
    "LABELS",
    "MODELS",
    "REQUIRED",
    "STEPS",
    "TABLES",
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
    #: construct names: the model file's ``# @label`` lines, else :data:`LABELS`
    labels: dict[str, str] = field(init=False)
    #: rows with every item answered (HTMT and LMS use them)
    complete: pd.DataFrame = field(init=False)
    tables: dict[str, Any] = field(default_factory=dict)
    cfa_country: dict[str, Any] = field(default_factory=dict)
    #: (model, sample, fit) rows of the fit table
    fit_rows: list[tuple[str, str, Any]] = field(default_factory=list)
    partial: Any = None
    mediation: Any = None
    #: the sampling-weights column, or None
    weights: str | None = None
    #: worker processes of the bootstrap (its draws do not depend on them)
    jobs: int = 1

    @property
    def fit_args(self) -> dict[str, Any]:
        """FIML, and the sampling weights when given (lavaan then uses MLR)."""
        if self.weights is None:
            return dict(FIML)
        return {**FIML, "sampling_weights": self.weights}

    @property
    def fiml_note(self) -> str:
        """The estimator and missing-data sentence of the notes."""
        if self.weights is None:
            return _FIML_NOTE
        return (f"Estimator: MLR with the sampling weights of column {self.weights} "
                "(normalised to the total N); full-information maximum likelihood (FIML) "
                "for missing answers.")

    def unweighted(self, what: str) -> str:
        """A note sentence for a step that does not use the weights."""
        return "" if self.weights is None else f" {what} does not use the sampling weights."

    def __post_init__(self) -> None:
        from semnet.report.journal import model_labels

        self.countries = [str(c) for c in pd.unique(self.frame[GROUP])]
        self.labels = {**LABELS, **CONTROL_LABELS, **model_labels(self.models["measurement"])}
        self.complete = self.frame.dropna(subset=ITEMS)

    def country(self, c: str) -> pd.DataFrame:
        return self.frame[self.frame[GROUP].astype(str) == c]

    def add(self, table: Any) -> None:
        """Add a journal table (numbered by :meth:`numbered`)."""
        self.tables[table.name] = table

    def numbered(self) -> dict[str, Any]:
        """The tables in the order of :data:`TABLES`, named ``table<k>_<name>`` and
        labelled ``Table <k>``."""
        from dataclasses import replace

        out = {}
        for k, name in enumerate([n for n in TABLES if n in self.tables], start=1):
            table = replace(self.tables[name], name=f"table{k}_{name}", label=f"Table {k}")
            out[table.name] = table
        return out

    def text_table(self, name: str, title: str, frame: pd.DataFrame, header: dict,
                   notes: tuple = (), **kwargs: Any) -> None:
        from semnet.report.tables import Table

        self.add(Table(name, title, frame, notes=notes, header=header, **kwargs))


def _per_country(s: _State, frame: pd.DataFrame) -> str:
    counts = frame[GROUP].astype(str).value_counts()
    return ", ".join(f"{c} = {int(counts.get(c, 0))}" for c in s.countries)


def _n_note(s: _State, frame: pd.DataFrame | None = None) -> str:
    frame = s.frame if frame is None else frame
    return f"N = {len(frame)} ({_per_country(s, frame)})."


_FIML_NOTE = "Estimator: ML; full-information maximum likelihood (FIML) for missing answers."


# 1. descriptives, reliability, discriminant validity ------------------------------------
def _descriptives(s: _State) -> None:
    desc = []
    for c in s.countries:
        part = s.country(c)
        for item in ITEMS:
            col = pd.to_numeric(part[item], errors="coerce")
            desc.append({"country": c, "item": item, "n": int(col.notna().sum()),
                         "mean": col.mean(), "sd": col.std(),
                         "missing_pct": 100 * col.isna().mean()})  # fmt: skip
    tidy = pd.DataFrame(desc)
    construct_of = {i: k for k, items in CONSTRUCTS.items() for i in items}
    rows, rules = [], []
    for item in ITEMS:
        first = CONSTRUCTS[construct_of[item]][0] == item
        if first:
            rules.append(len(rows))
        row = {"construct": s.labels.get(construct_of[item], "") if first else "",
               "item": item}
        for c in s.countries:
            hit = tidy[(tidy["country"] == c) & (tidy["item"] == item)].iloc[0]
            row |= {f"{c}_m": hit["mean"], f"{c}_sd": hit["sd"], f"{c}_miss": hit["missing_pct"]}
        rows.append(row)
    header = {"construct": "Construct", "item": "Item"}
    for c in s.countries:
        header |= {f"{c}_m": "M", f"{c}_sd": "SD", f"{c}_miss": "% missing"}
    s.text_table("descriptives", "Item means, standard deviations and missing answers by "
                 "country", pd.DataFrame(rows), header,
                 (f"SD with divisor n − 1; missing answers excluded. {_n_note(s)}"
                  + s.unweighted("The table"),),
                 digits=2, spans=(("", 2), *((c, 3) for c in s.countries)),
                 rules=tuple(rules[1:]), tidy=tidy,
                 columns={"construct": "text", "item": "text"})  # fmt: skip


def _reliability(s: _State) -> None:
    import semnet
    from semnet.report.journal import fornell_larcker_table, htmt_table, measurement_table

    _descriptives(s)
    s.cfa_country = {c: semnet.cfa(s.models["measurement"], s.country(c), **s.fit_args)
                     for c in s.countries}  # fmt: skip
    s.add(measurement_table(s.cfa_country, labels=s.labels,
                            notes=("One CFA per country; α, CR and AVE use the FIML "
                                   "estimates of the items' covariances.",)))  # fmt: skip
    ht = semnet.htmt(s.models["measurement"], s.frame, group=GROUP)
    s.add(htmt_table(ht, labels=s.labels, name="htmt",
                     notes=(f"Complete cases: {_n_note(s, s.complete)}"
                            + s.unweighted("HTMT"),)))
    fl = {c: semnet.fornell_larcker(fit)[""] for c, fit in s.cfa_country.items()}
    s.add(fornell_larcker_table(fl, labels=s.labels, name="fornell_larcker",
                                notes=(f"Per-country CFAs. {s.fiml_note} {_n_note(s)}",)))


# 2. CFA fit per country and pooled ----------------------------------------------------------
def _cfa(s: _State) -> None:
    import semnet

    pooled = semnet.cfa(s.models["measurement"], s.frame, **s.fit_args)
    s.fit_rows = [("Measurement", c, fit) for c, fit in s.cfa_country.items()]
    s.fit_rows.append(("Measurement", "Pooled", pooled))


# 3. invariance -------------------------------------------------------------------------------
def _invariance(s: _State) -> None:
    from semnet.analyses.invariance import invariance
    from semnet.report.journal import invariance_table, partial_search_table

    inv = invariance(s.models["measurement"], s.frame, group=GROUP, rule=INVARIANCE_RULE,
                     progress=s.progress, **s.fit_args)  # fmt: skip
    s.fit_rows.append(("Measurement", "Multi-group (configural)", inv.fits["configural"]))
    s.partial = inv.partial(level="scalar", progress=s.progress)
    s.add(invariance_table(inv, s.partial, name="invariance",
                           title="Cross-national measurement invariance",
                           notes=("Partial levels free the parameters named, found by the "
                                  "search of the next table; the latent means and the "
                                  "structural model use the partial scalar model.",)))
    s.add(partial_search_table(s.partial, labels=s.labels, notes=(
        "Step 0 is the level with every constraint; each further step frees, in every "
        "country, the constraint with the largest joint score test (Bonferroni-adjusted "
        "p over the candidates), while the level fails by the rule of the previous table; "
        "markers are never freed. Δχ², p and ΔCFI compare the level with the previous "
        f"(partial) level. {s.fiml_note} {_n_note(s)}",)))
    _latent_means(s, inv)


def _freed_words(s: _State) -> str:
    """The partial search's freed parameters in words, for a table note."""
    from semnet.report.journal import describe_parameter

    freed = [describe_parameter(p, s.labels) for p in s.partial.freed]
    if not freed:
        return "no parameter freed"
    return " and ".join(freed) + " free across countries"


def _latent_means(s: _State, inv: Any) -> None:
    from semnet.report.format import STAR_NOTE

    means = inv.latent_means(partial=s.partial).reset_index(drop=True)
    others = [c for c in s.countries[1:]]
    rows = []
    for factor in dict.fromkeys(means["factor"]):
        row: dict[str, Any] = {"construct": s.labels.get(factor, factor)}
        for c in others:
            hit = means[(means["factor"] == factor) & (means["group"] == c)].iloc[0]
            row |= {f"{c}_d": (hit["est"], hit["pvalue"]), f"{c}_se": hit["se"],
                    f"{c}_es": hit["effect_size"]}  # fmt: skip
        rows.append(row)
    header = {"construct": "Construct"}
    columns = {"construct": "text"}
    for c in others:
        header |= {f"{c}_d": "Δ", f"{c}_se": "SE", f"{c}_es": "d"}
        columns[f"{c}_d"] = "starred"
    s.text_table(
        "latent_means", f"Latent mean differences from {s.countries[0]}",
        pd.DataFrame(rows), header,
        (f"Δ = latent mean minus that of {s.countries[0]} (fixed at 0), from the partial "
         f"scalar model ({_freed_words(s)}); d = Δ over the pooled latent SD. "
         f"{s.fiml_note} {_n_note(s)}", STAR_NOTE),
        spans=(("", 1), *((f"{c} − {s.countries[0]}", 3) for c in others)),
        tidy=means, columns=columns,
    )  # fmt: skip


# 3b. common-method variance and alignment ---------------------------------------------------
def _method_variance(s: _State) -> None:
    """Harman's single-factor test per country and pooled, and the unmeasured latent
    method construct (ULMC) on the pooled sample."""
    import semnet

    rows = {"share": "First unrotated component (% of item variance)",
            "chisq": "One-factor CFA: χ² (df)", "cfi": "One-factor CFA: CFI",
            "rmsea": "One-factor CFA: RMSEA",
            "diff": f"One-factor vs {len(CONSTRUCTS)}-factor model: Δχ² (Δdf)",
            "ulmc": "ULMC: Δχ² (Δdf) for the method factor",
            "ulmc_share": "ULMC: mean squared method loading (% of item variance)"}
    samples = {c: s.country(c) for c in s.countries} | {"Pooled": s.frame}
    cells: dict[str, dict[str, str]] = {key: {} for key in rows}
    tidy = []
    for name, frame in samples.items():
        h = semnet.harman(s.models["measurement"], frame, **s.fit_args)
        fm = h.fit.fit_measures()
        diff = h.compare.iloc[-1]
        cells["share"][name] = format_number(100 * h.first_component_share, 1)
        cells["chisq"][name] = f"{format_number(fm['chisq'], 1)} ({int(fm['df'])})"
        cells["cfi"][name] = format_number(fm["cfi"])
        cells["rmsea"][name] = format_number(fm["rmsea"])
        cells["diff"][name] = (f"{format_number(diff['chisq_diff'], 1)} "
                               f"({int(diff['df_diff'])}), {format_p_clause(diff['pvalue'])}")
        tidy.append({"sample": name, "first_component_share": h.first_component_share,
                     "one_factor_chisq": fm["chisq"], "one_factor_df": fm["df"],
                     "one_factor_cfi": fm["cfi"], "one_factor_rmsea": fm["rmsea"],
                     "chisq_diff": diff["chisq_diff"], "df_diff": diff["df_diff"],
                     "pvalue_diff": diff["pvalue"]})  # fmt: skip
    u = semnet.ulmc(s.models["measurement"], s.frame, **s.fit_args)
    udiff = u.compare.iloc[-1]
    for name in samples:
        cells["ulmc"][name] = cells["ulmc_share"][name] = "—"
    cells["ulmc"]["Pooled"] = (f"{format_number(udiff['chisq_diff'], 1)} "
                               f"({int(udiff['df_diff'])}), {format_p_clause(udiff['pvalue'])}")
    cells["ulmc_share"]["Pooled"] = format_number(100 * u.method_variance_share, 1)
    tidy[-1] |= {"ulmc_chisq_diff": udiff["chisq_diff"], "ulmc_df_diff": udiff["df_diff"],
                 "ulmc_pvalue": udiff["pvalue"],
                 "ulmc_method_variance_share": u.method_variance_share}  # fmt: skip
    frame = pd.DataFrame([{"check": label, **cells[key]} for key, label in rows.items()])
    s.text_table(
        "method_variance", "Common-method variance checks", frame,
        {"check": "Check", **{name: name for name in samples}},
        ("Harman's test: the share of the items' variance on the first unrotated principal "
         "component (a warning sign above 50%) and the fit of a single factor for all items, "
         f"compared with the {len(CONSTRUCTS)}-factor measurement model. The test is "
         "insensitive: passing it does not rule out common-method variance (Podsakoff et "
         "al., 2003)." + s.unweighted("The principal component analysis"),
         "ULMC: the measurement model plus a method factor loading on every item, "
         "uncorrelated with the constructs (Podsakoff et al., 2003), estimated on the "
         "pooled sample; with about 300 firms per country the method factor is weakly "
         f"identified. {s.fiml_note} {_n_note(s)}"),
        tidy=pd.DataFrame(tidy), columns={"check": "text", **{n: "text" for n in samples}},
    )  # fmt: skip


def _alignment(s: _State) -> None:
    """Alignment optimization (FIXED, the first country as reference) beside the partial
    scalar model's latent means, both in the reference country's latent SD."""
    import semnet

    aligned = semnet.alignment(s.models["measurement"], s.frame, group=GROUP,
                               method="FIXED", progress=s.progress, **s.fit_args)  # fmt: skip
    means = aligned.factor_means()
    partial_est = s.partial.fit.estimates()
    ref, others = s.countries[0], s.countries[1:]
    partial_means = (partial_est[partial_est["op"] == "~1"]
                     .set_index(["lhs", "group"])["est"])  # fmt: skip
    variances = partial_est[(partial_est["op"] == "~~")
                            & (partial_est["lhs"] == partial_est["rhs"])
                            & (partial_est["group"].astype(str) == ref)].set_index("lhs")["est"]
    rows, tidy = [], []
    for factor in CONSTRUCTS:
        row: dict[str, Any] = {"construct": s.labels.get(factor, factor)}
        sd = float(np.sqrt(variances[factor]))
        for c in others:
            hit = means[(means["factor"] == factor) & (means["group"] == c)].iloc[0]
            part = float(partial_means[(factor, c)]) / sd
            row |= {f"{c}_partial": part, f"{c}_aligned": hit["mean"], f"{c}_se": hit["se"]}
            tidy.append({"factor": factor, "group": c, "partial_scalar": part,
                         "aligned": hit["mean"], "aligned_se": hit["se"],
                         "aligned_variance": hit["variance"]})  # fmt: skip
        rows.append(row)
    header = {"construct": "Construct"}
    for c in others:
        header |= {f"{c}_partial": "Partial", f"{c}_aligned": "Aligned", f"{c}_se": "SE"}
    shares = aligned.noninvariance().set_index("factor")["percent"]
    s.text_table(
        "alignment", f"Latent means relative to {ref}: partial scalar model and alignment",
        pd.DataFrame(rows), header,
        (f"Latent means minus those of {ref}, in {ref}'s latent standard deviation. "
         "Partial: the partial scalar model of the invariance tables. Aligned: alignment "
         f"optimization (Asparouhov & Muthén, 2014; FIXED, {ref} with mean 0 and variance "
         "1) of the configural model, with delta-method SEs. Non-invariant aligned "
         "loadings and intercepts: " + ", ".join(
             f"{s.labels.get(f, f)} {shares[f]:.0f}%" for f in CONSTRUCTS)
         + f" (rule of thumb: at most 25%). {s.fiml_note} {_n_note(s)}",),
        spans=(("", 1), *((f"{c} − {ref}", 3) for c in others)),
        tidy=pd.DataFrame(tidy), columns={"construct": "text"},
    )  # fmt: skip


# 4. multi-group structural model ---------------------------------------------------------
def _structural(s: _State) -> None:
    import semnet
    from semnet.report.journal import describe_parameter, fit_table, paths_table

    partial_params = tuple(s.partial.freed)
    # the optional controls enter the DOI equation when the data have them, as fixed.x
    # covariates (lavaan's default: FIML conditions on them)
    controls = [c for c in CONTROLS if c in s.frame.columns]
    struct_text = s.models["structural"]
    control_note = ""
    if controls:
        struct_text += "\ndoi ~ " + " + ".join(controls) + "\n"
        names = " and ".join(s.labels.get(c, c).lower() for c in controls)
        control_note = (f" {s.labels['doi']} is also regressed on the controls {names} "
                        "(fixed covariates: the likelihood is conditional on them).")
    exempt = " and ".join(describe_parameter(p) for p in partial_params) or "none"
    options = {"group": GROUP, "group_equal": ["loadings", "intercepts"],
               "group_partial": partial_params, **s.fit_args}  # fmt: skip
    struct = semnet.sem(struct_text, s.frame, **options)
    for c in s.countries:
        s.fit_rows.append(("Structural", c, semnet.sem(struct_text, s.country(c), **s.fit_args)))
    s.fit_rows.append(("Structural", "Multi-group (partial scalar)", struct))
    s.add(fit_table(s.fit_rows, name="fit", title="Fit of the measurement and structural "
                    "models", notes=(f"Multi-group models: configural = no equality "
                                     f"constraints; partial scalar = loadings and "
                                     f"intercepts equal across countries except "
                                     f"{exempt}."
                                     f"{control_note}",)))  # fmt: skip
    s.add(paths_table(struct, labels=s.labels, name="structural",
                      title="Structural paths by country (multi-group model)",
                      notes=("Loadings and intercepts equal across countries except "
                             f"{exempt} (partial scalar "
                             "invariance)." + control_note,)))  # fmt: skip
    _path_equality(s, struct_text, options)


def _path_equality(s: _State, struct_text: str, options: dict) -> None:
    import semnet

    n = len(s.countries)
    labelled = struct_text.replace(
        "doi ~ ni", f"doi ~ c({', '.join(f'b{i + 1}' for i in range(n))})*ni"
    )
    lab_fit = semnet.sem(labelled, s.frame, **options)
    w = lab_fit.wald(" ; ".join(f"b1 == b{i + 1}" for i in range(1, n)))
    tests = [{"test": "All countries equal", "stat": w["stat"], "df": w["df"],
              "pvalue": w["pvalue"]}]  # fmt: skip
    for i in range(n):
        for j in range(i + 1, n):
            w = lab_fit.wald(f"b{i + 1} == b{j + 1}")
            tests.append({"test": f"{s.countries[i]} = {s.countries[j]}", "stat": w["stat"],
                          "df": w["df"], "pvalue": w["pvalue"]})  # fmt: skip
    ni, doi = s.labels.get("ni", "ni"), s.labels.get("doi", "doi")
    s.text_table("path_equality", f"Is {ni} → {doi} equal across countries? (Wald tests)",
                 pd.DataFrame(tests), {"test": "Hypothesis", "stat": "Wald χ²", "df": "df",
                                       "pvalue": "p"},
                 (f"Wald tests of equal unstandardized paths in the multi-group model of "
                  f"the previous table. {s.fiml_note} {_n_note(s)}",))  # fmt: skip


# 5. moderation ----------------------------------------------------------------------------
def _moderation(s: _State) -> None:
    _moderation_lms(s)
    _moderation_by_country(s)
    _moderation_by_turbulence(s)


def _moderation_lms(s: _State) -> None:
    import semnet
    from semnet.report.journal import coefficients_table, simple_slopes_table

    lms_fit = semnet.sem(s.models["moderated"], s.complete[ITEMS], interaction="lms")
    lr = lms_fit.lr_test()
    complete = (f"Latent moderated structural equations (LMS, ML) on the {len(s.complete)} "
                f"complete cases of the pooled sample ({_per_country(s, s.complete)}).")
    s.add(coefficients_table(
        lms_fit, labels=s.labels, outcomes=("doi",), name="moderation_lms",
        title=f"{s.labels['doi']} regressed on {s.labels['ni']} × {s.labels['et']} (LMS, "
        "pooled sample)",
        notes=(f"{complete} LMS does not allow FIML.{s.unweighted('LMS')} Likelihood-ratio "
               f"test of the interaction: χ²({int(lr['df_diff'])}) = "
               f"{float(lr['chisq_diff']):.2f}, {format_p_clause(lr['pvalue'])}.",),
    ))  # fmt: skip
    slopes = semnet.simple_slopes(lms_fit, "ni", "et", (-1.0, 0.0, 1.0))
    jn = semnet.johnson_neyman(lms_fit, "ni", "et")[0]
    s.add(simple_slopes_table(
        slopes.drop(columns=["group"]), focal="ni", moderator="et", labels=s.labels,
        name="simple_slopes",
        title=f"Effect of {s.labels['ni']} on {s.labels['doi']} at levels of "
        f"{s.labels['et']} (LMS)",
        notes=(f"Simple slopes (unstandardized) at the mean of {s.labels['et']} and one "
               f"SD below and above it. Johnson–Neyman: {jn.region()} (raw metric; mean "
               f"{jn.mean:.3f}, SD {jn.sd:.3f}). {complete}",),
    ))  # fmt: skip


def _moderation_by_country(s: _State) -> None:
    import semnet
    from semnet.report.journal import paths_table

    pi_fit = semnet.sem(
        s.models["moderated"], s.frame, group=GROUP, interaction="double_mean",
        interaction_match=True, group_equal=["loadings"], **s.fit_args,
    )  # fmt: skip
    s.add(paths_table(
        pi_fit, labels=s.labels, outcomes=("doi",), name="moderation_pi",
        title=f"{s.labels['doi']} regressed on {s.labels['ni']} × {s.labels['et']} by "
        "country (product indicators)",
        notes=("Matched pairs of NI and ET items (ni1·et1 … ni4·et4; ni5 has no partner), "
               "double-mean centred over the pooled sample; loadings equal across "
               "countries.",),
    ))  # fmt: skip


def _moderation_by_turbulence(s: _State) -> None:
    import semnet
    from semnet.report.format import STAR_NOTE

    by_groups = semnet.moderation_by_groups(
        s.models["structural"], s.frame, moderator=CONSTRUCTS["et"], path="doi~ni", **s.fit_args
    )
    w, lrt = by_groups.wald, by_groups.lrt
    t = by_groups.table
    frame = pd.DataFrame({
        "group": [f"{str(g).capitalize()} turbulence" for g in t["group"]], "n": t["n"],
        "b": list(zip(t["est"], t["pvalue"], strict=True)), "se": t["se"],
        "ci": list(zip(t["ci_lower"], t["ci_upper"], strict=True)), "beta": t["std_all"],
    })  # fmt: skip
    s.text_table(
        "turbulence_groups", f"{s.labels['ni']} → {s.labels['doi']} in low and high "
        "turbulence firms", frame,
        {"group": "Group", "n": "n", "b": "b", "se": "SE", "ci": "95% CI", "beta": "β"},
        (f"Split at the median of the mean ET items ({by_groups.cut:g}); loadings and "
         f"intercepts equal across the two groups. Equality of the path: Wald "
         f"χ²({int(w['df'])}) = {w['stat']:.2f}, {format_p_clause(w['pvalue'])}; LRT "
         f"χ²({int(lrt['df_diff'].iloc[1])}) = {lrt['chisq_diff'].iloc[1]:.2f}, "
         f"{format_p_clause(lrt['pvalue'].iloc[1])}. {s.fiml_note} {_n_note(s)}",
         STAR_NOTE),
        tidy=t, columns={"b": "starred", "ci": "interval", "group": "text"},
    )  # fmt: skip


# 6. mediation ---------------------------------------------------------------------------------
def _mediation(s: _State) -> None:
    import semnet
    from semnet.report.journal import indirect_table

    s.mediation = semnet.sem(s.models["mediation"], s.frame, **s.fit_args)
    causes = ("gm", "rc")
    ind = pd.concat([semnet.indirect_effects(s.mediation, x, y="doi") for x in causes],
                    ignore_index=True)  # fmt: skip
    boot_table, boot_note = None, "No bootstrap (bootstrap=0)."
    if s.bootstrap:
        boot = semnet.bootstrap(s.mediation, n=s.bootstrap, seed=s.seed, ci=("percentile",),
                                indirect=[{"x": x, "y": "doi"} for x in causes],
                                progress=s.progress, n_jobs=s.jobs)  # fmt: skip
        boot_table = boot.table(ci="percentile")
        boot_note = (f"{s.bootstrap} case-resampling bootstrap draws of the FIML fit "
                     f"(seed {s.seed}; {boot.n_failed} failed).")
    s.add(indirect_table(
        ind, boot_table, labels=s.labels, name="indirect",
        title=f"Indirect, direct and total effects on {s.labels['doi']}",
        notes=(f"Mediation model fitted to all {s.mediation.ntotal} firms. {s.fiml_note} "
               f"{boot_note} {_n_note(s)}",),
    ))  # fmt: skip


# 7. robustness: the items as ordinal ----------------------------------------------------------
#: the 7-point items' categories for the ordinal analysis: the sparse ends merged (1-2, 6-7)
ORDINAL_CATEGORIES = {1: 1, 2: 1, 3: 2, 4: 3, 5: 4, 6: 5, 7: 5}


def _ordinal(s: _State) -> None:
    """The invariance ladder with the items as ordinal (WLSMV, Wu & Estabrook 2016)
    beside the ladder with the items as continuous (MLR, FIML)."""
    from semnet.analyses.invariance import invariance

    merged = s.frame.copy()
    merged[ITEMS] = merged[ITEMS].apply(lambda c: c.map(ORDINAL_CATEGORIES))
    ordinal = invariance(s.models["measurement"], merged, group=GROUP, ordered=ITEMS,
                         std_lv=True, rule=INVARIANCE_RULE, progress=False).table()
    continuous = invariance(s.models["measurement"], s.frame, group=GROUP, estimator="MLR",
                            rule=INVARIANCE_RULE, progress=False, **s.fit_args).table()
    rows, tidy = [], []
    order = ("configural", "thresholds", "metric", "scalar", "strict")
    levels = [lv for lv in order if lv in continuous.index or lv in ordinal.index]
    for level in levels:
        row: dict[str, Any] = {"level": str(level).capitalize()}
        for key, table, index in (("mlr", continuous, "_robust"), ("wlsmv", ordinal, "_scaled")):
            if level not in table.index:
                row |= {f"{key}_chisq": "—", f"{key}_cfi": "", f"{key}_rmsea": "",
                        f"{key}_p": "", f"{key}_decision": ""}
                continue
            r = table.loc[level]
            row |= {f"{key}_chisq": f"{format_number(r['chisq_scaled'], 1)} ({int(r['df'])})",
                    f"{key}_cfi": format_number(r["cfi" + index]),
                    f"{key}_rmsea": format_number(r["rmsea" + index]),
                    f"{key}_p": format_pvalue(r["pvalue_diff"]),
                    f"{key}_decision": "" if level == "configural" else str(r["decision"])}
            tidy.append({"items": key, "level": level, **{
                c: r[c] for c in ("chisq_scaled", "df", "cfi" + index, "rmsea" + index,
                                  "chisq_diff", "df_diff", "pvalue_diff") if c in r},
                "decision": r["decision"]})  # fmt: skip
        rows.append(row)
    header = {"level": "Level"}
    for key in ("mlr", "wlsmv"):
        header |= {f"{key}_chisq": "χ² (df)", f"{key}_cfi": "CFI", f"{key}_rmsea": "RMSEA",
                   f"{key}_p": "p (Δχ²)", f"{key}_decision": "Decision"}
    complete = merged.dropna(subset=ITEMS)
    s.text_table(
        "ordinal", "Robustness: measurement invariance with the items as continuous and as "
        "ordinal", pd.DataFrame(rows), header,
        ("Continuous: MLR with FIML (Yuan-Bentler scaled χ², robust CFI and RMSEA, "
         "Satorra-Bentler 2001 difference tests), " + _n_note(s)
         + ("" if s.weights is None else f" Sampling weights: column {s.weights}."),
         "Ordinal: WLSMV on the polychoric correlations (delta parameterization, "
         "identification of Wu & Estabrook, 2016: thresholds equal before loadings; "
         "scaled χ², CFI and RMSEA; Satorra 2000 difference tests), the 7-point answers "
         "with the sparse end categories merged (1-2, 6-7) into five, complete cases: "
         + _n_note(s, complete) + s.unweighted("The ordinal analysis"),
         "Decision: the level holds when the χ² difference test against the previous level "
         "has p > .05 (as in the main invariance table)."),
        spans=(("", 1), ("Items as continuous (MLR)", 5), ("Items as ordinal (WLSMV)", 5)),
        tidy=pd.DataFrame(tidy), columns={c: "text" for c in header},
    )  # fmt: skip


#: the analysis plan: (name in ``manifest.json``'s timings, step), in order
STEPS: tuple[tuple[str, Callable[[_State], None]], ...] = (
    ("reliability", _reliability),
    ("cfa", _cfa),
    ("method_variance", _method_variance),
    ("invariance", _invariance),
    ("alignment", _alignment),
    ("structural", _structural),
    ("moderation", _moderation),
    ("mediation", _mediation),
    ("ordinal", _ordinal),
)


def _manifest(s: _State, digest: str, timings: dict, outputs: list[str],
              docx: bool) -> dict:  # fmt: skip
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
            "estimator": "ML" if s.weights is None else "MLR",
            "sampling_weights": s.weights,
            "missing": "fiml",
            "interaction": "lms and double_mean",
            "invariance_rule": INVARIANCE_RULE,
            "bootstrap_missing": "fiml",
        },
        "report": {
            "html": REPORT_HTML,
            "docx": REPORT_DOCX if docx else None,
            "docx_status": "written" if docx else "skipped: python-docx is not installed "
            "(pip install \"semnet[docx]\")",
        },
        "timings_seconds": timings,
        "outputs": sorted(outputs),
    }


def _figure(s: _State) -> Any:
    """Figure 1: the moderated structural model (double-mean-centred product indicators,
    as table 12) in one panel per country and one for the pooled sample."""
    import semnet
    from semnet.report.diagram import diagram_layout

    options = {"interaction": "double_mean", "interaction_match": True, **s.fit_args}
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
        panels, labels={**s.labels, "ni:et": "NI × ET"}, r2=r2s,
        title="Figure 1. Network involvement, environmental turbulence and the degree of "
        "internationalization by country (standardized estimates; product indicators, FIML)",
    )  # fmt: skip


def _report_intro(s: _State) -> list[str]:
    return [
        f"Network involvement of SMEs in {', '.join(s.countries)}; {_n_note(s)} "
        "Reliability and validity, measurement invariance, the structural model, "
        f"moderation and mediation, made by semnet {__version__} (seed {s.seed}, "
        f"{s.bootstrap} bootstrap draws).",
        "Each table is also written as Markdown, LaTeX, HTML and CSV (full precision, "
        "long format) in this folder.",
    ]


def _write(folder: OutputFolder, s: _State, digest: str, timings: dict,
           t0: float) -> tuple[list[Path], dict]:  # fmt: skip
    """Write the tables, the path diagram (SVG, and PNG when matplotlib is installed),
    report.html, tables.docx (with python-docx) and the manifest (last) into ``folder``."""
    import importlib.util

    from semnet.report.diagram import save_diagram
    from semnet.report.docx import docx_available, write_docx
    from semnet.report.tables import html_page

    figure = _figure(s)
    svg = figure.to_svg()
    tables = list(s.numbered().values())
    title = "Network involvement and internationalization: tables"
    with folder.staging() as stage:
        names = [p.name for table in tables for p in table.write(stage)]
        kinds = ("svg", "png") if importlib.util.find_spec("matplotlib") else ("svg",)
        for kind in kinds:
            names.append(save_diagram(figure, stage / f"figure1_path_diagram.{kind}").name)
        (stage / REPORT_HTML).write_text(
            html_page(tables, title=title, intro=_report_intro(s),
                      figures=[("", svg)]),
            encoding="utf-8")
        names.append(REPORT_HTML)
        docx = docx_available()
        if docx:
            write_docx(tables, stage / REPORT_DOCX, title=title, intro=_report_intro(s))
            names.append(REPORT_DOCX)
        timings["total"] = round(time.perf_counter() - t0, 3)
        manifest = _manifest(s, digest, timings, names, docx)
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        files = folder.commit(stage, [*names, MANIFEST])
    return files, manifest


def _check_weights(frame: pd.DataFrame, weights: str | None) -> None:
    if weights is None:
        return
    if weights not in frame.columns:
        raise DataError(
            f"the sampling-weights column {weights!r} is not in the data; its columns are "
            f"{', '.join(map(str, frame.columns))}."
        )


def run(
    data: pd.DataFrame | str | Path | None = None,
    out: str | Path = "out",
    *,
    seed: int = 2021,
    bootstrap: int = 200,
    models_dir: str | Path | None = None,
    progress: bool | None = None,
    overwrite: bool = False,
    weights: str | None = None,
    jobs: int = 1,
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
    progress : bool, optional
        Show progress bars (``tqdm`` when installed, the ``[progress]`` extra) over the
        steps and inside the long ones (invariance ladder, partial search, bootstrap).
        Default: only when stderr is a terminal.
    overwrite : bool
        Write into a non-empty folder that no earlier run wrote.
    weights : str, optional
        A column of sampling weights: every model that allows them is fitted with them
        (MLR, as lavaan; weights normalised to the total N); the notes of the tables that
        do not use them (HTMT, LMS, the ordinal analysis) say so.
    jobs : int
        Worker processes of the bootstrap (``-1``: every CPU); the draws, and so the
        tables, are the same whatever their number.

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
    check_jobs(jobs)
    frame, digest = load_data(data)
    _check_weights(frame, weights)
    models = model_files(models_dir)
    folder = OutputFolder.open(out, overwrite=overwrite)
    show = want_progress(progress, len(STEPS), 1)
    state = _State(frame, models, seed, bootstrap, show, weights=weights, jobs=jobs)
    timings: dict[str, float] = {}
    bar = Progress(len(STEPS), "replicate", show, unit="step")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=semnet.SemnetWarning)
        t = time.perf_counter()
        try:
            for name, step in STEPS:
                bar.describe(name)
                step(state)
                now = time.perf_counter()
                timings[name] = round(now - t, 3)
                t = now
                bar.update(1)
        finally:
            bar.close()
    files, manifest = _write(folder, state, digest, timings, t0)
    return StudyResult(state.numbered(), tuple(files), manifest)
