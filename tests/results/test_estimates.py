"""The estimates-table builder shared by Fit and LMSResult (semnet/results/estimates.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from tolerances import ARITH_RTOL

import semnet
from semnet.partable.build import partable
from semnet.results import estimates as builder
from semnet.syntax import parse_model

MODEL = "f =~ x1 + a*x2 + b*x3\nd := a*b"
#: the same with one label per group
MODEL_2G = "f =~ x1 + c(a1, a2)*x2 + c(b1, b2)*x3\nd := a1*b2"
COLUMNS = ["lhs", "op", "rhs", "group", "label", "est", "se", "z", "pvalue",
           "ci_lower", "ci_upper"]  # fmt: skip


def _ids(n: int) -> dict[str, np.ndarray]:
    cols = {"lhs": ["f"] * n, "op": ["=~"] * n, "rhs": [f"x{i + 1}" for i in range(n)],
            "group": [None] * n, "label": [""] * n}  # fmt: skip
    return builder.row_ids({k: np.array(v, dtype=object) for k, v in cols.items()}, 1)


def test_wald_columns():
    est = np.array([1.0, 0.8, -0.6, 0.3])
    se = np.array([0.0, 0.2, 0.3, np.nan])
    free = np.array([False, True, True, True])
    table = builder.estimates_table(_ids(4), est, se, free, level=0.9)
    assert list(table.columns) == COLUMNS
    z = table["z"].to_numpy()
    assert np.isnan(z[[0, 3]]).all()
    np.testing.assert_allclose(z[1:3], [4.0, -2.0], rtol=ARITH_RTOL)
    np.testing.assert_allclose(table["pvalue"][1:3], 2 * stats.norm.sf([4.0, 2.0]),
                               rtol=ARITH_RTOL)  # fmt: skip
    q = stats.norm.ppf(0.95)
    np.testing.assert_allclose(table["ci_lower"][:3], est[:3] - q * se[:3], rtol=ARITH_RTOL)
    np.testing.assert_allclose(table["ci_upper"][:3], est[:3] + q * se[:3], rtol=ARITH_RTOL)
    assert table.loc[0, "ci_lower"] == table.loc[0, "ci_upper"] == 1.0
    assert np.isnan(table.loc[3, "ci_lower"])


def test_given_interval_and_standardized_columns():
    est = np.array([1.0, 0.8])
    lower, upper = np.array([np.nan, 0.5]), np.array([np.nan, 1.1])
    std = {"std_lv": np.array([0.7, 0.6]), "std_all": np.array([0.5, 0.4])}
    table = builder.estimates_table(_ids(2), est, np.array([0.0, 0.2]),
                                    np.array([False, True]), interval=(lower, upper),
                                    standardized=std)  # fmt: skip
    assert list(table.columns) == [*COLUMNS, "std_lv", "std_all"]
    assert table["ci_lower"].tolist() == [1.0, 0.5]
    assert table["ci_upper"].tolist() == [1.0, 1.1]
    assert table["std_all"].tolist() == [0.5, 0.4]
    std["std_all"][0] = 9.0
    assert table.loc[0, "std_all"] == 0.5


def test_table_shares_no_memory_with_its_inputs():
    """The float columns are computed in a block of the table's own: writing to the
    table changes none of the arrays it was made from (a fit's estimates included)."""
    est, se = np.array([1.0, 0.8]), np.array([0.0, 0.2])
    std = {"std_lv": np.array([0.7, 0.6]), "std_all": np.array([0.5, 0.4])}
    table = builder.estimates_table(_ids(2), est, se, np.array([False, True]),
                                    standardized=std)  # fmt: skip
    inputs = [est, se, *std.values()]
    for name in ["est", "se", "z", "pvalue", "ci_lower", "ci_upper", *std]:
        column = table[name].to_numpy()
        assert not any(np.shares_memory(column, a) for a in inputs)
    table.loc[:, ["est", "se", "std_lv", "std_all"]] = 9.0
    assert est.tolist() == [1.0, 0.8] and se.tolist() == [0.0, 0.2]
    assert std["std_lv"].tolist() == [0.7, 0.6] and std["std_all"].tolist() == [0.5, 0.4]
    fit = semnet.cfa("f =~ x1 + x2 + x3", semnet.datasets.holzinger_swineford())
    values = fit.values.copy()
    fitted = fit.estimates()
    assert not np.shares_memory(fitted["est"].to_numpy(), fit.values)
    fitted.loc[:, "est"] = 0.0
    np.testing.assert_array_equal(fit.values, values)
    np.testing.assert_array_equal(fit.estimates()["est"].to_numpy(), values)


def test_parameter_se():
    free = np.array([1, 0, 2, 1, 3])
    vcov = np.diag([4.0, 0.25, 1e-20])
    se = builder.parameter_se(free, vcov)
    assert se[:4].tolist() == [2.0, 0.0, 0.5, 2.0]
    assert np.isnan(se[4])  # no sampling variance: pinned, reported as NaN
    none = builder.parameter_se(free, None)
    assert none[1] == 0.0 and np.isnan(none[[0, 2, 3, 4]]).all()


def test_parameter_se_with_negative_and_missing_variances():
    """A variance at most 1e-14 of the largest (or of 1), negative ones too, gives NaN,
    a NaN variance NaN; each row takes its parameter's."""
    free = np.array([0, 3, 1, 2, 0, 4, 3])
    vcov = np.diag([-4.0, 9.0, 1e-15, 16.0])
    se = builder.parameter_se(free, vcov)
    assert se[[0, 3, 4, 5]].tolist() == [0.0, 3.0, 0.0, 4.0]
    assert np.isnan(se[[1, 2, 6]]).all()
    vcov[1, 1], vcov[2, 2] = np.nan, 1e-13
    se = builder.parameter_se(free, vcov)
    assert se[[0, 1, 4, 5, 6]].tolist() == [0.0, np.sqrt(1e-13), 0.0, 4.0, np.sqrt(1e-13)]
    assert np.isnan(se[[2, 3]]).all()


def test_row_ids_are_new_arrays_for_each_table():
    """A table takes its identifiers without a copy: each call makes new ones, slices
    of the one conversion of the text columns."""
    pt = partable(parse_model(MODEL))
    rows = builder.row_columns(pt)
    text = builder.row_text(rows, 1)
    first, second = builder.row_ids(rows, 1, text), builder.row_ids(rows, 1, text)
    assert all(first[k] is not second[k] for k in first)
    assert not np.shares_memory(first["group"].to_numpy(), rows["group"])
    table = builder.estimates_table(first, np.zeros(rows["op"].size),
                                    np.zeros(rows["op"].size), rows["free"])  # fmt: skip
    table.loc[0, "lhs"] = "changed"
    table.loc[0, "group"] = "changed"
    assert second["lhs"][0] == text[0] == "f" and rows["group"][0] is None


def test_row_columns_with_and_without_defined_rows():
    pt = partable(parse_model(MODEL))
    n = len(pt.params)
    rows = builder.row_columns(pt)
    assert rows["op"].size == n + 1
    assert (rows["op"][-1], rows["label"][-1], rows["rhs"][-1]) == (":=", "d", "a*b")
    assert rows["free"][-1] and rows["group"][-1] is None
    assert not rows["op"].flags.writeable
    plain = builder.row_columns(pt, defined=False)
    assert plain["op"].size == n and ":=" not in set(plain["op"])


@pytest.mark.parametrize("groups", [[""], ["g1", "g2"]])
def test_row_ids_have_the_dtypes_pandas_infers(groups):
    pt = partable(parse_model(MODEL if len(groups) == 1 else MODEL_2G), groups=groups)
    rows = builder.row_columns(pt)
    ids = builder.row_ids(rows, len(groups))
    table = builder.estimates_table(ids, np.zeros(rows["op"].size),
                                    np.zeros(rows["op"].size), rows["free"])  # fmt: skip
    public = pd.DataFrame({k: list(rows[k]) for k in ("lhs", "op", "rhs", "group", "label")})
    assert list(table.dtypes.iloc[:5]) == list(public.dtypes)
    assert table[["lhs", "op", "rhs", "label"]].equals(public[["lhs", "op", "rhs", "label"]])
    if len(groups) > 1:
        assert list(dict.fromkeys(table["group"].iloc[:-1])) == groups


def test_implied_frames():
    out = builder.implied_frames([("A", ["x", "y"], np.eye(2), np.array([1.0, 2.0]))])
    assert out["A"]["cov"].loc["y", "y"] == 1.0 and out["A"]["mean"]["y"] == 2.0


def test_fit_takes_its_tables_and_group_facts_from_the_builder(monkeypatch):
    hs = semnet.datasets.holzinger_swineford()
    fit = semnet.cfa(MODEL_2G.replace("f =~", "visual =~"), hs, group="school")
    assert isinstance(fit, builder.FittedRows)
    assert fit.groups == ["Pasteur", "Grant-White"]
    assert fit.nobs == {"Pasteur": 156, "Grant-White": 145}
    assert fit.n_dropped == {"Pasteur": 0, "Grant-White": 0}
    calls = []

    def spy(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    original = builder.estimates_table
    monkeypatch.setattr(builder, "estimates_table", spy)
    table = fit.estimates()
    assert len(calls) == 1 and table["op"].iloc[-1] == ":="


def test_r_squared_of_a_negative_residual_variance_is_nan():
    """R² above 1 (a Heywood case) is NaN, as lavaan's lavInspect(fit, "r2")
    (tests/reference/fuzz2 n039: x1's residual variance -0.03)."""
    hs = semnet.datasets.holzinger_swineford()
    fit = semnet.cfa("f =~ x1 + x2 + x3\nx1 ~~ -0.1*x1", hs)
    r2 = fit.r_squared().set_index("name")["r2"]
    assert np.isnan(r2["x1"])
    assert 0.0 < r2["x2"] < 1.0


def test_a_variance_fixed_at_zero_standardizes_to_zero():
    """A quadratic slope whose variance is fixed at 0: its variance row is 0 in every
    metric (lavaan's std.lv and std.all, and the SE 0), not 0/0 (tests/reference/fuzz2
    n010)."""
    growth = semnet.simulate(
        "i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4\ns =~ 0*t1 + 1*t2 + 2*t3 + 3*t4\n"
        "i ~ 5*1\ns ~ 0.5*1\ns ~~ 0.2*s", 300, seed=3)  # fmt: skip
    model = ("i =~ 1*t1 + 1*t2 + 1*t3 + 1*t4\ns =~ 0*t1 + 1*t2 + 2*t3 + 3*t4\n"
             "q =~ 0*t1 + 1*t2 + 4*t3 + 9*t4\nq ~~ 0*q\ni ~~ 0*q\ns ~~ 0*q")  # fmt: skip
    fit = semnet.growth(model, growth)
    est = fit.estimates(standardized=True).set_index(["lhs", "op", "rhs"])
    assert est.loc[("q", "~~", "q"), ["std_lv", "std_all"]].tolist() == [0.0, 0.0]
    std = fit.standardized().set_index(["lhs", "op", "rhs"])
    assert std.loc[("q", "~~", "q"), "se"] == 0.0


@pytest.mark.parametrize("level", ["0.9", 1.5, 0, 1, True, None])
def test_a_level_outside_zero_one_is_an_option_error(level):
    # "0.9" was a TypeError from the arithmetic, 1.5 NaN intervals without a word
    fit = semnet.cfa("f =~ x1 + x2 + x3", semnet.datasets.holzinger_swineford())
    with pytest.raises(semnet.OptionError, match="level must be between 0 and 1"):
        fit.estimates(level=level)
    with pytest.raises(semnet.OptionError, match="level must be between 0 and 1"):
        fit.standardized(level=level)
    with pytest.raises(semnet.OptionError, match="level must be between 0 and 1"):
        semnet.indirect_effects(fit, "f", y="x1", level=level)


def test_a_numpy_level_is_accepted():
    fit = semnet.cfa("f =~ x1 + x2 + x3", semnet.datasets.holzinger_swineford())
    assert fit.estimates(level=np.float64(0.9)).equals(fit.estimates(level=0.9))
