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
def _blas_libraries() -> tuple:
    """threadpoolctl's controllers of the loaded BLAS libraries, found once (finding
    them scans the process's shared libraries; reading or setting a library's threads
    through its controller then costs about a microsecond)."""
    controller = ThreadpoolController()
    return tuple(lib for lib in controller.lib_controllers if lib.user_api == "blas")


def one_blas_thread(func: F) -> F:
    """Run ``func`` with a single BLAS thread.

    FIML's work, and an ML optimizer's, is many small matrix products (per pattern, per
    group); BLAS threads only add overhead to those and, on a busy machine, make them
    wait for each other (several times slower).  The limit is set and restored through
    each library's controller directly: half the time of ``ThreadpoolController.limit``
    (measured with two OpenBLAS threads: 8 us a call against 16-21 us; a small fit takes
    about 1.5 ms).

    Examples
    --------
    >>> from threadpoolctl import threadpool_info
    >>> def threads():
    ...     return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    >>> before = threads()
    >>> set(one_blas_thread(threads)()) <= {1}, threads() == before
    (True, True)
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        libraries = _blas_libraries()
        before = [lib.num_threads for lib in libraries]
        if all(n == 1 for n in before):  # (a limit would change nothing)
            return func(*args, **kwargs)
        for lib in libraries:
            lib.set_num_threads(1)
        try:
            return func(*args, **kwargs)
        finally:
            for lib, n in zip(libraries, before, strict=True):
                lib.set_num_threads(n)

    wrapper.one_blas_thread = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def as_is(func: F) -> F:
    """No BLAS thread limit (the counterpart of :func:`one_blas_thread`)."""
    return func
