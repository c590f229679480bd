"""Incomplete data: missing-data patterns, the saturated model by EM, pairwise moments.

The data layer's part of full-information ML: cases are grouped by their pattern of
observed variables (:class:`Pattern`, stacked for batched linear algebra in
:class:`PatternStack` / :class:`PatternSet`), and the unrestricted (saturated) model of
each group is fitted by EM (:func:`em_moments`), which gives FIML's sample statistics
(:class:`FIMLData`).  Each pattern ``k`` with ``n_k`` cases, observed set ``o``, mean
``ybar_k`` and (N-divisor) covariance ``S_k`` contributes::

    -logL_k = 0.5 n_k [p_o log(2 pi) + log|Sigma_oo| + tr(Sigma_oo^-1 (S_k + d d')))],
    d = ybar_k - mu_o

(:func:`pattern_terms`).

Exogenous covariates under ``fixed.x`` (lavaan's default) are conditioned on, as
lavaan's ``missing = "ml"`` does: a case missing on a covariate is deleted
(:func:`covariate_deletion`), the covariates' moments are fixed at the EM estimates
(those of the complete covariates), and the log-likelihoods reported are conditional on
the covariates (:class:`FIMLData` ``logl_x``, ``logl_x_h1``).  lavaan's
``missing = "ml.x"`` keeps those cases (their covariates' missing values then enter the
likelihood, the covariates' moments still fixed at the EM estimates).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy.linalg import lapack

from semnet._blas import one_blas_thread
from semnet.data.moments import GroupMoments
from semnet.errors import DataError

LOG2PI = np.log(2 * np.pi)


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
        out = np.empty(sum(len(pat.rows) for pat in self.patterns), dtype=int)
        for k, pat in enumerate(self.patterns):
            out[pat.rows] = k
        return out

    def __len__(self) -> int:
        return len(self.patterns)

    def __getitem__(self, i):
        return self.patterns[i]


def missing_patterns(x: np.ndarray, weights: np.ndarray | None = None) -> PatternSet:
    """Group the rows of ``x`` (cases x variables, NaN = missing) by missingness pattern;
    with sampling ``weights`` a pattern's ``n`` is the sum of its cases' weights and its
    mean and covariance are weighted.

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
        w = np.ones(len(rows)) if weights is None else weights[rows]
        n = len(rows) if weights is None else float(w.sum())
        mean = w @ block / n
        c = block - mean
        out.append(Pattern(o, rows, n, mean, (c * w[:, None]).T @ c / n))
    return PatternSet.of(out, x.shape[1])


def pattern_terms(sigma: np.ndarray, mu: np.ndarray, st: PatternStack):
    """Per pattern of a stack: -logL, the zero-padded ``Sigma_oo^-1`` and the mean
    residual (zero where unobserved).  Raises ``LinAlgError`` when some ``Sigma_oo`` is
    not positive definite."""
    inv, logdet = cholesky_inverse(np.where(st.block, sigma, np.eye(sigma.shape[0])))
    inv = np.where(st.block, inv, 0.0)
    d = np.where(st.observed, st.mean - mu, 0.0)
    quad = np.einsum("kij,kij->k", inv, st.cov) + np.einsum("ki,kij,kj->k", d, inv, d)
    val = 0.5 * st.n * (st.size * LOG2PI + logdet + quad)
    return val, inv, d


