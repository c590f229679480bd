"""Full-information maximum likelihood (FIML) for incomplete data (Arbuckle, 1996).

Cases are grouped by their pattern of observed variables; each pattern ``k`` with
``n_k`` cases, observed set ``o``, pattern mean ``ybar_k`` and (N-divisor) pattern
covariance ``S_k`` contributes, without any loop over cases (see :mod:`semnet.data.missing`)::

    -logL_k = 0.5 n_k [p_o log(2 pi) + log|Sigma_oo| + tr(Sigma_oo^-1 (S_k + d d'))],
    d = ybar_k - mu_o

The discrepancy is ``f = (logL_h1 - logL) / N``, so that ``2 N f`` is the
likelihood-ratio statistic against the unrestricted (saturated) model, whose
likelihood ``logL_h1`` is found by fitting the saturated model with the same code.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from semnet._blas import one_blas_thread
from semnet.data.missing import STACK_CELLS, Pattern, PatternSet, pattern_terms
from semnet.data.moments import GroupMoments
from semnet.estimation.ml import Evaluation
from semnet.matrices.ram import Model


@one_blas_thread
def pattern_scores(
    sigma: np.ndarray,
    mu: np.ndarray,
    d_sigma: np.ndarray,
    d_mu: np.ndarray,
    data: np.ndarray,
    patterns: Sequence[Pattern],
) -> np.ndarray:
    """Derivatives of each case's log-likelihood (cases x parameters) from the
    Jacobian ``d_sigma`` (q x p x p), ``d_mu`` (q x p) of the implied moments, each case
    on its observed variables: ``0.5 z' dS z - 0.5 tr(A dS) + z' dmu`` with ``A`` the
    padded ``Sigma_oo^-1`` of its pattern and ``z = A (y - mu)`` (zero where unobserved).

    The traces are taken once per pattern; the quadratic forms as one product of the
    cases' ``vec(z z')`` with the Jacobian, in blocks of cases to bound the memory.
    """
    p = len(mu)
    pats = PatternSet.of(patterns, p)
    flat = d_sigma.reshape(len(d_sigma), p * p)
    resid = np.where(np.isnan(data), 0.0, data - mu)
    z = np.empty_like(resid)
    trace = np.empty((len(pats), len(flat)))
    start = 0
    for st in pats.stacks:
        _, inv, _ = pattern_terms(sigma, mu, st)
        trace[start : start + len(inv)] = inv.reshape(len(inv), -1) @ flat.T
        for k, pat in enumerate(pats.patterns[start : start + len(inv)]):
            z[pat.rows] = resid[pat.rows] @ inv[k]
        start += len(inv)
    out = np.empty((len(z), len(flat)))
    step = max(1, STACK_CELLS // (p * p))
    for i in range(0, len(z), step):
        zi = z[i : i + step]
        zz = (zi[:, :, None] * zi[:, None, :]).reshape(len(zi), -1)
        out[i : i + step] = 0.5 * (zz @ flat.T - trace[pats.case_pattern[i : i + step]])
        out[i : i + step] += zi @ d_mu.T
    return out


class FIMLDiscrepancy:
    """``f = (logL_h1 - logL) / N`` over groups and missing-data patterns.

    Same interface as :class:`semnet.estimation.ml.MLDiscrepancy`; ``information`` is
    the expected information per case.  With ``exact_information=False`` (for the
    optimizer, where it is only a metric for the steps) the complete-data information at
    the implied moments is used instead, which is much cheaper.  All pattern work is done
    in the space of the moments (mean vector and covariance matrix), batched over the
    patterns, and contracted once per group with the rows of the model's Jacobian that
    the group's moments depend on, so the cost per pattern does not grow with the number
    of parameters.
    """

    #: no analytic Hessian for the optimizer: Fisher scoring steps
    newton = False

    def __init__(
        self,
        model: Model,
        moments: Sequence[GroupMoments],
        fixed_values: np.ndarray,
        patterns: Sequence[Sequence[Pattern]],
        logl_h1: float = 0.0,
        exact_information: bool = True,
    ) -> None:
        self.exact_information = exact_information
        self.model = model
        self.moments = list(moments)
        self.fixed_values = fixed_values
        self.patterns = [PatternSet.of(pats, model.p) for pats in patterns]
        self.ntotal = sum(m.size for m in self.moments)
        self.weights = np.array([m.size / self.ntotal for m in self.moments])
        self.logl_h1 = logl_h1

    @one_blas_thread
    def evaluate(
        self, x: np.ndarray, derivatives: bool = True, information: bool = True
    ) -> Evaluation:
        model = self.model
        values = model.values(x, self.fixed_values)
        q, p = model.nfree, model.p
        n = self.ntotal
        total = 0.0
        grad = np.zeros(q) if derivatives else None
        info = np.zeros((q, q)) if derivatives and information else None
        for g, pats in enumerate(self.patterns):
            try:
                if derivatives:
                    sigma, mu, d_sigma, d_mu = model.jacobian(values, g)
                else:
                    sigma, mu = model.implied(values, g)
            except np.linalg.LinAlgError:
                return Evaluation(np.inf, reason="I - B is singular (non-recursive loop)")
            exact = information and self.exact_information
            order = 0 if not derivatives else (2 if exact else 1)
            acc = accumulate_patterns(sigma, mu, pats, order)
            if not np.isfinite(acc[0]):
                return Evaluation(np.inf, reason="implied covariance is not positive definite")
            total += acc[0]
            if not derivatives:
                continue
            flat = d_sigma.reshape(q, p * p)
            grad += flat @ acc[1].reshape(-1) + d_mu @ acc[2]
            if not information:
                continue
            rows = _active(flat, d_mu)
            flat, dm = flat[rows], d_mu[rows]
            block = np.ix_(rows, rows)
            if exact:
                info[block] += 0.5 * flat @ acc[3] @ flat.T + dm @ acc[4] @ dm.T
            else:
                inv = np.linalg.inv(sigma)
                xm = (inv @ d_sigma[rows] @ inv).reshape(rows.size, p * p)
                info[block] += pats.nobs * (0.5 * flat @ xm.T + dm @ inv @ dm.T)
        f = (total + self.logl_h1) / n
        if derivatives:
            return Evaluation(f, grad / n, None if info is None else info / n)
        return Evaluation(f)

    @one_blas_thread
    def casewise_scores(self, x: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray]:
        """Derivatives of each case's log-likelihood in group ``g`` (on its observed
        variables) with respect to the free parameters its moments depend on: their
        positions, and the scores (``N_g`` x positions), times the cases' sampling
        weights where they have them."""
        values = self.model.values(x, self.fixed_values)
        sigma, mu, d_sigma, d_mu = self.model.jacobian(values, g)
        rows = np.flatnonzero(np.any(d_sigma != 0, axis=(1, 2)) | np.any(d_mu != 0, axis=1))
        mom = self.moments[g]
        scores = pattern_scores(sigma, mu, d_sigma[rows], d_mu[rows], mom.data, self.patterns[g])
        return rows, scores if mom.weights is None else scores * mom.weights[:, None]

    def observed_information(self, x: np.ndarray, linear: bool = False) -> np.ndarray:
        """Hessian of ``f`` per case: the observed information.

        ``J' H_m J`` from the pattern-wise Hessian ``H_m`` in the space of the moments,
        plus the curvature of the model itself (the moment gradient contracted with the
        second derivatives of the implied moments,
        :meth:`~semnet.matrices.ram.Model.weighted_hessian`; zero when ``linear``, e.g.
        for the saturated model).
        """
        model = self.model
        values = model.values(x, self.fixed_values)
        q, p = model.nfree, model.p
        H = np.zeros((q, q))
        for g, pats in enumerate(self.patterns):
            sigma, mu, d_sigma, d_mu = model.jacobian(values, g)
            _, g_sigma, g_mu, h_ss, h_mm, h_ms = accumulate_patterns(sigma, mu, pats, 3)
            J = np.hstack([d_sigma.reshape(q, p * p), d_mu])
            rows = _active(J, J[:, :0])
            J = J[rows]
            Hm = np.block([[h_ss, h_ms.T], [h_ms, h_mm]])
            H[np.ix_(rows, rows)] += J @ Hm @ J.T
            if not linear:
                H += model.weighted_hessian(values, g, g_sigma, g_mu)
        H /= self.ntotal
        return (H + H.T) / 2


def _active(d_sigma: np.ndarray, d_mu: np.ndarray) -> np.ndarray:
    """The parameters (rows) on which a group's implied moments depend."""
    return np.flatnonzero(np.any(d_sigma != 0, axis=1) | np.any(d_mu != 0, axis=1))


