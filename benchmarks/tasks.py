"""The benchmark tasks and one runner per tool.

A task is model text plus data plus fit options.  Every runner goes from text to a
table of estimates and returns the chi-square, so the caller can check that the tools
agree before timing them.  Three kinds of task:

- ``"fit"``: one fit, text to estimates with standard errors (check value: chi-square);
- ``"ladder"``: an invariance ladder, one fit per level plus the comparison table
  (semnet: :func:`semnet.invariance` and ``.table()``; lavaan: the fits, ``lavTestLRT``
  and ``fitMeasures``); check value: the sum of the levels' scaled chi-squares;
- ``"bootstrap"``: a fit and ``nboot`` bootstrap draws with percentile intervals (semnet:
  :func:`semnet.bootstrap`, serial; lavaan: ``se = "bootstrap"`` and
  ``parameterEstimates(boot.ci.type = "perc")``); check value: the fit's chi-square;
- ``"polychoric"``: the polychoric correlation matrix and thresholds of ordinal items, no
  model (semnet: :func:`semnet.polychoric`, which also computes the asymptotic
  covariance Gamma; lavaan: ``lavCor(data, ordered = names(data))``, which does not);
  check value: the sum of the correlations below the diagonal;
- ``"alignment"``: the configural model and its alignment optimization (FIXED: the first
  group has mean 0 and variance 1), with delta-method standard errors (semnet:
  :func:`semnet.alignment` and ``.factor_means()``; R: lavaan's configural model, fitted
  group by group — its groups share no parameter, so the estimates and their covariance
  matrix are the joint fit's — and ``sirt::invariance.alignment`` per factor with Mplus's
  settings); check value: the sum of the absolute aligned factor means.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import semnet

HS_MODEL = """\
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""

# lavaan's tutorial SEM (https://lavaan.ugent.be/tutorial/sem.html) with the labels
# a, b, c that hold the loadings equal across the two measurement occasions
POLDEM_MODEL = """\
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + a*y2 + b*y3 + c*y4
dem65 =~ y5 + a*y6 + b*y7 + c*y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
"""


# the tutorial's latent variables as a mediation model: ind60 -> dem60 -> dem65
MEDIATION_MODEL = """\
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ a*ind60
dem65 ~ b*dem60 + c*ind60
ind := a*b
"""


STUDY_MODEL = """\
gm  =~ gm1 + gm2 + gm3 + gm4
rc  =~ rc1 + rc2 + rc3 + rc4
et  =~ et1 + et2 + et3 + et4
ni  =~ ni1 + ni2 + ni3 + ni4 + ni5
doi =~ doi1 + doi2 + doi3
"""


def _study_data() -> pd.DataFrame:
    """The bundled synthetic three-country survey (950 firms, some missing answers)."""
    from pathlib import Path

    return pd.read_csv(Path(__file__).resolve().parent.parent / "sample_data"
                       / "network_involvement.csv")


def _likert_data() -> pd.DataFrame:
    """20 five-category items, 1000 cases: a one-factor model (loadings 0.5 to 0.8) cut
    at -1.5, -0.5, 0.5, 1.5 (seeded)."""
    rng = np.random.default_rng(1)
    n, p = 1000, 20
    loadings = rng.uniform(0.5, 0.8, p)
    factor = rng.normal(size=n)
    latent = factor[:, None] * loadings + rng.normal(size=(n, p)) * np.sqrt(1 - loadings**2)
    codes = np.digitize(latent, [-1.5, -0.5, 0.5, 1.5]) + 1
    return pd.DataFrame(codes, columns=[f"i{k + 1}" for k in range(p)])


#: the study's 20 items, their 7 points merged into 5 ordered categories (1-2, 3, 4, 5, 6-7)
STUDY_ITEMS = tuple(
    f"{f}{k}" for f, n in (("gm", 4), ("rc", 4), ("et", 4), ("ni", 5), ("doi", 3))
    for k in range(1, n + 1)
)  # fmt: skip


def _study_ordinal() -> pd.DataFrame:
    """The survey's items as 5-category ordinal answers, with the country."""
    data = _study_data()[["country", *STUDY_ITEMS]].copy()
    merge = {1: 1, 2: 1, 3: 2, 4: 3, 5: 4, 6: 5, 7: 5}
    data[list(STUDY_ITEMS)] = data[list(STUDY_ITEMS)].apply(lambda c: c.map(merge))
    return data


