"""Linear algebra in the space of the sample moments ``(mean, vech(cov))``.

Shared by the robust standard errors and tests (:mod:`semnet.inference.robust`) and the
FIML-corrected robust fit measures (:mod:`semnet.inference.fiml_corrected`): the
Jacobian ``Delta`` of the implied moments, the normal-theory weight matrix ``W``, the
asymptotic (ADF) covariance ``Gamma`` of the sample moments, and inverses restricted to
the span of the equality constraints' tangent basis.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from scipy.linalg import block_diag

from semnet.data.moments import GroupMoments, vech_indices
from semnet.matrices.ram import Model

#: below this share of nonzero entries a basis multiplies as a sparse matrix (equal
#: parameters across groups give one nonzero per row)
SPARSE_SHARE = 0.1


def congruence(T: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``T' M T``, through a sparse ``T`` when it is mostly zeros.

    Examples
    --------
    >>> import numpy as np
    >>> T = np.array([[1.0], [1.0], [0.0]])
    >>> congruence(T, np.eye(3)).tolist()
    [[2.0]]
    """
    if np.count_nonzero(T) > SPARSE_SHARE * T.size:
        return T.T @ M @ T
    Ts = sparse.csr_array(T)
    left = np.asarray(Ts.T @ M)  # T' M
    return np.asarray(Ts.T @ left.T).T


