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

from semnet.data.moments import GroupMoments
from semnet.partable.build import ParTable


def start_values(pt: ParTable, moments: Sequence[GroupMoments]) -> np.ndarray:
    """One value per row of ``pt.params`` (fixed rows: their values; free rows: starts)."""
    params = pt.cols
    # plain lists: the loops below read single cells, which numpy makes slow
    lhs = params["lhs"].tolist()
    op = params["op"].tolist()
    rhs = params["rhs"].tolist()
    group = params["group"].tolist()
    free = (params["free"] > 0).tolist()
    ustart = params["ustart"].tolist()
    exo = (params["exo"] > 0).tolist()
    values = [0.0] * len(op)
    rows_of: dict[int, list[int]] = {}
    if group and group.count(group[0]) == len(group):
        rows_of[group[0]] = list(range(len(group)))  # one group: every row, in order
    else:
        column = params["group"]
        for g in range(1, len(moments) + 1):
            rows_of[g] = np.flatnonzero(column == g).tolist()
    for g, mom in enumerate(moments, start=1):
        idx = {v: k for k, v in enumerate(mom.names)}
        S, mean = mom.cov.tolist(), mom.mean.tolist()
        rows = rows_of.get(g, [])
        # marker indicator per factor (first observed indicator with a fixed loading)
        loadings = [r for r in rows if op[r] == "=~" and rhs[r] in idx]
        marker: dict[str, str] = {}
        first: dict[str, str] = {}
        indicators: dict[str, list[str]] = {}
        for r in loadings:
            f, x = lhs[r], rhs[r]
            if f not in marker and not free[r]:
                marker[f] = x
            first.setdefault(f, x)
            indicators.setdefault(f, []).append(x)
        lv_var = {
            f: _factor_variance(S, idx, m, indicators.get(f, [])) for f, m in marker.items()
        }
        n_factors: dict[str, int] = {}
        for inds in indicators.values():
            for v in inds:
                n_factors[v] = n_factors.get(v, 0) + 1
        loading_of: dict[str, tuple[str, float]] = {}
        # a factor whose marker has a fixed intercept carries the marker's mean
        fixed_int = {
            lhs[r]: _fixed(ustart[r])
            for r in rows if op[r] == "~1" and not free[r] and lhs[r] in idx
        }  # fmt: skip
        lv_mean = {
            f: mean[idx[m]] - fixed_int[m] for f, m in marker.items() if m in fixed_int
        }
        for r in rows:
            a, o, b = lhs[r], op[r], rhs[r]
            if exo[r] and not free[r]:
                if o == "~~":
                    values[r] = S[idx[a]][idx[b]]
                elif o == "~1":
                    values[r] = mean[idx[a]]
                continue
            if not free[r]:
                values[r] = _fixed(ustart[r])
                continue
            if not math.isnan(ustart[r]):
                values[r] = ustart[r]
                continue
            if o == "=~":
                values[r] = _loading_start(a, b, idx, S, marker, first, lv_var)
                loading_of[b] = (a, values[r])
            elif o == "~~":
                if a == b and a in idx:
                    values[r] = _residual_start(S[idx[a]][idx[a]], loading_of.get(a),
                                                n_factors.get(a, 0), lv_var)
                elif a == b:
                    values[r] = lv_var.get(a, 0.05)
                elif a in marker and b in marker and a in lv_var and b in lv_var:
                    # covariance of two marker-scaled factors: that of their markers
                    bound = 0.9 * math.sqrt(lv_var[a] * lv_var[b])
                    values[r] = _clip(S[idx[marker[a]]][idx[marker[b]]], -bound, bound)
                else:
                    values[r] = 0.0
            elif o == "~1":
                values[r] = _intercept_start(a, idx, mean, loading_of, n_factors, lv_mean)
            else:
                values[r] = 0.0
        _keep_lv_covariance_positive(values, rows, lhs, op, rhs, free, idx)
    return np.array(values, dtype=float)


def _keep_lv_covariance_positive(values, rows, lhs, op, rhs, free, idx) -> None:
    """Set the free covariances of the latent variables to 0 (in ``values``) when their
    starts make the latent covariance matrix indefinite: each is bounded by its pair's
    variances, but not jointly (two factors close to a third, one of them fixed
    uncorrelated with it)."""
    lv_rows = [r for r in rows if op[r] == "~~" and lhs[r] not in idx and rhs[r] not in idx]
    names = sorted({lhs[r] for r in lv_rows} | {rhs[r] for r in lv_rows})
    pos = {v: k for k, v in enumerate(names)}
    psi = np.zeros((len(names), len(names)))
    for r in lv_rows:
        psi[pos[lhs[r]], pos[rhs[r]]] = psi[pos[rhs[r]], pos[lhs[r]]] = values[r]
    if len(names) < 2 or np.linalg.eigvalsh(psi)[0] > 0:
        return
    for r in lv_rows:
        if free[r] and lhs[r] != rhs[r]:
            values[r] = 0.0


def _fixed(ustart: float) -> float:
    """Value of a fixed row: its ``ustart``, 0 where that is NA."""
    return 0.0 if math.isnan(ustart) else ustart


def _clip(x: float, lo: float, hi: float) -> float:
    """``x`` limited to ``[lo, hi]`` (``np.clip`` of finite numbers)."""
    return min(max(x, lo), hi)


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


def _loading_start(f, x, idx, S, marker, first, lv_var) -> float:
    if x not in idx:
        return 1.0
    if f in marker and marker[f] in idx:
        cov = S[idx[x]][idx[marker[f]]]
        val = cov / lv_var[f] if lv_var[f] > 0 else 1.0
        return _clip(val, -10.0, 10.0) if math.isfinite(val) else 1.0
    # factor scaled by its variance (std_lv): loadings ~ sqrt of half the variance,
    # signed by the covariance with the first indicator
    scale = math.sqrt(0.5 * S[idx[x]][idx[x]])
    ref = first.get(f)
    if ref is not None and ref in idx and ref != x and S[idx[x]][idx[ref]] < 0:
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
    var = S[m][m]
    others = [idx[v] for v in inds if v != marker]
    ratios = [
        S[m][j] * S[m][k] / S[j][k]
        for a, j in enumerate(others)
        for k in others[a + 1 :]
        if abs(S[j][k]) > 1e-12
    ]
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
