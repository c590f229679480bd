"""Bad input through :func:`semnet.sem`: never a silent wrong answer, never a raw numpy
traceback, but a semnet error that names the value, the column or the group (issue #20).

Each test here failed before its fix: the fit ran with wrong numbers, or stopped with a
raw ``ValueError`` / ``LinAlgError``, or with a message that blamed something else.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from shared_models import HS_MODEL
from tolerances import FIT_RTOL

import semnet

X = [f"x{i}" for i in range(1, 10)]


@pytest.fixture(scope="module")
def hs_base() -> pd.DataFrame:
    return semnet.datasets.holzinger_swineford()


@pytest.fixture
def hs(hs_base) -> pd.DataFrame:
    return hs_base.copy()


def _raises(cls, *patterns, call):
    """``call()`` raises ``cls`` (a semnet error), with no warning on the way (nothing is
    fitted before the error), and its message matches every pattern."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(cls) as info:
            call()
    assert isinstance(info.value, semnet.SemnetError)
    message = str(info.value)
    for p in patterns:
        assert re.search(p, message), f"{p!r} not in {message!r}"
    return info.value


# -- silent wrong answers ------------------------------------------------------------------
def test_group_labels_that_print_alike_are_refused(hs):
    # "1" (text) and 1 (number) were one group "1" twice, each holding every row: the
    # chi-square doubled (170.611 for HS) without a warning
    hs["g"] = ["1" if i % 2 else 1 for i in range(len(hs))]
    _raises(
        semnet.DataError, r"group column 'g'", r"1 \(int\) and '1' \(str\)",
        r"both print as '1'", r"astype\(str\)",
        call=lambda: semnet.sem(HS_MODEL, hs, group="g"),
    )


def test_group_labels_of_mixed_types_that_print_apart_still_work(hs):
    hs["g"] = ["a" if i % 2 else 1 for i in range(len(hs))]
    fit = semnet.sem(HS_MODEL, hs, group="g")
    as_text = semnet.sem(HS_MODEL, hs.assign(g=hs["g"].astype(str)), group="g")
    assert fit.groups == as_text.groups == ["1", "a"]
    assert fit.nobs == {"1": 151, "a": 150}
    assert fit.chisq == pytest.approx(as_text.chisq, rel=FIT_RTOL)


def test_a_defined_parameter_defined_twice_is_refused(hs):
    # both rows showed b's value
    error = _raises(
        semnet.ModelSyntaxError, r"`d` is defined twice", r"line 2 \(`d := a`\)", r"line 3",
        call=lambda: semnet.sem("visual =~ x1 + a*x2 + b*x3\nd := a\nd := b", hs),
    )
    assert (error.line, error.column) == (3, 1)


def test_a_defined_parameter_may_share_a_variable_name(hs):
    # lavaan allows it: a := name is a parameter label, not a variable
    fit = semnet.sem("visual =~ x1 + a*x2 + b*x3\nx1 := a*b\nvisual := a + b", hs)
    est = fit.estimates().set_index(["lhs", "op"])["est"]
    a = est[("visual", "=~")].iloc[1]
    b = est[("visual", "=~")].iloc[2]
    assert est[("x1", ":=")] == pytest.approx(a * b, rel=1e-12)
    assert est[("visual", ":=")] == pytest.approx(a + b, rel=1e-12)


def test_a_defined_parameter_may_not_reuse_a_label(hs):
    _raises(
        semnet.ModelSpecificationError, r"'a'", r"already a parameter label",
        call=lambda: semnet.sem("visual =~ x1 + a*x2 + b*x3\na := a*b", hs),
    )


def test_complex_column_is_refused(hs):
    # the imaginary part was dropped (with a numpy ComplexWarning at most)
    hs["x1"] = hs["x1"].astype(complex) + 1j
    _raises(
        semnet.DataError, r"column 'x1' holds complex numbers", r"\.real",
        call=lambda: semnet.sem(HS_MODEL, hs),
    )


# -- raw errors and misleading messages -----------------------------------------------------
@pytest.mark.parametrize(("column", "value"), [("x1", 1e308), ("x2", 1e200)])
def test_values_too_large_to_square(hs, column, value):
    # 1e308 gave a raw LinAlgError "Eigenvalues did not converge", 1e200 a message that
    # blamed linear dependence
    hs.loc[3, column] = value
    _raises(
        semnet.DataError, rf"column '{column}'", r"too large",
        re.escape(f"{value:g} in row 3"), r"[Rr]escale",
        call=lambda: semnet.sem(HS_MODEL, hs),
    )


def test_values_too_large_to_square_with_fiml(hs):
    hs.loc[0, "x4"] = np.nan
    hs.loc[5, "x7"] = -1e250
    _raises(
        semnet.DataError, r"column 'x7'", r"-1e\+250 in row 5",
        call=lambda: semnet.sem(HS_MODEL, hs, missing="fiml"),
    )


