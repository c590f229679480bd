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

Limits of this version: one group; products of latent variables where at least one
factor of each product is an exogenous latent variable; labels on product terms are
shown but cannot appear in ``:=``/``==`` lines; listwise deletion only.

References
----------
Klein, A., & Moosbrugger, H. (2000). Maximum likelihood estimation of latent interaction
effects with the LMS method. *Psychometrika*, 65(4), 457–474.
Wen, Z., Marsh, H. W., & Hau, K.-T. (2010). Structural equation models of latent
interactions: An appropriate standardized solution and its scale-free properties.
*Structural Equation Modeling*, 17(1), 1–22.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize as sopt
from scipy import special, stats

from semnet.data.moments import GroupMoments, moments_from_frame, validate_frame
from semnet.errors import ModelSpecificationError, OptionError, SemnetError
from semnet.estimation.constraints import LinearConstraints, linear_constraints
from semnet.estimation.ml import MLDiscrepancy
from semnet.estimation.optimize import minimize
from semnet.estimation.start import start_values
from semnet.matrices.ram import Model
from semnet.partable.build import ParTable, partable
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
    """A product term ``outcome ~ [modifier*]a:b`` of the model syntax.

    ``fixed`` is the fixed coefficient (``None`` when free), ``start`` a user start
    value, ``label`` the user label (``""`` for none).
    """

    outcome: str
    a: str
    b: str
    label: str = ""
    fixed: float | None = None
    start: float | None = None
    line: int = 0

    @property
    def rhs(self) -> str:
        return f"{self.a}:{self.b}"


