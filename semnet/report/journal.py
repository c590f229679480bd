"""Journal tables (APA 7, as management and international-business journals print them)
from fitted models and analysis results.

Each function takes fits or result objects and returns a :class:`~semnet.report.Table`
that renders as Markdown, LaTeX (booktabs, ``threeparttable`` notes), styled HTML, CSV
(tidy, full precision) and Word (:mod:`semnet.report.docx`):

- :func:`measurement_table` -- standardized loadings with SEs per group side by side,
  with Cronbach's α, composite reliability (ω) and AVE per construct;
- :func:`htmt_table`, :func:`fornell_larcker_table` -- discriminant validity as lower
  triangular matrices per group;
- :func:`fit_table` -- χ²(df), p, CFI, TLI, RMSEA [90% CI] and SRMR of several models
  (scaled and robust versions when the estimator has them);
- :func:`invariance_table` -- the invariance ladder with its differences and decisions
  (and the partial levels of a partial-invariance search), under one stated rule;
- :func:`coefficients_table` -- unstandardized coefficients (b, SE, 95% CI, β) of one
  fit, for models without a standardized solution with SEs (LMS);
- :func:`paths_table` -- standardized structural paths per group side by side, stars,
  and R² of every endogenous construct;
- :func:`indirect_table` -- indirect, direct and total effects with delta-method and
  bootstrap confidence intervals;
- :func:`simple_slopes_table` -- conditional effects at values of a moderator.

Construct names come from ``labels`` (a mapping ``code -> name``), which
:func:`model_labels` reads from ``# @label code = Name`` comment lines of a model file.
Every table carries notes stating the estimator, the missing-data treatment and the N
per group; p-values and stars follow :mod:`semnet.report.format`.

Examples
--------
>>> import semnet
>>> from semnet.report.journal import measurement_table
>>> hs = semnet.datasets.holzinger_swineford()
>>> fit = semnet.cfa("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6", hs, group="school")
>>> table = measurement_table(fit, labels={"visual": "Visual ability"})
>>> table.flat_header()[:4]
['Construct', 'Item', 'Pasteur λ', 'Pasteur SE']
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from semnet.analyses.invariance.levels import is_ordinal
from semnet.analyses.reliability import reliability
from semnet.errors import OptionError, SemnetError
from semnet.report.format import STAR_NOTE, format_number, typeset_minus
from semnet.report.tables import Table

__all__ = [
    "MISSING_TEXT",
    "coefficients_table",
    "describe_parameter",
    "fit_table",
    "fornell_larcker_table",
    "htmt_table",
    "indirect_table",
    "invariance_table",
    "measurement_table",
    "method_note",
    "model_labels",
    "partial_search_table",
    "paths_table",
    "rule_text",
    "sample_note",
    "simple_slopes_table",
]

#: how a table note names each missing-data treatment
MISSING_TEXT = {
    "fiml": "full-information maximum likelihood (FIML) for missing answers",
    "ml": "full-information maximum likelihood (FIML) for missing answers",
    "fiml_x": "full-information maximum likelihood (FIML) for missing answers and covariates",
    "listwise": "listwise deletion of incomplete cases",
    "pairwise": "pairwise deletion (each statistic from the cases observed on its variables)",
}
_LABEL_LINE = re.compile(r"^\s*#\s*@label\s+([A-Za-z_.][\w.]*)\s*=\s*(.+?)\s*$")


def model_labels(text: str) -> dict[str, str]:
    """The construct names a model file declares in ``# @label code = Name`` comments.

    The comments are ignored by the model syntax, so a user names the constructs of
    their own model by adding such lines; the journal tables print the names.

    Examples
    --------
    >>> model_labels("# @label gm = Global mindset\\ngm =~ a + b + c")
    {'gm': 'Global mindset'}
    """
    return {m.group(1): m.group(2) for line in str(text).splitlines()
            if (m := _LABEL_LINE.match(line))}  # fmt: skip


_PARAMETER = re.compile(r"^\s*([^=~\s]+)\s*(=~|~~|~1|~)\s*([^\s]*)\s*$")


def describe_parameter(param: str, labels: Mapping[str, str] | None = None) -> str:
    """A parameter in lavaan's notation (``"ni=~ni3"``, ``"doi2~1"``) in words, for a
    table note: "the loading of ni3", "the intercept of doi2", "the residual variance of
    x1", "the residual covariance of x1 and x2", "the path gm → ni" (construct names
    from ``labels``). Anything else is returned as given.

    Examples
    --------
    >>> describe_parameter("ni=~ni3"), describe_parameter("doi2~1")
    ('the loading of ni3', 'the intercept of doi2')
    >>> describe_parameter("ni~gm", {"gm": "Global mindset", "ni": "Network involvement"})
    'the path Global mindset → Network involvement'
    """
    m = _PARAMETER.match(str(param))
    if m is None:
        return str(param)
    lhs, op, rhs = m.groups()
    if op == "=~":
        return f"the loading of {_name(rhs, labels)}"
    if op == "~1":
        return f"the intercept of {_name(lhs, labels)}"
    if op == "~~":
        if lhs == rhs:
            return f"the residual variance of {_name(lhs, labels)}"
        return f"the residual covariance of {_name(lhs, labels)} and {_name(rhs, labels)}"
    return f"the path {_name(rhs, labels)} → {_name(lhs, labels)}"


def _name(code: str, labels: Mapping[str, str] | None) -> str:
    labels = labels or {}
    if not isinstance(labels, Mapping):
        raise OptionError(
            "labels must map codes to names, e.g. {'ni': 'Network involvement'} (see "
            f"model_labels()); got {type(labels).__name__}."
        )
    if ":" in code:
        return " × ".join(_name(part, labels) for part in code.split(":"))
    return labels.get(code, code)


def _panels(fits: Any) -> list[tuple[str, Any, Any]]:
    """(panel name, fit, group label to select or None) for every panel of a table."""
    if isinstance(fits, Mapping):
        if not fits:
            raise OptionError("pass at least one fit (a mapping group -> fit was empty).")
        for f in fits.values():
            _check_fit(f)
        return [(str(k), f, None) for k, f in fits.items()]
    _check_fit(fits)
    groups = list(getattr(fits, "groups", None) or [])
    if len(groups) > 1:
        return [(str(g), fits, g) for g in groups]
    return [("", fits, None)]


def _check_fit(fit: Any) -> None:
    if not hasattr(fit, "estimates"):
        raise OptionError(
            f"journal tables take a fit from semnet.sem/cfa (or a mapping group -> fit), "
            f"not {type(fit).__name__}."
        )


def _standardized(fit: Any, table: str) -> pd.DataFrame:
    """The fit's standardized solution with its SEs, which ``table`` is built from."""
    try:
        return fit.standardized()
    except SemnetError as exc:
        raise OptionError(
            f"{table} is built from the standardized solution with standard errors, which "
            f"this fit does not have: {exc} For a journal table of its coefficients (with "
            "the standardized ones) use journal.coefficients_table(fit)."
        ) from None


