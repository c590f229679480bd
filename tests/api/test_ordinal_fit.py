"""Ordinal items fitted by DWLS / ULS / WLS (WLSMV, WLSM, ULSMV, ...) against lavaan 0.6.14
(tests/reference/ordinal/make_wlsmv.R writes the fixtures)."""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ordinal_reference import assert_table_estimates_and_se
from tolerances import EST_RTOL, FIT_RTOL, ORDINAL_ATOL, SE_RTOL

import semnet
from semnet.errors import DataError, OptionError

HERE = Path(__file__).parent.parent / "reference" / "ordinal"
REF = json.loads((HERE / "wlsmv.json").read_text())


def _fit(case: str):
    r = REF[case]
    data = pd.read_csv(HERE / r["data"])
    kwargs = {}
    if r.get("group"):
        kwargs["group"] = r["group"]
    if r.get("group_equal"):
        kwargs["group_equal"] = r["group_equal"]
    if r.get("parameterization"):
        kwargs["parameterization"] = r["parameterization"]
    return r, semnet.cfa(r["model"], data, ordered=r["ordered"], estimator=r["estimator"],
                         **kwargs)


@pytest.mark.parametrize("case", sorted(REF))
def test_parameter_table_estimates_and_se(case):
    r, fit = _fit(case)
    assert_table_estimates_and_se(fit, r)


@pytest.mark.parametrize("case", sorted(REF))
def test_chisq_and_scaled_test(case):
    r, fit = _fit(case)
    fm = r["fit_measures"]
    assert fit.df == fm["df"]
    assert fit.npar == fm["npar"]
    np.testing.assert_allclose(fit.chisq, fm["chisq"], rtol=FIT_RTOL)
    if "chisq.scaled" in fm:
        np.testing.assert_allclose(fit.scaled_test.stat, fm["chisq.scaled"], rtol=FIT_RTOL)
        np.testing.assert_allclose(
            fit.scaled_test.scaling_factor, fm["chisq.scaling.factor"], rtol=FIT_RTOL
        )


def test_ordered_categorical_columns_are_ordinal_and_default_to_wlsmv():
    r = REF["wlsmv_four"]
    data = pd.read_csv(HERE / r["data"])
    cats = data.apply(lambda c: pd.Categorical(c, categories=sorted(c.unique()), ordered=True))
    fit = semnet.cfa(r["model"], cats)
    assert fit.options.estimator == "WLSMV"
    assert fit.options.ordered == tuple(f"x{i}" for i in range(1, 10))
    np.testing.assert_allclose(fit.chisq, r["fit_measures"]["chisq"], rtol=FIT_RTOL)
    assert isinstance(cats["x1"].dtype, pd.CategoricalDtype)  # the user's data untouched


def test_ordered_true_means_every_observed_variable():
    r = REF["wlsmv_two"]
    data = pd.read_csv(HERE / r["data"])
    fit = semnet.cfa(r["model"], data, ordered=True)
    np.testing.assert_allclose(fit.chisq, r["fit_measures"]["chisq"], rtol=FIT_RTOL)


def test_unordered_categorical_suggests_cat_codes():
    data = pd.read_csv(HERE / "hs_two.csv").astype("category")
    with pytest.raises(DataError, match=r"cat\.codes"):
        semnet.cfa("f =~ x1 + x2 + x3", data)


def test_ordered_with_fiml_is_a_clear_error():
    data = pd.read_csv(HERE / "hs_two.csv")
    with pytest.raises(OptionError, match="listwise"):
        semnet.cfa("f =~ x1 + x2 + x3", data, ordered=True, missing="fiml")


def test_least_squares_without_ordered_items_is_a_clear_error():
    data = pd.read_csv(HERE / "hs_two.csv")
    with pytest.raises(OptionError, match="ordered"):
        semnet.cfa("f =~ x1 + x2 + x3", data, estimator="WLSMV")


def test_ordered_names_outside_the_model_are_ignored_as_in_lavaan():
    # lavaan ignores other columns of the data in ordered= (a questionnaire's item list
    # serves each model) and warns of names that are no column
    data = pd.read_csv(HERE / "hs_two.csv")
    items = ["x1", "x2", "x3"]
    plain = semnet.cfa("f =~ x1 + x2 + x3", data, ordered=items)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        wider = semnet.cfa("f =~ x1 + x2 + x3", data, ordered=[*items, "x4", "x5"])
    assert wider.options.ordered == plain.options.ordered == tuple(items)
    assert wider.fit_measures()["chisq"] == plain.fit_measures()["chisq"]
    with pytest.warns(semnet.SemnetWarning, match=r"ordered= names 'zz', which is not a column"):
        typo = semnet.cfa("f =~ x1 + x2 + x3", data, ordered=[*items, "zz"])
    assert typo.options.ordered == tuple(items)


@pytest.mark.parametrize("case", sorted(REF))
def test_fit_measures(case):
    r, fit = _fit(case)
    fm = fit.fit_measures()
    compared = 0
    for name, value in r["fit_measures"].items():
        if value is None:  # lavaan's NA (e.g. robust measures with equal thresholds)
            assert np.isnan(fm[name.replace(".", "_")]), name
            continue
        np.testing.assert_allclose(fm[name.replace(".", "_")], value, rtol=FIT_RTOL,
                                   atol=ORDINAL_ATOL, err_msg=name)
        compared += 1
    assert compared >= 25
    assert "logl" not in fm.index  # least squares has no likelihood


