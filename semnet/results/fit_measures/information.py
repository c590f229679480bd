"""The log-likelihoods and the information criteria AIC, BIC and the sample-size adjusted
BIC (lavaan's ``lav_fit_aic``)."""

from __future__ import annotations

import math


def _information_criteria(logl: float, logl_h1: float, npar: float, n: float) -> dict[str, float]:
    """``logl``, ``unrestricted_logl``, AIC, BIC, ``ntotal`` and ``bic2`` (SABIC, with
    ``(N + 2) / 24`` in place of ``N``)."""
    return {
        "logl": logl,
        "unrestricted_logl": logl_h1,
        "aic": -2.0 * logl + 2.0 * npar,
        "bic": -2.0 * logl + npar * math.log(n),
        "ntotal": n,
        "bic2": -2.0 * logl + npar * math.log((n + 2.0) / 24.0),
    }
