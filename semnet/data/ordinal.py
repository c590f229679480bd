"""Ordinal items: thresholds and polychoric correlations (the first step of WLSMV).

An ordinal item with categories ``1 < 2 < ... < K`` is read as a cut of a standard
normal latent response at the thresholds ``tau_1 < ... < tau_{K-1}``; the thresholds
are the normal quantiles of the cumulative proportions (the maximum-likelihood
estimates of the univariate probit model without covariates).  The polychoric
correlation of two items is the correlation of their latent responses, estimated by
maximum likelihood from their two-way table with the thresholds held at their
univariate estimates (the "two-step" estimator, Olsson 1979), as lavaan's
``lavCor()``:

- the cell probabilities are rectangle probabilities of the bivariate normal
  distribution, floored at ``sqrt(machine epsilon)``;
- in a 2 x 2 table with one empty cell, 0.5 is moved into the empty cell and its
  diagonal partner and out of the other two (the margins are kept); with two empty
  cells the correlation is +1 or -1; a table whose cross-product ratio is 1 has
  correlation 0; larger tables are used as they are;
- the correlation maximizes the likelihood over ``[-0.999, 0.999]`` (lavaan's bounds).
  Where the maximum is near 1, lavaan 0.6.14's optimizer can stop at its bound 0.999
  with a lower likelihood (tables with a nearly empty cell); semnet returns the
  maximum.

The bivariate normal distribution function is Genz's (2004) method after Drezner &
Wesolowsky (1990), with a 20-point Gauss–Legendre rule in every region, vectorised over
the points: accurate to about 1e-15.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from semnet.data.moments import group_labels
from semnet.errors import DataError

#: most categories an item may have before it should be treated as continuous
MAX_CATEGORIES = 20
#: the floor of a cell probability (lavaan's)
_TINY = float(np.sqrt(np.finfo(float).eps))
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(20)
_TWO_PI = 2.0 * np.pi


def _phi(x: np.ndarray) -> np.ndarray:
    return special.ndtr(x)


def bivariate_normal_upper(h: np.ndarray, k: np.ndarray, r: float) -> np.ndarray:
    """``P(X > h, Y > k)`` for standard bivariate normal ``X, Y`` with correlation ``r``
    (Genz 2004), elementwise over ``h`` and ``k``; infinite limits are allowed."""
    h = np.asarray(h, dtype=float)
    k = np.asarray(k, dtype=float)
    h, k = np.broadcast_arrays(h, k)
    out = np.empty(h.shape)
    inf = np.isinf(h) | np.isinf(k)
    if inf.any():
        # with an infinite limit the probability is univariate (or 0)
        hh, kk = h[inf], k[inf]
        val = np.where(hh == np.inf, 0.0, np.where(kk == np.inf, 0.0, 1.0))
        val = np.where((hh == -np.inf) & np.isfinite(kk), _phi(-kk), val)
        val = np.where((kk == -np.inf) & np.isfinite(hh), _phi(-hh), val)
        out[inf] = val
    fin = ~inf
    if fin.any():
        out[fin] = _bvnu(h[fin], k[fin], float(r))
    return out


def _bvnu(h: np.ndarray, k: np.ndarray, r: float) -> np.ndarray:
    if r == 0.0:
        return _phi(-h) * _phi(-k)
    hk = h * k
    x, w = _NODES[:, None], _WEIGHTS[:, None]
    if abs(r) < 0.925:
        hs = (h * h + k * k) / 2
        asr = np.arcsin(r)
        sn = np.sin(asr * (x + 1) / 2)
        terms = w * np.exp((sn * hk - hs) / (1 - sn * sn))
        return terms.sum(axis=0) * asr / (2 * _TWO_PI) + _phi(-h) * _phi(-k)
    if r < 0:
        k, hk = -k, -hk
    bvn = np.zeros(h.shape)
    if abs(r) < 1:
        a2 = (1 - r) * (1 + r)
        a = np.sqrt(a2)
        bs = (h - k) ** 2
        c = (4 - hk) / 8
        d = (12 - hk) / 16
        bvn = a * np.exp(-(bs / a2 + hk) / 2) * (
            1 - c * (bs - a2) * (1 - d * bs / 5) / 3 + c * d * a2 * a2 / 5
        )
        b = np.sqrt(bs)
        tail = np.exp(-hk / 2) * np.sqrt(_TWO_PI) * _phi(-b / a) * b * (
            1 - c * bs * (1 - d * bs / 5) / 3
        )
        bvn = bvn - np.where(hk > -160, tail, 0.0)
        half = a / 2
        xs = (half * (x + 1)) ** 2
        rs = np.sqrt(1 - xs)
        with np.errstate(over="ignore", under="ignore"):
            inner = np.exp(-bs / (2 * xs) - hk / (1 + rs)) / rs - np.exp(
                -(bs / xs + hk) / 2
            ) * (1 + c * xs * (1 + d * xs))
        bvn = -(bvn + half * (w * inner).sum(axis=0)) / _TWO_PI
    if r > 0:
        return bvn + _phi(-np.maximum(h, k))
    bvn = -bvn
    extra = np.where(h < 0, _phi(k) - _phi(h), _phi(-h) - _phi(-k))
    return bvn + np.where(k > h, extra, 0.0)


def bivariate_normal_cdf(x: np.ndarray, y: np.ndarray, r: float) -> np.ndarray:
    """``P(X <= x, Y <= y)`` for standard bivariate normal ``X, Y`` with correlation
    ``r``, elementwise; accurate to about 1e-15.

    Examples
    --------
    >>> from semnet.data.ordinal import bivariate_normal_cdf
    >>> float(bivariate_normal_cdf(0.0, 0.0, 0.5))  # 1/4 + asin(r) / (2 pi) = 1/3
    0.3333333333333333
    """
    return bivariate_normal_upper(-np.asarray(x, dtype=float), -np.asarray(y, dtype=float), r)


def _bivariate_density(x: np.ndarray, y: np.ndarray, r: float) -> np.ndarray:
    det = 1 - r * r
    return np.exp(-(x * x - 2 * r * x * y + y * y) / (2 * det)) / (_TWO_PI * np.sqrt(det))


@dataclass(frozen=True)
class Polychoric:
    """Polychoric correlations of ordinal items, and their thresholds.

    Attributes
    ----------
    cor : DataFrame
        The correlation matrix (items x items).
    thresholds : Series
        Indexed ``"item|t1"``, ``"item|t2"``, ... as lavaan's threshold rows.
    nobs : int
        Cases used (complete on every item).
    gamma : DataFrame
        ``N`` times the asymptotic covariance matrix of the thresholds and the
        correlations (lavaan's ``gamma`` / NACOV; thresholds first, item by item, then the
        correlations in lavaan's order ``x2~~x1, x3~~x1, ..., x3~~x2, ...``, labelled
        ``"x1~~x2"`` as lavaan does), from Muthén's (1984) casewise scores.  Its diagonal
        inverted is the weight matrix of DWLS.
    """

    cor: pd.DataFrame
    thresholds: pd.Series
    nobs: int
    gamma: pd.DataFrame


def item_codes(column: pd.Series, name: str) -> np.ndarray:
    """An ordinal column as category numbers ``0 .. K-1`` (NaN for missing): an ordered
    Categorical by its category order, numbers by their sorted distinct values."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        if not column.cat.ordered:
            raise DataError(
                f"column {name!r} is an unordered Categorical; make it ordered "
                f"(df[{name!r}].cat.as_ordered()) or recode it as numbers (.cat.codes)."
            )
        codes = column.cat.codes.to_numpy().astype(float)
        codes[codes < 0] = np.nan
        present = np.unique(codes[~np.isnan(codes)])
    else:
        values = pd.to_numeric(column, errors="coerce")
        bad = column.notna() & values.isna()
        if bad.any():
            raise DataError(
                f"column {name!r} has values that are not numbers (e.g. "
                f"{column[bad].iloc[0]!r}); recode it as ordered numbers or an ordered "
                "Categorical."
            )
        present = np.unique(values.dropna().to_numpy())
        codes = values.to_numpy(dtype=float)
    # categories that occur, numbered in order (an unused category carries no threshold)
    out = np.full(codes.shape, np.nan)
    observed = ~np.isnan(codes)
    out[observed] = np.searchsorted(present, codes[observed])
    return out


