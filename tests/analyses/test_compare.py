"""semnet.compare() against lavaan's lavTestLRT()."""

from __future__ import annotations

import numpy as np
import pytest
from reference import load, refit
from scipy import stats
from shared_models import HS_MODEL
from tolerances import FIT_RTOL

import semnet


def test_compare_matches_lavtestlrt():
    ref = load("hs_mg_scalar")["lrt"]["table"]
    out = semnet.compare(
        refit("hs_mg_scalar"), refit("hs_mg_configural"), refit("hs_mg_metric"),
        names=["scalar", "configural", "metric"],
    )
    assert out.index.tolist() == ["configural", "metric", "scalar"]
    assert out["df"].tolist() == ref["Df"]
    for ours, theirs in [("aic", "AIC"), ("bic", "BIC"), ("chisq", "Chisq"),
                         ("chisq_diff", "Chisq diff"), ("df_diff", "Df diff"),
                         ("rmsea", "RMSEA"), ("pvalue", "Pr(>Chisq)")]:
        expected = np.array([np.nan if v is None else v for v in ref[theirs]], dtype=float)
        assert np.allclose(out[ours], expected, rtol=FIT_RTOL, equal_nan=True), ours


def test_compare_refuses_different_data():
    a = refit("hs_cfa")
    b = refit("hs_listwise")
    with pytest.raises(semnet.SemnetError, match="same data"):
        semnet.compare(a, b)


def test_compare_takes_a_sample_cov_fit_and_a_raw_data_fit_of_the_same_cases(hs):
    # lavTestLRT compares them; the covariances agree to rounding, not bit for bit
    items = [f"x{i}" for i in range(1, 10)]
    summary = semnet.cfa(HS_MODEL, sample_cov=hs[items].cov(), sample_nobs=301)
    raw = semnet.cfa(HS_MODEL, hs, orthogonal=True)
    out = semnet.compare(summary, raw)
    assert out["df_diff"].iloc[1] == 3
    expected = raw.fit_measures()["chisq"] - summary.fit_measures()["chisq"]
    np.testing.assert_allclose(out["chisq_diff"].iloc[1], expected, rtol=FIT_RTOL)
    other = semnet.cfa(HS_MODEL, sample_cov=hs[items].cov() * 1.01, sample_nobs=301)
    with pytest.raises(semnet.SemnetError, match="same data"):
        semnet.compare(other, raw)


def test_compare_needs_two_models():
    with pytest.raises(semnet.SemnetError, match="at least two"):
        semnet.compare(refit("hs_cfa"))


def test_compare_names_must_differ():
    a, b = refit("hs_cfa"), refit("hs_cfa_orthogonal")
    with pytest.raises(semnet.OptionError, match=r"names must differ .* \['m', 'm'\]"):
        semnet.compare(a, b, names=["m", "m"])


def test_compare_warns_when_not_nested():
    # orthogonal factors (more df) must not fit better than correlated ones
    a, b = refit("hs_cfa"), refit("hs_cfa_orthogonal")
    out = semnet.compare(a, b)
    assert out["chisq_diff"].iloc[1] > 0
    with pytest.warns(UserWarning, match="same degrees of freedom"):
        semnet.compare(a, refit("hs_cfa_stdlv"))


@pytest.mark.parametrize(
    ("method", "key"), [(None, "lrt"), ("satorra_bentler_2010", "lrt_2010")]
)
def test_scaled_difference_matches_lavaan(method, key):
    ref = load("hs_mg_mlr_scalar")[key]
    expected_method = (method or "satorra_bentler_2001").replace("_", ".")
    assert ref["method"] == expected_method
    table = ref["table"]
    out = semnet.compare(refit("hs_mg_mlr_metric"), refit("hs_mg_mlr_scalar"), method=method)
    assert out.attrs["method"] == expected_method.replace(".", "_")
    assert "rmsea" not in out.columns
    assert np.allclose(out["chisq"], table["Chisq"], rtol=FIT_RTOL)
    assert out["chisq_diff"].iloc[1] == pytest.approx(table["Chisq diff"][1], rel=FIT_RTOL)
    assert out["pvalue"].iloc[1] == pytest.approx(table["Pr(>Chisq)"][1], rel=FIT_RTOL)
    assert out["df_diff"].iloc[1] == table["Df diff"][1]