def expansion(T: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``T A T'``, through a sparse ``T`` when it is mostly zeros."""
    if np.count_nonzero(T) > SPARSE_SHARE * T.size:
        return T @ A @ T.T
    Ts = sparse.csr_array(T)
    left = np.asarray(Ts @ A)  # T A
    return np.asarray(Ts @ left.T).T


def constrained_inverse(M: np.ndarray, T: np.ndarray) -> np.ndarray:
    """``T (T' M T)^-1 T'``: the inverse of ``M`` on the span of ``T``."""
    inv = np.linalg.inv(congruence(T, M))
    out = expansion(T, inv)
    return (out + out.T) / 2


def moment_jacobian(
    model: Model, values: np.ndarray, g: int, meanstructure: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Delta (moments x q) and the implied covariance of group g."""
    sigma, _, d_sigma, d_mu = model.jacobian(values, g)
    r, c = vech_indices(model.p)
    delta = d_sigma[:, r, c].T
    if meanstructure:
        delta = np.vstack([d_mu.T, delta])
    return delta, sigma


def fixed_x_variables(model: Model) -> tuple[int, ...]:
    """Positions among the observed variables of the ``fixed.x`` covariates (the
    variables of the table's rows with ``exo`` 1)."""
    params = model.pt.cols
    fixed = set(params["lhs"][params["exo"] > 0].tolist())
    return tuple(k for k, v in enumerate(model.ov) if v in fixed)


def fixed_x_moments(model: Model) -> np.ndarray:
    """Which moments ``(mean, vech(cov))`` (means only with a mean structure) are those of
    the ``fixed.x`` covariates alone: their means, variances and covariances, which the
    model copies from the sample (the rows of the table with ``exo`` 1).

    lavaan conditions on these covariates: their rows and columns of the weight matrix,
    of ``Gamma`` and of the unrestricted model's information are zero, and they do not
    count among the moments.

    Examples
    --------
    >>> from semnet.matrices.ram import Model
    >>> from semnet.partable.build import partable
    >>> fixed_x_moments(Model(partable("y ~ x1 + x2"))).astype(int).tolist()
    [0, 0, 0, 1, 1, 1]
    """
    x = np.zeros(model.p, dtype=bool)
    x[list(fixed_x_variables(model))] = True
    r, c = vech_indices(model.p)
    mask = x[r] & x[c]
    if model.meanstructure:
        mask = np.concatenate([x, mask])
    return mask


def without_moments(M: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``M`` (moments x moments) with the rows and columns of ``mask`` set to zero."""
    if not mask.any():
        return M
    out = M.copy()
    out[mask, :] = 0.0
    out[:, mask] = 0.0
    return out


def normal_weight(sigma: np.ndarray, meanstructure: bool) -> np.ndarray:
    """Normal-theory weight matrix of (mean, vech(cov)): blockdiag(S^-1, 0.5 D'(S^-1 x S^-1)D)."""
    p = sigma.shape[0]
    inv = np.linalg.inv(sigma)
    r, c = vech_indices(p)
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


def adf_gamma(
    mom: GroupMoments, meanstructure: bool, x: Sequence[int] = ()
) -> np.ndarray:
    """Asymptotic covariance of (mean, vech(cov)) with divisor N (lavaan's Gamma).

    With ``x`` (positions of ``fixed.x`` covariates) it is lavaan's Gamma conditional
    on them: the moments of each case less those of its values predicted from the
    covariates (least squares with an intercept; the covariates predict themselves),
    so that the rows and columns of the covariates' own moments are zero.  Those
    differences are a linear map of the case's moments, ``M = I - K(L)`` with ``L`` the
    prediction matrix of the centred values; ``Gamma_x = M Gamma M'``.

    Examples
    --------
    >>> import numpy as np
    >>> from semnet.data.moments import GroupMoments, vech_indices
    >>> y = np.random.default_rng(1).normal(size=(50, 3))
    >>> c = y - y.mean(axis=0)
    >>> mom = GroupMoments("", ("a", "b", "c"), c.T @ c / 50, y.mean(axis=0), 50, data=y)
    >>> g = adf_gamma(mom, False, x=(1, 2))
    >>> bool(np.allclose(g[3:, :], 0))
    True
    """
    if mom.gamma is not None:
        gamma = mom.gamma if meanstructure else mom.gamma[mom.mean.size :, mom.mean.size :]
    elif mom.data is None:
        gamma = mom.cross.gamma(meanstructure)
    else:
        d = mom.data - mom.mean
        r, c = vech_indices(len(mom.names))
        u = d[:, r] * d[:, c]
        if meanstructure:
            u = np.hstack([d, u])
        gamma = design_outer(u - _case_mean(u, mom.weights), mom)
    if len(x) == 0:
        return gamma
    M = _conditional_map(mom.cov, list(x), meanstructure)
    return M @ gamma @ M.T


def _case_mean(u: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    return u.mean(axis=0) if weights is None else weights @ u / weights.sum()


def design_outer(u: np.ndarray, mom: GroupMoments, weigh: bool = True) -> np.ndarray:
    """``(1/N) sum_i z_i z_i'`` of the cases' rows ``u`` (centred scores or moments):
    ``z_i = w_i u_i`` with sampling weights (``weigh=False``: ``u`` is weighted
    already, as the discrepancies' casewise scores are), summed within clusters with clusters (times
    ``C / (C - 1)`` for ``C`` clusters), and ``N`` the group's size (the sum of its
    weights), as lavaan's first-order information and Gamma of weighted and clustered
    data.

    Examples
    --------
    >>> import numpy as np
    >>> from semnet.data.moments import GroupMoments
    >>> y = np.random.default_rng(1).normal(size=(40, 2))
    >>> mom = GroupMoments("", ("a", "b"), np.cov(y.T, bias=True), y.mean(axis=0), 40, data=y)
    >>> bool(np.allclose(design_outer(y, mom), y.T @ y / 40))
    True
    """
    if weigh and mom.weights is not None:
        u = u * mom.weights[:, None]
    if mom.clusters is None:
        return u.T @ u / mom.size
    n_c = int(mom.clusters.max()) + 1
    sums = np.zeros((n_c, u.shape[1]))
    np.add.at(sums, mom.clusters, u)
    sums = sums[np.bincount(mom.clusters, minlength=n_c) > 0]
    n_c = sums.shape[0]
    return sums.T @ sums / mom.size * (n_c / (n_c - 1))


def _conditional_map(S: np.ndarray, x: list[int], meanstructure: bool) -> np.ndarray:
    """``I - K``: the map from a case's moments ``(d, vech(d d'))`` to those less the
    moments of its prediction ``L d`` from the covariates ``x``."""
    p = S.shape[0]
    y = [k for k in range(p) if k not in x]
    L = np.zeros((p, p))
    L[np.ix_(y, x)] = np.linalg.solve(S[np.ix_(x, x)], S[np.ix_(x, y)]).T
    L[x, x] = 1.0
    r, c = vech_indices(p)
    # vech(L d d' L') in terms of vech(d d'): an off-diagonal cell counts both ways
    K = L[np.ix_(r, r)] * L[np.ix_(c, c)] + L[np.ix_(r, c)] * L[np.ix_(c, r)]
    K[:, r == c] /= 2.0
    if meanstructure:
        K = block_diag(L, K)
    return np.eye(K.shape[0]) - K
