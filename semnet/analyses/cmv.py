"""Common-method-variance (CMV) checks: Harman's single factor, the unmeasured latent
method construct (ULMC) and Lindell & Whitney's marker variable.

What reviewers of survey research ask for (Podsakoff et al. 2003; Chang, van
Witteloostuijn & Eden 2010): evidence that a common method (one respondent answering
every item) does not drive the relationships.  Each check starts from the hypothesized
measurement model (lavaan syntax with ``=~`` lines) and the data:

- :func:`harman`: the share of variance of the first unrotated principal component of
  the items, and the one-factor CFA compared with the hypothesized CFA.  The test is
  insensitive (a method factor rarely explains most of the variance), so it can only
  reveal a severe problem, never rule one out.
- :func:`ulmc`: the hypothesized model plus a method factor on every item, uncorrelated
  with the traits, variance 1; the change in fit, the method loadings and the share of
  item variance they explain, and the change in trait loadings and correlations.
- :func:`marker`: correlations among the items adjusted for the correlation of a
  theoretically unrelated marker variable with them (its smallest positive correlation
  with an item, ``r_M``), ``r_A = (r - r_M) / (1 - r_M)``,
  tested with ``t = r_A / sqrt((1 - r_A^2) / (n - 3))`` on ``n - 3`` df (Lindell &
  Whitney 2001), and the same at larger ``r_M`` (the 75th, 95th and 99th percentiles of
  its sampling distribution by Fisher's z; Malhotra, Kim & Patil 2006).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from semnet.analyses.compare import compare
from semnet.api import sem
from semnet.data.moments import group_labels, numeric_data
from semnet.errors import DataError, ModelSpecificationError
from semnet.pipeline.specify import read_model
from semnet.results.fit import Fit
from semnet.syntax import parse_model

#: the name of the method factor ULMC adds (made unique against the model's names)
METHOD_FACTOR = "method"
#: Malhotra, Kim & Patil's (2006) percentiles of the marker correlation
SENSITIVITY = (0.75, 0.95, 0.99)


def _measurement(model: str | Path) -> tuple[str, dict[str, list[str]]]:
    """The model text and its factors' indicators (from its ``=~`` lines)."""
    text = read_model(model)
    factors: dict[str, list[str]] = {}
    for r in parse_model(text).relations:
        if r.op == "=~":
            factors.setdefault(r.lhs, []).append(r.rhs)
    if not factors:
        raise ModelSpecificationError(
            "the model has no '=~' lines: the CMV checks need the measurement model."
        )
    return text, factors


def _items(factors: dict[str, list[str]]) -> list[str]:
    return list(dict.fromkeys(v for vs in factors.values() for v in vs if v not in factors))