def thresholds(codes: np.ndarray, name: str) -> np.ndarray:
    """The thresholds of one item (category numbers ``0 .. K-1``, no missing values):
    normal quantiles of the cumulative proportions."""
    k = int(codes.max()) + 1
    if k < 2:
        raise DataError(
            f"the ordinal item {name!r} has only one observed category; it carries no "
            "information: drop it from the model."
        )
    if k > MAX_CATEGORIES:
        raise DataError(
            f"the item {name!r} has {k} categories; with more than {MAX_CATEGORIES} treat "
            "it as continuous (leave it out of ordered=)."
        )
    counts = np.bincount(codes.astype(int), minlength=k)
    return special.ndtri(np.cumsum(counts)[:-1] / counts.sum())


def _table(a: np.ndarray, b: np.ndarray, ka: int, kb: int) -> np.ndarray:
    return np.bincount(a.astype(int) * kb + b.astype(int), minlength=ka * kb).reshape(ka, kb)


def _cell_probabilities(ta: np.ndarray, tb: np.ndarray, r: float) -> np.ndarray:
    """Rectangle probabilities of the bivariate normal over the table's cells."""
    ea = np.concatenate([[-np.inf], ta, [np.inf]])
    eb = np.concatenate([[-np.inf], tb, [np.inf]])
    cdf = bivariate_normal_cdf(ea[:, None], eb[None, :], r)
    cells = cdf[1:, 1:] - cdf[:-1, 1:] - cdf[1:, :-1] + cdf[:-1, :-1]
    return np.maximum(cells, _TINY)


