"""Robust (non-normality corrected) standard errors and test statistics.

Two of lavaan's estimator presets, written from their published definitions:

``MLM`` = ML estimates, ``se = "robust.sem"`` and the Satorra–Bentler (1994) scaled test.
With ``W_g`` the normal-theory weight matrix of the moments ``(mean, vech(cov))`` at the
implied moments, ``Delta_g`` their Jacobian, ``E = sum_g f_g Delta_g' W_g Delta_g`` the
expected information (``f_g = N_g / N``) and ``Gamma_g`` the asymptotic (ADF) covariance
of the sample moments::

    V = E^-1 [sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g] E^-1 / N
    c = [sum_g tr(W_g Gamma_g) - f_g tr(W_g Delta_g E^-1 Delta_g' W_g Gamma_g)] / df

``MLMV`` = the same estimates and SEs with the mean-and-variance adjusted
(scaled-shifted) test of Asparouhov & Muthén (2010), lavaan's ``scaled.shifted``.  With
``V = bdiag(f_g W_g)``, ``Gamma = bdiag(Gamma_g / f_g)``, the stacked ``Delta`` and
``U = V - V Delta E^-1 Delta' V``::

    a = sqrt(df / tr((U Gamma)^2)),  b = df - a tr(U Gamma),  T_ss = a T + b  on df

reported with lavaan's ``scaling.factor`` ``1 / a`` and ``shift.parameter`` ``b``.

``MLR`` = ML estimates, Huber–White sandwich SEs from the observed information ``H``
(the Hessian of the discrepancy) and the casewise scores ``s_i``, and the Yuan–Bentler
(2000) scaled test in its Mplus variant::

    B0_g = (1/N_g) sum_i s_i s_i',   V = H^-1 [sum_g f_g B0_g] H^-1 / N
    c = [sum_g tr(A1_g^-1 B1_g) - f_g tr(B0_g H^-1)] / df

where ``A1_g`` and ``B1_g`` are the expected and first-order information of the
unrestricted model.  Equality constraints enter through the tangent basis ``T`` of the
constraint manifold: every inverse above is ``T (T' M T)^-1 T'``.

With ``fixed.x`` covariates (lavaan's default) the inference is conditional on them, as
lavaan's: the rows and columns of their own moments (means, variances, covariances) are
zero in ``W_g`` and ``Gamma_g``, and are dropped from ``A1_g`` and ``B1_g`` (and from the
count of moments behind ``scaling.factor.h1``).  The casewise scores and the observed
information need no change: the fixed moments carry no free parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from semnet.data.moments import GroupMoments, vech_indices
from semnet.errors import DataError
from semnet.estimation.ml import MLDiscrepancy
from semnet.inference.fiml_corrected import h1_informations
from semnet.inference.moment_space import (
    adf_gamma,
    design_outer,
    fixed_x_moments,
    fixed_x_variables,
    moment_jacobian,
    normal_weight,
    without_moments,
)
from semnet.inference.vcov import checked_constrained_inverse

if TYPE_CHECKING:
    from semnet.estimation.discrepancy import Discrepancy


@dataclass(frozen=True)
class ScaledTest:
    """A robust chi-square test (lavaan's ``satorra.bentler``, ``yuan.bentler.mplus``,
    ``scaled.shifted`` or ``mean.var.adjusted``, whose ``df`` is not a whole number).

    ``stat`` is ``T / scaling_factor`` (``+ shift_parameter`` for ``scaled_shifted``);
    ``trace`` is lavaan's ``trace.UGamma``, ``trace2`` its ``trace.UGamma2`` (only for
    ``scaled_shifted``).
    """

    name: str
    stat: float
    df: float
    scaling_factor: float
    trace: float
    scaling_factor_h1: float = np.nan
    scaling_factor_h0: float = np.nan
    shift_parameter: float = np.nan
    trace2: float = np.nan


def _require_data(moments: Sequence[GroupMoments], what: str) -> None:
    if any(m.data is None and m.cross is None and m.gamma is None for m in moments):
        raise DataError(
            f"{what} needs the raw data (casewise fourth-order moments); it cannot be "
            "computed from sample_cov/sample_mean alone. Pass the DataFrame instead, or "
            "moments from semnet.moments.from_dask(..., fourth=True)."
        )


def score_outer(disc: Discrepancy, x: np.ndarray, g: int) -> np.ndarray:
    """``(1/N_g) sum_i s_i s_i'`` of the discrepancy's casewise scores in group ``g``, or
    from the group's fourth-order moments when the rows are not kept."""
    model, mom = disc.model, disc.moments[g]
    meanstructure = model.meanstructure
    if mom.data is not None:
        rows, s = disc.casewise_scores(x, g)
        out = np.zeros((x.size, x.size))
        out[np.ix_(rows, rows)] = design_outer(s, mom, weigh=False)
        return out
    values = model.values(x, disc.fixed_values)
    # s_i = G w_i with w_i = (1, e_i, vech(e_i e_i')), e_i = y_i - ybar: the score is
    # 0.5 r'A_k r - 0.5 tr(Sigma^-1 dS_k) + r'b_k with r = e + delta, delta = ybar - centre
    sigma, mu, d_sigma, d_mu = model.jacobian(values, g)
    inv = np.linalg.inv(sigma)
    A = inv @ d_sigma @ inv
    delta = mom.mean - mu if meanstructure else np.zeros(mom.mean.size)
    r, c = vech_indices(mom.mean.size)
    Ad = A @ delta
    G = np.empty((A.shape[0], 1 + delta.size + r.size))
    G[:, 0] = 0.5 * (Ad @ delta) - 0.5 * np.einsum("ij,kji->k", inv, d_sigma)
    G[:, 1 : 1 + delta.size] = Ad
    G[:, 1 + delta.size :] = 0.5 * A[:, r, c] * np.where(r == c, 1.0, 2.0)
    if meanstructure:
        b = d_mu @ inv
        G[:, 0] += b @ delta
        G[:, 1 : 1 + delta.size] += b
    return mom.cross.mean_outer(G)


