"""FIML-corrected statistics for the robust CFI, TLI and RMSEA with incomplete data.

With missing data the usual robust fit indices are biased, because the FIML chi-square
mixes model misfit with the information lost to the missing values.  Zhang & Savalei
(2023, *Psychological Methods* 28, 263-283) replace it by the normal-theory ML
statistic of the model evaluated on the EM (unrestricted FIML) moments as if they were
complete data, with a scaling factor that accounts for the missing-data information.
lavaan (0.6-14, ``lav_fit_fiml_corrected``) reports these as ``cfi.robust``,
``rmsea.robust``, ... for every fit with ``missing = "ml"``.

Per group ``g`` (weight ``f_g = N_g / N``), in the space of the moments
``(mean, vech(cov))``:

* ``Wm_g``: the observed information of the unrestricted FIML model at its EM estimates
  (per case), ``Jm_g`` its first-order (cross-product of the casewise scores)
  information, and ``Wc_g``: the complete-data information at the EM moments;
* ``Delta_g``: the Jacobian of the model's implied moments at the FIML estimates.

Stacked block-diagonally with ``Wm = bdiag(f_g Wm_g)``, ``Wc = bdiag(f_g Wc_g)``,
``Wm^- = bdiag(Wm_g^-1 / f_g)`` and ``E = Delta' Wm Delta`` (inverted on the constraint
space)::

    U = Wm - Wm Delta E^-1 Delta' Wm
    k = tr(U Wm^- Wc Wm^- U Gamma),  Gamma = bdiag(Wm_g^-1 Jm_g Wm_g^-1 / f_g)   (V3)
    k = tr(Wc Wm^- U Wm^-)                                                          (V6)

``V3`` is used with a robust (scaled) test, ``V6`` with the standard one.  The corrected
statistic ``T3 = sum_g N_g F_ML(EM moments; model moments)`` has the scaling factor
``c3 = k / df``.  The same is done for the independence (baseline) model at its FIML
estimates (each variable's mean and variance over its observed values), whose Jacobian
is constant.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg import block_diag

from semnet.data.moments import GroupMoments
from semnet.estimation.fiml import Pattern, _accumulate
from semnet.inference.robust import _duplication, _moment_jacobian, constrained_inverse
from semnet.matrices.ram import Model


@dataclass(frozen=True)
class FimlCorrected:
    """The FIML-corrected statistics of a model and of its baseline (lavaan's ``XX3``,
    ``df3``, ``c.hat3``, ``XX3.scaled``, ``XX3.null``, ``df3.null``, ``c.hat3.null``)."""

    chisq: float
    df: int
    scaling_factor: float
    chisq_scaled: float
    baseline_chisq: float
    baseline_df: int
    baseline_scaling_factor: float


def _dup_index(p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """vech rows/columns and the duplication matrix (p*p x p*) in that order."""
    r, c = _duplication(p)
    dup = np.zeros((p * p, r.size))
    k = np.arange(r.size)
    dup[r * p + c, k] = 1.0
    dup[c * p + r, k] = 1.0
    return r, c, dup


def _ml_discrepancy(S: np.ndarray, m: np.ndarray, sigma: np.ndarray, mu: np.ndarray) -> float:
    """``log|Sigma| + tr(S Sigma^-1) - log|S| - p + (m - mu)' Sigma^-1 (m - mu)``."""
    inv = np.linalg.inv(sigma)
    d = m - mu
    _, ld_sigma = np.linalg.slogdet(sigma)
    _, ld_s = np.linalg.slogdet(S)
    return float(ld_sigma + np.sum(inv * S) - ld_s - S.shape[0] + d @ inv @ d)


