"""Standard errors and test statistics as plug-ins, in registries keyed by lavaan's names.

``VCOV`` holds the covariance estimators of the free parameters (lavaan's ``se=``):
``standard``, ``robust_sem``, ``robust_huber_white``, the cluster-robust sandwiches and
``bootstrap``.  ``TESTS`` holds the model test statistics (lavaan's ``test=``):
``standard``, ``satorra_bentler``, ``yuan_bentler_mplus``, ``scaled_shifted``,
``mean_var_adjusted`` and ``bollen_stine``.  Most plug-ins compute their result from an
:class:`InferenceContext`, which computes the shared pieces (the tangent basis of the
constraints, the ``robust.sem`` sandwich, the Huber–White sandwich) once, on first use,
so that a vcov and a test built from the same sandwich share it.  The test of the
baseline (independence) model, which the scaled fit indices need, comes from the same
plug-in applied to the baseline model (or from a closed form where one exists).

A *resampling* plug-in (``se="bootstrap"``, ``test="bollen_stine"``) is computed after
the fit, from bootstrap draws of it: its row carries a :class:`Resampling` (which
bootstrap it needs and how its result is attached to the fit), and the pipeline runs
that generic hook once the fit is assembled (:mod:`semnet.pipeline.assemble`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from semnet.data.sample import Sample, baseline_values
from semnet.estimation.constraints import LinearConstraints
from semnet.estimation.discrepancy import Discrepancy, discrepancy
from semnet.estimation.dwls import ordinal_starts
from semnet.estimation.ml import Evaluation
from semnet.estimation.start import start_values
from semnet.inference import robust
from semnet.inference.robust import ScaledTest
from semnet.inference.vcov import checked_constrained_inverse, expected_vcov, tangent_basis
from semnet.matrices.ram import Model
from semnet.partable.build import ParTable, independence_partable
from semnet.registry import Registry


class InferenceContext:
    """A fit's discrepancy at its estimates, and the pieces its inference shares.

    Parameters
    ----------
    disc : Discrepancy
        The discrepancy the estimates minimize.
    x : ndarray
        The estimates (free parameters).
    df : int
        Degrees of freedom of the model test.
    T : ndarray
        Tangent basis of the equality constraints at ``x`` (columns).
    what : str
        The options that asked for the inference, for error messages.
    evaluation : Evaluation, optional
        The optimizer's last evaluation at ``x`` (saves the expected information).
    constraints : LinearConstraints, optional
        The fit's equality constraints (for the expected-information vcov).
    information : str
        ``"expected"`` or ``"observed"``: the information of the standard vcov.
    evaluation_in_z : bool
        ``evaluation``'s matrices are with respect to the constrained parameters
        (:attr:`~semnet.estimation.optimize.OptimizeResult.evaluation_in_z`).
    """

    def __init__(
        self,
        disc: Discrepancy,
        x: np.ndarray,
        df: int,
        T: np.ndarray,
        what: str = "",
        evaluation: Evaluation | None = None,
        constraints: LinearConstraints | None = None,
        information: str = "expected",
        evaluation_in_z: bool = False,
    ) -> None:
        self.disc = disc
        self.evaluation_in_z = evaluation_in_z
        self.x = x
        self.df = df
        self.T = T
        self.what = what
        self.evaluation = evaluation
        self.constraints = constraints
        self.information = information

    @classmethod
    def of_fit(
        cls,
        disc: Discrepancy,
        constraints: LinearConstraints,
        x: np.ndarray,
        df: int,
        what: str = "",
        evaluation: Evaluation | None = None,
        information: str = "expected",
        evaluation_in_z: bool = False,
    ) -> InferenceContext:
        """The context of a fitted model (``T`` from its constraints at ``x``)."""
        T = tangent_basis(constraints, x)
        return cls(disc, x, df, T, what, evaluation, constraints, information, evaluation_in_z)

    @cached_property
    def robust_sem(self) -> robust.RobustSem:
        """lavaan's ``robust.sem`` sandwich (``E^-1`` and the per-group moment pieces)."""
        return robust.robust_sem(self.disc, self.x, self.T, self.what)

    @cached_property
    def huber_white(self) -> tuple[np.ndarray, ScaledTest]:
        """The Huber–White vcov and the Yuan–Bentler (Mplus) scaled test."""
        return robust.mlr(self.disc, self.x, self.T, self.df, self.disc.model.nfree)


def _standard_vcov(ctx: InferenceContext) -> np.ndarray:
    if ctx.information == "observed":
        H = robust.observed_information(ctx.disc, ctx.x)
        return checked_constrained_inverse(H, ctx.T) / ctx.disc.ntotal
    return expected_vcov(ctx.disc, ctx.constraints, ctx.x, ctx.evaluation, ctx.evaluation_in_z)


