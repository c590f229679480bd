"""Measurement invariance across groups: the configural → metric → scalar → strict ladder.

:func:`invariance` fits a ladder of nested multi-group models, each adding cross-group
equality constraints (lavaan's ``group.equal``) to the one before, and judges every step
against the previous one by a chi-square difference test (Satorra–Bentler scaled for
robust estimators, through :func:`semnet.compare`) and by changes in fit indices
(ΔCFI, ΔRMSEA, ΔSRMR) against published cut-offs (:class:`Cutoffs`).

On top of the ladder, :meth:`InvarianceResult.partial` frees, one at a time, the
equality constraints flagged by score tests until a level holds (partial invariance);
:meth:`InvarianceResult.latent_means` compares latent means once scalar invariance (full
or partial) holds; :func:`compare_paths` tests whether structural paths are equal across
groups.

Every fit is made by :func:`semnet.sem` with the options given, so each number equals
lavaan's ``cfa(..., group =, group.equal =, group.partial =)`` and ``lavTestLRT()``.

Decision rules (:class:`Cutoffs`)
---------------------------------
``"chen2007"`` (default)
    Chen (2007, *Structural Equation Modeling* 14, 464–504), recommendation for total
    N > 300: "a change of ≥ −.010 in CFI, supplemented by a change of ≥ .015 in RMSEA or
    a change of ≥ .030 in SRMR would indicate noninvariance" for loadings, and the same
    with SRMR ≥ .010 for intercepts or residuals.  Implemented literally: a level FAILS
    when ΔCFI < −.010 **and** (ΔRMSEA > .015 **or** ΔSRMR > cut), cut = .030 when the
    level adds loadings and .010 otherwise (intercepts, residuals, and every other
    parameter type, for which Chen gave no value).  A drop in CFI alone, not supplemented
    by RMSEA or SRMR, does not fail the level.
``"cheung_rensvold2002"``
    Cheung & Rensvold (2002, *SEM* 9, 233–255): the level holds when ΔCFI ≥ −.01.
``"chisq"``
    The chi-square (scaled when robust) difference test: holds when p > .05.
A value exactly at a cut-off counts as holding.  Pass a :class:`Cutoffs` for other
values, or ``combine="all"`` to require every index given (a stricter reading of Chen).
With a robust estimator (MLR, MLM) the deltas of CFI and RMSEA are those of the robust
indices (``cfi_robust``, ``rmsea_robust``; Brosseau-Liard & Savalei 2014), as listed in
the ``reason`` column (with FIML, the FIML-corrected ones); set
``Cutoffs(robust=False)`` for the naive ones.  Where a robust index is not available
(NaN) the naive ones are judged.

Examples
--------
>>> import semnet
>>> hs = semnet.datasets.holzinger_swineford()
>>> m = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9"
>>> res = semnet.invariance(m, hs, group="school")  # doctest: +SKIP
>>> res.table()["decision"].tolist()  # doctest: +SKIP
[None, 'holds', 'fails', 'holds']
"""

from __future__ import annotations

import html
import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from semnet.analyses.compare import compare
from semnet.analyses.parallel import map_tasks
from semnet.api import sem
from semnet.errors import OptionError, SemnetError, SemnetWarning, check_choice
from semnet.partable.build import GROUP_EQUAL_CHOICES, equality_kind
from semnet.results.fit import Fit

__all__ = [
    "CHEN_2007",
    "CHEUNG_RENSVOLD_2002",
    "CHISQ",
    "Cutoffs",
    "InvarianceResult",
    "PartialResult",
    "PathComparison",
    "compare_paths",
    "invariance",
]

#: the parameter type each built-in level adds to the one before
LEVEL_STEPS: dict[str, tuple[str, ...]] = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("intercepts",),
    "strict": ("residuals",),
}
#: structural levels a user may append; each adds the group_equal type of its name
EXTRA_LEVELS = ("lv_variances", "lv_covariances", "means", "regressions",
                "residual_covariances")
DEFAULT_LEVELS = ("configural", "metric", "scalar", "strict")
#: indicator-level parameter types (for the "two invariant indicators" rule)
INDICATOR_TYPES = ("loadings", "intercepts", "residuals")
ADJUST = ("bonferroni", "holm", "bh")


