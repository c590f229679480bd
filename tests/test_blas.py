"""The BLAS thread policy of a fit: small and mid-size models are estimated on one BLAS
thread, and the limit is scoped (the process keeps its own thread count)."""

from __future__ import annotations

import pytest
from threadpoolctl import ThreadpoolController, threadpool_info

import semnet
from semnet._blas import one_blas_thread
from semnet.pipeline import estimate

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


@pytest.fixture()
def two_blas_threads():
    """The process on two BLAS threads for the test (the suite runs on one)."""
    controller = ThreadpoolController()
    if not controller.select(user_api="blas"):
        pytest.skip("no BLAS library loaded")
    with controller.limit(limits=2, user_api="blas"):
        threads = _blas_threads()
        if set(threads) != {2}:
            pytest.skip("BLAS cannot run two threads here")
        yield threads


def test_a_small_model_is_estimated_on_one_blas_thread(two_blas_threads, monkeypatch):
    seen = []
    minimize = estimate.minimize

    def recording(*args, **kwargs):
        seen.append(_blas_threads())
        return minimize(*args, **kwargs)

    monkeypatch.setattr(estimate, "minimize", recording)
    fit = semnet.cfa(HS, semnet.datasets.holzinger_swineford())
    assert fit.converged
    assert seen and all(set(threads) == {1} for threads in seen)
    assert _blas_threads() == two_blas_threads


def test_one_blas_thread_inside_the_limit_only(two_blas_threads):
    assert set(one_blas_thread(_blas_threads)()) == {1}
    assert _blas_threads() == two_blas_threads


#: the steps outside a fit whose matrices are large enough for OpenBLAS to start its
#: threads (a few hundred rows): on a busy machine they took the study's invariance step
#: from 1.5 s to 23 s and its ordinal step from 2.3 s to 14 s with two BLAS threads
MID_SIZE_STEPS = [
    ("semnet.results.hypothesis", "inverse_given_constraints"),
    ("semnet.analyses.compare", "_satorra_2000"),
    ("semnet.data.ordinal_gamma", "asymptotic_covariance"),
    ("semnet.inference.catml", "catml_corrected"),
    ("semnet.analyses.reliability", "htmt"),
    ("semnet.analyses.alignment", "alignment"),
]


@pytest.mark.parametrize(("module", "name"), MID_SIZE_STEPS)
def test_mid_size_steps_run_on_one_blas_thread(module, name):
    import importlib

    assert getattr(getattr(importlib.import_module(module), name), "one_blas_thread", False)


def test_fit_score_tests_run_on_one_blas_thread():
    from semnet.results.fit import Fit

    assert Fit.modindices.one_blas_thread and Fit.score_test.one_blas_thread


def test_dwls_baseline_runs_on_one_blas_thread():
    from semnet.estimation.dwls import LeastSquaresDiscrepancy

    assert LeastSquaresDiscrepancy.baseline_chisq.one_blas_thread


def test_score_test_metric_on_one_blas_thread(two_blas_threads, monkeypatch):
    import numpy as np

    from semnet.results import hypothesis

    seen = []
    null_space = hypothesis.null_space

    def recording(R):
        seen.append(_blas_threads())
        return null_space(R)

    monkeypatch.setattr(hypothesis, "null_space", recording)
    out = hypothesis.inverse_given_constraints(np.diag([2.0, 4.0]), np.array([[1.0, 0.0]]))
    assert out[1, 1] == 0.25
    assert seen and all(set(threads) == {1} for threads in seen)
    assert _blas_threads() == two_blas_threads
