"""Alignment optimization for many groups (Asparouhov & Muthén, 2014): factor means and
variances comparable across groups without exact scalar invariance.

With twenty or sixty countries, exact scalar invariance almost never holds and a
partial-invariance search becomes arbitrary.  Alignment starts from the configural
model (every loading and intercept free, factor means 0 and variances 1 in every group),
then chooses the group factor means and variances that make the implied loadings and
intercepts as similar across groups as possible under a simplicity loss that prefers a
few large differences to many small ones.  The configural fit is unchanged, so the
aligned model fits exactly as well as the configural model.

See docs/many-countries.md for worked examples.

Examples
--------
>>> import semnet
>>> population = '''
... f =~ 0.8*y1 + 0.7*y2 + 0.7*y3 + 0.6*y4
... f ~ c(0, 0.3, -0.2)*1
... '''
>>> data = semnet.simulate(population, {"A": 300, "B": 300, "C": 300}, seed=3)
>>> res = semnet.alignment("f =~ y1 + y2 + y3 + y4", data, group="group", method="FIXED")
>>> res.factor_means()["mean"].round(1).tolist()  # doctest: +SKIP
[0.0, 0.3, -0.2]
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from semnet._blas import one_blas_thread
from semnet.analyses.alignment_check import AlignmentCheck, simulate_check
from semnet.analyses.alignment_invariance import invariant_set
from semnet.analyses.alignment_loss import (
    EPS,
    Identification,
    minimize_loss,
    reported,
    reported_jacobian,
)
from semnet.analyses.parallel import Progress, want_progress
from semnet.api import sem
from semnet.errors import (
    DataError,
    ModelSpecificationError,
    OptionError,
    SemnetError,
    check_choice,
    check_seed,
    warn,
)
from semnet.partable.build import ParTable, partable
from semnet.pipeline.specify import read_model
from semnet.report.tables import Table
from semnet.results.fit import Fit

__all__ = ["NONINVARIANCE_LIMIT", "AlignmentResult", "FactorAlignment", "alignment"]

#: rule of thumb: at most 25% non-invariant parameters (Muthén & Asparouhov, 2014)
NONINVARIANCE_LIMIT = 25.0
#: FREE is poorly identified when the standard error of the common level of the group
#: means exceeds this multiple of the mean standard error of a difference of two means
#: (Mplus does not publish its criterion; in simulations the ratio is near 3 or more
#: with exactly invariant loadings and below 0.6 with 10% or more non-invariant ones)
IDENTIFICATION_RATIO = 2.0
_RESERVED = ("group", "std_lv", "group_equal", "group_partial")


@dataclass(frozen=True)
class FactorAlignment:
    """The alignment of one factor.

    Attributes
    ----------
    factor : str
    items : tuple of str
    values : ndarray
        Group means, variances, aligned loadings (items x groups, row-major) and
        aligned intercepts or thresholds (``levels`` x groups), on the reported scale.
    vcov : ndarray
        Their delta-method covariance matrix.
    loss : float
        The loss at the best start; ``losses`` holds every start's.
    identification_ratio : float
        For FREE: the standard error of the groups' mean level over the mean standard
        error of a difference of two group means (large when FREE is poorly identified);
        ``nan`` for FIXED.
    levels : tuple of str
        The names of the aligned intercepts (``"y1~1"``) and, for ordinal items, of the
        thresholds (``"y1|t1"``, ``"y1|t2"``, ...), in the order of ``values``.
    """

    factor: str
    items: tuple[str, ...]
    values: np.ndarray
    vcov: np.ndarray
    loss: float
    losses: tuple[float, ...]
    identification_ratio: float
    levels: tuple[str, ...]

    def block(self, kind: str, ngroups: int) -> slice:
        """Where ``kind`` (mean, variance, loading, intercept) sits in ``values``;
        ``intercept`` covers the thresholds of ordinal items."""
        nload = len(self.items) * ngroups
        size = {"mean": ngroups, "variance": ngroups, "loading": nload,
                "intercept": len(self.levels) * ngroups}[kind]
        start = {"mean": 0, "variance": ngroups, "loading": 2 * ngroups,
                 "intercept": 2 * ngroups + nload}[kind]
        return slice(start, start + size)


def _check_model(table: ParTable) -> dict[str, list[str]]:
    """Factors and their items; refuses what alignment cannot handle."""
    cols = table.cols
    ops, lhs, rhs = cols["op"], cols["lhs"], cols["rhs"]
    factors: dict[str, list[str]] = {}
    for op, left, right in zip(ops, lhs, rhs, strict=True):
        if op == "~":
            raise ModelSpecificationError(
                f"alignment() takes a measurement model only; the regression "
                f"'{left} ~ {right}' cannot be aligned. Remove the structural part and "
                "align the measurement model."
            )
        if op == "=~" and right not in factors.get(left, []):
            factors.setdefault(left, []).append(right)
    if not factors:
        raise ModelSpecificationError("alignment() needs a model with at least one factor "
                                      "('f =~ y1 + y2 + y3').")
    seen: dict[str, str] = {}
    for factor, items in factors.items():
        for item in items:
            if item in factors:
                raise ModelSpecificationError(
                    f"alignment() needs factors measured by observed items; {factor!r} is "
                    f"measured by the factor {item!r}. Align first-order factors only.")
            if item in seen:
                raise ModelSpecificationError(
                    f"alignment() needs simple structure; item {item!r} loads on both "
                    f"{seen[item]!r} and {factor!r}. Remove the cross-loading.")
            seen[item] = factor
        if len(items) < 3:
            raise ModelSpecificationError(
                f"alignment() needs at least 3 items per factor; {factor!r} has "
                f"{len(items)} ({', '.join(items)}). With fewer, the factor's configural "
                "loadings and intercepts leave nothing to align; add items or drop the factor.")
    return factors


@dataclass(frozen=True)
class _Configural:
    """One factor's configural estimates: ``eta`` stacks the loadings (items x groups)
    then the intercepts and thresholds (``levels`` x groups, a threshold with its sign
    flipped), row-major; ``index`` their places in the fit's vcov, ``sign`` the flips,
    ``rows`` the item of each level."""

    eta: np.ndarray
    index: np.ndarray
    sign: np.ndarray
    rows: np.ndarray
    levels: tuple[str, ...]


def _levels(fit: Fit, items: list[str]) -> list[tuple[int, str, str, str]]:
    """(item index, op, lhs, rhs) of each item's intercept, or of its thresholds when the
    item is ordinal, in the first group's row order."""
    cols, ordinal = fit.partable.cols, set(fit.options.ordered)
    out = []
    for op, left, right, grp in zip(cols["op"], cols["lhs"], cols["rhs"], cols["group"],
                                    strict=True):
        if grp == 1 and left in items and op == ("|" if left in ordinal else "~1"):
            out.append((items.index(left), op, left, right))
    return sorted(out, key=lambda level: level[0])