# ----------------------------------------------------------------------------------------
# decision rules
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cutoffs:
    """Cut-offs that decide whether an invariance level holds against the previous one.

    Parameters
    ----------
    name : str
        Shown in the ``rule`` column of the tables.
    delta_cfi : float, optional
        Smallest ΔCFI (level minus previous level) that still holds, e.g. ``-0.01``.
    delta_rmsea : float, optional
        Largest ΔRMSEA that still holds.
    delta_srmr : float, optional
        Largest ΔSRMR that still holds, for levels that do not add loadings.
    delta_srmr_loadings : float, optional
        Largest ΔSRMR for levels that add loadings (default: ``delta_srmr``).
    alpha : float, optional
        The chi-square difference test must have ``p > alpha``.
    combine : {"all", "chen"}
        ``"all"``: every criterion given must hold.  ``"chen"``: as Chen (2007), a level
        fails only when the ΔCFI criterion fails *and* the ΔRMSEA or ΔSRMR criterion
        fails too; ``alpha``, if given, must hold in any case.
    robust : bool
        With a robust estimator, judge the robust CFI and RMSEA (``cfi_robust``,
        ``rmsea_robust``) instead of the naive ones.

    Examples
    --------
    >>> from semnet.analyses.invariance import Cutoffs
    >>> rule = Cutoffs("strict_cfi", delta_cfi=-0.005)
    >>> rule.decide({"delta_cfi": -0.007}, added=("loadings",))[0]
    False
    >>> CHEN = Cutoffs("chen", delta_cfi=-0.01, delta_rmsea=0.015, delta_srmr=0.01,
    ...                delta_srmr_loadings=0.03, combine="chen")
    >>> holds, reason = CHEN.decide(
    ...     {"delta_cfi": -0.02, "delta_rmsea": 0.01, "delta_srmr": 0.02}, added=("loadings",))
    >>> holds
    True
    >>> print(reason)
    ΔCFI = -0.0200 < -0.010, not supplemented: ΔRMSEA = 0.0100 ≤ 0.015, ΔSRMR = 0.0200 ≤ 0.030
    """

    name: str = "custom"
    delta_cfi: float | None = -0.01
    delta_rmsea: float | None = None
    delta_srmr: float | None = None
    delta_srmr_loadings: float | None = None
    alpha: float | None = None
    combine: str = "all"
    robust: bool = True

    def __post_init__(self) -> None:
        check_choice("combine", self.combine, ("all", "chen"))
        given = [self.delta_cfi, self.delta_rmsea, self.delta_srmr,
                 self.delta_srmr_loadings, self.alpha]
        if all(v is None for v in given):
            raise OptionError(
                "Cutoffs needs at least one criterion: delta_cfi, delta_rmsea, delta_srmr "
                "or alpha."
            )
        if self.combine == "chen" and (
            self.delta_cfi is None
            or (self.delta_rmsea is None and self.delta_srmr is None
                and self.delta_srmr_loadings is None)
        ):
            raise OptionError(
                "combine='chen' needs delta_cfi and at least one of delta_rmsea / delta_srmr "
                "(the indices that supplement the CFI criterion)."
            )
        if self.alpha is not None and not 0 < self.alpha < 1:
            raise OptionError(f"alpha must be between 0 and 1, not {self.alpha!r}.")

    def srmr_cut(self, added: Sequence[str]) -> float | None:
        """The ΔSRMR cut-off for a level that adds the parameter types ``added``."""
        if "loadings" in added and self.delta_srmr_loadings is not None:
            return self.delta_srmr_loadings
        return self.delta_srmr

    def decide(self, deltas: Mapping[str, float], added: Sequence[str] = ()) -> tuple[bool, str]:
        """Whether a level holds, and why.

        Parameters
        ----------
        deltas : mapping
            ``delta_cfi``, ``delta_rmsea``, ``delta_srmr`` (level minus previous level)
            and ``pvalue_diff``; missing or NaN entries are not judged.
        added : sequence of str
            The ``group_equal`` types the level adds (picks the ΔSRMR cut-off).

        Returns
        -------
        (bool, str)
        """
        def get(key):
            v = deltas.get(key)
            return None if v is None or not np.isfinite(v) else float(v)

        label = deltas.get("label", "")
        checks = []  # (kind, ok, text)
        if self.delta_cfi is not None and get("delta_cfi") is not None:
            v = get("delta_cfi")
            ok = v >= self.delta_cfi
            checks.append(("cfi", ok, f"ΔCFI{label} = {v:.4f} {'≥' if ok else '<'} "
                                      f"{self.delta_cfi:.3f}"))
        if self.delta_rmsea is not None and get("delta_rmsea") is not None:
            v = get("delta_rmsea")
            ok = v <= self.delta_rmsea
            checks.append(("rmsea", ok, f"ΔRMSEA{label} = {v:.4f} {'≤' if ok else '>'} "
                                        f"{self.delta_rmsea:.3f}"))
        cut = self.srmr_cut(added)
        if cut is not None and get("delta_srmr") is not None:
            v = get("delta_srmr")
            ok = v <= cut
            checks.append(("srmr", ok, f"ΔSRMR = {v:.4f} {'≤' if ok else '>'} {cut:.3f}"))
        chisq = None
        if self.alpha is not None and get("pvalue_diff") is not None:
            p = get("pvalue_diff")
            ok = p > self.alpha
            chisq = (ok, f"p(Δχ²) = {p:.4g} {'>' if ok else '≤'} {self.alpha:g}")
        if not checks and chisq is None:
            return True, "no criterion could be evaluated (missing fit indices)"
        if self.combine == "chen" and checks:
            cfi = [c for c in checks if c[0] == "cfi"]
            rest = [c for c in checks if c[0] != "cfi"]
            if cfi and not cfi[0][1]:
                bad = [c for c in rest if not c[1]]
                if bad:
                    holds, text = False, f"{cfi[0][2]}, supplemented by " + ", ".join(
                        c[2] for c in bad)
                else:
                    holds, text = True, f"{cfi[0][2]}, not supplemented: " + ", ".join(
                        c[2] for c in rest)
            else:
                holds, text = True, "; ".join(c[2] for c in checks)
        else:
            holds = all(c[1] for c in checks)
            shown = [c for c in checks if not c[1]] if not holds else checks
            text = "; ".join(c[2] for c in shown)
        if chisq is not None:
            if not chisq[0]:
                return False, chisq[1] if holds else f"{text}; {chisq[1]}"
            text = chisq[1] if not text else f"{text}; {chisq[1]}"
        return holds, text


#: Chen (2007): fails when ΔCFI < −.010 supplemented by ΔRMSEA > .015 or ΔSRMR > .030
#: (loadings) / .010 (intercepts, residuals and the rest)
CHEN_2007 = Cutoffs("chen2007", delta_cfi=-0.010, delta_rmsea=0.015, delta_srmr=0.010,
                    delta_srmr_loadings=0.030, combine="chen")
#: Cheung & Rensvold (2002): holds when ΔCFI ≥ −.01
CHEUNG_RENSVOLD_2002 = Cutoffs("cheung_rensvold2002", delta_cfi=-0.01)
#: the chi-square (scaled) difference test at α = .05
CHISQ = Cutoffs("chisq", delta_cfi=None, alpha=0.05)
RULES = {"chen2007": CHEN_2007, "cheung_rensvold2002": CHEUNG_RENSVOLD_2002, "chisq": CHISQ}


def _rule(rule: str | Cutoffs) -> Cutoffs:
    if isinstance(rule, Cutoffs):
        return rule
    if isinstance(rule, str):
        return RULES[check_choice("rule", rule.replace("-", "_").lower(), RULES)]
    raise OptionError(
        f"rule must be one of {', '.join(map(repr, RULES))} or a Cutoffs, not "
        f"{type(rule).__name__}."
    )


# ----------------------------------------------------------------------------------------
# the ladder
# ----------------------------------------------------------------------------------------


def _norm_ge(name: str) -> str:
    return name.replace(".", "_")


