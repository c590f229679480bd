"""Latent moderated structural equations (LMS; Klein & Moosbrugger, 2000).

A model with latent product terms ``y ~ x + z + x:z`` is not normal, but it is a *mixture*
of normal models.  semnet writes it in the RAM form of :mod:`semnet.matrices.ram`::

    v = A v + m + e + sum_p omega_p * v_{a_p} v_{b_p} * e_{k_p},   e ~ N(0, S)

(``omega_p`` the coefficient of product ``p``, ``k_p`` its outcome) and conditions on
the error terms of a set ``Z`` of exogenous latent variables that holds one factor of
every product (for a single interaction ``Z = {x}``: a one-dimensional integral).  With
``L = chol(S_ZZ)`` and ``e_Z = L u``, ``u ~ N(0, I)``::

    e | u ~ N(C u, S_c),   C = S[:, Z] L^-T,   S_c = S - C C'

so at a node ``u`` the moderator ``v_a = m_a + (C u)_a`` is known, every product
``omega v_a v_b`` is an ordinary path ``k <- b`` with coefficient ``omega v_a``, and the
observed variables are normal with the RAM moments of the node matrices
``A_u = A + sum_p omega_p v_{a_p}(u) E_{k_p b_p}``, ``m_u = m + C u``, ``S_c``.  The
log-likelihood is approximated by quadrature over ``u``::

    log L = sum_i log sum_j w_j phi(y_i; mu_j, Sigma_j)

Each evaluation is one pass over the data (BLAS products over all cases and nodes) with
a log-sum-exp over the nodes.

Quadrature.  Klein & Moosbrugger use Gauss–Hermite (GH) nodes (``quadrature="gh"``, 16–32
per dimension; modsem's fixed rule has 24).  But the integrand of a case is sharply
peaked in ``u`` when the moderator is measured reliably: its width is the posterior SD
of ``u`` given the case's data (about 0.23 for three indicators of reliability 0.85),
while 24 GH nodes are about 0.5 apart near the centre.  On modsem's ``oneInt`` data the
24-node GH log-likelihood is off by 0.5 and ``X ~~ X`` by a third of its SE.  semnet's
default therefore is the trapezoidal rule on an equally spaced grid over ``[-6, 6]``
(weights proportional to the normal density, normalized), which converges geometrically
for such smooth integrands (relative error ``~ exp(-2 pi^2 sd^2 / h^2)``); the spacing
``h`` is set to the smallest posterior SD / 1.5 (from the linear model, re-checked at the
LMS estimates: 1% quantile over cases), typically 50–100 nodes for one dimension.  Several
integrated variables use a grid pruned to the ball of radius 6 (at most
:data:`MAX_NODES` points).

Gradient: with the posterior node probabilities ``P_ij`` the score is
``sum_j <W_j, dSigma_j> + <w_j, dmu_j>`` where ``W_j = (Sigma^-1 S_j Sigma^-1 -
N_j Sigma^-1) / 2`` and ``w_j = Sigma^-1 sum_i P_ij (y_i - mu_j)`` are node-weighted
moments of the data.  It is propagated analytically (reverse mode) through the RAM
formulas to ``A_u, m_u, S_c``, from there to ``A, S, m, omega`` (the Cholesky factor
``L`` by its exact differential) and to the free parameters.  The likelihood is the
``"LMS"`` discrepancy of the registry (:mod:`semnet.estimation.lms_likelihood`), with the
protocol's members, casewise scores included; this module registers it with the steps it
does its own way (the parameter table with the product rows, the model and start values,
the result :class:`LMSResult`), so :func:`semnet.sem` and :func:`lms` run the fit's
steps (:mod:`semnet.pipeline`) for it.  Its optimizer is BFGS from
the estimates of the model without products (and ``omega = 0``), polished by Newton steps
with the observed information; standard errors come from the registry's ``standard``
plug-in with the observed information (central differences of the analytic gradient),
as modsem's default, or ``se="robust.huber.white"``, the sandwich with the casewise
scores (modsem's ``robust.se``, Mplus' MLR).

Standardized product coefficients (Wen, Marsh & Hau, 2010):
``omega * sd(a) * sd(b) / sd(y)``, with every standard deviation taken from the
*model-implied* moments of the nonlinear model — i.e. ``var(y)`` includes the
interaction's contribution ``omega^2 (var(a) var(b) + cov(a, b)^2)`` — computed exactly
by the same quadrature (the moments are polynomials of low degree in ``u``).

Several groups: the model has one parameter table over groups (the linear part built
by :func:`semnet.partable.partable` with ``group_equal``/``group_partial``, one product
row per group appended), one LMS likelihood per group, summed; cross-group equalities
(labels, ``group_equal``, also on product coefficients) are the linear
reparametrization ``theta = x0 + K z`` of
:class:`~semnet.estimation.constraints.LinearConstraints`, so the gradient is ``K'``
times the summed group gradients and the standard errors come from the observed
information in ``z``.

Limits of this version: products of latent variables where at least one factor of each
product is an exogenous latent variable; labels on product terms are shown and tie
parameters but cannot appear in ``:=``/``==`` lines; listwise deletion only (with
FIML, use product indicators).

References
----------
Klein, A., & Moosbrugger, H. (2000). Maximum likelihood estimation of latent interaction
effects with the LMS method. *Psychometrika*, 65(4), 457–474.
Wen, Z., Marsh, H. W., & Hau, K.-T. (2010). Structural equation models of latent
interactions: An appropriate standardized solution and its scale-free properties.
*Structural Equation Modeling*, 17(1), 1–22.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from semnet._blas import one_blas_thread
from semnet.data.sample import Sample, labels_of
from semnet.data.sample import sample as build_sample
from semnet.errors import ModelSpecificationError, OptionError, SemnetError, check_level
from semnet.estimation.constraints import LinearConstraints, linear_constraints
from semnet.estimation.discrepancy import DISCREPANCIES, DiscrepancyPlugin
from semnet.estimation.lms_likelihood import (
    LMSDiscrepancy,
    LMSLikelihood,
    LMSModel,
    ProductIndex,
    gauss_hermite,
    make_lms,
    minimize_lms,
    quadrature_grid,
    trapezoid,
)
from semnet.estimation.ml import MLDiscrepancy
from semnet.estimation.optimize import OptimizeResult, minimize
from semnet.estimation.start import start_values
from semnet.inference.plugins import VCOV
from semnet.matrices.ram import Model
from semnet.options import Options
from semnet.partable.build import ABSENT, ParTable, modifier_for_group, partable
from semnet.pipeline.run import fit_structure
from semnet.pipeline.specify import Specification, read_model
from semnet.pipeline.structure import parameter_table
from semnet.results.estimates import implied_frames, parameter_se
from semnet.results.fit import Fit
from semnet.syntax import Modifiers, ParsedModel, Relation, parse_expression, parse_model

__all__ = [
    "LMS",
    "LMSLikelihood",
    "LMSResult",
    "ProductTerm",
    "gauss_hermite",
    "lms",
    "lms_result",
    "lms_structure",
    "product_partable",
    "quadrature_grid",
    "split_products",
    "trapezoid",
]

# -- model syntax ------------------------------------------------------------------------
@dataclass(frozen=True)
class ProductTerm:
    """A product term ``outcome ~ [modifiers*]a:b`` of the model syntax.

    ``relation`` is the syntax term itself: its modifiers (fixed value, start value,
    label; one per group or one for all, as any term's) apply to the product's
    coefficient.
    """

    outcome: str
    a: str
    b: str
    relation: Relation

    @property
    def rhs(self) -> str:
        return f"{self.a}:{self.b}"

    @property
    def line(self) -> int:
        return self.relation.line

    @property
    def modifiers(self) -> Modifiers:
        return self.relation.modifiers


def split_products(parsed: ParsedModel) -> tuple[ParsedModel, tuple[ProductTerm, ...]]:
    """Remove the product terms ``y ~ a:b`` from a parsed model.

    Returns the linear model and the product terms.  An outcome that appears only in
    product terms keeps a regression ``y ~ 0*a`` so that it stays endogenous (not an
    exogenous latent variable that would covary with the factors).
    """
    linear: list[Relation] = []
    products: list[ProductTerm] = []
    for r in parsed.relations:
        if ":" not in r.rhs:
            linear.append(r)
            continue
        if r.op != "~":
            raise ModelSpecificationError(
                f"line {r.line}: the product '{r.rhs}' may only appear on the right of a "
                f"regression ('y ~ {r.rhs}'), not with '{r.op}'."
            )
        if r.block is not None:
            raise ModelSpecificationError(
                f"line {r.line}: product terms in group blocks are not supported by LMS yet."
            )
        parts = r.rhs.split(":")
        if len(parts) != 2 or not all(parts):
            raise ModelSpecificationError(
                f"line {r.line}: '{r.rhs}' is not a product of two variables; LMS handles "
                "two-way products 'a:b' (no three-way products)."
            )
        m = r.modifiers
        if m.lower is not None or m.upper is not None:
            raise ModelSpecificationError(
                f"line {r.line}: bounds on the product term '{r.rhs}' are not supported."
            )
        term = ProductTerm(r.lhs, parts[0], parts[1], r)
        key = (term.outcome, frozenset((term.a, term.b)))
        if any((p.outcome, frozenset((p.a, p.b))) == key for p in products):
            raise ModelSpecificationError(
                f"line {r.line}: the product '{r.rhs}' appears twice in the equation of "
                f"{r.lhs!r}; keep one."
            )
        products.append(term)
    outcomes_with_paths = {r.lhs for r in linear if r.op == "~"}
    for p in products:
        if p.outcome not in outcomes_with_paths:
            linear.append(Relation(p.outcome, "~", p.a, _zero_modifier(), None, p.line, 0))
            outcomes_with_paths.add(p.outcome)
    labels = {lab for p in products for lab in (p.modifiers.label or ()) if lab}
    for c in parsed.constraints:
        used = set(parse_expression(c.rhs, c.line, c.column).names)
        if c.op != ":=":
            used |= set(parse_expression(c.lhs, c.line, c.column).names)
        if used & labels:
            raise ModelSpecificationError(
                f"line {c.line}: '{c.lhs} {c.op} {c.rhs}' uses the label of a product term; "
                "constraints and defined parameters on product coefficients are not "
                "supported by LMS yet."
            )
    return dataclasses.replace(parsed, relations=tuple(linear)), tuple(products)


def _zero_modifier() -> Modifiers:
    return Modifiers(fixed=(0.0,))


# -- result ------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False, kw_only=True)
class LMSResult(Fit):
    """A model with latent interactions fitted by LMS: a :class:`semnet.results.fit.Fit`
    with what LMS adds.  Immutable.

    As any fit it has ``partable`` — here the linear parameter table with one ``~`` row
    per product term and group appended to its parameter rows (``rhs`` ``"x:z"``,
    ``free`` numbered after the linear parameters) — ``values`` (one per row), ``x`` (the
    free parameters, the product coefficients last), ``vcov_free``, ``sample``,
    ``options``, ``constraints``, the estimates table, ``implied()``, ``residuals()``,
    ``plot()`` and the group facts.  ``model`` is the RAM model of the linear part (its
    row indices are those of the first rows of ``partable.params``); ``fmin`` is
    ``-loglik / N``.  The model is not normal, so it has no chi-square test, no
    modification indices and no standardized solution with standard errors (the
    ``std_lv``/``std_all`` columns of ``estimates()`` follow Wen, Marsh & Hau).

    Attributes
    ----------
    loglik, aic, bic : float
        Summed over groups for a multi-group fit.
    h0_loglik : float
        Log-likelihood of the same model without the product terms (normal ML).
    h0_npar : int
        Free parameters of that model.
    linear_partable : ParTable
        The parameter table of the model without the product terms.
    lms_model : LMSModel
        The product terms and the quadrature rule (the registry's LMS discrepancy is
        built from it: :meth:`discrepancy`).
    quadrature : str
        ``"trapezoid"`` or ``"gh"``; ``nodes`` the number of quadrature points in all,
        ``spacing`` the trapezoidal spacing, ``dimensions`` the integrated latent
        variables.
    implied_covs, implied_means : tuple of ndarray
        Per group, the marginal covariance matrix and mean vector of all variables of
        ``model`` (observed, then latent) under the nonlinear model.
    se : str
        The plug-in of the standard errors (:data:`semnet.inference.plugins.VCOV`):
        ``"standard"`` (observed information) or ``"robust_huber_white"`` (sandwich).
    """

    linear_partable: ParTable
    lms_model: LMSModel
    loglik: float
    h0_loglik: float
    h0_npar: int
    quadrature: str
    nodes: int
    spacing: float | None
    std_all: np.ndarray
    std_lv: np.ndarray
    implied_covs: tuple[np.ndarray, ...]
    implied_means: tuple[np.ndarray, ...]

    #: the estimates have no ``:=`` rows (LMS does not estimate defined parameters)
    _reports_defined = False
    not_resampled = (
        "the bootstrap refits a draw by the linear model's steps, not by LMS; use "
        "se='robust.huber.white' (the sandwich) for standard errors robust to non-normality"
    )

    def __post_init__(self) -> None:
        for name in ("x", "values", "vcov_free", "std_all", "std_lv"):
            arr = getattr(self, name)
            if isinstance(arr, np.ndarray):
                arr.setflags(write=False)
        for arr in (*self.implied_covs, *self.implied_means):
            arr.setflags(write=False)

    @property
    def se(self) -> str:
        """The plug-in of the standard errors (``options.se``)."""
        return self.options.se

    @property
    def dimensions(self) -> tuple[str, ...]:
        """The integrated (exogenous latent) variables."""
        return tuple(self.model.variables[i] for i in self.lms_model.zvars)

    @property
    def npar(self) -> int:
        """Free parameters after equality constraints, product coefficients included."""
        return self.partable.nfree - self.constraints.n_eq

    @property
    def df(self) -> float:
        """NaN: the model is not normal, so it has no chi-square test (see :meth:`lr_test`)."""
        return float("nan")

    @property
    def chisq(self) -> float:
        """NaN: the model is not normal, so it has no chi-square test (see :meth:`lr_test`)."""
        return float("nan")

    @property
    def implied_cov(self) -> np.ndarray:
        """The marginal covariance matrix of all variables (single-group fits)."""
        return self._single("implied_covs")

    @property
    def implied_mean(self) -> np.ndarray:
        """The marginal mean vector of all variables (single-group fits)."""
        return self._single("implied_means")

    def _single(self, name: str) -> np.ndarray:
        values = getattr(self, name)
        if len(values) != 1:
            raise SemnetError(
                f"this LMS fit has {len(values)} groups; use {name}[g] for group g "
                "(0-based, in the order of fit.groups)."
            )
        return values[0]

    @property
    def aic(self) -> float:
        return -2.0 * self.loglik + 2.0 * self.npar

    @property
    def bic(self) -> float:
        return -2.0 * self.loglik + self.npar * float(np.log(self.ntotal))

    def discrepancy(self, model: Model | None = None, values: np.ndarray | None = None
                    ) -> LMSDiscrepancy:  # fmt: skip
        """The registry's LMS discrepancy of this fit (its product terms and quadrature
        grid), fixed rows from ``values`` (default: the estimates); ``model`` must be
        left out (the fit's own)."""
        if model is not None:
            raise OptionError("an LMS fit's discrepancy is that of its own model; leave "
                              "model out.")  # fmt: skip
        values = self.values if values is None else values
        m = self.lms_model
        grid = quadrature_grid(m.quadrature, len(m.zvars), m.nodes, self.spacing)
        return LMSDiscrepancy(m, self.moments, values[: self.model.free.size], grid)

    def lr_test(self) -> pd.Series:
        """Likelihood-ratio test of the product terms against the same model without
        them (fitted by normal ML to the same cases, with the same constraints):
        ``chisq_diff, df_diff, pvalue``."""
        d = 2.0 * (self.loglik - self.h0_loglik)
        df = self.npar - self.h0_npar
        return pd.Series(
            {
                "loglik_h0": self.h0_loglik,
                "loglik_h1": self.loglik,
                "chisq_diff": d,
                "df_diff": df,
                "pvalue": float(stats.chi2.sf(max(d, 0.0), df)) if df > 0 else np.nan,
            }
        )

    def fit_measures(self) -> pd.Series:
        """``npar, ntotal, logl, aic, bic, bic2`` (no chi-square: the model is not normal)."""
        n = self.ntotal
        return pd.Series(
            {
                "npar": self.npar,
                "ntotal": n,
                "logl": self.loglik,
                "aic": self.aic,
                "bic": self.bic,
                "bic2": -2.0 * self.loglik + self.npar * float(np.log((n + 2) / 24)),
            }
        )

    def estimates(self, standardized: bool = True, level: float = 0.95,
                  boot_ci: str = "percentile") -> pd.DataFrame:  # fmt: skip
        """Parameter estimates: ``lhs, op, rhs, group, label, est, se, z, pvalue,
        ci_lower, ci_upper`` (+ ``std_lv, std_all``), one row per parameter; product terms as
        ``y ~ x:z`` rows (one per group) after the linear parameters.  (``boot_ci`` is
        :meth:`Fit.estimates`'s; LMS fits have no bootstrap.)"""
        check_level(level)
        se = parameter_se(self.partable.cols["free"], self.vcov_free)
        std = {"std_lv": self.std_lv, "std_all": self.std_all} if standardized else None
        return self._estimates_table(self.values, se, level, standardized=std)

    def implied(self) -> dict[str, dict[str, pd.DataFrame | pd.Series]]:
        """Marginal model-implied covariance and means of the observed variables per
        group (the mixture's moments, not normal)."""
        names = list(self.model.ov)
        p = len(names)
        return implied_frames(
            (label, names, cov[:p, :p], mean[:p])
            for label, cov, mean in zip(
                self.groups, self.implied_covs, self.implied_means, strict=True
            )
        )

    def _implied_all(self, g: int) -> np.ndarray:
        """The marginal covariance matrix of all variables under the nonlinear model (so
        ``r_squared()`` counts the product terms' share of an outcome's variance)."""
        return self.implied_covs[g]

    def standardized(self, type: str = "std_all", level: float = 0.95) -> pd.DataFrame:
        """Not available for LMS: the standardized estimates are the ``std_lv`` and
        ``std_all`` columns of :meth:`estimates` (without standard errors)."""
        raise _unavailable("standardized()", "the std_lv and std_all columns of estimates()")

    def modindices(self, sort: bool = True, minimum: float = 0.0) -> pd.DataFrame:
        """Not available for LMS (the model is not normal)."""
        raise _unavailable("modindices()", "lr_test() or a comparison of nested LMS fits")

    def score_test(self, release: list[int] | None = None):
        """Not available for LMS (the model is not normal)."""
        raise _unavailable("score_test()", "lr_test() or a comparison of nested LMS fits")

    def wald(self, constraints: str) -> pd.Series:
        """Not available for LMS yet."""
        raise _unavailable("wald()", "a likelihood-ratio test between nested LMS fits")

    def with_bootstrap(self, boot: Any, warnings: tuple[str, ...] = ()) -> Fit:
        """Not available for LMS (no bootstrap of LMS fits)."""
        raise _unavailable("bootstrap standard errors",
                           "se='robust.huber.white' (the sandwich)")  # fmt: skip

    def summary(self, standardized: bool = False, fit_measures: bool = True) -> Any:
        """A printable report in the spirit of lavaan's ``summary()``: the likelihood-ratio
        test of the product terms, the log-likelihood and information criteria, and the
        parameter estimates (with ``standardized``, the ``Std.lv`` and ``Std.all``
        columns). See :class:`semnet.report.summary.LMSSummary`."""
        from semnet.report.summary import LMSSummary

        return LMSSummary(self, standardized=standardized, fit_measures=fit_measures)

    def __repr__(self) -> str:
        status = "converged" if self.converged else "NOT converged"
        groups = "" if len(self.moments) <= 1 else f", {len(self.moments)} groups"
        return (
            f"<semnet LMS fit{groups}: {status} after {self.iterations} iterations, "
            f"logl={self.loglik:.3f}, npar={self.npar}, n={self.ntotal}, "
            f"{self.quadrature} quadrature with {self.nodes} points>"
        )


def _unavailable(what: str, instead: str) -> SemnetError:
    return SemnetError(f"{what} is not available for an LMS fit (its model is not normal); "
                       f"use {instead}.")  # fmt: skip


# -- driver ------------------------------------------------------------------------------
def lms(
    model: str | Path | ParsedModel,
    data: pd.DataFrame,
    *,
    group: str | None = None,
    group_equal: Sequence[str] | str = (),
    group_partial: Sequence[str] | str = (),
    quadrature: str = "trapezoid",
    nodes: int | None = None,
    std_lv: bool = False,
    orthogonal: bool = False,
    fixed_x: bool = True,
    missing: str = "listwise",
    se: str = "standard",
    max_iter: int = 2000,
    tol: float = 1e-9,
) -> LMSResult:
    """Fit a model with latent product terms (``y ~ x + z + x:z``) by LMS.

    Parameters
    ----------
    model : str, path or ParsedModel
        lavaan syntax (or its parse); product terms ``a:b`` in regressions (``b1*x:z``
        labels, ``0*x:z`` fixed values, ``start(.)`` and per-group ``c(...)*x:z``
        modifiers are honoured), also quadratic terms ``x:x`` and several products.  At
        least one factor of every product must be an exogenous latent variable (it is
        integrated over).
    data : DataFrame
        Raw data (never modified); rows with missing values are dropped (listwise).
    group : str, optional
        Column whose values define groups: one LMS likelihood per group, summed, with
        parameters shared through labels and ``group_equal`` as in :func:`semnet.sem`.
    group_equal, group_partial
        Cross-group equality constraints, as :func:`semnet.sem`; ``"regressions"`` ties
        the product coefficients too (exempt one with ``group_partial="y~x:z"``).
    quadrature : {"trapezoid", "gh"}
        ``"trapezoid"`` (default): equally spaced nodes on ``[-6, 6]`` (standard normal
        units) weighted by the normal density, with the spacing chosen from the data so
        that the narrowest posterior of the integrated variables is resolved (spacing
        ``<= sd / 1.5``; checked again at the estimates and refined if needed) — accurate
        to many digits however reliable the moderator's indicators.  ``"gh"``: the fixed
        Gauss–Hermite rule of Klein & Moosbrugger (2000) with ``nodes`` points per
        dimension (default 24, modsem's ``adaptive.quad = FALSE``); with reliable
        indicators its error can reach a third of a standard error.
    nodes : int, optional
        Points per dimension: Gauss–Hermite order, or the number of trapezoidal nodes
        (which then fixes the spacing).
    std_lv, orthogonal, fixed_x
        As :func:`semnet.sem`.  A mean structure is always modelled (latent means 0,
        observed intercepts free; with equal intercepts across groups the latent means
        of groups 2, 3, ... are free, as lavaan's).
    missing : {"listwise"}
        Incomplete rows are dropped; FIML is not available for LMS (the error raised for
        ``missing="fiml"`` names the alternatives).
    se : {"standard", "robust.huber.white"}
        Standard errors from the observed information (default, as modsem's), or the
        sandwich of the observed information and the casewise scores (robust to
        non-normal errors; Mplus' ``MLR``, modsem's ``robust.se = TRUE``), by the
        registry's plug-ins (:data:`semnet.inference.plugins.VCOV`).
    max_iter : int
        Iteration limit of the quasi-Newton phase.
    tol : float
        Convergence tolerance on the Newton decrement of ``-log L / N`` (twice the gain in
        log-likelihood per case that a further Newton step promises).

    Returns
    -------
    LMSResult

    Examples
    --------
    >>> from semnet.estimation.lms import lms
    >>> fit = lms('''X =~ x1 + x2 + x3
    ...              Z =~ z1 + z2 + z3
    ...              Y =~ y1 + y2 + y3
    ...              Y ~ X + Z + X:Z''', one_int)  # doctest: +SKIP
    >>> fit.estimates().query("rhs == 'X:Z'")  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    _check_lms_options(missing, quadrature, nodes, se)
    parsed = model if isinstance(model, ParsedModel) else parse_model(read_model(model))
    options = Options(
        group=group, group_equal=_names(group_equal), group_partial=_names(group_partial),
        std_lv=std_lv, meanstructure=True, orthogonal=orthogonal, fixed_x=fixed_x,
        se=VCOV.name(se), interaction="lms",
    )  # fmt: skip
    terms = {r.rhs: {"method": "lms"} for r in parsed.relations if ":" in r.rhs}
    settings = {"quadrature": quadrature, "nodes": nodes, "max_iter": max_iter, "tol": tol}
    spec = Specification(parsed, data, "LMS", products=terms, settings=settings)
    # the steps of semnet.sem(): table, sample, then structure to Fit
    pt = parameter_table(spec, labels_of(data, group), options)
    t_parse = time.perf_counter()
    sample = build_sample(data, pt.names.ov, group, pt.groups, meanstructure=True)
    return fit_structure(spec, pt, sample, options, (t0, t_parse, time.perf_counter()))


def _names(value: Sequence[str] | str) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


# -- the LMS plug-in of the discrepancy registry -----------------------------------------
def product_partable(parsed: ParsedModel, labels: list[str], options: Options) -> ParTable:
    """The parameter table of a model with latent product terms: lavaan's table of its
    linear part (with a mean structure), then one ``~`` row per product term and group
    (``rhs`` ``"a:b"``, free coefficients numbered after the linear parameters;
    :func:`_product_rows`).  Raises for a product LMS cannot integrate."""
    linear, terms = split_products(parsed)
    if not terms:
        raise ModelSpecificationError(
            "the model has no product term 'a:b'; fit it with semnet.sem() instead."
        )
    product_keys = {f"{t.outcome}~{a}:{b}" for t in terms for a, b in ((t.a, t.b), (t.b, t.a))}
    partial = {"".join(p.split()) for p in options.group_partial}
    pt = partable(
        linear, groups=labels, meanstructure=True, std_lv=options.std_lv,
        orthogonal=options.orthogonal, fixed_x=options.fixed_x,
        group_equal=options.group_equal, group_partial=tuple(partial - product_keys),
    )  # fmt: skip
    _integration_plan(terms, pt, Model(pt))  # the products' errors, with their lines
    return _product_rows(pt, terms, "regressions" in options.group_equal, partial)


def lms_structure(
    pt: ParTable, sample: Sample, options: Options, settings: Mapping[str, Any]
) -> tuple[LMSModel, np.ndarray, LinearConstraints, tuple[OptimizeResult, int]]:
    """The LMS plug-in's structure step: the :class:`LMSModel` of ``pt`` (quadrature and
    optimizer ``settings`` as :func:`lms` takes them), the start values — the linear
    part at its ML estimates without the product terms (the warm-up), the product
    coefficients at their ``start()`` values or 0 — the equality constraints, and the
    warm-up's fit and free parameters (the likelihood-ratio test's H0)."""
    linear = _linear_part(pt)
    ram = Model(linear)
    values0 = start_values(linear, sample.moments)
    terms = _terms_of(pt)
    triples, zvars = _integration_plan(terms, linear, ram)
    ustart = pt.cols["ustart"]
    ext_values0 = np.concatenate([values0, ustart[len(values0) :]])
    cons = linear_constraints(pt, pt.nfree, pt.cols["free"], ext_values0)
    if cons.nonlinear:
        raise OptionError("nonlinear or inequality constraints are not supported with LMS yet.")
    cons_lin = linear_constraints(linear, ram.nfree, ram.free, values0)
    h0 = _fit_h0(ram, sample.moments, values0, cons_lin)
    model = LMSModel(
        ram, _product_indices(pt, len(terms), triples, ram.nfree), pt.nfree - ram.nfree,
        tuple(zvars), str(settings.get("quadrature", "trapezoid")), settings.get("nodes"),
        cons, pt, int(settings.get("max_iter", 2000)), float(settings.get("tol", 1e-9)),
    )  # fmt: skip
    om_free = pt.cols["free"][len(values0) :] > 0
    om_start = np.nan_to_num(ustart[len(values0) :][om_free])
    start = model.values(np.concatenate([h0.x, om_start]), ext_values0)
    return model, start, cons, (h0, ram.nfree - cons_lin.n_eq)


def lms_result(fit: Fit, structure: Any, disc: LMSDiscrepancy) -> LMSResult:
    """The LMS plug-in's result: ``fit`` with what LMS adds — the log-likelihoods of the
    model and of H0, the quadrature grid of the estimates, the marginal moments of the
    nonlinear model and the standardized coefficients from them (Wen, Marsh & Hau)."""
    model: LMSModel = structure.model
    ram, theta, values = model.ram, fit.x, fit.values
    h0, h0_npar = structure.warm_up
    implied = [lk.implied_all(theta) for lk in disc.likelihoods]
    covs = [c for c, _ in implied]
    products = [list(p) for p in model.products]
    base = {f.name: getattr(fit, f.name) for f in dataclasses.fields(Fit)}
    base |= {
        "model": ram,
        "options": dataclasses.replace(fit.options, information=LMS.information),
        "record": {**fit.record, "h0_converged": h0.converged},
    }
    return LMSResult(
        **base,
        linear_partable=ram.pt,
        lms_model=model,
        loglik=float(disc.loglik(theta)),
        h0_loglik=float(sum(lk.normal_loglik(h0.x) for lk in disc.likelihoods)),
        h0_npar=h0_npar,
        quadrature=model.quadrature,
        nodes=disc.nodes,
        spacing=disc.spacing,
        std_all=_standardize(structure.partable, ram, values, products, covs),
        std_lv=_standardize(structure.partable, ram, values, products, covs, "std_lv"),
        implied_covs=tuple(covs),
        implied_means=tuple(m for _, m in implied),
    )


#: ML of a model with latent product terms (complete cases): its own parameter table
#: (the product rows), structure (the LMS model, starts from the model without products),
#: optimizer (quasi-Newton on a grid refined at the estimates, then Newton steps) and
#: result; standard errors from the observed information or the sandwich
LMS = DISCREPANCIES.register(
    "LMS",
    DiscrepancyPlugin(
        make_lms, latent_products="LMS", minimize=minimize_lms,
        vcov=("standard", "robust_huber_white"), information="observed",
        partable=product_partable, structure=one_blas_thread(lms_structure),
        result=one_blas_thread(lms_result),
    ),
)


def _linear_part(pt: ParTable) -> ParTable:
    """The table without its product rows (those after the linear parameter rows)."""
    cols = pt.columns
    keep = ~_is_product(cols)
    return ParTable({c: v[keep] for c, v in cols.items()}, pt.names, pt.groups,
                    pt.meanstructure, pt.constraints, pt.ordered,
                    pt.parameterization)  # fmt: skip


def _is_product(cols: Mapping[str, np.ndarray]) -> np.ndarray:
    """The product rows (``y ~ a:b``) of a table's columns."""
    return (cols["op"] == "~") & np.array([":" in str(r) for r in cols["rhs"]], dtype=bool)