def _frames(data: pd.DataFrame, items: Sequence[str], group: str | None) -> dict[str, np.ndarray]:
    """Complete cases of the items, pooled (``""``) and per group."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, not {type(data).__name__}.")
    missing = [v for v in items if v not in data.columns]
    if missing:
        raise DataError(f"column(s) {', '.join(map(repr, missing))} are not in the data.")
    # the fits' checks: numeric columns (no text read as missing), the group column
    values = numeric_data(data, list(items), group).values
    complete = ~np.isnan(values).any(axis=1)
    out = {"": values[complete]}
    if group is not None:
        labels = group_labels(data, group)
        text = np.array([str(v) for v in data[group].to_numpy()], dtype=object)
        for label in labels:
            out[label] = values[complete & (text == label)]
    for label, x in out.items():
        constant = np.ptp(x, axis=0) == 0 if len(x) else []
        if np.any(constant):
            name = items[int(np.argmax(constant))]
            raise DataError(
                f"the column {name!r} is constant among the complete cases{_where(label)}; "
                "its correlations are undefined. Drop it (or, for a marker, choose another "
                "column)."
            )
    return out


def first_component_share(x: np.ndarray) -> float:
    """The share of the items' total variance on the first unrotated principal component
    of their correlation matrix (its largest eigenvalue over the number of items)."""
    if x.shape[0] < 3:
        raise DataError("fewer than three complete cases for the principal components.")
    eig = np.linalg.eigvalsh(np.corrcoef(x, rowvar=False))
    return float(eig[-1] / x.shape[1])


@dataclass(frozen=True)
class HarmanResult:
    """Harman's single-factor test.

    Attributes
    ----------
    first_component_share : float
        Share of the items' variance on the first unrotated principal component (pooled
        complete cases); above .50 is the usual warning sign.
    shares : Series
        The same per group (and ``"pooled"``).
    fit : Fit
        The one-factor CFA of all items.
    hypothesized : Fit
        The hypothesized measurement model.
    compare : DataFrame
        :func:`semnet.compare` of the two (the one-factor model is nested in it).
    note : str
        How to read the result.
    """

    first_component_share: float
    shares: pd.Series
    fit: Fit
    hypothesized: Fit
    compare: pd.DataFrame
    note: str


def harman(
    model: str | Path, data: pd.DataFrame, group: str | None = None, **fit_args: Any
) -> HarmanResult:
    """Harman's single-factor test: the first unrotated component's share of variance and
    the one-factor CFA against the hypothesized model.

    Parameters
    ----------
    model : str or path
        The hypothesized measurement model (lavaan syntax).
    data : DataFrame
    group : str, optional
        Fit both models per group (configural) and report the share per group.
    **fit_args
        Passed to :func:`semnet.sem` for both models (``estimator=``, ``missing=``...).

    Returns
    -------
    HarmanResult

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> m = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9"
    >>> h = semnet.harman(m, hs)
    >>> round(h.first_component_share, 3)
    0.357
    """
    text, factors = _measurement(model)
    items = _items(factors)
    frames = _frames(data, items, group)
    shares = pd.Series(
        {("pooled" if k == "" else k): first_component_share(x) for k, x in frames.items()},
        name="first_component_share",
    )
    hypothesized = sem(text, data, group=group, **fit_args)
    one = sem(f"{_unique('common', factors, data)} =~ " + " + ".join(items), data, group=group,
              **fit_args)  # fmt: skip
    table = compare(hypothesized, one, names=["hypothesized", "one_factor"])
    share = float(shares["pooled"])
    note = (
        f"The first unrotated component explains {share:.1%} of the items' variance "
        f"({'above' if share > 0.5 else 'below'} the usual 50% threshold). Harman's test is "
        "insensitive: a result below 50% does not rule out common method variance; see "
        "semnet.ulmc and semnet.marker."
    )
    return HarmanResult(share, shares, one, hypothesized, table, note)


def _unique(name: str, factors: dict[str, list[str]], data: Any = None) -> str:
    """``name``, or ``name_``, ``name__``, ... : not a variable of the model nor a column
    of ``data`` (lavaan refuses a latent variable named like a column)."""
    taken = set(factors) | {v for vs in factors.values() for v in vs}
    taken |= set(getattr(data, "columns", ()))
    while name in taken:
        name += "_"
    return name


@dataclass(frozen=True)
class ULMCResult:
    """The unmeasured latent method construct.

    Attributes
    ----------
    fit : Fit
        The hypothesized model with the method factor.
    trait_fit : Fit
        The hypothesized model without it.
    compare : DataFrame
        :func:`semnet.compare` of the two.
    method_loadings : DataFrame
        Standardized (``std_all``) loadings of the items on the method factor
        (``item, group, loading, se, pvalue``).
    method_variance_share : float
        The mean squared standardized method loading: the average share of item variance
        due to the method factor (over items and groups).
    changes : DataFrame
        Standardized trait loadings and factor correlations with and without the method
        factor (``lhs, op, rhs, group, without, with, change``).
    """

    fit: Fit
    trait_fit: Fit
    compare: pd.DataFrame
    method_loadings: pd.DataFrame
    method_variance_share: float
    changes: pd.DataFrame


def ulmc_syntax(model: str | Path, data: Any = None) -> str:
    """The hypothesized model plus a method factor loading on every item, with variance
    1 and uncorrelated with the traits (the first method loading is freed); the method
    factor is named so that it is not a column of ``data``."""
    text, factors = _measurement(model)
    items = _items(factors)
    method = _unique(METHOD_FACTOR, factors, data)
    lines = [
        text.rstrip(),
        f"{method} =~ NA*{items[0]}" + "".join(f" + {v}" for v in items[1:]),
        f"{method} ~~ 1*{method}",
        f"{method} ~~ " + " + ".join(f"0*{f}" for f in factors),
    ]
    return "\n".join(lines) + "\n"


def ulmc(
    model: str | Path, data: pd.DataFrame, group: str | None = None, **fit_args: Any
) -> ULMCResult:
    """The unmeasured latent method construct (ULMC; Podsakoff et al. 2003): a method
    factor on every item, orthogonal to the traits, variance 1.

    Parameters
    ----------
    model : str or path
        The hypothesized measurement model (lavaan syntax).
    data : DataFrame
    group : str, optional
        Fit per group (configural).
    **fit_args
        Passed to :func:`semnet.sem` for both models.

    Returns
    -------
    ULMCResult

    Examples
    --------
    >>> import semnet
    >>> from semnet.studies import network_involvement
    >>> model = network_involvement.model_files()["measurement"]
    >>> u = semnet.ulmc(model, semnet.datasets.network_involvement())
    >>> u.fit.converged, round(u.method_variance_share, 3)
    (True, 0.026)
    """
    text, factors = _measurement(model)
    method = _unique(METHOD_FACTOR, factors, data)
    trait = sem(text, data, group=group, **fit_args)
    with_method = sem(ulmc_syntax(text, data), data, group=group, **fit_args)
    table = compare(trait, with_method, names=["traits", "traits_and_method"])
    est = with_method.estimates()
    loads = est[(est["lhs"] == method) & (est["op"] == "=~")]
    std = with_method.standardized().loc[loads.index]
    method_loadings = pd.DataFrame({
        "item": loads["rhs"].to_numpy(), "group": loads["group"].to_numpy(),
        "loading": loads["std_all"].to_numpy(),
        "se": std["se"].to_numpy(), "pvalue": std["pvalue"].to_numpy(),
    })  # fmt: skip
    share = float(np.mean(method_loadings["loading"].to_numpy() ** 2))
    return ULMCResult(
        with_method, trait, table, method_loadings, share, _changes(trait, with_method, factors)
    )


def _changes(trait: Fit, with_method: Fit, factors: dict[str, list[str]]) -> pd.DataFrame:
    """Standardized trait loadings and trait correlations without and with the method
    factor."""
    keys = ["lhs", "op", "rhs", "group"]
    a = trait.estimates()
    b = with_method.estimates()

    def pick(est: pd.DataFrame) -> pd.DataFrame:
        traits = set(factors)
        loading = (est["op"] == "=~") & est["lhs"].isin(traits)
        corr = (est["op"] == "~~") & est["lhs"].isin(traits) & est["rhs"].isin(traits) & (
            est["lhs"] != est["rhs"]
        )
        return est.loc[loading | corr, [*keys, "std_all"]]

    merged = pick(a).merge(pick(b), on=keys, suffixes=("_without", "_with"), how="left")
    merged = merged.rename(columns={"std_all_without": "without", "std_all_with": "with"})
    merged["change"] = merged["with"] - merged["without"]
    return merged.reset_index(drop=True)


@dataclass(frozen=True)
class MarkerResult:
    """Lindell & Whitney's (2001) marker-variable adjustment.

    Attributes
    ----------
    r_m : float
        The marker correlation used (pooled).
    correlations : DataFrame
        One row per pair of items (and group): ``group, var1, var2, n, r, r_adjusted,
        t, df, pvalue``, and ``r_adjusted_75``, ``_95``, ``_99`` (Malhotra et al.'s
        sensitivity analysis).
    """

    r_m: float
    correlations: pd.DataFrame


def adjusted_correlation(r: np.ndarray, r_m: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Lindell & Whitney's adjusted correlation ``(r - r_M) / (1 - r_M)`` and its
    two-sided p-value from ``t = r_A / sqrt((1 - r_A^2) / (n - 3))`` on ``n - 3`` df."""
    r_a = (np.asarray(r, dtype=float) - r_m) / (1 - r_m)
    df = n - 3
    t = r_a / np.sqrt((1 - r_a * r_a) / df)
    return r_a, 2 * stats.t.sf(np.abs(t), df)