def pair_correlation(freq: np.ndarray, ta: np.ndarray, tb: np.ndarray) -> float:
    """The two-step polychoric correlation of a two-way table ``freq`` with the
    thresholds ``ta`` (rows) and ``tb`` (columns) held fixed."""
    freq = freq.astype(float)
    if freq.shape == (2, 2):
        empty = np.flatnonzero(freq.ravel() == 0)
        if len(empty) == 2:
            return 1.0 if freq[0, 0] > 0 else -1.0
        if len(empty) == 1:
            # move 0.5 into the empty cell and its diagonal partner and out of the other
            # two, keeping the margins (lavaan 0.6.14: zero.add 0.5, zero.keep.margins)
            sign = 1.0 if empty[0] in (0, 3) else -1.0
            freq = freq + sign * 0.5 * np.array([[1.0, -1.0], [-1.0, 1.0]])
        if freq[0, 0] * freq[1, 1] == freq[0, 1] * freq[1, 0]:
            return 0.0
        if ta[0] == 0 and tb[0] == 0:
            return float(-np.cos(2 * np.pi * freq[0, 0] / freq.sum()))

    def negloglik(r: float) -> float:
        return -float(np.sum(freq * np.log(_cell_probabilities(ta, tb, r))))

    res = optimize.minimize_scalar(
        negloglik, bounds=(-0.999, 0.999), method="bounded",
        options={"xatol": 1e-12, "maxiter": 500},
    )  # fmt: skip
    return float(res.x)


