"""``sem()`` and ``cfa()``: model text + data + options → :class:`~semnet.results.fit.Fit`."""

from __future__ import annotations

import hashlib
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from semnet import __version__
from semnet.data.moments import (
    GroupMoments,
    group_labels,
    moments_from_frame,
    moments_from_stats,
    validate_frame,
)
from semnet.errors import (
    DataError,
    IdentificationError,
    ModelSpecificationError,
    OptionError,
    SemnetError,
    check_choice,
)
from semnet.estimation.constraints import linear_constraints
from semnet.estimation.ml import MLDiscrepancy
from semnet.estimation.optimize import minimize
from semnet.estimation.start import start_values
from semnet.inference.vcov import SingularInformationError, expected_vcov
from semnet.matrices.ram import Model
from semnet.partable.build import ParTable, check_options, partable
from semnet.results.fit import Fit, FitOptions
from semnet.syntax import parse_model

ESTIMATORS = ("ML", "MLR", "MLM", "GLS", "ULS", "WLSMV", "DWLS", "WLS")
AVAILABLE_ESTIMATORS = ("ML",)
MISSING = ("listwise", "fiml", "ml")
SE_TYPES = ("standard", "robust", "bootstrap", "none")
TESTS = ("standard", "satorra_bentler", "yuan_bentler", "bollen_stine", "none")


class SemnetWarning(UserWarning):
    """Warnings about a fit (negative variances, non-convergence, dropped rows)."""


def read_model(model: str | Path) -> str:
    """Model text from a string or from a path to a model file (``*.lav``)."""
    if isinstance(model, Path):
        return model.read_text(encoding="utf-8")
    if not isinstance(model, str):
        raise ModelSpecificationError(
            f"model must be lavaan model syntax (a string) or a path, not {type(model).__name__}."
        )
    if "\n" not in model and model.strip().endswith((".lav", ".txt")):
        path = Path(model.strip())
        if not path.exists():
            raise ModelSpecificationError(f"model file {str(path)!r} does not exist.")
        return path.read_text(encoding="utf-8")
    return model


