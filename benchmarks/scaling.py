"""``python -m benchmarks.scaling``: how semnet's fit time grows with the number of
indicators and with the number of cases.

Two studies, printed as Markdown tables (``docs/performance.md`` shows a run):

1. *Indicators*: a CFA with five indicators per factor (loadings 0.7, factor correlations
   0.3), 10 to 200 indicators, N = 2,000 simulated cases.  Time of the moments and of the
   fit (estimation with standard errors), the number of free parameters and iterations.
2. *Cases*: a 4-factor, 20-indicator CFA, N = 10^3 to 10^6.  The moments are computed once
   (:func:`semnet.moments.from_frame`), then the model is fitted to them by ML: the
   optimisation does not depend on N.  For comparison the time of ``semnet.cfa`` on the
   raw DataFrame, and the one-pass Dask reduction of the same rows
   (:func:`semnet.moments.from_dask`, from Parquet files) with ``fourth=False`` and
   ``fourth=True`` (what MLR needs).

3. *A panel larger than memory* (``--panel N``, off by default): N rows of the
   20-indicator CFA in three countries, simulated and written to Parquet one million rows
   at a time, then reduced by :func:`semnet.moments.from_dask` (one pass, with the
   fourth-order moments) and fitted by MLR and by ML from the moments.  No step holds
   more than one chunk of rows.

4. *The parameter table* (``--partable``: this study only): :func:`semnet.partable` of
   100 to 2,000 factors of five indicators, the factors correlated (lavaan's default), so
   the table has about ``f^2 / 2`` rows; CPU time of the build
   (:func:`semnet.partable.build.partable`) and of the public DataFrame, and the time
   per row, which stays flat where the build is linear in the table's size.

Each cell is the median of ``--repeat`` runs (default 3; a cell over 10 s runs once).
Options: ``--quick`` (a small grid, one run: a smoke check), ``--max-p`` and ``--max-n`` to
cut the grids, ``--no-dask``, ``--panel N``, ``--partable``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

INDICATORS = (10, 20, 50, 100, 200)
FACTORS = (100, 500, 1_000, 2_000)
CASES = (1_000, 10_000, 100_000, 1_000_000)
N_FOR_INDICATORS = 2_000
P_FOR_CASES = 20
#: seconds above which a cell is run once only
LONG = 10.0


def population(p: int) -> str:
    """A CFA population: ``p / 5`` factors of five indicators, loadings 0.7, residual
    variances 0.51, factor variances 1 and correlations 0.3."""
    k = p // 5
    lines = []
    for f in range(k):
        items = " + ".join(f"0.7*y{5 * f + j + 1}" for j in range(5))
        lines.append(f"f{f + 1} =~ {items}")
    lines += [f"y{i} ~~ 0.51*y{i}" for i in range(1, p + 1)]
    lines += [f"f{a + 1} ~~ 0.3*f{b + 1}" for a in range(k) for b in range(a + 1, k)]
    return "\n".join(lines)


def analysis(p: int) -> str:
    """The CFA fitted: the population's structure with every parameter free."""
    k = p // 5
    return "\n".join(
        f"f{f + 1} =~ " + " + ".join(f"y{5 * f + j + 1}" for j in range(5)) for f in range(k)
    )


