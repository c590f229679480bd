"""The normal-theory ML discrepancy of one model for a stack of samples, and Newton's
method on all of them at once: the bootstrap's refits, a block of draws per call
(:func:`semnet.analyses.bootstrap.bootstrap`).

A model of a dozen observed variables costs little arithmetic per evaluation: the time
of a refit goes to numpy's per-call overhead.  Here every array carries a leading axis
over the samples (the draws), so one numpy call serves them all.  With several groups
the stack's members are the samples times the groups of each batch of the model
(groups of one structure; :func:`merged_batches`), and a sample's discrepancy is the
weighted sum over its groups, ``sum_g w_g F_g / 2`` with ``w_g = N_g / N``, its
derivatives in ``z`` the groups' cell derivatives gathered by tie class (or mapped
through ``K``).  Every operation acts on each sample's slice alone (no sum or
factorisation across samples), so a sample's result does not depend on which other
samples share the stack, and samples that converge simply leave it.

:func:`minimize_stack` takes exactly the steps of
:func:`semnet.estimation.optimize.minimize` on its usual path (a first Fisher-scoring
step, then Newton steps while the Hessian is positive definite, scoring steps
otherwise, a step halved until it lowers ``f`` enough, the same tests of convergence);
a sample that would leave that path (the symmetric-rank-one correction of a scoring
step after a small decrement, a step not found in 40 halvings, a failed confirmation,
a point where the discrepancy is not defined) is handed back unconverged, for the
caller to refit by :func:`~semnet.estimation.optimize.minimize` itself.  The
derivatives are those of the stacked groups of a multi-group model
(:func:`~semnet.estimation.ml.stacked_derivatives`) and the steps are solved by
``minimize``'s Cholesky routines, so the optimum agrees with ``minimize``'s to rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.linalg import lapack

from semnet.estimation.constraints import LinearConstraints
from semnet.estimation.ml import StackLayout, stack_layout, stacked_derivatives
from semnet.matrices.ram import Batch, Model

__all__ = ["StackEvaluation", "StackedML", "cholesky_stack", "merged_batches",
           "minimize_stack", "rowwise"]

#: Newton iterations after which a sample still in the stack is handed back
MAX_ITER = 100
#: members (samples x groups) of a stack evaluated at once (:meth:`StackedML.evaluate`)
CHUNK_MEMBERS = 64


class StackEvaluation(NamedTuple):
    """The discrepancy of every sample of a stack (``inf`` where it is not defined) and,
    where asked for, its gradient, expected information and Hessian with respect to the
    constrained parameters ``z`` (samples x ...)."""

    f: np.ndarray
    gradient: np.ndarray | None = None
    information: np.ndarray | None = None
    hessian: np.ndarray | None = None


class _BatchStack(NamedTuple):
    """One :class:`~semnet.matrices.ram.Batch` of a model, for a stack of samples: its
    groups' moments (samples x groups x ...), the layout of its products, and where
    its groups' cells go in ``z``: their positions (groups x cells) where each group's
    cells are distinct ties of ``z`` (else None), or else the maps of the cells to
    ``z`` (groups x cells x ``z``)."""

    batch: Batch
    layout: StackLayout
    cov: np.ndarray
    mean: np.ndarray
    logdet: np.ndarray
    cell_z: np.ndarray | None
    to_z: np.ndarray | None


def merged_batches(model: Model) -> tuple[Batch, ...]:
    """The model's batches, merged into one where they differ only in which cells are
    free: the batch with the most free cells, whose plan then serves every group (a
    cell fixed in a group has the parameter -1 there: its derivatives are left out).
    That is the usual multi-group model whose first group fixes the latent means the
    others free.  Otherwise the model's own batches.

    Examples
    --------
    >>> import semnet
    >>> fit = semnet.cfa("f =~ x1 + x2 + x3", semnet.datasets.holzinger_swineford(),
    ...                  group="school", group_equal=["loadings", "intercepts"])
    >>> len(fit.model.batches), len(merged_batches(fit.model))
    (2, 1)
    >>> int((merged_batches(fit.model)[0].cell_param < 0).sum())  # (group 1's mean)
    1
    """
    batches = model.batches
    if len(batches) == 1:
        return batches
    host = max(batches, key=lambda b: b.cell_param.shape[1])
    free = np.asarray(model.free)

    def free_at(rows: np.ndarray) -> np.ndarray:  # each fill position's parameter or -1
        return np.where(free[rows] > 0, free[rows] - 1, -1).astype(np.intp)

    at = free_at(host.fill_rows[0])
    # each host cell's fill position (its parameter must be at one place at least, and
    # be no other cell's)
    cp0 = host.cell_param[0]
    if np.unique(cp0).size != cp0.size:
        return batches
    pos = np.array([np.flatnonzero(at == c)[0] if (at == c).any() else -1 for c in cp0])
    if (pos < 0).any():
        return batches
    groups, fill_rows, cell_param = [], [], []
    for b in batches:
        if b.depth != host.depth or not np.array_equal(b.fill_idx, host.fill_idx):
            return batches
        for g, rows, own in zip(b.groups, b.fill_rows, b.cell_param, strict=True):
            cp = free_at(rows)[pos]
            if not np.array_equal(np.sort(cp[cp >= 0]), np.sort(own)):
                return batches  # (a free cell of the group the host plan has not)
            groups.append(g)
            fill_rows.append(rows)
            cell_param.append(cp)
    order = np.argsort(groups)
    return (host._replace(groups=np.array(groups)[order],
                          fill_rows=np.array(fill_rows)[order],
                          cell_param=np.array(cell_param)[order]),)


class _Gather(NamedTuple):
    """Where the sums over groups of their cells' derivatives (vectors or matrices)
    are in a buffer holding every group's, flattened and weighted, one after the
    other, then a zero: the groups' offsets, and per group the positions of each
    entry over ``z`` (the zero where the group has no cell there)."""

    offsets: np.ndarray
    positions: tuple[np.ndarray, ...]

    @classmethod
    def of(cls, cell_z: list[np.ndarray], nz: int, ndim: int) -> _Gather:
        sizes = [c.size**ndim for c in cell_z]
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        positions = []
        for c, off in zip(cell_z, offsets[:-1], strict=True):
            where = np.full(nz, -1)
            where[c[c >= 0]] = np.flatnonzero(c >= 0)  # (a cell -1 is in no z)
            if ndim == 1:
                pos = np.where(where >= 0, off + where, offsets[-1])
            else:
                inside = (where[:, None] >= 0) & (where[None, :] >= 0)
                pos = np.where(inside, off + where[:, None] * c.size + where[None, :],
                               offsets[-1]).ravel()
            positions.append(pos)
        return cls(offsets, tuple(positions))


class StackedML:
    """The ML discrepancy of a model with linear constraints ``con``, for a stack of
    samples: each with its own moments per group and its own fixed values (the
    ``fixed.x`` rows take each sample's moments).

    A sample's discrepancy is ``sum_g w_g F_g / 2`` (``w_g = N_g / N``, as
    :class:`~semnet.estimation.ml.MLDiscrepancy`), its derivatives in ``z`` are
    ``sum_g w_g M_g' D_g M_g`` with ``M_g`` the map of group ``g``'s free cells to
    ``z`` (through the free parameters and ``con.K``).  Inside an evaluation the
    groups of each batch of the model (groups of one structure) are stacked with the
    samples: samples x groups members, one derivative plan.

    Parameters
    ----------
    model : Model
        The model (one group or several).
    con : LinearConstraints
        Its linear constraints (``x = x0 + K z``).
    fixed : ndarray
        Samples x parameter rows: each sample's values of the fixed rows.
    cov, mean, logdet : ndarray
        Each sample's covariance matrices (N divisor), mean vectors and the
        log-determinants of its covariance matrices, per group: samples x groups x
        ... (for a one-group model the group axis may be left out).
    weights : ndarray, optional
        Samples x groups: each group's share ``N_g / N`` of each sample (needed with
        several groups).

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

    Two groups with equal loadings:

    >>> fit = semnet.cfa("f =~ x1 + x2 + x3", semnet.datasets.holzinger_swineford(),
    ...                  group="school", group_equal=["loadings"])
    >>> ms = fit.moments
    >>> stack = StackedML(fit.model, fit.constraints, np.array([fit.values]),
    ...                   np.array([[m.cov for m in ms]]), np.array([[m.mean for m in ms]]),
    ...                   np.array([[m.logdet for m in ms]]),
    ...                   np.array([[m.nobs / 301 for m in ms]]))
    >>> ev = stack.evaluate(np.array([fit.constraints.to_z(fit.x)]), np.arange(1))
    >>> bool(np.isclose(2 * 301 * ev.f[0], fit.chisq)), bool(abs(ev.gradient).max() < 1e-6)
    (True, True)
    """

    def __init__(self, model: Model, con: LinearConstraints, fixed: np.ndarray,
                 cov: np.ndarray, mean: np.ndarray, logdet: np.ndarray,
                 weights: np.ndarray | None = None) -> None:
        self.model, self.con, self.fixed = model, con, fixed
        if cov.ndim == 3:  # (one group)
            cov, mean, logdet = cov[:, None], mean[:, None], logdet[:, None]
        self.weights = None if cov.shape[1] == 1 else weights
        free = np.asarray(model.free)
        self.free_rows = model.free_rows
        self.free_index = free[self.free_rows].astype(np.intp) - 1
        self.nz = con.K.shape[1]
        #: each free parameter's position in z where z are ties of them (else None)
        self.classes = np.arange(model.nfree) if con.identity else con.classes
        batches = merged_batches(model)
        #: the groups in the order of the batches' groups
        self.order = np.concatenate([b.groups for b in batches])
        self.batches = tuple(
            self._batch_stack(b, cov[:, b.groups], mean[:, b.groups], logdet[:, b.groups])
            for b in batches)  # fmt: skip
        #: where every group's cells are distinct ties of z: the gradient's, the
        #: information's and the Hessian's gathers from the groups' weighted cells
        self.gather = None
        if all(bs.cell_z is not None for bs in self.batches):
            cz = [c for bs in self.batches for c in bs.cell_z]
            self.gather = (_Gather.of(cz, self.nz, 1), _Gather.of(cz, self.nz, 2),
                           _Gather.of(cz, self.nz, 2))
        self._buffers: dict[tuple[int, int], np.ndarray] = {}
        # one group whose cells are z itself, in order: its derivatives are those in z
        cz = self.batches[0].cell_z
        self.direct = (len(self.order) == 1 and cz is not None and cz.shape[1] == self.nz
                       and np.array_equal(cz[0], np.arange(self.nz)))

    def _batch_stack(self, batch: Batch, cov: np.ndarray, mean: np.ndarray,
                     logdet: np.ndarray) -> _BatchStack:
        model, plan = self.model, batch.plan
        layout = stack_layout(model, plan)
        cp = batch.cell_param
        if self.classes is not None:
            cz = np.where(cp >= 0, self.classes[cp], -1)
            if all(np.unique(c[c >= 0]).size == (c >= 0).sum() for c in cz):
                return _BatchStack(batch, layout, cov, mean, logdet, cz, None)
        # cells -> free parameters -> z, one matrix per group
        ncell = plan.ka + plan.ks + plan.km
        maps = []
        for c in cp:
            cells_to_x = np.zeros((ncell, model.nfree))
            cells_to_x[np.flatnonzero(c >= 0), c[c >= 0]] = 1.0
            maps.append(cells_to_x @ self.con.K)
        return _BatchStack(batch, layout, cov, mean, logdet, None, np.array(maps))

    def x_of(self, z: np.ndarray) -> np.ndarray:
        """The free parameters ``x0 + K z`` of each sample (samples x free)."""
        if self.con.identity:
            return z.copy()
        if self.classes is not None:  # (K of ties: a gather)
            return self.con.x0 + z[:, self.classes]
        return self.con.x0 + rowwise(z, self.con.K.T)

    def evaluate(self, z: np.ndarray, rows: np.ndarray, derivatives: bool = True,
                 hessian: bool = False, information: bool = True) -> StackEvaluation:
        """The discrepancy of the samples ``rows`` (positions in the stack) at ``z``
        (one row per sample of ``rows``), with its derivatives in ``z`` (with
        ``hessian``, the information only where asked for or free).  Many samples are
        evaluated in parts of about :data:`CHUNK_MEMBERS` members (samples x groups):
        the arrays of larger stacks outgrow the processor's caches."""
        size = max(1, CHUNK_MEMBERS // len(self.order))
        if len(rows) <= size:
            return self._evaluate(z, rows, derivatives, hessian, information)
        parts = [self._evaluate(z[a : a + size], rows[a : a + size], derivatives, hessian,
                                information) for a in range(0, len(rows), size)]
        return StackEvaluation(*(_joined([p[k] for p in parts], [len(p.f) for p in parts])
                                 for k in range(4)))

    def _evaluate(self, z: np.ndarray, rows: np.ndarray, derivatives: bool, hessian: bool,
                  information: bool) -> StackEvaluation:
        """:meth:`evaluate` of one part."""
        nb = len(rows)
        values = self.fixed[rows]
        values[:, self.free_rows] = self.x_of(z)[:, self.free_index]
        parts = []
        for bs in self.batches:
            part = self._members(bs, values, rows, derivatives, hessian)
            if part is None:
                return StackEvaluation(np.full(nb, np.inf))
            parts.append(part)
        w = None if self.weights is None else self.weights[rows][:, self.order]
        f = None
        for j, fg in enumerate(np.concatenate([part[0] for part in parts], axis=1).T):
            term = fg if w is None else w[:, j] * fg
            f = term if f is None else f + term
        f[~np.isfinite(f)] = np.inf
        if not derivatives or not np.isfinite(f).any():
            return StackEvaluation(f)
        if not self.direct:
            return StackEvaluation(f, *self._in_z(parts, w, hessian, information))
        _, g, info, h = parts[0]
        h = None if h is None else (h[:, 0] + h[:, 0].transpose(0, 2, 1)) / 2
        return StackEvaluation(f, g[:, 0], info[:, 0], h)

    def _in_z(self, parts: list[tuple], w: np.ndarray | None, hessian: bool,
              information: bool) -> tuple:
        """``sum_g w_g g_g M_g`` and ``sum_g w_g M_g' D_g M_g`` of the groups' cell
        derivatives ``parts`` (per batch, as :meth:`_members` gives them), group by
        group in the batches' order: gathered from the weighted cells where the cells
        are ties of ``z`` (:attr:`gather`: the sums of
        :class:`~semnet.estimation.ml.MLDiscrepancy`), else products with the maps,
        one per sample.  Without ``information`` (and with ``hessian``) the
        information is None."""
        nb = len(parts[0][1])
        cells = [(bs, k, part) for bs, part in zip(self.batches, parts, strict=True)
                 for k in range(part[1].shape[1])]  # fmt: skip
        wk = [None if w is None else w[:, j, None] for j in range(len(cells))]
        pick = [1, 2, 3] if hessian else [1, 2]
        if hessian and not information:
            pick.remove(2)
        out = dict.fromkeys((1, 2, 3))
        if self.gather is not None:
            for q in pick:
                idx = self.gather[q - 1]
                buf = self._buffer(q, nb, idx.offsets[-1] + 1)
                for j, (_, k, part) in enumerate(cells):
                    a = part[q][:, k]
                    dest = buf[:, idx.offsets[j] : idx.offsets[j + 1]].reshape(a.shape)
                    if q == 3:  # (the symmetric part, halved with the weight)
                        np.add(a, a.transpose(0, 2, 1), out=dest)
                        dest *= 0.5 if wk[j] is None else 0.5 * wk[j][:, :, None]
                    elif wk[j] is None:
                        dest[...] = a
                    else:
                        np.multiply(wk[j] if q == 1 else wk[j][:, :, None], a, out=dest)
                total = buf.take(idx.positions[0], axis=1)
                for pos in idx.positions[1:]:
                    total += buf.take(pos, axis=1)
                out[q] = total if q == 1 else total.reshape(nb, self.nz, self.nz)
            return out[1], out[2], out[3]
        for q in pick:
            total = None
            for j, (bs, k, part) in enumerate(cells):
                M = bs.to_z[k]
                a = rowwise(part[q][:, k], M) if q == 1 else M.T @ part[q][:, k] @ M
                if wk[j] is not None:
                    a = (wk[j] if q == 1 else wk[j][:, :, None]) * a
                total = a if total is None else total + a
            out[q] = total
        h = out[3]
        if h is not None:
            h = (h + h.transpose(0, 2, 1)) / 2
        return out[1], out[2], h

    def _buffer(self, q: int, nb: int, size: int) -> np.ndarray:
        """A buffer of ``nb`` rows for :meth:`_in_z`'s weighted cells of kind ``q``
        (kept: new large arrays cost page faults), its last column zero."""
        buf = self._buffers.get((q, nb))
        if buf is None:
            buf = self._buffers[q, nb] = np.zeros((nb, size))
        return buf

    def _members(self, bs: _BatchStack, values: np.ndarray, rows: np.ndarray,
                 derivatives: bool, hessian: bool) -> tuple | None:
        """``F_g / 2`` (samples x groups: ``inf`` where it is not defined) of the
        groups of one batch for the samples ``rows``, and with ``derivatives`` their
        gradients, information matrices and Hessians over their cells (samples x
        groups x ...); None where the model's matrices are singular."""
        nb, nrow = values.shape
        batch = bs.batch
        k = len(batch.groups)
        nm = nb * k
        members = batch._replace(
            groups=np.zeros(nm, dtype=np.intp),
            fill_rows=(batch.fill_rows[None] + nrow * np.arange(nb)[:, None, None]
                       ).reshape(nm, -1))
        try:
            st = self.model.batch_state(values.ravel(), members)
        except np.linalg.LinAlgError:
            return None
        p = self.model.p
        L, ok = cholesky_stack(st.C[:, :p, :p])
        f = np.full(nm, np.inf)
        if not ok.all():  # (evaluated where it is defined: the caller drops the others)
            if not ok.any():
                return f.reshape(nb, k), None, None, None
            L[~ok] = np.eye(p)
        l_inv = np.linalg.inv(L)
        inv = l_inv.transpose(0, 2, 1) @ l_inv
        d = bs.mean[rows].reshape(nm, p) - st.Bm[:, :p]
        cov = bs.cov[rows].reshape(nm, p, p)
        f2 = (2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
              + (inv * cov).sum(axis=(1, 2)) - bs.logdet[rows].ravel() - p)
        if self.model.meanstructure:
            f2 += np.einsum("gi,gij,gj->g", d, inv, d)
        f[ok] = 0.5 * f2[ok]
        if not derivatives:
            return (f.reshape(nb, k),)
        g, info, h = stacked_derivatives(self.model, members, st, cov, d, inv, hessian,
                                         bs.layout)
        shape = (nb, k, *info.shape[1:])
        return (f.reshape(nb, k), g.reshape(nb, k, -1), info.reshape(shape),
                None if h is None else h.reshape(shape))


def _joined(parts: list[np.ndarray | None], sizes: list[int]) -> np.ndarray | None:
    """The parts of a stack's result joined (None where every part is None; NaN for a
    part that is None beside others that are not: its samples' ``f`` is not defined)."""
    shape = next((p.shape[1:] for p in parts if p is not None), None)
    if shape is None:
        return None
    return np.concatenate([np.full((n, *shape), np.nan) if p is None else p
                           for p, n in zip(parts, sizes, strict=True)])


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
    """``H^-1 g`` for each of a stack of symmetric matrices by its Cholesky factor (as
    :func:`~semnet.estimation.optimize.minimize` solves), and which are positive
    definite (the steps of the others are NaN).  One LAPACK call per matrix: faster
    than numpy's stacked routines for matrices of this size."""
    step = np.full_like(g, np.nan)
    ok = np.zeros(len(g), dtype=bool)
    for b in range(len(g)):
        factor, info = lapack.dpotrf(H[b], lower=1)
        if info == 0:
            step[b] = lapack.dpotrs(factor, g[b], lower=1)[0]
            ok[b] = True
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
        every = nt.all()  # (no copies where every sample takes the same kind of step)
        s, pd = _solve_pd(*((st.hess, st.g) if every else (st.hess[nt], st.g[nt])))
        if every:
            step = s
        else:
            step[nt] = s
        # a Hessian that is not positive definite: a scoring step
        off = np.flatnonzero(nt)[~pd]
        nt[off] = False
        if off.size:
            st = _with_information(stack, st, off)
    if not nt.all():  # the scoring step
        sc = ~nt
        H = st.info if sc.all() else st.info[sc]
        q = H.shape[1]
        ridge = 1e-12 * np.trace(H, axis1=1, axis2=2) / q
        step[sc], pd = _solve_pd(H + ridge[:, None, None] * np.eye(q), st.g[sc])
        # minimize corrects the scoring metric (symmetric rank one) after a decrement
        # below 1e-5 (not done here)
        ok[sc] &= pd & (st.last[sc] >= 1e-5)
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
    st, z_new, dec, step = st.take(ok), z_new[ok], dec[ok], step[ok]
    if not st.rows.size:
        return st
    # the full step, with the Hessian where the next step is a Newton step
    new = _full_step(stack, st, z_new, dec)
    ok = np.isfinite(new.f) & (new.f <= st.f - 1e-4 * dec)
    if not ok.all():
        new, ok = _line_search(stack, st, step, new, ok)
    f_new = new.f
    done = ok & (np.abs(st.f - f_new) <= 1e-16 * np.maximum(1.0, np.abs(st.f))) & (dec < 1e-10)
    if done.any():
        finish(st.rows[done], z_new[done], f_new[done])
    return new.take(ok & ~done)


def _with_information(stack: StackedML, st: _State, rows: np.ndarray) -> _State:
    """``st`` with the information of the samples ``rows`` where their last
    evaluation (with the Hessian) left it out: evaluated again at their points (the
    information does not depend on whether the Hessian is computed too)."""
    info = st.info
    if info is None:
        q = st.g.shape[1]
        info = np.full((len(st.rows), q, q), np.nan)
    missing = rows[~np.isfinite(info[rows]).all(axis=(1, 2))]
    if missing.size:
        info[missing] = stack.evaluate(st.z[missing], st.rows[missing]).information
    return st._replace(info=info)


def _full_step(stack: StackedML, st: _State, z_new: np.ndarray, dec: np.ndarray) -> _State:
    """The samples of ``st`` after their full steps to ``z_new``: evaluated with the
    Hessian (and without the information) where the next step is a Newton step (a
    decrement below 1), with the information otherwise."""
    newton = dec < 1.0
    # the information where a Newton step follows a scoring step (where the Hessian
    # is most often not yet positive definite; elsewhere _with_information gives it)
    first = not st.newton.all()
    if newton.all() or not newton.any():
        ev = stack.evaluate(z_new, st.rows, hessian=bool(newton[0]), information=first)
        g_new = np.empty_like(st.g) if ev.gradient is None else ev.gradient
        return _State(st.rows, z_new, ev.f, g_new, ev.information, ev.hessian, newton, dec)
    f_new = np.full(len(st.rows), np.inf)
    g_new = np.empty_like(st.g)
    q = g_new.shape[1]
    i_new = np.full((len(st.rows), q, q), np.nan)
    h_new = np.full_like(i_new, np.nan)
    for part in (newton, ~newton):
        ev = stack.evaluate(z_new[part], st.rows[part], hessian=part is newton,
                            information=first)
        f_new[part] = ev.f
        if ev.gradient is not None:
            g_new[part] = ev.gradient
        if ev.information is not None:
            i_new[part] = ev.information
        if ev.hessian is not None:
            h_new[part] = ev.hessian
    return _State(st.rows, z_new, f_new, g_new, i_new, h_new, newton, dec)


def _line_search(stack: StackedML, st: _State, step: np.ndarray, new: _State,
                 ok: np.ndarray) -> tuple[_State, np.ndarray]:
    """minimize's backtracking for the samples whose full step does not lower ``f``
    enough (not ``ok``): the step halved until it does, at most 39 times (``f``
    alone at each trial; the gradient and information, no Hessian, where the step is
    found: the next step is a scoring step).  The samples after the step (``new`` with
    the shortened steps of those whose step was found) and ``ok`` with them added."""
    ok = ok.copy()
    pending = np.flatnonzero(~ok)
    found = []
    t = 1.0
    for _ in range(39):
        if not pending.size:
            break
        t *= 0.5
        z_t = st.z[pending] - t * step[pending]
        f_t = stack.evaluate(z_t, st.rows[pending], derivatives=False).f
        good = np.isfinite(f_t) & (f_t <= st.f[pending] - 1e-4 * t * new.last[pending])
        if good.any():
            took = pending[good]
            new.z[took], new.f[took] = z_t[good], f_t[good]
            found.append(took)
        pending = pending[~good]
    if not found:
        return new, ok
    took = np.concatenate(found)
    ev = stack.evaluate(new.z[took], new.rows[took])
    info = new.info
    if info is None:
        q = new.g.shape[1]
        info = np.full((len(ok), q, q), np.nan)
    new.g[took], info[took] = ev.gradient, ev.information
    new.newton[took] = False
    ok[took] = True
    return new._replace(info=info), ok
