"""The invariance ladder: :func:`invariance` fits it, :class:`InvarianceResult` holds the
fits, the level-by-level table and decisions, and leads on to partial invariance,
latent means and path comparisons.

Examples
--------
>>> import semnet
>>> hs = semnet.datasets.holzinger_swineford()
>>> m = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9"
>>> res = semnet.invariance(m, hs, group="school")  # doctest: +SKIP
>>> res.highest_level  # doctest: +SKIP
'metric'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from semnet.analyses.invariance.adjust import ADJUST
from semnet.analyses.invariance.formats import TableFormats, frame_to_text, pick_columns
from semnet.analyses.invariance.latent_means import latent_mean_differences
from semnet.analyses.invariance.levels import (
    DEFAULT_LEVELS,
    LevelFit,
    added_constraints,
    diff_row,
    fit_row,
    level_constraints,
)
from semnet.analyses.invariance.ordinal import ordinal_fit_args, ordinal_items, ordinal_levels
from semnet.analyses.invariance.partial import PartialResult, search_partial
from semnet.analyses.invariance.paths import PathComparison, compare_paths
from semnet.analyses.invariance.rules import Cutoffs, as_cutoffs
from semnet.analyses.parallel import Progress, map_tasks, want_progress
from semnet.api import sem
from semnet.errors import OptionError, SemnetError, check_choice
from semnet.results.fit import Fit

__all__ = ["InvarianceResult", "invariance"]


def invariance(
    model: str | Path,
    data: pd.DataFrame | None = None,
    *,
    group: str,
    levels: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    rule: str | Cutoffs = "chen2007",
    executor: Executor | None = None,
    n_jobs: int = 1,
    progress: bool | None = None,
    **fit_args: Any,
) -> InvarianceResult:
    """Fit a measurement-invariance ladder across groups.

    Parameters
    ----------
    model : str or path
        lavaan model syntax (usually a CFA), or the path of a ``.lav`` file.
    data : DataFrame
        Raw data with the ``group`` column (never modified).
    group : str
        Column whose values define the groups (ordered by first appearance).
    levels : sequence of str or dict, optional
        Cumulative levels: ``"configural"`` (no constraints), ``"thresholds"`` (ordinal
        items: + thresholds), ``"metric"`` (+ loadings), ``"scalar"`` (+ intercepts),
        ``"strict"`` (+ residuals), and structural levels
        that add the ``group_equal`` entry of their name: ``"lv_variances"``,
        ``"lv_covariances"``, ``"means"``, ``"regressions"``,
        ``"residual_covariances"``.  Or an ordered dict name → ``group_equal`` tuple
        (each level must contain the one before).  Default: ``("configural", "metric",
        "scalar", "strict")``; with ordinal items ``("configural", "thresholds",
        "metric", "scalar")`` and ``"strict"`` in the theta parameterization (Wu &
        Estabrook 2016, identified as semTools' ``measEq.syntax``; see docs/ordinal.md).
    rule : str or Cutoffs
        ``"chen2007"`` (default), ``"cheung_rensvold2002"``, ``"chisq"``, or
        :class:`Cutoffs`.
    executor : concurrent.futures.Executor, optional
        Fit the levels there, side by side (a process pool, a Dask client's
        ``get_executor()``); the fits are the same as serial ones.
    n_jobs : int
        Local worker processes when no executor is given (default 1: in this process).
    progress : bool, optional
        Show a progress bar over the levels (``tqdm`` when installed, the ``[progress]``
        extra; else a counter on stderr).  Default: only when stderr is a terminal.
    **fit_args
        Passed to :func:`semnet.sem` for every level: ``estimator`` (ML, MLR, MLM;
        WLSMV ... with ``ordered``), ``missing`` (listwise, fiml/ml), ``std_lv``,
        ``ordered``, ``parameterization``, ``group_partial`` (kept in every level), ...
        ``group_equal`` is set by ``levels``.

    Returns
    -------
    InvarianceResult

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> m = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9"
    >>> res = semnet.invariance(m, hs, group="school")  # doctest: +SKIP
    >>> res.table()[["chisq", "df", "cfi", "delta_cfi", "decision"]].round(3)  # doctest: +SKIP
                  chisq   df    cfi  delta_cfi decision
    level
    configural  115.851   48  0.923        NaN     None
    metric      124.044   54  0.921     -0.002    holds
    scalar      164.103   60  0.882     -0.038    fails
    strict      181.511   69  0.873     -0.009    holds
    """
    if "group_equal" in fit_args:
        raise OptionError(
            "invariance() sets group_equal itself from levels; pass levels=... (e.g. "
            "{'metric': ('loadings',)}) instead of group_equal."
        )
    if not isinstance(group, str):
        raise OptionError("group must be the name of the column that defines the groups.")
    counts = ordinal_items(model, data, fit_args)
    if levels is None:
        levels = (ordinal_levels(fit_args.get("parameterization", "delta")) if counts
                  else DEFAULT_LEVELS)
    ladder = level_constraints(levels)
    if counts:
        fit_args = ordinal_fit_args(fit_args, ladder, counts)
    elif any("thresholds" in ge for ge in ladder.values()):
        raise OptionError(
            "the 'thresholds' level needs ordinal items; name them with ordered=[...] "
            "(or pass ordered=True), or leave the level out for continuous items."
        )
    rule_ = as_cutoffs(rule)
    partial = fit_args.pop("group_partial", ())
    partial = (partial,) if isinstance(partial, str) else tuple(partial)
    level_fit = LevelFit(model, data, group, partial, dict(fit_args))
    bar = Progress(len(ladder), "invariance ladder", want_progress(progress, len(ladder), 1),
                   unit="level")
    try:
        fitted = map_tasks(level_fit, list(ladder.values()), n_jobs=n_jobs,
                           executor=executor, progress=bar)
    finally:
        bar.close()
    fits = dict(zip(ladder, fitted, strict=True))
    if len(next(iter(fits.values())).groups) < 2:
        raise SemnetError(
            f"the group column {group!r} has a single value; invariance needs two or more "
            "groups."
        )
    return InvarianceResult(
        model=model,
        data=data,
        group=group,
        ladder=MappingProxyType(ladder),
        fits=MappingProxyType(fits),
        rule=rule_,
        fit_args=MappingProxyType(dict(fit_args)),
        group_partial=partial,
    )


_TABLE_DISPLAY = ("chisq", "chisq_scaled", "df", "cfi", "cfi_robust", "cfi_scaled", "tli",
                  "rmsea", "rmsea_robust", "rmsea_scaled", "srmr", "chisq_diff", "df_diff",
                  "pvalue_diff", "delta_cfi", "delta_cfi_robust", "delta_cfi_scaled",
                  "delta_rmsea", "delta_rmsea_robust", "delta_rmsea_scaled", "delta_srmr",
                  "decision")


@dataclass(frozen=True, eq=False)
class InvarianceResult(TableFormats):
    """A fitted invariance ladder (from :func:`invariance`).  Immutable.

    Attributes
    ----------
    fits : mapping
        Level name → :class:`~semnet.Fit`, in ladder order.
    ladder : mapping
        Level name → the ``group_equal`` tuple it was fitted with.
    rule : Cutoffs
        The decision rule of :meth:`table`.
    group_partial : tuple of str
        The user's ``group_partial``, kept in every level.
    """

    model: Any
    data: pd.DataFrame | None
    group: str
    ladder: Mapping[str, tuple[str, ...]]
    fits: Mapping[str, Fit]
    rule: Cutoffs
    fit_args: Mapping[str, Any]
    group_partial: tuple[str, ...] = ()
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    # -- the ladder table ----------------------------------------------------------------
    @property
    def levels(self) -> list[str]:
        return list(self.ladder)

    @property
    def groups(self) -> list[str]:
        return next(iter(self.fits.values())).groups

    def refit(self, group_equal: Sequence[str], group_partial: Sequence[str]) -> Fit:
        """The model fitted again to this result's data, groups and options, with other
        equality constraints.

        Parameters
        ----------
        group_equal : sequence of str
            The ``group_equal`` entries (e.g. ``self.ladder["scalar"]``).
        group_partial : sequence of str
            The parameters exempt from them (e.g. ``["x3~1"]``).

        Returns
        -------
        Fit

        Examples
        --------
        >>> res.refit(res.ladder["scalar"], ["x3~1"]).df  # doctest: +SKIP
        61
        """
        return sem(self.model, self.data, group=self.group, group_equal=tuple(group_equal),
                   group_partial=tuple(group_partial), **self.fit_args)

    def _table(self, rule: Cutoffs) -> pd.DataFrame:
        key = ("table", rule)
        if key not in self._cache:
            rows = []
            prev_name = None
            for name, fit in self.fits.items():
                row = {"level": name, "group_equal": ", ".join(self.ladder[name])}
                row.update(fit_row(fit))
                prev = self.fits[prev_name] if prev_name else None
                added = added_constraints(self.ladder, name)
                row.update(diff_row(prev, fit, added, rule, prev_name))
                rows.append(row)
                prev_name = name
            frame = pd.DataFrame(rows).set_index("level")
            frame["df_diff"] = frame["df_diff"].astype("Int64")
            frame["decision"] = pd.Series([r["decision"] for r in rows], index=frame.index,
                                          dtype=object)
            frame.attrs["rule"] = rule.name
            frame.attrs["estimator"] = self.fits[self.levels[0]].options.estimator
            self._cache[key] = frame
        return self._cache[key]

    def table(self, rule: str | Cutoffs | None = None) -> pd.DataFrame:
        """One row per level: fit and the comparison with the previous level.

        Parameters
        ----------
        rule : str or Cutoffs, optional
            Decision rule; default the one given to :func:`invariance`.

        Returns
        -------
        DataFrame
            Indexed by level name: ``group_equal, npar, chisq, df, pvalue`` (robust
            estimators: ``chisq_scaled, df_scaled, pvalue_scaled,
            chisq_scaling_factor``), ``cfi, tli, rmsea, rmsea_ci_lower, rmsea_ci_upper,
            srmr`` (robust: ``cfi_robust, tli_robust, rmsea_robust,
            rmsea_ci_lower_robust, rmsea_ci_upper_robust``; ordinal: ``cfi_scaled,
            tli_scaled, rmsea_scaled``), ``aic, bic``, then against the previous level
            (``compared_to``): ``chisq_diff`` (Satorra–Bentler 2001 scaled when robust;
            Satorra 2000 for WLSMV, as lavTestLRT), ``df_diff, pvalue_diff, delta_cfi,
            delta_rmsea, delta_srmr`` (robust: ``delta_cfi_robust, delta_rmsea_robust``;
            ordinal: ``delta_cfi_scaled, delta_rmsea_scaled``, the ones judged) and
            ``decision`` (``"holds"``/``"fails"``; ``"not testable"`` when the level has
            no more degrees of freedom than the previous one, with no test; None for the
            first level), ``rule``
            and ``reason`` (the criteria that decided).

        Examples
        --------
        >>> res.table()["decision"].tolist()  # doctest: +SKIP
        [None, 'holds', 'fails', 'holds']
        """
        return self._table(self.rule if rule is None else as_cutoffs(rule)).copy()

    @property
    def highest_level(self) -> str:
        """The last level of the ladder reached with every step holding or not
        testable (an equivalent model, e.g. equal thresholds of 3-category items); the
        first level when the second fails."""
        decisions = self._table(self.rule)["decision"].tolist()
        best = self.levels[0]
        for name, d in zip(self.levels[1:], decisions[1:], strict=True):
            if d not in ("holds", "not testable"):
                break
            best = name
        return best

    def _display(self, columns):
        return pick_columns(self.table(), columns, _TABLE_DISPLAY)

    def __repr__(self) -> str:
        fit0 = self.fits[self.levels[0]]
        if "cfi_scaled" in self.table():
            shown = ("chisq_scaled", "df", "cfi_scaled", "rmsea_scaled", "srmr", "chisq_diff",
                     "df_diff", "pvalue_diff", "delta_cfi_scaled", "decision")
        else:
            shown = ("chisq", "df", "cfi", "rmsea", "srmr", "chisq_diff", "df_diff",
                     "pvalue_diff", "delta_cfi", "decision")
        cols = [c for c in shown if c in self.table()]
        return (
            f"<InvarianceResult: {len(self.groups)} groups ({', '.join(self.groups)}), "
            f"{fit0.options.estimator}, rule {self.rule.name}; highest level holding: "
            f"{self.highest_level}>\n{frame_to_text(self.table()[cols], 4)}"
        )

    # -- partial invariance ----------------------------------------------------------------
    def partial(
        self,
        level: str = "scalar",
        alpha: float = 0.05,
        adjust: str | None = "bonferroni",
        max_steps: int | None = None,
        rule: str | Cutoffs | None = None,
        min_invariant: int = 2,
        progress: bool | None = None,
    ) -> PartialResult:
        """Partial invariance: free the constraints flagged by score tests (ordinal items:
        by refit difference tests) until ``level`` holds.

        Every level of the ladder up to ``level`` is handled in turn (Byrne, Shavelson
        & Muthén, 1989): the level, with everything freed so far, is compared with the
        previous (partial) level; while it fails by the rule, the parameter of the type
        the level adds (thresholds for the ordinal ``"thresholds"`` level, loadings for
        metric, intercepts for scalar, residuals for strict, ...) with the most
        significant test is freed through ``group_partial`` and the model refitted.

        Parameters
        ----------
        level : str
            The level to reach (default ``"scalar"``).
        alpha : float
            Significance level of the (adjusted) candidate tests.
        adjust : {"bonferroni", "holm", "bh", None}
            Multiplicity adjustment over the candidate parameters at each step.
        max_steps : int, optional
            Most parameters freed per level (default: no limit).
        rule : str or Cutoffs, optional
            When a level holds; default the result's rule.
        min_invariant : int
            Keep at least this many invariant indicators per factor (default 2).
        progress : bool, optional
            Show a progress bar over the levels searched (``tqdm`` when installed).
            Default: only when stderr is a terminal.

        Returns
        -------
        PartialResult

        Notes
        -----
        *Score tests.*  ``group_partial`` frees a parameter in every group (lavaan's
        semantics), so each candidate is ranked by the joint score test of releasing
        all its G − 1 equality constraints (group 1 = group g), on G − 1 df, equal to
        ``fit.score_test(release=[...]).total``; with two groups this is the
        univariate test of ``fit.score_test().uni``.  Ties go to the larger statistic.

        *Ordinal items* (Wu & Estabrook 2016).  Their identification does not only
        equate parameters: the scalar level fixes the later groups' intercepts to 0 (and
        frees the latent means), the strict level fixes their residual variances to 1,
        and the number of an item's equal thresholds decides whether its intercept and
        scale factor are free; so freeing a parameter changes other rows too, and a score
        test of one released equality is not the test of the model refitted.  Each
        candidate is instead ranked by refitting the level with it in ``group_partial``
        and testing that refit against the current model with the ladder's difference
        test (Satorra's 2000 scaled-shifted test for WLSMV, as ``lavTestLRT``; semTools'
        ``partialInvarianceCat``, "free" approach).  ``X2``, ``df`` and ``pvalue`` in the
        audit are that test.  At the thresholds level the unit is an item's set of equal
        thresholds (the audit's ``param`` lists them; :attr:`PartialResult.freed` holds
        each), which returns the item to its configural parameterization; candidates
        whose refit frees nothing (an intercept of an item with no equal threshold left)
        are skipped.  An item counts for ``min_invariant`` only while its thresholds are
        equal too.  Each step costs one fit per candidate (the polychoric statistics are
        recomputed for each fit).

        *Markers.*  With ``std_lv=False`` the first loading of every factor is fixed to 1
        in every group; it is no constraint and never a candidate.  Intercepts (and
        residual variances) of marker items are candidates like any other: the latent
        means (free in groups 2..G) are identified by the intercepts that stay equal,
        and the search never frees a parameter that would leave a factor with fewer
        than ``min_invariant`` indicators whose loading, intercept (scalar) and
        residual (strict) are all equal across groups; such candidates are skipped with
        a :class:`~semnet.SemnetWarning`.  ``min_invariant`` must be at least 1, so the
        identification of a factor never rests on a freed parameter.

        Examples
        --------
        >>> p = res.partial("scalar", rule="chisq")  # doctest: +SKIP
        >>> p.freed  # doctest: +SKIP
        ('ni=~ni3', 'doi2~1')
        """
        rule_ = self.rule if rule is None else as_cutoffs(rule)
        if level not in self.ladder:
            check_choice("level", level, self.levels)
        if self.levels.index(level) == 0:
            raise OptionError(f"{level!r} is the first level; there is nothing to compare it "
                              "with. Pass a later level, e.g. 'scalar'.")
        if not 0 < alpha < 1:
            raise OptionError(f"alpha must be between 0 and 1, not {alpha!r}.")
        if adjust is not None:
            adjust = check_choice("adjust", adjust, ADJUST)
        if int(min_invariant) < 1:
            raise OptionError("min_invariant must be at least 1: a factor needs an invariant "
                              "indicator to keep its scale and mean comparable.")
        if max_steps is not None and max_steps < 0:
            raise OptionError("max_steps must be 0 or more.")
        key = ("partial", level, alpha, adjust, max_steps, rule_, int(min_invariant))
        if key not in self._cache:
            self._cache[key] = search_partial(self, level, alpha, adjust, max_steps, rule_,
                                              int(min_invariant), progress)
        return self._cache[key]

    # -- latent means ----------------------------------------------------------------------
    def latent_means(
        self,
        reference: str | None = None,
        partial: PartialResult | None = None,
        level: float = 0.95,
    ) -> pd.DataFrame:
        """Latent mean differences against a reference group.

        Parameters
        ----------
        reference : str, optional
            Reference group label (default: the first group).
        partial : PartialResult, optional
            Use the final fit of a partial-invariance search (which must hold and
            include intercepts); by default the highest level of the ladder that holds.
        level : float
            Confidence level of ``ci_lower``/``ci_upper``.

        Returns
        -------
        DataFrame
            One row per factor and non-reference group: ``factor, group, reference,
            est`` (mean of group minus mean of reference), ``se, z, pvalue, ci_lower,
            ci_upper, pooled_var, effect_size, source``.

        Raises
        ------
        SemnetError
            When scalar invariance (equal loadings and intercepts, full or partial) does
            not hold: latent means are then not comparable.

        Notes
        -----
        In lavaan's scalar model the latent means of group 1 are fixed at 0, so group
        g's free latent mean *is* the difference against group 1.  For another
        reference r the difference κ_g − κ_r and its standard error
        sqrt(V_gg + V_rr − 2 V_gr) come from the fit's covariance matrix of the
        estimates (the delta method, exact for this linear function; the same as
        ``fit.wald(".pA. == .pB.")`` and as refitting with r as the first group).  The
        effect size is ``est / sqrt(pooled_var)`` with pooled_var = ((n_g − 1) ψ_g +
        (n_r − 1) ψ_r) / (n_g + n_r − 2), ψ the factor's (residual, for endogenous
        factors) variance in each group: a Cohen's d on the latent scale.  For
        endogenous factors the ``~1`` parameters are intercepts, not means.

        Examples
        --------
        >>> res.latent_means(partial=res.partial("scalar"))  # doctest: +SKIP
        """
        return latent_mean_differences(self, reference, partial, level)

    # -- structural paths ------------------------------------------------------------------
    def compare_paths(self, model: str | Path, paths: Sequence[str], *,
                      level_name: str | None = None, **kwargs: Any) -> PathComparison:
        """:func:`compare_paths` on this result's data and options, with the measurement
        constraints of ``level_name`` (default the highest level holding).

        Examples
        --------
        >>> res.compare_paths("models/structural.lav", ["doi~ni"])  # doctest: +SKIP
        """
        name = self.highest_level if level_name is None else level_name
        if name not in self.ladder:
            check_choice("level_name", name, self.levels)
        args = dict(self.fit_args)
        args.update(kwargs)
        args.setdefault("group_equal", tuple(g for g in self.ladder[name] if g != "regressions"))
        args.setdefault("group_partial", self.group_partial)
        return compare_paths(model, self.data, group=self.group, paths=paths, **args)

