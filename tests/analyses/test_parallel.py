"""Many-fit workflows on executors: the same seed gives the same result serially, on a
thread or process pool, and on a Dask distributed cluster."""

from __future__ import annotations

import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest

import semnet
from semnet.analyses.parallel import map_tasks

MEDIATION = """
x8 ~ a*x7
x9 ~ b*x8 + c*x7
ind := a*b
"""
POP = """
f =~ 0.8*x1 + 0.7*x2 + 0.6*x3
y ~ 0.3*f
"""


def _square(k: int) -> int:
    return k * k


def _pid(k: int) -> int:
    return os.getpid()


def _fail_at_63(k: int) -> int:
    if k == 63:
        raise ValueError("task 63 failed")
    return k


def test_map_tasks_keeps_the_order():
    specs = list(range(37))
    assert map_tasks(_square, specs) == [k * k for k in specs]
    with ThreadPoolExecutor(max_workers=3) as pool:
        assert map_tasks(_square, specs, executor=pool) == [k * k for k in specs]
    assert map_tasks(_square, specs, n_jobs=2) == [k * k for k in specs]


def test_own_pool_forks_one_worker_fewer_and_the_caller_works():
    """With n_jobs=k the calling process is the k-th worker: the pool's k - 1 workers take
    chunks from the front, the caller those no worker has started from the back."""
    pids = map_tasks(_pid, list(range(64)), n_jobs=2)
    assert len(set(pids)) == 2
    assert pids[-1] == os.getpid() and pids[0] != os.getpid()
    assert len(set(map_tasks(_pid, list(range(96)), n_jobs=3))) <= 3
    # an error in a chunk the caller runs stops the workers and reaches the caller
    with pytest.raises(ValueError, match="task 63"):
        map_tasks(_fail_at_63, list(range(64)), n_jobs=2)


def test_map_tasks_names_bad_arguments():
    with pytest.raises(semnet.OptionError, match="Executor"):
        map_tasks(_square, [1], executor="dask")
    with pytest.raises(semnet.OptionError, match="n_jobs"):
        map_tasks(_square, [1], n_jobs=0)


@pytest.fixture(scope="module")
def dask_executor():
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                           dashboard_address=None)
        client = distributed.Client(cluster)
    try:
        yield client.get_executor()
    finally:
        client.close()
        cluster.close()


def test_bootstrap_on_a_dask_cluster_equals_serial(dask_executor):
    fit = semnet.sem(MEDIATION, semnet.datasets.holzinger_swineford())
    serial = semnet.bootstrap(fit, n=40, seed=3, ci="percentile")
    cluster = semnet.bootstrap(fit, n=40, seed=3, ci="percentile", executor=dask_executor)
    assert cluster.draws.equals(serial.draws)
    assert cluster.table(ci="percentile").equals(serial.table(ci="percentile"))


def test_power_on_a_dask_cluster_equals_serial(dask_executor):
    args = {"n": [60, 120], "reps": 5, "test": "y~f", "seed": 9}
    serial = semnet.power(POP, "f =~ x1 + x2 + x3\ny ~ f", **args)
    cluster = semnet.power(POP, "f =~ x1 + x2 + x3\ny ~ f", executor=dask_executor, **args)
    assert cluster.draws.equals(serial.draws)
    assert cluster.table.equals(serial.table)


def test_invariance_ladder_on_an_executor_equals_serial():
    hs = semnet.datasets.holzinger_swineford()
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    serial = semnet.invariance(model, hs, group="school")
    with ThreadPoolExecutor(max_workers=2) as pool:
        pooled = semnet.invariance(model, hs, group="school", executor=pool)
    assert pooled.table().equals(serial.table())


class _Counter:
    """A task function that counts how often it was unpickled (a worker's copies)."""

    def __init__(self) -> None:
        self.copies = 0

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.copies += 1

    def __call__(self, k: int) -> int:
        return self.copies


def test_own_pool_receives_the_task_function_once_per_worker():
    """A pool started by map_tasks gets the function (the bootstrap's model and data)
    when its workers start, not with each chunk: no worker holds an unpickled copy (the
    workers are forked with it); a given executor receives it with every chunk."""
    import multiprocessing

    specs = list(range(64))
    if multiprocessing.get_start_method() == "fork":
        assert set(map_tasks(_Counter(), specs, n_jobs=2)) == {0}
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=2) as pool:
        assert set(map_tasks(_Counter(), specs, executor=pool)) == {1}