def _single(values: tuple | None, r: Relation, what: str):
    if values is None:
        return None
    if len(values) != 1:
        raise ModelSpecificationError(
            f"line {r.line}: the product term '{r.lhs} ~ {r.rhs}' has one {what} per group; "
            "LMS is single-group in this version of semnet — give a single value."
        )
    return values[0]


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
        fixed = _single(m.fixed, r, "fixed value")
        start = _single(m.start, r, "start value")
        label = _single(m.label, r, "label") or ""
        if m.lower is not None or m.upper is not None:
            raise ModelSpecificationError(
                f"line {r.line}: bounds on the product term '{r.rhs}' are not supported."
            )
        term = ProductTerm(r.lhs, parts[0], parts[1], label, fixed, start, r.line)
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
    labels = {p.label for p in products if p.label}
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
    model (``model.nfree``, before equality constraints) and the free product
    coefficients.

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
    """

    def __init__(
        self,
        model: Model,
        fixed_values: np.ndarray,
        data: np.ndarray,
        products: list[_Product],
        grid: tuple[np.ndarray, np.ndarray],
    ) -> None:
        self.model = model
        self.fixed_values = fixed_values
        self.data = np.ascontiguousarray(data, dtype=float)
        self.products = list(products)
        self.n_omega = sum(p.free >= 0 for p in products)
        self.zvars = sorted({p.a for p in products})
        self.U, self.w = grid
        self.logw = np.log(self.w)
        self.nobs, self.p = self.data.shape
        self._ybar = self.data.mean(axis=0)
        self._yc = self.data - self._ybar
        self._yy = (self._yc[:, :, None] * self._yc[:, None, :]).reshape(self.nobs, -1)
        self.nfree = model.nfree
        # free-parameter maps of the RAM cells
        c = model.cells[0]
        free = model.free
        self._a = (free[c.a_rows] > 0, c.a_i, c.a_j, free[c.a_rows] - 1)
        self._s = (free[c.s_rows] > 0, c.s_i, c.s_j, free[c.s_rows] - 1)
        self._m = (free[c.m_rows] > 0, c.m_i, free[c.m_rows] - 1)

    # -- parameters ----------------------------------------------------------------------
    def split(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return theta[: self.nfree], self.omega(theta[self.nfree :])

    def omega(self, omega_free: np.ndarray) -> np.ndarray:
        return np.array(
            [omega_free[p.free] if p.free >= 0 else p.fixed for p in self.products], dtype=float
        )

    def _nodes(self, x: np.ndarray, om: np.ndarray):
        """Node matrices ``A_j (J,n,n)``, ``m_j (J,n)``, ``S_c``, ``C``, ``L``, ``M = L^-T``,
        ``S``."""
        values = self.model.values(x, self.fixed_values)
        mats = self.model.matrices(values, 0)
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
        sigma, mu = self.model.implied(values, 0)
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
class LMSResult:
    """A model with latent interactions fitted by LMS.  Immutable.

    It quacks like :class:`semnet.results.fit.Fit` where :func:`semnet.simple_slopes` and
    :func:`semnet.johnson_neyman` need it: ``partable`` is the linear parameter table with
    one ``~`` row per product term appended to its parameter rows (``rhs`` ``"x:z"``,
    ``free`` numbered after the linear parameters), ``values`` one value per row of
    ``partable.params``, ``x`` the free parameters and ``vcov_free`` their covariance
    matrix (same numbering as the ``free`` column), ``model`` the RAM model of the linear
    part (its row indices are those of the first rows of ``partable.params``).

    Attributes
    ----------
    loglik, aic, bic : float
    h0_loglik : float
        Log-likelihood of the same model without the product terms (normal ML).
    converged : bool
    iterations : int
    nobs : dict
    quadrature : str
        ``"trapezoid"`` or ``"gh"``; ``nodes`` the number of quadrature points in all,
        ``spacing`` the trapezoidal spacing, ``dimensions`` the integrated latent
        variables.
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
    implied_cov: np.ndarray
    implied_mean: np.ndarray
    moments: tuple[GroupMoments, ...] = ()
    warnings: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("x", "values", "vcov_free", "std_all", "std_lv", "implied_cov",
                     "implied_mean"):  # fmt: skip
            arr = getattr(self, name)
            if isinstance(arr, np.ndarray):
                arr.setflags(write=False)

    @property
    def groups(self) -> list[str]:
        return list(self.partable.groups)

    @property
    def nobs(self) -> dict[str, int]:
        return {self.partable.groups[0]: self.ntotal}

    @property
    def aic(self) -> float:
        return -2.0 * self.loglik + 2.0 * self.npar

    @property
    def bic(self) -> float:
        return -2.0 * self.loglik + self.npar * float(np.log(self.ntotal))

    def lr_test(self) -> pd.Series:
        """Likelihood-ratio test of the product terms against the same model without
        them (fitted by normal ML to the same cases): ``chisq_diff, df_diff, pvalue``."""
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
        ``y ~ x:z`` rows after the linear parameters."""
        params = self.partable.params
        free = params["free"].to_numpy()
        se = np.zeros(len(params))
        if self.vcov_free is None:
            se[free > 0] = np.nan
        else:
            var = np.diag(self.vcov_free)
            se[free > 0] = np.sqrt(np.clip(var[free[free > 0] - 1], 0, None))
        est = self.values
        frame = pd.DataFrame(
            {
                "lhs": params["lhs"].to_numpy(),
                "op": params["op"].to_numpy(),
                "rhs": params["rhs"].to_numpy(),
                "group": pd.array([None] * len(params), dtype=object),
                "label": params["label"].to_numpy(),
                "est": est,
                "se": se,
            }
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where((free > 0) & (se > 0), est / se, np.nan)
        frame["z"] = z
        frame["pvalue"] = 2 * stats.norm.sf(np.abs(z))
        crit = stats.norm.ppf(1 - (1 - level) / 2)
        frame["ci_lower"] = np.where(free > 0, est - crit * se, est)
        frame["ci_upper"] = np.where(free > 0, est + crit * se, est)
        if standardized:
            frame["std_lv"] = self.std_lv
            frame["std_all"] = self.std_all
        return frame

    def implied(self) -> dict[str, dict[str, pd.DataFrame | pd.Series]]:
        """Marginal model-implied covariance and means of the observed variables (the
        mixture's moments, not normal)."""
        names = list(self.model.ov)
        p = len(names)
        return {
            self.partable.groups[0]: {
                "cov": pd.DataFrame(self.implied_cov[:p, :p], index=names, columns=names),
                "mean": pd.Series(self.implied_mean[:p], index=names),
            }
        }

    def __repr__(self) -> str:
        status = "converged" if self.converged else "NOT converged"
        return (
            f"<semnet LMS fit: {status} after {self.iterations} iterations, "
            f"logl={self.loglik:.3f}, npar={self.npar}, n={self.ntotal}, "
            f"{self.quadrature} quadrature with {self.nodes} points>"
        )


# -- driver ------------------------------------------------------------------------------
def lms(
    model: str | Path | ParsedModel,
    data: pd.DataFrame,
    *,
    group: str | None = None,
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
        labels, ``0*x:z`` fixed values and ``start(.)`` are honoured).  At least one
        factor of every product must be an exogenous latent variable (it is integrated
        over).
    data : DataFrame
        Raw data (never modified); rows with missing values are dropped (listwise).
    group : None
        Multi-group LMS is not available yet.
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
        observed intercepts free).
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
    try:
        from threadpoolctl import threadpool_limits

        limit = threadpool_limits(limits=1, user_api="blas")
    except ImportError:  # pragma: no cover - optional
        limit = contextlib.nullcontext()
    with limit:
        return _lms(
            model, data, group, quadrature, nodes, std_lv, orthogonal, fixed_x, missing,
            max_iter, tol,
        )  # fmt: skip


