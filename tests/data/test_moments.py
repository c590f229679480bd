"""Sample moments: raw data and summary statistics, reduced as lavaan does."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from reference import load
from tolerances import ATOL, EST_RTOL, FIT_RTOL

import semnet
from semnet.data.moments import (
    group_labels,
    moments_from_frame,
    moments_from_stats,
    numeric_data,
    validate_frame,
)

X = [f"x{i}" for i in range(1, 10)]
HS = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    return semnet.datasets.holzinger_swineford()


def _est(fit: semnet.Fit) -> pd.Series:
    e = fit.estimates()
    key = e["lhs"] + e["op"] + e["rhs"] + "|" + e["group"].fillna("").astype(str)
    return pd.Series(e["est"].to_numpy(), index=key)


# -- raw data ------------------------------------------------------------------------------
def test_covariance_has_divisor_n(hs):
    (m,) = moments_from_frame(validate_frame(hs, X, None), X, None, [""])
    x = hs[X].to_numpy(float)
    np.testing.assert_allclose(m.cov, np.cov(x, rowvar=False, ddof=0), rtol=1e-13)
    np.testing.assert_allclose(m.mean, x.mean(axis=0), rtol=1e-13)
    assert m.nobs == len(hs)
    assert m.n_dropped == 0
    assert not np.allclose(m.cov, np.cov(x, rowvar=False, ddof=1), rtol=1e-6)


def test_moments_match_lavaan_sampstat(hs):
    """lavaan's N-divisor sample statistics (per group) from the multi-group fixture."""
    ref = load("hs_mg_configural")
    frame = validate_frame(hs, X, "school")
    labels = group_labels(hs, "school")
    assert labels == ref["group_labels"]
    for m, s in zip(moments_from_frame(frame, X, "school", labels), ref["sample"], strict=True):
        idx = [s["names"].index(v) for v in X]
        cov = np.asarray(s["cov"])[np.ix_(idx, idx)]
        np.testing.assert_allclose(m.cov, cov, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(m.mean, np.asarray(s["mean"])[idx], rtol=1e-12)
        assert m.nobs == s["nobs"]


def test_moments_are_read_only(hs):
    (m,) = moments_from_frame(validate_frame(hs, X, None), X, None, [""])
    with pytest.raises(ValueError):
        m.cov[0, 0] = 1.0


def test_validate_frame_returns_a_copy(hs):
    data = hs.copy()
    frame = validate_frame(data, X, "school")
    frame.loc[frame.index[0], "x1"] = -99.0
    assert data.loc[data.index[0], "x1"] != -99.0


def test_bool_and_integer_columns_are_numeric(hs):
    data = hs[X].copy()
    data["x1"] = (data["x1"] > data["x1"].median()).astype(int)
    data["x2"] = data["x2"] > data["x2"].median()
    frame = validate_frame(data, X, None)
    assert frame["x2"].dtype == float
    np.testing.assert_array_equal(frame["x2"].to_numpy(), data["x2"].to_numpy(float))



def test_frame_of_just_the_model_columns_reads_as_column_by_column(hs):
    # a frame of only the model's numpy-numeric columns is converted in one call; the
    # matrix must be the same, byte for byte and in the same (C) layout
    data = hs[X[::-1]].copy()
    data["x1"] = (data["x1"] * 3).round().astype("int64")
    data["x2"] = data["x2"] > data["x2"].median()
    data["x3"] = data["x3"].astype("float32")
    data.loc[data.index[::5], "x4"] = np.nan
    exact = numeric_data(data, X, None).values
    wider = numeric_data(data.assign(extra="a"), X, None).values
    assert exact.flags.c_contiguous and not exact.flags.writeable
    assert exact.tobytes() == wider.tobytes()

# -- sample statistics ----------------------------------------------------------------------
def test_sample_cov_rescaled_like_lavaan():
    """A covariance with divisor N-1 is rescaled by (N-1)/N (sample.cov.rescale = TRUE)."""
    ref = load("hs_samplecov")
    sc = ref["call"]["options"]["sample.cov"]
    n = ref["call"]["options"]["sample.nobs"]
    cov = pd.DataFrame(sc["matrix"], index=sc["names"], columns=sc["names"])
    (m,) = moments_from_stats(cov, None, n, X, None)
    s = ref["sample"][0]
    idx = [s["names"].index(v) for v in X]
    np.testing.assert_allclose(m.cov, np.asarray(s["cov"])[np.ix_(idx, idx)], rtol=1e-12)
    np.testing.assert_allclose(m.cov, cov.loc[X, X].to_numpy() * (n - 1) / n, rtol=1e-15)
    assert m.nobs == n


def test_sample_cov_fit_equals_raw_data_fit(hs):
    cov = hs[X].cov()  # N-1 divisor, as R's cov()
    by_stats = semnet.cfa(HS, sample_cov=cov, sample_nobs=len(hs))
    by_data = semnet.cfa(HS, hs)
    a, b = _est(by_stats), _est(by_data)
    np.testing.assert_allclose(a[b.index], b, rtol=EST_RTOL, atol=ATOL)
    fa, fb = by_stats.fit_measures(), by_data.fit_measures()
    assert fa["chisq"] == pytest.approx(fb["chisq"], rel=FIT_RTOL)
    assert fa["df"] == fb["df"]


def test_sample_cov_selects_variables_by_name(hs):
    cols = ["ageyr", *reversed(X), "grade"]
    cov = hs[cols].cov()
    (m,) = moments_from_stats(cov, None, len(hs), X, None)
    n = len(hs)
    np.testing.assert_allclose(m.cov, hs[X].cov().to_numpy() * (n - 1) / n, rtol=1e-13)


def test_sample_cov_array_with_wrong_shape_is_an_error(hs):
    with pytest.raises(semnet.DataError, match="shape"):
        moments_from_stats(hs[X[:4]].cov().to_numpy(), None, len(hs), X, None)


def test_sample_cov_missing_variable_is_an_error(hs):
    with pytest.raises(semnet.DataError, match="x9"):
        moments_from_stats(hs[X[:8]].cov(), None, len(hs), X, None)


def test_sample_mean_series_by_name(hs):
    mean = hs[X].mean()[list(reversed(X))]
    (m,) = moments_from_stats(hs[X].cov(), mean, len(hs), X, None)
    np.testing.assert_allclose(m.mean, hs[X].mean().to_numpy(), rtol=1e-15)


def test_sample_cov_per_group_dict(hs):
    """Multi-group summary statistics, one dict entry per group, equal the raw-data fit."""
    labels = ["Pasteur", "Grant-White"]
    parts = {g: hs[hs["school"] == g] for g in labels}
    by_stats = semnet.cfa(
        HS,
        sample_cov={g: p[X].cov() for g, p in parts.items()},
        sample_mean={g: p[X].mean() for g, p in parts.items()},
        sample_nobs={g: len(p) for g, p in parts.items()},
    )
    by_data = semnet.cfa(HS, hs, group="school")
    assert by_stats.groups == by_data.groups == labels
    assert by_stats.nobs == by_data.nobs == {"Pasteur": 156, "Grant-White": 145}
    a, b = _est(by_stats), _est(by_data)
    assert sorted(a.index) == sorted(b.index)
    np.testing.assert_allclose(a[b.index], b, rtol=EST_RTOL, atol=ATOL)
    assert by_stats.fit_measures()["chisq"] == pytest.approx(
        load("hs_mg_configural")["fit_measures"]["chisq"], rel=FIT_RTOL
    )


def test_sample_cov_per_group_requires_dict_nobs(hs):
    with pytest.raises(semnet.DataError, match="sample_nobs"):
        moments_from_stats({"a": hs[X].cov(), "b": hs[X].cov()}, None, 301, X, ["a", "b"])


def test_sample_cov_per_group_missing_group(hs):
    with pytest.raises(semnet.DataError, match=r"group.*b"):
        moments_from_stats({"a": hs[X].cov()}, None, {"a": 301}, X, ["a", "b"])


@pytest.mark.parametrize("nobs", [0, 1, 301.5, "many", -5])
def test_sample_nobs_must_be_a_whole_number(hs, nobs):
    with pytest.raises(semnet.DataError, match=r"sample_nobs.*whole number"):
        semnet.cfa(HS, sample_cov=hs[X].cov(), sample_nobs=nobs)


def test_sample_nobs_numpy_integer_is_accepted(hs):
    (m,) = moments_from_stats(hs[X].cov(), None, np.int64(301), X, None)
    assert m.nobs == 301 and isinstance(m.nobs, int)


def test_sample_cov_with_nan_is_an_error(hs):
    cov = hs[X].cov().to_numpy().copy()
    cov[0, 1] = cov[1, 0] = np.nan
    with pytest.raises(semnet.DataError, match="missing or infinite"):
        semnet.cfa(HS, sample_cov=cov, sample_nobs=len(hs))


def test_sample_cov_not_symmetric_is_an_error(hs):
    cov = hs[X].cov().to_numpy().copy()
    cov[0, 1] += 1.0
    with pytest.raises(semnet.DataError, match=r"not symmetric.*\[x1, x2\]"):
        semnet.cfa(HS, sample_cov=cov, sample_nobs=len(hs))


def test_sample_mean_wrong_length_is_an_error(hs):
    with pytest.raises(semnet.DataError, match=r"sample_mean has 3 entries.*9"):
        moments_from_stats(hs[X].cov(), np.zeros(3), len(hs), X, None)


def test_data_and_sample_cov_together_is_an_error(hs):
    with pytest.raises(semnet.DataError, match="either data or sample_cov"):
        semnet.cfa(HS, hs, sample_cov=hs[X].cov(), sample_nobs=len(hs))


# -- groups -------------------------------------------------------------------------------
def test_group_labels_in_order_of_first_appearance(hs):
    assert group_labels(hs, "school") == ["Pasteur", "Grant-White"]
    flipped = hs.iloc[::-1].reset_index(drop=True)
    assert group_labels(flipped, "school") == ["Grant-White", "Pasteur"]
    fit = semnet.cfa(HS, flipped, group="school")
    assert fit.groups == ["Grant-White", "Pasteur"]
    assert list(fit.nobs) == ["Grant-White", "Pasteur"]


def test_categorical_group_uses_appearance_not_category_order(hs):
    data = hs.copy()
    data["school"] = pd.Categorical(data["school"], categories=["Grant-White", "Pasteur"])
    assert group_labels(data, "school") == ["Pasteur", "Grant-White"]


def test_group_order_does_not_change_estimates(hs):
    a = _est(semnet.cfa(HS, hs, group="school"))
    b = _est(semnet.cfa(HS, hs.iloc[::-1].reset_index(drop=True), group="school"))
    np.testing.assert_allclose(a[b.index], b, rtol=EST_RTOL, atol=ATOL)


def test_integer_group_labels(hs):
    """Non-string labels work; like lavaan they become text ('1', '2')."""
    data = hs.copy()
    data["sex"] = data["sex"].astype(int)
    fit = semnet.cfa(HS, data, group="sex")
    first = int(data["sex"].iloc[0])
    expected = [str(first), str(3 - first)]
    assert fit.groups == expected
    assert fit.nobs == {str(v): int((data["sex"] == v).sum()) for v in (first, 3 - first)}
    # the same fit as with the labels written as text
    text = data.assign(sex=data["sex"].map({1: "1", 2: "2"}))
    a, b = _est(fit), _est(semnet.cfa(HS, text, group="sex"))
    np.testing.assert_allclose(a[b.index], b, rtol=EST_RTOL, atol=ATOL)
    est = fit.estimates()
    assert set(est["group"].dropna()) == set(expected)


def test_integer_keys_in_per_group_sample_stats(hs):
    parts = {v: hs[hs["sex"] == v] for v in (1, 2)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = semnet.cfa(
            HS,
            sample_cov={k: p[X].cov() for k, p in parts.items()},
            sample_mean={k: p[X].mean() for k, p in parts.items()},
            sample_nobs={k: len(p) for k, p in parts.items()},
        )
    assert fit.groups == ["1", "2"]
    assert fit.nobs == {"1": len(parts[1]), "2": len(parts[2])}


def test_missing_group_value_is_an_error(hs):
    data = hs.copy()
    data.loc[data.index[4], "school"] = None
    with pytest.raises(semnet.DataError, match="missing"):
        semnet.cfa(HS, data, group="school")
