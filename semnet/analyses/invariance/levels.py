"""The levels of an invariance ladder: their constraints, their fits, and the comparison
of each level with the one before (difference test, fit-index changes, decision).

Examples
--------
>>> from semnet.analyses.invariance.levels import _ladder
>>> _ladder(("configural", "metric", "scalar"))["scalar"]
('loadings', 'intercepts')
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from semnet.analyses.compare import compare
from semnet.analyses.invariance.rules import Cutoffs
from semnet.api import sem
from semnet.errors import OptionError, SemnetError, check_choice
from semnet.partable.build import GROUP_EQUAL_CHOICES
from semnet.results.fit import Fit

__all__ = ["DEFAULT_LEVELS", "EXTRA_LEVELS", "INDICATOR_TYPES", "LEVEL_STEPS"]

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
