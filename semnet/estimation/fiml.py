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

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypeVar

import numpy as np
from scipy.linalg import lapack
from threadpoolctl import ThreadpoolController

from semnet.data.moments import GroupMoments
from semnet.estimation.ml import Evaluation
from semnet.matrices.ram import Model

LOG2PI = np.log(2 * np.pi)

F = TypeVar("F", bound=Callable)


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """threadpoolctl's controller of the loaded BLAS libraries, made once: limiting
    through it costs microseconds."""
    return ThreadpoolController()


def one_blas_thread(func: F) -> F:
    """Run ``func`` with a single BLAS thread.

    FIML's work, and an ML optimizer's, is many small matrix products (per pattern, per
    group); BLAS threads only add overhead to those and, on a busy machine, make them
    wait for each other (several times slower).
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _blas_controller().limit(limits=1, user_api="blas"):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@dataclass(frozen=True)
class Pattern:
    """Cases sharing one pattern of observed variables."""

    observed: np.ndarray
    rows: np.ndarray
    n: int
    mean: np.ndarray
    cov: np.ndarray


#: most cells (patterns x p x p) of one stack of patterns, to bound the temporaries
STACK_CELLS = 2**21


@dataclass(frozen=True, eq=False)
class PatternStack:
    """Patterns stacked for batched linear algebra, each padded to all ``p`` variables.

    The observed block of a pattern sits in place and the rest is zero.  Putting ones on
    the diagonal of the unobserved variables (``Sigma_pad``, see :func:`_terms`) keeps
    the padded covariance positive definite with the log-determinant of ``Sigma_oo``
    and, on the observed block, its inverse, so that patterns of any size share one
    batched Cholesky factorization.

    Attributes
    ----------
    n : (K,) float
        Cases per pattern.
    size : (K,) int
        Observed variables per pattern.
    observed : (K, p) bool
    block : (K, p, p) bool
        Observed x observed cells.
    mean : (K, p)
        Pattern means, zero where unobserved.
    cov : (K, p, p)
        Pattern covariances (divisor ``n_k``), zero outside the observed block.
    """

    n: np.ndarray
    size: np.ndarray
    observed: np.ndarray
    block: np.ndarray
    mean: np.ndarray
    cov: np.ndarray

    @classmethod
    def of(cls, patterns: Sequence[Pattern], p: int) -> PatternStack:
        k = len(patterns)
        observed = np.zeros((k, p), dtype=bool)
        mean = np.zeros((k, p))
        cov = np.zeros((k, p, p))
        for i, pat in enumerate(patterns):
            o = pat.observed
            observed[i, o] = True
            mean[i, o] = pat.mean
            cov[i][np.ix_(o, o)] = pat.cov
        return cls(
            n=np.array([pat.n for pat in patterns], dtype=float),
            size=observed.sum(axis=1),
            observed=observed,
            block=observed[:, :, None] & observed[:, None, :],
            mean=mean,
            cov=cov,
        )


@dataclass(frozen=True, eq=False)
class PatternSet(Sequence[Pattern]):
    """The missing-data patterns of one group: a sequence of :class:`Pattern`, with
    their stacked form (:class:`PatternStack`, built once) for batched computation, and
    a ``memo`` for what later steps derive from the group's patterns once (the
    unrestricted model's informations, :func:`semnet.inference.fiml_corrected.h1_informations`)."""

    patterns: tuple[Pattern, ...]
    stacks: tuple[PatternStack, ...]
    nobs: int
    memo: dict = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, patterns: Sequence[Pattern], p: int) -> PatternSet:
        """Stack ``patterns`` of ``p`` variables (an existing set is returned as is)."""
        if isinstance(patterns, PatternSet):
            return patterns
        patterns = tuple(patterns)
        step = max(1, STACK_CELLS // (p * p))
        stacks = tuple(
            PatternStack.of(patterns[i : i + step], p) for i in range(0, len(patterns), step)
        )
        return cls(patterns, stacks, sum(pat.n for pat in patterns))

    @cached_property
    def case_pattern(self) -> np.ndarray:
        """The pattern of each case (index into ``patterns``)."""
        out = np.empty(self.nobs, dtype=int)
        for k, pat in enumerate(self.patterns):
            out[pat.rows] = k
        return out

    def __len__(self) -> int:
        return len(self.patterns)

    def __getitem__(self, i):
        return self.patterns[i]


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
        _, inv, _ = _terms(sigma, mu, st)
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


def missing_patterns(x: np.ndarray) -> PatternSet:
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
    return PatternSet.of(out, x.shape[1])


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
        self.ntotal = sum(m.nobs for m in self.moments)
        self.weights = np.array([m.nobs / self.ntotal for m in self.moments])
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
            acc = _accumulate(sigma, mu, pats, order)
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


def _terms(sigma: np.ndarray, mu: np.ndarray, st: PatternStack):
    """Per pattern of a stack: -logL, the zero-padded ``Sigma_oo^-1`` and the mean
    residual (zero where unobserved).  Raises ``LinAlgError`` when some ``Sigma_oo`` is
    not positive definite."""
    inv, logdet = _cholesky_inverse(np.where(st.block, sigma, np.eye(sigma.shape[0])))
    inv = np.where(st.block, inv, 0.0)
    d = np.where(st.observed, st.mean - mu, 0.0)
    quad = np.einsum("kij,kij->k", inv, st.cov) + np.einsum("ki,kij,kj->k", d, inv, d)
    val = 0.5 * st.n * (st.size * LOG2PI + logdet + quad)
    return val, inv, d


def _cholesky_inverse(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inverses and log-determinants of a stack of positive definite matrices, from
    their Cholesky factors (LAPACK ``potrf``/``potri`` matrix by matrix: for the small
    matrices of missing-data patterns about twice as fast as batched
    ``cholesky`` + ``inv``).  Raises ``LinAlgError`` when one is not positive definite."""
    k, p = a.shape[:2]
    inv = np.empty_like(a)
    diag = np.empty((k, p))
    for i in range(k):
        c, info = lapack.dpotrf(a[i], lower=True, clean=False)
        if info:
            raise np.linalg.LinAlgError("a pattern's implied covariance is not positive definite")
        diag[i] = c.diagonal()
        inv[i], info = lapack.dpotri(c, lower=True)
    inv = np.where(np.tri(p, dtype=bool), inv, inv.transpose(0, 2, 1))
    return inv, 2.0 * np.log(diag).sum(axis=1)


def _kron_sum(n: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``sum_k n_k a_k[i, j] b_k[l, m]`` as a (p^2 x p^2) matrix indexed ``(ij), (lm)``."""
    k = len(n)
    return (a.reshape(k, -1) * n[:, None]).T @ b.reshape(k, -1)


def _as_kron(t: np.ndarray, p: int) -> np.ndarray:
    """Reorder a ``(ij), (lm)`` matrix from :func:`_kron_sum` into the Kronecker layout
    ``(il), (jm)`` of ``sum_k n_k kron(a_k, b_k)``."""
    return t.reshape(p, p, p, p).transpose(0, 2, 1, 3).reshape(p * p, p * p)


def _accumulate(sigma: np.ndarray, mu: np.ndarray, pats: Sequence[Pattern], order: int):
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
            val, inv, d = _terms(sigma, mu, st)
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


@dataclass(frozen=True)
class FIMLData:
    """What FIML needs from the data: per-group moments (with the EM/saturated
    estimates as ``cov`` and ``mean``), missing-data patterns, and the saturated
    log-likelihood of each group."""

    moments: tuple[GroupMoments, ...]
    patterns: tuple[PatternSet, ...]
    logl_h1: np.ndarray
    baseline_logl: np.ndarray
    baseline_mean: tuple[np.ndarray, ...]
    baseline_var: tuple[np.ndarray, ...]


@one_blas_thread
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
        sigma, mu, logl = em_moments(pats, mom.cov.copy(), mom.mean.copy())
        sigmas.append(sigma)
        mus.append(mu)
        logls.append(logl)
    return sigmas, mus, np.array(logls)


def em_moments(
    patterns: Sequence[Pattern],
    sigma: np.ndarray,
    mu: np.ndarray,
    max_iter: int = 10000,
    tol: float = 1e-12,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Maximum-likelihood mean and covariance of incomplete normal data (EM algorithm),
    and the log-likelihood there.

    The E-step works on each pattern's mean and covariance, batched over the patterns:
    with ``B`` the regression of all variables on the observed ones (``Sigma A`` in the
    unobserved rows, the identity in the observed ones, ``A`` the padded
    ``Sigma_oo^-1``), the completed cases have mean ``e = mu + B (ybar - mu)`` and sum of
    cross-products ``n (e e' + B S B' + C)``, ``C = Sigma - Sigma A Sigma`` the residual
    covariance of the unobserved variables.  Iterates until the log-likelihood changes
    by less than ``tol`` (relative).
    """
    p = len(mu)
    pats = PatternSet.of(patterns, p)
    eye = np.eye(p)
    logl_old = -np.inf
    for _ in range(max_iter):
        terms = [_terms(sigma, mu, st) for st in pats.stacks]
        logl = -float(sum(val.sum() for val, _, _ in terms))
        if abs(logl - logl_old) <= tol * max(1.0, abs(logl)):
            break
        logl_old = logl
        t1 = np.zeros(p)
        t2 = np.zeros((p, p))
        for st, (_, inv, d) in zip(pats.stacks, terms, strict=True):
            unobserved = ~st.observed
            b = np.where(unobserved[:, :, None], sigma @ inv, eye)
            e = mu + np.einsum("kij,kj->ki", b, d)
            c = np.where(unobserved[:, :, None] & unobserved[:, None, :], sigma - b @ sigma, 0.0)
            m2 = e[:, :, None] * e[:, None, :] + b @ st.cov @ b.transpose(0, 2, 1) + c
            t1 += st.n @ e
            t2 += np.einsum("k,kij->ij", st.n, m2)
        mu = t1 / pats.nobs
        sigma = t2 / pats.nobs - np.outer(mu, mu)
        sigma = (sigma + sigma.T) / 2
    return sigma, mu, logl


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
