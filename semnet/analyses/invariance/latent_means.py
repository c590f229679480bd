"""Latent mean differences across groups, once scalar invariance (full or partial) holds
(:meth:`InvarianceResult.latent_means
<semnet.analyses.invariance.InvarianceResult.latent_means>`).

Examples
--------
>>> import semnet
>>> hs = semnet.datasets.holzinger_swineford()
>>> m = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\nspeed =~ x7 + x8 + x9"
>>> res = semnet.invariance(m, hs, group="school")  # doctest: +SKIP
>>> res.latent_means(partial=res.partial("scalar"))  # doctest: +SKIP
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from semnet.analyses.invariance.partial import PartialResult
from semnet.errors import OptionError, SemnetError, check_choice, check_level
from semnet.results.fit import Fit

if TYPE_CHECKING:  # pragma: no cover
    from semnet.analyses.invariance.ladder import InvarianceResult


def latent_mean_differences(result: InvarianceResult, reference: str | None,
                            partial: PartialResult | None, level: float) -> pd.DataFrame:
    """:meth:`InvarianceResult.latent_means
    <semnet.analyses.invariance.InvarianceResult.latent_means>`: the checks, the source
    model, then the differences.

    Parameters
    ----------
    result : InvarianceResult
        The fitted ladder.
    reference : str or None
        Reference group label (``None``: the first group).
    partial : PartialResult or None
        A partial-invariance search whose final fit is used (it must hold and constrain
        intercepts); ``None``: the highest level of the ladder that holds.
    level : float
        Confidence level of ``ci_lower``/``ci_upper``.

    Returns
    -------
    DataFrame
        See :meth:`InvarianceResult.latent_means
        <semnet.analyses.invariance.InvarianceResult.latent_means>`.

    Raises
    ------
    SemnetError
        When scalar invariance (full or partial) does not hold.

    Examples
    --------
    >>> latent_mean_differences(res, None, res.partial("scalar"), 0.95)  # doctest: +SKIP
    """
    check_level(level)
    if partial is not None:
        if not isinstance(partial, PartialResult):
            raise OptionError("partial must be a PartialResult from result.partial().")
        first = next(iter(result.fits.values()))
        if (partial.level not in result.ladder or partial.fit.groups != first.groups
                or partial.fit.partable.names.ov != first.partable.names.ov
                or partial.fit.meta.get("data_sha256") != first.meta.get("data_sha256")):
            raise OptionError(
                "partial comes from another invariance ladder (other data, groups or "
                "variables); pass this ladder's own: res.latent_means(partial="
                "res.partial('scalar'))."
            )
        ge = result.ladder[partial.level]
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
        best = result.highest_level
        usable = [n for n in result.levels[: result.levels.index(best) + 1]
                  if "intercepts" in result.ladder[n] and "means" not in result.ladder[n]]
        if not usable:
            tab = result.table()
            failing = next((n for n in result.levels[1:] if tab.at[n, "decision"] != "holds"),
                           None)
            why = (f" ({failing}: {tab.at[failing, 'reason']})" if failing else "")
            raise SemnetError(
                "scalar invariance (equal loadings and intercepts) does not hold by the "
                f"rule {result.rule.name}{why}, so latent means are not comparable across "
                "groups. Look for partial invariance and pass it: "
                "res.latent_means(partial=res.partial('scalar'))."
            )
        source = usable[-1]
        ge, fit = result.ladder[source], result.fits[source]
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
