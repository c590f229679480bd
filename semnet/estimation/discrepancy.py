"""The discrepancy functions behind one protocol, in a registry keyed by name.

A discrepancy ``f(θ)`` is what the optimizer minimizes: ``"ML"`` (normal-theory
maximum likelihood of complete data), ``"FIML"`` (full-information ML of incomplete
data), ``"LMS"`` (ML of a model with latent product terms, :mod:`semnet.estimation.lms`)
and least squares on ordinal statistics (``"DWLS"``, ``"ULS"``, ``"WLS"``).  Each one
offers the same members (:class:`Discrepancy`), so the optimizer, the standard errors,
the robust tests, the bootstrap and the modification indices work with any of them
(each with those its plug-in declares).  An estimator preset (:mod:`semnet.options`) names the
discrepancy it minimizes; :func:`discrepancy` builds it for a model and a sample.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from semnet.data.moments import GroupMoments
from semnet.data.sample import Sample
from semnet.estimation.constraints import LinearConstraints
from semnet.estimation.dwls import (
    LeastSquaresDiscrepancy,
    diagonal_weight,
    full_weight,
    unit_weight,
)
from semnet.estimation.fiml import FIMLDiscrepancy
from semnet.estimation.ml import Evaluation, MLDiscrepancy
from semnet.estimation.optimize import OptimizeResult
from semnet.matrices.ram import Model
from semnet.registry import Registry


class Discrepancy(Protocol):
    """What every discrepancy offers.

    Attributes
    ----------
    model : Model
    moments : list of GroupMoments
    fixed_values : ndarray
        Values of the parameter table's rows (the fixed rows are read from it).
    weights : ndarray
        ``N_g / N`` per group.
    ntotal : int
    newton : bool
        The optimizer may take Newton steps (``evaluate(..., hessian=True)``).

    Least squares on ordinal statistics (:mod:`semnet.estimation.dwls`) adds
    ``vcov_divisor`` (the count that divides the inverse information, ``N - G``) and
    ``sandwich(x)`` (the pieces of its ``robust.sem`` sandwich).
    """

    model: Model
    moments: Sequence[GroupMoments]
    fixed_values: np.ndarray
    weights: np.ndarray
    ntotal: int
    newton: bool

    def evaluate(
        self, x: np.ndarray, derivatives: bool = True, information: bool = True
    ) -> Evaluation:
        """``f``, its gradient and the (expected) information per case at ``x``."""

    def observed_information(self, x: np.ndarray) -> np.ndarray:
        """The Hessian of ``f`` at ``x`` (observed information per case)."""

    def casewise_scores(self, x: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray]:
        """Each case's derivatives of its log-likelihood in group ``g`` (the sandwich of
        robust standard errors): the positions of the free parameters the group depends
        on, and the scores (``N_g`` x positions)."""


@dataclass(frozen=True)
class DiscrepancyPlugin:
    """A registered discrepancy.

    Attributes
    ----------
    make : callable
        ``make(model, sample, values, for_optimizer)`` → :class:`Discrepancy`; with
        ``for_optimizer`` the discrepancy may use a cheaper information matrix, which
        only shapes the optimizer's steps.  ``model`` is the RAM model (for LMS the
        :class:`~semnet.estimation.lms_likelihood.LMSModel`: the RAM model of the linear
        part with the product terms).
    incomplete_data : bool
        It uses every observed value of incomplete cases (``missing="fiml"``).
    latent_products : str or None
        The discrepancy that estimates this one's model extended by latent product terms
        (``"LMS"`` for ``"ML"``), or ``None`` where there is none.
    minimize : callable or None
        Its own optimizer, ``minimize(disc, constraints, x_start)`` → the discrepancy at
        the minimum (an optimizer may refine it, as LMS its quadrature grid) and the
        :class:`~semnet.estimation.optimize.OptimizeResult`; ``None``: the generic
        :func:`semnet.estimation.optimize.minimize` (Newton or scoring steps).
    vcov : tuple of str or None
        The standard errors' plug-ins (:data:`semnet.inference.plugins.VCOV`) defined
        for it, ``None`` for all.
    information : str or None
        The information matrix its standard errors use whatever the options say
        (``"observed"`` for LMS, which has no expected information), ``None``: the
        options'.
    partable : callable or None
        ``partable(parsed, labels, options)`` → the parameter table, where the
        discrepancy builds its own (LMS: the linear part's rows, then one row per
        product term and group); ``None``: :func:`semnet.partable.build.partable`.
    structure : callable or None
        ``structure(pt, sample, options, settings)`` → ``(model, start, constraints,
        warm_up)``, where the discrepancy builds its own model and start values (LMS:
        its :class:`~semnet.estimation.lms_likelihood.LMSModel`, starts from the model
        without the product terms fitted by ML, which ``warm_up`` holds); ``settings``
        are the numerical settings a caller gave (``semnet.lms(quadrature=...)``).
    result : callable or None
        ``result(fit, structure, disc)`` → the fit with what the discrepancy adds (LMS:
        :class:`~semnet.estimation.lms.LMSResult`); ``None``: the :class:`Fit` itself.
    stacked : bool
        Its refits of a model's resamples (complete data) may be evaluated as a stack
        (:mod:`semnet.estimation.ml_batch`, the bootstrap's blocks of draws).
    """

    make: Callable[[Model, Sample, np.ndarray, bool], Discrepancy]
    incomplete_data: bool = False
    latent_products: str | None = None
    minimize: Callable[..., tuple[Discrepancy, OptimizeResult]] | None = None
    vcov: tuple[str, ...] | None = None
    information: str | None = None
    partable: Callable[..., Any] | None = None
    structure: Callable[..., tuple[Any, np.ndarray, LinearConstraints, Any]] | None = None
    result: Callable[..., Any] | None = None
    stacked: bool = False


DISCREPANCIES: Registry[DiscrepancyPlugin] = Registry("discrepancy", upper=True)

DISCREPANCIES.register(
    "ML",
    DiscrepancyPlugin(
        lambda model, sample, values, for_optimizer: MLDiscrepancy(model, sample.moments, values),
        latent_products="LMS",
        stacked=True,
    ),
)
# "LMS" (ML of a model with latent product terms) is registered by semnet.estimation.lms,
# next to its result class, which is a Fit (and semnet.results.fit imports this module)
DISCREPANCIES.register(
    "FIML",
    DiscrepancyPlugin(
        lambda model, sample, values, for_optimizer: FIMLDiscrepancy(
            model, sample.moments, values, sample.patterns, sample.logl_h1,
            exact_information=not for_optimizer,
        ),
        incomplete_data=True,
    ),
)

# least squares on the thresholds and polychoric correlations of ordinal items
# (the ULS statistic is not referred to a chi-square: lavaan reports no p-value for it)
for _name, _weight, _chisq in (
    ("DWLS", diagonal_weight, True), ("ULS", unit_weight, False), ("WLS", full_weight, True)
):
    DISCREPANCIES.register(
        _name,
        DiscrepancyPlugin(
            lambda model, sample, values, for_optimizer, weight=_weight, chisq=_chisq: (
                LeastSquaresDiscrepancy(model, sample, values, weight, chisq)
            )
        ),
    )


def discrepancy(
    name: str, model: Model, sample: Sample, values: np.ndarray, for_optimizer: bool = False
) -> Discrepancy:
    """The discrepancy ``name`` of ``model`` for ``sample``, fixed rows from ``values``.

    Examples
    --------
    >>> import semnet
    >>> fit = semnet.cfa("f =~ x1 + x2 + x3", semnet.datasets.holzinger_swineford())
    >>> disc = discrepancy("ML", fit.model, fit.sample, fit.values)
    >>> bool(abs(2 * disc.ntotal * disc.evaluate(fit.x, derivatives=False).f) < 1e-9)
    True
    """
    return DISCREPANCIES.get(name).make(model, sample, values, for_optimizer)
