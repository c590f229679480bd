"""Starting values from the sample moments (not lavaan's: its optimizer starts elsewhere
and stops at the same optimum).

Fixed rows take their fixed value (``fixed.x`` covariates: the sample moments).  Free
rows: the variance of a marker-scaled factor from its indicators' covariances
(``S_mj S_mk / S_jk``), loadings from the covariances with the marker, residual variances
what the factor leaves of the indicator's variance (half the variance otherwise), factor
covariances those of their markers (0 where these make the factors' covariance matrix
indefinite), regressions and other covariances 0; latent means
0, or the marker's mean where its intercept is fixed, and observed intercepts the sample
means less what that mean implies.  A user's ``start()`` always wins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.linalg import lapack

from semnet.data.moments import GroupMoments
from semnet.partable.build import ParTable


def start_values(pt: ParTable, moments: Sequence[GroupMoments]) -> np.ndarray:
    """One value per row of ``pt.params`` (fixed rows: their values; free rows: starts)."""
    params = pt.cols
    # plain lists: the loops below read single cells, which numpy makes slow (``free``
    # and ``exo`` are 0 or a positive number)
    cols = (params["lhs"].tolist(), params["op"].tolist(), params["rhs"].tolist(),
            params["free"].tolist(), params["ustart"].tolist(), params["exo"].tolist())
    group = params["group"].tolist()
    values = [0.0] * len(group)
    if group and group.count(group[0]) == len(group):
        rows_of = {group[0]: range(len(group))}  # one group: every row, in order
    else:
        rows_of = {}
        for r, g in enumerate(group):
            rows_of.setdefault(g, []).append(r)
    for g, mom in enumerate(moments, start=1):
        _group_starts(values, rows_of.get(g, ()), mom, *cols)
    return np.array(values, dtype=float)


def _group_starts(values, rows, mom, lhs, op, rhs, free, ustart, exo) -> None:
    """The starts of the rows ``rows`` of one group (into ``values``) from its moments."""
    idx = {v: k for k, v in enumerate(mom.names)}
    S, mean = mom.cov.tolist(), mom.mean.tolist()
    # per factor its observed indicators (the first one first) and its marker (the first
    # with a fixed loading); per indicator its number of factors; the fixed intercepts
    # of observed variables; the (co)variance rows of latent variables
    indicators: dict[str, list[str]] = {}
    marker: dict[str, str] = {}
    n_factors: dict[str, int] = {}
    fixed_int: dict[str, float] = {}
    lv_rows = []
    for r in rows:
        o = op[r]
        if o == "=~":
            x = rhs[r]
            if x in idx:
                f = lhs[r]
                if f in indicators:
                    indicators[f].append(x)
                else:
                    indicators[f] = [x]
                if not free[r] and f not in marker:
                    marker[f] = x
                n_factors[x] = n_factors.get(x, 0) + 1
        elif o == "~~":
            if lhs[r] not in idx and rhs[r] not in idx:
                lv_rows.append(r)
        elif o == "~1" and not free[r] and lhs[r] in idx:
            fixed_int[lhs[r]] = _fixed(ustart[r])
    lv_var = {f: _factor_variance(S, idx, m, indicators[f]) for f, m in marker.items()}
    # a factor whose marker has a fixed intercept carries the marker's mean
    lv_mean = {f: mean[idx[m]] - fixed_int[m] for f, m in marker.items() if m in fixed_int}
    loading_of: dict[str, tuple[str, float]] = {}
    for r in rows:
        u = ustart[r]
        if not free[r]:
            if not exo[r]:
                values[r] = u if u == u else 0.0  # (NA: 0)
            elif op[r] == "~~":
                values[r] = S[idx[lhs[r]]][idx[rhs[r]]]
            elif op[r] == "~1":
                values[r] = mean[idx[lhs[r]]]
            continue
        if u == u:  # a user's start
            values[r] = u
            continue
        a, o, b = lhs[r], op[r], rhs[r]
        if o == "=~":
            value = _loading_start(a, b, idx, S, marker, indicators, lv_var)
            loading_of[b] = (a, value)
        elif o == "~~":
            if a != b:
                if a in lv_var and b in lv_var:
                    # covariance of two marker-scaled factors: that of their markers
                    bound = 0.9 * math.sqrt(lv_var[a] * lv_var[b])
                    value = _clip(S[idx[marker[a]]][idx[marker[b]]], -bound, bound)
                else:
                    value = 0.0
            elif a in idx:
                var = S[idx[a]][idx[a]]
                value = _residual_start(var, loading_of.get(a), n_factors.get(a, 0), lv_var)
            else:
                value = lv_var.get(a, 0.05)
        elif o == "~1":
            value = _intercept_start(a, idx, mean, loading_of, n_factors, lv_mean)
        else:
            value = 0.0
        values[r] = value
    _keep_lv_covariance_positive(values, lv_rows, lhs, rhs, free)


def _keep_lv_covariance_positive(values, lv_rows, lhs, rhs, free) -> None:
    """Set the free covariances of the latent variables (their (co)variance rows
    ``lv_rows``) to 0 in ``values`` when their starts make the latent covariance matrix
    not positive definite (its Cholesky factor fails): each is bounded by its pair's
    variances, but not jointly (two factors close to a third, one of them fixed
    uncorrelated with it)."""
    pos: dict[str, int] = {}
    for r in lv_rows:
        pos.setdefault(lhs[r], len(pos))
        pos.setdefault(rhs[r], len(pos))
    if len(pos) < 2:
        return
    psi = np.zeros((len(pos), len(pos)))
    for r in lv_rows:
        psi[pos[lhs[r]], pos[rhs[r]]] = psi[pos[rhs[r]], pos[lhs[r]]] = values[r]
    if lapack.dpotrf(psi, lower=1, clean=0)[1] == 0:
        return
    for r in lv_rows:
        if free[r] and lhs[r] != rhs[r]:
            values[r] = 0.0


def _fixed(ustart: float) -> float:
    """Value of a fixed row: its ``ustart``, 0 where that is NA."""
    return 0.0 if math.isnan(ustart) else ustart


def _clip(x: float, lo: float, hi: float) -> float:
    """``min(max(x, lo), hi)``, exactly (NaN passes), without the builtins' argument
    handling."""
    x = lo if lo > x else x
    return hi if hi < x else x


def _intercept_start(a, idx, mean, loading_of, n_factors, lv_mean) -> float:
    """Mean of a latent variable (see :func:`start_values`), or intercept of an observed
    one: its mean less what its one factor's mean implies."""
    if a not in idx:
        return lv_mean.get(a, 0.0)
    f, lam = loading_of.get(a, ("", 0.0))
    if n_factors.get(a, 0) == 1 and f in lv_mean:
        return mean[idx[a]] - lam * lv_mean[f]
    return mean[idx[a]]