def _selection(name: str, value: Any) -> list[str] | None:
    """``outcomes=``/``predictors=`` as a list of names (one name may be a string)."""
    if value is None or isinstance(value, str):
        return None if value is None else [value]
    if not isinstance(value, Iterable) or not all(isinstance(v, str) for v in value):
        raise OptionError(f"{name} must be variable names, e.g. ['doi'], not {value!r}.")
    return list(value)


def _frame_with(frame: Any, columns: Sequence[str], what: str, source: str) -> pd.DataFrame:
    """``frame`` after checking that it is a DataFrame with ``columns``."""
    if not isinstance(frame, pd.DataFrame):
        raise OptionError(f"{what} must be the DataFrame of {source}; got "
                          f"{type(frame).__name__}.")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise OptionError(f"{what} must be the DataFrame of {source}; its columns lack "
                          f"{', '.join(missing)}.")
    return frame


def _rows_of(frame: pd.DataFrame, group: Any) -> pd.DataFrame:
    if group is None or "group" not in frame.columns:
        return frame
    return frame[frame["group"].astype(str) == str(group)]


def sample_note(fits: Any) -> str:
    """``N = 950 (USA = 320, China = 350, Russia = 280).`` for fits or a multi-group fit.

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> sample_note(semnet.cfa("f =~ x1 + x2 + x3", hs, group="school"))
    'N = 301 (Pasteur = 156, Grant-White = 145).'
    """
    sizes = []
    for name, fit, group in _panels(fits):
        nobs = getattr(fit, "nobs", {}) or {}
        sizes.append((name, nobs[group] if group is not None else fit.ntotal))
    total = sum(n for _, n in sizes)
    if len(sizes) == 1:
        return f"N = {total}."
    return f"N = {total} ({', '.join(f'{k} = {n}' for k, n in sizes)})."


def method_note(fit: Any) -> str:
    """The estimator and the missing-data treatment of a fit, for a table note.

    Examples
    --------
    >>> import semnet
    >>> method_note(semnet.cfa("f =~ x1 + x2 + x3", semnet.datasets.holzinger_swineford()))
    'Estimator: ML; listwise deletion of incomplete cases.'
    """
    options = fit.options
    missing = MISSING_TEXT.get(str(options.missing), f"missing data: {options.missing}")
    weights = getattr(options, "sampling_weights", None)
    design = (f" with the sampling weights of column {weights} (normalised: "
              f"{options.sampling_weights_normalization})" if weights else "")
    return f"Estimator: {options.estimator}{design}; {missing}."


def _first_fit(fits: Any) -> Any:
    return _panels(fits)[0][1]


def _spans(panels: Sequence[str], lead: int, width: int) -> tuple[tuple[str, int], ...]:
    if len(panels) < 2 and not any(panels):
        return ()
    return (("", lead), *((p, width) for p in panels))


