"""Nonparametric bootstrap of a fitted model (lavaan's ``bootstrapLavaan`` /
``se = "bootstrap"``), with percentile and BCa intervals and the Bollen–Stine test.

Resampling follows lavaan's ``lav_bootstrap.R``: cases are drawn with replacement
*within each group* (keeping the group sizes), the sample moments of the resample are
computed directly from the complete-case arrays of the fit, and the model is refitted
with the same parameter table, constraints and (for ``fixed.x`` covariates) the
resample's own covariate moments.  lavaan starts every refit at the fitted estimates;
semnet (complete data, linear constraints) starts at their first-order prediction from
the resample's moments (:class:`_Linearization`), several times closer to the
resample's optimum, which saves a Newton step per draw, and falls back to the estimates
when that refit fails.  The optimum is the same to the optimizer's tolerance, except in
the rare resample whose likelihood has several local minima (a Heywood case), where the
two starts may end in different ones.  A draw whose sample covariance matrix is
singular, whose refit fails or does not converge is *failed*: its row of
:attr:`BootstrapResult.draws` is NaN, it is counted in :attr:`BootstrapResult.n_failed`
and left out of every summary (as lavaan does).

FIML fits (``missing="fiml"``) are bootstrapped as lavaan does: the raw rows, complete
and incomplete (rows missing on every model variable were dropped by the fit), are
resampled within groups and every resample is refitted by FIML.  A resample in which a
variable has fewer than two observed values, or is constant, is a failed draw.  The
saturated model is not refitted per draw (lavaan's ``se = "bootstrap"`` skips it too),
so :attr:`BootstrapResult.chisq` is NaN for such draws.  The Bollen–Stine bootstrap
needs complete data: lavaan 0.6.14 refuses it under missing data ("bollen.stine/yuan
bootstrap not available for missing data"), and so does semnet, because the
transformation to the model-implied moments is defined for a complete data matrix.

``type="bollen_stine"`` first transforms the data of each group to have the
model-implied moments (Bollen & Stine, 1992): ``X_c S^{-1/2} Σ̂^{1/2} + μ̂`` with
``X_c`` the centred data, ``S`` the sample covariance matrix (N divisor).  The model
then holds exactly in the "population" that is resampled, and the share of draws
whose χ² exceeds the sample's estimates the p-value of the model test
(:attr:`BootstrapResult.bollen_stine_pvalue`, lavaan's ``boot.larger / boot.length``).

Randomness and reproducibility
    ``numpy.random.SeedSequence(seed)`` is spawned into one child per draw; draw ``b``
    resamples with ``numpy.random.default_rng(child_b)``, group by group.  The draws
    therefore do not depend on ``n_jobs``, on the executor or on the order in which
    the workers finish.  (lavaan uses R's RNG, so the draws differ from lavaan's; only
    the Monte Carlo distribution agrees.)

Blocks of draws
    The draws are refitted in blocks of :data:`DRAW_BLOCK` consecutive draws (fixed by
    the draws' numbers; a worker receives whole blocks).  A fit from complete data with
    linear constraints, of one group or several, refits a block as a stack
    (:mod:`semnet.estimation.ml_batch`: every array carries a leading axis over the
    draws, and with several groups over the draws times the groups, so one numpy call
    serves the block): the same cases, the same start, the same steps and the same
    convergence tests as the draw-by-draw refit, in arithmetic that agrees with it to
    rounding (at most about 4e-13 relative in the tests and fixtures).  Nothing in that
    arithmetic mixes draws, so a draw refitted alone is bit for bit the draw in its
    block.  A draw that leaves the stack's path (a singular resample, a step that
    ``minimize`` would correct or not find, a refit that fails) is refitted draw by
    draw, which decides whether it fails and why.  The jackknife of BCa runs in the
    same blocks (deletions from different groups stacked apart).  FIML fits and
    nonlinear constraints refit draw by draw.  Measured (one BLAS thread, CPU time,
    load average 1.5–2.4): 1,000 draws of a two-group mediation model with equal
    loadings and intercepts (HS, 3 factors, ``:=`` rows) 1.0 s against 2.2 s draw by
    draw; its one-group version 0.36 s (0.45 s in blocks of 32 before).

Confidence intervals (:meth:`BootstrapResult.table`)
    ``"percentile"``: lavaan's ``boot.ci.type = "perc"``, including its interpolation
    between order statistics on the normal-quantile scale (``norm.inter``, from the
    ``boot`` package), so that the same draws give lavaan's interval to the last digit.
    ``"bca"``: Efron's (1987) bias-corrected and accelerated interval, bias correction
    ``z0 = Φ⁻¹(#{θ* < θ̂}/B)`` and acceleration from the delete-one jackknife (``N``
    extra refits, computed once by :func:`bootstrap`).  lavaan's ``"bca"`` instead
    estimates the acceleration by regressing the draws on the resampling frequencies
    (which needs more successful draws than cases); both estimate the same influence
    values, the jackknife exactly and lavaan's by a regression on the bootstrap
    frequencies, so intervals agree only up to Monte Carlo error.
    ``"bca_simple"``: bias-corrected only (acceleration 0), exactly lavaan's
    ``"bca.simple"``.  ``"basic"`` and ``"normal"`` are lavaan's ``"basic"`` and
    ``"norm"`` (for ``"normal"`` the bias of a ``:=`` row is the mean of its draws minus
    the estimate, where lavaan evaluates the definition at the mean of the parameters).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from semnet.analyses.mediation import EffectPlan, effect_plan
from semnet.analyses.parallel import Progress, map_tasks
from semnet.data.moments import SINGULAR_TOLERANCE, GroupMoments
from semnet.data.sample import resample
from semnet.errors import (
    DataError,
    OptionError,
    SemnetError,
    SemnetWarning,
    check_choice,
    check_level,
    check_seed,
)
from semnet.estimation.constraints import ParameterNames, linear_constraints
from semnet.estimation.discrepancy import DISCREPANCIES, Discrepancy, discrepancy
from semnet.estimation.ml_batch import StackedML, cholesky_stack, minimize_stack, rowwise
from semnet.estimation.optimize import minimize

__all__ = ["BootstrapResult", "bootstrap"]

CI_METHODS = ("percentile", "bca", "bca_simple", "basic", "normal")


@dataclass(frozen=True)
class _Type:
    """A kind of bootstrap: the data it resamples (each group's array, from the fit),
    and whether they are transformed to satisfy the model (a model-based bootstrap,
    which tests the model: complete, unweighted data only)."""

    data: Callable[[Any], list[np.ndarray]]
    model_based: bool


def _case_data(fit) -> list[np.ndarray]:
    return [np.asarray(m.data, dtype=float) for m in fit.moments]


def _bollen_stine_data(fit) -> list[np.ndarray]:
    """Each group's data rotated to the model-implied moments (lavaan's bollen.stine);
    without a mean structure the means stay the sample's."""
    out = []
    for g, m in enumerate(fit.moments):
        sigma, mu = fit.model.implied(fit.values, g)
        out.append(_rotate(m.data, m.cov, sigma, mu if fit.partable.meanstructure else m.mean))
    return out


