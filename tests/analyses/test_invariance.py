"""semnet.invariance() against lavaan: cfa(group.equal =, group.partial =), lavTestLRT(),
lavTestScore(release =), lavTestWald().

Fixtures: hs_mg_* (HolzingerSwineford1939 by school, ML and MLR) in tests/reference/, and
invariance/ni_* (the synthetic three-country survey, FIML) in tests/reference/invariance/.
"""

from __future__ import annotations

import dataclasses
import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from reference import ROOT, keyed, load, table
from scipy import stats
from tolerances import ATOL, EST_RTOL, FIT_RTOL, SE_RTOL

import semnet
from semnet.analyses.invariance import (
    CHEN_2007,
    CHEUNG_RENSVOLD_2002,
    Cutoffs,
    InvarianceResult,
    adjust_pvalues,
    compare_paths,
    frame_to_latex,
    frame_to_markdown,
    invariance,
)

HS_MODEL = load("hs_mg_configural")["call"]["model"]
HS_LADDER = {"configural": "hs_mg_configural", "metric": "hs_mg_metric",
             "scalar": "hs_mg_scalar", "strict": "hs_mg_strict"}
NI_LADDER = {lvl: f"invariance/ni_{lvl}" for lvl in ("configural", "metric", "scalar", "strict")}
#: fit measures compared level by level (semnet name; lavaan's has dots)
MEASURES = ("npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower",
            "rmsea_ci_upper", "srmr", "aic", "bic")
ROBUST_MEASURES = ("chisq_scaled", "df_scaled", "pvalue_scaled", "chisq_scaling_factor",
                   "cfi_robust", "tli_robust", "rmsea_robust", "rmsea_ci_lower_robust",
                   "rmsea_ci_upper_robust")


