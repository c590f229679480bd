"""The log-likelihoods and the information criteria AIC, BIC and the sample-size adjusted
BIC (lavaan's ``lav_fit_aic``)."""

from __future__ import annotations

import math


def information_criteria(logl: float, logl_h1: float, npar: float, n: float) -> dict[str, float]:
    """``logl``, ``unrestricted_logl``, AIC, BIC, ``ntotal`` and ``bic2`` (SABIC, with
    ``(N + 2) / 24`` in place of ``N``).

    Parameters
    ----------
    logl, logl_h1 : float
        Log-likelihood of the model and of the unrestricted model.
    npar : float
        Number of free parameters.
    n : float
        Total number of cases.

    Returns
    -------
    dict
        ``logl, unrestricted_logl, aic, bic, ntotal, bic2``.

    Examples
    --------
    >>> information_criteria(-280.0, -275.0, 4.0, 100.0)["aic"]
    568.0
    """
    return {
        "logl": logl,
        "unrestricted_logl": logl_h1,
        "aic": -2.0 * logl + 2.0 * npar,
        "bic": -2.0 * logl + npar * math.log(n),
        "ntotal": n,
        "bic2": -2.0 * logl + npar * math.log((n + 2.0) / 24.0),
    }
