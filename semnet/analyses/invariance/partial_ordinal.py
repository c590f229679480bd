"""The candidates of a partial-invariance search of ordinal items (Wu & Estabrook, 2016),
ranked by refitting.

In the Wu & Estabrook identification (:mod:`semnet.analyses.invariance.ordinal`) a
level does not only equate parameters: equal intercepts *fix* the later groups'
intercepts to 0 (and free the latent means), equal residual variances fix them to 1,
and how many of an item's thresholds are equal decides whether its intercept and scale
factor (residual variance) are free.  Freeing one parameter through ``group_partial``
therefore changes other rows of the table too, so the model one refits is not the model
a score test of one released equality describes.  Each candidate is ranked instead by
the test the search acts on: the level refitted with the candidate added to
``group_partial``, against the current model, by the ladder's own difference test
(:func:`semnet.compare`: Satorra's 2000 scaled-shifted test for WLSMV, as lavaan's
``lavTestLRT``).  This is the "free" approach of semTools' ``partialInvarianceCat``.

The candidate units follow ``partialInvarianceCat`` too: an item's loading (metric), its
intercept (scalar), its residual variance (strict, theta parameterization), and at the
thresholds level the item's set of equal thresholds, freed together.  A single threshold
is not a unit: with ``k`` equal thresholds an item's intercept and scale factor are free
only for ``k >= 2`` (Wu & Estabrook's rules), so freeing thresholds one at a time ranks
models whose identification changes from one candidate to the next, and a
non-invariant item usually differs in several thresholds at once.  Freeing the whole set
returns the item to its configural parameterization.

Examples
--------
>>> import semnet  # doctest: +SKIP
>>> res = semnet.invariance(model, data, group="g", ordered=items)  # doctest: +SKIP
>>> res.partial("scalar").freed  # doctest: +SKIP
('y3~1',)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from semnet.analyses.compare import compare
from semnet.analyses.invariance.levels import equal_across_groups
from semnet.partable.build import equality_kind
from semnet.results.fit import Fit

if TYPE_CHECKING:  # pragma: no cover
    from semnet.analyses.invariance.ladder import InvarianceResult

__all__ = ["CANDIDATE_COLUMNS", "Candidate", "candidate_units", "refit_candidates"]

#: the columns of a ranked-candidates frame (shared with the score-test search)
CANDIDATE_COLUMNS = ("param", "type", "groups", "keys", "X2", "df", "pvalue")


@dataclass(frozen=True)
class Candidate:
    """One unit the search may free: its name in the audit, its parameter type and the
    ``group_partial`` entries that free it.

    Examples
    --------
    >>> Candidate("y1|t1,y1|t2", "thresholds", ("y1|t1", "y1|t2")).keys
    ('y1|t1', 'y1|t2')
    """

    param: str
    type: str
    keys: tuple[str, ...]


def candidate_units(fit: Fit, types: Sequence[str], exempt: set[str]) -> list[Candidate]:
    """The units of ``fit`` that the search may free: parameters of the ``types`` a level
    adds that are equal in every group (tied by ``group_equal``'s labels, or fixed to one
    value by the identification) and not already exempt; thresholds grouped by item.  A
    factor's last equal loading is not a candidate: with it free the factor's variance
    in the later groups has no scale (and ``min_invariant`` >= 1 would keep it anyway).

    Parameters
    ----------
    fit : Fit
        The current model of the level.
    types : sequence of str
        The ``group_equal`` entries the level adds (e.g. ``("intercepts",)``).
    exempt : set of str
        ``group_partial`` entries already freed.

    Returns
    -------
    list of Candidate
        In the order of the parameter table.

    Examples
    --------
    >>> units = candidate_units(res.fits["scalar"], ("intercepts",), set())  # doctest: +SKIP
    >>> [c.param for c in units]  # doctest: +SKIP
    ['y1~1', 'y2~1', 'y3~1', 'y4~1', 'y5~1']
    """
    p = fit.partable.params
    names = fit.partable.names
    ov_nox, lv = set(names.ov_nox), set(names.lv)
    equal = equal_across_groups(fit)
    ngroups = len(fit.groups)
    keys = p["lhs"] + p["op"] + p["rhs"]
    thresholds: dict[str, list[str]] = {}
    out: list[Candidate] = []
    for key, rows in p.groupby(keys, sort=False):
        kind = equality_kind(rows["op"].iat[0], rows["lhs"].iat[0], rows["rhs"].iat[0],
                             ov_nox, lv)
        if kind not in types or key in exempt or len(rows) != ngroups or not equal[key]:
            continue
        if (rows["free"] == 0).all() and (rows["user"] != 0).any():
            continue
        if kind == "thresholds":
            thresholds.setdefault(rows["lhs"].iat[0], []).append(key)
        else:
            out.append(Candidate(key, kind, (key,)))
    out += [Candidate(",".join(ks), "thresholds", tuple(ks)) for ks in thresholds.values()]
    return [c for c in out if not _last_loading(c, out)]


def _last_loading(cand: Candidate, units: Sequence[Candidate]) -> bool:
    """Whether ``cand`` is the only equal loading left of its factor: freeing it would leave
    the factor's variance in the later groups (free once loadings are equal, std_lv)
    without a scale, an unidentified model."""
    if cand.type != "loadings":
        return False
    factor = cand.param.split("=~")[0]
    return sum(u.type == "loadings" and u.param.split("=~")[0] == factor for u in units) == 1


def refit_candidates(result: InvarianceResult, level: str, fit: Fit, freed: Sequence[str],
                     types: Sequence[str]) -> tuple[pd.DataFrame, dict[str, Fit]]:
    """Rank every candidate of ``level`` by refitting it freed and testing the refit
    against the current model ``fit``.

    Parameters
    ----------
    result : InvarianceResult
        The ladder (its data, groups, options and the user's ``group_partial``).
    level : str
        The level searched.
    fit : Fit
        The level's current model, with ``freed`` exempt.
    freed : sequence of str
        ``group_partial`` entries the search has freed so far.
    types : sequence of str
        The ``group_equal`` entries the level adds.

    Returns
    -------
    candidates : DataFrame
        One row per candidate whose refit has fewer degrees of freedom than ``fit``:
        :data:`CANDIDATE_COLUMNS`, ``X2`` the difference statistic (scaled-shifted for
        WLSMV), ``df`` its degrees of freedom, ``pvalue``.  A candidate whose refit frees
        nothing (e.g. the intercept of an item with no equal threshold left, which the
        identification fixes anyway) is left out.
    refits : dict
        ``param`` → the refitted model, for the candidates in the frame.

    Examples
    --------
    >>> cand, refits = refit_candidates(res, "scalar", res.fits["scalar"], [],
    ...                                 ("intercepts",))  # doctest: +SKIP
    """
    exempt = {*result.group_partial, *freed}
    everyone = ",".join(fit.groups)
    rows: list[dict] = []
    refits: dict[str, Fit] = {}
    for cand in candidate_units(fit, types, exempt):
        refit = result.refit(result.ladder[level], [*result.group_partial, *freed,
                                                     *cand.keys])
        if refit.df >= fit.df:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            test = compare(refit, fit, names=["freed", "current"]).loc["current"]
        refits[cand.param] = refit
        rows.append({"param": cand.param, "type": cand.type, "groups": everyone,
                     "keys": cand.keys, "X2": float(test["chisq_diff"]),
                     "df": int(test["df_diff"]), "pvalue": float(test["pvalue"])})
    return pd.DataFrame(rows, columns=list(CANDIDATE_COLUMNS)), refits
