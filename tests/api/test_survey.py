"""Sampling weights, cluster-robust inference and growth models against lavaan 0.6.14
(issue 17; fixtures made by tests/reference/survey/make_survey.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference import ROOT, keyed, load, table
from tolerances import ATOL, EST_RTOL, FIT_RTOL, SE_RTOL

import semnet

WEIGHTED = ["w_total", "w_none", "w_exo", "w_mg_total", "w_mg_group", "w_mg_none",
            "wf_total", "wf_mg_group"]
CLUSTERED = ["c_mlr", "c_mlm", "c_w_mlr", "c_mg_mlr", "c_mg_mlm", "c_exo_mlr", "cf_mlr",
             "cf_w_mg_mlr"]
GROWTH = ["growth_linear", "growth_exo_mlr"]
OPTIONS = {
    "sampling.weights": "sampling_weights",
    "sampling.weights.normalization": "sampling_weights_normalization",
    "cluster": "cluster", "estimator": "estimator", "group": "group",
    "group.equal": "group_equal", "missing": "missing",
}  # fmt: skip
DATA = ROOT / "tests/reference/survey/hs_survey.csv"
CFA = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def survey(name: str) -> str:
    return f"survey/{name}"


def refit(name: str) -> semnet.Fit:
    call = load(survey(name))["call"]
    kwargs = {OPTIONS[k]: v for k, v in call["options"].items()}
    data = pd.read_csv(ROOT / call["data"])
    return getattr(semnet, call["function"])(call["model"], data, **kwargs)


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return pd.read_csv(DATA)


@pytest.mark.parametrize("name", WEIGHTED + CLUSTERED + GROWTH)
def test_estimates_and_standard_errors(name):
    ref = load(survey(name))
    fit = refit(name)
    theirs = keyed(table(ref, "estimates"), ref["group_labels"])
    mine = keyed(fit.estimates(), ref["group_labels"])
    m = mine.join(theirs, how="inner", suffixes=("", "_ref"))
    assert len(m) == len(theirs) == len(mine)
    bound = EST_RTOL * m["est_ref"].abs() + SE_RTOL * m["se_ref"] + ATOL
    assert ((m["est"] - m["est_ref"]).abs() <= bound).all()
    np.testing.assert_allclose(m["se"], m["se_ref"], rtol=SE_RTOL, atol=ATOL)


@pytest.mark.parametrize("name", WEIGHTED + CLUSTERED + GROWTH)
def test_tests_and_fit_measures(name):
    ref = load(survey(name))
    fit = refit(name)
    lavaan_se = ref["se_type"].replace(".", "_")
    assert fit.options.se == lavaan_se
    (test_name,) = ref["test_types"]
    assert fit.options.test == test_name.replace(".", "_")
    theirs = ref["tests"][test_name]
    t = fit.scaled_test
    if test_name != "standard":
        assert t.stat == pytest.approx(theirs["stat"], rel=FIT_RTOL)
        assert t.scaling_factor == pytest.approx(theirs["scaling.factor"], rel=FIT_RTOL)
    fm = fit.fit_measures()
    checked = 0
    for key, value in ref["fit_measures"].items():
        if value is None or key == "npar":
            continue
        assert fm[key.replace(".", "_")] == pytest.approx(value, rel=FIT_RTOL, abs=ATOL), key
        checked += 1
    assert checked > 40


def test_growth_defaults_as_lavaan():
    """growth(): observed intercepts fixed at 0, latent means free, the same parameter
    table as lavaan's growth()."""
    ref = load(survey("growth_linear"))
    fit = refit("growth_linear")
    est = fit.estimates()
    ints = est[est["op"] == "~1"].set_index("lhs")["est"]
    assert (ints[["t1", "t2", "t3", "t4"]] == 0).all()
    assert fit.partable.params.query("op == '~1' and lhs in ['i', 's']")["free"].gt(0).all()
    assert fit.npar == ref["npar"]
    # an explicit option still wins over the growth defaults
    free = semnet.growth(ref["call"]["model"], pd.read_csv(ROOT / ref["call"]["data"]),
                         int_ov_free=True, int_lv_free=False)  # fmt: skip
    assert free.partable.params.query("op == '~1' and lhs == 't1'")["free"].gt(0).all()