def _ladder(levels: Sequence[str] | Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Level name → cumulative group_equal tuple, checked to be nested."""
    out: dict[str, tuple[str, ...]] = {}
    if isinstance(levels, Mapping):
        for name, ge in levels.items():
            ge = (ge,) if isinstance(ge, str) else tuple(ge)
            ge = tuple(_norm_ge(g) for g in ge)
            for g in ge:
                check_choice("group_equal", g, GROUP_EQUAL_CHOICES)
            out[str(name)] = tuple(dict.fromkeys(ge))
    else:
        if isinstance(levels, str):
            levels = (levels,)
        acc: list[str] = []
        for name in levels:
            key = _norm_ge(str(name))
            key = check_choice("level", key, (*LEVEL_STEPS, *EXTRA_LEVELS))
            if key in out:
                raise OptionError(f"level {name!r} is listed twice.")
            step = LEVEL_STEPS.get(key, (key,))
            acc += [g for g in step if g not in acc]
            out[key] = tuple(acc)
    if len(out) < 2:
        raise OptionError(
            "an invariance ladder needs at least two levels, e.g. "
            "levels=('configural', 'metric')."
        )
    names = list(out)
    for a, b in itertools.pairwise(names):
        missing = set(out[a]) - set(out[b])
        if missing:
            raise SemnetError(
                f"the levels are not nested: {b!r} drops the constraints "
                f"{', '.join(sorted(missing))} of {a!r}. Each level must keep every "
                "group_equal entry of the level before it."
            )
        if set(out[a]) == set(out[b]):
            raise SemnetError(
                f"levels {a!r} and {b!r} have the same constraints ({', '.join(out[a]) or 'none'})."
            )
    return out


def _added(ladder: Mapping[str, tuple[str, ...]], name: str) -> tuple[str, ...]:
    names = list(ladder)
    i = names.index(name)
    if i == 0:
        return ()
    prev = set(ladder[names[i - 1]])
    return tuple(g for g in ladder[name] if g not in prev)


def invariance(
    model: str | Path,
    data: pd.DataFrame | None = None,
    *,
    group: str,
    levels: Sequence[str] | Mapping[str, Sequence[str]] = DEFAULT_LEVELS,
    rule: str | Cutoffs = "chen2007",
    executor: Executor | None = None,
    n_jobs: int = 1,
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
    levels : sequence of str or dict
        Cumulative levels: ``"configural"`` (no constraints), ``"metric"`` (+ loadings),
        ``"scalar"`` (+ intercepts), ``"strict"`` (+ residuals), and structural levels
        that add the ``group_equal`` entry of their name: ``"lv_variances"``,
        ``"lv_covariances"``, ``"means"``, ``"regressions"``,
        ``"residual_covariances"``.  Or an ordered dict name → ``group_equal`` tuple
        (each level must contain the one before).
    rule : str or Cutoffs
        ``"chen2007"`` (default), ``"cheung_rensvold2002"``, ``"chisq"``, or
        :class:`Cutoffs`.
    executor : concurrent.futures.Executor, optional
        Fit the levels there, side by side (a process pool, a Dask client's
        ``get_executor()``); the fits are the same as serial ones.
    n_jobs : int
        Local worker processes when no executor is given (default 1: in this process).
    **fit_args
        Passed to :func:`semnet.sem` for every level: ``estimator`` (ML, MLR, MLM),
        ``missing`` (listwise, fiml/ml), ``std_lv``, ``group_partial`` (kept in every
        level), ... ``group_equal`` is set by ``levels``.

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
    ladder = _ladder(levels)
    rule_ = _rule(rule)
    partial = fit_args.pop("group_partial", ())
    partial = (partial,) if isinstance(partial, str) else tuple(partial)
    level_fit = _LevelFit(model, data, group, partial, dict(fit_args))
    fits = dict(zip(ladder, map_tasks(level_fit, list(ladder.values()), n_jobs=n_jobs,
                                      executor=executor), strict=True))
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


# ----------------------------------------------------------------------------------------
# comparison rows
# ----------------------------------------------------------------------------------------

_FIT_COLUMNS = ("npar", "chisq", "df", "pvalue")
_SCALED_COLUMNS = ("chisq_scaled", "df_scaled", "pvalue_scaled", "chisq_scaling_factor")
_INDEX_COLUMNS = ("cfi", "tli", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper", "srmr")
_ROBUST_COLUMNS = ("cfi_robust", "tli_robust", "rmsea_robust", "rmsea_ci_lower_robust",
                   "rmsea_ci_upper_robust")
_INFO_COLUMNS = ("aic", "bic")


@dataclass(frozen=True)
class _LevelFit:
    """Fit one level of a ladder (picklable: sent to workers)."""

    model: str | Path
    data: pd.DataFrame | None
    group: str
    partial: tuple[str, ...]
    fit_args: Mapping[str, Any]

    def __call__(self, group_equal: tuple[str, ...]) -> Fit:
        return sem(self.model, self.data, group=self.group, group_equal=group_equal,
                   group_partial=self.partial, **self.fit_args)


def _robust(fit: Fit) -> bool:
    return fit.scaled_test is not None


def _fit_row(fit: Fit) -> dict[str, Any]:
    fm = fit.fit_measures()
    cols = list(_FIT_COLUMNS)
    if _robust(fit):
        cols += _SCALED_COLUMNS
    cols += _INDEX_COLUMNS
    if _robust(fit):
        cols += _ROBUST_COLUMNS
    cols += _INFO_COLUMNS
    row = {c: (float(fm[c]) if c in fm.index else np.nan) for c in cols}
    row["npar"] = int(fit.npar)
    row["df"] = int(fit.df)
    return row


def _diff_row(prev: Fit | None, fit: Fit, added: Sequence[str], rule: Cutoffs,
              prev_name: str | None) -> dict[str, Any]:
    """Difference test and fit-index changes of ``fit`` against ``prev``, and the decision."""
    row: dict[str, Any] = {
        "compared_to": prev_name,
        "chisq_diff": np.nan, "df_diff": np.nan, "pvalue_diff": np.nan,
        "delta_cfi": np.nan, "delta_rmsea": np.nan, "delta_srmr": np.nan,
    }
    robust = _robust(fit)
    if robust:
        row["delta_cfi_robust"] = np.nan
        row["delta_rmsea_robust"] = np.nan
    if prev is None:
        row.update(decision=None, rule=rule.name, reason="reference model (nothing to compare)")
        return row
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        comp = compare(prev, fit, names=["previous", "current"])
    cur = comp.loc["current"]
    row["chisq_diff"] = float(cur["chisq_diff"])
    row["df_diff"] = int(cur["df_diff"])
    row["pvalue_diff"] = float(cur["pvalue"])
    fm0, fm1 = prev.fit_measures(), fit.fit_measures()
    for key in ("cfi", "rmsea", "srmr"):
        row[f"delta_{key}"] = float(fm1[key] - fm0[key])
    if robust:
        for key in ("cfi", "rmsea"):
            row[f"delta_{key}_robust"] = float(fm1.get(f"{key}_robust", np.nan)
                                               - fm0.get(f"{key}_robust", np.nan))
    # robust indices when they are available, the naive ones otherwise
    use_robust = (robust and rule.robust and np.isfinite(row["delta_cfi_robust"])
                  and np.isfinite(row["delta_rmsea_robust"]))
    deltas = {
        "delta_cfi": row["delta_cfi_robust"] if use_robust else row["delta_cfi"],
        "delta_rmsea": row["delta_rmsea_robust"] if use_robust else row["delta_rmsea"],
        "delta_srmr": row["delta_srmr"],
        "pvalue_diff": row["pvalue_diff"],
        "label": "(robust)" if use_robust else "",
    }
    holds, reason = rule.decide(deltas, added)
    row.update(decision="holds" if holds else "fails", rule=rule.name, reason=reason)
    return row


# ----------------------------------------------------------------------------------------
# parameter bookkeeping for the partial search
# ----------------------------------------------------------------------------------------


def _param_type(fit: Fit, i: int) -> str:
    """The group_equal type of parameter row ``i`` (``""`` when no type covers it), the
    one the parameter table constrained it by."""
    p = fit.partable.params
    names = fit.partable.names
    return equality_kind(p["op"].iat[i], p["lhs"].iat[i], p["rhs"].iat[i], set(names.ov_nox),
                         set(names.lv))


def _key(fit: Fit, i: int) -> str:
    p = fit.partable.params
    return f"{p['lhs'].iat[i]}{p['op'].iat[i]}{p['rhs'].iat[i]}"


def _is_plabel(label: str) -> bool:
    return label.startswith(".p") and label.endswith(".")


def _invariant(fit: Fit) -> dict[str, bool]:
    """Parameter key → equal in all groups (tied by one label, or fixed to one value)."""
    p = fit.partable.params
    out: dict[str, bool] = {}
    for key, rows in p.groupby(p["lhs"] + p["op"] + p["rhs"], sort=False):
        free = rows["free"].to_numpy()
        labels = rows["label"].to_numpy()
        if (free == 0).all():
            out[key] = len(set(rows["ustart"].round(12))) == 1
        else:
            out[key] = bool((labels != "").all() and len(set(labels)) == 1)
    return out


def _indicators(fit: Fit) -> dict[str, list[str]]:
    p = fit.partable.params
    rows = p[(p["op"] == "=~") & (p["group"] == 1)]
    out: dict[str, list[str]] = {}
    for f, x in zip(rows["lhs"], rows["rhs"], strict=True):
        if x in fit.partable.names.ov:
            out.setdefault(f, []).append(x)
    return out


def _item_keys(factor: str, item: str, types: Sequence[str]) -> list[str]:
    keys = []
    if "loadings" in types:
        keys.append(f"{factor}=~{item}")
    if "intercepts" in types:
        keys.append(f"{item}~1")
    if "residuals" in types:
        keys.append(f"{item}~~{item}")
    return keys


def _blocked(fit: Fit, key: str, ptype: str, level_types: Sequence[str],
             min_invariant: int) -> str | None:
    """Why freeing ``key`` would leave a factor with too few invariant indicators."""
    if ptype not in INDICATOR_TYPES:
        return None
    inv = _invariant(fit)
    inv[key] = False
    types = [t for t in INDICATOR_TYPES if t in level_types]
    p = fit.partable.params
    if ptype == "loadings":
        factors = [key.split("=~")[0]]
    else:
        item = key.split("~")[0]
        factors = sorted(set(p.loc[(p["op"] == "=~") & (p["rhs"] == item), "lhs"]))
    for f, items in _indicators(fit).items():
        if f not in factors:
            continue
        n = sum(all(inv.get(k, True) for k in _item_keys(f, y, types)) for y in items)
        if n < min_invariant:
            return (
                f"freeing {key} would leave factor {f!r} with {n} invariant indicator(s) "
                f"(fewer than min_invariant={min_invariant})"
            )
    return None


def _score_candidates(fit: Fit, types: Sequence[str], exclude: set[str]) -> pd.DataFrame:
    """Joint score test per parameter: releasing all its equality constraints at once.

    With G groups a parameter tied by ``group_equal`` has G - 1 constraints (group 1 =
    group g); ``group_partial`` frees it in every group, so the test that matches the
    refit is the joint one on G - 1 df, the same number as
    ``fit.score_test(release=[...]).total``.
    """
    from semnet.estimation.optimize import constraint_jacobian
    from semnet.results.hypothesis import _inverse_given

    con = fit.constraints
    R = con.R
    rows = list(con.rows)
    nonlinear = [nc for nc in con.nonlinear if nc.equality]
    if nonlinear:
        R = np.vstack([R, constraint_jacobian([nc.h for nc in nonlinear], fit.x)])
        rows += [nc.constraint for nc in nonlinear]
    params = fit.partable.params
    labels = params["label"].to_numpy()
    groups_of = params["group"].to_numpy()
    by_key: dict[str, list[int]] = {}
    pairs: dict[str, set[int]] = {}
    for r, item in enumerate(rows):
        if not isinstance(item, tuple):
            continue
        i, j = item
        key = _key(fit, i)
        if key != _key(fit, j) or not _is_plabel(str(labels[i])):
            continue
        if _param_type(fit, i) not in types or key in exclude:
            continue
        by_key.setdefault(key, []).append(r)
        pairs.setdefault(key, set()).update({int(groups_of[i]), int(groups_of[j])})
    out = []
    if by_key:
        ev = fit.discrepancy().evaluate(fit.x)
        g, info = ev.gradient, ev.information
        n = fit.ntotal
        glabels = fit.groups
        for key, idx in by_key.items():
            q = _inverse_given(info, np.delete(R, idx, axis=0))
            x2 = float(n * g @ q @ g)
            df = len(idx)
            out.append({
                "param": key,
                "type": _param_type(fit, rows[idx[0]][0]),
                "groups": ",".join(glabels[k - 1] for k in sorted(pairs[key])),
                "constraints": tuple(idx),
                "X2": x2,
                "df": df,
                "pvalue": float(stats.chi2.sf(x2, df)),
            })
    cols = ["param", "type", "groups", "constraints", "X2", "df", "pvalue"]
    return pd.DataFrame(out, columns=cols)


def adjust_pvalues(p: Sequence[float], method: str | None) -> np.ndarray:
    """Adjusted p-values: ``"bonferroni"``, ``"holm"``, ``"bh"`` (Benjamini–Hochberg) or None.

    Examples
    --------
    >>> from semnet.analyses.invariance import adjust_pvalues
    >>> adjust_pvalues([0.01, 0.02, 0.04], "holm").round(3).tolist()
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p, dtype=float)
    m = p.size
    if method is None or m == 0:
        return p.copy()
    method = check_choice("adjust", method, ADJUST)
    if method == "bonferroni":
        return np.minimum(1.0, p * m)
    order = np.argsort(p, kind="stable")
    out = np.empty(m)
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    else:  # bh
        adj = np.minimum.accumulate(m / np.arange(m, 0, -1) * p[order][::-1])[::-1]
    out[order] = np.minimum(1.0, adj)
    return out