# -- measurement model --------------------------------------------------------------------
def measurement_table(fits: Any, *, labels: Mapping[str, str] | None = None,
                      name: str = "measurement", label: str = "",
                      title: str = "Measurement model: standardized loadings, reliability "
                      "and convergent validity", notes: Sequence[str] = ()) -> Table:  # fmt: skip
    """Standardized loadings (SE) per group side by side, with α, CR and AVE per construct.

    Parameters
    ----------
    fits : Fit or mapping of str to Fit
        A (multi-group) CFA, or one fit per group (``{"USA": fit_us, ...}``).
    labels : mapping, optional
        Construct code → name.
    name, label, title : str
        File stem, number label (``"Table 2"``) and title of the table.
    notes : sequence of str
        Notes added after the standard ones.

    Returns
    -------
    Table
        Rows: the items of each construct, then ``α``, ``CR (ω)`` and ``AVE``;
        columns: λ and SE per group.  The CSV is long: ``group, construct, item,
        statistic, est, se, pvalue``.

    Examples
    --------
    >>> import semnet
    >>> fit = semnet.cfa("f =~ x1 + x2 + x3", semnet.datasets.holzinger_swineford())
    >>> t = measurement_table(fit, labels={"f": "Visual"})
    >>> t.cells()[1][0][:3]
    ['Visual', 'x1', '0.621']
    """
    panels = _panels(fits)
    tidy = []
    for pname, fit, group in panels:
        std = _rows_of(_standardized(fit, "measurement_table"), group)
        for _, r in std[std["op"] == "=~"].iterrows():
            tidy.append({"group": pname, "construct": r["lhs"], "item": r["rhs"],
                         "statistic": "loading", "est": r["est_std"], "se": r["se"],
                         "pvalue": r["pvalue"]})  # fmt: skip
        rel = _rows_of(reliability(fit), group)
        for _, r in rel.iterrows():
            for stat in ("alpha", "omega", "ave"):
                tidy.append({"group": pname, "construct": r["factor"], "item": "",
                             "statistic": stat, "est": r[stat], "se": np.nan,
                             "pvalue": np.nan})  # fmt: skip
    if not tidy:
        raise OptionError(
            "measurement_table shows factor loadings, but the model has no '=~' rows; "
            "for a path model use paths_table or coefficients_table."
        )
    tidy_frame = pd.DataFrame(tidy)
    constructs = list(dict.fromkeys(tidy_frame["construct"]))
    shown = {"alpha": "α", "omega": "CR (ω)", "ave": "AVE"}
    rows, rules = [], []
    for c in constructs:
        part = tidy_frame[tidy_frame["construct"] == c]
        keys = [*dict.fromkeys(part.loc[part["statistic"] == "loading", "item"]),
                *("alpha", "omega", "ave")]
        rules.append(len(rows))
        for k, key in enumerate(keys):
            row: dict[str, Any] = {"construct": _name(c, labels) if k == 0 else "",
                                   "item": shown.get(key, key)}
            for pname, _, _ in panels:
                hit = part[(part["group"] == pname)
                           & ((part["item"] == key) | (part["statistic"] == key))]
                row[f"{pname}_est"] = hit["est"].iloc[0] if len(hit) else np.nan
                row[f"{pname}_se"] = hit["se"].iloc[0] if len(hit) else np.nan
            rows.append(row)
    frame = pd.DataFrame(rows)
    header = {"construct": "Construct", "item": "Item"}
    for pname, _, _ in panels:
        header[f"{pname}_est"], header[f"{pname}_se"] = "λ", "SE"
    note = ("Completely standardized loadings (λ) with delta-method standard errors; "
            "α = Cronbach's alpha; CR (ω) = composite reliability (omega); AVE = average "
            "variance extracted. " + method_note(_first_fit(fits)) + " "
            + sample_note(fits))  # fmt: skip
    return Table(name, title, frame, notes=(note, *notes), label=label, header=header,
                 spans=_spans([p for p, _, _ in panels], 2, 2), rules=tuple(rules[1:]),
                 tidy=tidy_frame, columns={"construct": "text", "item": "text"})


# -- discriminant validity ----------------------------------------------------------------
def _triangle(matrices: Mapping[str, pd.DataFrame] | pd.DataFrame,
              labels: Mapping[str, str] | None, diagonal: bool) -> tuple[pd.DataFrame,
                                                                         pd.DataFrame,
                                                                         tuple[int, ...]]:
    if isinstance(matrices, pd.DataFrame):
        matrices = {"": matrices}
    if not isinstance(matrices, Mapping) or not all(
            isinstance(m, pd.DataFrame) for m in matrices.values()):  # fmt: skip
        raise OptionError(
            "the matrices must be a DataFrame (semnet.htmt(), fornell_larcker()[group]) or a "
            f"mapping group -> DataFrame; got {type(matrices).__name__}."
        )
    rows, tidy, rules = [], [], []
    for gname, m in matrices.items():
        codes = [str(c) for c in m.index]
        rules.append(len(rows))
        for i, a in enumerate(codes):
            row: dict[str, Any] = {"group": str(gname) if i == 0 else "",
                                   "construct": f"{i + 1}. {_name(a, labels)}"}
            for j, b in enumerate(codes):
                keep = j < i or (diagonal and j == i)
                row[str(j + 1)] = float(m.iloc[i, j]) if keep else "—" if i == j else np.nan
                if j < i or (diagonal and j == i):
                    tidy.append({"group": gname, "row": a, "column": b,
                                 "value": float(m.iloc[i, j])})
            rows.append(row)
    frame = pd.DataFrame(rows)
    if not any(str(g) for g in matrices):
        frame = frame.drop(columns="group")
    return frame, pd.DataFrame(tidy), tuple(rules[1:])


def _triangle_kinds(frame: pd.DataFrame) -> dict[str, str]:
    """The labels as text, the matrix's columns as numbers (right-aligned; "—" marks the
    diagonal)."""
    return {k: "text" if k in ("group", "construct") else "number" for k in frame.columns}


def htmt_table(matrices: Mapping[str, pd.DataFrame] | pd.DataFrame, *,
               labels: Mapping[str, str] | None = None, name: str = "htmt",
               label: str = "", title: str = "Discriminant validity: heterotrait–monotrait "
               "ratios (HTMT2)", notes: Sequence[str] = (), threshold: float = 0.85,
               ) -> Table:  # fmt: skip
    """HTMT ratios as a lower triangular matrix, one block of rows per group.

    Parameters
    ----------
    matrices : DataFrame or mapping of str to DataFrame
        :func:`semnet.htmt`'s result (a matrix, or one per group).
    threshold : float
        The cut-off named in the note (Henseler et al. 2015: .85; .90 for conceptually
        close constructs).

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame([[1, .5], [.5, 1]], index=["a", "b"], columns=["a", "b"])
    >>> htmt_table(m, labels={"a": "Alpha"}).cells()[1]
    [['1. Alpha', '—', ''], ['2. b', '0.500', '—']]
    """
    frame, tidy, rules = _triangle(matrices, labels, diagonal=False)
    header = {"group": "Group", "construct": "Construct"}
    note = (f"Values below the diagonal are HTMT2 ratios (Roemer et al., 2021), computed "
            f"within each group from the complete cases; values above "
            f"{format_number(threshold, 2)} question discriminant validity (Henseler et "
            f"al., 2015).")  # fmt: skip
    return Table(name, title, frame, notes=(note, *notes), label=label, rules=rules,
                 header={k: v for k, v in header.items() if k in frame.columns}, tidy=tidy,
                 columns=_triangle_kinds(frame))