def _rotate(data: np.ndarray, cov: np.ndarray, sigma: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """``X_c S^-1/2 Σ^1/2 + μ``: data with covariance matrix ``cov`` (N divisor) turned
    into data with covariance matrix ``sigma`` and means ``mu`` (symmetric roots)."""
    w, v = np.linalg.eigh(cov)
    s_inv_sqrt = (v / np.sqrt(w)) @ v.T
    return (data - data.mean(axis=0)) @ s_inv_sqrt @ _sqrtm(sigma) + mu


def _sqrtm(a: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((a + a.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


#: the bootstraps by ``type=``: ordinary (cases) and Bollen-Stine (model-based)
TYPES = {
    "ordinary": _Type(_case_data, model_based=False),
    "bollen_stine": _Type(_bollen_stine_data, model_based=True),
}
#: draws at or above which a progress bar is shown automatically (on a terminal)
AUTO_PROGRESS = 500
#: consecutive draws refitted together (:meth:`_Refitter.refit_block`): the blocks are
#: fixed by the draws' numbers, whatever the executor and its chunks
DRAW_BLOCK = 64
#: resampled values gathered at once for a block's moments (bounds their memory)
GATHER_LIMIT = 2_000_000


# ---------------------------------------------------------------------------------------
# the refit engine (picklable: sent to worker processes)
# ---------------------------------------------------------------------------------------
class _Refitter:
    """Refit a fit's model to resamples of its data; no pandas on the hot path."""

    def __init__(self, fit, data: Sequence[np.ndarray], plans: Sequence[EffectPlan]) -> None:
        pt = fit.partable
        self.pt = pt
        self.model = fit.model
        self.values = np.array(fit.values, dtype=float)
        self.x = np.array(fit.x, dtype=float)
        self.data = tuple(np.ascontiguousarray(d, dtype=float) for d in data)
        # sampling weights travel with their cases (as normalised in the fit, as lavaan)
        self.weights = fit.sample.weights
        self.labels = tuple(m.label for m in fit.moments)
        self.names = tuple(fit.moments[0].names)
        self.discrepancy_name = fit.options.discrepancy
        self.incomplete = DISCREPANCIES.get(self.discrepancy_name).incomplete_data
        self.plans = tuple(plans)
        self._constraints = None if fit.constraints.nonlinear else fit.constraints
        params = pt.params
        free = params["free"].to_numpy()
        self.out_rows = np.flatnonzero(free > 0)
        # fixed.x rows: their values are the sample moments of each resample
        exo = (params["exo"].to_numpy() > 0) & (free == 0)
        idx = {v: k for k, v in enumerate(self.names)}
        self.exo = []
        for r in np.flatnonzero(exo):
            op = params["op"].iat[r]
            a, b = params["lhs"].iat[r], params["rhs"].iat[r]
            g = int(params["group"].iat[r]) - 1
            if op == "~~":
                self.exo.append((int(r), g, idx[a], idx[b]))
            elif op == "~1":
                self.exo.append((int(r), g, idx[a], -1))
        self.covariates = tuple(sorted({i for _, _, i, _ in self.exo}))
        self.ndef = sum(c.op == ":=" for c in pt.constraints)
        self.width = self.out_rows.size + self.ndef + sum(len(p.rows) for p in self.plans)
        self.linearization: _Linearization | None = None
        if not self.incomplete and self._constraints is not None:
            self.linearization = _Linearization.at_estimates(self)
        # blocks of draws refitted as a stack: complete data, linear constraints and
        # a linearised start
        self.stacked = (DISCREPANCIES.get(self.discrepancy_name).stacked
                        and self.linearization is not None and self.x.size > 0)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("constraints", None)  # cached; closures of nonlinear constraints
        state.pop("param_names", None)
        return state

    @cached_property
    def constraints(self):
        if self._constraints is not None:
            return self._constraints
        return linear_constraints(self.pt, self.model.nfree, self.model.free, self.values)

    @cached_property
    def param_names(self) -> ParameterNames:
        return ParameterNames(self.pt)

    def outputs(self, values: np.ndarray) -> np.ndarray:
        parts = [values[self.out_rows]]
        if self.ndef:
            parts.append(self.param_names.defined(values))
        parts.extend(p.evaluate(values) for p in self.plans)
        return np.concatenate(parts)

    def indices(self, spec) -> list[np.ndarray]:
        """Row indices per group of one task: a bootstrap draw (its SeedSequence) or a
        jackknife deletion ``(group, case)``."""
        if isinstance(spec, np.random.SeedSequence):
            rng = np.random.default_rng(spec)
            return [rng.integers(0, d.shape[0], size=d.shape[0]) for d in self.data]
        g, j = spec
        return [
            np.delete(np.arange(d.shape[0]), j) if k == g else np.arange(d.shape[0])
            for k, d in enumerate(self.data)
        ]

    def discrepancy_of(
        self, samples: Sequence[np.ndarray], weights: Sequence[np.ndarray] | None = None
    ) -> Discrepancy:
        """The fit's discrepancy (from the registry) for resamples of its data (one per
        group, with their cases' sampling weights where the fit has them), with the
        fixed.x rows set to their sample moments; raises DataError (with the reason) for
        a sample that cannot be fitted."""
        sample = resample(self.labels, self.names, samples, self.incomplete, weights,
                          self.covariates)  # fmt: skip
        fixed = self.values.copy()
        for r, g, i, j in self.exo:
            mom = sample.moments[g]
            fixed[r] = mom.mean[i] if j < 0 else mom.cov[i, j]
        return discrepancy(self.discrepancy_name, self.model, sample, fixed, for_optimizer=True)

    def refit_block(self, specs: Sequence) -> list[tuple[np.ndarray, float, str]]:
        """:meth:`refit` of each task of ``specs`` (a block of draws): as a stack
        (:func:`semnet.estimation.ml_batch.minimize_stack`) where the refitter allows
        it, and by :meth:`refit` for the draws the stack leaves (a singular resample, a
        refit off Newton's usual path).  Each draw's result is its own: the stack's
        arithmetic is per draw, whatever else the block holds.  Tasks whose groups'
        sizes differ (the jackknife's deletions from different groups) are stacked
        apart."""
        if not self.stacked:
            return [self.refit(s) for s in specs]
        indices = [self.indices(s) for s in specs]
        alike: dict[tuple, list[int]] = {}
        for b, idx in enumerate(indices):
            alike.setdefault(tuple(i.size for i in idx), []).append(b)
        results: list = [None] * len(specs)
        for members in alike.values():
            stacked = self._refit_stack([np.array([indices[b][g] for b in members])
                                         for g in range(len(self.data))])  # fmt: skip
            for b, r in zip(members, stacked, strict=True):
                results[b] = r
        return [self.refit(s) if r is None else r for s, r in zip(specs, results, strict=True)]

    def _refit_stack(self, idx: list[np.ndarray]) -> list[tuple | None]:
        """The refits of the resamples ``idx`` (per group, draws x cases) as a stack:
        :meth:`refit`'s result for each draw, or None for a draw the stack leaves."""
        cov, mean, size = self._block_moments(idx)
        nb, ng, p = mean.shape
        L, usable = cholesky_stack(cov.reshape(nb * ng, p, p))
        pivots = np.diagonal(L, axis1=1, axis2=2).reshape(nb, ng, p)
        with np.errstate(all="ignore"):
            usable = usable.reshape(nb, ng) & np.all(
                pivots * pivots >= SINGULAR_TOLERANCE * np.diagonal(cov, axis1=2, axis2=3),
                axis=2)
            logdet = 2.0 * np.log(pivots).sum(axis=2)
        usable = np.all(usable & np.isfinite(logdet), axis=1)
        results: list = [None] * nb
        rows = np.flatnonzero(usable)
        if not rows.size:
            return results
        cov, mean, logdet, size = cov[rows], mean[rows], logdet[rows], size[rows]
        total = size[:, 0].copy()  # (the refit's sum of the group sizes, in order)
        for g in range(1, ng):
            total += size[:, g]
        fixed = np.tile(self.values, (rows.size, 1))
        for r, g, i, j in self.exo:
            fixed[:, r] = mean[:, g, i] if j < 0 else cov[:, g, i, j]
        stack = StackedML(self.model, self.constraints, fixed, cov, mean, logdet,
                          size / total[:, None])
        z, f, ok = minimize_stack(stack, self._z_starts(cov, mean))
        values = fixed[ok]
        values[:, self.model.free_rows] = stack.x_of(z[ok])[:, stack.free_index]
        outs = self._block_outputs(values)
        for b, out, chisq in zip(rows[ok], outs, 2.0 * total[ok] * f[ok], strict=True):
            results[b] = (out, float(chisq), "") if out is not None else None
        return results

    def _block_moments(self, idx: list[np.ndarray]
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The covariance matrices (N divisor, weighted where the fit has weights),
        mean vectors and sizes (draws x groups x ...) of the resamples ``idx`` (per
        group, draws x cases) of each group's data, as
        :func:`semnet.data.sample.resample` computes them."""
        nb = len(idx[0])
        p = self.data[0].shape[1]
        cov = np.empty((nb, len(idx), p, p))
        mean = np.empty((nb, len(idx), p))
        size = np.empty((nb, len(idx)))
        for g, (x, ix) in enumerate(zip(self.data, idx, strict=True)):
            n = ix.shape[1]
            w = None if self.weights is None else self.weights[g][ix]
            sub = max(1, GATHER_LIMIT // max(x.size, 1))
            for a in range(0, nb, sub):
                xs = x[ix[a : a + sub]]
                if w is None:
                    m = xs.mean(axis=1)
                    c = xs - m[:, None]
                    cv = c.transpose(0, 2, 1) @ c / n
                else:
                    ws = w[a : a + sub]
                    total = ws.sum(axis=1)
                    m = (ws[:, None, :] @ xs)[:, 0] / total[:, None]
                    c = xs - m[:, None]
                    cv = (c * ws[:, :, None]).transpose(0, 2, 1) @ c / total[:, None, None]
                cov[a : a + sub, g] = (cv + cv.transpose(0, 2, 1)) / 2
                mean[a : a + sub, g] = m
            size[:, g] = n if w is None else w.sum(axis=1)
        return cov, mean, size

    def _z_starts(self, cov: np.ndarray, mean: np.ndarray) -> np.ndarray:
        """The linearised starts of resamples with these moments (draws x groups x
        ...), in ``z``: :meth:`_Linearization.start`, group by group."""
        lin = self.linearization
        x = None
        for g, ((cov0, mean0), m) in enumerate(zip(lin.moments, lin.maps, strict=True)):
            delta = np.concatenate([(cov[:, g] - cov0).reshape(len(cov), -1),
                                    mean[:, g] - mean0], axis=1)
            step = rowwise(delta, m.T)
            x = lin.x + step if x is None else x + step
        con = self.constraints
        if con.identity:
            return x
        return rowwise(x - con.x0, con.K) / (con.K * con.K).sum(axis=0)

    def _block_outputs(self, values: np.ndarray) -> list[np.ndarray | None]:
        """:meth:`outputs` of each row of ``values`` (None where they fail: the draw is
        then refitted by :meth:`refit`, which says why); the ``:=`` rows of all rows at
        once."""
        nb = len(values)
        parts = [values[:, self.out_rows]]
        try:
            if self.ndef:
                env = self.param_names.env(values.T)
                parts.append(np.column_stack([
                    np.broadcast_to(np.asarray(env[name], dtype=float), (nb,))
                    for name, _ in self.param_names.definitions]))  # fmt: skip
            for plan in self.plans:
                parts.append(np.array([plan.evaluate(v) for v in values]).reshape(nb, -1))
        except (ValueError, ZeroDivisionError, OverflowError):
            return [None] * nb
        return list(np.concatenate(parts, axis=1))

    def refit(self, spec) -> tuple[np.ndarray, float, str]:
        """Outputs, chi-square and '' (or NaNs, NaN and the reason it failed)."""
        fail = np.full(self.width, np.nan)
        indices = self.indices(spec)
        resamples = [d[idx] for d, idx in zip(self.data, indices, strict=True)]
        weights = None if self.weights is None else [
            w[idx] for w, idx in zip(self.weights, indices, strict=True)]  # fmt: skip
        starts = [self.x]
        try:
            disc = self.discrepancy_of(resamples, weights)
        except DataError as exc:
            why = str(exc) if self.incomplete else "singular sample covariance matrix"
            return fail, np.nan, why
        if self.linearization is not None:
            starts.insert(0, self.linearization.start(disc.moments))
        # from the linearised start; from the estimates if that fails
        why = ""
        for start in starts:
            try:
                res = minimize(disc, self.constraints, start, information=False)
            except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
                why = f"refit failed: {exc}"
                continue
            if not np.isfinite(res.f):
                why = f"refit failed: {res.message}"
            elif not res.converged:
                why = f"no convergence: {res.message}"
            else:
                break
        else:
            return fail, np.nan, why
        values = self.model.values(res.x, disc.fixed_values)
        try:
            out = self.outputs(values)
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            return fail, np.nan, f"derived quantities failed: {exc}"
        # (incomplete resamples have no saturated model: no chi-square)
        return out, np.nan if self.incomplete else 2.0 * disc.ntotal * res.f, ""


@dataclass(frozen=True)
class _Linearization:
    """The estimates as a linear function of the sample moments, about the data that are
    resampled: a start for each refit close to its optimum.

    At the optimum ``x̂`` the gradient ``g(x, s)`` of the discrepancy vanishes; to first
    order in the change ``Δs`` of the moments (``vec(S_g)`` and ``ȳ_g`` per group),
    ``Δx = -K (K'HK)^-1 K' (∂g/∂s) Δs`` (the implicit function theorem in the space ``z``
    of the linear constraints, ``H`` the Hessian at ``x̂``).  With ``W = Σ^-1``,
    ``d = ȳ - μ`` and ``w_g = N_g / N``::

        ∂g_a/∂S_g = -w_g/2 · W ∂Σ/∂x_a W
        ∂g_a/∂ȳ_g = -w_g · (W ∂Σ/∂x_a W d + W ∂μ/∂x_a)

    The fixed.x rows (set to each sample's moments) are held at their values here.

    Attributes
    ----------
    x : ndarray
        The estimates ``x̂``.
    moments : tuple of (ndarray, ndarray)
        Per group, the covariance matrix and mean vector of the resampled data.
    maps : tuple of ndarray
        Per group, ``∂x/∂(vec(S_g), ȳ_g)``: ``nfree × (p² + p)``.
    """

    x: np.ndarray
    moments: tuple[tuple[np.ndarray, np.ndarray], ...]
    maps: tuple[np.ndarray, ...]

    @classmethod
    def at_estimates(cls, refitter: _Refitter) -> _Linearization | None:
        """The linearisation about the refitter's data (None where the Hessian at the
        estimates is singular or the data's covariance matrix is)."""
        model, x = refitter.model, refitter.x
        try:
            disc = refitter.discrepancy_of(refitter.data, refitter.weights)
        except DataError:
            return None
        K = refitter.constraints.K
        hessian = disc.evaluate(x, hessian=True).hessian
        if hessian is None:
            return None
        try:
            step = -K @ np.linalg.solve(K.T @ hessian @ K, K.T)
        except np.linalg.LinAlgError:
            return None
        values = model.values(x, disc.fixed_values)
        maps = []
        for g, mom in enumerate(disc.moments):
            sigma, mu, d_sigma, d_mu = model.jacobian(values, g)
            inv = np.linalg.inv(sigma)
            wdw = inv @ d_sigma @ inv
            q, p = d_mu.shape
            d_cov = -0.5 * wdw.reshape(q, p * p)
            d_mean = np.zeros((q, p))
            if model.meanstructure:
                d_mean = -(wdw @ (mom.mean - mu) + d_mu @ inv)
            maps.append(disc.weights[g] * step @ np.hstack([d_cov, d_mean]))
        return cls(x, tuple((m.cov, m.mean) for m in disc.moments), tuple(maps))

    def start(self, moments: Sequence[GroupMoments]) -> np.ndarray:
        """The linear prediction of the estimates from the moments of a resample."""
        x = self.x.copy()
        for (cov, mean), mom, m in zip(self.moments, moments, self.maps, strict=True):
            x += m @ np.concatenate([(mom.cov - cov).ravel(), mom.mean - mean])
        return x


# ---------------------------------------------------------------------------------------
# the result
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """The bootstrap distribution of a fit's parameters (immutable).

    Attributes
    ----------
    n : int
        Draws requested.
    n_failed : int
        Draws that failed (singular resample, refit error, no convergence).
    failure_reasons : tuple of str
        Per draw: ``""`` or why it failed.
    type : str
        ``"ordinary"`` or ``"bollen_stine"``.
    seed_entropy : int
        The entropy of the ``SeedSequence`` (the seed, or the fresh entropy drawn when
        no seed was given): ``bootstrap(fit, seed=result.seed_entropy)`` repeats the run.
    chisq_sample : float
        The model χ² of the fit (``2 N F``).
    """

    n: int
    type: str
    seed_entropy: int
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]  # (lhs, op, rhs, group, label) per column
    estimate: np.ndarray
    _draws: np.ndarray = field(repr=False)
    _chisq: np.ndarray = field(repr=False)
    failure_reasons: tuple[str, ...] = field(repr=False)
    acceleration: np.ndarray | None = field(repr=False)
    chisq_sample: float
    n_jackknife_failed: int = 0

    # -- data ---------------------------------------------------------------------------
    @property
    def draws(self) -> pd.DataFrame:
        """``n`` × quantities: every free parameter row (``"visual=~x2"``, with ``".g2"``
        for later groups, as lavaan's ``coef()``), every ``:=`` row (by its name) and
        the requested effects (``"indirect[x -> m -> y]"``).  Failed draws are NaN."""
        return pd.DataFrame(self._draws.copy(), columns=list(self.columns))

    @property
    def chisq(self) -> np.ndarray:
        """The model χ² of every draw (NaN where it failed, and for FIML fits)."""
        return self._chisq.copy()

    @property
    def failed(self) -> np.ndarray:
        """Boolean mask of the failed draws."""
        return np.array([bool(r) for r in self.failure_reasons])

    @property
    def n_failed(self) -> int:
        return int(self.failed.sum())

    @property
    def n_ok(self) -> int:
        return self.n - self.n_failed

    def model_test(self) -> tuple[int, int]:
        """The counts behind the bootstrap p-value of the model χ²: the successful draws
        whose χ² exceeds the sample's, and the successful draws (lavaan's
        ``boot.larger`` and ``boot.length``).

        Raises
        ------
        SemnetError
            For an ordinary bootstrap: its draws come from a population where the model
            need not hold, so they say nothing about the χ² test; or when every draw
            failed.
        """
        if not TYPES[self.type].model_based:
            raise SemnetError(
                "the Bollen-Stine p-value is not available for an ordinary bootstrap "
                "(the resampled data do not satisfy the model); run "
                "bootstrap(fit, type='bollen_stine')."
            )
        ok = np.isfinite(self._chisq)
        if not ok.any():
            raise SemnetError("the Bollen-Stine p-value is not available: every draw failed.")
        return int(np.sum(self._chisq[ok] > self.chisq_sample)), int(ok.sum())

    @property
    def bollen_stine_pvalue(self) -> float:
        """Bollen–Stine bootstrap p-value of the model χ²: the share of successful draws
        whose χ² exceeds the sample's (lavaan's ``boot.larger / boot.length``;
        :meth:`model_test`, which says when it is not available)."""
        larger, length = self.model_test()
        return larger / length

    # -- summaries ----------------------------------------------------------------------
    def table(
        self, level: float = 0.95, ci: Sequence[str] | str = ("percentile", "bca")
    ) -> pd.DataFrame:
        """Estimates with bootstrap standard errors and confidence intervals.

        Parameters
        ----------
        level : float
            Confidence level.
        ci : str or sequence of str
            Any of ``"percentile"``, ``"bca"``, ``"bca_simple"``, ``"basic"``,
            ``"normal"`` (see the module docstring).  ``"bca"`` needs the jackknife
            run by ``bootstrap(..., ci=(..., "bca"))``.

        Returns
        -------
        DataFrame
            ``name, lhs, op, rhs, group, label, est, boot_se, n_boot`` and
            ``ci_lower_<method>, ci_upper_<method>`` per method.  ``boot_se`` is the
            standard deviation of the successful draws with divisor ``B`` (as lavaan's
            ``se = "bootstrap"``); for ``:=`` rows and effects too (lavaan's ``:=``
            rows use divisor ``B - 1``, as ``Fit.estimates()`` of a bootstrapped fit
            does).  Effect rows have
            ``op == "effect"``, the effect kind in ``lhs`` and the path in ``rhs``.
        """
        check_level(level)
        methods = _ci_methods(ci)
        if "bca" in methods and self.acceleration is None:
            raise SemnetError(
                "BCa intervals need the jackknife acceleration, which this bootstrap did "
                "not compute; rerun bootstrap(..., ci=('percentile', 'bca'))."
            )
        frame = pd.DataFrame(list(self.rows), columns=["lhs", "op", "rhs", "group", "label"])
        frame.insert(0, "name", list(self.columns))
        frame["group"] = pd.array(list(frame["group"]), dtype=object)
        frame["est"] = self.estimate
        ok = ~self.failed
        D = self._draws[ok]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frame["boot_se"] = np.nanstd(D, axis=0) if len(D) > 1 else np.nan
        frame["n_boot"] = np.isfinite(D).sum(axis=0)
        for m in methods:
            lo = np.empty(len(self.columns))
            hi = np.empty(len(self.columns))
            for k in range(len(self.columns)):
                lo[k], hi[k] = _interval(
                    D[:, k], self.estimate[k], level, m,
                    None if self.acceleration is None else self.acceleration[k],
                )  # fmt: skip
            frame[f"ci_lower_{m}"] = lo
            frame[f"ci_upper_{m}"] = hi
        return frame

    def __repr__(self) -> str:
        return (
            f"<semnet.BootstrapResult {self.type}: {self.n} draws, {self.n_failed} failed, "
            f"{len(self.columns)} quantities>"
        )


# ---------------------------------------------------------------------------------------
# interval arithmetic (lavaan's parameterEstimates)
# ---------------------------------------------------------------------------------------
def _norm_inter(t: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Quantiles of ``t`` at ``alpha`` with interpolation on the normal scale between
    order statistics (``boot:::norm.inter``, as lavaan uses).

    ``ndtri`` and ``ndtr`` are the functions behind ``scipy.stats.norm.ppf`` and
    ``.cdf``, without their per-call overhead.
    """
    t = np.sort(t[np.isfinite(t)])
    R = t.size
    alpha = np.atleast_1d(np.asarray(alpha, dtype=float))
    rk = (R + 1) * alpha
    k = np.trunc(rk).astype(int)
    inner = np.clip(k, 1, R - 1)
    tk, tk1 = t[inner - 1], t[inner]
    with np.errstate(divide="ignore", invalid="ignore"):  # alpha 0 or 1: not used below
        z1, z2, z3 = ndtri(np.stack([alpha, inner / (R + 1), (inner + 1) / (R + 1)]))
        out = tk + (z1 - z2) / (z3 - z2) * (tk1 - tk)
    out = np.where(k == rk, t[inner - 1], out)
    return np.where(k <= 0, t[0], np.where(k >= R, t[R - 1], out))


def _interval(
    t: np.ndarray, est: float, level: float, method: str, accel: float | None
) -> tuple[float, float]:
    t = t[np.isfinite(t)]
    if t.size < 2 or not np.isfinite(est):
        return np.nan, np.nan
    if np.var(t) == 0:
        return est, est
    lower_upper = np.array([(1 - level) / 2, (1 + level) / 2])
    if method == "percentile":
        q = _norm_inter(t, lower_upper)
        return float(q[0]), float(q[1])
    if method == "basic":
        q = _norm_inter(t, lower_upper[::-1])
        return float(2 * est - q[0]), float(2 * est - q[1])
    if method == "normal":
        se = float(np.std(t))
        bias = float(np.mean(t)) - est
        z = ndtri(lower_upper)
        return float(est - bias + se * z[0]), float(est - bias + se * z[1])
    a = 0.0 if method == "bca_simple" else float(accel if accel is not None else np.nan)
    if not np.isfinite(a):
        return np.nan, np.nan
    w = ndtri(np.sum(t < est) / t.size)
    if not np.isfinite(w):  # the estimate lies outside the bootstrap distribution
        return (float(t.min()), float(t.min())) if w < 0 else (float(t.max()), float(t.max()))
    zalpha = ndtri(lower_upper)
    adj = ndtr(w + (w + zalpha) / (1 - a * (w + zalpha)))
    q = _norm_inter(t, adj)
    return float(q[0]), float(q[1])


def _acceleration(jack: np.ndarray) -> np.ndarray:
    """Efron's acceleration from delete-one jackknife values (rows: deletions)."""
    out = np.full(jack.shape[1], np.nan)
    for k in range(jack.shape[1]):
        v = jack[:, k]
        v = v[np.isfinite(v)]
        if v.size < 3:
            continue
        L = v.mean() - v
        s2 = np.sum(L**2)
        out[k] = 0.0 if s2 == 0 else np.sum(L**3) / (6.0 * s2**1.5)
    return out


# ---------------------------------------------------------------------------------------
# the driver
# ---------------------------------------------------------------------------------------
def bootstrap(
    fit,
    n: int = 2000,
    seed: int | np.random.SeedSequence | None = None,
    ci: Sequence[str] | str = ("percentile", "bca"),
    level: float = 0.95,
    n_jobs: int = 1,
    progress: bool | None = None,
    type: str = "ordinary",
    indirect: Mapping[str, Any]
    | Sequence[Mapping[str, Any] | EffectPlan]
    | EffectPlan
    | None = None,
    executor: Executor | None = None,
) -> BootstrapResult:
    """Bootstrap a fitted model: resample cases within groups and refit.

    Parameters
    ----------
    fit : Fit
        An ML fit (estimator ML, MLR or MLM; ``missing="listwise"`` or ``"fiml"``) made
        from raw data.  FIML fits resample their incomplete rows and refit by FIML.
    n : int
        Number of bootstrap draws.
    seed : int or SeedSequence, optional
        Seed of the resampling; the same seed gives the same draws whatever ``n_jobs``
        or ``executor`` is.
    ci : str or sequence of str
        Interval methods the result will be asked for.  With ``"bca"`` the jackknife
        acceleration is computed here (one refit per case).
    level : float
        Default confidence level (stored; :meth:`BootstrapResult.table` takes another).
    n_jobs : int
        Worker processes (``concurrent.futures.ProcessPoolExecutor``); ``-1`` for all
        CPUs.  Ignored when ``executor`` is given.
    progress : bool, optional
        Show a progress bar (``tqdm`` when installed, else a plain counter on stderr).
        Default: only for ``n >= 500`` draws when stderr is a terminal.
    type : {"ordinary", "bollen_stine"}
        Ordinary (case) bootstrap, or Bollen–Stine's model-based bootstrap of the
        data transformed to the model-implied moments (for the χ² p-value).
    indirect : dict or sequence of dicts, optional
        Effects to bootstrap alongside the parameters, each as the arguments of
        :func:`semnet.analyses.mediation.indirect_effects`: ``{"x": ..., "y": ...,
        "m": ...}`` (``m`` optional).
    executor : concurrent.futures.Executor, optional
        Where to run the refits (any executor; a process pool for real parallelism).

    Returns
    -------
    BootstrapResult

    Raises
    ------
    SemnetError
        For fits from summary statistics, the Bollen–Stine bootstrap of a FIML fit, or
        an unknown option.

    Examples
    --------
    >>> import semnet
    >>> from semnet.analyses.bootstrap import bootstrap
    >>> model = '''
    ... x8 ~ a*x7
    ... x9 ~ b*x8 + c*x7
    ... ind := a*b
    ... '''
    >>> fit = semnet.sem(model, semnet.datasets.holzinger_swineford())
    >>> boot = bootstrap(fit, n=200, seed=1, ci="percentile")
    >>> boot.n_failed
    0
    >>> tab = boot.table(ci="percentile")
    >>> row = tab.set_index("name").loc["ind"]
    >>> bool(row.ci_lower_percentile < row.est < row.ci_upper_percentile)
    True
    """
    methods = _check_options(fit, n, ci, level, type)
    check_seed(seed)
    plans = _plans(fit, indirect)
    data = TYPES[type].data(fit)
    refitter = _Refitter(fit, data, plans)
    # before the draws, so that what outputs() caches is ready before a worker is forked
    estimate = refitter.outputs(np.asarray(fit.values, dtype=float))

    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    children = ss.spawn(int(n))
    show = _want_progress(progress, n)
    blocks = [tuple(children[a : a + DRAW_BLOCK]) for a in range(0, len(children), DRAW_BLOCK)]
    out, chisq, reasons = _execute(refitter, blocks, n_jobs, executor, show, "bootstrap")

    accel, jack_failed = None, 0
    if "bca" in methods:
        accel, jack_failed = _jackknife(refitter, data, n_jobs, executor, show)
    _warn_failures(reasons, n)
    estimate.setflags(write=False)
    out.setflags(write=False)
    chisq.setflags(write=False)
    columns, rows = _labels(fit, refitter, plans)
    entropy = (int(ss.entropy) if isinstance(ss.entropy, int | np.integer)
               else int(np.asarray(ss.entropy)[0]))
    return BootstrapResult(
        n=int(n),
        type=type,
        seed_entropy=entropy,
        columns=tuple(columns),
        rows=tuple(rows),
        estimate=estimate,
        _draws=out,
        _chisq=chisq,
        failure_reasons=tuple(reasons),
        acceleration=accel,
        chisq_sample=float(fit.chisq),
        n_jackknife_failed=jack_failed,
    )



def _ci_methods(ci: object) -> list[str]:
    """The interval methods ``ci`` names (one name or a sequence of them)."""
    if isinstance(ci, str):
        ci = [ci]
    if not isinstance(ci, Iterable):
        raise OptionError(
            f"ci must name interval methods, e.g. 'percentile' or ('percentile', 'bca'); "
            f"not {ci!r}."
        )
    methods = list(ci)
    for m in methods:
        check_choice("ci", m, CI_METHODS)
    return methods


def _check_options(fit, n: object, ci: Sequence[str] | str, level: float, type: str) -> list[str]:
    """The interval methods asked for; raises for a bad option or a fit that cannot be
    bootstrapped."""
    check_choice("type", type, tuple(TYPES))
    model_based = TYPES[type].model_based
    methods = _ci_methods(ci)
    if not hasattr(fit, "not_resampled"):
        raise OptionError(
            "bootstrap() takes a Fit (from semnet.sem or semnet.cfa), not "
            f"{fit.__class__.__name__}."
        )
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise OptionError(f"n must be a positive number of draws, not {n!r}.")
    check_level(level)
    if fit.not_resampled is not None:
        raise OptionError(f"the bootstrap of this fit is not available: {fit.not_resampled}.")
    if model_based and fit.patterns is not None:
        raise SemnetError(
            "the Bollen-Stine bootstrap is not available for FIML fits: it transforms the "
            "complete data matrix to the model-implied moments, which incomplete rows do "
            "not allow (lavaan 0.6.14 refuses it under missing data too). Use the ordinary "
            "bootstrap, MLR's Yuan-Bentler scaled test (estimator='MLR'), or fit the "
            "complete cases (missing='listwise')."
        )
    if any(m.data is None for m in fit.moments):
        raise DataError(
            "bootstrap needs the raw data, but this fit was made from summary statistics "
            "(sample_cov); refit with data=."
        )
    if fit.sample.designed and (fit.options.cluster or fit.options.survey):
        raise OptionError(
            "the bootstrap of fits with clusters or a survey design is not available (it "
            "would resample cases as if they were drawn independently); use the fit's "
            "cluster-robust or design-based standard errors."
        )
    if model_based and fit.sample.weights is not None:
        raise OptionError(
            "the Bollen-Stine bootstrap is not available with sampling weights; use the "
            "ordinary bootstrap or the Yuan-Bentler scaled test (estimator='MLR')."
        )
    if fit.sample.ordinal is not None:
        raise OptionError(
            "the bootstrap of ordinal items (refitting thresholds and polychoric "
            "correlations per draw) is not available yet; use the robust standard errors "
            "and scaled tests of WLSMV (se='robust.sem', the default)."
        )
    return methods


def _jackknife(refitter: _Refitter, data, n_jobs, executor, show) -> tuple[np.ndarray, int]:
    """The BCa acceleration from the jackknife on the data actually resampled
    (Bollen-Stine: the transformed data), and the number of failed deletions."""
    specs = [(g, j) for g, d in enumerate(data) for j in range(d.shape[0])]
    blocks = [tuple(specs[a : a + DRAW_BLOCK]) for a in range(0, len(specs), DRAW_BLOCK)]
    jack, _, reasons = _execute(refitter, blocks, n_jobs, executor, show, "jackknife")
    accel = _acceleration(jack)
    accel.setflags(write=False)
    return accel, sum(bool(r) for r in reasons)


def _warn_failures(reasons: Sequence[str], n: int) -> None:
    """Warn (at the caller of :func:`bootstrap`) about the draws that failed."""
    n_failed = sum(bool(r) for r in reasons)
    if n_failed:
        kinds = sorted({r.split(":")[0] for r in reasons if r})
        warnings.warn(
            f"{n_failed} of {n} bootstrap draws failed ({', '.join(kinds)}); they are left "
            "out of the standard errors and intervals.",
            SemnetWarning,
            stacklevel=3,
        )

def _plans(fit, indirect) -> list[EffectPlan]:
    if indirect is None:
        return []
    items: Iterable = [indirect] if isinstance(indirect, Mapping | EffectPlan) else indirect
    plans = []
    for item in items:
        if isinstance(item, EffectPlan):
            plans.append(item)
            continue
        if not isinstance(item, Mapping) or not {"x", "y"} <= set(item):
            raise OptionError(
                "indirect must be a dict like {'x': 'visual', 'y': 'speed'} (optionally "
                f"with 'm'), or a list of them; got {item!r}."
            )
        extra = set(item) - {"x", "y", "m"}
        if extra:
            raise OptionError(f"indirect: unknown key(s) {sorted(extra)}; use x, y and m.")
        plans.append(effect_plan(fit, item["x"], item["y"], item.get("m")))
    return plans


def _labels(fit, refitter: _Refitter, plans: Sequence[EffectPlan]):
    params = fit.partable.params
    multi = fit.partable.ngroups > 1
    columns, rows = [], []
    for r in refitter.out_rows:
        lhs, op, rhs = params["lhs"].iat[r], params["op"].iat[r], params["rhs"].iat[r]
        g = int(params["group"].iat[r])
        name = f"{lhs}{op}{rhs}" + (f".g{g}" if g > 1 else "")
        columns.append(name)
        rows.append(
            (lhs, op, rhs, fit.partable.groups[g - 1] if multi else None, params["label"].iat[r])
        )
    for c in (c for c in fit.partable.constraints if c.op == ":="):
        columns.append(c.lhs)
        rows.append((c.lhs, ":=", c.rhs, None, c.lhs))
    for plan in plans:
        for er in plan.rows:
            columns.append(er.name)
            rows.append((er.kind, "effect", er.path, er.group, ""))
    return columns, rows



def _want_progress(progress: bool | None, n: int) -> bool:
    if progress is not None:
        return bool(progress)
    try:
        return n >= AUTO_PROGRESS and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _execute(
    refitter: _Refitter,
    blocks: Sequence[Sequence],
    n_jobs: int,
    executor: Executor | None,
    show: bool,
    desc: str,
):
    """Run every task, block by block (:meth:`_Refitter.refit_block`), in order,
    serially or on an executor (:func:`semnet.analyses.parallel.map_tasks`: an
    interrupt stops the workers at once)."""
    sizes = [len(b) for b in blocks]
    bar = Progress(sum(sizes), desc, show, unit="draw")
    try:
        done = map_tasks(refitter.refit_block, blocks, n_jobs=n_jobs, executor=executor,
                         progress=bar, sizes=sizes)
    finally:
        bar.close()
    rows = [row for block in done for row in block]
    out = np.full((len(rows), refitter.width), np.nan)
    chisq = np.full(len(rows), np.nan)
    for k, (values, stat, _) in enumerate(rows):
        out[k], chisq[k] = values, stat
    return out, chisq, [why for _, _, why in rows]
