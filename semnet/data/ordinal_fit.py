"""The second step of the two-step estimator: every correlation of a set of ordinal and
continuous variables by maximum likelihood, with the univariate statistics (thresholds,
means, variances) held at their first-step values, as lavaan 0.6.14's ``lav_bvord``,
``lav_bvmix`` and ``lav_bvreg``:

- two ordinal items (polychoric): the likelihood of their two-way table, cell
  probabilities floored at ``sqrt(machine epsilon)``, over ``[-0.999, 0.999]``;
- an ordinal item and a continuous variable (polyserial): the casewise likelihood
  ``phi(y; mean, sd) * P(item = c | y)``, conditional probabilities floored at the
  machine epsilon, over ``[-0.995, 0.995]``;
- two continuous variables: the Pearson correlation; with missing values in either, the
  bivariate normal likelihood of the pair's complete cases with the means and variances
  held at their available-case values, over ``[-0.999, 0.999]``.

As in lavaan, a case whose polyserial or bivariate normal likelihood falls below
``sqrt(machine epsilon)`` is left out of that likelihood.  All pairs of a kind are solved
together: one safeguarded Newton iteration updates every correlation at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy import optimize, special

from semnet.data.ordinal_cdf import bivariate_normal_cdf, bivariate_normal_density

#: the floor of a cell probability, and lavaan's cut-off of a casewise likelihood
TINY = float(np.sqrt(np.finfo(float).eps))
_EPS = float(np.finfo(float).eps)
#: lavaan's bounds of a polychoric / Pearson and of a polyserial correlation
BOUND_ORDINAL = 0.999
BOUND_MIXED = 0.995
_STEP_TOL = 1e-10
_MAX_ITER = 100
_FD = 1e-7
_MAX_STEP = 0.2

Objective = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray | None]]


def maximize_correlations(f: Objective, start: np.ndarray, bound: float) -> np.ndarray:
    """Maximize separable log-likelihoods ``f(rho) -> (loglik, gradient, hessian)`` (one
    entry per pair; the Hessian ``None`` where ``f`` has none) over ``[-bound, bound]``:
    Newton steps (at most 0.2; the Hessian, if not given, from a forward difference of
    the analytic gradient), halved until the likelihood does not fall; a pair that has
    not converged after 100 steps is solved by a bounded scalar search.

    Examples
    --------
    >>> import numpy as np
    >>> from semnet.data.ordinal_fit import maximize_correlations
    >>> f = lambda r: (-(r - 0.3) ** 2, -2 * (r - 0.3), None)
    >>> np.round(maximize_correlations(f, np.zeros(2), 0.999), 6)
    array([0.3, 0.3])
    """
    rho = np.clip(np.asarray(start, dtype=float), -bound, bound)
    ll, grad, hess = f(rho)
    done = np.zeros(rho.shape, dtype=bool)
    for _ in range(_MAX_ITER):
        if hess is None:
            shift = np.where(rho + _FD > bound, -_FD, _FD)
            hess = (f(rho + shift)[1] - grad) / shift
        step = np.where(hess < 0, -grad / np.where(hess < 0, hess, -1.0), 0.05 * np.sign(grad))
        # a capped step: a floored cell probability makes the likelihood flat near +-1
        step = np.where(done, 0.0, np.clip(step, -_MAX_STEP, _MAX_STEP))
        for _halving in range(40):
            trial = np.clip(rho + step, -bound, bound)
            ll_new, grad_new, hess_new = f(trial)
            worse = ll_new < ll - 1e-12 * np.abs(ll)
            if not worse.any():
                break
            step = np.where(worse, step / 2, step)
        else:
            trial, ll_new, grad_new, hess_new = rho, ll, grad, hess
        moved = np.abs(trial - rho)
        at_bound = (np.abs(trial) >= bound) & (np.sign(grad_new) == np.sign(trial))
        done |= (moved < _STEP_TOL) | at_bound
        rho, ll, grad, hess = trial, ll_new, grad_new, hess_new
        if done.all():
            return rho
    for q in np.flatnonzero(~done):
        rho[q] = _scalar_search(f, rho, q, bound)
    return rho


def _scalar_search(f: Objective, rho: np.ndarray, q: int, bound: float) -> float:
    def negloglik(r: float) -> float:
        trial = rho.copy()
        trial[q] = r
        return -float(f(trial)[0][q])

    res = optimize.minimize_scalar(negloglik, bounds=(-bound, bound), method="bounded",
                                   options={"xatol": 1e-12, "maxiter": 500})
    return float(res.x)


def edges(tau: np.ndarray) -> np.ndarray:
    """The category limits of an item: ``-inf``, its thresholds, ``inf``.

    Examples
    --------
    >>> import numpy as np
    >>> from semnet.data.ordinal_fit import edges
    >>> edges(np.array([-0.5, 0.5]))
    array([-inf, -0.5,  0.5,  inf])
    """
    return np.concatenate([[-np.inf], tau, [np.inf]])


def pair_tables(values: np.ndarray, pairs: Sequence[tuple[int, int]],
                levels: Sequence[int]) -> list[np.ndarray]:
    """The two-way table of each pair ``(i, j)`` of item columns of ``values`` (category
    numbers, NaN for missing; ``levels[i]`` categories), over the pair's complete cases:
    one count over all pairs.

    Examples
    --------
    >>> import numpy as np
    >>> from semnet.data.ordinal_fit import pair_tables
    >>> values = np.array([[0, 1], [1, 1], [1, np.nan]])
    >>> pair_tables(values, [(0, 1)], [2, 2])[0]
    array([[0, 1],
           [0, 1]])
    """
    first = values[:, [i for i, _ in pairs]]
    second = values[:, [j for _, j in pairs]]
    complete = ~(np.isnan(first) | np.isnan(second))
    ka = np.array([levels[i] for i, _ in pairs])
    kb = np.array([levels[j] for _, j in pairs])
    offset = np.concatenate([[0], np.cumsum(ka * kb)[:-1]])
    cells = offset + np.where(complete, first, 0).astype(int) * kb + np.where(
        complete, second, 0).astype(int)
    counts = np.bincount(cells[complete], minlength=int((ka * kb).sum()))
    return [counts[o:o + a * b].reshape(a, b) for o, a, b in zip(offset, ka, kb, strict=True)]


class TableSet:
    """Two-way tables of ordinal pairs, flattened for batched evaluation: the corners of
    every table's cells (category limits) and, per cell, its four corners (upper-upper,
    lower-upper, upper-lower, lower-lower), its pair, row and column."""

    def __init__(self, tables: Sequence[np.ndarray], row_taus: Sequence[np.ndarray],
                 col_taus: Sequence[np.ndarray]) -> None:
        n_pairs = len(tables)
        ka = np.array([np.shape(t)[0] for t in tables], dtype=int)
        kb = np.array([np.shape(t)[1] for t in tables], dtype=int)
        row_edges = np.concatenate([edges(t) for t in row_taus])
        col_edges = np.concatenate([edges(t) for t in col_taus])
        row_start = np.concatenate([[0], np.cumsum(ka + 1)[:-1]])
        col_start = np.concatenate([[0], np.cumsum(kb + 1)[:-1]])
        # corners: the (ka + 1) x (kb + 1) grid of each pair, row by row
        n_corners = (ka + 1) * (kb + 1)
        corner_offset = np.concatenate([[0], np.cumsum(n_corners)[:-1]])
        self.corner_pair = np.repeat(np.arange(n_pairs), n_corners)
        local = np.arange(n_corners.sum()) - corner_offset[self.corner_pair]
        width = kb[self.corner_pair] + 1
        self.x = row_edges[row_start[self.corner_pair] + local // width]
        self.y = col_edges[col_start[self.corner_pair] + local % width]
        # cells: ka x kb per pair, row by row, each with its four corners
        n_cells = ka * kb
        self.cell_offset = np.concatenate([[0], np.cumsum(n_cells)[:-1]])
        self.cell_pair = np.repeat(np.arange(n_pairs), n_cells)
        local = np.arange(n_cells.sum()) - self.cell_offset[self.cell_pair]
        self.cell_row, self.cell_col = np.divmod(local, kb[self.cell_pair])
        base = corner_offset[self.cell_pair]
        width = kb[self.cell_pair] + 1
        low = base + self.cell_row * width + self.cell_col
        self.corners = np.stack([low + width + 1, low + 1, low + width, low])
        self.freq = np.concatenate([np.asarray(t, dtype=float).ravel() for t in tables])
        self.n_cols = kb
        self.n_pairs = n_pairs

    def rectangles(self, values: np.ndarray) -> np.ndarray:
        """Per cell: ``values`` at its corners combined as a rectangle probability."""
        c = self.corners
        return values[c[0]] - values[c[1]] - values[c[2]] + values[c[3]]

    def cell_probabilities(self, rho: np.ndarray) -> np.ndarray:
        """Each cell's bivariate normal probability (unfloored), flattened."""
        r = rho[self.corner_pair]
        return self.rectangles(bivariate_normal_cdf(self.x, self.y, r))

    def cell_derivatives(self, rho: np.ndarray) -> np.ndarray:
        """``d P / d rho`` of each cell: the density at its corners."""
        r = rho[self.corner_pair]
        return self.rectangles(bivariate_normal_density(self.x, self.y, r))

    def loglik(self, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per pair: the log-likelihood of its table and its first and second
        derivatives in ``rho`` (a floored cell counts as constant)."""
        r = rho[self.corner_pair]
        prob = self.rectangles(bivariate_normal_cdf(self.x, self.y, r))
        dens = bivariate_normal_density(self.x, self.y, r)
        # d density / d rho = density * (r / det + x y / det - r Q / det^2)
        det = 1 - r * r
        finite = np.isfinite(self.x) & np.isfinite(self.y)
        x, y = np.where(finite, self.x, 0.0), np.where(finite, self.y, 0.0)
        quad = x * x - 2 * r * x * y + y * y
        d_dens = dens * (r / det + x * y / det - r * quad / (det * det))
        kept = prob > TINY
        floored = np.where(kept, prob, TINY)
        first = np.where(kept, self.rectangles(dens), 0.0) / floored
        second = np.where(kept, self.rectangles(d_dens), 0.0) / floored
        n = self.n_pairs
        ll = np.bincount(self.cell_pair, self.freq * np.log(floored), minlength=n)
        grad = np.bincount(self.cell_pair, self.freq * first, minlength=n)
        hess = np.bincount(self.cell_pair, self.freq * (second - first * first), minlength=n)
        return ll, grad, hess


def polychoric_start(table: np.ndarray) -> float:
    """A starting value: the Pearson correlation of the category numbers."""
    ka, kb = table.shape
    a, b = np.meshgrid(np.arange(ka), np.arange(kb), indexing="ij")
    w = table / table.sum()
    ma, mb = (w * a).sum(), (w * b).sum()
    cov = (w * (a - ma) * (b - mb)).sum()
    va, vb = (w * (a - ma) ** 2).sum(), (w * (b - mb) ** 2).sum()
    return float(cov / np.sqrt(va * vb)) if va > 0 and vb > 0 else 0.0


def special_table(
    freq: np.ndarray, ta: np.ndarray, tb: np.ndarray
) -> tuple[np.ndarray, float | None]:
    """lavaan 0.6.14's rules for a 2 x 2 table: with one empty cell, 0.5 is moved into it
    and its diagonal partner and out of the other two (the margins kept); with two empty
    cells the correlation is +1 or -1; a cross-product ratio of 1 gives 0; thresholds
    both 0 give the closed form.  Returns the (adjusted) table and the correlation where
    a rule fixes it."""
    freq = freq.astype(float)
    if freq.shape != (2, 2):
        return freq, None
    empty = np.flatnonzero(freq.ravel() == 0)
    if len(empty) == 2:
        return freq, 1.0 if freq[0, 0] > 0 else -1.0
    if len(empty) == 1:
        sign = 1.0 if empty[0] in (0, 3) else -1.0
        freq = freq + sign * 0.5 * np.array([[1.0, -1.0], [-1.0, 1.0]])
    if freq[0, 0] * freq[1, 1] == freq[0, 1] * freq[1, 0]:
        return freq, 0.0
    if ta[0] == 0 and tb[0] == 0:
        return freq, float(-np.cos(2 * np.pi * freq[0, 0] / freq.sum()))
    return freq, None


def polychoric_pairs(tables: Sequence[np.ndarray], row_taus: Sequence[np.ndarray],
                     col_taus: Sequence[np.ndarray],
                     start: np.ndarray | None = None) -> np.ndarray:
    """The two-step polychoric correlation of every table (thresholds held fixed), from
    ``start`` (default: the Pearson correlations of the category numbers).

    Examples
    --------
    >>> import numpy as np
    >>> from semnet.data.ordinal_fit import polychoric_pairs
    >>> table = np.array([[30, 10], [10, 50]])
    >>> tau_a = tau_b = np.array([-0.253347])  # 40% in the first category
    >>> np.round(polychoric_pairs([table], [tau_a], [tau_b]), 3)
    array([0.796])
    """
    out = np.empty(len(tables))
    free, adjusted = [], []
    for q, (table, ta, tb) in enumerate(zip(tables, row_taus, col_taus, strict=True)):
        freq, fixed = special_table(np.asarray(table), ta, tb)
        if fixed is None:
            free.append(q)
            adjusted.append(freq)
        else:
            out[q] = fixed
    if free:
        tset = TableSet(adjusted, [row_taus[q] for q in free], [col_taus[q] for q in free])
        init = (np.array([polychoric_start(t) for t in adjusted]) if start is None
                else np.asarray(start, dtype=float)[free])
        out[free] = maximize_correlations(tset.loglik, init, BOUND_ORDINAL)
    return out


class MixedSet:
    """Polyserial pairs, cases in columns: ``z`` the standardized continuous variable
    (pairs x cases, NaN where the pair is incomplete), ``log_dens`` its log density,
    ``upper``/``lower`` the item's category limits of each case."""

    def __init__(self, z: np.ndarray, log_dens: np.ndarray, upper: np.ndarray,
                 lower: np.ndarray) -> None:
        self.ok = ~np.isnan(z)
        self.z = np.where(self.ok, z, 0.0)
        self.log_dens = np.where(self.ok, log_dens, 0.0)
        self.upper = np.where(self.ok, upper, 0.0)
        self.lower = np.where(self.ok, lower, 0.0)

    def conditional(self, rho: np.ndarray):
        """``P(item = c | z)`` (floored at eps) and the standardized limits."""
        r = rho[:, None]
        s = np.sqrt(1 - r * r)
        hi = (self.upper - r * self.z) / s
        lo = (self.lower - r * self.z) / s
        prob = np.maximum(special.ndtr(hi) - special.ndtr(lo), _EPS)
        return prob, hi, lo, s

    def loglik(self, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
        prob, hi, lo, s = self.conditional(rho)
        log_lik = self.log_dens + np.log(prob)
        use = self.ok & (log_lik >= np.log(TINY))
        r = rho[:, None]
        with np.errstate(invalid="ignore"):
            d_hi = np.where(np.isfinite(hi), _npdf(hi) * (self.upper * r - self.z), 0.0)
            d_lo = np.where(np.isfinite(lo), _npdf(lo) * (self.lower * r - self.z), 0.0)
        grad = (d_hi - d_lo) / (prob * s**3)
        return (np.where(use, log_lik, 0.0).sum(axis=1), np.where(use, grad, 0.0).sum(axis=1),
                None)


def _npdf(x: np.ndarray) -> np.ndarray:
    return np.exp(-x * x / 2) / np.sqrt(2 * np.pi)


class ContinuousSet:
    """Pearson pairs with missing values: centred values (pairs x cases, NaN where the
    pair is incomplete) and the fixed variances."""

    def __init__(self, y1: np.ndarray, y2: np.ndarray, v1: np.ndarray, v2: np.ndarray) -> None:
        self.ok = ~(np.isnan(y1) | np.isnan(y2))
        self.y1 = np.where(self.ok, y1, 0.0)
        self.y2 = np.where(self.ok, y2, 0.0)
        self.v1, self.v2 = v1[:, None], v2[:, None]

    def loglik(self, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
        r = rho[:, None]
        det = 1 - r * r
        sd12 = np.sqrt(self.v1 * self.v2)
        t1 = self.y1 * self.y2 / sd12
        quad = self.y1**2 / self.v1 - 2 * r * t1 + self.y2**2 / self.v2
        log_lik = -np.log(2 * np.pi) - 0.5 * np.log(self.v1 * self.v2 * det) - quad / (2 * det)
        use = self.ok & (log_lik >= np.log(TINY))
        grad = (r + t1 - quad * r / det) / det
        return (np.where(use, log_lik, 0.0).sum(axis=1), np.where(use, grad, 0.0).sum(axis=1),
                None)