def _keyed(frame: pd.DataFrame, group_labels) -> pd.DataFrame:
    out = frame.copy()
    out["rhs"] = out["rhs"].fillna("")
    out["key"] = out["lhs"] + out["op"] + out["rhs"] + "|" + out["group"].astype(str)
    return out.set_index("key")


@pytest.mark.parametrize("case", sorted(REF))
def test_standardized_solution(case):
    r, fit = _fit(case)
    ref = _keyed(pd.DataFrame(r["standardized"]), fit.groups)
    ours = fit.standardized()
    ours["group"] = [1 if g is None else fit.groups.index(g) + 1 for g in ours["group"]]
    ours = _keyed(ours, fit.groups).loc[ref.index]
    np.testing.assert_allclose(ours["est_std"], ref["est.std"], rtol=EST_RTOL, atol=ORDINAL_ATOL)
    np.testing.assert_allclose(ours["se"], ref["se"], rtol=SE_RTOL, atol=ORDINAL_ATOL)


@pytest.mark.parametrize("case", [c for c in sorted(REF) if not REF[c].get("group")])
def test_modification_indices(case):
    r, fit = _fit(case)
    ref = _keyed(pd.DataFrame(r["modindices"]), fit.groups)
    ours = fit.modindices()
    ours["group"] = 1
    ours = _keyed(ours, fit.groups).loc[ref.index]
    np.testing.assert_allclose(ours["mi"], ref["mi"], rtol=SE_RTOL)
    np.testing.assert_allclose(ours["epc"], ref["epc"], rtol=SE_RTOL, atol=ORDINAL_ATOL)


def test_r_squared_is_the_explained_share_of_the_latent_responses():
    r, fit = _fit("wlsmv_four")
    std = pd.DataFrame(r["standardized"])
    loadings = std[std["op"] == "=~"].set_index("rhs")["est.std"]
    r2 = fit.r_squared().set_index("name")["r2"]
    np.testing.assert_allclose(r2[loadings.index], loadings**2, rtol=EST_RTOL)


def test_summary_prints_thresholds_and_no_likelihood():
    r, fit = _fit("wlsmv_school")
    text = str(fit.summary())
    assert "x1|t1" in text
    assert "Loglikelihood" not in text
    per_group = fit.summary().group_chisq()
    np.testing.assert_allclose(sum(per_group.values()), r["fit_measures"]["chisq"],
                               rtol=FIT_RTOL)


def test_compare_uses_satorra_2000_as_lavtestlrt():
    r = json.loads((HERE / "wlsmv_lrt.json").read_text())
    data = pd.read_csv(HERE / r["data"])
    less = semnet.cfa(r["model"], data, ordered=r["ordered"], group=r["group"])
    more = semnet.cfa(r["model"], data, ordered=r["ordered"], group=r["group"],
                      group_equal=r["group_equal"])
    table = semnet.compare(less, more)
    assert table.attrs["method"] == "satorra_2000"
    assert table["df_diff"].iloc[1] == r["df_diff"]
    np.testing.assert_allclose(table["chisq_diff"].iloc[1], r["chisq_diff"], rtol=FIT_RTOL)
    np.testing.assert_allclose(table["pvalue"].iloc[1], r["pvalue"], rtol=FIT_RTOL)


def test_bootstrap_of_ordinal_items_is_a_clear_error():
    r, fit = _fit("wlsmv_two")
    data = pd.read_csv(HERE / r["data"])
    with pytest.raises(OptionError, match="bootstrap"):
        semnet.cfa(r["model"], data, ordered=True, se="bootstrap", bootstrap=5)
    with pytest.raises(OptionError, match="bootstrap"):
        semnet.bootstrap(fit, n=3)


def test_casewise_robust_options_are_a_clear_error():
    r = REF["wlsmv_two"]
    data = pd.read_csv(HERE / r["data"])
    with pytest.raises(OptionError, match=r"robust\.sem"):
        semnet.cfa(r["model"], data, ordered=True, se="robust.huber.white")


def test_ordinal_items_need_raw_data():
    data = pd.read_csv(HERE / "hs_two.csv")
    with pytest.raises(DataError, match="raw data"):
        semnet.cfa("f =~ x1 + x2 + x3", semnet.moments.from_frame(data), ordered=True)
    with pytest.raises(DataError, match="raw data"):
        semnet.cfa("f =~ x1 + x2 + x3", sample_cov=data.cov(), sample_nobs=len(data),
                   ordered=["x1", "x2", "x3"])


def test_score_tests_of_equal_thresholds_and_loadings_equal_lavtestscore():
    """lavTestScore on a WLSMV fit (lavaan's ordinary score test from the DWLS gradient
    and information; it warns that a robust version is not implemented, as semnet's is
    not either): the total and every univariate test."""
    ref = json.loads((HERE / "wlsmv_score.json").read_text())
    data = pd.read_csv(HERE / ref["data"])
    fit = semnet.cfa(ref["model"], data, ordered=ref["ordered"], group=ref["group"],
                     group_equal=ref["group_equal"])
    st = fit.score_test()
    assert st.total["X2"] == pytest.approx(ref["total"]["X2"], rel=FIT_RTOL)
    assert int(st.total["df"]) == ref["total"]["df"]
    lavaan = pd.DataFrame(ref["uni"]).set_index(["lhs", "rhs"])["X2"]
    ours = st.uni.set_index(["lhs", "rhs"])["X2"]
    np.testing.assert_allclose(ours.loc[lavaan.index].to_numpy(), lavaan.to_numpy(),
                               rtol=FIT_RTOL, atol=1e-6)
