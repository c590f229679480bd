"""Monte Carlo power analysis: simulate from a population model, fit the analysis model,
count how often the test rejects (Muthén & Muthén, 2002).

For every sample size ``n`` and replication, a data set is drawn from the population
model with :func:`semnet.simulate` (lavaan's ``simulateData`` conventions), the analysis
model is fitted with :func:`semnet.sem`, and the test is applied at level ``alpha``:

- a **parameter** (``"doi~ni"``, ``"f=~x2"``, ``"x1~~x2"``, a label or a ``:=`` name): the
  two-sided Wald z test of ``H0: parameter = 0`` from the fit's standard error;
- an **interaction** (``"doi~ni:et"``): the same test of the product term, which the
  analysis model estimates by its interaction method (``interaction=`` of
  :func:`semnet.sem`: LMS by default for a single group, product indicators otherwise);
- an **invariance level** (``"metric"``, ``"scalar"``, ``"strict"``, or a pair such as
  ``("configural", "scalar")``): the chi-square difference test of the level against
  the level before it (Satorra–Bentler scaled for MLR/MLM, as :func:`semnet.compare`).

Power is the share of rejections among the replications that gave a result; its Monte
Carlo standard error is ``sqrt(power (1 - power) / reps_ok)``.  A replication whose data
cannot be fitted (singular sample covariance matrix, failed or non-converged fit, no
standard error) is *failed*: counted, never fatal, left out of the power.

Randomness: ``numpy.random.SeedSequence(seed)`` is spawned into one child per sample
size and each of those into one child per replication; a replication simulates with
``numpy.random.default_rng(child)``.  The result is therefore the same whatever the
executor, the number of workers or the order in which they finish.
"""

from __future__ import annotations

import inspect
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from semnet.analyses.parallel import Progress, map_tasks, want_progress
from semnet.api import read_model
from semnet.errors import (
    IdentificationError,
    ModelSpecificationError,
    ModelSyntaxError,
    OptionError,
    SemnetError,
    SemnetWarning,
    check_seed,
)

__all__ = ["PowerResult", "power"]

#: replications at or above which a progress bar is shown automatically (on a terminal)
AUTO_PROGRESS = 200
#: the column that holds the group labels of simulated multi-group data
GROUP_COLUMN = "__group__"
#: invariance levels, each tested against the one before it
LEVELS = ("configural", "metric", "scalar", "strict")
_OPS = ("=~", "~~", "~1", "~")
#: errors that concern the model or the options: raised, not counted as failed draws
_FATAL = (OptionError, ModelSyntaxError, ModelSpecificationError, IdentificationError)
_FAILURES = (SemnetError, np.linalg.LinAlgError, ValueError, FloatingPointError,
             ZeroDivisionError, OverflowError)


@dataclass(frozen=True)
class _Test:
    kind: str  # "parameter" or "invariance"
    text: str
    lhs: str = ""
    op: str = ""
    rhs: str = ""
    levels: tuple[str, str] = ("", "")


def _parse_test(test: str | Sequence[str]) -> _Test:
    if isinstance(test, str) and test.strip().lower() in LEVELS[1:]:
        name = test.strip().lower()
        return _Test("invariance", name, levels=(LEVELS[LEVELS.index(name) - 1], name))
    if not isinstance(test, str):
        pair = tuple(str(t).strip().lower() for t in test)
        if len(pair) != 2 or any(t not in LEVELS for t in pair):
            raise OptionError(f"test={test!r}: a pair of invariance levels must name two of "
                              f"{', '.join(LEVELS)}, e.g. ('configural', 'scalar').")
        a, b = sorted(pair, key=LEVELS.index)
        if a == b:
            raise OptionError(f"test={test!r} names the same level twice.")
        return _Test("invariance", f"{b} vs {a}", levels=(a, b))
    text = re.sub(r"\s+", "", test)
    if not text:
        raise OptionError("test is empty; name a parameter such as 'doi~ni' or a level "
                          "such as 'metric'.")
    for op in _OPS:
        if op in text:
            lhs, _, rhs = text.partition(op)
            if not lhs or (op != "~1" and not rhs):
                break
            return _Test("parameter", text, lhs, op, rhs)
    if re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_.]*", text):
        return _Test("parameter", text, op="label", rhs=text)
    raise OptionError(f"test={test!r} is neither a parameter ('doi~ni', 'f=~x2', "
                      f"'doi~ni:et', a label) nor an invariance level ({', '.join(LEVELS[1:])}).")


