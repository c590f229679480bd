"""Starting values, in the spirit of lavaan's ``start = "simple"`` with data-based loadings.

Fixed rows take their fixed value (``fixed.x`` covariates: the sample moments).  Free
rows: residual variances half the observed variance, latent variances and loadings from
the covariances with the marker indicator, regressions and covariances 0, observed
intercepts the sample means, latent means 0.  A user's ``start()`` always wins.
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
        lv_var: dict[str, float] = {}
        for f, m in marker.items():
            lv_var[f] = 0.5 * S[idx[m], idx[m]]
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
            elif o == "~~":
                if a == b:
                    if a in idx:
                        values[r] = 0.5 * S[idx[a], idx[a]]
                    else:
                        values[r] = lv_var.get(a, 0.05)
                else:
                    values[r] = 0.0
            elif o == "~1":
                values[r] = mean[idx[a]] if a in idx else 0.0
            else:
                values[r] = 0.0
    return values


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