def polychoric(
    data: pd.DataFrame, ordered: Sequence[str] | None = None, group: str | None = None
) -> Polychoric | dict[str, Polychoric]:
    """Polychoric correlations and thresholds of ordinal items, as lavaan's
    ``lavCor(data, ordered = ...)`` (two-step estimates, listwise deletion).

    Parameters
    ----------
    data : DataFrame
        The items (never modified).
    ordered : sequence of str, optional
        The ordinal columns; default: every column but ``group`` (ordered Categoricals
        by their category order, numbers by their sorted values).
    group : str, optional
        A grouping column: the statistics of each group, with the categories of the
        whole sample (a category that is empty in one group is an error, as in lavaan).

    Returns
    -------
    Polychoric or dict
        ``.cor`` (DataFrame), ``.thresholds`` (Series ``"item|t1"``, ...), ``.nobs``,
        ``.gamma``; with ``group``, a dict of them by group label.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> items = hs[["x1", "x2", "x3"]].apply(lambda c: pd.cut(c, 4, labels=False))
    >>> pc = semnet.polychoric(items)
    >>> pc.cor.shape, len(pc.thresholds)
    ((3, 3), 9)
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, not {type(data).__name__}.")
    if group is not None and group not in data.columns:
        raise DataError(f"the group column {group!r} is not in the data.")
    names = [c for c in data.columns if c != group] if ordered is None else list(ordered)
    missing = [n for n in names if n not in data.columns]
    if missing:
        raise DataError(f"column(s) {', '.join(map(repr, missing))} are not in the data.")
    if not names:
        raise DataError("no ordinal columns: pass ordered= with the item names.")
    if group in names:
        raise DataError(f"the group column {group!r} is also listed as an item.")
    codes = np.column_stack([item_codes(data[n], n) for n in names])
    complete = ~np.isnan(codes).any(axis=1)
    if group is None:
        return _polychoric(codes[complete], names, "")
    labels = group_labels(data, group)
    # (group_labels has checked that distinct values print distinctly)
    text = np.array([str(v) for v in data[group].to_numpy()], dtype=object)
    codes = np.where(complete[:, None], codes, np.nan)
    levels = [int(np.nanmax(codes[:, i])) + 1 for i in range(len(names))]
    return {
        label: _polychoric(codes[complete & (text == label)], names, label, levels)
        for label in labels
    }


def _polychoric(
    codes: np.ndarray, names: list[str], label: str, levels: list[int] | None = None
) -> Polychoric:
    """The statistics of the complete cases ``codes`` (category numbers) of one group;
    with ``levels`` (categories per item in the whole sample) every category must occur."""
    where = f" in group {label!r}" if label else ""
    if codes.shape[0] < 2:
        raise DataError(f"fewer than two complete cases on the ordinal items{where}.")
    if levels is not None:
        for i, n in enumerate(names):
            counts = np.bincount(codes[:, i].astype(int), minlength=levels[i])
            if (counts == 0).any():
                raise DataError(
                    f"a category of the item {n!r} is empty{where} (frequencies "
                    f"{counts.tolist()}); merge categories, or drop the item."
                )
    else:
        # renumber after the listwise deletion (a category may vanish with the dropped rows)
        codes = np.column_stack([np.unique(c, return_inverse=True)[1] for c in codes.T])
    taus = [thresholds(codes[:, i], n) for i, n in enumerate(names)]
    p = len(names)
    cor = np.eye(p)
    for i in range(p):
        for j in range(i):
            freq = _table(codes[:, i], codes[:, j], len(taus[i]) + 1, len(taus[j]) + 1)
            cor[i, j] = cor[j, i] = pair_correlation(freq, taus[i], taus[j])
    index = [f"{n}|t{k + 1}" for n, t in zip(names, taus, strict=True) for k in range(len(t))]
    pairs = [(i, j) for j in range(p) for i in range(j + 1, p)]
    gamma = asymptotic_covariance(codes, taus, cor, pairs)
    labels = index + [f"{names[j]}~~{names[i]}" for i, j in pairs]
    return Polychoric(
        cor=pd.DataFrame(cor, index=names, columns=names),
        thresholds=pd.Series(np.concatenate(taus), index=index, name="threshold"),
        nobs=int(codes.shape[0]),
        gamma=pd.DataFrame(gamma, index=labels, columns=labels),
    )


def _edges(tau: np.ndarray) -> np.ndarray:
    return np.concatenate([[-np.inf], tau, [np.inf]])


def threshold_scores(codes: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Casewise derivatives of the univariate probit log-likelihood of one item with
    respect to its thresholds (cases x thresholds)."""
    k = len(tau)
    edges = _edges(tau)
    cdf = _phi(edges)
    c = codes.astype(int)
    prob = cdf[c + 1] - cdf[c]
    dens = np.exp(-tau * tau / 2) / np.sqrt(_TWO_PI)
    out = np.zeros((len(c), k))
    rows = np.arange(len(c))
    up = c < k  # the category's upper threshold
    out[rows[up], c[up]] = dens[c[up]] / prob[up]
    low = c > 0  # its lower threshold
    out[rows[low], c[low] - 1] -= dens[c[low] - 1] / prob[low]
    return out