# ----------------------------------------------------------------------------------------
# formatting
# ----------------------------------------------------------------------------------------

_INT_COLUMNS = {"npar", "df", "df_diff", "step", "fit_df", "n_candidates", "nobs"}


def _cell(value: Any, column: str, digits: int) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return ""
        if column in _INT_COLUMNS and v.is_integer():
            return str(int(v))
        if column.startswith(("pvalue", "p_")) and 0 <= v < 10 ** -digits:
            return f"<{10 ** -digits:.{digits}f}"
        return f"{v:.{digits}f}"
    if isinstance(value, tuple | list):
        return ", ".join(map(str, value))
    return str(value)


def _cells(frame: pd.DataFrame, digits: int) -> tuple[list[str], list[list[str]]]:
    index_name = frame.index.name
    header = ([index_name] if index_name else []) + [str(c) for c in frame.columns]
    body = []
    for idx, row in frame.iterrows():
        cells = [str(idx)] if index_name else []
        cells += [_cell(row[c], str(c), digits) for c in frame.columns]
        body.append(cells)
    return header, body


def frame_to_markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as a GitHub-flavoured Markdown table (no ``tabulate`` needed).

    Examples
    --------
    >>> import pandas as pd
    >>> from semnet.analyses.invariance import frame_to_markdown
    >>> print(frame_to_markdown(pd.DataFrame({"a": ["x"], "b": [0.12345]})))
    | a | b |
    |:--|--:|
    | x | 0.123 |
    """
    header, body = _cells(frame, digits)
    numeric = [False] * len(header)
    offset = 1 if frame.index.name else 0
    for k, c in enumerate(frame.columns):
        numeric[k + offset] = pd.api.types.is_numeric_dtype(frame[c])

    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |",
             "|" + "|".join("--:" if n else ":--" for n in numeric) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}"}


def _latex_escape(s: str) -> str:
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in s)


def frame_to_latex(frame: pd.DataFrame, digits: int = 3, caption: str | None = None) -> str:
    """A DataFrame as a LaTeX ``tabular`` (booktabs rules), without jinja2.

    Examples
    --------
    >>> import pandas as pd
    >>> from semnet.analyses.invariance import frame_to_latex
    >>> print(frame_to_latex(pd.DataFrame({"delta_cfi": [-0.01]})))
    \\begin{tabular}{r}
    \\toprule
    delta\\_cfi \\\\
    \\midrule
    -0.010 \\\\
    \\bottomrule
    \\end{tabular}
    """
    header, body = _cells(frame, digits)
    align = ("l" if frame.index.name else "") + "".join(
        "r" if pd.api.types.is_numeric_dtype(frame[c]) else "l" for c in frame.columns)
    lines = [f"\\begin{{tabular}}{{{align}}}", "\\toprule",
             " & ".join(_latex_escape(h) for h in header) + " \\\\", "\\midrule"]
    lines += [" & ".join(_latex_escape(c) for c in row) + " \\\\" for row in body]
    lines += ["\\bottomrule", "\\end{tabular}"]
    text = "\n".join(lines)
    if caption:
        text = ("\\begin{table}\n\\centering\n" f"\\caption{{{_latex_escape(caption)}}}\n"
                f"{text}\n\\end{{table}}")
    return text


def frame_to_html(frame: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as an HTML ``<table>`` with numbers rounded to ``digits``."""
    header, body = _cells(frame, digits)
    out = ["<table>", "  <thead>", "    <tr>" + "".join(
        f"<th>{html.escape(h)}</th>" for h in header) + "</tr>", "  </thead>", "  <tbody>"]
    for row in body:
        out.append("    <tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
    out += ["  </tbody>", "</table>"]
    return "\n".join(out)


class _Formats:
    """``to_markdown``/``to_latex``/``to_html`` of a result's main table."""

    def _display(self, columns: Sequence[str] | None) -> pd.DataFrame:  # pragma: no cover
        raise NotImplementedError

    def to_markdown(self, digits: int = 3, columns: Sequence[str] | None = None) -> str:
        """The main table as Markdown (``columns`` picks columns; default a compact set)."""
        return frame_to_markdown(self._display(columns), digits)

    def to_latex(self, digits: int = 3, columns: Sequence[str] | None = None,
                 caption: str | None = None) -> str:
        """The main table as a LaTeX ``tabular`` (booktabs)."""
        return frame_to_latex(self._display(columns), digits, caption)

    def to_html(self, digits: int = 3, columns: Sequence[str] | None = None) -> str:
        """The main table as an HTML ``<table>``."""
        return frame_to_html(self._display(columns), digits)


def _pick_columns(frame: pd.DataFrame, columns: Sequence[str] | None,
                  default: Sequence[str]) -> pd.DataFrame:
    cols = list(columns) if columns is not None else [c for c in default if c in frame]
    unknown = [c for c in cols if c not in frame.columns]
    if unknown:
        raise OptionError(
            f"unknown column(s) {', '.join(map(repr, unknown))}; the table has "
            f"{', '.join(map(str, frame.columns))}."
        )
    return frame[cols]


# ----------------------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------------------

_TABLE_DISPLAY = ("chisq", "chisq_scaled", "df", "cfi", "cfi_robust", "tli", "rmsea",
                  "rmsea_robust", "srmr", "chisq_diff", "df_diff", "pvalue_diff",
                  "delta_cfi", "delta_cfi_robust", "delta_rmsea", "delta_rmsea_robust",
                  "delta_srmr", "decision")


@dataclass(frozen=True, eq=False)
class PartialResult(_Formats):
    """The outcome of a partial-invariance search (:meth:`InvarianceResult.partial`).

    Attributes
    ----------
    level : str
        The level searched up to.
    fit : Fit
        The final model of ``level``, with ``group_partial`` = :attr:`group_partial`.
    fits : mapping
        Level → final (partial) fit, for every level of the ladder up to ``level``.
    freed : tuple of str
        Parameters freed by the search, in order (``"ni=~ni3"``, ``"doi2~1"``).
    group_partial : tuple of str
        Everything exempt from ``group_equal`` in :attr:`fit`: the user's
        ``group_partial`` and :attr:`freed`.
    audit : DataFrame
        One row per level and step (step 0: the level before any freeing): ``level,
        step, param, groups, X2, df, pvalue, p_adjusted, n_candidates``, the fit after
        the step (``chisq, fit_df, cfi, rmsea, srmr``) and its comparison with the
        previous level (``chisq_diff, df_diff, pvalue_diff, delta_cfi, delta_rmsea,
        delta_srmr, decision, reason``).
    holds : bool
        Every level up to ``level`` holds after the search.
    """

    level: str
    fit: Fit
    fits: Mapping[str, Fit]
    freed: tuple[str, ...]
    group_partial: tuple[str, ...]
    audit: pd.DataFrame
    holds: bool
    rule: Cutoffs
    levels_held: Mapping[str, bool]

    def _display(self, columns):
        return _pick_columns(self.audit, columns, (
            "level", "step", "param", "X2", "df", "pvalue", "p_adjusted", "chisq", "fit_df",
            "cfi", "rmsea", "delta_cfi", "delta_rmsea", "pvalue_diff", "decision"))

    def __repr__(self) -> str:
        freed = ", ".join(self.freed) or "nothing"
        status = "holds" if self.holds else "does NOT hold"
        return (f"<PartialResult {self.level}: freed {freed}; {status} by {self.rule.name}>")


@dataclass(frozen=True, eq=False)
class InvarianceResult(_Formats):
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

    def _fit(self, group_equal: Sequence[str], group_partial: Sequence[str]) -> Fit:
        return sem(self.model, self.data, group=self.group, group_equal=tuple(group_equal),
                   group_partial=tuple(group_partial), **self.fit_args)

    def _table(self, rule: Cutoffs) -> pd.DataFrame:
        key = ("table", rule)
        if key not in self._cache:
            rows = []
            prev_name = None
            for name, fit in self.fits.items():
                row = {"level": name, "group_equal": ", ".join(self.ladder[name])}
                row.update(_fit_row(fit))
                prev = self.fits[prev_name] if prev_name else None
                row.update(_diff_row(prev, fit, _added(self.ladder, name), rule, prev_name))
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
            rmsea_ci_lower_robust, rmsea_ci_upper_robust``), ``aic, bic``, then against
            the previous level (``compared_to``): ``chisq_diff`` (Satorra–Bentler 2001
            scaled when robust), ``df_diff, pvalue_diff, delta_cfi, delta_rmsea,
            delta_srmr`` (robust: ``delta_cfi_robust, delta_rmsea_robust``) and
            ``decision`` (``"holds"``/``"fails"``; None for the first level), ``rule``
            and ``reason`` (the criteria that decided).

        Examples
        --------
        >>> res.table()["decision"].tolist()  # doctest: +SKIP
        [None, 'holds', 'fails', 'holds']
        """
        return self._table(self.rule if rule is None else _rule(rule)).copy()

    @property
    def highest_level(self) -> str:
        """The last level of the ladder reached with every step holding (the first
        level when the second fails)."""
        decisions = self._table(self.rule)["decision"].tolist()
        best = self.levels[0]
        for name, d in zip(self.levels[1:], decisions[1:], strict=True):
            if d != "holds":
                break
            best = name
        return best

    def _display(self, columns):
        return _pick_columns(self.table(), columns, _TABLE_DISPLAY)

    def __repr__(self) -> str:
        fit0 = self.fits[self.levels[0]]
        cols = [c for c in ("chisq", "df", "cfi", "rmsea", "srmr", "chisq_diff", "df_diff",
                            "pvalue_diff", "delta_cfi", "decision") if c in self.table()]
        return (
            f"<InvarianceResult: {len(self.groups)} groups ({', '.join(self.groups)}), "
            f"{fit0.options.estimator}, rule {self.rule.name}; highest level holding: "
            f"{self.highest_level}>\n{self.table()[cols].round(4).to_string()}"
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
    ) -> PartialResult:
        """Partial invariance: free the constraints flagged by score tests until ``level``
        holds.

        Every level of the ladder up to ``level`` is handled in turn (Byrne, Shavelson
        & Muthén, 1989): the level, with everything freed so far, is compared with the
        previous (partial) level; while it fails by the rule, the parameter of the type
        the level adds (loadings for metric, intercepts for scalar, residuals for
        strict, ...) with the largest significant score test is freed through
        ``group_partial`` and the model refitted.

        Parameters
        ----------
        level : str
            The level to reach (default ``"scalar"``).
        alpha : float
            Significance level of the (adjusted) score tests.
        adjust : {"bonferroni", "holm", "bh", None}
            Multiplicity adjustment over the candidate parameters at each step.
        max_steps : int, optional
            Most parameters freed per level (default: no limit).
        rule : str or Cutoffs, optional
            When a level holds; default the result's rule.
        min_invariant : int
            Keep at least this many invariant indicators per factor (default 2).

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
        rule_ = self.rule if rule is None else _rule(rule)
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
            self._cache[key] = self._partial(level, alpha, adjust, max_steps, rule_,
                                             int(min_invariant))
        return self._cache[key]

    def _partial(self, level, alpha, adjust, max_steps, rule, min_invariant) -> PartialResult:
        names = self.levels[: self.levels.index(level) + 1]
        freed: list[str] = []
        prev_name = names[0]
        prev_fit = self.fits[prev_name]
        fits = {prev_name: prev_fit}
        held: dict[str, bool] = {}
        audit: list[dict] = []
        for name in names[1:]:
            ge = self.ladder[name]
            added = _added(self.ladder, name)
            fit = self.fits[name] if not freed else self._fit(ge, [*self.group_partial, *freed])
            diff = _diff_row(prev_fit, fit, added, rule, prev_name)
            audit.append(_audit_row(name, 0, None, fit, diff))
            steps = 0
            while diff["decision"] == "fails" and (max_steps is None or steps < max_steps):
                cand = _score_candidates(fit, added, set(self.group_partial) | set(freed))
                if cand.empty:
                    break
                cand["p_adjusted"] = adjust_pvalues(cand["pvalue"], adjust)
                cand = cand.sort_values(["p_adjusted", "X2"], ascending=[True, False],
                                        kind="stable")
                chosen = None
                for _, c in cand[cand["p_adjusted"] <= alpha].iterrows():
                    why = _blocked(fit, c["param"], c["type"], ge, min_invariant)
                    if why is None:
                        chosen = c
                        break
                    warnings.warn(f"partial({level!r}): {why}; {c['param']} stays equal.",
                                  SemnetWarning, stacklevel=3)
                if chosen is None:
                    break
                freed.append(chosen["param"])
                steps += 1
                fit = self._fit(ge, [*self.group_partial, *freed])
                diff = _diff_row(prev_fit, fit, added, rule, prev_name)
                audit.append(_audit_row(name, steps, chosen, fit, diff, len(cand)))
            held[name] = diff["decision"] == "holds"
            fits[name] = fit
            prev_name, prev_fit = name, fit
        frame = pd.DataFrame(audit)
        frame["df_diff"] = frame["df_diff"].astype("Int64")
        frame["df"] = frame["df"].astype("Int64")
        frame["n_candidates"] = frame["n_candidates"].astype("Int64")
        frame.attrs["rule"] = rule.name
        frame.attrs["adjust"] = adjust
        frame.attrs["alpha"] = alpha
        return PartialResult(
            level=level,
            fit=fits[level],
            fits=MappingProxyType(fits),
            freed=tuple(freed),
            group_partial=(*self.group_partial, *freed),
            audit=frame,
            holds=all(held.values()),
            rule=rule,
            levels_held=MappingProxyType(held),
        )

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
        if partial is not None:
            if not isinstance(partial, PartialResult):
                raise OptionError("partial must be a PartialResult from result.partial().")
            ge = self.ladder[partial.level]
            fit, source = partial.fit, f"{partial.level} (partial: " + (
                ", ".join(partial.group_partial) or "none") + ")"
            if not partial.holds:
                raise SemnetError(
                    f"the partial {partial.level} model does not hold by the rule "
                    f"{partial.rule.name}; latent means are not comparable. Free more "
                    "parameters (a larger max_steps or alpha) or report that scalar "
                    "invariance fails."
                )
        else:
            best = self.highest_level
            usable = [n for n in self.levels[: self.levels.index(best) + 1]
                      if "intercepts" in self.ladder[n] and "means" not in self.ladder[n]]
            if not usable:
                tab = self._table(self.rule)
                failing = next((n for n in self.levels[1:] if tab.at[n, "decision"] != "holds"),
                               None)
                why = (f" ({failing}: {tab.at[failing, 'reason']})" if failing else "")
                raise SemnetError(
                    "scalar invariance (equal loadings and intercepts) does not hold by the "
                    f"rule {self.rule.name}{why}, so latent means are not comparable across "
                    "groups. Look for partial invariance and pass it: "
                    "res.latent_means(partial=res.partial('scalar'))."
                )
            source = usable[-1]
            ge, fit = self.ladder[source], self.fits[source]
        if "intercepts" not in ge:
            raise SemnetError(
                f"the level {source!r} does not constrain intercepts; latent means are only "
                "comparable under scalar (full or partial) invariance."
            )
        if "means" in ge:
            raise SemnetError(
                f"the level {source!r} constrains the latent means to be equal; use a level "
                "without 'means'."
            )
        return _latent_means(fit, reference, level, source)

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


