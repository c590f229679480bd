"""LMS (latent moderated structural equations) estimator: gradient, published results,
recovery, agreement with lavaan under no interaction, probing, errors, CI coverage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tolerances import EST_RTOL, NUMERIC_HESSIAN_RTOL, SE_RTOL

import semnet
from semnet.data.moments import moments_from_frame, validate_frame
from semnet.errors import ModelSpecificationError, OptionError
from semnet.estimation.discrepancy import DISCREPANCIES
from semnet.estimation.lms import (
    LMSLikelihood,
    _integration_plan,
    gauss_hermite,
    lms,
    quadrature_grid,
    split_products,
    trapezoid,
)
from semnet.estimation.lms_likelihood import LMSDiscrepancy, LMSModel, ProductIndex
from semnet.estimation.start import start_values
from semnet.inference.plugins import VCOV, InferenceContext
from semnet.matrices.ram import Model
from semnet.partable.build import partable
from semnet.results import estimates as estimates_builder
from semnet.results.estimates import FittedRows
from semnet.syntax import parse_model

REF = Path(__file__).resolve().parents[1] / "reference" / "lms"

ELEMENTARY = """
X =~ x1 + x2 + x3
Z =~ z1 + z2 + z3
Y =~ y1 + y2 + y3
Y ~ X + Z + X:Z
"""

POPULATION = """
X =~ 0.8*x1 + 0.8*x2 + 0.8*x3
Z =~ 0.8*z1 + 0.8*z2 + 0.8*z3
Y =~ 0.8*y1 + 0.8*y2 + 0.8*y3
Y ~ 0.4*X + 0.3*Z + {omega}*X:Z
X ~~ 0.3*Z
x1 ~~ 0.36*x1
x2 ~~ 0.36*x2
x3 ~~ 0.36*x3
z1 ~~ 0.36*z1
z2 ~~ 0.36*z2
z3 ~~ 0.36*z3
y1 ~~ 0.36*y1
y2 ~~ 0.36*y2
y3 ~~ 0.36*y3
"""

#: modsem's LMS estimates for ``oneInt`` (4 decimals), as printed in the README of
#: github.com/Kss2k/modsemTools (``modsem(m1, oneInt, method = "lms")``, default
#: settings: 24 nodes, adaptive quadrature)
MODSEM_ONEINT = {
    ("X", "=~", "x2"): 0.8034, ("X", "=~", "x3"): 0.9139,
    ("Z", "=~", "z2"): 0.8103, ("Z", "=~", "z3"): 0.8811,
    ("Y", "=~", "y2"): 0.7983, ("Y", "=~", "y3"): 0.8992,
    ("x1", "~1", ""): 1.0218, ("x2", "~1", ""): 1.2146, ("x3", "~1", ""): 0.9184,
    ("z1", "~1", ""): 1.0106, ("z2", "~1", ""): 1.2049, ("z3", "~1", ""): 0.9149,
    ("y1", "~1", ""): 1.0349, ("y2", "~1", ""): 1.2185, ("y3", "~1", ""): 0.9519,
    ("x1", "~~", "x1"): 0.1581, ("x2", "~~", "x2"): 0.1621, ("x3", "~~", "x3"): 0.1645,
    ("z1", "~~", "z1"): 0.1667, ("z2", "~~", "z2"): 0.1596, ("z3", "~~", "z3"): 0.1582,
    ("y1", "~~", "y1"): 0.1596, ("y2", "~~", "y2"): 0.1544, ("y3", "~~", "y3"): 0.1635,
    ("X", "~~", "X"): 0.9811, ("X", "~~", "Z"): 0.1999, ("Z", "~~", "Z"): 1.0173,
    ("Y", "~~", "Y"): 0.9801,
    ("Y", "~", "X"): 0.6721, ("Y", "~", "Z"): 0.5680, ("Y", "~", "X:Z"): 0.7181,
}  # fmt: skip
#: modsem 1.0.12's lms_qml vignette (modsem.org/articles/lms_qml.html): log-likelihood,
#: AIC and BIC of the same fit (31 parameters, n = 2000)
MODSEM_ONEINT_FIT = {"loglik": -17493.60, "aic": 35049.20, "bic": 35222.83}


def _est(fit, lhs, op, rhs) -> pd.Series:
    e = fit.estimates()
    row = e[(e["lhs"] == lhs) & (e["op"] == op) & (e["rhs"] == rhs)]
    assert len(row) == 1, (lhs, op, rhs)
    return row.iloc[0]


@pytest.fixture(scope="module")
def one_int() -> pd.DataFrame:
    return pd.read_csv(REF / "oneInt.csv")


@pytest.fixture(scope="module")
def one_int_fit(one_int):
    return lms(ELEMENTARY, one_int)


@pytest.fixture(scope="module")
def lavaan_linear() -> dict:
    return json.loads((REF / "lavaan_linear.json").read_text())


# -- building blocks -------------------------------------------------------------------------
def test_split_products_keeps_linear_part():
    linear, terms = split_products(parse_model("Y =~ y1 + y2\nY ~ X + b*X:Z\nX =~ x1\nZ =~ z1"))
    assert [(r.lhs, r.op, r.rhs) for r in linear.relations if r.op == "~"] == [("Y", "~", "X")]
    assert [(t.outcome, t.a, t.b, t.modifiers.label) for t in terms] == [("Y", "X", "Z", ("b",))]
    # an outcome with only a product keeps a fixed-zero path so it stays endogenous
    linear, _ = split_products(parse_model("Y ~ X:Z"))
    (r,) = [r for r in linear.relations if r.op == "~"]
    assert (r.lhs, r.rhs, r.modifiers.fixed) == ("Y", "X", (0.0,))


@pytest.mark.parametrize("rule", ["gh", "trapezoid"])
def test_quadrature_moments(rule):
    U, w, _ = quadrature_grid(rule, 1, None, 0.2)
    assert w.sum() == pytest.approx(1.0)
    assert w @ U[:, 0] == pytest.approx(0.0, abs=1e-12)
    assert w @ U[:, 0] ** 2 == pytest.approx(1.0, abs=1e-8)
    assert w @ U[:, 0] ** 4 == pytest.approx(3.0, abs=5e-6)  # grid truncated at |u| = 6
    U2, w2 = trapezoid(0.3, 2)
    assert np.cov(U2.T, aweights=w2, bias=True) == pytest.approx(np.eye(2), abs=1e-6)
    U3, w3 = gauss_hermite(8, 2)
    assert w3 @ (U3[:, 0] ** 2 * U3[:, 1] ** 2) == pytest.approx(1.0)


def _one_group_setup(one_int):
    """The linear model of ELEMENTARY on the first 300 rows: its RAM model, start
    values, moments and the product term's (outcome, a, b) positions."""
    linear, terms = split_products(parse_model(ELEMENTARY))
    pt = partable(linear, meanstructure=True)
    ram = Model(pt)
    data = one_int.iloc[:300]
    mom = moments_from_frame(validate_frame(data, pt.names.ov, None), pt.names.ov, None, [""])
    v0 = start_values(pt, mom)
    (k, a, b), *_ = _integration_plan(terms, pt, ram)[0]
    return ram, v0, mom, (k, a, b)


