"""The alignment loss of Asparouhov & Muthén (2014) for one factor, its gradient, its
minimum over the group factor means and variances, and the delta-method covariance of
the aligned parameters.

The configural estimates of one factor are a ``J x G`` matrix of loadings ``lam0`` and
one of intercepts ``nu0`` (items by groups), from a model with factor mean 0 and
variance 1 in every group.  For group means ``alpha`` and variances ``psi`` the aligned
parameters are ``lam1 = lam0 / sqrt(psi)`` and ``nu1 = nu0 - alpha * lam1``, and the loss
is

    F = sum_j sum_{g<h} w_gh [ f(lam1_jg - lam1_jh) + f(nu1_jg - nu1_jh) ],

with ``f(x) = (x**2 + eps) ** 0.25`` (``eps = 0.01`` as in Mplus) and
``w_gh = sqrt(n_g n_h)``.  With ordinal items, ``nu0`` has one row per threshold
(``K x G``, the thresholds with their sign flipped, see :mod:`semnet.analyses.alignment`)
and ``rows`` names the item (row of ``lam0``) of each: every threshold is a component
of the loss, every loading one, as in Mplus's alignment of categorical items.
The optimizer works on ``theta``: the free group means and the
free log variances (see :class:`Identification`).

Examples
--------
>>> import numpy as np
>>> lam0 = np.array([[0.8, 0.8], [0.7, 0.7], [0.6, 0.6]])
>>> nu0 = np.zeros((3, 2))
>>> value, grad = loss_and_gradient(np.zeros(2), np.ones(2), lam0, nu0, np.ones((2, 2)))
>>> round(value, 4), grad.shape
(1.8974, (4,))
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from scipy import optimize

__all__ = [
    "EPS",
    "Identification",
    "aligned",
    "component_loss",
    "loss_and_gradient",
    "minimize_loss",
    "reported_jacobian",
]

#: the smoothing constant of the component loss (Mplus's value)
EPS = 0.01


def component_loss(x: np.ndarray, eps: float = EPS) -> tuple[np.ndarray, np.ndarray]:
    """``f(x) = (x^2 + eps)^(1/4)`` and its derivative ``f'(x)``, elementwise."""
    s = x * x + eps
    value = np.sqrt(np.sqrt(s))
    return value, 0.5 * x * value / s


