"""Alignment optimization (semnet.alignment): recovery of planted factor means,
variances and non-invariant parameters, the loss and its gradient, the delta-method
Jacobian, two groups, and bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from tolerances import EXACT_ATOL, GRAD_RTOL, JACOBIAN_RTOL, MIN_MEAN_CORRELATION

import semnet
from semnet.analyses.alignment import AlignmentResult, alignment
from semnet.analyses.alignment_invariance import invariant_set
from semnet.analyses.alignment_loss import (
    Identification,
    loss_and_gradient,
    minimize_loss,
    reported,
    reported_jacobian,
    theta_gradient,
)
from semnet.errors import (
    DataError,
    ModelSpecificationError,
    OptionError,
    SemnetWarning,
)

GROUPS = 12
ITEMS = 5
MODEL = "f =~ y1 + y2 + y3 + y4 + y5"
#: the planted non-invariant parameters: (parameter, group index, population value)
PLANTED = (("f=~y3", 3, 0.35), ("y2~1", 5, 0.6), ("y4~1", 9, -0.6))


def _population(lams: np.ndarray, nus: np.ndarray, means: np.ndarray, var: np.ndarray
                ) -> str:
    def c(values) -> str:
        return "c(" + ", ".join(f"{v:g}" for v in values) + ")"

    lines = ["f =~ " + " + ".join(f"{c(lams[j])}*y{j + 1}" for j in range(len(lams)))]
    for j in range(len(lams)):
        lines += [f"y{j + 1} ~ {c(nus[j])}*1", f"y{j + 1} ~~ 0.3*y{j + 1}"]
    lines += [f"f ~ {c(means)}*1", f"f ~~ {c(var)}*f"]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def survey() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Twelve countries with known factor means and variances and three planted
    non-invariant parameters."""
    rng = np.random.default_rng(3)
    means = np.round(rng.normal(0.0, 0.4, GROUPS), 3)
    var = np.round(np.exp(rng.normal(0.0, 0.2, GROUPS)), 3)
    means[0], var[0] = 0.0, 1.0
    lams = np.tile(np.array([[0.8], [0.7], [0.75], [0.65], [0.7]]), (1, GROUPS))
    nus = np.zeros((ITEMS, GROUPS))
    lams[2, 3] = 0.35
    nus[1, 5], nus[3, 9] = 0.6, -0.6
    groups = {f"C{g:02d}": 250 for g in range(GROUPS)}
    data = semnet.simulate(_population(lams, nus, means, var), groups, seed=4,
                           group_column="country")
    return data, means, var


@pytest.fixture(scope="module")
def fixed(survey) -> AlignmentResult:
    return alignment(MODEL, survey[0], group="country", method="FIXED")


@pytest.fixture(scope="module")
def free(survey) -> AlignmentResult:
    with warnings.catch_warnings():
        warnings.simplefilter("error", SemnetWarning)  # well identified: no warning
        return alignment(MODEL, survey[0], group="country")


# -- recovery -------------------------------------------------------------------------
def test_fixed_recovers_means_and_variances(fixed, survey) -> None:
    _, means, var = survey
    fm = fixed.factor_means()
    assert fm.columns.tolist() == ["group", "factor", "mean", "variance", "se",
                                   "se_variance"]
    assert np.corrcoef(fm["mean"], means)[0, 1] >= MIN_MEAN_CORRELATION
    assert np.corrcoef(fm["variance"], var)[0, 1] >= 0.7
    ref = fm.iloc[0]
    assert (ref["mean"], ref["variance"], ref["se"], ref["se_variance"]) == (0, 1, 0, 0)
    # every other mean lies within 3 standard errors of the truth
    z = (fm["mean"] - means)[1:] / fm["se"][1:]
    assert np.all(np.abs(z) < 3.0)