def marker_correlation(r: np.ndarray) -> float:
    """Lindell & Whitney's estimate of the method's share of a correlation: the smallest
    positive correlation of the marker with an item (a method cannot lower a
    correlation, so 0 when none is positive)."""
    positive = np.asarray(r, dtype=float)
    positive = positive[positive > 0]
    return float(positive.min()) if positive.size else 0.0


def marker(
    model: str | Path,
    data: pd.DataFrame,
    marker: str,
    group: str | None = None,
    r_m: float | None = None,
) -> MarkerResult:
    """Lindell & Whitney's (2001) marker-variable adjustment of the items' correlations,
    with Malhotra, Kim & Patil's (2006) sensitivity analysis.

    Parameters
    ----------
    model : str or path
        The hypothesized measurement model (its items are adjusted).
    data : DataFrame
    marker : str
        A column that is theoretically unrelated to the items (not an item of the model).
    group : str, optional
        Adjust within each group (with that group's marker correlation) as well.
    r_m : float, optional
        The marker correlation; default the smallest positive correlation of the marker
        with an item (Lindell & Whitney's ``r_S``; 0, no adjustment, when none is
        positive), per group.

    Returns
    -------
    MarkerResult

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> res = semnet.marker("visual =~ x1 + x2 + x3", hs, marker="ageyr")
    >>> list(res.correlations.columns[:6])
    ['group', 'var1', 'var2', 'n', 'r', 'r_adjusted']
    """
    _, factors = _measurement(model)
    items = _items(factors)
    if marker in items or marker in factors:
        raise ModelSpecificationError(
            f"the marker {marker!r} is a variable of the model; a marker must be "
            "theoretically unrelated to the model's constructs."
        )
    frames = _frames(data, [*items, marker], group)
    rows = []
    pooled_rm = float("nan")
    for label, x in frames.items():
        n = x.shape[0]
        if n < 5:
            raise DataError(f"fewer than five complete cases{_where(label)}.")
        corr = np.corrcoef(x, rowvar=False)
        rm = marker_correlation(corr[-1, :-1]) if r_m is None else float(r_m)
        if label == "":
            pooled_rm = rm
        if not -1 < rm < 1:
            raise DataError(f"the marker correlation must be between -1 and 1, not {rm}.")
        i, j = np.triu_indices(len(items), k=1)
        r = corr[i, j]
        r_a, p = adjusted_correlation(r, rm, n)
        row = {
            "group": label or None, "var1": np.array(items)[i], "var2": np.array(items)[j],
            "n": n, "r": r, "r_adjusted": r_a, "t": r_a / np.sqrt((1 - r_a**2) / (n - 3)),
            "df": n - 3, "pvalue": p,
        }  # fmt: skip
        z = np.arctanh(rm)
        for q in SENSITIVITY:
            upper = float(np.tanh(z + special.ndtri(q) / np.sqrt(n - 3)))
            row[f"r_adjusted_{round(q * 100)}"] = (r - upper) / (1 - upper)
        rows.append(pd.DataFrame(row))
    return MarkerResult(pooled_rm, pd.concat(rows, ignore_index=True))


