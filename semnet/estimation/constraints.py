"""Equality constraints as a linear reparametrization ``x = x0 + K z``.

Shared labels (``a*x1`` ... ``a*x2``), ``group_equal`` and linear ``==`` constraints
(``v2 == v3``, ``a + b == 1``) all reduce the free parameters ``x`` to an unconstrained
vector ``z``.  The estimates, their covariance matrix and the degrees of freedom then
follow exactly, as with lavaan's equality-constraint handling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import null_space

from semnet.errors import ModelSpecificationError
from semnet.partable.build import ParTable
from semnet.syntax import parse_expression


@dataclass(frozen=True)
class LinearConstraints:
    """``x = x0 + K z``; ``n_eq`` is the number of independent equality constraints.

    ``R`` and ``r`` are the constraints themselves (``R x = r``, one row per constraint,
    in the space of the free rows ``x``), and ``rows`` describes each: for a tie made
    by a shared label, the pair of parameter-row positions ``(i, j)`` in
    :attr:`ParTable.params`; for an explicit ``==``, its :class:`Constraint`.
    """

    K: np.ndarray
    x0: np.ndarray
    n_eq: int
    R: np.ndarray
    r: np.ndarray
    rows: tuple = ()

    def to_z(self, x: np.ndarray) -> np.ndarray:
        return np.linalg.lstsq(self.K, x - self.x0, rcond=None)[0]

    def to_x(self, z: np.ndarray) -> np.ndarray:
        return self.x0 + self.K @ z


class ParameterNames:
    """Values of labels, plabels and ``:=`` definitions from a vector of row values."""

    def __init__(self, pt: ParTable) -> None:
        params = pt.params
        self.pt = pt
        self.index: dict[str, int] = {}
        for i, (lab, plab) in enumerate(zip(params["label"], params["plabel"], strict=True)):
            if lab and lab not in self.index:
                self.index[lab] = i
            self.index[plab] = i
        self.definitions = [
            (c.lhs, parse_expression(c.rhs, c.line, c.column))
            for c in pt.constraints
            if c.op == ":="
        ]

    def env(self, values: np.ndarray) -> dict[str, float]:
        env = {name: values[i] for name, i in self.index.items()}
        for name, expr in self.definitions:
            env[name] = expr.evaluate(env)
        return env

    def defined(self, values: np.ndarray) -> np.ndarray:
        env = self.env(values)
        return np.array([env[name] for name, _ in self.definitions], dtype=float)


def linear_constraints(pt: ParTable, model_nfree: int, free: np.ndarray) -> LinearConstraints:
    """Build the reparametrization from labels and ``==`` rows of ``pt``.

    Parameters
    ----------
    free : ndarray
        The ``free`` column of ``pt.params`` (1-based free index, 0 for fixed rows).
    """
    params = pt.params
    q = model_nfree
    rows: list[np.ndarray] = []
    rhs: list[float] = []
    what: list = []
    # shared labels among free rows
    labelled = params[(params["label"] != "") & (params["free"] > 0)]
    for _, grp in labelled.groupby("label", sort=False):
        idx = grp["free"].to_numpy() - 1
        positions = grp.index.to_numpy()
        for k, pos in zip(idx[1:], positions[1:], strict=True):
            r = np.zeros(q)
            r[idx[0]], r[k] = 1.0, -1.0
            rows.append(r)
            rhs.append(0.0)
            what.append((int(positions[0]), int(pos)))
    # explicit constraints
    names = ParameterNames(pt)
    others = [c for c in pt.constraints if c.op in ("==", "<", ">")]
    if others:
        base = np.zeros(len(params))
        for c in others:
            if c.op in ("<", ">"):
                raise ModelSpecificationError(
                    f"line {c.line}: the inequality constraint '{c.lhs} {c.op} {c.rhs}' is not "
                    "supported yet; fix the parameter or reparametrize the model."
                )
            lhs = parse_expression(c.lhs, c.line, c.column)
            rhs_e = parse_expression(c.rhs, c.line, c.column)

            def h(x, lhs=lhs, rhs_e=rhs_e):
                v = base.copy()
                fr = free > 0
                v[fr] = x[free[fr] - 1]
                env = names.env(v)
                return float(lhs.evaluate(env) - rhs_e.evaluate(env))

            grad0 = _numeric_gradient(h, np.zeros(q))
            grad1 = _numeric_gradient(h, np.linspace(0.3, 1.7, q))
            if not np.allclose(grad0, grad1, rtol=1e-6, atol=1e-8):
                raise ModelSpecificationError(
                    f"line {c.line}: the constraint '{c.lhs} == {c.rhs}' is nonlinear; semnet "
                    "handles linear equality constraints so far."
                )
            if not np.any(grad0):
                raise ModelSpecificationError(
                    f"line {c.line}: the constraint '{c.lhs} == {c.rhs}' involves no free "
                    "parameter; remove it or free a parameter it names."
                )
            rows.append(grad0)
            rhs.append(-h(np.zeros(q)))
            what.append(c)
    if not rows:
        return LinearConstraints(np.eye(q), np.zeros(q), 0, np.zeros((0, q)), np.zeros(0))
    R = np.vstack(rows)
    r = np.array(rhs)
    rank = np.linalg.matrix_rank(R)
    K = null_space(R)
    x0 = np.linalg.lstsq(R, r, rcond=None)[0]
    if not np.allclose(R @ x0, r, atol=1e-9):
        raise ModelSpecificationError(
            "the equality constraints contradict each other (no parameter values satisfy "
            "them all); check the '==' lines and repeated labels."
        )
    return LinearConstraints(K, x0, int(rank), R, r, tuple(what))


def _numeric_gradient(h, x: np.ndarray) -> np.ndarray:
    eps = 1e-6
    out = np.empty(x.size)
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = eps
        out[k] = (h(x + e) - h(x - e)) / (2 * eps)
    return out


