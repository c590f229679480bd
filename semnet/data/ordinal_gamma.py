"""The asymptotic covariance of the two-step statistics of ordinal and continuous
variables (Muthén 1984), as lavaan 0.6.14's ``muthen1984``.

With ``S`` the casewise scores of every first-step (univariate: thresholds, or mean and
variance) and second-step (bivariate: correlation) likelihood, ``A`` the matrix of their
cross-products (block triangular: each variable's own block, then each correlation
against its two variables' statistics), ``Gamma = N A^-1 (S'S) A^-T``; for a pair with a
continuous variable it is carried from the correlation to the covariance by the delta
method.  A case missing a variable (pairwise deletion) scores 0 on the likelihoods that
involve it.  The statistics are ordered as lavaan's: the thresholds of each ordinal item
and (minus) the mean of each continuous variable, in variable order; the variances of the
continuous variables; the covariances (correlations between ordinal items) of the pairs
``(2, 1), (3, 1), ..., (3, 2), ...``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

from semnet._blas import one_blas_thread
from semnet.data.ordinal_fit import TINY, TableSet, edges, pair_tables

_EPS = float(np.finfo(float).eps)
_SQRT_2PI = float(np.sqrt(2 * np.pi))


@dataclass(frozen=True)
class Univariate:
    """First-step statistics of one group: per variable its thresholds (ordinal) or
    ``None``, means and variances (1 and 0 for ordinal items)."""

    taus: Sequence[np.ndarray | None]
    means: np.ndarray
    variances: np.ndarray

    def is_ordinal(self, i: int) -> bool:
        return self.taus[i] is not None

    def sizes(self) -> list[int]:
        """Slots of each variable in the threshold block (a continuous variable: 1)."""
        return [1 if t is None else len(t) for t in self.taus]


def threshold_scores(codes: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Casewise derivatives of the univariate probit log-likelihood of one item with
    respect to its thresholds (cases x thresholds); 0 for a missing case.

    Examples
    --------
    >>> import numpy as np
    >>> from semnet.data.ordinal_gamma import threshold_scores
    >>> threshold_scores(np.array([0.0, 1.0, np.nan]), np.array([0.0])).round(4)
    array([[ 0.7979],
           [-0.7979],
           [ 0.    ]])
    """
    k = len(tau)
    out = np.zeros((len(codes), k))
    seen = ~np.isnan(codes)
    c = codes[seen].astype(int)
    cdf = special.ndtr(edges(tau))
    prob = cdf[c + 1] - cdf[c]
    dens = np.exp(-tau * tau / 2) / _SQRT_2PI
    rows = np.flatnonzero(seen)
    up = c < k
    out[rows[up], c[up]] = dens[c[up]] / prob[up]
    low = c > 0
    out[rows[low], c[low] - 1] -= dens[c[low] - 1] / prob[low]
    return out


def _moment_scores(y: np.ndarray, mean: float, var: float) -> tuple[np.ndarray, np.ndarray]:
    res = np.nan_to_num(y - mean)
    seen = ~np.isnan(y)
    return res / var, np.where(seen, -1 / (2 * var) + res * res / (2 * var * var), 0.0)


def _mixed_pair_scores(y: np.ndarray, c: np.ndarray, mean: float, var: float,
                       tau: np.ndarray, r: float):
    """Casewise d log L / d rho, d / d mean, d / d variance (continuous ``y``) and
    d / d tau (ordinal ``c``) of a polyserial pair (lavaan's ``lav_bvmix`` scores)."""
    n = len(y)
    seen = ~(np.isnan(y) | np.isnan(c))
    sd = np.sqrt(var)
    z = (y[seen] - mean) / sd
    k = c[seen].astype(int)
    e = edges(tau)
    big_r = np.sqrt(1 - r * r)
    up_lim, low_lim = e[k + 1], e[k]
    hi = (up_lim - r * z) / big_r
    lo = (low_lim - r * z) / big_r
    prob = np.maximum(special.ndtr(hi) - special.ndtr(lo), _EPS)
    f_hi = np.where(np.isfinite(hi), np.exp(-hi * hi / 2) / _SQRT_2PI, 0.0)
    f_lo = np.where(np.isfinite(lo), np.exp(-lo * lo / 2) / _SQRT_2PI, 0.0)
    diff = (f_hi - f_lo) / prob
    rows = np.flatnonzero(seen)
    out_mu, out_var, out_rho = np.zeros(n), np.zeros(n), np.zeros(n)
    out_mu[rows] = (z + r / big_r * diff) / sd
    out_var[rows] = ((z * z - 1) + r * z / big_r * diff) / (2 * var)
    t_hi = np.where(np.isfinite(up_lim), f_hi * (np.nan_to_num(up_lim) * r - z), 0.0)
    t_lo = np.where(np.isfinite(low_lim), f_lo * (np.nan_to_num(low_lim) * r - z), 0.0)
    out_rho[rows] = (t_hi - t_lo) / (prob * big_r**3)
    out_th = np.zeros((n, len(tau)))
    up = k < len(tau)
    out_th[rows[up], k[up]] += f_hi[up] / (big_r * prob[up])
    low = k > 0
    out_th[rows[low], k[low] - 1] -= f_lo[low] / (big_r * prob[low])
    return out_rho, out_mu, out_var, out_th


