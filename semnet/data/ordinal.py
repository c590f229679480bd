"""Ordinal items: thresholds, polychoric and polyserial correlations and their asymptotic
covariance (the first step of WLSMV), as lavaan 0.6.14's ``lavCor()``.

An ordinal item with categories ``1 < 2 < ... < K`` is read as a cut of a standard
normal latent response at the thresholds ``tau_1 < ... < tau_{K-1}``; the thresholds
are the normal quantiles of the cumulative proportions (the maximum-likelihood
estimates of the univariate probit model without covariates).  A continuous variable
enters with its sample mean and variance (divisor N).  Each correlation is then
estimated by maximum likelihood from its pair of variables with those univariate
statistics held fixed (the "two-step" estimator, Olsson 1979; Olsson, Drasgow & Dorans
1982): polychoric for two items, polyserial for an item and a continuous variable,
Pearson for two continuous variables (see :mod:`semnet.data.ordinal_fit` for lavaan's
bounds and empty-cell rules).  Where the maximum of a polychoric likelihood is near 1,
lavaan 0.6.14's optimizer can stop at its bound 0.999 with a lower likelihood (tables
with a nearly empty cell); semnet returns the maximum.

With ``missing="pairwise"`` the univariate statistics come from each variable's observed
cases and each correlation from the pair's complete cases; the asymptotic covariance
(:mod:`semnet.data.ordinal_gamma`) then scores every case on the likelihoods it enters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from semnet.data.moments import group_labels
from semnet.data.ordinal_fit import (
    BOUND_MIXED,
    BOUND_ORDINAL,
    ContinuousSet,
    MixedSet,
    edges,
    maximize_correlations,
    pair_tables,
    polychoric_pairs,
)
from semnet.data.ordinal_gamma import Univariate, asymptotic_covariance
from semnet.errors import DataError

#: most categories an item may have before it should be treated as continuous
MAX_CATEGORIES = 20
MISSING = ("listwise", "pairwise")


def _empty(name: str) -> pd.Series:
    return pd.Series([], dtype=float, name=name)


@dataclass(frozen=True)
class Polychoric:
    """Two-step correlations of ordinal (and continuous) variables, their univariate
    statistics, and the asymptotic covariance of them all.

    Attributes
    ----------
    cor : DataFrame
        The correlation matrix (variables x variables, in the data's column order):
        polychoric for two ordinal items, polyserial for an item and a continuous
        variable, Pearson for two continuous variables (lavaan's ``lavCor``).
    thresholds : Series
        The ordinal items' thresholds, indexed ``"item|t1"``, ``"item|t2"``, ... as
        lavaan's threshold rows.
    nobs : int
        Cases used: complete on every variable (listwise), or observed on at least one
        (pairwise).
    gamma : DataFrame
        ``N`` times the asymptotic covariance matrix of ``statistics`` (lavaan's
        ``lavInspect(fit, "gamma")``, same order and labels) from Muthén's (1984) casewise
        scores.  Its diagonal inverted is the weight matrix of DWLS.
    means, variances : Series
        The continuous variables' means and variances (divisor N; empty without
        continuous variables).
    statistics : Series
        The sample statistics in lavaan's order (its ``lavInspect(fit, "wls.obs")``): the
        thresholds of each item and, for a continuous variable, minus its mean (labelled
        ``"x~1"``; lavaan's sign), in variable order; the continuous variables' variances
        (``"x~~x"``); then every pair ``(2, 1), (3, 1), ..., (3, 2), ...`` labelled
        ``"x1~~x2"``: the correlation of two items, else the covariance
        (correlation times the continuous variables' standard deviations).
    ordered : tuple of str
        The ordinal variables.
    pair_nobs : DataFrame
        Cases observed on both variables of each pair (all ``nobs`` under listwise).
    """

    cor: pd.DataFrame
    thresholds: pd.Series
    nobs: int
    gamma: pd.DataFrame
    means: pd.Series = field(default_factory=lambda: _empty("mean"))
    variances: pd.Series = field(default_factory=lambda: _empty("variance"))
    statistics: pd.Series = field(default_factory=lambda: _empty("statistic"))
    ordered: tuple[str, ...] = ()
    pair_nobs: pd.DataFrame = field(default_factory=pd.DataFrame)


def ordinal_item(column: pd.Series, name: str) -> tuple[np.ndarray, list[object]]:
    """An ordinal column as category numbers ``0 .. K-1`` (NaN for missing) and the
    observed categories in order: an ordered Categorical by its category order, numbers
    (whole, not negative) by their sorted values.

    Examples
    --------
    >>> import pandas as pd
    >>> from semnet.data.ordinal import ordinal_item
    >>> ordinal_item(pd.Series([3, 1, None, 3]), "q1")
    (array([ 1.,  0., nan,  1.]), [1.0, 3.0])
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        if not column.cat.ordered:
            raise DataError(
                f"column {name!r} is an unordered Categorical: its categories have no "
                f"order to read. Make it ordered (df[{name!r}].cat.reorder_categories([...], "
                f"ordered=True)) or pass its codes (df[{name!r}].cat.codes, with -1 set to "
                "missing) if they are in order."
            )
        raw = column.cat.codes.to_numpy().astype(float)
        raw[raw < 0] = np.nan
        present = np.unique(raw[~np.isnan(raw)])
        labels = [column.cat.categories[int(c)] for c in present]
    else:
        values = pd.to_numeric(column, errors="coerce")
        bad = column.notna() & values.isna()
        if bad.any():
            raise DataError(
                f"the ordinal column {name!r} has text values (e.g. {column[bad].iloc[0]!r}); "
                f"make it an ordered Categorical (pd.Categorical(df[{name!r}], "
                "categories=[...in order...], ordered=True)) or recode it as whole numbers "
                "(for a Categorical: .cat.codes)."
            )
        raw = values.to_numpy(dtype=float, na_value=np.nan)
        seen = raw[~np.isnan(raw)]
        wrong = seen[(seen < 0) | (seen != np.round(seen))]
        if len(wrong):
            raise DataError(
                f"the ordinal column {name!r} has the value {wrong[0]:g}; ordinal items are "
                "coded as whole numbers 0, 1, 2, ... (or 1, 2, 3, ...) in the order of the "
                "categories, or as an ordered pandas Categorical. Recode it, or leave it "
                "out of ordered= to treat it as continuous."
            )
        present = np.unique(seen)
        labels = [float(v) for v in present]
    if len(present) > MAX_CATEGORIES:
        raise DataError(
            f"the ordinal item {name!r} has {len(present)} categories; with more than "
            f"{MAX_CATEGORIES} treat it as continuous (leave it out of ordered=)."
        )
    out = np.full(raw.shape, np.nan)
    observed = ~np.isnan(raw)
    out[observed] = np.searchsorted(present, raw[observed])
    return out, labels


def item_codes(column: pd.Series, name: str) -> np.ndarray:
    """An ordinal column as category numbers ``0 .. K-1`` (NaN for missing); see
    :func:`ordinal_item`."""
    return ordinal_item(column, name)[0]


def thresholds(codes: np.ndarray, name: str, where: str = "") -> np.ndarray:
    """The thresholds of one item (category numbers ``0 .. K-1``; missing values are
    skipped): normal quantiles of the cumulative proportions; ``where`` (e.g. " in group
    'A'") completes an error message."""
    seen = codes[~np.isnan(codes)].astype(int)
    counts = np.bincount(seen, minlength=int(seen.max()) + 1 if len(seen) else 1)
    observed = np.flatnonzero(counts)
    if len(observed) < 2:
        raise DataError(
            f"the ordinal item {name!r} has only one observed category{where}; it carries "
            "no information: drop it from the model (or from that group)."
        )
    if len(counts) > MAX_CATEGORIES:
        raise DataError(
            f"the item {name!r} has {len(counts)} categories{where}; with more than "
            f"{MAX_CATEGORIES} treat it as continuous (leave it out of ordered=)."
        )
    return special.ndtri(np.cumsum(counts)[:-1] / counts.sum())


def pair_correlation(freq: np.ndarray, ta: np.ndarray, tb: np.ndarray) -> float:
    """The two-step polychoric correlation of a two-way table ``freq`` with the
    thresholds ``ta`` (rows) and ``tb`` (columns) held fixed.

    Examples
    --------
    >>> import numpy as np
    >>> from semnet.data.ordinal import pair_correlation
    >>> round(pair_correlation(np.array([[40, 10], [10, 40]]), np.zeros(1), np.zeros(1)), 6)
    0.809017
    """
    return float(polychoric_pairs([np.asarray(freq)], [ta], [tb])[0])


def polychoric(
    data: pd.DataFrame,
    ordered: Sequence[str] | bool | None = None,
    group: str | None = None,
    missing: str = "listwise",
) -> Polychoric | dict[str, Polychoric]:
    """Polychoric (and polyserial) correlations and thresholds, as lavaan's
    ``lavCor(data, ordered = ..., missing = ...)`` (two-step estimates).

    Parameters
    ----------
    data : DataFrame
        The variables (never modified).
    ordered : sequence of str, True or None
        The ordinal columns.  ``None`` or ``True``: every column but ``group`` is ordinal.
        A list: the named columns and any ordered Categorical are ordinal; the other
        numeric columns are continuous (polyserial correlations with the items, Pearson
        among themselves).  Ordered Categoricals are read in their category order,
        numbers (whole, not negative) in their sorted order.
    group : str, optional
        A grouping column: the statistics of each group, with the categories of the
        whole sample (a category that is empty in one group is an error).
    missing : {"listwise", "pairwise"}
        ``"listwise"`` uses the cases complete on every variable; ``"pairwise"`` the
        thresholds, means and variances of each variable's observed cases and each
        correlation from the pair's complete cases.

    Returns
    -------
    Polychoric or dict
        ``.cor``, ``.thresholds``, ``.nobs``, ``.gamma``, ``.means``, ``.variances``,
        ``.statistics``, ``.ordered``, ``.pair_nobs``; with ``group``, a dict of them by
        group label.

    Examples
    --------
    >>> import pandas as pd
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> items = hs[["x1", "x2", "x3"]].apply(lambda c: pd.cut(c, 4, labels=False))
    >>> pc = semnet.polychoric(items)
    >>> pc.cor.shape, len(pc.thresholds)
    ((3, 3), 9)
    >>> mixed = items.assign(x7=hs["x7"])  # x7 continuous: polyserial with the items
    >>> semnet.polychoric(mixed, ordered=["x1", "x2", "x3"]).gamma.shape
    (17, 17)
    """
    names, is_ord = _variables(data, ordered, group)
    if missing not in MISSING:
        raise DataError(f"missing={missing!r} is not available for ordinal data; use "
                        f"one of {', '.join(map(repr, MISSING))}.")
    columns, labels = [], []
    for n, o in zip(names, is_ord, strict=True):
        if o:
            codes, cats = ordinal_item(data[n], n)
            columns.append(codes)
            labels.append(cats)
        else:
            numbers = pd.to_numeric(data[n], errors="coerce")
            columns.append(numbers.to_numpy(dtype=float, na_value=np.nan))
            labels.append(None)
    values = np.column_stack(columns)
    seen = ~np.isnan(values)
    keep = seen.all(axis=1) if missing == "listwise" else seen.any(axis=1)
    values, labels = _renumber(values[keep], labels)
    if group is None:
        return _statistics(values, names, is_ord, "")
    text = np.array([str(v) for v in data[group].to_numpy()], dtype=object)[keep]
    out = {}
    for label in group_labels(data, group):
        rows = text == label
        _check_categories(values[rows], names, labels, label)
        out[label] = _statistics(values[rows], names, is_ord, label)
    return out


def _variables(
    data: pd.DataFrame, ordered: Sequence[str] | bool | None, group: str | None
) -> tuple[list[str], list[bool]]:
    """The variables (every column but ``group``) and which of them are ordinal."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, not {type(data).__name__}.")
    if group is not None and group not in data.columns:
        raise DataError(f"the group column {group!r} is not in the data.")
    names = [c for c in data.columns if c != group]
    if ordered is None or ordered is True:
        named = set(names)
    elif isinstance(ordered, str):
        named = {ordered}
    elif isinstance(ordered, bool):
        raise DataError("ordered=False: name the ordinal columns in ordered=[...].")
    else:
        named = set(ordered)
    absent = sorted(map(str, named - set(data.columns)))
    if absent:
        raise DataError(f"column(s) {', '.join(map(repr, absent))} in ordered= are not in "
                        "the data.")
    if group is not None and group in named:
        raise DataError(f"the group column {group!r} is also listed as an item.")
    is_ord = []
    for n in names:
        col = data[n]
        ord_cat = isinstance(col.dtype, pd.CategoricalDtype) and col.cat.ordered
        if n not in named and not ord_cat and not pd.api.types.is_numeric_dtype(col):
            raise DataError(
                f"column {n!r} is neither numeric nor an ordered Categorical: name it in "
                "ordered= if it is an ordinal item (recoded as whole numbers, e.g. "
                ".cat.codes, or an ordered Categorical), or leave it out of the data."
            )
        is_ord.append(n in named or ord_cat)
    if not any(is_ord):
        raise DataError("no ordinal columns: pass ordered= with the item names.")
    return names, is_ord


def _renumber(values: np.ndarray, labels: list) -> tuple[np.ndarray, list]:
    """Number each item's categories that remain after deleting cases ``0 .. K-1``; the
    items' category labels to match."""
    out = values.copy()
    kept = []
    for i, cats in enumerate(labels):
        if cats is None:
            kept.append(None)
            continue
        col = values[:, i]
        seen = ~np.isnan(col)
        present, out[seen, i] = np.unique(col[seen], return_inverse=True)
        kept.append([cats[int(k)] for k in present])
    return out, kept


def _check_categories(values: np.ndarray, names: list[str], labels: list,
                      label: str) -> None:
    """Every category of every item must occur in the group (else its thresholds are not
    comparable across groups)."""
    for i, cats in enumerate(labels):
        if cats is None:
            continue
        col = values[:, i]
        counts = np.bincount(col[~np.isnan(col)].astype(int), minlength=len(cats))
        if (counts == 0).any():
            empty = [cats[k] for k in np.flatnonzero(counts == 0)]
            shown = ", ".join(f"{c:g}" if isinstance(c, float) else repr(c) for c in empty)
            freq = ", ".join(
                f"{c:g}: {k}" if isinstance(c, float) else f"{c!r}: {k}"
                for c, k in zip(cats, counts, strict=True)
            )
            raise DataError(
                f"the category {shown} of the item {names[i]!r} is empty in group "
                f"{label!r} (frequencies {{{freq}}}), though other groups use it: its "
                "thresholds cannot be estimated there. Merge it with a neighbouring "
                "category in every group (e.g. df[item].replace(...)), or drop the item."
            )


def _statistics(values: np.ndarray, names: list[str], is_ord: list[bool],
                label: str) -> Polychoric:
    """The two-step statistics of one group's cases ``values`` (category numbers of the
    items, values of the continuous variables, NaN for missing)."""
    where = f" in group {label!r}" if label else ""
    n, p = values.shape
    if n < 2:
        raise DataError(f"fewer than two usable cases{where}.")
    uni = _univariate(values, names, is_ord, where)
    seen = (~np.isnan(values)).astype(float)
    together = (seen.T @ seen).astype(int)
    pairs = [(i, j) for j in range(p) for i in range(j + 1, p)]
    for i, j in pairs:
        if together[i, j] < 2:
            raise DataError(
                f"{names[i]!r} and {names[j]!r} are observed together in "
                f"{together[i, j]} case(s){where}: their correlation cannot be estimated."
            )
    cor = _correlations(values, uni, pairs)
    gamma = asymptotic_covariance(values, uni, cor, pairs)
    th_index = [f"{nm}|t{k + 1}" for nm, t in zip(names, uni.taus, strict=True)
                if t is not None for k in range(len(t))]
    slots, slot_values = [], []
    for i, (nm, t) in enumerate(zip(names, uni.taus, strict=True)):
        slots += [f"{nm}~1"] if t is None else [f"{nm}|t{k + 1}" for k in range(len(t))]
        slot_values += [-uni.means[i]] if t is None else list(t)
    cont = [i for i in range(p) if not is_ord[i]]
    sd = np.sqrt(uni.variances)
    labels = (slots + [f"{names[i]}~~{names[i]}" for i in cont]
              + [f"{names[j]}~~{names[i]}" for i, j in pairs])
    stats = np.concatenate([slot_values, uni.variances[cont],
                            [cor[i, j] * sd[i] * sd[j] for i, j in pairs]])
    cont_names = [names[i] for i in cont]
    return Polychoric(
        cor=pd.DataFrame(cor, index=names, columns=names),
        thresholds=pd.Series(np.concatenate([t for t in uni.taus if t is not None]),
                             index=th_index, name="threshold"),
        nobs=int(n),
        gamma=pd.DataFrame(gamma, index=labels, columns=labels),
        means=pd.Series(uni.means[cont], index=cont_names, name="mean", dtype=float),
        variances=pd.Series(uni.variances[cont], index=cont_names, name="variance",
                            dtype=float),
        statistics=pd.Series(stats, index=labels, name="statistic"),
        ordered=tuple(nm for nm, o in zip(names, is_ord, strict=True) if o),
        pair_nobs=pd.DataFrame(together, index=names, columns=names),
    )


def _univariate(values: np.ndarray, names: list[str], is_ord: list[bool],
                where: str) -> Univariate:
    """Thresholds of the items; means and variances (divisor N) of the continuous
    variables, each from its observed cases."""
    p = values.shape[1]
    taus: list[np.ndarray | None] = []
    means, variances = np.zeros(p), np.ones(p)
    for i in range(p):
        col = values[:, i]
        if is_ord[i]:
            taus.append(thresholds(col, names[i], where))
            continue
        seen = col[~np.isnan(col)]
        means[i] = seen.mean()
        variances[i] = ((seen - means[i]) ** 2).mean()
        if not variances[i] > 0:
            raise DataError(f"the continuous variable {names[i]!r} is constant{where}: "
                            "drop it.")
        taus.append(None)
    return Univariate(taus=taus, means=means, variances=variances)


def _pairwise_pearson(values: np.ndarray) -> np.ndarray:
    """Pearson correlations of every pair over the pair's complete cases."""
    seen = (~np.isnan(values)).astype(float)
    # centred first: the sums below then lose no precision to large means
    x = np.nan_to_num(values - np.nanmean(values, axis=0))
    n = seen.T @ seen
    sx = x.T @ seen  # [i, j]: sum of x_i where x_j is observed too
    sxx = (x * x).T @ seen
    sxy = x.T @ x
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = sxy / n - sx * sx.T / (n * n)
        var_i = sxx / n - (sx / n) ** 2
        r = cov / np.sqrt(var_i * var_i.T)
    return np.nan_to_num(np.clip(r, -1.0, 1.0))


def _correlations(values: np.ndarray, uni: Univariate,
                  pairs: list[tuple[int, int]]) -> np.ndarray:
    """Every pair's two-step correlation, each kind of pair solved in one batch."""
    p = values.shape[1]
    cor = np.eye(p)
    start = _pairwise_pearson(values)
    ordinal = [(i, j) for i, j in pairs if uni.is_ordinal(i) and uni.is_ordinal(j)]
    if ordinal:
        levels = [0 if t is None else len(t) + 1 for t in uni.taus]
        tables = pair_tables(values, ordinal, levels)
        rho = polychoric_pairs(tables, [uni.taus[i] for i, _ in ordinal],
                               [uni.taus[j] for _, j in ordinal],
                               np.array([start[i, j] for i, j in ordinal]))
        _fill(cor, ordinal, rho)
    mixed = [(i, j) if not uni.is_ordinal(i) else (j, i) for i, j in pairs
             if uni.is_ordinal(i) != uni.is_ordinal(j)]
    if mixed:
        _fill(cor, mixed, _polyserial(values, uni, mixed, start))
    continuous = [(i, j) for i, j in pairs if not (uni.is_ordinal(i) or uni.is_ordinal(j))]
    incomplete = np.isnan(values).any(axis=0)
    with_ml = [(i, j) for i, j in continuous if incomplete[i] or incomplete[j]]
    _fill(cor, [q for q in continuous if q not in with_ml],
          np.array([start[i, j] for i, j in continuous if (i, j) not in with_ml]))
    if with_ml:
        ci, cj = [i for i, _ in with_ml], [j for _, j in with_ml]
        cset = ContinuousSet(values[:, ci].T - uni.means[ci, None],
                             values[:, cj].T - uni.means[cj, None],
                             uni.variances[ci], uni.variances[cj])
        start_ml = np.array([start[i, j] for i, j in with_ml])
        _fill(cor, with_ml, maximize_correlations(cset.loglik, start_ml, BOUND_ORDINAL))
    return cor


def _fill(cor: np.ndarray, pairs: list[tuple[int, int]], rho: np.ndarray) -> None:
    for (i, j), r in zip(pairs, rho, strict=True):
        cor[i, j] = cor[j, i] = r


def _polyserial(values: np.ndarray, uni: Univariate, mixed: list[tuple[int, int]],
                start: np.ndarray) -> np.ndarray:
    """Polyserial correlations of the (continuous, ordinal) pairs ``mixed``."""
    c = [a for a, _ in mixed]
    o = [b for _, b in mixed]
    sd = np.sqrt(uni.variances[c])[:, None]
    z = (values[:, c].T - uni.means[c, None]) / sd
    codes = values[:, o].T
    z = np.where(np.isnan(codes), np.nan, z)
    log_dens = -0.5 * z * z - np.log(sd * np.sqrt(2 * np.pi))
    upper = np.full(z.shape, np.nan)
    lower = np.full(z.shape, np.nan)
    for q, b in enumerate(o):
        e = edges(uni.taus[b])
        seen = ~np.isnan(z[q])
        k = codes[q, seen].astype(int)
        upper[q, seen], lower[q, seen] = e[k + 1], e[k]
    # lavaan's start: the Pearson correlation with the category numbers, rescaled
    scale = np.array([np.nanstd(values[:, b]) / np.exp(-uni.taus[b] ** 2 / 2).sum()
                      * np.sqrt(2 * np.pi) for b in o])
    init = np.array([start[a, b] for a, b in mixed]) * scale
    init = np.where(np.abs(init) > 0.9, init / 2, init)
    mset = MixedSet(z, log_dens, upper, lower)
    return maximize_correlations(mset.loglik, init, BOUND_MIXED)
