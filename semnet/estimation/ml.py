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
from semnet.matrices.ram import GroupState, Model


class Evaluation(NamedTuple):
    """Discrepancy and, optionally, its gradient, expected information and Hessian."""

    f: float
    gradient: np.ndarray | None = None
    information: np.ndarray | None = None
    reason: str = ""
    hessian: np.ndarray | None = None


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

    def evaluate(
        self, x: np.ndarray, derivatives: bool = True, hessian: bool = False
    ) -> Evaluation:
        """f, gradient and expected (Fisher) information per case at ``x``; with
        ``hessian`` also the exact Hessian of ``f`` (the observed information per case).

        The Hessian is ``J' H_m J`` (``H_m`` the Hessian in the space of the implied
        moments, ``J`` their Jacobian) plus the model's own curvature weighted by the
        gradient in moment space (:meth:`~semnet.matrices.ram.Model.curvature_cells`).
        Everything is computed over each group's free cells first
        (:meth:`_cell_derivatives`), then summed into the free parameters.
        """
        model = self.model
        values = model.values(x, self.fixed_values)
        p = model.p
        total = 0.0
        grad = info = hess = None
        for g, mom in enumerate(self.moments):
            try:
                st = model.state(values, g)
            except np.linalg.LinAlgError:
                return Evaluation(np.inf, reason="I - B is singular (non-recursive loop)")
            # the Cholesky factor reads the lower triangle of Sigma only
            mu = st.Bm[:p]
            fg, inv = self.group_f(st.C[:p, :p], mu, mom)
            if not math.isfinite(fg):
                return Evaluation(np.inf, reason="implied covariance is not positive definite")
            w = self.weights[g]
            total += w * fg
            if not derivatives:
                continue
            g_cells, i_cells, h_cells = self._cell_derivatives(values, g, st, mom, mu, inv, hessian)
            if len(self.moments) == 1:  # w = 1: the cells summed into the parameters
                grad, info = model.to_params(g, g_cells), model.to_params_sym(g, i_cells)
                if hessian:
                    hess = model.to_params_sym(g, (h_cells + h_cells.T) / 2)
                continue
            if grad is None:  # one buffer each; every group adds its own block
                q = model.nfree
                grad, info = np.zeros(q), np.zeros((q, q))
                hess = np.zeros((q, q)) if hessian else None
            model.add_to_params(g, g_cells, grad, w)
            model.add_to_params_sym(g, i_cells, info, w)
            if hessian:
                model.add_to_params_sym(g, (h_cells + h_cells.T) / 2, hess, w)
        if not derivatives:
            return Evaluation(total)
        return Evaluation(total, grad, info, hessian=hess)

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