def _lms(
    model, data, group, quadrature, nodes, std_lv, orthogonal, fixed_x, missing, max_iter, tol
) -> LMSResult:
    t0 = time.perf_counter()
    if group is not None:
        raise OptionError(
            "multi-group LMS is not available yet; fit each group separately, or use product "
            "indicators for the multi-group model."
        )
    if missing != "listwise":
        raise OptionError("LMS supports missing='listwise' only in this version of semnet.")
    if quadrature not in ("trapezoid", "gh"):
        raise OptionError(f"quadrature must be 'trapezoid' or 'gh', not {quadrature!r}.")
    if nodes is not None and (not isinstance(nodes, int | np.integer) or nodes < 3):
        raise OptionError(f"nodes must be an integer >= 3, not {nodes!r}.")
    if isinstance(model, ParsedModel):
        parsed = model
    else:
        from semnet.api import read_model  # late import: semnet.api imports this package

        parsed = parse_model(read_model(model))
    linear, terms = split_products(parsed)
    if not terms:
        raise ModelSpecificationError(
            "the model has no product term 'a:b'; fit it with semnet.sem() instead."
        )
    pt = partable(linear, meanstructure=True, std_lv=std_lv, orthogonal=orthogonal, fixed_x=fixed_x)
    names = pt.names.ov
    frame = validate_frame(data, names, None)
    moments = moments_from_frame(frame, names, None, [""])
    fit_warnings: list[str] = []

    def warn(msg: str) -> None:
        fit_warnings.append(msg)
        warnings.warn(msg, UserWarning, stacklevel=3)

    if moments[0].n_dropped:
        warn(
            f"{moments[0].n_dropped} of {moments[0].n_dropped + moments[0].nobs} rows were "
            "dropped because of missing values on model variables (listwise deletion)."
        )
    ram = Model(pt)
    values0 = start_values(pt, moments)
    cons = linear_constraints(pt, ram.nfree, ram.free, values0)
    if cons.nonlinear:
        raise OptionError("nonlinear or inequality constraints are not supported with LMS yet.")
    products, zvars = _resolve_products(terms, pt, ram)
    dim = len(zvars)

    # H0: the linear model by normal ML (start values and the likelihood-ratio test)
    disc = MLDiscrepancy(ram, moments, values0)
    x_start = values0[ram.free_rows][np.argsort(ram.free[ram.free_rows])]
    h0 = minimize(disc, cons, x_start)
    if not np.isfinite(h0.f):
        raise SemnetError(
            f"the model without product terms could not be estimated ({h0.message}); "
            "check it with semnet.sem() first."
        )

    spacing = None
    if quadrature == "trapezoid" and nodes is None:
        spacing = _spacing_for(_linear_posterior_sd(ram, h0.x, values0, zvars))
    U, w, spacing = quadrature_grid(quadrature, dim, nodes, spacing)
    data_ = moments[0].data
    lik = LMSLikelihood(ram, values0, data_, products, (U, w))
    n_omega = lik.n_omega
    n_lin = ram.nfree - cons.n_eq
    h0_loglik = lik.normal_loglik(h0.x)

    K = cons.K
    nz = K.shape[1]
    nobs = lik.nobs

    def to_theta(t: np.ndarray) -> np.ndarray:
        return np.concatenate([cons.to_x(t[:nz]), t[nz:]])

    def make_fun(lk: LMSLikelihood):
        def fun(t: np.ndarray):
            ll, g = lk.loglik(to_theta(t), gradient=True)
            if not np.isfinite(ll) or g is None:
                return 1e10, np.zeros_like(t)
            return -ll / nobs, -np.concatenate([K.T @ g[: ram.nfree], g[ram.nfree :]]) / nobs

        return fun

    om_start = np.zeros(n_omega)
    for term, pr in zip(terms, products, strict=True):
        if pr.free >= 0 and term.start is not None:
            om_start[pr.free] = term.start
    t = np.concatenate([cons.to_z(h0.x), om_start])
    iterations = 0
    for _refine in range(3):
        fun = make_fun(lik)
        res = sopt.minimize(
            fun, t, jac=True, method="BFGS", options={"gtol": 1e-8, "maxiter": max_iter}
        )
        t = res.x
        iterations += int(res.nit)
        if spacing is None or nodes is not None:
            break
        # the posterior under the interaction model can be narrower than under H0
        post = lik.posterior_sd(to_theta(t)).min(axis=1)
        need = _spacing_for(float(np.quantile(post, 0.01)))
        if spacing <= need * 1.2:
            break
        U, w, spacing = quadrature_grid(quadrature, dim, None, need)
        lik = LMSLikelihood(ram, values0, data_, products, (U, w))
    fun = make_fun(lik)

    # Newton polish with the observed information (also used for the standard errors)
    converged = False
    f_cur, g_cur = fun(t)
    H = _hessian(fun, t)
    moved = False
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
        t, f_cur, g_cur, moved = t - s * step, f_new, g_new, True
        iterations += 1
    if moved:
        H = _hessian(fun, t)
    message = "converged" if converged else f"did not converge: {res.message}"
    if not converged:
        warn(
            f"LMS did not converge after {iterations} iterations ({res.message}); the "
            "estimates are not trustworthy. Check the model with semnet.sem() without the "
            "product terms, or give start values."
        )

    theta = to_theta(t)
    loglik = lik.loglik(theta)
    vcov = None
    try:
        vcov_t = np.linalg.inv(H) / nobs
        if np.any(np.diag(vcov_t) <= 0) or not np.all(np.isfinite(vcov_t)):
            raise np.linalg.LinAlgError
        J = np.zeros((ram.nfree + n_omega, nz + n_omega))
        J[: ram.nfree, :nz] = K
        J[ram.nfree :, nz:] = np.eye(n_omega)
        vcov = J @ vcov_t @ J.T
    except np.linalg.LinAlgError:
        warn(
            "standard errors could not be computed: the observed information matrix is "
            "singular or not positive definite (the model may not be identified)."
        )

    ext = _extended_partable(pt, terms, products, ram.nfree)
    x_lin, om = lik.split(theta)
    values = np.concatenate([ram.values(x_lin, values0), om])
    cov_all, mean_all = lik.implied_all(theta)
    std_all = _standardize(ram, values, products, cov_all)
    std_lv = _standardize(ram, values, products, cov_all, "std_lv")
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
        h0_npar=n_lin,
        npar=n_lin + n_omega,
        ntotal=nobs,
        converged=converged,
        iterations=iterations,
        message=message,
        quadrature=quadrature,
        nodes=len(w),
        spacing=spacing,
        dimensions=tuple(ram.variables[i] for i in lik.zvars),
        std_all=std_all,
        std_lv=std_lv,
        implied_cov=cov_all,
        implied_mean=mean_all,
        moments=tuple(moments),
        warnings=tuple(fit_warnings),
        meta={"timings": {"total": t_end - t0}, "h0_converged": h0.converged},
    )


