"""Fit measures for normal-theory maximum likelihood (lavaan's ``fitMeasures()``).

This package reproduces the set of fit measures that lavaan (0.6-14) reports
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

With ``fixed.x = FALSE`` lavaan's baseline model frees the covariances among the
exogenous observed covariates (its ``ov.x``), i.e. it saturates that block:
``GroupFitInput.baseline_x_index`` names those covariates.

Layout (one module per family, as lavaan's ``lav_fit_*`` files)
-------------------------------------------------------------
* :mod:`~semnet.results.fit_measures.inputs`: :class:`GroupFitInput`,
  :class:`ScaledInput`, :class:`MissingDataInput`;
  :mod:`~semnet.results.fit_measures.names`: the names and order of the measures;
* :mod:`~semnet.results.fit_measures.chisq`: the chi-square tests of the model and of
  the baseline model, ``fmin``;
* :mod:`~semnet.results.fit_measures.incremental`: CFI, TLI / NNFI, RFI, NFI, PNFI, IFI,
  RNI (scaled and robust versions);
* :mod:`~semnet.results.fit_measures.information`: log-likelihoods, AIC, BIC, SABIC;
* :mod:`~semnet.results.fit_measures.rmsea`: RMSEA, its interval and p-values;
* :mod:`~semnet.results.fit_measures.residuals`: RMR, SRMR, CRMR and the Mplus SRMR;
* :mod:`~semnet.results.fit_measures.gfi`: GFI, AGFI, PGFI;
* :mod:`~semnet.results.fit_measures.other`: Hoelter's critical N, MFI, ECVI;
* :mod:`~semnet.results.fit_measures.robust`: the ``*_scaled`` / ``*_robust`` measures;
* :mod:`~semnet.results.fit_measures.utils`: numerical helpers (R's ``uniroot``, ...);
* :mod:`~semnet.results.fit_measures.assemble`: :func:`fit_measures`, which assembles them.
"""

from semnet.results.fit_measures.assemble import fit_measures
from semnet.results.fit_measures.inputs import GroupFitInput, MissingDataInput, ScaledInput
from semnet.results.fit_measures.names import (
    FIT_MEASURE_NAMES,
    ROBUST_TESTS,
    fit_measure_names,
)
from semnet.results.fit_measures.rmsea import RMSEA_CLOSE_H0, RMSEA_NOTCLOSE_H0

__all__ = [
    "FIT_MEASURE_NAMES",
    "RMSEA_CLOSE_H0",
    "RMSEA_NOTCLOSE_H0",
    "ROBUST_TESTS",
    "GroupFitInput",
    "MissingDataInput",
    "ScaledInput",
    "fit_measure_names",
    "fit_measures",
]