def _configural(fit: Fit, factor: str, items: list[str]) -> _Configural:
    """Configural loadings, then intercepts and (negated) thresholds, and where they sit
    in the fit's vcov."""
    cols = fit.partable.cols
    ngroups = len(fit.groups)
    levels = _levels(fit, items)
    keys = {("=~", factor, item): k for k, item in enumerate(items)}
    keys.update({(op, left, right): len(items) + k
                 for k, (_, op, left, right) in enumerate(levels)})
    est = np.zeros((len(keys), ngroups))
    index = np.zeros((len(keys), ngroups), int)
    for row, key in enumerate(zip(cols["op"], cols["lhs"], cols["rhs"], strict=True)):
        if key not in keys:
            continue
        if cols["free"][row] == 0:
            raise ModelSpecificationError(
                f"alignment() needs every loading, intercept and threshold free in the "
                f"configural model; {key[1]} {key[0]} {key[2]} is fixed in "
                "the model text. Remove the fixed value.")
        est[keys[key], cols["group"][row] - 1] = fit.values[row]
        index[keys[key], cols["group"][row] - 1] = cols["free"][row] - 1
    flip = np.array([1.0] * len(items) + [-1.0 if op == "|" else 1.0
                                          for _, op, _, _ in levels])
    sign = np.repeat(flip, ngroups)
    names = tuple(f"{left}~1" if op == "~1" else f"{left}|{right}"
                  for _, op, left, right in levels)
    return _Configural(est.reshape(-1) * sign, index.reshape(-1), sign,
                       np.array([level[0] for level in levels]), names)