def _kron_sum(n: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``sum_k n_k a_k[i, j] b_k[l, m]`` as a (p^2 x p^2) matrix indexed ``(ij), (lm)``."""
    k = len(n)
    return (a.reshape(k, -1) * n[:, None]).T @ b.reshape(k, -1)


def _as_kron(t: np.ndarray, p: int) -> np.ndarray:
    """Reorder a ``(ij), (lm)`` matrix from :func:`_kron_sum` into the Kronecker layout
    ``(il), (jm)`` of ``sum_k n_k kron(a_k, b_k)``."""
    return t.reshape(p, p, p, p).transpose(0, 2, 1, 3).reshape(p * p, p * p)


def accumulate_patterns(sigma: np.ndarray, mu: np.ndarray, pats: Sequence[Pattern], order: int):
    """-logL of one group over its patterns and, by ``order``, derivatives w.r.t. the
    moments: 1 adds the gradient (p x p, p); 2 the expected information (p^2 x p^2,
    p x p); 3 instead the observed information (p^2 x p^2, p x p, p x p^2).

    With ``A = Sigma_oo^-1``, ``d`` the mean residual and ``M = S + d d'`` of a pattern,
    the sums run over the patterns (in batches) of ``0.5 n (A - A M A)`` and ``-n A d``
    (gradient), ``n kron(A, A)`` and ``n A`` (expected information), and
    ``0.5 n (kron(AMA, A) + kron(A, AMA) - kron(A, A))``, ``n A`` and
    ``n kron(A, (A d)')`` (observed information)."""
    p = len(mu)
    pats = PatternSet.of(pats, p)
    total = 0.0
    g_sigma = np.zeros((p, p))
    g_mu = np.zeros(p)
    if order >= 2:
        h_ss = np.zeros((p * p, p * p))
        h_mm = np.zeros((p, p))
        h_ms = np.zeros((p * p, p))
    for st in pats.stacks:
        try:
            val, inv, d = pattern_terms(sigma, mu, st)
        except np.linalg.LinAlgError:
            return (np.inf,)
        total += float(val.sum())
        if not np.isfinite(total):
            return (np.inf,)
        if order == 0:
            continue
        n = st.n
        ad = np.einsum("kij,kj->ki", inv, d)
        ama = inv @ st.cov @ inv + ad[:, :, None] * ad[:, None, :]
        g_sigma += 0.5 * np.einsum("k,kij->ij", n, inv - ama)
        g_mu -= n @ ad
        if order == 1:
            continue
        h_mm += np.einsum("k,kij->ij", n, inv)
        if order == 2:
            h_ss += _kron_sum(n, inv, inv)
        else:
            # kron(AMA, A) + kron(A, AMA) - kron(A, A) = X + X' (Kronecker layout
            # transposed) with X = kron(AMA - A / 2, A)
            x = _kron_sum(n, ama - 0.5 * inv, inv)
            h_ss += 0.5 * (x + x.T)
            h_ms += (inv * n[:, None, None]).reshape(len(n), -1).T @ ad
    if order == 0:
        return (total,)
    if order == 1:
        return total, g_sigma, g_mu
    if order == 2:
        return total, g_sigma, g_mu, _as_kron(h_ss, p), h_mm
    return total, g_sigma, g_mu, _as_kron(h_ss, p), h_mm, h_ms.reshape(p, p * p)

