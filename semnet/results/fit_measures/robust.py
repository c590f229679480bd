"""The ``*_scaled`` and ``*_robust`` measures of a robust (scaled) test, and the
FIML-corrected ``*_robust`` measures of a FIML fit (see the package docstring for the
formulas)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from semnet.results.fit_measures.incremental import incremental_measures, robust_incremental
from semnet.results.fit_measures.inputs import ScaledInput
from semnet.results.fit_measures.rmsea import (
    RMSEA_CLOSE_H0,
    RMSEA_NOTCLOSE_H0,
    rmsea,
    rmsea_ci,
    rmsea_close_pvalues,
)
from semnet.results.fit_measures.utils import chisq_pvalue

if TYPE_CHECKING:
    from semnet.inference.fiml_corrected import FimlCorrected


def scaled_measures(
    scaled: ScaledInput,
    x2: float,
    df: float,
    x2_null: float,
    df_null: float,
    n: float,
    ngroups: int,
    level: float,
) -> dict[str, float]:
    """The ``*_scaled`` / ``*_robust`` measures lavaan adds for a robust test.

    Parameters
    ----------
    scaled : ScaledInput
        The robust test of the model and of the baseline model.
    x2, df : float
        Unscaled chi-square of the model and its degrees of freedom.
    x2_null, df_null : float
        The same for the baseline model.
    n : float
        Total number of cases.
    ngroups : int
        Number of groups.
    level : float
        Confidence level of the RMSEA intervals.

    Returns
    -------
    dict
        The scaled tests, the ``*_scaled`` incremental indices and RMSEA, and the
        ``*_robust`` indices (see the package docstring for the formulas).

    Examples
    --------
    >>> s = ScaledInput(test="satorra.bentler", chisq_scaled=4.0, scaling_factor=1.25,
    ...                 baseline_chisq_scaled=80.0, baseline_scaling_factor=1.25)
    >>> out = scaled_measures(s, 5.0, 2.0, 100.0, 10.0, 100.0, 1, 0.90)
    >>> round(out["cfi_scaled"], 4), round(out["cfi_robust"], 4)
    (0.9714, 0.9714)
    """
    c = float(scaled.scaling_factor)
    c0 = float(scaled.baseline_scaling_factor)
    x2_sc = float(scaled.chisq_scaled)
    x2_null_sc = float(scaled.baseline_chisq_scaled)
    # the Satterthwaite test refers its statistics to their own (fractional) df
    satterthwaite = scaled.test == "mean.var.adjusted"
    df_sc = float(scaled.df_scaled) if satterthwaite else df
    df_null_sc = float(scaled.baseline_df_scaled) if satterthwaite else df_null

    out: dict[str, float] = {
        "chisq_scaled": x2_sc,
        "df_scaled": df_sc,
        "pvalue_scaled": chisq_pvalue(x2_sc, df_sc),
        "chisq_scaling_factor": c,
        "baseline_chisq_scaled": x2_null_sc,
        "baseline_df_scaled": df_null_sc,
        "baseline_pvalue_scaled": chisq_pvalue(x2_null_sc, df_null_sc),
        "baseline_chisq_scaling_factor": c0,
        "scaling_factor_h1": float(scaled.scaling_factor_h1),
        "scaling_factor_h0": float(scaled.scaling_factor_h0),
    }

    # scaled incremental indices: standard formulas on the scaled statistics
    out.update(incremental_measures(x2_sc, df_sc, x2_null_sc, df_null_sc, suffix="_scaled"))

    shifted = scaled.test == "scaled.shifted"
    if shifted or satterthwaite:
        # scaled RMSEA: the scaled-shifted (Satterthwaite) statistic on its df
        x2_rmsea, df_rmsea = x2_sc, df_sc
    else:
        # scaled RMSEA: unscaled statistic on tr(U Gamma) = c * df degrees of freedom
        x2_rmsea, df_rmsea = x2, c * df
        if not np.isfinite(df_rmsea) or df_rmsea == 0:
            df_rmsea = math.nan
    out["rmsea_scaled"] = rmsea(x2_rmsea, df_rmsea, n, ngroups)
    out["rmsea_ci_lower_scaled"], out["rmsea_ci_upper_scaled"] = rmsea_ci(
        x2_rmsea, df_rmsea, n, ngroups, level
    )
    out["rmsea_pvalue_scaled"], out["rmsea_notclose_pvalue_scaled"] = rmsea_close_pvalues(
        x2_rmsea, df_rmsea, n, ngroups, RMSEA_CLOSE_H0, RMSEA_NOTCLOSE_H0
    )

    # robust indices: the unscaled statistics against c * df; for the scaled-shifted
    # test lavaan uses c (df - b) / df there (the shift moved into the scaling)
    c_hat, c_hat_null = c, c0
    if shifted:
        # (df = 0: lavaan's test has no shift and c_hat is empty, so its robust CFI and
        # TLI are the standard ones, which c_hat = 1 selects)
        c_hat = c * (df - scaled.shift_parameter) / df if df > 0 else 1.0
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
    robust = robust_incremental(x2, df, x2_null, df_null, c_hat, c_hat_null)
    for name, value in robust.items():
        out[f"{name}_robust"] = value if finite else math.nan

    out["rmsea_robust"] = rmsea(x2, df, n, ngroups, c_hat=c_hat)
    if df == 0:
        # a saturated model: no scaling factor, the interval is [0, 0] (as lavaan's)
        ci = (0.0, 0.0)
    elif np.isfinite(c_ci):
        ci = rmsea_ci(x2_scaled, df, n, ngroups, level, c_hat=c_ci)
    else:
        ci = (math.nan, math.nan)
    out["rmsea_ci_lower_robust"], out["rmsea_ci_upper_robust"] = ci
    out["rmsea_pvalue_robust"], out["rmsea_notclose_pvalue_robust"] = rmsea_close_pvalues(
        x2_scaled, df, n, ngroups, RMSEA_CLOSE_H0, RMSEA_NOTCLOSE_H0, c_hat=c_ci
    )
    return out


def missing_robust_measures(
    corrected: FimlCorrected | None,
    df: float,
    df_null: float,
    n: float,
    ngroups: int,
    level: float,
) -> dict[str, float]:
    """The ``*_robust`` measures of a FIML fit: built on the FIML-corrected statistics
    (with or without a scaled test), never on the FIML chi-square; NaN without them.

    Parameters
    ----------
    corrected : FimlCorrected or None
        The FIML-corrected statistics (:mod:`semnet.inference.fiml_corrected`).
    df, df_null : float
        Degrees of freedom of the model and of the baseline model.
    n : float
        Total number of cases.
    ngroups : int
        Number of groups.
    level : float
        Confidence level of the RMSEA interval.

    Returns
    -------
    dict
        ``cfi_robust, tli_robust, nnfi_robust, rni_robust, rmsea_robust`` and the robust
        RMSEA's interval and p-values.

    Examples
    --------
    >>> out = missing_robust_measures(None, 2.0, 10.0, 100.0, 1, 0.90)
    >>> out["cfi_robust"]
    nan
    """
    cor = corrected
    if cor is None:
        nan = math.nan
        return _robust_measures(nan, df, nan, df_null, nan, nan, nan, nan, n, ngroups, level)
    # df = 0: lavaan's c_hat is k / 0, infinite, and its robust CFI and TLI are the
    # standard ones, which c_hat = 1 selects
    c_hat = cor.scaling_factor if df > 0 else 1.0
    return _robust_measures(
        cor.chisq, df, cor.baseline_chisq, df_null, c_hat,
        cor.baseline_scaling_factor, cor.chisq_scaled, cor.scaling_factor,
        n, ngroups, level,
    )  # fmt: skip