def _spacing_for(sd: float) -> float:
    """Trapezoidal spacing that resolves a posterior of standard deviation ``sd``
    (relative error ~ exp(-2 pi^2 1.5^2) ~ 1e-19), between 0.02 and 0.4."""
    return float(np.clip(sd / 1.5, 0.02, 0.4))


def _linear_posterior_sd(ram: Model, x: np.ndarray, values0: np.ndarray, zvars) -> float:
    """Smallest posterior SD of the standardized integrated variables given the observed
    ones, under the linear model at ``x``."""
    values = ram.values(x, values0)
    mats = ram.matrices(values, 0)
    S = mats.S
    L = np.linalg.cholesky(S[np.ix_(zvars, zvars)])
    C = S[:, zvars] @ np.linalg.inv(L).T
    G = ram.total_effects(mats)[: ram.p]
    sigma, _ = ram.implied(values, 0)
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


def _resolve_products(
    terms: tuple[ProductTerm, ...], pt: ParTable, ram: Model
) -> tuple[list[_Product], list[int]]:
    """RAM indices of the product terms and the integrated (conditioning) variables."""
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
    products: list[_Product] = []
    n_free = 0
    for term, (k, ia, ib, _cands) in zip(terms, pairs, strict=True):
        a, b = (ia, ib) if ia in Z else (ib, ia)
        free, fixed = -1, 0.0
        if term.fixed is None:
            free, n_free = n_free, n_free + 1
        else:
            fixed = float(term.fixed)
        products.append(_Product(k, a, b, free, fixed))
    return products, Z