def fornell_larcker_table(matrices: Mapping[str, pd.DataFrame] | pd.DataFrame, *,
                          labels: Mapping[str, str] | None = None,
                          name: str = "fornell_larcker", label: str = "",
                          title: str = "Discriminant validity: Fornell–Larcker criterion",
                          notes: Sequence[str] = ()) -> Table:  # fmt: skip
    """Latent correlations below the diagonal and √AVE on it, one block per group
    (:func:`semnet.fornell_larcker`'s result).

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame([[.7, .5], [.5, .8]], index=["a", "b"], columns=["a", "b"])
    >>> fornell_larcker_table(m).cells()[1]
    [['1. a', '0.700', ''], ['2. b', '0.500', '0.800']]
    """
    frame, tidy, rules = _triangle(matrices, labels, diagonal=True)
    header = {"group": "Group", "construct": "Construct"}
    note = ("The diagonal holds the square root of each construct's AVE, below it the "
            "latent correlations from the CFA; discriminant validity holds for a pair when "
            "both square roots exceed their correlation (Fornell & Larcker, 1981).")
    return Table(name, title, frame, notes=(note, *notes), label=label, rules=rules,
                 header={k: v for k, v in header.items() if k in frame.columns}, tidy=tidy,
                 columns=_triangle_kinds(frame))


# -- model fit ---------------------------------------------------------------------------
_FIT_KEYS = ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower",
             "rmsea_ci_upper", "srmr")  # fmt: skip
_ROBUST_KEYS = {"chisq": "chisq_scaled", "df": "df_scaled", "pvalue": "pvalue_scaled",
                "cfi": "cfi_robust", "tli": "tli_robust", "rmsea": "rmsea_robust",
                "rmsea_ci_lower": "rmsea_ci_lower_robust",
                "rmsea_ci_upper": "rmsea_ci_upper_robust"}  # fmt: skip


def _measures(fit: Any) -> tuple[dict[str, float], bool]:
    """The fit measures of a row: the scaled and robust ones when the fit has them."""
    fm = fit.fit_measures()
    robust = "chisq_scaled" in fm.index and np.isfinite(float(fm["chisq_scaled"]))
    out = {}
    for key in _FIT_KEYS:
        alt = _ROBUST_KEYS.get(key)
        use = alt if robust and alt in fm.index and np.isfinite(float(fm[alt])) else key
        out[key] = float(fm[use]) if use in fm.index else np.nan
    return out, robust


def fit_table(models: Sequence[tuple[str, str, Any]], *, name: str = "fit",
              label: str = "", title: str = "Model fit", notes: Sequence[str] = ()) -> Table:
    """χ²(df), p, CFI, TLI, RMSEA [90% CI] and SRMR of several models.

    Parameters
    ----------
    models : sequence of (model, sample, fit)
        One row each: the model's name (``"Measurement"``), the sample (``"USA"``,
        ``"Multi-group"``) and the fit.  Fits with a scaled test statistic (MLR, MLM)
        report the scaled χ² and the robust CFI, TLI and RMSEA (stated in the note).

    Examples
    --------
    >>> import semnet
    >>> fit = semnet.cfa("f =~ x1 + x2 + x3 + x4", semnet.datasets.holzinger_swineford())
    >>> fit_table([("One factor", "All", fit)]).flat_header()
    ['Model', 'Sample', 'N', 'χ²', 'df', 'p', 'CFI', 'TLI', 'RMSEA', '90% CI', 'SRMR']
    """
    if not models:
        raise OptionError("fit_table needs at least one (model name, sample name, fit).")
    rows, tidy, any_robust = [], [], False
    for entry in models:
        if not isinstance(entry, tuple | list) or len(entry) != 3:
            raise OptionError(
                "fit_table takes (model name, sample name, fit) triples, e.g. "
                f"[('Measurement', 'All', fit)]; got {entry!r}."
            )
        _check_fit(entry[2])
    for model, sample, fit in models:
        m, robust = _measures(fit)
        any_robust |= robust
        rows.append({"model": model, "sample": sample, "n": fit.ntotal, "chisq": m["chisq"],
                     "df": m["df"], "pvalue": m["pvalue"], "cfi": m["cfi"], "tli": m["tli"],
                     "rmsea": m["rmsea"],
                     "rmsea_ci": (m["rmsea_ci_lower"], m["rmsea_ci_upper"]),
                     "srmr": m["srmr"]})  # fmt: skip
        tidy.append({"model": model, "sample": sample, "n": fit.ntotal, "robust": robust, **m})
    header = {"model": "Model", "sample": "Sample", "n": "N", "chisq": "χ²", "df": "df",
              "pvalue": "p", "cfi": "CFI", "tli": "TLI", "rmsea": "RMSEA",
              "rmsea_ci": "90% CI", "srmr": "SRMR"}  # fmt: skip
    first = models[0][2]
    note = (method_note(first) + " RMSEA with its 90% confidence interval. "
            + ("Scaled χ² and robust CFI, TLI and RMSEA (Brosseau-Liard & Savalei, 2014). "
               if any_robust else "")
            + "Cut-offs often used: CFI and TLI ≥ .95, RMSEA ≤ .06, SRMR ≤ .08 (Hu & "
            "Bentler, 1999).")  # fmt: skip
    return Table(name, title, pd.DataFrame(rows), notes=(note, *notes), label=label,
                 header=header, tidy=pd.DataFrame(tidy),
                 columns={"chisq": "number", "rmsea_ci": "interval", "n": "integer"})