def test_analytic_gradient_matches_numerical(one_int):
    ram, v0, mom, (k, a, b) = _one_group_setup(one_int)
    lik = LMSLikelihood(ram, v0, mom[0].data, [ProductIndex(k, a, b, 0, 0.0)], trapezoid(0.3, 1))
    x = v0[ram.free_rows][np.argsort(ram.free[ram.free_rows])]
    rng = np.random.default_rng(3)
    theta = np.concatenate([x, [0.4]]) + rng.normal(0, 0.03, x.size + 1)
    _, grad = lik.loglik(theta, gradient=True)
    num = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = 1e-6
        num[i] = (lik.loglik(theta + e) - lik.loglik(theta - e)) / 2e-6
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-5)


def test_analytic_gradient_of_a_later_group_matches_numerical(one_int):
    """Group 2's likelihood reads group 2's matrices and its own product coefficient
    (the second of two free ones) from the joint parameter vector."""
    linear, terms = split_products(parse_model(ELEMENTARY))
    pt = partable(linear, groups=["a", "b"], meanstructure=True)
    ram = Model(pt)
    data = one_int.iloc[:600].assign(g=["a", "b"] * 300)
    mom = moments_from_frame(validate_frame(data, pt.names.ov, "g"), pt.names.ov, "g",
                             ["a", "b"])  # fmt: skip
    v0 = start_values(pt, mom)
    (k, a, b), *_ = _integration_plan(terms, pt, ram)[0]
    lik = LMSLikelihood(ram, v0, mom[1].data, [ProductIndex(k, a, b, 1, 0.0)],
                        trapezoid(0.3, 1), group=1, n_omega=2)  # fmt: skip
    x = v0[ram.free_rows][np.argsort(ram.free[ram.free_rows])]
    rng = np.random.default_rng(4)
    theta = np.concatenate([x, [0.1, 0.4]]) + rng.normal(0, 0.03, x.size + 2)
    _, grad = lik.loglik(theta, gradient=True)
    num = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = 1e-6
        num[i] = (lik.loglik(theta + e) - lik.loglik(theta - e)) / 2e-6
    np.testing.assert_allclose(grad, num, rtol=1e-6, atol=1e-5)
    group1 = pt.params["group"].to_numpy() == 1
    assert np.all(grad[ram.free[group1 & (ram.free > 0)] - 1] == 0)  # group 1's parameters
    assert grad[x.size] == 0 and grad[x.size + 1] != 0


