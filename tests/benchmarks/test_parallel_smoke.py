"""The parallel-efficiency benchmark runs on a few draws (no timing assertions)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path[:1]:
    sys.path.insert(0, str(ROOT))

from benchmarks.parallel import cpu_seconds, main  # noqa: E402


def test_cpu_seconds_grows_with_work():
    start = cpu_seconds()
    sum(k * k for k in range(200_000))
    assert cpu_seconds() > start


def test_quick_run_prints_the_table(capsys):
    assert main(["--draws", "24", "--reps", "1"]) == 0
    out = capsys.readouterr().out
    assert "| draws | serial CPU ms/draw |" in out
    row = next(line for line in out.splitlines() if line.startswith("| 24 |"))
    assert row.count("|") == 8 and "%" in row