def _audit_row(level: str, step: int, chosen, fit: Fit, diff: dict, n_cand: int | None = None):
    fm = fit.fit_measures()
    row = {
        "level": level,
        "step": step,
        "param": None if chosen is None else chosen["param"],
        "groups": None if chosen is None else chosen["groups"],
        "X2": np.nan if chosen is None else chosen["X2"],
        "df": None if chosen is None else int(chosen["df"]),
        "pvalue": np.nan if chosen is None else chosen["pvalue"],
        "p_adjusted": np.nan if chosen is None else chosen["p_adjusted"],
        "n_candidates": n_cand,
        "chisq": float(fm["chisq"]),
        "fit_df": int(fit.df),
    }
    if _robust(fit):
        row["chisq_scaled"] = float(fm.get("chisq_scaled", np.nan))
    row.update(cfi=float(fm["cfi"]), rmsea=float(fm["rmsea"]), srmr=float(fm["srmr"]))
    if _robust(fit):
        row.update(cfi_robust=float(fm.get("cfi_robust", np.nan)),
                   rmsea_robust=float(fm.get("rmsea_robust", np.nan)))
    for k in ("chisq_diff", "df_diff", "pvalue_diff", "delta_cfi", "delta_rmsea",
              "delta_srmr", "decision", "reason"):
        row[k] = diff[k]
    return row


