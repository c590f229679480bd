"""Step 6 of a fit: minimize the discrepancy from the start values."""

from __future__ import annotations

import math

from semnet._blas import as_is, one_blas_thread
from semnet.data.sample import Sample
from semnet.errors import SemnetError
from semnet.estimation.discrepancy import DISCREPANCIES, Discrepancy
from semnet.estimation.optimize import OptimizeResult, minimize
from semnet.options import Options
from semnet.pipeline.structure import Structure

#: observed variables from which a fit keeps the process's BLAS threads (see
#: :func:`blas_policy`); every smaller model, and every FIML fit, runs on one BLAS thread
ONE_THREAD_BELOW = 500


def blas_policy(options: Options, structure: Structure):
    """The BLAS thread policy of the estimation and the standard errors: one BLAS thread
    (a limit scoped to the call, see :func:`semnet._blas.one_blas_thread`) for incomplete
    data and for models with fewer than :data:`ONE_THREAD_BELOW` observed variables; the
    process's own BLAS threads for larger models.

    The optimizer's and the standard errors' work is many small matrix products; idle
    OpenBLAS threads spin on them and, on a busy machine, wait for each other.  Measured
    (issue #20) on a 2-core machine shared with other work plus one CPU-bound background
    process, ``semnet.sem()``/``cfa()`` with OpenBLAS's 2 threads against one, mean / 90th
    percentile of the fit time:

    ==============================  =====  ===================  ==================
    model                           fits   2 BLAS threads (ms)  1 BLAS thread (ms)
    ==============================  =====  ===================  ==================
    HS CFA (9 observed)             200    16.1 / 72.0          1.6 / 1.5
    Political Democracy (11)        200    12.2 / 55.4          2.4 / 2.4
    CFA, 50 indicators (N = 500)    30     94 / 211             10.5 / 14.7
    CFA, 200 indicators (N = 1000)  5      1992 / 3243          824 / 1051
    CFA, 400 indicators (N = 2000)  3      82146 / 92404        35222 / 36533
    FIML, HS with 10% missing (9)   60     16.7 / 17.2          16.4 / 17.1
    ==============================  =====  ===================  ==================

    (FIML's pattern sums already ran on one thread.)  Without the background process
    (the machine still shared): HS CFA 13.6 / 63.5 against 1.2 / 1.3 ms, Political
    Democracy 2.1 / 2.2 either way, 50 indicators 127 / 327 against 6.6 / 8.3 ms, 200
    indicators 2543 / 3842 against 443 / 576 ms.  No measured size gained from BLAS
    threads; the threshold lies above the largest one measured, leaving the threads to
    models whose products are large enough to use them on an otherwise idle machine.

    Example
    -------
    >>> import semnet
    >>> from threadpoolctl import threadpool_info
    >>> before = [lib["num_threads"] for lib in threadpool_info()]
    >>> fit = semnet.cfa("f =~ x1 + x2 + x3", semnet.datasets.holzinger_swineford())
    >>> [lib["num_threads"] for lib in threadpool_info()] == before
    True
    """
    if options.incomplete_data or structure.model.p < ONE_THREAD_BELOW:
        return one_blas_thread
    return as_is


def estimate(
    structure: Structure, sample: Sample, options: Options, warnings: list[str]
) -> tuple[Discrepancy, OptimizeResult]:
    """The discrepancy (from the registry) and its minimum, by the optimizer its plug-in
    declares or the generic one; non-convergence is added to
    ``warnings``, a failure to evaluate the discrepancy at all raises.  The caller runs
    it under :func:`blas_policy` (one scope with the standard errors:
    :func:`semnet.pipeline.run.fit_structure`)."""
    plugin = DISCREPANCIES.get(structure.discrepancy)
    disc = plugin.make(structure.model, sample, structure.start, True)
    if plugin.minimize is None:
        result = minimize(disc, structure.constraints, structure.x0, restart=True)
    else:
        disc, result = plugin.minimize(disc, structure.constraints, structure.x0)
    if not math.isfinite(result.f):
        raise SemnetError(
            f"estimation failed: {result.message}. Check the model for unidentified parts, "
            "give start values with start(), or rescale variables with very different variances."
        )
    if not result.converged:
        warnings.append(
            f"the optimizer did not converge after {result.iterations} iterations "
            f"({result.message}); estimates are not trustworthy. Give better start values, "
            "simplify the model, or rescale the variables."
        )
    return disc, result