def _h1_informations(
    mom: GroupMoments, patterns: Sequence[Pattern]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed, first-order (missing data) and complete-data information of the
    unrestricted model at the EM moments, per case, in (mean, vech) coordinates."""
    sigma, mu = mom.cov, mom.mean
    p = mu.size
    r, c, dup = _dup_index(p)
    _, _, _, h_ss, h_mm, h_ms = _accumulate(sigma, mu, patterns, 3)
    wm = np.block([[h_mm, h_ms @ dup], [dup.T @ h_ms.T, dup.T @ h_ss @ dup]]) / mom.nobs

    # casewise scores of the unrestricted model: z = Sigma_oo^-1 (y_o - mu_o),
    # d/dmu = z, d/dSigma = (z z' - Sigma_oo^-1) / 2 (each vech cell counted twice
    # off the diagonal)
    scores = np.zeros((mom.nobs, p + r.size))
    twice = np.where(r == c, 1.0, 2.0)
    for pat in patterns:
        o = pat.observed
        inv = np.linalg.inv(sigma[np.ix_(o, o)])
        z = np.zeros((pat.n, p))
        z[:, o] = (mom.data[np.ix_(pat.rows, o)] - mu[o]) @ inv
        inv_full = np.zeros((p, p))
        inv_full[np.ix_(o, o)] = inv
        g = 0.5 * (z[:, r] * z[:, c] - inv_full[r, c]) * twice
        scores[pat.rows] = np.hstack([z, g])
    jm = scores.T @ scores / mom.nobs

    inv = np.linalg.inv(sigma)
    wc_cov = 0.5 * dup.T @ np.kron(inv, inv) @ dup
    wc = block_diag(inv, wc_cov)
    return wm, jm, wc


def _k(
    U: np.ndarray, wm_inv: np.ndarray, wc: np.ndarray, gamma: np.ndarray | None
) -> float:
    """The trace ``k`` (V3 when ``gamma`` is given, V6 otherwise)."""
    if gamma is not None:
        left = U @ wm_inv @ wc @ wm_inv @ U
        return float(np.sum(left * gamma.T))
    return float(np.sum((wc @ wm_inv) * (U @ wm_inv).T))


def fiml_corrected(
    model: Model,
    values: np.ndarray,
    moments: Sequence[GroupMoments],
    patterns: Sequence[Sequence[Pattern]],
    T: np.ndarray,
    df: int,
    scaled: bool,
) -> FimlCorrected:
    """FIML-corrected statistics of a FIML fit (lavaan's ``lav_fit_fiml_corrected``).

    Parameters
    ----------
    model, values
        The fitted model and its parameter values (all rows).
    moments
        Per-group moments whose ``cov``/``mean`` are the EM estimates of the unrestricted
        model, with the raw data (NaN for missing values).
    patterns
        Missing-data patterns of each group.
    T
        Tangent basis of the equality constraints at the estimate.
    df
        Degrees of freedom of the model.
    scaled
        ``True`` for a robust (scaled) test (version V3), ``False`` for the standard
        test (V6).

    Returns
    -------
    FimlCorrected
    """
    n = np.array([m.nobs for m in moments], dtype=float)
    fg = n / n.sum()
    wm_g, wm_inv_g, wc_g, gamma_g, delta_g, delta_b = [], [], [], [], [], []
    chisq = chisq_null = 0.0
    for g, (mom, pats) in enumerate(zip(moments, patterns, strict=True)):
        wm, jm, wc = _h1_informations(mom, pats)
        wm_inv = np.linalg.inv(wm)
        wm_g.append(fg[g] * wm)
        wm_inv_g.append(wm_inv / fg[g])
        wc_g.append(fg[g] * wc)
        gamma_g.append(wm_inv @ jm @ wm_inv / fg[g])
        delta, _ = _moment_jacobian(model, values, g, True)
        delta_g.append(delta)
        sigma, mu = model.implied(values, g)
        chisq += n[g] * _ml_discrepancy(mom.cov, mom.mean, sigma, mu)
        # the independence model at its FIML estimates: observed-value means and
        # variances
        var = np.nanvar(mom.data, axis=0)
        chisq_null += n[g] * _ml_discrepancy(
            mom.cov, mom.mean, np.diag(var), np.nanmean(mom.data, axis=0)
        )
        # its Jacobian: free means and variances
        p = var.size
        r, c = _duplication(p)
        db = np.zeros((p + r.size, 2 * p))
        db[np.arange(p), np.arange(p)] = 1.0
        diag = np.flatnonzero(r == c)
        db[p + diag, p + r[diag]] = 1.0
        delta_b.append(db)

    wm_all = block_diag(*wm_g)
    wm_inv_all = block_diag(*wm_inv_g)
    wc_all = block_diag(*wc_g)
    gamma_all = block_diag(*gamma_g) if scaled else None

    delta_all = np.vstack(delta_g)
    wd = wm_all @ delta_all
    e_inv = constrained_inverse(delta_all.T @ wd, T)
    U = wm_all - wd @ e_inv @ wd.T
    c_hat = _k(U, wm_inv_all, wc_all, gamma_all) / df if df > 0 else np.nan

    db_all = block_diag(*delta_b)
    wdb = wm_all @ db_all
    U_b = wm_all - wdb @ np.linalg.inv(db_all.T @ wdb) @ wdb.T
    df_null = sum(m.mean.size * (m.mean.size - 1) // 2 for m in moments)
    c_hat_null = _k(U_b, wm_inv_all, wc_all, gamma_all) / df_null if df_null > 0 else np.nan

    return FimlCorrected(
        chisq=chisq,
        df=df,
        scaling_factor=c_hat,
        chisq_scaled=chisq / c_hat if df > 0 else np.nan,
        baseline_chisq=chisq_null,
        baseline_df=df_null,
        baseline_scaling_factor=c_hat_null,
    )
