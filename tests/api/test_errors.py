"""Bad input gives a semnet error that names the problem and the fix; good input is not
modified."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shared_models import HS_MODEL
from tolerances import EST_RTOL

import semnet

ONE = "f =~ x1 + x2 + x3"


@pytest.fixture(scope="module")
def hs_base() -> pd.DataFrame:
    return semnet.datasets.holzinger_swineford()


@pytest.fixture
def hs(hs_base) -> pd.DataFrame:
    return hs_base.copy()


def _raises(cls, *patterns, call):
    with pytest.raises(cls) as info:
        call()
    assert isinstance(info.value, semnet.SemnetError)
    msg = str(info.value)
    for p in patterns:
        assert re.search(p, msg, flags=re.IGNORECASE), f"{p!r} not in {msg!r}"
    return info.value


# -- data ------------------------------------------------------------------------------
def test_unknown_variable_suggests_close_match(hs):
    _raises(
        semnet.DataError,
        r"'xx3'",
        r"not (a )?columns? of the data",
        r"did you mean 'x3'",
        call=lambda: semnet.cfa("f =~ x1 + x2 + xx3", hs),
    )


def test_non_numeric_column(hs):
    hs["x2"] = hs["x2"].map(lambda v: f"score {v}")
    _raises(
        semnet.DataError,
        r"'x2'",
        r"not numeric",
        r"recode|to_numeric",
        call=lambda: semnet.cfa(ONE, hs),
    )


def test_constant_column(hs):
    hs["x2"] = 3.0
    _raises(semnet.DataError, r"x2", r"constant", r"drop", call=lambda: semnet.cfa(ONE, hs))


def test_infinite_values(hs):
    hs.loc[5, "x3"] = np.inf
    _raises(semnet.DataError, r"'x3'", r"infinite", r"NaN|finite", call=lambda: semnet.cfa(ONE, hs))


def test_all_missing_column(hs):
    hs["x2"] = np.nan
    _raises(
        semnet.DataError, r"'x2'", r"missing for every case", r"drop",
        call=lambda: semnet.cfa(ONE, hs),
    )  # fmt: skip


def test_singular_covariance_duplicated_column(hs):
    hs["x4"] = hs["x1"]
    _raises(
        semnet.DataError,
        r"singular|not positive definite",
        r"x1",
        r"x4",
        r"duplicated|drop one",
        call=lambda: semnet.cfa("f =~ x1 + x2 + x3 + x4", hs),
    )


def test_duplicated_column_names(hs):
    data = pd.concat([hs[["x1"]], hs[["x1", "x2", "x3"]]], axis=1)
    _raises(
        semnet.DataError, r"several columns named 'x1'", r"rename|drop",
        call=lambda: semnet.cfa(ONE, data),
    )  # fmt: skip


def test_empty_dataframe():
    _raises(semnet.DataError, r"no rows", call=lambda: semnet.cfa(ONE, pd.DataFrame()))


def test_dataframe_without_rows(hs):
    _raises(semnet.DataError, r"no rows", call=lambda: semnet.cfa(ONE, hs.iloc[:0]))


def test_numpy_array_is_not_a_dataframe(hs):
    err = _raises(
        semnet.DataError,
        r"DataFrame",
        r"ndarray",
        r"pandas\.DataFrame\(",
        call=lambda: semnet.cfa(ONE, hs[["x1", "x2", "x3"]].to_numpy()),
    )
    assert "columns" in str(err)


def test_dict_is_not_a_dataframe(hs):
    _raises(
        semnet.DataError,
        r"DataFrame",
        r"dict",
        call=lambda: semnet.cfa(ONE, hs[["x1", "x2", "x3"]].to_dict("list")),
    )


def test_group_column_missing(hs):
    _raises(
        semnet.DataError,
        r"group",
        r"'shcool'",
        r"did you mean 'school'",
        call=lambda: semnet.cfa(ONE, hs, group="shcool"),
    )


def test_group_with_too_few_cases(hs):
    hs.loc[[0, 1], "school"] = "Tiny"
    _raises(
        semnet.DataError,
        r"'Tiny'",
        r"only 2 complete case",
        r"3 observed variables|more cases than variables",
        r"merge|drop",
        call=lambda: semnet.cfa(ONE, hs, group="school"),
    )


# -- options ---------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["MLL", "mll"])
def test_unknown_estimator_suggests_nearest(hs, value):
    _raises(
        semnet.OptionError,
        r"estimator",
        r"MLL",
        r"did you mean 'ML'",
        call=lambda: semnet.cfa(ONE, hs, estimator=value),
    )


@pytest.mark.parametrize(
    "options",
    [{"estimator": "MLMV"}, {"estimator": "MLM"}, {"test": "scaled.shifted"}],
)
def test_complete_data_robust_tests_refuse_fiml(hs, options):
    _raises(
        semnet.OptionError,
        r"needs complete data",
        r"estimator='MLR'",
        call=lambda: semnet.cfa(ONE, hs, missing="fiml", **options),
    )


def test_scaled_shifted_test_override_matches_mlmv(hs):
    """test='scaled.shifted' on top of ML gives MLMV's test with standard SEs."""
    four = "f =~ x1 + x2 + x3 + x4"
    mlmv = semnet.cfa(four, hs, estimator="MLMV")
    ml_ss = semnet.cfa(four, hs, test="scaled.shifted")
    assert ml_ss.options.se == "standard" and ml_ss.options.test == "scaled_shifted"
    assert np.isfinite(mlmv.scaled_test.stat)
    assert ml_ss.scaled_test.stat == pytest.approx(mlmv.scaled_test.stat, rel=1e-10)
    assert mlmv.options.se == "robust_sem"
    mlm = semnet.cfa(four, hs, estimator="MLM")
    np.testing.assert_allclose(mlmv.estimates()["se"], mlm.estimates()["se"], rtol=1e-12)


