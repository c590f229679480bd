"""The LMS likelihood (Klein & Moosbrugger, 2000) as a discrepancy of the registry.

:class:`LMSLikelihood` is one group's log-likelihood of a model with latent product
terms, integrated by quadrature over the integrated latent variables (see
:mod:`semnet.estimation.lms` for the formulas), with its analytic gradient and each
case's score.  :class:`LMSDiscrepancy` sums the groups' likelihoods into the
:class:`~semnet.estimation.discrepancy.Discrepancy` protocol (``-log L / N``, its
gradient, the observed information, the casewise scores), so the registry's standard
errors (:mod:`semnet.inference.plugins`: ``standard`` from the observed information,
``robust_huber_white`` from the casewise scores) apply to it.  :func:`minimize_lms` is
the optimizer the plug-in declares: quasi-Newton (BFGS) steps, re-run on a finer
trapezoidal grid where the posterior at the estimates is narrower than the start
values' model foresaw, then Newton steps with the observed information.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import special

from semnet.data.moments import GroupMoments
from semnet.data.sample import Sample
from semnet.estimation.constraints import LinearConstraints
from semnet.estimation.ml import Evaluation
from semnet.estimation.optimize import OptimizeResult, bfgs, newton_polish
from semnet.matrices.ram import Model
from semnet.partable.build import ParTable

__all__ = [
    "LMSDiscrepancy",
    "LMSLikelihood",
    "LMSModel",
    "ProductIndex",
    "gauss_hermite",
    "linear_posterior_sd",
    "make_lms",
    "minimize_lms",
    "quadrature_grid",
    "spacing_for",
    "trapezoid",
]

_LOG2PI = float(np.log(2.0 * np.pi))


def gauss_hermite(nodes: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``(J, dim)`` and weights ``(J,)`` (summing to 1) for ``E f(u)``, ``u ~
    N(0, I_dim)``: the tensor product of ``nodes``-point Gauss–Hermite rules (probabilists'
    version), with grid points of negligible weight (< 1e-16 of the largest) dropped."""
    if dim == 0:
        return np.zeros((1, 0)), np.ones(1)
    x, w = special.roots_hermitenorm(nodes)
    w = w / w.sum()
    grid = np.array(list(itertools.product(x, repeat=dim)))
    weights = np.prod(np.array(list(itertools.product(w, repeat=dim))), axis=1)
    keep = weights > 1e-16 * weights.max()
    return grid[keep], weights[keep]