def _residual_start(
    var: float, loading: tuple[str, float] | None, n_factors: int, lv_var: dict[str, float]
) -> float:
    """Residual variance of an observed variable: what its one factor leaves of its
    variance (between 10% and 90% of it), else half its variance."""
    if loading is None or n_factors != 1 or loading[0] not in lv_var:
        return 0.5 * var
    f, lam = loading
    return _clip(var - lam * lam * lv_var[f], 0.1 * var, 0.9 * var)


def _loading_start(f, x, idx, S, marker, indicators, lv_var) -> float:
    """Loading of ``x`` on ``f`` (``indicators``: each factor's observed indicators)."""
    if x not in idx:
        return 1.0
    if f in marker:
        cov = S[idx[x]][idx[marker[f]]]
        val = cov / lv_var[f] if lv_var[f] > 0 else 1.0
        return _clip(val, -10.0, 10.0) if math.isfinite(val) else 1.0
    # factor scaled by its variance (std_lv): loadings ~ sqrt of half the variance,
    # signed by the covariance with the first indicator
    scale = math.sqrt(0.5 * S[idx[x]][idx[x]])
    ref = indicators[f][0]
    if ref != x and S[idx[x]][idx[ref]] < 0:
        scale = -scale
    return scale


def _factor_variance(
    S: list[list[float]], idx: dict[str, int], marker: str, inds: list[str]
) -> float:
    """Variance of a marker-scaled factor from its indicators' covariances: with the
    marker ``m`` and two other indicators ``j``, ``k`` of a one-factor structure,
    ``S_mj S_mk / S_jk``, averaged over the pairs; half the marker's variance when that
    is not available or not plausible."""
    m = idx[marker]
    row = S[m]
    var = row[m]
    others = [idx[v] for v in inds if v != marker]
    ratios = []
    for a, j in enumerate(others):
        Sj = S[j]
        for k in others[a + 1 :]:
            if abs(Sj[k]) > 1e-12:
                ratios.append(row[j] * row[k] / Sj[k])
    if not ratios:
        return 0.5 * var
    est = _mean(ratios)
    if not math.isfinite(est) or est <= 0.05 * var or est >= var:
        return 0.5 * var
    return est


def _mean(x: list[float]) -> float:
    """``np.mean(x)``, to the last bit: numpy adds fewer than 8 numbers in order (and
    more in eight interleaved partial sums)."""
    if len(x) >= 8:
        return float(np.mean(x))
    total = 0.0
    for v in x:
        total += v
    return total / len(x)