def observed_information(disc: MLDiscrepancy, x: np.ndarray) -> np.ndarray:
    """Hessian of the ML (or FIML) discrepancy at ``x``: the unit observed information,
    analytic for both."""
    return disc.observed_information(x)


def _h1_trace(mom: GroupMoments, meanstructure: bool) -> tuple[float, int]:
    """tr(A1^-1 B1) of the unrestricted model and its number of moments.

    With ``d_i`` the centred cases and ``q_i = d_i' S^-1 d_i`` this is the mean over
    cases of ``q_i + 0.5 (q_i^2 - 2 q_i + p)`` (the ``q_i`` term only with means).
    """
    p = len(mom.names)
    ndat = p * (p + 1) // 2 + (p if meanstructure else 0)
    if mom.data is None:
        # q_i = a' vech(d_i d_i'): its first two moments from the fourth-order moments
        r, c = vech_indices(p)
        a = np.linalg.inv(mom.cov)[r, c] * np.where(r == c, 1.0, 2.0)
        block = mom.cross.matrix[1 + p :, 1 + p :]
        q1 = float(a @ mom.cross.matrix[0, 1 + p :])
        q2 = float(a @ block @ a)
        return 0.5 * (q2 - 2 * q1 + p) + (q1 if meanstructure else 0.0), ndat
    d = mom.data - mom.mean
    qf = np.sum((d @ np.linalg.inv(mom.cov)) * d, axis=1)
    per_case = 0.5 * (qf * qf - 2 * qf + p)
    if meanstructure:
        per_case = per_case + qf
    return float(per_case.mean()), ndat


def _h1_trace_conditional(
    mom: GroupMoments, meanstructure: bool, fixed_x: np.ndarray
) -> tuple[float, int]:
    """tr(A1^-1 B1) of the unrestricted model without the moments of the ``fixed.x``
    covariates, and the number of moments left.

    At the sample moments ``A1`` is the normal-theory weight ``W`` of ``S`` and the
    casewise scores are ``W (u_i - u_bar)`` with ``u_i = (d_i, vech(d_i d_i'))``, so
    ``B1 = W Gamma W``; both are restricted to the other moments before the inverse.
    """
    keep = ~fixed_x
    W = normal_weight(mom.cov, meanstructure)
    wk = W[keep]
    B1 = wk @ adf_gamma(mom, meanstructure) @ wk.T
    A1 = wk[:, keep]
    return float(np.sum(np.linalg.inv(A1) * B1.T)), int(keep.sum())


