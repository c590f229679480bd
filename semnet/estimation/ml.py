"""Normal-theory maximum likelihood: discrepancy, analytic gradient, expected information.

The discrepancy is lavaan's ``fx`` for ``likelihood = "normal"`` (N divisor)::

    f(x) = sum_g (N_g / N) * 0.5 * [log|Sigma_g| + tr(S_g Sigma_g^-1) - log|S_g| - p
                                    + (ybar_g - mu_g)' Sigma_g^-1 (ybar_g - mu_g)]

so that the likelihood-ratio statistic against the unrestricted model is ``2 N f``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from scipy.linalg import lapack

from semnet.data.moments import GroupMoments, vech_indices
from semnet.matrices.ram import Batch, BatchState, DerivativePlan, GroupState, Model

SINGULAR = "I - B is singular (non-recursive loop)"
NOT_PD = "implied covariance is not positive definite"
#: groups of one structure evaluated as a stack (fewer: one by one, as a single group)
STACK_MIN = 4


class Evaluation(NamedTuple):
    """Discrepancy and, optionally, its gradient, expected information and Hessian."""

    f: float
    gradient: np.ndarray | None = None
    information: np.ndarray | None = None
    reason: str = ""
    hessian: np.ndarray | None = None


class _Stack(NamedTuple):
    """The stacked sample moments and the layout of the batch's products (None for a
    batch evaluated group by group) and the weights of a batch of groups."""

    mean: np.ndarray | None
    cov: np.ndarray | None
    logdet: np.ndarray | None
    weights: np.ndarray
    layout: StackLayout | None = None


class StackLayout(NamedTuple):
    """Where the products of a stack's ``U`` and ``V`` rows (:func:`stacked_derivatives`)
    are in those of ``src = [G'; C[:, :p]]``, whose rows they are (the ``u`` of a
    diagonal ``S`` cell halved).

    Attributes
    ----------
    gather : tuple of ndarray
        The flat positions, in ``src W src'``, of the blocks ``U W U'``, ``U W V'``,
        ``V W U'``, ``V W V'`` and of the diagonal of ``U W V'``.
    scales : tuple of ndarray
        The scales of ``U``'s rows: as ``outer(su, su)``, a column and a row.
    """

    gather: tuple[np.ndarray, ...]
    scales: tuple[np.ndarray, ...]


def stack_layout(model: Model, plan: DerivativePlan) -> StackLayout:
    """The :class:`StackLayout` of a derivative plan of ``model``.

    Examples
    --------
    >>> import semnet
    >>> fit = semnet.sem("x2 ~ x1", semnet.datasets.holzinger_swineford())
    >>> layout = stack_layout(fit.model, fit.model.batches[0].plan)
    >>> len(layout.gather), len(layout.scales)
    (5, 3)
    """
    n_c = plan.ks + plan.ka
    u_idx, v_idx = plan.uv_idx[:n_c], plan.uv_idx[n_c:]
    ns = 2 * model.n

    def flat(r: np.ndarray, c: np.ndarray) -> np.ndarray:
        return (r[:, None] * ns + c[None, :]).ravel()

    su = plan.uv_scale[:n_c, 0]
    return StackLayout(
        (flat(u_idx, u_idx), flat(u_idx, v_idx), flat(v_idx, u_idx), flat(v_idx, v_idx),
         u_idx * ns + v_idx),
        (np.outer(su, su), su[:, None], su[None, :]),
    )


def stacked_derivatives(
    model: Model,
    batch: Batch,
    st: BatchState,
    cov: np.ndarray,
    d: np.ndarray,
    inv: np.ndarray,
    hessian: bool,
    layout: StackLayout,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Gradient, expected information and (with ``hessian``) Hessian of ``F / 2`` over
    the free cells of every member of a stack (groups of one structure, or resamples of
    one group): stack x cells and stack x cells x cells, from the stacked state ``st``,
    sample covariance matrices ``cov``, mean residuals ``d`` and inverses ``inv`` of
    the implied covariance matrices.

    The traces are those of :meth:`MLDiscrepancy.evaluate`'s single group, computed from
    the products of ``src = [G'; C[:, :p]]`` (``U`` and ``V`` are rows of it; ``layout``
    says which).  Every operation acts on each member's slice alone, so a member's
    result does not depend on the others.  Of the Hessian only the symmetric part is
    exact (the callers symmetrize).

    Examples
    --------
    >>> import numpy as np, semnet
    >>> fit = semnet.sem("x2 ~ x1", semnet.datasets.holzinger_swineford())
    >>> model, batch = fit.model, fit.model.batches[0]
    >>> st = model.batch_state(fit.values, batch)
    >>> m = fit.moments[0]
    >>> inv = np.linalg.inv(st.C[:, :2, :2])
    >>> g, info, h = stacked_derivatives(model, batch, st, m.cov[None], np.zeros((1, 2)),
    ...                                  inv, True, stack_layout(model, batch.plan))
    >>> bool(np.abs(g).max() < 1e-8), info.shape == h.shape
    (True, True)
    """
    plan = batch.plan
    nb = len(st.C)
    sc, mc = plan.sigma_cells, plan.mu_cells
    k = plan.ks + plan.ka + plan.km
    n_c = plan.ks + plan.ka
    fuu, fuv, fvu, fvv, fdiag = layout.gather
    suu, suv, svu = layout.scales
    p = model.p
    src = np.concatenate([st.G.transpose(0, 2, 1), st.C[:, :, :p]], axis=1)
    srct = src.transpose(0, 2, 1)
    s_plus = cov + d[:, :, None] * d[:, None, :] if model.meanstructure else cov
    ama = inv @ s_plus @ inv
    Xs, As = src @ inv, src @ ama
    Pw = (Xs @ srct).reshape(nb, -1)
    shape = (nb, n_c, n_c)
    # U W U' etc. are the gathered blocks of src W src' times suu
    Puu, Puv = Pw[:, fuu].reshape(shape), Pw[:, fuv].reshape(shape)
    Pvu, Pvv = Pw[:, fvu].reshape(shape), Pw[:, fvv].reshape(shape)
    raw = Puu * Pvv
    raw += Puv * Pvu
    half_tr = raw * suu  # 0.5 tr(W X_a W X_b), the information
    u_idx, v_idx = plan.uv_idx[:n_c], plan.uv_idx[n_c:]
    if hessian:
        Pa = (As @ srct).reshape(nb, -1)
        g_sigma = (Pw[:, fdiag] - Pa[:, fdiag]) * svu[0]
    else:
        g_sigma = ((Xs - As)[:, u_idx] * src[:, v_idx]).sum(axis=2) * svu[0]
    full = not model.meanstructure  # (the cells are those of sigma)
    g_cells = g_sigma if full else np.zeros((nb, k))
    i_cells = half_tr if full else np.zeros((nb, k, k))
    if not full:
        g_cells[:, sc] = g_sigma
        i_cells[:, sc, sc] = half_tr
        U, V = src[:, u_idx] * suv, src[:, v_idx]
        XU, XV = Xs[:, u_idx] * suv, Xs[:, v_idx]
        Dm = model.batch_mean_derivatives(batch, st)
        ad = (inv @ d[:, :, None])[:, :, 0]
        g_cells[:, mc] -= (Dm @ ad[:, :, None])[:, :, 0]
        mu_info = Dm @ inv @ Dm.transpose(0, 2, 1)
        i_cells[:, mc, mc] += mu_info
    if not hessian:
        return g_cells, i_cells, None
    # the cross term (V W U' * U A V') plus its transpose is taken as twice the first
    h_sigma = Pvu * Pa[:, fuv].reshape(shape)
    h_sigma *= 2.0
    h_sigma += Pvv * Pa[:, fuu].reshape(shape)
    h_sigma += Puu * Pa[:, fvv].reshape(shape)
    h_sigma -= raw
    h_sigma *= suu
    h_cells = h_sigma if full else np.zeros((nb, k, k))
    g_mu = None
    if not full:
        h_cells[:, sc, sc] = h_sigma
        xw = XU * (V @ ad[:, :, None]) + XV * (U @ ad[:, :, None])
        cross = Dm @ xw.transpose(0, 2, 1)
        h_cells[:, mc, sc] += cross
        h_cells[:, sc, mc] += cross.transpose(0, 2, 1)
        h_cells[:, mc, mc] += mu_info
        g_mu = -ad
    model.batch_curvature_cells(batch, st, inv - ama, g_mu, h_cells)
    return g_cells, i_cells, h_cells


