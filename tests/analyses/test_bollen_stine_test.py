"""sem(..., test="bollen.stine"): lavaan's Bollen–Stine bootstrap test as a TESTS row.

``tests/reference/analyses/bollen_stine_test.json`` (``make_bollen_stine_test.R``) holds
lavaan's fit of a two-group CFA with means and equal loadings and intercepts with
``test = "bollen.stine"``: the data its bootstrap resamples (made with lavaan's own
pieces, checked there against lavaan's own draws), its test table and fit measures, and
the standard errors of ``se = "bootstrap"`` with the same test.  The draws of R and
numpy differ, so what depends on them is compared within Monte Carlo error; the
transformed data, the statistic and the standard errors of ``test=`` are deterministic.
``resampling_bollen_stine_poldem_draws.json`` holds lavaan's refits of semnet's own
Bollen–Stine resamples: there the p-value must be equal.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from reference import REFERENCE, ROOT
from tolerances import ARITH_RTOL, EST_RTOL, FIT_RTOL, MC_SIGMAS, SE_RTOL

import semnet
from semnet.analyses.bootstrap import _bollen_stine_data, _rotate, bootstrap

HS = semnet.datasets.holzinger_swineford()
SEED = 20261215


def _load(name: str) -> dict:
    with open(REFERENCE / "analyses" / f"{name}.json", encoding="utf-8") as fh:
        return json.load(fh)


REF = _load("bollen_stine_test")
CALL = REF["call"]


def _fit(**kwargs) -> semnet.Fit:
    return semnet.cfa(CALL["model"], HS, group=CALL["group"],
                      group_equal=CALL["group_equal"], **kwargs)  # fmt: skip


@pytest.fixture(scope="module")
def bs_fit():
    return _fit(test="bollen.stine", bootstrap=CALL["bootstrap"], seed=SEED)


def _mc_pvalue_tol(p: float, b1: int, b2: int) -> float:
    """MC_SIGMAS Monte Carlo standard errors of the difference of two bootstrap p-values
    (binomial shares of b1 and b2 independent draws)."""
    return MC_SIGMAS * np.sqrt(p * (1 - p) * (1 / b1 + 1 / b2))


def test_the_resampled_data_are_lavaans():
    """With lavaan's implied moments the rotation is lavaan's to rounding; with semnet's
    own estimates it carries their agreement with lavaan's."""
    fit = _fit()
    mine = _bollen_stine_data(fit)
    for g, grp in enumerate(REF["groups"]):
        assert fit.groups[g] == grp["label"]
        X, Z = np.array(grp["data"]), np.array(grp["transformed"])
        np.testing.assert_array_equal(fit.moments[g].data, X)
        np.testing.assert_allclose(fit.moments[g].cov, grp["S"], rtol=ARITH_RTOL)
        theirs = _rotate(X, np.array(grp["S"]), np.array(grp["sigma"]), np.array(grp["mu"]))
        scale = np.abs(Z).max()
        assert np.abs(theirs - Z).max() <= ARITH_RTOL * scale
        assert np.abs(mine[g] - Z).max() <= EST_RTOL * scale


def test_the_test_table_is_lavaans(bs_fit):
    tests = bs_fit.tests()
    assert tests.index.tolist() == ["standard", "bollen_stine"]
    std, bs = REF["test"]["standard"], REF["test"]["bollen_stine"]
    for name, ref in (("standard", std), ("bollen_stine", bs)):
        assert tests.loc[name, "stat"] == pytest.approx(ref["stat"], rel=FIT_RTOL)
        assert tests.loc[name, "df"] == ref["df"]
    assert tests.loc["standard", "pvalue"] == pytest.approx(std["pvalue"], rel=FIT_RTOL)
    assert tests.loc["bollen_stine", "refdistr"] == "bootstrap"
    # every draw succeeds, as lavaan's 1000
    assert tests.loc["bollen_stine", "boot_length"] == bs["boot_length"] == CALL["bootstrap"]
    larger = tests.loc["bollen_stine", "boot_larger"]
    assert tests.loc["bollen_stine", "pvalue"] == larger / CALL["bootstrap"]
    # lavaan's p-value 0.09 from other draws: Monte Carlo SE of the difference 0.0128
    tol = _mc_pvalue_tol(bs["pvalue"], CALL["bootstrap"], bs["boot_length"])
    assert abs(tests.loc["bollen_stine", "pvalue"] - bs["pvalue"]) < tol
    chisq = bs_fit.bootstrap_test.chisq
    assert abs(chisq.mean() - bs["boot_mean"]) < MC_SIGMAS * bs["boot_sd"] * np.sqrt(2 / 1000)


