"""``python -m benchmarks``: time semnet, semopy and lavaan on the same models.

Prints one table (median milliseconds per text-to-estimates fit, and how many times
slower each other tool is than semnet), then the chi-square each tool found.  Exits
with status 1 when a tool's chi-square disagrees with semnet's or with lavaan 0.6.14's
committed value, so a benchmark never times a wrong answer silently.

Options: ``--repeat N`` timed runs per task and tool (default 21), ``--warmup N``
(default 2), ``--quick`` (3 runs, 1 warm-up), ``--no-lavaan``, ``--no-semopy``,
``--only TEXT`` (tasks whose name contains TEXT), ``--blas-threads N`` (default 1),
``--rounds N`` (default 7).  The tools take turns in ``N`` rounds (semnet, semopy,
lavaan, then again), each round with its own warm-up and its share of the runs, and the
medians pool all rounds: on a shared machine whose speed drifts from minute to minute,
no tool gets all the fast minutes, and the more rounds, the less a ratio depends on
which minutes each tool's turns fell in.  Long tasks (FIML, the invariance ladder, the
bootstrap) run about their ``max_repeat`` times in all (whole rounds' shares), spread
over as many rounds as that fills, after one warm-up per round they take part in.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.tasks import Task, Timing

#: relative agreement required between chi-squares (semopy's optimizer stops earlier)
CHISQ_RTOL = 1e-3


def _ms(v: float | None) -> str:
    return "n/a" if v is None or not math.isfinite(v) else f"{v:.1f}"


def _ratio(other: float | None, base: float | None) -> str:
    if other is None or base is None or not (math.isfinite(other) and math.isfinite(base)):
        return "n/a"
    return f"{other / base:.2f}x"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(header)]
    def fmt(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest])
    line = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), line, *(fmt(r) for r in rows)])


def _agree(a: float, b: float) -> bool:
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= CHISQ_RTOL * max(1.0, abs(b))


def _add(timings: dict[int, Timing], k: int, new: Timing) -> None:
    """Pool ``new`` runs into ``timings[k]`` (median over all runs so far)."""
    from benchmarks.tasks import Timing

    old = timings.get(k)
    runs = new.runs_ms if old is None else old.runs_ms + new.runs_ms
    chisq = new.chisq if old is None else old.chisq
    timings[k] = Timing(statistics.median(runs), runs, chisq)


def _round_plan(tasks: Sequence[Task], rounds: int) -> tuple[list[Task], list[int]]:
    """Each task with its runs per round, and the number of rounds it takes part in.

    A long task's ``max_repeat`` runs are spread over the rounds, and it takes part in
    as many rounds as that fills (the first ones); the others take part in every round.
    """
    planned, last = [], []
    for t in tasks:
        if t.max_repeat is None:
            planned.append(t)
            last.append(rounds)
            continue
        share = math.ceil(t.max_repeat / rounds)
        planned.append(replace(t, max_repeat=share))
        last.append(math.ceil(t.max_repeat / share))
    return planned, last


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time text-to-estimates fits of semnet, semopy and lavaan.",
    )
    parser.add_argument("--repeat", type=int, default=21, metavar="N",
                        help="timed runs per task and tool (default 21)")
    parser.add_argument("--warmup", type=int, default=2, metavar="N",
                        help="untimed warm-up runs (default 2)")
    parser.add_argument("--quick", action="store_true",
                        help="3 timed runs and 1 warm-up (a smoke check)")
    parser.add_argument("--no-lavaan", action="store_true", help="skip lavaan (Rscript)")
    parser.add_argument("--no-semopy", action="store_true", help="skip semopy")
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="run only the tasks whose name contains TEXT (repeatable)")
    parser.add_argument("--rounds", type=int, default=7, metavar="N",
                        help="rounds in which the tools take turns (default 7); the "
                             "repeats are split over the rounds")
    parser.add_argument("--blas-threads", type=int, default=1, metavar="N",
                        help="BLAS threads for semnet and semopy (default 1, as lavaan's "
                             "reference BLAS; 0 leaves numpy's default)")
    args = parser.parse_args(argv)
    repeat, warmup = (3, 1) if args.quick else (max(1, args.repeat), max(1, args.warmup))

    import semnet
    from benchmarks.lavaan import time_lavaan
    from benchmarks.tasks import TASKS, TOOLS, blas_threads, semopy_available, time_tool

    tasks = [t for t in TASKS
             if not args.only or any(o.lower() in t.name.lower() for o in args.only)]
    if not tasks:
        print(f"no task matches {args.only}; tasks: {[t.name for t in TASKS]}",
              file=sys.stderr)
        return 2
    rounds = max(1, min(args.rounds, repeat))
    per_round = math.ceil(repeat / rounds)
    print(f"semnet {semnet.__version__}, Python {platform.python_version()}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs; median of {per_round * rounds} "
          f"runs in {rounds} round(s), each after {warmup} warm-up run(s) (long tasks: "
          f"about their max_repeat runs in all); BLAS threads: "
          f"{args.blas_threads or 'default'}; load average {os.getloadavg()[0]:.1f}; "
          "times in ms (model text to estimates with SEs)\n",
          flush=True)

    results: dict[str, dict[int, Timing]] = {"semnet": {}, "semopy": {}, "lavaan": {}}
    notes: list[str] = []
    use_semopy = not args.no_semopy and semopy_available()
    if not use_semopy:
        notes.append("semopy: " + ("skipped (--no-semopy)" if args.no_semopy
                                   else "not installed"))
    else:
        import semopy

        notes.append(f"semopy {semopy.__version__}: cannot fit multi-group models with "
                     "cross-group constraints jointly and has no bootstrap (n/a)")
    if args.no_lavaan:
        notes.append("lavaan: skipped (--no-lavaan)")
    # the tools take turns, round after round, so that a shared machine's drifting speed
    # falls on all of them alike; every round has its own warm-up
    tasks, last_round = _round_plan(tasks, rounds)
    lavaan_note = ""
    for r in range(rounds):
        active = [k for k in range(len(tasks)) if r < last_round[k]]
        with blas_threads(args.blas_threads):
            for k in active:
                _add(results["semnet"], k, time_tool(TOOLS["semnet"], tasks[k],
                                                     repeat=per_round, warmup=warmup))
            if use_semopy:
                for k in active:
                    if TOOLS["semopy"].supports(tasks[k]):
                        _add(results["semopy"], k, time_tool(TOOLS["semopy"], tasks[k],
                                                             repeat=per_round, warmup=warmup))
        if args.no_lavaan or lavaan_note.startswith("lavaan: not timed"):
            continue
        run = time_lavaan([tasks[k] for k in active], repeat=per_round, warmup=warmup)
        for i, timing in run.timings.items():
            _add(results["lavaan"], active[i], timing)
        if run.version is None or run.reason:
            lavaan_note = f"lavaan: not timed ({run.reason})"
        else:
            lavaan_note = (f"lavaan {run.version} via Rscript, timed inside R "
                           "(start-up excluded)")
    if lavaan_note:
        notes.append(lavaan_note)
    notes.append(f"{rounds} round(s): each tool timed in turn, {per_round} run(s) per task "
                 "and round (long tasks: their max_repeat runs spread over the first rounds), "
                 "medians over all rounds")

    def med(tool: str, k: int) -> float | None:
        t = results[tool].get(k)
        return None if t is None else t.median_ms  # type: ignore[attr-defined]

    rows = []
    for k, task in enumerate(tasks):
        base = med("semnet", k)
        rows.append([task.name, _ms(base), _ms(med("semopy", k)), _ms(med("lavaan", k)),
                     _ratio(med("semopy", k), base), _ratio(med("lavaan", k), base)])
    print(_table(["task", "semnet ms", "semopy ms", "lavaan ms", "semopy/semnet",
                  "lavaan/semnet"], rows))

    print("\nchi-square check (each tool against semnet; semnet against lavaan 0.6.14's "
          "committed value):")
    bad = 0
    check_rows = []
    for k, task in enumerate(tasks):
        s = results["semnet"][k].chisq  # type: ignore[attr-defined]
        cells = [task.name, f"{s:.3f}"]
        ok = _agree(s, task.expected())
        for tool in ("semopy", "lavaan"):
            t = results[tool].get(k)
            if t is None:
                cells.append("n/a")
                continue
            c = t.chisq  # type: ignore[attr-defined]
            agree = _agree(c, s)
            ok &= agree
            cells.append(f"{c:.3f}" + ("" if agree else " MISMATCH"))
        cells.append("ok" if ok else "MISMATCH")
        bad += not ok
        check_rows.append(cells)
    print(_table(["task", "semnet", "semopy", "lavaan", "agree"], check_rows))
    print()
    for n in notes:
        print(f"note: {n}")
    if bad:
        print(f"\n{bad} task(s) where the tools disagree on the chi-square: the timings "
              "above do not compare like with like.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
