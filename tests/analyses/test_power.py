"""Monte Carlo power (semnet.power): the rejection rate is alpha under the null and high
for a large effect, failed draws are counted, results do not depend on the executor."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import semnet

NULL = "y ~ 0*x\ny ~~ 1*y\nx ~~ 1*x"
REGRESSION = "y ~ x"
CFA_POP = """
f =~ 0.8*x1 + 0.7*x2 + 0.6*x3
y ~ 0.6*f
"""
CFA = "f =~ x1 + x2 + x3\ny ~ f"


def test_rejection_rate_is_alpha_under_the_null():
    res = semnet.power(NULL, REGRESSION, n=100, reps=100, test="y~x", alpha=0.2, seed=11)
    row = res.table.iloc[0]
    assert row["reps"] == 100 and row["failed"] == 0
    # within three Monte Carlo standard errors of alpha (sqrt(.2 * .8 / 100) = 0.04)
    assert abs(row["power"] - 0.2) < 3 * 0.04
    assert row["mc_se"] == pytest.approx(np.sqrt(row["power"] * (1 - row["power"]) / 100))
    assert abs(row["mean_est"]) < 0.05


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
    with pytest.raises(semnet.OptionError, match="sample sizes"):
        semnet.power(NULL, REGRESSION, n=[50, 1.5], reps=2, test="y~x")
    with pytest.raises(semnet.OptionError, match="estimator"):
        semnet.power(NULL, REGRESSION, n=50, reps=2, test="y~x", estimator="XYZ")
