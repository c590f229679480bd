"""The normal-theory ML discrepancy of one single-group model for a stack of samples,
and Newton's method on all of them at once: the bootstrap's refits, a block of draws
per call (:func:`semnet.analyses.bootstrap.bootstrap`).

A model of a dozen observed variables costs little arithmetic per evaluation: the time
of a refit goes to numpy's per-call overhead.  Here every array carries a leading axis
over the samples (the draws), so one numpy call serves them all.  Every operation acts
on each sample's slice alone (no sum or factorisation across samples), so a sample's
result does not depend on which other samples share the stack, and samples that
converge simply leave it.

:func:`minimize_stack` takes exactly the steps of
:func:`semnet.estimation.optimize.minimize` on its usual path (a first Fisher-scoring
step, then Newton steps taken in full, the same tests of convergence); a sample that
would leave that path (a step that must be shortened, a Hessian that is not positive
definite, a point where the discrepancy is not defined) is handed back unconverged, for
the caller to refit by :func:`~semnet.estimation.optimize.minimize` itself.  The
derivatives are those of the stacked groups of a multi-group model
(:func:`~semnet.estimation.ml.stacked_derivatives`), so the optimum agrees with
``minimize``'s to rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.linalg import lapack

from semnet.estimation.constraints import LinearConstraints
from semnet.estimation.ml import stack_layout, stacked_derivatives
from semnet.matrices.ram import Model

__all__ = ["StackEvaluation", "StackedML", "cholesky_stack", "minimize_stack", "rowwise"]

#: Newton iterations after which a sample still in the stack is handed back
MAX_ITER = 100


class StackEvaluation(NamedTuple):
    """The discrepancy of every sample of a stack (``inf`` where it is not defined) and,
    where asked for, its gradient, expected information and Hessian with respect to the
    constrained parameters ``z`` (samples x ...)."""

    f: np.ndarray
    gradient: np.ndarray | None = None
    information: np.ndarray | None = None
    hessian: np.ndarray | None = None


class StackedML:
    """The ML discrepancy of a single-group model with linear constraints ``con``, for
    a stack of samples: each with its own moments and its own fixed values (the
    ``fixed.x`` rows take each sample's moments).

    Parameters
    ----------
    model : Model
        A single-group model.
    con : LinearConstraints
        Its linear constraints (``x = x0 + K z``).
    fixed : ndarray
        Samples x parameter rows: each sample's values of the fixed rows.
    cov, mean, logdet : ndarray
        Each sample's covariance matrix (N divisor), mean vector and the
        log-determinant of its covariance matrix.

    Examples
    --------
    >>> import numpy as np, semnet
    >>> fit = semnet.sem("x2 ~ x1\\nx3 ~ x2", semnet.datasets.holzinger_swineford())
    >>> m = fit.moments[0]
    >>> stack = StackedML(fit.model, fit.constraints, np.array([fit.values] * 2),
    ...                   np.array([m.cov] * 2), np.array([m.mean] * 2),
    ...                   np.array([m.logdet] * 2))
    >>> z = np.array([fit.constraints.to_z(fit.x)] * 2)
    >>> ev = stack.evaluate(z, np.arange(2), hessian=True)
    >>> bool(np.allclose(2 * 301 * ev.f, fit.chisq)), ev.hessian.shape
    (True, (2, 4, 4))
    """

    def __init__(self, model: Model, con: LinearConstraints, fixed: np.ndarray,
                 cov: np.ndarray, mean: np.ndarray, logdet: np.ndarray) -> None:
        self.model, self.con = model, con
        self.fixed, self.cov, self.mean, self.logdet = fixed, cov, mean, logdet
        self.batch = model.batches[0]
        plan = self.batch.plan
        free = np.asarray(model.free)
        self.free_rows = model.free_rows
        self.free_index = free[self.free_rows].astype(np.intp) - 1
        # cells -> free parameters -> z, as one matrix (None: the cells are z itself)
        cells_to_x = np.zeros((plan.ka + plan.ks + plan.km, model.nfree))
        cells_to_x[np.arange(plan.cell_param.size), plan.cell_param] = 1.0
        to_z = cells_to_x @ con.K
        same = to_z.shape[0] == to_z.shape[1] and np.array_equal(to_z, np.eye(len(to_z)))
        self.to_z = None if same else to_z
        self.layout = stack_layout(model, plan)

    def x_of(self, z: np.ndarray) -> np.ndarray:
        """The free parameters ``x0 + K z`` of each sample (samples x free)."""
        return z.copy() if self.con.identity else self.con.x0 + rowwise(z, self.con.K.T)

    def evaluate(self, z: np.ndarray, rows: np.ndarray, derivatives: bool = True,
                 hessian: bool = False) -> StackEvaluation:
        """The discrepancy of the samples ``rows`` (positions in the stack) at ``z``
        (one row per sample of ``rows``), with its derivatives in ``z``."""
        nb = len(rows)
        values = self.fixed[rows]
        values[:, self.free_rows] = self.x_of(z)[:, self.free_index]
        nrow = values.shape[1]
        batch = self.batch._replace(
            groups=np.zeros(nb, dtype=np.intp),
            fill_rows=self.batch.fill_rows[0] + nrow * np.arange(nb)[:, None])
        try:
            st = self.model.batch_state(values.ravel(), batch)
        except np.linalg.LinAlgError:
            return StackEvaluation(np.full(nb, np.inf))
        p = self.model.p
        L, ok = cholesky_stack(st.C[:, :p, :p])
        f = np.full(nb, np.inf)
        if not ok.all():  # (evaluated where it is defined: the caller drops the others)
            if not ok.any():
                return StackEvaluation(f)
            L[~ok] = np.eye(p)
        l_inv = np.linalg.inv(L)
        inv = l_inv.transpose(0, 2, 1) @ l_inv
        mu = st.Bm[:, :p]
        d = self.mean[rows] - mu
        cov = self.cov[rows]
        f2 = (2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
              + (inv * cov).sum(axis=(1, 2)) - self.logdet[rows] - p)
        if self.model.meanstructure:
            f2 += np.einsum("gi,gij,gj->g", d, inv, d)
        f[ok] = 0.5 * f2[ok]
        f[~np.isfinite(f)] = np.inf
        if not derivatives:
            return StackEvaluation(f)
        g, info, h = stacked_derivatives(self.model, batch, st, cov, d, inv, hessian,
                                         self.layout)
        M = self.to_z
        if M is not None:
            g = rowwise(g, M)
            info = M.T @ info @ M
            h = None if h is None else M.T @ h @ M
        if h is not None:
            h = (h + h.transpose(0, 2, 1)) / 2
        return StackEvaluation(f, g, info, h)


def rowwise(a: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``a @ m`` row by row (one product per row, as ``a[i] @ m``): a row's result does
    not depend on the other rows (a matrix product's blocking may).

    Examples
    --------
    >>> rowwise(np.ones((2, 3)), np.eye(3)).tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """
    return (a[:, None, :] @ m)[:, 0]


def cholesky_stack(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The lower Cholesky factors of a stack of matrices (reading their lower
    triangles), and which are positive definite (the others' factors are undefined).

    Examples
    --------
    >>> L, ok = cholesky_stack(np.array([np.eye(2), -np.eye(2)]))
    >>> ok.tolist()
    [True, False]
    """
    try:
        return np.linalg.cholesky(a), np.ones(len(a), dtype=bool)
    except np.linalg.LinAlgError:
        L = np.zeros_like(a)
        ok = np.zeros(len(a), dtype=bool)
        for b, m in enumerate(a):
            factor, info = lapack.dpotrf(m, lower=1, clean=1)
            ok[b] = info == 0
            if ok[b]:
                L[b] = factor
        return L, ok


def _solve_pd(H: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``H^-1 g`` for each of a stack of symmetric matrices, and which are positive
    definite (the steps of the others are NaN)."""
    _, ok = cholesky_stack(H)
    step = np.full_like(g, np.nan)
    if ok.any():
        step[ok] = np.linalg.solve(H[ok], g[ok][:, :, None])[:, :, 0]
    return step, ok


class _State(NamedTuple):
    """The samples still iterating: their positions in the stack, points, values of
    ``f``, gradients, information matrices, Hessians (None where none has one), whether
    the next step is a Newton step, and the last decrement."""

    rows: np.ndarray
    z: np.ndarray
    f: np.ndarray
    g: np.ndarray
    info: np.ndarray
    hess: np.ndarray | None
    newton: np.ndarray
    last: np.ndarray

    def take(self, keep: np.ndarray) -> _State:
        if keep.all():
            return self
        return _State(*(None if a is None else a[keep] for a in self))


def minimize_stack(stack: StackedML, z_start: np.ndarray, tol: float = 1e-14
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimize the discrepancy of every sample of ``stack`` from ``z_start`` (samples
    x ``z``) by the steps of :func:`~semnet.estimation.optimize.minimize`: the optimum
    ``z`` and ``f`` of each sample, and whether it converged on that path (where not,
    the caller refits the sample by ``minimize``).

    Examples
    --------
    >>> import numpy as np, semnet
    >>> fit = semnet.sem("x2 ~ x1\\nx3 ~ x2", semnet.datasets.holzinger_swineford())
    >>> m = fit.moments[0]
    >>> stack = StackedML(fit.model, fit.constraints, np.array([fit.values]),
    ...                   np.array([m.cov]), np.array([m.mean]), np.array([m.logdet]))
    >>> z, f, ok = minimize_stack(stack, np.array([fit.constraints.to_z(fit.x)]) * 1.1)
    >>> bool(ok[0]), bool(np.allclose(stack.x_of(z)[0], fit.x))
    (True, True)
    """
    n = len(z_start)
    z_out, f_out = z_start.copy(), np.full(n, np.nan)
    converged = np.zeros(n, dtype=bool)

    def finish(rows: np.ndarray, z: np.ndarray, f: np.ndarray) -> None:
        z_out[rows], f_out[rows] = z, f
        converged[rows] = True

    rows = np.arange(n)
    ev = stack.evaluate(z_start, rows)
    ok = np.isfinite(ev.f)
    st = _State(rows, z_start, ev.f, ev.gradient, ev.information, None,
                np.zeros(n, dtype=bool), np.full(n, np.inf)).take(ok)
    for _ in range(MAX_ITER):
        if not st.rows.size:
            break
        st = _iterate(stack, st, tol, finish)
    return z_out, f_out, converged


def _iterate(stack: StackedML, st: _State, tol: float,
             finish: Callable[[np.ndarray, np.ndarray, np.ndarray], None]) -> _State:
    """One iteration of :func:`minimize_stack` for the samples of ``st``: the samples
    that go on (those that converge are passed to ``finish``; those that leave the path
    are dropped)."""
    step = np.empty_like(st.g)
    ok = np.ones(len(st.rows), dtype=bool)
    nt = st.newton.copy()
    if nt.any():
        step[nt], pd = _solve_pd(st.hess[nt], st.g[nt])
        # a Hessian that is not positive definite: a scoring step, which minimize
        # corrects (symmetric rank one) after a decrement below 1e-5 (not done here)
        off = np.flatnonzero(nt)[~pd]
        nt[off] = False
        ok[off] = st.last[off] >= 1e-5
    if not nt.all():  # the scoring step (without that correction)
        H = st.info[~nt]
        q = H.shape[1]
        ridge = 1e-12 * np.trace(H, axis1=1, axis2=2) / q
        step[~nt], pd = _solve_pd(H + ridge[:, None, None] * np.eye(q), st.g[~nt])
        ok[~nt] &= pd
    dec = np.einsum("bi,bi->b", st.g, step)
    ok &= np.isfinite(dec) & (dec >= 0)
    done = ok & (dec < tol)
    if done.any():
        finish(st.rows[done], st.z[done], st.f[done])
    ok &= ~done
    z_new = st.z - step
    # a Newton step from a small decrement: only f confirms it
    confirm = ok & nt & (dec < 1e-8)
    if confirm.any():
        f_c = stack.evaluate(z_new[confirm], st.rows[confirm], derivatives=False).f
        good = np.isfinite(f_c) & (f_c <= st.f[confirm])
        finish(st.rows[confirm][good], z_new[confirm][good], f_c[good])
        ok &= ~confirm
    st, z_new, dec = st.take(ok), z_new[ok], dec[ok]
    if not st.rows.size:
        return st
    # the full step, with the Hessian where the next step is a Newton step
    newton = dec < 1.0
    if newton.all() or not newton.any():
        f_new, g_new, i_new, h_new = stack.evaluate(z_new, st.rows, hessian=bool(newton[0]))
    else:
        f_new = np.full(len(st.rows), np.inf)
        g_new, i_new = np.empty_like(st.g), np.empty_like(st.info)
        h_new = np.full_like(st.info, np.nan)
        for part in (newton, ~newton):
            ev = stack.evaluate(z_new[part], st.rows[part], hessian=part is newton)
            f_new[part], g_new[part], i_new[part] = ev.f, ev.gradient, ev.information
            if ev.hessian is not None:
                h_new[part] = ev.hessian
    ok = np.isfinite(f_new) & (f_new <= st.f - 1e-4 * dec)
    done = ok & (np.abs(st.f - f_new) <= 1e-16 * np.maximum(1.0, np.abs(st.f))) & (dec < 1e-10)
    if done.any():
        finish(st.rows[done], z_new[done], f_new[done])
    keep = ok & ~done
    return _State(st.rows, z_new, f_new, g_new, i_new, h_new, newton, dec).take(keep)
