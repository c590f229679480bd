"""Covariance matrix of the estimates from the expected information (lavaan's default
``se = "standard"``, ``information = "expected"`` for complete-data ML).

Equality constraints restrict the estimates to a manifold with tangent basis ``T``
(the linear reparametrization ``K``, further reduced by the null space of the Jacobian of
the active nonlinear constraints), and ``V = T (T' I T)^-1 T' / N``, the same as lavaan's
bordered-information inverse.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import null_space

from semnet.estimation.constraints import LinearConstraints
from semnet.estimation.ml import Evaluation, MLDiscrepancy
from semnet.estimation.optimize import constraint_jacobian


class SingularInformationError(Exception):
    """The information matrix cannot be inverted; carries the smallest eigenvalue."""

    def __init__(self, smallest: float) -> None:
        self.smallest = smallest
        super().__init__(smallest)


def tangent_basis(con: LinearConstraints, x: np.ndarray) -> np.ndarray:
    """Basis ``T`` of the directions in ``x`` that keep every active constraint."""
    K = con.K
    active = [
        nc.h for nc in con.nonlinear if nc.equality or abs(nc.h(x)) < 1e-6
    ]
    if not active:
        return K
    z = con.to_z(x)
    A = constraint_jacobian([lambda zz, h=h: h(con.to_x(zz)) for h in active], z)
    return K @ null_space(A)


def expected_vcov(
    disc: MLDiscrepancy,
    con: LinearConstraints,
    x: np.ndarray,
    evaluation: Evaluation | None = None,
) -> np.ndarray:
    """Covariance of the free parameters ``x``; raises :class:`SingularInformationError`.

    ``evaluation``: the discrepancy's evaluation at ``x`` with its information, when the
    caller has it (e.g. from the optimizer).
    """
    ev = disc.evaluate(x) if evaluation is None or evaluation.information is None else evaluation
    T = tangent_basis(con, x)
    info = T.T @ ev.information @ T
    if info.size == 0:
        return np.zeros((x.size, x.size))
    eig = np.linalg.eigvalsh(info)
    if eig[0] <= 1e-10 * max(1.0, eig[-1]):
        raise SingularInformationError(float(eig[0]))
    inv = np.linalg.inv(info)
    return T @ ((inv + inv.T) / 2) @ T.T / disc.ntotal