def sem(
    model: str | Path,
    data: pd.DataFrame | None = None,
    *,
    group: str | None = None,
    estimator: str = "ML",
    missing: str = "listwise",
    group_equal: Sequence[str] | str = (),
    group_partial: Sequence[str] | str = (),
    std_lv: bool = False,
    meanstructure: bool | None = None,
    orthogonal: bool = False,
    fixed_x: bool = True,
    ordered: Sequence[str] | None = None,
    se: str | None = None,
    test: str | None = None,
    bootstrap: int = 0,
    seed: int | None = None,
    sample_cov: Any = None,
    sample_mean: Any = None,
    sample_nobs: Any = None,
) -> Fit:
    """Fit a structural equation model by maximum likelihood, as lavaan's ``sem()``.

    Parameters
    ----------
    model : str or path
        lavaan model syntax, or the path of a file holding it.
    data : DataFrame, optional
        Raw data (never modified).  Rows with a missing value on a model variable are
        dropped (listwise) and counted in ``fit.n_dropped``.
    group : str, optional
        Column whose values define groups (ordered by first appearance).
    estimator : str
        ``"ML"`` (normal-theory maximum likelihood).
    missing : str
        ``"listwise"``.
    group_equal, group_partial
        Cross-group equality constraints (lavaan's ``group.equal``, ``group.partial``).
    std_lv : bool
        Fix latent variances to 1 instead of the first loadings.
    meanstructure : bool, optional
        Model means and intercepts; default as lavaan (when the syntax has ``~1`` terms
        or there are several groups).
    orthogonal : bool
        Uncorrelated exogenous latent variables.
    fixed_x : bool
        Exogenous observed covariates fixed at their sample moments (lavaan's default).
    sample_cov, sample_mean, sample_nobs
        Summary statistics instead of raw data (``sample_cov`` with divisor N-1, as
        R's ``cov()``; dicts by group label for several groups).

    Returns
    -------
    Fit

    Examples
    --------
    >>> import semnet
    >>> from semnet import datasets
    >>> model = '''
    ... visual  =~ x1 + x2 + x3
    ... textual =~ x4 + x5 + x6
    ... speed   =~ x7 + x8 + x9
    ... '''
    >>> fit = semnet.cfa(model, datasets.holzinger_swineford())
    >>> round(fit.fit_measures()["chisq"], 3)
    85.306
    """
    t0 = time.perf_counter()
    estimator = check_choice("estimator", estimator.upper() if isinstance(estimator, str)
                             else estimator, ESTIMATORS)
    if estimator not in AVAILABLE_ESTIMATORS:
        raise OptionError(
            f"estimator={estimator!r} is not available in this version of semnet; "
            f"use one of {', '.join(AVAILABLE_ESTIMATORS)}."
        )
    missing = check_choice("missing", missing, MISSING)
    if missing != "listwise":
        raise OptionError(
            f"missing={missing!r} (full-information ML) is not available in this version of "
            "semnet; use missing='listwise'."
        )
    se = check_choice("se", se if se is not None else "standard", SE_TYPES)
    test = check_choice("test", test if test is not None else "standard", TESTS)
    if se != "standard" or test != "standard" or bootstrap:
        raise OptionError(
            "only standard SEs (expected information) and the standard chi-square test are "
            "available in this version of semnet; leave se, test and bootstrap at their "
            "defaults."
        )
    if ordered:
        raise OptionError(
            "ordered (ordinal) indicators are not supported yet; treat them as continuous."
        )
    check_options(std_lv, orthogonal, fixed_x)
    del seed

    text = read_model(model)
    parsed = parse_model(text)
    t_parse = time.perf_counter()

    if data is not None and sample_cov is not None:
        raise DataError("give either data or sample_cov, not both.")
    if data is None and sample_cov is None:
        raise DataError("no data: pass a DataFrame as data, or sample_cov and sample_nobs.")

    if data is not None:
        if not isinstance(data, pd.DataFrame):
            validate_frame(data, [], None)
        if group is not None and group not in data.columns:
            validate_frame(data, [], group)
        labels = group_labels(data, group) if group is not None else [""]
    elif isinstance(sample_cov, dict):
        labels = [str(k) for k in sample_cov]
    else:
        labels = [""]

    pt = partable(
        parsed,
        groups=labels,
        meanstructure=meanstructure,
        std_lv=std_lv,
        orthogonal=orthogonal,
        fixed_x=fixed_x,
        group_equal=group_equal,
        group_partial=group_partial,
        missing=missing,
    )
    names = pt.names.ov
    if not names:
        raise ModelSpecificationError("the model has no observed variables.")

    if data is not None:
        frame = validate_frame(data, names, group)
        moments = moments_from_frame(frame, names, group, labels)
        fingerprint = hashlib.sha256(
            pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
        ).hexdigest()
    else:
        if pt.meanstructure and sample_mean is None:
            raise DataError(
                "the model has a mean structure; pass sample_mean together with sample_cov."
            )
        moments = moments_from_stats(sample_cov, sample_mean, sample_nobs, names, labels)
        fingerprint = hashlib.sha256(
            b"".join(m.cov.tobytes() + m.mean.tobytes() for m in moments)
        ).hexdigest()
    t_data = time.perf_counter()

    fit_warnings: list[str] = []
    dropped = sum(m.n_dropped for m in moments)
    if dropped:
        total = dropped + sum(m.nobs for m in moments)
        msg = (
            f"{dropped} of {total} rows were dropped because of missing values on model "
            "variables (listwise deletion)."
        )
        fit_warnings.append(msg)
        warnings.warn(msg, SemnetWarning, stacklevel=2)

    _check_scaling(pt)
    model_ = Model(pt)
    values0 = start_values(pt, moments)
    cons = linear_constraints(pt, model_.nfree, model_.free, values0)
    npar = model_.nfree - cons.n_eq
    _check_df(pt, moments, npar, fixed_x)

    x0 = values0[model_.free_rows][np.argsort(model_.free[model_.free_rows])]
    disc = MLDiscrepancy(model_, moments, values0)
    result = minimize(disc, cons, x0)
    t_opt = time.perf_counter()
    if not np.isfinite(result.f):
        raise SemnetError(
            f"estimation failed: {result.message}. Check the model for unidentified parts, "
            "give start values with start(), or rescale variables with very different variances."
        )
    if not result.converged:
        msg = (
            f"the optimizer did not converge after {result.iterations} iterations "
            f"({result.message}); estimates are not trustworthy. Give better start values, "
            "simplify the model, or rescale the variables."
        )
        fit_warnings.append(msg)
        warnings.warn(msg, SemnetWarning, stacklevel=2)

    values = model_.values(result.x, values0)
    vcov = _vcov(disc, cons, result.x, fit_warnings)
    heywood = _heywood(pt, values)
    fit_warnings.extend(heywood)
    for w in heywood:
        warnings.warn(w, SemnetWarning, stacklevel=2)
    t_end = time.perf_counter()

    options = FitOptions(
        estimator=estimator,
        missing=missing,
        group=group,
        group_equal=tuple([group_equal] if isinstance(group_equal, str) else group_equal),
        group_partial=tuple([group_partial] if isinstance(group_partial, str) else group_partial),
        std_lv=std_lv,
        meanstructure=pt.meanstructure,
        orthogonal=orthogonal,
        fixed_x=fixed_x,
    )
    meta = {
        "semnet_version": __version__,
        "data_sha256": fingerprint,
        "timings": {
            "parse": t_parse - t0,
            "data": t_data - t_parse,
            "optimize": t_opt - t_data,
            "total": t_end - t0,
        },
    }
    return Fit(
        partable=pt,
        model=model_,
        moments=tuple(moments),
        options=options,
        constraints=cons,
        x=result.x,
        values=values,
        fmin=result.f,
        vcov_free=vcov,
        converged=result.converged,
        iterations=result.iterations,
        message=result.message,
        warnings=tuple(fit_warnings),
        meta=meta,
    )