@pytest.mark.parametrize("two_dimensions", [False, True])
def test_casewise_scores_are_each_cases_gradient(one_int, two_dimensions):
    """The scores of the cases add up to the analytic gradient, and a case's score does
    not depend on the other cases: the first 100 rows' scores add up to the gradient of
    the likelihood of those rows alone.  With ``two_dimensions`` the product is split in
    two halves integrated over X and over Z (two quadrature dimensions: the Cholesky
    factor's derivative enters)."""
    ram, v0, mom, (k, a, b) = _one_group_setup(one_int)
    products = [ProductIndex(k, a, b, 0, 0.0)]
    grid = trapezoid(0.3, 1)
    if two_dimensions:
        products.append(ProductIndex(k, b, a, 1, 0.0))
        grid = trapezoid(0.5, 2)
    x = v0[ram.free_rows]
    rng = np.random.default_rng(5)
    theta = np.concatenate([x, [0.3, 0.2][: len(products)]])
    theta = theta + rng.normal(0, 0.03, theta.size)
    lik = LMSLikelihood(ram, v0, mom[0].data, products, grid)
    scores = lik.casewise_scores(theta)
    _, grad = lik.loglik(theta, gradient=True)
    assert scores.shape == (300, theta.size)
    np.testing.assert_allclose(scores.sum(axis=0), grad, rtol=1e-9, atol=1e-9)
    head = LMSLikelihood(ram, v0, mom[0].data[:100], products, grid)
    np.testing.assert_allclose(scores[:100].sum(axis=0), head.loglik(theta, gradient=True)[1],
                               rtol=1e-9, atol=1e-9)  # fmt: skip


def test_the_lms_discrepancy_serves_the_registrys_plugins(one_int_fit):
    """The registry's LMS row: its discrepancy is -logL/N with the protocol's members;
    the standard errors of the fit are the ``standard`` plug-in's with the observed
    information."""
    plugin = DISCREPANCIES.get("lms")
    assert plugin.latent_products == "LMS" and DISCREPANCIES.get("ML").latent_products == "LMS"
    assert "robust_huber_white" in plugin.vcov and "robust_sem" not in plugin.vcov
    fit = one_int_fit
    with pytest.raises(OptionError, match="not available with LMS"):
        lms(ELEMENTARY, pd.DataFrame(), se="robust.sem")
    disc = LMSDiscrepancy(fit_model(fit), fit.moments, fit.values[: fit.model.free.size],
                          quadrature_grid("trapezoid", 1, None, fit.spacing))  # fmt: skip
    assert disc.nodes == fit.nodes and disc.ntotal == fit.ntotal == 2000
    ev = disc.evaluate(fit.x)
    assert ev.f == pytest.approx(-fit.loglik / 2000, rel=1e-14)
    assert np.max(np.abs(ev.gradient)) < 1e-6  # at the minimum
    ctx = InferenceContext.of_fit(disc, fit.constraints, fit.x, 0, information="observed")
    scale = np.abs(fit.vcov_free).max()
    np.testing.assert_allclose(VCOV.get("standard").compute(ctx), fit.vcov_free,
                               rtol=NUMERIC_HESSIAN_RTOL, atol=NUMERIC_HESSIAN_RTOL * scale)


def fit_model(fit) -> LMSModel:
    """The LMSModel of a single-group LMS fit of ELEMENTARY."""
    k = {v: i for i, v in enumerate(fit.model.variables)}
    product = ProductIndex(k["Y"], k["X"], k["Z"], 0, 0.0)
    return LMSModel(fit.model, ((product,),), 1, (k["X"],), "trapezoid", None)


def test_sandwich_with_a_zero_product_is_lavaans_mlr(one_int, lavaan_linear):
    """With the product fixed at 0 the LMS likelihood is the normal one, so its sandwich
    (``se="robust.huber.white"``: observed information and casewise scores) must give
    lavaan's MLR standard errors of the linear model."""
    fit = lms(ELEMENTARY.replace("X:Z", "0*X:Z"), one_int, se="robust.huber.white")
    assert fit.se == "robust_huber_white"
    ref = pd.DataFrame(lavaan_linear["oneInt_mlr"]["estimates"])
    merged = ref.merge(fit.estimates(), on=["lhs", "op", "rhs"], suffixes=("_lav", ""))
    free = merged["se_lav"] > 0
    assert free.sum() == 30
    np.testing.assert_allclose(merged["est"], merged["est_lav"], rtol=EST_RTOL, atol=1e-8)
    np.testing.assert_allclose(merged["se"][free], merged["se_lav"][free], rtol=SE_RTOL)
    text = str(fit.summary())
    assert "Sandwich" in text
    # sem() routes interaction="lms" with the sandwich to the same fit
    routed = semnet.sem(ELEMENTARY.replace("X:Z", "0*X:Z"), one_int, interaction="lms",
                        se="robust.huber.white")  # fmt: skip
    assert routed.se == "robust_huber_white"
    np.testing.assert_array_equal(routed.estimates()["se"], fit.estimates()["se"])
    with pytest.raises(OptionError, match=r"robust\.huber\.white"):
        semnet.sem(ELEMENTARY, one_int, interaction="lms", se="robust.sem")


