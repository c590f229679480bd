"""Running many independent fits: serially, on a local process pool, or on any
``concurrent.futures.Executor`` (a Dask ``distributed`` client's ``get_executor()`` for a
cluster).

The rules every many-fit workflow follows (:func:`semnet.bootstrap`, :func:`semnet.power`):

- each task carries everything random it needs (a ``numpy.random.SeedSequence`` spawned
  from the user's seed), so results never depend on the executor, on the number of
  workers or on the order in which tasks finish;
- ``executor=None`` and ``n_jobs=1`` run in this process; ``n_jobs=k > 1`` (``-1``:
  every CPU) starts a ``ProcessPoolExecutor`` of ``k - 1`` workers for the call and
  makes this process the k-th: the workers take the chunks from the front, this process
  takes those no worker has started from the back (one fork fewer, and its chunks are
  neither pickled nor sent); a given ``executor`` is used as is and never shut down;
- tasks are sent in chunks (about eight per worker) to keep the per-task overhead low, and
  the results come back in task order; a pool started for the call receives the task
  function (with the model and data it carries) once per worker, as the workers are
  forked, not with every chunk;
- an interrupt (Ctrl-C) or any other error while waiting cancels the chunks not yet
  started; a pool started for the call is shut down without waiting and its workers are
  terminated, so the call returns at once and leaves no process behind.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from typing import Any

from semnet.errors import OptionError

__all__ = ["Progress", "map_tasks", "want_progress"]

#: chunks per worker sent to an executor
CHUNKS_PER_WORKER = 8
#: seconds a terminated worker gets to exit before it is killed
WORKER_GRACE = 1.0


def want_progress(progress: bool | None, total: int, threshold: int) -> bool:
    """Whether to show a progress bar: as asked, else for ``total >= threshold`` tasks on
    a terminal."""
    if progress is not None:
        return bool(progress)
    try:
        return total >= threshold and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """A ``tqdm`` bar when tqdm is installed, else a plain counter on stderr."""

    def __init__(self, total: int, desc: str, show: bool, unit: str = "fit") -> None:
        self.bar = None
        self.total, self.done, self.desc, self.show = total, 0, desc, show
        if show:
            try:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=total, desc=desc, unit=unit)
            except ImportError:
                self.bar = None

    def update(self, k: int) -> None:
        self.done += k
        if self.bar is not None:
            self.bar.update(k)
        elif self.show:
            print(f"\r{self.desc}: {self.done}/{self.total}", end="", file=sys.stderr)

    def describe(self, text: str) -> None:
        """Show what is running now beside the bar (tqdm's postfix)."""
        if self.bar is not None:
            self.bar.set_postfix_str(text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.show:
            print(file=sys.stderr)


def _run_chunk(func: Callable[[Any], Any], specs: Sequence[Any]) -> list[Any]:
    return [func(s) for s in specs]


#: the function of a pool started by :func:`map_tasks`, installed once in each worker
_installed: list[Callable[[Any], Any]] = []


def _install(func: Callable[[Any], Any]) -> None:
    _installed[:] = [func]


def _run_installed(specs: Sequence[Any]) -> list[Any]:
    return _run_chunk(_installed[0], specs)


def check_jobs(n_jobs: int | None) -> int:
    """``n_jobs`` as a positive number of workers (``-1``: every CPU)."""
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise OptionError(f"n_jobs must be a positive number of workers or -1 (every CPU), "
                          f"not {n_jobs!r}.")
    return (os.cpu_count() or 1) if n_jobs == -1 else n_jobs


def map_tasks(
    func: Callable[[Any], Any],
    specs: Sequence[Any],
    *,
    n_jobs: int | None = 1,
    executor: Executor | None = None,
    progress: Progress | None = None,
    sizes: Sequence[int] | None = None,
) -> list[Any]:
    """``[func(s) for s in specs]``, serially or on an executor, in the order of ``specs``.

    ``func`` and the specs must be picklable when they go to other processes (a
    module-level function, or an instance of a module-level class with ``__call__``).
    ``sizes``: what each task counts for on the ``progress`` bar (a block of draws:
    its draws), 1 each by default.
    """
    if executor is not None and not isinstance(executor, Executor):
        raise OptionError(f"executor must be a concurrent.futures.Executor (e.g. a "
                          f"ProcessPoolExecutor, or a Dask client's get_executor()), not "
                          f"{type(executor).__name__}.")
    workers = check_jobs(n_jobs)
    total = len(specs)
    out: list[Any] = [None] * total
    counter = None if progress is None else _Counted(progress, sizes)
    if executor is None and workers <= 1:
        step = max(1, min(50, total // 100 or 1))
        for start in range(0, total, step):
            out[start : start + step] = _run_chunk(func, specs[start : start + step])
            if counter is not None:
                counter.update(start, min(total, start + step))
        return out
    if executor is None:
        return _on_own_pool(func, specs, workers, out, counter)
    workers = max(1, getattr(executor, "_max_workers", 4) or 4)
    futures = {executor.submit(_run_chunk, func, list(specs[a:b])): (a, b)
               for a, b in _chunks(total, workers)}
    try:
        _collect(futures, out, counter)
    except BaseException:
        for fut in futures:
            fut.cancel()
        raise
    return out


class _Counted:
    """A progress bar advanced by ranges of tasks, each counting its size."""

    def __init__(self, bar: Progress, sizes: Sequence[int] | None) -> None:
        self.bar = bar
        self.sizes = None if sizes is None else list(itertools.accumulate(sizes, initial=0))

    def update(self, a: int, b: int) -> None:
        self.bar.update(b - a if self.sizes is None else self.sizes[b] - self.sizes[a])


def _chunks(total: int, workers: int) -> list[tuple[int, int]]:
    """About :data:`CHUNKS_PER_WORKER` chunks per worker: ``(start, stop)`` of each."""
    nchunks = max(1, min(total, CHUNKS_PER_WORKER * workers))
    bounds = [round(k * total / nchunks) for k in range(nchunks + 1)]
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _collect(futures: dict[Future, tuple[int, int]], out: list[Any],
             progress: _Counted | None) -> None:
    """Wait for ``futures`` and put each chunk's results in its place in ``out``."""
    for fut in as_completed(futures):
        a, b = futures[fut]
        out[a:b] = fut.result()
        if progress is not None:
            progress.update(a, b)


def _on_own_pool(func: Callable[[Any], Any], specs: Sequence[Any], workers: int,
                 out: list[Any], progress: _Counted | None) -> list[Any]:
    """:func:`map_tasks` on ``workers - 1`` forked processes and this one.

    The pool's workers receive ``func`` once, as they start, and take the chunks from the
    front; this process takes them from the back (those no worker has started: a
    submitted chunk is cancelled before this process runs it), so it works while it would
    otherwise wait, and its chunks are neither pickled nor sent.
    """
    pool = ProcessPoolExecutor(max_workers=workers - 1, initializer=_install,
                               initargs=(func,))
    futures: dict[Future, tuple[int, int]] = {}
    try:
        for a, b in _chunks(len(specs), workers):
            futures[pool.submit(_run_installed, list(specs[a:b]))] = (a, b)
        for fut in reversed(list(futures)):
            if not fut.cancel():
                break
            a, b = futures.pop(fut)
            out[a:b] = _run_chunk(func, specs[a:b])
            if progress is not None:
                progress.update(a, b)
                _collect({f: futures.pop(f) for f in list(futures) if f.done()}, out,
                         progress)
        _collect(futures, out, progress)
    except BaseException:
        for fut in futures:
            fut.cancel()
        _abandon(pool)
        raise
    pool.shutdown()
    return out


def _abandon(pool: ProcessPoolExecutor) -> None:
    """Shut ``pool`` down without waiting for its running chunks: cancel the queued ones
    and terminate the workers (killing those that do not stop within a second)."""
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in workers:
        proc.terminate()
    deadline = time.monotonic() + WORKER_GRACE
    for proc in workers:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            proc.kill()
            proc.join(WORKER_GRACE)