def _h1_trace_missing(disc) -> list[tuple[float, int]]:
    """tr(A1_g^-1 B1_g) of the unrestricted model with incomplete data: observed and
    first-order information of the saturated model at its (EM/FIML) estimates, in the
    space of the moments (the trace does not depend on the parameterization), without
    the moments of the ``fixed.x`` covariates."""
    keep = ~fixed_x_moments(disc.model)
    out = []
    for mom, pats in zip(disc.moments, disc.patterns, strict=True):
        wm, jm, _ = h1_informations(mom, pats)
        wm, jm = wm[np.ix_(keep, keep)], jm[np.ix_(keep, keep)]
        out.append((float(np.sum(np.linalg.inv(wm) * jm)), wm.shape[0]))
    return out


def mlr(
    disc: MLDiscrepancy, x: np.ndarray, T: np.ndarray, df: int, npar: int
) -> tuple[np.ndarray, ScaledTest]:
    """Huber–White vcov and the Yuan–Bentler (Mplus) scaled test."""
    model, moments = disc.model, disc.moments
    _require_data(moments, "estimator='MLR'")
    patterns = getattr(disc, "patterns", None)
    H = observed_information(disc, x)
    H_inv = checked_constrained_inverse(H, T)
    B0 = [score_outer(disc, x, g) for g in range(len(moments))]
    B = sum(w * b for w, b in zip(disc.weights, B0, strict=True))
    vcov = H_inv @ B @ H_inv / disc.ntotal
    fixed_x = fixed_x_moments(model)
    designed = any(m.weights is not None or m.clusters is not None for m in moments)
    if patterns is None and (fixed_x.any() or designed):
        h1 = [_h1_trace_conditional(mom, model.meanstructure, fixed_x) for mom in moments]
    elif patterns is None:
        h1 = [_h1_trace(mom, model.meanstructure) for mom in moments]
    else:
        h1 = _h1_trace_missing(disc)
    trace_h1 = sum(t for t, _ in h1)
    ndat = sum(nd for _, nd in h1)
    trace_h0 = 0.0
    for w, b0 in zip(disc.weights, B0, strict=True):
        trace_h0 += w * float(np.sum(b0 * H_inv.T))
    trace = trace_h1 - trace_h0
    chisq = 2 * disc.ntotal * disc.evaluate(x, derivatives=False).f
    c = trace / df if df > 0 else np.nan
    test = ScaledTest(
        "yuan_bentler_mplus", chisq / c if df > 0 else chisq, df, c, trace,
        trace_h1 / ndat, trace_h0 / npar if npar else np.nan,
    )  # fmt: skip
    return (vcov + vcov.T) / 2, test


def independence_mlr(moments: Sequence[GroupMoments], meanstructure: bool) -> ScaledTest:
    """The Yuan–Bentler (Mplus) scaled test of the independence (baseline) model, in
    closed form: :func:`mlr` of that model at its MLE without building its information.

    The model has a variance ``v_j`` (and a mean) per variable and group, estimated by
    ``s_jj`` (and ``ȳ_j``); its unit observed information is diagonal, ``0.5 / s_jj²``
    for a variance and ``1 / s_jj`` for a mean, so ``tr(B0_g H^-1)`` sums, per
    variable, ``0.5 (m4_j / s_jj² - 1)`` (``m4_j`` the fourth central moment) and 1 for
    a mean.  ``χ² = Σ_g N_g (Σ_j log s_jj - log|S_g|)``.
    """
    _require_data(moments, "estimator='MLR'")
    chisq = trace_h0 = trace_h1 = 0.0
    ndat = npar = 0
    for mom in moments:
        p = len(mom.names)
        var = np.diag(mom.cov)
        chisq += mom.nobs * (float(np.log(var).sum()) - mom.logdet)
        if mom.data is not None:
            m4 = np.mean((mom.data - mom.mean) ** 4, axis=0)
        else:
            r, c = vech_indices(p)
            diagonal = 1 + p + np.flatnonzero(r == c)
            m4 = mom.cross.matrix[diagonal, diagonal]
        trace_h0 += float(np.sum(0.5 * (m4 / var**2 - 1.0))) + (p if meanstructure else 0)
        t1, nd = _h1_trace(mom, meanstructure)
        trace_h1 += t1
        ndat += nd
        npar += p * (2 if meanstructure else 1)
    df = ndat - npar
    trace = trace_h1 - trace_h0
    c = trace / df if df > 0 else np.nan
    return ScaledTest(
        "yuan_bentler_mplus", chisq / c if df > 0 else chisq, df, c, trace,
        trace_h1 / ndat, trace_h0 / npar,
    )  # fmt: skip