class MLDiscrepancy:
    """The multi-group normal-theory ML discrepancy of a model and its sample moments."""

    #: the optimizer may take Newton steps (``evaluate(..., hessian=True)``)
    newton = True

    def __init__(
        self, model: Model, moments: Sequence[GroupMoments], fixed_values: np.ndarray
    ) -> None:
        self.model = model
        self.moments = list(moments)
        self.fixed_values = fixed_values
        ntotal = sum(m.size for m in self.moments)
        self.ntotal = ntotal
        self.weights = np.array([m.size / ntotal for m in self.moments])
        #: per batch of groups of one structure (several groups): the stacked means,
        #: covariances and log-determinants of its groups where they are evaluated as a
        #: stack (else None), and their weights
        self._stacks = [] if len(self.moments) == 1 else [
            _Stack(
                np.stack([self.moments[g].mean for g in b.groups]),
                np.stack([self.moments[g].cov for g in b.groups]),
                np.array([self.moments[g].logdet for g in b.groups]),
                self.weights[b.groups],
                stack_layout(model, b.plan),
            ) if len(b.groups) >= STACK_MIN else _Stack(None, None, None, self.weights[b.groups])
            for b in model.batches
        ]
        self._positions: tuple | None = None  # see _cell_positions

    def group_f(
        self, sigma: np.ndarray, mu: np.ndarray, mom: GroupMoments
    ) -> tuple[float, np.ndarray | None]:
        """F_g / 2 and Sigma^-1 (None when Sigma is not positive definite)."""
        L, info = lapack.dpotrf(sigma, lower=1, clean=1)
        if info != 0:  # not positive definite (a successful factor has a positive diagonal)
            return np.inf, None
        diag = L.diagonal()
        l_inv, info = lapack.dtrtri(L, lower=1)
        if info != 0:
            return np.inf, None
        inv = l_inv.T @ l_inv
        f = 2.0 * np.log(diag).sum() + float(np.vdot(inv, mom.cov)) - mom.logdet - len(mu)
        if self.model.meanstructure:
            d = mom.mean - mu
            f += float(d @ inv @ d)
        if not math.isfinite(f):
            return np.inf, None
        return 0.5 * f, inv

    #: ``evaluate`` takes ``classes`` (see there)
    sums_classes = True

    def evaluate(
        self,
        x: np.ndarray,
        derivatives: bool = True,
        hessian: bool = False,
        classes: np.ndarray | None = None,
    ) -> Evaluation:
        """f, gradient and expected (Fisher) information per case at ``x``; with
        ``hessian`` also the exact Hessian of ``f`` (the observed information per case).

        The Hessian is ``J' H_m J`` (``H_m`` the Hessian in the space of the implied
        moments, ``J`` their Jacobian) plus the model's own curvature weighted by the
        gradient in moment space (:meth:`~semnet.matrices.ram.Model.curvature_cells`).
        Everything is computed over each group's free cells first
        (:meth:`_cell_derivatives`), then summed into the free parameters; with several
        groups, the groups of one structure (a :class:`~semnet.matrices.ram.Batch`) in
        one vectorised pass (:func:`stacked_derivatives`).

        With ``classes`` (one 0-based class per free parameter: the tie classes of
        equality constraints, :attr:`~semnet.estimation.constraints.LinearConstraints.classes`)
        and several groups, the gradient and matrices are summed by class: the
        derivatives with respect to the classes' common values ``z``, without the
        full-size matrices over the free parameters.
        """
        model = self.model
        values = model.values(x, self.fixed_values)
        if len(self.moments) > 1:
            return self._evaluate_batches(values, derivatives, hessian, classes)
        p = model.p
        try:
            st = model.state(values, 0)
        except np.linalg.LinAlgError:
            return Evaluation(np.inf, reason=SINGULAR)
        # the Cholesky factor reads the lower triangle of Sigma only
        mu = st.Bm[:p]
        mom = self.moments[0]
        f, inv = self.group_f(st.C[:p, :p], mu, mom)
        if not math.isfinite(f):
            return Evaluation(np.inf, reason=NOT_PD)
        if not derivatives:
            return Evaluation(f)
        g_cells, i_cells, h_cells = self._cell_derivatives(values, 0, st, mom, mu, inv, hessian)
        hess = model.to_params_sym(0, (h_cells + h_cells.T) / 2) if hessian else None
        ev = Evaluation(f, model.to_params(0, g_cells), model.to_params_sym(0, i_cells),
                        hessian=hess)
        return ev if classes is None else _sum_classes(ev, classes)

    def _evaluate_batches(
        self, values: np.ndarray, derivatives: bool, hessian: bool, classes: np.ndarray | None
    ) -> Evaluation:
        """:meth:`evaluate` of a multi-group model: the groups of each
        :class:`~semnet.matrices.ram.Batch` in one vectorised pass over a leading group
        axis (a batch of few groups: one by one), each batch's cells summed into one
        buffer."""
        model = self.model
        total = 0.0
        grad = info = hess = None
        if derivatives:
            q, positions = self._cell_positions(classes)
            grad, info = np.zeros(q), np.zeros((q, q))
            hess = np.zeros((q, q)) if hessian else None
        for batch, stack in zip(model.batches, self._stacks, strict=True):
            if len(batch.groups) < STACK_MIN:  # (numpy's per-call costs outweigh a stack)
                for g, w in zip(batch.groups.tolist(), stack.weights.tolist(), strict=True):
                    out = self._one_group(values, g, derivatives, hessian)
                    if isinstance(out, str):
                        return Evaluation(np.inf, reason=out)
                    total += w * out[0]
                    if derivatives:
                        _add_cells(positions[g], w, out[1:], grad, info, hess)
                continue
            out = self._stacked(values, batch, stack, derivatives, hessian)
            if isinstance(out, str):
                return Evaluation(np.inf, reason=out)
            f, g_cells, i_cells, h_cells = out
            total += float(stack.weights @ f)
            if not derivatives:
                continue
            model.batch_to_params(batch, g_cells, grad, stack.weights, classes)
            model.batch_to_params_sym(batch, i_cells, info, stack.weights, classes)
            if hessian:
                model.batch_to_params_sym(batch, h_cells, hess, stack.weights, classes)
        if not derivatives:
            return Evaluation(total)
        if hessian:  # (the cells' Hessians are symmetric up to rounding)
            hess = (hess + hess.T) / 2
        return Evaluation(total, grad, info, hessian=hess)

    def _cell_positions(self, classes: np.ndarray | None) -> tuple[int, dict]:
        """The size of the gradient (free parameters, or ``classes``' classes) and, for
        each group evaluated on its own (in a batch of fewer than :data:`STACK_MIN`),
        where its cells go: their positions in the gradient, the flat positions of their
        pairs in the matrices, and whether the positions are unique (made for the
        ``classes`` of the last call, the optimizer's throughout a fit)."""
        cached = self._positions
        if cached is not None and cached[0] is classes:
            return cached[1], cached[2]
        model = self.model
        q = model.nfree if classes is None else int(classes.max(initial=-1)) + 1
        positions = {}
        for batch in model.batches:
            if len(batch.groups) >= STACK_MIN:
                continue
            for g in batch.groups.tolist():
                cp = model.cell_plan(g).cell_param
                c = cp if classes is None else classes[cp]
                positions[g] = (c, (c[:, None] * q + c[None, :]).ravel(),
                                np.unique(c).size == c.size)
        self._positions = (classes, q, positions)
        return q, positions

    def _one_group(
        self, values: np.ndarray, g: int, derivatives: bool, hessian: bool
    ) -> tuple | str:
        """Group ``g``'s ``F_g / 2`` and (with ``derivatives``) its cell derivatives
        (:meth:`_cell_derivatives`), or the reason they are not defined."""
        model = self.model
        try:
            st = model.state(values, g)
        except np.linalg.LinAlgError:
            return SINGULAR
        mu = st.Bm[: model.p]
        mom = self.moments[g]
        f, inv = self.group_f(st.C[: model.p, : model.p], mu, mom)
        if not math.isfinite(f):
            return NOT_PD
        if not derivatives:
            return (f,)
        return f, *self._cell_derivatives(values, g, st, mom, mu, inv, hessian)

    def _stacked(
        self, values: np.ndarray, batch: Batch, stack: _Stack, derivatives: bool, hessian: bool
    ) -> tuple | str:
        """Each group's ``F_g / 2`` and cell derivatives for the groups of ``batch``, in
        one vectorised pass over a leading group axis, or the reason they are not
        defined."""
        model = self.model
        p = model.p
        try:
            st = model.batch_state(values, batch)
        except np.linalg.LinAlgError:
            return SINGULAR
        try:
            L = np.linalg.cholesky(st.C[:, :p, :p])  # (reads the lower triangle)
        except np.linalg.LinAlgError:
            return NOT_PD
        mu = st.Bm[:, :p]
        l_inv = np.linalg.inv(L)
        inv = l_inv.transpose(0, 2, 1) @ l_inv
        d = stack.mean - mu
        f = (2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
             + (inv * stack.cov).sum(axis=(1, 2)) - stack.logdet - p)
        if model.meanstructure:
            f += np.einsum("gi,gij,gj->g", d, inv, d)
        if not np.isfinite(f).all():
            return NOT_PD
        if not derivatives:
            return 0.5 * f, None, None, None
        return 0.5 * f, *stacked_derivatives(model, batch, st, stack.cov, d, inv, hessian,
                                             stack.layout)

    def _cell_derivatives(
        self,
        values: np.ndarray,
        g: int,
        st: GroupState,
        mom: GroupMoments,
        mu: np.ndarray,
        inv: np.ndarray,
        hessian: bool,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Gradient, expected information and (with ``hessian``) Hessian of group g's
        ``F_g / 2`` over the group's free cells (see :class:`DerivativePlan`); of the
        Hessian only the symmetric part is returned exactly (``(H + H') / 2``: the
        callers symmetrize).

        Each ``A`` or ``S`` cell moves ``Sigma`` by ``X = u v' + v u'``
        (:meth:`~semnet.matrices.ram.Model.sigma_factors`), so every trace reduces to
        inner products of the rows of ``U`` and ``V``: with ``W = Sigma^-1``,
        ``tr(D X_a) = 2 u_a' D v_a`` and ``tr(X_a P X_b R) = (v_a'Pu_b)(v_b'Ru_a) +
        (v_a'Pv_b)(u_b'Ru_a) + (u_a'Pu_b)(v_b'Rv_a) + (u_a'Pv_b)(u_b'Rv_a)``: no
        ``p x p`` derivative matrix is formed.
        """
        model = self.model
        plan = model.cell_plan(g)
        n_c = plan.ks + plan.ka
        # Y = [U; V; Dm] (Dm: the rows of the mean derivatives, with a mean structure),
        # X = Y W, P = Y W Y' = [[U W U', U W V', U W Dm'], [V W U', ...], ...]
        Y = model.moment_factors(g, st)
        X = Y @ inv
        P = X @ Y.T
        UWU, UWV, VWV = P[:n_c, :n_c], P[:n_c, n_c : 2 * n_c], P[n_c : 2 * n_c, n_c : 2 * n_c]
        half_tr = UWU * VWV + UWV * UWV.T  # 0.5 tr(W X_a W X_b), the information
        if model.meanstructure:
            d = mom.mean - mu
            s_plus = mom.cov + d[:, None] * d
            Xd = X @ d  # [U W d; V W d; Dm W d]
        else:
            s_plus = mom.cov
        # tr(dF/dSigma X_a) = 2 u_a' dF/dSigma v_a, dF/dSigma = 0.5 (W - ama),
        # ama = W (S + dd') W
        if hessian:
            ama = inv @ s_plus @ inv
            UV = Y[: 2 * n_c]
            PA = (UV @ ama) @ UV.T  # as P, with ama for W
            UAU, UAV, VAV = PA[:n_c, :n_c], PA[:n_c, n_c:], PA[n_c:, n_c:]
            g_sigma = UWV.diagonal() - UAV.diagonal()
        else:
            g_sigma = UWV.diagonal() - ((X[:n_c] @ s_plus) * X[n_c : 2 * n_c]).sum(axis=1)
        k = n_c + plan.km
        if not model.meanstructure:  # (nothing is added to them)
            g_cells, i_cells = g_sigma, half_tr
        else:
            g_cells, i_cells = _embed(g_sigma, n_c, k), _embed(half_tr, n_c, k)
            mc = plan.mu_cells
            g_cells[mc] -= Xd[2 * n_c :]
            mu_info = P[2 * n_c :, 2 * n_c :]
            i_cells[mc, mc] += mu_info
        if not hessian:
            return g_cells, i_cells, None
        # tr(X_a W X_b ama) - 0.5 tr(X_a W X_b W), plus the mean terms; its terms
        # (UWV' * UAV) + (UWV' * UAV)' are taken as twice the first (the caller keeps
        # the symmetric part of the Hessian)
        h_cells = 2.0 * (UWV.T * UAV) + VWV * UAU + UWU * VAV - half_tr
        b = None
        if model.meanstructure:
            if plan.km:
                h_cells = _embed(h_cells, n_c, k)
            # dmu_a' W X_b W d, with W X_b (W d) = (W u_b)(v_b'Wd) + (W v_b)(u_b'Wd)
            cross = P[2 * n_c :, :n_c] * Xd[n_c : 2 * n_c] + P[2 * n_c :, n_c : 2 * n_c] * Xd[:n_c]
            h_cells[mc, :n_c] += 2.0 * cross  # (as above: the symmetric part counts)
            h_cells[mc, mc] += mu_info
            # the mean weight -W d at the targets of the A cells: u_a' W d (u_a = G[:, i])
            b = -Xd[plan.a_cells]
        # the weights: dF/dSigma (times 2, both triangles) and dF/dmu
        model.add_curvature(g, st, inv - ama, b, h_cells)
        return g_cells, i_cells, h_cells

    def casewise_scores(self, x: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray]:
        """Derivatives of each case's log-likelihood in group ``g`` with respect to the
        free parameters its moments depend on (the others have zero scores): their
        positions, and the scores (``N_g`` x positions), times the cases' sampling
        weights where they have them (lavaan's weighted scores)."""
        values = self.model.values(x, self.fixed_values)
        sigma, mu, d_sigma, d_mu = self.model.jacobian(values, g)
        rows = np.flatnonzero(np.any(d_sigma != 0, axis=(1, 2)) | np.any(d_mu != 0, axis=1))
        mom = self.moments[g]
        center = mu if self.model.meanstructure else mom.mean
        scores = normal_scores(
            mom.data - center, sigma, d_sigma[rows], d_mu[rows], self.model.meanstructure
        )
        return rows, scores if mom.weights is None else scores * mom.weights[:, None]

    def observed_information(self, x: np.ndarray) -> np.ndarray:
        """Hessian of ``f`` at ``x`` (the observed information per case), analytic."""
        ev = self.evaluate(x, hessian=True)
        if ev.hessian is None:
            raise np.linalg.LinAlgError(f"the Hessian is not defined at x: {ev.reason}")
        return ev.hessian


def _embed(a: np.ndarray, n: int, k: int) -> np.ndarray:
    """``a`` (over the first ``n`` of ``k`` cells) as a new vector or matrix over all
    ``k`` cells, zero elsewhere."""
    if n == k:
        return a.copy()
    out = np.zeros((k,) * a.ndim)
    out[(slice(0, n),) * a.ndim] = a
    return out


def _add_cells(
    where: tuple[np.ndarray, np.ndarray, bool],
    w: float,
    cells: tuple[np.ndarray, np.ndarray, np.ndarray | None],
    grad: np.ndarray,
    info: np.ndarray,
    hess: np.ndarray | None,
) -> None:
    """Add one group's cell gradient, information and Hessian (``cells``), times its
    weight ``w``, into ``grad``, ``info`` and ``hess`` at the positions ``where`` (see
    :meth:`MLDiscrepancy._cell_positions`)."""
    pos, flat, unique = where
    g_cells, i_cells, h_cells = cells
    pairs = [(info, i_cells)] if h_cells is None else [(info, i_cells), (hess, h_cells)]
    if unique:
        grad[pos] += w * g_cells
        for out, h in pairs:
            out.reshape(-1)[flat] += w * h.ravel()
    else:
        np.add.at(grad, pos, w * g_cells)
        for out, h in pairs:
            np.add.at(out.reshape(-1), flat, w * h.ravel())


def _sum_classes(ev: Evaluation, classes: np.ndarray) -> Evaluation:
    """``ev``'s gradient and matrices summed by the classes of the free parameters."""
    nz = int(classes.max(initial=-1)) + 1
    pos = (classes[:, None] * nz + classes[None, :]).ravel()

    def sym(m: np.ndarray | None) -> np.ndarray | None:
        return None if m is None else np.bincount(pos, m.ravel(), nz * nz).reshape(nz, nz)

    return Evaluation(ev.f, np.bincount(classes, ev.gradient, nz), sym(ev.information),
                      ev.reason, sym(ev.hessian))


def normal_scores(
    resid: np.ndarray, sigma: np.ndarray, d_sigma: np.ndarray, d_mu: np.ndarray,
    meanstructure: bool,
) -> np.ndarray:
    """Each case's derivatives of the normal log-likelihood (cases x parameters),
    0.5 z' dS z - 0.5 tr(Sigma^-1 dS) + z' dmu, with z = Sigma^-1 (y - mu) and ``resid``
    the cases' ``y - mu``.

    ``z' dS z`` is the product of the cases' ``vech(z z')`` with ``vech(dS)`` (its
    off-diagonal cells counted twice): one matrix product.
    """
    q, p = d_mu.shape
    inv = np.linalg.inv(sigma)
    z = resid @ inv
    r, c = vech_indices(p)
    quad = (z[:, r] * z[:, c]) @ (d_sigma[:, r, c] * np.where(r == c, 1.0, 2.0)).T
    trace = d_sigma.reshape(q, p * p) @ inv.reshape(-1)
    scores = 0.5 * (quad - trace)
    if meanstructure:
        scores += z @ d_mu.T
    return scores