def _sizes(n: Any, groups: tuple[str, ...] | None) -> list[dict[str, int] | int]:
    items = list(n) if isinstance(n, Sequence | np.ndarray) and not isinstance(n, str) else [n]
    if not items:
        raise OptionError("n is empty; give a sample size or a list of them.")
    out: list[dict[str, int] | int] = []
    for item in items:
        if isinstance(item, Mapping):
            if groups is None:
                raise OptionError("n gives sizes per group, but there are no groups; pass "
                                  "group=[...] with the group labels.")
            sizes = {str(k): v for k, v in item.items()}
            if set(sizes) != set(groups):
                raise OptionError(f"n gives sizes for {sorted(sizes)} but the groups are "
                                  f"{list(groups)}.")
            values = [sizes[g] for g in groups]
        else:
            values = [item]
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | np.integer) or v < 2:
                raise OptionError(f"sample sizes must be whole numbers of at least 2, not "
                                  f"{v!r}.")
        out.append({g: int(sizes[g]) for g in groups} if isinstance(item, Mapping)
                   else int(item))
    return out


@dataclass(frozen=True)
class _Plan:
    """Everything one replication needs (picklable: sent to workers)."""

    population: str
    model: str
    test: _Test
    groups: tuple[str, ...] | None
    alpha: float
    fit_args: Mapping[str, Any]
    simulate_args: Mapping[str, Any]

    def __call__(self, spec: tuple[Any, np.random.SeedSequence]) -> tuple:
        """(pvalue, estimate, se, reason): the estimate and SE of the parameter, or the
        chi-square difference and its df for an invariance test; reason '' on success."""
        from semnet.api import sem
        from semnet.simulate import simulate

        n, seed = spec
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                rng = np.random.default_rng(seed)
                if self.groups is None:
                    data = simulate(self.population, n, seed=rng, **self.simulate_args)
                else:
                    sizes = n if isinstance(n, Mapping) else dict.fromkeys(self.groups, n)
                    data = simulate(self.population, sizes, groups=list(self.groups),
                                    seed=rng, group_column=GROUP_COLUMN,
                                    **self.simulate_args)
                group = None if self.groups is None else GROUP_COLUMN
                if self.test.kind == "invariance":
                    return self._invariance(sem, data, group)
                fit = sem(self.model, data, group=group, **self.fit_args)
            except _FATAL:
                raise
            except _FAILURES as exc:
                return np.nan, np.nan, np.nan, f"{type(exc).__name__}: {exc}"
        if not fit.converged:
            return np.nan, np.nan, np.nan, "did not converge"
        return self._parameter(fit)

    def _parameter(self, fit) -> tuple:
        est = fit.estimates(standardized=False)
        t = self.test
        if t.op == "label":
            rows = est[(est["label"] == t.rhs) | ((est["op"] == ":=") & (est["lhs"] == t.rhs))]
        else:
            rhs = "" if t.op == "~1" else t.rhs
            rows = est[(est["lhs"] == t.lhs) & (est["op"] == t.op) & (est["rhs"] == rhs)]
        if rows.empty:
            raise OptionError(f"test={t.text!r}: the analysis model has no such parameter; "
                              "name one of its parameters, e.g. 'doi~ni', or a label.")
        row = rows.iloc[0]
        se = float(row["se"])
        if not (np.isfinite(se) and se > 0):
            return np.nan, float(row["est"]), se, "no standard error"
        return float(row["pvalue"]), float(row["est"]), se, ""

    def _invariance(self, sem, data, group) -> tuple:
        from semnet.analyses.compare import compare
        from semnet.analyses.invariance.levels import level_constraints

        if group is None:
            raise OptionError("an invariance test needs groups; pass group=[...].")
        ladder = level_constraints(LEVELS[LEVELS.index(self.test.levels[0]):
                                          LEVELS.index(self.test.levels[1]) + 1])
        args = {k: v for k, v in self.fit_args.items() if k != "group_equal"}
        free = sem(self.model, data, group=group, group_equal=ladder[self.test.levels[0]],
                   **args)
        restricted = sem(self.model, data, group=group,
                         group_equal=ladder[self.test.levels[1]], **args)
        if not (free.converged and restricted.converged):
            return np.nan, np.nan, np.nan, "did not converge"
        row = compare(free, restricted).iloc[-1]
        p = float(row["pvalue"])
        if not np.isfinite(p):
            return np.nan, float(row["chisq_diff"]), float(row["df_diff"]), "no test"
        return p, float(row["chisq_diff"]), float(row["df_diff"]), ""


