"""The benchmark module runs (semnet only, tiny repeat count; no timing assertions)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# `benchmarks` is a top-level package of the repository, not of the installed semnet;
# put the root first so it wins over this tests/benchmarks folder.
if str(ROOT) not in sys.path[:1]:
    sys.path.insert(0, str(ROOT))

from benchmarks.tasks import TASKS, TOOLS, time_tool  # noqa: E402

FITS = [t for t in TASKS if t.run == "fit"]
LONG = [t for t in TASKS if t.run != "fit"]


@pytest.mark.parametrize("task", FITS, ids=[t.name for t in FITS])
def test_semnet_task_runs_and_matches_lavaan(task):
    timing = time_tool(TOOLS["semnet"], task, repeat=1, warmup=1)
    assert len(timing.runs_ms) == 1
    assert timing.chisq == pytest.approx(task.expected(), rel=1e-4)


@pytest.mark.parametrize("task", LONG, ids=[t.name for t in LONG])
def test_long_task_light_variant_matches_lavaan(task):
    # two ladder levels by ML, or 10 bootstrap draws: the same code path at a fraction
    # of the cost, checked against lavaan's values
    options = {**task.options, "estimator": "ML"} if task.run == "ladder" else task.options
    light = dataclasses.replace(task, levels=task.levels[:2], nboot=min(task.nboot, 10),
                                options=options)
    result = TOOLS["semnet"].fit(light, light.data())
    assert TOOLS["semnet"].chisq(result) == pytest.approx(light.expected(), rel=1e-4)


def test_main_quick_semnet_only(capsys):
    from benchmarks.__main__ import main

    assert main(["--quick", "--no-semopy", "--no-lavaan", "--only", "HS"]) == 0
    out = capsys.readouterr().out
    assert "HS 3-factor CFA" in out and "85.306" in out
    assert "n/a" in out and "PolDem" not in out


def test_round_plan_spreads_long_tasks_over_the_first_rounds():
    from benchmarks.__main__ import _round_plan

    short, fiml, ladder = (
        dataclasses.replace(TASKS[0], max_repeat=None),
        dataclasses.replace(TASKS[0], max_repeat=9),
        dataclasses.replace(TASKS[0], max_repeat=5),
    )
    planned, last = _round_plan([short, fiml, ladder], 7)
    assert [t.max_repeat for t in planned] == [None, 2, 1]
    assert last == [7, 5, 5]
    planned, last = _round_plan([short, fiml, ladder], 3)
    assert [t.max_repeat for t in planned] == [None, 3, 2]
    assert last == [3, 3, 3]
    # never more runs in all than max_repeat allows, rounded up to whole rounds
    for task, n, k in zip([fiml, ladder], planned[1:], last[1:], strict=True):
        assert n.max_repeat * (k - 1) < task.max_repeat <= n.max_repeat * k
