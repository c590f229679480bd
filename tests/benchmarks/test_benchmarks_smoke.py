"""The benchmark module runs (semnet only, tiny repeat count; no timing assertions)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# `benchmarks` is a top-level package of the repository, not of the installed semnet;
# put the root first so it wins over this tests/benchmarks folder.
if str(ROOT) not in sys.path[:1]:
    sys.path.insert(0, str(ROOT))

from benchmarks.tasks import TASKS, TOOLS, time_tool  # noqa: E402


@pytest.mark.parametrize("task", TASKS, ids=[t.name for t in TASKS])
def test_semnet_task_runs_and_matches_lavaan(task):
    timing = time_tool(TOOLS["semnet"], task, repeat=1, warmup=1)
    assert len(timing.runs_ms) == 1
    assert timing.chisq == pytest.approx(task.expected_chisq, rel=1e-4)


def test_main_quick_semnet_only(capsys):
    from benchmarks.__main__ import main

    assert main(["--quick", "--no-semopy", "--no-lavaan"]) == 0
    out = capsys.readouterr().out
    assert "HS 3-factor CFA" in out and "85.306" in out
    assert "n/a" in out


def test_main_task_filter(capsys):
    from benchmarks.__main__ import main

    assert main(["--quick", "--no-semopy", "--no-lavaan", "--task", "fiml"]) == 0
    out = capsys.readouterr().out
    assert "FIML" in out and "HS 3-factor CFA" not in out
    with pytest.raises(SystemExit):
        main(["--quick", "--no-lavaan", "--task", "no such task"])
