"""Modification indices and expected parameter changes (lavaan's ``modindices()``).

Every parameter that is fixed in the model, or absent from it but could be added
(cross-loadings, residual covariances, regressions, intercepts: lavaan's
``lav_partable_full``), is freed in an extended model evaluated at the current
estimates.  With ``g`` the gradient of the ML discrepancy and ``I`` the expected
information of the extended model (per case), the index of candidate ``j`` is the
one-degree-of-freedom score statistic::

    v_j  = I_jj - I_j,model  I_model^-1  I_model,j
    MI_j = N g_j^2 / v_j,        EPC_j = -g_j / v_j

where ``I_model^-1`` is the (constrained) inverse information of the fitted model, so
equality constraints in the model are kept as they are.  Candidates with
``v_j < eps^(1/3)`` (not identified when freed, e.g. a marker loading) are dropped.

Unlike lavaan, semnet offers no candidates that touch the moments of ``fixed.x``
covariates (their variances, covariances and means, or regressions of a covariate on
other variables): those moments are fixed at their sample values, so their indices are
zero or meaningless (lavaan's ``strict.exo`` behaviour).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from semnet.errors import OptionError
from semnet.inference.vcov import tangent_basis
from semnet.matrices.ram import Model
from semnet.partable.build import ParTable
from semnet.results.standardize import row_scales

if TYPE_CHECKING:
    from semnet.results.fit import Fit

_EPS13 = np.finfo(float).eps ** (1 / 3)


def candidate_keys(fit: Fit) -> list[tuple[str, str, str, int]]:
    """Parameters lavaan's ``lav_partable_full`` offers, per group, in its order."""
    pt = fit.partable
    names = pt.names
    params = pt.params
    ov, lv = list(names.ov), list(names.lv)
    ov_x = list(names.ov_x) if fit.options.fixed_x else []
    ov_nox = [v for v in ov if v not in ov_x]
    eqs = list(
        dict.fromkeys(
            list(params.loc[params["op"] == "~", "lhs"])
            + list(params.loc[params["op"] == "~", "rhs"])
        )
    )
    ov_ind = set(names.ov_ind)
    other = {v for v in ov if v not in ov_ind and v not in ov_x and v not in eqs}
    keys: list[tuple[str, str, str, int]] = []
    for g in range(1, pt.ngroups + 1):
        keys += [(f, "=~", v, g) for f in lv for v in ov_nox if v not in eqs]

        def lower(vs: list[str]) -> list[tuple[str, str]]:
            return [(vs[j], vs[i]) for j in range(len(vs)) for i in range(j, len(vs))]

        keys += [
            (a, "~~", b, g) for a, b in lower(ov_nox) if not (a in other or b in other)
        ]
        keys += [(a, "~~", b, g) for a, b in lower(lv)]
        keys += [
            (y, "~", x, g)
            for y, x in itertools.product(eqs, eqs)
            if y != x and not (y in ov_ind and x in lv) and y not in ov_x
        ]
        if pt.meanstructure:
            keys += [(v, "~1", "", g) for v in ov_nox + lv]
    return keys