# -- published LMS result: modsem on oneInt ----------------------------------------------------
def test_oneint_matches_modsem(one_int_fit):
    fit = one_int_fit
    assert fit.converged
    for (lhs, op, rhs), value in MODSEM_ONEINT.items():
        row = _est(fit, lhs, op, rhs)
        # 4-decimal prints; modsem's adaptive quadrature leaves the intercepts ~0.0015
        # (0.05 SE) apart, everything else agrees to 0.0016 at most
        assert row["est"] == pytest.approx(value, abs=2.5e-3), (lhs, op, rhs, row["est"])
    assert fit.loglik == pytest.approx(MODSEM_ONEINT_FIT["loglik"], abs=0.1)
    assert fit.aic == pytest.approx(MODSEM_ONEINT_FIT["aic"], abs=0.2)
    assert fit.bic == pytest.approx(MODSEM_ONEINT_FIT["bic"], abs=0.2)
    assert fit.npar == 31


def test_oneint_interaction_se_and_lr(one_int_fit, lavaan_linear):
    fit = one_int_fit
    xz = _est(fit, "Y", "~", "X:Z")
    # modsemTools' bootstrap: 95% percentile interval (0.6639, 0.7732) -> width/3.92 = 0.0279
    assert xz["se"] == pytest.approx(0.0279, abs=0.002)
    assert xz["ci_lower"] < 0.7181 < xz["ci_upper"]
    # H0 is the linear model: exactly lavaan's log-likelihood
    lr = fit.lr_test()
    assert lr["loglik_h0"] == pytest.approx(lavaan_linear["oneInt"]["logl"][0], abs=1e-3)
    assert lr["df_diff"] == 1
    assert lr["chisq_diff"] == pytest.approx(2 * (fit.loglik - lr["loglik_h0"]))
    assert lr["chisq_diff"] > 600 and lr["pvalue"] < 1e-100
    # standardized interaction (Wen, Marsh & Hau 2010): omega sd(X) sd(Z) / sd(Y), with
    # var(Y) from the nonlinear model
    k = {v: i for i, v in enumerate(fit.model.variables)}
    sd = np.sqrt(np.diag(fit.implied_cov))
    assert xz["std_all"] == pytest.approx(xz["est"] * sd[k["X"]] * sd[k["Z"]] / sd[k["Y"]])
    assert 0.4 < xz["std_all"] < 0.5


def test_gauss_hermite_converges_to_trapezoid(one_int_fit, one_int):
    gh = lms(ELEMENTARY, one_int, quadrature="gh", nodes=64)
    assert gh.loglik == pytest.approx(one_int_fit.loglik, abs=0.05)
    np.testing.assert_allclose(gh.values, one_int_fit.values, atol=1e-3)


# -- simulated data ----------------------------------------------------------------------------
def test_recovers_interaction():
    data = semnet.simulate(POPULATION.format(omega=0.3), 2000, seed=11)
    fit = lms(ELEMENTARY, data, std_lv=True)
    assert fit.converged
    xz = _est(fit, "Y", "~", "X:Z")
    assert xz["ci_lower"] < 0.3 < xz["ci_upper"]
    for rhs, true in (("X", 0.4), ("Z", 0.3)):
        row = _est(fit, "Y", "~", rhs)
        assert abs(row["est"] - true) < 3 * row["se"]
    loads = fit.estimates().query("op == '=~'")
    assert np.all(np.abs(loads["est"] - 0.8) < 3.5 * loads["se"])
    assert _est(fit, "X", "~~", "Z")["est"] == pytest.approx(0.3, abs=0.08)


def _measurement(factors: str) -> list[str]:
    """Population measurement part: loadings 1, 0.8, 0.9, residual variances 0.3."""
    lines = []
    for f in factors:
        v = f.lower()
        lines.append(f"{f} =~ 1*{v}1 + 0.8*{v}2 + 0.9*{v}3")
        lines += [f"{v}{i} ~~ 0.3*{v}{i}" for i in (1, 2, 3)]
    return lines


QUADRATIC = "\n".join(
    [*_measurement("XY"), "X ~~ 1*X", "Y ~ 0.4*X + 0.25*X:X", "Y ~~ 0.5*Y"]
)
TWO_INTERACTIONS = "\n".join(
    [*_measurement("XZWY"), "X ~~ 1*X", "Z ~~ 1*Z", "W ~~ 1*W", "X ~~ 0.2*Z", "X ~~ 0.3*W",
     "Z ~~ 0.1*W", "Y ~ 0.4*X + 0.3*Z + 0.2*W + 0.3*X:Z + 0.15*X:W", "Y ~~ 0.5*Y"]
)  # fmt: skip


def _assert_recovered(fit, truth: dict[tuple[str, str, str], float]) -> None:
    """Every planted value within 4 of its estimated SEs (n = 1000: SEs of about 0.03,
    so the bound is about 0.12 and a missed or mis-scaled term fails), and the
    SEs themselves are in the range that n = 1000 implies."""
    for (lhs, op, rhs), true in truth.items():
        row = _est(fit, lhs, op, rhs)
        assert 0.01 < row["se"] < 0.06, (rhs, row["se"])
        assert abs(row["est"] - true) < 4 * row["se"], (rhs, row["est"], true)


