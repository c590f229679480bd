"""The RMSEA, its confidence interval and its close / not-close fit tests (lavaan's
``lav_fit_rmsea``); the scaled and robust versions reuse these with other statistics."""

from __future__ import annotations

import math

import numpy as np

from semnet.results.fit_measures.utils import pchisq, zeroin

#: H0 value of the RMSEA close-fit test (lavaan's ``rmsea.close.h0``).
RMSEA_CLOSE_H0: float = 0.05

#: H0 value of the RMSEA not-close-fit test (lavaan's ``rmsea.notclose.h0``).
RMSEA_NOTCLOSE_H0: float = 0.08


def rmsea(x2: float, df: float, n: float, ngroups: int, c_hat: float = 1.0) -> float:
    """Point estimate of the RMSEA with the multiple-group ``sqrt(G)`` factor.

    Parameters
    ----------
    x2, df : float
        Chi-square and its degrees of freedom.
    n : float
        Total number of cases.
    ngroups : int
        Number of groups ``G``.
    c_hat : float, optional
        Scaling factor of the robust RMSEA (1 otherwise):
        ``sqrt(max(x2 / (n df) - c_hat / n, 0)) * sqrt(G)``.

    Returns
    -------
    float
        The RMSEA; 0 when ``df`` is 0 (and ``x2`` finite), else ``nan`` when an input
        is not finite.

    Examples
    --------
    >>> round(rmsea(5.0, 2.0, 100.0, 1), 4)
    0.1225
    """
    if df == 0 and np.isfinite(x2):
        return 0.0  # whatever c_hat is (lavaan: the robust tests of df = 0 have none)
    if not all(np.isfinite(v) for v in (x2, df, n, c_hat)):
        return math.nan
    if not df > 0:
        return 0.0
    return math.sqrt(max(x2 / n / df - c_hat / n, 0.0)) * math.sqrt(ngroups)


def rmsea_ci(
    x2: float, df: float, n: float, ngroups: int, level: float, c_hat: float = 1.0
) -> tuple[float, float]:
    """Browne-Cudeck RMSEA interval, searched as lavaan does (``uniroot``).

    The non-centrality limits ``lambda`` of ``x2`` on ``df`` are mapped to
    ``sqrt(c_hat * lambda / (n df)) * sqrt(G)``.

    Parameters
    ----------
    x2, df : float
        Chi-square and its degrees of freedom.
    n : float
        Total number of cases.
    ngroups : int
        Number of groups ``G``.
    level : float
        Confidence level.
    c_hat : float, optional
        Scaling factor for the robust interval (``x2`` then is the scaled statistic).

    Returns
    -------
    tuple of float
        Lower and upper limit.

    Examples
    --------
    >>> tuple(round(v, 4) for v in rmsea_ci(5.0, 2.0, 100.0, 1, 0.90))
    (0.0, 0.262)
    """
    if not (np.isfinite(x2) and np.isfinite(df) and np.isfinite(n)):
        return math.nan, math.nan
    upper_perc = 1.0 - (1.0 - level) / 2.0
    lower_perc = (1.0 - level) / 2.0

    def lower_fn(lam: float) -> float:
        return pchisq(x2, df, lam) - upper_perc

    def upper_fn(lam: float) -> float:
        return pchisq(x2, df, lam) - lower_perc

    scale = math.sqrt(ngroups)
    if df < 1 or lower_fn(0.0) < 0.0:
        ci_lower = 0.0
    else:
        lam = zeroin(lower_fn, 0.0, x2)
        ci_lower = math.sqrt(c_hat * lam / (n * df)) * scale

    n_rmsea = max(n, 4.0 * x2)
    if df < 1 or upper_fn(n_rmsea) > 0.0 or upper_fn(0.0) < 0.0:
        ci_upper = 0.0
    else:
        lam = zeroin(upper_fn, 0.0, n_rmsea)
        ci_upper = math.sqrt(c_hat * lam / (n * df)) * scale
    return ci_lower, ci_upper


def rmsea_close_pvalues(
    x2: float,
    df: float,
    n: float,
    ngroups: int,
    close_h0: float,
    notclose_h0: float,
    c_hat: float = 1.0,
) -> tuple[float, float]:
    """P-values of H0: RMSEA <= close_h0 and of H0: RMSEA >= notclose_h0.

    Parameters
    ----------
    x2, df : float
        Chi-square and its degrees of freedom.
    n : float
        Total number of cases.
    ngroups : int
        Number of groups ``G``.
    close_h0, notclose_h0 : float
        The RMSEA values of the two null hypotheses.
    c_hat : float, optional
        The non-centrality is ``n df h0^2 / (c_hat G)`` (``c_hat`` = 1 except for the
        robust RMSEA, where ``x2`` is the scaled statistic).

    Returns
    -------
    tuple of float
        The close-fit and the not-close-fit p-value (``nan`` unless ``df > 0``).

    Examples
    --------
    >>> p = rmsea_close_pvalues(5.0, 2.0, 100.0, 1, RMSEA_CLOSE_H0, RMSEA_NOTCLOSE_H0)
    >>> tuple(round(v, 4) for v in p)
    (0.1348, 0.7798)
    """
    if not (np.isfinite(x2) and np.isfinite(df) and np.isfinite(c_hat)) or not df > 0:
        return math.nan, math.nan
    ncp_close = n * df * close_h0**2 / c_hat / ngroups
    ncp_notclose = n * df * notclose_h0**2 / c_hat / ngroups
    return 1.0 - pchisq(x2, df, ncp_close), pchisq(x2, df, ncp_notclose)


def rmsea_measures(
    x2: float, df: float, n: float, ngroups: int, level: float
) -> dict[str, float]:
    """The RMSEA of the standard test, its ``level`` interval and its two fit tests.

    Parameters
    ----------
    x2, df : float
        Chi-square and its degrees of freedom.
    n : float
        Total number of cases.
    ngroups : int
        Number of groups.
    level : float
        Confidence level of the interval.

    Returns
    -------
    dict
        ``rmsea, rmsea_ci_lower, rmsea_ci_upper, rmsea_ci_level, rmsea_pvalue,
        rmsea_close_h0, rmsea_notclose_pvalue, rmsea_notclose_h0``.

    Examples
    --------
    >>> round(rmsea_measures(5.0, 2.0, 100.0, 1, 0.90)["rmsea_ci_upper"], 4)
    0.262
    """
    ci_lower, ci_upper = rmsea_ci(x2, df, n, ngroups, level)
    close_p, notclose_p = rmsea_close_pvalues(
        x2, df, n, ngroups, RMSEA_CLOSE_H0, RMSEA_NOTCLOSE_H0
    )
    return {
        "rmsea": rmsea(x2, df, n, ngroups) if np.isfinite(x2) else math.nan,
        "rmsea_ci_lower": ci_lower,
        "rmsea_ci_upper": ci_upper,
        "rmsea_ci_level": float(level),
        "rmsea_pvalue": close_p,
        "rmsea_close_h0": RMSEA_CLOSE_H0,
        "rmsea_notclose_pvalue": notclose_p,
        "rmsea_notclose_h0": RMSEA_NOTCLOSE_H0,
    }