def cholesky_inverse(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


@dataclass(frozen=True)
class CovariateDeletion:
    """The cases of one group deleted because a ``fixed.x`` covariate is missing
    (lavaan's rule with ``missing = "ml"``): how many, and per covariate how many of
    the group's cases miss it."""

    label: str
    n: int
    missing: tuple[tuple[str, int], ...]


def covariate_deletion(
    values: np.ndarray, groups: np.ndarray | None, labels: Sequence[str],
    names: Sequence[str], covariates: Sequence[str],
) -> tuple[np.ndarray, tuple[CovariateDeletion, ...]]:
    """The rows of ``values`` (cases x ``names``, NaN = missing) to keep, those observed
    on every covariate, and per group (``groups``: each row's label, or ``None``) what
    was deleted.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0], [np.nan, 1.0], [3.0, np.nan]])
    >>> keep, out = covariate_deletion(x, None, [""], ["y", "age"], ["age"])
    >>> keep.tolist(), out[0].n, out[0].missing
    ([True, True, False], 1, (('age', 1),))
    """
    cols = [list(names).index(v) for v in covariates]
    absent = np.isnan(values[:, cols])
    keep = ~absent.any(axis=1)
    out = []
    for label in labels:
        rows = np.ones(len(values), bool) if groups is None else groups == label
        counts = absent[rows].sum(axis=0)
        missing = tuple((v, int(c)) for v, c in zip(covariates, counts, strict=True) if c)
        out.append(CovariateDeletion(label, int((rows & ~keep).sum()), missing))
    return keep, tuple(out)


@dataclass(frozen=True)
class FIMLData:
    """What FIML needs from the data: per-group moments (with the EM/saturated
    estimates as ``cov`` and ``mean``), missing-data patterns, and the saturated
    log-likelihood of each group.

    With ``fixed.x`` covariates (positions ``x_index``): per group ``x_cov``, lavaan's
    sample covariance matrix of the covariates (pairwise, divisor N; with sampling
    weights the EM estimate), at which the baseline model fixes them; ``logl_x`` and
    ``logl_x_h1``, the covariates' own (complete-data) log-likelihood at the EM
    estimate and at ``x_cov``, which lavaan subtracts from the model's and the
    unrestricted model's log-likelihoods; ``deleted``, the cases deleted because a
    covariate is missing.

    With random covariates (``fixed.x = FALSE``, positions ``random_x_index``) the
    baseline model saturates their block, as lavaan's: per group ``random_x_cov`` and
    ``random_x_mean``, its maximum-likelihood estimates (EM on the covariates' columns
    alone), whose log-likelihood enters ``baseline_logl``.
    """

    moments: tuple[GroupMoments, ...]
    patterns: tuple[PatternSet, ...]
    logl_h1: np.ndarray
    baseline_logl: np.ndarray
    baseline_mean: tuple[np.ndarray, ...]
    baseline_var: tuple[np.ndarray, ...]
    x_index: tuple[int, ...] = ()
    x_cov: tuple[np.ndarray, ...] = ()
    logl_x: np.ndarray | None = None
    logl_x_h1: np.ndarray | None = None
    deleted: tuple[CovariateDeletion, ...] = ()
    random_x_index: tuple[int, ...] = ()
    random_x_cov: tuple[np.ndarray, ...] = ()
    random_x_mean: tuple[np.ndarray, ...] = ()


def covariate_cov(x: np.ndarray, weights: np.ndarray | None, em_cov: np.ndarray) -> np.ndarray:
    """lavaan's sample covariance matrix of the covariates' columns ``x`` of incomplete
    data: pairwise (divisor N), or with sampling ``weights`` the EM estimate ``em_cov``."""
    return em_cov if weights is not None else pairwise_moments(x)[0]


def _complete_logl(cov: np.ndarray, n: float) -> float:
    """The saturated log-likelihood of ``n`` complete cases with covariance ``cov``."""
    q = cov.shape[0]
    return -0.5 * n * (q * LOG2PI + float(np.linalg.slogdet(cov)[1]) + q)


def _covariate_part(mom: GroupMoments, pats: PatternSet, x: Sequence[int]):
    """Per group: ``x_cov``, ``logl_x``, ``logl_x_h1`` and the covariates' block of the
    baseline model's log-likelihood (at the EM means and ``x_cov``)."""
    x = list(x)
    data = mom.data[:, x]
    cov = covariate_cov(data, mom.weights, mom.cov[np.ix_(x, x)])
    seen = ~np.isnan(data).all(axis=1)
    w = None if mom.weights is None else mom.weights[seen]
    xpats = missing_patterns(data[seen], w)
    baseline = -sum(float(pattern_terms(cov, mom.mean[x], st)[0].sum()) for st in xpats.stacks)
    n = pats.nobs
    return cov, _complete_logl(mom.cov[np.ix_(x, x)], n), _complete_logl(cov, n), baseline


def saturated_block(
    x: np.ndarray, weights: np.ndarray | None, mean: np.ndarray, var: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """The saturated model of the random covariates' columns ``x`` alone (the baseline
    model's block of them): EM covariance, mean and log-likelihood, started from each
    column's own ``mean`` and ``var``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [4.0, 3.0]])
    >>> cov, mean, _ = saturated_block(x, None, np.nanmean(x, 0), np.nanvar(x, 0))
    >>> bool(np.allclose(cov, cov.T)), round(float(mean[0]), 2)
    (True, 2.5)
    """
    seen = ~np.isnan(x).all(axis=1)
    pats = missing_patterns(x[seen], None if weights is None else weights[seen])
    return em_moments(pats, np.diag(var), mean.copy())


@one_blas_thread
def fiml_data(
    blocks: Sequence[tuple[str, np.ndarray]], names: Sequence[str],
    weights: Sequence[np.ndarray] | None = None, x_index: Sequence[int] = (),
    random_x_index: Sequence[int] = (),
) -> FIMLData:
    """Patterns and the unrestricted (saturated) model of incomplete data.

    ``blocks`` holds ``(group label, cases x variables)`` with NaN for missing values,
    ``weights`` (optional) the cases' sampling weights per block, ``x_index`` the
    positions of the ``fixed.x`` covariates (whose own moments the baseline model fixes
    and the log-likelihoods condition on), ``random_x_index`` those of the random
    covariates (``fixed.x = FALSE``: the baseline model saturates their block).  Cases
    missing on every variable are dropped (and counted in ``n_dropped``).
    """
    moments, patterns, baseline, b_mean, b_var = [], [], [], [], []
    rx = list(random_x_index)
    rx_cov, rx_mean = [], []
    for i, (label, x) in enumerate(blocks):
        empty = np.isnan(x).all(axis=1)
        x = x[~empty]
        w = None if weights is None else weights[i][~empty]
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
        mean, var, counts = observed_moments(x, w)
        constant = [names[i] for i in np.flatnonzero(var == 0)]
        if constant:
            raise DataError(
                f"variable(s) {', '.join(constant)} are constant{where}; drop them from the model."
            )
        x.setflags(write=False)
        moments.append(
            GroupMoments(label, tuple(names), np.diag(var), mean, n, int(empty.sum()), x, weights=w)
        )
        patterns.append(missing_patterns(x, w))
        # independence model: each variable's own mean and variance (closed form), less
        # the fixed.x covariates (their block is added below)
        own = np.ones(len(names), bool)
        own[list(x_index) + rx] = False
        logl_base = float(np.sum(-0.5 * counts[own] * (LOG2PI + np.log(var[own]) + 1.0)))
        if rx:
            sigma_x, mu_x, logl_x = saturated_block(x[:, rx], w, mean[rx], var[rx])
            rx_cov.append(sigma_x)
            rx_mean.append(mu_x)
            logl_base += logl_x
        baseline.append(logl_base)
        b_mean.append(mean)
        b_var.append(var)
    sigma_h1, mu_h1, logl_h1 = _saturated(moments, patterns, names)
    moments = [
        GroupMoments(m.label, m.names, s, mu, m.nobs, m.n_dropped, m.data, weights=m.weights)
        for m, s, mu in zip(moments, sigma_h1, mu_h1, strict=True)
    ]
    random = {"random_x_index": tuple(rx), "random_x_cov": tuple(rx_cov),
              "random_x_mean": tuple(rx_mean)}  # fmt: skip
    if not x_index:
        return FIMLData(tuple(moments), tuple(patterns), logl_h1, np.array(baseline),
                        tuple(b_mean), tuple(b_var), **random)  # fmt: skip
    parts = [_covariate_part(m, p, x_index) for m, p in zip(moments, patterns, strict=True)]
    return FIMLData(
        tuple(moments), tuple(patterns), logl_h1,
        np.array(baseline) + np.array([part[3] for part in parts]), tuple(b_mean),
        tuple(b_var), tuple(x_index), tuple(part[0] for part in parts),
        np.array([part[1] for part in parts]), np.array([part[2] for part in parts]),
        **random,
    )  # fmt: skip


def observed_moments(
    x: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each variable's mean and variance (divisor: the sum of weights) over its observed
    values, and that sum (the number of cases observing it, without weights).

    Examples
    --------
    >>> import numpy as np
    >>> observed_moments(np.array([[1.0], [3.0], [np.nan]]))[0].tolist()
    [2.0]
    """
    obs = ~np.isnan(x)
    w = obs * (1.0 if weights is None else weights[:, None])
    counts = w.sum(axis=0)
    mean = (np.where(obs, x, 0.0) * w).sum(axis=0) / counts
    var = (np.where(obs, x - mean, 0.0) ** 2 * w).sum(axis=0) / counts
    return mean, var, counts


def _saturated(moments, patterns, names):
    """The unrestricted model (all means, variances, covariances free) by EM; a group
    whose saturated covariance matrix is singular (too few cases for its variables) is
    a :class:`DataError` that names it."""
    sigmas, mus, logls = [], [], []
    for mom, pats in zip(moments, patterns, strict=True):
        try:
            sigma, mu, logl = em_moments(pats, mom.cov.copy(), mom.mean.copy())
        except np.linalg.LinAlgError:
            where = f"group {mom.label!r}" if mom.label else "the data"
            raise DataError(
                f"the unrestricted (saturated) model of {where} cannot be estimated: "
                f"{mom.nobs} case(s) with any data for {len(names)} observed variables, "
                "and their covariance matrix is singular. FIML needs more cases than "
                "variables in each group; merge small groups or drop variables."
            ) from None
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
        terms = [pattern_terms(sigma, mu, st) for st in pats.stacks]
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