def test_weights_switch_ml_to_mlr_and_say_so(hs):
    fit = semnet.cfa(CFA, hs, sampling_weights="w")
    assert (fit.options.estimator, fit.options.se, fit.options.test) == (
        "MLR", "robust_huber_white", "yuan_bentler_mplus",
    )
    text = str(fit.summary())
    assert "Sampling weights variable" in text and "robust.huber.white" in text
    # with normalization "total" the weights sum to the number of cases
    assert fit.moments[0].weights.sum() == pytest.approx(len(hs))
    assert fit.ntotal == pytest.approx(len(hs))


def test_clusters_are_counted_in_the_summary(hs):
    fit = semnet.cfa(CFA, hs, cluster="psu", estimator="MLR")
    assert f"{hs['psu'].nunique()}" in str(fit.summary()).split("Number of clusters [psu]")[1][:40]


def test_weights_are_not_a_model_variable(hs):
    with pytest.raises(semnet.DataError, match="'x1' is a variable of the model"):
        semnet.cfa(CFA, hs, sampling_weights="x1")


@pytest.mark.parametrize(
    ("values", "match"),
    [(-1.0, "1 negative"), (np.nan, "1 missing"), (np.inf, "1 infinite"),
     ("heavy", "not numeric")],
)  # fmt: skip
def test_bad_weights_name_the_column(hs, values, match):
    bad = hs.astype({"w": object})
    bad.loc[3, "w"] = values
    with pytest.raises(semnet.DataError, match=f"'w'.*{match}|{match}.*"):
        semnet.cfa(CFA, bad, sampling_weights="w")


def test_zero_weights_and_unknown_columns(hs):
    zero = hs.assign(w=np.where(hs["school"] == "Pasteur", 0.0, hs["w"]))
    with pytest.raises(semnet.DataError, match="sum to zero in group 'Pasteur'"):
        semnet.cfa(CFA, zero, sampling_weights="w", group="school")
    with pytest.raises(semnet.DataError, match="'wt' is not a column"):
        semnet.cfa(CFA, hs, sampling_weights="wt")
    with pytest.raises(semnet.DataError, match="'cl' is not a column"):
        semnet.cfa(CFA, hs, cluster="cl", estimator="MLR")
    with pytest.raises(semnet.OptionError, match="sampling_weights_normalization"):
        semnet.cfa(CFA, hs, sampling_weights="w", sampling_weights_normalization="pop")


def test_a_cluster_in_two_groups_is_an_error(hs):
    spread = hs.copy()
    spread.loc[spread["school"] == "Grant-White", "psu"] = int(hs["psu"].iloc[0])
    with pytest.raises(semnet.DataError, match="appears in groups 'Grant-White', 'Pasteur'"):
        semnet.cfa(CFA, spread, cluster="psu", group="school", estimator="MLR")


def test_choices_lavaan_refuses(hs):
    with pytest.raises(semnet.OptionError, match="not available with cluster="):
        semnet.cfa(CFA, hs, cluster="psu", estimator="MLMV")
    with pytest.raises(semnet.OptionError, match="without cluster="):
        semnet.cfa(CFA, hs, se="robust.cluster")
    with pytest.raises(semnet.OptionError, match="with cluster="):
        semnet.cfa(CFA, hs, cluster="psu", se="standard")
    with pytest.raises(semnet.OptionError, match="sampling_weights="):
        semnet.cfa(CFA, hs, sampling_weights="w", estimator="MLM")
    with pytest.raises(semnet.OptionError, match="bootstrap"):
        semnet.cfa(CFA, hs, cluster="psu", bootstrap=10)
    latent = ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
              "speed ~ visual + textual + visual:textual")  # fmt: skip
    with pytest.raises(semnet.OptionError, match="interaction='lms' needs"):
        semnet.sem(latent, hs, sampling_weights="w", interaction="lms")
    # a latent product with weights: product indicators (LMS has no weighted version)
    assert isinstance(semnet.sem(latent, hs, sampling_weights="w"), semnet.Fit)