def test_recovers_a_quadratic_effect():
    data = semnet.simulate(QUADRATIC, 1000, seed=1)
    fit = semnet.sem("X =~ x1 + x2 + x3\nY =~ y1 + y2 + y3\nY ~ X + X:X", data)
    assert isinstance(fit, semnet.LMSResult) and fit.converged
    assert fit.dimensions == ("X",)
    _assert_recovered(fit, {("Y", "~", "X"): 0.4, ("Y", "~", "X:X"): 0.25})
    assert fit.lr_test()["pvalue"] < 1e-10
    # Wen, Marsh & Hau: omega * var(X) / sd(Y), with var(Y) from the nonlinear model
    b = fit.estimates().set_index(["lhs", "op", "rhs"])
    y = list(fit.model.variables).index("Y")
    expected = b.loc[("Y", "~", "X:X"), "est"] * b.loc[("X", "~~", "X"), "est"] / np.sqrt(
        fit.implied_cov[y, y]
    )
    assert b.loc[("Y", "~", "X:X"), "std_all"] == pytest.approx(expected, rel=1e-10)


@pytest.fixture(scope="module")
def two_interactions():
    data = semnet.simulate(TWO_INTERACTIONS, 1000, seed=2)
    model = """X =~ x1 + x2 + x3
    Z =~ z1 + z2 + z3
    W =~ w1 + w2 + w3
    Y =~ y1 + y2 + y3
    Y ~ X + Z + W + X:Z + X:W"""
    return semnet.sem(model, data), semnet.sem(model, data, interaction="double_mean")


def test_recovers_two_interactions_with_one_integrated_factor(two_interactions):
    fit, _ = two_interactions
    assert fit.converged and fit.dimensions == ("X",)  # X is in both products
    truth = {("Y", "~", "X"): 0.4, ("Y", "~", "Z"): 0.3, ("Y", "~", "W"): 0.2,
             ("Y", "~", "X:Z"): 0.3, ("Y", "~", "X:W"): 0.15}  # fmt: skip
    _assert_recovered(fit, truth)
    assert fit.lr_test()["df_diff"] == 2


def test_two_interactions_agree_with_double_mean_product_indicators(two_interactions):
    """Both estimators are consistent; on the same data their difference has a
    sampling SD of about sqrt(|se_PI^2 - se_LMS^2|) (LMS being the efficient one), so
    they must agree within 3 of those (and a quarter SE at least)."""
    fit, pi = two_interactions
    for rhs in ("X", "Z", "W", "X:Z", "X:W"):
        a, b = _est(fit, "Y", "~", rhs), _est(pi, "Y", "~", rhs)
        tol = max(3 * np.sqrt(abs(b["se"] ** 2 - a["se"] ** 2)), 0.25 * a["se"])
        assert abs(a["est"] - b["est"]) < tol, (rhs, a["est"], b["est"], tol)


def test_no_interaction_agrees_with_lavaan(lavaan_linear):
    data = pd.read_csv(REF / "null_interaction.csv")
    fit = lms(ELEMENTARY, data)
    ref = pd.DataFrame(lavaan_linear["null_interaction"]["estimates"])
    est = fit.estimates()
    assert abs(_est(fit, "Y", "~", "X:Z")["est"]) < 2 * _est(fit, "Y", "~", "X:Z")["se"]
    merged = ref.merge(est, on=["lhs", "op", "rhs"], suffixes=("_lav", ""))
    assert len(merged) == len(ref)
    free = merged["se_lav"] > 0
    # LMS intercepts of Y's indicators are net of E(omega X Z) = omega cov(X, Z): compare
    # the implied means nu + lambda omega phi_XZ with lavaan's intercepts
    b = est.set_index(["lhs", "op", "rhs"])["est"]
    shift = b[("Y", "~", "X:Z")] * b[("X", "~~", "Z")]
    lam = {v: b.get(("Y", "=~", v), 0.0) for v in merged["lhs"]}
    is_y_int = (merged["op"] == "~1") & merged["lhs"].isin(["y1", "y2", "y3"])
    est_cmp = merged["est"] + np.where(is_y_int, merged["lhs"].map(lam) * shift, 0.0)
    # the LMS linear part stays within a tenth of lavaan's SE of lavaan's ML estimates
    diff = np.abs(est_cmp - merged["est_lav"])[free] / merged["se_lav"][free]
    assert diff.max() < 0.1
    np.testing.assert_allclose(merged["se"][free], merged["se_lav"][free], rtol=0.05)
    assert fit.h0_loglik == pytest.approx(lavaan_linear["null_interaction"]["logl"][0], abs=1e-3)
    assert fit.lr_test()["pvalue"] > 0.01