def test_mixed_standard_and_robust_fits_refused():
    with pytest.raises(semnet.SemnetError, match="same estimator"):
        semnet.compare(refit("hs_mg_metric"), refit("hs_mg_mlr_scalar"))


def test_three_group_mlr_fiml_scaled_difference_matches_lavaan():
    table = load("invariance/ni_mlr_scalar")["lrt"]["table"]
    out = semnet.compare(refit("invariance/ni_mlr_metric"), refit("invariance/ni_mlr_scalar"))
    assert out.attrs["method"] == "satorra_bentler_2001"
    assert out["chisq_diff"].iloc[1] == pytest.approx(table["Chisq diff"][1], rel=FIT_RTOL)
    assert out["pvalue"].iloc[1] == pytest.approx(table["Pr(>Chisq)"][1], rel=FIT_RTOL)


@pytest.mark.parametrize(
    ("fixture", "less", "more"),
    [
        ("hs_mg_mlmv_scalar", "hs_mg_mlmv_metric", "hs_mg_mlmv_scalar"),
        ("hs_mlmv_orthogonal", "hs_mlmv", "hs_mlmv_orthogonal"),
    ],
)
def test_mlmv_default_is_satorra_2000_scaled_shifted(fixture, less, more):
    """lavTestLRT's default for MLMV (scaled.shifted) fits: method = "satorra.2000"."""
    ref = load(fixture)["lrt"]
    assert ref["method"] == "satorra.2000"
    table = ref["table"]
    out = semnet.compare(refit(less), refit(more))
    assert out.attrs["method"] == "satorra_2000"
    assert "scaled-shifted" in out.attrs["note"]
    assert "rmsea" not in out.columns
    assert np.allclose(out["chisq"], table["Chisq"], rtol=FIT_RTOL)
    assert out["chisq_diff"].iloc[1] == pytest.approx(table["Chisq diff"][1], rel=FIT_RTOL)
    assert out["pvalue"].iloc[1] == pytest.approx(table["Pr(>Chisq)"][1], rel=FIT_RTOL)
    assert out["df_diff"].iloc[1] == table["Df diff"][1]
    assert out["scale"].iloc[1] == pytest.approx(ref["scale"][1], rel=FIT_RTOL)
    assert out["shift"].iloc[1] == pytest.approx(ref["shift"][1], rel=FIT_RTOL)


@pytest.mark.parametrize(
    ("method", "key"), [("satorra_bentler_2001", "lrt_2001"), ("satorra_bentler_2010", "lrt_2010")]
)
def test_mlmv_satorra_bentler_methods_match_lavaan(method, key):
    ref = load("hs_mg_mlmv_scalar")[key]
    assert ref["method"] == method.replace("_", ".")
    out = semnet.compare(refit("hs_mg_mlmv_metric"), refit("hs_mg_mlmv_scalar"), method=method)
    table = ref["table"]
    stat = out["chisq_diff"].iloc[1]
    assert stat == pytest.approx(table["Chisq diff"][1], rel=FIT_RTOL)
    # the p-values (about 1e-6) are ill-conditioned: d log p / d log X2 is about 15 here,
    # and the scaling factors (first-order in where each optimizer stopped) agree to
    # ~5e-7, which r0 c0 - r1 c1 amplifies ten-fold; so the p-value is checked as the
    # tail of the statistic compared above
    assert out["pvalue"].iloc[1] == pytest.approx(stats.chi2.sf(stat, 6), rel=1e-12)


def test_satorra_2000_is_refused_for_mlr():
    with pytest.raises(semnet.OptionError, match="satorra_2000"):
        semnet.compare(refit("hs_mg_mlr_metric"), refit("hs_mg_mlr_scalar"),
                       method="satorra_2000")


