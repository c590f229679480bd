"""Step 6 of a fit: minimize the discrepancy from the start values."""

from __future__ import annotations

import math

from semnet._blas import as_is, one_blas_thread
from semnet.data.sample import Sample
from semnet.errors import SemnetError
from semnet.estimation.discrepancy import Discrepancy, discrepancy
from semnet.estimation.optimize import OptimizeResult, minimize
from semnet.options import Options
from semnet.pipeline.structure import Structure

#: observed variables from which the optimizer runs on one BLAS thread (see below)
ONE_THREAD_FROM = 20


def blas_policy(options: Options, structure: Structure):
    """The BLAS thread policy of the estimation: one thread for incomplete data and for
    models with :data:`ONE_THREAD_FROM` or more observed variables.

    The optimizer's steps are small matrix products, as FIML's are: BLAS threads only
    slow them down, badly on a busy machine; below 20 observed variables the products
    are too small for BLAS to thread at all.
    """
    if options.incomplete_data or structure.model.p >= ONE_THREAD_FROM:
        return one_blas_thread
    return as_is


def estimate(
    structure: Structure, sample: Sample, options: Options, warnings: list[str]
) -> tuple[Discrepancy, OptimizeResult]:
    """The discrepancy (from the registry) and its minimum; non-convergence is added to
    ``warnings``, a failure to evaluate the discrepancy at all raises."""
    disc = discrepancy(
        options.discrepancy, structure.model, sample, structure.start, for_optimizer=True
    )
    result = blas_policy(options, structure)(minimize)(disc, structure.constraints, structure.x0)
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
