"""Equality constraints as a linear reparametrization ``x = x0 + K z``.

Shared labels (``a*x1`` ... ``a*x2``), ``group_equal`` and linear ``==`` constraints
(``v2 == v3``, ``a + b == 1``) all reduce the free parameters ``x`` to an unconstrained
vector ``z``.  The estimates, their covariance matrix and the degrees of freedom then
follow exactly, as with lavaan's equality-constraint handling.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
from scipy.linalg import null_space

from semnet.errors import ModelSpecificationError
from semnet.partable.build import ParTable
from semnet.syntax import parse_expression
from semnet.syntax.model import Constraint


@dataclass(frozen=True)
class LinearConstraints:
    """``x = x0 + K z``; ``n_eq`` is the number of independent equality constraints.

    ``R`` and ``r`` are the constraints themselves (``R x = r``, one row per constraint,
    in the space of the free rows ``x``), and ``rows`` describes each: for a tie made
    by a shared label, the pair of parameter-row positions ``(i, j)`` in
    :attr:`ParTable.params`; for an explicit ``==``, its :class:`Constraint`.
    ``nonlinear`` holds the :class:`NonlinearConstraint` s (nonlinear ``==`` and all
    ``<``/``>``), which the optimizer enforces directly.
    """

    K: np.ndarray
    x0: np.ndarray
    n_eq: int
    R: np.ndarray
    r: np.ndarray
    rows: tuple = ()
    nonlinear: tuple = ()
    #: ``x = z`` (``K`` the identity, ``x0 = 0``: no equality constraint), so the maps
    #: below copy or pass their argument through instead of multiplying by ``K``
    identity: bool = False

    def to_z(self, x: np.ndarray) -> np.ndarray:
        """The least-squares ``z`` of ``x``: ``K`` has orthogonal columns (the identity,
        0/1 indicators of tied parameters, or an orthonormal null-space basis), so it is
        ``K'(x - x0)`` divided by the squared column norms."""
        if self.identity:
            return np.array(x, dtype=float)
        return self.gradient_z(x - self.x0) / self._col_norms

    @cached_property
    def _col_norms(self) -> np.ndarray:
        ties = self._ties
        if ties is not None:
            return np.bincount(ties.cls, minlength=self.K.shape[1]).astype(float)
        return (self.K * self.K).sum(axis=0)

    @cached_property
    def _ties(self) -> _TieClasses | None:
        """The classes of tied parameters where ``K`` holds one 1 in each row and every
        column (ties from labels and ``group_equal``), else None: the maps below then
        gather and sum by class instead of multiplying by ``K`` (with many groups, ``K``
        is large and almost empty)."""
        if self.identity or np.count_nonzero(self.K) != self.K.shape[0]:
            return None
        cls = self.K.argmax(axis=1)
        if not np.all(self.K[np.arange(cls.size), cls] == 1.0):
            return None
        classes, first = np.unique(cls, return_index=True)
        if classes.size != self.K.shape[1]:
            return None
        others = np.ones(cls.size, dtype=bool)
        others[first] = False
        extra = np.flatnonzero(others)
        into = cls[extra]
        repeated = np.unique(into).size != into.size
        return _TieClasses(cls, first, extra, into, repeated)

    @property
    def classes(self) -> np.ndarray | None:
        """The class (the position in ``z``) of each free parameter where ``K`` is made
        of ties only (labels, ``group_equal``), else None: then ``gradient_z`` and
        ``matrix_z`` sum by class, and a discrepancy can sum its derivatives into the
        classes itself (``evaluate(..., classes=...)``)."""
        ties = self._ties
        return None if ties is None else ties.cls

    def to_x(self, z: np.ndarray) -> np.ndarray:
        if self.identity:
            return np.array(z, dtype=float)
        ties = self._ties
        return self.x0 + (self.K @ z if ties is None else z[ties.cls])

    def gradient_z(self, gradient: np.ndarray) -> np.ndarray:
        """The gradient with respect to ``z`` of a gradient with respect to ``x``."""
        if self.identity:
            return gradient
        ties = self._ties
        if ties is None:
            return self.K.T @ gradient
        return np.bincount(ties.cls, weights=gradient, minlength=self.K.shape[1])

    def matrix_x(self, matrix: np.ndarray) -> np.ndarray:
        """``K M K'``: a covariance matrix of ``z`` as one of ``x``."""
        if self.identity:
            return matrix
        ties = self._ties
        if ties is None:
            return self.K @ matrix @ self.K.T
        return matrix[np.ix_(ties.cls, ties.cls)]

    def matrix_z(self, matrix: np.ndarray) -> np.ndarray:
        """``K' M K``: a Hessian or information matrix in ``x`` as one in ``z``."""
        if self.identity:
            return matrix
        ties = self._ties
        if ties is None:
            return self.K.T @ matrix @ self.K
        # the rows of each class's first parameter plus those of its other members, then
        # the same by columns
        rows = matrix[ties.first]
        _add_rows(rows, ties, matrix[ties.extra])
        out = rows[:, ties.first]
        out = out.T
        _add_rows(out, ties, rows[:, ties.extra].T)
        return out.T