# -- invariance ------------------------------------------------------------------------------
def rule_text(rule: Any) -> str:
    """One sentence stating an invariance decision rule (a
    :class:`~semnet.analyses.invariance.Cutoffs`) from its cut-offs.

    Examples
    --------
    >>> from semnet.analyses.invariance.rules import CHISQ, CHEN_2007
    >>> rule_text(CHISQ)
    'a level holds when the χ² difference test against the previous level has p > .05.'
    >>> rule_text(CHEN_2007)[:60]
    'a level fails when ΔCFI < −.010 and (ΔRMSEA > .015 or ΔSRMR '
    """
    def cut(v: float, fmt: str = ".3f") -> str:
        return typeset_minus(format(v, fmt).replace("0.", ".", 1))

    parts = []
    if rule.delta_cfi is not None:
        extra = []
        if rule.delta_rmsea is not None:
            extra.append(f"ΔRMSEA > {cut(rule.delta_rmsea)}")
        if rule.delta_srmr is not None:
            srmr = rule.delta_srmr_loadings or rule.delta_srmr
            extra.append(f"ΔSRMR > {cut(srmr)} for loadings, > {cut(rule.delta_srmr)} "
                         "for intercepts and residuals")
        if rule.combine == "chen" and extra:
            parts.append(f"a level fails when ΔCFI < {cut(rule.delta_cfi)} and "
                         f"({' or '.join(extra)}) (Chen, 2007)")
        else:
            parts.append(" and ".join([f"a level holds when ΔCFI ≥ {cut(rule.delta_cfi)}",
                                       *(e.replace(">", "≤") for e in extra)]))
    if rule.alpha is not None:
        test = (f"the χ² difference test against the previous level has p > "
                f"{cut(rule.alpha, 'g')}")
        parts.append(f"a level holds when {test}" if not parts else f"and {test}")
    return " ".join(parts) + "."


def _ladder_row(model: str, r: Mapping[str, Any]) -> dict[str, Any]:
    # ordinal ladders show (and judge) the scaled statistic and indices
    s = "_scaled" if "delta_cfi_scaled" in r else ""
    return {"model": model, "chisq": r.get(f"chisq{s}"), "df": r.get("fit_df", r.get("df")),
            "chisq_diff": r.get("chisq_diff"), "df_diff": r.get("df_diff"),
            "pvalue_diff": r.get("pvalue_diff"), "cfi": r.get(f"cfi{s}"),
            "delta_cfi": r.get(f"delta_cfi{s}"), "rmsea": r.get(f"rmsea{s}"),
            "delta_rmsea": r.get(f"delta_rmsea{s}"), "srmr": r.get("srmr"),
            "decision": r.get("decision") or ""}  # fmt: skip


def invariance_table(result: Any, partial: Any = None, *, name: str = "invariance",
                     label: str = "", title: str = "Measurement invariance across groups",
                     notes: Sequence[str] = ()) -> Table:  # fmt: skip
    """The invariance ladder, compact: χ², df, Δχ², Δdf, p, CFI, ΔCFI, RMSEA, ΔRMSEA,
    SRMR and the decision of each level, under the result's one rule.

    Parameters
    ----------
    result : InvarianceResult
        :func:`semnet.invariance`'s result.
    partial : PartialResult, optional
        A partial-invariance search (``result.partial(...)``); its final partial levels
        are added after the full ones (each compared with the previous partial level),
        judged by the search's rule.

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> res = semnet.invariance("f =~ x1 + x2 + x3", hs, group="school", rule="chisq")
    >>> [r[0] for r in invariance_table(res).cells()[1]]
    ['Configural', 'Metric', 'Scalar', 'Strict']
    """
    if not all(hasattr(result, a) for a in ("table", "rule", "fits")):
        raise OptionError(
            f"invariance_table takes the result of semnet.invariance(), not "
            f"{type(result).__name__}."
        )
    ladder = result.table()
    rows = [_ladder_row(str(level).capitalize(), r) for level, r in ladder.iterrows()]
    rows[0]["decision"] = "reference"
    rule = result.rule
    if partial is not None and len(partial.audit):
        rule = partial.rule
        freed: list[str] = []
        for level, part in partial.audit.groupby("level", sort=False):
            last = part.iloc[-1]
            freed += list(part["param"].dropna().astype(str))
            if int(last["step"]) == 0:
                continue
            free = ", ".join(describe_parameter(f).removeprefix("the ") for f in freed)
            rows.append(_ladder_row(f"Partial {level} (free: {free})",
                                    last.to_dict()))
    if partial is not None and partial.rule.name != result.rule.name:
        raise OptionError(
            f"the ladder was judged by {result.rule.name!r} and the partial search by "
            f"{partial.rule.name!r}; pass the same rule to both (one rule per table)."
        )
    frame = pd.DataFrame(rows)
    frame["decision"] = frame["decision"].fillna("")
    header = {"model": "Model", "chisq": "χ²", "df": "df", "chisq_diff": "Δχ²",
              "df_diff": "Δdf", "pvalue_diff": "p", "cfi": "CFI", "delta_cfi": "ΔCFI",
              "rmsea": "RMSEA", "delta_rmsea": "ΔRMSEA", "srmr": "SRMR",
              "decision": "Decision"}  # fmt: skip
    fit = next(iter(result.fits.values()))
    levels = list(result.ladder.items())
    added = "; ".join(
        f"{name}: + {', '.join(e for e in equal if e not in prev)}"
        for (_, prev), (name, equal) in itertools.pairwise(levels))
    note = (f"Each level adds equality constraints across groups to the previous one "
            f"({added}); Δ = level minus previous level, p of the χ² difference test. "
            f"Decision rule for every row: {rule_text(rule)} {method_note(fit)} "
            f"{sample_note(fit)}")  # fmt: skip
    return Table(name, title, frame, notes=(note, *notes), label=label, header=header,
                 columns={"chisq": "number", "chisq_diff": "number", "df": "integer",
                          "df_diff": "integer", "decision": "text"},
                 rules=(len(ladder),) if len(rows) > len(ladder) else ())



