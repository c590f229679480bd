"""Full-information maximum likelihood (FIML) for incomplete data (Arbuckle, 1996).

Cases are grouped by their pattern of observed variables; each pattern ``k`` with
``n_k`` cases, observed set ``o``, pattern mean ``ybar_k`` and (N-divisor) pattern
covariance ``S_k`` contributes, without any loop over cases::

    -logL_k = 0.5 n_k [p_o log(2 pi) + log|Sigma_oo| + tr(Sigma_oo^-1 (S_k + d d'))],
    d = ybar_k - mu_o

The discrepancy is ``f = (logL_h1 - logL) / N``, so that ``2 N f`` is the
likelihood-ratio statistic against the unrestricted (saturated) model, whose
likelihood ``logL_h1`` is found by fitting the saturated model with the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from semnet.data.moments import GroupMoments
from semnet.estimation.ml import Evaluation
from semnet.matrices.ram import Model

LOG2PI = np.log(2 * np.pi)


@dataclass(frozen=True)
class Pattern:
    """Cases sharing one pattern of observed variables."""

    observed: np.ndarray
    rows: np.ndarray
    n: int
    mean: np.ndarray
    cov: np.ndarray


def missing_patterns(x: np.ndarray) -> tuple[Pattern, ...]:
    """Group the rows of ``x`` (cases x variables, NaN = missing) by missingness pattern.

    Rows missing on every variable must have been removed before.
    """
    observed = ~np.isnan(x)
    keys, inverse = np.unique(observed, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(keys) + 1))
    out = []
    for k, key in enumerate(keys):
        rows = order[bounds[k] : bounds[k + 1]]
        o = np.flatnonzero(key)
        block = x[np.ix_(rows, o)]
        mean = block.mean(axis=0)
        c = block - mean
        out.append(Pattern(o, rows, len(rows), mean, c.T @ c / len(rows)))
    return tuple(out)


class FIMLDiscrepancy:
    """``f = (logL_h1 - logL) / N`` over groups and missing-data patterns.

    Same interface as :class:`semnet.estimation.ml.MLDiscrepancy`; ``information`` is
    the expected information per case.  With ``exact_information=False`` (for the
    optimizer, where it is only a metric for the steps) the complete-data information at
    the implied moments is used instead, which is much cheaper.  All pattern work is done
    in the space of the moments (mean vector and covariance matrix) and contracted with
    the model's Jacobian once per group, so the cost per pattern does not grow with the
    number of parameters.
    """

    def __init__(
        self,
        model: Model,
        moments: Sequence[GroupMoments],
        fixed_values: np.ndarray,
        patterns: Sequence[tuple[Pattern, ...]],
        logl_h1: float = 0.0,
        exact_information: bool = True,
    ) -> None:
        self.exact_information = exact_information
        self.model = model
        self.moments = list(moments)
        self.fixed_values = fixed_values
        self.patterns = list(patterns)
        self.ntotal = sum(m.nobs for m in self.moments)
        self.weights = np.array([m.nobs / self.ntotal for m in self.moments])
        self.logl_h1 = logl_h1

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
            acc = _accumulate(sigma, mu, pats, order)
            if not np.isfinite(acc[0]):
                return Evaluation(np.inf, reason="implied covariance is not positive definite")
            total += acc[0]
            if derivatives:
                flat = d_sigma.reshape(q, p * p)
                grad += flat @ acc[1].reshape(-1) + d_mu @ acc[2]
                if exact:
                    info += 0.5 * flat @ acc[3] @ flat.T + d_mu @ acc[4] @ d_mu.T
                elif information:
                    ng = sum(pat.n for pat in pats)
                    inv = np.linalg.inv(sigma)
                    xm = (inv @ d_sigma @ inv).reshape(q, p * p)
                    info += ng * (0.5 * flat @ xm.T + d_mu @ inv @ d_mu.T)
        f = (total + self.logl_h1) / n
        if derivatives:
            return Evaluation(f, grad / n, None if info is None else info / n)
        return Evaluation(f)

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
            _, g_sigma, g_mu, h_ss, h_mm, h_ms = _accumulate(sigma, mu, pats, 3)
            J = np.hstack([d_sigma.reshape(q, p * p), d_mu])
            Hm = np.block([[h_ss, h_ms.T], [h_ms, h_mm]])
            H += J @ Hm @ J.T
            if not linear:
                H += model.weighted_hessian(values, g, g_sigma, g_mu)
        H /= self.ntotal
        return (H + H.T) / 2


def _accumulate(sigma: np.ndarray, mu: np.ndarray, pats: Sequence[Pattern], order: int):
    """-logL of one group over its patterns and, by ``order``, derivatives w.r.t. the
    moments: 1 adds the gradient (p x p, p); 2 the expected information (p^2 x p^2,
    p x p); 3 instead the observed information (p^2 x p^2, p x p, p x p^2)."""
    p = len(mu)
    total = 0.0
    g_sigma = np.zeros((p, p))
    g_mu = np.zeros(p)
    if order == 2:
        w_ss = np.zeros((p * p, p * p))
        w_mm = np.zeros((p, p))
    if order == 3:
        h_ss = np.zeros((p * p, p * p))
        h_mm = np.zeros((p, p))
        h_ms = np.zeros((p, p * p))
    for pat in pats:
        val, inv, d = _pattern_terms(sigma, mu, pat, need_inverse=order > 0)
        if not np.isfinite(val):
            return (np.inf,)
        total += val
        if order == 0:
            continue
        o = pat.observed
        n = pat.n
        m = pat.cov + np.outer(d, d)
        ama = inv @ m @ inv
        g_sigma[np.ix_(o, o)] += 0.5 * n * (inv - ama)
        ad = inv @ d
        g_mu[o] -= n * ad
        if order >= 2:
            oo = (o[:, None] * p + o[None, :]).reshape(-1)
            kk = np.kron(inv, inv)
            if order == 2:
                w_ss[np.ix_(oo, oo)] += n * kk
                w_mm[np.ix_(o, o)] += n * inv
            else:
                h_ss[np.ix_(oo, oo)] += 0.5 * n * (
                    np.kron(ama, inv) + np.kron(inv, ama) - kk
                )
                h_mm[np.ix_(o, o)] += n * inv
                h_ms[np.ix_(o, oo)] += n * np.kron(inv, ad[None, :])
    if order == 0:
        return (total,)
    if order == 1:
        return total, g_sigma, g_mu
    if order == 2:
        return total, g_sigma, g_mu, w_ss, w_mm
    return total, g_sigma, g_mu, h_ss, h_mm, h_ms


def _pattern_terms(sigma, mu, pat: Pattern, need_inverse: bool):
    """-logL of a pattern, Sigma_oo^-1 and the mean residual."""
    o = pat.observed
    s = sigma[np.ix_(o, o)]
    try:
        L = np.linalg.cholesky(s)
    except np.linalg.LinAlgError:
        return np.inf, None, None
    diag = np.diag(L)
    if np.any(diag <= 0):
        return np.inf, None, None
    logdet = 2.0 * np.log(diag).sum()
    l_inv = np.linalg.inv(L)
    inv = l_inv.T @ l_inv
    d = pat.mean - mu[o]
    quad = float(np.sum(inv * pat.cov)) + float(d @ inv @ d)
    val = 0.5 * pat.n * (len(o) * LOG2PI + logdet + quad)
    return val, (inv if need_inverse else None), d


@dataclass(frozen=True)
class FIMLData:
    """What FIML needs from the data: per-group moments (with the EM/saturated
    estimates as ``cov`` and ``mean``), missing-data patterns, and the saturated
    log-likelihood of each group."""

    moments: tuple[GroupMoments, ...]
    patterns: tuple[tuple[Pattern, ...], ...]
    logl_h1: np.ndarray
    baseline_logl: np.ndarray
    baseline_mean: tuple[np.ndarray, ...]
    baseline_var: tuple[np.ndarray, ...]


def fiml_data(blocks: Sequence[tuple[str, np.ndarray]], names: Sequence[str]) -> FIMLData:
    """Patterns and the unrestricted (saturated) model of incomplete data.

    ``blocks`` holds ``(group label, cases x variables)`` with NaN for missing values.
    Cases missing on every variable are dropped (and counted in ``n_dropped``).
    """
    from semnet.errors import DataError

    moments, patterns, baseline, b_mean, b_var = [], [], [], [], []
    for label, x in blocks:
        empty = np.isnan(x).all(axis=1)
        x = x[~empty]
        where = f" in group {label!r}" if label else ""
        n = x.shape[0]
        observed = (~np.isnan(x)).sum(axis=0)
        if n < 2 or observed.min() < 2:
            worst = names[int(np.argmin(observed))]
            raise DataError(
                f"too few observed values{where}: {n} case(s) with any data, and {worst!r} "
                f"is observed {int(observed.min())} time(s). FIML needs at least two observed "
                "values per variable; drop the variable or merge small groups."
            )
        mean = np.nanmean(x, axis=0)
        var = np.nanvar(x, axis=0)
        constant = [names[i] for i in np.flatnonzero(var == 0)]
        if constant:
            raise DataError(
                f"variable(s) {', '.join(constant)} are constant{where}; drop them from the model."
            )
        x.setflags(write=False)
        moments.append(
            GroupMoments(label, tuple(names), np.diag(var), mean, n, int(empty.sum()), x)
        )
        patterns.append(missing_patterns(x))
        # independence model: each variable's own mean and variance (closed form)
        baseline.append(float(np.sum(-0.5 * observed * (LOG2PI + np.log(var) + 1.0))))
        b_mean.append(mean)
        b_var.append(var)
    sigma_h1, mu_h1, logl_h1 = _saturated(moments, patterns, names)
    moments = [
        GroupMoments(m.label, m.names, s, mu, m.nobs, m.n_dropped, m.data)
        for m, s, mu in zip(moments, sigma_h1, mu_h1, strict=True)
    ]
    return FIMLData(
        tuple(moments), tuple(patterns), logl_h1, np.array(baseline), tuple(b_mean), tuple(b_var)
    )


def _saturated(moments, patterns, names):
    """The unrestricted model (all means, variances, covariances free) by EM."""
    sigmas, mus, logls = [], [], []
    for mom, pats in zip(moments, patterns, strict=True):
        sigma, mu = em_moments(mom.data, pats, mom.cov.copy(), mom.mean.copy())
        sigmas.append(sigma)
        mus.append(mu)
        logls.append(-_accumulate(sigma, mu, pats, 0)[0])
    return sigmas, mus, np.array(logls)


def em_moments(
    x: np.ndarray,
    patterns: Sequence[Pattern],
    sigma: np.ndarray,
    mu: np.ndarray,
    max_iter: int = 10000,
    tol: float = 1e-12,
) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood mean and covariance of incomplete normal data (EM algorithm).

    Each iteration replaces missing values by their regression on the observed ones
    (pattern by pattern, vectorized over cases) and adds the residual covariance.
    """
    n, p = x.shape
    logl_old = -np.inf
    for _ in range(max_iter):
        t1 = np.zeros(p)
        t2 = np.zeros((p, p))
        for pat in patterns:
            o = pat.observed
            miss = np.setdiff1d(np.arange(p), o)
            block = np.empty((pat.n, p))
            block[:, o] = x[np.ix_(pat.rows, o)]
            if miss.size:
                s_oo = sigma[np.ix_(o, o)]
                s_mo = sigma[np.ix_(miss, o)]
                beta = np.linalg.solve(s_oo, s_mo.T).T if o.size else np.zeros((miss.size, 0))
                block[:, miss] = mu[miss] + (block[:, o] - mu[o]) @ beta.T
                t2[np.ix_(miss, miss)] += pat.n * (sigma[np.ix_(miss, miss)] - beta @ s_mo.T)
            t1 += block.sum(axis=0)
            t2 += block.T @ block
        mu = t1 / n
        sigma = t2 / n - np.outer(mu, mu)
        sigma = (sigma + sigma.T) / 2
        logl = -_accumulate(sigma, mu, patterns, 0)[0]
        if abs(logl - logl_old) <= tol * max(1.0, abs(logl)):
            break
        logl_old = logl
    return sigma, mu


def pairwise_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-deletion covariances and available-case means of incomplete data.

    Each covariance uses the cases observed on both variables, centred at their own
    means, with divisor ``n_ij - 1`` (R's ``cov(use = "pairwise")``), then rescaled by
    ``(N - 1) / N`` with ``N`` the number of cases, as lavaan's sample statistics.
    """
    n = x.shape[0]
    obs = ~np.isnan(x)
    w = obs.astype(float)
    xc = np.where(obs, x - np.nanmean(x, axis=0), 0.0)
    n_ij = w.T @ w
    s_i = xc.T @ w  # s_i[i, j]: sum of x_i over the cases observing i and j
    cov = (xc.T @ xc - s_i * s_i.T / n_ij) / (n_ij - 1)
    cov = (cov + cov.T) / 2 * (n - 1) / n
    return cov, np.nanmean(x, axis=0)