def _latent_means(fit: Fit, reference: str | None, level: float, source: str) -> pd.DataFrame:
    groups = fit.groups
    ref = groups[0] if reference is None else str(reference)
    if ref not in groups:
        check_choice("reference", ref, groups)
    r = groups.index(ref) + 1
    p = fit.partable.params
    lv = list(fit.partable.names.lv)
    V = fit.vcov_free
    if V is None:
        raise SemnetError("the fit has no standard errors (singular information); latent "
                          "mean differences cannot be tested.")
    free = p["free"].to_numpy()
    values = fit.values
    nobs = fit.nobs
    crit = stats.norm.ppf(1 - (1 - level) / 2)

    def row_of(lhs, op, rhs, g):
        idx = np.flatnonzero((p["lhs"] == lhs) & (p["op"] == op) & (p["rhs"] == rhs)
                             & (p["group"] == g))
        return int(idx[0]) if idx.size else None

    out = []
    for f in lv:
        rr = row_of(f, "~1", "", r)
        if rr is None:
            continue
        for g in range(1, len(groups) + 1):
            if g == r:
                continue
            rg = row_of(f, "~1", "", g)
            c = np.zeros(V.shape[0])
            if free[rg]:
                c[free[rg] - 1] += 1.0
            if free[rr]:
                c[free[rr] - 1] -= 1.0
            est = float(values[rg] - values[rr])
            var = float(c @ V @ c)
            se = math.sqrt(var) if var > 1e-14 else np.nan
            z = est / se if se == se and se > 0 else np.nan
            psi_g = float(values[row_of(f, "~~", f, g)])
            psi_r = float(values[row_of(f, "~~", f, r)])
            ng, nr = nobs[groups[g - 1]], nobs[ref]
            pooled = ((ng - 1) * psi_g + (nr - 1) * psi_r) / (ng + nr - 2)
            out.append({
                "factor": f,
                "group": groups[g - 1],
                "reference": ref,
                "est": est,
                "se": se,
                "z": z,
                "pvalue": float(2 * stats.norm.sf(abs(z))) if z == z else np.nan,
                "ci_lower": est - crit * se,
                "ci_upper": est + crit * se,
                "pooled_var": pooled,
                "effect_size": est / math.sqrt(pooled) if pooled > 0 else np.nan,
                "source": source,
            })
    return pd.DataFrame(out)