def cfa(model: str | Path, data: pd.DataFrame | None = None, **kwargs: Any) -> Fit:
    """Confirmatory factor analysis, as lavaan's ``cfa()`` (same defaults as :func:`sem`).

    Examples
    --------
    >>> import semnet
    >>> fit = semnet.cfa("f =~ x1 + x2 + x3", semnet.datasets.holzinger_swineford())
    >>> fit.converged
    True
    """
    return sem(model, data, **kwargs)


def _check_scaling(pt: ParTable) -> None:
    params = pt.params
    for g in range(1, pt.ngroups + 1):
        rows = params[params["group"] == g]
        for f in pt.names.lv:
            load = rows[(rows["op"] == "=~") & (rows["lhs"] == f)]
            var = rows[(rows["op"] == "~~") & (rows["lhs"] == f) & (rows["rhs"] == f)]
            fixed_load = ((load["free"] == 0) & (load["ustart"].fillna(0) != 0)).any()
            # loadings tied to other groups' (or other) loadings borrow their scale
            fixed_load = fixed_load or (load["label"] != "").any()
            fixed_var = (var["free"] == 0).any() if len(var) else True
            if not fixed_load and not fixed_var:
                raise IdentificationError(
                    f"the latent variable {f!r} has no scale: all its loadings and its "
                    f"variance are free. Fix one loading (e.g. '{f} =~ 1*"
                    f"{load['rhs'].iloc[0]} + ...'), fix its variance ('{f} ~~ 1*{f}'), or "
                    "pass std_lv=True."
                )


def _check_df(pt: ParTable, moments: Sequence[GroupMoments], npar: int, fixed_x: bool) -> None:
    nx = len(pt.names.ov_x) if fixed_x else 0
    ndat = 0
    for m in moments:
        p = len(m.names)
        ndat += p * (p + 1) // 2 - nx * (nx + 1) // 2 + ((p - nx) if pt.meanstructure else 0)
    if ndat - npar < 0:
        hint = ""
        params = pt.params
        for f in pt.names.lv:
            k = int(((params["op"] == "=~") & (params["lhs"] == f) & (params["group"] == 1)).sum())
            if k <= 2:
                hint = (
                    f" The factor {f!r} has only {k} indicator(s): add a third indicator, "
                    f"constrain its loadings equal (e.g. '{f} =~ a*x1 + a*x2'), or let it "
                    "correlate with other factors."
                )
                break
        raise IdentificationError(
            f"the model is not identified: it has {npar} free parameters but the data "
            f"provide only {ndat} moments (df = {ndat - npar}). Fix or constrain "
            f"{npar - ndat} parameter(s)." + hint
        )


def _vcov(disc: MLDiscrepancy, cons, x: np.ndarray, fit_warnings: list[str]) -> np.ndarray | None:
    try:
        return expected_vcov(disc, cons, x)
    except SingularInformationError as exc:
        msg = (
            "standard errors could not be computed: the information matrix is singular "
            f"(smallest eigenvalue {exc.smallest:.3g}). The model may not be identified; check "
            "for factors without a scale, redundant paths, or empirical under-identification."
        )
        fit_warnings.append(msg)
        warnings.warn(msg, SemnetWarning, stacklevel=3)
        return None


def _heywood(pt: ParTable, values: np.ndarray) -> list[str]:
    params = pt.params
    var_rows = (params["op"] == "~~") & (params["lhs"] == params["rhs"])
    neg = params[var_rows & (values < 0)]
    out = []
    for kind, names in (("observed", set(pt.names.ov)), ("latent", set(pt.names.lv))):
        bad = neg[neg["lhs"].isin(names)]
        if len(bad):
            out.append(
                f"some estimated {kind} variances are negative ({', '.join(bad['lhs'])}): a "
                "Heywood case. Check for a misspecified model, too few indicators, or too "
                "small a sample."
            )
    return out
