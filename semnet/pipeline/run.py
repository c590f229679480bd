"""Steps 5-9 of a fit, in order: structure, estimation, inference, the Fit — shared by
:func:`semnet.sem` and :func:`semnet.lms`."""

from __future__ import annotations

import time
from typing import Any

from semnet.data.sample import Sample
from semnet.estimation.discrepancy import DISCREPANCIES, Discrepancy
from semnet.estimation.optimize import OptimizeResult
from semnet.options import Options
from semnet.partable.build import ParTable
from semnet.pipeline.assemble import assemble, sample_warnings
from semnet.pipeline.estimate import blas_policy, estimate
from semnet.pipeline.infer import Inference, infer
from semnet.pipeline.messages import Messages
from semnet.pipeline.specify import Specification
from semnet.pipeline.structure import Structure, structure
from semnet.results.fit import Fit


def _estimate_and_infer(
    struct: Structure, sample: Sample, options: Options, messages: Messages
) -> tuple[Discrepancy, OptimizeResult, Inference, float]:
    """Estimation and inference (one BLAS thread scope for both): the discrepancy, its
    minimum, the inference and the time the estimation ended."""
    disc, result = estimate(struct, sample, options, messages)
    t_opt = time.perf_counter()
    return disc, result, infer(struct, sample, options, disc, result, messages), t_opt


def fit_structure(
    spec: Specification, pt: ParTable, sample: Sample, options: Options, times: tuple
) -> Fit:
    """Structure, estimation, inference and the Fit of ``pt`` for ``sample``, with the
    discrepancy the specification names (its plug-in's result: an LMS fit for LMS);
    ``times`` are the start, the end of parsing and the end of the sample step.

    Examples
    --------
    >>> import semnet
    >>> fit = semnet.cfa("f =~ x1 + x2 + x3", semnet.datasets.holzinger_swineford())
    >>> sorted(fit.meta["timings"])
    ['data', 'optimize', 'parse', 'total']
    """
    t0, t_parse, t_data = times
    messages = Messages()
    messages.extend(sample_warnings(sample, options))
    struct = structure(pt, sample, options, spec.discrepancy, spec.settings)
    disc, result, inference, t_opt = blas_policy(options, struct)(_estimate_and_infer)(
        struct, sample, options, messages
    )
    timings = {"parse": t_parse - t0, "data": t_data - t_parse, "optimize": t_opt - t_data,
               "total": time.perf_counter() - t0}  # fmt: skip
    record: dict[str, Any] = {"interaction": spec.products, "timings": timings}
    fit = assemble(struct, sample, options, result, inference, messages, record)
    extend = DISCREPANCIES.get(struct.discrepancy).result
    return fit if extend is None else extend(fit, struct, disc)
