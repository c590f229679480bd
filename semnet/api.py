"""``sem()`` and ``cfa()``: model text + data + options → :class:`~semnet.results.fit.Fit`.

``sem()`` runs the pipeline's steps in order (see docs/architecture.md):

1. options — :func:`semnet.options.resolve`
2. specification — :func:`semnet.pipeline.specify.specify` (parse, product terms, LMS)
3. sample — :func:`semnet.data.sample.sample`
4. parameter table — :func:`semnet.pipeline.structure.parameter_table`
5. model matrices, start values, constraints — :func:`semnet.pipeline.structure.structure`
6. estimation — :func:`semnet.pipeline.estimate.estimate`
7. vcov and tests — :func:`semnet.pipeline.infer.infer`
8. the Fit — :func:`semnet.pipeline.assemble.assemble`

(5-8 by :func:`semnet.pipeline.run.fit_structure`; a discrepancy's plug-in may declare
its own table, structure and result, as LMS for latent product terms does.)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from semnet.data.out_of_core import SampleMoments
from semnet.data.sample import labels_of, ordered_items
from semnet.data.sample import sample as build_sample
from semnet.data.survey import SurveyDesign
from semnet.errors import DataError
from semnet.estimation.lms import LMSResult
from semnet.options import resolve
from semnet.partable.build import variable_names
from semnet.pipeline.run import fit_structure
from semnet.pipeline.specify import expand_products, read_model, specify
from semnet.pipeline.structure import parameter_table
from semnet.results.fit import Fit
from semnet.syntax import parse_model
from semnet.syntax.model import ParsedModel
from semnet.syntax.roles import threshold_items

__all__ = ["cfa", "expand_products", "growth", "read_model", "sem"]


def sem(
    model: str | Path,
    data: pd.DataFrame | None = None,
    *,
    group: str | None = None,
    estimator: str | None = None,
    missing: str = "listwise",
    group_equal: Sequence[str] | str = (),
    group_partial: Sequence[str] | str = (),
    std_lv: bool = False, meanstructure: bool | None = None, orthogonal: bool = False,
    fixed_x: bool = True, int_ov_free: bool = True, int_lv_free: bool = False,
    ordered: Sequence[str] | bool | None = None, parameterization: str = "delta",
    ordinal_identification: str = "lavaan",
    se: str | None = None, test: str | None = None,
    bootstrap: int = 0, seed: int | None = None,
    sample_cov: Any = None, sample_mean: Any = None, sample_nobs: Any = None,
    interaction: str | None = None, interaction_match: bool | None = None,
    sampling_weights: str | None = None, sampling_weights_normalization: str = "total",
    cluster: str | None = None, survey: SurveyDesign | None = None,
) -> Fit | LMSResult:  # fmt: skip
    """Fit a structural equation model by maximum likelihood, as lavaan's ``sem()``.

    Parameters
    ----------
    model : str or path
        lavaan model syntax, or the path of a file holding it.
    data : DataFrame or SampleMoments, optional
        Raw data (never modified; rows with a missing model variable are dropped and
        counted in ``fit.n_dropped``), or moments from :func:`semnet.moments.from_frame`
        / :func:`~semnet.moments.from_dask` (``fourth=True`` for MLR and MLM).
    group : str, optional
        Column whose values define groups (ordered by first appearance).
    estimator : str, optional
        ``"ML"`` (default), ``"MLR"``, ``"MLM"``, ``"MLMV"``; ordinal: ``"WLSMV"`` (default),
        ``"WLSMVS"``, ``"WLSM"``, ``"ULSMV"``, ``"ULSM"``, ``"DWLS"``, ``"ULS"``, ``"WLS"``.
    ordered, parameterization
        Ordinal observed variables (``True``: all; ordered Categoricals need no name); ``"delta"``.
    ordinal_identification : str
        With groups and equal thresholds: ``"lavaan"`` (default; the later groups' scale
        factors and latent means free) or ``"wu_estabrook_2016"`` (semTools'
        ``measEq.syntax`` rules, used by :func:`semnet.invariance`; docs/ordinal.md).
    missing : str
        ``"listwise"`` or ``"fiml"`` (alias ``"ml"``): full-information ML.  With
        ``fixed_x`` covariates FIML conditions on them and deletes the cases missing on
        one (as lavaan's ``"ml"``, with a warning); ``"fiml.x"`` (alias ``"ml.x"``)
        keeps those cases, as lavaan's ``"ml.x"``; ``"pairwise"`` for ordinal items only.
    se, test : str, optional
        Override the preset (names of the ``VCOV``/``TESTS`` registries; lavaan's too).
    bootstrap, seed : int
        Draws (alone: bootstrap SEs; else of ``se="bootstrap"``/``test="bollen.stine"``,
        1000) and their seed; ``fit.bootstrap``, ``fit.bootstrap_test``.
    group_equal, group_partial
        Cross-group equality constraints (lavaan's ``group.equal``, ``group.partial``).
    std_lv, meanstructure, orthogonal, fixed_x, int_ov_free, int_lv_free : bool
        As lavaan: unit latent variances; means (default with ``~1`` terms or groups);
        uncorrelated exogenous latent variables; covariates fixed at their sample
        moments; free intercepts of observed and latent variables (:func:`growth`;
        lavaan's ``sem()`` ignores ``int.ov.free`` and ``int.lv.free``, semnet's honours
        them: lavaan's ``lavaan()`` with ``sem()``'s other defaults fits that model).
    sample_cov, sample_mean, sample_nobs
        Summary statistics instead of raw data (``sample_cov`` with divisor N-1, as
        R's ``cov()``; dicts by group label for several groups).
    interaction, interaction_match
        A latent product ``y ~ a:b`` by ``"lms"`` (default where it applies) or product
        indicators (``"double_mean"``, ``"mean"``, ``"residual"``), matched or all pairs.
    sampling_weights, sampling_weights_normalization, cluster
        Weights column (normalised ``"total"``, ``"group"``, ``"none"``), cluster column:
        as lavaan, with robust SEs and tests (docs/survey-designs.md).
    survey : SurveyDesign, optional
        Strata, PSUs, weights, fpc: design-based Gamma with MLM or MLMV (lavaan.survey).

    Returns
    -------
    Fit
        Or an :class:`~semnet.estimation.lms.LMSResult` for LMS.

    Examples
    --------
    >>> import semnet
    >>> model = '''
    ... visual  =~ x1 + x2 + x3
    ... textual =~ x4 + x5 + x6
    ... speed   =~ x7 + x8 + x9
    ... '''
    >>> fit = semnet.cfa(model, semnet.datasets.holzinger_swineford())
    >>> float(round(fit.fit_measures()["chisq"], 3))
    85.306
    """
    t0 = time.perf_counter()
    model, ordered = _ordinal(model, data, ordered)
    options = resolve(
        group=group, estimator=estimator, missing=missing, group_equal=group_equal,
        group_partial=group_partial, std_lv=std_lv, meanstructure=meanstructure,
        orthogonal=orthogonal, fixed_x=fixed_x, ordered=ordered, se=se, test=test,
        bootstrap=bootstrap, seed=seed, interaction=interaction, int_ov_free=int_ov_free,
        int_lv_free=int_lv_free, interaction_match=interaction_match,
        sampling_weights=sampling_weights,
        sampling_weights_normalization=sampling_weights_normalization, cluster=cluster,
        survey=survey, parameterization=parameterization,
        ordinal_identification=ordinal_identification,
    )  # fmt: skip
    summary = _summary_moments(data, group, sample_cov)
    if summary is not None:
        data, group = None, summary.group
    spec = specify(model, data, options, raw_data=data is not None)
    _check_inputs(spec.data, sample_cov, summary)
    data = spec.data
    t_parse = time.perf_counter()
    pt = parameter_table(spec, labels_of(data, group, sample_cov, summary), options)
    sample = build_sample(
        data, pt.names.ov, group, pt.groups, fiml=options.incomplete_data, summary=summary,
        sample_cov=sample_cov, sample_mean=sample_mean, sample_nobs=sample_nobs,
        meanstructure=pt.meanstructure, design=options.design, survey=survey,
        ordered=options.ordered, missing=options.missing,
        covariates=pt.names.ov_x if options.fixed_x else (),
        keep_missing_covariates=options.missing == "fiml_x",
        random_covariates=() if options.fixed_x else pt.names.ov_x,
    )  # fmt: skip
    return fit_structure(spec, pt, sample, options, (t0, t_parse, time.perf_counter()))


def _check_inputs(data: Any, sample_cov: Any, summary: Any) -> None:
    if data is not None and sample_cov is not None:
        raise DataError("give either data or sample_cov, not both.")
    if data is None and sample_cov is None and summary is None:
        raise DataError("no data: pass a DataFrame as data, or sample_cov and sample_nobs.")


def _ordinal(model: Any, data: Any, ordered: Any) -> tuple[Any, tuple[str, ...]]:
    """The parsed model and its ordinal items (named, ordered Categorical columns, or
    given thresholds in the model: ``x1 | t1``)."""
    parsed = model if isinstance(model, ParsedModel) else parse_model(read_model(model))
    names = variable_names(parsed)
    marked = threshold_items(parsed.relations, names)
    if isinstance(data, SampleMoments):
        if ordered or marked:
            raise DataError(
                "ordinal items need the raw data (thresholds and polychoric correlations "
                "are computed from the cases), not sample moments; pass the DataFrame."
            )
        return parsed, ()
    # a product term (``x:z``) is built from the items, never an ordinal item itself
    items = [v for v in names.ov if ":" not in v]
    found = ordered_items(data, ordered, items)
    if marked:  # (in the model's order, as ordered_items gives them)
        found = tuple(v for v in items if v in found or v in marked)
    return parsed, found


def _summary_moments(data: Any, group: str | None, sample_cov: Any) -> SampleMoments | None:
    """Sample moments given as ``data``: check that nothing contradicts them."""
    if not isinstance(data, SampleMoments):
        return None
    if sample_cov is not None:
        raise DataError("give either sample moments as data or sample_cov, not both.")
    if group is not None and group != data.group:
        raise DataError(
            f"group={group!r} but the sample moments were split by "
            f"{data.group!r}; recompute them with group={group!r} (or leave group out: "
            "the moments' own groups are used)."
        )
    return data


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


def growth(model: str | Path, data: pd.DataFrame | None = None, **kwargs: Any) -> Fit:
    """A latent growth model, as lavaan's ``growth()``: :func:`sem` with a mean
    structure, the observed variables' intercepts fixed to 0 and the latent variables'
    means (intercepts) free.

    Examples
    --------
    >>> import semnet
    >>> growth_model = "i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4\\ns =~ 0*t1 + 1*t2 + 2*t3 + 3*t4"
    >>> population = growth_model + "\\ni ~ 5*1\\ns ~ 0.5*1\\ns ~~ 0.2*s"
    >>> waves = semnet.simulate(population, 400, seed=1)
    >>> est = semnet.growth(growth_model, waves).estimates()
    >>> est.loc[est.op == "~1", ["lhs", "est"]].round(1).values.tolist()
    [['t1', 0.0], ['t2', 0.0], ['t3', 0.0], ['t4', 0.0], ['i', 5.0], ['s', 0.5]]
    """
    defaults = {"meanstructure": True, "int_ov_free": False, "int_lv_free": True}
    return sem(model, data, **{**defaults, **kwargs})