def _continuous_pair_scores(y1: np.ndarray, y2: np.ndarray, m1: float, m2: float,
                            v1: float, v2: float, r: float):
    """Casewise d log L / d rho, d / d mean1, d / d var1, d / d mean2, d / d var2 of a
    bivariate normal pair with fixed means and variances (lavaan's ``lav_bvreg``)."""
    seen = ~(np.isnan(y1) | np.isnan(y2))
    a = np.where(seen, y1 - m1, 0.0)
    b = np.where(seen, y2 - m2, 0.0)
    det = 1 - r * r
    sd12 = np.sqrt(v1 * v2)
    d_mu1 = (a / v1 - r * b / sd12) / det
    d_mu2 = (b / v2 - r * a / sd12) / det
    d_v1 = -(0.5 / v1 - (a * a / (v1 * v1) - r * a * b / (v1 * sd12)) / (2 * det))
    d_v2 = -(0.5 / v2 + (r * a * b / (v2 * sd12) - b * b / (v2 * v2)) / (2 * det))
    quad = a * a / v1 - 2 * r * a * b / sd12 + b * b / v2
    d_rho = r / det + a * b / (sd12 * det) - quad * r / (det * det)
    zero = ~seen
    return tuple(np.where(zero, 0.0, v) for v in (d_rho, d_mu1, d_v1, d_mu2, d_v2))


@one_blas_thread
def asymptotic_covariance(values: np.ndarray, uni: Univariate, cor: np.ndarray,
                          pairs: Sequence[tuple[int, int]]) -> np.ndarray:
    """``N`` times the asymptotic covariance of the statistics (see the module notes) of
    the cases ``values`` (cases x variables: category numbers of ordinal items, values of
    continuous ones, NaN for missing), with first-step ``uni``, correlations ``cor``.

    Examples
    --------
    >>> import numpy as np
    >>> from semnet.data.ordinal_gamma import Univariate, asymptotic_covariance
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=200)
    >>> item = (y + rng.normal(size=200) > 0).astype(float)
    >>> values = np.column_stack([item, y])
    >>> uni = Univariate(taus=[np.array([0.0]), None], means=np.array([0.0, y.mean()]),
    ...                  variances=np.array([1.0, y.var()]))
    >>> cor = np.array([[1.0, 0.7], [0.7, 1.0]])
    >>> asymptotic_covariance(values, uni, cor, [(1, 0)]).shape  # tau, -mean, var, cov
    (4, 4)
    """
    n, p = values.shape
    sizes = uni.sizes()
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    nth = int(starts[-1])
    cont = [i for i in range(p) if not uni.is_ordinal(i)]
    var_slot = {i: nth + k for k, i in enumerate(cont)}
    n_uni = nth + len(cont)
    scores = np.zeros((n, n_uni + len(pairs)))
    for i in range(p):
        col = values[:, i]
        if uni.is_ordinal(i):
            scores[:, starts[i]:starts[i + 1]] = threshold_scores(col, uni.taus[i])
        else:
            mu, var = _moment_scores(col, uni.means[i], uni.variances[i])
            scores[:, starts[i]] = mu
            scores[:, var_slot[i]] = var
    a21 = np.zeros((len(pairs), n_uni))
    h = np.eye(n_uni + len(pairs))
    both = [q for q, (i, j) in enumerate(pairs) if uni.is_ordinal(i) and uni.is_ordinal(j)]
    if both:
        sc_rho, a21[both] = _ordinal_block(values, uni, cor, [pairs[q] for q in both],
                                           starts, n_uni)
        scores[:, [n_uni + q for q in both]] = sc_rho
    for q, (i, j) in enumerate(pairs):
        if uni.is_ordinal(i) and uni.is_ordinal(j):
            continue
        row = n_uni + q
        slots, parts = _pair_parts(values, uni, cor[i, j], i, j, starts, var_slot)
        sc_rho = parts[0]
        scores[:, row] = sc_rho
        for slot, part in zip(slots, parts[1:], strict=True):
            a21[q, slot] = sc_rho @ part
        sd_i, sd_j = np.sqrt(uni.variances[i]), np.sqrt(uni.variances[j])
        # delta method: from the correlation to the covariance rho sd_i sd_j
        h[row, row] = sd_i * sd_j
        if i in var_slot:
            h[row, var_slot[i]] = cor[i, j] * sd_j / (2 * sd_i)
        if j in var_slot:
            h[row, var_slot[j]] = cor[i, j] * sd_i / (2 * sd_j)
    inner = scores.T @ scores
    a11_inv = np.zeros((n_uni, n_uni))
    for i in range(p):
        block = list(range(starts[i], starts[i + 1])) + ([var_slot[i]] if i in var_slot else [])
        a11_inv[np.ix_(block, block)] = np.linalg.inv(inner[np.ix_(block, block)])
    a22_inv = 1 / np.diag(inner)[n_uni:]
    b_inv = np.zeros_like(inner)
    b_inv[:n_uni, :n_uni] = a11_inv
    b_inv[n_uni:, :n_uni] = -(a22_inv[:, None] * a21) @ a11_inv
    b_inv[n_uni:, n_uni:] = np.diag(a22_inv)
    gamma = h @ (b_inv @ inner @ b_inv.T) @ h.T
    # lavaan's sign: a continuous variable's slot among the thresholds holds minus its mean
    flip = np.ones(len(gamma))
    flip[[starts[i] for i in cont]] = -1.0
    return n * gamma * np.outer(flip, flip)