@dataclass(frozen=True)
class CFAMarkerResult:
    """The CFA marker technique (Williams, Hartman & Cavazotte 2010).

    Attributes
    ----------
    fits : dict
        ``"cfa"`` (all factors and the latent marker correlated), ``"baseline"`` (the
        marker orthogonal, its loadings and error variances fixed at the CFA's),
        ``"method_c"`` (plus equal marker loadings on every item), ``"method_u"``
        (unequal), ``"method_r"`` (the chosen method model with the trait covariances
        fixed at the baseline's).
    chosen : str
        ``"method_c"`` or ``"method_u"``: Method-U when it fits significantly better.
    tests : DataFrame
        The model comparisons (``comparison, chisq_diff, df_diff, pvalue``): baseline
        vs Method-C (is there method variance?), Method-C vs Method-U (is it equal for
        all items?), the chosen model vs Method-R (does it bias the trait correlations?).
    method_loadings : DataFrame
        Standardized loadings of the items on the marker factor in the chosen model.
    """

    fits: dict[str, Fit]
    chosen: str
    tests: pd.DataFrame
    method_loadings: pd.DataFrame


def _values(fit: Fit, op: str, lhs: str, rhs: str) -> list[float]:
    """The estimate of one parameter in every group."""
    est = fit.estimates(standardized=False)
    rows = est[(est["op"] == op) & (est["lhs"] == lhs) & (est["rhs"] == rhs)]
    return rows["est"].tolist()


def _fixed(values: list[float], name: str) -> str:
    """``value*name`` (one group) or ``c(v1, v2, ...)*name``, at full precision."""
    text = [f"{v:.17g}" for v in values]
    return f"{text[0]}*{name}" if len(text) == 1 else f"c({', '.join(text)})*{name}"


