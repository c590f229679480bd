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
from semnet.matrices.ram import Batch, BatchState, GroupState, Model

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
    """The stacked sample moments and weights of a batch of groups."""

    mean: np.ndarray
    cov: np.ndarray
    logdet: np.ndarray
    weights: np.ndarray


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
        #: covariances, log-determinants and weights of its groups
        self._stacks = [] if len(self.moments) == 1 else [
            _Stack(
                np.stack([self.moments[g].mean for g in b.groups]),
                np.stack([self.moments[g].cov for g in b.groups]),
                np.array([self.moments[g].logdet for g in b.groups]),
                self.weights[b.groups],
            )
            for b in model.batches
        ]

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
        one vectorised pass (:meth:`_batch_derivatives`).

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
        axis, each batch's cells summed into one buffer."""
        model = self.model
        total = 0.0
        grad = info = hess = None
        if derivatives:
            q = model.nfree if classes is None else int(classes.max(initial=-1)) + 1
            grad, info = np.zeros(q), np.zeros((q, q))
            hess = np.zeros((q, q)) if hessian else None
        for batch, stack in zip(model.batches, self._stacks, strict=True):
            if len(batch.groups) < STACK_MIN:  # (numpy's per-call costs outweigh a stack)
                out = _concat([self._one_group(values, int(g), derivatives, hessian)
                               for g in batch.groups])
            else:
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
                model.batch_to_params_sym(batch, (h_cells + h_cells.transpose(0, 2, 1)) / 2,
                                          hess, stack.weights, classes)
        if not derivatives:
            return Evaluation(total)
        return Evaluation(total, grad, info, hessian=hess)

    def _one_group(
        self, values: np.ndarray, g: int, derivatives: bool, hessian: bool
    ) -> tuple | str:
        """Group ``g``'s ``F_g / 2`` and its cell derivatives, each with a leading axis of
        one (as :meth:`_stacked`), or the reason they are not defined."""
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
            return np.array([f]), None, None, None
        cells = self._cell_derivatives(values, g, st, mom, mu, inv, hessian)
        return np.array([f]), *(None if c is None else c[None] for c in cells)

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
        return 0.5 * f, *self._batch_derivatives(batch, st, stack, d, inv, hessian)

    def _batch_derivatives(
        self,
        batch: Batch,
        st: BatchState,
        stack: _Stack,
        d: np.ndarray,
        inv: np.ndarray,
        hessian: bool,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """:meth:`_cell_derivatives` of every group of ``batch`` at once (groups x cells,
        groups x cells x cells), from the stacked state, mean residuals ``d`` and
        inverses ``inv``."""
        model = self.model
        plan = batch.plan
        nb = len(batch.groups)
        sc, mc = plan.sigma_cells, plan.mu_cells
        k = plan.ks + plan.ka + plan.km
        n_c = plan.ks + plan.ka
        UV = model.batch_sigma_factors(batch, st)
        V = UV[:, n_c:]
        s_plus = stack.cov + d[:, :, None] * d[:, None, :] if model.meanstructure else stack.cov
        ama = inv @ s_plus @ inv
        X = UV @ inv
        UVt = UV.transpose(0, 2, 1)
        P = X @ UVt
        UWU, UWV, VWV = P[:, :n_c, :n_c], P[:, :n_c, n_c:], P[:, n_c:, n_c:]
        half_tr = UWU * VWV + UWV * UWV.transpose(0, 2, 1)
        if hessian:
            PA = (UV @ ama) @ UVt
            UAU, UAV, VAV = PA[:, :n_c, :n_c], PA[:, :n_c, n_c:], PA[:, n_c:, n_c:]
            g_sigma = (np.diagonal(UWV, axis1=1, axis2=2)
                       - np.diagonal(UAV, axis1=1, axis2=2))
        else:
            g_sigma = ((X[:, :n_c] - UV[:, :n_c] @ ama) * V).sum(axis=2)
        g_cells = np.zeros((nb, k))
        g_cells[:, sc] = g_sigma
        i_cells = np.zeros((nb, k, k))
        i_cells[:, sc, sc] = half_tr
        if model.meanstructure:
            Dm = model.batch_mean_derivatives(batch, st)
            ad = (inv @ d[:, :, None])[:, :, 0]
            g_cells[:, mc] -= (Dm @ ad[:, :, None])[:, :, 0]
            mu_info = Dm @ inv @ Dm.transpose(0, 2, 1)
            i_cells[:, mc, mc] += mu_info
        if not hessian:
            return g_cells, i_cells, None
        cross = UWV.transpose(0, 2, 1) * UAV
        h_cells = np.zeros((nb, k, k))
        h_cells[:, sc, sc] = cross + cross.transpose(0, 2, 1) + VWV * UAU + UWU * VAV - half_tr
        g_mu = None
        if model.meanstructure:
            xw = (X[:, :n_c] * (V @ ad[:, :, None]) + X[:, n_c:] * (UV[:, :n_c] @ ad[:, :, None]))
            cross = Dm @ xw.transpose(0, 2, 1)
            h_cells[:, mc, sc] += cross
            h_cells[:, sc, mc] += cross.transpose(0, 2, 1)
            h_cells[:, mc, mc] += mu_info
            g_mu = -ad
        model.batch_curvature_cells(batch, st, inv - ama, g_mu, h_cells)
        return g_cells, i_cells, h_cells

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
        ``F_g / 2`` over the group's free cells (see :class:`DerivativePlan`).

        Each ``A`` or ``S`` cell moves ``Sigma`` by ``X = u v' + v u'``
        (:meth:`~semnet.matrices.ram.Model.sigma_factors`), so every trace reduces to
        inner products of the rows of ``U`` and ``V``: with ``W = Sigma^-1``,
        ``tr(D X_a) = 2 u_a' D v_a`` and ``tr(X_a P X_b R) = (v_a'Pu_b)(v_b'Ru_a) +
        (v_a'Pv_b)(u_b'Ru_a) + (u_a'Pu_b)(v_b'Rv_a) + (u_a'Pv_b)(u_b'Rv_a)``: no
        ``p x p`` derivative matrix is formed.
        """
        model = self.model
        plan = model.cell_plan(g)
        sc, mc = plan.sigma_cells, plan.mu_cells
        k = plan.ks + plan.ka + plan.km
        UV = model.sigma_factors(values, g, st)
        V = UV[plan.ks + plan.ka :]
        if model.meanstructure:
            d = mom.mean - mu
            s_plus = mom.cov + np.outer(d, d)
        else:
            s_plus = mom.cov
        # dF/dSigma = Sigma^-1 - Sigma^-1 (S + dd') Sigma^-1   (times 0.5 in f)
        ama = inv @ s_plus @ inv
        X = UV @ inv
        UVt = UV.T
        n_c = plan.ks + plan.ka
        P = X @ UVt  # [[U W U', U W V'], [V W U', V W V']]
        UWU, UWV, VWV = P[:n_c, :n_c], P[:n_c, n_c:], P[n_c:, n_c:]
        half_tr = UWU * VWV + UWV * UWV.T  # 0.5 tr(W X_a W X_b), the information
        # tr(dF/dSigma X_a) = 2 u_a' dF/dSigma v_a, dF/dSigma = 0.5 (W - ama)
        if hessian:
            PA = (UV @ ama) @ UVt  # as P, with ama for W
            UAU, UAV, VAV = PA[:n_c, :n_c], PA[:n_c, n_c:], PA[n_c:, n_c:]
            g_sigma = UWV.diagonal() - UAV.diagonal()
        else:
            g_sigma = ((X[:n_c] - UV[:n_c] @ ama) * V).sum(axis=1)
        if not plan.km:
            # (a copy where the mean terms are added to it: half_tr serves the Hessian)
            g_cells = g_sigma
            i_cells = half_tr.copy() if model.meanstructure else half_tr
        else:
            g_cells = np.zeros(k)
            g_cells[sc] = g_sigma
            i_cells = np.zeros((k, k))
            i_cells[sc, sc] = half_tr
        if model.meanstructure:
            Dm = model.mean_derivatives(values, g, st)
            ad = inv @ d
            g_cells[mc] -= Dm @ ad
            mu_info = Dm @ inv @ Dm.T
            i_cells[mc, mc] += mu_info
        if not hessian:
            return g_cells, i_cells, None
        # tr(X_a W X_b ama) - 0.5 tr(X_a W X_b W), plus the mean terms
        cross = UWV.T * UAV
        h_sigma = cross + cross.T + VWV * UAU + UWU * VAV - half_tr
        if not plan.km:
            h_cells = h_sigma
        else:
            h_cells = np.zeros((k, k))
            h_cells[sc, sc] = h_sigma
        g_mu = None
        if model.meanstructure:
            # dmu_a' W X_b W d, with W X_b (W d) = (W u_b)(v_b'Wd) + (W v_b)(u_b'Wd)
            cross = Dm @ (X[:n_c] * (V @ ad)[:, None] + X[n_c:] * (UV[:n_c] @ ad)[:, None]).T
            h_cells[mc, sc] += cross
            h_cells[sc, mc] += cross.T
            h_cells[mc, mc] += mu_info
            g_mu = -ad
        # the weights: dF/dSigma (times 2, both triangles) and dF/dmu
        model.curvature_cells(values, g, inv - ama, g_mu, st, out=h_cells)
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


def _concat(parts: list) -> tuple | str:
    """The groups' results of :meth:`MLDiscrepancy._one_group` joined along the group
    axis, or the first reason one is not defined."""
    for part in parts:
        if isinstance(part, str):
            return part
    return tuple(None if part[0] is None else np.concatenate(part)
                 for part in zip(*parts, strict=True))


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