# ----------------------------------------------------------------------------------------
# structural paths across groups
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PathComparison(_Formats):
    """Tests that structural paths are equal across groups (from :func:`compare_paths`).

    Attributes
    ----------
    paths : tuple of str
        The paths tested, e.g. ``("doi~ni",)``.
    free, equal : Fit
        The model with the paths free in every group, and with them equal.
    lrt : DataFrame
        :func:`semnet.compare` of ``free`` and ``equal`` (all paths jointly).
    estimates : DataFrame
        ``path, group, est, se, z, pvalue, ci_lower, ci_upper, std_all`` from ``free``.
    joint : DataFrame
        ``path, test, stat, df, pvalue``: per path the Wald test that it is equal in all
        groups (G − 1 df), then for all paths together the Wald test and the LRT.
    pairwise : DataFrame
        ``path, group_a, group_b, est_a, est_b, diff, se, z, pvalue, p_adjusted``: Wald
        (z) tests of each pair of groups, adjusted within each path.
    """

    paths: tuple[str, ...]
    free: Fit
    equal: Fit
    lrt: pd.DataFrame
    estimates: pd.DataFrame
    joint: pd.DataFrame
    pairwise: pd.DataFrame

    def _display(self, columns):
        return _pick_columns(self.pairwise, columns, tuple(self.pairwise.columns))

    def __repr__(self) -> str:
        return (f"<PathComparison {', '.join(self.paths)}>\n"
                f"{self.joint.round(4).to_string(index=False)}\n\n"
                f"{self.pairwise.round(4).to_string(index=False)}")


def _path_key(path: str) -> str:
    key = "".join(str(path).split())
    if "~" not in key or "=~" in key or "~~" in key or key.endswith("~1"):
        raise OptionError(
            f"{path!r} is not a regression path; write it as 'outcome ~ predictor', e.g. "
            "'doi ~ ni'."
        )
    return key


