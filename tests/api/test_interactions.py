"""Latent and observed product terms in sem() (product-indicator estimation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference import ROOT, keyed, load, table
from tolerances import EST_RTOL, SE_RTOL

import semnet

KJ = ROOT / "tests" / "reference" / "data" / "kenny_judd.csv"
MODEL = "x =~ x1 + x2\nz =~ z1 + z2\ny =~ y1 + y2 + y3\ny ~ x + z + x:z"


def test_mean_centred_products_reproduce_lavaan():
    """The fixture's products x1z1, x2z2 are products of mean-centred indicators, so
    interaction='mean' must give lavaan's estimates for 'xz =~ x1z1 + x2z2'."""
    data = pd.read_csv(KJ)
    fit = semnet.sem(MODEL, data.drop(columns=["x1z1", "x2z2"]), interaction="mean")
    ref = load("kenny_judd_probe")
    theirs = keyed(table(ref, "estimates"), None)
    ours = keyed(fit.estimates(), None).rename(index={"x:z": "xz"})
    ours = ours.rename(index={"x1.z1": "x1z1", "x2.z2": "x2z2"})
    common = theirs.index.intersection(ours.index)
    assert len(common) >= 20
    assert np.allclose(ours.loc[common, "est"], theirs.loc[common, "est"], rtol=EST_RTOL)
    assert np.allclose(ours.loc[common, "se"], theirs.loc[common, "se"], rtol=SE_RTOL)
    assert fit.chisq == pytest.approx(ref["fit_measures"]["chisq"], rel=EST_RTOL)
    assert fit.meta["interaction"]["x:z"]["matched"] is True


def test_user_data_is_not_modified_and_products_are_double_mean_centred():
    data = pd.read_csv(KJ).drop(columns=["x1z1", "x2z2"])
    before = data.copy()
    fit = semnet.sem(MODEL, data, interaction="double_mean")
    pd.testing.assert_frame_equal(data, before)
    info = fit.meta["interaction"]["x:z"]
    assert info["method"] == "double_mean" and info["indicators"] == ["x1.z1", "x2.z2"]
    est = fit.estimates()
    assert ((est["lhs"] == "x:z") & (est["op"] == "=~")).sum() == 2


def test_all_pairs_get_residual_covariances_for_shared_indicators():
    data = pd.read_csv(KJ).drop(columns=["x1z1", "x2z2"])
    fit = semnet.sem(MODEL, data, interaction="double_mean", interaction_match=False)
    est = fit.estimates()
    products = est[(est["lhs"] == "x:z") & (est["op"] == "=~")]["rhs"].tolist()
    assert products == ["x1.z1", "x1.z2", "x2.z1", "x2.z2"]
    shared = est[(est["op"] == "~~") & est["lhs"].isin(products) & est["rhs"].isin(products)
                 & (est["lhs"] != est["rhs"])]
    # pairs sharing an indicator: (11,12), (11,21), (12,22), (21,22)
    assert len(shared) == 4


def test_observed_product_equals_a_manual_product_column():
    hs = semnet.datasets.holzinger_swineford()
    auto = semnet.sem("x9 ~ x7 + x8 + x7:x8", hs)
    manual = semnet.sem("x9 ~ x7 + x8 + x7x8", hs.assign(x7x8=hs["x7"] * hs["x8"]))
    a = auto.estimates().set_index(["lhs", "op", "rhs"])["est"]
    b = manual.estimates().set_index(["lhs", "op", "rhs"]).rename(index={"x7x8": "x7:x8"})["est"]
    assert np.allclose(a.sort_index(), b.sort_index())


def test_latent_times_observed_is_refused():
    hs = semnet.datasets.holzinger_swineford()
    with pytest.raises(semnet.ModelSpecificationError, match="single-indicator factor"):
        semnet.sem("visual =~ x1 + x2 + x3\nx9 ~ visual + x7 + visual:x7", hs)


def test_default_is_lms_for_one_group_and_product_indicators_otherwise():
    data = pd.read_csv(KJ).drop(columns=["x1z1", "x2z2"])
    single = semnet.sem(MODEL, data)
    assert type(single).__name__ == "LMSResult"
    assert (single.estimates()["rhs"] == "x:z").any()
    grouped = semnet.sem(MODEL, data.assign(g=np.arange(len(data)) % 2), group="g")
    assert grouped.meta["interaction"]["x:z"]["method"] == "double_mean"
    # LMS with groups is chosen explicitly
    lms_mg = semnet.sem(MODEL, data.assign(g=np.arange(len(data)) % 2), group="g",
                        interaction="lms")  # fmt: skip
    assert type(lms_mg).__name__ == "LMSResult" and lms_mg.groups == ["0", "1"]
    with pytest.raises(semnet.OptionError, match="missing='listwise'"):
        semnet.sem(MODEL, data, missing="fiml", fixed_x=False, interaction="lms")


def test_standardized_interaction_follows_wen_marsh_hau():
    """std(b3) = b3 sd(x) sd(z) / sd(y), not b3 sd(x:z) / sd(y) (Wen, Marsh & Hau 2010)."""
    data = pd.read_csv(KJ).drop(columns=["x1z1", "x2z2"])
    fit = semnet.sem(MODEL, data, interaction="double_mean")
    est = fit.estimates().set_index(["lhs", "op", "rhs"])
    cov, _ = fit.model.implied_all(fit.values, 0)
    names = fit.model.variables

    def sd(v):
        return np.sqrt(cov[names.index(v), names.index(v)])

    b3 = est.loc[("y", "~", "x:z"), "est"]
    expected = b3 * sd("x") * sd("z") / sd("y")
    assert est.loc[("y", "~", "x:z"), "std_all"] == pytest.approx(expected, rel=1e-10)
    assert expected != pytest.approx(b3 * sd("x:z") / sd("y"), rel=1e-3)
    # the loadings of the product factor keep the ordinary standardization
    lam = est.loc[("x:z", "=~", "x2.z2")]
    assert lam["std_all"] == pytest.approx(lam["est"] * sd("x:z") / sd("x2.z2"), rel=1e-10)


def test_ordered_true_with_a_latent_product_takes_the_items_only():
    # ordered=True listed the product term 'f1:f2' as an ordinal item: "column(s)
    # 'f1:f2' are not in the data"; now it is the same fit as naming the items
    hs = semnet.datasets.holzinger_swineford()
    items = [f"x{i}" for i in range(1, 10)]
    cut = hs.assign(**{c: pd.cut(hs[c], 3, labels=False) for c in items})
    model = "f1 =~ x1 + x2 + x3\nf2 =~ x4 + x5 + x6\nf3 =~ x7 + x8 + x9\nf3 ~ f1 + f2 + f1:f2"
    every = semnet.sem(model, cut, ordered=True)
    named = semnet.sem(model, cut, ordered=items)
    assert every.options.ordered == named.options.ordered == tuple(items)
    assert every.chisq == pytest.approx(named.chisq, rel=1e-12)