def partial_search_table(partial: Any, *, labels: Mapping[str, str] | None = None,
                         name: str = "partial", label: str = "", title: str = "",
                         notes: Sequence[str] = (), fit_index: bool = True) -> Table:
    """The steps of a partial-invariance search: per level and step the parameter freed
    (in words), the test that ranked it (the score test; with ordinal items the scaled
    difference test of the refitted candidate), the difference test against the
    previous level, ΔCFI (``fit_index``) and the decision; the CSV keeps the search's
    audit as it is.  The default title names the ranking test.

    Parameters
    ----------
    partial : PartialResult
        ``result.partial(...)`` of :func:`semnet.invariance`.
    labels : mapping, optional
        Construct names by code, for freed paths.
    notes : sequence of str
        The table's notes (the first one after *Note.*): say how the search chose.

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> m = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9"
    >>> res = semnet.invariance(m, hs, group="school", rule="chisq")
    >>> t = partial_search_table(res.partial("scalar"))
    >>> [r[2] for r in t.cells()[1]]
    ['—', '—', 'intercept of x3', 'intercept of x7']
    """
    audit = partial.audit.reset_index(drop=True)
    shown = pd.DataFrame({
        "level": audit["level"].str.capitalize(), "step": audit["step"],
        "param": [describe_parameter(p, labels).removeprefix("the ") if isinstance(p, str)
                  else "—" for p in audit["param"]],
        "X2": audit["X2"], "p_adjusted": audit["p_adjusted"],
        "chisq_diff": audit["chisq_diff"], "df_diff": audit["df_diff"],
        "pvalue_diff": audit["pvalue_diff"], "delta_cfi": audit["delta_cfi"],
        "decision": audit["decision"],
    })  # fmt: skip
    refits = is_ordinal(partial.fit)
    title = title or ("Partial invariance search (refitted candidates)" if refits
                      else "Partial invariance search (score tests)")
    header = {"level": "Level", "step": "Step", "param": "Freed",
              "X2": "Candidate Δχ²" if refits else "Score χ²",
              "p_adjusted": "p (adj.)", "chisq_diff": "Δχ²", "df_diff": "Δdf",
              "pvalue_diff": "p", "delta_cfi": "ΔCFI", "decision": "Decision"}
    if not fit_index:
        shown = shown.drop(columns="delta_cfi")
        del header["delta_cfi"]
    return Table(name, title, shown, notes=tuple(notes), label=label, header=header,
                 tidy=audit, columns={"level": "text", "param": "text", "decision": "text",
                                      "df_diff": "integer"})

# -- structural paths ---------------------------------------------------------------------
def _path_rows(panels: Sequence[tuple[str, Any, Any]], outcomes: Sequence[str] | None,
               predictors: Sequence[str] | None) -> pd.DataFrame:
    tidy = []
    outcomes, predictors = _selection("outcomes", outcomes), _selection("predictors", predictors)
    for pname, fit, group in panels:
        std = _rows_of(_standardized(fit, "paths_table"), group)
        reg = std[std["op"] == "~"]
        if outcomes is not None:
            reg = reg[reg["lhs"].isin(outcomes)]
        if predictors is not None:
            reg = reg[reg["rhs"].isin(predictors)]
        for _, r in reg.iterrows():
            tidy.append({"group": pname, "outcome": r["lhs"], "predictor": r["rhs"],
                         "statistic": "beta", "est": r["est_std"], "se": r["se"],
                         "pvalue": r["pvalue"], "ci_lower": r["ci_lower"],
                         "ci_upper": r["ci_upper"]})  # fmt: skip
    return pd.DataFrame(tidy)


def paths_table(fits: Any, *, labels: Mapping[str, str] | None = None,
                outcomes: Sequence[str] | None = None,
                predictors: Sequence[str] | None = None, ci: bool = False,
                r2: bool = True, name: str = "paths", label: str = "",
                title: str = "Structural paths (standardized)",
                notes: Sequence[str] = ()) -> Table:  # fmt: skip
    """Standardized regression paths per group side by side, with stars and R².

    Parameters
    ----------
    fits : Fit or mapping of str to Fit
        A (multi-group) structural model, or one fit per group.
    outcomes, predictors : sequence of str, optional
        Keep only these outcomes (``lhs``) / predictors (``rhs``, e.g. ``"ni:et"``).
    ci : bool
        Show the 95% CI of β instead of its SE.
    r2 : bool
        Add R² of each latent outcome as rows at the bottom.

    Returns
    -------
    Table
        Rows ``Predictor → Outcome`` (then ``R² Outcome``); per group β (with stars of
        its delta-method test) and SE or CI.  The CSV is long (``group, outcome,
        predictor, statistic, est, se, pvalue, ci_lower, ci_upper``).

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> fit = semnet.sem("f =~ x1 + x2 + x3\\ng =~ x4 + x5 + x6\\ng ~ f", hs)
    >>> t = paths_table(fit, labels={"f": "Visual", "g": "Textual"})
    >>> [row[0] for row in t.cells()[1]]
    ['Visual → Textual', 'R² Textual']
    """
    panels = _panels(fits)
    tidy = _path_rows(panels, outcomes, predictors)
    if tidy.empty:
        raise OptionError("no regression paths to show: the model has no '~' rows "
                          "(among the outcomes/predictors asked for).")
    pairs = list(dict.fromkeys(zip(tidy["outcome"], tidy["predictor"], strict=True)))
    r2_rows = []
    if r2:
        lvs = set(tidy["outcome"])
        for pname, fit, group in panels:
            rs = _rows_of(fit.r_squared(), group)
            for _, r in rs[rs["name"].isin(lvs)].iterrows():
                r2_rows.append({"group": pname, "outcome": r["name"], "predictor": "",
                                "statistic": "r2", "est": r["r2"]})  # fmt: skip
    tidy = pd.concat([tidy, pd.DataFrame(r2_rows)], ignore_index=True)
    second = "ci" if ci else "se"
    rows = []
    for outcome, predictor in pairs:
        row: dict[str, Any] = {"path": f"{_name(predictor, labels)} → {_name(outcome, labels)}"}
        for pname, _, _ in panels:
            hit = tidy[(tidy["group"] == pname) & (tidy["outcome"] == outcome)
                       & (tidy["predictor"] == predictor) & (tidy["statistic"] == "beta")]
            h = hit.iloc[0] if len(hit) else None
            row[f"{pname}_b"] = (h["est"], h["pvalue"]) if h is not None else (np.nan, np.nan)
            row[f"{pname}_{second}"] = (
                np.nan if h is None else (h["ci_lower"], h["ci_upper"]) if ci else h["se"])
        rows.append(row)
    first_r2 = len(rows)
    for outcome in dict.fromkeys(o for o, _ in pairs):
        if not r2_rows:
            break
        row = {"path": f"R² {_name(outcome, labels)}"}
        for pname, _, _ in panels:
            hit = tidy[(tidy["group"] == pname) & (tidy["outcome"] == outcome)
                       & (tidy["statistic"] == "r2")]
            row[f"{pname}_b"] = (hit["est"].iloc[0], np.nan) if len(hit) else (np.nan, np.nan)
            row[f"{pname}_{second}"] = (np.nan, np.nan) if ci else np.nan
        rows.append(row)
    frame = pd.DataFrame(rows)
    header = {"path": "Path"}
    columns: dict[str, str] = {"path": "text"}
    for pname, _, _ in panels:
        header[f"{pname}_b"] = "β"
        header[f"{pname}_{second}"] = "95% CI" if ci else "SE"
        columns[f"{pname}_b"] = "starred"
        columns[f"{pname}_{second}"] = "interval" if ci else "number"
    note = ("Completely standardized coefficients (β) with delta-method "
            + ("95% confidence intervals" if ci else "standard errors")
            + (r"; R² = variance explained of each outcome construct" if r2_rows else "")
            + f". {method_note(_first_fit(fits))} {sample_note(fits)}")  # fmt: skip
    return Table(name, title, frame, notes=(note, *notes, STAR_NOTE), label=label,
                 header=header, columns=columns, tidy=tidy,
                 spans=_spans([p for p, _, _ in panels], 1, 2),
                 rules=(first_r2,) if len(rows) > first_r2 else ())


