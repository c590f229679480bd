"""The residual-based measures (lavaan's ``lav_fit_srmr``): RMR, SRMR (Bentler), CRMR
(Bollen) and the Mplus SRMR, with and without the means."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from semnet.results.fit_measures.utils import DOUBLE_EPS

#: Residual (co)variances / means below this are not rescaled (lavaan quirk).
_RESCALE_NEAR_ZERO = 1e-5


def _rescale(
    cov: np.ndarray, mean: np.ndarray, var_cov: np.ndarray, var_mean: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Standardise a covariance matrix and mean vector as lavaan's residuals do.

    Elements whose absolute value is below ``1e-5`` are left unscaled (this
    mirrors ``lav_residuals_rescale``).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        sd_cov = np.sqrt(np.where(var_cov < DOUBLE_EPS, np.nan, var_cov))
        sd_mean = np.sqrt(np.where(var_mean < DOUBLE_EPS, np.nan, var_mean))
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


def residual_measures(
    per_group: Sequence[dict[str, float | np.ndarray]], w: np.ndarray, meanstructure: bool
) -> dict[str, float]:
    """The groups' residual summaries averaged with weights ``N_g / N`` (``srmr`` is
    Bentler's).

    Parameters
    ----------
    per_group : sequence of dict
        :func:`~semnet.results.fit_measures.chisq.group_ml` of each group.
    w : numpy.ndarray
        The groups' weights ``N_g / N``.
    meanstructure : bool
        Whether the mean residuals enter the summaries.

    Returns
    -------
    dict
        ``rmr, rmr_nomean, srmr, srmr_bentler, srmr_bentler_nomean, crmr, crmr_nomean,
        srmr_mplus, srmr_mplus_nomean``.

    Examples
    --------
    >>> from semnet.results.fit_measures.chisq import group_ml
    >>> import numpy as np
    >>> from semnet.results.fit_measures.inputs import GroupFitInput
    >>> S = np.array([[1.0, 0.3], [0.3, 1.0]])
    >>> g = GroupFitInput(nobs=100, sample_cov=S, sample_mean=np.zeros(2),
    ...                   implied_cov=np.eye(2), implied_mean=np.zeros(2))
    >>> round(residual_measures([group_ml(g, False)], np.ones(1), False)["srmr"], 4)
    0.1732
    """
    summaries = [
        _group_residual_summaries(pg["S"], pg["m"], pg["Sigma"], pg["mu"], meanstructure)
        for pg in per_group
    ]
    keys = ("rmr", "rmr_nomean", "srmr_bentler", "srmr_bentler_nomean",
            "crmr", "crmr_nomean", "srmr_mplus", "srmr_mplus_nomean")  # fmt: skip
    weighted = {k: float(w @ np.array([s[k] for s in summaries])) for k in keys}
    out = {"rmr": weighted["rmr"], "rmr_nomean": weighted["rmr_nomean"]}
    out["srmr"] = weighted["srmr_bentler"]
    for k in keys[2:]:
        out[k] = weighted[k]
    return out