def test_free_recovers_means_and_agrees_with_fixed_up_to_a_shift(free, fixed, survey) -> None:
    fm, ff = free.factor_means(), fixed.factor_means()
    assert np.corrcoef(fm["mean"], survey[1])[0, 1] >= MIN_MEAN_CORRELATION
    assert fm["mean"].iloc[0] != 0 and fm["variance"].iloc[0] == pytest.approx(1.0)
    shifted = fm["mean"] - fm["mean"].iloc[0]
    assert np.max(np.abs(shifted - ff["mean"])) < 0.05
    assert np.max(np.abs(fm["variance"] - ff["variance"])) < 0.05
    assert np.isfinite(free.factors[0].identification_ratio)
    assert free.factors[0].identification_ratio < 2.0


@pytest.mark.parametrize("which", ["fixed", "free"])
def test_invariance_flags_the_planted_parameters(which, request) -> None:
    res = request.getfixturevalue(which)
    inv = res.invariance()
    assert inv.columns.tolist() == ["factor", "param", "group", "invariant", "est",
                                    "set_mean", "diff", "se", "pvalue"]
    assert len(inv) == 2 * ITEMS * GROUPS
    flagged = set(zip(inv.loc[~inv["invariant"], "param"],
                      inv.loc[~inv["invariant"], "group"], strict=True))
    planted = {(param, f"C{g:02d}") for param, g, _ in PLANTED}
    assert planted <= flagged
    assert len(flagged - planted) <= 3  # few false flags among 117 parameters
    # the invariant set's mean of a planted loading is near the common loading 0.75
    row = inv[(inv["param"] == "f=~y3") & (inv["group"] == "C03")].iloc[0]
    assert row["est"] < row["set_mean"] - 0.2


def test_noninvariance_share_and_table(fixed) -> None:
    share = fixed.noninvariance()
    assert share["factor"].tolist() == ["f", "all"]
    n_non = int((~fixed.invariance()["invariant"]).sum())
    assert share["n_noninvariant"].tolist() == [n_non, n_non]
    assert share["percent"].iloc[0] == pytest.approx(100 * n_non / (2 * ITEMS * GROUPS))
    assert bool(share["within_limit"].iloc[0])
    text = fixed.to_markdown()
    assert "**Aligned factor means and variances**" in text
    assert "| C01 | f |" in text and "rule of thumb: at most 25%" in text
    params = fixed.parameters()
    assert params["param"].unique().tolist()[:2] == ["f=~y1", "f=~y2"]
    assert len(params) == 2 * ITEMS * GROUPS


# -- the loss, its gradient and the delta method ----------------------------------------
def _random_configural(seed: int, items: int = 4, groups: int = 5):
    rng = np.random.default_rng(seed)
    lam0 = rng.uniform(0.5, 1.0, (items, groups))
    nu0 = rng.normal(0.0, 0.4, (items, groups))
    n = rng.integers(100, 400, groups).astype(float)
    return lam0, nu0, np.sqrt(np.outer(n, n))