def _extended_partable(
    pt: ParTable, terms: tuple[ProductTerm, ...], products: list[_Product], nfree: int
) -> ParTable:
    """The linear parameter table with one ``~`` row per product term appended after
    every other row (so the parameter-row indices of the linear model do not change)."""
    table = pt.table
    start_id = int(table["id"].max()) + 1
    rows = []
    for i, (term, pr) in enumerate(zip(terms, products, strict=True)):
        rows.append(
            {
                "id": start_id + i,
                "lhs": term.outcome,
                "op": "~",
                "rhs": term.rhs,
                "user": 1,
                "block": 1,
                "group": 1,
                "free": nfree + pr.free + 1 if pr.free >= 0 else 0,
                "ustart": np.nan if pr.free >= 0 else pr.fixed,
                "exo": 0,
                "label": term.label,
                "plabel": f".p{start_id + i}.",
                "lower": -np.inf,
                "upper": np.inf,
            }
        )
    new = pd.concat([table, pd.DataFrame(rows)], ignore_index=True)[list(table.columns)]
    return ParTable.from_frame(new, pt.names, pt.groups, pt.meanstructure, pt.constraints)


def _standardize(
    ram: Model,
    values: np.ndarray,
    products: list[_Product],
    cov_all: np.ndarray,
    kind: str = "std_all",
) -> np.ndarray:
    """``std_all`` (or ``std_lv``: observed variables unscaled) of every parameter row,
    products last, with SDs from the nonlinear model's implied moments (Wen, Marsh & Hau,
    2010)."""
    c = ram.cells[0]
    sd = np.sqrt(np.clip(np.diag(cov_all), 0, None))
    S = ram.matrices(values, 0).S
    rsd = np.sqrt(np.abs(np.diag(S)))
    if kind == "std_lv":
        sd[: ram.p] = 1.0
        rsd[: ram.p] = 1.0
    n_lin = len(values) - len(products)
    out = np.full(len(values), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[c.a_rows] = values[c.a_rows] * sd[c.a_j] / sd[c.a_i]
        diag = c.s_i == c.s_j
        out[c.s_rows] = values[c.s_rows] * np.where(
            diag, 1.0 / (sd[c.s_i] * sd[c.s_j]), 1.0 / (rsd[c.s_i] * rsd[c.s_j])
        )
        out[c.m_rows] = values[c.m_rows] / sd[c.m_i]
        for i, pr in enumerate(products):
            out[n_lin + i] = values[n_lin + i] * sd[pr.a] * sd[pr.b] / sd[pr.k]
    return out
