"""``python -m benchmarks``: time semnet, semopy and lavaan on the same models.

Prints one table (median milliseconds per text-to-estimates fit, how many times
slower each other tool is than semnet, and lavaan's ratio of the mean times, in which
an occasional stall that a median hides counts), then the chi-square each tool found and how many
runs each tool timed.  Exits with status 1 when a tool's chi-square disagrees with
semnet's or with lavaan 0.6.14's committed value, so a benchmark never times a wrong
answer silently.

How it times: task after task, every tool warms up (``--warmup N``, default 2), then the
tools take turns in ``--rounds N`` rounds (default 15), in an order that rotates from
round to round.  In each turn a tool runs the task again and again for at least
``--round-ms`` milliseconds (default 100; at least one run), so within a round every
tool is timed over about the same stretch of the machine's time.  lavaan runs in one R
session that waits for its turns (:class:`benchmarks.lavaan.LavaanSession`; R's start-up
is never timed).  A tool's median pools all its runs.  On a shared machine whose speed
drifts from second to second, the tools are thus timed in the same fast and slow
moments, and their ratio does not depend on which moments each tool happened to get.
Long tasks (FIML, the invariance ladder, the bootstrap), one run of which outlasts a
round, take part in their ``max_rounds`` first rounds only: one run per tool and round.

Other options: ``--quick`` (one warm-up and one round of one run: a smoke check),
``--no-lavaan``, ``--no-semopy``, ``--only TEXT`` (tasks whose name contains TEXT),
``--blas-threads N`` (default 1), ``--scaling`` (the size cases of
:data:`benchmarks.tasks.SCALING_TASKS` instead of the usual ones, with one warm-up:
10 to 200 items, 2 to 40 groups, 100 groups of 5 rows; lavaan is not run on the cases
whose ``no_lavaan`` says why, which are timed in semnet only), ``--cpu`` (time each run
in CPU time, of the Python process or of the R session, instead of wall time: on a
machine shared with other jobs, the time that the tool itself spent),
``--busy N`` (N CPU-bound background processes, each multiplying numpy matrices on one
thread, run while every tool is timed: a busy laptop or shared server; they are started
before the first task and stopped at the end) and ``--alignment``
(:data:`benchmarks.tasks.ALIGNMENT_TASKS`, semnet against lavaan + sirt, with one
warm-up; sirt's column is lavaan's).
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.lavaan import LavaanSession
    from benchmarks.tasks import Task

#: relative agreement required between chi-squares (semopy's optimizer stops earlier)
CHISQ_RTOL = 1e-3

TOOL_ORDER = ("semnet", "semopy", "lavaan")


@dataclass(frozen=True)
class Timing:
    """All timed runs (milliseconds) of one tool on one task, and its check value."""

    runs_ms: tuple[float, ...]
    chisq: float

    @property
    def median_ms(self) -> float:
        return statistics.median(self.runs_ms)

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.runs_ms)


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


def _turn_order(players: Sequence[str], r: int) -> list[str]:
    """The players of round ``r``: the list rotated by ``r`` places."""
    k = r % len(players) if players else 0
    return [*players[k:], *players[:k]]


def _after_error(session: LavaanSession, task: Task, exc: Exception,
                 notes: list[str]) -> LavaanSession | None:
    """Note lavaan's failure on ``task``; the session, or None where it has ended."""
    if session.alive:
        notes.append(f"lavaan: {task.name!r} not timed ({exc})")
        return session
    notes.append(f"lavaan: stopped at {task.name!r} ({exc})")
    session.close()
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time text-to-estimates fits of semnet, semopy and lavaan.",
    )
    parser.add_argument("--rounds", type=int, default=15, metavar="N",
                        help="rounds in which the tools take turns (default 15)")
    parser.add_argument("--round-ms", type=float, default=100.0, metavar="MS",
                        help="time each tool runs a task per round (default 100 ms; at "
                             "least one run)")
    parser.add_argument("--warmup", type=int, default=2, metavar="N",
                        help="untimed warm-up runs per task and tool (default 2)")
    parser.add_argument("--quick", action="store_true",
                        help="one warm-up, one round of one run: a smoke check")
    parser.add_argument("--no-lavaan", action="store_true", help="skip lavaan (Rscript)")
    parser.add_argument("--no-semopy", action="store_true", help="skip semopy")
    parser.add_argument("--only", action="append", default=[], metavar="TEXT",
                        help="run only the tasks whose name contains TEXT (repeatable)")
    parser.add_argument("--scaling", action="store_true",
                        help="run the size cases instead (10 to 200 items, 2 to 100 "
                             "groups; one warm-up: a lavaan run takes minutes)")
    parser.add_argument("--cpu", action="store_true",
                        help="time runs in CPU time (of the Python process, of the R "
                             "session) instead of wall time")
    parser.add_argument("--alignment", action="store_true",
                        help="run the alignment case instead (60 countries x 30 items; R: "
                             "lavaan + sirt, skipped with a note without sirt)")
    parser.add_argument("--blas-threads", type=int, default=1, metavar="N",
                        help="BLAS threads for semnet and semopy (default 1, as lavaan's "
                             "reference BLAS; 0 leaves numpy's default)")
    parser.add_argument("--busy", type=int, default=0, metavar="N",
                        help="run N CPU-bound background processes while timing (a busy "
                             "machine; default 0)")
    args = parser.parse_args(argv)
    if args.quick:
        rounds, round_ms, warmup = 1, 0.0, 1
    else:
        rounds, round_ms, warmup = max(1, args.rounds), max(0.0, args.round_ms), args.warmup

    import semnet
    from benchmarks.lavaan import LavaanError, LavaanSession
    from benchmarks.tasks import (
        ALIGNMENT_TASKS,
        SCALING_TASKS,
        TASKS,
        TOOLS,
        BusyLoad,
        blas_threads,
        prepare_tool,
        semopy_available,
        time_turn,
    )

    pool = SCALING_TASKS if args.scaling else ALIGNMENT_TASKS if args.alignment else TASKS
    if args.scaling or args.alignment:
        warmup = 1
    tasks = [t for t in pool
             if not args.only or any(o.lower() in t.name.lower() for o in args.only)]
    if not tasks:
        print(f"no task matches {args.only}; tasks: {[t.name for t in pool]}",
              file=sys.stderr)
        return 2
    print(f"semnet {semnet.__version__}, Python {platform.python_version()}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs; {rounds} round(s) of at least "
          f"{round_ms:g} ms per tool and task, after {warmup} warm-up run(s) (long tasks: "
          f"their max_rounds first rounds, one run each); BLAS threads: "
          f"{args.blas_threads or 'default'}; load average {os.getloadavg()[0]:.1f}; "
          f"{'CPU' if args.cpu else 'wall'} times in ms (model text to estimates with "
          "SEs)\n",
          flush=True)

    notes: list[str] = []
    use_semopy = not args.no_semopy and semopy_available()
    if not use_semopy:
        notes.append("semopy: " + ("skipped (--no-semopy)" if args.no_semopy
                                   else "not installed"))
    else:
        import semopy

        notes.append(f"semopy {semopy.__version__}: cannot fit multi-group models with "
                     "cross-group constraints jointly and has no bootstrap (n/a)")
    session = None
    if args.no_lavaan:
        notes.append("lavaan: skipped (--no-lavaan)")
    else:
        try:
            # lavaan + sirt on 60 countries: tens of minutes in one answer
            session = LavaanSession(tasks, timeout=3600.0 if args.alignment else 900.0)
        except LavaanError as exc:
            notes.append(f"lavaan: not timed ({exc})")
        else:
            notes.append(f"lavaan {session.version} in one R session that waits for its "
                         "turns (R's start-up not timed)")

    results: dict[str, dict[int, Timing]] = {name: {} for name in TOOL_ORDER}
    load = BusyLoad(max(0, args.busy))
    if args.busy > 0:
        notes.append(f"busy machine: {args.busy} CPU-bound background process(es) "
                     "multiplying numpy matrices ran while every tool was timed")
    try:
        for k, task in enumerate(tasks):
            python_tools = [TOOLS[n] for n in ("semnet", "semopy")
                            if n == "semnet" or (use_semopy and TOOLS[n].supports(task))]
            with blas_threads(args.blas_threads):
                prepared = {t.name: prepare_tool(t, task, warmup=warmup) for t in python_tools}
            players = [t.name for t in python_tools]
            runs: dict[str, list[float]] = {name: [] for name in TOOL_ORDER}
            checks = {name: chisq for name, (_, chisq) in prepared.items()}
            if task.no_lavaan:
                notes.append(f"lavaan: {task.name!r} not run ({task.no_lavaan})")
            elif session is not None:
                try:
                    checks["lavaan"] = session.prepare(k, warmup)
                    players.append("lavaan")
                except LavaanError as exc:
                    session = _after_error(session, task, exc, notes)
            n_rounds = rounds if task.max_rounds is None else min(rounds, task.max_rounds)
            for r in range(n_rounds):
                for name in _turn_order(players, r):
                    if name == "lavaan" and session is not None:
                        try:
                            runs[name] += session.time(k, min_runs=1, budget_ms=round_ms,
                                                       max_runs=1000, cpu=args.cpu)
                        except LavaanError as exc:
                            session = _after_error(session, task, exc, notes)
                            players.remove("lavaan")  # and no half-timed task
                            runs["lavaan"].clear()
                    elif name != "lavaan":
                        with blas_threads(args.blas_threads):
                            runs[name] += time_turn(TOOLS[name], task, prepared[name][0],
                                                    budget_ms=round_ms, cpu=args.cpu)
            for name in TOOL_ORDER:
                if runs[name]:
                    results[name][k] = Timing(tuple(runs[name]), checks[name])
    finally:
        load.stop()
        if session is not None:
            session.close()
    notes.append(f"{rounds} round(s): the tools take turns, each running a task for at "
                 f"least {round_ms:g} ms per round (at least once; long tasks: one run in "
                 "each of their first max_rounds rounds); medians over all timed runs, and "
                 "the ratio of the mean times ('of means': the occasional stall, which a "
                 "median hides, counts)")

    def med(tool: str, k: int) -> float | None:
        t = results[tool].get(k)
        return None if t is None else t.median_ms

    def mean(tool: str, k: int) -> float | None:
        t = results[tool].get(k)
        return None if t is None else t.mean_ms

    def count(tool: str, k: int) -> str:
        t = results[tool].get(k)
        return "-" if t is None else str(len(t.runs_ms))

    rows = []
    for k, task in enumerate(tasks):
        base = med("semnet", k)
        rows.append([task.name, _ms(base), _ms(med("semopy", k)), _ms(med("lavaan", k)),
                     _ratio(med("semopy", k), base), _ratio(med("lavaan", k), base),
                     _ratio(mean("lavaan", k), mean("semnet", k))])
    print(_table(["task", "semnet ms", "semopy ms", "lavaan ms", "semopy/semnet",
                  "lavaan/semnet", "of means"], rows))

    print("\nchi-square check (each tool against semnet; semnet against lavaan 0.6.14's "
          "committed value) and timed runs per tool:")
    bad = 0
    check_rows = []
    for k, task in enumerate(tasks):
        s = results["semnet"][k].chisq
        cells = [task.name, f"{s:.3f}"]
        # a task lavaan is not run on has no anchor (its note says why)
        ok = bool(task.no_lavaan) or _agree(s, task.expected())
        for tool in ("semopy", "lavaan"):
            t = results[tool].get(k)
            if t is None:
                cells.append("n/a")
                continue
            agree = _agree(t.chisq, s)
            ok &= agree
            cells.append(f"{t.chisq:.3f}" + ("" if agree else " MISMATCH"))
        cells.append("ok" if ok else "MISMATCH")
        cells.append("/".join(count(tool, k) for tool in TOOL_ORDER))
        bad += not ok
        check_rows.append(cells)
    print(_table(["task", "semnet", "semopy", "lavaan", "agree", "runs semnet/semopy/lavaan"],
                 check_rows))
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