def _central(func, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    return np.array([(func(x + h * e) - func(x - h * e)) / (2 * h) for e in np.eye(x.size)])


def test_gradient_matches_finite_differences() -> None:
    lam0, nu0, w = _random_configural(7)
    rng = np.random.default_rng(8)
    alpha, logpsi = rng.normal(0, 0.5, 5), rng.normal(0, 0.3, 5)
    x = np.concatenate([alpha, logpsi])

    def loss(v):
        return loss_and_gradient(v[:5], np.exp(v[5:]), lam0, nu0, w)[0]

    grad = loss_and_gradient(alpha, np.exp(logpsi), lam0, nu0, w)[1]
    np.testing.assert_allclose(grad, _central(loss, x), rtol=GRAD_RTOL, atol=1e-6)


@pytest.mark.parametrize("method", ["FIXED", "FREE"])
def test_theta_gradient_matches_finite_differences(method) -> None:
    lam0, nu0, w = _random_configural(9)
    ident = Identification(method, 5, reference=2)
    theta = np.random.default_rng(10).normal(0, 0.4, ident.size)
    grad = theta_gradient(theta, ident, lam0, nu0, w)[1]
    numeric = _central(lambda t: theta_gradient(t, ident, lam0, nu0, w)[0], theta)
    np.testing.assert_allclose(grad, numeric, rtol=GRAD_RTOL, atol=1e-6)
    alpha, psi = ident.unpack(theta)
    assert np.prod(psi) == pytest.approx(1.0)
    assert method == "FREE" or alpha[2] == 0.0
    np.testing.assert_allclose(ident.pack(alpha, psi), theta)


@pytest.mark.parametrize("method", ["FIXED", "FREE"])
def test_delta_method_jacobian_matches_reoptimizing(method) -> None:
    """d(reported)/d(configural) by the implicit function theorem equals the change of
    the re-optimized solution after a small change of the configural estimates."""
    lam0, nu0, w = _random_configural(11)
    lam0[0, 1] += 0.4  # some loading non-invariance: FREE is identified
    lam0[2, 3] -= 0.3
    ident = Identification(method, 5, reference=0)
    shape = lam0.shape
    eta = np.concatenate([lam0.ravel(), nu0.ravel()])
    theta = minimize_loss(ident, lam0, nu0, w, starts=3)[0]
    jac, hess = reported_jacobian(theta, eta, ident, shape, w)
    assert np.linalg.eigvalsh(hess).min() > 0
    step = 1e-4 * np.random.default_rng(12).normal(size=eta.size)
    moved = eta + step
    theta2 = minimize_loss(ident, moved[: lam0.size].reshape(shape),
                           moved[lam0.size :].reshape(shape), w, starts=3)[0]
    change = reported(theta2, moved, ident, shape) - reported(theta, eta, ident, shape)
    np.testing.assert_allclose(jac @ step, change, atol=JACOBIAN_RTOL * np.abs(change).max())


# -- two groups -------------------------------------------------------------------------
TWO_GROUPS = """
f =~ 0.8*y1 + 0.7*y2 + 0.75*y3 + 0.65*y4
y1 ~~ 0.3*y1
y2 ~~ 0.3*y2
y3 ~~ 0.3*y3
y4 ~~ 0.3*y4
f ~ c(0, 0.5)*1
f ~~ c(1, 1.44)*f
"""


def test_two_groups_exact_invariance_is_recovered_exactly() -> None:
    """With exactly invariant population moments, every aligned difference can be 0:
    FIXED returns the population mean and variance, and equal aligned parameters."""
    data = semnet.simulate(TWO_GROUPS, {"A": 200, "B": 300}, seed=2, empirical=True)
    res = alignment("f =~ y1 + y2 + y3 + y4", data, group="group", method="FIXED")
    fm = res.factor_means()
    np.testing.assert_allclose(fm["mean"], [0.0, 0.5], atol=EXACT_ATOL)
    np.testing.assert_allclose(fm["variance"], [1.0, 1.44], atol=EXACT_ATOL)
    wide = res.parameters().pivot(index="param", columns="group", values="est")
    np.testing.assert_allclose(wide["A"], wide["B"], atol=EXACT_ATOL)
    assert res.invariance()["invariant"].all()


def test_two_groups_free_is_poorly_identified_under_exact_invariance() -> None:
    """Invariant loadings leave FREE's common level of the means undetermined: the
    warning advises FIXED, as Mplus does."""
    data = semnet.simulate(TWO_GROUPS, {"A": 200, "B": 300}, seed=2, empirical=True)
    with pytest.warns(SemnetWarning, match="poorly identified.*method='FIXED'"):
        res = alignment("f =~ y1 + y2 + y3 + y4", data, group="group", method="free")
    assert res.factors[0].identification_ratio > 2.0
    assert res.warnings and "poorly identified" in res.table().to_markdown()


def test_two_groups_with_noise_zero_some_differences_only() -> None:
    """With sampling noise, two groups give two free alignment parameters (a mean and
    a variance), not enough to zero all 2 x 4 differences: the simplicity loss zeroes
    some (up to its smoothing) and leaves the others."""
    data = semnet.simulate(TWO_GROUPS, {"A": 200, "B": 300}, seed=2)
    res = alignment("f =~ y1 + y2 + y3 + y4", data, group="group", method="FIXED")
    wide = res.parameters().pivot(index="param", columns="group", values="est")
    diffs = np.sort(np.abs(wide["A"] - wide["B"]).to_numpy())
    assert diffs[0] < 0.005
    assert diffs[-1] > 0.05


# -- the invariant-set procedure ----------------------------------------------------------
def test_invariant_set_starts_from_the_largest_compatible_set() -> None:
    est = np.array([0.0, 0.05, 0.5, 0.55, 0.52, 0.48])
    res = invariant_set(est, np.eye(6) * 0.01, np.full(6, 100.0))
    assert res.invariant.tolist() == [False, False, True, True, True, True]
    assert res.set_mean == pytest.approx(est[2:].mean())
    assert np.all(res.pvalue[:2] <= 0.001) and np.all(res.pvalue[2:] > 0.001)


# -- bad input --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small() -> pd.DataFrame:
    return semnet.simulate("f =~ 0.8*y1 + 0.7*y2 + 0.7*y3\ng =~ 0.8*z1 + 0.7*z2",
                           {"A": 150, "B": 150}, seed=5)


def test_one_group_is_refused(small) -> None:
    one = small[small["group"] == "A"]
    with pytest.raises(DataError, match="at least two groups"):
        alignment("f =~ y1 + y2 + y3", one, group="group")
    with pytest.raises(DataError, match="group="):
        alignment("f =~ y1 + y2 + y3", small)


def test_factor_with_two_items_is_refused(small) -> None:
    with pytest.raises(ModelSpecificationError, match="at least 3 items per factor; 'g' has 2"):
        alignment("f =~ y1 + y2 + y3\ng =~ z1 + z2", small, group="group")


@pytest.mark.parametrize(("model", "message"), [
    ("f =~ y1 + y2 + y3 + z1\ng =~ z1 + y1 + z2", "simple structure"),
    ("f =~ y1 + y2 + y3\nz1 ~ f", "measurement model only"),
    ("f =~ y1 + y2 + 0.5*y3", "free in the configural model"),
])
def test_unsupported_models_are_refused(small, model, message) -> None:
    with pytest.raises(ModelSpecificationError, match=message):
        alignment(model, small, group="group")


def test_bad_options_are_refused(small) -> None:
    with pytest.raises(OptionError, match="'FREE', 'FIXED'"):
        alignment("f =~ y1 + y2 + y3", small, group="group", method="free-ish")
    with pytest.raises(OptionError, match="reference='Z' is not a group"):
        alignment("f =~ y1 + y2 + y3", small, group="group", reference="Z")
    with pytest.raises(OptionError, match="std_lv"):
        alignment("f =~ y1 + y2 + y3", small, group="group", std_lv=False)
    with pytest.raises(OptionError, match="starts"):
        alignment("f =~ y1 + y2 + y3", small, group="group", starts=0)
    with pytest.raises(OptionError, match="seed must be a whole number >= 0"):
        alignment("f =~ y1 + y2 + y3", small, group="group", seed="a")


def test_exported_from_semnet() -> None:
    assert semnet.alignment is alignment and semnet.AlignmentResult is AlignmentResult


def test_robust_estimator_and_fiml_pass_through() -> None:
    """MLR with FIML: the same aligned means as ML with FIML (the estimates are the
    same), robust standard errors from the configural fit's robust vcov."""
    data = semnet.simulate(TWO_GROUPS, {"A": 200, "B": 300}, seed=6, missing=0.05)
    ml = alignment("f =~ y1 + y2 + y3 + y4", data, group="group", method="FIXED",
                   missing="fiml")
    mlr = alignment("f =~ y1 + y2 + y3 + y4", data, group="group", method="FIXED",
                    estimator="MLR", missing="fiml")
    assert mlr.configural.options.estimator == "MLR"
    np.testing.assert_allclose(mlr.factor_means()["mean"], ml.factor_means()["mean"],
                               atol=1e-6)
    assert mlr.factor_means()["se"].iloc[1] != pytest.approx(ml.factor_means()["se"].iloc[1])


def _check_data():
    countries = ["AT", "BR", "CN", "DE", "FR", "IN"]
    pop = """trust =~ 0.8*t1 + 0.7*t2 + 0.75*t3 + 0.65*t4
trust ~ c(0, 0.4, -0.3, 0.2, 0.5, -0.5)*1
trust ~~ c(1, 1.2, 0.8, 1, 1.3, 0.9)*trust
t1 ~~ 0.3*t1
t2 ~~ 0.3*t2
t3 ~~ 0.3*t3
t4 ~~ 0.3*t4"""
    data = semnet.simulate(pop, {c: 200 for c in countries}, seed=4, group_column="country")
    return semnet.alignment("trust =~ t1 + t2 + t3 + t4", data, group="country",
                            method="FIXED")  # fmt: skip


def test_simulate_check_population_reproduces_the_configural_moments():
    """The generating model is the aligned solution: in every group its implied item
    means and variances are the configural model's."""
    from semnet.analyses.alignment_check import population_model

    res = _check_data()
    text = population_model(res)
    data = semnet.simulate(text, dict.fromkeys(res.groups, 50), seed=1, group_column="country")
    assert data.groupby("country").size().tolist() == [50] * 6
    params = res.parameters()
    means = res.factor_means().set_index("group")
    conf = res.configural.estimates(standardized=False)
    def one(frame, **where):
        mask = np.ones(len(frame), dtype=bool)
        for column, value in where.items():
            mask &= (frame[column] == value).to_numpy()
        return frame.loc[mask, "est"].item()

    for g in res.groups:
        for item in ("t1", "t3"):
            lam = one(params, param=f"trust=~{item}", group=g)
            nu = one(params, param=f"{item}~1", group=g)
            nu0 = one(conf, lhs=item, op="~1", group=g)
            lam0 = one(conf, lhs="trust", op="=~", rhs=item, group=g)
            assert nu + lam * means.loc[g, "mean"] == pytest.approx(nu0, abs=1e-8)
            assert lam**2 * means.loc[g, "variance"] == pytest.approx(lam0**2, rel=1e-8)


def test_simulate_check_recovers_the_means_and_is_reproducible():
    res = _check_data()
    check = res.simulate_check(reps=12, seed=3)
    row = check.summary.iloc[0]
    assert row["reps"] == 12 and row["failed"] == 0
    assert row["mean_correlation"] >= MIN_MEAN_CORRELATION
    assert row["mean_abs_bias"] < 0.1
    assert len(check.correlations) == 12
    assert set(check.groups["group"]) == set(res.groups)
    # the reference group is the origin in every replication
    assert check.groups.query("group == 'AT'")["bias"].item() == 0.0
    parallel = res.simulate_check(reps=12, seed=3, n_jobs=2)
    pd.testing.assert_frame_equal(check.correlations, parallel.correlations)


def test_simulate_check_needs_replications():
    with pytest.raises(semnet.OptionError, match="reps"):
        _check_data().simulate_check(reps=1)


def test_alignment_progress_bars(capsys):
    hs = semnet.datasets.holzinger_swineford()
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6"
    quiet = semnet.alignment(model, hs, group="school", progress=False)
    assert capsys.readouterr().err == ""
    semnet.alignment(model, hs, group="school", progress=True)
    assert "alignment" in capsys.readouterr().err
    quiet.simulate_check(reps=3, seed=1, progress=True)
    err = capsys.readouterr().err
    assert "alignment check" in err and "3/3" in err
