"""The closed-form MLR test of the independence model against the generic computation."""

import math

import numpy as np
import pytest
from tolerances import ATOL

import semnet
from semnet.estimation.ml import MLDiscrepancy
from semnet.inference.robust import independence_mlr, mlr
from semnet.matrices.ram import Model
from semnet.partable.build import partable

X = ["x1", "x2", "x3", "x4", "x5", "x6"]


def _generic(moments, meanstructure: bool):
    """mlr() of the independence model at its MLE, from its parameter table."""
    base = partable("\n".join(f"{v} ~~ {v}" for v in X), groups=[m.label for m in moments],
                    meanstructure=meanstructure)
    model = Model(base)
    params = base.params
    values = np.zeros(len(params))
    for r, (lhs, op, g) in enumerate(zip(params["lhs"], params["op"], params["group"],
                                         strict=True)):
        mom = moments[int(g) - 1]
        k = mom.names.index(lhs)
        values[r] = mom.cov[k, k] if op == "~~" else mom.mean[k]
    disc = MLDiscrepancy(model, moments, values)
    df = base.ndat(False) - model.nfree
    return mlr(disc, values[model.free_rows], np.eye(model.nfree), df, model.nfree)[1]


@pytest.mark.parametrize("meanstructure", [False, True])
@pytest.mark.parametrize("source", ["data", "fourth_moments"])
def test_independence_mlr_equals_the_generic_sandwich(meanstructure, source):
    hs = semnet.datasets.holzinger_swineford()
    if source == "data":
        fit = semnet.cfa("f =~ " + " + ".join(X), hs, group="school", estimator="MLR",
                         meanstructure=meanstructure)
        moments = list(fit.moments)
    else:
        mom = semnet.moments.from_frame(hs, group="school", columns=X, fourth=True)
        moments = mom.group_moments(X)
    want = _generic(moments, meanstructure)
    got = independence_mlr(moments, meanstructure)
    assert got.df == want.df
    for key in ("stat", "scaling_factor", "trace", "scaling_factor_h1", "scaling_factor_h0"):
        assert getattr(got, key) == pytest.approx(getattr(want, key), rel=1e-12), key


#: lavaan 0.6.14 on a saturated model (df = 0; tests/reference/fuzz/lavaan.json, m053_pd,
#: m082_hs, m111_hs, m120_hs): the robust test is the standard one (statistic 0, no
#: scaling factor); the robust RMSEA is 0; the robust CFI is NaN where the test has no
#: scaling factor (Satorra-Bentler, Yuan-Bentler with complete data) and the standard CFI
#: (1) for the scaled-shifted test and FIML
SATURATED = {
    ("MLM", "listwise"): math.nan,
    ("MLR", "listwise"): math.nan,
    ("MLMV", "listwise"): 1.0,
    ("MLR", "fiml"): 1.0,
    ("ML", "fiml"): 1.0,
}


@pytest.mark.parametrize(("estimator", "missing"), list(SATURATED))
def test_saturated_model_robust_measures_as_lavaan(estimator, missing):
    data = semnet.datasets.holzinger_swineford()
    if missing == "fiml":
        data = data.copy()
        data.loc[data.index[::7], "x2"] = np.nan
    fit = semnet.cfa("visual =~ x1 + x2 + x3", data, estimator=estimator, missing=missing)
    fm = fit.fit_measures()
    assert fm["df"] == 0
    if estimator != "ML":
        assert fm["chisq_scaled"] == pytest.approx(fm["chisq"], abs=ATOL)
        assert fm["cfi_scaled"] == 1.0
    assert fm["rmsea_robust"] == 0.0
    expected = SATURATED[(estimator, missing)]
    if math.isnan(expected):
        assert math.isnan(fm["cfi_robust"]) and math.isnan(fm["tli_robust"])
    else:
        assert fm["cfi_robust"] == pytest.approx(expected, abs=ATOL)
        assert fm["tli_robust"] == pytest.approx(expected, abs=ATOL)
