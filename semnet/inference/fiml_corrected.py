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

With ``fixed.x`` covariates (lavaan's default) the moments of the covariates alone
(their means, variances and covariances, fixed at the EM estimates) are left out of
``Wm``, ``Jm``, ``Wc`` and ``Delta`` (lavaan sets their rows and columns to zero and
inverts ``Wm`` on the rest), and the baseline model keeps their block fixed, at
lavaan's sample covariances of the covariates and their EM means.  Random covariates
(``fixed.x = FALSE``) have their block free in the baseline model, at its
maximum-likelihood estimates; their moments' rows and columns of ``Wc`` are zero, as
lavaan's (its refit to the EM moments, of which ``Wc`` is the information, takes
``lavaan()``'s default ``fixed.x = TRUE``): ``f =~ x1 + x2 + x3; f ~ ageyr`` with
``fixed.x = FALSE`` on ``tests/reference/fixed_x/hs_missing_x.csv`` has lavaan's robust
RMSEA 0.046501 with the zeros, 0.046998 without.

The traces are never formed from the stacked matrices: with ``R = Wm Delta E^-1 Delta'
Wm`` (so ``U = Wm - R``), ``G_g = Wm_g^-1 Jm_g Wm_g^-1`` and the ``q x q`` sums
``C = sum_g f_g Delta_g' Wc_g Delta_g``, ``K = sum_g f_g Delta_g' Jm_g Delta_g`` and
``X = sum_g f_g Delta_g' Wc_g Wm_g^-1 Jm_g Delta_g``::

    V3:  k = sum_g tr(Wc_g G_g) - 2 tr(E^-1 X) + tr(E^-1 C E^-1 K)
    V6:  k = sum_g tr(Wm_g^-1 Wc_g) - tr(E^-1 C)

so that only per-group matrices of the size of the moments are multiplied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from semnet._blas import one_blas_thread
from semnet.data.missing import (
    Pattern,
    PatternSet,
    covariate_cov,
    observed_moments,
    pattern_terms,
    saturated_block,
)
from semnet.data.moments import GroupMoments, vech_indices
from semnet.estimation.fiml import accumulate_patterns
from semnet.inference.moment_space import (
    constrained_inverse,
    design_outer,
    fixed_x_moments,
    fixed_x_variables,
    moment_jacobian,
    normal_weight,
)
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


def _ml_discrepancy(S: np.ndarray, m: np.ndarray, sigma: np.ndarray, mu: np.ndarray) -> float:
    """``log|Sigma| + tr(S Sigma^-1) - log|S| - p + (m - mu)' Sigma^-1 (m - mu)``."""
    inv = np.linalg.inv(sigma)
    d = m - mu
    _, ld_sigma = np.linalg.slogdet(sigma)
    _, ld_s = np.linalg.slogdet(S)
    return float(ld_sigma + np.sum(inv * S) - ld_s - S.shape[0] + d @ inv @ d)


def _vech(h_ss: np.ndarray, h_ms: np.ndarray, p: int) -> tuple[np.ndarray, np.ndarray]:
    """The (p^2 x p^2) and (p x p^2) blocks of a Hessian w.r.t. ``(mu, vec(Sigma))`` in
    ``vech`` coordinates: ``D' h_ss D`` and ``h_ms D`` (``D`` the duplication matrix),
    by adding the cells of both triangles."""
    r, c = vech_indices(p)
    lower, upper = r * p + c, c * p + r
    half = np.where(r == c, 0.5, 1.0)  # a diagonal cell was added twice
    ss = (
        h_ss[np.ix_(lower, lower)] + h_ss[np.ix_(upper, lower)]
        + h_ss[np.ix_(lower, upper)] + h_ss[np.ix_(upper, upper)]
    ) * np.outer(half, half)  # fmt: skip
    return ss, (h_ms[:, lower] + h_ms[:, upper]) * half


@one_blas_thread
def h1_informations(
    mom: GroupMoments, patterns: Sequence[Pattern]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed, first-order (missing data) and complete-data information of the
    unrestricted model at the EM moments, per case, in (mean, vech) coordinates.

    Computed once per group: the result is kept with the group's :class:`PatternSet`
    (for the moments ``mom``), so that the MLR test of a fit, that of its baseline and
    the fit measures share it.
    """
    sigma, mu = mom.cov, mom.mean
    p = mu.size
    pats = PatternSet.of(patterns, p)
    cached = pats.memo.get("h1")
    if cached is not None and cached[0] is mom:
        return cached[1]
    r, c = vech_indices(p)
    _, _, _, h_ss, h_mm, h_ms = accumulate_patterns(sigma, mu, pats, 3)
    ss, ms = _vech(h_ss, h_ms, p)
    wm = np.block([[h_mm, ms], [ms.T, ss]]) / mom.size

    # casewise scores of the unrestricted model: z = Sigma_oo^-1 (y_o - mu_o),
    # d/dmu = z, d/dSigma = (z z' - Sigma_oo^-1) / 2 (each vech cell counted twice
    # off the diagonal)
    scores = np.zeros((mom.nobs, p + r.size))
    twice = np.where(r == c, 1.0, 2.0)
    start = 0
    for st in pats.stacks:
        _, inv, _ = pattern_terms(sigma, mu, st)
        for k, pat in enumerate(pats.patterns[start : start + len(st.n)]):
            z = (np.where(st.observed[k], mom.data[pat.rows], mu) - mu) @ inv[k]
            scores[pat.rows, :p] = z
            scores[pat.rows, p:] = 0.5 * (z[:, r] * z[:, c] - inv[k, r, c]) * twice
        start += len(st.n)
    jm = design_outer(scores, mom)
    out = (wm, jm, normal_weight(sigma, True))
    pats.memo["h1"] = (mom, out)
    return out


@one_blas_thread
def fiml_corrected(
    model: Model,
    values: np.ndarray,
    moments: Sequence[GroupMoments],
    patterns: Sequence[Sequence[Pattern]],
    T: np.ndarray,
    df: int,
    scaled: bool,
    random_x: Sequence[int] = (),
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
    random_x
        Positions of the random covariates (``fixed.x = FALSE``), whose block of means,
        variances and covariances the baseline model saturates (at its maximum-likelihood
        estimates from the covariates' columns alone).

    Returns
    -------
    FimlCorrected
    """
    n = np.array([m.size for m in moments], dtype=float)
    fg = n / n.sum()
    q = model.nfree
    E, C, K, X = (np.zeros((q, q)) for _ in range(4))
    k_model = k_null = 0.0
    chisq = chisq_null = 0.0
    # the moments other than those of the fixed.x covariates, and the baseline model's
    # free ones among them (the other variables' means and variances)
    keep = ~fixed_x_moments(model)
    x = list(fixed_x_variables(model))
    p = model.p
    r, c = vech_indices(p)
    own = np.ones(p, bool)
    own[x] = False
    rx = list(random_x)
    is_rx = np.isin(np.arange(p), rx)
    free_cov = (own[r] & (r == c)) | (is_rx[r] & is_rx[c])
    sel = np.flatnonzero(np.concatenate([own, free_cov])[keep])
    rx_block = np.concatenate([is_rx, is_rx[r] & is_rx[c]])[keep]
    b = np.ix_(sel, sel)
    kk = np.ix_(keep, keep)
    for g, (mom, pats) in enumerate(zip(moments, patterns, strict=True)):
        wm, jm, wc = (m[kk] for m in h1_informations(mom, pats))
        if rx:
            # lavaan's complete-data information conditions on the random covariates too
            wc = np.where(rx_block[:, None] | rx_block[None, :], 0.0, wc)
        wm_inv = np.linalg.inv(wm)
        wc_wm = wc @ wm_inv
        wm_jm = wm_inv @ jm
        # sum_g of the block-diagonal terms, and the independence model (free means
        # and variances: its Jacobian selects those moments, per group)
        eb_inv = np.linalg.inv(wm[b])
        if scaled:
            k_model += float(np.sum(wc_wm * wm_jm))
            xb = wc_wm[sel] @ jm[:, sel]
            k_null += float(np.sum(wc_wm * wm_jm)) - 2 * float(np.sum(eb_inv * xb.T))
            k_null += float(np.sum((eb_inv @ wc[b]) * (eb_inv @ jm[b]).T))
        else:
            k_model += float(np.trace(wc_wm))
            k_null += float(np.trace(wc_wm)) - float(np.sum(eb_inv * wc[b]))

        delta = moment_jacobian(model, values, g, True)[0][keep]
        rows = np.flatnonzero(np.any(delta != 0, axis=0))
        delta = delta[:, rows]
        block = np.ix_(rows, rows)
        E[block] += fg[g] * delta.T @ wm @ delta
        C[block] += fg[g] * delta.T @ wc @ delta
        if scaled:
            K[block] += fg[g] * delta.T @ jm @ delta
            X[block] += fg[g] * (delta.T @ wc_wm) @ (jm @ delta)

        sigma, mu = model.implied(values, g)
        chisq += n[g] * _ml_discrepancy(mom.cov, mom.mean, sigma, mu)
        # the independence model at its FIML estimates: observed-value means and
        # variances (the covariates' block fixed at their sample covariances and EM means)
        mean, var, _ = observed_moments(mom.data, mom.weights)
        base = np.diag(var)
        if x:
            base[np.ix_(x, x)] = covariate_cov(mom.data[:, x], mom.weights, mom.cov[np.ix_(x, x)])
            mean[x] = mom.mean[x]
        if rx:
            base[np.ix_(rx, rx)], mean[rx], _ = saturated_block(mom.data[:, rx], mom.weights,
                                                                mean[rx], var[rx])
        chisq_null += n[g] * _ml_discrepancy(mom.cov, mom.mean, base, mean)

    e_inv = constrained_inverse(E, T)
    if scaled:
        k_model += -2 * float(np.sum(e_inv * X.T)) + float(np.sum((e_inv @ C) * (e_inv @ K).T))
    else:
        k_model -= float(np.sum(e_inv * C))
    c_hat = k_model / df if df > 0 else np.nan
    df_null = len(moments) * (int(keep.sum()) - sel.size)
    c_hat_null = k_null / df_null if df_null > 0 else np.nan

    return FimlCorrected(
        chisq=chisq,
        df=df,
        scaling_factor=c_hat,
        chisq_scaled=chisq / c_hat if df > 0 else np.nan,
        baseline_chisq=chisq_null,
        baseline_df=df_null,
        baseline_scaling_factor=c_hat_null,
    )
