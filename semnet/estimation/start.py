"""Starting values from the sample moments (not lavaan's: its optimizer starts elsewhere
and stops at the same optimum).

Fixed rows take their fixed value (``fixed.x`` covariates: the sample moments).  Free
rows: the variance of a marker-scaled factor from its indicators' covariances
(``S_mj S_mk / S_jk``), loadings from the covariances with the marker, residual variances
what the factor leaves of the indicator's variance (half the variance otherwise), factor
covariances those of their markers, regressions and other covariances 0; latent means
0, or the marker's mean where its intercept is fixed, and observed intercepts the sample
means less what that mean implies.  A user's ``start()`` always wins.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from semnet.data.moments import GroupMoments
from semnet.partable.build import ParTable


def start_values(pt: ParTable, moments: Sequence[GroupMoments]) -> np.ndarray:
    """One value per row of ``pt.params`` (fixed rows: their values; free rows: starts)."""
    params = pt.cols
    lhs = params["lhs"]
    op = params["op"]
    rhs = params["rhs"]
    group = params["group"]
    free = params["free"] > 0
    ustart = params["ustart"]
    exo = params["exo"] > 0
    lv = set(pt.names.lv)
    values = np.zeros(len(params["op"]))
    for g, mom in enumerate(moments, start=1):
        idx = {v: k for k, v in enumerate(mom.names)}
        S, mean = mom.cov, mom.mean
        rows = np.flatnonzero(group == g)
        # marker indicator per factor (first observed indicator with a fixed loading)
        loadings = [r for r in rows if op[r] == "=~"]
        marker: dict[str, str] = {}
        for r in loadings:
            if rhs[r] in idx and lhs[r] not in marker and not free[r]:
                marker[lhs[r]] = rhs[r]
        first: dict[str, str] = {}
        for r in loadings:
            if rhs[r] in idx and lhs[r] not in first:
                first[lhs[r]] = rhs[r]
        indicators: dict[str, list[str]] = {}
        for r in loadings:
            if rhs[r] in idx:
                indicators.setdefault(lhs[r], []).append(rhs[r])
        lv_var: dict[str, float] = {}
        for f, m in marker.items():
            lv_var[f] = _factor_variance(S, idx, m, indicators.get(f, []))
        n_factors: dict[str, int] = {}
        for inds in indicators.values():
            for v in inds:
                n_factors[v] = n_factors.get(v, 0) + 1
        loading_of: dict[str, tuple[str, float]] = {}
        # a factor whose marker has a fixed intercept carries the marker's mean
        fixed_int = {
            lhs[r]: (0.0 if np.isnan(ustart[r]) else ustart[r])
            for r in rows if op[r] == "~1" and not free[r] and lhs[r] in idx
        }  # fmt: skip
        lv_mean = {
            f: mean[idx[m]] - fixed_int[m] for f, m in marker.items() if m in fixed_int
        }
        for r in rows:
            a, o, b = lhs[r], op[r], rhs[r]
            if exo[r] and not free[r]:
                if o == "~~":
                    values[r] = S[idx[a], idx[b]]
                elif o == "~1":
                    values[r] = mean[idx[a]]
                continue
            if not free[r]:
                values[r] = 0.0 if np.isnan(ustart[r]) else ustart[r]
                continue
            if not np.isnan(ustart[r]):
                values[r] = ustart[r]
                continue
            if o == "=~":
                values[r] = _loading_start(a, b, idx, S, marker, first, lv_var, pt, lv)
                loading_of[b] = (a, values[r])
            elif o == "~~":
                if a == b and a in idx:
                    values[r] = _residual_start(S[idx[a], idx[a]], loading_of.get(a),
                                                n_factors.get(a, 0), lv_var)
                elif a == b:
                    values[r] = lv_var.get(a, 0.05)
                elif a in marker and b in marker and a in lv_var and b in lv_var:
                    # covariance of two marker-scaled factors: that of their markers
                    bound = 0.9 * np.sqrt(lv_var[a] * lv_var[b])
                    cov = S[idx[marker[a]], idx[marker[b]]]
                    values[r] = float(np.clip(cov, -bound, bound))
                else:
                    values[r] = 0.0
            elif o == "~1":
                values[r] = _intercept_start(a, idx, mean, loading_of, n_factors, lv_mean)
            else:
                values[r] = 0.0
    return values


def _intercept_start(a, idx, mean, loading_of, n_factors, lv_mean) -> float:
    """Mean of a latent variable (see :func:`start_values`), or intercept of an observed
    one: its mean less what its one factor's mean implies."""
    if a not in idx:
        return float(lv_mean.get(a, 0.0))
    f, lam = loading_of.get(a, ("", 0.0))
    if n_factors.get(a, 0) == 1 and f in lv_mean:
        return float(mean[idx[a]] - lam * lv_mean[f])
    return float(mean[idx[a]])


def _residual_start(
    var: float, loading: tuple[str, float] | None, n_factors: int, lv_var: dict[str, float]
) -> float:
    """Residual variance of an observed variable: what its one factor leaves of its
    variance (between 10% and 90% of it), else half its variance."""
    if loading is None or n_factors != 1 or loading[0] not in lv_var:
        return 0.5 * var
    f, lam = loading
    return float(np.clip(var - lam * lam * lv_var[f], 0.1 * var, 0.9 * var))


def _loading_start(f, x, idx, S, marker, first, lv_var, pt, lv) -> float:
    if x not in idx:
        return 1.0
    if f in marker and marker[f] in idx:
        m = idx[marker[f]]
        cov = S[idx[x], m]
        val = cov / lv_var[f] if lv_var[f] > 0 else 1.0
        return float(np.clip(val, -10.0, 10.0)) if np.isfinite(val) else 1.0
    # factor scaled by its variance (std_lv): loadings ~ sqrt of half the variance,
    # signed by the covariance with the first indicator
    scale = np.sqrt(0.5 * S[idx[x], idx[x]])
    ref = first.get(f)
    if ref is not None and ref in idx and ref != x and S[idx[x], idx[ref]] < 0:
        scale = -scale
    return float(scale)


def _factor_variance(S: np.ndarray, idx: dict[str, int], marker: str, inds: list[str]) -> float:
    """Variance of a marker-scaled factor from its indicators' covariances: with the
    marker ``m`` and two other indicators ``j``, ``k`` of a one-factor structure,
    ``S_mj S_mk / S_jk``, averaged over the pairs; half the marker's variance when that
    is not available or not plausible."""
    m = idx[marker]
    fallback = 0.5 * S[m, m]
    others = [idx[v] for v in inds if v != marker]
    if len(others) < 2:
        return fallback
    o = np.array(others)
    sm = S[m, o]
    sjk = S[np.ix_(o, o)]
    iu = np.triu_indices(len(o), 1)
    denom = sjk[iu]
    ok = np.abs(denom) > 1e-12
    if not ok.any():
        return fallback
    est = float(np.mean((np.outer(sm, sm)[iu][ok]) / denom[ok]))
    if not np.isfinite(est) or est <= 0.05 * S[m, m] or est >= S[m, m]:
        return fallback
    return est
