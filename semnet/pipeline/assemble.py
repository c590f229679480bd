"""Step 9 of a fit: the immutable :class:`~semnet.results.fit.Fit`, its record, and the
resampling plug-ins (bootstrap standard errors, the Bollen–Stine test) where the
options name them."""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from semnet._version import __version__
from semnet.analyses.bootstrap import bootstrap
from semnet.data.missing import CovariateDeletion
from semnet.data.sample import Sample
from semnet.errors import warn
from semnet.estimation.constraints import ParameterNames
from semnet.estimation.dwls import ordinal_values
from semnet.estimation.optimize import OptimizeResult
from semnet.inference.plugins import TESTS, VCOV
from semnet.options import Options
from semnet.partable.build import ParTable
from semnet.pipeline.infer import Inference
from semnet.pipeline.messages import Messages
from semnet.pipeline.structure import Structure, heywood
from semnet.results.fit import Fit


def sample_warnings(sample: Sample, options: Options) -> list[str]:
    """What the sample step tells the user: options that one group leaves without
    effect, rows dropped and why."""
    ignored = _single_group_options(sample, options) if len(sample.moments) == 1 else []
    dropped = sample.n_dropped
    if not dropped:
        return ignored
    return ignored + _dropped_rows(sample, options, dropped)


def _single_group_options(sample: Sample, options: Options) -> list[str]:
    """The group options a fit of one group ignores (as lavaan, silently there)."""
    out = []
    if options.group is not None and sample.moments[0].label == "":  # (no group label)
        out.append(
            f"group={options.group!r} is ignored: sample_cov is one matrix, so there is one "
            "group; for several groups pass sample_cov, sample_nobs (and sample_mean) as "
            "dicts by group label."
        )
    settings = [f"group_equal={list(options.group_equal)!r}"] if options.group_equal else []
    settings += [f"group_partial={list(options.group_partial)!r}"] if options.group_partial else []
    if settings:
        out.append(
            f"{' and '.join(settings)} has no effect: the fit has one group. Pass group= the "
            "column of the groups to constrain them equal."
        )
    return out


def _dropped_rows(sample: Sample, options: Options, dropped: int) -> list[str]:
    """Why ``dropped`` rows were dropped."""
    total = dropped + sample.ntotal
    if options.missing == "pairwise":
        return [
            f"{dropped} of {total} rows were dropped because they are missing on every "
            "model variable."
        ]
    if options.incomplete_data:
        deleted = () if sample.fiml is None else sample.fiml.deleted
        out = [covariate_message(deleted, total)] if any(d.n for d in deleted) else []
        empty = dropped - sum(d.n for d in deleted)
        if empty:
            out.append(f"{empty} of {total} rows were dropped because they are missing on "
                       "every model variable.")  # fmt: skip
        return out
    return [
        f"{dropped} of {total} rows were dropped because of missing values on model "
        "variables (listwise deletion)."
    ]


def covariate_message(deleted: Sequence[CovariateDeletion], total: int) -> str:
    """The warning for the cases FIML deleted because a ``fixed.x`` covariate is missing
    (lavaan's: "N cases were deleted due to missing values in exogenous variable(s),
    while fixed.x = TRUE"), with the counts per covariate and group."""
    n = sum(d.n for d in deleted)
    counts: dict[str, int] = {}
    for d in deleted:
        for v, c in d.missing:
            counts[v] = counts.get(v, 0) + c
    which = ", ".join(f"{v} {c}" for v, c in counts.items())
    groups = ""
    if len(deleted) > 1:
        groups = " By group: " + ", ".join(f"{d.label} {d.n}" for d in deleted) + "."
    return (
        f"{n} of {total} rows were deleted because they are missing on a fixed.x "
        f"covariate (missing values: {which}).{groups} FIML conditions on the covariates "
        "and cannot use these rows, as lavaan's missing='ml' with fixed.x=TRUE. To keep "
        "them pass missing='fiml.x' (lavaan's 'ml.x': the covariates' missing values enter "
        "the likelihood) or fixed_x=False (the covariates become random variables)."
    )