def _pair_cell_scores(ta: np.ndarray, tb: np.ndarray, r: float):
    """Per cell of a pair's table: d log P / d rho, and d log P / d tau_a (rows x cols x
    thresholds of a) and d log P / d tau_b (rows x cols x thresholds of b)."""
    ea, eb = _edges(ta), _edges(tb)
    prob = _cell_probabilities(ta, tb, r)
    s = np.sqrt(1 - r * r)
    # the bivariate density at the corners (0 where a corner is infinite)
    xa, xb = np.meshgrid(ea, eb, indexing="ij")
    with np.errstate(invalid="ignore"):
        dens = np.where(np.isfinite(xa) & np.isfinite(xb), _bivariate_density(xa, xb, r), 0.0)
    d_rho = dens[1:, 1:] - dens[:-1, 1:] - dens[1:, :-1] + dens[:-1, :-1]
    ka, kb = len(ta) + 1, len(tb) + 1
    # d Phi2(x, y) / dx = phi(x) Phi((y - r x) / s) at x = a threshold, y = every edge
    with np.errstate(invalid="ignore"):
        ga = np.exp(-ta * ta / 2)[:, None] / np.sqrt(_TWO_PI) * _phi(
            (eb[None, :] - r * ta[:, None]) / s
        )
        gb = np.exp(-tb * tb / 2)[:, None] / np.sqrt(_TWO_PI) * _phi(
            (ea[None, :] - r * tb[:, None]) / s
        )
    # rectangle differences: a cell (x, y) depends on tau_a[x] (upper) and tau_a[x-1]
    d_ta = np.zeros((ka, kb, len(ta)))
    band_a = ga[:, 1:] - ga[:, :-1]  # thresholds of a x columns
    for m in range(len(ta)):
        d_ta[m, :, m] += band_a[m]
        d_ta[m + 1, :, m] -= band_a[m]
    d_tb = np.zeros((ka, kb, len(tb)))
    band_b = gb[:, 1:] - gb[:, :-1]  # thresholds of b x rows
    for m in range(len(tb)):
        d_tb[:, m, m] += band_b[m]
        d_tb[:, m + 1, m] -= band_b[m]
    return d_rho / prob, d_ta / prob[:, :, None], d_tb / prob[:, :, None]


def asymptotic_covariance(
    codes: np.ndarray, taus: Sequence[np.ndarray], cor: np.ndarray,
    pairs: Sequence[tuple[int, int]],
) -> np.ndarray:
    """``N`` times the asymptotic covariance of the two-step estimates (thresholds, then
    the correlations of ``pairs``), by Muthén (1984): with ``S`` the casewise scores of
    every univariate and bivariate likelihood, ``A`` the matrix of their expected
    derivatives (block triangular: thresholds of each item, then each correlation
    given its items' thresholds), ``Gamma = N A^-1 (S'S) A^-T``."""
    n = codes.shape[0]
    sizes = [len(t) for t in taus]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    nth = int(starts[-1])
    scores = np.empty((n, nth + len(pairs)))
    for i, t in enumerate(taus):
        scores[:, starts[i] : starts[i + 1]] = threshold_scores(codes[:, i], t)
    a21 = np.zeros((len(pairs), nth))
    for q, (i, j) in enumerate(pairs):
        d_rho, d_ti, d_tj = _pair_cell_scores(taus[i], taus[j], cor[i, j])
        ci, cj = codes[:, i].astype(int), codes[:, j].astype(int)
        sc = d_rho[ci, cj]
        scores[:, nth + q] = sc
        freq = _table(codes[:, i], codes[:, j], sizes[i] + 1, sizes[j] + 1)
        weighted = freq * d_rho
        a21[q, starts[i] : starts[i + 1]] = np.einsum("ab,abk->k", weighted, d_ti)
        a21[q, starts[j] : starts[j + 1]] = np.einsum("ab,abk->k", weighted, d_tj)
    inner = scores.T @ scores
    b = np.zeros_like(inner)
    for i in range(len(taus)):
        block = slice(starts[i], starts[i + 1])
        b[block, block] = inner[block, block]
    b[nth:, :nth] = a21
    b[nth:, nth:] = np.diag(np.diag(inner)[nth:])
    b_inv = np.linalg.inv(b)
    return n * b_inv @ inner @ b_inv.T
