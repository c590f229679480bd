"""Standardized parameters (lavaan's ``std.lv`` and ``std.all``) from row values.

With ``sd`` the model-implied standard deviations of all variables (observed and
latent) in the RAM form, a directed path ``i <- j`` becomes ``a * sd_j / sd_i``, a
(co)variance ``s / (sd_i sd_j)`` and an intercept ``m / sd_i``.  ``std.lv`` uses the
latent standard deviations only (observed ones count as 1).  Defined parameters
(``:=``) are evaluated at the standardized values, as lavaan does.  A row whose value
is 0 standardizes to 0, also where its scale is infinite (a variance fixed at 0).
"""

from __future__ import annotations

import numpy as np

from semnet.estimation.constraints import ParameterNames
from semnet.estimation.dwls import ordinal_rows
from semnet.matrices.ram import GroupCells, Model


def _product_predictors(model: Model, c: GroupCells) -> list[tuple[int, int, int]]:
    """``(k, a, b)`` for each regression ``c.a_rows[k]`` on a latent product ``a:b``."""
    ops = model.pt.cols["op"]
    index = {v: k for k, v in enumerate(model.variables)}
    out = []
    for k in np.flatnonzero(ops[c.a_rows] == "~"):
        parts = model.variables[c.a_j[k]].split(":")
        if len(parts) == 2 and all(v in index for v in parts):
            out.append((int(k), index[parts[0]], index[parts[1]]))
    return out


def row_scales(
    model: Model, values: np.ndarray, kinds: tuple[str, ...] = ("std_lv", "std_all")
) -> dict[str, np.ndarray]:
    """Multipliers that standardize each parameter row, ``std = value * scale``, for each
    of ``kinds`` (``"std_lv"``, ``"std_all"``), from one evaluation of the model.

    Variances come from the model implied by ``values``; the residual variances used
    for covariances are the variance rows of ``values``.
    """
    for kind in kinds:
        if kind not in ("std_all", "std_lv"):
            raise ValueError(kind)
    n, p = model.n, model.p
    ones = np.empty((len(kinds), values.size))
    ones.fill(1.0)
    scales = dict(zip(kinds, ones, strict=True))
    # (a ":" in the joined names is a ":" in one of them)
    has_products = ":" in "".join(model.variables)
    # (a non-positive implied variance gives a NaN SD, a zero SD an infinite scale)
    with np.errstate(invalid="ignore", divide="ignore"):
        for g, c in enumerate(model.cells):
            st = model.state(values, g)
            # one vector of the SDs then the residual SDs: a variance row divides by two
            # SDs, a covariance row by two residual SDs
            sds = np.empty(2 * n)
            np.sqrt(st.C.diagonal(), out=sds[:n])
            np.sqrt(np.abs(st.mats.S.diagonal()), out=sds[n:])
            off = n * (c.s_i != c.s_j)
            s_i, s_j = c.s_i + off, c.s_j + off
            # a regression on a latent product a:b is standardized with sd(a) sd(b), the
            # scale of the product of the standardized factors (Wen, Marsh & Hau, 2010),
            # not with the product factor's own SD
            products = _product_predictors(model, c) if has_products else []
            for kind in kinds:
                sd = sds
                if kind == "std_lv":  # the observed variables' SDs count as 1
                    sd = sds.copy()
                    sd[:p] = 1.0
                    sd[n : n + p] = 1.0
                pred_sd = sd[c.a_j]
                for k, a, b in products:
                    pred_sd[k] = sd[a] * sd[b]
                scale = scales[kind]
                scale[c.a_rows] = pred_sd / sd[c.a_i]
                scale[c.s_rows] = 1.0 / (sd[s_i] * sd[s_j])
                scale[c.m_rows] = 1.0 / sd[c.m_i]
                if model.pt.ordered:
                    # thresholds in the latent responses' SD; their scale factors times it
                    o = ordinal_rows(model.pt, g)
                    scale[o.thresholds] = 1.0 / sd[o.item]
                    scale[o.scales[o.is_item]] = sd[:p][o.is_item]
    return scales


def standardize(
    model: Model, names: ParameterNames, values: np.ndarray, kind: str = "std_all"
) -> np.ndarray:
    """Standardized values of every parameter row followed by every ``:=`` row."""
    return standardize_all(model, names, values, (kind,))[kind]


def standardize_all(
    model: Model,
    names: ParameterNames | None,
    values: np.ndarray,
    kinds: tuple[str, ...] = ("std_lv", "std_all"),
) -> dict[str, np.ndarray]:
    """:func:`standardize` of each of ``kinds``, from one evaluation of the model
    (``names`` ``None``: a table without ``:=`` rows)."""
    out = {}
    for kind, scale in row_scales(model, values, kinds).items():
        # a parameter at 0 is 0 in every metric, even by a zero variance (as lavaan's)
        with np.errstate(invalid="ignore"):
            std = np.where(values == 0, 0.0, values * scale)
        if names is not None and names.definitions:
            std = np.concatenate([std, names.defined(std)])
        out[kind] = std
    return out