@dataclass(frozen=True, repr=False)
class PowerResult:
    """The result of :func:`semnet.power`; never mutated.

    Attributes
    ----------
    test : str
        What was tested (``"doi~ni"``, ``"metric vs configural"``, ...).
    kind : str
        ``"parameter"`` or ``"invariance"``.
    alpha : float
        Significance level.
    reps : int
        Replications per sample size.
    seed_entropy : int
        Entropy of the root ``SeedSequence``: ``power(..., seed=seed_entropy)`` repeats
        the run.
    """

    test: str
    kind: str
    alpha: float
    reps: int
    seed_entropy: int
    _table: pd.DataFrame = field(repr=False)
    _draws: pd.DataFrame = field(repr=False)

    @property
    def table(self) -> pd.DataFrame:
        """One row per sample size: ``n`` (total cases of a data set), ``power``,
        ``mc_se``, ``reps``, ``failed`` and the mean estimate and SE of the parameter (or
        the mean chi-square difference); with groups also ``n_group``."""
        return self._table.copy()

    @property
    def draws(self) -> pd.DataFrame:
        """One row per replication: ``n``, ``rep``, ``pvalue``, ``reject``, ``est``, ``se``
        (or ``chisq_diff``, ``df_diff``) and ``failure`` (the reason, or ``""``)."""
        return self._draws.copy()

    @property
    def power(self) -> pd.Series:
        """Power by total sample size."""
        return self._table.set_index("n")["power"]

    def summary(self) -> str:
        """A readable report: what was tested and the power table."""
        what = ("Wald z test of the parameter" if self.kind == "parameter"
                else "chi-square difference test of invariance")
        lines = [f"Monte Carlo power: {self.test} ({what}), alpha = {self.alpha:g}, "
                 f"{self.reps} replications per sample size, seed entropy "
                 f"{self.seed_entropy}", ""]
        shown = self._table.copy()
        for col in shown.columns:
            if shown[col].dtype.kind == "f":
                shown[col] = shown[col].map(lambda v: "" if not np.isfinite(v) else f"{v:.3f}")
        lines.append(shown.to_string(index=False))
        failed = int(self._table["failed"].sum())
        if failed:
            reasons = self._draws.loc[self._draws["failure"] != "", "failure"]
            common = reasons.str.split(":").str[0].value_counts()
            lines += ["", f"{failed} failed replication(s), left out of the power: "
                      + ", ".join(f"{k} ({v})" for k, v in common.items())]
        return "\n".join(lines)

    def __repr__(self) -> str:
        cells = ", ".join(f"n={int(r.n)}: {r.power:.3f}" for r in self._table.itertuples())
        return f"<semnet.PowerResult {self.test}, alpha={self.alpha:g}: {cells}>"