def _median_time(func: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median of ``repeat`` runs; a cell whose first run takes over ``LONG`` s runs once.
    The result of the median run is returned (its recorded timings match)."""
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = func()
        runs.append((time.perf_counter() - t0, out))
        if runs[0][0] > LONG:
            break
    runs.sort(key=lambda r: r[0])
    return runs[(len(runs) - 1) // 2]


def _median_cpu(func: Callable[[], object], repeat: int) -> float:
    """Median CPU seconds of ``repeat`` runs (once when the first takes over ``LONG``)."""
    runs = []
    for _ in range(repeat):
        t0 = time.process_time()
        func()
        runs.append(time.process_time() - t0)
        if runs[0] > LONG:
            break
    runs.sort()
    return runs[(len(runs) - 1) // 2]


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.0f}" if seconds >= 0.1 else f"{seconds * 1e3:.1f}"


def _markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if k else "---" for k in range(len(header))) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def indicators_study(sizes: Sequence[int], n: int, repeat: int) -> str:
    import semnet

    rows = []
    for p in sizes:
        data = semnet.simulate(population(p), n, seed=p)
        model = analysis(p)
        t_mom, mom = _median_time(lambda data=data: semnet.moments.from_frame(data), repeat)
        t_fit, fit = _median_time(lambda model=model, mom=mom: semnet.cfa(model, mom), repeat)
        timings = fit.meta["timings"]
        rows.append([str(p), str(p // 5), str(fit.model.nfree), str(fit.iterations),
                     _ms(t_mom), _ms(timings["optimize"]), _ms(t_fit),
                     "yes" if fit.converged else "NO"])
        print(f"  p = {p}: fit {t_fit:.2f} s", file=sys.stderr, flush=True)
    return _markdown(["indicators", "factors", "free parameters", "iterations",
                      "moments ms", "optimisation ms", "fit total ms", "converged"], rows)


def cases_study(sizes: Sequence[int], p: int, repeat: int, dask: bool) -> str:
    import semnet

    model = analysis(p)
    rows = []
    for n in sizes:
        data = semnet.simulate(population(p), n, seed=n)
        t_mom, mom = _median_time(lambda data=data: semnet.moments.from_frame(data), repeat)
        t_fit, fit = _median_time(lambda mom=mom: semnet.cfa(model, mom), repeat)
        t_raw, _ = _median_time(lambda data=data: semnet.cfa(model, data), repeat)
        row = [f"{n:,}", _ms(t_mom), _ms(fit.meta["timings"]["optimize"]), _ms(t_fit),
               _ms(t_raw)]
        if dask:
            row += list(_dask_times(data, repeat))
        rows.append(row)
        print(f"  N = {n:,}: moments {t_mom:.2f} s, fit {t_fit:.2f} s", file=sys.stderr,
              flush=True)
    header = ["cases", "moments ms", "optimisation ms", "fit from moments ms",
              "cfa(data) ms"]
    if dask:
        header += ["from_dask ms", "from_dask fourth ms"]
    return _markdown(header, rows)


def partable_study(sizes: Sequence[int], repeat: int) -> str:
    import semnet
    from semnet.partable.build import partable

    semnet.partable("f =~ y1 + y2 + y3")  # warm-up: pandas' first DataFrame
    rows = []
    for f in sizes:
        model = "".join(f"f{k + 1} =~ " + " + ".join(f"y{5 * k + j + 1}" for j in range(5))
                        + "\n" for k in range(f))
        n = len(partable(model).columns["lhs"])
        t_build = _median_cpu(lambda model=model: partable(model), repeat)
        t_frame = _median_cpu(lambda model=model: semnet.partable(model), repeat)
        rows.append([f"{f:,}", f"{n:,}", _ms(t_build), f"{t_build / n * 1e6:.2f}",
                     _ms(t_frame), f"{t_frame / n * 1e6:.2f}"])
        print(f"  {f} factors: {n:,} rows, build {t_build:.2f} s", file=sys.stderr, flush=True)
    return _markdown(["factors", "rows", "build ms", "build us per row",
                      "semnet.partable ms", "semnet.partable us per row"], rows)


def _dask_times(data: pd.DataFrame, repeat: int) -> tuple[str, str]:
    import dask
    import dask.dataframe as dd

    import semnet

    with tempfile.TemporaryDirectory(prefix="semnet-scaling-") as tmp:
        nfiles = max(1, min(16, len(data) // 62_500))
        for k, rows in enumerate(np.array_split(np.arange(len(data)), nfiles)):
            data.iloc[rows].to_parquet(Path(tmp) / f"part-{k:03d}.parquet", index=False)
        ddf = dd.read_parquet(tmp)
        with dask.config.set(scheduler="threads"):
            semnet.moments.from_dask(ddf)  # warm-up: imports, thread pool
            t2, _ = _median_time(lambda: semnet.moments.from_dask(ddf), repeat)
            t4, _ = _median_time(lambda: semnet.moments.from_dask(ddf, fourth=True), repeat)
    return _ms(t2), _ms(t4)


def panel_study(rows: int, p: int) -> str:
    import dask
    import dask.dataframe as dd

    import semnet

    countries = ("USA", "China", "Russia")
    chunk = 1_000_000
    with tempfile.TemporaryDirectory(prefix="semnet-panel-") as tmp:
        t0 = time.perf_counter()
        for k, start in enumerate(range(0, rows, chunk)):
            size = min(chunk, rows - start)
            per = [size // 3 + (1 if j < size % 3 else 0) for j in range(3)]
            block = semnet.simulate(population(p), dict(zip(countries, per, strict=True)),
                                    seed=k, group_column="country")
            block.to_parquet(Path(tmp) / f"part-{k:04d}.parquet", index=False)
        t_write = time.perf_counter() - t0
        ddf = dd.read_parquet(tmp)
        with dask.config.set(scheduler="threads"):
            t0 = time.perf_counter()
            mom = semnet.moments.from_dask(ddf, group="country", fourth=True)
            t_mom = time.perf_counter() - t0
        model = analysis(p)
        t0 = time.perf_counter()
        robust = semnet.cfa(model, mom, estimator="MLR", group_equal=["loadings"])
        t_mlr = time.perf_counter() - t0
        t0 = time.perf_counter()
        semnet.cfa(model, mom, group_equal=["loadings"])
        t_ml = time.perf_counter() - t0
    fm = robust.fit_measures()
    cells = [f"{rows:,}", str(ddf.npartitions), f"{t_write:.1f}", f"{t_mom:.1f}",
             f"{t_ml:.2f}", f"{t_mlr:.2f}", f"{fm['chisq_scaled']:.1f}",
             f"{fm['cfi_robust']:.3f}"]
    return _markdown(["rows", "partitions", "simulate + write s", "from_dask (fourth) s",
                      "ML fit s", "MLR fit s", "chisq scaled", "CFI robust"], [cells])


def _machine() -> str:
    import semnet

    try:
        import threadpoolctl

        blas = ", ".join(sorted({f"{i['internal_api']} {i.get('num_threads')} threads"
                                 for i in threadpoolctl.threadpool_info()}))
    except ImportError:
        blas = "BLAS unknown"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"semnet {semnet.__version__}, Python {platform.python_version()}, numpy "
            f"{np.__version__}, {platform.machine()}, {os.cpu_count()} CPUs ({blas}); "
            f"load average at start {load:.1f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling",
                                     description="Fit time against indicators and cases.")
    parser.add_argument("--repeat", type=int, default=3, metavar="N",
                        help="runs per cell, median reported (default 3)")
    parser.add_argument("--quick", action="store_true", help="small grid, one run")
    parser.add_argument("--max-p", type=int, default=max(INDICATORS), metavar="P",
                        help="largest number of indicators (default 200)")
    parser.add_argument("--max-n", type=int, default=max(CASES), metavar="N",
                        help="largest number of cases (default 1,000,000)")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask column")
    parser.add_argument("--panel", type=int, default=0, metavar="N",
                        help="also reduce and fit an N-row Parquet panel (default: skip)")
    parser.add_argument("--partable", action="store_true",
                        help="only the parameter-table study (100 to 2,000 factors)")
    parser.add_argument("--blas-threads", type=int, default=1, metavar="N",
                        help="BLAS threads (default 1; 0 leaves numpy's default)")
    args = parser.parse_args(argv)
    repeat = 1 if args.quick else max(1, args.repeat)
    indicators = (10, 15) if args.quick else [p for p in INDICATORS if p <= args.max_p]
    cases = (500, 2_000) if args.quick else [n for n in CASES if n <= args.max_n]
    n_ind = 500 if args.quick else N_FOR_INDICATORS
    use_dask = not args.no_dask and all(
        importlib.util.find_spec(name) is not None for name in ("dask", "pyarrow"))

    from benchmarks.tasks import blas_threads

    print(f"{_machine()}; BLAS limited to {args.blas_threads or 'the default'} thread(s)\n",
          flush=True)
    if args.partable:
        factors = (10, 20) if args.quick else FACTORS
        print(f"Parameter table against the number of factors (five indicators each, "
              f"correlated factors; CPU time, median of {repeat} run(s))\n")
        print(partable_study(factors, repeat), flush=True)
        return 0
    with warnings.catch_warnings(), blas_threads(args.blas_threads):
        warnings.simplefilter("ignore")
        import semnet

        semnet.cfa(analysis(10), semnet.simulate(population(10), 200, seed=0))  # warm-up
        print(f"Fit time against the number of indicators (CFA, 5 indicators per factor, "
              f"N = {n_ind:,}; median of {repeat} run(s))\n")
        print(indicators_study(indicators, n_ind, repeat), "\n", flush=True)
        print(f"Fit time against the number of cases ({P_FOR_CASES}-indicator CFA; median "
              f"of {repeat} run(s))\n")
        print(cases_study(cases, P_FOR_CASES, repeat, use_dask), flush=True)
        if args.panel and use_dask:
            print(f"\nA {args.panel:,}-row panel in three countries, Parquet, metric "
                  f"invariance ({P_FOR_CASES}-indicator CFA, equal loadings)\n")
            print(panel_study(args.panel, P_FOR_CASES), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