def _pair_parts(values, uni, r, i, j, starts, var_slot):
    """The slots of the first-step statistics the likelihood of a pair with a continuous
    variable depends on, and its casewise scores: d / d rho first, then one per slot."""
    yi, yj = values[:, i], values[:, j]
    th_i = list(range(starts[i], starts[i + 1]))
    th_j = list(range(starts[j], starts[j + 1]))
    if uni.is_ordinal(i) or uni.is_ordinal(j):
        (c, yo, th_c, th_o) = (j, i, th_j, th_i) if uni.is_ordinal(i) else (i, j, th_i, th_j)
        sc_rho, mu, var, th = _mixed_pair_scores(
            values[:, c], values[:, yo], uni.means[c], uni.variances[c], uni.taus[yo], r)
        return [*th_c, var_slot[c], *th_o], [sc_rho, mu, var, *th.T]
    sc = _continuous_pair_scores(yi, yj, uni.means[i], uni.means[j], uni.variances[i],
                                 uni.variances[j], r)
    return [*th_i, var_slot[i], *th_j, var_slot[j]], list(sc)


def _ordinal_block(values, uni, cor, pairs, starts, n_uni):
    """All polychoric pairs at once: the casewise scores d log P / d rho (cases x pairs)
    and their cross-products with the threshold scores (pairs x first-step slots),
    summed over the cells of each pair's table (frequencies of its complete cases).  A
    case in a cell of probability <= sqrt(eps) scores 0 (lavaan's rule)."""
    first = values[:, [i for i, _ in pairs]]
    second = values[:, [j for _, j in pairs]]
    complete = ~(np.isnan(first) | np.isnan(second))
    a = np.where(complete, first, 0).astype(int)
    b = np.where(complete, second, 0).astype(int)
    n_rows = np.array([len(uni.taus[i]) + 1 for i, _ in pairs])
    n_cols = np.array([len(uni.taus[j]) + 1 for _, j in pairs])
    tables = pair_tables(values, pairs, [0 if t is None else len(t) + 1 for t in uni.taus])
    tset = TableSet(tables, [uni.taus[i] for i, _ in pairs], [uni.taus[j] for _, j in pairs])
    rho = np.array([cor[i, j] for i, j in pairs])
    prob = tset.cell_probabilities(rho)
    inv = np.where(prob > TINY, 1 / np.where(prob > TINY, prob, 1.0), 0.0)
    d_rho = tset.cell_derivatives(rho) * inv
    # casewise: each case's cell in each pair's table
    cell = tset.cell_offset + a * n_cols + b
    sc_rho = np.where(complete, d_rho[cell], 0.0)
    # d P / d (a threshold) at the corners: phi(x) Phi((y - r x) / s), and for y
    r = rho[tset.corner_pair]
    s = np.sqrt(1 - r * r)
    x, y = tset.x, tset.y
    with np.errstate(invalid="ignore"):
        gx = np.where(np.isfinite(x), np.exp(-x * x / 2) / _SQRT_2PI
                      * special.ndtr((y - r * x) / s), 0.0)
        gy = np.where(np.isfinite(y), np.exp(-y * y / 2) / _SQRT_2PI
                      * special.ndtr((x - r * y) / s), 0.0)
    c = tset.corners
    weight = tset.freq * d_rho * inv  # sum over the cell's cases of score_rho / P
    q, row, col = tset.cell_pair, tset.cell_row, tset.cell_col
    th_i = np.array([starts[i] for i, _ in pairs])[q]
    th_j = np.array([starts[j] for _, j in pairs])[q]
    a21 = np.zeros(len(pairs) * n_uni)
    parts = [
        (row < n_rows[q] - 1, th_i + row, gx[c[0]] - gx[c[2]]),  # upper threshold of i
        (row > 0, th_i + row - 1, gx[c[3]] - gx[c[1]]),  # lower threshold of i
        (col < n_cols[q] - 1, th_j + col, gy[c[0]] - gy[c[1]]),  # upper threshold of j
        (col > 0, th_j + col - 1, gy[c[3]] - gy[c[2]]),  # lower threshold of j
    ]
    for use, slot, deriv in parts:
        a21 += np.bincount(q[use] * n_uni + slot[use], (weight * deriv)[use],
                           minlength=a21.size)
    return sc_rho, a21.reshape(len(pairs), n_uni)