def _identification_ratio(cov: np.ndarray, nobs: np.ndarray) -> float:
    g = nobs.size
    share = nobs / nobs.sum()
    level = float(np.sqrt(max(share @ cov @ share, 0.0)))
    pairs = float(np.mean([np.sqrt(max(cov[i, i] + cov[j, j] - 2 * cov[i, j], 0.0))
                           for i in range(g) for j in range(i + 1, g)]))
    return level / pairs if pairs > 0 else np.inf


def _align_factor(fit: Fit, factor: str, items: list[str], ident: Identification,
                  starts: int, seed: int) -> FactorAlignment:
    conf = _configural(fit, factor, items)
    eta, rows = conf.eta, conf.rows
    shape = (len(items), len(fit.groups))
    nobs = np.array([fit.nobs[g] for g in fit.groups], dtype=float)
    w = np.sqrt(np.outer(nobs, nobs))
    nload = shape[0] * shape[1]
    lam0, nu0 = eta[:nload].reshape(shape), eta[nload:].reshape(-1, shape[1])
    theta, loss, losses = minimize_loss(ident, lam0, nu0, w, starts=starts, seed=seed,
                                        rows=rows)
    jac, hess = reported_jacobian(theta, eta, ident, shape, w, rows)
    # thresholds were aligned as minus intercepts: flip them back on both sides
    sign = np.concatenate([np.ones(2 * shape[1]), conf.sign])
    jac = sign[:, None] * jac * conf.sign[None, :]
    vcov = jac @ fit.vcov_free[np.ix_(conf.index, conf.index)] @ jac.T
    ratio = np.nan
    if ident.method == "FREE":
        means = slice(0, shape[1])
        ratio = (_identification_ratio(vcov[means, means], nobs)
                 if np.linalg.eigvalsh(hess).min() > 0 else np.inf)
    return FactorAlignment(factor, tuple(items), sign * reported(theta, eta, ident, shape, rows),
                           vcov, loss, tuple(losses), ratio, conf.levels)