def _terms_of(pt: ParTable) -> tuple[ProductTerm, ...]:
    """The product terms of the table's first group (``y ~ a:b`` rows), in row order."""
    cols = pt.cols
    rows = np.flatnonzero(_is_product(cols) & (cols["group"] == 1))
    out = []
    for r in rows:
        a, b = str(cols["rhs"][r]).split(":")
        lhs = str(cols["lhs"][r])
        out.append(ProductTerm(lhs, a, b, Relation(lhs, "~", f"{a}:{b}", Modifiers(), None, 0, 0)))
    return tuple(out)


def _fit_h0(ram: Model, moments, values0: np.ndarray, cons_lin: LinearConstraints):
    """H0, the linear model by normal ML (the start values and the likelihood-ratio
    test of the product terms)."""
    disc = MLDiscrepancy(ram, moments, values0)
    x_start = values0[ram.free_rows][np.argsort(ram.free[ram.free_rows])]
    h0 = minimize(disc, cons_lin, x_start)
    if not np.isfinite(h0.f):
        raise SemnetError(
            f"the model without product terms could not be estimated ({h0.message}); "
            "check it with semnet.sem() first."
        )
    return h0


def _check_lms_options(missing: str, quadrature: str, nodes: object, se: str) -> None:
    usable = DISCREPANCIES.get("LMS").vcov
    if usable is not None and VCOV.name(se) not in usable:
        raise OptionError(
            f"se={se!r} is not available with LMS; use one of "
            f"{', '.join(repr(v) for v in usable)} (the observed information, or the "
            "sandwich of the casewise scores: robust standard errors, Mplus' MLR)."
        )
    if missing != "listwise":
        raise OptionError(
            f"LMS with missing={missing!r} is not available: semnet's LMS drops incomplete "
            "rows (missing='listwise'). For FIML with a latent interaction use product "
            "indicators, sem(..., missing='fiml', interaction='double_mean'), or impute the "
            "data and fit LMS to each imputed data set."
        )
    if quadrature not in ("trapezoid", "gh"):
        raise OptionError(f"quadrature must be 'trapezoid' or 'gh', not {quadrature!r}.")
    if nodes is not None and (not isinstance(nodes, int | np.integer) or nodes < 3):
        raise OptionError(f"nodes must be an integer >= 3, not {nodes!r}.")


