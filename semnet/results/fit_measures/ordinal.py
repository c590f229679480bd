"""The fit measures of a least-squares fit of ordinal items (lavaan's ``fitMeasures()``
for WLSMV, WLSM, ULSMV, DWLS, ...).

They differ from the ML ones (:func:`~semnet.results.fit_measures.fit_measures`) in what
they are built on, as lavaan 0.6.14 computes them for categorical data:

- ``fmin`` is ``chisq / (2 N)``;
- the baseline model has free thresholds and zero polychoric correlations, its
  chi-square from the same discrepancy (``baseline_chisq``, given);
- the RMSEA (and its scaled and robust versions), Hoelter's CN and the MFI use ``N - G``
  cases, lavaan's count for categorical data: ``sqrt(max(chisq - df, 0) / (df (N - G)))
  sqrt(G)``;
- the residual measures compare the polychoric with the implied correlations (and a
  continuous variable's covariances in its variance); their versions with means
  (``rmr``, ``srmr_bentler``, ``crmr``) add the residuals of the thresholds, ``srmr``
  is the version without means and the Mplus SRMR is NA, as lavaan's;
- the GFI compares the sample and implied least-squares statistics in the estimator's
  weight (averaged over the groups with weights ``N_g``), the AGFI and PGFI count all of
  them, and ``wrmr`` is ``sqrt(chisq / nel)`` with ``nel`` the first group's number of
  statistics, as lavaan's (``lav_fit_gfi``, ``lav_fit_wrmr``).

With a scaled test the ``*_robust`` measures are Savalei's (2021), built on the catML
statistics (:mod:`semnet.inference.catml`) as lavaan's.  There is no likelihood (no
``logl``, ``aic``, ``bic``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from semnet.inference.fiml_corrected import FimlCorrected
from semnet.results.fit_measures.chisq import group_ml
from semnet.results.fit_measures.gfi import adjusted_gfi
from semnet.results.fit_measures.incremental import incremental_measures
from semnet.results.fit_measures.inputs import GroupFitInput, ScaledInput
from semnet.results.fit_measures.other import other_measures
from semnet.results.fit_measures.residuals import residual_measures
from semnet.results.fit_measures.rmsea import rmsea_measures
from semnet.results.fit_measures.robust import missing_robust_measures, scaled_measures
from semnet.results.fit_measures.utils import chisq_pvalue

#: the residual measures of correlations that lavaan reports for ordinal items
_RESIDUAL = ("rmr_nomean", "srmr", "srmr_bentler_nomean", "crmr_nomean")


@dataclass(frozen=True)
class WlsGroup:
    """One group's least-squares statistics: the sample ``obs`` and implied ``est``, the
    estimator's ``weight`` (a matrix, or its diagonal as a vector) and the positions
    ``thresholds`` of the thresholds among the statistics."""

    obs: np.ndarray
    est: np.ndarray
    weight: np.ndarray
    thresholds: np.ndarray


def wls_measures(
    groups: Sequence[GroupFitInput], wls: Sequence[WlsGroup], chisq: float, df: float
) -> dict[str, float]:
    """The residual measures with thresholds (``rmr``, ``srmr_bentler``, ``crmr``), the
    GFI family and ``wrmr`` of an ordinal fit (see the module docstring).

    Examples
    --------
    >>> R = np.array([[1.0, 0.3], [0.3, 1.0]])
    >>> g = GroupFitInput(nobs=101, sample_cov=R, sample_mean=np.zeros(2),
    ...                   implied_cov=np.eye(2), implied_mean=np.zeros(2))
    >>> w = WlsGroup(np.array([0.1, 0.3]), np.array([0.1, 0.0]), np.ones(2), np.array([0]))
    >>> out = wls_measures([g], [w], 9.0, 1.0)
    >>> round(out["gfi"], 4), round(out["wrmr"], 4)
    (0.1, 2.1213)
    """
    nobs = np.array([g.nobs for g in groups], dtype=float)
    p = groups[0].sample_cov.shape[0]
    counts = {"rmr": p * (p + 1) / 2, "srmr_bentler": p * (p + 1) / 2, "crmr": p * (p - 1) / 2}
    sums = {k: np.zeros(len(groups)) for k in counts}
    gfi = np.zeros(len(groups))
    for k, (g, w) in enumerate(zip(groups, wls, strict=True)):
        res = residual_measures([group_ml(g, False)], np.ones(1), False)
        th = w.obs[w.thresholds] - w.est[w.thresholds]
        for name, count in counts.items():
            total = res[f"{name}_nomean"] ** 2 * count + float(th @ th)
            sums[name][k] = math.sqrt(total / (count + th.size))
        diff = w.obs - w.est
        if w.weight.ndim == 1:
            t1, t2 = float(diff**2 @ w.weight), float(w.obs**2 @ w.weight)
        else:
            t1, t2 = float(diff @ w.weight @ diff), float(w.obs @ w.weight @ w.obs)
        gfi[k] = 1.0 - t1 / t2
    weights = nobs / nobs.sum()
    out = {name: float(weights @ value) for name, value in sums.items()}
    nel = sum(w.obs.size for w in wls)
    out["gfi"] = float(weights @ gfi)
    out["agfi"], out["pgfi"] = adjusted_gfi(out["gfi"], nel, df)
    # lavaan counts the first group's statistics only (lav_fit_measures: WLS.obs[[1]])
    out["wrmr"] = math.sqrt(chisq / wls[0].obs.size)
    return out


def ordinal_fit_measures(
    groups: Sequence[GroupFitInput],
    *,
    npar: int,
    df: int,
    chisq: float,
    baseline_chisq: float,
    baseline_df: int,
    scaled: ScaledInput | None = None,
    corrected: FimlCorrected | None = None,
    chisq_distributed: bool = True,
    level: float = 0.90,
    wls: Sequence[WlsGroup] | None = None,
) -> pd.Series:
    """Fit measures of ordinal items fitted by least squares.

    Parameters
    ----------
    groups : sequence of GroupFitInput
        Per group: the polychoric correlations as ``sample_cov`` and the implied
        correlations as ``implied_cov`` (means zero).
    npar, df : int
        Free parameters and degrees of freedom of the model.
    chisq, baseline_chisq : float
        The test statistics of the model and of the baseline model.
    baseline_df : int
        The baseline model's degrees of freedom.
    scaled : ScaledInput, optional
        The scaled (or scaled-shifted) tests of the model and the baseline.
    corrected : FimlCorrected, optional
        The catML statistics of the robust measures (reported with ``scaled`` only; NaN
        without them).
    chisq_distributed : bool
        The statistic is referred to a chi-square (``False`` for ULS, whose ``pvalue``
        and ``baseline_pvalue`` lavaan leaves NA).
    level : float
        Confidence level of the RMSEA interval.
    wls : sequence of WlsGroup, optional
        The groups' least-squares statistics: with them also the measures of
        :func:`wls_measures`.

    Returns
    -------
    pandas.Series

    Examples
    --------
    >>> import numpy as np
    >>> R = np.array([[1.0, 0.3], [0.3, 1.0]])
    >>> g = GroupFitInput(nobs=101, sample_cov=R, sample_mean=np.zeros(2),
    ...                   implied_cov=np.eye(2), implied_mean=np.zeros(2))
    >>> fm = ordinal_fit_measures([g], npar=4, df=1, chisq=9.0, baseline_chisq=9.0,
    ...                           baseline_df=1)
    >>> float(fm["cfi"]), round(float(fm["rmsea"]), 4)
    (0.0, 0.2828)
    """
    n = float(sum(g.nobs for g in groups))
    ngroups = len(groups)
    n_rmsea = n - ngroups
    out: dict[str, float] = {
        "npar": float(npar), "fmin": chisq / (2.0 * n), "chisq": chisq, "df": float(df),
        "pvalue": chisq_pvalue(chisq, df) if chisq_distributed else np.nan,
    }  # fmt: skip
    base = {
        "baseline_chisq": baseline_chisq, "baseline_df": float(baseline_df),
        "baseline_pvalue": (
            chisq_pvalue(baseline_chisq, baseline_df) if chisq_distributed else np.nan
        ),
    }  # fmt: skip
    rmsea = rmsea_measures(chisq, df, n_rmsea, ngroups, level)
    robust: dict[str, float] = {}
    if scaled is not None:
        robust = scaled_measures(
            scaled, chisq, df, baseline_chisq, baseline_df, n_rmsea, ngroups, level
        )
        # the robust measures: the catML statistics' (none in scaled_measures' sense)
        robust = {k: v for k, v in robust.items() if not k.endswith("_robust")}
        robust.update(missing_robust_measures(corrected, df, baseline_df, n_rmsea, ngroups,
                                              level))
        out.update({k: v for k, v in robust.items() if k.startswith("chisq")})
        out.update({k: robust[k] for k in ("df_scaled", "pvalue_scaled") if k in robust})
    out.update(base)
    if scaled is not None:
        out.update({k: v for k, v in robust.items() if k.startswith("baseline")})
    incremental = incremental_measures(chisq, df, baseline_chisq, baseline_df)
    out.update({k: incremental[k] for k in ("cfi", "tli")})
    out.update({k: v for k, v in robust.items()
                if k in ("cfi_scaled", "tli_scaled", "cfi_robust", "tli_robust")})
    out.update({k: v for k, v in incremental.items() if k not in ("cfi", "tli")})
    out.update({k: v for k, v in robust.items()
                if k.endswith("_scaled") and k.split("_")[0] in incremental
                and not k.startswith(("cfi", "tli"))})  # fmt: skip
    out.update({k: robust[k] for k in ("nnfi_robust", "rni_robust") if k in robust})
    out.update(rmsea)
    out.update({k: v for k, v in robust.items() if k.startswith("rmsea") and k.endswith("scaled")})
    out.update({k: v for k, v in robust.items() if k.startswith("rmsea") and k.endswith("robust")})
    weights = np.array([g.nobs / n for g in groups])
    residual = residual_measures([group_ml(g, False) for g in groups], weights, False)
    out.update({k: residual[k] for k in _RESIDUAL if k in residual})
    if wls is not None:
        out.update(wls_measures(groups, wls, chisq, df))
        out["srmr_mplus"] = out["srmr_mplus_nomean"] = math.nan
    other = other_measures(chisq, df, n_rmsea, float(npar))
    out.update({k: other[k] for k in ("cn_05", "cn_01", "mfi")})
    return pd.Series(out, dtype=float)