@dataclass(frozen=True, eq=False)
class RobustSem:
    """lavaan's ``robust.sem`` sandwich at the estimates: ``E^-1`` (on the span of the
    constraints' tangent basis) and per group ``(Delta_g, W_g, Gamma_g)`` with the
    group weights ``weights`` of ``E``, from which the Satorra–Bentler and
    scaled-shifted tests are taken; the vcov ``E^-1 meat E^-1 / divisor`` is formed
    when asked for (a baseline model's test needs none)."""

    E_inv: np.ndarray
    parts: list
    chisq: float
    weights: np.ndarray
    meat: np.ndarray
    divisor: float

    @cached_property
    def vcov(self) -> np.ndarray:
        """The sandwich covariance matrix of the free parameters."""
        vcov = self.E_inv @ self.meat @ self.E_inv / self.divisor
        return (vcov + vcov.T) / 2


def robust_sem(disc: MLDiscrepancy, x: np.ndarray, T: np.ndarray, what: str) -> RobustSem:
    """The ``robust.sem`` sandwich (``what`` names the option that asked for it, for
    the error when there are no raw data).

    A discrepancy with its own ``sandwich(x)`` (least squares on ordinal statistics)
    gives the group weights, the divisor of the vcov and the parts ``(Delta_g, W_g,
    Gamma_g)``; otherwise they are the normal-theory weight and the ADF Gamma of the
    moments, with the discrepancy's weights and ``N``.
    """
    model, moments = disc.model, disc.moments
    _require_data(moments, what)
    ev = disc.evaluate(x, derivatives=False)
    own = getattr(disc, "sandwich", None)
    if own is not None:
        weights, divisor, parts = own(x)
        E = np.zeros((model.nfree, model.nfree))
        for w, (d, W, _) in zip(weights, parts, strict=True):
            cols, dc = _used_columns(d)
            E[np.ix_(cols, cols)] += w * dc.T @ _times(W, dc)
    else:
        values = model.values(x, disc.fixed_values)
        weights, divisor, parts = disc.weights, disc.ntotal, []
        fixed_x = fixed_x_moments(model)
        for g, mom in enumerate(moments):
            delta, sigma = moment_jacobian(model, values, g, model.meanstructure)
            W = without_moments(normal_weight(sigma, model.meanstructure), fixed_x)
            gamma = adf_gamma(mom, model.meanstructure, fixed_x_variables(model))
            parts.append((delta, W, gamma))
        E = disc.evaluate(x).information
    E_inv = checked_constrained_inverse(E, T)
    meat = np.zeros_like(E_inv)
    for w, (delta, W, gamma) in zip(weights, parts, strict=True):
        cols, dc = _used_columns(delta)
        wd = _times(W, dc)
        meat[np.ix_(cols, cols)] += w * wd.T @ gamma @ wd
    return RobustSem(E_inv, parts, 2 * disc.ntotal * ev.f, weights, meat, divisor)


