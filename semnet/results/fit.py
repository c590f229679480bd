"""The immutable result of fitting a model: estimates, standard errors, fit measures."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
from scipy import special

from semnet._blas import one_blas_thread
from semnet.data.missing import pairwise_moments
from semnet.data.moments import GroupMoments, data_fingerprint
from semnet.data.sample import Sample
from semnet.errors import OptionError, SemnetError, check_choice, check_level
from semnet.estimation.constraints import LinearConstraints, ParameterNames
from semnet.estimation.discrepancy import Discrepancy, discrepancy
from semnet.estimation.dwls import ordinal_values
from semnet.inference.catml import catml_corrected
from semnet.inference.fiml_corrected import FimlCorrected, fiml_corrected
from semnet.inference.robust import ScaledTest
from semnet.inference.vcov import tangent_basis
from semnet.matrices.ram import Model
from semnet.options import Options
from semnet.partable.build import ParTable
from semnet.report.summary import Summary
from semnet.results.estimates import (
    FittedRows,
    implied_frames,
    normal_quantile,
    parameter_se,
)
from semnet.results.fit_measures import (
    GroupFitInput,
    MissingDataInput,
    ScaledInput,
    fit_measures,
)
from semnet.results.fit_measures.ordinal import WlsGroup, ordinal_fit_measures
from semnet.results.hypothesis import score_test, wald
from semnet.results.modindices import modification_indices
from semnet.results.standardize import standardize, standardize_all

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from semnet.analyses.bootstrap import BootstrapResult


#: the options a fit was made with (an alias kept for code written before Options)
FitOptions = Options


@dataclass(frozen=True, eq=False)
class Fit(FittedRows):
    """A fitted model.  Created by :func:`semnet.sem` / :func:`semnet.cfa`; never mutated.

    Attributes
    ----------
    partable : ParTable
        The model's parameter table.
    converged : bool
    groups : list of str
        Group labels (``[""]`` for a single-group model).
    nobs : dict
        Cases used per group.
    bootstrap : BootstrapResult or None
        The bootstrap draws behind bootstrap standard errors (``sem(...,
        bootstrap=N)`` or :meth:`with_bootstrap`); ``None`` otherwise.
    bootstrap_test : BootstrapResult or None
        The Bollen–Stine draws behind ``test="bollen_stine"`` (or
        :meth:`with_bootstrap_test`): ``fit.bootstrap_test.bollen_stine_pvalue`` is the
        bootstrap p-value of the model χ², reported in :meth:`tests`; ``None`` otherwise.
    """

    partable: ParTable
    model: Model
    sample: Sample
    options: Options
    constraints: LinearConstraints
    x: np.ndarray
    values: np.ndarray
    fmin: float
    vcov_free: np.ndarray | None
    scaled_test: ScaledTest | None
    baseline_scaled_test: ScaledTest | None
    converged: bool
    iterations: int
    message: str
    warnings: tuple[str, ...] = ()
    #: :attr:`meta` as the fit was made, the data's SHA-256 ``None`` for raw data
    record: dict[str, Any] = field(default_factory=dict)
    bootstrap: BootstrapResult | None = field(default=None, repr=False)
    bootstrap_test: BootstrapResult | None = field(default=None, repr=False)
    #: why :func:`semnet.bootstrap` cannot refit this kind of fit (``None``: it can)
    not_resampled: ClassVar[str | None] = None

    # -- basic facts ------------------------------------------------------------------
    @property
    def moments(self) -> tuple[GroupMoments, ...]:
        """Per-group sample moments (and cases) the fit was made from."""
        return self.sample.moments

    @property
    def patterns(self) -> tuple | None:
        """Missing-data patterns per group (``missing="fiml"``), else ``None``."""
        return self.sample.patterns

    @cached_property
    def missing_info(self) -> MissingDataInput | None:
        """The likelihoods of a FIML fit (model, saturated and baseline), else ``None``."""
        if self.sample.fiml is None:
            return None
        logl_h1 = self.sample.logl_h1
        fiml = self.sample.fiml
        # with fixed.x covariates lavaan reports the likelihoods less the covariates' own
        # (complete-data, saturated) log-likelihood: at their fixed (EM) moments for the
        # model, at their sample moments for the unrestricted model
        logl_x = 0.0 if fiml.logl_x is None else float(fiml.logl_x.sum())
        logl_x_h1 = 0.0 if fiml.logl_x_h1 is None else float(fiml.logl_x_h1.sum())
        return MissingDataInput(
            logl=logl_h1 - self.ntotal * self.fmin - logl_x,
            unrestricted_logl=logl_h1 - logl_x_h1,
            baseline_chisq=2.0 * (logl_h1 - float(fiml.baseline_logl.sum())),
        )

    @property
    def ntotal(self) -> float:
        """The number of cases (with sampling weights: the sum of the weights)."""
        return sum(m.size for m in self.moments)

    def discrepancy(self, model: Model | None = None, values: np.ndarray | None = None
                    ) -> Discrepancy:
        """The fit's discrepancy function (as its options name it: ML, or FIML for
        incomplete data), for ``model`` (default: the fitted one) with fixed rows taken
        from ``values``."""
        model = self.model if model is None else model
        values = self.values if values is None else values
        return discrepancy(self.options.discrepancy, model, self.sample, values)

    @cached_property
    def meta(self) -> dict[str, Any]:
        """semnet version, product terms built (``interaction``), SHA-256 of the data
        (``data_sha256``), optimizer and timings.  The rows of raw data are hashed here,
        on first use: the fit itself does not need their hash."""
        meta = dict(self.record)
        if "data_sha256" in meta and meta["data_sha256"] is None:
            meta["data_sha256"] = data_fingerprint(self.moments)
        return meta

    @cached_property
    def _names(self) -> ParameterNames:
        return ParameterNames(self.partable)

    @cached_property
    def _ndef(self) -> int:
        """Number of ``:=`` definitions (without building :attr:`_names`)."""
        return sum(c.op == ":=" for c in self.partable.constraints)

    @property
    def npar(self) -> int:
        """Free parameters after equality constraints (lavaan's fitMeasures npar)."""
        return self.model.nfree - self.constraints.n_eq

    @property
    def ndat(self) -> int:
        """Sample moments the model reproduces (less those of fixed.x covariates)."""
        return self.partable.ndat(self.options.fixed_x)

    @property
    def df(self) -> int:
        return self.ndat - self.npar

    @property
    def chisq(self) -> float:
        return 2.0 * self.ntotal * self.fmin

    # -- estimates --------------------------------------------------------------------
    @cached_property
    def _row_se(self) -> np.ndarray:
        """Standard errors of parameter rows then ``:=`` rows (0 for fixed rows)."""
        free = self.partable.cols["free"]
        se = parameter_se(free, self.vcov_free)
        ndef = self._ndef
        if not ndef:
            return se
        if self.vcov_free is None:
            return np.concatenate([se, np.full(ndef, np.nan)])
        if self.bootstrap is not None:
            # lavaan: the standard deviation of the definitions' draws (divisor B - 1)
            nfree_rows = int((free > 0).sum())
            draws = self.bootstrap.draws.to_numpy()[~self.bootstrap.failed]
            return np.concatenate(
                [se, np.std(draws[:, nfree_rows : nfree_rows + ndef], axis=0, ddof=1)]
            )
        J = self.jacobian(lambda v: self._names.defined(v))
        cov = J @ self.vcov_free @ J.T
        return np.concatenate([se, np.sqrt(np.clip(np.diag(cov), 0, None))])

    def jacobian(self, func) -> np.ndarray:
        """Numerical Jacobian of ``func(row values)`` w.r.t. the free parameters
        (central differences; a non-finite ``:=`` value is reported by the fit's
        warnings, not by numpy's)."""
        x = self.x
        cols = []
        with np.errstate(all="ignore"):
            for k in range(x.size):
                h = 1e-6 * max(1.0, abs(x[k]))
                xp, xm = x.copy(), x.copy()
                xp[k] += h
                xm[k] -= h
                # (rows derived from the free ones, as ordinal residual variances, move too)
                fp = func(ordinal_values(self.model, self.model.values(xp, self.values)))
                fm = func(ordinal_values(self.model, self.model.values(xm, self.values)))
                cols.append((fp - fm) / (2 * h))
        return np.column_stack(cols) if cols else np.zeros((0, 0))

    @cached_property
    def _all_est(self) -> np.ndarray:
        if self._ndef:
            return np.concatenate([self.values, self._names.defined(self.values)])
        return self.values.copy()

    def estimates(
        self, standardized: bool = True, level: float = 0.95, boot_ci: str = "percentile"
    ) -> pd.DataFrame:
        """Parameter estimates with SEs, z tests, confidence intervals (lavaan's
        ``parameterEstimates()``).

        Parameters
        ----------
        standardized : bool
            Add the ``std_lv`` and ``std_all`` columns.
        level : float
            Confidence level of ``ci_lower`` / ``ci_upper``.
        boot_ci : str
            With bootstrap standard errors: the interval of the draws (lavaan's
            ``boot.ci.type``), one of ``"percentile"`` (lavaan's default ``"perc"``),
            ``"bca_simple"``, ``"basic"``, ``"normal"`` and, when the bootstrap computed
            the jackknife, ``"bca"``.  Ignored otherwise (Wald intervals).

        Returns
        -------
        DataFrame
            ``lhs, op, rhs, group, label, est, se, z, pvalue, ci_lower, ci_upper``
            (+ ``std_lv, std_all``), one row per parameter, then the ``:=`` rows.

        Examples
        --------
        >>> import semnet
        >>> fit = semnet.cfa("visual =~ x1 + x2 + x3", semnet.datasets.holzinger_swineford())
        >>> fit.estimates().loc[1, ["lhs", "op", "rhs", "est"]].tolist()  # doctest: +SKIP
        ['visual', '=~', 'x2', 0.7779...]
        """
        check_level(level)
        interval = None if self.bootstrap is None else self._bootstrap_interval(level, boot_ci)
        std = None
        if standardized:
            names = self._names if self._ndef else None
            std = standardize_all(self.model, names, self.values)
        return self._estimates_table(self._all_est, self._row_se, level, interval, std)

    def _bootstrap_interval(self, level: float, method: str) -> tuple[np.ndarray, np.ndarray]:
        """Bootstrap interval of every parameter row then every ``:=`` row (NaN for
        fixed rows)."""
        table = self.bootstrap.table(level=level, ci=method)
        free = self.partable.params["free"].to_numpy() > 0
        nrows, ndef = free.size, self._ndef
        out = []
        for side in ("lower", "upper"):
            col = table[f"ci_{side}_{method}"].to_numpy()
            values = np.full(nrows + ndef, np.nan)
            values[:nrows][free] = col[: free.sum()]
            values[nrows:] = col[free.sum() : free.sum() + ndef]
            out.append(values)
        return out[0], out[1]

    def with_bootstrap(self, boot: BootstrapResult, warnings: tuple[str, ...] = ()) -> Fit:
        """A new fit whose standard errors and intervals come from ``boot`` (lavaan's
        ``se = "bootstrap"``); this fit is not changed.

        ``vcov_free`` becomes the covariance matrix of the successful draws of the free
        parameters (divisor ``B``, as lavaan), so the standard errors are the standard
        deviations of the draws, and the standardized solution gets delta-method
        standard errors from it.  A ``:=`` row's standard error is the standard
        deviation of its draws (divisor ``B - 1``, as lavaan's ``cov()``).
        ``estimates()`` reports intervals of the draws (percentile by default).

        Parameters
        ----------
        boot : BootstrapResult
            ``semnet.bootstrap(fit, ...)`` of this fit.
        warnings : tuple of str
            Messages to add to the new fit's warnings.

        Returns
        -------
        Fit
        """
        self._check_bootstrap_of(boot)
        free = self.partable.params["free"].to_numpy()
        rows = np.flatnonzero(free > 0)
        draws = boot.draws.to_numpy()[~boot.failed][:, : rows.size]
        if draws.shape[0] < 2:
            raise SemnetError(
                f"bootstrap standard errors need at least two successful draws; "
                f"{draws.shape[0]} of {boot.n} succeeded. Check the model, or draw more."
            )
        # the first row of each free parameter carries its draws (tied rows are equal)
        first = np.unique(free[rows] - 1, return_index=True)[1]
        x_draws = draws[:, first]
        centred = x_draws - x_draws.mean(axis=0)
        vcov = centred.T @ centred / x_draws.shape[0]
        return replace(
            self,
            vcov_free=vcov,
            options=replace(self.options, se="bootstrap"),
            warnings=self.warnings + tuple(warnings),
            bootstrap=boot,
        )

    def _check_bootstrap_of(self, boot: BootstrapResult) -> None:
        """Raise unless ``boot`` was made from this fit (its estimates are this fit's)."""
        if not all(hasattr(boot, a) for a in ("columns", "estimate", "draws", "failed")):
            raise OptionError(
                f"expected the BootstrapResult of semnet.bootstrap(fit, ...), not "
                f"{type(boot).__name__}."
            )
        params = self.partable.params
        rows = np.flatnonzero(params["free"].to_numpy() > 0)
        ndef = self._ndef
        n_cols = rows.size + ndef
        if len(boot.columns) < n_cols or not np.allclose(
            boot.estimate[:n_cols], self._all_est[np.r_[rows, len(params) + np.arange(ndef)]],
            rtol=1e-8, atol=1e-10,
        ):  # fmt: skip
            raise OptionError(
                "this bootstrap was not made from this fit (its estimates differ); pass "
                "semnet.bootstrap(fit, ...) of the same fit."
            )

    def with_bootstrap_test(self, boot: BootstrapResult) -> Fit:
        """A new fit whose model χ² carries the Bollen–Stine bootstrap p-value of
        ``boot`` (lavaan's ``test = "bollen.stine"``); this fit is not changed.

        The statistic and its degrees of freedom stay the fit's; the p-value is the share
        of the successful draws whose χ² exceeds it (lavaan's ``boot.larger /
        boot.length``).  :meth:`tests` and :meth:`summary` report it;
        ``fit_measures()`` keeps the χ² p-value, as lavaan's ``fitMeasures()``.

        Parameters
        ----------
        boot : BootstrapResult
            ``semnet.bootstrap(fit, type="bollen_stine")`` of this fit.

        Returns
        -------
        Fit

        Raises
        ------
        SemnetError
            For an ordinary bootstrap (its data need not satisfy the model), or one whose
            draws all failed.

        Examples
        --------
        >>> import semnet
        >>> fit = semnet.cfa("textual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9",
        ...                  semnet.datasets.holzinger_swineford())
        >>> boot = semnet.bootstrap(fit, n=50, seed=1, ci="percentile", type="bollen_stine")
        >>> float(fit.with_bootstrap_test(boot).tests().loc["bollen_stine", "boot_length"])
        50.0
        """
        self._check_bootstrap_of(boot)
        boot.model_test()  # (raises for an ordinary bootstrap)
        return replace(self, bootstrap_test=boot)

    def tests(self) -> pd.DataFrame:
        """The model tests, one row each (lavaan's ``lavInspect(fit, "test")``).

        Returns
        -------
        DataFrame
            Indexed by the test's name (``"standard"``, then the scaled test or
            ``"bollen_stine"``), with ``stat, df, pvalue, refdistr`` and, for a scaled
            test, ``scaling_factor`` and ``shift_parameter``; for the bootstrap test
            ``boot_larger`` and ``boot_length`` (successful draws).

        Examples
        --------
        >>> import semnet
        >>> fit = semnet.cfa("textual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9",
        ...                  semnet.datasets.holzinger_swineford(), estimator="MLR")
        >>> fit.tests().index.tolist()
        ['standard', 'yuan_bentler_mplus']
        """
        fm = self._fit_measures
        rows = {"standard": {"stat": self.chisq, "df": float(self.df),
                             "pvalue": fm.get("pvalue", np.nan), "refdistr": "chisq"}}
        t = self.scaled_test
        if t is not None:
            rows[t.name] = {
                "stat": t.stat, "df": float(t.df), "pvalue": fm.get("pvalue_scaled", np.nan),
                "refdistr": "chisq", "scaling_factor": t.scaling_factor,
                "shift_parameter": t.shift_parameter,
            }  # fmt: skip
        boot = self.bootstrap_test
        if boot is not None:
            larger, length = boot.model_test()
            rows["bollen_stine"] = {
                "stat": self.chisq, "df": float(self.df), "pvalue": larger / length,
                "refdistr": "bootstrap", "boot_larger": float(larger),
                "boot_length": float(length),
            }  # fmt: skip
        return pd.DataFrame.from_dict(rows, orient="index")

    def standardized(self, type: str = "std_all", level: float = 0.95) -> pd.DataFrame:
        """Standardized solution with delta-method SEs (lavaan's ``standardizedSolution()``).

        Parameters
        ----------
        type : {"std_all", "std_lv"}
        level : float

        Returns
        -------
        DataFrame
            ``lhs, op, rhs, group, label, est_std, se, z, pvalue, ci_lower, ci_upper``.
        """
        if type not in ("std_all", "std_lv"):
            check_choice("type", type, ("std_all", "std_lv"))
        check_level(level)
        est = standardize(self.model, self._names, self.values, type)
        if self.vcov_free is None:
            se = np.full(est.shape, np.nan)
        else:
            J = self.jacobian(lambda v: standardize(self.model, self._names, v, type))
            cov = J @ self.vcov_free @ J.T
            se = np.sqrt(np.clip(np.diag(cov), 0, None))
        # parameters fixed in the standardized metric (e.g. std_lv variances) have se 0
        se = np.where(se < 1e-8 * np.maximum(1.0, np.abs(est)), 0.0, se)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(se > 0, est / se, np.nan)
        crit = normal_quantile(level)
        has_se = se > 0
        return self._frame(
            est_std=est,
            se=se,
            z=z,
            pvalue=2 * special.ndtr(-np.abs(z)),
            ci_lower=np.where(has_se, est - crit * se, est),
            ci_upper=np.where(has_se, est + crit * se, est),
        )

    # -- moments ------------------------------------------------------------------------
    def implied(self) -> dict[str, dict[str, pd.DataFrame | pd.Series]]:
        """Model-implied covariance matrix and means per group."""

        def group(g: int, m: GroupMoments) -> tuple[str, list[str], np.ndarray, np.ndarray]:
            sigma, mu = self.model.implied(self.values, g)
            return m.label, m.names, sigma, mu if self.partable.meanstructure else m.mean.copy()

        return implied_frames(group(g, m) for g, m in enumerate(self.moments))

    def residuals(self) -> dict[str, dict[str, pd.DataFrame | pd.Series]]:
        """Raw residuals (sample minus implied) per group."""
        out = {}
        for (label, imp), m in zip(self.implied().items(), self.moments, strict=True):
            out[label] = {
                "cov": pd.DataFrame(m.cov, index=m.names, columns=m.names) - imp["cov"],
                "mean": pd.Series(m.mean, index=m.names) - imp["mean"],
            }
        return out

    def plot(
        self,
        path: str | Path | None = None,
        *,
        column: str = "std_all",
        labels: Mapping[str, str] | None = None,
        title: str = "",
        **options: Any,
    ) -> str:
        """Path diagram of the structural part: regressions with their estimates and
        stars, latent interactions as moderation arrows, R² in the endogenous nodes,
        correlations of the exogenous variables, one panel per group
        (:func:`semnet.report.diagram.path_diagram`).

        Parameters
        ----------
        path : str or Path, optional
            Also write the diagram there: ``.svg``, or ``.png`` / ``.pdf`` through
            matplotlib (``pip install "semnet[plot]"``).
        column : str
            ``"std_all"`` (standardized, default) or ``"est"``.
        labels : mapping, optional
            Display names of the variables.
        title : str
            Title above the diagram.
        **options
            ``ncols=`` and ``legend=`` of :func:`~semnet.report.diagram.path_diagram`.

        Returns
        -------
        str
            The SVG document.

        Examples
        --------
        >>> import semnet
        >>> fit = semnet.sem("y1 ~ x1 + x2", semnet.datasets.political_democracy())
        >>> fit.plot().startswith("<svg")
        True
        """
        from semnet.report.diagram import path_diagram, save_diagram

        svg = path_diagram(self.estimates(), column=column, labels=labels, title=title,
                           r2=self.r_squared(), **options)  # fmt: skip
        if path is not None:
            save_diagram(svg, path)
        return svg

    def r_squared(self) -> pd.DataFrame:
        """R² of every endogenous variable (indicators, observed and latent outcomes);
        NaN where the residual variance is negative (R² above 1), as lavaan's."""
        pt = self.partable
        params = pt.cols
        endo_lv = set(params["lhs"][params["op"] == "~"]) & set(pt.names.lv)
        rows = []
        for g in range(pt.ngroups):
            full = self._implied_all(g)
            mats = self.model.matrices(self.values, g)
            A = mats.A
            for k, v in enumerate(self.model.variables):
                is_ov = k < self.model.p
                if is_ov and v in pt.names.ov_x:
                    continue
                if not A[k].any() and v not in endo_lv:
                    continue
                if not is_ov and v not in endo_lv:
                    continue
                r2 = 1.0 - mats.S[k, k] / full[k, k]
                # a negative residual variance (Heywood case): lavaan reports NA
                r2 = np.nan if r2 > 1.0 else r2
                rows.append(
                    {"group": None if pt.ngroups == 1 else pt.groups[g], "name": v, "r2": r2}
                )
        return pd.DataFrame(rows, columns=["group", "name", "r2"])

    def _implied_all(self, g: int) -> np.ndarray:
        """The implied covariance matrix of all variables (observed, then latent) in
        group ``g``, the denominators of :meth:`r_squared`."""
        return self.model.implied_all(self.values, g)[0]

    # -- fit measures ---------------------------------------------------------------------
    @cached_property
    def _fit_measures(self) -> pd.Series:
        if self.sample.ordinal is not None:
            return self._ordinal_fit_measures()
        nx = self.partable.names.ov_x if self.options.fixed_x else ()
        # random covariates (fixed_x=False): lavaan's baseline saturates their block
        random_x = () if self.options.fixed_x else self.partable.names.ov_x
        groups = []
        for g, m in enumerate(self.moments):
            sigma, mu = self.model.implied(self.values, g)
            if not self.partable.meanstructure:
                mu = m.mean.copy()
            groups.append(
                GroupFitInput(
                    nobs=m.size,
                    sample_cov=m.cov,
                    sample_mean=m.mean,
                    implied_cov=sigma,
                    implied_mean=mu,
                    x_index=tuple(m.names.index(v) for v in nx),
                    baseline_x_index=tuple(m.names.index(v) for v in random_x) or None,
                )
            )
        scaled = self._scaled_input()
        return fit_measures(
            groups,
            npar=self.npar,
            df=self.df,
            meanstructure=self.partable.meanstructure,
            chisq=self.chisq,
            scaled=scaled,
            missing=self._missing_input(scaled is not None),
        )

    def _ordinal_fit_measures(self) -> pd.Series:
        """The measures of ordinal items (polychoric against implied correlations)."""
        disc = self.discrepancy()
        # continuous variables among the items keep their variances (lavaan's residual
        # covariances, e.g. the rmr), ordinal ones have unit latent-response variances
        sds = [np.outer(*(2 * [np.sqrt(np.diag(m.cov))])) for m in self.moments]
        groups = [
            GroupFitInput(
                nobs=m.nobs, sample_cov=disc.correlations[g] * sds[g], sample_mean=m.mean,
                implied_cov=disc.implied_correlations(self.values, g) * sds[g],
                implied_mean=m.mean,
            )
            for g, m in enumerate(self.moments)
        ]  # fmt: skip
        p = len(self.partable.names.ov)
        wls = []
        for g in range(len(self.moments)):
            obs, weight, _ = disc.stats[g]
            wls.append(WlsGroup(
                obs, disc.implied(self.values, g),
                weight if disc.diagonal[g] is None else disc.diagonal[g],
                np.flatnonzero(disc.rows[g].slot_threshold >= 0),
            ))  # fmt: skip
        return ordinal_fit_measures(
            groups, npar=self.npar, df=self.df, chisq=self.chisq,
            baseline_chisq=disc.baseline_chisq(),
            baseline_df=self.partable.ngroups * p * (p - 1) // 2,
            scaled=self._scaled_input(),
            corrected=self._catml() if self.scaled_test is not None else None,
            chisq_distributed=disc.chisq_distributed, wls=wls,
        )  # fmt: skip

    def _catml(self) -> FimlCorrected | None:
        """Savalei's catML statistics of the robust measures of ordinal items."""
        cols = self.partable.cols
        th = cols["op"] == "|"
        own = bool(np.all(cols["free"][th] > 0) and np.all(cols["label"][th] == ""))
        try:
            return catml_corrected(self.discrepancy(), self.x,
                                   tangent_basis(self.constraints, self.x), self.df, own)
        except np.linalg.LinAlgError:
            return None

    def _scaled_input(self) -> ScaledInput | None:
        """The scaled tests of the model and the baseline, as the fit measures read them."""
        scaled = None
        t, b = self.scaled_test, self.baseline_scaled_test
        if t is not None and b is not None:
            scaled = ScaledInput(
                test=t.name.replace("_", "."),
                chisq_scaled=t.stat,
                scaling_factor=t.scaling_factor,
                baseline_chisq_scaled=b.stat,
                baseline_scaling_factor=b.scaling_factor,
                scaling_factor_h1=t.scaling_factor_h1,
                scaling_factor_h0=t.scaling_factor_h0,
                shift_parameter=t.shift_parameter,
                baseline_shift_parameter=b.shift_parameter,
                df_scaled=t.df, baseline_df_scaled=b.df,
            )
        return scaled

    def _missing_input(self, scaled: bool) -> MissingDataInput | None:
        """The FIML part of the fit measures: likelihoods, the FIML-corrected statistics
        of the robust measures, and the pairwise moments and patterns of the GFI."""
        if self.missing_info is None:
            return None

        try:
            corrected = fiml_corrected(
                self.model, self.values, self.moments, self.patterns,
                tangent_basis(self.constraints, self.x), self.df, scaled,
                self.sample.fiml.random_x_index,
            )  # fmt: skip
        except np.linalg.LinAlgError:
            corrected = None
        return replace(
            self.missing_info,
            corrected=corrected,
            # lavaan's sample moments of incomplete data: pairwise, or with sampling
            # weights the (weighted) EM estimates
            pairwise=tuple(
                pairwise_moments(m.data) if m.weights is None else (m.cov, m.mean)
                for m in self.moments
            ),
            patterns=tuple(
                tuple((pat.observed, pat.n) for pat in pats) for pats in self.patterns
            ),
        )

    def fit_measures(self) -> pd.Series:
        """Fit measures named as lavaan's ``fitMeasures()`` (dots turned into underscores)."""
        return self._fit_measures.copy()

    @one_blas_thread
    def modindices(self, sort: bool = True, minimum: float = 0.0) -> pd.DataFrame:
        """Modification indices with expected parameter changes (lavaan's ``modindices()``).

        Returns
        -------
        DataFrame
            ``lhs, op, rhs, group, mi, epc, sepc_lv, sepc_all``, largest index first.

        Examples
        --------
        >>> import semnet
        >>> hs = semnet.datasets.holzinger_swineford()
        >>> fit = semnet.cfa("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6", hs)
        >>> fit.modindices().iloc[0][["lhs", "op", "rhs"]].tolist()
        ['x2', '~~', 'x3']
        """
        return modification_indices(self, sort=sort, minimum=minimum)

    @one_blas_thread
    def score_test(self, release: list[int] | None = None):
        """Score tests for releasing equality constraints (lavaan's ``lavTestScore()``).

        Parameters
        ----------
        release : list of int, optional
            Positions (in ``score_test().uni``) of the constraints whose joint release
            the total test assesses; default all.

        Returns
        -------
        ScoreTest
            ``.total`` (``X2, df, pvalue``) and ``.uni`` (one row per constraint, named
            by its parameter, e.g. ``"textual=~x5"``, and the groups it ties).
        """
        return score_test(self, release)

    def wald(self, constraints: str) -> pd.Series:
        """Wald test of equality constraints between labels (lavaan's ``lavTestWald()``).

        Examples
        --------
        >>> fit.wald("b1 == b2")  # doctest: +SKIP
        """
        return wald(self, constraints)

    def summary(self, standardized: bool = False, fit_measures: bool = True) -> Any:
        """A printable report in the spirit of lavaan's ``summary()``."""
        return Summary(self, standardized=standardized, fit_measures=fit_measures)

    def __repr__(self) -> str:
        status = "converged" if self.converged else "NOT converged"
        groups = "" if self.partable.ngroups == 1 else f", {self.partable.ngroups} groups"
        return (
            f"<semnet.Fit {self.options.estimator}{groups}: {status} after {self.iterations} "
            f"iterations, chisq={max(self.chisq, 0.0):.3f}, df={self.df}, n={self.ntotal}>"
        )