def power(
    population: str | Path,
    model: str | Path,
    *,
    n: int | Mapping[str, int] | Sequence[int | Mapping[str, int]],
    reps: int = 500,
    test: str | Sequence[str],
    group: Sequence[str] | None = None,
    alpha: float = 0.05,
    seed: int | np.random.SeedSequence | None = None,
    executor: Executor | None = None,
    n_jobs: int = 1,
    progress: bool | None = None,
    simulate_args: Mapping[str, Any] | None = None,
    **fit_args: Any,
) -> PowerResult:
    """Monte Carlo power of a test in a structural equation model.

    Parameters
    ----------
    population : str or path
        lavaan syntax whose numbers are the population values (as :func:`semnet.simulate`;
        ``c(...)`` gives one value per group).
    model : str or path
        The analysis model fitted to every simulated data set (lavaan syntax; numbers in
        it fix parameters, as in :func:`semnet.sem`).
    n : int, dict or list of them
        Sample size of each simulated data set (per group with ``group``; a dict gives
        one size per group); a list gives a power curve.
    reps : int
        Replications per sample size.
    test : str or pair of str
        A parameter (``"doi~ni"``, ``"f=~x2"``, ``"x1~~x2"``, ``"y~1"``, a label or a
        ``:=`` name; in a multi-group model the first group's unless labelled), an
        interaction (``"doi~ni:et"``), or an invariance level (``"metric"``,
        ``"scalar"``, ``"strict"``: tested against the level before; or a pair such as
        ``("configural", "scalar")``).
    group : sequence of str, optional
        Group labels of a multi-group population; each data set has ``n`` cases per group
        and the analysis model is fitted jointly in all groups.
    alpha : float
        Significance level of the test.
    seed : int or SeedSequence, optional
        Root seed; the same seed gives the same result whatever the executor.
    executor : concurrent.futures.Executor, optional
        Where to run the replications (a process pool, a Dask client's
        ``get_executor()``, ...).
    n_jobs : int
        Local worker processes when no executor is given (``-1``: every CPU).
    progress : bool, optional
        Progress bar (tqdm when installed); default on a terminal for 200 or more fits.
    simulate_args : dict, optional
        Passed to :func:`semnet.simulate` (``skew``, ``likert``, ``missing``,
        ``standardized``, ...).
    **fit_args
        Passed to :func:`semnet.sem` (``estimator``, ``missing``, ``interaction``,
        ``std_lv``, ``group_equal``, ...).

    Returns
    -------
    PowerResult

    Examples
    --------
    >>> import semnet
    >>> pop = '''
    ... f =~ 0.8*x1 + 0.7*x2 + 0.6*x3
    ... y ~ 0.3*f
    ... '''
    >>> res = semnet.power(pop, "f =~ x1 + x2 + x3\\ny ~ f", n=[50, 150], reps=20,
    ...                    test="y~f", seed=1)
    >>> res.table[["n", "reps", "failed"]].values.tolist()
    [[50, 20, 0], [150, 20, 0]]
    >>> bool(res.power[150] >= res.power[50])
    True
    """
    population_text = read_model(population)
    model_text = read_model(model)
    parsed_test = _parse_test(test)
    groups = _group_labels(group, parsed_test, test)
    if isinstance(reps, bool) or not isinstance(reps, int | np.integer) or reps < 1:
        raise OptionError(f"reps must be a positive number of replications, not {reps!r}.")
    if not 0 < alpha < 1:
        raise OptionError(f"alpha must be between 0 and 1 (e.g. 0.05), not {alpha!r}.")
    sizes = _sizes(n, groups)
    simulate_args = _simulate_args(simulate_args)
    if "group" in fit_args or "data" in fit_args:
        raise OptionError("fit_args may not set group or data; power() simulates them.")

    plan = _Plan(population_text, model_text, parsed_test, groups, float(alpha),
                 dict(fit_args), simulate_args)
    check_seed(seed)
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    specs = [(size, child) for size, parent in zip(sizes, root.spawn(len(sizes)), strict=True)
             for child in parent.spawn(int(reps))]
    # check the test and the model on one replication here, so that a wrong name fails
    # at once and not in every worker
    first = plan(specs[0])
    bar = Progress(len(specs), f"power {parsed_test.text}",
                   want_progress(progress, len(specs), AUTO_PROGRESS), unit="rep")
    bar.update(1)
    try:
        rest = map_tasks(plan, specs[1:], n_jobs=n_jobs, executor=executor, progress=bar)
    finally:
        bar.close()
    outcomes = [first, *rest]
    entropy = root.entropy if isinstance(root.entropy, int) else int(np.asarray(root.entropy)[0])
    return _result(parsed_test, float(alpha), int(reps), entropy, sizes, groups, outcomes)


