"""What :func:`~semnet.results.fit_measures.fit_measures` is computed from: per-group moments,
the robust test, and what a FIML fit adds."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from semnet.inference.fiml_corrected import FimlCorrected


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
    baseline_x_index : tuple of int, optional
        Positions of the exogenous covariates whose block the baseline model saturates
        (its variances and covariances free); default ``x_index``.  With
        ``fixed.x = FALSE`` these are the random covariates, as in lavaan's baseline.
    """

    nobs: int
    sample_cov: np.ndarray
    sample_mean: np.ndarray
    implied_cov: np.ndarray
    implied_mean: np.ndarray
    x_index: tuple[int, ...] = ()
    baseline_x_index: tuple[int, ...] | None = None


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
    df_scaled, baseline_df_scaled : float, optional
        The degrees of freedom of the ``"mean.var.adjusted"`` (Satterthwaite) tests of
        the model and of the baseline model, not whole numbers (ignored otherwise).
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
    df_scaled: float = math.nan
    baseline_df_scaled: float = math.nan


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


def group_arrays(g: GroupFitInput) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return validated float arrays ``(S, m, Sigma, mu)`` of one group.

    Parameters
    ----------
    g : GroupFitInput
        The group's moments.

    Returns
    -------
    tuple of numpy.ndarray
        Sample covariance and mean, implied covariance and mean, as float arrays.

    Raises
    ------
    ValueError
        If the shapes disagree, ``nobs`` is not positive or ``x_index`` is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from semnet.results.fit_measures.inputs import GroupFitInput
    >>> S = np.array([[1.0, 0.3], [0.3, 1.0]])
    >>> g = GroupFitInput(nobs=100, sample_cov=S, sample_mean=np.zeros(2),
    ...                   implied_cov=np.eye(2), implied_mean=np.zeros(2))
    >>> [a.shape for a in group_arrays(g)]
    [(2, 2), (2,), (2, 2), (2,)]
    """
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
    if any(i < 0 or i >= p for i in g.x_index + (g.baseline_x_index or ())):
        raise ValueError("x_index out of range")
    return S, m, Sigma, mu