def _add_rows(out: np.ndarray, ties: _TieClasses, rows: np.ndarray) -> None:
    """Add each row of ``rows`` (one per other member of a class) to its class's row of
    ``out``, in place; a class's several other members are summed first, in order."""
    if not ties.repeated:
        out[ties.into] += rows
        return
    total = np.zeros_like(out)
    np.add.at(total, ties.into, rows)
    out += total


class _TieClasses(NamedTuple):
    """``K`` of ties only: the class of each parameter, the first parameter of each
    class, the other parameters, their classes, and whether a class has more than one
    other parameter."""

    cls: np.ndarray
    first: np.ndarray
    extra: np.ndarray
    into: np.ndarray
    repeated: bool


class ParameterNames:
    """Values of labels, plabels and ``:=`` definitions from a vector of row values."""

    def __init__(self, pt: ParTable) -> None:
        params = pt.cols
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


@dataclass(frozen=True)
class NonlinearConstraint:
    """A constraint ``h(x) == 0`` (``equality``) or ``h(x) >= 0`` that is not linear,
    or any inequality; ``h`` maps the free parameters ``x`` to a number."""

    constraint: Constraint
    h: Callable[[np.ndarray], float]
    equality: bool


def linear_constraints(
    pt: ParTable, model_nfree: int, free: np.ndarray, fixed_values: np.ndarray | None = None
) -> LinearConstraints:
    """Build the reparametrization from labels and ``==`` rows of ``pt``.

    Linear equalities become ``x = x0 + K z``; nonlinear equalities and all inequalities
    (``<``, ``>``) are returned in :attr:`LinearConstraints.nonlinear` for a constrained
    optimizer.

    Parameters
    ----------
    free : ndarray
        The ``free`` column of ``pt.params`` (1-based free index, 0 for fixed rows).
    fixed_values : ndarray, optional
        Values of the fixed rows (labels of fixed parameters may appear in constraints).
    """
    params = pt.cols
    q = model_nfree
    if not pt.constraints and not any(params["label"].tolist()):  # (labels: text, "" none)
        K, x0 = np.eye(q), np.zeros(q)
        # no constraint: R and r are empty (views of K and x0, which hold no numbers)
        return LinearConstraints(K, x0, 0, K[:0], x0[:0], identity=True)
    # shared labels among free rows: the first row of a label is tied to each other one
    free_col = params["free"].tolist()
    label_col = params["label"]
    groups: dict[str, list[int]] = {}
    for pos in np.flatnonzero((label_col != "") & (params["free"] > 0)).tolist():
        groups.setdefault(label_col[pos], []).append(pos)
    ties = [(positions[0], pos) for positions in groups.values() for pos in positions[1:]]
    tied = np.array([(free_col[first] - 1, free_col[pos] - 1) for first, pos in ties],
                    dtype=int).reshape(-1, 2)  # fmt: skip
    R_ties = np.zeros((len(ties), q))
    R_ties[np.arange(len(ties)), tied[:, 0]] = 1.0
    R_ties[np.arange(len(ties)), tied[:, 1]] = -1.0
    rows: list[np.ndarray] = list(R_ties)
    rhs: list[float] = [0.0] * len(ties)
    what: list = list(ties)
    nonlinear: list[NonlinearConstraint] = []
    # explicit constraints
    explicit = [c for c in pt.constraints if c.op in ("==", "<", ">")]
    if explicit:
        names = ParameterNames(pt)
        base = np.zeros(len(params["op"])) if fixed_values is None else fixed_values.copy()
        fr = free > 0
    for c in explicit:
        lhs = parse_expression(c.lhs, c.line, c.column)
        rhs_e = parse_expression(c.rhs, c.line, c.column)
        sign = -1.0 if c.op == "<" else 1.0

        def h(x, lhs=lhs, rhs_e=rhs_e, sign=sign):
            v = base.copy()
            v[fr] = x[free[fr] - 1]
            env = names.env(v)
            return sign * float(lhs.evaluate(env) - rhs_e.evaluate(env))

        grad0 = _numeric_gradient(h, np.zeros(q))
        grad1 = _numeric_gradient(h, np.linspace(0.3, 1.7, q))
        if not (np.any(grad0) or np.any(grad1)):
            raise ModelSpecificationError(
                f"line {c.line}: the constraint '{c.lhs} {c.op} {c.rhs}' involves no free "
                "parameter; remove it or free a parameter it names."
            )
        linear = np.allclose(grad0, grad1, rtol=1e-6, atol=1e-8)
        if c.op == "==" and linear:
            rows.append(grad0)
            rhs.append(-h(np.zeros(q)))
            what.append(c)
        else:
            nonlinear.append(NonlinearConstraint(c, h, c.op == "=="))
    n_nonlinear_eq = sum(nc.equality for nc in nonlinear)
    if ties and len(rows) == len(ties):
        # only ties from shared labels: z holds one value per class of tied parameters
        # (numbered in the order of their smallest member)
        _, number = np.unique(_tie_labels(q, tied.tolist()), return_inverse=True)
        K = np.zeros((q, int(number.max()) + 1))
        K[np.arange(q), number] = 1.0
        return LinearConstraints(
            K, np.zeros(q), q - K.shape[1], R_ties, np.zeros(len(ties)), tuple(what),
            tuple(nonlinear),
        )
    if not rows:
        return LinearConstraints(
            np.eye(q), np.zeros(q), n_nonlinear_eq, np.zeros((0, q)), np.zeros(0), (),
            tuple(nonlinear), identity=True,
        )
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
    return LinearConstraints(
        K, x0, int(rank) + n_nonlinear_eq, R, r, tuple(what), tuple(nonlinear)
    )


def _tie_labels(q: int, pairs: list[tuple[int, int]]) -> list[int]:
    """The class label of each of ``q`` parameters after the ties ``pairs``, in order:
    a tie of ``a < b`` gives ``b``'s class the label of ``a``'s (union-find: linear in
    the ties, where relabelling every parameter per tie was quadratic with many
    groups)."""
    parent = list(range(q))  # a class's label is its root

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in pairs:
        a, b = sorted((i, j))
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[rb] = ra
    return [root(i) for i in range(q)]


def _numeric_gradient(h, x: np.ndarray) -> np.ndarray:
    eps = 1e-6
    out = np.empty(x.size)
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = eps
        out[k] = (h(x + e) - h(x - e)) / (2 * eps)
    return out


