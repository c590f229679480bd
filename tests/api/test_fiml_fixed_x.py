"""FIML with exogenous covariates under fixed.x, as lavaan 0.6.14 (issue 17).

The lavaan fixtures (tests/reference/fixed_x/, made by make_fiml_fixed_x.R) are refitted
by the core loop (tests/api/test_reference.py): estimates, standard errors, the scaled
test, the baseline model and every fit measure.  Here: what lavaan does with the cases
missing on a covariate (deleted with a warning under ``missing="ml"``, kept under
``"ml.x"``), the conditional log-likelihoods, and the bootstrap of such fits.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from reference import ROOT, load, refit
from tolerances import ATOL, FIT_RTOL

import semnet
from semnet.analyses.bootstrap import bootstrap

DATA = ROOT / "tests/reference/fixed_x/hs_missing_x.csv"
EXO = load("fixed_x/fiml_x_ml")["call"]["model"]


def _fit_with_warnings(**kwargs) -> tuple[semnet.Fit, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = semnet.sem(EXO, pd.read_csv(DATA), **kwargs)
    return fit, [str(w.message) for w in caught]


def _lavaan_deleted(name: str) -> dict[str, int]:
    """Cases lavaan deleted per group, from its warnings ("N cases were deleted [in
    group G] due to missing values in exogenous variable(s)")."""
    out = {}
    for text in load(name)["warnings"]:
        m = re.search(r"(\d+) cases were deleted(?: in group (.+?))? due to", text)
        if m:
            out[m.group(2) or ""] = int(m.group(1))
    return out


@pytest.mark.parametrize("name", ["fixed_x/fiml_x_ml", "fixed_x/fiml_x_mg_ml"])
def test_cases_missing_a_covariate_are_deleted_as_lavaan(name):
    ref = load(name)
    deleted = _lavaan_deleted(name)
    assert sum(deleted.values()) > 0
    opts = {"group": ref["call"]["options"]["group"]} if ref["ngroups"] > 1 else {}
    fit, messages = _fit_with_warnings(missing="fiml", **opts)
    assert list(fit.nobs.values()) == ref["nobs"]
    assert list(fit.n_dropped.values()) == [
        o - n for o, n in zip(ref["norig"], ref["nobs"], strict=True)]
    assert sum(fit.n_dropped.values()) == sum(deleted.values())
    (msg,) = [m for m in messages if "fixed.x covariate" in m]
    hs = pd.read_csv(DATA)
    total = sum(deleted.values())
    assert msg.startswith(f"{total} of {len(hs)} rows were deleted")
    # which covariate, how many times missing
    assert f"ageyr {int(hs['ageyr'].isna().sum())}" in msg
    if ref["ngroups"] > 1:
        assert "By group: " + ", ".join(f"{g} {n}" for g, n in deleted.items()) in msg
    assert "missing='fiml.x'" in msg and "fixed_x=False" in msg


def test_missing_fiml_x_keeps_the_cases_as_lavaan_ml_x():
    ref = load("fixed_x/fimlx_mlr")
    fit, messages = _fit_with_warnings(missing="ml.x", estimator="MLR")
    assert fit.options.missing == "fiml_x"
    assert not messages and sum(fit.n_dropped.values()) == 0
    assert list(fit.nobs.values()) == ref["nobs"] == [len(pd.read_csv(DATA))]
    # the covariates' moments are fixed at the EM estimates (the joint model's)
    est = fit.estimates().set_index(["lhs", "op", "rhs"])
    em = fit.moments[0].cov
    names = list(fit.moments[0].names)
    i, j = names.index("ageyr"), names.index("sex")
    assert est.loc[("ageyr", "~~", "sex"), "est"] == pytest.approx(em[i, j], rel=1e-12)
    assert est.loc[("ageyr", "~~", "sex"), "se"] == 0


def test_log_likelihoods_are_conditional_on_the_covariates():
    """lavaan subtracts the covariates' own saturated log-likelihood: at their fixed (EM)
    moments from the model's, at their sample moments from the unrestricted model's;
    the chi-square is the joint likelihood ratio."""
    fit = refit("fixed_x/fiml_x_ml")
    fm = fit.fit_measures()
    f = fit.sample.fiml
    x = list(f.x_index)
    S = np.cov(fit.moments[0].data[:, x], rowvar=False, bias=True)
    n = fit.ntotal
    logl_x = -n / 2 * (len(x) * np.log(2 * np.pi) + np.linalg.slogdet(S)[1] + len(x))
    assert float(f.logl_x_h1[0]) == pytest.approx(logl_x, rel=1e-12)
    assert float(f.logl_x[0]) == pytest.approx(logl_x, rel=1e-9)
    assert fm["unrestricted_logl"] == pytest.approx(fit.sample.logl_h1 - logl_x, rel=1e-9)
    assert fm["chisq"] == pytest.approx(2 * (fm["unrestricted_logl"] - fm["logl"]), rel=1e-8)
    ref = load("fixed_x/fiml_x_ml")["fit_measures"]
    for key in ("logl", "unrestricted.logl", "bic"):
        assert fm[key.replace(".", "_")] == pytest.approx(ref[key], rel=FIT_RTOL, abs=ATOL)


