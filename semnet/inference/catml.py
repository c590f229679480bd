"""The statistics behind the robust CFI, TLI and RMSEA of ordinal items (Savalei, 2021).

A least-squares fit of ordinal items (WLSMV, ...) gives test statistics on which the
usual robust fit indices are biased.  Savalei (2021, *Multivariate Behavioral Research*
56, 390-407) bases them on the normal-theory ML discrepancy between the polychoric
correlations ``R_g`` and the implied correlations ``P_g`` at the least-squares
estimates ("catML"), with a scaling factor from the least-squares sandwich; lavaan
0.6.14 (``lav_fit_catml_dwls``) reports them as ``cfi.robust``, ``rmsea.robust``, ...

Per group ``g`` (weight ``f_g = N_g / N``), on the correlations only (the thresholds
rows dropped): ``J_g`` the Jacobian of the implied correlations, ``W_g`` the
least-squares weight, ``Gamma_g`` the asymptotic covariance of the correlations and
``V_g`` the normal-theory ML weight of the correlations at ``P_g`` (the off-diagonal
block of ``P^-1 (x) P^-1`` in its symmetric form).  Stacked block-diagonally with
``W = bdiag(f_g W_g)``, ``V = bdiag(f_g V_g)``, ``Gamma = bdiag(Gamma_g / f_g)`` and
``E^-1`` the inverted expected information of the fit (thresholds included)::

    A = I - J E^-1 J' W
    k = tr(A' V A Gamma),    c3 = k / df
    T3 = sum_g N_g (log|P_g| - log|R_g| + tr(R_g P_g^-1) - p)

and for the baseline (zero correlations, ``P = I``, ``V = I``)
``T3_0 = -sum_g N_g log|R_g|`` on ``G p (p - 1) / 2`` degrees of freedom with
``c3_0 = tr(Gamma) / df_0``.  As lavaan, nothing is computed (``None``) when a
polychoric matrix is not positive definite or when the thresholds are not all free
parameters of their own (equal across groups, say): the catML model then differs;
nor, as lavaan 0.6.14, when some observed variables are continuous.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.linalg import block_diag

from semnet._blas import one_blas_thread
from semnet.inference.fiml_corrected import FimlCorrected
from semnet.inference.moment_space import constrained_inverse

if TYPE_CHECKING:
    from semnet.estimation.dwls import LeastSquaresDiscrepancy


def _ml_weight(P: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The normal-theory weight of the correlations ``(i, j)`` at ``P``."""
    inv = np.linalg.inv(P)
    return inv[np.ix_(i, i)] * inv[np.ix_(j, j)] + inv[np.ix_(i, j)] * inv[np.ix_(j, i)]


@one_blas_thread
def catml_corrected(
    disc: LeastSquaresDiscrepancy, x: np.ndarray, T: np.ndarray, df: int,
    thresholds_free: bool,
) -> FimlCorrected | None:
    """lavaan's ``XX3``, ``c.hat3``, ``XX3.null``, ... of a least-squares fit of ordinal
    items at ``x`` (``T`` the tangent basis of its constraints, ``df`` its degrees of
    freedom); ``None`` where lavaan reports none (see the module docstring)."""
    moments = disc.moments
    floor = np.sqrt(np.finfo(float).eps)
    if disc.mixed or not thresholds_free or any(
        np.linalg.eigvalsh(m.cov).min() < floor for m in moments
    ):
        return None
    values = disc.model.values(x, disc.fixed_values)
    parts = disc.sandwich_parts(x)
    fg = disc.info_weights
    E = sum(w * J.T @ W @ J for w, (J, W, _) in zip(fg, parts, strict=True))
    E_inv = constrained_inverse(E, T)
    i, j = disc.pairs
    p = len(moments[0].names)
    xx3 = xx3_null = 0.0
    blocks: dict[str, list[np.ndarray]] = {"J": [], "W": [], "V": [], "G": []}
    for g, (w, (J, W, gamma), mom) in enumerate(zip(fg, parts, moments, strict=True)):
        P = disc.implied_correlations(values, g)
        R = mom.cov
        _, logdet_p = np.linalg.slogdet(P)
        _, logdet_r = np.linalg.slogdet(R)
        xx3 += mom.nobs * (logdet_p - logdet_r + float(np.sum(np.linalg.inv(P) * R)) - p)
        xx3_null -= mom.nobs * logdet_r
        cor = slice(J.shape[0] - len(i), None)
        blocks["J"].append(J[cor])
        blocks["W"].append(w * W[cor, cor])
        blocks["V"].append(w * _ml_weight(P, i, j))
        blocks["G"].append(gamma[cor, cor] / w)
    J = np.vstack(blocks["J"])
    W, V, G = (block_diag(*blocks[k]) for k in ("W", "V", "G"))
    A = np.eye(J.shape[0]) - J @ E_inv @ (J.T @ W)
    k = float(np.sum((A.T @ V @ A) * G.T))
    df_null = len(moments) * p * (p - 1) // 2
    c3 = k / df if df > 0 else np.nan
    return FimlCorrected(
        chisq=xx3, df=df, scaling_factor=c3, chisq_scaled=xx3 / c3 if df > 0 else np.nan,
        baseline_chisq=xx3_null, baseline_df=df_null,
        baseline_scaling_factor=float(np.trace(G)) / df_null,
    )
