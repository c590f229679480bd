"""Partial invariance: free, one at a time, the equality constraints flagged by score
tests until a level holds (:meth:`InvarianceResult.partial
<semnet.analyses.invariance.InvarianceResult.partial>`).

Each candidate parameter is ranked by the joint score test of releasing all its G - 1
equality constraints (lavaan's ``lavTestScore(release =)``); with ordinal items, whose
Wu & Estabrook identification fixes rather than equates some parameters, by refitting
the level with the candidate freed (:mod:`semnet.analyses.invariance.partial_ordinal`).
The search never frees a parameter that would leave a factor with too few invariant
indicators.

Examples
--------
>>> import semnet
>>> hs = semnet.datasets.holzinger_swineford()
>>> m = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9"
>>> res = semnet.invariance(m, hs, group="school")  # doctest: +SKIP
>>> res.partial("scalar", rule="chisq").freed  # doctest: +SKIP
('x3~1', 'x7~1')
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from semnet.analyses.invariance.adjust import adjust_pvalues
from semnet.analyses.invariance.formats import TableFormats, pick_columns
from semnet.analyses.invariance.levels import (
    INDICATOR_TYPES,
    added_constraints,
    diff_row,
    equal_across_groups,
    is_ordinal,
    is_robust,
)
from semnet.analyses.invariance.partial_ordinal import refit_candidates
from semnet.analyses.invariance.rules import Cutoffs
from semnet.analyses.parallel import Progress, want_progress
from semnet.errors import SemnetWarning
from semnet.partable.build import equality_kind
from semnet.results.fit import Fit

if TYPE_CHECKING:  # pragma: no cover
    from semnet.analyses.invariance.ladder import InvarianceResult

__all__ = ["PartialResult"]

#: the parameter types of an item that count for ``min_invariant``: with ordinal items
#: its thresholds too
_ITEM_TYPES = ("thresholds", *INDICATOR_TYPES)


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


def _indicators(fit: Fit) -> dict[str, list[str]]:
    p = fit.partable.params
    rows = p[(p["op"] == "=~") & (p["group"] == 1)]
    out: dict[str, list[str]] = {}
    for f, x in zip(rows["lhs"], rows["rhs"], strict=True):
        if x in fit.partable.names.ov:
            out.setdefault(f, []).append(x)
    return out


def _item_keys(fit: Fit, factor: str, item: str, types: Sequence[str]) -> list[str]:
    keys = []
    if "thresholds" in types:
        p = fit.partable.params
        rows = p[(p["op"] == "|") & (p["lhs"] == item) & (p["group"] == 1)]
        keys += [f"{item}|{t}" for t in rows["rhs"]]
    if "loadings" in types:
        keys.append(f"{factor}=~{item}")
    if "intercepts" in types:
        keys.append(f"{item}~1")
    if "residuals" in types:
        keys.append(f"{item}~~{item}")
    return keys


def _blocked(fit: Fit, keys: Sequence[str], ptype: str, level_types: Sequence[str],
             min_invariant: int) -> str | None:
    """Why freeing ``keys`` (one parameter, or an item's thresholds) would leave a factor
    with too few invariant indicators."""
    if ptype not in _ITEM_TYPES:
        return None
    inv = equal_across_groups(fit)
    inv.update(dict.fromkeys(keys, False))
    types = [t for t in _ITEM_TYPES if t in level_types]
    p = fit.partable.params
    key = ",".join(keys)
    if ptype == "loadings":
        factors = [keys[0].split("=~")[0]]
    else:
        item = keys[0].split("|" if ptype == "thresholds" else "~")[0]
        factors = sorted(set(p.loc[(p["op"] == "=~") & (p["rhs"] == item), "lhs"]))
    for f, items in _indicators(fit).items():
        if f not in factors:
            continue
        n = sum(all(inv.get(k, True) for k in _item_keys(fit, f, y, types)) for y in items)
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
    from semnet.results.hypothesis import inverse_given_constraints

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
            q = inverse_given_constraints(info, np.delete(R, idx, axis=0))
            x2 = float(n * g @ q @ g)
            df = len(idx)
            out.append({
                "param": key,
                "type": _param_type(fit, rows[idx[0]][0]),
                "groups": ",".join(glabels[k - 1] for k in sorted(pairs[key])),
                "keys": (key,),
                "constraints": tuple(idx),
                "X2": x2,
                "df": df,
                "pvalue": float(stats.chi2.sf(x2, df)),
            })
    cols = ["param", "type", "groups", "keys", "constraints", "X2", "df", "pvalue"]
    return pd.DataFrame(out, columns=cols)


@dataclass(frozen=True, eq=False)
class PartialResult(TableFormats):
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
        the step (``chisq, fit_df, cfi, rmsea, srmr``; robust: ``chisq_scaled,
        cfi_robust, rmsea_robust``; ordinal: ``cfi_scaled, rmsea_scaled``) and its
        comparison with the previous level (``chisq_diff, df_diff, pvalue_diff,
        delta_cfi, delta_rmsea, delta_srmr``, the robust or scaled deltas where the
        ladder table has them, ``decision, reason``).  With ordinal items ``X2, df,
        pvalue`` are the chosen candidate's refit difference test, not a score test.
    holds : bool
        Every level up to ``level`` holds after the search, or is not testable (an
        equivalent model, e.g. equal thresholds of 3-category items), as
        :attr:`InvarianceResult.highest_level` counts it.
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
        kind = "_scaled" if "cfi_scaled" in self.audit else ""
        return pick_columns(self.audit, columns, (
            "level", "step", "param", "X2", "df", "pvalue", "p_adjusted", f"chisq{kind}",
            "fit_df", f"cfi{kind}", f"rmsea{kind}", f"delta_cfi{kind}", f"delta_rmsea{kind}",
            "pvalue_diff", "decision"))

    def __repr__(self) -> str:
        freed = ", ".join(self.freed) or "nothing"
        status = "holds" if self.holds else "does NOT hold"
        return (f"<PartialResult {self.level}: freed {freed}; {status} by {self.rule.name}>")


def search_partial(result: InvarianceResult, level: str, alpha: float, adjust: str | None,
                   max_steps: int | None, rule: Cutoffs, min_invariant: int,
                   progress: bool | None = None) -> PartialResult:
    """Every level of ``result`` up to ``level`` in turn, freed until it holds.

    The search of :meth:`InvarianceResult.partial
    <semnet.analyses.invariance.InvarianceResult.partial>`, which checks the arguments
    (see there for their meaning) and caches the result.

    Returns
    -------
    PartialResult

    Examples
    --------
    >>> from semnet.analyses.invariance.rules import CHISQ
    >>> search_partial(res, "scalar", 0.05, "bonferroni", None, CHISQ, 2)  # doctest: +SKIP
    """
    names = result.levels[: result.levels.index(level) + 1]
    freed: list[str] = []
    prev_name = names[0]
    prev_fit = result.fits[prev_name]
    fits = {prev_name: prev_fit}
    held: dict[str, bool] = {}
    audit: list[dict] = []
    bar = Progress(len(names) - 1, "partial invariance",
                   want_progress(progress, len(names) - 1, 1), unit="level")
    try:
        for name in names[1:]:
            step = _LevelSearch(result, name, prev_name, prev_fit, rule, level)
            fit, holds = step.run(freed, audit, alpha, adjust, max_steps, min_invariant)
            held[name] = holds
            fits[name] = fit
            prev_name, prev_fit = name, fit
            bar.update(1)
    finally:
        bar.close()
    frame = pd.DataFrame(audit)
    for col in ("df_diff", "df", "n_candidates"):
        frame[col] = frame[col].astype("Int64")
    frame.attrs["rule"] = rule.name
    frame.attrs["adjust"] = adjust
    frame.attrs["alpha"] = alpha
    return PartialResult(
        level=level,
        fit=fits[level],
        fits=MappingProxyType(fits),
        freed=tuple(freed),
        group_partial=(*result.group_partial, *freed),
        audit=frame,
        holds=all(held.values()),
        rule=rule,
        levels_held=MappingProxyType(held),
    )


@dataclass(frozen=True)
class _LevelSearch:
    """The search at one level: compare with the previous (partial) level, free the best
    candidate while the level fails."""

    result: InvarianceResult
    name: str
    prev_name: str
    prev_fit: Fit
    rule: Cutoffs
    target: str

    def _refit(self, freed: Sequence[str]) -> Fit:
        ge = self.result.ladder[self.name]
        if not freed:
            return self.result.fits[self.name]
        return self.result.refit(ge, [*self.result.group_partial, *freed])

    def _compare(self, fit: Fit) -> dict[str, Any]:
        added = added_constraints(self.result.ladder, self.name)
        return diff_row(self.prev_fit, fit, added, self.rule, self.prev_name)

    def _candidates(self, fit: Fit, freed: Sequence[str]) -> tuple[pd.DataFrame, dict]:
        """The ranked candidates and the refits the ranking made (ordinal items: each
        candidate refitted; continuous: score tests, no refits)."""
        added = added_constraints(self.result.ladder, self.name)
        if is_ordinal(fit):
            return refit_candidates(self.result, self.name, fit, freed, added)
        exempt = {*self.result.group_partial, *freed}
        return _score_candidates(fit, added, exempt), {}

    def _choose(self, fit: Fit, cand: pd.DataFrame, alpha: float,
                min_invariant: int) -> pd.Series | None:
        """The first significant candidate that keeps enough invariant indicators."""
        ge = self.result.ladder[self.name]
        for _, c in cand[cand["p_adjusted"] <= alpha].iterrows():
            why = _blocked(fit, c["keys"], c["type"], ge, min_invariant)
            if why is None:
                return c
            warnings.warn(f"partial({self.target!r}): {why}; {c['param']} stays equal.",
                          SemnetWarning, stacklevel=5)
        return None

    def run(self, freed: list[str], audit: list[dict], alpha: float, adjust: str | None,
            max_steps: int | None, min_invariant: int) -> tuple[Fit, bool]:
        """Free parameters (appended to ``freed``, one audit row per step) until the level
        holds or no candidate is left; the final fit and whether it holds."""
        fit = self._refit(freed)
        diff = self._compare(fit)
        audit.append(_audit_row(self.name, 0, None, fit, diff))
        steps = 0
        while diff["decision"] == "fails" and (max_steps is None or steps < max_steps):
            cand, refits = self._candidates(fit, freed)
            if cand.empty:
                break
            cand["p_adjusted"] = adjust_pvalues(cand["pvalue"], adjust)
            cand = cand.sort_values(["p_adjusted", "X2"], ascending=[True, False],
                                    kind="stable")
            chosen = self._choose(fit, cand, alpha, min_invariant)
            if chosen is None:
                break
            freed.extend(chosen["keys"])
            steps += 1
            fit = refits.get(chosen["param"])
            if fit is None:
                fit = self._refit(freed)
            diff = self._compare(fit)
            audit.append(_audit_row(self.name, steps, chosen, fit, diff, len(cand)))
        return fit, diff["decision"] in ("holds", "not testable")


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
    if is_robust(fit):
        row["chisq_scaled"] = float(fm.get("chisq_scaled", np.nan))
    row.update(cfi=float(fm["cfi"]), rmsea=float(fm["rmsea"]), srmr=float(fm["srmr"]))
    if is_robust(fit):
        row.update(cfi_robust=float(fm.get("cfi_robust", np.nan)),
                   rmsea_robust=float(fm.get("rmsea_robust", np.nan)))
    if is_ordinal(fit):
        row.update(cfi_scaled=float(fm.get("cfi_scaled", np.nan)),
                   rmsea_scaled=float(fm.get("rmsea_scaled", np.nan)))
    for k in ("chisq_diff", "df_diff", "pvalue_diff", "delta_cfi", "delta_rmsea",
              "delta_srmr", "delta_cfi_robust", "delta_rmsea_robust", "delta_cfi_scaled",
              "delta_rmsea_scaled", "decision", "reason"):
        if k in diff:
            row[k] = diff[k]
    return row
