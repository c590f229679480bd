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
    the expected information per case (used by the optimizer).
    """

    def __init__(
        self,
        model: Model,
        moments: Sequence[GroupMoments],
        fixed_values: np.ndarray,
        patterns: Sequence[tuple[Pattern, ...]],
        logl_h1: float = 0.0,
    ) -> None:
        self.model = model
        self.moments = list(moments)
        self.fixed_values = fixed_values
        self.patterns = list(patterns)
        self.ntotal = sum(m.nobs for m in self.moments)
        self.weights = np.array([m.nobs / self.ntotal for m in self.moments])
        self.logl_h1 = logl_h1

    def loglik(self, x: np.ndarray) -> float:
        """The (full) log-likelihood at ``x``."""
        return self.logl_h1 - self.ntotal * self.evaluate(x, derivatives=False).f

    def group_logliks(self, x: np.ndarray) -> np.ndarray:
        values = self.model.values(x, self.fixed_values)
        out = []
        for g, pats in enumerate(self.patterns):
            sigma, mu = self.model.implied(values, g)
            total = 0.0
            for pat in pats:
                val, _, _ = _pattern_terms(sigma, mu, pat, need_inverse=False)
                total += val
            out.append(-total)
        return np.array(out)

    def evaluate(self, x: np.ndarray, derivatives: bool = True) -> Evaluation:
        model = self.model
        values = model.values(x, self.fixed_values)
        q, p = model.nfree, model.p
        n = self.ntotal
        total = 0.0
        grad = np.zeros(q) if derivatives else None
        info = np.zeros((q, q)) if derivatives else None
        for g, pats in enumerate(self.patterns):
            try:
                if derivatives:
                    sigma, mu, d_sigma, d_mu = model.jacobian(values, g)
                else:
                    sigma, mu = model.implied(values, g)
            except np.linalg.LinAlgError:
                return Evaluation(np.inf, reason="I - B is singular (non-recursive loop)")
            g_sigma = np.zeros((p, p))
            g_mu = np.zeros(p)
            for pat in pats:
                val, inv, d = _pattern_terms(sigma, mu, pat, need_inverse=derivatives)
                if not np.isfinite(val):
                    return Evaluation(
                        np.inf, reason="implied covariance is not positive definite"
                    )
                total += val
                if derivatives:
                    o = pat.observed
                    m = pat.cov + np.outer(d, d)
                    g_sigma[np.ix_(o, o)] += 0.5 * pat.n * (inv - inv @ m @ inv)
                    g_mu[o] -= pat.n * (inv @ d)
                    ds = d_sigma[:, o][:, :, o]
                    po = len(o)
                    flat = ds.reshape(q, po * po)
                    xm = (inv @ ds @ inv).reshape(q, po * po)
                    dm = d_mu[:, o]
                    info += pat.n * (0.5 * flat @ xm.T + dm @ inv @ dm.T)
            if derivatives:
                grad += d_sigma.reshape(q, p * p) @ g_sigma.reshape(-1) + d_mu @ g_mu
        f = (total + self.logl_h1) / n
        if derivatives:
            return Evaluation(f, grad / n, info / n)
        return Evaluation(f)


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
    """Fit the unrestricted model (all means, variances, covariances free) by FIML."""
    from semnet.estimation.constraints import linear_constraints
    from semnet.estimation.optimize import minimize
    from semnet.estimation.start import start_values
    from semnet.partable.build import partable

    lines = [f"{a} ~~ {' + '.join(names[i:])}" for i, a in enumerate(names)]
    lines += [f"{a} ~ 1" for a in names]
    pt = partable("\n".join(lines), groups=[m.label for m in moments], meanstructure=True)
    model = Model(pt)
    values0 = start_values(pt, moments)
    cons = linear_constraints(pt, model.nfree, model.free, values0)
    x0 = values0[model.free_rows][np.argsort(model.free[model.free_rows])]
    disc = FIMLDiscrepancy(model, moments, values0, patterns, 0.0)
    result = minimize(disc, cons, x0)
    if not result.converged:
        from semnet.errors import ConvergenceError

        raise ConvergenceError(
            "the unrestricted (saturated) model of the incomplete data did not converge; "
            "check for variables that are almost never observed together."
        )
    values = model.values(result.x, values0)
    sigmas, mus = [], []
    for g in range(len(moments)):
        s, mu = model.implied(values, g)
        sigmas.append(s)
        mus.append(mu)
    return sigmas, mus, disc.group_logliks(result.x)
