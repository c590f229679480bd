"""BLAS threading policy: small matrix products run on one BLAS thread.

semnet's per-iteration work is many small matrix products (per group, per
missing-data pattern).  BLAS threads only add overhead to those and, on a busy
machine, make them wait for each other (several times slower), so that work runs
inside :func:`one_blas_thread`; :func:`as_is` is its no-op counterpart.  Which of the
two a fit's estimation uses is decided by :func:`semnet.pipeline.estimate.blas_policy`
(from the model's size, with the measurements behind it).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from threadpoolctl import ThreadpoolController

F = TypeVar("F", bound=Callable)

@functools.cache
def _blas_controller() -> ThreadpoolController:
    """threadpoolctl's controller of the loaded BLAS libraries, made once: limiting
    through it costs microseconds."""
    return ThreadpoolController()

def _single_threaded() -> bool:
    """Whether every loaded BLAS library already runs one thread (then a limit changes
    nothing)."""
    return all(lib.num_threads == 1 for lib in _blas_libraries())


@functools.cache
def _blas_libraries() -> tuple:
    """The controllers of the BLAS libraries among those of :func:`_blas_controller`."""
    return tuple(lib for lib in _blas_controller().lib_controllers if lib.user_api == "blas")


def one_blas_thread(func: F) -> F:
    """Run ``func`` with a single BLAS thread.

    FIML's work, and an ML optimizer's, is many small matrix products (per pattern, per
    group); BLAS threads only add overhead to those and, on a busy machine, make them
    wait for each other (several times slower).
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if _single_threaded():  # (checking costs a microsecond, a limit about ten)
            return func(*args, **kwargs)
        with _blas_controller().limit(limits=1, user_api="blas"):
            return func(*args, **kwargs)

    wrapper.one_blas_thread = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def as_is(func: F) -> F:
    """No BLAS thread limit (the counterpart of :func:`one_blas_thread`)."""
    return func
