"""``sem()`` and ``cfa()``: model text + data + options → :class:`~semnet.results.fit.Fit`."""

from __future__ import annotations

import hashlib
import itertools
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from semnet import __version__
from semnet.data.moments import (
    GroupMoments,
    group_labels,
    moments_from_data,
    moments_from_stats,
    numeric_data,
    validate_frame,
)
from semnet.errors import (
    DataError,
    IdentificationError,
    ModelSpecificationError,
    OptionError,
    SemnetError,
    check_choice,
    warn,
)
from semnet.estimation.constraints import linear_constraints
from semnet.estimation.fiml import FIMLDiscrepancy, fiml_data, one_blas_thread
from semnet.estimation.ml import MLDiscrepancy
from semnet.estimation.optimize import minimize
from semnet.estimation.start import start_values
from semnet.inference.robust import (
    constrained_inverse,
    independence_mlr,
    observed_information,
)
from semnet.inference.robust import mlm as robust_mlm
from semnet.inference.robust import mlmv as robust_mlmv
from semnet.inference.robust import mlr as robust_mlr
from semnet.inference.vcov import SingularInformationError, expected_vcov, tangent_basis
from semnet.matrices.ram import Model
from semnet.moments import SampleMoments
from semnet.partable.build import ParTable, check_options, partable
from semnet.results.fit import Fit, FitOptions
from semnet.results.fit_measures import MissingDataInput
from semnet.syntax import parse_model
from semnet.syntax.model import ParsedModel, Relation

if TYPE_CHECKING:
    from semnet.estimation.lms import LMSResult

ESTIMATORS = ("ML", "MLR", "MLM", "MLMV", "GLS", "ULS", "WLSMV", "DWLS", "WLS")
INTERACTIONS = ("lms", "double_mean", "mean", "residual")
AVAILABLE_ESTIMATORS = ("ML", "MLR", "MLM", "MLMV")
MISSING = ("listwise", "fiml", "ml")
SE_TYPES = ("standard", "robust_sem", "robust_huber_white")
TESTS = ("standard", "satorra_bentler", "yuan_bentler_mplus", "scaled_shifted")
#: estimator presets: (se, test), as lavaan's
PRESETS = {
    "ML": ("standard", "standard"),
    "MLM": ("robust_sem", "satorra_bentler"),
    "MLR": ("robust_huber_white", "yuan_bentler_mplus"),
    "MLMV": ("robust_sem", "scaled_shifted"),
}
#: the robust test statistics: what computes them (see semnet.inference.robust)
TEST_KINDS = {"satorra_bentler": "mlm", "yuan_bentler_mplus": "mlr", "scaled_shifted": "mlmv"}


