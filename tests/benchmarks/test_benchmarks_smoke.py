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

from benchmarks.tasks import TASKS, TOOLS, Tool, prepare_tool, time_turn  # noqa: E402

FITS = [t for t in TASKS if t.run == "fit"]
LONG = [t for t in TASKS if t.run != "fit"]


@pytest.mark.parametrize("task", FITS, ids=[t.name for t in FITS])
def test_semnet_task_runs_and_matches_lavaan(task):
    data, chisq = prepare_tool(TOOLS["semnet"], task, warmup=1)
    assert chisq == pytest.approx(task.expected(), rel=1e-4)
    runs = time_turn(TOOLS["semnet"], task, data, min_runs=2)
    assert len(runs) == 2 and all(r > 0 for r in runs)


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


def _counting_tool(calls: list[int]) -> Tool:
    def fit(task, data):
        calls.append(1)
        return None

    return Tool("semnet", fit, lambda result: 1.0)


def test_prepare_tool_runs_the_warmup_and_returns_the_check_value():
    calls: list[int] = []
    data, chisq = prepare_tool(_counting_tool(calls), TASKS[0], warmup=3)
    assert len(calls) == 3 and chisq == 1.0 and len(data) == 301
    calls.clear()
    prepare_tool(_counting_tool(calls), TASKS[0], warmup=0)  # at least one run
    assert len(calls) == 1


def test_time_turn_stops_at_min_runs_budget_or_max_runs():
    calls: list[int] = []
    tool = _counting_tool(calls)
    assert len(time_turn(tool, TASKS[0], None, min_runs=4)) == 4
    assert len(time_turn(tool, TASKS[0], None, min_runs=1, max_runs=3, budget_ms=1e6)) == 3
    # a budget: runs until it has passed, so more than the minimum of one run
    runs = time_turn(tool, TASKS[0], None, min_runs=1, budget_ms=5.0, max_runs=10**6)
    assert len(runs) > 1 and len(calls) == 4 + 3 + len(runs)
    # in CPU time: the budget still runs on the wall clock
    runs = time_turn(tool, TASKS[0], None, min_runs=2, budget_ms=5.0, max_runs=10**6, cpu=True)
    assert len(runs) > 2 and all(r >= 0 for r in runs)


def test_turn_order_rotates():
    from benchmarks.__main__ import _turn_order

    players = ["semnet", "semopy", "lavaan"]
    assert [_turn_order(players, r)[0] for r in range(4)] == [
        "semnet", "semopy", "lavaan", "semnet"]
    assert sorted(_turn_order(players, 2)) == sorted(players)
    assert _turn_order([], 3) == []


def test_main_long_task_takes_part_in_its_max_rounds_only(capsys, monkeypatch):
    import benchmarks.tasks
    from benchmarks.__main__ import main

    short = dataclasses.replace(TASKS[0], name="HS short")
    long = dataclasses.replace(TASKS[0], name="HS long", max_rounds=1)
    monkeypatch.setattr(benchmarks.tasks, "TASKS", (short, long))
    assert main(["--no-semopy", "--no-lavaan", "--rounds", "3", "--round-ms", "0",
                 "--warmup", "1"]) == 0
    out = capsys.readouterr().out
    # one run per round with no time budget: three rounds, or the long task's one
    assert "3/-/-" in out.split("HS short")[2] and "1/-/-" in out.split("HS long")[2]


def test_lavaan_session_without_rscript_says_why(monkeypatch):
    from benchmarks import lavaan

    monkeypatch.setattr(lavaan, "rscript", lambda: None)
    with pytest.raises(lavaan.LavaanError, match="Rscript not found"):
        lavaan.LavaanSession(TASKS[:1])


def _has_lavaan() -> bool:
    import shutil
    import subprocess

    exe = shutil.which("Rscript")
    if exe is None:
        return False
    probe = subprocess.run([exe, "-e", "cat(requireNamespace('lavaan', quietly=TRUE))"],
                           capture_output=True, text=True, check=False)
    return probe.stdout.strip().endswith("TRUE")


@pytest.mark.skipif(not _has_lavaan(), reason="needs R with lavaan")
def test_lavaan_session_prepares_times_and_reports_errors():
    from benchmarks.lavaan import LavaanError, LavaanSession

    with LavaanSession(TASKS[:1]) as session:
        assert session.version
        assert session.prepare(0, warmup=1) == pytest.approx(TASKS[0].expected(), rel=1e-6)
        runs = session.time(0, min_runs=2, budget_ms=0.0, max_runs=5)
        assert len(runs) == 2 and all(r > 0 for r in runs)
        assert len(session.time(0, min_runs=1, budget_ms=1e6, max_runs=1)) == 1
        cpu = session.time(0, min_runs=2, budget_ms=0.0, max_runs=2, cpu=True)
        assert len(cpu) == 2 and all(r >= 0 for r in cpu)
        with pytest.raises(LavaanError, match="lavaan failed"):
            session.time(3, min_runs=1, budget_ms=0.0, max_runs=1)  # no task 3
        assert session.alive  # an error in one task leaves the session running
        assert len(session.time(0, min_runs=1, budget_ms=0.0, max_runs=1)) == 1
    assert not session.alive
    with pytest.raises(LavaanError, match="ended"):
        session.time(0, min_runs=1, budget_ms=0.0, max_runs=1)


