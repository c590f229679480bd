"""Fit measures for normal-theory maximum likelihood (lavaan's ``fitMeasures()``).

This module reproduces the set of fit measures that lavaan (0.6-14) reports
for ``estimator = "ML"`` with complete data and the standard (non-robust)
test statistic, for single- and multiple-group models.  Everything is computed
from per-group sample moments (N divisor) and model-implied moments at the
estimate, plus the free-parameter count and the model degrees of freedom.

Conventions taken over from lavaan
----------------------------------
* ``fmin`` is lavaan's minimum of the ML objective,
  ``sum_g (N_g / N) * F_g`` with ``F_g = 0.5 * (log|Sigma| + tr(S Sigma^-1)
  - log|S| - p [+ (m - mu)' Sigma^-1 (m - mu)])`` (negative ``F_g`` clipped at
  zero), and ``chisq = 2 * sum_g N_g * F_g``.
* The baseline model is the independence model: free variances, saturated
  means, and (with ``fixed.x``) the whole covariate block fixed at its sample
  values, fitted separately in each group (no across-group constraints).  Its
  ML solution is closed form.  Its degrees of freedom are
  ``sum_g [p_y (p_y - 1) / 2 + p_y * p_x]`` (means cancel).
* The log-likelihoods are, with ``fixed.x`` covariates, conditional on the
  covariates (the marginal log-likelihood of the covariate block is
  subtracted from both ``logl`` and ``unrestricted_logl``).
* RMSEA for ``G`` groups is multiplied by ``sqrt(G)`` (Steiger's correction),
  and the close/not-close fit tests use the non-centrality
  ``N * df * rmsea0^2 / G``.  The confidence interval limits are found with
  Brent's root finder using R's ``uniroot()`` default tolerance, so that the
  reported limits agree with lavaan's to far better than that tolerance.
* RMR / SRMR / CRMR and the Mplus SRMR variants are averaged across groups
  with weights ``N_g / N``; so is the GFI.

Robust (scaled) measures
------------------------
With a :class:`ScaledInput` the function also reports what lavaan adds for
``estimator = "MLM"`` (test ``"satorra.bentler"``) and ``estimator = "MLR"``
(test ``"yuan.bentler.mplus"``), complete data.  With ``c`` the model's
scaling factor, ``T = chisq`` (unscaled), ``T_c = T / c`` (scaled) and the
baseline's ``T0``, ``T0_c``, ``c0`` (same df ``df0`` for both):

* ``*_scaled`` incremental indices (CFI, TLI, NFI, ...) are the standard
  formulas applied to the scaled statistics ``(T_c, df, T0_c, df0)``.
* ``cfi_robust``, ``tli_robust``, ``nnfi_robust``, ``rni_robust``
  (Brosseau-Liard & Savalei, 2014) use the *unscaled* statistics with the
  degrees of freedom multiplied by the scaling factors: ``T - c df`` and
  ``T0 - c0 df0``.  lavaan falls back to the standard formula when ``df = 0``
  or when either factor is exactly 1.
* ``rmsea_scaled`` refers the unscaled ``T`` to a chi-square with
  ``tr(U Gamma) = c df`` degrees of freedom: point estimate, interval and
  close/not-close p-values are the standard ones with ``df`` replaced by
  ``c df`` (including in the non-centralities of the p-values).
* ``rmsea_robust`` (Brosseau-Liard, Savalei & Li, 2012) is
  ``sqrt(max(T / (N df) - c / N, 0)) * sqrt(G)``, i.e. ``sqrt(c)`` times the
  RMSEA of ``T_c``; its interval inverts the non-central chi-square of
  ``T_c`` on ``df`` and multiplies the limits by ``sqrt(c)``
  (``sqrt(c lambda / (N df)) * sqrt(G)``), and its p-values refer ``T_c`` to
  a non-central chi-square with ``ncp = N df h0^2 / (c G)``.
* For multiple groups nothing else changes: ``c`` and ``c0`` are the overall
  factors of the (pooled) test, ``N`` is the total sample size and the
  ``sqrt(G)`` / ``1 / G`` corrections apply as in the standard RMSEA.

The mean-and-variance adjusted test of ``estimator = "MLMV"`` (``"scaled.shifted"``,
Asparouhov & Muthen, 2010) reports ``chisq_scaled = T / c + b`` with ``c = 1 / a`` its
``scaling.factor`` and ``b`` its ``shift.parameter``.  lavaan then takes: the scaled
incremental indices from ``(T_c, df, T0_c, df0)`` as above; the scaled RMSEA as the
standard RMSEA of ``T_c`` on ``df``; for the robust CFI/TLI/RNI and the robust RMSEA
point estimate the factor ``c (df - b) / df`` in place of ``c`` (``c0 (df0 - b0) / df0``
for the baseline; Savalei, 2018); and for the robust RMSEA interval and p-values
``T_c`` with ``c``.

Missing data (FIML)
-------------------
With a :class:`MissingDataInput` the groups' sample moments are the EM estimates of
the unrestricted model, and three things change, all as in lavaan 0.6-14:

* ``logl``, ``unrestricted_logl`` and the baseline chi-square are the casewise
  likelihoods, and ``fmin = chisq / (2 N)``.
* The ``*_robust`` measures are reported for the standard test too, and are built on
  the FIML-corrected statistics of Zhang & Savalei (2023)
  (:mod:`semnet.inference.fiml_corrected`): ``T3`` (the ML statistic of the model on the
  EM moments) and ``T3_0`` of the baseline, with their scaling factors ``c3``, ``c3_0``,
  in the formulas above: CFI/TLI/RNI from ``T3 - c3 df`` and ``T3_0 - c3_0 df0``; RMSEA
  ``sqrt(max(T3 / (N df) - c3 / N, 0)) sqrt(G)``, its interval and p-values from
  ``T3 / c3``.  With a scaled test (MLR) the correction accounts for non-normality
  (lavaan's version V3), without one only for the missing data (V6).
* GFI, AGFI and PGFI: lavaan's GFI contrasts its "observed" moments with the implied
  ones in the metric of its weight matrix.  With ``missing = "ml"`` lavaan's stored
  observed moments are *not* the EM estimates but the pairwise-deletion covariances
  (divisor ``n_ij - 1``, rescaled by ``(N - 1) / N``) and the available-case means, and
  the weight is the expected information of the missing-data likelihood at the implied
  moments, ``sum_k (n_k / N)`` of the complete-data weight of each pattern's observed
  variables.  semnet computes the same (from ``MissingDataInput.pairwise`` and
  ``.patterns``) so that the numbers agree; mind that the pairwise moments are a
  descriptive choice, consistent only under MCAR, unlike every other FIML measure.

Limitation: with ``fixed.x = FALSE`` lavaan's baseline model still frees the
covariances among the exogenous observed covariates (its ``ov.x``), i.e. it
saturates that block; ``x_index`` only describes ``fixed.x`` covariates, so
for such models the baseline family (``baseline_*``, CFI, TLI, ...) differs
from lavaan's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import special

if TYPE_CHECKING:
    from semnet.inference.fiml_corrected import FimlCorrected

__all__ = [
    "FIT_MEASURE_NAMES",
    "ROBUST_TESTS",
    "GroupFitInput",
    "ScaledInput",
    "fit_measure_names",
    "fit_measures",
]

#: Names (lavaan order, dots replaced by underscores) of the measures returned
#: by :func:`fit_measures` -- lavaan 0.6-14 ``fitMeasures(fit)`` for ML.
FIT_MEASURE_NAMES: tuple[str, ...] = (
    "npar", "fmin", "chisq", "df", "pvalue",
    "baseline_chisq", "baseline_df", "baseline_pvalue",
    "cfi", "tli", "nnfi", "rfi", "nfi", "pnfi", "ifi", "rni",
    "logl", "unrestricted_logl", "aic", "bic", "ntotal", "bic2",
    "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_ci_level",
    "rmsea_pvalue", "rmsea_close_h0", "rmsea_notclose_pvalue", "rmsea_notclose_h0",
    "rmr", "rmr_nomean", "srmr", "srmr_bentler", "srmr_bentler_nomean",
    "crmr", "crmr_nomean", "srmr_mplus", "srmr_mplus_nomean",
    "cn_05", "cn_01", "gfi", "agfi", "pgfi", "mfi", "ecvi",
)  # fmt: skip

#: lavaan's names of the robust tests that :class:`ScaledInput` supports.
ROBUST_TESTS: tuple[str, ...] = ("satorra.bentler", "yuan.bentler.mplus", "scaled.shifted")

#: H0 value of the RMSEA close-fit test (lavaan's ``rmsea.close.h0``).
RMSEA_CLOSE_H0: float = 0.05
#: H0 value of the RMSEA not-close-fit test (lavaan's ``rmsea.notclose.h0``).
RMSEA_NOTCLOSE_H0: float = 0.08

_LOG_2PI = math.log(2.0 * math.pi)
#: R's ``.Machine$double.eps``.
_DOUBLE_EPS = float(np.finfo(float).eps)
#: Tolerance of R's ``all.equal()`` (``sqrt(.Machine$double.eps)``).
_ALL_EQUAL_TOL = 1.5e-8
#: R's default ``uniroot()`` tolerance, ``.Machine$double.eps^0.25``.
_UNIROOT_TOL = _DOUBLE_EPS**0.25
#: Residual (co)variances / means below this are not rescaled (lavaan quirk).
_RESCALE_NEAR_ZERO = 1e-5
#: A saturated model (df = 0) whose chi-square is below this is treated as an
#: exact fit (lavaan: ``X2 < .Machine$double.eps``; widened to absorb the
#: rounding noise of a chi-square recomputed from the moments).
_SATURATED_CHISQ_TOL = 1e-8


@dataclass(frozen=True)
class GroupFitInput:
    """Per-group ingredients of the ML fit measures.

    Attributes
    ----------
    nobs : int
        Number of observations ``N_g`` in the group.
    sample_cov : numpy.ndarray
        ``p x p`` sample covariance matrix with divisor ``N_g``.
    sample_mean : numpy.ndarray
        Length-``p`` sample mean vector.
    implied_cov : numpy.ndarray
        ``p x p`` model-implied covariance matrix at the estimate.
    implied_mean : numpy.ndarray
        Length-``p`` model-implied mean vector (equal to ``sample_mean`` when
        the model has no mean structure).
    x_index : tuple of int, optional
        Positions (0-based) of the ``fixed.x`` exogenous covariates among the
        ``p`` variables.
    """

    nobs: int
    sample_cov: np.ndarray
    sample_mean: np.ndarray
    implied_cov: np.ndarray
    implied_mean: np.ndarray
    x_index: tuple[int, ...] = ()


@dataclass(frozen=True)
class ScaledInput:
    """Robust test of the model and of the baseline model (MLM / MLR).

    Attributes
    ----------
    test : str
        lavaan's name of the robust test: ``"satorra.bentler"`` (MLM),
        ``"yuan.bentler.mplus"`` (MLR) or ``"scaled.shifted"`` (MLMV).
    chisq_scaled : float
        Scaled test statistic of the model: ``chisq / scaling_factor``, or
        ``chisq / scaling_factor + shift_parameter`` for ``"scaled.shifted"``.
    scaling_factor : float
        Scaling factor ``c`` of the model's test (lavaan's
        ``scaling.factor``; for the first two tests ``c * df`` is its
        ``trace.UGamma``).
    baseline_chisq_scaled : float
        Scaled test statistic of the independence (baseline) model.
    baseline_scaling_factor : float
        Scaling factor ``c0`` of the baseline model's test.
    scaling_factor_h1, scaling_factor_h0 : float, optional
        lavaan's ``scaling.factor.h1`` / ``scaling.factor.h0`` of the
        Yuan-Bentler test, reported as they are for ``"yuan.bentler.mplus"``
        (ignored otherwise).
    shift_parameter, baseline_shift_parameter : float, optional
        Shift ``b`` of the ``"scaled.shifted"`` test of the model and of the
        baseline model (ignored otherwise).
    """

    test: str
    chisq_scaled: float
    scaling_factor: float
    baseline_chisq_scaled: float
    baseline_scaling_factor: float
    scaling_factor_h1: float = math.nan
    scaling_factor_h0: float = math.nan
    shift_parameter: float = math.nan
    baseline_shift_parameter: float = math.nan


_SCALED_SUFFIX_FAMILY = ("nnfi", "rfi", "nfi", "pnfi", "ifi", "rni")
_RMSEA_SUFFIX_FAMILY = (
    "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "rmsea_pvalue", "rmsea_notclose_pvalue",
)  # fmt: skip


@dataclass(frozen=True)
class MissingDataInput:
    """What a FIML fit adds to the moments, which the moments alone cannot give.

    With incomplete data the groups' ``sample_cov``/``sample_mean`` are the EM
    estimates of the unrestricted model (as lavaan's), and the log-likelihoods and the
    baseline chi-square come from the casewise (pattern-wise) likelihood.

    Attributes
    ----------
    logl, unrestricted_logl : float
        FIML log-likelihoods of the model and of the unrestricted model.
    baseline_chisq : float
        FIML likelihood-ratio statistic of the independence model.
    corrected : FimlCorrected, optional
        The FIML-corrected statistics (:mod:`semnet.inference.fiml_corrected`) on which
        the ``*_robust`` measures are built; without them those measures are NaN.
    pairwise : tuple of (cov, mean), optional
        Per group, the pairwise-deletion covariance matrix (rescaled to divisor ``N_g``)
        and the available-case means: the "observed" moments of lavaan's GFI.
    patterns : tuple of tuples of (observed indices, count), optional
        Per group, the missing-data patterns: they define the GFI's weight matrix.
    """

    logl: float
    unrestricted_logl: float
    baseline_chisq: float
    corrected: FimlCorrected | None = None
    pairwise: tuple[tuple[np.ndarray, np.ndarray], ...] | None = None
    patterns: tuple[tuple[tuple[np.ndarray, int], ...], ...] | None = None


def fit_measure_names(test: str | None = None, missing: bool = False) -> tuple[str, ...]:
    """Names (lavaan order, dots as underscores) that :func:`fit_measures` returns.

    Parameters
    ----------
    test : str, optional
        ``None`` for the standard ML test (:data:`FIT_MEASURE_NAMES`), or one
        of :data:`ROBUST_TESTS` for the robust set lavaan 0.6-14 reports.
    missing : bool, optional
        A FIML fit: lavaan then adds the (FIML-corrected) ``*_robust`` measures
        to the standard set too.

    Returns
    -------
    tuple of str

    Raises
    ------
    ValueError
        If ``test`` is not supported.
    """
    if test is not None and test not in ROBUST_TESTS:
        raise ValueError(f"unsupported robust test {test!r}; expected one of {ROBUST_TESTS}")
    base = list(FIT_MEASURE_NAMES)
    scaled = test is not None
    robust = scaled or missing
    names: list[str] = base[: base.index("pvalue") + 1]
    if scaled:
        names += ["chisq_scaled", "df_scaled", "pvalue_scaled", "chisq_scaling_factor"]
    names += ["baseline_chisq", "baseline_df", "baseline_pvalue"]
    if scaled:
        names += ["baseline_chisq_scaled", "baseline_df_scaled", "baseline_pvalue_scaled",
                  "baseline_chisq_scaling_factor"]  # fmt: skip
    names += ["cfi", "tli"]
    if scaled:
        names += ["cfi_scaled", "tli_scaled"]
    if robust:
        names += ["cfi_robust", "tli_robust"]
    names += list(_SCALED_SUFFIX_FAMILY)
    if scaled:
        names += [f"{k}_scaled" for k in _SCALED_SUFFIX_FAMILY]
    if robust:
        names += ["nnfi_robust", "rni_robust"]
    names += base[base.index("logl") : base.index("bic2") + 1]
    if test == "yuan.bentler.mplus":
        names += ["scaling_factor_h1", "scaling_factor_h0"]
    names += base[base.index("rmsea") : base.index("rmsea_notclose_h0") + 1]
    if scaled:
        names += [f"{k}_scaled" for k in _RMSEA_SUFFIX_FAMILY]
    if robust:
        names += [f"{k}_robust" for k in _RMSEA_SUFFIX_FAMILY]
    names += base[base.index("rmr") :]
    return tuple(names)


# ---------------------------------------------------------------------------
# small numerical helpers
# ---------------------------------------------------------------------------


def _as_group(g: GroupFitInput) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return validated float arrays ``(S, m, Sigma, mu)`` of one group."""
    S = np.asarray(g.sample_cov, dtype=float)
    Sigma = np.asarray(g.implied_cov, dtype=float)
    m = np.asarray(g.sample_mean, dtype=float).reshape(-1)
    mu = np.asarray(g.implied_mean, dtype=float).reshape(-1)
    p = S.shape[0]
    if S.shape != (p, p) or Sigma.shape != (p, p):
        raise ValueError("sample_cov and implied_cov must be square and of equal size")
    if m.shape != (p,) or mu.shape != (p,):
        raise ValueError("sample_mean and implied_mean must have length p")
    if g.nobs <= 0:
        raise ValueError("nobs must be positive")
    if any(i < 0 or i >= p for i in g.x_index):
        raise ValueError("x_index out of range")
    return S, m, Sigma, mu


def _chol_logdet_inv(A: np.ndarray) -> tuple[float, np.ndarray]:
    """Log-determinant and inverse of a symmetric positive-definite matrix.

    Parameters
    ----------
    A : numpy.ndarray
        Symmetric positive-definite matrix.

    Returns
    -------
    logdet : float
        ``log|A|`` from the Cholesky factor.
    inv : numpy.ndarray
        ``A^{-1}`` (symmetrised).

    Raises
    ------
    ValueError
        If ``A`` is not positive definite.
    """
    if A.shape[0] == 0:
        return 0.0, np.zeros((0, 0))
    try:
        L = np.linalg.cholesky(A)
    except np.linalg.LinAlgError as exc:
        raise ValueError("matrix is not positive definite") from exc
    logdet = 2.0 * float(np.sum(np.log(np.diag(L))))
    Linv = np.linalg.solve(L, np.eye(A.shape[0]))
    inv = Linv.T @ Linv
    return logdet, 0.5 * (inv + inv.T)


def _chol_logdet(A: np.ndarray) -> float:
    """``log|A|`` of a symmetric positive-definite matrix via Cholesky."""
    if A.shape[0] == 0:
        return 0.0
    try:
        L = np.linalg.cholesky(A)
    except np.linalg.LinAlgError as exc:
        raise ValueError("matrix is not positive definite") from exc
    return 2.0 * float(np.sum(np.log(np.diag(L))))


def _pchisq(q: float, df: float, ncp: float = 0.0) -> float:
    """Chi-square CDF (R's ``pchisq``), central or non-central."""
    if ncp == 0.0:
        return float(special.chdtr(df, q))
    return float(special.chndtr(q, df, ncp))


def _qchisq(p: float, df: float) -> float:
    """Chi-square quantile (R's ``qchisq``); ``df = 0`` is a point mass at 0."""
    if df == 0:
        return 0.0
    return float(special.chdtri(df, 1.0 - p))


def _chisq_pvalue(x2: float, df: float) -> float:
    """Upper-tail p-value as lavaan computes it (``NA`` when ``df == 0``)."""
    if not np.isfinite(x2) or df == 0:
        return math.nan
    return 1.0 - _pchisq(x2, df)


def _r_all_equal_zero(x: float) -> bool:
    """R's ``isTRUE(all.equal(x, 0))`` for a finite scalar."""
    return abs(x) < _ALL_EQUAL_TOL


def _zeroin(
    f: Callable[[float], float],
    lower: float,
    upper: float,
    tol: float = _UNIROOT_TOL,
    maxiter: int = 1000,
) -> float:
    """Brent's root finder with the stopping rule of R's ``uniroot()``.

    Parameters
    ----------
    f : callable
        Scalar function with a sign change on ``[lower, upper]``.
    lower, upper : float
        Bracketing interval.
    tol : float, optional
        Absolute tolerance (R's default ``.Machine$double.eps^0.25``).
    maxiter : int, optional
        Maximum number of function evaluations.

    Returns
    -------
    float
        Approximate root; ``nan`` when the end points do not bracket a root
        (R's ``uniroot()`` fails, lavaan then reports ``NA``).
    """
    a, b = lower, upper
    fa, fb = f(a), f(b)
    if not (np.isfinite(fa) and np.isfinite(fb)) or fa * fb > 0.0:
        return math.nan
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    c, fc = a, fa
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            # make b the best approximation so far
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2.0 * _DOUBLE_EPS * abs(b) + tol / 2.0
        new_step = (c - b) / 2.0
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                # secant step
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                # inverse quadratic interpolation
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0.0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2.0) and p < abs(prev_step * q / 2.0):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0.0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0.0 and fc > 0.0) or (fb < 0.0 and fc < 0.0):
            c, fc = a, fa
    return b


