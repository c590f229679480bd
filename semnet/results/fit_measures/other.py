"""The remaining measures: Hoelter's critical N, McDonald's fit index (MFI) and the ECVI
(lavaan's ``lav_fit_other``)."""

from __future__ import annotations

import math

from semnet.results.fit_measures.utils import qchisq

#: A saturated model (df = 0) whose chi-square is below this is treated as an
#: exact fit (lavaan: ``X2 < .Machine$double.eps``; widened to absorb the
#: rounding noise of a chi-square recomputed from the moments).
_SATURATED_CHISQ_TOL = 1e-8


def _hoelter_cn(x2: float, df: float, n: float, alpha: float) -> float:
    """Hoelter's critical N at significance level ``alpha``."""
    if df == 0 and x2 < _SATURATED_CHISQ_TOL:
        return math.nan
    crit = qchisq(1.0 - alpha, df)
    if x2 == 0.0:
        return math.inf
    return crit / (x2 / n) + 1.0


def other_measures(x2: float, df: float, n: float, npar: float) -> dict[str, float]:
    """``cn_05``, ``cn_01``, ``mfi`` and ``ecvi`` of ``x2`` on ``df`` (``n`` cases).

    Parameters
    ----------
    x2, df : float
        Chi-square of the model and its degrees of freedom.
    n : float
        Total number of cases.
    npar : float
        Number of free parameters.

    Returns
    -------
    dict
        Hoelter's critical N at .05 and .01, McDonald's fit index and the ECVI.

    Examples
    --------
    >>> out = other_measures(5.0, 2.0, 100.0, 4.0)
    >>> round(out["cn_05"], 2), round(out["ecvi"], 2)
    (120.83, 0.13)
    """
    return {
        "cn_05": _hoelter_cn(x2, df, n, 0.05),
        "cn_01": _hoelter_cn(x2, df, n, 0.01),
        "mfi": math.exp(-0.5 * (x2 - df) / n),
        "ecvi": x2 / n + 2.0 * npar / n,
    }