class _FailingSession:
    """A stand-in for LavaanSession whose commands fail, alive or not."""

    def __init__(self, alive: bool) -> None:
        self.alive = alive
        self.closed = False

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("alive", [True, False])
def test_after_error_keeps_a_live_session_and_drops_an_ended_one(alive):
    from benchmarks.__main__ import _after_error

    session, notes = _FailingSession(alive), []
    left = _after_error(session, TASKS[0], RuntimeError("boom"), notes)
    assert (left is session) is alive and session.closed is not alive
    assert "boom" in notes[0] and TASKS[0].name in notes[0]
    assert ("not timed" if alive else "stopped at") in notes[0]


def test_scaling_mode_runs_the_many_groups_cases(capsys):
    """``--scaling`` runs the size cases only; semnet's chi-squares match lavaan's
    committed values (the cases lavaan is not run on have none)."""
    from benchmarks.__main__ import main
    from benchmarks.tasks import SCALING_TASKS

    assert main(["--quick", "--scaling", "--no-semopy", "--no-lavaan"]) == 0
    out = capsys.readouterr().out
    assert all(t.name in out for t in SCALING_TASKS) and "HS 3-factor" not in out
    assert "803.348" in out and "1954.644" in out and "2808.398" in out


def test_every_scaling_case_has_a_lavaan_anchor_or_says_why_not():
    import math

    from benchmarks.tasks import SCALING_TASKS

    for task in SCALING_TASKS:
        assert bool(task.no_lavaan) != math.isfinite(task.expected()), task.name


def test_scaling_data_are_reproducible_and_rounded_for_the_csv():
    from benchmarks.tasks import GROUPS_MODEL, groups_data, items_data, items_model

    a, b = groups_data(5), groups_data(5)
    assert a.equals(b) and a.shape == (750, 13) and a["country"].nunique() == 5
    assert items_model(10) == "f1 =~ y1 + y2 + y3 + y4 + y5\nf2 =~ y6 + y7 + y8 + y9 + y10\n"
    assert GROUPS_MODEL.count("=~") == 3
    y = items_data(20).to_numpy()
    assert y.shape == (1000, 20) and (abs(y * 1000 - (y * 1000).round()) < 1e-6).all()


def test_main_skips_lavaan_where_a_case_says_why(capsys, monkeypatch):
    import benchmarks.tasks
    from benchmarks.__main__ import main

    alone = dataclasses.replace(TASKS[0], name="HS alone", expected_chisq=float("nan"),
                                no_lavaan="a reason")
    monkeypatch.setattr(benchmarks.tasks, "SCALING_TASKS", (alone,))
    assert main(["--quick", "--scaling", "--no-semopy", "--cpu"]) == 0
    out = capsys.readouterr().out
    assert "'HS alone' not run (a reason)" in out and "CPU times" in out


def test_many_groups_fixture_holds_the_benchmarks_data():
    """tests/reference/data/many_groups.csv (lavaan's fixture of 30 countries) is the
    benchmark's generator at 30 groups, to the CSV's three decimals."""
    import pandas as pd

    from benchmarks.tasks import many_groups_data

    committed = pd.read_csv(ROOT / "tests" / "reference" / "data" / "many_groups.csv")
    pd.testing.assert_frame_equal(committed, many_groups_data(30))


def test_busy_mode_starts_and_stops_its_background_load(capsys):
    """``--busy N`` runs N CPU-bound processes while timing and stops them at the end."""
    import time

    from benchmarks.__main__ import main
    from benchmarks.tasks import BusyLoad

    load = BusyLoad(1)
    proc = load.procs[0]
    time.sleep(0.2)
    assert proc.poll() is None
    load.stop()
    assert proc.poll() is not None and not load.procs
    assert main(["--quick", "--busy", "1", "--no-semopy", "--no-lavaan",
                 "--only", "HS 3-factor"]) == 0
    assert "busy machine: 1 CPU-bound" in capsys.readouterr().out


def test_alignment_light_variant_matches_sirt():
    """The alignment task's code path on its first 8 countries: semnet's sum of the
    absolute aligned means equals sirt's (committed) to the agreement of the two
    optimizers (tests/tolerances.py: SIRT_ATOL per mean)."""
    import functools

    from benchmarks.tasks import ALIGNMENT_TASKS, SIRT_8, alignment_data

    light = dataclasses.replace(ALIGNMENT_TASKS[0],
                                data=functools.partial(alignment_data, 8, 100))
    result = TOOLS["semnet"].fit(light, light.data())
    assert TOOLS["semnet"].chisq(result) == pytest.approx(SIRT_8, abs=24 * 1e-4)


def test_alignment_mode_selects_the_alignment_case(capsys):
    from benchmarks.__main__ import main

    assert main(["--alignment", "--no-lavaan", "--only", "no such task"]) == 2
    assert "alignment, 60 countries" in capsys.readouterr().err
