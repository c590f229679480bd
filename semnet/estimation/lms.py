"""Latent moderated structural equations (LMS; Klein & Moosbrugger, 2000).

A model with latent product terms ``y ~ x + z + x:z`` is not normal, but it is a *mixture*
of normal models.  semnet writes it in the RAM form of :mod:`semnet.matrices.ram`::

    v = A v + m + e + sum_p omega_p * v_{a_p} v_{b_p} * e_{k_p},   e ~ N(0, S)

(``omega_p`` the coefficient of product ``p``, ``k_p`` its outcome) and conditions on
the error terms of a set ``Z`` of exogenous latent variables that holds one factor of
every product (for a single interaction ``Z = {x}``: a one-dimensional integral).  With
``L = chol(S_ZZ)`` and ``e_Z = L u``, ``u ~ N(0, I)``::

    e | u ~ N(C u, S_c),   C = S[:, Z] L^-T,   S_c = S - C C'

so at a node ``u`` the moderator ``v_a = m_a + (C u)_a`` is known, every product
``omega v_a v_b`` is an ordinary path ``k <- b`` with coefficient ``omega v_a``, and the
observed variables are normal with the RAM moments of the node matrices
``A_u = A + sum_p omega_p v_{a_p}(u) E_{k_p b_p}``, ``m_u = m + C u``, ``S_c``.  The
log-likelihood is approximated by quadrature over ``u``::

    log L = sum_i log sum_j w_j phi(y_i; mu_j, Sigma_j)

Each evaluation is one pass over the data (BLAS products over all cases and nodes) with
a log-sum-exp over the nodes.

Quadrature.  Klein & Moosbrugger use Gauss–Hermite (GH) nodes (``quadrature="gh"``, 16–32
per dimension; modsem's fixed rule has 24).  But the integrand of a case is sharply
peaked in ``u`` when the moderator is measured reliably: its width is the posterior SD
of ``u`` given the case's data (about 0.23 for three indicators of reliability 0.85),
while 24 GH nodes are about 0.5 apart near the centre.  On modsem's ``oneInt`` data the
24-node GH log-likelihood is off by 0.5 and ``X ~~ X`` by a third of its SE.  semnet's
default therefore is the trapezoidal rule on an equally spaced grid over ``[-6, 6]``
(weights proportional to the normal density, normalized), which converges geometrically
for such smooth integrands (relative error ``~ exp(-2 pi^2 sd^2 / h^2)``); the spacing
``h`` is set to the smallest posterior SD / 1.5 (from the linear model, re-checked at the
LMS estimates: 1% quantile over cases), typically 50–100 nodes for one dimension.  Several
integrated variables use a grid pruned to the ball of radius 6 (at most
:data:`MAX_NODES` points).

Gradient: with the posterior node probabilities ``P_ij`` the score is
``sum_j <W_j, dSigma_j> + <w_j, dmu_j>`` where ``W_j = (Sigma^-1 S_j Sigma^-1 -
N_j Sigma^-1) / 2`` and ``w_j = Sigma^-1 sum_i P_ij (y_i - mu_j)`` are node-weighted
moments of the data.  It is propagated analytically (reverse mode) through the RAM
formulas to ``A_u, m_u, S_c``, from there to ``A, S, m, omega`` (the Cholesky factor
``L`` by its exact differential) and to the free parameters.  The optimizer is BFGS from
the estimates of the model without products (and ``omega = 0``), polished by Newton steps
with the observed information; standard errors come from the observed information
(central differences of the analytic gradient), as modsem's default.

Standardized product coefficients (Wen, Marsh & Hau, 2010):
``omega * sd(a) * sd(b) / sd(y)``, with every standard deviation taken from the
*model-implied* moments of the nonlinear model — i.e. ``var(y)`` includes the
interaction's contribution ``omega^2 (var(a) var(b) + cov(a, b)^2)`` — computed exactly
by the same quadrature (the moments are polynomials of low degree in ``u``).

Several groups: the model has one parameter table over groups (the linear part built
by :func:`semnet.partable.partable` with ``group_equal``/``group_partial``, one product
row per group appended), one LMS likelihood per group, summed; cross-group equalities
(labels, ``group_equal``, also on product coefficients) are the linear
reparametrization ``theta = x0 + K z`` of
:class:`~semnet.estimation.constraints.LinearConstraints`, so the gradient is ``K'``
times the summed group gradients and the standard errors come from the observed
information in ``z``.

Limits of this version: products of latent variables where at least one factor of each
product is an exogenous latent variable; labels on product terms are shown and tie
parameters but cannot appear in ``:=``/``==`` lines; listwise deletion only (with
FIML, use product indicators).

References
----------
Klein, A., & Moosbrugger, H. (2000). Maximum likelihood estimation of latent interaction
effects with the LMS method. *Psychometrika*, 65(4), 457–474.
Wen, Z., Marsh, H. W., & Hau, K.-T. (2010). Structural equation models of latent
interactions: An appropriate standardized solution and its scale-free properties.
*Structural Equation Modeling*, 17(1), 1–22.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize as sopt
from scipy import special, stats
from threadpoolctl import threadpool_limits

from semnet.data.moments import GroupMoments, group_labels, moments_from_frame, validate_frame
from semnet.errors import ModelSpecificationError, OptionError, SemnetError
from semnet.estimation.constraints import LinearConstraints, linear_constraints
from semnet.estimation.ml import MLDiscrepancy
from semnet.estimation.optimize import minimize
from semnet.estimation.start import start_values
from semnet.matrices.ram import Model
from semnet.partable.build import ABSENT, ParTable, modifier_for_group, partable
from semnet.pipeline.specify import read_model
from semnet.results.estimates import FittedRows, implied_frames, parameter_se
from semnet.syntax import Modifiers, ParsedModel, Relation, parse_expression, parse_model

__all__ = [
    "LMSLikelihood",
    "LMSResult",
    "ProductTerm",
    "gauss_hermite",
    "lms",
    "quadrature_grid",
    "split_products",
    "trapezoid",
]

_LOG2PI = float(np.log(2.0 * np.pi))


# -- model syntax ------------------------------------------------------------------------
@dataclass(frozen=True)
class ProductTerm:
    """A product term ``outcome ~ [modifiers*]a:b`` of the model syntax.

    ``relation`` is the syntax term itself: its modifiers (fixed value, start value,
    label; one per group or one for all, as any term's) apply to the product's
    coefficient.
    """

    outcome: str
    a: str
    b: str
    relation: Relation

    @property
    def rhs(self) -> str:
        return f"{self.a}:{self.b}"

    @property
    def line(self) -> int:
        return self.relation.line

    @property
    def modifiers(self) -> Modifiers:
        return self.relation.modifiers


def split_products(parsed: ParsedModel) -> tuple[ParsedModel, tuple[ProductTerm, ...]]:
    """Remove the product terms ``y ~ a:b`` from a parsed model.

    Returns the linear model and the product terms.  An outcome that appears only in
    product terms keeps a regression ``y ~ 0*a`` so that it stays endogenous (not an
    exogenous latent variable that would covary with the factors).
    """
    linear: list[Relation] = []
    products: list[ProductTerm] = []
    for r in parsed.relations:
        if ":" not in r.rhs:
            linear.append(r)
            continue
        if r.op != "~":
            raise ModelSpecificationError(
                f"line {r.line}: the product '{r.rhs}' may only appear on the right of a "
                f"regression ('y ~ {r.rhs}'), not with '{r.op}'."
            )
        if r.block is not None:
            raise ModelSpecificationError(
                f"line {r.line}: product terms in group blocks are not supported by LMS yet."
            )
        parts = r.rhs.split(":")
        if len(parts) != 2 or not all(parts):
            raise ModelSpecificationError(
                f"line {r.line}: '{r.rhs}' is not a product of two variables; LMS handles "
                "two-way products 'a:b' (no three-way products)."
            )
        m = r.modifiers
        if m.lower is not None or m.upper is not None:
            raise ModelSpecificationError(
                f"line {r.line}: bounds on the product term '{r.rhs}' are not supported."
            )
        term = ProductTerm(r.lhs, parts[0], parts[1], r)
        key = (term.outcome, frozenset((term.a, term.b)))
        if any((p.outcome, frozenset((p.a, p.b))) == key for p in products):
            raise ModelSpecificationError(
                f"line {r.line}: the product '{r.rhs}' appears twice in the equation of "
                f"{r.lhs!r}; keep one."
            )
        products.append(term)
    outcomes_with_paths = {r.lhs for r in linear if r.op == "~"}
    for p in products:
        if p.outcome not in outcomes_with_paths:
            linear.append(Relation(p.outcome, "~", p.a, _zero_modifier(), None, p.line, 0))
            outcomes_with_paths.add(p.outcome)
    labels = {lab for p in products for lab in (p.modifiers.label or ()) if lab}
    for c in parsed.constraints:
        used = set(parse_expression(c.rhs, c.line, c.column).names)
        if c.op != ":=":
            used |= set(parse_expression(c.lhs, c.line, c.column).names)
        if used & labels:
            raise ModelSpecificationError(
                f"line {c.line}: '{c.lhs} {c.op} {c.rhs}' uses the label of a product term; "
                "constraints and defined parameters on product coefficients are not "
                "supported by LMS yet."
            )
    return dataclasses.replace(parsed, relations=tuple(linear)), tuple(products)


def _zero_modifier() -> Modifiers:
    return Modifiers(fixed=(0.0,))


# -- the likelihood ----------------------------------------------------------------------
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
class _Product:
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
        products: list[_Product],
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
            linv = M.T
            k = len(Z)
            for r in range(k):
                for s in range(r + 1):
                    dS = np.zeros((k, k))
                    dS[r, s] = dS[s, r] = 1.0
                    X = linv @ dS @ linv.T
                    phi = np.tril(X)
                    phi[np.diag_indices(k)] *= 0.5
                    dL = L @ phi
                    dM = -M @ dL.T @ M
                    g_extra[(Z[r], Z[s])] = float(np.sum(gM * dM))
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


# -- result ------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class LMSResult(FittedRows):
    """A model with latent interactions fitted by LMS.  Immutable.

    It quacks like :class:`semnet.results.fit.Fit` where :func:`semnet.simple_slopes` and
    :func:`semnet.johnson_neyman` need it: ``partable`` is the linear parameter table with
    one ``~`` row per product term and group appended to its parameter rows (``rhs``
    ``"x:z"``, ``free`` numbered after the linear parameters), ``values`` one value per
    row of ``partable.params``, ``x`` the free parameters and ``vcov_free`` their
    covariance matrix (same numbering as the ``free`` column), ``model`` the RAM model of
    the linear part (its row indices are those of the first rows of ``partable.params``).
    Its group facts and its estimates table are :class:`~semnet.results.fit.Fit`'s
    (:class:`~semnet.results.estimates.FittedRows`).

    Attributes
    ----------
    loglik, aic, bic : float
        Summed over groups for a multi-group fit.
    h0_loglik : float
        Log-likelihood of the same model without the product terms (normal ML).
    converged : bool
    iterations : int
    nobs : dict
        Cases per group.
    quadrature : str
        ``"trapezoid"`` or ``"gh"``; ``nodes`` the number of quadrature points in all,
        ``spacing`` the trapezoidal spacing, ``dimensions`` the integrated latent
        variables.
    implied_covs, implied_means : tuple of ndarray
        Per group, the marginal covariance matrix and mean vector of all variables of
        ``model`` (observed, then latent) under the nonlinear model.
    """

    partable: ParTable
    model: Model
    linear_partable: ParTable
    constraints: LinearConstraints
    x: np.ndarray
    values: np.ndarray
    vcov_free: np.ndarray | None
    loglik: float
    h0_loglik: float
    h0_npar: int
    npar: int
    ntotal: int
    converged: bool
    iterations: int
    message: str
    quadrature: str
    nodes: int
    spacing: float | None
    dimensions: tuple[str, ...]
    std_all: np.ndarray
    std_lv: np.ndarray
    implied_covs: tuple[np.ndarray, ...]
    implied_means: tuple[np.ndarray, ...]
    moments: tuple[GroupMoments, ...] = ()
    warnings: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    #: the estimates have no ``:=`` rows (LMS does not estimate defined parameters)
    _reports_defined = False

    def __post_init__(self) -> None:
        for name in ("x", "values", "vcov_free", "std_all", "std_lv"):
            arr = getattr(self, name)
            if isinstance(arr, np.ndarray):
                arr.setflags(write=False)
        for arr in (*self.implied_covs, *self.implied_means):
            arr.setflags(write=False)

    @property
    def implied_cov(self) -> np.ndarray:
        """The marginal covariance matrix of all variables (single-group fits)."""
        return self._single("implied_covs")

    @property
    def implied_mean(self) -> np.ndarray:
        """The marginal mean vector of all variables (single-group fits)."""
        return self._single("implied_means")

    def _single(self, name: str) -> np.ndarray:
        values = getattr(self, name)
        if len(values) != 1:
            raise SemnetError(
                f"this LMS fit has {len(values)} groups; use {name}[g] for group g "
                "(0-based, in the order of fit.groups)."
            )
        return values[0]

    @property
    def aic(self) -> float:
        return -2.0 * self.loglik + 2.0 * self.npar

    @property
    def bic(self) -> float:
        return -2.0 * self.loglik + self.npar * float(np.log(self.ntotal))

    def lr_test(self) -> pd.Series:
        """Likelihood-ratio test of the product terms against the same model without
        them (fitted by normal ML to the same cases, with the same constraints):
        ``chisq_diff, df_diff, pvalue``."""
        d = 2.0 * (self.loglik - self.h0_loglik)
        df = self.npar - self.h0_npar
        return pd.Series(
            {
                "loglik_h0": self.h0_loglik,
                "loglik_h1": self.loglik,
                "chisq_diff": d,
                "df_diff": df,
                "pvalue": float(stats.chi2.sf(max(d, 0.0), df)) if df > 0 else np.nan,
            }
        )

    def fit_measures(self) -> pd.Series:
        """``npar, ntotal, logl, aic, bic, bic2`` (no chi-square: the model is not normal)."""
        n = self.ntotal
        return pd.Series(
            {
                "npar": self.npar,
                "ntotal": n,
                "logl": self.loglik,
                "aic": self.aic,
                "bic": self.bic,
                "bic2": -2.0 * self.loglik + self.npar * float(np.log((n + 2) / 24)),
            }
        )

    def estimates(self, standardized: bool = True, level: float = 0.95) -> pd.DataFrame:
        """Parameter estimates: ``lhs, op, rhs, group, label, est, se, z, pvalue,
        ci_lower, ci_upper`` (+ ``std_lv, std_all``), one row per parameter; product terms as
        ``y ~ x:z`` rows (one per group) after the linear parameters."""
        se = parameter_se(self.partable.cols["free"], self.vcov_free)
        std = {"std_lv": self.std_lv, "std_all": self.std_all} if standardized else None
        return self._estimates_table(self.values, se, level, standardized=std)

    def plot(self, path: str | Path | None = None, **options: Any) -> str:
        """Path diagram with each product term drawn as a moderation arrow (the SVG text;
        written to ``path`` too when given): :meth:`semnet.Fit.plot`'s options, without
        R² (not computed for LMS)."""
        from semnet.report.diagram import path_diagram, save_diagram

        svg = path_diagram(self.estimates(), **options)
        if path is not None:
            save_diagram(svg, path)
        return svg

    def implied(self) -> dict[str, dict[str, pd.DataFrame | pd.Series]]:
        """Marginal model-implied covariance and means of the observed variables per
        group (the mixture's moments, not normal)."""
        names = list(self.model.ov)
        p = len(names)
        return implied_frames(
            (label, names, cov[:p, :p], mean[:p])
            for label, cov, mean in zip(
                self.groups, self.implied_covs, self.implied_means, strict=True
            )
        )

    def summary(self, standardized: bool = False, fit_measures: bool = True) -> Any:
        """A printable report in the spirit of lavaan's ``summary()``: the likelihood-ratio
        test of the product terms, the log-likelihood and information criteria, and the
        parameter estimates (with ``standardized``, the ``Std.lv`` and ``Std.all``
        columns). See :class:`semnet.report.summary.LMSSummary`."""
        from semnet.report.summary import LMSSummary

        return LMSSummary(self, standardized=standardized, fit_measures=fit_measures)

    def __repr__(self) -> str:
        status = "converged" if self.converged else "NOT converged"
        groups = "" if len(self.moments) <= 1 else f", {len(self.moments)} groups"
        return (
            f"<semnet LMS fit{groups}: {status} after {self.iterations} iterations, "
            f"logl={self.loglik:.3f}, npar={self.npar}, n={self.ntotal}, "
            f"{self.quadrature} quadrature with {self.nodes} points>"
        )


# -- driver ------------------------------------------------------------------------------
def lms(
    model: str | Path | ParsedModel,
    data: pd.DataFrame,
    *,
    group: str | None = None,
    group_equal: Sequence[str] | str = (),
    group_partial: Sequence[str] | str = (),
    quadrature: str = "trapezoid",
    nodes: int | None = None,
    std_lv: bool = False,
    orthogonal: bool = False,
    fixed_x: bool = True,
    missing: str = "listwise",
    max_iter: int = 2000,
    tol: float = 1e-9,
) -> LMSResult:
    """Fit a model with latent product terms (``y ~ x + z + x:z``) by LMS.

    Parameters
    ----------
    model : str, path or ParsedModel
        lavaan syntax (or its parse); product terms ``a:b`` in regressions (``b1*x:z``
        labels, ``0*x:z`` fixed values, ``start(.)`` and per-group ``c(...)*x:z``
        modifiers are honoured), also quadratic terms ``x:x`` and several products.  At
        least one factor of every product must be an exogenous latent variable (it is
        integrated over).
    data : DataFrame
        Raw data (never modified); rows with missing values are dropped (listwise).
    group : str, optional
        Column whose values define groups: one LMS likelihood per group, summed, with
        parameters shared through labels and ``group_equal`` as in :func:`semnet.sem`.
    group_equal, group_partial
        Cross-group equality constraints, as :func:`semnet.sem`; ``"regressions"`` ties
        the product coefficients too (exempt one with ``group_partial="y~x:z"``).
    quadrature : {"trapezoid", "gh"}
        ``"trapezoid"`` (default): equally spaced nodes on ``[-6, 6]`` (standard normal
        units) weighted by the normal density, with the spacing chosen from the data so
        that the narrowest posterior of the integrated variables is resolved (spacing
        ``<= sd / 1.5``; checked again at the estimates and refined if needed) — accurate
        to many digits however reliable the moderator's indicators.  ``"gh"``: the fixed
        Gauss–Hermite rule of Klein & Moosbrugger (2000) with ``nodes`` points per
        dimension (default 24, modsem's ``adaptive.quad = FALSE``); with reliable
        indicators its error can reach a third of a standard error.
    nodes : int, optional
        Points per dimension: Gauss–Hermite order, or the number of trapezoidal nodes
        (which then fixes the spacing).
    std_lv, orthogonal, fixed_x
        As :func:`semnet.sem`.  A mean structure is always modelled (latent means 0,
        observed intercepts free; with equal intercepts across groups the latent means
        of groups 2, 3, ... are free, as lavaan's).
    missing : {"listwise"}
        Incomplete rows are dropped; FIML is not available for LMS (the error raised for
        ``missing="fiml"`` names the alternatives).
    max_iter : int
        Iteration limit of the quasi-Newton phase.
    tol : float
        Convergence tolerance on the Newton decrement of ``-log L / N`` (twice the gain in
        log-likelihood per case that a further Newton step promises).

    Returns
    -------
    LMSResult

    Examples
    --------
    >>> from semnet.estimation.lms import lms
    >>> fit = lms('''X =~ x1 + x2 + x3
    ...              Z =~ z1 + z2 + z3
    ...              Y =~ y1 + y2 + y3
    ...              Y ~ X + Z + X:Z''', one_int)  # doctest: +SKIP
    >>> fit.estimates().query("rhs == 'X:Z'")  # doctest: +SKIP
    """
    # the work is many small matrix products: BLAS threads only add overhead
    with threadpool_limits(limits=1, user_api="blas"):
        return _lms(
            model, data, group, group_equal, group_partial, quadrature, nodes, std_lv,
            orthogonal, fixed_x, missing, max_iter, tol,
        )  # fmt: skip


def _lms(
    model, data, group, group_equal, group_partial, quadrature, nodes, std_lv, orthogonal,
    fixed_x, missing, max_iter, tol,
) -> LMSResult:  # fmt: skip
    t0 = time.perf_counter()
    _check_lms_options(missing, quadrature, nodes)
    terms, pt, labels, moments, group_equal, partial = _linear_table(
        model, data, group, group_equal, group_partial, std_lv, orthogonal, fixed_x
    )
    fit_warnings: list[str] = []

    def warn(msg: str) -> None:
        fit_warnings.append(msg)
        warnings.warn(msg, UserWarning, stacklevel=3)

    dropped = sum(m.n_dropped for m in moments)
    if dropped:
        warn(
            f"{dropped} of {dropped + sum(m.nobs for m in moments)} rows were dropped "
            "because of missing values on model variables (listwise deletion)."
        )
    ram = Model(pt)
    values0 = start_values(pt, moments)
    cons_lin = linear_constraints(pt, ram.nfree, ram.free, values0)
    triples, zvars = _integration_plan(terms, pt, ram)
    ext, products = _product_table(
        pt, terms, triples, ram.nfree, "regressions" in group_equal, partial
    )
    n_omega = ext.nfree - ram.nfree
    ext_ustart = ext.params["ustart"].to_numpy()
    ext_values0 = np.concatenate([values0, ext_ustart[len(values0) :]])
    cons = linear_constraints(ext, ext.nfree, ext.params["free"].to_numpy(), ext_values0)
    if cons.nonlinear:
        raise OptionError("nonlinear or inequality constraints are not supported with LMS yet.")
    dim = len(zvars)

    h0 = _fit_h0(ram, moments, values0, cons_lin)

    spacing = None
    if quadrature == "trapezoid" and nodes is None:
        spacing = _spacing_for(
            min(_linear_posterior_sd(ram, h0.x, values0, zvars, g) for g in range(len(labels)))
        )
    U, w, spacing = quadrature_grid(quadrature, dim, nodes, spacing)

    def likelihoods(grid) -> list[LMSLikelihood]:
        return [
            LMSLikelihood(ram, values0, m.data, prods, grid, g, n_omega)
            for g, (m, prods) in enumerate(zip(moments, products, strict=True))
        ]

    liks = likelihoods((U, w))
    h0_loglik = sum(lk.normal_loglik(h0.x) for lk in liks)
    K = cons.K
    nobs = sum(m.nobs for m in moments)

    def make_fun(lks: list[LMSLikelihood]):
        return _objective(lks, cons, nobs)

    om_free = ext.params["free"].to_numpy()[len(values0) :] > 0
    om_start = np.nan_to_num(ext_ustart[len(values0) :][om_free])
    t = cons.to_z(np.concatenate([h0.x, om_start]))
    t, liks, w, spacing, res = _bfgs_refine(
        make_fun, likelihoods, liks, t, cons, (quadrature, dim, nodes, spacing), max_iter
    )
    iterations = int(res.nit)
    fun = make_fun(liks)

    # Newton polish with the observed information (also used for the standard errors)
    t, H, converged, steps = _newton_polish(fun, t, tol)
    iterations += steps
    message = "converged" if converged else f"did not converge: {res.message}"
    if not converged:
        warn(
            f"LMS did not converge after {iterations} iterations ({res.message}); the "
            "estimates are not trustworthy. Check the model with semnet.sem() without the "
            "product terms, or give start values."
        )

    theta = cons.to_x(t)
    loglik = sum(lk.loglik(theta) for lk in liks)
    vcov = _lms_vcov(H, nobs, K, warn)

    values = _row_values(ext, ram, theta, values0)
    implied = [lk.implied_all(theta) for lk in liks]
    covs = [c for c, _ in implied]
    t_end = time.perf_counter()
    return LMSResult(
        partable=ext,
        model=ram,
        linear_partable=pt,
        constraints=cons,
        x=theta,
        values=values,
        vcov_free=vcov,
        loglik=float(loglik),
        h0_loglik=float(h0_loglik),
        h0_npar=ram.nfree - cons_lin.n_eq,
        npar=ext.nfree - cons.n_eq,
        ntotal=nobs,
        converged=converged,
        iterations=iterations,
        message=message,
        quadrature=quadrature,
        nodes=len(w),
        spacing=spacing,
        dimensions=tuple(ram.variables[i] for i in zvars),
        std_all=_standardize(ext, ram, values, products, covs),
        std_lv=_standardize(ext, ram, values, products, covs, "std_lv"),
        implied_covs=tuple(covs),
        implied_means=tuple(m for _, m in implied),
        moments=tuple(moments),
        warnings=tuple(fit_warnings),
        meta={"timings": {"total": t_end - t0}, "h0_converged": h0.converged},
    )


def _linear_table(model, data, group, group_equal, group_partial, std_lv, orthogonal, fixed_x):
    """The model's product terms, the parameter table of its linear part, the group
    labels and moments (listwise), ``group_equal`` as a tuple and the ``group_partial``
    keys (spaces removed)."""
    parsed = model if isinstance(model, ParsedModel) else parse_model(read_model(model))
    linear, terms = split_products(parsed)
    if not terms:
        raise ModelSpecificationError(
            "the model has no product term 'a:b'; fit it with semnet.sem() instead."
        )
    frame = validate_frame(data, [], group)
    labels = group_labels(frame, group) if group is not None else [""]
    group_equal = (group_equal,) if isinstance(group_equal, str) else tuple(group_equal)
    group_partial = (group_partial,) if isinstance(group_partial, str) else tuple(group_partial)
    product_keys = {f"{t.outcome}~{a}:{b}" for t in terms for a, b in ((t.a, t.b), (t.b, t.a))}
    partial = {"".join(p.split()) for p in group_partial}
    pt = partable(
        linear, groups=labels, meanstructure=True, std_lv=std_lv, orthogonal=orthogonal,
        fixed_x=fixed_x, group_equal=group_equal, group_partial=tuple(partial - product_keys),
    )  # fmt: skip
    frame = validate_frame(data, pt.names.ov, group)
    moments = moments_from_frame(frame, pt.names.ov, group, labels)
    return terms, pt, labels, moments, group_equal, partial


def _fit_h0(ram: Model, moments, values0: np.ndarray, cons_lin: LinearConstraints):
    """H0, the linear model by normal ML (the start values and the likelihood-ratio
    test of the product terms)."""
    disc = MLDiscrepancy(ram, moments, values0)
    x_start = values0[ram.free_rows][np.argsort(ram.free[ram.free_rows])]
    h0 = minimize(disc, cons_lin, x_start)
    if not np.isfinite(h0.f):
        raise SemnetError(
            f"the model without product terms could not be estimated ({h0.message}); "
            "check it with semnet.sem() first."
        )
    return h0


def _objective(lks: list[LMSLikelihood], cons: LinearConstraints, nobs: int):
    """The LMS discrepancy ``-logL / N`` and its gradient in the constrained space, as
    one function of ``t``."""
    K = cons.K

    def fun(t: np.ndarray):
        theta = cons.to_x(t)
        ll, grad = 0.0, np.zeros(theta.size)
        for lk in lks:
            ll_g, g_g = lk.loglik(theta, gradient=True)
            if not np.isfinite(ll_g) or g_g is None:
                return 1e10, np.zeros_like(t)
            ll, grad = ll + ll_g, grad + g_g
        return -ll / nobs, -(K.T @ grad) / nobs

    return fun


def _bfgs_refine(make_fun, likelihoods, liks, t, cons, grid, max_iter):
    """BFGS on the LMS discrepancy from ``t``; with an automatic trapezoidal grid
    (``grid`` = quadrature, dimensions, nodes, spacing), up to two refits on a finer
    grid where the posterior under the interaction model is narrower than under H0.
    Returns the point, the likelihoods, the weights and spacing of the last grid, and
    scipy's result with ``nit`` summed over the runs."""
    quadrature, dim, nodes, spacing = grid
    w = liks[0].w
    iterations = 0
    for _refine in range(3):
        res = sopt.minimize(
            make_fun(liks), t, jac=True, method="BFGS",
            options={"gtol": 1e-8, "maxiter": max_iter},
        )  # fmt: skip
        t = res.x
        iterations += int(res.nit)
        if spacing is None or nodes is not None:
            break
        need = _spacing_for(min(
            float(np.quantile(lk.posterior_sd(cons.to_x(t)).min(axis=1), 0.01)) for lk in liks
        ))  # fmt: skip
        if spacing <= need * 1.2:
            break
        U, w, spacing = quadrature_grid(quadrature, dim, None, need)
        liks = likelihoods((U, w))
    res.nit = iterations
    return t, liks, w, spacing, res


def _check_lms_options(missing: str, quadrature: str, nodes: object) -> None:
    if missing != "listwise":
        raise OptionError(
            f"LMS with missing={missing!r} is not available: semnet's LMS drops incomplete "
            "rows (missing='listwise'). For FIML with a latent interaction use product "
            "indicators, sem(..., missing='fiml', interaction='double_mean'), or impute the "
            "data and fit LMS to each imputed data set."
        )
    if quadrature not in ("trapezoid", "gh"):
        raise OptionError(f"quadrature must be 'trapezoid' or 'gh', not {quadrature!r}.")
    if nodes is not None and (not isinstance(nodes, int | np.integer) or nodes < 3):
        raise OptionError(f"nodes must be an integer >= 3, not {nodes!r}.")


def _newton_polish(fun, t: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """Newton steps with the numerical Hessian of ``fun`` (value, gradient) from ``t``,
    halving a step until it does not raise ``f``.  Returns the point, the Hessian
    there, whether the decrement fell below ``tol``, and the steps taken."""
    converged = False
    f_cur, g_cur = fun(t)
    H = _hessian(fun, t)
    steps = 0
    for _ in range(20):
        try:
            step = np.linalg.solve(H, g_cur)
        except np.linalg.LinAlgError:
            break
        decrement = float(g_cur @ step)
        if not np.isfinite(decrement) or decrement < 0:
            break
        if decrement < tol:
            converged = True
            break
        s = 1.0
        for _ in range(30):
            f_new, g_new = fun(t - s * step)
            if f_new <= f_cur + 1e-12 * max(1.0, abs(f_cur)):
                break
            s *= 0.5
        else:
            break
        t, f_cur, g_cur = t - s * step, f_new, g_new
        steps += 1
    if steps:
        H = _hessian(fun, t)
    return t, H, converged, steps


def _lms_vcov(H: np.ndarray, nobs: int, K: np.ndarray, warn) -> np.ndarray | None:
    """The vcov of the free parameters from the observed information ``H`` (in the
    constrained space); ``None`` (with a warning) where it is not positive definite."""
    try:
        vcov_t = np.linalg.inv(H) / nobs
        if np.any(np.diag(vcov_t) <= 0) or not np.all(np.isfinite(vcov_t)):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        warn(
            "standard errors could not be computed: the observed information matrix is "
            "singular or not positive definite (the model may not be identified)."
        )
        return None
    return K @ vcov_t @ K.T


def _spacing_for(sd: float) -> float:
    """Trapezoidal spacing that resolves a posterior of standard deviation ``sd``
    (relative error ~ exp(-2 pi^2 1.5^2) ~ 1e-19), between 0.02 and 0.4."""
    return float(np.clip(sd / 1.5, 0.02, 0.4))


def _linear_posterior_sd(
    ram: Model, x: np.ndarray, values0: np.ndarray, zvars, group: int = 0
) -> float:
    """Smallest posterior SD of the standardized integrated variables given the observed
    ones, under the linear model at ``x`` (in one group)."""
    values = ram.values(x, values0)
    mats = ram.matrices(values, group)
    S = mats.S
    L = np.linalg.cholesky(S[np.ix_(zvars, zvars)])
    C = S[:, zvars] @ np.linalg.inv(L).T
    G = ram.total_effects(mats)[: ram.p]
    sigma, _ = ram.implied(values, group)
    cov_yu = G @ C
    post = np.eye(len(zvars)) - cov_yu.T @ np.linalg.solve(sigma, cov_yu)
    return float(np.sqrt(max(np.linalg.eigvalsh(post)[0], 1e-8)))


def _hessian(fun, t: np.ndarray) -> np.ndarray:
    """Central-difference Jacobian of the analytic gradient, symmetrized."""
    q = t.size
    H = np.zeros((q, q))
    for i in range(q):
        h = 1e-5 * max(1.0, abs(t[i]))
        e = np.zeros(q)
        e[i] = h
        H[:, i] = (fun(t + e)[1] - fun(t - e)[1]) / (2 * h)
    return (H + H.T) / 2


def _integration_plan(
    terms: tuple[ProductTerm, ...], pt: ParTable, ram: Model
) -> tuple[list[tuple[int, int, int]], list[int]]:
    """RAM indices ``(outcome, integrated factor, other factor)`` of every product term
    and the integrated (conditioning) variables."""
    index = {v: i for i, v in enumerate(ram.variables)}
    lv = set(pt.names.lv)
    values = np.ones(len(pt.params))
    A = ram.matrices(values, 0).A != 0  # structure (every row set to 1)
    reach = A.copy()
    for _ in range(ram.n):
        new = reach | (reach.astype(int) @ reach.astype(int) > 0)
        if (new == reach).all():
            break
        reach = new
    exo_lv = {v for v in lv if not A[index[v]].any()}
    pairs = []
    for term in terms:
        for v in (term.outcome, term.a, term.b):
            if v not in index:
                raise ModelSpecificationError(
                    f"line {term.line}: {v!r} in '{term.outcome} ~ {term.rhs}' is not a "
                    "variable of the model; define it (e.g. with '=~') first."
                )
        k, ia, ib = index[term.outcome], index[term.a], index[term.b]
        if k in (ia, ib) or reach[ia, k] or reach[ib, k]:
            raise ModelSpecificationError(
                f"line {term.line}: {term.outcome!r} affects a factor of its own product "
                f"'{term.rhs}'; LMS needs a recursive model."
            )
        cands = [i for i, v in ((ia, term.a), (ib, term.b)) if v in exo_lv]
        if not cands:
            raise ModelSpecificationError(
                f"line {term.line}: in '{term.outcome} ~ {term.rhs}' neither factor is an "
                "exogenous latent variable; LMS integrates over one factor of each product, "
                "which must be latent and exogenous (for an observed variable define a "
                "single-indicator latent variable with a non-zero fixed residual variance, "
                "e.g. 'X =~ x1' and 'x1 ~~ 0.1*x1')."
            )
        pairs.append((k, ia, ib, cands))
    # the smallest set of integrated variables that holds a factor of every product
    # (fewest quadrature dimensions); ties go to the first factors written
    order = list(dict.fromkeys(i for *_, cands in pairs for i in cands))
    Z: list[int] = []
    for size in range(1, len(order) + 1):
        for subset in itertools.combinations(order, size):
            if all(set(cands) & set(subset) for *_, cands in pairs):
                Z = list(subset)
                break
        if Z:
            break
    if len(Z) > 3:
        raise ModelSpecificationError(
            f"the product terms need {len(Z)} integrated latent variables; LMS with more than "
            "3 dimensions is too slow here — reuse moderators across products."
        )
    triples = [(k, ia, ib) if ia in Z else (k, ib, ia) for k, ia, ib, _ in pairs]
    return triples, Z


def _product_table(
    pt: ParTable,
    terms: tuple[ProductTerm, ...],
    triples: list[tuple[int, int, int]],
    nfree: int,
    tie_regressions: bool,
    partial: set[str],
) -> tuple[ParTable, list[list[_Product]]]:
    """The linear parameter table with one ``~`` row per product term and group appended
    after every parameter row (so the row indices of the linear model do not change),
    and each group's products.

    Modifiers apply per group as for any term (``c(b1, b2)*x:z``); with
    ``tie_regressions`` (``group_equal="regressions"``) the coefficient of a product in
    groups 2, 3, ... takes the label (or plabel) of group 1's, unless it is labelled or
    named in ``partial`` (``"y~x:z"``).  Free product rows are numbered after the
    ``nfree`` linear parameters.
    """
    table = pt.table
    ngroups = pt.ngroups
    next_id = int(table["id"].max()) + 1
    rows: list[dict] = []
    head: dict[int, int] = {}
    for g in range(1, ngroups + 1):
        for i, term in enumerate(terms):
            r, m = term.relation, term.modifiers
            fixed = modifier_for_group(m.fixed, g, ngroups, r, "fixed-value")
            start = modifier_for_group(m.start, g, ngroups, r, "start")
            label = modifier_for_group(m.label, g, ngroups, r, "label")
            is_free = fixed is ABSENT or fixed is None
            ustart = np.nan if is_free else float(fixed)
            if is_free and start is not ABSENT and start is not None:
                ustart = float(start)
            label = "" if label is ABSENT or label is None else label
            keys = {f"{term.outcome}~{term.a}:{term.b}", f"{term.outcome}~{term.b}:{term.a}"}
            if g == 1:
                head[i] = len(rows)
            elif (
                tie_regressions and is_free and rows[head[i]]["free"] and not label
                and not keys & partial
            ):  # fmt: skip
                first = rows[head[i]]
                first["label"] = first["label"] or first["plabel"]  # as lavaan's plabel tie
                label = first["label"]
            rows.append(
                {
                    "id": next_id, "lhs": term.outcome, "op": "~", "rhs": term.rhs, "user": 1,
                    "block": g, "group": g, "free": int(is_free), "ustart": ustart, "exo": 0,
                    "label": label, "plabel": f".p{next_id}.", "lower": -np.inf,
                    "upper": np.inf,
                }
            )  # fmt: skip
            next_id += 1
    extra = pd.DataFrame(rows)
    is_free = extra["free"].to_numpy() > 0
    numbers = np.zeros(len(extra), dtype=int)
    numbers[is_free] = nfree + np.arange(1, is_free.sum() + 1)
    extra["free"] = numbers
    new = pd.concat(
        [table[table["group"] > 0], extra, table[table["group"] <= 0]], ignore_index=True
    )[list(table.columns)]
    ext = ParTable.from_frame(new, pt.names, pt.groups, pt.meanstructure, pt.constraints)
    products: list[list[_Product]] = [[] for _ in range(ngroups)]
    for j, (number, ustart, g) in enumerate(zip(numbers, extra["ustart"], extra["group"],
                                                strict=True)):  # fmt: skip
        k, a, b = triples[j % len(terms)]
        free_index = int(number) - nfree - 1 if number else -1
        products[int(g) - 1].append(_Product(k, a, b, free_index, 0.0 if number else ustart))
    return ext, products


def _row_values(ext: ParTable, ram: Model, theta: np.ndarray, values0: np.ndarray) -> np.ndarray:
    """Values of every parameter row of ``ext``: the linear rows, then the products."""
    linear = ram.values(theta[: ram.nfree], values0)
    prod = ext.params.iloc[len(linear) :]
    free = prod["free"].to_numpy()
    om = np.where(free > 0, theta[np.maximum(free, 1) - 1], prod["ustart"].to_numpy())
    return np.concatenate([linear, om])


def _standardize(
    ext: ParTable,
    ram: Model,
    values: np.ndarray,
    products: list[list[_Product]],
    covs: list[np.ndarray],
    kind: str = "std_all",
) -> np.ndarray:
    """``std_all`` (or ``std_lv``: observed variables unscaled) of every parameter row,
    products last, with SDs from each group's implied moments under the nonlinear model
    (Wen, Marsh & Hau, 2010)."""
    out = np.full(len(values), np.nan)
    group_col = ext.params["group"].to_numpy()
    prod_rows = np.arange(len(values) - sum(len(p) for p in products), len(values))
    for g, cov_all in enumerate(covs):
        c = ram.cells[g]
        sd = np.sqrt(np.clip(np.diag(cov_all), 0, None))
        S = ram.matrices(values, g).S
        rsd = np.sqrt(np.abs(np.diag(S)))
        if kind == "std_lv":
            sd[: ram.p] = 1.0
            rsd[: ram.p] = 1.0
        rows = prod_rows[group_col[prod_rows] == g + 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[c.a_rows] = values[c.a_rows] * sd[c.a_j] / sd[c.a_i]
            diag = c.s_i == c.s_j
            out[c.s_rows] = values[c.s_rows] * np.where(
                diag, 1.0 / (sd[c.s_i] * sd[c.s_j]), 1.0 / (rsd[c.s_i] * rsd[c.s_j])
            )
            out[c.m_rows] = values[c.m_rows] / sd[c.m_i]
            for r, pr in zip(rows, products[g], strict=True):
                out[r] = values[r] * sd[pr.a] * sd[pr.b] / sd[pr.k]
    return out
