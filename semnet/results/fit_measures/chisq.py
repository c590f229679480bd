"""The chi-square test of the model and of the baseline (independence) model, ``fmin``, and
the per-group ML discrepancies and log-likelihoods they are pooled from (lavaan's
``lav_fit_test`` and ``lav_fit_baseline``)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from semnet.results.fit_measures.inputs import GroupFitInput, MissingDataInput, group_arrays
from semnet.results.fit_measures.utils import chisq_pvalue, chol_logdet, chol_logdet_inv

_LOG_2PI = math.log(2.0 * math.pi)


def group_ml(g: GroupFitInput, meanstructure: bool) -> dict[str, float | np.ndarray]:
    """ML discrepancy, log-likelihoods and baseline discrepancy of one group.

    Parameters
    ----------
    g : GroupFitInput
        The group's sample and implied moments.
    meanstructure : bool
        Whether the mean residuals enter the discrepancy.

    Returns
    -------
    dict
        ``f`` (lavaan's ``F_g``, clipped at zero), ``logl``, ``logl_h1`` (conditional on
        the ``fixed.x`` covariates), ``f_base`` and ``df_base`` of the independence
        model, and the arrays the other families reuse: ``S, m, Sigma, mu, Sigma_inv, x``.

    Examples
    --------
    >>> import numpy as np
    >>> from semnet.results.fit_measures.inputs import GroupFitInput
    >>> S = np.array([[1.0, 0.3], [0.3, 1.0]])
    >>> g = GroupFitInput(nobs=100, sample_cov=S, sample_mean=np.zeros(2),
    ...                   implied_cov=np.eye(2), implied_mean=np.zeros(2))
    >>> round(float(group_ml(g, meanstructure=False)["f"]), 4)
    0.0472
    """
    S, m, Sigma, mu = group_arrays(g)
    p = S.shape[0]
    n = float(g.nobs)
    x = np.asarray(g.x_index, dtype=int)

    logdet_S = chol_logdet(S)
    logdet_Sigma, Sigma_inv = chol_logdet_inv(Sigma)
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
        logdet_Sxx = chol_logdet(S[np.ix_(x, x)])
        logl_x = -n / 2.0 * (x.size * _LOG_2PI + logdet_Sxx + x.size)
        logl -= logl_x
        logl_h1 -= logl_x

    # independence baseline: diag(S_yy), the covariates' block S_xx saturated (fixed at
    # the sample values with fixed.x, free with random covariates), zero y-x covariances
    xb = x if g.baseline_x_index is None else np.asarray(g.baseline_x_index, dtype=int)
    yb = np.setdiff1d(np.arange(p), xb)
    logdet_Sxx_b = chol_logdet(S[np.ix_(xb, xb)]) if xb.size else 0.0
    logdet_B = float(np.sum(np.log(np.diag(S)[yb]))) + logdet_Sxx_b
    f2_base = max(logdet_B - logdet_S, 0.0)
    py, px = yb.size, xb.size
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


@dataclass(frozen=True)
class PooledStatistics:
    """The statistics of the model and of the baseline model, pooled over the groups
    (made by :func:`pooled_statistics`).

    Examples
    --------
    >>> st = PooledStatistics(100.0, np.ones(1), 0.05, 10.0, 50.0, 3.0, -280.0, -275.0)
    >>> st.chisq, st.baseline_df
    (10.0, 3.0)
    """

    n: float  # total sample size
    weights: np.ndarray  # N_g / N
    fmin: float
    chisq: float
    baseline_chisq: float
    baseline_df: float
    logl: float
    unrestricted_logl: float


def pooled_statistics(
    groups: Sequence[GroupFitInput],
    per_group: Sequence[dict[str, float | np.ndarray]],
    chisq: float | None,
    missing: MissingDataInput | None,
) -> PooledStatistics:
    """Pool the groups' discrepancies (:func:`group_ml`) into the test statistics.

    Parameters
    ----------
    groups : sequence of GroupFitInput
        The groups' moments (their ``nobs`` give the weights).
    per_group : sequence of dict
        :func:`group_ml` of each group.
    chisq : float or None
        Replaces the chi-square computed from the moments when given.
    missing : MissingDataInput or None
        With it ``chisq`` must be given, the log-likelihoods and the baseline chi-square
        are the FIML ones and ``fmin`` is ``chisq / (2 N)``, as lavaan reports it.

    Returns
    -------
    PooledStatistics

    Raises
    ------
    ValueError
        If ``missing`` is given without ``chisq``.

    Examples
    --------
    >>> import numpy as np
    >>> from semnet.results.fit_measures.inputs import GroupFitInput
    >>> S = np.array([[1.0, 0.3], [0.3, 1.0]])
    >>> g = GroupFitInput(nobs=100, sample_cov=S, sample_mean=np.zeros(2),
    ...                   implied_cov=np.eye(2), implied_mean=np.zeros(2))
    >>> st = pooled_statistics([g], [group_ml(g, False)], None, None)
    >>> round(st.chisq, 3), st.baseline_df
    (9.431, 1.0)
    """
    nobs = np.array([float(g.nobs) for g in groups])
    n = float(nobs.sum())
    w = nobs / n
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
    return PooledStatistics(n, w, fmin, x2, x2_null, df_null, logl, logl_h1)


def chisq_measures(npar: float, df: float, st: PooledStatistics) -> dict[str, float]:
    """``npar``, ``fmin`` and the tests of the model and of the baseline model.

    Parameters
    ----------
    npar : float
        Number of free parameters.
    df : float
        Degrees of freedom of the model.
    st : PooledStatistics
        The pooled statistics (:func:`pooled_statistics`).

    Returns
    -------
    dict
        ``npar, fmin, chisq, df, pvalue, baseline_chisq, baseline_df, baseline_pvalue``.

    Examples
    --------
    >>> st = PooledStatistics(100.0, np.ones(1), 0.05, 10.0, 50.0, 3.0, -280.0, -275.0)
    >>> round(chisq_measures(4.0, 1.0, st)["pvalue"], 4)
    0.0016
    """
    return {
        "npar": npar,
        "fmin": st.fmin,
        "chisq": st.chisq,
        "df": df,
        "pvalue": chisq_pvalue(st.chisq, df),
        "baseline_chisq": st.baseline_chisq,
        "baseline_df": st.baseline_df,
        "baseline_pvalue": chisq_pvalue(st.baseline_chisq, st.baseline_df),
    }