def non_finite_definitions(pt: ParTable, values: np.ndarray) -> list[str]:
    """A message when a ``:=`` parameter is not finite at the estimates."""
    names = [c.lhs for c in pt.constraints if c.op == ":="]
    if not names:
        return []
    with np.errstate(all="ignore"):
        defined = ParameterNames(pt).defined(values)
    bad = [f"{n} ({v})" for n, v in zip(names, defined, strict=True) if not np.isfinite(v)]
    if not bad:
        return []
    return [
        f"defined parameter(s) {', '.join(bad)} are not finite at the estimates; check the "
        ":= expressions (e.g. log or sqrt of a negative value, or a division by zero)."
    ]


def settled_options(options: Options, meanstructure: bool) -> Options:
    """``options`` with the ``meanstructure`` the parameter table settled: equal to
    ``dataclasses.replace(options, meanstructure=meanstructure)``, made as a shallow
    copy of its fields (``replace`` passes every field through the frozen dataclass's
    ``__init__`` again: a third of the time of this step for a small model).

    Examples
    --------
    >>> from semnet.options import Options
    >>> settled_options(Options(meanstructure=None), False).meanstructure
    False
    """
    if options.meanstructure is meanstructure:
        return options
    out = object.__new__(type(options))
    fields = out.__dict__
    fields.update(vars(options))
    fields["meanstructure"] = meanstructure
    return out


def assemble(
    structure: Structure,
    sample: Sample,
    options: Options,
    result: OptimizeResult,
    inference: Inference,
    warnings: Messages,
    record: dict[str, Any],
) -> Fit:
    """The fit, with the results of the resampling plug-ins the options name
    (:func:`resampled`); ``record`` holds the product terms built (``interaction``) and
    the ``timings``."""
    values = ordinal_values(structure.model, structure.model.values(result.x, structure.start))
    warnings.extend(heywood(structure.partable, values))
    warnings.extend(non_finite_definitions(structure.partable, values))
    fit = Fit(
        partable=structure.partable,
        model=structure.model,
        sample=sample,
        options=settled_options(options, structure.partable.meanstructure),
        constraints=structure.constraints,
        x=result.x,
        values=values,
        fmin=result.f,
        vcov_free=inference.vcov,
        scaled_test=inference.test,
        baseline_scaled_test=inference.baseline_test,
        converged=result.converged,
        iterations=result.iterations,
        message=result.message,
        warnings=tuple(warnings),
        record={
            "semnet_version": __version__,
            "interaction": record["interaction"],
            "data_sha256": sample.fingerprint,
            "optimizer": result.method,
            "timings": record["timings"],
        },
    )
    return resampled(fit, options)


def resampled(fit: Fit, options: Options) -> Fit:
    """The fit with the results of its resampling plug-ins attached (a new Fit), or
    ``fit`` when its ``se`` and ``test`` need no draws.

    One bootstrap (``options.bootstrap`` draws, ``options.seed``) serves them all.  Its
    type is the test's where the test resamples, else the vcov's: as lavaan, whose
    ``se = "bootstrap"`` with ``test = "bollen.stine"`` takes its standard errors from
    the Bollen–Stine draws.
    """
    plugins = [VCOV.get(options.se).resampling, TESTS.get(options.test).resampling]
    hooks = [p for p in plugins[::-1] if p is not None]
    if not hooks:
        return fit
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        boot = bootstrap(fit, n=options.bootstrap, seed=options.seed, ci="percentile",
                         type=hooks[0].type)  # fmt: skip
    messages = tuple(str(w.message) for w in caught)
    for msg in messages:
        warn(msg)
    for hook in hooks:
        fit = hook.attach(fit, boot)
    return replace(fit, warnings=fit.warnings + messages)
