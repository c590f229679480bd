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

from semnet.data.moments import GroupMoments
from semnet.matrices.ram import Model


@dataclass(frozen=True)
class Evaluation:
    """Discrepancy and, optionally, its gradient and expected information at ``x``."""

    f: float
    gradient: np.ndarray | None = None
    information: np.ndarray | None = None
    reason: str = ""


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
        try:
            L = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return np.inf, None
        diag = np.diag(L)
        if not np.all(np.isfinite(L)) or np.any(diag <= 0):
            return np.inf, None
        logdet = 2.0 * np.log(diag).sum()
        l_inv = np.linalg.inv(L)
        inv = l_inv.T @ l_inv
        f = logdet + float(np.sum(inv * mom.cov)) - mom.logdet - len(mu)
        if self.model.meanstructure:
            d = mom.mean - mu
            f += float(d @ inv @ d)
        return 0.5 * f, inv

    def evaluate(self, x: np.ndarray, derivatives: bool = True) -> Evaluation:
        """f, gradient and expected (Fisher) information per case at ``x``."""
        values = self.model.values(x, self.fixed_values)
        q = self.model.nfree
        total = 0.0
        grad = np.zeros(q) if derivatives else None
        info = np.zeros((q, q)) if derivatives else None
        for g, mom in enumerate(self.moments):
            try:
                if derivatives:
                    sigma, mu, d_sigma, d_mu = self.model.jacobian(values, g)
                else:
                    sigma, mu = self.model.implied(values, g)
            except np.linalg.LinAlgError:
                return Evaluation(np.inf, reason="I - B is singular (non-recursive loop)")
            fg, inv = self.group_f(sigma, mu, mom)
            if not np.isfinite(fg):
                return Evaluation(np.inf, reason="implied covariance is not positive definite")
            w = self.weights[g]
            total += w * fg
            if derivatives:
                p = len(mu)
                d = mom.mean - mu
                s_plus = mom.cov + (np.outer(d, d) if self.model.meanstructure else 0.0)
                # dF/dSigma = Sigma^-1 - Sigma^-1 (S + dd') Sigma^-1   (times 0.5 in f)
                dfds = 0.5 * (inv - inv @ s_plus @ inv)
                flat = d_sigma.reshape(len(d_sigma), p * p)
                grad += w * (flat @ dfds.reshape(-1))
                # 0.5 tr(Sigma^-1 dS_a Sigma^-1 dS_b) = 0.5 vec(dS_a)' (inv x inv) vec(dS_b)
                x_mats = (inv @ d_sigma @ inv).reshape(len(d_sigma), p * p)
                info += w * 0.5 * (flat @ x_mats.T)
                if self.model.meanstructure:
                    grad += w * (-(d_mu @ (inv @ d)))
                    info += w * (d_mu @ inv @ d_mu.T)
        return Evaluation(total, grad, info)