def test_unknown_missing_suggests_nearest(hs):
    _raises(
        semnet.OptionError,
        r"missing='listwse'",
        r"did you mean 'listwise'",
        call=lambda: semnet.cfa(ONE, hs, missing="listwse"),
    )


# -- model syntax and specification ------------------------------------------------------
@pytest.mark.parametrize("text", ["", "   \n\t\n"])
def test_empty_model(hs, text):
    err = _raises(semnet.ModelSyntaxError, r"empty", r"=~", call=lambda: semnet.cfa(text, hs))
    assert (err.line, err.column) == (1, 1)


def test_model_of_only_comments(hs):
    err = _raises(
        semnet.ModelSyntaxError,
        r"empty",
        r"=~",
        call=lambda: semnet.cfa("# a comment\n! another one\n", hs),
    )
    assert err.line >= 1 and err.column >= 1


def test_syntax_error_has_line_and_column(hs):
    model = "f =~ x1 + x2 + x3\ng =~ x4 + * x5"
    err = _raises(
        semnet.ModelSyntaxError, r"line 2, column 11", r"`\*`", r"expected",
        call=lambda: semnet.cfa(model, hs),
    )  # fmt: skip
    assert (err.line, err.column) == (2, 11)
    assert err.source_line == "g =~ x4 + * x5"


def test_conflicting_fixed_values_for_one_label(hs):
    _raises(
        semnet.ModelSpecificationError,
        r"label 'a'",
        r"different values",
        r"0\.5",
        r"0\.7",
        r"different labels|same value",
        call=lambda: semnet.cfa("f =~ x1 + 0.5*a*x2 + 0.7*a*x3", hs),
    )


def test_label_on_fixed_and_free_parameter(hs):
    _raises(
        semnet.ModelSpecificationError,
        r"label 'a'",
        r"fixed",
        r"free",
        call=lambda: semnet.cfa("f =~ x1 + 1*a*x2 + a*x3", hs),
    )


def test_definition_with_undefined_label(hs):
    _raises(
        semnet.ModelSpecificationError,
        r"line 2",
        r"'bb'",
        r"not a parameter label",
        r"did you mean 'b'",
        call=lambda: semnet.cfa("f =~ x1 + a*x2 + b*x3\nd := a - bb", hs),
    )


def test_model_file_does_not_exist(hs):
    _raises(
        semnet.ModelSpecificationError,
        r"models/no_such_model\.lav",
        r"does not exist",
        call=lambda: semnet.cfa("models/no_such_model.lav", hs),
    )


def test_model_path_object_does_not_exist(hs):
    _raises(
        semnet.ModelSpecificationError,
        r"does not exist",
        call=lambda: semnet.cfa(Path("models/no_such_model.lav"), hs),
    )


def test_model_file_is_read(hs, tmp_path):
    path = tmp_path / "one.lav"
    path.write_text(ONE + "\n", encoding="utf-8")
    by_file = semnet.cfa(str(path), hs)
    by_text = semnet.cfa(ONE, hs)
    assert by_file.fit_measures()["chisq"] == pytest.approx(by_text.fit_measures()["chisq"])


# -- identification ----------------------------------------------------------------------
def test_negative_df_two_indicator_factor(hs):
    _raises(
        semnet.IdentificationError,
        r"not identified",
        r"df = -1",
        r"'f' has only 2 indicator",
        r"add a third indicator|constrain",
        call=lambda: semnet.cfa("f =~ x1 + x2", hs),
    )


