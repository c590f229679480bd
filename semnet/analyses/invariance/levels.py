"""The levels of an invariance ladder: their constraints, their fits, and the comparison
of each level with the one before (difference test, fit-index changes, decision).

Examples
--------
>>> from semnet.analyses.invariance.levels import level_constraints
>>> level_constraints(("configural", "metric", "scalar"))["scalar"]
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
    "thresholds": ("thresholds",),
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


def normalize_group_equal(name: str) -> str:
    """A ``group_equal`` entry in semnet's spelling (lavaan's dots as underscores).

    Parameters
    ----------
    name : str
        The entry as given, e.g. ``"lv.variances"``.

    Returns
    -------
    str

    Examples
    --------
    >>> normalize_group_equal("lv.variances")
    'lv_variances'
    """
    return name.replace(".", "_")


def level_constraints(
    levels: Sequence[str] | Mapping[str, Sequence[str]],
) -> dict[str, tuple[str, ...]]:
    """Level name → cumulative group_equal tuple, checked to be nested.

    Parameters
    ----------
    levels : sequence of str or mapping
        Level names (the built-in levels of :data:`LEVEL_STEPS` and :data:`EXTRA_LEVELS`,
        each adding its constraints to the ones before), or a mapping from level name to
        its full ``group_equal`` list.

    Returns
    -------
    dict
        Level name → its ``group_equal`` entries, in ladder order.

    Raises
    ------
    OptionError
        For an unknown level or ``group_equal`` entry, a level listed twice, or fewer than
        two levels.
    SemnetError
        If a level drops or repeats the constraints of the level before it.

    Examples
    --------
    >>> level_constraints(["configural", "metric"])
    {'configural': (), 'metric': ('loadings',)}
    """
    out: dict[str, tuple[str, ...]] = {}
    if isinstance(levels, Mapping):
        for name, ge in levels.items():
            ge = (ge,) if isinstance(ge, str) else tuple(ge)
            ge = tuple(normalize_group_equal(g) for g in ge)
            for g in ge:
                check_choice("group_equal", g, GROUP_EQUAL_CHOICES)
            out[str(name)] = tuple(dict.fromkeys(ge))
    else:
        if isinstance(levels, str):
            levels = (levels,)
        acc: list[str] = []
        for name in levels:
            key = normalize_group_equal(str(name))
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


def added_constraints(ladder: Mapping[str, tuple[str, ...]], name: str) -> tuple[str, ...]:
    """The ``group_equal`` entries level ``name`` adds to the level before it.

    Parameters
    ----------
    ladder : mapping
        Level name → cumulative ``group_equal`` tuple (:func:`level_constraints`).
    name : str
        A level of ``ladder``.

    Returns
    -------
    tuple of str
        Empty for the first level.

    Examples
    --------
    >>> added_constraints(level_constraints(["configural", "metric", "scalar"]), "scalar")
    ('intercepts',)
    """
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
_ORDINAL_COLUMNS = ("cfi_scaled", "tli_scaled", "rmsea_scaled")
_INFO_COLUMNS = ("aic", "bic")


@dataclass(frozen=True)
class LevelFit:
    """Fit one level of a ladder (picklable: sent to workers).

    Calling it with a ``group_equal`` tuple fits ``model`` to ``data`` by ``group`` with
    those constraints, ``group_partial=partial`` and the other ``fit_args``.

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> fit_level = LevelFit("visual =~ x1 + x2 + x3", hs, "school", (), {})
    >>> fit_level(("loadings",)).df
    2
    """

    model: str | Path
    data: pd.DataFrame | None
    group: str
    partial: tuple[str, ...]
    fit_args: Mapping[str, Any]

    def __call__(self, group_equal: tuple[str, ...]) -> Fit:
        return sem(self.model, self.data, group=self.group, group_equal=group_equal,
                   group_partial=self.partial, **self.fit_args)


def is_robust(fit: Fit) -> bool:
    """Whether ``fit`` has a scaled (robust) test, so its tables add the robust columns.

    Parameters
    ----------
    fit : Fit

    Returns
    -------
    bool

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> is_robust(semnet.cfa("visual =~ x1 + x2 + x3", hs, estimator="MLR"))
    True
    """
    return fit.scaled_test is not None


def is_ordinal(fit: Fit) -> bool:
    """Whether ``fit`` has ordinal items (its tables add the scaled indices and judge
    them).

    Parameters
    ----------
    fit : Fit

    Returns
    -------
    bool

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> is_ordinal(semnet.cfa("visual =~ x1 + x2 + x3", hs))
    False
    """
    return fit.sample.ordinal is not None


def equal_across_groups(fit: Fit) -> dict[str, bool]:
    """Parameter key → whether it is equal in every group: tied by one label, or fixed to
    one value (as the Wu & Estabrook identification fixes equal intercepts to 0).

    Parameters
    ----------
    fit : Fit

    Returns
    -------
    dict
        ``"lhs op rhs"`` (no spaces, e.g. ``"x3~1"``) → bool.

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> f = semnet.cfa("visual =~ x1 + x2 + x3", hs, group="school",
    ...                group_equal=["loadings"])
    >>> equal_across_groups(f)["visual=~x2"], equal_across_groups(f)["x2~1"]
    (True, False)
    """
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


def fit_row(fit: Fit) -> dict[str, Any]:
    """The fit of one level as a row of the ladder table.

    Parameters
    ----------
    fit : Fit

    Returns
    -------
    dict
        ``npar, chisq, df, pvalue`` (robust: ``chisq_scaled, df_scaled, pvalue_scaled,
        chisq_scaling_factor``), ``cfi, tli, rmsea, rmsea_ci_lower, rmsea_ci_upper, srmr``
        (robust: ``cfi_robust, tli_robust, rmsea_robust`` and its interval; ordinal:
        ``cfi_scaled, tli_scaled, rmsea_scaled``), ``aic, bic``.

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> fit_row(semnet.cfa("visual =~ x1 + x2 + x3", hs))["df"]
    0
    """
    fm = fit.fit_measures()
    cols = list(_FIT_COLUMNS)
    if is_robust(fit):
        cols += _SCALED_COLUMNS
    cols += _INDEX_COLUMNS
    if is_robust(fit):
        cols += _ROBUST_COLUMNS
    if is_ordinal(fit):
        cols += _ORDINAL_COLUMNS
    cols += _INFO_COLUMNS
    row = {c: (float(fm[c]) if c in fm.index else np.nan) for c in cols}
    row["npar"] = int(fit.npar)
    row["df"] = int(fit.df)
    return row


def diff_row(prev: Fit | None, fit: Fit, added: Sequence[str], rule: Cutoffs,
              prev_name: str | None) -> dict[str, Any]:
    """Difference test and fit-index changes of ``fit`` against ``prev``, and the decision.

    Parameters
    ----------
    prev : Fit or None
        The previous level's fit; ``None`` for the first level (the reference).
    fit : Fit
        This level's fit.
    added : sequence of str
        The ``group_equal`` entries this level adds (:func:`added_constraints`).
    rule : Cutoffs
        The decision rule.
    prev_name : str or None
        The previous level's name (the ``compared_to`` column).

    Returns
    -------
    dict
        ``compared_to, chisq_diff, df_diff, pvalue_diff, delta_cfi, delta_rmsea,
        delta_srmr`` (robust: ``delta_cfi_robust, delta_rmsea_robust``), ``decision``
        (``"holds"``, ``"fails"`` or ``None``), ``rule`` and ``reason``.

    Examples
    --------
    >>> import semnet
    >>> from semnet.analyses.invariance.rules import CHEN_2007
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> m = "visual =~ x1 + x2 + x3"
    >>> free = semnet.cfa(m, hs, group="school")
    >>> equal = semnet.cfa(m, hs, group="school", group_equal=("loadings",))
    >>> diff_row(free, equal, ("loadings",), CHEN_2007, "configural")["df_diff"]
    2
    """
    row: dict[str, Any] = {
        "compared_to": prev_name,
        "chisq_diff": np.nan, "df_diff": np.nan, "pvalue_diff": np.nan,
        "delta_cfi": np.nan, "delta_rmsea": np.nan, "delta_srmr": np.nan,
    }
    robust, ordinal = is_robust(fit), is_ordinal(fit)
    if robust:
        row["delta_cfi_robust"] = np.nan
        row["delta_rmsea_robust"] = np.nan
    if ordinal:
        row["delta_cfi_scaled"] = np.nan
        row["delta_rmsea_scaled"] = np.nan
    if prev is None:
        row.update(decision=None, rule=rule.name, reason="reference model (nothing to compare)")
        return row
    if fit.df <= prev.df:
        row.update(df_diff=int(fit.df - prev.df), decision="not testable", rule=rule.name,
                   reason=untestable_reason(prev, fit, prev_name))
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
    for kind, present in (("robust", robust), ("scaled", ordinal)):
        if present:
            for key in ("cfi", "rmsea"):
                row[f"delta_{key}_{kind}"] = float(fm1.get(f"{key}_{kind}", np.nan)
                                                   - fm0.get(f"{key}_{kind}", np.nan))
    holds, reason = rule.decide(_judged(row, rule, robust, ordinal), added)
    row.update(decision="holds" if holds else "fails", rule=rule.name, reason=reason)
    return row


def _judged(row: dict[str, Any], rule: Cutoffs, robust: bool, ordinal: bool) -> dict[str, Any]:
    """The deltas the rule judges: with ordinal items the scaled CFI and RMSEA, with a
    robust estimator the robust ones when both are available, else the naive ones
    (``rule.robust=False``: always the naive ones)."""
    kind = ""
    if rule.robust and ordinal:
        kind = "scaled"
    elif (rule.robust and robust and np.isfinite(row["delta_cfi_robust"])
          and np.isfinite(row["delta_rmsea_robust"])):
        kind = "robust"
    suffix = f"_{kind}" if kind else ""
    return {
        "delta_cfi": row[f"delta_cfi{suffix}"],
        "delta_rmsea": row[f"delta_rmsea{suffix}"],
        "delta_srmr": row["delta_srmr"],
        "pvalue_diff": row["pvalue_diff"],
        "label": f"({kind})" if kind else "",
    }


def untestable_reason(prev: Fit, fit: Fit, prev_name: str | None) -> str:
    """Why a level cannot be tested against the one before: it has as many free
    parameters (an equivalent model) or more (not nested).

    Parameters
    ----------
    prev, fit : Fit
        The previous level's fit and this level's.
    prev_name : str or None
        The previous level's name.

    Returns
    -------
    str

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> f = semnet.cfa("visual =~ x1 + x2 + x3", hs, group="school")
    >>> untestable_reason(f, f, "configural")[:40]
    'not testable: the same degrees of freedo'
    """
    if fit.df == prev.df:
        text = (f"not testable: the same degrees of freedom ({fit.df}) as {prev_name!r}, an "
                "equivalent model")
        if is_ordinal(fit):
            text += (" (with ordinal items of 3 or fewer categories, equal thresholds only "
                     "re-identify the items' intercepts and scales; Wu & Estabrook 2016)")
        return text
    return (f"not testable: fewer degrees of freedom ({fit.df}) than {prev_name!r} "
            f"({prev.df}), so the models are not nested")
