"""benchmarks.icount: instructions per fit from callgrind (skipped without valgrind)."""

from __future__ import annotations

import shutil

import pytest

from benchmarks import icount


def test_without_valgrind_it_says_so(monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert icount.main(["--case", "hs"]) == 2
    assert "needs valgrind" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_counts_the_instructions_of_a_fit(capsys):
    assert icount.main(["--case", "hs", "-n", "2"]) == 0
    count = float(capsys.readouterr().out.split(":")[1].split()[0].replace(",", ""))
    # thousands of instructions per HS fit: millions, not the process's start
    assert 1_000 < count < 100_000