def read_model(model: str | Path) -> str:
    """Model text from a string or from a path to a model file (``*.lav``)."""
    if isinstance(model, str) and "\n" not in model and model.strip().endswith((".lav", ".txt")):
        model = Path(model.strip())
    if isinstance(model, Path):
        if not model.is_file():
            raise ModelSpecificationError(
                f"model file {str(model)!r} does not exist (looked in {str(Path.cwd())!r}); "
                "check the path, or pass the model syntax itself as a string."
            )
        return model.read_text(encoding="utf-8")
    if not isinstance(model, str):
        raise ModelSpecificationError(
            f"model must be lavaan model syntax (a string) or a path, not {type(model).__name__}."
        )
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
    interaction: str | None = None,
    interaction_match: bool | None = None,
) -> Fit | LMSResult:
    """Fit a structural equation model by maximum likelihood, as lavaan's ``sem()``.

    Parameters
    ----------
    model : str or path
        lavaan model syntax, or the path of a file holding it.
    data : DataFrame or SampleMoments, optional
        Raw data (never modified).  Rows with a missing value on a model variable are
        dropped (listwise) and counted in ``fit.n_dropped``.  Or sample moments from
        :func:`semnet.moments.from_dask` / :func:`semnet.moments.from_frame` (their
        groups are the fit's groups; with ``fourth=True`` also for MLR and MLM).
    group : str, optional
        Column whose values define groups (ordered by first appearance).
    estimator : str
        ``"ML"`` (normal-theory maximum likelihood), ``"MLR"`` (ML with Huber-White
        SEs and the Yuan-Bentler scaled test), ``"MLM"`` (robust SEs and the
        Satorra-Bentler scaled test) or ``"MLMV"`` (robust SEs and the
        mean-and-variance adjusted, scaled-shifted test), as lavaan's presets.
    missing : str
        ``"listwise"`` or ``"fiml"`` (alias ``"ml"``): full-information ML.
    se, test : str, optional
        Override the estimator's preset: ``se`` in ``"standard"``, ``"robust_sem"``,
        ``"robust_huber_white"``, ``"bootstrap"``; ``test`` in ``"standard"``,
        ``"satorra_bentler"``, ``"yuan_bentler_mplus"``, ``"scaled_shifted"`` (lavaan's
        dotted names are accepted).
    bootstrap : int
        Number of bootstrap draws for bootstrap standard errors (lavaan's
        ``se = "bootstrap", bootstrap = N``; ``se="bootstrap"`` alone draws 1000).  The
        fit's ``vcov_free`` is then the covariance matrix of the draws (divisor ``N``),
        ``estimates()`` has bootstrap SEs and percentile intervals, as lavaan's
        ``parameterEstimates()`` (see :meth:`~semnet.results.fit.Fit.with_bootstrap`); the draws
        are in ``fit.bootstrap`` (see :func:`semnet.bootstrap`).  The test statistic is
        not affected.
    seed : int, optional
        Seed of the bootstrap resampling (the same seed gives the same draws).
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
    interaction : str, optional
        How a latent product term ``y ~ a:b`` is estimated: ``"lms"`` (latent moderated
        structural equations, Klein & Moosbrugger 2000; returns an
        :class:`~semnet.estimation.lms.LMSResult`), or product indicators built from the
        indicators of ``a`` and ``b`` measuring a latent ``a:b`` (``"double_mean"``
        centring, ``"mean"``, ``"residual"``).  Default: LMS where it applies (raw data,
        ML, listwise, one group; several groups with ``interaction="lms"``), otherwise
        double-mean product indicators.  A product
        of two observed variables is always their raw product, as in lavaan.
    interaction_match : bool, optional
        Matched pairs of indicators (default when both factors have as many
        indicators; with unequal numbers the first ones are paired and the extra
        indicators enter no product) or all pairs, whose products sharing an indicator
        get correlated residuals.

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
    missing = check_choice(
        "missing", missing.lower() if isinstance(missing, str) else missing, MISSING
    )
    fiml = missing in ("fiml", "ml")
    preset_se, preset_test = PRESETS[estimator]
    test = check_choice("test", _norm(test) if test is not None else preset_test, TESTS)
    n_boot = _bootstrap_draws(bootstrap, se)
    if n_boot:
        se = None  # the point estimates' own inference runs with the preset
    if ordered:
        raise OptionError(
            "ordered (ordinal) indicators are not supported yet; treat them as continuous."
        )
    check_options(std_lv, orthogonal, fixed_x)
    se = check_choice("se", _norm(se) if se is not None else preset_se, SE_TYPES)
    summary = data if isinstance(data, SampleMoments) else None
    if summary is not None:
        _check_summary(summary, group, sample_cov)
        data, group = None, summary.group

    parsed = model if isinstance(model, ParsedModel) else parse_model(read_model(model))
    product_terms = [r for r in parsed.relations if r.op == "~" and ":" in r.rhs]
    has_products = False
    if product_terms:
        latent_names = {r.lhs for r in parsed.relations if r.op == "=~"}
        has_products = any(set(r.rhs.split(":")) <= latent_names for r in product_terms)
    lms_possible = (
        data is not None and estimator == "ML" and se == "standard"
        and test == "standard" and missing == "listwise" and not n_boot
    )  # fmt: skip
    if interaction is None:
        interaction = "lms" if lms_possible and group is None else "double_mean"
    interaction = check_choice("interaction", interaction, INTERACTIONS)
    if has_products and interaction == "lms":
        if not lms_possible:
            raise OptionError(
                "interaction='lms' needs raw data, estimator='ML', missing='listwise' and "
                "no bootstrap; use interaction='double_mean' (product indicators) otherwise."
            )
        from semnet.estimation.lms import lms

        return lms(
            parsed, data, group=group, group_equal=group_equal, group_partial=group_partial,
            std_lv=std_lv, orthogonal=orthogonal, fixed_x=fixed_x,
        )  # fmt: skip
    products_info: dict[str, object] = {}
    observed_products: tuple[str, ...] = ()
    if product_terms:
        if data is None:
            raise DataError(
                "models with product terms ('a:b') need the raw data to build the products."
            )
        parsed, data, products_info, observed_products = expand_products(
            parsed, data, interaction, interaction_match
        )
    t_parse = time.perf_counter()

    if data is not None and sample_cov is not None:
        raise DataError("give either data or sample_cov, not both.")
    if data is None and sample_cov is None and summary is None:
        raise DataError("no data: pass a DataFrame as data, or sample_cov and sample_nobs.")

    if data is not None:
        if not isinstance(data, pd.DataFrame):
            validate_frame(data, [], None)
        if group is not None and group not in data.columns:
            validate_frame(data, [], group)
        labels = group_labels(data, group) if group is not None else [""]
    elif summary is not None:
        labels = list(summary.groups)
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
        observed_products=observed_products,
    )
    names = pt.names.ov
    if not names:
        raise ModelSpecificationError("the model has no observed variables.")

    patterns = None
    if fiml and data is None:
        raise DataError("missing='fiml' needs the raw data; sample statistics are complete.")
    if fiml:
        if fixed_x and pt.names.ov_x:
            raise OptionError(
                f"missing='fiml' with fixed.x covariates ({', '.join(pt.names.ov_x)}) is not "
                "available yet; pass fixed_x=False to model the covariates (and their "
                "missing values) as random variables."
            )
        if {se, test} & {"robust_sem", "satorra_bentler", "scaled_shifted"}:
            raise OptionError(
                f"estimator={estimator!r} (se={se!r}, test={test!r}) needs complete data; "
                "with missing='fiml' use estimator='MLR', as lavaan does."
            )
        checked = numeric_data(data, names, group)
        blocks = [
            (lab, checked.values if group is None else checked.values[checked.groups == lab])
            for lab in labels
        ]
        fdata = fiml_data(blocks, names)
        moments, patterns = list(fdata.moments), fdata.patterns
        fingerprint = None  # raw data: the fit hashes the rows on first use (Fit.meta)
    elif data is not None:
        moments = moments_from_data(numeric_data(data, names, group), labels)
        fingerprint = None
    elif summary is not None:
        moments = summary.group_moments(names)
        fingerprint = summary.fingerprint
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
    if dropped and fiml:
        total = dropped + sum(m.nobs for m in moments)
        msg = (
            f"{dropped} of {total} rows were dropped because they are missing on every "
            "model variable."
        )
        fit_warnings.append(msg)
        warn(msg)
    elif dropped:
        total = dropped + sum(m.nobs for m in moments)
        msg = (
            f"{dropped} of {total} rows were dropped because of missing values on model "
            "variables (listwise deletion)."
        )
        fit_warnings.append(msg)
        warn(msg)

    _check_scaling(pt)
    model_ = Model(pt)
    values0 = start_values(pt, moments)
    cons = linear_constraints(pt, model_.nfree, model_.free, values0)
    npar = model_.nfree - cons.n_eq
    _check_df(pt, npar, fixed_x)

    # partable numbers the free rows 1, 2, ... in row order: x0 needs no sort by number
    x0 = values0[model_.free_rows]
    if fiml:
        disc = FIMLDiscrepancy(
            model_, moments, values0, patterns, float(fdata.logl_h1.sum()),
            exact_information=False,
        )
    else:
        disc = MLDiscrepancy(model_, moments, values0)
    # the optimizer's steps are small matrix products, as FIML's (see one_blas_thread):
    # BLAS threads only slow them down, badly on a busy machine; below 20 observed
    # variables the products are too small for BLAS to thread at all
    threads = one_blas_thread if fiml or model_.p >= 20 else _as_is
    result = threads(minimize)(disc, cons, x0)
    t_opt = time.perf_counter()
    if not math.isfinite(result.f):
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
        warn(msg)

    values = model_.values(result.x, values0)
    missing_info = None
    if fiml:
        scaled = baseline_scaled = None
        if se == "standard":
            vcov = _observed_vcov(disc, cons, result.x, fit_warnings)
        if "yuan_bentler_mplus" in (se, test) or se == "robust_huber_white":
            df = pt.ndat(fixed_x) - (model_.nfree - cons.n_eq)
            T = tangent_basis(cons, result.x)
            vcov_r, scaled = robust_mlr(disc, result.x, T, df, model_.nfree)
            if se == "robust_huber_white":
                vcov = vcov_r
            if test == "standard":
                scaled = None
            else:
                baseline_scaled = _baseline_test(pt, moments, "mlr", fdata)
        logl_h1 = float(fdata.logl_h1.sum())
        missing_info = MissingDataInput(
            logl=logl_h1 - disc.ntotal * result.f,
            unrestricted_logl=logl_h1,
            baseline_chisq=2.0 * (logl_h1 - float(fdata.baseline_logl.sum())),
        )
    else:
        vcov, scaled, baseline_scaled = threads(_inference)(
            disc, cons, result.x, se, test, pt, moments, fixed_x, fit_warnings,
            result.evaluation,
        )
    heywood = _heywood(pt, values)
    fit_warnings.extend(heywood)
    for w in heywood:
        warn(w)
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
        se=se,
        information="observed" if se == "robust_huber_white" else "expected",
        test=test,
    )
    record = {
        "semnet_version": __version__,
        "interaction": products_info,
        "data_sha256": fingerprint,
        "optimizer": result.method,
        "timings": {
            "parse": t_parse - t0,
            "data": t_data - t_parse,
            "optimize": t_opt - t_data,
            "total": t_end - t0,
        },
    }
    fit = Fit(
        partable=pt,
        model=model_,
        moments=tuple(moments),
        options=options,
        constraints=cons,
        x=result.x,
        values=values,
        fmin=result.f,
        vcov_free=vcov,
        scaled_test=scaled,
        baseline_scaled_test=baseline_scaled,
        missing_info=missing_info,
        patterns=patterns,
        converged=result.converged,
        iterations=result.iterations,
        message=result.message,
        warnings=tuple(fit_warnings),
        record=record,
    )
    return _bootstrapped(fit, n_boot, seed) if n_boot else fit


#: lavaan's default number of draws for se = "bootstrap"
DEFAULT_BOOTSTRAP = 1000


_INTEGERS = (int, np.integer)  # (a tuple: ``int | np.integer`` builds a new union per call)


def _bootstrap_draws(bootstrap: object, se: object) -> int:
    """The number of bootstrap draws that ``bootstrap=`` and ``se=`` ask for (0: none)."""
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, _INTEGERS) or bootstrap < 0:
        raise OptionError(
            f"bootstrap must be a number of draws (an integer >= 0), not {bootstrap!r}."
        )
    wants = se is not None and _norm(se) == "bootstrap"
    if bootstrap and se is not None and not wants:
        raise OptionError(
            f"bootstrap={bootstrap} asks for bootstrap standard errors, but se={se!r} asks "
            "for others; drop se=, or pass se='bootstrap'."
        )
    return int(bootstrap) if bootstrap else (DEFAULT_BOOTSTRAP if wants else 0)


def _bootstrapped(fit: Fit, n: int, seed: int | None) -> Fit:
    """The fit with bootstrap standard errors and intervals attached (a new Fit)."""
    import warnings

    from semnet.analyses.bootstrap import bootstrap

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        boot = bootstrap(fit, n=n, seed=seed, ci="percentile")
    messages = [str(w.message) for w in caught]
    for msg in messages:
        warn(msg)
    return fit.with_bootstrap(boot, warnings=messages)


def _check_summary(summary: SampleMoments, group: str | None, sample_cov: Any) -> None:
    """Sample moments given as ``data``: check that nothing contradicts them."""
    if sample_cov is not None:
        raise DataError("give either sample moments as data or sample_cov, not both.")
    if group is not None and group != summary.group:
        raise DataError(
            f"group={group!r} but the sample moments were split by "
            f"{summary.group!r}; recompute them with group={group!r} (or leave group out: "
            "the moments' own groups are used)."
        )


def _norm(name: object) -> object:
    return name.replace(".", "_").lower() if isinstance(name, str) else name


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
    params = pt.cols
    lv = set(pt.names.lv)
    # per (group, latent variable), from one pass over the rows as plain lists
    first: dict[tuple[int, str], str] = {}  # its first indicator
    scaled: set[tuple[int, str]] = set()  # a loading gives it a scale
    variance: dict[tuple[int, str], bool] = {}  # it has a variance row: is that fixed?
    for g, o, f, x, free, u, label in zip(
        params["group"].tolist(), params["op"].tolist(), params["lhs"].tolist(),
        params["rhs"].tolist(), params["free"].tolist(), params["ustart"].tolist(),
        params["label"].tolist(), strict=True,
    ):  # fmt: skip
        if f not in lv:
            continue
        if o == "=~":
            first.setdefault((g, f), x)
            # a fixed non-zero loading, or loadings tied to others, give the scale
            if (free == 0 and not math.isnan(u) and u != 0) or label != "":
                scaled.add((g, f))
        elif o == "~~" and x == f:
            variance[g, f] = variance.get((g, f), False) or free == 0
    for g in range(1, pt.ngroups + 1):
        for f in pt.names.lv:
            if (g, f) not in scaled and variance.get((g, f)) is False:
                raise IdentificationError(
                    f"the latent variable {f!r} has no scale: all its loadings and its "
                    f"variance are free. Fix one loading (e.g. '{f} =~ 1*{first[g, f]} + ...'), "
                    f"fix its variance ('{f} ~~ 1*{f}'), or pass std_lv=True."
                )


def _check_df(pt: ParTable, npar: int, fixed_x: bool) -> None:
    ndat = pt.ndat(fixed_x)
    if ndat - npar < 0:
        hint = ""
        params = pt.cols
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


def _as_is(func: Callable) -> Callable:
    """No BLAS thread limit (the counterpart of one_blas_thread)."""
    return func


def _inference(disc, cons, x, se, test, pt, moments, fixed_x, fit_warnings, evaluation=None):
    """vcov of the free parameters, the scaled test and the baseline's scaled test
    (``evaluation``: the optimizer's evaluation at ``x``, when it has one)."""
    robust = {se, test} - {"standard"}
    if robust and fixed_x and pt.names.ov_x:
        raise OptionError(
            f"robust standard errors and tests with fixed.x covariates "
            f"({', '.join(pt.names.ov_x)}) are not available yet; pass fixed_x=False to "
            "treat the covariates as random variables, or use estimator='ML'."
        )
    npar = disc.model.nfree - cons.n_eq
    df = pt.ndat(fixed_x) - npar
    try:
        T = tangent_basis(cons, x)
        outputs = {}
        if test == "scaled_shifted":
            outputs["mlmv"] = robust_mlmv(disc, x, T, df)
        if test == "satorra_bentler" or (se == "robust_sem" and test != "scaled_shifted"):
            outputs["mlm"] = robust_mlm(disc, x, T, df)
        if "robust_huber_white" in robust or "yuan_bentler_mplus" in robust:
            outputs["mlr"] = robust_mlr(disc, x, T, df, disc.model.nfree)
        if se == "standard":
            vcov = expected_vcov(disc, cons, x, evaluation)
        elif se == "robust_sem":
            vcov = outputs["mlmv" if "mlmv" in outputs else "mlm"][0]
        else:
            vcov = outputs["mlr"][0]
    except (SingularInformationError, np.linalg.LinAlgError) as exc:
        smallest = getattr(exc, "smallest", float("nan"))
        msg = (
            "standard errors could not be computed: the information matrix is singular "
            f"(smallest eigenvalue {smallest:.3g}). The model may not be identified; check "
            "for factors without a scale, redundant paths, or empirical under-identification."
        )
        fit_warnings.append(msg)
        warn(msg)
        return None, None, None
    if test == "standard":
        return vcov, None, None
    kind = TEST_KINDS[test]
    scaled = outputs[kind][1]
    return vcov, scaled, _baseline_test(pt, moments, kind)


def _observed_vcov(disc, cons, x, fit_warnings) -> np.ndarray | None:
    """vcov from the observed information (lavaan's default with missing data)."""
    try:
        T = tangent_basis(cons, x)
        return constrained_inverse(observed_information(disc, x), T) / disc.ntotal
    except np.linalg.LinAlgError:
        msg = (
            "standard errors could not be computed: the observed information matrix is "
            "singular. The model may not be identified, or the data carry too little "
            "information (many missing values)."
        )
        fit_warnings.append(msg)
        warn(msg)
        return None


def _baseline_test(pt: ParTable, moments: Sequence[GroupMoments], kind: str, fdata=None):
    """The scaled test of the independence (baseline) model, at its closed-form MLE
    (with incomplete data: each variable's mean and variance over its observed values)."""
    if kind == "mlr" and fdata is None:
        return independence_mlr(moments, pt.meanstructure)
    names = pt.names.ov
    text = "\n".join(f"{v} ~~ {v}" for v in names)
    base = partable(text, groups=list(pt.groups), meanstructure=pt.meanstructure)
    model = Model(base)
    values = np.zeros(len(base.params))
    params = base.params
    for r, (lhs, op, g) in enumerate(zip(params["lhs"], params["op"], params["group"],
                                         strict=True)):
        mom = moments[int(g) - 1]
        k = mom.names.index(lhs)
        if fdata is None:
            values[r] = mom.cov[k, k] if op == "~~" else mom.mean[k]
        else:
            values[r] = (fdata.baseline_var if op == "~~" else fdata.baseline_mean)[
                int(g) - 1
            ][k]
    x = values[model.free_rows]
    if fdata is None:
        disc = MLDiscrepancy(model, moments, values)
    else:
        disc = FIMLDiscrepancy(
            model, moments, values, fdata.patterns, float(fdata.logl_h1.sum())
        )
    df = base.ndat(False) - model.nfree
    T = np.eye(model.nfree)
    if kind == "mlm":
        return robust_mlm(disc, x, T, df)[1]
    if kind == "mlmv":
        return robust_mlmv(disc, x, T, df)[1]
    return robust_mlr(disc, x, T, df, model.nfree)[1]


def _heywood(pt: ParTable, values: np.ndarray) -> list[str]:
    params = pt.cols
    lhs, op, rhs = params["lhs"], params["op"], params["rhs"]
    # the negative variances, in row order (a loop over the few negative values only)
    negative = [
        lhs[r] for r in (values < 0).nonzero()[0].tolist() if op[r] == "~~" and lhs[r] == rhs[r]
    ]
    out = []
    for kind, names in (("observed", pt.names.ov), ("latent", pt.names.lv)):
        bad = [v for v in dict.fromkeys(negative) if v in names]
        if bad:
            out.append(
                f"some estimated {kind} variances are negative ({', '.join(bad)}): a "
                "Heywood case. Check for a misspecified model, too few indicators, or too "
                "small a sample."
            )
    return out


def expand_products(
    parsed: ParsedModel, data: pd.DataFrame, method: str, match: bool | None
) -> tuple[ParsedModel, pd.DataFrame, dict[str, object], tuple[str, ...]]:
    """Replace product terms ``a:b`` by what estimates them.

    Latent x latent: product indicators of the two factors' indicators (see
    :func:`semnet.analyses.products.product_indicators`) measure a latent ``a:b``
    (first loading fixed to 1; products sharing an indicator get correlated residuals).
    Observed x observed: the raw product column ``a:b``, as lavaan computes it.
    Returns the new parsed model, a copy of the data with the product columns, a
    description of what was built, and the observed product names.
    """
    from semnet.analyses.products import product_indicators

    validate_frame(data, [], None)
    indicators: dict[str, list[str]] = {}
    for r in parsed.relations:
        if r.op == "=~":
            indicators.setdefault(r.lhs, []).append(r.rhs)
    latent = set(indicators)
    terms = list(dict.fromkeys(r.rhs for r in parsed.relations if r.op == "~" and ":" in r.rhs))
    relations = list(parsed.relations)
    data = data.copy()
    info: dict[str, object] = {}
    observed: list[str] = []
    for term in terms:
        parts = term.split(":")
        line = next(r.line for r in parsed.relations if r.rhs == term)
        if len(parts) != 2:
            raise ModelSpecificationError(
                f"line {line}: '{term}' has more than two factors; semnet estimates two-way "
                "interactions."
            )
        a, b = parts
        if a in latent and b in latent:
            xs = [v for v in indicators[a] if v not in latent]
            zs = [v for v in indicators[b] if v not in latent]
            matched = len(xs) == len(zs) if match is None else match
            if matched:
                # with unequal numbers, the first indicators are paired and the extra
                # indicators of the longer factor enter no product
                k = min(len(xs), len(zs))
                xs, zs = xs[:k], zs[:k]
            pairs = list(zip(xs, zs, strict=True)) if matched else [(x, z) for x in xs for z in zs]
            names = [f"{x}.{z}" for x, z in pairs]
            data = product_indicators(data, xs, zs, method=method, match=matched, names=names)
            relations += [Relation(term, "=~", n, line=line) for n in names]
            for (p1, n1), (p2, n2) in itertools.combinations(zip(pairs, names, strict=True), 2):
                if set(p1) & set(p2):
                    relations.append(Relation(n1, "~~", n2, line=line))
            info[term] = {"method": method, "matched": matched, "indicators": names}
        elif a not in latent and b not in latent:
            for v in (a, b):
                if v not in data.columns:
                    raise DataError(f"'{v}' in the product term '{term}' is not a column.")
            data[term] = pd.to_numeric(data[a], errors="coerce") * pd.to_numeric(
                data[b], errors="coerce"
            )
            observed.append(term)
            info[term] = {"method": "observed product"}
        else:
            raise ModelSpecificationError(
                f"line {line}: '{term}' multiplies a latent and an observed variable; make the "
                "observed one a single-indicator factor (e.g. 'f_x =~ x')."
            )
    new = ParsedModel(tuple(relations), parsed.constraints, parsed.text)
    return new, data, info, tuple(observed)