def test_simple_slopes_and_johnson_neyman(one_int_fit):
    fit = one_int_fit
    table = semnet.simple_slopes(fit, "X", "Z")
    b = fit.estimates().set_index(["lhs", "op", "rhs"])["est"]
    sd_z = np.sqrt(b[("Z", "~~", "Z")])
    expected = b[("Y", "~", "X")] + b[("Y", "~", "X:Z")] * sd_z * np.array([-1, 0, 1])
    np.testing.assert_allclose(table["slope"], expected, rtol=1e-10)
    assert table["se"].iloc[1] == pytest.approx(_est(fit, "Y", "~", "X")["se"])
    (jn,) = semnet.johnson_neyman(fit, "X", "Z")
    assert len(jn.bounds) in (0, 1, 2)


def test_fixed_and_labelled_products(one_int):
    fixed = lms(ELEMENTARY.replace("X:Z", "0*X:Z"), one_int.iloc[:500])
    assert fixed.npar == 30
    assert _est(fixed, "Y", "~", "X:Z")["est"] == 0.0
    # a fixed-zero product is the linear model: LMS gives lavaan's ML
    assert fixed.loglik == pytest.approx(fixed.h0_loglik, abs=1e-4)
    lab = lms(ELEMENTARY.replace("X:Z", "b3*X:Z"), one_int.iloc[:500], quadrature="gh")
    assert _est(lab, "Y", "~", "X:Z")["label"] == "b3"


def test_errors(one_int):
    with pytest.raises(ModelSpecificationError, match="no product term"):
        lms("X =~ x1 + x2 + x3\nY =~ y1 + y2 + y3\nY ~ X", one_int)
    with pytest.raises(ModelSpecificationError, match="exogenous latent"):
        lms("Y =~ y1 + y2 + y3\nY ~ x1 + z1 + x1:z1", one_int)
    with pytest.raises(OptionError, match="interaction='double_mean'"):
        lms(ELEMENTARY, one_int, missing="fiml")
    with pytest.raises(ModelSpecificationError, match="2 values but the model has 4"):
        lms(ELEMENTARY.replace("X:Z", "c(1, 2)*X:Z"), one_int.assign(g=[1, 2, 3, 4] * 500),
            group="g")  # fmt: skip
    with pytest.raises(OptionError, match="quadrature"):
        lms(ELEMENTARY, one_int, quadrature="adaptive")
    with pytest.raises(ModelSpecificationError, match="label of a product"):
        lms(ELEMENTARY.replace("X:Z", "b3*X:Z") + "\nd := 2*b3", one_int)


# -- Monte Carlo coverage ----------------------------------------------------------------------
@pytest.mark.slow
def test_interaction_ci_coverage():
    reps, hits = 30, 0
    for r in range(reps):
        data = semnet.simulate(POPULATION.format(omega=0.3), 500, seed=1000 + r)
        fit = lms(ELEMENTARY, data, std_lv=True)
        xz = _est(fit, "Y", "~", "X:Z")
        hits += xz["ci_lower"] < 0.3 < xz["ci_upper"]
    # 95% intervals: with 30 replications, 25 or fewer hits has probability < 2%
    assert hits >= 26


# -- multi-group LMS ---------------------------------------------------------------------------
THREE_GROUPS = "\n".join(
    [*_measurement("XZY"), "X ~~ 1*X", "Z ~~ 1*Z", "X ~~ 0.2*Z", "X ~ c(0, 0.3, -0.2)*1",
     "Y ~ c(0.4, 0.3, 0.5)*X + 0.3*Z + c(0.1, 0.3, 0.5)*X:Z", "Y ~~ 0.5*Y"]
)  # fmt: skip
SIMPLE = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z"


@pytest.fixture(scope="module")
def three_groups():
    data = semnet.simulate(THREE_GROUPS, {"A": 500, "B": 500, "C": 500}, seed=5,
                           group_column="country")  # fmt: skip
    fit = semnet.sem(SIMPLE, data, group="country", interaction="lms",
                     group_equal=("loadings", "intercepts"))  # fmt: skip
    return data, fit


def test_summary_reports_the_lr_test_and_the_estimates(one_int_fit):
    fit = one_int_fit
    summary = fit.summary(standardized=True)
    text = str(summary)
    lr = fit.lr_test()
    assert text.startswith("semnet ")
    assert "ended normally" in text and "ML (LMS)" in text
    assert "Likelihood Ratio Test of the Product Terms:" in text
    assert f"{lr['chisq_diff']:.3f}" in text and f"{fit.loglik:.3f}" in text
    assert f"{fit.aic:.3f}" in text and f"{fit.bic:.3f}" in text
    assert "Observed (numerical Hessian)" in text
    row = fit.estimates().query("op == '~' and rhs == 'X:Z'").iloc[0]
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("X:Z"))
    assert line.split()[1:5] == [f"{row[c]:.3f}" for c in ("est", "se", "z", "pvalue")]
    assert "Std.all" in text and "Std.all" not in str(fit.summary())
    assert "Information Criteria" not in str(fit.summary(fit_measures=False))
    md = summary.to_markdown()
    assert "### Likelihood Ratio Test of the Product Terms" in md and "- : " not in md
    assert summary._repr_html_().startswith("<pre>")


