"""Linear algebra in the space of the sample moments ``(mean, vech(cov))``.

Shared by the robust standard errors and tests (:mod:`semnet.inference.robust`) and the
FIML-corrected robust fit measures (:mod:`semnet.inference.fiml_corrected`): the
Jacobian ``Delta`` of the implied moments, the normal-theory weight matrix ``W``, the
asymptotic (ADF) covariance ``Gamma`` of the sample moments, and inverses restricted to
the span of the equality constraints' tangent basis.
"""

from __future__ import annotations

import numpy as np

from semnet.data.moments import GroupMoments
from semnet.matrices.ram import Model


def constrained_inverse(M: np.ndarray, T: np.ndarray) -> np.ndarray:
    """``T (T' M T)^-1 T'``: the inverse of ``M`` on the span of ``T``."""
    inner = T.T @ M @ T
    inv = np.linalg.inv(inner)
    out = T @ inv @ T.T
    return (out + out.T) / 2


def vech_rows(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row/column indices of vech (column-wise lower triangle, lavaan's order)."""
    cols, rows = np.triu_indices(p)
    return rows, cols


def moment_jacobian(
    model: Model, values: np.ndarray, g: int, meanstructure: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Delta (moments x q) and the implied covariance of group g."""
    sigma, _, d_sigma, d_mu = model.jacobian(values, g)
    r, c = vech_rows(model.p)
    delta = d_sigma[:, r, c].T
    if meanstructure:
        delta = np.vstack([d_mu.T, delta])
    return delta, sigma


def normal_weight(sigma: np.ndarray, meanstructure: bool) -> np.ndarray:
    """Normal-theory weight matrix of (mean, vech(cov)): blockdiag(S^-1, 0.5 D'(S^-1 x S^-1)D)."""
    p = sigma.shape[0]
    inv = np.linalg.inv(sigma)
    r, c = vech_rows(p)
    base = inv[np.ix_(r, r)] * inv[np.ix_(c, c)] + inv[np.ix_(r, c)] * inv[np.ix_(c, r)]
    # an off-diagonal vech element stands for two cells of the full matrix
    m = np.where(r == c, 1.0, 2.0)
    w = 0.25 * base * m[:, None] * m[None, :]
    if meanstructure:
        m = w.shape[0]
        out = np.zeros((p + m, p + m))
        out[:p, :p] = inv
        out[p:, p:] = w
        return out
    return w


def adf_gamma(mom: GroupMoments, meanstructure: bool) -> np.ndarray:
    """Asymptotic covariance of (mean, vech(cov)) with divisor N (lavaan's Gamma)."""
    if mom.data is None:
        return mom.cross.gamma(meanstructure)
    d = mom.data - mom.mean
    r, c = vech_rows(len(mom.names))
    u = d[:, r] * d[:, c]
    if meanstructure:
        u = np.hstack([d, u])
    u = u - u.mean(axis=0)
    return u.T @ u / mom.nobs
