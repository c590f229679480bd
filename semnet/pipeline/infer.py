"""Steps 7-8 of a fit: the covariance matrix of the estimates and the model tests, from
the plug-ins the options name (:mod:`semnet.inference.plugins`)."""

from __future__ import annotations

from dataclasses import dataclass
from warnings import catch_warnings, simplefilter

import numpy as np

from semnet.data.sample import Sample
from semnet.estimation.discrepancy import DISCREPANCIES, Discrepancy
from semnet.estimation.ml import MLDiscrepancy
from semnet.estimation.optimize import OptimizeResult
from semnet.inference.plugins import TESTS, VCOV, InferenceContext, baseline_test
from semnet.inference.robust import ScaledTest
from semnet.inference.vcov import (
    NearlySingularInformation,
    SingularInformationError,
    identification_message,
)
from semnet.options import Options
from semnet.pipeline.structure import Structure


@dataclass(frozen=True)
class Inference:
    """The vcov of the free parameters (``None`` when it cannot be computed), the
    scaled test and the baseline model's scaled test (``None`` for the standard test)."""

    vcov: np.ndarray | None
    test: ScaledTest | None
    baseline_test: ScaledTest | None


def _singular_message(exc: Exception, information: str) -> str:
    if information == "observed":
        return (
            "standard errors could not be computed: the observed information matrix is "
            "singular. The model may not be identified, or the data carry too little "
            "information (many missing values)."
        )
    smallest = getattr(exc, "smallest", float("nan"))
    return (
        "standard errors could not be computed: the information matrix is singular "
        f"(smallest eigenvalue {smallest:.3g}). The model may not be identified; check "
        "for factors without a scale, redundant paths, or empirical under-identification."
    )


def infer(
    structure: Structure,
    sample: Sample,
    options: Options,
    disc: Discrepancy,
    result: OptimizeResult,
    warnings: list[str],
) -> Inference:
    """Standard errors and tests of the estimates ``result.x``; a singular information
    matrix leaves them ``None`` with a message in ``warnings``.  A resampling plug-in
    (no ``compute``) leaves its part ``None`` here: it is computed once the fit is
    assembled (:func:`semnet.pipeline.assemble.resampled`)."""
    df = structure.partable.ndat(options.fixed_x) - structure.npar
    what = f"estimator='{options.estimator}' (se='{options.se}', test='{options.test}')"
    vcov_plugin, test_plugin = VCOV.get(options.se), TESTS.get(options.test)
    information = DISCREPANCIES.get(structure.discrepancy).information or options.information
    try:
        with catch_warnings(record=True) as caught:
            simplefilter("always", NearlySingularInformation)
            ctx = InferenceContext.of_fit(
                disc, structure.constraints, result.x, df, what, result.evaluation,
                information, result.evaluation_in_z,
            )  # fmt: skip
            vcov = vcov_plugin.compute(ctx) if vcov_plugin.compute is not None else None
            test = test_plugin.compute(ctx) if test_plugin.scaled else None
    except (SingularInformationError, np.linalg.LinAlgError) as exc:
        warnings.append(_singular_message(exc, information))
        return Inference(None, None, None)
    for message in dict.fromkeys(str(w.message) for w in caught
                                 if issubclass(w.category, NearlySingularInformation)):
        warnings.append(message)
    if vcov is not None and information == "observed" and isinstance(disc, MLDiscrepancy):
        message = identification_message(disc, structure.constraints, result.x,
                                         result.evaluation, result.evaluation_in_z)
        if message is not None:
            warnings.append(message)
    if vcov is not None and (np.diag(vcov) < 0).any():
        warnings.append(
            "some standard errors are NaN: the covariance matrix of the estimates has "
            f"negative variances (smallest {np.diag(vcov).min():.3g}). The model may not be "
            "identified; check for factors without a scale, redundant paths, or empirical "
            "under-identification."
        )
    if test is None:
        return Inference(vcov, None, None)
    base = baseline_test(options.test, structure.discrepancy, structure.partable, sample,
                         what)  # fmt: skip
    return Inference(vcov, test, base)