def compare_paths(
    model: str | Path,
    data: pd.DataFrame | None = None,
    *,
    group: str,
    paths: Sequence[str],
    adjust: str | None = "holm",
    level: float = 0.95,
    **fit_args: Any,
) -> PathComparison:
    """Test whether structural paths are equal across groups, jointly and pairwise.

    Parameters
    ----------
    model : str or path
        lavaan model syntax with the regressions (``doi ~ ni``), or a ``.lav`` path.
    data : DataFrame
    group : str
    paths : sequence of str
        Regressions to compare, as ``"doi~ni"`` or ``"doi ~ ni"``.
    adjust : {"holm", "bonferroni", "bh", None}
        Adjustment of the pairwise p-values within each path.
    level : float
        Confidence level of the per-group estimates.
    **fit_args
        Passed to :func:`semnet.sem` for both models (``estimator``, ``missing``,
        ``group_equal`` for the measurement constraints, e.g.
        ``("loadings", "intercepts")``, ``group_partial``, ...).

    Returns
    -------
    PathComparison

    Notes
    -----
    The constrained model adds ``"regressions"`` to ``group_equal`` and exempts every
    other regression through ``group_partial``, so only the listed paths are equal;
    its likelihood-ratio test against the free model (Satorra–Bentler scaled when
    robust) is in :attr:`PathComparison.lrt`.  Wald tests use the free model's
    covariance matrix of the estimates (robust with MLR/MLM), as lavaan's
    ``lavTestWald()`` with the constraints written on the paths' labels.  Paths that
    carry user labels (``c(b1, b2)*x``) cannot be tied by ``group_equal``; remove the
    labels.

    Examples
    --------
    >>> import semnet
    >>> from semnet.analyses.invariance import compare_paths
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> m = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\ntextual ~ visual"
    >>> out = compare_paths(m, hs, group="school", paths=["textual ~ visual"])
    >>> round(float(out.joint["stat"].iloc[0]), 3)
    2.13
    """
    if isinstance(paths, str):
        paths = [paths]
    keys = tuple(dict.fromkeys(_path_key(p) for p in paths))
    if not keys:
        raise OptionError("paths must name at least one regression, e.g. ['doi ~ ni'].")
    if adjust is not None:
        adjust = check_choice("adjust", adjust, ADJUST)
    ge = fit_args.pop("group_equal", ())
    ge = tuple(_norm_ge(g) for g in ((ge,) if isinstance(ge, str) else ge))
    if "regressions" in ge:
        raise OptionError(
            "group_equal already contains 'regressions', so every path is equal in both "
            "models; leave it out: compare_paths() adds it for the paths tested."
        )
    partial = fit_args.pop("group_partial", ())
    partial = (partial,) if isinstance(partial, str) else tuple(partial)
    free = sem(model, data, group=group, group_equal=ge, group_partial=partial, **fit_args)
    G = len(free.groups)
    if G < 2:
        raise SemnetError(f"the group column {group!r} has a single value; paths can only be "
                          "compared across two or more groups.")
    p = free.partable.params
    reg = p[p["op"] == "~"]
    all_keys = list(dict.fromkeys(reg["lhs"] + "~" + reg["rhs"]))
    unknown = [k for k in keys if k not in all_keys]
    if unknown:
        raise OptionError(
            f"{', '.join(map(repr, unknown))} is not a regression of the model; its "
            f"regressions are {', '.join(map(repr, all_keys)) or 'none'}."
        )
    others = [k for k in all_keys if k not in keys]
    equal = sem(model, data, group=group, group_equal=(*ge, "regressions"),
                group_partial=(*partial, *others), **fit_args)
    if equal.df - free.df != len(keys) * (G - 1):
        raise SemnetError(
            f"constraining {', '.join(keys)} added {equal.df - free.df} df instead of "
            f"{len(keys) * (G - 1)}: some of these paths carry labels or constraints of "
            "their own (labels win over group_equal). Remove their labels, or test them "
            "with fit.wald('b1 == b2')."
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        lrt = compare(free, equal, names=["free", "equal"])

    est = free.estimates(standardized=True, level=level)
    V = free.vcov_free
    if V is None:
        raise SemnetError("the free model has no standard errors; Wald tests are not possible.")
    free_idx = p["free"].to_numpy()
    values = free.values
    groups = free.groups
    est_rows, joint, pair_rows = [], [], []
    all_C, all_d = [], []
    for k in keys:
        lhs, rhs = k.split("~", 1)
        rows = [int(np.flatnonzero((p["lhs"] == lhs) & (p["op"] == "~") & (p["rhs"] == rhs)
                                   & (p["group"] == g))[0]) for g in range(1, G + 1)]
        if any(free_idx[r] == 0 for r in rows):
            raise SemnetError(f"the path {k} is fixed in some group; only free paths can be "
                              "compared.")
        for g, r in enumerate(rows):
            e = est.iloc[r]
            est_rows.append({"path": k, "group": groups[g], "est": e["est"], "se": e["se"],
                             "z": e["z"], "pvalue": e["pvalue"], "ci_lower": e["ci_lower"],
                             "ci_upper": e["ci_upper"], "std_all": e["std_all"]})

        def contrast(a, b, rows=rows):
            c = np.zeros(V.shape[0])
            c[free_idx[rows[a]] - 1] += 1.0
            c[free_idx[rows[b]] - 1] -= 1.0
            return c, float(values[rows[a]] - values[rows[b]])

        C, d = zip(*(contrast(0, g) for g in range(1, G)), strict=True)
        C, d = np.array(C), np.array(d)
        all_C.append(C)
        all_d.append(d)
        w = float(d @ np.linalg.solve(C @ V @ C.T, d))
        joint.append({"path": k, "test": "Wald", "stat": w, "df": G - 1,
                      "pvalue": float(stats.chi2.sf(w, G - 1))})
        path_pairs = []
        for a in range(G):
            for b in range(a + 1, G):
                c, diff = contrast(a, b)
                se = math.sqrt(float(c @ V @ c))
                z = diff / se
                path_pairs.append({
                    "path": k, "group_a": groups[a], "group_b": groups[b],
                    "est_a": float(values[rows[a]]), "est_b": float(values[rows[b]]),
                    "diff": diff, "se": se, "z": z,
                    "pvalue": float(2 * stats.norm.sf(abs(z))),
                })
        adj = adjust_pvalues([r["pvalue"] for r in path_pairs], adjust)
        for r, a in zip(path_pairs, adj, strict=True):
            r["p_adjusted"] = float(a)
        pair_rows += path_pairs
    if len(keys) > 1:
        C, d = np.vstack(all_C), np.concatenate(all_d)
        w = float(d @ np.linalg.solve(C @ V @ C.T, d))
        joint.append({"path": ", ".join(keys), "test": "Wald", "stat": w, "df": len(d),
                      "pvalue": float(stats.chi2.sf(w, len(d)))})
    joint.append({"path": ", ".join(keys),
                  "test": "LRT" + (" (scaled)" if _robust(free) else ""),
                  "stat": float(lrt["chisq_diff"].iloc[1]),
                  "df": int(lrt["df_diff"].iloc[1]),
                  "pvalue": float(lrt["pvalue"].iloc[1])})
    return PathComparison(
        paths=keys,
        free=free,
        equal=equal,
        lrt=lrt,
        estimates=pd.DataFrame(est_rows),
        joint=pd.DataFrame(joint),
        pairwise=pd.DataFrame(pair_rows),
    )