@dataclass(frozen=True)
class Resampling:
    """What a plug-in computed after the fit, from bootstrap draws of it, needs.

    Attributes
    ----------
    type : str
        The bootstrap it reads (``type=`` of :func:`semnet.bootstrap`): ``"ordinary"``
        (cases resampled) or ``"bollen_stine"`` (the data transformed to the model's
        implied moments, then resampled).
    attach : callable
        ``attach(fit, boot)`` → a new fit carrying the plug-in's result computed from
        ``boot`` (a :class:`~semnet.analyses.bootstrap.BootstrapResult` of ``fit``).

    Examples
    --------
    >>> from semnet.inference.plugins import TESTS, VCOV
    >>> VCOV.get("bootstrap").resampling.type, TESTS.get("bollen.stine").resampling.type
    ('ordinary', 'bollen_stine')
    """

    type: str
    attach: Callable[[Any, Any], Any]


@dataclass(frozen=True)
class VcovPlugin:
    """A covariance estimator of the free parameters (lavaan's ``se=``).

    Attributes
    ----------
    compute : callable or None
        ``compute(ctx)`` → the vcov (free parameters x free parameters); ``None`` for a
        resampling plug-in, whose vcov comes after the fit from its ``resampling``.
    information : callable or None
        ``information(incomplete_data)`` → ``"expected"`` or ``"observed"``: the
        information matrix it uses (recorded in the fit's options); ``None``: it uses
        none, and the fit records the estimator's (what its score tests and
        modification indices use).
    casewise : bool
        It needs the casewise data (or fourth-order moments).
    complete_data : bool
        Only defined for complete data (not with ``missing="fiml"``).
    cluster : bool
        A cluster-robust sandwich: it needs ``cluster=``, and with ``cluster=`` only
        such plug-ins apply (lavaan's rule).
    weights : bool
        Defined with sampling weights (the weighted casewise scores).
    resampling : Resampling or None
        Computed after the fit from bootstrap draws of it (see :class:`Resampling`).
    """

    compute: Callable[[InferenceContext], np.ndarray] | None
    information: Callable[[bool], str] | None
    casewise: bool = False
    complete_data: bool = False
    cluster: bool = False
    weights: bool = False
    resampling: Resampling | None = None


@dataclass(frozen=True)
class TestPlugin:
    """A model test statistic (lavaan's ``test=``).

    Attributes
    ----------
    compute : callable or None
        ``compute(ctx)`` → the :class:`ScaledTest`; ``None`` for a test that is the fit's
        own chi-square (the standard test, and the bootstrap tests, which give it another
        reference distribution).
    closed_form_baseline : callable, optional
        ``(sample, meanstructure)`` → the baseline model's test in closed form, or
        ``None`` where it has none (then the baseline model is fitted).
    casewise : bool
        It needs the casewise data (or fourth-order moments).
    complete_data : bool
        Only defined for complete data; it comes from the ``robust.sem`` sandwich (so
        Satorra's 2000 difference test applies to it).
    difference : str
        The default difference test of :func:`semnet.compare` between fits with this
        test, as lavTestLRT's.
    cluster, weights : bool
        Defined with ``cluster=`` (from the clustered scores or Gamma), with sampling
        weights (from the weighted casewise scores).
    resampling : Resampling or None
        Computed after the fit from bootstrap draws of it (see :class:`Resampling`).
    """

    compute: Callable[[InferenceContext], ScaledTest] | None
    closed_form_baseline: Callable[[Sample, bool], ScaledTest | None] | None = None
    casewise: bool = False
    complete_data: bool = False
    difference: str = "standard"
    cluster: bool = False
    weights: bool = False
    resampling: Resampling | None = None

    @property
    def scaled(self) -> bool:
        return self.compute is not None


VCOV: Registry[VcovPlugin] = Registry("se")
TESTS: Registry[TestPlugin] = Registry("test")

VCOV.register(
    "standard",
    VcovPlugin(
        _standard_vcov, lambda incomplete: "observed" if incomplete else "expected",
        weights=True,
    ),
)
VCOV.register(
    "robust_sem",
    VcovPlugin(
        lambda ctx: ctx.robust_sem.vcov, lambda incomplete: "expected",
        casewise=True, complete_data=True,
    ),
    aliases=("robust_mlm",),
)
VCOV.register(
    "robust_huber_white",
    VcovPlugin(
        lambda ctx: ctx.huber_white[0], lambda incomplete: "observed", casewise=True,
        weights=True,
    ),
    aliases=("robust_mlr",),
)
# the same sandwiches over the clusters' sums of the casewise scores (or of the cases'
# moments, in Gamma): the sample's cluster codes make them cluster-robust
VCOV.register(
    "robust_cluster",
    VcovPlugin(
        lambda ctx: ctx.huber_white[0], lambda incomplete: "observed", casewise=True,
        cluster=True, weights=True,
    ),
)
VCOV.register(
    "robust_cluster_sem",
    VcovPlugin(
        lambda ctx: ctx.robust_sem.vcov, lambda incomplete: "expected",
        casewise=True, complete_data=True, cluster=True,
    ),
)