@dataclass(frozen=True)
class AlignmentResult:
    """Aligned factor means and variances, aligned loadings and intercepts, and the
    approximate-invariance tests.  Created by :func:`alignment`.

    Attributes
    ----------
    method : {"FREE", "FIXED"}
    reference : str
        FIXED: the group with mean 0 and variance 1.  FREE: the group whose variance is
        1 on the reported scale (its mean is estimated).
    configural : Fit
        The configural fit the alignment starts from (its fit measures are the aligned
        model's).
    factors : tuple of FactorAlignment
    warnings : tuple of str
    model : str
        The model text (for :meth:`simulate_check`).
    options : dict
        The options of the call (``estimator``, ``starts``, ``seed`` and the fit's
        keyword arguments), for :meth:`simulate_check`.
    """

    method: str
    reference: str
    configural: Fit
    factors: tuple[FactorAlignment, ...]
    warnings: tuple[str, ...] = field(default=())
    model: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    def simulate_check(
        self, reps: int = 100, seed: int | None = None, n_jobs: int = 1,
        executor: Executor | None = None, progress: bool | None = None,
    ) -> AlignmentCheck:
        """Monte Carlo quality check: ``reps`` data sets generated from this aligned
        solution (the groups' sizes), each aligned again the same way; the correlation
        of generating and estimated group means (Asparouhov & Muthén want .98 or more),
        its spread, and each group's bias.  ``n_jobs`` / ``executor`` run the
        replications in parallel, with the same results for a seed.  ``progress``
        shows a bar over the replications (default: only when stderr is a terminal).

        Returns
        -------
        AlignmentCheck
            ``.summary`` (per factor), ``.groups`` (per factor and group),
            ``.correlations`` (per replication).

        Examples
        --------
        >>> res.simulate_check(reps=50, seed=1).summary  # doctest: +SKIP
        """
        if self.configural.options.ordered:
            raise OptionError(
                "simulate_check() generates continuous items from the aligned intercepts; "
                "this alignment has ordinal items (thresholds), which it cannot generate "
                "yet. Check the ordinal solution by simulating data with "
                "semnet.simulate() and cut points of your own, and aligning them.")
        return simulate_check(self, alignment, reps, seed, n_jobs, executor, progress)

    @property
    def groups(self) -> list[str]:
        return self.configural.groups

    def _nobs(self) -> np.ndarray:
        return np.array([self.configural.nobs[g] for g in self.groups], dtype=float)

    def factor_means(self) -> pd.DataFrame:
        """Aligned factor means and variances per group.

        Standard errors are delta-method: the configural model's covariance matrix of
        the loadings and intercepts, carried through the alignment optimum by the
        implicit function theorem (the optimum moves with the configural estimates as
        ``-H^-1 G``, ``H`` the Hessian of the loss in the free means and log variances
        and ``G`` its cross-derivative with the configural estimates, both central
        differences of the analytic gradient).  The FIXED reference group's mean and
        variance are fixed (standard error 0).

        Returns
        -------
        DataFrame
            ``group, factor, mean, variance, se, se_variance``.

        Examples
        --------
        >>> res.factor_means().columns.tolist()  # doctest: +SKIP
        ['group', 'factor', 'mean', 'variance', 'se', 'se_variance']
        """
        g, rows = len(self.groups), []
        for fa in self.factors:
            se = np.sqrt(np.maximum(np.diag(fa.vcov), 0.0))
            mean, var = fa.block("mean", g), fa.block("variance", g)
            rows.append(pd.DataFrame({
                "group": self.groups, "factor": fa.factor, "mean": fa.values[mean],
                "variance": fa.values[var], "se": se[mean], "se_variance": se[var]}))
        return pd.concat(rows, ignore_index=True)

    def parameters(self) -> pd.DataFrame:
        """Aligned loadings and intercepts per group, with delta-method standard errors.

        Returns
        -------
        DataFrame
            ``factor, param, group, est, se`` with ``param`` in lavaan's spelling
            (``"f=~y1"``, ``"y1~1"``, ``"y1|t1"``); loadings first, then intercepts
            and thresholds.

        Examples
        --------
        >>> res.parameters().query("param == 'f=~y1'")  # doctest: +SKIP
        """
        g, rows = len(self.groups), []
        for fa in self.factors:
            se = np.sqrt(np.maximum(np.diag(fa.vcov), 0.0))
            for kind in ("loading", "intercept"):
                part = fa.block(kind, g)
                names = ([f"{fa.factor}=~{i}" for i in fa.items] if kind == "loading"
                         else list(fa.levels))
                rows.append(pd.DataFrame({
                    "factor": fa.factor, "param": np.repeat(names, g),
                    "group": np.tile(self.groups, len(names)),
                    "est": fa.values[part], "se": se[part]}))
        return pd.concat(rows, ignore_index=True)

    def invariance(self) -> pd.DataFrame:
        """Mplus's approximate-invariance procedure, per aligned parameter.

        For each loading and intercept: the largest set of groups whose aligned values do
        not differ pairwise (p > .01), then each group against the sample-size weighted
        mean of that set (p > .001), repeated until the set is stable (see
        :mod:`semnet.analyses.alignment_invariance`).

        Returns
        -------
        DataFrame
            ``factor, param, group, invariant, est, set_mean, diff, se, pvalue``: one row
            per parameter and group; ``set_mean`` is the invariant set's weighted mean
            and ``diff, se, pvalue`` the test of the group against it.

        Examples
        --------
        >>> res.invariance().query("not invariant")  # doctest: +SKIP
        """
        params = self.parameters()
        g, nobs, rows = len(self.groups), self._nobs(), []
        for fa in self.factors:
            offset = 2 * g
            for k, param in enumerate(params.loc[params["factor"] == fa.factor, "param"]
                                      .unique()):
                idx = np.arange(offset + k * g, offset + (k + 1) * g)
                out = invariant_set(fa.values[idx], fa.vcov[np.ix_(idx, idx)], nobs)
                rows.append(pd.DataFrame({
                    "factor": fa.factor, "param": param, "group": self.groups,
                    "invariant": out.invariant, "est": fa.values[idx],
                    "set_mean": out.set_mean, "diff": out.diff, "se": out.se,
                    "pvalue": out.pvalue}))
        return pd.concat(rows, ignore_index=True)

    def noninvariance(self) -> pd.DataFrame:
        """The share of non-invariant parameters per factor and overall, against the
        rule of thumb that alignment is trustworthy with at most 25% (Muthén &
        Asparouhov, 2014).

        Returns
        -------
        DataFrame
            ``factor, n_parameters, n_noninvariant, percent, within_limit``; the last
            row, ``factor == "all"``, pools every factor.

        Examples
        --------
        >>> res.noninvariance()  # doctest: +SKIP
        """
        inv = self.invariance()
        per = inv.groupby("factor", sort=False)["invariant"].agg(["size", "sum"])
        per.loc["all"] = per.sum()
        out = pd.DataFrame({"factor": per.index, "n_parameters": per["size"].to_numpy(),
                            "n_noninvariant": (per["size"] - per["sum"]).to_numpy()})
        out["percent"] = 100.0 * out["n_noninvariant"] / out["n_parameters"]
        out["within_limit"] = out["percent"] <= NONINVARIANCE_LIMIT
        return out

    def table(self, digits: int = 3) -> Table:
        """The aligned factor means and variances as a report :class:`Table`.

        Examples
        --------
        >>> print(res.table().to_markdown())  # doctest: +SKIP
        """
        shares = self.noninvariance().set_index("factor")["percent"]
        ident = ("mean 0 and variance 1" if self.method == "FIXED" else "variance 1")
        notes = (
            f"Alignment optimization ({self.method}; Asparouhov & Muthén, 2014) of the "
            f"configural {self.configural.options.estimator} model; reference group "
            f"{self.reference} with {ident}; component loss (x^2 + {EPS})^(1/4), weights "
            "sqrt(n_g n_h); delta-method standard errors." + (
                " Ordinal items: theta parameterization, each threshold aligned as minus "
                "an intercept." if self.configural.options.ordered else ""),
            "Non-invariant parameters: " + "; ".join(
                f"{f} {p:.1f}%" for f, p in shares.items()) + f" (rule of thumb: at most "
            f"{NONINVARIANCE_LIMIT:.0f}%).",
            *self.warnings,
        )
        return Table("alignment_factor_means", "Aligned factor means and variances",
                     self.factor_means(), notes=notes, digits=digits)

    def to_markdown(self, digits: int = 3) -> str:
        """:meth:`table` as Markdown."""
        return self.table(digits).to_markdown()

    def __repr__(self) -> str:
        return (f"<AlignmentResult {self.method}, {len(self.groups)} groups, factors "
                f"{', '.join(fa.factor for fa in self.factors)}>")