def item_rows(lam0: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """The item of each intercept row: ``rows``, or one intercept per item."""
    return np.arange(lam0.shape[0]) if rows is None else rows


def aligned(alpha: np.ndarray, psi: np.ndarray, lam0: np.ndarray, nu0: np.ndarray,
            rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Aligned loadings (``J x G``) and intercepts (``K x G``, the intercept of row
    ``k`` belonging to item ``rows[k]``; default one per item) for group means and
    variances."""
    lam1 = lam0 / np.sqrt(psi)
    return lam1, nu0 - alpha * lam1[item_rows(lam0, rows)]


@functools.lru_cache(maxsize=8)
def _pairs(ngroups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The group pairs ``g < h`` and their incidence matrix (pairs x groups: +1 at g,
    -1 at h), which maps a pair's derivative onto its two groups."""
    first, second = np.triu_indices(ngroups, k=1)
    incidence = np.zeros((first.size, ngroups))
    rows = np.arange(first.size)
    incidence[rows, first] = 1.0
    incidence[rows, second] = -1.0
    for array in (first, second, incidence):
        array.setflags(write=False)  # cached: shared by every call
    return first, second, incidence


def _pair_terms(x: np.ndarray, w: np.ndarray) -> tuple[float, np.ndarray]:
    """``sum_{g<h} w_gh f(x_g - x_h)`` over items, and its derivative w.r.t. ``x``
    (each pair once: half the work of the full ``G x G`` difference array)."""
    first, second, incidence = _pairs(x.shape[1])
    weight = w[first, second]
    value, slope = component_loss(x[:, first] - x[:, second])
    return float((value * weight).sum()), (slope * weight) @ incidence


def loss_and_gradient(alpha: np.ndarray, psi: np.ndarray, lam0: np.ndarray,
                      nu0: np.ndarray, w: np.ndarray, rows: np.ndarray | None = None
                      ) -> tuple[float, np.ndarray]:
    """The loss and its gradient with respect to ``(alpha, log psi)`` (length ``2 G``).

    ``w`` is the ``G x G`` weight matrix (its diagonal is ignored); ``rows`` as in
    :func:`aligned`.
    """
    w = w - np.diag(np.diag(w))
    lam1, nu1 = aligned(alpha, psi, lam0, nu0, rows)
    lam_nu = lam1[item_rows(lam0, rows)]
    f_lam, d_lam = _pair_terms(lam1, w)
    f_nu, d_nu = _pair_terms(nu1, w)
    grad_alpha = -(d_nu * lam_nu).sum(axis=0)
    # d lam1 / d log psi = -lam1 / 2;  d nu1 / d log psi = alpha lam1 / 2
    grad_logpsi = 0.5 * ((alpha * d_nu * lam_nu).sum(axis=0) - (d_lam * lam1).sum(axis=0))
    return f_lam + f_nu, np.concatenate([grad_alpha, grad_logpsi])


@dataclass(frozen=True)
class Identification:
    """Which group means and log variances the optimizer moves.

    The scale is set as in Mplus (and sirt's emulation of it): the variances have
    product 1 (their logs sum to 0), so no group's variance is privileged while the
    loss is minimized; :func:`reported` then rescales the solution so that the reference
    group has variance 1.  With a variance fixed at 1 instead, the loss keeps falling as
    every other group's variance grows, so the minimum can run away.  ``FIXED``: the
    reference group's mean is 0.  ``FREE``: every mean is free.  ``theta`` holds the free
    means, then the log variances of every group but the reference, whose log variance
    is minus the sum of the others.
    """

    method: str
    ngroups: int
    reference: int

    @property
    def others(self) -> np.ndarray:
        return np.delete(np.arange(self.ngroups), self.reference)

    @property
    def size(self) -> int:
        return 2 * self.ngroups - (2 if self.method == "FIXED" else 1)

    def _means(self) -> np.ndarray:
        return self.others if self.method == "FIXED" else np.arange(self.ngroups)

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Group means and variances for ``theta``."""
        means = self._means()
        alpha, logpsi = np.zeros(self.ngroups), np.zeros(self.ngroups)
        alpha[means] = theta[: means.size]
        logpsi[self.others] = theta[means.size :]
        logpsi[self.reference] = -theta[means.size :].sum()
        return alpha, np.exp(logpsi)

    def pack(self, alpha: np.ndarray, psi: np.ndarray) -> np.ndarray:
        """``theta`` for group means and variances, the variances first divided by
        their geometric mean (and, for FIXED, the means shifted to put the reference
        mean at 0)."""
        logpsi = np.log(psi) - np.log(psi).mean()
        if self.method == "FIXED":
            alpha = alpha - alpha[self.reference]
        return np.concatenate([alpha[self._means()], logpsi[self.others]])

    def chain(self, grad: np.ndarray) -> np.ndarray:
        """The gradient w.r.t. ``theta`` from the one w.r.t. ``(alpha, log psi)``."""
        g = self.ngroups
        d_alpha, d_logpsi = grad[:g], grad[g:]
        return np.concatenate([d_alpha[self._means()],
                               d_logpsi[self.others] - d_logpsi[self.reference]])


def theta_gradient(theta: np.ndarray, ident: Identification, lam0: np.ndarray,
                   nu0: np.ndarray, w: np.ndarray, rows: np.ndarray | None = None
                   ) -> tuple[float, np.ndarray]:
    """The loss and its gradient w.r.t. the free parameters ``theta``."""
    alpha, psi = ident.unpack(theta)
    value, grad = loss_and_gradient(alpha, psi, lam0, nu0, w, rows)
    return value, ident.chain(grad)


def _starts(ident: Identification, lam0: np.ndarray, nu0: np.ndarray, count: int,
            rng: np.random.Generator, rows: np.ndarray) -> list[np.ndarray]:
    """Start values: all means 0 and variances 1; medians of the configural loadings
    and intercepts relative to the reference group (as sirt); then random draws."""
    g, ref = ident.ngroups, ident.reference
    ratio = np.median(lam0 / lam0[:, [ref]], axis=0)
    shift = np.median((nu0 - nu0[:, [ref]]) / lam0[rows][:, [ref]], axis=0)
    psi = ratio**2
    starts = [ident.pack(np.zeros(g), np.ones(g)), ident.pack(shift, psi)]
    while len(starts) < count:
        starts.append(ident.pack(rng.normal(shift, 0.5), psi * np.exp(rng.normal(0, 0.3, g))))
    return starts[:count]


#: runs that must reach the best loss (to AGREE_RTOL) before the remaining starts are skipped
AGREE = 3
AGREE_RTOL = 1e-9


def minimize_loss(ident: Identification, lam0: np.ndarray, nu0: np.ndarray,
                  w: np.ndarray, starts: int = 10, seed: int = 1,
                  rows: np.ndarray | None = None) -> tuple[np.ndarray, float, list[float]]:
    """The best of up to ``starts`` BFGS runs: ``theta``, its loss and every run's loss.

    The runs stop early once :data:`AGREE` of them have reached the best loss (to
    :data:`AGREE_RTOL`, relative): further starts would find the same optimum again.
    """
    rng = np.random.default_rng(seed)
    best, best_value, values = None, np.inf, []
    rows = item_rows(lam0, rows)
    for start in _starts(ident, lam0, nu0, max(starts, 1), rng, rows):
        res = optimize.minimize(theta_gradient, start, args=(ident, lam0, nu0, w, rows),
                                jac=True, method="BFGS", options={"gtol": 1e-9, "maxiter": 2000})
        values.append(float(res.fun))
        if res.fun < best_value:
            best, best_value = res.x, float(res.fun)
        reached = np.abs(np.array(values) - best_value) <= AGREE_RTOL * abs(best_value)
        if reached.sum() >= AGREE:
            break
    return best, best_value, values


def _split(eta: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Configural loadings (``J x G``) and intercepts (``K x G``) from ``eta``."""
    nload = shape[0] * shape[1]
    return eta[:nload].reshape(shape), eta[nload:].reshape(-1, shape[1])


def reported(theta: np.ndarray, eta: np.ndarray, ident: Identification, shape: tuple[int, int],
             rows: np.ndarray | None = None) -> np.ndarray:
    """The reported values: group means, variances, aligned loadings and intercepts,
    on the scale where the reference group has variance 1 (and, for FIXED, mean 0).

    ``eta`` stacks the configural loadings (``J x G``, ``shape``) then intercepts
    (``K x G``, ``rows`` as in :func:`aligned`), row-major.
    """
    lam0, nu0 = _split(eta, shape)
    alpha, psi = ident.unpack(theta)
    scale = psi[ident.reference]
    alpha, psi = alpha / np.sqrt(scale), psi / scale
    lam1, nu1 = aligned(alpha, psi, lam0, nu0, rows)
    return np.concatenate([alpha, psi, lam1.ravel(), nu1.ravel()])


def _numeric_jacobian(func, x: np.ndarray) -> np.ndarray:
    """Central differences of a smooth vector function (columns: the inputs)."""
    cols = []
    for k in range(x.size):
        h = 1e-5 * max(1.0, abs(x[k]))
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        cols.append((func(up) - func(down)) / (2 * h))
    return np.column_stack(cols)


def _item_cross_jacobian(theta: np.ndarray, eta: np.ndarray, ident: Identification,
                         shape: tuple[int, int], w: np.ndarray, rows: np.ndarray
                         ) -> np.ndarray:
    """Central differences of the gradient w.r.t. ``theta`` in the configural estimates
    ``eta``. The loss is a sum over items and an item's configural loadings and
    intercepts (or thresholds) enter only its own term, so each column needs only that
    item's gradient (``J`` times less work than the whole loss's)."""
    nitems, ngroups = shape
    lam0, nu0 = _split(eta, shape)
    cross = np.empty((theta.size, eta.size))
    for j in range(nitems):
        own = np.flatnonzero(rows == j)
        item = np.concatenate([lam0[j], nu0[own].ravel()])

        def item_gradient(values: np.ndarray, m: int = own.size) -> np.ndarray:
            return theta_gradient(theta, ident, values[None, :ngroups],
                                  values[ngroups:].reshape(m, ngroups), w,
                                  np.zeros(m, dtype=int))[1]

        block = _numeric_jacobian(item_gradient, item)
        cross[:, j * ngroups : (j + 1) * ngroups] = block[:, :ngroups]
        columns = nitems * ngroups + (own[:, None] * ngroups + np.arange(ngroups)).ravel()
        cross[:, columns] = block[:, ngroups:]
    return cross


def reported_jacobian(theta: np.ndarray, eta: np.ndarray, ident: Identification,
                      shape: tuple[int, int], w: np.ndarray, rows: np.ndarray | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """The Jacobian of the reported values w.r.t. the configural estimates ``eta`` at the
    alignment optimum, and the Hessian of the loss in ``theta``.

    The optimum moves with ``eta`` as ``d theta / d eta = -H^-1 G`` (implicit function
    theorem on the first-order condition), where ``H`` and ``G`` are central differences
    of the analytic gradient w.r.t. ``theta`` and ``eta``.
    """
    lam0, nu0 = _split(eta, shape)
    rows = item_rows(lam0, rows)
    hess = _numeric_jacobian(lambda th: theta_gradient(th, ident, lam0, nu0, w, rows)[1],
                             theta)
    hess = 0.5 * (hess + hess.T)
    cross = _item_cross_jacobian(theta, eta, ident, shape, w, rows)
    dtheta = -np.linalg.solve(hess, cross)
    p_theta = _numeric_jacobian(lambda th: reported(th, eta, ident, shape, rows), theta)
    p_eta = _numeric_jacobian(lambda et: reported(theta, et, ident, shape, rows), eta)
    return p_eta + p_theta @ dtheta, hess