def test_factor_without_scale(hs):
    _raises(
        semnet.IdentificationError,
        r"'f'",
        r"no scale",
        r"std_lv=True|f ~~ 1\*f",
        call=lambda: semnet.cfa("f =~ NA*x1 + x2 + x3", hs),
    )


# -- the caller's data ---------------------------------------------------------------------
def test_dataframe_unchanged_by_fit(hs):
    data = hs.copy()
    data.index = pd.RangeIndex(100, 100 + len(data))  # a non-default index
    data.loc[data.index[[3, 10, 42]], "x5"] = np.nan
    data["school"] = data["school"].astype("category")
    before = data.copy(deep=True)
    semnet.cfa(HS_MODEL, data, group="school")
    pd.testing.assert_frame_equal(data, before, check_exact=True)
    assert data.dtypes.equals(before.dtypes)
    assert data.index.equals(before.index)


@pytest.fixture(scope="module")
def with_missing(hs_base):
    data = hs_base.copy()
    rng = np.random.default_rng(20261124)
    cols = ["x1", "x4", "x8"]
    for c in cols:
        data.loc[rng.choice(len(data), 7, replace=False), c] = np.nan
    return data


def test_listwise_dropped_rows_are_counted_and_reported(with_missing):
    cols = [f"x{i}" for i in range(1, 10)]
    n_incomplete = int(with_missing[cols].isna().any(axis=1).sum())
    assert n_incomplete > 0
    with pytest.warns(semnet.SemnetWarning, match="listwise"):
        fit = semnet.cfa(HS_MODEL, with_missing)
    assert sum(fit.n_dropped.values()) == n_incomplete
    assert sum(fit.nobs.values()) == len(with_missing) - n_incomplete
    assert any(str(n_incomplete) in w and "dropped" in w for w in fit.warnings)


def test_no_dropped_rows_no_warning(hs):
    fit = semnet.cfa(HS_MODEL, hs)
    assert sum(fit.n_dropped.values()) == 0
    assert not any("dropped" in w for w in fit.warnings)


def test_missing_values_only_in_unused_columns_are_ignored(hs):
    hs.loc[[0, 1, 2], "grade"] = np.nan
    fit = semnet.cfa(HS_MODEL, hs)
    assert sum(fit.n_dropped.values()) == 0
    assert fit.nobs == {"": len(hs)}


@pytest.mark.filterwarnings("ignore::semnet.SemnetWarning")
def test_nan_rows_give_same_estimates_as_predropped(with_missing):
    cols = [f"x{i}" for i in range(1, 10)]
    complete = with_missing.dropna(subset=cols)
    a = semnet.cfa(HS_MODEL, with_missing).estimates()
    b = semnet.cfa(HS_MODEL, complete).estimates()
    assert a[["lhs", "op", "rhs"]].equals(b[["lhs", "op", "rhs"]])
    np.testing.assert_allclose(a["est"], b["est"], rtol=EST_RTOL, atol=1e-8)
    np.testing.assert_allclose(a["se"], b["se"], rtol=EST_RTOL, atol=1e-8)


@pytest.mark.filterwarnings("ignore::semnet.SemnetWarning")
def test_nan_rows_multigroup_dropped_per_group(with_missing):
    cols = [f"x{i}" for i in range(1, 10)]
    fit = semnet.cfa(HS_MODEL, with_missing, group="school")
    for label in fit.groups:
        rows = with_missing[with_missing["school"] == label]
        assert fit.n_dropped[label] == int(rows[cols].isna().any(axis=1).sum())
        assert fit.nobs[label] == int(rows[cols].notna().all(axis=1).sum())


def test_group_partial_unknown_parameter(hs):
    _raises(
        semnet.ModelSpecificationError,
        r"group_partial= names 'visual=~x9'.*not a parameter",
        call=lambda: semnet.cfa(
            "visual =~ x1 + x2 + x3", hs, group="school",
            group_equal=["loadings"], group_partial=["visual=~x9"],
        ),
    )


def test_fiml_with_a_complete_data_test_names_the_test_not_the_estimator(hs):
    # MLR is in use: the message must name the test that needs complete data
    data = hs.copy()
    data.loc[:9, "x1"] = np.nan
    with pytest.raises(semnet.OptionError) as error:
        semnet.cfa(ONE, data, missing="fiml", estimator="MLR", test="bollen.stine",
                   bootstrap=10, seed=1)
    message = str(error.value)
    assert message.startswith("test='bollen_stine' (estimator='MLR') needs complete data")
    assert "se=" not in message.split("needs")[0]