def _labels(prefix: str, ngroups: int, name: str) -> str:
    if ngroups == 1:
        return f"{prefix}*{name}"
    return f"c({', '.join(f'{prefix}{g + 1}' for g in range(ngroups))})*{name}"


def cfa_marker(
    model: str | Path,
    data: pd.DataFrame,
    marker_items: Sequence[str],
    group: str | None = None,
    alpha: float = 0.05,
    **fit_args: Any,
) -> CFAMarkerResult:
    """The CFA marker technique (Williams, Hartman & Cavazotte 2010) with a latent marker
    measured by ``marker_items``.

    Parameters
    ----------
    model : str or path
        The hypothesized measurement model.
    data : DataFrame
    marker_items : sequence of str
        At least two items of a marker construct (theoretically unrelated to the
        model's constructs, measured the same way); not items of the model.
    group : str, optional
        Fit per group (configural); Method-C's equal loadings are equal within a group.
    alpha : float
        Level of the chi-square difference tests that choose Method-U over Method-C.
    **fit_args
        Passed to :func:`semnet.sem`.

    Returns
    -------
    CFAMarkerResult
    """
    text, factors = _measurement(model)
    items = _items(factors)
    marker_items = list(marker_items)
    overlap = [v for v in marker_items if v in items or v in factors]
    if overlap:
        raise ModelSpecificationError(
            f"marker item(s) {', '.join(map(repr, overlap))} are variables of the model; "
            "the marker must be theoretically unrelated to the model's constructs."
        )
    if len(marker_items) < 2:
        raise ModelSpecificationError(
            "the CFA marker technique needs a latent marker with at least two items; for "
            "a single marker variable use semnet.marker."
        )
    mk = _unique("marker", factors, data)
    run = dict(group=group, **fit_args)
    cfa_fit = sem(text + f"\n{mk} =~ " + " + ".join(marker_items) + "\n", data, **run)
    ng = cfa_fit.partable.ngroups
    fixed = [
        f"{mk} =~ " + " + ".join(_fixed(_values(cfa_fit, "=~", mk, v), v) for v in marker_items),
        *[f"{v} ~~ {_fixed(_values(cfa_fit, '~~', v, v), v)}" for v in marker_items],
        f"{mk} ~~ " + " + ".join(f"0*{f}" for f in factors),
    ]
    baseline_text = text + "\n" + "\n".join(fixed) + "\n"
    texts = {
        "baseline": baseline_text,
        "method_c": baseline_text + f"{mk} =~ "
        + " + ".join(_labels("cmv_eq", ng, v) for v in items) + "\n",
        "method_u": baseline_text + f"{mk} =~ " + " + ".join(items) + "\n",
    }
    fits = {"cfa": cfa_fit, **{k: sem(t, data, **run) for k, t in texts.items()}}
    c_vs_u = compare(fits["method_c"], fits["method_u"])
    chosen = "method_u" if c_vs_u["pvalue"].iloc[-1] < alpha else "method_c"
    pairs = [(a, b) for i, a in enumerate(factors) for b in list(factors)[i + 1 :]]
    base_est = fits["baseline"]
    fix_cov = [f"{a} ~~ {_fixed(_values(base_est, '~~', a, b), b)}" for a, b in pairs]
    fits["method_r"] = sem(texts[chosen] + "\n".join(fix_cov) + "\n", data, **run)
    tests = []
    for name, (a, b) in {
        "baseline vs method_c": ("baseline", "method_c"),
        "method_c vs method_u": ("method_c", "method_u"),
        f"{chosen} vs method_r": (chosen, "method_r"),
    }.items():
        row = compare(fits[a], fits[b]).iloc[-1]
        tests.append({"comparison": name, "chisq_diff": row["chisq_diff"],
                      "df_diff": row["df_diff"], "pvalue": row["pvalue"]})  # fmt: skip
    est = fits[chosen].estimates()
    loads = est[(est["lhs"] == mk) & (est["op"] == "=~") & est["rhs"].isin(items)]
    method_loadings = loads[["rhs", "group", "std_all"]].rename(
        columns={"rhs": "item", "std_all": "loading"}
    ).reset_index(drop=True)
    return CFAMarkerResult(fits, chosen, pd.DataFrame(tests), method_loadings)


def _where(label: str) -> str:
    return f" in group {label!r}" if label else ""