MANY_GROUPS_MODEL = "f =~ y1 + y2 + y3 + y4\n"


def many_groups_data(groups: int = 100, rows: int = 30) -> pd.DataFrame:
    """``groups`` countries of ``rows`` simulated answers to four items of one factor
    (loadings 1, 0.9, 0.8, 1.1, residual SD 0.5, country shifts of the factor mean and
    of the intercepts), rounded to three decimals so that the CSV lavaan reads holds the
    same numbers (issue #20's many-groups case)."""
    import numpy as np

    rng = np.random.default_rng(20)
    loadings = np.array([1.0, 0.9, 0.8, 1.1])
    factor = rng.normal(size=(groups, rows)) + rng.normal(scale=0.3, size=(groups, 1))
    shift = rng.normal(scale=0.2, size=(groups, 1, 4))
    y = factor[:, :, None] * loadings + shift + rng.normal(scale=0.5, size=(groups, rows, 4))
    frame = pd.DataFrame(y.reshape(groups * rows, 4).round(3), columns=["y1", "y2", "y3", "y4"])
    frame["country"] = [f"c{g + 1:03d}" for g in range(groups) for _ in range(rows)]
    return frame


def items_model(p: int, per: int = 5) -> str:
    """A CFA of ``p`` items, ``per`` per factor (``f1 =~ y1 + ... + y5``, ...), the
    factors correlated (lavaan's default)."""
    return "".join(
        f"f{f + 1} =~ " + " + ".join(f"y{per * f + j + 1}" for j in range(per)) + "\n"
        for f in range(p // per)
    )


def items_data(p: int, rows: int = 1000) -> pd.DataFrame:
    """``rows`` simulated answers to ``p`` items of ``p / 5`` factors (loadings 0.5 to
    0.9, residual SD 0.6, factor correlations 0.3), rounded to three decimals so that
    the CSV lavaan reads holds the same numbers (issue #20's items case; seeded by
    ``p``)."""
    rng = np.random.default_rng(2000 + p)
    factors = p // 5
    corr = np.full((factors, factors), 0.3) + 0.7 * np.eye(factors)
    eta = rng.normal(size=(rows, factors)) @ np.linalg.cholesky(corr).T
    loadings = rng.uniform(0.5, 0.9, p)
    y = eta[:, np.arange(p) // 5] * loadings + rng.normal(scale=0.6, size=(rows, p))
    return pd.DataFrame(y.round(3), columns=[f"y{k + 1}" for k in range(p)])


#: the groups case's model: three correlated factors of four items each
GROUPS_MODEL = items_model(12, per=4)


def groups_data(groups: int, rows: int = 150) -> pd.DataFrame:
    """``groups`` countries of ``rows`` simulated answers to 12 items of three correlated
    factors (four items each; loadings 0.6 to 0.9, residual SD 0.6, factor correlations
    0.3), with country factor means (SD 0.3) and variances (log SD 0.15), loadings and
    intercepts equal across countries (scalar invariance holds), rounded to three
    decimals (issue #20's groups case; seeded by ``groups``)."""
    rng = np.random.default_rng(4000 + groups)
    items, factors = 12, 3
    loadings = rng.uniform(0.6, 0.9, items)
    intercepts = rng.normal(3.0, 0.5, items)
    corr = np.full((factors, factors), 0.3) + 0.7 * np.eye(factors)
    chol = np.linalg.cholesky(corr)
    means = rng.normal(0, 0.3, (groups, 1, factors))
    sds = np.exp(rng.normal(0, 0.15, (groups, 1, factors)))
    eta = means + sds * (rng.normal(size=(groups, rows, factors)) @ chol.T)
    y = (intercepts + eta[:, :, np.arange(items) // 4] * loadings
         + rng.normal(scale=0.6, size=(groups, rows, items)))
    frame = pd.DataFrame(y.reshape(groups * rows, items).round(3),
                         columns=[f"y{k + 1}" for k in range(items)])
    frame["country"] = [f"c{g + 1:02d}" for g in range(groups) for _ in range(rows)]
    return frame


ALIGNMENT_MODEL = "\n".join(
    f"f{f + 1} =~ " + " + ".join(f"y{10 * f + j + 1}" for j in range(10)) for f in range(3)
) + "\n"


def alignment_data(groups: int = 60, rows: int = 100) -> pd.DataFrame:
    """``groups`` countries of ``rows`` simulated answers to 30 items of three correlated
    factors (ten items each; loadings 0.5 to 0.9, residual SD 0.6, factor correlations
    0.3), with country factor means (SD 0.4) and variances (log SD 0.2) and one in ten
    loadings and intercepts non-invariant; rounded to three decimals so that the CSV R
    reads holds the same numbers."""
    rng = np.random.default_rng(19)
    items, factors = 30, 3
    loadings = rng.uniform(0.5, 0.9, items) * (1 + (rng.random((groups, items)) < 0.1)
                                               * rng.choice([-0.4, 0.4], (groups, items)))
    shift = (rng.random((groups, items)) < 0.1) * rng.choice([-0.5, 0.5], (groups, items))
    corr = np.full((factors, factors), 0.3) + 0.7 * np.eye(factors)
    chol = np.linalg.cholesky(corr)
    means = rng.normal(0, 0.4, (groups, 1, factors))
    sds = np.exp(rng.normal(0, 0.2, (groups, 1, factors)))
    eta = means + sds * (rng.normal(size=(groups, rows, factors)) @ chol.T)
    which = np.repeat(np.arange(factors), items // factors)
    y = (eta[:, :, which] * loadings[:, None, :] + shift[:, None, :]
         + rng.normal(scale=0.6, size=(groups, rows, items)))
    frame = pd.DataFrame(y.reshape(groups * rows, items).round(3),
                         columns=[f"y{k + 1}" for k in range(items)])
    frame["country"] = [f"c{g + 1:02d}" for g in range(groups) for _ in range(rows)]
    return frame


@dataclass(frozen=True)
class Task:
    """One benchmark problem.

    Attributes
    ----------
    name : str
        Short name shown in the table.
    model : str
        lavaan model syntax.
    data : callable
        Returns the data frame (a bundled data set).
    kind : str
        ``"cfa"`` or ``"sem"`` (lavaan's function; the defaults are the same in semnet).
    options : dict
        semnet keyword options (``group``, ``group_equal``, ``ordered``, ...).
    semopy : bool
        Whether semopy can fit the task jointly (it cannot fit multi-group models with
        cross-group constraints).
    expected_chisq : float
        lavaan 0.6.14's chi-square, a fixed anchor independent of the installed tools
        (for a ladder: see ``level_chisq``).
    run : str
        ``"fit"``, ``"ladder"``, ``"bootstrap"``, ``"polychoric"`` or ``"alignment"``
        (see the module notes; for ``"polychoric"`` the check value is a sum of
        correlations, for ``"alignment"`` a sum of absolute factor means, sirt's).
    levels : tuple of str
        The ladder's levels (``"configural"``, ``"metric"``, ``"scalar"``, ``"strict"``).
    level_chisq : dict
        lavaan 0.6.14's chi-square and scaled chi-square per level; the check value of a
        ladder is the sum over ``levels`` (of the scaled ones for a robust estimator).
    nboot : int
        Bootstrap draws.
    max_rounds : int, optional
        Most rounds the task takes part in (the long tasks, one of whose runs outlasts a
        round's time budget: each tool times one run per round).
    no_lavaan : str
        Why lavaan is not run on this task (empty: it is).  Such a task has no lavaan
        anchor (``expected_chisq`` is NaN) and is timed in semnet only.
    """

    name: str
    model: str
    data: Callable[[], pd.DataFrame]
    kind: str = "cfa"
    options: dict[str, Any] = field(default_factory=dict)
    semopy: bool = True
    expected_chisq: float = float("nan")
    run: str = "fit"
    levels: tuple[str, ...] = ()
    level_chisq: dict[str, tuple[float, float]] = field(default_factory=dict)
    nboot: int = 0
    max_rounds: int | None = None
    no_lavaan: str = ""

    def expected(self) -> float:
        """lavaan's check value for this task."""
        if self.run == "ladder":
            k = 1 if self.options.get("estimator", "ML") in ("MLR", "MLM") else 0
            return float(sum(self.level_chisq[name][k] for name in self.levels))
        return self.expected_chisq

    def group_equal(self, level: str) -> tuple[str, ...]:
        """The ``group_equal`` of a ladder level."""
        steps = ("configural", "metric", "scalar", "strict")
        added = ((), ("loadings",), ("intercepts",), ("residuals",))
        return tuple(g for k in range(steps.index(level) + 1) for g in added[k])


TASKS: tuple[Task, ...] = (
    Task("HS 3-factor CFA", HS_MODEL, semnet.datasets.holzinger_swineford, "cfa",
         expected_chisq=85.305521769768),
    Task("PolDem SEM (labels)", POLDEM_MODEL, semnet.datasets.political_democracy, "sem",
         expected_chisq=40.179489),
    Task("HS CFA by school, equal loadings+intercepts", HS_MODEL,
         semnet.datasets.holzinger_swineford, "cfa",
         {"group": "school", "group_equal": ("loadings", "intercepts")},
         semopy=False, expected_chisq=164.102820),
    Task("3 countries, 20 items, FIML, scalar", STUDY_MODEL, _study_data, "cfa",
         {"group": "country", "group_equal": ("loadings", "intercepts"), "missing": "fiml"},
         semopy=False, expected_chisq=679.124048154412, max_rounds=9),
    Task("3 countries, 20 items, 5 categories, WLSMV scalar", STUDY_MODEL, _study_ordinal,
         "cfa", {"group": "country", "group_equal": ("thresholds", "loadings"),
                 "ordered": STUDY_ITEMS},
         semopy=False, expected_chisq=439.6416332204, max_rounds=9),
    Task("3 countries, 20 items, MLR ladder (4 fits)", STUDY_MODEL, _study_data, "cfa",
         {"group": "country", "estimator": "MLR"}, semopy=False, run="ladder",
         levels=("configural", "metric", "scalar", "strict"),
         level_chisq={"configural": (522.675912008, 528.364293262),
                      "metric": (557.877900194, 565.987372720),
                      "scalar": (645.901614991, 654.821638069),
                      "strict": (700.927260890, 711.005514214)},
         max_rounds=5),
    Task("PolDem mediation, 1000 bootstrap draws", MEDIATION_MODEL,
         semnet.datasets.political_democracy, "sem", semopy=False, run="bootstrap",
         nboot=1000, expected_chisq=72.4616069968, max_rounds=5),
    Task("polychoric matrix, 20 five-category items x 1000", "", _likert_data,
         semopy=False, run="polychoric", expected_chisq=77.026950243865),
)

#: lavaan 0.6.14's chi-squares of the many-groups cases (cfa(..., group = "country",
#: group.equal = c("loadings", "intercepts")) on the data of many_groups_data)
LAVAAN_40 = 803.347812846
LAVAAN_100 = 1954.644230497

#: lavaan 0.6.14's chi-squares of the items cases (cfa() on items_data(p), one group),
#: by number of items
LAVAAN_ITEMS: dict[int, float] = {10: 39.476187616, 20: 168.675812988, 50: 1112.978196684,
                                  100: 4998.304045311}
#: lavaan 0.6.14's chi-squares of the groups cases (cfa(..., group = "country",
#: group.equal = c("loadings", "intercepts")) on groups_data(G)), by number of groups;
#: 40 groups as the benchmark run printed it (three decimals: one lavaan fit takes
#: minutes)
LAVAAN_GROUPS: dict[int, float] = {2: 148.069692208, 5: 313.289075306, 10: 716.438666520,
                                   20: 1463.393634300, 40: 2808.398}
#: rounds each case takes part in: one lavaan run of the larger cases takes seconds to
#: minutes (then each tool times one run per round)
_ITEMS_ROUNDS = {10: None, 20: None, 50: 5, 100: 1}
_GROUPS_ROUNDS = {2: None, 5: None, 10: 5, 20: 3, 40: 1}
_SCALAR = {"group": "country", "group_equal": ("loadings", "intercepts")}

#: the size cases of ``--scaling`` (issue #20): one-group CFAs of 10 to 200 items (five
#: per factor, N = 1000), 12-item scalar CFAs in 2 to 40 countries of 150 rows, and the
#: one-factor scalar CFAs in 40 and 100 countries of 30 rows and in 100 countries of 5
SCALING_TASKS: tuple[Task, ...] = (
    *(Task(f"{p} items ({p // 5} factors), N = 1000", items_model(p),
           functools.partial(items_data, p), "cfa", semopy=p <= 50,
           expected_chisq=LAVAAN_ITEMS.get(p, float("nan")),
           max_rounds=_ITEMS_ROUNDS[p]) for p in (10, 20, 50, 100)),
    Task("200 items (40 factors), N = 1000", items_model(200),
         functools.partial(items_data, 200), "cfa", semopy=False, max_rounds=3,
         no_lavaan="an earlier attempt ran out of memory; not attempted on the shared "
                   "machine"),
    *(Task(f"{g} countries x 150 rows, 12 items, scalar", GROUPS_MODEL,
           functools.partial(groups_data, g), "cfa", _SCALAR, semopy=False,
           expected_chisq=LAVAAN_GROUPS.get(g, float("nan")),
           max_rounds=_GROUPS_ROUNDS[g]) for g in (2, 5, 10, 20, 40)),
    Task("40 countries x 30 rows, 4 items, scalar", MANY_GROUPS_MODEL,
         functools.partial(many_groups_data, 40), "cfa", _SCALAR,
         semopy=False, expected_chisq=LAVAAN_40, max_rounds=3),
    Task("100 countries x 30 rows, 4 items, scalar", MANY_GROUPS_MODEL, many_groups_data,
         "cfa", _SCALAR, semopy=False, expected_chisq=LAVAAN_100, max_rounds=1),
    Task("100 countries x 5 rows, 4 items, scalar", MANY_GROUPS_MODEL,
         functools.partial(many_groups_data, 100, 5), "cfa", _SCALAR, semopy=False,
         max_rounds=3,
         no_lavaan="lavaan's nlminb stops at a higher minimum than semnet's (chi-square "
                   "2328.47 against 2313.21) after about ten minutes: no like-for-like "
                   "time"),
)


#: the alignment case of ``--alignment`` (issue #19): sirt's sum of the absolute aligned
#: factor means (lavaan 0.6.14 configural, sirt 4.3-21 invariance.alignment, meth = 3,
#: by benchmarks.lavaan's R code), for 60 countries (24.42886 + 17.00403 + 22.11439 over
#: the three factors, printed by R to 7 digits) and for the first 8 (the smoke test's
#: light variant)
SIRT_60 = 63.54728
SIRT_8 = 9.0556623911

ALIGNMENT_TASKS: tuple[Task, ...] = (
    Task("alignment, 60 countries x 100 rows, 30 items (3 factors), FIXED", ALIGNMENT_MODEL,
         alignment_data, "cfa", {"group": "country", "method": "FIXED"}, semopy=False,
         run="alignment", expected_chisq=SIRT_60, max_rounds=1),
)


# -- runners: text -> estimates ------------------------------------------------------------
# Each tool has a ``fit`` function (timed: model text to a table of estimates with standard
# errors) and a ``chisq`` function (not timed: the chi-square of what ``fit`` returned).


def fit_semnet(task: Task, data: pd.DataFrame) -> Any:
    """Fit ``task`` with semnet and build the estimates table; returns the Fit."""
    import warnings

    if task.run == "polychoric":
        return semnet.polychoric(data)
    if task.run == "alignment":
        options = dict(task.options)
        group = options.pop("group")
        aligned = semnet.alignment(task.model, data, group=group, **options)
        aligned.factor_means()
        return aligned
    func = semnet.cfa if task.kind == "cfa" else semnet.sem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if task.run == "ladder":
            options = dict(task.options)
            group = options.pop("group")
            ladder = semnet.invariance(task.model, data, group=group, levels=task.levels,
                                       **options)
            ladder.table()
            return ladder
        fit = func(task.model, data, **task.options)
        fit.estimates(standardized=False)
        if task.run == "bootstrap":
            boot = semnet.bootstrap(fit, n=task.nboot, seed=1, ci="percentile")
            boot.table(ci="percentile")
    return fit


def chisq_semnet(result: Any) -> float:
    if isinstance(result, semnet.Polychoric):
        cor = result.cor.to_numpy()
        return float(cor[np.tril_indices_from(cor, -1)].sum())
    if isinstance(result, semnet.AlignmentResult):
        return float(np.abs(result.factor_means()["mean"]).sum())
    fits = list(result.fits.values()) if hasattr(result, "fits") else [result]
    for fit in fits:
        if not fit.converged:
            raise RuntimeError(f"semnet did not converge: {fit.message}")
    if hasattr(result, "fits"):
        robust = fits[0].scaled_test is not None
        return float(sum(f.fit_measures()["chisq_scaled" if robust else "chisq"]
                         for f in fits))
    return float(result.chisq)


def fit_semopy(task: Task, data: pd.DataFrame) -> Any:
    """Fit ``task`` with semopy (imported here, so semopy stays optional); returns the model."""
    if not task.semopy:
        raise NotImplementedError("semopy cannot run this task (multi-group or bootstrap)")
    import warnings

    import semopy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = semopy.Model(task.model)
        model.fit(data)
        model.inspect()
    return model


def chisq_semopy(model: Any) -> float:
    import warnings

    import semopy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = semopy.calc_stats(model)
    return float(stats["chi2"].iloc[0])


@dataclass(frozen=True)
class Tool:
    name: str
    fit: Callable[[Task, pd.DataFrame], Any]
    chisq: Callable[[Any], float]

    def supports(self, task: Task) -> bool:
        return self.name != "semopy" or task.semopy


TOOLS: dict[str, Tool] = {
    "semnet": Tool("semnet", fit_semnet, chisq_semnet),
    "semopy": Tool("semopy", fit_semopy, chisq_semopy),
}


def semopy_available() -> bool:
    try:
        import semopy  # noqa: F401
    except ImportError:
        return False
    return True


def blas_threads(n: int) -> AbstractContextManager[object]:
    """Limit the BLAS/OpenMP thread pools to ``n`` threads (0: leave them as they are).

    lavaan runs on R's single-threaded reference BLAS; numpy's OpenBLAS starts one thread
    per core, and on a small, shared machine its threads wait on each other: on the
    2-core development machine, busy with other jobs, a 20-indicator fit took 10 to 20
    times longer with two BLAS threads than with one.  One thread is the like-for-like
    comparison (and what the test suite uses).
    """
    if n <= 0:
        return nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext()
    return threadpool_limits(n)


def prepare_tool(tool: Tool, task: Task, *, warmup: int = 1) -> tuple[pd.DataFrame, float]:
    """Load the task's data and run ``warmup`` untimed fits (at least one); returns the
    data and the chi-square of the first fit (the check value)."""
    data = task.data()
    chisq = tool.chisq(tool.fit(task, data))
    for _ in range(max(0, warmup - 1)):
        tool.fit(task, data)
    return data, chisq


def time_turn(tool: Tool, task: Task, data: pd.DataFrame, *, min_runs: int = 1,
              budget_ms: float = 0.0, max_runs: int = 1000,
              cpu: bool = False) -> tuple[float, ...]:
    """One turn: collect garbage (untimed, as the R side does before its turns), then time
    text-to-estimates runs until there are ``min_runs`` of them and ``budget_ms``
    milliseconds (of wall time) have passed, or ``max_runs``; milliseconds of each run,
    of wall time or, with ``cpu``, of this process's CPU time (all its threads)."""
    import gc

    gc.collect()
    clock = time.process_time if cpu else time.perf_counter
    runs: list[float] = []
    start = time.perf_counter()
    while True:
        t0 = clock()
        tool.fit(task, data)
        runs.append((clock() - t0) * 1e3)
        elapsed = (time.perf_counter() - start) * 1e3
        if len(runs) >= max_runs or (len(runs) >= min_runs and elapsed >= budget_ms):
            return tuple(runs)


#: what each background process of ``--busy`` runs: one BLAS thread, 200 x 200 products
BUSY_LOOP = """
import os
os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"
import numpy as np
a = np.random.default_rng(0).normal(size=(200, 200))
while True:
    a = np.tanh(a @ a)
"""


class BusyLoad:
    """CPU-bound background processes (a busy machine), stopped by :meth:`stop`."""

    def __init__(self, n: int) -> None:
        import subprocess
        import sys

        self.procs = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(n)]

    def stop(self) -> None:
        """Terminate the processes (each by its own handle) and wait for them."""
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait()
        self.procs = []

