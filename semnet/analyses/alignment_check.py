"""Monte Carlo quality check of an alignment solution (Asparouhov & Muthén 2014, as
Mplus's simulation step after ``ALIGNMENT``).

Data are generated from the aligned solution itself — in every group the aligned
loadings and intercepts, the configural residual variances and factor correlations, and
the aligned factor means and variances — with the groups' sample sizes; each replication
is aligned again the same way, and its estimated factor means are compared with the
generating ones: their correlation across groups (the quality of the ranking of the
groups, which Asparouhov & Muthén want at .98 or more), its spread over replications,
and each group's bias.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from semnet.analyses.parallel import Progress, map_tasks, want_progress
from semnet.errors import OptionError, check_seed
from semnet.simulate import simulate


@dataclass(frozen=True)
class AlignmentCheck:
    """The result of :meth:`AlignmentResult.simulate_check`.

    Attributes
    ----------
    summary : DataFrame
        One row per factor: ``factor, reps, failed, mean_correlation, sd_correlation,
        min_correlation, mean_abs_bias`` (the correlation across groups of generating
        and estimated means, per replication).
    groups : DataFrame
        One row per factor and group: ``factor, group, true_mean, mean_estimate, bias``.
    correlations : DataFrame
        The correlation of every replication (``rep, factor, correlation``).
    """

    summary: pd.DataFrame
    groups: pd.DataFrame
    correlations: pd.DataFrame


def _vector(values: Sequence[float]) -> str:
    return "c(" + ", ".join(f"{v:.12g}" for v in values) + ")"


def _by_group(frame: pd.DataFrame, groups: Sequence[str], column: str) -> np.ndarray:
    """``column`` of the rows of ``frame`` (one per group), in the order of ``groups``."""
    return frame.set_index("group").loc[list(groups), column].to_numpy()


def population_model(result: Any) -> str:
    """lavaan syntax of the aligned solution as a population model, one value per group
    (for :func:`semnet.simulate`)."""
    params = result.parameters()
    means = result.factor_means()
    est = result.configural.estimates(standardized=False)
    groups = result.groups
    lines, sd = [], {}
    for fa in result.factors:
        f = fa.factor
        loads = [_by_group(params[params["param"] == f"{f}=~{i}"], groups, "est")
                 for i in fa.items]  # fmt: skip
        lines.append(f"{f} =~ " + " + ".join(
            f"{_vector(v)}*{i}" for v, i in zip(loads, fa.items, strict=True)))  # fmt: skip
        for i in fa.items:
            nu = _by_group(params[params["param"] == f"{i}~1"], groups, "est")
            lines.append(f"{i} ~ {_vector(nu)}*1")
        rows = means[means["factor"] == f]
        variance = _by_group(rows, groups, "variance")
        lines.append(f"{f} ~ {_vector(_by_group(rows, groups, 'mean'))}*1")
        lines.append(f"{f} ~~ {_vector(variance)}*{f}")
        sd[f] = np.sqrt(variance)
    own = est[(est["op"] == "~~") & (est["lhs"] == est["rhs"])]
    for i in dict.fromkeys(i for fa in result.factors for i in fa.items):
        lines.append(f"{i} ~~ {_vector(_by_group(own[own['lhs'] == i], groups, 'est'))}*{i}")
    names = list(sd)
    for k, a in enumerate(names):
        for b in names[k + 1 :]:
            r = _by_group(est[(est["op"] == "~~") & (est["lhs"] == a) & (est["rhs"] == b)],
                          groups, "est")  # fmt: skip
            lines.append(f"{a} ~~ {_vector(r * sd[a] * sd[b])}*{b}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class _Replicate:
    """One replication: simulate from the population model, align, return the means."""

    population: str
    model: str
    sizes: dict[str, int]
    align: Callable[..., Any]
    options: dict[str, Any]

    def __call__(self, seed: int) -> np.ndarray | None:
        data = simulate(self.population, self.sizes, seed=seed, group_column="_group")
        try:
            res = self.align(self.model, data, group="_group", progress=False, **self.options)
        except Exception:
            return None
        means = res.factor_means()
        return means["mean"].to_numpy()


def simulate_check(
    result: Any,
    align: Callable[..., Any],
    reps: int = 100,
    seed: int | None = None,
    n_jobs: int = 1,
    executor: Executor | None = None,
    progress: bool | None = None,
) -> AlignmentCheck:
    """Generate ``reps`` data sets from ``result``'s aligned solution, align each with
    ``align`` (:func:`semnet.alignment`) and the same options, and compare the means."""
    if not isinstance(reps, int | np.integer) or reps < 2:
        raise OptionError(f"reps must be an integer >= 2, not {reps!r}.")
    check_seed(seed)
    sizes = {g: int(result.configural.nobs[g]) for g in result.groups}
    options = {"method": result.method, "reference": result.reference, **result.options}
    task = _Replicate(population_model(result), result.model, sizes, align, options)
    seeds = np.random.SeedSequence(seed).generate_state(reps).tolist()
    bar = Progress(reps, "alignment check", want_progress(progress, reps, 1), unit="rep")
    try:
        rows = map_tasks(task, seeds, n_jobs=n_jobs, executor=executor, progress=bar)
    finally:
        bar.close()
    truth = result.factor_means()
    labels = truth[["factor", "group"]]
    ok = [r for r in rows if r is not None]
    est = np.array(ok) if ok else np.empty((0, len(truth)))
    corr_rows, summary, groups = [], [], []
    for f in dict.fromkeys(truth["factor"]):
        sel = (labels["factor"] == f).to_numpy()
        true = truth.loc[sel, "mean"].to_numpy()
        corr = [float(np.corrcoef(true, e[sel])[0, 1]) for e in est]
        corr_rows += [{"rep": k, "factor": f, "correlation": c} for k, c in enumerate(corr)]
        bias = est[:, sel].mean(axis=0) - true if len(est) else np.full(sel.sum(), np.nan)
        summary.append({
            "factor": f, "reps": len(est), "failed": reps - len(est),
            "mean_correlation": float(np.mean(corr)) if corr else np.nan,
            "sd_correlation": float(np.std(corr, ddof=1)) if len(corr) > 1 else np.nan,
            "min_correlation": float(np.min(corr)) if corr else np.nan,
            "mean_abs_bias": float(np.mean(np.abs(bias))),
        })  # fmt: skip
        groups.append(pd.DataFrame({
            "factor": f, "group": truth.loc[sel, "group"].to_numpy(), "true_mean": true,
            "mean_estimate": true + bias, "bias": bias,
        }))  # fmt: skip
    return AlignmentCheck(
        pd.DataFrame(summary), pd.concat(groups, ignore_index=True), pd.DataFrame(corr_rows)
    )