def modification_indices(fit: Fit, sort: bool = True, minimum: float = 0.0) -> pd.DataFrame:
    """Modification indices of ``fit``; see the module docstring.

    Parameters
    ----------
    sort : bool
        Largest index first (default); otherwise lavaan's parameter-table order.
    minimum : float
        Drop indices at or below this value.

    Returns
    -------
    DataFrame
        ``lhs, op, rhs, group, mi, epc, sepc_lv, sepc_all``.
    """
    if isinstance(minimum, bool) or not isinstance(minimum, int | float | np.number) or np.isnan(
            minimum):  # fmt: skip
        raise OptionError(f"minimum must be a number (the smallest mi kept), not {minimum!r}.")
    pt = fit.partable
    params = pt.params
    existing = {
        (a, o, b, int(g))
        for a, o, b, g in zip(params["lhs"], params["op"], params["rhs"], params["group"],
                              strict=True)
    }
    existing |= {(b, "~~", a, g) for a, o, b, g in existing if o == "~~"}
    new = []
    for key in candidate_keys(fit):
        if key not in existing:
            new.append(key)
            existing.add(key)
            if key[1] == "~~":
                existing.add((key[2], "~~", key[0], key[3]))
    fixed_rows = np.flatnonzero((params["free"].to_numpy() == 0) & (params["exo"].to_numpy() == 0))
    q = fit.model.nfree
    ext = params.copy()
    n_old = len(params)
    ext_new = pd.DataFrame(
        {
            "id": np.arange(n_old + 1, n_old + 1 + len(new)),
            "lhs": [k[0] for k in new],
            "op": [k[1] for k in new],
            "rhs": [k[2] for k in new],
            "user": 0,
            "block": [k[3] for k in new],
            "group": [k[3] for k in new],
            "free": 0,
            "ustart": np.nan,
            "exo": 0,
            "label": "",
            "plabel": "",
            "lower": -np.inf,
            "upper": np.inf,
        }
    )
    ext = pd.concat([ext, ext_new], ignore_index=True)
    cand_rows = np.concatenate([fixed_rows, np.arange(n_old, len(ext))])
    free = ext["free"].to_numpy(dtype=int, copy=True)
    free[cand_rows] = q + 1 + np.arange(cand_rows.size)
    ext["free"] = free
    ext_pt = ParTable.from_frame(
        ext, pt.names, pt.groups, pt.meanstructure, (), pt.ordered, pt.parameterization
    )
    model = Model(ext_pt)
    values = np.concatenate([fit.values, np.zeros(len(new))])
    x = np.empty(model.nfree)
    x[free[free > 0] - 1] = values[free > 0]
    disc = fit.discrepancy(model, values)
    ev = disc.evaluate(x)
    info, grad = ev.information, ev.gradient
    m_idx = np.arange(q)
    c_idx = q + np.arange(cand_rows.size)
    K = tangent_basis(fit.constraints, fit.x)
    i22 = K.T @ info[np.ix_(m_idx, m_idx)] @ K
    i22_inv = K @ np.linalg.inv(i22) @ K.T
    i12 = info[np.ix_(c_idx, m_idx)]
    v = np.diag(info[np.ix_(c_idx, c_idx)]) - np.einsum("ij,jk,ik->i", i12, i22_inv, i12)
    v = np.where(v < _EPS13, np.nan, v)
    g = grad[c_idx]
    n = fit.ntotal
    mi = n * g * g / v
    epc = -g / v
    # standardized EPCs: variances implied by the fitted model; covariances scaled by
    # the current residual variances (lavaan's cov.std)
    scales = row_scales(model, values)
    sepc_lv = epc * scales["std_lv"][cand_rows]
    sepc_all = epc * scales["std_all"][cand_rows]
    is_var = (ext["op"].to_numpy()[cand_rows] == "~~") & (
        ext["lhs"].to_numpy()[cand_rows] == ext["rhs"].to_numpy()[cand_rows]
    )
    small = is_var & (np.abs(values[cand_rows]) < np.sqrt(np.finfo(float).eps))
    sepc_lv = np.where(small, 0.0, sepc_lv)
    sepc_all = np.where(small, 0.0, sepc_all)
    labels = pt.groups
    out = pd.DataFrame(
        {
            "lhs": ext["lhs"].to_numpy()[cand_rows],
            "op": ext["op"].to_numpy()[cand_rows],
            "rhs": ext["rhs"].to_numpy()[cand_rows],
            "group": pd.array(
                [None if pt.ngroups == 1 else labels[int(gr) - 1]
                 for gr in ext["group"].to_numpy()[cand_rows]],
                dtype=object,
            ),
            "mi": mi,
            "epc": epc,
            "sepc_lv": sepc_lv,
            "sepc_all": sepc_all,
        }
    )
    out = out[out["mi"].notna()]
    if minimum > 0:
        out = out[out["mi"] > minimum]
    if sort:
        out = out.sort_values("mi", ascending=False, kind="stable")
    return out.reset_index(drop=True)