def _group_labels(group: Sequence[str] | None, parsed_test: _Test,
                  test: str | Sequence[str]) -> tuple[str, ...] | None:
    """The group labels, checked (``None`` without groups); an invariance test needs two
    or more groups."""
    groups = None
    if group is not None:
        if isinstance(group, str) or not isinstance(group, Sequence) or len(group) < 1:
            raise OptionError(f"group must be a list of group labels, e.g. ['US', 'CN'], not "
                              f"{group!r}.")
        groups = tuple(str(g) for g in group)
        if len(set(groups)) != len(groups):
            raise OptionError(f"group has repeated labels: {list(groups)}.")
    if parsed_test.kind == "invariance" and (groups is None or len(groups) < 2):
        raise OptionError(f"test={test!r} compares invariance levels across groups; pass "
                          "group=[...] with two or more group labels.")
    return groups


def _simulate_args(simulate_args: Any) -> dict[str, Any]:
    """``power(simulate_args=)`` as a dict, after checking that semnet.simulate() takes
    every key and that none of them is power()'s own."""
    from semnet.simulate import simulate

    if simulate_args is not None and not isinstance(simulate_args, Mapping):
        raise OptionError("simulate_args must be a dict of semnet.simulate() arguments, e.g. "
                          f"{{'likert': 5}}, not {simulate_args!r}.")
    out = dict(simulate_args or {})
    unknown = sorted(set(out) - set(inspect.signature(simulate).parameters))
    if unknown:
        raise OptionError(
            f"simulate_args has {', '.join(map(repr, unknown))}, which semnet.simulate() does "
            "not take; use likert, skew, missing, empirical or standardized."
        )
    clash = {"n", "seed", "groups", "group_column"} & set(out)
    if clash:
        raise OptionError(f"simulate_args may not set {', '.join(sorted(clash))}; they are "
                          "power()'s own arguments.")
    return out


def _result(test: _Test, alpha: float, reps: int, entropy: int, sizes, groups,
            outcomes) -> PowerResult:
    names = ("est", "se") if test.kind == "parameter" else ("chisq_diff", "df_diff")
    totals = [sum(s.values()) if isinstance(s, Mapping) else s * (len(groups) if groups else 1)
              for s in sizes]
    draws = pd.DataFrame(outcomes, columns=["pvalue", *names, "failure"])
    draws.insert(0, "rep", np.tile(np.arange(1, reps + 1), len(sizes)))
    draws.insert(0, "n", np.repeat(totals, reps))
    ok = draws["failure"] == ""
    draws.insert(3, "reject", np.where(ok, draws["pvalue"] < alpha, np.nan))
    rows = []
    for k, total in enumerate(totals):
        block = draws.iloc[k * reps : (k + 1) * reps]
        good = block[block["failure"] == ""]
        m = len(good)
        pw = float((good["pvalue"] < alpha).mean()) if m else math.nan
        if not m:
            reasons = block["failure"].value_counts()
            warnings.warn(
                f"power(): every replication at n = {int(total)} failed, so its power is NaN "
                f"({'; '.join(f'{r} ({c})' for r, c in reasons.items())}); increase n or "
                "check the models (draws shows each failure).",
                SemnetWarning,
                stacklevel=3,
            )
        row = {"n": int(total)}
        if groups is not None:
            s = sizes[k]
            row["n_group"] = (", ".join(f"{g}={s[g]}" for g in groups) if isinstance(s, Mapping)
                              else f"{s} each")
        row.update({
            "power": pw,
            "mc_se": math.sqrt(pw * (1 - pw) / m) if m else math.nan,
            "reps": reps,
            "failed": reps - m,
            f"mean_{names[0]}": float(good[names[0]].mean()) if m else math.nan,
            f"mean_{names[1]}": float(good[names[1]].mean()) if m else math.nan,
        })
        rows.append(row)
    return PowerResult(test.text, test.kind, alpha, reps, entropy, pd.DataFrame(rows), draws)