def test_multigroup_summary_shows_each_group(three_groups):
    _, fit = three_groups
    text = str(fit.summary())
    for k, label in enumerate(fit.groups):
        assert f"Group {k + 1} [{label}]:" in text
        assert f"Number of observations [{label}]" in text


def test_multigroup_recovers_group_specific_interactions(three_groups):
    """n = 500 per group: SEs of about 0.04 (paths) and 0.07 (latent means); every
    planted value within 4 SEs, and the three interactions are told apart."""
    _, fit = three_groups
    assert isinstance(fit, semnet.LMSResult) and fit.converged
    assert fit.groups == ["A", "B", "C"] and fit.nobs == {"A": 500, "B": 500, "C": 500}
    est = fit.estimates()
    for g, (bx, bxz, mx) in zip("ABC", ((0.4, 0.1, 0.0), (0.3, 0.3, 0.3), (0.5, 0.5, -0.2)),
                                strict=True):  # fmt: skip
        rows = est[est["group"] == g].set_index(["lhs", "op", "rhs"])
        for key, true in (
            (("Y", "~", "X"), bx), (("Y", "~", "Z"), 0.3), (("Y", "~", "X:Z"), bxz),
            (("X", "~1", ""), mx),
        ):  # fmt: skip
            row = rows.loc[key]
            if row["se"] == 0:  # the reference group's latent mean is fixed at 0
                assert row["est"] == true == 0.0
                continue
            assert 0.02 < row["se"] < 0.1, (g, key, row["se"])
            assert abs(row["est"] - true) < 4 * row["se"], (g, key, row["est"], true)
    xz = est[est["rhs"] == "X:Z"]
    assert xz["est"].is_monotonic_increasing and len(xz) == 3
    # loadings equal across groups, product coefficients free
    loads = est[(est["op"] == "=~") & (est["rhs"] == "x2")]
    assert loads["est"].nunique() == 1
    lr = fit.lr_test()
    assert lr["df_diff"] == 3 and lr["pvalue"] < 1e-20
    assert fit.npar == fit.h0_npar + 3


def test_multigroup_with_one_group_is_single_group_lms():
    data = semnet.simulate(THREE_GROUPS, {"A": 400, "B": 10, "C": 10}, seed=6,
                           group_column="country")  # fmt: skip
    one = data[data["country"] == "A"].reset_index(drop=True)
    grouped = semnet.sem(SIMPLE, one, group="country", interaction="lms")
    single = semnet.sem(SIMPLE, one.drop(columns="country"))
    assert grouped.groups == ["A"] and single.groups == [""]
    a, b = grouped.estimates(), single.estimates()
    assert a[["lhs", "op", "rhs"]].equals(b[["lhs", "op", "rhs"]])
    for col in ("est", "se", "std_all"):
        np.testing.assert_array_equal(a[col].to_numpy(), b[col].to_numpy())
    assert grouped.loglik == single.loglik and grouped.npar == single.npar


def test_group_equal_equals_explicit_labels(three_groups):
    """group_equal=("loadings", "intercepts") is the same model as labels on every
    loading and intercept with the latent means of groups 2 and 3 freed."""
    data, fit = three_groups
    lines = []
    for f in "XZY":
        v = f.lower()
        lines.append(f"{f} =~ {v}1 + c(l{v}2, l{v}2, l{v}2)*{v}2 + c(l{v}3, l{v}3, l{v}3)*{v}3")
        lines += [f"{v}{i} ~ c(i{v}{i}, i{v}{i}, i{v}{i})*1" for i in (1, 2, 3)]
        lines.append(f"{f} ~ c(0, NA, NA)*1")
    lines.append("Y ~ X + Z + X:Z")
    explicit = semnet.sem("\n".join(lines), data, group="country", interaction="lms")
    assert explicit.npar == fit.npar
    assert explicit.loglik == pytest.approx(fit.loglik, abs=1e-6)
    a = fit.estimates().set_index(["lhs", "op", "rhs", "group"])
    b = explicit.estimates().set_index(["lhs", "op", "rhs", "group"]).loc[a.index]
    np.testing.assert_allclose(b["est"], a["est"], atol=1e-5)
    np.testing.assert_allclose(b["se"], a["se"], rtol=1e-3, atol=1e-6)


def test_regressions_tie_product_coefficients_unless_partial(three_groups):
    data, fit = three_groups
    tied = semnet.lms(SIMPLE, data, group="country",
                      group_equal=("loadings", "intercepts", "regressions"))  # fmt: skip
    xz = tied.estimates().query("rhs == 'X:Z'")
    assert xz["est"].nunique() == 1 and xz["se"].nunique() == 1
    assert tied.npar == fit.npar - 2 - 2 * 2  # X:Z, Y~X, Y~Z tied over three groups
    free_xz = semnet.lms(SIMPLE, data, group="country", group_partial="Y ~ X:Z",
                         group_equal=("loadings", "intercepts", "regressions"))  # fmt: skip
    assert free_xz.npar == tied.npar + 2
    assert free_xz.estimates().query("rhs == 'X:Z'")["est"].nunique() == 3
    # a single label ties the product across groups as well
    labelled = semnet.lms(SIMPLE.replace("X:Z", "b3*X:Z"), data, group="country",
                          group_equal=("loadings", "intercepts"))  # fmt: skip
    assert labelled.npar == fit.npar - 2
    assert labelled.loglik < fit.loglik