def trapezoid(
    spacing: float, dim: int, radius: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Equally spaced nodes ``spacing`` apart in the ball ``|u| <= radius`` with weights
    proportional to the standard normal density (summing to 1).

    The nodes are scaled so that the rule's variance is exactly 1.  For the smooth,
    rapidly decaying integrands of LMS the trapezoidal rule converges
    geometrically: a posterior of ``u`` with standard deviation ``s`` is integrated with
    a relative error of about ``exp(-2 pi^2 s^2 / spacing^2)``.
    """
    if dim == 0:
        return np.zeros((1, 0)), np.ones(1)
    radius = QUAD_RADIUS if radius is None else radius
    half = int(np.ceil(radius / spacing))
    x = spacing * np.arange(-half, half + 1)
    grid = np.array(list(itertools.product(x, repeat=dim)))
    grid = grid[np.sum(grid**2, axis=1) <= radius**2 + 1e-12]
    logw = -0.5 * np.sum(grid**2, axis=1)
    w = np.exp(logw - logw.max())
    w = w / w.sum()
    # the truncated tails leave the variance 1 - O(1e-8): rescale it to exactly 1
    return grid / np.sqrt(w @ grid[:, 0] ** 2), w


#: half-width of the trapezoidal grid (standard normal units): prior mass outside ~2e-9
QUAD_RADIUS = 6.0
#: most trapezoidal nodes in all (the spacing is widened beyond this, with a warning)
MAX_NODES = 2500


def quadrature_grid(
    rule: str, dim: int, nodes: int | None, spacing: float | None
) -> tuple[np.ndarray, np.ndarray, float | None]:
    """Nodes, weights and the trapezoidal spacing (``None`` for Gauss–Hermite)."""
    if rule == "gh":
        return (*gauss_hermite(24 if nodes is None else nodes, dim), None)
    if nodes is not None:
        spacing = 2.0 * QUAD_RADIUS / (nodes - 1)
    h = 0.25 if spacing is None else spacing
    while (
        dim > 1
        and (np.pi * QUAD_RADIUS**2 / h**2 if dim == 2 else 4.19 * QUAD_RADIUS**3 / h**3)
        > MAX_NODES
    ):
        h *= 1.1
    return (*trapezoid(h, dim), h)


@dataclass(frozen=True)
class ProductIndex:
    """A product term ``omega * v_a * v_b`` in the equation of ``v_k``, by RAM variable
    index: ``a`` the integrated (conditioning) factor; ``free`` the 0-based position of
    its coefficient among the free product coefficients, -1 when fixed at ``fixed``."""

    k: int  # outcome index in the RAM variables
    a: int  # conditioning factor (in Z)
    b: int  # other factor
    free: int  # 0-based index into omega free vector, -1 when fixed
    fixed: float


class LMSLikelihood:
    """The LMS log-likelihood of one group and its analytic gradient.

    Parameters are ``theta = (x, omega_free)``: ``x`` the free parameters of the linear
    model (``model.nfree``, before equality constraints, all groups) and the free
    product coefficients (of all groups).

    Parameters
    ----------
    model : Model
        RAM model of the linear part (mean structure required).
    fixed_values : ndarray
        Row values of the linear parameter table (fixed rows are used).
    data : ndarray (N, p)
        Complete cases, columns in ``model.ov`` order.
    products : sequence of (k, a, b, free_index, fixed_value)
        Product terms by RAM variable index; ``a`` must be an exogenous latent variable.
    grid : (nodes (J, k), weights (J,))
        Quadrature rule for ``E f(u)``, ``u ~ N(0, I_k)``, ``k`` the number of integrated
        variables (see :func:`quadrature_grid`).
    group : int
        The group (0-based) whose matrices and data these are.
    n_omega : int, optional
        Free product coefficients in ``theta`` (all groups); default: those of
        ``products``.
    """

    def __init__(
        self,
        model: Model,
        fixed_values: np.ndarray,
        data: np.ndarray,
        products: list[ProductIndex],
        grid: tuple[np.ndarray, np.ndarray],
        group: int = 0,
        n_omega: int | None = None,
    ) -> None:
        self.model = model
        self.fixed_values = fixed_values
        self.data = np.ascontiguousarray(data, dtype=float)
        self.products = list(products)
        self.group = group
        self.n_omega = sum(p.free >= 0 for p in products) if n_omega is None else n_omega
        self.zvars = sorted({p.a for p in products})
        self.U, self.w = grid
        self.logw = np.log(self.w)
        self.nobs, self.p = self.data.shape
        self._ybar = self.data.mean(axis=0)
        self._yc = self.data - self._ybar
        self._yy = (self._yc[:, :, None] * self._yc[:, None, :]).reshape(self.nobs, -1)
        self.nfree = model.nfree
        # free-parameter maps of the RAM cells
        c = model.cells[group]
        free = model.free
        self._a = (free[c.a_rows] > 0, c.a_i, c.a_j, free[c.a_rows] - 1)
        self._s = (free[c.s_rows] > 0, c.s_i, c.s_j, free[c.s_rows] - 1)
        self._m = (free[c.m_rows] > 0, c.m_i, free[c.m_rows] - 1)

    # -- parameters ----------------------------------------------------------------------
    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return theta[: self.nfree], self.omega(theta[self.nfree :])

    def omega(self, omega_free: np.ndarray) -> np.ndarray:
        """The coefficient of every product of this group."""
        return np.array(
            [omega_free[p.free] if p.free >= 0 else p.fixed for p in self.products], dtype=float
        )

    def _nodes(self, x: np.ndarray, om: np.ndarray):
        """Node matrices ``A_j (J,n,n)``, ``m_j (J,n)``, ``S_c``, ``C``, ``L``, ``M = L^-T``,
        ``S``."""
        values = self.model.values(x, self.fixed_values)
        mats = self.model.matrices(values, self.group)
        A, S, m = mats.A, mats.S, mats.m
        Z = self.zvars
        k = len(Z)
        if k:
            L = np.linalg.cholesky(S[np.ix_(Z, Z)])
            M = np.linalg.inv(L).T
            C = S[:, Z] @ M
        else:
            L = M = np.zeros((0, 0))
            C = np.zeros((self.model.n, 0))
        S_c = S - C @ C.T
        m_j = m[None, :] + self.U @ C.T  # (J, n)
        A_j = np.repeat(A[None], len(self.w), axis=0)
        for om_p, pr in zip(om, self.products, strict=True):
            A_j[:, pr.k, pr.b] += om_p * m_j[:, pr.a]
        return A_j, m_j, S_c, C, L, M, S

    def node_moments(self, theta: np.ndarray):
        """Per-node implied observed moments ``(mu (J,p), Sigma (J,p,p))``."""
        x, om = self.split(theta)
        A_j, m_j, S_c, *_ = self._nodes(x, om)
        B = np.linalg.inv(np.eye(self.model.n)[None] - A_j)
        G = B[:, : self.p, :]
        sigma = G @ S_c @ G.transpose(0, 2, 1)
        mu = np.einsum("jpn,jn->jp", G, m_j)
        return mu, (sigma + sigma.transpose(0, 2, 1)) / 2

    def implied_all(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Marginal covariance and mean of all RAM variables (observed, then latent)
        under the nonlinear model, integrated over the quadrature nodes."""
        x, om = self.split(theta)
        A_j, m_j, S_c, *_ = self._nodes(x, om)
        B = np.linalg.inv(np.eye(self.model.n)[None] - A_j)
        means = np.einsum("jab,jb->ja", B, m_j)
        covs = B @ S_c @ B.transpose(0, 2, 1)
        mean = self.w @ means
        second = np.einsum("j,jab->ab", self.w, covs) + np.einsum(
            "j,ja,jb->ab", self.w, means, means
        )
        cov = second - np.outer(mean, mean)
        return (cov + cov.T) / 2, mean

    def posterior_sd(self, theta: np.ndarray) -> np.ndarray:
        """Posterior standard deviation of each integrated ``u`` for every case
        ``(N, k)``, from the posterior node probabilities."""
        P = self._posterior(theta)
        m1 = P @ self.U
        m2 = P @ self.U**2
        return np.sqrt(np.clip(m2 - m1**2, 0, None))

    def _posterior(self, theta: np.ndarray) -> np.ndarray:
        mu, sigma = self.node_moments(theta)
        chol = np.linalg.cholesky(sigma)
        logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        R = self.data[None, :, :] - mu[:, None, :]
        Q = np.linalg.solve(chol[:, None, :, :], R[..., None])[..., 0]
        lw = self.logw[:, None] - 0.5 * (logdet[:, None] + np.sum(Q**2, axis=2))
        lw = lw - lw.max(axis=0)
        P = np.exp(lw)
        return (P / P.sum(axis=0)).T

    def normal_loglik(self, x: np.ndarray) -> float:
        """Exact log-likelihood of the linear model (all product coefficients 0)."""
        values = self.model.values(x, self.fixed_values)
        sigma, mu = self.model.implied(values, self.group)
        sign, logdet = np.linalg.slogdet(sigma)
        if sign <= 0:
            return -np.inf
        R = self.data - mu
        quad = np.sum(R * np.linalg.solve(sigma, R.T).T)
        return float(-0.5 * (self.nobs * (self.p * _LOG2PI + logdet) + quad))

    # -- likelihood ----------------------------------------------------------------------
    def loglik(self, theta: np.ndarray, gradient: bool = False):
        """Log-likelihood (with its constant), and its gradient when asked."""
        x, om = self.split(theta)
        try:
            A_j, m_j, S_c, C, L, M, S = self._nodes(x, om)
            B = np.linalg.inv(np.eye(self.model.n)[None] - A_j)
        except np.linalg.LinAlgError:
            return (-np.inf, None) if gradient else -np.inf
        G = B[:, : self.p, :]
        sigma = G @ S_c @ G.transpose(0, 2, 1)
        sigma = (sigma + sigma.transpose(0, 2, 1)) / 2
        mu = np.einsum("jpn,jn->jp", G, m_j)
        try:
            chol = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return (-np.inf, None) if gradient else -np.inf
        diag = np.diagonal(chol, axis1=1, axis2=2)
        if not np.all(np.isfinite(chol)) or np.any(diag <= 0):
            return (-np.inf, None) if gradient else -np.inf
        logdet = 2.0 * np.log(diag).sum(axis=1)  # (J,)
        linv = np.linalg.inv(chol)  # (J,p,p)
        inv = linv.transpose(0, 2, 1) @ linv
        J, p = len(self.w), self.p
        # (y - mu)' Sigma^-1 (y - mu) by BLAS products over all cases and nodes, with
        # the data centred at their sample mean (so no cancellation)
        d = mu - self._ybar  # (J,p)
        inv_d = np.einsum("jpq,jq->jp", inv, d)
        quad = (
            self._yy @ inv.reshape(J, p * p).T
            - 2.0 * (self._yc @ inv_d.T)
            + np.einsum("jp,jp->j", d, inv_d)[None, :]
        )  # (N,J)
        lw = self.logw[None, :] - 0.5 * (p * _LOG2PI + logdet[None, :] + quad)
        top = lw.max(axis=1)
        li = top + np.log(np.exp(lw - top[:, None]).sum(axis=1))  # (N,)
        ll = float(li.sum())
        if not gradient:
            return ll
        if not np.isfinite(ll):
            return -np.inf, None
        P = np.exp(lw - li[:, None]).T  # posterior node probabilities (J,N)
        nj = P.sum(axis=1)
        py = P @ self._yc  # (J,p)
        pyy = (P @ self._yy).reshape(J, p, p)
        s1 = py - nj[:, None] * d
        s2 = (
            pyy
            - py[:, :, None] * d[:, None, :]
            - d[:, :, None] * py[:, None, :]
            + nj[:, None, None] * d[:, :, None] * d[:, None, :]
        )
        W = 0.5 * (inv @ s2 @ inv - nj[:, None, None] * inv)
        wv = np.einsum("jpq,jq->jp", inv, s1)
        return ll, self._backprop(B, G, W, wv, A_j, m_j, S_c, C, L, M, S, om)

    def _backprop(self, B, G, W, wv, A_j, m_j, S_c, C, L, M, S, om) -> np.ndarray:
        """Gradient of ``sum_j <W_j, Sigma_j> + <w_j, mu_j>`` w.r.t. theta."""
        bpb = G.transpose(0, 2, 1) @ W @ G  # (J,n,n)
        bu = np.einsum("jpn,jp->jn", G, wv)  # (J,n)
        bm = np.einsum("jab,jb->ja", B, m_j)
        dA_j = 2.0 * bpb @ S_c @ B.transpose(0, 2, 1) + bu[:, :, None] * bm[:, None, :]
        gA = dA_j.sum(axis=0)
        gm_j = bu.copy()
        g_om = np.zeros(len(self.products))
        for i, pr in enumerate(self.products):
            t = dA_j[:, pr.k, pr.b]
            g_om[i] = float(t @ m_j[:, pr.a])
            gm_j[:, pr.a] += om[i] * t
        gm = gm_j.sum(axis=0)
        gSc = bpb.sum(axis=0)
        gS = gSc.copy()  # entries of S treated as independent
        Z = self.zvars
        g_extra = {}
        if Z:
            gC = gm_j.T @ self.U - (gSc + gSc.T) @ C  # (n,k)
            gS[:, Z] += gC @ M.T
            gM = S[:, Z].T @ gC  # (k,k)
            for key, dM in _cholesky_directions(L, M, Z):
                g_extra[key] = float(np.sum(gM * dM))
        gsym = gS + gS.T
        np.fill_diagonal(gsym, np.diag(gS))
        for (i, j), v in g_extra.items():
            gsym[i, j] += v
            if i != j:
                gsym[j, i] += v
        grad = np.zeros(self.nfree + self.n_omega)
        sel, ai, aj, idx = self._a
        np.add.at(grad, idx[sel], gA[ai[sel], aj[sel]])
        sel, si, sj, idx = self._s
        np.add.at(grad, idx[sel], gsym[si[sel], sj[sel]])
        sel, mi, idx = self._m
        np.add.at(grad, idx[sel], gm[mi[sel]])
        for i, pr in enumerate(self.products):
            if pr.free >= 0:
                grad[self.nfree + pr.free] += g_om[i]
        return grad

    # -- casewise scores -----------------------------------------------------------------
    def casewise_scores(self, theta: np.ndarray, chunk: int = 16) -> np.ndarray:
        """Each case's derivatives of its log-likelihood ``(N, theta.size)``.

        A case's score is ``sum_j P_ij (<W_ij, dSigma_j> + <w_ij, dmu_j>)`` with its
        posterior node probabilities ``P_ij``, ``W_ij = (a a' - Sigma_j^-1) / 2`` and
        ``w_ij = a = Sigma_j^-1 (y_i - mu_j)``; the derivatives of every node's moments
        come from the reverse pass of the gradient run once per moment (a batch), ``chunk``
        nodes at a time.
        """
        x, om = self.split(theta)
        A_j, m_j, S_c, C, L, M, S = self._nodes(x, om)
        B = np.linalg.inv(np.eye(self.model.n)[None] - A_j)
        G = B[:, : self.p, :]
        sigma = G @ S_c @ G.transpose(0, 2, 1)
        sigma = (sigma + sigma.transpose(0, 2, 1)) / 2
        mu = np.einsum("jpn,jn->jp", G, m_j)
        inv = np.linalg.inv(sigma)
        P = self._posterior(theta)  # (N, J)
        r, c = np.triu_indices(self.p)
        coef = np.where(r == c, 0.5, 1.0)
        maps = self._scatter()
        out = np.zeros((self.nobs, self.nfree + self.n_omega))
        for start in range(0, len(self.w), chunk):
            s = slice(start, start + chunk)
            jac = self._node_jacobian(B[s], G[s], A_j[s], m_j[s], S_c, C, L, M, S, om,
                                      self.U[s], maps)  # fmt: skip
            a = np.einsum("jpq,njq->njp", inv[s], self.data[:, None, :] - mu[s][None, :, :])
            cov_part = coef * (a[:, :, r] * a[:, :, c] - inv[s][:, r, c][None])
            full = np.concatenate([cov_part, a], axis=2) * P[:, s, None]
            out += full.reshape(self.nobs, -1) @ jac.reshape(-1, out.shape[1])
        return out

    def _scatter(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Matrices that add the derivatives with respect to the cells of ``A`` and of
        (symmetric) ``S`` (flattened), of ``m`` and of the product coefficients into
        those with respect to ``theta``."""
        n, q = self.model.n, self.nfree + self.n_omega
        out = []
        for sel, i, j, idx in (self._a, self._s):
            mat = np.zeros((n * n, q))
            np.add.at(mat, (i[sel] * n + j[sel], idx[sel]), 1.0)
            out.append(mat)
        sel, mi, idx = self._m
        pm = np.zeros((n, q))
        np.add.at(pm, (mi[sel], idx[sel]), 1.0)
        po = np.zeros((len(self.products), q))
        for i, pr in enumerate(self.products):
            if pr.free >= 0:
                po[i, self.nfree + pr.free] = 1.0
        return out[0], out[1], pm, po

    def _node_jacobian(self, B, G, A_j, m_j, S_c, C, L, M, S, om, U, maps) -> np.ndarray:
        """Derivatives of every node's moments with respect to ``theta``, ``(J, D, q)``
        for the ``D`` moments ``vech(Sigma_j)`` (upper triangle, row-wise) then ``mu_j``:
        :meth:`_backprop` per node, with each moment's unit weight as a batch."""
        nodes, n, p = len(B), self.model.n, self.p
        r, c = np.triu_indices(p)
        Gr, Gc = G[:, r, :], G[:, c, :]
        bpb = 0.5 * (Gr[..., :, None] * Gc[..., None, :] + Gc[..., :, None] * Gr[..., None, :])
        bm = np.einsum("jab,jb->ja", B, m_j)
        dA = np.concatenate(
            [2.0 * bpb @ S_c @ B.transpose(0, 2, 1)[:, None],
             G[..., :, None] * bm[:, None, None, :]], axis=1,
        )  # fmt: skip
        D = dA.shape[1]
        gSc = np.concatenate([bpb, np.zeros((nodes, p, n, n))], axis=1)
        gm = np.concatenate([np.zeros((nodes, len(r), n)), G], axis=1)
        g_om = np.zeros((nodes, D, len(self.products)))
        for i, pr in enumerate(self.products):
            t = dA[:, :, pr.k, pr.b]
            g_om[:, :, i] = t * m_j[:, None, pr.a]
            gm[:, :, pr.a] += om[i] * t
        gS = gSc.copy()
        Z = self.zvars
        extra = np.zeros((nodes, D, n, n))
        if Z:
            gC = gm[..., :, None] * U[:, None, None, :] - (gSc + gSc.swapaxes(-1, -2)) @ C
            gS[..., Z] += gC @ M.T
            gM = S[:, Z].T @ gC
            for (zi, zj), dM in _cholesky_directions(L, M, Z):
                v = np.sum(gM * dM, axis=(-2, -1))
                extra[:, :, zi, zj] += v
                if zi != zj:
                    extra[:, :, zj, zi] += v
        gsym = gS + gS.swapaxes(-1, -2)
        diag = np.arange(n)
        gsym[..., diag, diag] = gS[..., diag, diag]
        gsym += extra
        pa, ps, pm, po = maps
        return (
            dA.reshape(nodes, D, n * n) @ pa + gsym.reshape(nodes, D, n * n) @ ps
            + gm @ pm + g_om @ po
        )  # fmt: skip


def _cholesky_directions(L: np.ndarray, M: np.ndarray, Z: list[int]):
    """``((Z_r, Z_s), dM)`` for every entry ``r >= s`` of ``S_ZZ``: the derivative of
    ``M = L^-T`` (``L = chol(S_ZZ)``) in the direction of that (symmetric) entry."""
    k = len(Z)
    linv = M.T
    for r in range(k):
        for s in range(r + 1):
            dS = np.zeros((k, k))
            dS[r, s] = dS[s, r] = 1.0
            X = linv @ dS @ linv.T
            phi = np.tril(X)
            phi[np.diag_indices(k)] *= 0.5
            dL = L @ phi
            yield (Z[r], Z[s]), -M @ dL.T @ M


def spacing_for(sd: float) -> float:
    """Trapezoidal spacing that resolves a posterior of standard deviation ``sd``
    (relative error ~ exp(-2 pi^2 1.5^2) ~ 1e-19), between 0.02 and 0.4."""
    return float(np.clip(sd / 1.5, 0.02, 0.4))


def linear_posterior_sd(ram: Model, values: np.ndarray, zvars: list[int], group: int = 0) -> float:
    """Smallest posterior SD of the standardized integrated variables given the observed
    ones, under the linear model with row values ``values`` (in one group)."""
    mats = ram.matrices(values, group)
    S = mats.S
    L = np.linalg.cholesky(S[np.ix_(zvars, zvars)])
    C = S[:, zvars] @ np.linalg.inv(L).T
    G = ram.total_effects(mats)[: ram.p]
    sigma, _ = ram.implied(values, group)
    cov_yu = G @ C
    post = np.eye(len(zvars)) - cov_yu.T @ np.linalg.solve(sigma, cov_yu)
    return float(np.sqrt(max(np.linalg.eigvalsh(post)[0], 1e-8)))


@dataclass(frozen=True, eq=False)
class LMSModel:
    """A model with latent product terms: the RAM model of its linear part, each group's
    product terms, the quadrature rule and the optimizer's settings.

    It serves the fit's steps as a RAM :class:`~semnet.matrices.ram.Model` does: ``pt``
    (the parameter table with the product rows), ``nfree``, ``free``, ``free_rows``,
    ``p`` and :meth:`values` cover every row, the product coefficients included.

    Attributes
    ----------
    ram : Model
        The linear part (mean structure required); its free parameters come first in
        ``theta``, then the ``n_omega`` free product coefficients.
    products : tuple of tuple of ProductIndex
        Per group.
    n_omega : int
    zvars : tuple of int
        The integrated (exogenous latent) variables, by RAM index.
    quadrature : str
        ``"trapezoid"`` or ``"gh"`` (see :func:`quadrature_grid`).
    nodes : int or None
        Points per dimension, or ``None`` (the trapezoidal spacing is chosen from the data).
    constraints : LinearConstraints or None
        The equality constraints of ``theta`` (labels, ``group_equal``): the numerical
        observed information is taken along the directions they leave free.
    pt : ParTable or None
        The parameter table: the linear part's rows, then one ``~`` row per product term
        and group (``rhs`` ``"a:b"``).
    max_iter, tol : int, float
        Iteration limit of the quasi-Newton phase and the tolerance on the Newton
        decrement (:func:`minimize_lms`).
    """

    ram: Model
    products: tuple[tuple[ProductIndex, ...], ...]
    n_omega: int
    zvars: tuple[int, ...]
    quadrature: str = "trapezoid"
    nodes: int | None = None
    constraints: LinearConstraints | None = None
    pt: ParTable | None = None
    max_iter: int = 2000
    tol: float = 1e-9

    @property
    def nfree(self) -> int:
        """Free parameters in ``theta`` (before equality constraints)."""
        return self.ram.nfree + self.n_omega

    @property
    def p(self) -> int:
        """Observed variables."""
        return self.ram.p

    @property
    def free(self) -> np.ndarray:
        """The free-parameter number of every parameter row of ``pt`` (0: fixed)."""
        return self.pt.cols["free"]

    @property
    def free_rows(self) -> np.ndarray:
        """The free rows of ``pt``, in the order of ``theta``."""
        return np.flatnonzero(self.free > 0)

    def values(self, x: np.ndarray, fixed_values: np.ndarray) -> np.ndarray:
        """Row values of ``pt``: ``fixed_values`` with the free rows (linear, then the
        product coefficients) replaced by ``theta = x``."""
        v = self.ram.values(x[: self.ram.nfree], fixed_values)
        rows = np.arange(self.ram.free.size, v.size)
        free = self.free[rows]
        v[rows[free > 0]] = x[free[free > 0] - 1]
        return v


class LMSDiscrepancy:
    """``-log L / N`` of a model with latent product terms, summed over groups, with the
    members of the :class:`~semnet.estimation.discrepancy.Discrepancy` protocol.

    ``x`` is ``theta``: the linear model's free parameters, then the free product
    coefficients.  ``model`` is the RAM model of the linear part (``lms_model`` the
    whole :class:`LMSModel`); there is no expected information (``evaluate`` returns
    none), so ``observed_information`` (central differences of the analytic gradient)
    gives the standard errors and the optimizer's Newton steps.

    Examples
    --------
    >>> import semnet
    >>> data = semnet.simulate("Y =~ y1 + y2 + y3\\nX =~ x1 + x2 + x3\\nY ~ 0.3*X", 300,
    ...                        seed=1)
    >>> fit = semnet.lms("X =~ x1 + x2 + x3\\nY =~ y1 + y2 + y3\\nY ~ X + X:X", data)
    >>> disc = fit.discrepancy()
    >>> ev = disc.evaluate(fit.x)
    >>> bool(abs(ev.f * disc.ntotal + fit.loglik) < 1e-6), bool(abs(ev.gradient).max() < 1e-6)
    (True, True)
    """

    #: no Hessian from ``evaluate``: Newton steps use :meth:`observed_information`
    newton = False

    def __init__(
        self,
        lms_model: LMSModel,
        moments: tuple[GroupMoments, ...],
        fixed_values: np.ndarray,
        grid: tuple[np.ndarray, np.ndarray, float | None],
    ) -> None:
        self.lms_model = lms_model
        self.model = lms_model.ram
        self.moments = tuple(moments)
        self.fixed_values = fixed_values
        U, w, self.spacing = grid
        self.likelihoods = [
            LMSLikelihood(self.model, fixed_values, m.data, list(prods), (U, w), g,
                          lms_model.n_omega)
            for g, (m, prods) in enumerate(zip(self.moments, lms_model.products, strict=True))
        ]  # fmt: skip
        nobs = np.array([m.nobs for m in self.moments], dtype=float)
        self.ntotal = int(nobs.sum())
        self.weights = nobs / self.ntotal
        self._hessian: tuple[bytes, np.ndarray] | None = None

    @property
    def nodes(self) -> int:
        """Quadrature points in all."""
        return len(self.likelihoods[0].w)

    def loglik(self, x: np.ndarray) -> float:
        """The log-likelihood (with its constant), summed over groups."""
        return sum(lk.loglik(x) for lk in self.likelihoods)

    def evaluate(self, x: np.ndarray, derivatives: bool = True, information: bool = True
                 ) -> Evaluation:  # fmt: skip
        """``-log L / N`` and (with ``derivatives``) its gradient; no information."""
        if not derivatives:
            ll = self.loglik(x)
            return Evaluation(-ll / self.ntotal if np.isfinite(ll) else np.inf,
                              reason="the likelihood is not finite")  # fmt: skip
        ll, grad = 0.0, np.zeros(x.size)
        for lk in self.likelihoods:
            ll_g, g_g = lk.loglik(x, gradient=True)
            if not np.isfinite(ll_g) or g_g is None:
                return Evaluation(np.inf, reason="a node's covariance matrix is not positive "
                                  "definite")  # fmt: skip
            ll, grad = ll + ll_g, grad + g_g
        return Evaluation(-ll / self.ntotal, -grad / self.ntotal)

    def observed_information(self, x: np.ndarray) -> np.ndarray:
        """The Hessian of ``-log L / N`` at ``x``: central differences of the analytic
        gradient (steps ``1e-5 max(1, |z_i|)``), symmetrized; kept for the last ``x``
        (the optimizer's last Newton step and the standard errors share it).

        With equality constraints ``x = x0 + K z`` (``lms_model.constraints``) the
        differences are taken in ``z`` (one pair per free direction, not per parameter)
        and the Hessian ``H_z`` is returned as ``P' H_z P`` with ``P = (K'K)^-1 K'``:
        exact on the span of ``K`` (``K' H K = H_z``), which is all that the Newton steps
        and the standard errors of the constrained model read, and zero across it.
        """
        key = np.asarray(x, dtype=float).tobytes()
        if self._hessian is not None and self._hessian[0] == key:
            return self._hessian[1]
        con = self.lms_model.constraints
        if con is None or con.identity:
            H = self._differences(x, lambda v: v, self._gradient)
        else:
            H = self._differences(con.to_z(x), con.to_x,
                                  lambda v: con.gradient_z(self._gradient(v)))  # fmt: skip
            P = con.K.T / np.sum(con.K**2, axis=0)[:, None]
            H = P.T @ H @ P
        H.setflags(write=False)
        self._hessian = (key, H)
        return H

    @staticmethod
    def _differences(z: np.ndarray, to_x, gradient) -> np.ndarray:
        """Central differences in ``z`` of ``gradient(to_x(z))``, symmetrized."""
        q = z.size
        H = np.zeros((q, q))
        for i in range(q):
            h = 1e-5 * max(1.0, abs(z[i]))
            e = np.zeros(q)
            e[i] = h
            H[:, i] = (gradient(to_x(z + e)) - gradient(to_x(z - e))) / (2 * h)
        return (H + H.T) / 2

    def _gradient(self, x: np.ndarray) -> np.ndarray:
        """The gradient at ``x``, NaN where the likelihood is not finite there."""
        gradient = self.evaluate(x).gradient
        return np.full(x.size, np.nan) if gradient is None else gradient

    def casewise_scores(self, x: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray]:
        """Each case's derivatives of its log-likelihood in group ``g``: the positions
        (every free parameter) and the scores (``N_g`` x positions)."""
        return np.arange(x.size), self.likelihoods[g].casewise_scores(x)

    def refined(self, x: np.ndarray) -> LMSDiscrepancy | None:
        """The discrepancy on a finer trapezoidal grid where the posterior of the
        integrated variables at ``x`` is narrower than the grid resolves (1% quantile of
        the cases' posterior SD; spacing more than 1.2 times what it needs), else
        ``None`` (also for Gauss–Hermite or a fixed number of nodes)."""
        if self.spacing is None or self.lms_model.nodes is not None:
            return None
        need = spacing_for(min(
            float(np.quantile(lk.posterior_sd(x).min(axis=1), 0.01)) for lk in self.likelihoods
        ))  # fmt: skip
        if self.spacing <= need * 1.2:
            return None
        m = self.lms_model
        grid = quadrature_grid(m.quadrature, len(m.zvars), None, need)
        return LMSDiscrepancy(m, self.moments, self.fixed_values, grid)


def make_lms(model: LMSModel, sample: Sample, values: np.ndarray, for_optimizer: bool = False
             ) -> LMSDiscrepancy:  # fmt: skip
    """The LMS discrepancy of ``model`` for ``sample``'s complete cases, fixed rows (and,
    for an automatic trapezoidal grid, the linear model's posterior of the integrated
    variables) from the row values ``values`` of the linear table (the products' rows
    may follow).  The trapezoidal spacing resolves the narrowest posterior SD of the
    groups (:func:`spacing_for`)."""
    ram = model.ram
    values = values[: ram.free.size]
    zvars = list(model.zvars)
    spacing = None
    if model.quadrature == "trapezoid" and model.nodes is None:
        spacing = spacing_for(
            min(linear_posterior_sd(ram, values, zvars, g) for g in range(len(sample.moments)))
        )
    grid = quadrature_grid(model.quadrature, len(zvars), model.nodes, spacing)
    return LMSDiscrepancy(model, sample.moments, values, grid)


def minimize_lms(
    disc: LMSDiscrepancy, con: LinearConstraints, x_start: np.ndarray
) -> tuple[LMSDiscrepancy, OptimizeResult]:
    """The LMS plug-in's optimizer: BFGS from ``x_start`` (gradient tolerance 1e-8, at
    most ``max_iter`` iterations of the model's settings), up to twice more on a finer
    grid where :meth:`LMSDiscrepancy.refined` asks for one, then Newton steps with the
    observed information until the Newton decrement falls below the model's ``tol``.
    Returns the discrepancy on the last grid and the minimum."""
    max_iter, tol = disc.lms_model.max_iter, disc.lms_model.tol
    z = con.to_z(x_start)
    iterations = 0
    for _refine in range(3):
        z, nit, message = bfgs(disc, con, z, gtol=1e-8, max_iter=max_iter)
        iterations += nit
        finer = disc.refined(con.to_x(z))
        if finer is None:
            break
        disc = finer
    z, converged, steps = newton_polish(disc, con, z, tol)
    x = con.to_x(z)
    result = OptimizeResult(
        x, disc.evaluate(x, derivatives=False).f, iterations + steps, converged,
        "converged" if converged else f"did not converge: {message}", "BFGS, then Newton-Raphson",
    )  # fmt: skip
    return disc, result