def coefficients_table(fit: Any, *, labels: Mapping[str, str] | None = None,
                       outcomes: Sequence[str] | None = None, name: str = "coefficients",
                       label: str = "", title: str = "Regression coefficients",
                       notes: Sequence[str] = ()) -> Table:  # fmt: skip
    """Unstandardized regression coefficients of one fit: b (stars of its z test), SE,
    95% CI and the completely standardized β, from ``fit.estimates()``.

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> fit = semnet.sem("f =~ x1 + x2 + x3\\ng =~ x4 + x5 + x6\\ng ~ f", hs)
    >>> coefficients_table(fit).flat_header()
    ['Path', 'b', 'SE', '95% CI', 'β']
    """
    _check_fit(fit)
    outcomes = _selection("outcomes", outcomes)
    est = fit.estimates()
    reg = est[est["op"] == "~"]
    if outcomes is not None:
        reg = reg[reg["lhs"].isin(outcomes)]
    if reg.empty:
        raise OptionError("no regression paths to show: the model has no '~' rows "
                          "(among the outcomes asked for).")
    frame = pd.DataFrame({
        "path": [f"{_name(r, labels)} → {_name(lhs, labels)}"
                 for lhs, r in zip(reg["lhs"], reg["rhs"], strict=True)],
        "b": list(zip(reg["est"], reg["pvalue"], strict=True)),
        "se": reg["se"].to_numpy(),
        "ci": list(zip(reg["ci_lower"], reg["ci_upper"], strict=True)),
        "beta": reg["std_all"].to_numpy(),
    })
    header = {"path": "Path", "b": "b", "se": "SE", "ci": "95% CI", "beta": "β"}
    columns = {"path": "text", "b": "starred", "ci": "interval"}
    if len(getattr(fit, "groups", ())) > 1:
        # a multi-group fit: name each group's block (its rows repeat the paths)
        group = reg["group"].astype(str).to_numpy()
        frame.insert(0, "group", np.where(np.r_[True, group[1:] != group[:-1]], group, ""))
        header = {"group": "Group", **header}
        columns["group"] = "text"
    note = ("b = unstandardized coefficient with its standard error, z test and Wald 95% "
            "CI; β = completely standardized coefficient.")
    return Table(name, title, frame, notes=(note, *notes, STAR_NOTE), label=label,
                 header=header, columns=columns, tidy=reg.reset_index(drop=True))


# -- mediation and moderation ----------------------------------------------------------------
def _path_codes(path: str) -> list[str]:
    return [p.strip() for p in str(path).split("->")]


def _redundant(tidy: pd.DataFrame) -> pd.Series:
    """``total_indirect`` rows of a cause with a single specific indirect path (they
    repeat that path's row)."""
    group = tidy["group"] if "group" in tidy.columns else pd.Series("", index=tidy.index)
    cause = [_path_codes(p)[0] for p in tidy["path"]]
    key = pd.Series([f"{g}|{c}" for g, c in zip(group, cause, strict=True)], index=tidy.index)
    n_specific = key[tidy["effect"] == "indirect"].value_counts()
    return (tidy["effect"] == "total_indirect") & key.map(n_specific).eq(1)


