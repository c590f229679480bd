"""The benchmark tasks and one runner per tool.

A task is model text plus data plus fit options.  Every runner goes from text to a
table of estimates and returns the chi-square, so the caller can check that the tools
agree before timing them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

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
        semnet keyword options (``group``, ``group_equal``).
    semopy : bool
        Whether semopy can fit the task jointly (it cannot fit multi-group models with
        cross-group constraints).
    expected_chisq : float
        lavaan 0.6.14's chi-square, a fixed anchor independent of the installed tools.
    """

    name: str
    model: str
    data: Callable[[], pd.DataFrame]
    kind: str = "cfa"
    options: dict[str, Any] = field(default_factory=dict)
    semopy: bool = True
    expected_chisq: float = float("nan")


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
         semopy=False, expected_chisq=679.124048154412),
)


def task_by_name(name: str) -> Task:
    for t in TASKS:
        if t.name == name:
            return t
    raise KeyError(f"no benchmark task {name!r}; tasks: {[t.name for t in TASKS]}")


# -- runners: text -> estimates ------------------------------------------------------------
# Each tool has a ``fit`` function (timed: model text to a table of estimates with standard
# errors) and a ``chisq`` function (not timed: the chi-square of what ``fit`` returned).


def fit_semnet(task: Task, data: pd.DataFrame) -> Any:
    """Fit ``task`` with semnet and build the estimates table; returns the Fit."""
    import warnings

    func = semnet.cfa if task.kind == "cfa" else semnet.sem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = func(task.model, data, **task.options)
        fit.estimates(standardized=False)
    return fit


def chisq_semnet(fit: Any) -> float:
    if not fit.converged:
        raise RuntimeError(f"semnet did not converge: {fit.message}")
    return float(fit.chisq)


def fit_semopy(task: Task, data: pd.DataFrame) -> Any:
    """Fit ``task`` with semopy (imported here, so semopy stays optional); returns the model."""
    if not task.semopy:
        raise NotImplementedError("semopy cannot fit multi-group models jointly")
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


@dataclass(frozen=True)
class Timing:
    """Median and all timed runs (milliseconds) of one tool on one task."""

    median_ms: float
    runs_ms: tuple[float, ...]
    chisq: float


def time_tool(tool: Tool, task: Task, *, repeat: int = 20, warmup: int = 1) -> Timing:
    """Warm up, then time ``repeat`` text-to-estimates runs; report the median.

    The chi-square is taken from the warm-up fit (outside the timed runs).
    """
    import gc
    import statistics

    data = task.data()
    result = tool.fit(task, data)  # the first warm-up run also gives the chi-square
    chisq = tool.chisq(result)
    for _ in range(max(0, warmup - 1)):
        tool.fit(task, data)
    runs = []
    gc.collect()
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        tool.fit(task, data)
        runs.append((time.perf_counter() - t0) * 1e3)
    return Timing(statistics.median(runs), tuple(runs), chisq)