# lavaan's se = "bootstrap": the covariance matrix of the draws' estimates (divisor B);
# the draws stay on the fit (fit.bootstrap) for the intervals of estimates()
VCOV.register(
    "bootstrap",
    VcovPlugin(
        None, None, casewise=True, weights=True,
        resampling=Resampling("ordinary", lambda fit, boot: fit.with_bootstrap(boot)),
    ),
)

TESTS.register("standard", TestPlugin(None, cluster=True, weights=True))
# lavaan's test = "bollen.stine": the fit's chi-square with the p-value of the bootstrap
# of the data transformed to the implied moments (Bollen & Stine, 1992); complete,
# unweighted, continuous data only, as lavaan 0.6.14
TESTS.register(
    "bollen_stine",
    TestPlugin(
        None, casewise=True, complete_data=True,
        resampling=Resampling(
            "bollen_stine", lambda fit, boot: fit.with_bootstrap_test(boot)
        ),
    ),
    aliases=("bollen-stine", "bootstrap", "boot"),  # lavaan's spellings of test=
)
TESTS.register(
    "satorra_bentler",
    TestPlugin(
        lambda ctx: robust.satorra_bentler(ctx.robust_sem, ctx.robust_sem.weights, ctx.df),
        casewise=True, complete_data=True, difference="satorra_bentler_2001", cluster=True,
    ),
)
TESTS.register(
    "scaled_shifted",
    TestPlugin(
        lambda ctx: robust.scaled_shifted(ctx.robust_sem, ctx.robust_sem.weights, ctx.df),
        casewise=True, complete_data=True, difference="satorra_2000",
    ),
)
TESTS.register(
    "mean_var_adjusted",
    TestPlugin(
        lambda ctx: robust.mean_var_adjusted(ctx.robust_sem, ctx.robust_sem.weights, ctx.df),
        casewise=True, complete_data=True, difference="satorra_2000",
    ),
)
TESTS.register(
    "yuan_bentler_mplus",
    TestPlugin(
        lambda ctx: ctx.huber_white[1],
        closed_form_baseline=lambda sample, meanstructure: (
            None if sample.fiml is not None or sample.designed
            else robust.independence_mlr(sample.moments, meanstructure)
        ),
        casewise=True, difference="satorra_bentler_2001", cluster=True, weights=True,
    ),
)


def baseline_test(
    name: str, discrepancy_name: str, pt: ParTable, sample: Sample, what: str = ""
) -> ScaledTest | None:
    """The scaled test ``name`` of the independence (baseline) model of ``pt``'s observed
    variables, at its closed-form estimates (with incomplete data: each variable's mean
    and variance over its observed values), fitted with ``discrepancy_name``.  The
    ``fixed.x`` covariates of ``pt`` keep their block fixed at the sample moments, and
    random covariates (``fixed.x = FALSE``) their block free, at the sample moments
    (:func:`~semnet.partable.build.independence_partable`)."""
    plugin = TESTS.get(name)
    if plugin.compute is None:
        return None
    fixed = set(pt.cols["lhs"][pt.cols["exo"] > 0].tolist())
    random_x = [v for v in pt.names.ov_x if v not in fixed]
    base = independence_partable(pt, random_x)
    params = base.cols
    fixed_x = bool((params["exo"] > 0).any())
    if plugin.closed_form_baseline is not None and not fixed_x and not random_x:
        test = plugin.closed_form_baseline(sample, pt.meanstructure)
        if test is not None:
            return test
    model = Model(base)
    names = sample.moments[0].names
    values = start_values(base, sample.moments)
    # the free rows at their estimates, the fixed.x covariates' block at its values
    free = (params["free"] > 0) | ((params["exo"] > 0) & (params["op"] == "~~"))
    values[free] = [
        baseline_values(sample, int(g) - 1, names.index(lhs), op,
                        names.index(rhs) if op == "~~" else None)
        for lhs, op, rhs, g in zip(
            params["lhs"][free], params["op"][free], params["rhs"][free],
            params["group"][free], strict=True,
        )
    ]  # fmt: skip
    values = ordinal_starts(base, sample, values)
    disc = discrepancy(discrepancy_name, model, sample, values)
    df = base.ndat(fixed_x) - model.nfree
    ctx = InferenceContext(disc, values[model.free_rows], df, np.eye(model.nfree), what)
    return plugin.compute(ctx)