def _integration_plan(
    terms: tuple[ProductTerm, ...], pt: ParTable, ram: Model
) -> tuple[list[tuple[int, int, int]], list[int]]:
    """RAM indices ``(outcome, integrated factor, other factor)`` of every product term
    and the integrated (conditioning) variables."""
    index = {v: i for i, v in enumerate(ram.variables)}
    lv = set(pt.names.lv)
    values = np.ones(len(pt.params))
    A = ram.matrices(values, 0).A != 0  # structure (every row set to 1)
    reach = A.copy()
    for _ in range(ram.n):
        new = reach | (reach.astype(int) @ reach.astype(int) > 0)
        if (new == reach).all():
            break
        reach = new
    exo_lv = {v for v in lv if not A[index[v]].any()}
    pairs = []
    for term in terms:
        for v in (term.outcome, term.a, term.b):
            if v not in index:
                raise ModelSpecificationError(
                    f"line {term.line}: {v!r} in '{term.outcome} ~ {term.rhs}' is not a "
                    "variable of the model; define it (e.g. with '=~') first."
                )
        k, ia, ib = index[term.outcome], index[term.a], index[term.b]
        if k in (ia, ib) or reach[ia, k] or reach[ib, k]:
            raise ModelSpecificationError(
                f"line {term.line}: {term.outcome!r} affects a factor of its own product "
                f"'{term.rhs}'; LMS needs a recursive model."
            )
        cands = [i for i, v in ((ia, term.a), (ib, term.b)) if v in exo_lv]
        if not cands:
            raise ModelSpecificationError(
                f"line {term.line}: in '{term.outcome} ~ {term.rhs}' neither factor is an "
                "exogenous latent variable; LMS integrates over one factor of each product, "
                "which must be latent and exogenous (for an observed variable define a "
                "single-indicator latent variable with a non-zero fixed residual variance, "
                "e.g. 'X =~ x1' and 'x1 ~~ 0.1*x1')."
            )
        pairs.append((k, ia, ib, cands))
    # the smallest set of integrated variables that holds a factor of every product
    # (fewest quadrature dimensions); ties go to the first factors written
    order = list(dict.fromkeys(i for *_, cands in pairs for i in cands))
    Z: list[int] = []
    for size in range(1, len(order) + 1):
        for subset in itertools.combinations(order, size):
            if all(set(cands) & set(subset) for *_, cands in pairs):
                Z = list(subset)
                break
        if Z:
            break
    if len(Z) > 3:
        raise ModelSpecificationError(
            f"the product terms need {len(Z)} integrated latent variables; LMS with more than "
            "3 dimensions is too slow here — reuse moderators across products."
        )
    triples = [(k, ia, ib) if ia in Z else (k, ib, ia) for k, ia, ib, _ in pairs]
    return triples, Z


