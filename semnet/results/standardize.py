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


def standardize(
    model: Model, names: ParameterNames, values: np.ndarray, kind: str = "std_all"
) -> np.ndarray:
    """Standardized values of every parameter row followed by every ``:=`` row."""
    out = values.copy()
    for g, c in enumerate(model.cells):
        full, _ = model.implied_all(values, g)
        var = np.diag(full).copy()
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.sqrt(var)
        if kind == "std_lv":
            sd[: model.p] = 1.0
        elif kind != "std_all":
            raise ValueError(kind)
        mats = model.matrices(values, g)
        rsd = np.sqrt(np.abs(np.diag(mats.S)))
        if kind == "std_lv":
            rsd[: model.p] = 1.0
        diag = c.s_i == c.s_j
        with np.errstate(invalid="ignore", divide="ignore"):
            out[c.a_rows] = values[c.a_rows] * sd[c.a_j] / sd[c.a_i]
            out[c.s_rows] = np.where(
                diag,
                values[c.s_rows] / (sd[c.s_i] * sd[c.s_j]),
                values[c.s_rows] / (rsd[c.s_i] * rsd[c.s_j]),
            )
            out[c.m_rows] = values[c.m_rows] / sd[c.m_i]
    if names.definitions:
        out = np.concatenate([out, names.defined(out)])
    return out
