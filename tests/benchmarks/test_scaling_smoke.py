"""The scaling study runs on its quick grid (no timing assertions)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path[:1]:
    sys.path.insert(0, str(ROOT))

import semnet  # noqa: E402
from benchmarks.scaling import analysis, main, population  # noqa: E402


def test_population_and_analysis_models_match():
    data = semnet.simulate(population(10), 400, seed=1)
    fit = semnet.cfa(analysis(10), data)
    assert list(data.columns) == [f"y{i}" for i in range(1, 11)]
    assert fit.converged and fit.fit_measures()["df"] == 34
    est = fit.estimates()
    loadings = est[(est["op"] == "=~")]["std_all"]
    assert abs(loadings.mean() - 0.7) < 0.05


def test_quick_run_prints_both_tables(capsys):
    assert main(["--quick", "--no-dask"]) == 0
    out = capsys.readouterr().out
    assert "| indicators | factors |" in out and "| cases |" in out
    assert "| 15 | 3 |" in out and "| 2,000 |" in out


def test_quick_partable_study_prints_its_table(capsys):
    assert main(["--quick", "--partable"]) == 0
    out = capsys.readouterr().out
    # 10 factors: 50 loadings, 50 residual variances, 10 variances, 45 covariances
    assert "| factors | rows |" in out and "| 10 | 155 |" in out and "| cases |" not in out