def _poor_identification(res: list[FactorAlignment], groups: list[str]) -> tuple[str, ...]:
    messages = []
    for fa in res:
        if fa.identification_ratio > IDENTIFICATION_RATIO:
            means = fa.values[: len(groups)]
            closest = groups[int(np.argmin(np.abs(means)))]
            messages.append(
                f"FREE alignment of factor {fa.factor!r} is poorly identified (the common "
                f"level of the group means has a standard error {fa.identification_ratio:.2f} "
                f"times that of a mean difference; this happens when the loadings are close "
                f"to invariant). As Mplus advises, use method='FIXED' with "
                f"reference={closest!r}, the group whose FREE mean is closest to 0.")
    return tuple(messages)


def _configural_fit(model: str, data: Any, group: str, estimator: str | None,
                    fit_args: dict[str, Any]) -> Fit:
    """The configural fit, refused when it has one group or no covariance matrix."""
    fit = sem(model, data, group=group, std_lv=True, estimator=estimator, **fit_args)
    if len(fit.groups) < 2:
        raise DataError(
            f"alignment() needs at least two groups; the column {group!r} has one "
            f"({fit.groups[0]!r}). Fit a single-group model with semnet.cfa() instead.")
    if fit.vcov_free is None:
        raise SemnetError(
            "alignment() needs the configural model's covariance matrix of the estimates "
            "(for the standard errors and the invariance tests); this fit has none because "
            "its information matrix is singular. Check that the configural model is "
            "identified in every group.")
    return fit


