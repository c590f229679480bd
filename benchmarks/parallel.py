"""``python -m benchmarks.parallel``: the parallel efficiency of :func:`semnet.bootstrap`
in CPU time.

The bootstrap task's model (:data:`benchmarks.tasks.MEDIATION_MODEL`, Political
Democracy) is fitted once; then, for each number of draws, serial runs and runs with
``n_jobs`` workers alternate (``--reps`` pairs).  Each run's CPU time is that of this
process and of its finished children (``resource.getrusage``: the workers are reaped
when the pool shuts down), so a worker's start, its first draws and its exit are
counted, and so are the pool's threads in this process.  Wall-clock time is printed too
but says little on a shared machine: Linux shares the CPU among sessions
(``sched_autogroup``), so while other sessions keep the cores busy, two processes of
one session get about as much CPU as one.

The efficiency is the serial CPU time over the parallel one (1 when running on workers
costs nothing extra), from the medians of the runs.  ``--draws 32`` measures the fixed
cost of a parallel call (one draw per chunk).  Every parallel run's draws are checked
to equal the serial ones.  Printed as a Markdown table with the load average.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
import warnings
from collections.abc import Sequence

import numpy as np

import semnet
from benchmarks.tasks import MEDIATION_MODEL


def cpu_seconds() -> float:
    """CPU time (user + system) of this process and of its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fit, draws: int, n_jobs: int) -> tuple[float, float, np.ndarray]:
    """CPU and wall seconds of one bootstrap of ``fit``, and its draws."""
    cpu, wall = cpu_seconds(), time.perf_counter()
    boot = semnet.bootstrap(fit, n=draws, seed=1, ci="percentile", n_jobs=n_jobs,
                            progress=False)
    return cpu_seconds() - cpu, time.perf_counter() - wall, boot.draws.to_numpy()


def measure(fit, draws: int, n_jobs: int, reps: int) -> dict[str, float]:
    """Median CPU ms per draw serially and on ``n_jobs`` workers (``reps`` alternating
    pairs), the efficiency and the median wall seconds."""
    serial_cpu, serial_wall, par_cpu, par_wall = [], [], [], []
    for _ in range(reps):
        cpu, wall, one = timed(fit, draws, 1)
        serial_cpu.append(cpu)
        serial_wall.append(wall)
        cpu, wall, many = timed(fit, draws, n_jobs)
        par_cpu.append(cpu)
        par_wall.append(wall)
        if not np.array_equal(one, many, equal_nan=True):
            raise AssertionError(f"{n_jobs} workers gave other draws than serial runs")
    s, p = statistics.median(serial_cpu), statistics.median(par_cpu)
    return {"serial_ms": 1e3 * s / draws, "parallel_ms": 1e3 * p / draws,
            "efficiency": s / p, "extra_ms": 1e3 * (p - s),
            "serial_wall": statistics.median(serial_wall),
            "parallel_wall": statistics.median(par_wall)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.parallel",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--draws", type=int, nargs="+", default=[1000, 3000],
                        help="numbers of draws (default 1000 3000)")
    parser.add_argument("--jobs", type=int, default=2, help="n_jobs (default 2)")
    parser.add_argument("--reps", type=int, default=7,
                        help="serial/parallel pairs per number of draws (default 7)")
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = semnet.sem(MEDIATION_MODEL, semnet.datasets.political_democracy())
    semnet.bootstrap(fit, n=20, seed=2, ci="percentile", progress=False)  # warm-up
    load = os.getloadavg()[0]
    print(f"semnet {semnet.__version__}, {os.cpu_count()} CPUs, n_jobs={args.jobs}, "
          f"{args.reps} alternating serial/parallel runs per row; load average {load:.1f}")
    print()
    print("| draws | serial CPU ms/draw | parallel CPU ms/draw | efficiency | extra CPU ms "
          "| serial wall s | parallel wall s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for draws in args.draws:
        m = measure(fit, draws, args.jobs, args.reps)
        print(f"| {draws:,} | {m['serial_ms']:.3f} | {m['parallel_ms']:.3f} | "
              f"{m['efficiency']:.0%} | {m['extra_ms']:.0f} | {m['serial_wall']:.2f} | "
              f"{m['parallel_wall']:.2f} |", flush=True)
    print()
    print(f"(load average at the end {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
