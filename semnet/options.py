"""The options of a fit, checked and resolved once: :class:`Options` and the estimator presets.

An estimator (lavaan's ``estimator=``) is a preset: the discrepancy it minimizes, the
standard errors and the test statistic it reports.  The presets are rows of the
``ESTIMATORS`` registry; a new estimator is a new row (and its plug-ins in
:mod:`semnet.estimation.discrepancy` and :mod:`semnet.inference.plugins`).
:func:`resolve` turns the keyword arguments of :func:`semnet.sem` into a frozen
:class:`Options`, with lavaan's defaults filled in and every name checked (an unknown
name lists the valid ones and suggests the nearest).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from semnet._frozen import frozen
from semnet.data.design import NORMALIZATIONS
from semnet.data.survey import SurveyDesign
from semnet.errors import OptionError, check_choice, check_seed
from semnet.inference.plugins import TESTS, VCOV, TestPlugin, VcovPlugin
from semnet.partable.build import check_options
from semnet.registry import Registry


@dataclass(frozen=True)
class Preset:
    """An estimator: what it minimizes, and the standard errors and test it reports.

    Attributes
    ----------
    discrepancy : str
        The discrepancy minimized with complete data (a name in ``DISCREPANCIES``).
    se, test : str
        The default standard errors and test statistic (names in ``VCOV``, ``TESTS``).
    incomplete_data : str or None
        The discrepancy minimized with ``missing="fiml"``; ``None`` where the estimator
        has no full-information version.
    weighted : str or None
        The estimator lavaan switches to with sampling weights (``ML`` → ``MLR``).
    clustered : tuple of (str, str) or None
        The ``se`` and ``test`` with ``cluster=`` (lavaan's); ``None``: not available.
    design_based : str or None
        The estimator used with a :class:`~semnet.data.survey.SurveyDesign` (its Γ
        enters the ``robust.sem`` sandwich, as lavaan.survey); ``None``: not available.
    ordinal : bool
        It fits models with ordinal items (thresholds and polychoric correlations; with
        continuous variables also their means, variances and covariances), and only them.
    """

    discrepancy: str
    se: str
    test: str
    incomplete_data: str | None = None
    weighted: str | None = None
    clustered: tuple[str, str] | None = None
    design_based: str | None = None

    ordinal: bool = False


ESTIMATORS: Registry[Preset] = Registry("estimator", upper=True)
_CLUSTER_MLR = ("robust_cluster", "yuan_bentler_mplus")
ESTIMATORS.register(
    "ML", Preset("ML", "standard", "standard", "FIML", "MLR", _CLUSTER_MLR, "MLM")
)
ESTIMATORS.register(
    "MLM", Preset("ML", "robust_sem", "satorra_bentler", "FIML",
                  clustered=("robust_cluster_sem", "satorra_bentler"), design_based="MLM"),
)  # fmt: skip
ESTIMATORS.register(
    "MLR", Preset("ML", "robust_huber_white", "yuan_bentler_mplus", "FIML", None, _CLUSTER_MLR)
)
ESTIMATORS.register(
    "MLMV", Preset("ML", "robust_sem", "scaled_shifted", "FIML", design_based="MLMV")
)
# least squares on the thresholds and polychoric correlations of ordinal items
ESTIMATORS.register("DWLS", Preset("DWLS", "standard", "standard", ordinal=True))
ESTIMATORS.register("ULS", Preset("ULS", "standard", "standard", ordinal=True))
ESTIMATORS.register("WLS", Preset("WLS", "standard", "standard", ordinal=True))
ESTIMATORS.register("WLSM", Preset("DWLS", "robust_sem", "satorra_bentler", ordinal=True))
ESTIMATORS.register("WLSMV", Preset("DWLS", "robust_sem", "scaled_shifted", ordinal=True))
ESTIMATORS.register("ULSM", Preset("ULS", "robust_sem", "satorra_bentler", ordinal=True))
ESTIMATORS.register("ULSMV", Preset("ULS", "robust_sem", "scaled_shifted", ordinal=True))
ESTIMATORS.register(
    "WLSMVS", Preset("DWLS", "robust_sem", "mean_var_adjusted", ordinal=True)
)
ESTIMATORS.plan("GLS", "generalized least squares is not implemented yet")
#: the estimator of ordinal items when none is given (lavaan's default)
ORDINAL_DEFAULT = "WLSMV"
#: the parameterizations of ordinal items
PARAMETERIZATIONS = ("delta", "theta")
#: how ordinal items are identified across groups under equal thresholds: lavaan's
#: ``group.equal`` defaults, or semTools' ``measEq.syntax(ID.cat = "Wu.Estabrook.2016")``
ORDINAL_IDENTIFICATIONS = ("lavaan", "wu_estabrook_2016")

#: lavaan's ``missing=`` values and their aliases
MISSING = {"listwise": "listwise", "fiml": "fiml", "ml": "fiml", "fiml_x": "fiml_x",
           "ml_x": "fiml_x", "pairwise": "pairwise"}
_MISSING_NAMES = tuple(MISSING)
#: how a latent product term is estimated
INTERACTIONS = ("lms", "double_mean", "mean", "residual")
#: lavaan's default number of draws for se = "bootstrap"
DEFAULT_BOOTSTRAP = 1000


@dataclass(frozen=True)
class Options:
    """The options a fit is made with, resolved (recorded in ``fit.options``).

    ``se`` and ``test`` are plug-in names (lavaan's, with underscores); ``information``
    is the information matrix of the standard errors; ``bootstrap`` the number of
    draws of the resampling plug-ins (``se="bootstrap"``, ``test="bollen_stine"``; 0:
    none); ``meanstructure`` is ``None`` until the parameter table settles it.
    """

    estimator: str = "ML"
    missing: str = "listwise"
    group: str | None = None
    group_equal: tuple[str, ...] = ()
    group_partial: tuple[str, ...] = ()
    std_lv: bool = False
    meanstructure: bool | None = False
    orthogonal: bool = False
    fixed_x: bool = True
    se: str = "standard"
    information: str = "expected"
    test: str = "standard"
    bootstrap: int = 0
    seed: int | None = None
    interaction: str | None = None
    interaction_match: bool | None = None
    sampling_weights: str | None = None
    sampling_weights_normalization: str = "total"
    cluster: str | None = None
    int_ov_free: bool = True
    int_lv_free: bool = False
    survey: Any = None
    ordered: tuple[str, ...] = ()
    parameterization: str = "delta"
    ordinal_identification: str = "lavaan"

    @property
    def design(self) -> tuple[str | None, str, str | None]:
        """Sampling-weights column, its normalisation and the cluster column."""
        return (self.sampling_weights, self.sampling_weights_normalization, self.cluster)

    @property
    def preset(self) -> Preset:
        return ESTIMATORS.get(self.estimator)

    @property
    def incomplete_data(self) -> bool:
        """Incomplete cases are kept (``missing="fiml"`` or ``"fiml_x"``)."""
        return self.missing in ("fiml", "fiml_x")

    @property
    def discrepancy(self) -> str:
        """The name of the discrepancy to minimize."""
        preset = self.preset
        return preset.incomplete_data if self.incomplete_data else preset.discrepancy

    @property
    def casewise(self) -> bool:
        """The standard errors or the test need the casewise data."""
        return VCOV.get(self.se).casewise or TESTS.get(self.test).casewise

    @property
    def plain(self) -> bool:
        """The estimator's plain form: its preset's standard errors and test, complete
        data, no bootstrap (what LMS estimates)."""
        preset = self.preset
        return (
            self.se == preset.se == "standard" and self.test == preset.test
            and not self.incomplete_data and not self.bootstrap
        )  # fmt: skip


_INTEGERS = (int, np.integer)


def bootstrap_draws(bootstrap: object, se: object, test: object) -> tuple[int, str | None]:
    """The number of bootstrap draws that ``bootstrap=``, ``se=`` and ``test=`` ask for
    (0: none), and the ``se`` to use.

    The draws serve the resampling plug-ins (rows of ``VCOV`` and ``TESTS`` with a
    ``resampling``): ``bootstrap=`` alone asks for bootstrap standard errors; with a
    resampling ``se`` or ``test`` it is their number of draws, lavaan's 1000 when not
    given.
    """
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, _INTEGERS) or bootstrap < 0:
        raise OptionError(
            f"bootstrap must be a number of draws (an integer >= 0), not {bootstrap!r}."
        )
    vcov_resamples = se is not None and VCOV.get(se).resampling is not None
    test_resamples = test is not None and TESTS.get(test).resampling is not None
    if bootstrap and se is not None and not (vcov_resamples or test_resamples):
        raise OptionError(
            f"bootstrap={bootstrap} asks for bootstrap standard errors, but se={se!r} asks "
            "for others; drop se=, or pass se='bootstrap'."
        )
    if bootstrap and se is None and not test_resamples:
        se = "bootstrap"  # bootstrap= alone: bootstrap standard errors
    if not (bootstrap or vcov_resamples or test_resamples):
        return 0, se
    return int(bootstrap) if bootstrap else DEFAULT_BOOTSTRAP, se


def _names(value: Sequence[str] | str | None, name: str) -> tuple[str, ...]:
    """A name or a sequence of names as a tuple (``None``: none)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (Sequence, set, frozenset)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise OptionError(f"{name} must be a string or a list of strings, not {value!r}.")


def _check_group(group: object) -> None:
    """``group`` names one column: a string (or another single column label)."""
    if group is not None and not isinstance(group, Hashable):
        raise OptionError(
            f"group must name one column, not a {type(group).__name__} ({group!r}); to "
            "group by several columns, combine them into one first, e.g. data['g'] = "
            "data['a'].astype(str) + ' ' + data['b'].astype(str), and pass group='g'."
        )


def _survey_estimator(
    estimator: str, preset: Preset, survey: Any, design: tuple, missing: str, n_boot: int
) -> tuple[str, Preset]:
    """The estimator of a fit with ``survey=`` (a SurveyDesign): its preset's
    design-based estimator (ML → MLM, as lavaan.survey)."""
    if not isinstance(survey, SurveyDesign):
        raise OptionError(
            f"survey must be a semnet.SurveyDesign(weights=, strata=, cluster=, fpc=), not "
            f"{type(survey).__name__}."
        )
    if design[0] is not None or design[2] is not None:
        raise OptionError(
            "give the sampling weights and clusters either as sampling_weights=/cluster= or "
            "in survey=SurveyDesign(...), not both."
        )
    if preset.design_based is None:
        raise OptionError(
            f"estimator={estimator!r} is not available with survey= (it needs casewise "
            "scores); use estimator='MLM' or 'MLMV', which use the design's Gamma."
        )
    if missing != "listwise" or n_boot:
        raise OptionError("survey= works with missing='listwise' and without the bootstrap.")
    return preset.design_based, ESTIMATORS.get(preset.design_based)


def _design_choices(
    estimator: str, preset: Preset, se: str | None, test: str | None,
    design: tuple[str | None, str, str | None],
) -> tuple[str, Preset, str, str, VcovPlugin, TestPlugin]:
    """The estimator, preset, ``se`` and ``test`` with sampling weights and clusters,
    as lavaan chooses them: ML becomes MLR with weights; ``cluster=`` takes the
    preset's cluster-robust ``se`` and test, and only plug-ins defined for them; then
    the plug-ins of that ``se`` and test."""
    weights, normalization, cluster = design
    if weights is not None:
        check_choice("sampling_weights_normalization", normalization, NORMALIZATIONS)
        if preset.weighted is not None:
            estimator, preset = preset.weighted, ESTIMATORS.get(preset.weighted)
    if cluster is not None:
        if preset.clustered is None:
            raise OptionError(
                f"estimator={estimator!r} is not available with cluster=; use "
                "estimator='MLR' (robust.cluster SEs, Yuan-Bentler test) or 'MLM' "
                "(robust.cluster.sem SEs, Satorra-Bentler test), as lavaan."
            )
        se = se if se is not None else preset.clustered[0]
        test = test if test is not None else preset.clustered[1]
    se = VCOV.name(se if se is not None else preset.se)
    test = TESTS.name(test if test is not None else preset.test)
    vp, tp = VCOV.get(se), TESTS.get(test)
    if vp.cluster != (cluster is not None) or (cluster is not None and not tp.cluster):
        fits = [n for n in VCOV if VCOV.get(n).cluster == (cluster is not None)]
        tests = [n for n in TESTS if TESTS.get(n).cluster or cluster is None]
        raise OptionError(
            f"se={se!r}, test={test!r} are not available "
            + ("with" if cluster else "without")
            + f" cluster= (lavaan's rule); use se in {fits} and test in {tests}."
        )
    if weights is not None and not (vp.weights and tp.weights):
        raise OptionError(
            f"se={se!r}, test={test!r} are not available with sampling_weights= (lavaan "
            "0.6.14 has neither a weighted Gamma nor a weighted model-based bootstrap); use "
            "estimator='MLR'."
        )
    return estimator, preset, se, test, vp, tp


def resolve(
    *,
    group: str | None = None,
    estimator: str | None = None,
    missing: str = "listwise",
    group_equal: Sequence[str] | str = (),
    group_partial: Sequence[str] | str = (),
    std_lv: bool = False,
    meanstructure: bool | None = None,
    orthogonal: bool = False,
    fixed_x: bool = True,
    ordered: Sequence[str] = (),
    parameterization: str = "delta",
    ordinal_identification: str = "lavaan",
    se: str | None = None,
    test: str | None = None,
    bootstrap: int = 0,
    seed: int | None = None,
    interaction: str | None = None,
    interaction_match: bool | None = None,
    sampling_weights: str | None = None,
    sampling_weights_normalization: str = "total",
    cluster: str | None = None,
    int_ov_free: bool = True,
    int_lv_free: bool = False,
    survey: Any = None,
) -> Options:
    """The keyword arguments of :func:`semnet.sem`, checked, as :class:`Options`.

    Examples
    --------
    >>> from semnet.options import resolve
    >>> opts = resolve(estimator="mlr")
    >>> opts.estimator, opts.se, opts.test, opts.discrepancy
    ('MLR', 'robust_huber_white', 'yuan_bentler_mplus', 'ML')
    """
    if estimator is None:
        estimator = ORDINAL_DEFAULT if ordered else "ML"
    preset = ESTIMATORS.get(estimator)
    estimator = ESTIMATORS.name(estimator)
    key = missing.lower().replace(".", "_") if isinstance(missing, str) else missing
    missing = MISSING[check_choice("missing", key, _MISSING_NAMES)]
    n_boot, se = bootstrap_draws(bootstrap, se, test)
    check_seed(seed)
    _check_group(group)
    ordered = _names(ordered, "ordered") if ordered else ()
    _check_ordinal(ordered, estimator, preset, missing)
    if ordered and n_boot:
        raise OptionError(
            "the bootstrap (se='bootstrap', test='bollen.stine') of ordinal items is not "
            "available yet; use the robust standard errors and scaled test of WLSMV (the "
            "default)."
        )
    parameterization = check_choice("parameterization", parameterization, PARAMETERIZATIONS)
    ordinal_identification = check_choice("ordinal_identification", ordinal_identification,
                                          ORDINAL_IDENTIFICATIONS)
    check_options(std_lv, orthogonal, fixed_x)
    if meanstructure is not None and not isinstance(meanstructure, (bool, np.bool_)):
        raise OptionError(
            f"meanstructure must be True, False or None (the default: means when the "
            f"model or the groups need them), not {meanstructure!r}."
        )
    design = (sampling_weights, sampling_weights_normalization, cluster)
    if n_boot and cluster is not None:
        raise OptionError(
            "the bootstrap (se='bootstrap', test='bollen.stine') with cluster= is not "
            "supported (it resamples cases, not clusters); use the cluster-robust standard "
            "errors and tests."
        )
    if survey is not None:
        estimator, preset = _survey_estimator(estimator, preset, survey, design, missing, n_boot)
    estimator, preset, se, test, vcov, tests = _design_choices(estimator, preset, se, test,
                                                               design)
    if (cluster is not None or survey is not None) and meanstructure is None:
        meanstructure = True  # as lavaan's clustered models and lavaan.survey's fits
    incomplete = missing in ("fiml", "fiml_x")
    if incomplete:
        if preset.incomplete_data is None:
            raise OptionError(
                f"estimator={estimator!r} has no full-information version; use "
                "missing='listwise', or an ML estimator with missing='fiml'."
            )
        if vcov.complete_data or tests.complete_data:
            needs = [f"se={se!r}"] if vcov.complete_data else []
            needs += [f"test={test!r}"] if tests.complete_data else []
            raise OptionError(
                f"{' and '.join(needs)} (estimator={estimator!r}) needs complete data; "
                "with missing='fiml' use estimator='MLR' with its own se and test, as "
                "lavaan does."
            )
    if interaction is not None:
        interaction = check_choice("interaction", interaction, INTERACTIONS)
    # (Options(...) without its per-field __init__: semnet._frozen)
    return frozen(Options, {
        "estimator": estimator,
        "missing": missing,
        "group": group,
        "group_equal": _names(group_equal, "group_equal"),
        "group_partial": _names(group_partial, "group_partial"),
        "std_lv": std_lv,
        "meanstructure": meanstructure,
        "orthogonal": orthogonal,
        "fixed_x": fixed_x,
        "se": se,
        "information": _information(vcov, preset, incomplete),
        "test": test,
        "bootstrap": n_boot,
        "seed": seed,
        "interaction": interaction,
        "interaction_match": interaction_match,
        "sampling_weights": sampling_weights,
        "sampling_weights_normalization": sampling_weights_normalization,
        "cluster": cluster,
        "int_ov_free": int_ov_free,
        "int_lv_free": int_lv_free,
        "survey": survey,
        "ordered": ordered,
        "parameterization": parameterization,
        "ordinal_identification": ordinal_identification,
    })  # fmt: skip


def _information(vcov: VcovPlugin, preset: Preset, incomplete: bool) -> str:
    """The information matrix the fit records: that of its ``se``'s plug-in ``vcov``, or
    (for a plug-in that uses none, as the bootstrap) the estimator's."""
    information = vcov.information or VCOV.get(preset.se).information
    return information(incomplete)


def _check_ordinal(
    ordered: tuple[str, ...], estimator: str, preset: Preset, missing: str
) -> None:
    """Ordinal items need a least-squares estimator (``preset``: ``estimator``'s) and
    listwise or pairwise deletion; least squares and pairwise deletion need ordinal
    items."""
    least_squares = preset.ordinal
    if ordered and missing in ("fiml", "fiml_x"):
        raise OptionError(
            f"missing={missing!r} is not available with ordered items "
            f"({', '.join(ordered)}); "
            "use missing='listwise' (the default: complete cases) or missing='pairwise' "
            "(each statistic from the cases observed on its variables)."
        )
    if missing == "pairwise" and not ordered:
        raise OptionError(
            "missing='pairwise' is available for ordinal items (ordered=[...]) only; "
            "with continuous variables use missing='fiml' (or 'listwise')."
        )
    if ordered and not least_squares:
        raise OptionError(
            f"estimator={estimator!r} treats the items as continuous, but ordered items "
            f"were given ({', '.join(ordered)}); use estimator='WLSMV' (the default with "
            "ordered items), or leave ordered= out to treat them as continuous."
        )
    if least_squares and not ordered:
        raise OptionError(
            f"estimator={estimator!r} is available for ordinal items only; name them in "
            "ordered= (or pass ordered=True for every observed variable of the model), or "
            "use an ML estimator for continuous data."
        )
