"""Sample moments: raw data and summary statistics, reduced as lavaan does."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from reference import load
from shared_models import HS_MODEL as HS
from tolerances import ATOL, EST_RTOL, FIT_RTOL

import semnet
from semnet.data.moments import (
    SINGULAR_TOLERANCE,
    check_sample_cov,
    column_sums,
    group_labels,
    label_text,
    moments_from_frame,
    moments_from_stats,
    numeric_data,
    validate_frame,
)

X = [f"x{i}" for i in range(1, 10)]


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



def test_object_column_of_numbers_is_numeric(hs):
    # as df.astype(object) leaves it; was refused as "not numeric (values such as
    # '3.3333333')", as if the floats were text
    data = hs.copy()
    data["x1"] = data["x1"].astype(object)
    data.loc[data.index[2], "x1"] = None
    plain = hs.copy()
    plain.loc[plain.index[2], "x1"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semnet.SemnetWarning)
        assert semnet.cfa(HS, data).chisq == semnet.cfa(HS, plain).chisq


@pytest.mark.parametrize("value", ["4.5", True])
def test_object_column_with_text_or_bools_is_still_refused(hs, value):
    data = hs.copy()
    data["x1"] = data["x1"].astype(object)
    data.loc[data.index[2], "x1"] = value
    with pytest.raises(semnet.DataError, match="column 'x1' is not numeric"):
        semnet.cfa(HS, data)


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


def test_group_values_that_print_alike_are_refused(hs):
    data = hs.copy()
    data["g"] = ["1" if i % 2 else 1 for i in range(len(data))]
    with pytest.raises(semnet.DataError, match=r"1 \(int\) and '1' \(str\).*both print as '1'"):
        group_labels(data, "g")


@pytest.mark.parametrize(("first", "second"), [(1.0, 1), (True, 1), (2, 2.0)])
def test_group_values_equal_but_printed_apart_are_refused(hs, first, second):
    # pandas sees one distinct value, but the rows are grouped by their text: the rows
    # printed otherwise than the first were left out of every group without a word
    data = hs.copy()
    data["g"] = pd.Series([second if i % 2 else first for i in range(len(data))],
                          dtype=object)
    with pytest.raises(semnet.DataError, match="equal but print differently"):
        semnet.cfa(HS, data, group="g")


def test_group_values_of_mixed_types_that_print_apart_are_kept(hs):
    data = hs.copy()
    data["g"] = ["a" if i % 2 else 1 for i in range(len(data))]
    assert group_labels(data, "g") == ["1", "a"]


@pytest.mark.parametrize(
    ("values", "pattern"),
    [
        ([1.5, "1.5"], r"1.5 \(float\) and '1.5' \(str\)"),
        ([np.int64(2), "a", "2"], r"both print as '2'"),
        ([True, "True"], r"True \(bool\) and 'True' \(str\)"),
    ],
)
def test_label_text_refuses_values_that_print_alike(values, pattern):
    with pytest.raises(semnet.DataError, match=pattern):
        label_text(values, "g")


def test_label_text_keeps_order_and_text():
    assert label_text([2, "b", 1.5, None], "g") == ["2", "b", "1.5", "None"]


def test_per_group_sample_stats_keys_that_print_alike_are_refused(hs):
    cov = hs[X].cov()
    with pytest.raises(semnet.DataError, match=r"'1' \(str\) and 1 \(int\) both print as '1'"):
        moments_from_stats({"1": cov, 1: cov}, None, {"1": 301, 1: 301}, X, None)


# -- checks of the data ---------------------------------------------------------------------
def test_group_column_that_is_a_model_variable_is_refused(hs):
    with pytest.raises(semnet.DataError, match="group column 'x1' is a variable of the model"):
        numeric_data(hs, X, "x1")


def test_complex_column_is_refused_without_dropping_the_imaginary_part(hs):
    data = hs.copy()
    data["x4"] = data["x4"] + 1j
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(semnet.DataError, match=r"column 'x4' holds complex numbers"):
            numeric_data(data, X, None)


@pytest.mark.parametrize("value", [1e308, -1e200, 1e155])
def test_values_whose_squares_overflow_name_column_and_row(hs, value):
    data = hs.copy()
    data.loc[7, "x5"] = value
    expected = rf"column 'x5'.*too large.*{re.escape(f'{value:g}')} in row 7"
    with pytest.raises(semnet.DataError, match=expected):
        numeric_data(data, X, None)


def test_overflow_is_an_error_not_a_warning(hs):
    # the sum of squares that finds it is taken without np.errstate: it must not warn
    data = hs.copy()
    data.loc[3, "x2"] = 1e200
    data.loc[5, "x1"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(semnet.DataError, match=r"column 'x2'.*too large"):
            numeric_data(data, X, None)


def test_column_sums_are_those_of_reduce():
    rng = np.random.default_rng(5)
    for shape in [(1, 1), (2, 3), (301, 9), (1000, 1), (777, 2)]:
        x = rng.normal(size=shape) * 10.0 ** rng.uniform(-6, 6, size=shape[1])
        for a in (x, np.asfortranarray(x)):
            got = column_sums(a, np.empty_like(a))
            assert got.tobytes() == np.add.reduce(a, axis=0).tobytes()


def test_overflow_is_found_among_missing_values(hs):
    data = hs.copy()
    data.loc[2, "x1"] = np.nan
    data.loc[9, "x2"] = 1e200
    with pytest.raises(semnet.DataError, match=r"column 'x2'.*1e\+200 in row 9"):
        numeric_data(data, X, None)


def test_large_values_whose_squares_fit_are_kept(hs):
    data = hs.copy()
    data["x5"] = data["x5"] * 1e140
    assert np.isfinite(numeric_data(data, X, None).values).all()


def test_infinite_value_names_its_row(hs):
    data = hs.copy()
    data.loc[11, "x6"] = -np.inf
    expected = r"column 'x6' contains infinite values \(-inf in row 11\)"
    with pytest.raises(semnet.DataError, match=expected):
        numeric_data(data, X, None)


# -- the sample covariance matrix is positive definite ---------------------------------------
def test_check_sample_cov_returns_the_log_determinant(hs):
    cov = np.cov(hs[X].to_numpy(float), rowvar=False)
    assert check_sample_cov(cov, X) == pytest.approx(np.linalg.slogdet(cov)[1], rel=1e-14)


def test_identical_columns_are_named_with_the_group(hs):
    x = hs[X].to_numpy(float).copy()
    x[:, 2] = x[:, 1]
    cov = np.cov(x, rowvar=False, bias=True)
    expected = r"in group 'g2' is singular.*x2 and x3 are identical columns"
    with pytest.raises(semnet.DataError, match=expected):
        check_sample_cov(cov, X, "g2", len(x), x)
    expected = r"x2 and x3 are identical or perfectly correlated \(r = 1\)"
    with pytest.raises(semnet.DataError, match=expected):
        check_sample_cov(cov, X, "g2")


def test_linearly_dependent_columns_are_named(hs):
    x = hs[X].to_numpy(float).copy()
    x[:, 8] = x[:, 0] + 2 * x[:, 4] - x[:, 6]  # x9 = x1 + 2 x5 - x7
    cov = np.cov(x, rowvar=False, bias=True)
    with pytest.raises(semnet.DataError) as info:
        check_sample_cov(cov, X)
    message = str(info.value)
    assert "linearly dependent" in message and "Drop one of them" in message
    named = message.split("the variables ")[1].split(" are linearly")[0].split(", ")
    assert sorted(named) == ["x1", "x5", "x7", "x9"]


@pytest.mark.parametrize(("variance", "word"), [(0.0, "zero"), (-1.0, "negative")])
def test_zero_or_negative_variance_is_named(variance, word):
    cov = np.diag([1.0, variance, 2.0])
    with pytest.raises(semnet.DataError, match=rf"variable\(s\) b have {word} variance"):
        check_sample_cov(cov, ["a", "b", "c"])


def test_non_finite_covariance_is_named():
    cov = np.array([[1.0, np.inf], [np.inf, 1.0]])
    with pytest.raises(semnet.DataError, match=r"missing or infinite entries \(variables a, b\)"):
        check_sample_cov(cov, ["a", "b"])


def test_too_few_cases_are_named_as_the_cause():
    x = np.array([[1.0, 2.0, 0.0], [2.0, 1.0, 1.0]])
    cov = np.cov(x, rowvar=False, bias=True)
    with pytest.raises(semnet.DataError, match="2 cases for 3 variables"):
        check_sample_cov(cov, ["a", "b", "c"], nobs=2)


def test_nearly_dependent_data_with_noise_are_kept():
    # 1 - R^2 = 1e-8 for y on x: far from singular at SINGULAR_TOLERANCE
    rng = np.random.default_rng(1)
    x = rng.normal(size=(500, 2))
    y = x[:, 0] + 1e-4 * rng.normal(size=500)
    cov = np.cov(np.column_stack([x, y]), rowvar=False, bias=True)
    check_sample_cov(cov, ["a", "b", "y"])
    factor = np.linalg.cholesky(np.corrcoef(np.column_stack([x, y]), rowvar=False))
    assert SINGULAR_TOLERANCE < factor.diagonal().min() ** 2 < 1e-6


def test_singular_group_is_refused_in_moments_from_frame(hs):
    data = hs.copy()
    pasteur = data["school"] == "Pasteur"
    data.loc[pasteur, "x6"] = data.loc[pasteur, "x5"] * 2 + 1
    frame = validate_frame(data, X, "school")
    with pytest.raises(semnet.DataError, match=r"in group 'Pasteur'.*x5 and x6"):
        moments_from_frame(frame, X, "school", ["Pasteur", "Grant-White"])


# -- sample statistics that are not numbers ---------------------------------------------------
@pytest.mark.parametrize(
    ("cov", "pattern"),
    [
        ("abc", r"sample_cov must be a matrix of numbers .* not the string 'abc'"),
        ([["a"] * 9] * 9, r"sample_cov must be a matrix of numbers .* not list"),
        ([[1.0, 2.0], [3.0]], r"sample_cov must be a matrix of numbers"),
        (np.eye(9) * (1 + 0j), r"sample_cov holds complex numbers"),
    ],
)
def test_sample_cov_that_is_not_a_numeric_matrix(cov, pattern):
    with pytest.raises(semnet.DataError, match=pattern):
        moments_from_stats(cov, None, 301, X, None)


def test_sample_cov_frame_with_text_entries(hs):
    cov = hs[X].cov().astype(object)
    cov.loc["x2", "x3"] = "0.3"
    cov.loc["x3", "x2"] = "n/a"
    with pytest.raises(semnet.DataError, match=r"sample_cov must be a matrix of numbers"):
        moments_from_stats(cov, None, 301, X, None)


def test_sample_cov_frame_with_rows_missing(hs):
    cov = hs[X].cov().iloc[:8]
    with pytest.raises(semnet.DataError, match=r"x9 used in the model are not in the rows of"):
        moments_from_stats(cov, None, 301, X, None)


@pytest.mark.parametrize(
    ("mean", "pattern"),
    [
        ("abc", r"sample_mean must be a vector of numbers .* not the string 'abc'"),
        (pd.Series(["1"] * 8 + ["x"], index=X), r"sample_mean must be a vector of numbers"),
        (np.zeros(9, dtype=complex), r"sample_mean holds complex numbers"),
    ],
)
def test_sample_mean_that_is_not_a_numeric_vector(hs, mean, pattern):
    with pytest.raises(semnet.DataError, match=pattern):
        moments_from_stats(hs[X].cov(), mean, 301, X, None)


def test_singular_sample_cov_names_the_variables(hs):
    cov = hs[X].cov()
    cov.loc["x4", :] = cov.loc["x3", :]
    cov.loc[:, "x4"] = cov.loc[:, "x3"]
    with pytest.raises(semnet.DataError, match=r"x3 and x4 are identical or perfectly correlated"):
        moments_from_stats(cov, None, 301, X, None)