def _product_rows(
    pt: ParTable, terms: tuple[ProductTerm, ...], tie_regressions: bool, partial: set[str]
) -> ParTable:
    """The linear parameter table with one ``~`` row per product term and group appended
    after every parameter row (so the row indices of the linear model do not change).

    Modifiers apply per group as for any term (``c(b1, b2)*x:z``); with
    ``tie_regressions`` (``group_equal="regressions"``) the coefficient of a product in
    groups 2, 3, ... takes the label (or plabel) of group 1's, unless it is labelled or
    named in ``partial`` (``"y~x:z"``).  Free product rows are numbered after the
    linear parameters.
    """
    nfree = pt.nfree
    table = pt.table
    ngroups = pt.ngroups
    next_id = int(table["id"].max()) + 1
    rows: list[dict] = []
    head: dict[int, int] = {}
    for g in range(1, ngroups + 1):
        for i, term in enumerate(terms):
            r, m = term.relation, term.modifiers
            fixed = modifier_for_group(m.fixed, g, ngroups, r, "fixed-value")
            start = modifier_for_group(m.start, g, ngroups, r, "start")
            label = modifier_for_group(m.label, g, ngroups, r, "label")
            is_free = fixed is ABSENT or fixed is None
            ustart = np.nan if is_free else float(fixed)
            if is_free and start is not ABSENT and start is not None:
                ustart = float(start)
            label = "" if label is ABSENT or label is None else label
            keys = {f"{term.outcome}~{term.a}:{term.b}", f"{term.outcome}~{term.b}:{term.a}"}
            if g == 1:
                head[i] = len(rows)
            elif (
                tie_regressions and is_free and rows[head[i]]["free"] and not label
                and not keys & partial
            ):  # fmt: skip
                first = rows[head[i]]
                first["label"] = first["label"] or first["plabel"]  # as lavaan's plabel tie
                label = first["label"]
            rows.append(
                {
                    "id": next_id, "lhs": term.outcome, "op": "~", "rhs": term.rhs, "user": 1,
                    "block": g, "group": g, "free": int(is_free), "ustart": ustart, "exo": 0,
                    "label": label, "plabel": f".p{next_id}.", "lower": -np.inf,
                    "upper": np.inf,
                }
            )  # fmt: skip
            next_id += 1
    extra = pd.DataFrame(rows)
    is_free = extra["free"].to_numpy() > 0
    numbers = np.zeros(len(extra), dtype=int)
    numbers[is_free] = nfree + np.arange(1, is_free.sum() + 1)
    extra["free"] = numbers
    new = pd.concat(
        [table[table["group"] > 0], extra, table[table["group"] <= 0]], ignore_index=True
    )[list(table.columns)]
    return ParTable.from_frame(new, pt.names, pt.groups, pt.meanstructure, pt.constraints)