# ---------------------------------------------------------------------------
# per-group building blocks
# ---------------------------------------------------------------------------


def _group_ml(g: GroupFitInput, meanstructure: bool) -> dict[str, float | np.ndarray]:
    """ML discrepancy, log-likelihoods and baseline discrepancy of one group."""
    S, m, Sigma, mu = _as_group(g)
    p = S.shape[0]
    n = float(g.nobs)
    x = np.asarray(g.x_index, dtype=int)
    y = np.setdiff1d(np.arange(p), x)

    logdet_S = _chol_logdet(S)
    logdet_Sigma, Sigma_inv = _chol_logdet_inv(Sigma)
    trace = float(np.sum(Sigma_inv * S))
    d = m - mu
    mahal = float(d @ Sigma_inv @ d)

    # lavaan's ML objective (unhalved form), clipped at zero
    f2 = logdet_Sigma + trace - logdet_S - p
    if meanstructure:
        f2 += mahal
    f2 = max(f2, 0.0)

    # log-likelihoods; lavaan uses the sample mean as Mu without meanstructure
    dist2 = mahal if meanstructure else 0.0
    logl = -n / 2.0 * (p * _LOG_2PI + logdet_Sigma + trace + dist2)
    logl_h1 = -n / 2.0 * (p * _LOG_2PI + logdet_S + p)
    logdet_Sxx = 0.0
    if x.size:
        # fixed.x: condition on the covariates (their marginal is saturated)
        logdet_Sxx = _chol_logdet(S[np.ix_(x, x)])
        logl_x = -n / 2.0 * (x.size * _LOG_2PI + logdet_Sxx + x.size)
        logl -= logl_x
        logl_h1 -= logl_x

    # independence baseline: diag(S_yy), S_xx block fixed, zero y-x covariances
    logdet_B = float(np.sum(np.log(np.diag(S)[y]))) + logdet_Sxx
    f2_base = max(logdet_B - logdet_S, 0.0)
    py, px = y.size, x.size
    df_base = py * (py - 1) // 2 + py * px

    return {
        "f": 0.5 * f2,
        "logl": logl,
        "logl_h1": logl_h1,
        "f_base": 0.5 * f2_base,
        "df_base": float(df_base),
        "S": S,
        "m": m,
        "Sigma": Sigma,
        "mu": mu,
        "Sigma_inv": Sigma_inv,
        "x": x,
    }