@pytest.fixture(scope="module", autouse=True)
def _one_blas_thread():
    """The FIML fits are dominated by small dense solves; BLAS threads only contend."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        yield
        return
    with threadpool_limits(1):
        yield


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semnet.SemnetWarning)
        return func(*args, **kwargs)


@pytest.fixture(scope="module")
def hs_data():
    return semnet.datasets.holzinger_swineford()


@pytest.fixture(scope="module")
def ni_data():
    return pd.read_csv(ROOT / "sample_data" / "network_involvement.csv")


@pytest.fixture(scope="module")
def hs(hs_data):
    return invariance(HS_MODEL, hs_data, group="school")


@pytest.fixture(scope="module")
def hs_mlr(hs_data):
    ladder = {"metric": ("loadings",), "scalar": ("loadings", "intercepts")}
    return invariance(HS_MODEL, hs_data, group="school", levels=ladder, estimator="MLR")


@pytest.fixture(scope="module")
def ni(ni_data):
    model = load("invariance/ni_configural")["call"]["model"]
    return _quiet(invariance, model, ni_data, group="country", missing="ml")


@pytest.fixture(scope="module")
def ni_partial(ni):
    return _quiet(ni.partial, "scalar", rule="chisq")


def _close(a, b, rtol=FIT_RTOL, atol=ATOL):
    a = np.asarray(a, dtype=float)
    b = np.asarray([np.nan if v is None else v for v in np.atleast_1d(b)], dtype=float)
    return np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


def _check_measures(row: pd.Series, ref: dict, names) -> None:
    fm = ref["fit_measures"]
    for name in names:
        assert _close(row[name], fm[name.replace("_", ".")]), (ref["name"], name)


# -- the ladder against lavaan ------------------------------------------------------------


@pytest.mark.parametrize(("result", "ladder"), [("hs", HS_LADDER), ("ni", NI_LADDER)])
def test_each_level_matches_lavaan(result, ladder, request):
    res = request.getfixturevalue(result)
    tab = res.table()
    assert tab.index.tolist() == list(ladder)
    for level, fixture in ladder.items():
        ref = load(fixture)
        assert list(res.ladder[level]) == [g.replace(".", "_") for g in
                                           ref["call"]["options"].get("group.equal", [])]
        _check_measures(tab.loc[level], ref, MEASURES)
        assert res.fits[level].groups == ref["group_labels"]


@pytest.mark.parametrize(("result", "lrt_fixture", "ladder"),
                         [("hs", "hs_mg_scalar", HS_LADDER),
                          ("ni", "invariance/ni_strict", NI_LADDER)])
def test_difference_tests_match_lavtestlrt(result, lrt_fixture, ladder, request):
    res = request.getfixturevalue(result)
    tab = res.table()
    lrt = load(lrt_fixture)["lrt"]
    assert lrt["method"] == "standard"
    ref = lrt["table"]
    levels = [lvl for lvl, fx in ladder.items() if fx.split("/")[-1] in ref["model"]]
    assert len(levels) == len(ref["model"]) >= 3
    sub = tab.loc[levels]
    assert _close(sub["chisq"], ref["Chisq"])
    assert _close(sub["chisq_diff"], ref["Chisq diff"])
    assert _close(sub["df_diff"].astype(float), ref["Df diff"])
    assert _close(sub["pvalue_diff"], ref["Pr(>Chisq)"])
    # deltas of the fit indices: differences of lavaan's fitMeasures
    for a, b in itertools.pairwise(levels):
        fa, fb = load(ladder[a])["fit_measures"], load(ladder[b])["fit_measures"]
        for key in ("cfi", "rmsea", "srmr"):
            assert tab.at[b, f"delta_{key}"] == pytest.approx(fb[key] - fa[key], abs=1e-6)
        assert tab.at[b, "compared_to"] == a


def test_strict_step_matches_chisq_difference_of_fixtures(hs):
    a, b = load("hs_mg_scalar")["fit_measures"], load("hs_mg_strict")["fit_measures"]
    row = hs.table().loc["strict"]
    assert row["chisq_diff"] == pytest.approx(b["chisq"] - a["chisq"], rel=FIT_RTOL)
    assert row["df_diff"] == b["df"] - a["df"] == 9
    p = stats.chi2.sf(b["chisq"] - a["chisq"], b["df"] - a["df"])
    assert row["pvalue_diff"] == pytest.approx(p, rel=1e-3)


def test_robust_ladder_matches_lavaan_mlr(hs_mlr):
    tab = hs_mlr.table()
    assert {"chisq_scaled", "cfi_robust", "rmsea_robust", "delta_cfi_robust"} <= set(tab)
    for level, fixture in (("metric", "hs_mg_mlr_metric"), ("scalar", "hs_mg_mlr_scalar")):
        _check_measures(tab.loc[level], load(fixture), MEASURES + ROBUST_MEASURES)
    lrt = load("hs_mg_mlr_scalar")["lrt"]
    assert lrt["method"] == "satorra.bentler.2001"
    row = tab.loc["scalar"]
    assert row["chisq_diff"] == pytest.approx(lrt["table"]["Chisq diff"][1], rel=FIT_RTOL)
    assert row["pvalue_diff"] == pytest.approx(lrt["table"]["Pr(>Chisq)"][1], rel=FIT_RTOL)
    assert row["df_diff"] == lrt["table"]["Df diff"][1]
    # robust indices decide, and the reason says so
    fm0, fm1 = (load(f)["fit_measures"] for f in ("hs_mg_mlr_metric", "hs_mg_mlr_scalar"))
    assert row["delta_cfi_robust"] == pytest.approx(fm1["cfi.robust"] - fm0["cfi.robust"],
                                                    abs=1e-6)
    assert "ΔCFI(robust)" in row["reason"]


# -- decisions ---------------------------------------------------------------------------


def test_decisions_by_rule(hs, ni):
    assert hs.table()["decision"].tolist()[1:] == ["holds", "fails", "holds"]
    assert hs.table("chisq")["decision"].tolist()[1:] == ["holds", "fails", "fails"]
    assert hs.table()["rule"].unique().tolist() == ["chen2007"]
    assert hs.highest_level == "metric"
    # the synthetic survey: CFI drops by .015 at the scalar step, but neither RMSEA nor
    # SRMR supplement it, so Chen's rule lets scalar hold while Cheung-Rensvold does not
    assert ni.table()["decision"].tolist()[1:] == ["holds", "holds", "holds"]
    assert "not supplemented" in ni.table().at["scalar", "reason"]
    assert ni.table("cheung_rensvold2002")["decision"].tolist()[1:] == [
        "holds", "fails", "holds"]
    assert ni.table("chisq")["decision"].tolist()[1:] == ["fails", "fails", "fails"]
    assert hs.table().iloc[0]["decision"] is None


def _d(cfi=None, rmsea=None, srmr=None, p=None):
    out = {"delta_cfi": cfi, "delta_rmsea": rmsea, "delta_srmr": srmr, "pvalue_diff": p}
    return {k: v for k, v in out.items() if v is not None}


@pytest.mark.parametrize(
    ("rule", "deltas", "added", "holds"),
    [
        (CHEN_2007, _d(-0.005, 0.05, 0.05), ("loadings",), True),
        (CHEN_2007, _d(-0.02, 0.01, 0.02), ("loadings",), True),
        (CHEN_2007, _d(-0.02, 0.01, 0.02), ("intercepts",), False),
        (CHEN_2007, _d(-0.02, 0.02, 0.0), ("residuals",), False),
        (CHEN_2007, _d(-0.01, 0.02, 0.02), ("intercepts",), True),
        (CHEUNG_RENSVOLD_2002, _d(-0.0101), (), False),
        (CHEUNG_RENSVOLD_2002, _d(-0.0099), (), True),
        (Cutoffs("all3", delta_cfi=-0.01, delta_rmsea=0.015, delta_srmr=0.01),
         _d(0.0, 0.0, 0.02), ("intercepts",), False),
        (Cutoffs("cfi_and_chisq", delta_cfi=-0.01, alpha=0.01), _d(0.0, p=0.001), (), False),
    ],
)
def test_cutoff_rules(rule, deltas, added, holds):
    assert rule.decide(deltas, added)[0] is holds


def test_cutoffs_are_validated():
    with pytest.raises(semnet.OptionError, match="at least one criterion"):
        Cutoffs("none", delta_cfi=None)
    with pytest.raises(semnet.OptionError, match="combine"):
        Cutoffs("x", combine="any")
    with pytest.raises(semnet.OptionError, match="supplement"):
        Cutoffs("x", delta_cfi=-0.01, combine="chen")


def test_custom_cutoffs_in_table(hs):
    strict_cfi = Cutoffs("tight", delta_cfi=-0.001)
    assert hs.table(strict_cfi)["decision"].tolist()[1:] == ["fails", "fails", "fails"]
    assert hs.table(strict_cfi).attrs["rule"] == "tight"


# -- partial invariance --------------------------------------------------------------------


def test_partial_search_finds_the_planted_parameters(ni_partial):
    p = ni_partial
    assert p.freed == ("ni=~ni3", "doi2~1")
    assert p.holds and dict(p.levels_held) == {"metric": True, "scalar": True}
    audit = p.audit
    assert audit["level"].tolist() == ["metric", "metric", "scalar", "scalar"]
    assert audit["step"].tolist() == [0, 1, 0, 1]
    assert audit["decision"].tolist() == ["fails", "holds", "fails", "holds"]
    assert audit["groups"].iloc[1] == "USA,China,Russia"
    assert (audit["df"].dropna() == 2).all()
    assert (audit["p_adjusted"].dropna() <= 0.05).all()
    # the final fits equal lavaan fitted with the same group.partial
    ref = load("invariance/ni_partial")
    assert list(p.group_partial) == ref["call"]["options"]["group.partial"]
    fm = p.fit.fit_measures()
    for name in MEASURES:
        assert _close(fm[name], ref["fit_measures"][name.replace("_", ".")]), name
    ref_m = load("invariance/ni_partial_metric")
    assert p.fits["metric"].chisq == pytest.approx(ref_m["fit_measures"]["chisq"], rel=FIT_RTOL)
    # the difference tests in the audit are lavTestLRT's
    lrt = ref["lrt"]["table"]
    assert lrt["model"] == ["ni_configural", "ni_partial_metric", "ni_partial"]
    final = audit[audit["decision"] == "holds"]
    assert _close(final["chisq_diff"], lrt["Chisq diff"][1:])
    assert _close(final["pvalue_diff"], lrt["Pr(>Chisq)"][1:])


def test_partial_search_other_rules(ni):
    # Cheung-Rensvold: metric holds, so only the intercept is freed
    p = _quiet(ni.partial, "scalar", rule="cheung_rensvold2002")
    assert p.freed == ("doi2~1",) and p.holds
    # Chen: everything holds, nothing to free
    p = ni.partial("scalar")
    assert p.freed == () and p.holds and (p.audit["step"] == 0).all()
    assert p.fit is ni.fits["scalar"]


def test_joint_score_test_matches_lavtestscore(ni):
    from semnet.analyses.invariance.partial import _score_candidates

    ref = load("invariance/ni_scalar")["score_release"]
    fit = ni.fits["scalar"]
    cand = _score_candidates(fit, ("intercepts",), set()).set_index("param")
    row = cand.loc[ref["param"]]
    assert [i + 1 for i in row["constraints"]] == ref["release"]  # R counts from 1
    assert row["X2"] == pytest.approx(ref["total"]["X2"][0], rel=1e-4)
    assert row["df"] == ref["total"]["df"][0] == 2
    total = fit.score_test(release=list(row["constraints"])).total
    assert total["X2"] == pytest.approx(row["X2"], rel=1e-10)
    # only intercepts, and never a parameter already exempt
    assert set(cand["type"]) == {"intercepts"} and len(cand) == 20
    assert "doi2~1" not in _score_candidates(fit, ("intercepts",), {"doi2~1"})["param"].tolist()


def test_partial_on_hs_matches_lavaan_partial(hs):
    p = hs.partial("scalar", rule="chisq")
    assert p.freed == ("x3~1", "x7~1")
    ref = load("hs_mg_partial")
    assert list(p.group_partial) == ref["call"]["options"]["group.partial"]
    assert p.fit.chisq == pytest.approx(ref["fit_measures"]["chisq"], rel=FIT_RTOL)
    # by Chen's rule one intercept is enough; the result is cached
    assert hs.partial("scalar").freed == ("x3~1",)
    assert hs.partial("scalar") is hs.partial("scalar")


def test_partial_keeps_two_invariant_indicators(hs):
    with pytest.warns(semnet.SemnetWarning, match="min_invariant=3"):
        p = hs.partial("scalar", rule="chisq", min_invariant=3)
    assert p.freed == () and not p.holds
    p = hs.partial("scalar", rule="chisq", max_steps=1)
    assert p.freed == ("x3~1",) and not p.holds


def test_partial_bad_arguments(hs):
    with pytest.raises(semnet.OptionError, match="first level"):
        hs.partial("configural")
    with pytest.raises(semnet.OptionError, match="level"):
        hs.partial("scalr")
    with pytest.raises(semnet.OptionError, match="adjust"):
        hs.partial("scalar", adjust="sidak")
    with pytest.raises(semnet.OptionError, match="min_invariant"):
        hs.partial("scalar", min_invariant=0)


@pytest.mark.parametrize(("method", "expected"), [
    # m = 4; sorted p: .005 .01 .03 .04
    ("bonferroni", [0.04, 0.16, 0.12, 0.02]),                # 4p
    ("holm", [0.03, 0.06, 0.06, 0.02]),                      # 4p, 3p, max(2p, ·), max(1p, ·)
    ("bh", [0.02, 0.04, 0.04, 0.02]),                        # min over ranks k >= i of 4p/k
])
def test_adjust_pvalues_by_hand(method, expected):
    p = [0.01, 0.04, 0.03, 0.005]
    assert np.allclose(adjust_pvalues(p, method), expected, rtol=0, atol=1e-15)


def test_adjust_pvalues_edges():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    assert np.array_equal(adjust_pvalues(p, None), p)
    assert adjust_pvalues([], "holm").size == 0
    assert adjust_pvalues([0.5, 0.6], "bonferroni").tolist() == [1.0, 1.0]  # capped at 1
    # NaN stays NaN and is not counted: m = 2
    out = adjust_pvalues([0.01, np.nan, 0.02], "holm")
    assert np.isnan(out[1]) and np.allclose(out[[0, 2]], [0.02, 0.02])
    with pytest.raises(semnet.OptionError, match="adjust='sidak'"):
        adjust_pvalues(p, "sidak")
    with pytest.raises(semnet.OptionError, match=r"\[0, 1\]"):
        adjust_pvalues([0.5, 1.5], "holm")


# -- latent means ----------------------------------------------------------------------------


def _lavaan_means(fixture: str) -> pd.DataFrame:
    ref = load(fixture)
    est = keyed(table(ref, "estimates"), ref["group_labels"])
    return est.xs("~1", level="op")


def test_latent_means_match_lavaan_partial_scalar(ni, ni_partial):
    lm = ni.latent_means(partial=ni_partial)
    ref = _lavaan_means("invariance/ni_partial")
    assert len(lm) == 5 * 2 and set(lm["reference"]) == {"USA"}
    for _, row in lm.iterrows():
        r = ref.loc[(row["factor"], "", row["group"])]
        # compared on the scale of the SE: one of these means is zero in the population
        assert abs(row["est"] - r["est"]) <= SE_RTOL * r["se"]
        assert row["se"] == pytest.approx(r["se"], rel=SE_RTOL)
        assert abs(row["z"] - r["z"]) <= SE_RTOL * max(1.0, abs(r["z"]))
    assert lm["source"].iloc[0] == "scalar (partial: ni=~ni3, doi2~1)"
    # effect size: difference over the pooled latent SD of the two groups
    fit = ni_partial.fit
    est = fit.estimates().set_index(["lhs", "op", "rhs", "group"])
    psi_us = est.at[("gm", "~~", "gm", "USA"), "est"]
    psi_cn = est.at[("gm", "~~", "gm", "China"), "est"]
    n_us, n_cn = fit.nobs["USA"], fit.nobs["China"]
    pooled = ((n_us - 1) * psi_us + (n_cn - 1) * psi_cn) / (n_us + n_cn - 2)
    row = lm[(lm["factor"] == "gm") & (lm["group"] == "China")].iloc[0]
    assert row["effect_size"] == pytest.approx(row["est"] / np.sqrt(pooled), rel=1e-12)


def test_latent_means_hs_partial_and_other_reference(hs, hs_data):
    p = hs.partial("scalar", rule="chisq")
    lm = hs.latent_means(partial=p)
    ref = _lavaan_means("hs_mg_partial")
    for _, row in lm.iterrows():
        r = ref.loc[(row["factor"], "", "Grant-White")]
        assert row["est"] == pytest.approx(r["est"], rel=EST_RTOL, abs=ATOL)
        assert row["se"] == pytest.approx(r["se"], rel=SE_RTOL)
        assert row["pvalue"] == pytest.approx(r["pvalue"], rel=1e-3, abs=1e-8)
    # another reference: the delta-method difference equals a refit with that group first
    other = hs.latent_means(reference="Grant-White", partial=p)
    assert other["group"].tolist() == ["Pasteur"] * 3
    flipped = hs_data.iloc[np.r_[np.flatnonzero(hs_data["school"] == "Grant-White"),
                                 np.flatnonzero(hs_data["school"] == "Pasteur")]]
    refit = semnet.cfa(HS_MODEL, flipped, group="school",
                       group_equal=["loadings", "intercepts"], group_partial=["x3~1", "x7~1"])
    assert refit.groups == ["Grant-White", "Pasteur"]
    est = refit.estimates().set_index(["lhs", "op", "rhs", "group"])
    for _, row in other.iterrows():
        key = (row["factor"], "~1", "", "Pasteur")
        assert row["est"] == pytest.approx(est.at[key, "est"], rel=1e-4, abs=1e-6)
        assert row["se"] == pytest.approx(est.at[key, "se"], rel=1e-3)
        assert row["est"] == pytest.approx(-lm.set_index("factor").at[row["factor"], "est"])
    # and equals the Wald test on the plabels
    params = p.fit.partable.params
    rows = params[(params["op"] == "~1") & (params["lhs"] == "textual")]
    w = p.fit.wald(f"{rows['plabel'].iloc[0]} == {rows['plabel'].iloc[1]}")
    z = other.set_index("factor").at["textual", "z"]
    assert w["stat"] == pytest.approx(z**2, rel=1e-8)


def test_latent_means_refused_without_scalar_invariance(hs):
    with pytest.raises(semnet.SemnetError, match="scalar invariance"):
        hs.latent_means()
    failing = hs.partial("scalar", rule="chisq", max_steps=1)
    with pytest.raises(semnet.SemnetError, match="does not hold"):
        hs.latent_means(partial=failing)
    with pytest.raises(semnet.OptionError, match="reference"):
        hs.latent_means(reference="Eton", partial=hs.partial("scalar"))


def test_latent_means_from_highest_level(ni):
    lm = ni.latent_means()  # Chen: strict holds, latent means from strict
    assert set(lm["source"]) == {"strict"}
    ref = _lavaan_means("invariance/ni_strict")
    r = ref.loc[("doi", "", "Russia")]
    row = lm[(lm["factor"] == "doi") & (lm["group"] == "Russia")].iloc[0]
    assert abs(row["est"] - r["est"]) <= SE_RTOL * r["se"]
    assert row["se"] == pytest.approx(r["se"], rel=SE_RTOL)


# -- structural paths ----------------------------------------------------------------------


def test_compare_paths_matches_lavaan(hs_data):
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\ntextual ~ visual"
    out = compare_paths(model, hs_data, group="school", paths=["textual ~ visual"])
    wald = load("hs_mg_path_equal")["wald"]
    joint = out.joint.set_index("test")
    assert joint.at["Wald", "stat"] == pytest.approx(wald["stat"], rel=SE_RTOL)
    assert joint.at["Wald", "pvalue"] == pytest.approx(wald["p.value"], rel=SE_RTOL)
    lrt = load("hs_mg_path_equal_constrained")["lrt"]["table"]
    assert joint.at["LRT", "stat"] == pytest.approx(lrt["Chisq diff"][1], rel=FIT_RTOL)
    assert joint.at["LRT", "pvalue"] == pytest.approx(lrt["Pr(>Chisq)"][1], rel=FIT_RTOL)
    assert out.equal.chisq == pytest.approx(lrt["Chisq"][1], rel=FIT_RTOL)
    pair = out.pairwise.iloc[0]
    assert (pair["group_a"], pair["group_b"]) == ("Pasteur", "Grant-White")
    assert pair["z"] ** 2 == pytest.approx(wald["stat"], rel=SE_RTOL)
    est = keyed(table(load("hs_mg_path_equal"), "estimates"), ["Pasteur", "Grant-White"])
    for _, row in out.estimates.iterrows():
        r = est.loc[("textual", "~", "visual", row["group"])]
        assert row["est"] == pytest.approx(r["est"], rel=EST_RTOL)
        assert row["se"] == pytest.approx(r["se"], rel=SE_RTOL)


def test_compare_paths_three_groups(ni_data):
    model = ROOT / "models" / "structural.lav"
    out = _quiet(compare_paths, model, ni_data, group="country", paths=["doi~ni", "ni~gm"],
                 group_equal=("loadings",))
    assert out.equal.df - out.free.df == 4
    j = out.joint
    assert j["test"].tolist() == ["Wald", "Wald", "Wald", "LRT"]
    assert j["df"].tolist() == [2, 2, 4, 4]
    assert len(out.pairwise) == 6 and set(out.pairwise["path"]) == {"doi~ni", "ni~gm"}
    # the joint Wald test is lavTestWald's on the plabels
    p = out.free.partable.params
    pl = p[(p["lhs"] == "doi") & (p["op"] == "~") & (p["rhs"] == "ni")]["plabel"].tolist()
    w = out.free.wald(f"{pl[0]} == {pl[1]}\n{pl[0]} == {pl[2]}")
    assert j["stat"].iloc[0] == pytest.approx(w["stat"], rel=1e-8)
    holm = out.pairwise[out.pairwise["path"] == "doi~ni"]
    assert np.allclose(holm["p_adjusted"], adjust_pvalues(holm["pvalue"], "holm"))
    with pytest.raises(semnet.OptionError, match="not a regression"):
        _quiet(compare_paths, model, ni_data, group="country", paths=["doi~et2"])


# -- options, errors, immutability, formats --------------------------------------------------


def test_structural_levels_are_cumulative(hs, hs_data):
    res = invariance(HS_MODEL, hs_data, group="school",
                     levels=("configural", "metric", "scalar", "lv_variances",
                             "lv_covariances", "means"))
    assert res.ladder["means"] == ("loadings", "intercepts", "lv_variances",
                                   "lv_covariances", "means")
    ref = load("hs_mg_lv")
    _check_measures(res.table().loc["means"], ref, MEASURES)
    # the configural, metric and scalar fits are the same models as in the default ladder
    assert res.fits["scalar"].chisq == pytest.approx(hs.fits["scalar"].chisq, rel=1e-10)
    with pytest.raises(semnet.SemnetError, match="scalar invariance"):
        res.latent_means()


def test_bad_ladders_and_options(hs_data):
    with pytest.raises(semnet.OptionError, match="level"):
        invariance(HS_MODEL, hs_data, group="school", levels=("configural", "scalr"))
    with pytest.raises(semnet.SemnetError, match="not nested"):
        invariance(HS_MODEL, hs_data, group="school",
                   levels={"a": ("intercepts",), "b": ("loadings",)})
    with pytest.raises(semnet.OptionError, match="levels"):
        invariance(HS_MODEL, hs_data, group="school", group_equal=["loadings"])
    with pytest.raises(semnet.OptionError, match="rule"):
        invariance(HS_MODEL, hs_data, group="school", rule="chen2008")
    with pytest.raises(semnet.OptionError, match="two levels"):
        invariance(HS_MODEL, hs_data, group="school", levels=("configural",))


def test_engine_errors_pass_through():
    data = pd.read_csv(ROOT / load("hs_fiml")["call"]["data"])
    with pytest.raises(semnet.OptionError, match="fiml"):
        invariance(HS_MODEL, data, group="school", estimator="MLM", missing="fiml")


def test_mlr_with_fiml_judges_the_fiml_corrected_robust_indices():
    data = pd.read_csv(ROOT / load("hs_fiml")["call"]["data"])
    res = _quiet(invariance, HS_MODEL, data, group="school", estimator="MLR",
                 missing="fiml", levels=("configural", "metric"))
    row = res.table().loc["metric"]
    assert np.isfinite(row["chisq_scaled"]) and np.isfinite(row["chisq_diff"])
    assert row["decision"] in ("holds", "fails")
    assert np.isfinite(row["cfi_robust"]) and np.isfinite(row["delta_cfi_robust"])
    assert row["reason"].startswith("ΔCFI(robust) = ")


def test_result_is_immutable(hs):
    assert isinstance(hs, InvarianceResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        hs.rule = CHEUNG_RENSVOLD_2002
    with pytest.raises(TypeError):
        hs.fits["metric"] = hs.fits["scalar"]
    tab = hs.table()
    tab.loc["metric", "chisq"] = -1.0
    assert hs.table().loc["metric", "chisq"] > 0


def test_formats(hs):
    md = hs.to_markdown()
    lines = md.splitlines()
    assert len(lines) == 2 + 4
    assert lines[0].startswith("| level | chisq | df | cfi |")
    assert "| scalar | 164.103 | 60 |" in md and "fails" in md and "nan" not in md.lower()
    # the package's one p-value style, right-aligned numbers
    assert "| < .001 |" in md and "<0.001" not in md
    assert lines[1].startswith("|:--|--:|--:|--:|")
    latex = hs.to_latex(caption="Invariance of the HS model")
    assert "\\toprule" in latex and "delta\\_cfi" in latex and "\\caption{" in latex
    html = hs.to_html(columns=["chisq", "df", "decision"])
    assert html.count("<tr>") == 5 and '<th class="txt">decision</th>' in html
    p = hs.partial("scalar", rule="chisq")
    assert "x7~1" in p.to_markdown()
    assert frame_to_markdown(pd.DataFrame({"a|b": ["x"]})).startswith("| a\\|b |")
    assert "0.500" in frame_to_latex(pd.DataFrame({"x": [0.5]}))
    with pytest.raises(semnet.OptionError, match="unknown column"):
        hs.to_markdown(columns=["nope"])
    assert "highest level holding: metric" in repr(hs)
    text = hs.to_text(columns=["chisq", "df", "pvalue_diff", "decision"]).splitlines()
    assert text[0].split() == ["level", "chisq", "df", "pvalue_diff", "decision"]
    assert text[4].split() == ["scalar", "164.103", "60", "<", ".001", "fails"]
    assert "scalar      164.1028  60" in repr(hs)  # the repr's table has 4 decimals


def test_progress_bars_of_the_ladder_and_the_partial_search(capsys):
    hs = semnet.datasets.holzinger_swineford()
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6"
    quiet = semnet.invariance(model, hs, group="school", progress=False)
    quiet.partial("scalar", rule="chisq", progress=False)
    assert capsys.readouterr().err == ""  # off when asked (and when not a terminal)
    loud = semnet.invariance(model, hs, group="school", progress=True)
    err = capsys.readouterr().err
    assert "invariance ladder" in err and "4/4" in err
    loud.partial("scalar", rule="chisq", progress=True)
    err = capsys.readouterr().err
    assert "partial invariance" in err and "2/2" in err
    assert loud.table().equals(quiet.table())


def test_latent_means_refuse_the_partial_result_of_another_ladder(hs, hs_data):
    # the other ladder's groups ('a', 'b') and means were reported as this ladder's
    by_sex = hs_data.assign(school=np.where(hs_data["sex"] == 1, "a", "b"))
    other = invariance(HS_MODEL, by_sex, group="school").partial("scalar")
    with pytest.raises(semnet.OptionError, match="another invariance ladder"):
        hs.latent_means(partial=other)


def test_latent_means_check_the_level_with_a_partial_result(hs):
    # level=2 gave NaN intervals (the normal quantile of 1.5)
    with pytest.raises(semnet.OptionError, match="level must be between 0 and 1"):
        hs.latent_means(partial=hs.partial("scalar"), level=2)
