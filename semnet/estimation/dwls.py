"""Least squares on the thresholds and polychoric correlations of ordinal items.

The discrepancy of lavaan's ``DWLS``, ``ULS`` and ``WLS`` estimators (the first step of
WLSMV, WLSM, ULSMV, ...).  Per group the sample statistics are
``s = (thresholds item by item, correlations x2~~x1, x3~~x1, ..., x3~~x2, ...)`` with
``Gamma`` ``N_g`` times their asymptotic covariance (:func:`semnet.polychoric`), and::

    f(x) = sum_g ((N_g - 1) / N) * 0.5 * (s_g - sigma_g)' W_g (s_g - sigma_g)

with ``W = diag(Gamma)^-1`` (DWLS), ``I`` (ULS) or ``Gamma^-1`` (WLS).  This is lavaan's
``fmin`` (its groups weigh ``N_g - 1``), and the test statistic is
``2 N f = sum_g (N_g - 1) (s_g - sigma_g)' W_g (s_g - sigma_g)``.

The latent responses ``y*`` follow the linear model (:class:`~semnet.matrices.ram.Model`)
with the items' intercepts fixed to 0; with ``Sigma`` and ``mu`` their implied
covariance and mean and ``delta_j`` the scale factor of item ``j``, the implied
thresholds and correlations are::

    tau*_jk = delta_j (tau_jk - mu_j),   rho*_ij = delta_i delta_j Sigma_ij

With continuous observed variables next to the items (``delta_j = 1`` for them) the
statistics are lavaan's for mixed data (:attr:`semnet.data.ordinal.Polychoric.statistics`):
per variable the thresholds of an item or minus the mean of a continuous variable,
whose implied value is ``-mu_j``; then the continuous variables' variances
``Sigma_jj``; then ``delta_i delta_j Sigma_ij`` for every pair (a correlation of two
items, a covariance otherwise).

In lavaan's delta parameterization ``delta_j`` is a parameter (the ``"~*~"`` row) and
the residual variance of item ``j`` is whatever makes the variance of ``delta_j y*_j``
one, ``1 / delta_j^2 - (Sigma_jj - theta_jj)`` (a ``~~`` row, not free); in the theta
parameterization the residual variances are parameters and ``delta_j = 1 /
sqrt(Sigma_jj)``.  The gradient and the expected information come from the analytic
Jacobian ``J`` of ``sigma_g`` in the free parameters: ``-sum_g w_g J' W (s - sigma)``
and, as lavaan's, ``sum_g (N_g / N) J' W J``; the covariance of the estimates divides
by ``N - G``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from semnet._blas import one_blas_thread
from semnet.data.sample import Sample
from semnet.errors import DataError, OptionError
from semnet.estimation.ml import Evaluation
from semnet.matrices.ram import Model
from semnet.partable.build import ParTable


def diagonal_weight(gamma: np.ndarray) -> np.ndarray:
    """DWLS: the inverse of the diagonal of ``Gamma``."""
    return np.diag(1.0 / np.diag(gamma))


def unit_weight(gamma: np.ndarray) -> np.ndarray:
    """ULS: the identity."""
    return np.eye(gamma.shape[0])


def full_weight(gamma: np.ndarray) -> np.ndarray:
    """WLS: the inverse of ``Gamma``."""
    return np.linalg.inv(gamma)


@dataclass(frozen=True)
class OrdinalRows:
    """Where group ``g``'s ordinal pieces sit in the parameter table.

    ``thresholds`` are the ``"|"`` rows in the order of the sample's thresholds,
    ``item`` the item (position among the observed variables) of each; ``scales`` the
    ``"~*~"`` row of each observed variable (-1 for a continuous one) and ``residuals``
    its ``~~`` residual-variance row.  The univariate statistics come variable by
    variable (lavaan's order): an item's thresholds, a continuous variable's minus mean;
    ``slot_item`` is the variable of each and ``slot_threshold`` its position in
    ``thresholds`` (-1 for a mean); ``continuous`` the continuous variables.
    """

    thresholds: np.ndarray
    item: np.ndarray
    scales: np.ndarray
    residuals: np.ndarray
    slot_item: np.ndarray
    slot_threshold: np.ndarray
    continuous: np.ndarray

    @property
    def is_item(self) -> np.ndarray:
        """Which observed variables are ordinal."""
        return self.scales >= 0


#: the :class:`OrdinalRows` of recently used tables, by ``id`` (with the table, so that
#: a new table at a reused address is not mistaken for it)
_ROWS: dict[int, tuple[ParTable, dict[int, OrdinalRows]]] = {}
_ROWS_KEPT = 64


def ordinal_rows(pt: ParTable, g: int) -> OrdinalRows:
    """The :class:`OrdinalRows` of group ``g`` (0-based), kept per table (tables are
    immutable)."""
    held = _ROWS.get(id(pt))
    if held is None or held[0] is not pt:
        if len(_ROWS) >= _ROWS_KEPT:
            _ROWS.pop(next(iter(_ROWS)))
        held = _ROWS[id(pt)] = (pt, {})
    rows = held[1].get(g)
    if rows is None:
        rows = held[1][g] = _ordinal_rows(pt, g)
    return rows


def _ordinal_rows(pt: ParTable, g: int) -> OrdinalRows:
    cols = pt.cols
    group = cols["group"] == g + 1
    lhs, op, rhs = cols["lhs"], cols["op"], cols["rhs"]
    ov = list(pt.names.ov)
    th = np.flatnonzero(group & (op == "|"))
    position = {v: k for k, v in enumerate(ov)}
    item = np.array([position[v] for v in lhs[th]], dtype=np.intp)
    # lavaan's order: items in model order, t1, t2, ... within an item
    order = np.lexsort((np.array([int(t[1:]) for t in rhs[th]]), item))
    th, item = th[order], item[order]

    def per_variable(o: str) -> np.ndarray:
        rows = np.flatnonzero(group & (op == o) & (lhs == rhs))
        where = {lhs[r]: r for r in rows}
        return np.array([where.get(v, -1) for v in ov], dtype=np.intp)

    scales = per_variable("~*~")
    slot_item, slot_threshold = [], []
    for k in range(len(ov)):
        mine = np.flatnonzero(item == k)
        slot_item += [k] * max(len(mine), 1)
        slot_threshold += mine.tolist() if len(mine) else [-1]
    return OrdinalRows(
        th, item, scales, per_variable("~~"), np.array(slot_item, dtype=np.intp),
        np.array(slot_threshold, dtype=np.intp), np.flatnonzero(scales < 0),
    )


def ordinal_starts(pt: ParTable, sample: Sample, values: np.ndarray) -> np.ndarray:
    """``values`` with the thresholds at their sample values and free scale factors at 1
    (a copy; ``values`` itself where the model has no ordinal items)."""
    if not pt.ordered or sample.ordinal is None:
        return values
    out = values.copy()
    free = pt.cols["free"] > 0
    for g, stats in enumerate(sample.ordinal):
        rows = ordinal_rows(pt, g)
        tau = stats.thresholds.to_numpy()
        if len(tau) != len(rows.thresholds):
            where = f" of group {sample.labels[g]!r}" if sample.labels[g] else ""
            raise DataError(
                f"the ordinal items have {len(tau)} thresholds in the sample{where} "
                f"but the model has "
                f"{len(rows.thresholds)}; a category is empty after removing incomplete "
                "cases: merge categories or drop the item."
            )
        th_free = free[rows.thresholds]
        out[rows.thresholds[th_free]] = tau[th_free]
        scales = rows.scales[rows.is_item]
        out[scales[free[scales]]] = 1.0
    return out


def ordinal_values(model: Model, values: np.ndarray) -> np.ndarray:
    """``values`` with the rows of ordinal items that the model derives: the residual
    variances of the delta parameterization, ``1 / delta_j^2 - (Sigma_jj - theta_jj)``,
    or the scale factors of the theta parameterization, ``1 / sqrt(Sigma_jj)`` (a copy;
    ``values`` itself without ordinal items)."""
    pt = model.pt
    if not pt.ordered:
        return values
    out = values.copy()
    for g in range(pt.ngroups):
        rows = ordinal_rows(pt, g)
        sigma, _ = model.implied(values, g)
        items = rows.is_item
        if pt.parameterization == "theta":
            out[rows.scales[items]] = 1.0 / np.sqrt(np.diag(sigma)[items])
            continue
        explained = np.diag(sigma)[items] - values[rows.residuals[items]]
        out[rows.residuals[items]] = 1.0 / values[rows.scales[items]] ** 2 - explained
    return out


class LeastSquaresDiscrepancy:
    """The multi-group least-squares discrepancy of a model of ordinal items (see the
    module docstring), with the weight ``weight(Gamma_g)`` per group; ``chisq_distributed``
    says whether its test statistic is referred to a chi-square (DWLS, WLS) or not
    (ULS)."""

    #: the optimizer takes (Gauss-Newton) quasi-Newton steps, no exact Hessian
    newton = False

    def __init__(
        self, model: Model, sample: Sample, fixed_values: np.ndarray,
        weight: Callable[[np.ndarray], np.ndarray], chisq_distributed: bool = True,
    ) -> None:
        if sample.ordinal is None:
            raise OptionError(
                "least-squares estimators fit ordinal items: pass ordered=[...] (or "
                "ordered=True)."
            )
        #: its test statistic is referred to a chi-square (not with ULS, as lavaan)
        self.chisq_distributed = chisq_distributed
        #: the theta parameterization (scale factors derived from the model)
        self.theta = model.pt.parameterization == "theta"
        self.model = model
        self.moments = list(sample.moments)
        self.fixed_values = fixed_values
        self.ntotal = sample.ntotal
        # lavaan weighs group g by (N_g - 1) / N in the discrepancy of ordinal statistics
        # and by N_g / N in its expected information
        self.weights = np.array([(m.nobs - 1) / self.ntotal for m in self.moments])
        self.info_weights = np.array([m.nobs / self.ntotal for m in self.moments])
        #: the divisor of the covariance matrix of the estimates (lavaan's N - G)
        self.vcov_divisor = self.ntotal - len(self.moments)
        p = model.p
        cols = [j for j in range(p) for _ in range(j + 1, p)]
        rows = [i for j in range(p) for i in range(j + 1, p)]
        self.pairs = (np.array(rows, dtype=np.intp), np.array(cols, dtype=np.intp))
        free = model.pt.cols["free"]
        self.rows = [ordinal_rows(model.pt, g) for g in range(model.pt.ngroups)]
        #: some observed variables are continuous
        self.mixed = len(self.rows[0].continuous) > 0
        self.stats = []
        self.diagonal: list[np.ndarray | None] = []
        #: per group the sample correlations (polychoric, polyserial, Pearson)
        self.correlations = [pc.cor.to_numpy() for pc in sample.ordinal]
        for pc in sample.ordinal:
            s = pc.statistics.to_numpy()
            gamma = pc.gamma.to_numpy()
            W = weight(gamma)
            self.stats.append((s, W, gamma))
            # a diagonal weight (DWLS, ULS) multiplies as a vector
            diagonal = np.diag(W)
            self.diagonal.append(diagonal if np.array_equal(W, np.diag(diagonal)) else None)
        # per group and univariate slot: the threshold row (-1 for a mean), its column
        self.slot_rows = [np.where(r.slot_threshold >= 0, r.thresholds[r.slot_threshold], -1)
                          for r in self.rows]  # fmt: skip
        self.th_col = [np.where(sr >= 0, free[sr] - 1, -1) for sr in self.slot_rows]
        # the free parameters of each group's rows: its Jacobian is zero elsewhere
        group = model.pt.cols["group"]
        self.group_cols = [np.unique(free[(group == g + 1) & (free > 0)] - 1)
                           for g in range(model.pt.ngroups)]  # fmt: skip
        self.compact_position = []
        for cols in self.group_cols:
            position = np.full(model.nfree, -1, dtype=np.intp)
            position[cols] = np.arange(len(cols))
            self.compact_position.append(position)
        self.scale_col = [np.where(r.is_item, free[r.scales] - 1, -1) for r in self.rows]

    def scales(self, values: np.ndarray, g: int, sigma: np.ndarray) -> np.ndarray:
        """The scale factors of group ``g``'s observed variables: an item's ``"~*~"`` row
        (delta) or ``1 / sqrt(Sigma_jj)`` (theta); 1 for a continuous variable."""
        r = self.rows[g]
        if self.theta:
            return np.where(r.is_item, 1.0 / np.sqrt(np.abs(np.diag(sigma))), 1.0)
        return np.where(r.is_item, values[r.scales], 1.0)

    def centred_thresholds(self, values: np.ndarray, g: int, mu: np.ndarray) -> np.ndarray:
        """``tau - mu`` of each univariate slot (a mean slot has ``tau = 0``)."""
        rows = self.slot_rows[g]
        tau = np.where(rows >= 0, values[rows], 0.0)
        return tau - mu[self.rows[g].slot_item]

    def implied(self, values: np.ndarray, g: int) -> np.ndarray:
        """The implied statistics of group ``g`` in the sample's order: thresholds
        (minus means), variances of continuous variables, correlations (covariances)."""
        sigma, mu = self.model.implied(values, g)
        r = self.rows[g]
        delta = self.scales(values, g, sigma)
        tau = delta[r.slot_item] * self.centred_thresholds(values, g, mu)
        i, j = self.pairs
        c = r.continuous
        return np.concatenate([tau, sigma[c, c], delta[i] * delta[j] * sigma[i, j]])

    def implied_correlations(self, values: np.ndarray, g: int) -> np.ndarray:
        """The implied correlations of group ``g``'s latent responses and continuous
        variables (p x p)."""
        sigma, _ = self.model.implied(values, g)
        r = self.rows[g]
        f = self.scales(values, g, sigma)
        f[r.continuous] = 1.0 / np.sqrt(np.diag(sigma)[r.continuous])
        out = f[:, None] * sigma * f[None, :]
        np.fill_diagonal(out, 1.0)
        return out

    @one_blas_thread
    def baseline_chisq(self) -> float:
        """The test statistic of the baseline model (free thresholds, means and
        variances, zero correlations), in closed form: with the univariate statistics at
        their optimum their residual is ``-W_tt^-1 W_tr r`` (``r`` the correlations and
        covariances), so ``F = r' (W_rr - W_rt W_tt^-1 W_tr) r``."""
        total = 0.0
        for g, (s, W, _) in enumerate(self.stats):
            nth = len(self.rows[g].slot_item) + len(self.rows[g].continuous)
            r = s[nth:]
            Wtt, Wtr, Wrr = W[:nth, :nth], W[:nth, nth:], W[nth:, nth:]
            schur = Wrr - Wtr.T @ np.linalg.solve(Wtt, Wtr)
            total += 2 * self.ntotal * self.weights[g] * 0.5 * float(r @ schur @ r)
        return total

    def jacobian(self, values: np.ndarray, g: int, compact: bool = False) -> np.ndarray:
        """The Jacobian of :meth:`implied` in the free parameters (statistics x free);
        with ``compact`` only the columns of the group's own parameters
        (``group_cols[g]``, the others are zero)."""
        model = self.model
        sigma, mu, d_sigma, d_mu = model.jacobian(values, g)
        cols = self.group_cols[g]
        d_sigma, d_mu = d_sigma[cols], d_mu[cols]
        r = self.rows[g]
        delta = self.scales(values, g, sigma)
        i, j = self.pairs
        c = r.continuous
        slot = r.slot_item
        nth, nc = len(slot), len(c)
        out = np.empty((nth + nc + len(i), len(cols)))
        tau_c = self.centred_thresholds(values, g, mu)
        out[:nth] = -(delta[slot] * d_mu[:, slot]).T
        out[nth:nth + nc] = d_sigma[:, c, c].T
        pr = nth + nc + np.arange(len(i))
        out[pr] = (delta[i] * delta[j] * d_sigma[:, i, j]).T
        if self.theta:
            # d delta_j = -delta_j dSigma_jj / (2 Sigma_jj) (items only)
            k = np.arange(model.p)
            rel = np.where(r.is_item, 0.5 * d_sigma[:, k, k] / np.diag(sigma), 0.0)
            out[:nth] -= (delta[slot] * tau_c * rel[:, slot]).T
            out[pr] -= (delta[i] * delta[j] * sigma[i, j] * (rel[:, i] + rel[:, j])).T
        th_rows = np.arange(nth)
        # thresholds and scale factors enter directly (fixed ones have column -1); each
        # statistic has at most one such column, so the updates do not collide
        position = self.compact_position[g]
        th_col = self.th_col[g]
        free = th_col >= 0
        out[th_rows[free], position[th_col[free]]] += delta[slot][free]
        sc = self.scale_col[g]
        free = sc[slot] >= 0
        out[th_rows[free], position[sc[slot][free]]] += tau_c[free]
        for a, b in ((i, j), (j, i)):
            free = sc[a] >= 0
            out[pr[free], position[sc[a][free]]] += (delta[b] * sigma[i, j])[free]
        if compact:
            return out
        full = np.zeros((out.shape[0], model.nfree))
        full[:, cols] = out
        return full

    def times_weight(self, g: int, m: np.ndarray) -> np.ndarray:
        """``W_g m`` (a diagonal weight as a vector product)."""
        d = self.diagonal[g]
        if d is None:
            return self.stats[g][1] @ m
        return d[:, None] * m if m.ndim == 2 else d * m

    def evaluate(
        self, x: np.ndarray, derivatives: bool = True, hessian: bool = False
    ) -> Evaluation:
        """f, its gradient and the expected information ``sum_g (N_g / N) J' W J``
        (lavaan's; the Gauss-Newton Hessian of ``f`` up to the factors ``(N_g - 1) /
        N_g``)."""
        values = self.model.values(x, self.fixed_values)
        total = 0.0
        grad = info = None
        for g, (s, _, _) in enumerate(self.stats):
            try:
                e = s - self.implied(values, g)
            except np.linalg.LinAlgError:
                return Evaluation(np.inf, reason="I - B is singular (non-recursive loop)")
            We = self.times_weight(g, e)
            w = self.weights[g]
            total += w * 0.5 * float(e @ We)
            if not derivatives:
                continue
            # on the group's own columns: the Jacobian is zero in the others
            cols = self.group_cols[g]
            J = self.jacobian(values, g, compact=True)
            WJ = self.times_weight(g, J)
            if grad is None:
                grad, info = np.zeros(self.model.nfree), np.zeros((self.model.nfree,) * 2)
            grad[cols] -= w * (J.T @ We)
            info[np.ix_(cols, cols)] += self.info_weights[g] * (J.T @ WJ)
        if not np.isfinite(total):
            return Evaluation(np.inf, reason="the implied statistics are not finite")
        if not derivatives:
            return Evaluation(total)
        return Evaluation(total, grad, info)

    def group_chisq(self, x: np.ndarray) -> list[float]:
        """Each group's share of the test statistic, ``(N_g - 1) (s - sigma)' W (s - sigma)``
        (lavaan's per-group test statistic)."""
        values = self.model.values(x, self.fixed_values)
        out = []
        for g, (s, W, _) in enumerate(self.stats):
            e = s - self.implied(values, g)
            out.append(2 * self.ntotal * self.weights[g] * 0.5 * float(e @ W @ e))
        return out

    def sandwich_parts(self, x: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per group ``(J_g, W_g, Gamma_g)``: the pieces of lavaan's ``robust.sem``
        sandwich and of the scaled tests (:mod:`semnet.inference.robust`)."""
        values = self.model.values(x, self.fixed_values)
        return [(self.jacobian(values, g), W, gamma)
                for g, (_, W, gamma) in enumerate(self.stats)]  # fmt: skip

    def sandwich(self, x: np.ndarray) -> tuple[np.ndarray, int, list]:
        """The group weights, the divisor of the vcov and :meth:`sandwich_parts` of
        lavaan's ``robust.sem`` sandwich for ordinal statistics: ``N_g / N`` (not the
        discrepancy's ``(N_g - 1) / N``) and ``N - G``."""
        return self.info_weights, self.vcov_divisor, self.sandwich_parts(x)

    def observed_information(self, x: np.ndarray) -> np.ndarray:
        """The Gauss-Newton information (least squares has no other information here)."""
        return self.evaluate(x).information

    def casewise_scores(self, x: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray]:
        raise OptionError(
            "least-squares estimators of ordinal items have no casewise likelihood scores; "
            "use se='robust.sem' (the default of WLSMV) or se='standard'."
        )