def _rescale(
    cov: np.ndarray, mean: np.ndarray, var_cov: np.ndarray, var_mean: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Standardise a covariance matrix and mean vector as lavaan's residuals do.

    Elements whose absolute value is below ``1e-5`` are left unscaled (this
    mirrors ``lav_residuals_rescale``).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        sd_cov = np.sqrt(np.where(var_cov < _DOUBLE_EPS, np.nan, var_cov))
        sd_mean = np.sqrt(np.where(var_mean < _DOUBLE_EPS, np.nan, var_mean))
        scale_cov = 1.0 / np.outer(sd_cov, sd_cov)
        scale_mean = 1.0 / sd_mean
    scale_cov = np.where(np.abs(cov) < _RESCALE_NEAR_ZERO, 1.0, scale_cov)
    scale_mean = np.where(np.abs(mean) < _RESCALE_NEAR_ZERO, 1.0, scale_mean)
    return cov * scale_cov, mean * scale_mean


def _rms(stats: np.ndarray, pstar: int) -> float:
    """Root mean square of residuals with ``pstar`` as the divisor."""
    if stats.size == 0:
        return 0.0
    return math.sqrt(float(np.sum(stats * stats)) / pstar)


def _group_residual_summaries(
    S: np.ndarray, m: np.ndarray, Sigma: np.ndarray, mu: np.ndarray, meanstructure: bool
) -> dict[str, float]:
    """RMR, SRMR (Bentler), CRMR (Bollen) and Mplus SRMR of one group."""
    p = S.shape[0]
    tril = np.tril_indices(p)
    var_obs = np.diag(S).copy()
    var_est = np.diag(Sigma).copy()
    out: dict[str, float] = {}

    def summarise(res_cov: np.ndarray, res_mean: np.ndarray, crmr: bool) -> tuple[float, float]:
        stats_cov = res_cov[tril]
        pstar_cov = stats_cov.size - (p if crmr else 0)
        nomean = _rms(stats_cov, pstar_cov)
        if not meanstructure:
            return nomean, nomean
        stats_tot = np.concatenate([res_mean, stats_cov])
        pstar_tot = stats_tot.size - (p if crmr else 0)
        return _rms(stats_tot, pstar_tot), nomean

    # raw residuals
    out["rmr"], out["rmr_nomean"] = summarise(S - Sigma, m - mu, crmr=False)

    # Bentler: both standardised by the observed variances
    obs_c, obs_m = _rescale(S, m, var_obs, var_obs)
    est_c, est_m = _rescale(Sigma, mu, var_obs, var_obs)
    out["srmr_bentler"], out["srmr_bentler_nomean"] = summarise(
        obs_c - est_c, obs_m - est_m, crmr=False
    )

    # Bollen: implied covariances standardised by implied variances
    est_c, est_m = _rescale(Sigma, mu, var_est, var_obs)
    out["crmr"], out["crmr_nomean"] = summarise(obs_c - est_c, obs_m - est_m, crmr=True)

    # Mplus: residual correlations, standardised means, relative variances
    sd_obs = np.sqrt(var_obs)
    sd_est = np.sqrt(var_est)
    r_cor = S / np.outer(sd_obs, sd_obs) - Sigma / np.outer(sd_est, sd_est)
    off = r_cor[np.tril_indices(p, k=-1)]
    rel_var = (var_obs - var_est) / var_obs
    ss_cov = float(np.sum(off * off) + np.sum(rel_var * rel_var))
    e_cov = p * (p + 1) / 2.0
    nomean = math.sqrt(ss_cov / e_cov)
    if meanstructure:
        r_mean = m / sd_obs - mu / sd_est
        out["srmr_mplus"] = math.sqrt((ss_cov + float(np.sum(r_mean * r_mean))) / (e_cov + p))
    else:
        out["srmr_mplus"] = nomean
    out["srmr_mplus_nomean"] = nomean
    return out


def _group_gfi(
    S: np.ndarray,
    m: np.ndarray,
    Sigma: np.ndarray,
    mu: np.ndarray,
    Sigma_inv: np.ndarray,
    x: np.ndarray,
    meanstructure: bool,
) -> float:
    """LISREL-type GFI of one group with the structured ML weight matrix.

    The weight is lavaan's expected h1 information evaluated at the implied
    moments, ``blockdiag(Sigma^-1, 0.5 D'(Sigma^-1 x Sigma^-1) D)``, with the
    rows/columns of the fixed.x covariate moments set to zero.
    """
    E = S - Sigma
    Sx = S.copy()
    dm = m - mu
    mx = m.copy()
    if x.size:
        E[np.ix_(x, x)] = 0.0
        Sx[np.ix_(x, x)] = 0.0
        dm[x] = 0.0
        mx[x] = 0.0
    AE = Sigma_inv @ E
    AS = Sigma_inv @ Sx
    t1 = 0.5 * float(np.sum(AE * AE.T))
    t2 = 0.5 * float(np.sum(AS * AS.T))
    if meanstructure:
        t1 += float(dm @ Sigma_inv @ dm)
        t2 += float(mx @ Sigma_inv @ mx)
    return 1.0 - t1 / t2


def _group_gfi_missing(
    S: np.ndarray,
    m: np.ndarray,
    Sigma: np.ndarray,
    mu: np.ndarray,
    patterns: Sequence[tuple[np.ndarray, int]],
) -> float:
    """GFI of one group with incomplete data, as lavaan 0.6-14 computes it.

    The "observed" moments are the pairwise-deletion covariances ``S`` and the
    available-case means ``m``; the weight is the expected information of the
    missing-data likelihood at the implied moments, ``sum_k (n_k / N)`` of the
    complete-data weight of each pattern's observed variables.  With
    ``A_k = Sigma_oo^-1`` the quadratic form of ``(d, vech(E))`` is
    ``sum_k (n_k / N) [d_o' A_k d_o + tr(A_k E_oo A_k E_oo) / 2]``.
    """
    p = len(m)
    observed = np.zeros((len(patterns), p), dtype=bool)
    for k, (o, _) in enumerate(patterns):
        observed[k, o] = True
    count = np.array([c for _, c in patterns], dtype=float)
    # all patterns at once: A_k zero-padded to p x p (the unobserved rows and columns
    # of A_k then drop out of every product below)
    block = observed[:, :, None] & observed[:, None, :]
    A = np.where(block, np.linalg.inv(np.where(block, Sigma, np.eye(p))), 0.0)
    AE = A @ (S - Sigma)
    AS = A @ S
    d = m - mu
    t1 = np.einsum("i,kij,j->k", d, A, d) + 0.5 * np.einsum("kij,kji->k", AE, AE)
    t2 = np.einsum("i,kij,j->k", m, A, m) + 0.5 * np.einsum("kij,kji->k", AS, AS)
    return 1.0 - float(count @ t1) / float(count @ t2)


# ---------------------------------------------------------------------------
# lavaan's scalar fit-index formulas
# ---------------------------------------------------------------------------


def _cfi(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """CFI (Bentler, 1990); 1 when both non-centralities are (nearly) zero."""
    t1 = max(x2 - df, 0.0)
    t2 = max(x2 - df, x2_null - df_null, 0.0)
    if _r_all_equal_zero(t1) and _r_all_equal_zero(t2):
        return 1.0
    return 1.0 - t1 / t2


def _rni(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """RNI (McDonald & Marsh, 1990): the CFI without truncation at zero."""
    t1 = x2 - df
    t2 = x2_null - df_null
    if _r_all_equal_zero(t2) or not (np.isfinite(t1) and np.isfinite(t2)):
        return math.nan
    return 1.0 - t1 / t2


def _tli(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """TLI / NNFI in lavaan's ``1 - (X2 - df) df0 / ((X2_0 - df0) df)`` form."""
    t1 = (x2 - df) * df_null
    t2 = (x2_null - df_null) * df
    if df > 0 and abs(t2) > 0:
        return 1.0 - t1 / t2
    if not (np.isfinite(t1) and np.isfinite(t2)):
        return math.nan
    return 1.0


def _robust_incremental(
    x2: float, df: float, x2_null: float, df_null: float, c_hat: float, c_hat_null: float
) -> dict[str, float]:
    """Robust CFI / TLI / NNFI / RNI (Brosseau-Liard & Savalei, 2014).

    The unscaled statistics are compared with their expectations under the
    robust reference distribution, ``c_hat * df`` and ``c_hat_null *
    df_null``.  As in lavaan, the standard formulas are used when ``df`` is
    zero or either scaling factor equals 1 exactly, and everything is ``nan``
    when any input is missing.
    """
    names = ("cfi", "tli", "nnfi", "rni")
    if any(math.isnan(v) for v in (x2, df, x2_null, df_null, c_hat, c_hat_null)):
        return dict.fromkeys(names, math.nan)
    if df > 0 and c_hat != 1.0 and c_hat_null != 1.0:
        df_eff, df_null_eff = c_hat * df, c_hat_null * df_null
    else:
        df_eff, df_null_eff = df, df_null
    cfi = _cfi(x2, df_eff, x2_null, df_null_eff)
    rni = _rni(x2, df_eff, x2_null, df_null_eff)
    # TLI: (X2 - c df) df0 / ((X2_0 - c0 df0) df), guarded on the plain df
    t1 = (x2 - df_eff) * df_null
    t2 = (x2_null - df_null_eff) * df
    if df > 0 and abs(t2) > 0:
        tli = 1.0 - t1 / t2
    elif not (np.isfinite(t1) and np.isfinite(t2)):
        tli = math.nan
    else:
        tli = 1.0
    return {"cfi": cfi, "tli": tli, "nnfi": tli, "rni": rni}


def _rfi(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """RFI (Bollen, 1986)."""
    if df > df_null:
        return math.nan
    if df > 0 and df_null > 0:
        t1 = x2_null / df_null - x2 / df
        t2 = x2_null / df_null
        if not (np.isfinite(t1) and np.isfinite(t2)):
            return math.nan
        if t1 < 0 or t2 < 0:
            return 1.0
        return t1 / t2
    return 1.0


def _nfi(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """NFI (Bentler & Bonett, 1980)."""
    if df > df_null or _r_all_equal_zero(x2_null):
        return math.nan
    if df > 0:
        return (x2_null - x2) / x2_null
    return 1.0


def _pnfi(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """PNFI (James, Mulaik & Brett, 1982)."""
    if df_null > 0 and x2_null > 0:
        return (df / df_null) * ((x2_null - x2) / x2_null)
    return math.nan


def _ifi(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """IFI (Bollen, 1989)."""
    t1 = x2_null - x2
    t2 = x2_null - df
    if not (np.isfinite(t1) and np.isfinite(t2)):
        return math.nan
    if t2 < 0:
        return 1.0
    if _r_all_equal_zero(t2):
        return math.nan
    return t1 / t2


def _rmsea(x2: float, df: float, n: float, ngroups: int, c_hat: float = 1.0) -> float:
    """Point estimate of the RMSEA with the multiple-group ``sqrt(G)`` factor.

    ``c_hat`` is the scaling factor of the robust RMSEA (1 otherwise):
    ``sqrt(max(x2 / (n df) - c_hat / n, 0)) * sqrt(G)``.
    """
    if not all(np.isfinite(v) for v in (x2, df, n, c_hat)):
        return math.nan
    if not df > 0:
        return 0.0
    return math.sqrt(max(x2 / n / df - c_hat / n, 0.0)) * math.sqrt(ngroups)


def _rmsea_ci(
    x2: float, df: float, n: float, ngroups: int, level: float, c_hat: float = 1.0
) -> tuple[float, float]:
    """Browne-Cudeck RMSEA interval, searched as lavaan does (``uniroot``).

    The non-centrality limits ``lambda`` of ``x2`` on ``df`` are mapped to
    ``sqrt(c_hat * lambda / (n df)) * sqrt(G)``; ``c_hat`` is the scaling
    factor for the robust interval (``x2`` then is the scaled statistic).
    """
    if not (np.isfinite(x2) and np.isfinite(df) and np.isfinite(n)):
        return math.nan, math.nan
    upper_perc = 1.0 - (1.0 - level) / 2.0
    lower_perc = (1.0 - level) / 2.0

    def lower_fn(lam: float) -> float:
        return _pchisq(x2, df, lam) - upper_perc

    def upper_fn(lam: float) -> float:
        return _pchisq(x2, df, lam) - lower_perc

    scale = math.sqrt(ngroups)
    if df < 1 or lower_fn(0.0) < 0.0:
        ci_lower = 0.0
    else:
        lam = _zeroin(lower_fn, 0.0, x2)
        ci_lower = math.sqrt(c_hat * lam / (n * df)) * scale

    n_rmsea = max(n, 4.0 * x2)
    if df < 1 or upper_fn(n_rmsea) > 0.0 or upper_fn(0.0) < 0.0:
        ci_upper = 0.0
    else:
        lam = _zeroin(upper_fn, 0.0, n_rmsea)
        ci_upper = math.sqrt(c_hat * lam / (n * df)) * scale
    return ci_lower, ci_upper


def _rmsea_close_pvalues(
    x2: float,
    df: float,
    n: float,
    ngroups: int,
    close_h0: float,
    notclose_h0: float,
    c_hat: float = 1.0,
) -> tuple[float, float]:
    """P-values of H0: RMSEA <= close_h0 and of H0: RMSEA >= notclose_h0.

    The non-centrality is ``n df h0^2 / (c_hat G)`` (``c_hat`` = 1 except for
    the robust RMSEA, where ``x2`` is the scaled statistic).
    """
    if not (np.isfinite(x2) and np.isfinite(df) and np.isfinite(c_hat)) or not df > 0:
        return math.nan, math.nan
    ncp_close = n * df * close_h0**2 / c_hat / ngroups
    ncp_notclose = n * df * notclose_h0**2 / c_hat / ngroups
    return 1.0 - _pchisq(x2, df, ncp_close), _pchisq(x2, df, ncp_notclose)


def _hoelter_cn(x2: float, df: float, n: float, alpha: float) -> float:
    """Hoelter's critical N at significance level ``alpha``."""
    if df == 0 and x2 < _SATURATED_CHISQ_TOL:
        return math.nan
    crit = _qchisq(1.0 - alpha, df)
    if x2 == 0.0:
        return math.inf
    return crit / (x2 / n) + 1.0


def _agfi(gfi: float, nel: int, df: float) -> float:
    """Adjusted GFI; ``nel`` is the number of modelled sample statistics."""
    if not (np.isfinite(gfi) and np.isfinite(df)):
        return math.nan
    if df > 0:
        return 1.0 - (nel / df) * (1.0 - gfi)
    return 1.0


def _pgfi(gfi: float, nel: int, df: float) -> float:
    """Parsimony GFI (LISREL formula)."""
    if not (np.isfinite(gfi) and np.isfinite(df)) or nel == 0:
        return math.nan
    return (df / nel) * gfi


def _scaled_measures(
    scaled: ScaledInput,
    x2: float,
    df: float,
    x2_null: float,
    df_null: float,
    n: float,
    ngroups: int,
    level: float,
) -> dict[str, float]:
    """The ``*_scaled`` / ``*_robust`` measures lavaan adds for a robust test."""
    c = float(scaled.scaling_factor)
    c0 = float(scaled.baseline_scaling_factor)
    x2_sc = float(scaled.chisq_scaled)
    x2_null_sc = float(scaled.baseline_chisq_scaled)

    out: dict[str, float] = {
        "chisq_scaled": x2_sc,
        "df_scaled": df,
        "pvalue_scaled": _chisq_pvalue(x2_sc, df),
        "chisq_scaling_factor": c,
        "baseline_chisq_scaled": x2_null_sc,
        "baseline_df_scaled": df_null,
        "baseline_pvalue_scaled": _chisq_pvalue(x2_null_sc, df_null),
        "baseline_chisq_scaling_factor": c0,
        "scaling_factor_h1": float(scaled.scaling_factor_h1),
        "scaling_factor_h0": float(scaled.scaling_factor_h0),
    }

    # scaled incremental indices: standard formulas on the scaled statistics
    incremental = {
        "cfi": _cfi, "tli": _tli, "nnfi": _tli, "rfi": _rfi,
        "nfi": _nfi, "pnfi": _pnfi, "ifi": _ifi, "rni": _rni,
    }  # fmt: skip
    finite = all(np.isfinite(v) for v in (x2_sc, df, x2_null_sc, df_null))
    for name, fun in incremental.items():
        out[f"{name}_scaled"] = fun(x2_sc, df, x2_null_sc, df_null) if finite else math.nan

    shifted = scaled.test == "scaled.shifted"
    if shifted:
        # scaled RMSEA: the scaled-shifted statistic on df
        x2_rmsea, df_rmsea = x2_sc, df
    else:
        # scaled RMSEA: unscaled statistic on tr(U Gamma) = c * df degrees of freedom
        x2_rmsea, df_rmsea = x2, c * df
        if not np.isfinite(df_rmsea) or df_rmsea == 0:
            df_rmsea = math.nan
    out["rmsea_scaled"] = _rmsea(x2_rmsea, df_rmsea, n, ngroups)
    out["rmsea_ci_lower_scaled"], out["rmsea_ci_upper_scaled"] = _rmsea_ci(
        x2_rmsea, df_rmsea, n, ngroups, level
    )
    out["rmsea_pvalue_scaled"], out["rmsea_notclose_pvalue_scaled"] = _rmsea_close_pvalues(
        x2_rmsea, df_rmsea, n, ngroups, RMSEA_CLOSE_H0, RMSEA_NOTCLOSE_H0
    )

    # robust indices: the unscaled statistics against c * df; for the scaled-shifted
    # test lavaan uses c (df - b) / df there (the shift moved into the scaling)
    c_hat, c_hat_null = c, c0
    if shifted:
        c_hat = c * (df - scaled.shift_parameter) / df if df > 0 else math.nan
        c_hat_null = c0 * (df_null - scaled.baseline_shift_parameter) / df_null
    out.update(
        _robust_measures(x2, df, x2_null, df_null, c_hat, c_hat_null, x2_sc, c, n, ngroups, level)
    )
    return out


def _robust_measures(
    x2: float,
    df: float,
    x2_null: float,
    df_null: float,
    c_hat: float,
    c_hat_null: float,
    x2_scaled: float,
    c_ci: float,
    n: float,
    ngroups: int,
    level: float,
) -> dict[str, float]:
    """The ``*_robust`` measures (Brosseau-Liard, Savalei & Li, 2012, 2014).

    ``x2``/``x2_null`` are the unscaled statistics compared with ``c_hat * df`` and
    ``c_hat_null * df_null``; the RMSEA point estimate is
    ``sqrt(max(x2 / (n df) - c_hat / n, 0)) * sqrt(G)``, and its interval and
    p-values refer ``x2_scaled`` to (non-central) chi-squares on ``df``, mapped back
    with ``c_ci``.  ``c_ci`` differs from ``c_hat`` only for the scaled-shifted test,
    as in lavaan.
    """
    out: dict[str, float] = {}
    finite = all(np.isfinite(v) for v in (x2, df, x2_null, df_null))
    robust = _robust_incremental(x2, df, x2_null, df_null, c_hat, c_hat_null)
    for name, value in robust.items():
        out[f"{name}_robust"] = value if finite else math.nan

    out["rmsea_robust"] = _rmsea(x2, df, n, ngroups, c_hat=c_hat)
    if np.isfinite(c_ci):
        ci = _rmsea_ci(x2_scaled, df, n, ngroups, level, c_hat=c_ci)
    else:
        ci = (math.nan, math.nan)
    out["rmsea_ci_lower_robust"], out["rmsea_ci_upper_robust"] = ci
    out["rmsea_pvalue_robust"], out["rmsea_notclose_pvalue_robust"] = _rmsea_close_pvalues(
        x2_scaled, df, n, ngroups, RMSEA_CLOSE_H0, RMSEA_NOTCLOSE_H0, c_hat=c_ci
    )
    return out


# ---------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------


def fit_measures(
    groups: Sequence[GroupFitInput],
    *,
    npar: int,
    df: int,
    meanstructure: bool,
    chisq: float | None = None,
    level: float = 0.90,
    scaled: ScaledInput | None = None,
    missing: MissingDataInput | None = None,
) -> pd.Series:
    """Compute lavaan's ``fitMeasures()`` for an ML fit (standard or robust test).

    Parameters
    ----------
    groups : sequence of GroupFitInput
        Sample and model-implied moments, one entry per group.
    npar : int
        Number of free parameters as lavaan's ``fitMeasures()["npar"]``
        reports it (free parameters minus the rank of the equality
        constraints; each set of equal parameters counts once).
    df : int
        Model degrees of freedom.
    meanstructure : bool
        Whether the model has a mean structure (lavaan adds one automatically
        for multiple groups).
    chisq : float, optional
        The likelihood-ratio chi-square of the model against the unrestricted
        model.  Computed from the moments as ``2 * sum_g N_g * F_g`` when
        ``None``.  ``fmin`` is always computed from the moments.
    level : float, optional
        Confidence level of the RMSEA interval (default 0.90).
    scaled : ScaledInput, optional
        Robust (scaled) test of the model and of the baseline model.  When
        given, the robust measures lavaan reports for ``estimator = "MLM"``
        / ``"MLR"`` are added (see the module docstring for the formulas).
        ``chisq`` (given or computed) is the unscaled statistic they build on.
    missing : MissingDataInput, optional
        What a FIML fit adds: log-likelihoods and baseline chi-square; ``chisq`` must
        then be given, and ``fmin`` is ``chisq / (2 N)`` as lavaan reports it.  The
        ``*_robust`` measures are then reported for the standard test too and are
        built on the FIML-corrected statistics (``missing.corrected``; NaN without
        them), and the GFI family uses the pairwise moments and the missing-data
        weight matrix (``missing.pairwise``, ``missing.patterns``; NaN without them).
        See the module docstring.

    Returns
    -------
    pandas.Series
        Float series indexed by ``fit_measure_names(scaled.test, missing is not
        None)`` -- :data:`FIT_MEASURE_NAMES` for complete data without ``scaled``
        (lavaan's names and order with dots replaced by underscores).  Measures
        that lavaan reports as ``NA`` are ``nan``.

    Raises
    ------
    ValueError
        If ``groups`` is empty, the inputs have inconsistent shapes, a
        covariance matrix is not positive definite, ``level`` is outside
        ``(0, 1)``, or ``scaled.test`` is not one of :data:`ROBUST_TESTS`.
    """
    if len(groups) == 0:
        raise ValueError("at least one group is required")
    if not 0.0 < level < 1.0:
        raise ValueError("level must lie in (0, 1)")
    names = fit_measure_names(None if scaled is None else scaled.test, missing is not None)

    ngroups = len(groups)
    per_group = [_group_ml(g, meanstructure) for g in groups]
    nobs = np.array([float(g.nobs) for g in groups])
    n = float(nobs.sum())
    w = nobs / n
    df = float(df)
    npar_f = float(npar)

    f_group = np.array([pg["f"] for pg in per_group])
    fmin = float(w @ f_group)
    x2 = float(2.0 * nobs @ f_group) if chisq is None else float(chisq)

    x2_null = float(2.0 * nobs @ np.array([pg["f_base"] for pg in per_group]))
    df_null = float(sum(pg["df_base"] for pg in per_group))

    logl = float(sum(pg["logl"] for pg in per_group))
    logl_h1 = float(sum(pg["logl_h1"] for pg in per_group))
    if missing is not None:
        if chisq is None:
            raise ValueError("with missing data the chi-square must be given")
        logl, logl_h1 = float(missing.logl), float(missing.unrestricted_logl)
        x2_null = float(missing.baseline_chisq)
        fmin = x2 / (2.0 * n)

    out: dict[str, float] = {
        "npar": npar_f,
        "fmin": fmin,
        "chisq": x2,
        "df": df,
        "pvalue": _chisq_pvalue(x2, df),
        "baseline_chisq": x2_null,
        "baseline_df": df_null,
        "baseline_pvalue": _chisq_pvalue(x2_null, df_null),
    }

    incremental = {
        "cfi": _cfi, "tli": _tli, "nnfi": _tli, "rfi": _rfi,
        "nfi": _nfi, "pnfi": _pnfi, "ifi": _ifi, "rni": _rni,
    }  # fmt: skip
    finite = all(np.isfinite(v) for v in (x2, df, x2_null, df_null))
    for name, fun in incremental.items():
        out[name] = fun(x2, df, x2_null, df_null) if finite else math.nan

    out["logl"] = logl
    out["unrestricted_logl"] = logl_h1
    out["aic"] = -2.0 * logl + 2.0 * npar_f
    out["bic"] = -2.0 * logl + npar_f * math.log(n)
    out["ntotal"] = n
    out["bic2"] = -2.0 * logl + npar_f * math.log((n + 2.0) / 24.0)

    out["rmsea"] = _rmsea(x2, df, n, ngroups) if np.isfinite(x2) else math.nan
    out["rmsea_ci_lower"], out["rmsea_ci_upper"] = _rmsea_ci(x2, df, n, ngroups, level)
    out["rmsea_ci_level"] = float(level)
    close_p, notclose_p = _rmsea_close_pvalues(
        x2, df, n, ngroups, RMSEA_CLOSE_H0, RMSEA_NOTCLOSE_H0
    )
    out["rmsea_pvalue"] = close_p
    out["rmsea_close_h0"] = RMSEA_CLOSE_H0
    out["rmsea_notclose_pvalue"] = notclose_p
    out["rmsea_notclose_h0"] = RMSEA_NOTCLOSE_H0

    summaries = [
        _group_residual_summaries(pg["S"], pg["m"], pg["Sigma"], pg["mu"], meanstructure)
        for pg in per_group
    ]
    keys = ("rmr", "rmr_nomean", "srmr_bentler", "srmr_bentler_nomean",
            "crmr", "crmr_nomean", "srmr_mplus", "srmr_mplus_nomean")  # fmt: skip
    weighted = {k: float(w @ np.array([s[k] for s in summaries])) for k in keys}
    out["rmr"] = weighted["rmr"]
    out["rmr_nomean"] = weighted["rmr_nomean"]
    out["srmr"] = weighted["srmr_bentler"]
    for k in keys[2:]:
        out[k] = weighted[k]

    out["cn_05"] = _hoelter_cn(x2, df, n, 0.05)
    out["cn_01"] = _hoelter_cn(x2, df, n, 0.01)

    if missing is None:
        gfi_group = np.array(
            [
                _group_gfi(
                    pg["S"], pg["m"], pg["Sigma"], pg["mu"], pg["Sigma_inv"], pg["x"],
                    meanstructure,
                )
                for pg in per_group
            ]
        )
    elif missing.pairwise is not None and missing.patterns is not None:
        gfi_group = np.array(
            [
                _group_gfi_missing(cov, mean, pg["Sigma"], pg["mu"], pats)
                for (cov, mean), pats, pg in zip(
                    missing.pairwise, missing.patterns, per_group, strict=True
                )
            ]
        )
    else:
        gfi_group = np.full(ngroups, math.nan)
    gfi = float(w @ gfi_group)
    nel = sum(
        pg["S"].shape[0] * (pg["S"].shape[0] + 1) // 2 + (pg["S"].shape[0] if meanstructure else 0)
        for pg in per_group
    )
    out["gfi"] = gfi
    out["agfi"] = _agfi(gfi, nel, df)
    out["pgfi"] = _pgfi(gfi, nel, df)
    out["mfi"] = math.exp(-0.5 * (x2 - df) / n)
    out["ecvi"] = x2 / n + 2.0 * npar_f / n

    if scaled is not None:
        out.update(_scaled_measures(scaled, x2, df, x2_null, df_null, n, ngroups, level))
    if missing is not None:
        # with incomplete data the robust measures are built on the FIML-corrected
        # statistics (with or without a scaled test), never on the FIML chi-square
        cor = missing.corrected
        if cor is None:
            nan = math.nan
            out.update(_robust_measures(nan, df, nan, df_null, nan, nan, nan, nan, n,
                                        ngroups, level))  # fmt: skip
        else:
            robust = _robust_measures(
                cor.chisq, df, cor.baseline_chisq, df_null, cor.scaling_factor,
                cor.baseline_scaling_factor, cor.chisq_scaled, cor.scaling_factor,
                n, ngroups, level,
            )  # fmt: skip
            out.update(robust)

    return pd.Series(
        [out[k] for k in names],
        index=list(names),
        dtype=float,
        name="fit_measures",
    )