def test_multigroup_probing_per_group(three_groups):
    _, fit = three_groups
    slopes = semnet.simple_slopes(fit, "X", "Z")
    assert slopes["group"].tolist() == ["A"] * 3 + ["B"] * 3 + ["C"] * 3
    est = fit.estimates()
    for g in "ABC":
        rows = est[est["group"] == g].set_index(["lhs", "op", "rhs"])["est"]
        mid = slopes[(slopes["group"] == g) & (slopes["at"] == 0)]
        # at the moderator's mean (0 in every group: Z's mean is not free) the slope is b_X
        assert mid["slope"].iloc[0] == pytest.approx(
            rows[("Y", "~", "X")] + rows[("Y", "~", "X:Z")] * rows[("Z", "~1", "")]
        )
    assert len(semnet.johnson_neyman(fit, "X", "Z")) == 3
    assert set(fit.implied()) == {"A", "B", "C"}
    with pytest.raises(semnet.SemnetError, match="implied_covs"):
        _ = fit.implied_cov


@pytest.mark.parametrize("grouped", [False, True])
def test_estimates_share_the_fit_builder(grouped, one_int, one_int_fit, three_groups,
                                         monkeypatch):  # fmt: skip
    """LMSResult and Fit build their tables with the same function: the columns and
    dtypes of a linear Fit of the same model, the product rows after the linear ones,
    and the same group facts."""
    data, fit = three_groups if grouped else (one_int, one_int_fit)
    kw = {"group": "country", "group_equal": ("loadings", "intercepts")} if grouped else {}
    linear = semnet.sem(SIMPLE.replace(" + X:Z", ""), data, **kw)
    assert isinstance(fit, FittedRows) and isinstance(linear, FittedRows)
    assert fit.n_dropped == {g: 0 for g in fit.groups} and fit.groups == linear.groups
    calls = []

    def spy(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    original = estimates_builder.estimates_table
    monkeypatch.setattr(estimates_builder, "estimates_table", spy)
    lms_table, fit_table = fit.estimates(), linear.estimates()
    assert len(calls) == 2
    assert list(lms_table.columns) == list(fit_table.columns)
    assert lms_table.dtypes.equals(fit_table.dtypes)
    n = len(fit.linear_partable.params)
    assert (lms_table["rhs"].iloc[n:] == "X:Z").all()
    assert len(lms_table) == n + len(fit.groups)


def test_an_lms_fit_is_a_fit(one_int_fit):
    """LMSResult is a Fit: its sample, options and record; R² from the nonlinear model's
    variance (the product's share included); what a normal model alone has is refused
    with a message that names the alternative."""
    fit = one_int_fit
    assert isinstance(fit, semnet.Fit) and fit.options.se == fit.se == "standard"
    assert fit.sample.ntotal == fit.ntotal == 2000 and fit.fmin == pytest.approx(-fit.loglik / 2000)
    assert fit.meta["optimizer"] == "BFGS, then Newton-Raphson"
    assert np.isnan(fit.chisq) and np.isnan(fit.df)
    # the registry's discrepancy of the fit, on the fit's own grid, at its minimum
    disc = fit.discrepancy()
    assert disc.nodes == fit.nodes and disc.evaluate(fit.x, derivatives=False).f == fit.fmin
    r2 = fit.r_squared().set_index("name")["r2"]
    b = fit.estimates().set_index(["lhs", "op", "rhs"])["est"]
    y = list(fit.model.variables).index("Y")
    assert r2["Y"] == pytest.approx(1 - b[("Y", "~~", "Y")] / fit.implied_cov[y, y], rel=1e-12)
    resid = fit.residuals()[""]
    assert np.abs(resid["mean"].to_numpy()).max() < 1e-3
    for call in (fit.modindices, fit.standardized, fit.score_test):
        with pytest.raises(semnet.SemnetError, match="not available for an LMS fit"):
            call()
    with pytest.raises(OptionError, match=r"robust\.huber\.white"):
        semnet.bootstrap(fit, n=2)


def test_plot_draws_the_product_term_as_a_moderation_arrow(one_int_fit, tmp_path):
    svg = one_int_fit.plot(tmp_path / "lms.svg", labels={"X:Z": "X × Z"})
    assert (tmp_path / "lms.svg").read_text(encoding="utf-8") == svg
    assert 'class="edge moderation" data-owner="X:Z-&gt;Y"' in svg
    assert ">X × Z: " in svg