def test_unit_weights_and_singleton_clusters_change_nothing(hs):
    """Weights of 1 give the MLR fit; one case per cluster gives Huber-White SEs times
    sqrt(C / (C - 1))."""
    plain = semnet.cfa(CFA, hs, estimator="MLR")
    unit = semnet.cfa(CFA, hs.assign(w=1.0), sampling_weights="w")
    np.testing.assert_allclose(unit.estimates()["se"], plain.estimates()["se"], rtol=1e-8)
    assert unit.scaled_test.stat == pytest.approx(plain.scaled_test.stat, rel=1e-8)
    single = semnet.cfa(CFA, hs.assign(psu=np.arange(len(hs))), cluster="psu", estimator="MLR",
                        meanstructure=False)  # fmt: skip
    n = len(hs)
    np.testing.assert_allclose(
        single.estimates()["se"], plain.estimates()["se"] * np.sqrt(n / (n - 1)), rtol=1e-8
    )


def test_cli_weights_and_cluster(tmp_path, capsys):
    from semnet.cli import main

    model = tmp_path / "cfa.lav"
    model.write_text(CFA + "\n")
    ref = load(survey("c_w_mlr"))
    argv = ["fit", str(model), str(DATA), "--weights", "w", "--cluster", "psu",
            "--estimator", "MLR"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"{ref['fit_measures']['chisq.scaled']:.3f}" in out
    assert "Sampling weights variable" in out and "Number of clusters [psu]" in out
    assert main(["fit", str(model), str(DATA), "--weights", "wt"]) == 2
    err = capsys.readouterr().err
    assert "--weights wt is not a column" in err and "sampling_weights" not in err
    assert main(["fit", str(model), str(DATA), "--cluster", "psu", "--estimator", "MLMV"]) == 2
    err = capsys.readouterr().err
    assert "--cluster" in err and "cluster=" not in err
    argv = ["fit", str(model), str(DATA), "--weights", "w", "--weights-normalization", "pop"]
    assert main(argv) == 2
    assert "--weights-normalization" in capsys.readouterr().err


@pytest.mark.parametrize("name", WEIGHTED + CLUSTERED + GROWTH)
def test_modindices(name):
    """modindices() of weighted and clustered fits as lavaan's (lavaan's rows of the
    fixed.x covariates' own moments are not offered by semnet)."""
    ref = load(survey(name))
    fit = refit(name)
    mine = keyed(fit.modindices(sort=False), ref["group_labels"])
    theirs = keyed(table(ref, "modindices"), ref["group_labels"])
    ov_x = fit.partable.names.ov_x
    lhs, op = (theirs.index.get_level_values(k) for k in ("lhs", "op"))
    theirs = theirs[theirs["mi"].notna() & ~(lhs.isin(ov_x) & (op != "=~"))]
    assert sorted(mine.index) == sorted(theirs.index)
    j = mine.join(theirs, suffixes=("", "_ref"))
    assert np.allclose(j["mi"], j["mi_ref"], rtol=SE_RTOL, atol=1e-3)
    assert np.allclose(j["epc"], j["epc_ref"], rtol=SE_RTOL, atol=1e-4)


@pytest.mark.parametrize("name", ["w_mg_total", "w_mg_group", "w_mg_none", "c_mg_mlr", "c_mg_mlm"])
def test_compare_matches_lavtestlrt(name):
    """compare() of the configural and metric fits: the Satorra-Bentler (2001) scaled
    difference of weighted or clustered fits, as lavTestLRT."""
    ref = load(survey(name))
    metric = refit(name)
    kwargs = {OPTIONS[k]: v for k, v in ref["call"]["options"].items() if k != "group.equal"}
    configural = semnet.cfa(CFA, pd.read_csv(DATA), **kwargs)
    lrt = ref["lrt"]
    out = semnet.compare(configural, metric, names=["configural", "metric"])
    theirs = lrt["table"]
    assert out.index.tolist() == theirs["model"]
    assert out["df"].tolist() == theirs["Df"]
    for ours, col in (("chisq", "Chisq"), ("chisq_diff", "Chisq diff"), ("pvalue", "Pr(>Chisq)")):
        expected = np.array([np.nan if v is None else v for v in theirs[col]], dtype=float)
        assert np.allclose(out[ours], expected, rtol=FIT_RTOL, equal_nan=True), ours


def test_invariance_ladder_with_weights_and_clusters(hs):
    """invariance() passes the design on to every level: its metric fit is the
    weighted, clustered metric fit."""
    res = semnet.invariance(CFA, hs, group="school", levels=["configural", "metric"],
                            sampling_weights="w")  # fmt: skip
    ref = load(survey("w_mg_total"))
    metric = res.fits["metric"]
    assert metric.options.sampling_weights == "w"
    scaled = ref["fit_measures"]["chisq.scaled"]
    assert metric.scaled_test.stat == pytest.approx(scaled, rel=FIT_RTOL)
    ref = load(survey("c_mg_mlr"))
    res = semnet.invariance(CFA, hs, group="school", levels=["configural", "metric"],
                            cluster="psu", estimator="MLR")  # fmt: skip
    assert res.fits["metric"].scaled_test.stat == pytest.approx(
        ref["fit_measures"]["chisq.scaled"], rel=FIT_RTOL
    )


@pytest.mark.parametrize("missing", ["listwise", "fiml"])
def test_bootstrap_of_a_weighted_fit(missing):
    """Draw b of a weighted fit is the weighted fit of the cases drawn for it, each with
    its weight as normalised in the fit (lavaan's bootstrap carries the weights along;
    they are not normalised again)."""
    path = DATA if missing == "listwise" else ROOT / "tests/reference/survey/hs_missing_survey.csv"
    data = pd.read_csv(path)
    fit = semnet.cfa(CFA, data, sampling_weights="w", missing=missing)
    res = semnet.bootstrap(fit, n=3, seed=11, ci="percentile")
    assert res.n_failed == 0
    rng = np.random.default_rng(np.random.SeedSequence(11).spawn(3)[1])
    draw = data.iloc[rng.integers(0, len(data), size=len(data))].reset_index(drop=True)
    draw["w"] = draw["w"] / data["w"].sum() * len(data)  # as normalised in the fit
    again = semnet.cfa(CFA, draw, sampling_weights="w", missing=missing,
                       sampling_weights_normalization="none")  # fmt: skip
    free = fit.partable.params["free"].to_numpy() > 0
    est = again.estimates().loc[free, "est"].to_numpy()
    np.testing.assert_allclose(res.draws.iloc[1].to_numpy(), est, atol=1e-6)
    if missing == "listwise":
        assert res.chisq[1] == pytest.approx(again.chisq, rel=1e-6)
        # sem(..., bootstrap=N) draws the same resamples
        boot = semnet.cfa(CFA, data, sampling_weights="w", bootstrap=3, seed=11)
        assert boot.options.se == "bootstrap"
        np.testing.assert_allclose(boot.bootstrap.draws.to_numpy(), res.draws.to_numpy())


def test_bootstrap_refuses_clusters_and_designs(hs):
    fit = semnet.cfa(CFA, hs, cluster="psu", estimator="MLR")
    with pytest.raises(semnet.OptionError, match="clusters or a survey design"):
        semnet.bootstrap(fit, n=5, seed=1)
    fit = semnet.cfa(CFA, hs, sampling_weights="w")
    with pytest.raises(semnet.OptionError, match="Bollen-Stine"):
        semnet.bootstrap(fit, n=5, seed=1, type="bollen_stine")


SURVEYS = ["svy_mlm", "svy_fpc_mlmv", "svy_weights_mlm"]


def survey_fit(name: str) -> semnet.Fit:
    opts = dict(load(survey(name))["call"]["options"])
    estimator = opts.pop("estimator")
    return semnet.cfa(CFA, pd.read_csv(DATA), estimator=estimator,
                      survey=semnet.SurveyDesign(**opts))  # fmt: skip


@pytest.mark.parametrize("name", SURVEYS)
def test_survey_design_moments_and_gamma_as_r_survey(name):
    """The weighted moments and their Taylor-linearised Gamma as svymean/svyvar's
    (svyvar's covariance has divisor n - 1 in R: lavaan rescales it by (n - 1) / n)."""
    ref = load(survey(name))["design"]
    mom = survey_fit(name).moments[0]
    n = ref["n"]
    np.testing.assert_allclose(mom.cov * n / (n - 1), np.array(ref["cov"]), rtol=1e-12)
    np.testing.assert_allclose(mom.mean, ref["mean"], rtol=1e-12)
    gamma = np.array(ref["gamma"])
    np.testing.assert_allclose(mom.gamma, gamma, rtol=1e-10, atol=1e-12 * np.abs(gamma).max())


@pytest.mark.parametrize("name", SURVEYS)
def test_survey_design_fit_as_lavaan_with_nacov(name):
    ref = load(survey(name))
    fit = survey_fit(name)
    assert fit.options.estimator == ref["call"]["options"]["estimator"]
    theirs = keyed(table(ref, "estimates"), ref["group_labels"])
    mine = keyed(fit.estimates(), ref["group_labels"])
    m = mine.join(theirs, how="inner", suffixes=("", "_ref"))
    assert len(m) == len(theirs) == len(mine)
    np.testing.assert_allclose(m["est"], m["est_ref"], rtol=EST_RTOL, atol=ATOL)
    np.testing.assert_allclose(m["se"], m["se_ref"], rtol=SE_RTOL, atol=ATOL)
    fm = fit.fit_measures()
    checked = 0
    for key, value in ref["fit_measures"].items():
        if value is None or key == "npar":
            continue
        assert fm[key.replace(".", "_")] == pytest.approx(value, rel=FIT_RTOL, abs=ATOL), key
        checked += 1
    assert checked > 40


def test_survey_design_summary_and_design_effects(hs):
    fit = semnet.cfa(CFA, hs, survey=semnet.SurveyDesign(weights="w", strata="school",
                                                         cluster="psu"))  # fmt: skip
    assert (fit.options.estimator, fit.options.se) == ("MLM", "robust_sem")
    text = str(fit.summary())
    assert "Survey design strata" in text and "Design effect, means" in text
    deff = fit.sample.survey[1][0]
    assert deff.shape == (9 + 45,) and (deff > 0).all()
    # equal weights, no strata, one case per PSU: Gamma is the ADF Gamma times n / (n - 1)
    # for the (co)variances (svyvar's divisor), so the design effects are about 1
    plain = semnet.cfa(CFA, hs, survey=semnet.SurveyDesign())
    d = plain.sample.survey[1][0]
    np.testing.assert_allclose(d[:9], len(hs) / (len(hs) - 1), rtol=1e-12)


def test_survey_design_refusals(hs):
    design = semnet.SurveyDesign(weights="w", cluster="psu")
    with pytest.raises(semnet.OptionError, match="use estimator='MLM' or 'MLMV'"):
        semnet.cfa(CFA, hs, survey=design, estimator="MLR")
    with pytest.raises(semnet.OptionError, match="not both"):
        semnet.cfa(CFA, hs, survey=design, cluster="psu")
    with pytest.raises(semnet.OptionError, match=r"semnet\.SurveyDesign"):
        semnet.cfa(CFA, hs, survey={"weights": "w"})
    lonely = hs.assign(stratum=np.where(hs["psu"] == hs["psu"].iloc[0], "a", "b"))
    with pytest.raises(semnet.DataError, match="single PSU"):
        semnet.cfa(CFA, lonely, survey=semnet.SurveyDesign(strata="stratum", cluster="psu"))
    # one PSU and no strata: the message speaks of the design, not of a stratum
    with pytest.raises(semnet.DataError, match="the design has a single PSU") as error:
        semnet.cfa(CFA, hs.assign(one=1), survey=semnet.SurveyDesign(cluster="one"))
    assert "stratum" not in str(error.value)
    with pytest.raises(semnet.DataError, match="smaller than the number of sampled PSUs"):
        semnet.cfa(CFA, hs.assign(f=3), survey=semnet.SurveyDesign(cluster="psu", fpc="f"))
    with pytest.raises(semnet.DataError, match=r"SurveyDesign\(weights='school'\)"):
        semnet.cfa(CFA, hs, survey=semnet.SurveyDesign(weights="school"))
    with pytest.raises(semnet.DataError, match=r"SurveyDesign\(strata='nope'\)"):
        semnet.cfa(CFA, hs, survey=semnet.SurveyDesign(strata="nope"))
