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

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from semnet.errors import OptionError, check_choice
from semnet.inference.plugins import TESTS, VCOV
from semnet.partable.build import check_options
from semnet.registry import Registry, normalize


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
    ordinal : bool
        It fits ordinal items (thresholds and polychoric correlations), and only them.
    """

    discrepancy: str
    se: str
    test: str
    incomplete_data: str | None = None
    ordinal: bool = False


ESTIMATORS: Registry[Preset] = Registry("estimator", upper=True)
ESTIMATORS.register("ML", Preset("ML", "standard", "standard", "FIML"))
ESTIMATORS.register("MLM", Preset("ML", "robust_sem", "satorra_bentler", "FIML"))
ESTIMATORS.register("MLR", Preset("ML", "robust_huber_white", "yuan_bentler_mplus", "FIML"))
ESTIMATORS.register("MLMV", Preset("ML", "robust_sem", "scaled_shifted", "FIML"))
# least squares on the thresholds and polychoric correlations of ordinal items
ESTIMATORS.register("DWLS", Preset("DWLS", "standard", "standard", ordinal=True))
ESTIMATORS.register("ULS", Preset("ULS", "standard", "standard", ordinal=True))
ESTIMATORS.register("WLS", Preset("WLS", "standard", "standard", ordinal=True))
ESTIMATORS.register("WLSM", Preset("DWLS", "robust_sem", "satorra_bentler", ordinal=True))
ESTIMATORS.register("WLSMV", Preset("DWLS", "robust_sem", "scaled_shifted", ordinal=True))
ESTIMATORS.register("ULSM", Preset("ULS", "robust_sem", "satorra_bentler", ordinal=True))
ESTIMATORS.register("ULSMV", Preset("ULS", "robust_sem", "scaled_shifted", ordinal=True))
ESTIMATORS.plan("WLSMVS", "the Satterthwaite-adjusted test is not implemented; use WLSMV")
ESTIMATORS.plan("GLS", "generalized least squares is not implemented yet")
#: the estimator of ordinal items when none is given (lavaan's default)
ORDINAL_DEFAULT = "WLSMV"
#: the parameterizations of ordinal items
PARAMETERIZATIONS = ("delta", "theta")

#: lavaan's ``missing=`` values and their aliases
MISSING = {"listwise": "listwise", "fiml": "fiml", "ml": "fiml"}
#: how a latent product term is estimated
INTERACTIONS = ("lms", "double_mean", "mean", "residual")
#: lavaan's default number of draws for se = "bootstrap"
DEFAULT_BOOTSTRAP = 1000


@dataclass(frozen=True)
class Options:
    """The options a fit is made with, resolved (recorded in ``fit.options``).

    ``se`` and ``test`` are plug-in names (lavaan's, with underscores); ``information``
    is the information matrix of the standard errors; ``bootstrap`` the number of
    draws of bootstrap standard errors (0: none), whose ``se`` is then ``"bootstrap"``
    in the fit; ``meanstructure`` is ``None`` until the parameter table settles it.
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
    ordered: tuple[str, ...] = ()
    parameterization: str = "delta"

    @property
    def preset(self) -> Preset:
        return ESTIMATORS.get(self.estimator)

    @property
    def incomplete_data(self) -> bool:
        """Incomplete cases are kept (``missing="fiml"``)."""
        return self.missing == "fiml"

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


def bootstrap_draws(bootstrap: object, se: object) -> int:
    """The number of bootstrap draws that ``bootstrap=`` and ``se=`` ask for (0: none)."""
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, _INTEGERS) or bootstrap < 0:
        raise OptionError(
            f"bootstrap must be a number of draws (an integer >= 0), not {bootstrap!r}."
        )
    wants = se is not None and normalize(se) == "bootstrap"
    if bootstrap and se is not None and not wants:
        raise OptionError(
            f"bootstrap={bootstrap} asks for bootstrap standard errors, but se={se!r} asks "
            "for others; drop se=, or pass se='bootstrap'."
        )
    return int(bootstrap) if bootstrap else (DEFAULT_BOOTSTRAP if wants else 0)


def _names(value: Sequence[str] | str) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


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
    se: str | None = None,
    test: str | None = None,
    bootstrap: int = 0,
    seed: int | None = None,
    interaction: str | None = None,
    interaction_match: bool | None = None,
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
    key = missing.lower() if isinstance(missing, str) else missing
    missing = MISSING[check_choice("missing", key, tuple(MISSING))]
    n_boot = bootstrap_draws(bootstrap, se)
    if n_boot:
        se = None  # the point estimates' own inference runs with the preset
    ordered = _names(ordered) if ordered else ()
    _check_ordinal(ordered, estimator, missing)
    if ordered and n_boot:
        raise OptionError(
            "bootstrap standard errors of ordinal items are not available yet; use the "
            "robust standard errors of WLSMV (se='robust.sem', the default)."
        )
    parameterization = check_choice("parameterization", parameterization, PARAMETERIZATIONS)
    check_options(std_lv, orthogonal, fixed_x)
    se = VCOV.name(se if se is not None else preset.se)
    test = TESTS.name(test if test is not None else preset.test)
    incomplete = missing == "fiml"
    if incomplete:
        if preset.incomplete_data is None:
            raise OptionError(
                f"estimator={estimator!r} has no full-information version; use "
                "missing='listwise', or an ML estimator with missing='fiml'."
            )
        if VCOV.get(se).complete_data or TESTS.get(test).complete_data:
            raise OptionError(
                f"estimator={estimator!r} (se={se!r}, test={test!r}) needs complete data; "
                "with missing='fiml' use estimator='MLR', as lavaan does."
            )
    if interaction is not None:
        interaction = check_choice("interaction", interaction, INTERACTIONS)
    return Options(
        estimator=estimator,
        missing=missing,
        group=group,
        group_equal=_names(group_equal),
        group_partial=_names(group_partial),
        std_lv=std_lv,
        meanstructure=meanstructure,
        orthogonal=orthogonal,
        fixed_x=fixed_x,
        se=se,
        information=VCOV.get(se).information(incomplete),
        test=test,
        bootstrap=n_boot,
        seed=seed,
        interaction=interaction,
        interaction_match=interaction_match,
        ordered=ordered,
        parameterization=parameterization,
    )


def _check_ordinal(ordered: tuple[str, ...], estimator: str, missing: str) -> None:
    """Ordinal items need a least-squares estimator and complete cases; least squares
    needs ordinal items."""
    least_squares = ESTIMATORS.get(estimator).ordinal
    if ordered and missing == "fiml":
        raise OptionError(
            f"missing='fiml' is not available with ordered items ({', '.join(ordered)}); "
            "use missing='listwise' (the default: complete cases)."
        )
    if ordered and not least_squares:
        raise OptionError(
            f"estimator={estimator!r} treats the items as continuous, but ordered items "
            f"were given ({', '.join(ordered)}); use estimator='WLSMV' (the default with "
            "ordered items), or leave ordered= out to treat them as continuous."
        )
    if least_squares and not ordered:
        raise OptionError(
            f"estimator={estimator!r} is available for ordinal items only; pass "
            "ordered=[...] (or ordered=True), or use an ML estimator for continuous data."
        )
