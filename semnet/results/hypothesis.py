"""Score (Lagrange multiplier) tests for equality constraints and Wald tests.

Score test (lavaan's ``lavTestScore()``): with ``g`` the gradient of the ML discrepancy
at the constrained estimate in the space where every tied parameter is separate, ``I``
the expected information there (per case) and ``R`` the constraint matrix, the total
test of releasing all constraints is ``N g' I^+ g`` on ``rows(R)`` df, and the test of
releasing constraint ``r`` alone is ``N g' Z (Z' I Z)^-1 Z' g`` with ``Z`` spanning the
null space of the other constraints.

Wald test (``lavTestWald()``): for constraints ``h(x) = 0``,
``W = h' (J V J')^-1 h`` with ``J`` the Jacobian of ``h`` and ``V`` the covariance of
the estimates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats
from scipy.linalg import null_space

from semnet._blas import one_blas_thread
from semnet.errors import ModelSpecificationError, SemnetError
from semnet.estimation.constraints import ParameterNames
from semnet.estimation.optimize import constraint_jacobian
from semnet.syntax import parse_expression, parse_model

if TYPE_CHECKING:
    from semnet.results.fit import Fit


@dataclass(frozen=True)
class ScoreTest:
    """Result of :meth:`Fit.score_test`.

    Attributes
    ----------
    total : Series
        ``X2, df, pvalue`` of releasing all (or the released) constraints together.
    uni : DataFrame
        One row per constraint: ``param`` (e.g. ``"textual=~x5"``), ``groups`` (the
        groups it ties, e.g. ``"Pasteur,Grant-White"``), ``lhs``, ``rhs`` (the
        parameter labels of both sides, lavaan's ``.pN.`` form), ``X2, df, pvalue``.
    """

    total: pd.Series
    uni: pd.DataFrame

    def __repr__(self) -> str:
        t = self.total
        return (
            f"total score test: X2 = {t['X2']:.3f}, df = {int(t['df'])}, p = "
            f"{t['pvalue']:.4f}\n{self.uni.to_string(index=False)}"
        )


@one_blas_thread
def inverse_given_constraints(info: np.ndarray, R: np.ndarray) -> np.ndarray:
    """The inverse of the information ``info`` given the linear constraints ``R x = 0``.

    ``Z (Z' I Z)^-1 Z'`` with ``Z`` spanning the null space of ``R``: the covariance
    metric of the score tests (the pseudo-inverse of ``info`` without constraints).

    Parameters
    ----------
    info : numpy.ndarray
        ``q x q`` information matrix.
    R : numpy.ndarray
        ``k x q`` constraint matrix (``k`` may be 0).

    Returns
    -------
    numpy.ndarray
        ``q x q``, symmetric.

    Examples
    --------
    >>> import numpy as np
    >>> inverse_given_constraints(np.diag([2.0, 4.0]), np.array([[1.0, 0.0]])).round(3)
    array([[0.  , 0.  ],
           [0.  , 0.25]])
    """
    if R.shape[0] == 0:
        return np.linalg.pinv(info)
    Z = null_space(R)
    ziz = Z.T @ info @ Z
    out = Z @ np.linalg.solve(ziz, Z.T)
    return (out + out.T) / 2


def _describe(fit: Fit, item) -> tuple[str, str, str, str]:
    params = fit.partable.params
    if isinstance(item, tuple):
        i, j = item
        a, b = params.iloc[i], params.iloc[j]
        name = f"{a['lhs']}{a['op']}{a['rhs']}"
        if (b["lhs"], b["op"], b["rhs"]) != (a["lhs"], a["op"], a["rhs"]):
            name += f" == {b['lhs']}{b['op']}{b['rhs']}"
        labels = fit.partable.groups
        groups = (
            "" if fit.partable.ngroups == 1
            else f"{labels[int(a['group']) - 1]},{labels[int(b['group']) - 1]}"
        )
        return name, groups, str(a["plabel"]), str(b["plabel"])
    return f"{item.lhs} == {item.rhs}", "", item.lhs, item.rhs


def score_test(fit: Fit, release: list[int] | None = None) -> ScoreTest:
    """Score tests for releasing the model's equality constraints."""
    con = fit.constraints
    nonlinear = [nc for nc in con.nonlinear if nc.equality]
    R = con.R
    described = list(con.rows)
    if nonlinear:
        R = np.vstack([R, constraint_jacobian([nc.h for nc in nonlinear], fit.x)])
        described += [nc.constraint for nc in nonlinear]
    if R.shape[0] == 0:
        raise SemnetError(
            "the model has no equality constraints to release; score tests need labels "
            "shared by parameters, group_equal, or '==' constraints."
        )
    disc = fit.discrepancy()
    ev = disc.evaluate(fit.x)
    g, info = ev.gradient, ev.information
    n = fit.ntotal
    if release is None:
        idx = np.arange(R.shape[0])
        j_inv = np.linalg.pinv(info)
    else:
        idx = np.asarray(release)
        if (idx.dtype.kind not in "iu" or idx.ndim > 1 or idx.size == 0 or idx.min() < 0
                or idx.max() >= R.shape[0] or np.unique(idx).size < idx.size):
            raise SemnetError(
                f"release must list constraint numbers between 0 and {R.shape[0] - 1} (the "
                f"rows of score_test().uni), each once; got {release!r}."
            )
        idx = idx.reshape(-1)
        j_inv = inverse_given_constraints(info, np.delete(R, idx, axis=0))
    stat = float(n * g @ j_inv @ g)
    df = int(idx.size)
    total = pd.Series({"X2": stat, "df": df, "pvalue": float(stats.chi2.sf(stat, df))})
    rows = []
    for r in range(R.shape[0]):
        q = inverse_given_constraints(info, np.delete(R, r, axis=0))
        x2 = float(n * g @ q @ g)
        name, groups, lhs, rhs = _describe(fit, described[r])
        rows.append(
            {"param": name, "groups": groups, "lhs": lhs, "rhs": rhs, "X2": x2, "df": 1,
             "pvalue": float(stats.chi2.sf(x2, 1))}
        )
    return ScoreTest(total, pd.DataFrame(rows))


def wald(fit: Fit, constraints: str) -> pd.Series:
    """Wald test of constraints such as ``"b1 == b2"`` (several separated by ``;`` or lines).

    Returns
    -------
    Series
        ``stat, df, pvalue``.
    """
    if not isinstance(constraints, str):
        raise ModelSpecificationError(
            "wald() takes the constraints as one string, such as 'b1 == b2' (several "
            f"separated by ';' or new lines), not {type(constraints).__name__}."
        )
    parsed = parse_model(constraints)
    if parsed.relations or not parsed.constraints:
        raise ModelSpecificationError(
            "wald() takes constraints between labelled parameters, such as 'b1 == b2'; "
            "label the parameters in the model first (e.g. 'y ~ b1*x')."
        )
    if any(c.op != "==" for c in parsed.constraints):
        raise ModelSpecificationError("wald() tests equality constraints ('==') only.")
    if fit.vcov_free is None:
        raise SemnetError("the Wald test needs standard errors, which this fit does not have.")
    names = ParameterNames(fit.partable)
    known = set(names.env(fit.values))
    exprs = []
    for c in parsed.constraints:
        pair = (
            parse_expression(c.lhs, c.line, c.column),
            parse_expression(c.rhs, c.line, c.column),
        )
        for e in pair:
            for v in e.names:
                if v not in known:
                    raise ModelSpecificationError(
                        f"wald(): {v!r} is not a parameter label of this model; the labels are "
                        f"{', '.join(sorted(k for k in known if not k.startswith('.')))}."
                    )
        exprs.append(pair)

    def h(values: np.ndarray) -> np.ndarray:
        env = names.env(values)
        return np.array([float(a.evaluate(env) - b.evaluate(env)) for a, b in exprs])

    value = h(fit.values)
    J = fit.jacobian(h)
    cov = J @ fit.vcov_free @ J.T
    if np.linalg.matrix_rank(cov) < len(exprs):
        raise ModelSpecificationError(
            "wald(): the constraints are redundant: one follows from the others, or one "
            "does not involve the free parameters (such as 'a == a'); so their covariance "
            "matrix is singular (lavaan stops there too). Drop the redundant constraints."
        )
    stat = float(value @ np.linalg.solve(cov, value))
    df = len(exprs)
    return pd.Series({"stat": stat, "df": df, "pvalue": float(stats.chi2.sf(stat, df))})
