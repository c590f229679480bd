"""Polyserial and Pearson correlations next to polychoric ones, pairwise deletion, and
groups, against lavaan 0.6.14's lavCor() (tests/reference/ordinal/make_ordinal_mixed.R):
correlations, thresholds, the sample statistics vector and its asymptotic covariance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tolerances import EST_RTOL, POLYCHORIC_ATOL

import semnet

ORDINAL = Path(__file__).resolve().parent.parent / "reference" / "ordinal"
SETS = ["hs_mixed", "hs_mixed_pairwise", "survey_six", "hs_binary_pairwise"]


def _fit(name: str):
    ref = json.loads((ORDINAL / f"{name}.json").read_text(encoding="utf-8"))
    data = pd.read_csv(ORDINAL / ref["data"])
    result = semnet.polychoric(data, ordered=ref["ordered"], group=ref["group"] or None,
                               missing=ref["missing"])
    if not ref["group"]:
        result = {"": result}
    return ref, result


@pytest.mark.parametrize("name", SETS)
def test_correlations_and_thresholds_match_lavcor(name):
    ref, result = _fit(name)
    assert list(result) == [g["group"] for g in ref["groups"]]
    for g in ref["groups"]:
        pc = result[g["group"]]
        assert pc.nobs == g["nobs"]
        assert list(pc.cor.columns) == g["names"]
        assert list(pc.thresholds.index) == g["th_names"]
        np.testing.assert_allclose(pc.thresholds.to_numpy(), g["th"], rtol=EST_RTOL)
        np.testing.assert_allclose(pc.cor.to_numpy(), g["cor"], rtol=0, atol=POLYCHORIC_ATOL)
        # lavaan's "mean" is 0 for an item, the sample mean of a continuous variable
        means = {k: v for k, v in g["mean"].items() if k not in pc.ordered}
        np.testing.assert_allclose(pc.means[list(means)].to_numpy(), list(means.values()),
                                   rtol=EST_RTOL)  # fmt: skip


@pytest.mark.parametrize("name", SETS)
def test_statistics_vector_and_gamma_match_lavaan(name):
    """lavInspect(fit, "wls.obs") and "gamma": labels, order, values."""
    ref, result = _fit(name)
    for g in ref["groups"]:
        pc = result[g["group"]]
        assert list(pc.statistics.index) == g["wls_names"]
        np.testing.assert_allclose(pc.statistics.to_numpy(), g["wls_obs"], rtol=EST_RTOL,
                                   atol=POLYCHORIC_ATOL)  # fmt: skip
        assert list(pc.gamma.columns) == g["gamma_names"] == g["wls_names"]
        np.testing.assert_allclose(pc.gamma.to_numpy(), g["gamma"], rtol=EST_RTOL,
                                   atol=POLYCHORIC_ATOL)  # fmt: skip


def test_the_statistics_hold_covariances_for_continuous_pairs():
    result = _fit("hs_mixed")[1]
    pc = result[""]
    sd = np.sqrt(pc.variances)
    assert pc.statistics["x1~~x7"] == pytest.approx(pc.cor.loc["x1", "x7"] * sd["x7"])
    assert pc.statistics["x7~~x8"] == pytest.approx(pc.cor.loc["x7", "x8"] * sd["x7"] * sd["x8"])
    assert pc.statistics["x1~~x2"] == pc.cor.loc["x1", "x2"]
    assert pc.statistics["x7~1"] == pytest.approx(-pc.means["x7"])
    assert pc.ordered == tuple(f"x{i}" for i in range(1, 7))


def test_complete_continuous_pairs_are_pearson_correlations():
    ref, result = _fit("hs_mixed")
    data = pd.read_csv(ORDINAL / ref["data"])
    want = data[["x7", "x8", "x9"]].corr().to_numpy()
    np.testing.assert_allclose(result[""].cor.loc[["x7", "x8", "x9"], ["x7", "x8", "x9"]],
                               want, rtol=0, atol=1e-12)  # fmt: skip


def test_pairwise_uses_each_pairs_complete_cases():
    ref, result = _fit("hs_mixed_pairwise")
    data = pd.read_csv(ORDINAL / ref["data"])
    pc = result[""]
    both = data["x1"].notna() & data["x2"].notna()
    assert pc.pair_nobs.loc["x1", "x2"] == both.sum() < pc.nobs
    alone = semnet.polychoric(data.loc[both, ["x1", "x2"]])
    assert pc.cor.loc["x1", "x2"] != pytest.approx(alone.cor.loc["x1", "x2"], abs=1e-8)
    # the thresholds come from each item's own observed cases
    own = semnet.polychoric(data[["x1", "x2"]].dropna(subset=["x1"]).fillna({"x2": 1}))
    np.testing.assert_allclose(pc.thresholds.filter(like="x1|"), own.thresholds.filter(
        like="x1|"), rtol=0, atol=1e-14)  # fmt: skip


def test_listwise_and_pairwise_agree_without_missing_values():
    data = pd.read_csv(ORDINAL / "hs_mixed.csv")
    items = [f"x{i}" for i in range(1, 7)]
    a = semnet.polychoric(data, ordered=items)
    b = semnet.polychoric(data, ordered=items, missing="pairwise")
    np.testing.assert_allclose(a.gamma.to_numpy(), b.gamma.to_numpy(), rtol=1e-12, atol=1e-12)


def test_ordered_categoricals_are_ordinal_without_being_named():
    data = pd.read_csv(ORDINAL / "hs_mixed.csv")
    items = [f"x{i}" for i in range(1, 7)]
    cats = data.assign(x1=pd.Categorical(data["x1"], categories=[1, 2, 3, 4], ordered=True))
    a = semnet.polychoric(cats, ordered=items[1:])
    b = semnet.polychoric(data, ordered=items)
    assert a.ordered == b.ordered
    np.testing.assert_allclose(a.cor.to_numpy(), b.cor.to_numpy(), rtol=0, atol=1e-14)


def _frame(**columns):
    n = max(len(c) for c in columns.values())
    rng = np.random.default_rng(3)
    base = {"ok": rng.integers(0, 3, n), "y": rng.normal(size=n)}
    return pd.DataFrame({**base, **columns})


@pytest.mark.parametrize(
    ("column", "message"),
    [
        ([2.0, 2.0] * 20, r"'bad' has only one observed category.*drop it"),
        ([1.5, 2.0] * 20, r"'bad' has the value 1.5; ordinal items are coded as whole numbers"),
        ([-1, 2] * 20, r"'bad' has the value -1;.*ordered pandas Categorical"),
        (list(range(25)) * 2, r"'bad' has 25 categories; .*treat it as continuous"),
        (["lo", "hi"] * 20, r"'bad' has text values.*\.cat\.codes"),
        (pd.Categorical(["lo", "hi"] * 20), r"'bad' is an unordered Categorical.*\.cat\.codes"),
    ],
)
def test_bad_ordinal_items_get_clear_errors(column, message):
    with pytest.raises(semnet.DataError, match=message):
        semnet.polychoric(_frame(bad=column), ordered=["ok", "bad"])


def test_an_unnamed_text_column_is_an_error():
    with pytest.raises(semnet.DataError, match=r"'bad' is neither numeric nor an ordered"):
        semnet.polychoric(_frame(bad=["a", "b"] * 20), ordered=["ok"])


def test_one_category_in_a_group_names_the_group():
    frame = _frame(bad=[1, 2] * 20, g=["A", "B"] * 20)
    with pytest.raises(semnet.DataError, match=r"category 2 of the item 'bad' is empty in "
                       r"group 'A' \(frequencies \{1: 20, 2: 0\}\).*Merge it"):
        semnet.polychoric(frame, ordered=["ok", "bad"], group="g")


def test_bad_missing_option_and_pairs_never_observed_together():
    frame = _frame(bad=[1, 2] * 20)
    with pytest.raises(semnet.DataError, match=r"missing='fiml' is not available"):
        semnet.polychoric(frame, ordered=["ok", "bad"], missing="fiml")
    frame.loc[:29, "bad"] = np.nan
    frame.loc[30:, "y"] = np.nan
    with pytest.raises(semnet.DataError, match=r"'bad' and 'y' are observed together in 0"):
        semnet.polychoric(frame, ordered=["ok", "bad"], missing="pairwise")


def test_the_data_is_not_modified():
    data = pd.read_csv(ORDINAL / "hs_mixed_pairwise.csv")
    before = data.copy()
    semnet.polychoric(data, ordered=[f"x{i}" for i in range(1, 7)], missing="pairwise")
    pd.testing.assert_frame_equal(data, before)


def test_a_category_lost_by_listwise_deletion_is_dropped_in_every_group():
    rng = np.random.default_rng(5)
    n = 200
    frame = pd.DataFrame({"a": rng.integers(1, 4, n), "b": rng.integers(1, 4, n),
                          "g": np.repeat(["A", "B"], n // 2)})
    frame.loc[[0, 150], "a"] = 4  # category 4 of a: only in cases missing b
    frame["b"] = frame["b"].astype(float)
    frame.loc[[0, 150], "b"] = np.nan
    result = semnet.polychoric(frame, group="g")
    assert [len(result[g].thresholds.filter(like="a|")) for g in "AB"] == [2, 2]


def test_nullable_integer_and_float_columns_are_read():
    data = pd.read_csv(ORDINAL / "hs_mixed_pairwise.csv")
    items = [f"x{i}" for i in range(1, 7)]
    nullable = data.astype({**dict.fromkeys(items, "Int64"), "x7": "Float64"})
    a = semnet.polychoric(nullable, ordered=items, missing="pairwise")
    b = semnet.polychoric(data, ordered=items, missing="pairwise")
    np.testing.assert_allclose(a.gamma.to_numpy(), b.gamma.to_numpy(), rtol=0, atol=1e-14)