def test_fixed_x_false_with_fiml_keeps_every_case():
    fit, messages = _fit_with_warnings(missing="fiml", fixed_x=False)
    assert sum(fit.n_dropped.values()) == 0 and not messages
    est = fit.estimates().set_index(["lhs", "op", "rhs"])
    assert est.loc[("ageyr", "~~", "sex"), "se"] > 0


@pytest.mark.parametrize(
    ("missing", "estimator"), [("fiml", "MLR"), ("fiml.x", "ML")]
)
def test_bootstrap_of_fiml_fixed_x_fits(missing, estimator):
    """Draw b is the FIML fit of the cases drawn for it (those the fit kept), with the
    covariates' moments those of the resample (with missing covariates, its EM
    estimates), as lavaan's refit of each resample."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = semnet.sem(EXO, pd.read_csv(DATA), missing=missing, estimator=estimator)
    res = bootstrap(fit, n=3, seed=5, ci="percentile")
    assert res.n_failed == 0
    rng = np.random.default_rng(np.random.SeedSequence(5).spawn(3)[2])
    data = fit.moments[0].data
    drawn = pd.DataFrame(data[rng.integers(0, len(data), size=len(data))],
                         columns=fit.moments[0].names)  # fmt: skip
    again = semnet.sem(EXO, drawn, missing=missing, estimator=estimator)
    free = fit.partable.params["free"].to_numpy() > 0
    est = again.estimates().loc[free, "est"].to_numpy()
    np.testing.assert_allclose(res.draws.iloc[2].to_numpy(), est, atol=1e-5)
    # the draws vary the covariates' fixed moments: not the estimates again
    assert not np.allclose(res.draws.iloc[2].to_numpy(), fit.x, atol=1e-3)


def test_sem_bootstrap_option_with_fiml_fixed_x():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = semnet.sem(EXO, pd.read_csv(DATA), missing="fiml", bootstrap=20, seed=3)
    est = fit.estimates()
    free = fit.partable.params["free"].to_numpy() > 0
    assert np.isfinite(est.loc[free, "se"]).all() and (est.loc[free, "se"] > 0).all()
    assert (est.loc[~free, "se"] == 0).all()


@pytest.mark.parametrize("key", ["lrt", "lrt_2010"])
def test_compare_fiml_fixed_x_fits_matches_lavtestlrt(key):
    """Satorra-Bentler 2001 and 2010 between MLR + FIML fits with fixed.x covariates."""
    name = "fixed_x/fiml_x_mg_mlr_metric"
    lrt = load(name)[key]
    metric = refit(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        configural = semnet.sem(EXO, pd.read_csv(DATA), group="school", missing="fiml",
                                estimator="MLR")  # fmt: skip
    method = lrt["method"].replace(".", "_")
    out = semnet.compare(configural, metric, method=method, names=["configural", "metric"])
    theirs = lrt["table"]
    assert out.index.tolist() == theirs["model"]
    assert out["df"].tolist() == theirs["Df"]
    for ours, col in (("chisq", "Chisq"), ("chisq_diff", "Chisq diff"), ("pvalue", "Pr(>Chisq)")):
        expected = np.array([np.nan if v is None else v for v in theirs[col]], dtype=float)
        assert np.allclose(out[ours], expected, rtol=FIT_RTOL, equal_nan=True), ours


def test_a_group_without_complete_covariates_is_a_clear_error():
    data = pd.read_csv(DATA)
    data.loc[data["school"] == "Pasteur", "ageyr"] = np.nan
    with pytest.raises(semnet.DataError, match=r"group 'Pasteur'.*ageyr 156.*fiml\.x"):
        semnet.sem(EXO, data, group="school", missing="fiml")
    # the caller's frame is untouched by the deletion
    before = pd.read_csv(DATA)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        semnet.sem(EXO, before, missing="fiml")
    pd.testing.assert_frame_equal(before, pd.read_csv(DATA))