def _product_indices(
    pt: ParTable, nterms: int, triples: list[tuple[int, int, int]], nfree: int
) -> tuple[tuple[ProductIndex, ...], ...]:
    """Each group's products by RAM index (``triples``: outcome, integrated factor,
    other factor of each term) from the product rows of ``pt`` (``nterms`` per group,
    free coefficients numbered after the ``nfree`` linear parameters)."""
    cols = pt.cols
    rows = np.flatnonzero(_is_product(cols))
    products: list[list[ProductIndex]] = [[] for _ in range(pt.ngroups)]
    for j, r in enumerate(rows.tolist()):
        k, a, b = triples[j % nterms]
        number = int(cols["free"][r])
        free_index = number - nfree - 1 if number else -1
        fixed = 0.0 if number else float(cols["ustart"][r])
        products[int(cols["group"][r]) - 1].append(ProductIndex(k, a, b, free_index, fixed))
    return tuple(tuple(p) for p in products)


def _standardize(
    ext: ParTable,
    ram: Model,
    values: np.ndarray,
    products: list[list[ProductIndex]],
    covs: list[np.ndarray],
    kind: str = "std_all",
) -> np.ndarray:
    """``std_all`` (or ``std_lv``: observed variables unscaled) of every parameter row,
    products last, with SDs from each group's implied moments under the nonlinear model
    (Wen, Marsh & Hau, 2010)."""
    out = np.full(len(values), np.nan)
    group_col = ext.params["group"].to_numpy()
    prod_rows = np.arange(len(values) - sum(len(p) for p in products), len(values))
    for g, cov_all in enumerate(covs):
        c = ram.cells[g]
        sd = np.sqrt(np.clip(np.diag(cov_all), 0, None))
        S = ram.matrices(values, g).S
        rsd = np.sqrt(np.abs(np.diag(S)))
        if kind == "std_lv":
            sd[: ram.p] = 1.0
            rsd[: ram.p] = 1.0
        rows = prod_rows[group_col[prod_rows] == g + 1]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[c.a_rows] = values[c.a_rows] * sd[c.a_j] / sd[c.a_i]
            diag = c.s_i == c.s_j
            out[c.s_rows] = values[c.s_rows] * np.where(
                diag, 1.0 / (sd[c.s_i] * sd[c.s_j]), 1.0 / (rsd[c.s_i] * rsd[c.s_j])
            )
            out[c.m_rows] = values[c.m_rows] / sd[c.m_i]
            for r, pr in zip(rows, products[g], strict=True):
                out[r] = values[r] * sd[pr.a] * sd[pr.b] / sd[pr.k]
    return out