def test_compare_warns_when_more_df_fit_better():
    # a wrong three-factor structure (24 df) fits worse than the orthogonal true one (27 df)
    hs = semnet.datasets.holzinger_swineford()
    # (a =~ x1 + x4 + x7 etc., written so that the variables keep the order x1 ... x9)
    wrong = semnet.cfa("a =~ x1\nb =~ x2\nc =~ x3\na =~ x4\nb =~ x5\nc =~ x6\n"
                       "a =~ x7\nb =~ x8\nc =~ x9", hs)
    true = semnet.cfa("a =~ x1 + x2 + x3\nb =~ x4 + x5 + x6\nc =~ x7 + x8 + x9", hs,
                      orthogonal=True)
    with pytest.warns(UserWarning, match="probably not nested") as caught:
        semnet.compare(wrong, true)
    # the warning points at the caller of compare()
    assert caught[0].filename == __file__


def test_negative_satorra_bentler_2001_scaling_factor_warns():
    # in 40 cases the one-factor model's scaling factor is so much smaller than the
    # two-factor model's that the 2001 difference scaling factor is negative
    data = semnet.datasets.holzinger_swineford().iloc[200:240]
    two = semnet.cfa("a =~ x1 + x2 + x3\nb =~ x4 + x5 + x6 + x7 + x8 + x9", data,
                     estimator="MLR")
    one = semnet.cfa("g =~ x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9", data, estimator="MLR")
    with pytest.warns(UserWarning, match="negative") as caught:
        out = semnet.compare(two, one)
    assert caught[0].filename == __file__
    c_d = (one.df * one.scaled_test.scaling_factor
           - two.df * two.scaled_test.scaling_factor) / (one.df - two.df)
    assert out["scaling_factor"].iloc[1] == pytest.approx(c_d) and c_d < 0
    assert np.isnan(out["chisq_diff"].iloc[1]) and np.isnan(out["pvalue"].iloc[1])


@pytest.mark.parametrize(("estimator", "method"), [
    ("ML", None), ("MLM", "satorra_bentler_2010"), ("MLMV", "satorra_2000"),
])
def test_compare_accepts_the_same_variables_listed_in_another_order(estimator, method):
    # the restricted model names its factors (and so the variables) in another order,
    # and its covariance as `visual ~~ textual` where semnet keeps `textual ~~ visual`:
    # lavaan compares them (29.377 for SB2010); semnet refused them as "not the same data"
    hs = semnet.datasets.holzinger_swineford()
    free = semnet.cfa("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6", hs, estimator=estimator)
    same = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~~ 0*textual"
    swapped = "textual =~ x4 + x5 + x6\nvisual =~ x1 + x2 + x3\nvisual ~~ 0*textual"
    expected = semnet.compare(free, semnet.cfa(same, hs, estimator=estimator), method=method)
    out = semnet.compare(free, semnet.cfa(swapped, hs, estimator=estimator), method=method)
    assert np.allclose(out.to_numpy(float), expected.to_numpy(float), rtol=1e-10,
                       equal_nan=True)


def test_compare_still_refuses_other_rows_with_the_variables_reordered():
    hs = semnet.datasets.holzinger_swineford()
    other = hs.copy()
    other["x1"] = other["x1"].iloc[::-1].to_numpy()
    a = semnet.cfa("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6", hs)
    b = semnet.cfa("textual =~ x4 + x5 + x6\nvisual =~ x1 + x2 + x3", other, orthogonal=True)
    with pytest.raises(semnet.SemnetError, match="same data"):
        semnet.compare(a, b)


def test_compare_refuses_fits_without_a_chi_square():
    # two LMS fits gave a table of NaN (no df, chi-square or test), without a word
    hs = semnet.datasets.holzinger_swineford()
    model = "f1 =~ x1 + x2 + x3\nf2 =~ x4 + x5 + x6\nf3 =~ x7 + x8 + x9\nf3 ~ f1 + f2 + f1:f2"
    lms = semnet.sem(model, hs)
    with pytest.raises(semnet.SemnetError, match=r"has no chi-square test.*lr_test"):
        semnet.compare(lms, semnet.sem(model.replace(" + f1:f2", ""), hs))