def _used_columns(delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The columns of a group's Jacobian that are not all zero (the parameters of the
    group's own rows, in a multi-group model), and those columns."""
    cols = np.flatnonzero(np.any(delta != 0, axis=0))
    return cols, delta[:, cols]


def _times(W: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``W m``, as a row scaling when ``W`` is diagonal (DWLS, ULS)."""
    d = np.diag(W)
    if np.count_nonzero(W) == np.count_nonzero(d):
        return d[:, None] * m
    return W @ m


def satorra_bentler(sandwich: RobustSem, weights: np.ndarray, df: int) -> ScaledTest:
    """The Satorra–Bentler scaled test from the ``robust.sem`` sandwich."""
    trace = 0.0
    for w, (delta, W, gamma) in zip(weights, sandwich.parts, strict=True):
        wd = W @ delta
        trace += float(np.sum(W * gamma)) - w * float(
            np.sum((wd @ sandwich.E_inv @ wd.T) * gamma)
        )
    c = trace / df if df > 0 else np.nan
    return ScaledTest("satorra_bentler", sandwich.chisq / c if df > 0 else sandwich.chisq, df, c,
                      trace)  # fmt: skip


def mlm(
    disc: MLDiscrepancy, x: np.ndarray, T: np.ndarray, df: int
) -> tuple[np.ndarray, ScaledTest]:
    """Robust.sem vcov and the Satorra–Bentler scaled test."""
    sandwich = robust_sem(disc, x, T, "estimator='MLM'")
    return sandwich.vcov, satorra_bentler(sandwich, sandwich.weights, df)


def ugamma(
    E_inv: np.ndarray, parts: list, weights: np.ndarray
) -> tuple[float, float]:
    """``tr(U Gamma)`` and ``tr((U Gamma)^2)`` over all groups jointly (lavaan's
    ``trace.UGamma`` and ``trace.UGamma2``); ``parts`` holds ``(Delta_g, W_g,
    Gamma_g)`` per group."""
    # U Gamma = V Gamma - A E^-1 B with A = V Delta, B = Delta' V Gamma, and V Gamma
    # block diagonal: both traces from group blocks and products of the parameters'
    # dimension (no (sum of moments)^2 matrix is formed), each group's on the columns
    # of its own parameters
    nfree = E_inv.shape[0]
    BA = np.zeros((nfree, nfree))
    BVGA = np.zeros((nfree, nfree))
    trace_vg = trace_vg2 = 0.0
    for w, (d, W, G) in zip(weights, parts, strict=True):
        vg = _times(W, G)  # (w W_g)(G_g / w) = W_g G_g
        cols, dc = _used_columns(d)
        A = w * _times(W, dc)
        B = dc.T @ vg
        at = np.ix_(cols, cols)
        BA[at] += B @ A
        BVGA[at] += (B @ vg) @ A
        trace_vg += float(np.trace(vg))
        trace_vg2 += float(np.sum(vg * vg.T))
    EBA = E_inv @ BA
    trace = trace_vg - float(np.trace(EBA))
    trace2 = (
        trace_vg2 - 2.0 * float(np.sum(E_inv * BVGA.T)) + float(np.sum(EBA * EBA.T))
    )
    return trace, trace2


def scaled_shifted(sandwich: RobustSem, weights: np.ndarray, df: int) -> ScaledTest:
    """The mean-and-variance adjusted (scaled-shifted) test from the ``robust.sem``
    sandwich."""
    trace, trace2 = ugamma(sandwich.E_inv, sandwich.parts, weights)
    if df > 0:
        a = np.sqrt(df / trace2)
        shift = df - a * trace
        return ScaledTest(
            "scaled_shifted", sandwich.chisq * a + shift, df, 1 / a, trace,
            shift_parameter=shift, trace2=trace2,
        )  # fmt: skip
    return ScaledTest("scaled_shifted", sandwich.chisq, df, np.nan, trace, trace2=trace2)


def mean_var_adjusted(sandwich: RobustSem, weights: np.ndarray, df: int) -> ScaledTest:
    """The Satterthwaite mean-and-variance adjusted test (lavaan's ``mean.var.adjusted``,
    of WLSMVS): ``T / c`` on ``tr(UG)^2 / tr((UG)^2)`` degrees of freedom (not a whole
    number), with ``c = tr((UG)^2) / tr(UG)``."""
    trace, trace2 = ugamma(sandwich.E_inv, sandwich.parts, weights)
    if df > 0:
        c = trace2 / trace
        return ScaledTest("mean_var_adjusted", sandwich.chisq / c, trace**2 / trace2, c,
                          trace, trace2=trace2)  # fmt: skip
    return ScaledTest("mean_var_adjusted", sandwich.chisq, df, np.nan, trace, trace2=trace2)


def mlmv(
    disc: MLDiscrepancy, x: np.ndarray, T: np.ndarray, df: int
) -> tuple[np.ndarray, ScaledTest]:
    """Robust.sem vcov and the mean-and-variance adjusted (scaled-shifted) test."""
    sandwich = robust_sem(disc, x, T, "estimator='MLMV'")
    return sandwich.vcov, scaled_shifted(sandwich, sandwich.weights, df)
