"""Monte Carlo power (semnet.power): every decision is ``pvalue < alpha``, the rejection
rate and the power curve of a regression slope match their exact values, failed draws
are counted, results do not depend on the executor."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import integrate, stats
from tolerances import MC_SIGMAS

import semnet

NULL = "y ~ 0*x\ny ~~ 1*y\nx ~~ 1*x"
REGRESSION = "y ~ x"
CFA_POP = """
f =~ 0.8*x1 + 0.7*x2 + 0.6*x3
y ~ 0.6*f
"""
CFA = "f =~ x1 + x2 + x3\ny ~ f"


def exact_power(slope: float, n: int, alpha: float) -> float:
    """Exact rejection rate of the ML Wald z test of the slope of ``y ~ x`` with
    x ~ N(0, 1) and a residual variance of 1.

    The ML standard error divides the residual sum of squares by n, so
    ``z = t sqrt(n / (n - 2))`` with t the usual t statistic, and |z| > z_(1-alpha/2)
    when |t| > z_(1-alpha/2) sqrt((n - 2) / n).  Given Sxx = Σ(x - x̄)² ~ χ²(n - 1),
    t is noncentral t(n - 2) with noncentrality slope sqrt(Sxx); integrate over Sxx.
    """
    c = stats.norm.ppf(1 - alpha / 2) * np.sqrt((n - 2) / n)
    lo, hi = stats.chi2.ppf([1e-12, 1 - 1e-12], n - 1)

    def given(sxx: float) -> float:
        t = stats.nct(n - 2, slope * np.sqrt(sxx)) if slope else stats.t(n - 2)
        return (t.sf(c) + t.cdf(-c)) * stats.chi2.pdf(sxx, n - 1)

    return integrate.quad(given, lo, hi)[0]


def test_exact_power_of_the_reference_formula():
    # the z test with the ML standard error is t-based; large n: the normal power
    assert exact_power(0.0, 20, 0.05) == pytest.approx(
        2 * stats.t.sf(1.959964 * np.sqrt(18 / 20), 18), rel=1e-6)
    normal = stats.norm.cdf(0.1 * np.sqrt(2000) - 1.959964)
    assert exact_power(0.1, 2000, 0.05) == pytest.approx(normal, abs=2e-3)
    # the ML standard error is the one the formula assumes
    data = semnet.simulate("y ~ 0.3*x\ny ~~ 1*y\nx ~~ 1*x", 40, seed=1)
    est = semnet.sem(REGRESSION, data).estimates()
    row = est[(est["lhs"] == "y") & (est["op"] == "~")].iloc[0]
    x, y = data["x"].to_numpy(), data["y"].to_numpy()
    slope, intercept = np.polyfit(x, y, 1)
    rss = np.sum((y - intercept - slope * x) ** 2)
    assert row["est"] == pytest.approx(slope, rel=1e-8)
    assert row["se"] == pytest.approx(np.sqrt(rss / 40 / np.sum((x - x.mean()) ** 2)), rel=1e-8)


def _within_mc_error(observed: float, exact: float, reps: int) -> bool:
    return abs(observed - exact) < MC_SIGMAS * np.sqrt(exact * (1 - exact) / reps)


def test_rejection_rate_is_alpha_under_the_null():
    """The exact size at n = 20 is 0.240 for alpha = 0.2 (the z test of an ML slope is
    liberal in small samples); the band of 4 Monte Carlo SEs (±0.060 with 800
    replications) excludes the rates of a test at alpha/2 (0.136) and 2 alpha (0.435)."""
    reps, alpha = 800, 0.2
    res = semnet.power(NULL, REGRESSION, n=20, reps=reps, test="y~x", alpha=alpha, seed=11)
    row = res.table.iloc[0]
    assert row["reps"] == reps and row["failed"] == 0
    size = exact_power(0.0, 20, alpha)
    assert _within_mc_error(row["power"], size, reps)
    for wrong in (alpha / 2, 2 * alpha):
        assert not _within_mc_error(exact_power(0.0, 20, wrong), size, reps)
    assert row["mc_se"] == pytest.approx(np.sqrt(row["power"] * (1 - row["power"]) / reps))
    assert abs(row["mean_est"]) < MC_SIGMAS * np.sqrt(1 / 17 / reps)


@pytest.fixture(scope="module")
def curve():
    """Power of a slope of 0.3 at n = 40 and 90, alpha = 0.05, 600 replications each."""
    pop = "y ~ 0.3*x\ny ~~ 1*y\nx ~~ 1*x"
    return semnet.power(pop, REGRESSION, n=[40, 90], reps=600, test="y~x", alpha=0.05,
                        seed=2026)


def test_every_decision_is_the_pvalue_below_alpha(curve):
    """On the stored draws: reject == (pvalue < alpha), pvalue is the two-sided normal
    p-value of est / se, and the power and its Monte Carlo SE summarise the decisions."""
    draws = curve.draws
    assert (draws["failure"] == "").all()
    z = draws["est"] / draws["se"]
    assert np.allclose(draws["pvalue"], 2 * stats.norm.sf(np.abs(z)), rtol=1e-8, atol=1e-14)
    assert (draws["reject"] == (draws["pvalue"] < 0.05).astype(float)).all()
    table = curve.table.set_index("n")
    for n, block in draws.groupby("n"):
        assert block["rep"].tolist() == list(range(1, 601))
        assert table.loc[n, "power"] == block["reject"].mean()
        p = block["reject"].mean()
        assert table.loc[n, "mc_se"] == pytest.approx(np.sqrt(p * (1 - p) / 600))
        assert table.loc[n, "mean_est"] == pytest.approx(block["est"].mean())
        assert table.loc[n, "mean_se"] == pytest.approx(block["se"].mean())
    assert curve.alpha == 0.05


def test_power_curve_matches_the_exact_power(curve):
    """Exact powers 0.486 (n = 40) and 0.806 (n = 90), each within 4 Monte Carlo SEs."""
    power = curve.power
    assert list(power.index) == [40, 90]
    for n in (40, 90):
        assert _within_mc_error(power[n], exact_power(0.3, n, 0.05), 600), n


def test_power_grows_with_n_and_is_high_for_a_large_effect():
    res = semnet.power(CFA_POP, CFA, n=[40, 300], reps=10, test="y ~ f", seed=5)
    power = res.power
    assert list(power.index) == [40, 300]
    assert power[300] == 1.0
    assert power[40] < power[300]
    draws = res.draws
    assert len(draws) == 20 and set(draws.columns) >= {"n", "rep", "pvalue", "reject", "est"}
    text = res.summary()
    assert "y~f" in text and "Wald" in text and "300" in text
    assert repr(res).startswith("<semnet.PowerResult y~f")


def test_result_is_immutable():
    res = semnet.power(NULL, REGRESSION, n=50, reps=3, test="y~x", seed=1)
    res.table.loc[0, "power"] = 99.0
    assert res.table.loc[0, "power"] != 99.0
    with pytest.raises(AttributeError):
        res.alpha = 0.1


def test_same_seed_same_result_whatever_the_executor():
    args = {"n": [40, 80], "reps": 6, "test": "y~f", "seed": 2024}
    serial = semnet.power(CFA_POP, CFA, **args)
    with ThreadPoolExecutor(max_workers=3) as pool:
        threaded = semnet.power(CFA_POP, CFA, executor=pool, **args)
    processes = semnet.power(CFA_POP, CFA, n_jobs=2, **args)
    for other in (threaded, processes):
        assert other.draws.equals(serial.draws)
        assert other.table.equals(serial.table)
    assert semnet.power(CFA_POP, CFA, **{**args, "seed": 7}).draws["est"].iloc[0] != \
        serial.draws["est"].iloc[0]


def test_interaction_by_product_indicators():
    pop = """
    a =~ 0.8*a1 + 0.7*a2 + 0.7*a3
    b =~ 0.8*b1 + 0.7*b2 + 0.7*b3
    y ~ 0.3*a + 0.2*b + 0.5*a:b
    """
    model = "a =~ a1 + a2 + a3\nb =~ b1 + b2 + b3\ny ~ a + b + a:b"
    res = semnet.power(pop, model, n=400, reps=4, test="y~a:b", seed=3,
                       interaction="double_mean")
    row = res.table.iloc[0]
    assert row["failed"] < 4 and row["power"] >= 0.5 and row["mean_est"] > 0
    assert res.draws["est"].notna().sum() == 4 - row["failed"]


def test_invariance_level():
    pop = "f =~ 0.8*x1 + c(0.8, 0.2)*x2 + 0.7*x3 + 0.6*x4"
    res = semnet.power(pop, "f =~ x1 + x2 + x3 + x4", n=300, group=["A", "B"], reps=4,
                       test="metric", seed=4)
    row = res.table.iloc[0]
    assert row["n"] == 600 and row["n_group"] == "300 each"
    assert row["mean_df_diff"] == 3 and row["power"] == 1.0
    assert res.kind == "invariance" and res.test == "metric"
    pair = semnet.power(pop, "f =~ x1 + x2 + x3 + x4", n={"A": 200, "B": 100},
                        group=["A", "B"], reps=2, test=("scalar", "configural"), seed=4)
    assert pair.test == "scalar vs configural"
    assert pair.table.iloc[0]["mean_df_diff"] == 6


def test_failed_draws_are_counted_not_fatal():
    # three cases per data set for three variables: the sample covariance matrix is
    # singular in every draw
    # ...and the all-NaN power of that size is announced, not left silent
    with pytest.warns(semnet.SemnetWarning, match="every replication at n = 2 failed"):
        res = semnet.power(NULL, REGRESSION, n=[2, 60], reps=3, test="y~x", seed=1)
    table = res.table
    assert table["failed"].tolist() == [3, 0]
    assert np.isnan(table["power"].iloc[0])
    assert "failed replication" in res.summary()


def test_bad_requests_are_named():
    with pytest.raises(semnet.OptionError, match="no such parameter"):
        semnet.power(NULL, REGRESSION, n=50, reps=2, test="y~z", seed=1)
    with pytest.raises(semnet.OptionError, match="group="):
        semnet.power(NULL, REGRESSION, n=50, reps=2, test="metric", seed=1)
    with pytest.raises(semnet.OptionError, match="list of group labels"):
        semnet.power(NULL, REGRESSION, n=50, reps=2, test="y~x", group="ab", seed=1)
    with pytest.raises(semnet.OptionError, match="repeated labels"):
        semnet.power(NULL, REGRESSION, n=50, reps=2, test="metric", group=["a", "a"], seed=1)
    with pytest.raises(semnet.OptionError, match="levels"):
        semnet.power(NULL, REGRESSION, n=50, reps=2, test=("metric", "weak"), seed=1)
    with pytest.raises(semnet.OptionError, match="reps"):
        semnet.power(NULL, REGRESSION, n=50, reps=0, test="y~x")
    with pytest.raises(semnet.OptionError, match="seed must be a whole number >= 0"):
        semnet.power(NULL, REGRESSION, n=50, reps=2, test="y~x", seed=1.5)
    with pytest.raises(semnet.OptionError, match="sample sizes"):
        semnet.power(NULL, REGRESSION, n=[50, 1.5], reps=2, test="y~x")
    with pytest.raises(semnet.OptionError, match="estimator"):
        semnet.power(NULL, REGRESSION, n=50, reps=2, test="y~x", estimator="XYZ")


@pytest.mark.parametrize(("simulate_args", "message"), [
    ({"bogus": 1}, "semnet.simulate\\(\\) does not take"), ("likert", "must be a dict"),
])
def test_simulate_args_that_simulate_does_not_take_are_option_errors(simulate_args, message):
    # were simulate()'s TypeError and dict()'s ValueError
    with pytest.raises(semnet.OptionError, match=message):
        semnet.power(NULL, REGRESSION, n=50, reps=2, test="y~x", seed=1,
                     simulate_args=simulate_args)