def test_infinite_value_names_column_and_row(hs):
    hs.loc[8, "x3"] = np.inf
    _raises(
        semnet.DataError, r"column 'x3' contains infinite values \(inf in row 8\)",
        call=lambda: semnet.sem(HS_MODEL, hs),
    )


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"sample_cov": "abc"}, r"sample_cov must be a matrix of numbers.*'abc'"),
        ({"sample_cov": [["1"] * 9] * 8 + [["x"] * 9]}, r"sample_cov must be a matrix"),
        ({"sample_cov": np.eye(9, dtype=complex)}, r"sample_cov holds complex numbers"),
        ({"sample_mean": "abc"}, r"sample_mean must be a vector of numbers.*'abc'"),
        ({"sample_mean": ["0"] * 8 + ["?"]}, r"sample_mean must be a vector of numbers"),
        ({"sample_nobs": "abc"}, r"sample_nobs must be a whole number.*'abc'"),
        ({"sample_nobs": [301]}, r"sample_nobs must be a whole number"),
    ],
)
def test_sample_statistics_that_are_not_numbers(hs, kwargs, pattern):
    # a raw ValueError "could not convert string to float"
    args = {"sample_cov": hs[X].cov(), "sample_mean": hs[X].mean(), "sample_nobs": 301}
    args.update(kwargs)
    _raises(
        semnet.DataError, pattern,
        call=lambda: semnet.sem(HS_MODEL, meanstructure=True, **args),
    )


def test_per_group_sample_statistics_keyed_alike(hs):
    cov, mean = hs[X].cov(), hs[X].mean()
    _raises(
        semnet.DataError, r"'1' \(str\) and 1 \(int\) both print as '1'",
        call=lambda: semnet.sem(
            HS_MODEL, sample_cov={"1": cov, 1: cov}, sample_mean={"1": mean, 1: mean},
            sample_nobs={"1": 150, 1: 151},
        ),
    )


@pytest.mark.parametrize(
    ("model", "line", "column", "pattern"),
    [
        # "Singular matrix C in LSQ subproblem"
        ("visual =~ x1 + a*x2 + b*x3\na == 1/0", 2, 7, r"division by zero"),
        ("visual =~ x1 + a*x2 + b*x3\nb == 1e999", 2, 6, r"`1e999` is too large"),
        # accepted as infinity, then blamed on the start values
        ("visual =~ x1 + 1e999*x2 + x3", 1, 16, r"`1e999` is too large"),
        ("visual =~ x1 + start(Inf)*x2 + x3", 1, 22, r"starting values must be finite"),
        ("visual =~ x1 + a*x2 + b*x3\nd := a + log(0)", 2, 10, r"`log\(0\)` is -inf"),
    ],
)
def test_non_finite_numbers_in_model_syntax(hs, model, line, column, pattern):
    error = _raises(semnet.ModelSyntaxError, pattern, call=lambda: semnet.sem(model, hs))
    assert (error.line, error.column) == (line, column)


def test_grouping_by_a_model_variable(hs):
    # was blamed on groups with too few cases
    _raises(
        semnet.DataError, r"group column 'x1' is a variable of the model",
        call=lambda: semnet.sem(HS_MODEL, hs, group="x1"),
    )


# -- a singular sample covariance matrix stops before the fit (as lavaan) ----------------------
def test_identical_columns(hs):
    # ran the optimizer into a non-convergence warning or a raw "matrix is not positive
    # definite"; lavaan stops at once: "sample covariance matrix is not positive-definite"
    hs["x3"] = hs["x2"]
    _raises(
        semnet.DataError, r"sample covariance matrix is singular", r"x2 and x3",
        r"identical columns", r"Drop one",
        call=lambda: semnet.sem(HS_MODEL, hs),
    )


def test_linearly_dependent_columns_in_one_group(hs):
    grant = hs["school"] == "Grant-White"
    hs.loc[grant, "x9"] = hs.loc[grant, "x7"] - 0.5 * hs.loc[grant, "x8"] + hs.loc[grant, "x1"]
    error = _raises(
        semnet.DataError, r"in group 'Grant-White' is singular", r"linearly dependent",
        call=lambda: semnet.sem(HS_MODEL, hs, group="school"),
    )
    named = str(error).split("the variables ")[1].split(" are linearly")[0].split(", ")
    assert sorted(named) == ["x1", "x7", "x8", "x9"]


def test_singular_sample_cov(hs):
    cov = hs[X].cov()
    cov.loc["x5", :] = cov.loc["x4", :]
    cov.loc[:, "x5"] = cov.loc[:, "x4"]
    _raises(
        semnet.DataError, r"x4 and x5 are identical or perfectly correlated",
        call=lambda: semnet.sem(HS_MODEL, sample_cov=cov, sample_nobs=301),
    )


def test_non_finite_definition_warns_and_is_listed():
    """``d := log(a - 10)`` is NaN at the estimates: a SemnetWarning naming ``d``, in
    ``fit.warnings`` and the summary, and no raw numpy RuntimeWarning."""
    import warnings

    hs = semnet.datasets.holzinger_swineford()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = semnet.cfa("visual =~ x1 + a*x2 + x3\nd := log(a - 10)", hs)
        fit.estimates()
    assert [type(w.message) for w in caught] == [semnet.SemnetWarning]
    assert "defined parameter(s) d (nan) are not finite" in fit.warnings[0]
    assert "d (nan) are not finite" in str(fit.summary())