def test_fit_measures_and_standard_errors_stay_the_standard_ones(bs_fit):
    """lavaan's fitMeasures() keeps the chi-square p-value, and test= leaves the SEs."""
    fm = bs_fit.fit_measures()
    for key in ("chisq", "df", "pvalue"):
        assert fm[key] == pytest.approx(REF["fit_measures"][key], rel=FIT_RTOL)
    assert bs_fit.options.se == "standard" and bs_fit.bootstrap is None
    np.testing.assert_allclose(bs_fit.estimates()["se"][: len(REF["se"]["se"])],
                               REF["se"]["se"], rtol=SE_RTOL)  # fmt: skip
    text = str(bs_fit.summary())
    assert "P-value (Bollen-Stine bootstrap)" in text
    assert f"{bs_fit.tests().loc['bollen_stine', 'pvalue']:.3f}" in text


def test_the_draws_are_semnet_bootstrap_draws_and_reproducible(bs_fit):
    plain = _fit()
    boot = bootstrap(plain, n=CALL["bootstrap"], seed=SEED, ci="percentile",
                     type="bollen_stine")  # fmt: skip
    np.testing.assert_array_equal(boot.chisq, bs_fit.bootstrap_test.chisq)
    assert plain.with_bootstrap_test(boot).tests().equals(bs_fit.tests())
    again = _fit(test="bollen_stine", bootstrap=CALL["bootstrap"], seed=SEED)
    assert again.tests().equals(bs_fit.tests())


def test_the_pvalue_equals_lavaans_on_the_same_resamples():
    """The TESTS row draws what bootstrap(type="bollen_stine") draws, whose resamples
    lavaan refitted for the fixture: the p-value is lavaan's exactly."""
    ref = _load("resampling_bollen_stine_poldem_draws")
    call = ref["call"]
    data = pd.read_csv(ROOT / call["data"])
    fit = semnet.sem(call["model"], data, test="bollen.stine", bootstrap=call["n"],
                     seed=call["seed"])  # fmt: skip
    tests = fit.tests()
    assert tests.loc["bollen_stine", "boot_length"] == ref["boot_length"]
    assert tests.loc["bollen_stine", "boot_larger"] == ref["boot_larger"]
    assert tests.loc["bollen_stine", "pvalue"] == ref["pvalue"]


def test_bootstrap_standard_errors_come_from_the_bollen_stine_draws_as_lavaan():
    """se="bootstrap" with test="bollen.stine": one bootstrap, Bollen–Stine's, serves
    both (lavaan's rule); its SEs agree with lavaan's within Monte Carlo error (the
    relative SE of a bootstrap SE from B draws is about 1/sqrt(2B))."""
    fit = _fit(se="bootstrap", test="bollen.stine", bootstrap=CALL["bootstrap"], seed=SEED)
    assert fit.bootstrap is fit.bootstrap_test
    assert fit.bootstrap.type == "bollen_stine" and fit.options.se == "bootstrap"
    lav = np.array(REF["joint"]["se"])
    se = fit.estimates()["se"].to_numpy()[: lav.size]
    free = lav > 0
    ratio = se[free] / lav[free]
    assert np.all(np.abs(ratio - 1) < MC_SIGMAS * np.sqrt(2 / (2 * CALL["bootstrap"]))), ratio
    tol = _mc_pvalue_tol(REF["joint"]["pvalue"], CALL["bootstrap"], CALL["bootstrap"])
    assert abs(fit.tests().loc["bollen_stine", "pvalue"] - REF["joint"]["pvalue"]) < tol