def indirect_table(delta: pd.DataFrame, bootstrap: pd.DataFrame | None = None, *,
                   labels: Mapping[str, str] | None = None, ci_method: str = "percentile",
                   name: str = "indirect", label: str = "",
                   title: str = "Indirect, direct and total effects",
                   notes: Sequence[str] = ()) -> Table:  # fmt: skip
    """Effects with delta-method and (optionally) bootstrap confidence intervals.

    Parameters
    ----------
    delta : DataFrame
        :func:`semnet.indirect_effects`'s rows (``effect, path, est, se, pvalue,
        ci_lower, ci_upper, std_all``), for one or several causes.
    bootstrap : DataFrame, optional
        ``BootstrapResult.table(ci=ci_method)`` of the same fit bootstrapped with
        ``indirect=`` the same effects: its effect rows (``op == "effect"``) are matched
        on effect kind and path.  Bootstrap the fit the delta-method rows come from, so
        both intervals use the same cases and missing-data treatment.
    ci_method : str
        The bootstrap interval shown (``"percentile"``, ``"bca"``...).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"effect": ["indirect"], "path": ["x -> m -> y"], "est": [0.2],
    ...                   "se": [0.05], "pvalue": [0.0001], "ci_lower": [0.1],
    ...                   "ci_upper": [0.3], "std_all": [0.15]})
    >>> indirect_table(d, labels={"m": "Mediator"}).cells()[1][0][:3]
    ['Indirect', 'X → M → Y', '0.200***']
    """
    tidy = _frame_with(delta, ("effect", "path", "est", "se", "pvalue", "ci_lower", "ci_upper",
                               "std_all"), "delta", "semnet.indirect_effects()").copy()
    if bootstrap is not None:
        _frame_with(bootstrap, ("op", "lhs", "rhs", "boot_se", "n_boot",
                                f"ci_lower_{ci_method}", f"ci_upper_{ci_method}"),
                    "bootstrap", f"BootstrapResult.table(ci={ci_method!r})")
    if "group" in tidy.columns and tidy["group"].isna().all():
        tidy = tidy.drop(columns="group")
    if bootstrap is not None:
        boot = bootstrap[bootstrap["op"] == "effect"].rename(columns={
            "lhs": "effect", "rhs": "path", "boot_se": "boot_se",
            f"ci_lower_{ci_method}": "boot_ci_lower", f"ci_upper_{ci_method}": "boot_ci_upper",
        })[["effect", "path", "boot_se", "boot_ci_lower", "boot_ci_upper", "n_boot"]]
        tidy = tidy.merge(boot, on=["effect", "path"], how="left")
    shown = tidy[~_redundant(tidy)].reset_index(drop=True)
    kinds = {"indirect": "Indirect", "total_indirect": "Total indirect", "direct": "Direct",
             "total": "Total"}
    codes = list(dict.fromkeys(c for p in shown["path"] for c in _path_codes(p)))
    frame = pd.DataFrame({
        "effect": [kinds.get(e, str(e)) for e in shown["effect"]],
        "path": [" → ".join(c.upper() for c in _path_codes(p)) for p in shown["path"]],
        "est": list(zip(shown["est"], shown["pvalue"], strict=True)),
        "se": shown["se"],
        "ci": list(zip(shown["ci_lower"], shown["ci_upper"], strict=True)),
    })
    rules = tuple(i for i in range(1, len(shown)) if _path_codes(shown["path"][i])[0]
                  != _path_codes(shown["path"][i - 1])[0])  # fmt: skip
    header = {"effect": "Effect", "path": "Path", "est": "b", "se": "SE",
              "ci": "95% CI (delta)"}
    columns = {"est": "starred", "ci": "interval", "effect": "text", "path": "text"}
    if bootstrap is not None:
        frame["boot_se"] = shown["boot_se"]
        frame["boot_ci"] = list(zip(shown["boot_ci_lower"], shown["boot_ci_upper"],
                                    strict=True))
        header |= {"boot_se": "Boot SE", "boot_ci": "95% CI (bootstrap)"}
        columns["boot_ci"] = "interval"
    frame["beta"] = shown["std_all"]
    header["beta"] = "β"
    names = "; ".join(f"{c.upper()} = {_name(c, labels)}" for c in codes)
    note = ("b = unstandardized effect with its delta-method SE, z test and Wald 95% CI"
            + (f"; bootstrap SE and {ci_method} 95% CI from case resampling of the same "
               "cases with the same missing-data treatment" if bootstrap is not None
               else "") + "; β = completely standardized effect. Total indirect effects "
            "equal to their single specific indirect effect are not repeated. "
            + names + ".")  # fmt: skip
    return Table(name, title, frame, notes=(note, *notes, STAR_NOTE), label=label,
                 header=header, columns=columns, tidy=tidy, rules=rules)


def simple_slopes_table(slopes: pd.DataFrame, *, focal: str, moderator: str,
                        labels: Mapping[str, str] | None = None,
                        name: str = "simple_slopes", label: str = "", title: str = "",
                        notes: Sequence[str] = ()) -> Table:  # fmt: skip
    """Conditional effects of ``focal`` at values of ``moderator``
    (:func:`semnet.simple_slopes`'s rows: ``at, moderator_value, slope, se, pvalue,
    ci_lower, ci_upper``).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"at": [-1.0, 1.0], "moderator_value": [-0.9, 0.9],
    ...                   "slope": [0.1, 0.5], "se": [0.08, 0.09], "pvalue": [0.2, 1e-6],
    ...                   "ci_lower": [-0.05, 0.3], "ci_upper": [0.25, 0.7]})
    >>> simple_slopes_table(s, focal="x", moderator="w").cells()[1][1][:2]
    ['+1 SD', '0.900']
    """
    def at(v: float) -> str:
        return "Mean" if v == 0 else f"{v:+g} SD"

    _frame_with(slopes, ("at", "moderator_value", "slope", "se", "pvalue", "ci_lower",
                         "ci_upper"), "slopes", "semnet.simple_slopes()")

    frame = pd.DataFrame({
        "at": [at(float(v)) for v in slopes["at"]],
        "value": slopes["moderator_value"],
        "slope": list(zip(slopes["slope"], slopes["pvalue"], strict=True)),
        "se": slopes["se"],
        "pvalue": slopes["pvalue"],
        "ci": list(zip(slopes["ci_lower"], slopes["ci_upper"], strict=True)),
    })
    mod = _name(moderator, labels)
    header = {"at": f"{mod} at", "value": "Value", "slope": "Simple slope", "se": "SE",
              "pvalue": "p", "ci": "95% CI"}
    title = title or f"Effect of {_name(focal, labels)} at levels of {mod}"
    return Table(name, title, frame, notes=(*notes, STAR_NOTE), label=label, header=header,
                 columns={"slope": "starred", "ci": "interval", "at": "text"},
                 tidy=slopes.reset_index(drop=True))
