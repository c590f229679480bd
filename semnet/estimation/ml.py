"""Normal-theory maximum likelihood: discrepancy, analytic gradient, expected information.

The discrepancy is lavaan's ``fx`` for ``likelihood = "normal"`` (N divisor)::

    f(x) = sum_g (N_g / N) * 0.5 * [log|Sigma_g| + tr(S_g Sigma_g^-1) - log|S_g| - p
                                    + (ybar_g - mu_g)' Sigma_g^-1 (ybar_g - mu_g)]

so that the likelihood-ratio statistic against the unrestricted model is ``2 N f``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg import lapack

from semnet.data.moments import GroupMoments
from semnet.matrices.ram import Model


@dataclass(frozen=True)
class Evaluation:
    """Discrepancy and, optionally, its gradient, expected information and Hessian."""

    f: float
    gradient: np.ndarray | None = None
    information: np.ndarray | None = None
    reason: str = ""
    hessian: np.ndarray | None = None


class MLDiscrepancy:
    """The multi-group normal-theory ML discrepancy of a model and its sample moments."""

    def __init__(
        self, model: Model, moments: Sequence[GroupMoments], fixed_values: np.ndarray
    ) -> None:
        self.model = model
        self.moments = list(moments)
        self.fixed_values = fixed_values
        ntotal = sum(m.nobs for m in self.moments)
        self.ntotal = ntotal
        self.weights = np.array([m.nobs / ntotal for m in self.moments])

    def group_f(
        self, sigma: np.ndarray, mu: np.ndarray, mom: GroupMoments
    ) -> tuple[float, np.ndarray | None]:
        """F_g / 2 and Sigma^-1 (None when Sigma is not positive definite)."""
        L, info = lapack.dpotrf(sigma, lower=1, clean=1)
        if info != 0:
            return np.inf, None
        diag = np.diag(L)
        if diag.min() <= 0:
            return np.inf, None
        l_inv, info = lapack.dtrtri(L, lower=1)
        if info != 0:
            return np.inf, None
        inv = l_inv.T @ l_inv
        f = 2.0 * np.log(diag).sum() + float(np.vdot(inv, mom.cov)) - mom.logdet - len(mu)
        if self.model.meanstructure:
            d = mom.mean - mu
            f += float(d @ inv @ d)
        if not np.isfinite(f):
            return np.inf, None
        return 0.5 * f, inv

    def evaluate(
        self, x: np.ndarray, derivatives: bool = True, hessian: bool = False
    ) -> Evaluation:
        """f, gradient and expected (Fisher) information per case at ``x``; with
        ``hessian`` also the exact Hessian of ``f`` (the observed information per case).

        The Hessian is ``J' H_m J`` (``H_m`` the Hessian in the space of the implied
        moments, ``J`` their Jacobian) plus the model's own curvature weighted by the
        gradient in moment space (:meth:`~semnet.matrices.ram.Model.weighted_hessian`).
        """
        values = self.model.values(x, self.fixed_values)
        q = self.model.nfree
        total = 0.0
        grad = np.zeros(q) if derivatives else None
        info = np.zeros((q, q)) if derivatives else None
        hess = np.zeros((q, q)) if derivatives and hessian else None
        for g, mom in enumerate(self.moments):
            try:
                st = self.model.state(values, g)
                if derivatives:
                    sigma, mu, d_sigma, d_mu = self.model.jacobian(values, g, st)
                else:
                    sigma, mu = self.model.implied(values, g, st)
            except np.linalg.LinAlgError:
                return Evaluation(np.inf, reason="I - B is singular (non-recursive loop)")
            fg, inv = self.group_f(sigma, mu, mom)
            if not np.isfinite(fg):
                return Evaluation(np.inf, reason="implied covariance is not positive definite")
            w = self.weights[g]
            total += w * fg
            if not derivatives:
                continue
            p = len(mu)
            d = mom.mean - mu
            s_plus = mom.cov + (np.outer(d, d) if self.model.meanstructure else 0.0)
            # dF/dSigma = Sigma^-1 - Sigma^-1 (S + dd') Sigma^-1   (times 0.5 in f)
            ama = inv @ s_plus @ inv
            dfds = 0.5 * (inv - ama)
            flat = d_sigma.reshape(q, p * p)
            grad += w * (flat @ dfds.reshape(-1))
            # 0.5 tr(Sigma^-1 dS_a Sigma^-1 dS_b) = 0.5 vec(dS_a)' (inv x inv) vec(dS_b)
            inv_ds = inv @ d_sigma
            x_mats = (inv_ds @ inv).reshape(q, p * p)
            tr_info = flat @ x_mats.T
            info += w * 0.5 * tr_info
            if self.model.meanstructure:
                ad = inv @ d
                grad += w * (-(d_mu @ ad))
                mu_info = d_mu @ inv @ d_mu.T
                info += w * mu_info
            if hess is None:
                continue
            # tr(dS_a inv dS_b ama) - 0.5 tr(dS_a inv dS_b inv), plus the mean terms
            h = flat @ (inv_ds @ ama).reshape(q, p * p).T - 0.5 * tr_info
            g_mu = np.zeros(p)
            if self.model.meanstructure:
                cross = d_mu @ (inv_ds @ ad).T
                h += mu_info + cross + cross.T
                g_mu = -ad
            h += self.model.weighted_hessian(values, g, dfds, g_mu, st)
            hess += w * (h + h.T) / 2
        if not derivatives:
            return Evaluation(total)
        return Evaluation(total, grad, info, hessian=hess)

    def observed_information(self, x: np.ndarray) -> np.ndarray:
        """Hessian of ``f`` at ``x`` (the observed information per case), analytic."""
        ev = self.evaluate(x, hessian=True)
        if ev.hessian is None:
            raise np.linalg.LinAlgError(f"the Hessian is not defined at x: {ev.reason}")
        return ev.hessian
