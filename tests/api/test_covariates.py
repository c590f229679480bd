"""Observed covariates with robust standard errors and tests, as lavaan (issue 17).

The fixed.x fixtures (``hs_exo_mlr``, ``hs_exo_mlm``, ``hs_exo_mlmv``,
``hs_mg_exo_mlr_metric``, and in tests/reference/fixed_x/ the ``fixed.x = FALSE`` fit
and the FIML fits) are refitted by the core loop (tests/api/test_reference.py).  Here:
the ``fixed.x = FALSE`` fixture's free covariances and baseline, ``compare()`` and the
bootstrap of fixed.x fits.  FIML with fixed.x covariates: tests/api/test_fiml_fixed_x.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference import ROOT, keyed, load, refit, table
from tolerances import ATOL, EST_RTOL, FIT_RTOL, SE_RTOL

import semnet
from semnet.analyses.bootstrap import bootstrap

RANDOM_X = "fixed_x/hs_exo_mlr_random_x"


@pytest.fixture(scope="module")
def random_x() -> semnet.Fit:
    ref = load(RANDOM_X)
    assert ref["call"]["options"] == {"estimator": "MLR", "fixed.x": False}
    data = pd.read_csv(ROOT / ref["call"]["data"])
    return semnet.sem(ref["call"]["model"], data, estimator="MLR", fixed_x=False)


def test_random_covariates_counts(random_x):
    fm = load(RANDOM_X)["fit_measures"]
    assert random_x.converged
    assert (random_x.npar, random_x.df) == (fm["npar"], fm["df"])


def test_random_covariates_estimates_and_robust_se(random_x):
    ref = load(RANDOM_X)
    theirs = keyed(table(ref, "estimates"), ref["group_labels"])
    mine = keyed(random_x.estimates(), ref["group_labels"])
    m = mine.join(theirs, how="inner", suffixes=("", "_ref"))
    assert len(m) == len(theirs) == len(mine)
    bound = EST_RTOL * m["est_ref"].abs() + SE_RTOL * m["se_ref"] + ATOL
    assert ((m["est"] - m["est_ref"]).abs() <= bound).all()
    np.testing.assert_allclose(m["se"], m["se_ref"], rtol=SE_RTOL, atol=ATOL)
    # the covariates' covariance is a free parameter with a standard error
    assert m.loc[("ageyr", "~~", "sex", ""), "se"] > 0


def test_random_covariates_scaled_test_and_fit_measures(random_x):
    ref = load(RANDOM_X)
    theirs = ref["tests"]["yuan.bentler.mplus"]
    t = random_x.scaled_test
    for ours, key in (("stat", "stat"), ("scaling_factor", "scaling.factor"),
                      ("scaling_factor_h1", "scaling.factor.h1"),
                      ("scaling_factor_h0", "scaling.factor.h0"), ("trace", "trace.UGamma")):
        assert getattr(t, ours) == pytest.approx(theirs[key], rel=FIT_RTOL), key
    fm = random_x.fit_measures()
    checked = 0
    for key, value in ref["fit_measures"].items():
        if value is None:
            continue
        assert fm[key.replace(".", "_")] == pytest.approx(value, rel=FIT_RTOL, abs=ATOL), key
        checked += 1
    # every measure, the baseline family too (the covariates' block free in it)
    assert checked > 60


@pytest.mark.parametrize(
    ("name", "key"),
    [("hs_mg_exo_mlr_metric", "lrt"), ("hs_mg_exo_mlr_metric", "lrt_2010"),
     ("hs_mg_exo_mlmv_metric", "lrt")],
)
def test_compare_fixed_x_fits_matches_lavtestlrt(name, key):
    """Satorra-Bentler 2001 and 2010 (MLR) and Satorra 2000 (MLMV: W and Gamma
    conditional on the covariates) against lavTestLRT."""
    ref = load(name)
    lrt = ref[key]
    metric = refit(name)
    data = pd.read_csv(ROOT / ref["call"]["data"])
    estimator = ref["call"]["options"]["estimator"]
    configural = semnet.sem(ref["call"]["model"], data, group="school", estimator=estimator)
    method = lrt["method"].replace(".", "_")
    out = semnet.compare(metric, configural, method=method, names=["metric", "configural"])
    theirs = lrt["table"]
    assert out.index.tolist() == theirs["model"]
    assert out["df"].tolist() == theirs["Df"]
    for ours, col in (("chisq", "Chisq"), ("chisq_diff", "Chisq diff"), ("pvalue", "Pr(>Chisq)")):
        expected = np.array([np.nan if v is None else v for v in theirs[col]], dtype=float)
        assert np.allclose(out[ours], expected, rtol=FIT_RTOL, equal_nan=True), ours


def test_bootstrap_of_a_robust_fixed_x_fit():
    """Draw b of an MLR fit with fixed.x covariates is the fit of the cases drawn for it,
    with the covariates' moments those of the resample."""
    ref = load("hs_exo_mlr")
    fit = refit("hs_exo_mlr")
    res = bootstrap(fit, n=3, seed=11, ci="percentile")
    assert res.n_failed == 0
    rng = np.random.default_rng(np.random.SeedSequence(11).spawn(3)[1])
    hs = pd.read_csv(ROOT / ref["call"]["data"])
    data = hs.iloc[rng.integers(0, len(hs), size=len(hs))].reset_index(drop=True)
    again = semnet.sem(ref["call"]["model"], data, estimator="MLR")
    free = fit.partable.params["free"].to_numpy() > 0
    est = again.estimates().loc[free, "est"].to_numpy()
    np.testing.assert_allclose(res.draws.iloc[1].to_numpy(), est, atol=1e-6)
    assert res.chisq[1] == pytest.approx(again.chisq, rel=1e-6)
