"""Standardized parameters (lavaan's ``std.lv`` and ``std.all``) from row values.

With ``sd`` the model-implied standard deviations of all variables (observed and
latent) in the RAM form, a directed path ``i <- j`` becomes ``a * sd_j / sd_i``, a
(co)variance ``s / (sd_i sd_j)`` and an intercept ``m / sd_i``.  ``std.lv`` uses the
latent standard deviations only (observed ones count as 1).  Defined parameters
(``:=``) are evaluated at the standardized values, as lavaan does.
"""

from __future__ import annotations

import numpy as np

from semnet.estimation.constraints import ParameterNames
from semnet.matrices.ram import Model


def row_scales(
    model: Model, values: np.ndarray, kind: str = "std_all", rvar: np.ndarray | None = None
) -> np.ndarray:
    """Multipliers that standardize each parameter row: ``std = value * scale``.

    Variances come from the model implied by ``values``; the residual variances used
    for covariances are the variance rows of ``values`` unless ``rvar`` (one value per
    variable and group, shape ``(ngroups, n)``) is given.
    """
    if kind not in ("std_all", "std_lv"):
        raise ValueError(kind)
    scale = np.ones(values.shape)
    ops = model.pt.params["op"]
    for g, c in enumerate(model.cells):
        full, _ = model.implied_all(values, g)
        with np.errstate(invalid="ignore"):
            sd = np.sqrt(np.diag(full))
        rv = np.diag(model.matrices(values, g).S) if rvar is None else rvar[g]
        rsd = np.sqrt(np.abs(rv))
        if kind == "std_lv":
            sd[: model.p] = 1.0
            rsd[: model.p] = 1.0
        diag = c.s_i == c.s_j
        # a regression on a latent product a:b is standardized with sd(a) sd(b), the
        # scale of the product of the standardized factors (Wen, Marsh & Hau, 2010),
        # not with the product factor's own SD
        pred_sd = sd[c.a_j].copy()
        for k in np.flatnonzero(ops[c.a_rows] == "~"):
            parts = model.variables[c.a_j[k]].split(":")
            if len(parts) == 2 and all(v in model.variables for v in parts):
                a, b = (model.variables.index(v) for v in parts)
                pred_sd[k] = sd[a] * sd[b]
        with np.errstate(invalid="ignore", divide="ignore"):
            scale[c.a_rows] = pred_sd / sd[c.a_i]
            scale[c.s_rows] = np.where(
                diag, 1.0 / (sd[c.s_i] * sd[c.s_j]), 1.0 / (rsd[c.s_i] * rsd[c.s_j])
            )
            scale[c.m_rows] = 1.0 / sd[c.m_i]
    return scale


def standardize(
    model: Model, names: ParameterNames, values: np.ndarray, kind: str = "std_all"
) -> np.ndarray:
    """Standardized values of every parameter row followed by every ``:=`` row."""
    out = values * row_scales(model, values, kind)
    if names.definitions:
        out = np.concatenate([out, names.defined(out)])
    return out