@one_blas_thread
def alignment(model: str, data: Any, group: str | None = None, method: str = "FREE",
              reference: str | None = None, estimator: str | None = None, *,
              ordered: Sequence[str] | bool | None = None, starts: int = 10,
              seed: int = 1, progress: bool | None = None,
              **fit_args: Any) -> AlignmentResult:
    """Alignment optimization of a multi-group factor model (Asparouhov & Muthén, 2014).

    Fits the configural model once (``semnet.sem(model, data, group=group,
    std_lv=True, ...)``: loadings and intercepts free, factor means 0 and variances 1
    in every group), then, per factor, finds the group factor means ``alpha_g`` and
    variances ``psi_g`` that minimize

        sum_j sum_{g<h} w_gh f(lam_jg1 - lam_jh1) + sum_j sum_{g<h} w_gh f(nu_jg1 - nu_jh1)

    with ``lam_jg1 = lam_jg0 / sqrt(psi_g)``, ``nu_jg1 = nu_jg0 - alpha_g lam_jg1``,
    ``f(x) = (x^2 + 0.01)^(1/4)`` and ``w_gh = sqrt(n_g n_h)`` (Mplus's choices).

    Ordinal items (``ordered=``) are fitted by WLSMV in the theta parameterization
    (residual variances of the latent responses 1 in every group, as Mplus's probit
    models for categorical items): ``y* = lam eta + e`` and ``y = k`` when
    ``tau_k-1 < y* <= tau_k``, so a threshold acts as minus an intercept and aligns as
    ``tau_jkg1 = tau_jkg0 + alpha_g lam_jg1``.  Each threshold of each item is a
    component of the loss, each loading one, as in Mplus's alignment of categorical
    items.  (In the delta parameterization the aligned loadings ``lam / sd_g(y*)`` would
    differ across groups whenever the factor variances do.)

    Parameters
    ----------
    model : str
        A measurement model in lavaan syntax: first-order factors, simple structure, at
        least three items per factor (residual covariances are allowed).
    data : DataFrame
        The items (continuous, or ordinal with ``ordered=``) and the group column.
    group : str
        The group column; at least two groups.
    method : {"FREE", "FIXED"}
        ``"FIXED"``: the reference group has mean 0 and variance 1.  ``"FREE"`` (Mplus's
        default): every group's mean is free, and the reference group has variance 1.
        In both, the loss is minimized with the variances' product fixed at 1 (the scale
        Mplus uses, as in sirt's emulation of it; fixing one variance at 1 lets the
        others grow without bound), and the solution is then rescaled so that the
        reference group has variance 1 (means and variances rescale together; the
        aligned intercepts do not change).  FREE is identified only through
        non-invariant loadings: when it is poorly identified, a ``SemnetWarning`` advises
        FIXED with the group whose mean is closest to 0, as Mplus does.
    reference : str, optional
        The reference group (default: the first).
    estimator : str, optional
        ``"ML"`` (default) or ``"MLR"`` for continuous items, ``"WLSMV"`` (default) or
        another least-squares estimator for ordinal ones (standard errors follow the
        configural fit's), passed to ``semnet.sem`` with the other keyword arguments
        (e.g. ``missing="fiml"``).
    ordered : list of str or bool, optional
        The ordinal items (``True``: all), as in ``semnet.cfa``; their thresholds are
        aligned in place of intercepts.
    starts : int
        Starting values for the alignment optimization (all means 0 and variances 1;
        medians of the configural loadings and intercepts; random draws).  The best is
        reported; the runs stop once three of them have reached the best loss. Every
        run's loss is in ``FactorAlignment.losses``.
    seed : int
        Seed of the random starts.
    progress : bool, optional
        Show a progress bar over the factors (``tqdm`` when installed, the
        ``[progress]`` extra).  Default: only when stderr is a terminal.

    Returns
    -------
    AlignmentResult

    Examples
    --------
    >>> import semnet
    >>> data = semnet.simulate("f =~ 0.8*y1 + 0.7*y2 + 0.7*y3\\nf ~ c(0, 0.4)*1",
    ...                        {"A": 300, "B": 300}, seed=1)
    >>> res = semnet.alignment("f =~ y1 + y2 + y3", data, group="group", method="FIXED")
    >>> res.factor_means()[["group", "mean"]].shape
    (2, 2)
    """
    method = check_choice("method", str(method).upper(), ("FREE", "FIXED"))
    clash = [k for k in _RESERVED if k in fit_args]
    if clash:
        raise OptionError(
            f"alignment() sets {', '.join(clash)} itself (the configural model); remove "
            f"{', '.join(repr(k) for k in clash)} from the call.")
    if group is None:
        raise DataError("alignment() compares groups; name the group column with group=.")
    if not isinstance(starts, int) or starts < 1:
        raise OptionError(f"starts must be a whole number >= 1, not {starts!r}.")
    check_seed(seed)
    if fit_args.get("parameterization", "theta") != "theta":
        raise OptionError(
            f"alignment() fits ordinal items in the theta parameterization (residual "
            f"variances 1 in every group, as Mplus); parameterization="
            f"{fit_args['parameterization']!r} would make the aligned loadings differ "
            "with the factor variances. Remove parameterization=.")
    factors = _check_model(partable(read_model(model), groups=2, std_lv=True))
    if ordered:
        fit_args = {**fit_args, "ordered": ordered, "parameterization": "theta"}
    fit = _configural_fit(model, data, group, estimator, fit_args)
    groups = fit.groups
    ref = groups[0] if reference is None else reference
    if ref not in groups:
        raise OptionError(f"reference={reference!r} is not a group; the groups are "
                          f"{', '.join(map(repr, groups))}.")
    ident = Identification(method, len(groups), groups.index(ref))
    bar = Progress(len(factors), "alignment", want_progress(progress, len(factors), 1),
                   unit="factor")
    res = []
    try:
        for f, items in factors.items():
            res.append(_align_factor(fit, f, items, ident, starts, seed))
            bar.update(1)
    finally:
        bar.close()
    messages = _poor_identification(res, groups) if method == "FREE" else ()
    for message in messages:
        warn(message)
    options = {"estimator": fit.options.estimator, "starts": starts, "seed": seed, **fit_args}
    return AlignmentResult(method, ref, fit, tuple(res), messages, read_model(model), options)
