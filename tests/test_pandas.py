"""The shortcuts past pandas' per-column overhead agree with the public routes."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import semnet
from semnet import _pandas
from semnet.data.moments import numeric_data

HS_MODEL = """
visual =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed =~ x7 + x8 + x9
"""


@pytest.fixture
def public_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the shortcuts take their public fallback."""
    monkeypatch.setattr(semnet.data.moments, "column_arrays", lambda data, names: None)
    monkeypatch.setattr(_pandas, "_create_from_blocks", lambda: None)


def _mixed_frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({
        "a": rng.normal(size=20),
        "name": [f"r{i}" for i in range(20)],
        "b": rng.integers(0, 5, size=20),
        "c": pd.array([1.5, None] * 10, dtype="Float64"),
        "d": rng.normal(size=20) > 0,
        "e": np.arange(20, dtype=np.int8),
    })


def test_column_arrays_are_the_columns() -> None:
    data = _mixed_frame()
    arrays = _pandas.column_arrays(data, ["e", "a", "c"])
    assert arrays is not None
    for name, array in zip(["e", "a", "c"], arrays, strict=True):
        np.testing.assert_array_equal(np.asarray(array, dtype=float),
                                      data[name].to_numpy(dtype=float, na_value=np.nan))


def test_column_arrays_refuse_duplicate_labels() -> None:
    data = pd.DataFrame(np.ones((3, 2)), columns=["a", "a"])
    assert _pandas.column_arrays(data, ["a"]) is None


def test_numeric_data_same_both_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _mixed_frame()
    names = ["a", "b", "c", "d", "e"]
    fast = numeric_data(data, names, None).values
    monkeypatch.setattr(semnet.data.moments, "column_arrays", lambda data, names: None)
    slow = numeric_data(data, names, None).values
    np.testing.assert_array_equal(fast, slow)
    assert np.isnan(fast[1, 2]) and fast[0, 2] == 1.5


def test_numeric_data_never_writes_to_the_frame() -> None:
    data = _mixed_frame()
    before = data.copy()
    values = numeric_data(data, ["a", "b"], None).values
    assert not values.flags.writeable
    pd.testing.assert_frame_equal(data, before)


def test_frame_matches_the_constructor() -> None:
    n = 6
    columns = {
        "lhs": _pandas.text_array(np.array(list("abcdef"), dtype=object)),
        "group": pd.arrays.NumpyExtensionArray(np.full(n, None, dtype=object)),
        "est": np.linspace(0, 1, n),
        "count": np.arange(n),
        "flag": np.arange(n) > 2,
    }
    pd.testing.assert_frame_equal(_pandas.frame(columns), pd.DataFrame(columns),
                                  check_exact=True)


@pytest.mark.parametrize("route", ["shortcut", "public"])
def test_frame_with_a_block_of_numbers(route: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``numbers`` adds one float column per row of the block, after ``columns``."""
    if route == "public":
        monkeypatch.setattr(_pandas, "_create_from_blocks", lambda: None)
    text = _pandas.text_array(np.array(["a", "b", "c"], dtype=object))
    block = np.arange(6.0).reshape(2, 3)
    expected = pd.DataFrame({"lhs": text, "est": block[0].copy(), "se": block[1].copy()})
    table = _pandas.frame({"lhs": text}, (["est", "se"], block))
    pd.testing.assert_frame_equal(table, expected, check_exact=True)
    table.loc[0, "lhs"] = "z"
    assert text[0] == "a"


@pytest.mark.parametrize("route", ["shortcut", "public"])
def test_frame_takes_new_arrays_without_a_copy(route: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """``copy=False``: the same table as the public constructor's."""
    if route == "public":
        monkeypatch.setattr(_pandas, "_create_from_blocks", lambda: None)

    def columns() -> dict[str, object]:
        return {"lhs": _pandas.text_array(np.array(["a", "b", "c"], dtype=object)),
                "group": pd.arrays.NumpyExtensionArray(np.full(3, None, dtype=object)),
                "n": np.arange(3)}  # fmt: skip

    table = _pandas.frame(columns(), (["est"], np.ones((1, 3))), copy=False)
    expected = pd.DataFrame({**columns(), "est": np.ones(3)})
    pd.testing.assert_frame_equal(table, expected, check_exact=True)


def test_frame_keeps_pandas_strings_of_python_storage() -> None:
    """A pandas string array stored in numpy (pandas without pyarrow) stays a string
    column, and a table takes copies of the pieces of one."""
    dtype = pd.StringDtype("python", na_value=np.nan)
    text = pd.array(np.array(list("abcd"), dtype=object), dtype=dtype)
    lhs, rhs = _pandas.text_pieces(text, 2, 2)
    table = _pandas.frame({"lhs": lhs, "rhs": rhs}, copy=False)
    pd.testing.assert_frame_equal(table, pd.DataFrame({"lhs": lhs, "rhs": rhs}))
    table.loc[0, "rhs"] = "z"
    assert list(text) == list("abcd")


def test_frame_falls_back_for_other_columns() -> None:
    columns = {"x": np.array(["a", "b"], dtype=object), "y": [1.0, 2.0]}
    pd.testing.assert_frame_equal(_pandas.frame(columns), pd.DataFrame(columns))


def test_frame_owns_its_columns() -> None:
    est = np.arange(3.0)
    text = _pandas.text_array(np.array(["a", "b", "c"], dtype=object))
    table = _pandas.frame({"lhs": text, "est": est})
    table.loc[0, "est"] = 99.0
    table.loc[0, "lhs"] = "z"
    assert est[0] == 0.0 and text[0] == "a"


@pytest.mark.parametrize("group", [None, "school"])
def test_fit_tables_same_both_routes(
    group: str | None, request: pytest.FixtureRequest
) -> None:
    data = semnet.datasets.holzinger_swineford()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = semnet.cfa(HS_MODEL, data, group=group)
        tables = [fast.estimates(), fast.standardized()]
        request.getfixturevalue("public_routes")
        slow = semnet.cfa(HS_MODEL, data, group=group)
        for a, b in zip(tables, [slow.estimates(), slow.standardized()], strict=True):
            pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_estimates_table_is_a_copy() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = semnet.cfa(HS_MODEL, semnet.datasets.holzinger_swineford())
    table = fit.estimates()
    table.loc[0, "est"] = 99.0
    table.loc[0, "lhs"] = "changed"
    table.loc[0, "group"] = "changed"
    again = fit.estimates()
    assert again.loc[0, "est"] == 1.0 and again.loc[0, "lhs"] == "visual"
    assert again.loc[0, "group"] is None
    std = fit.standardized()
    std.loc[0, "rhs"] = "changed"
    assert fit.standardized().loc[0, "rhs"] == fit.estimates().loc[0, "rhs"] == "x1"


def test_text_array_is_what_pandas_infers() -> None:
    values = np.array(["visual", "=~", "x1", ""], dtype=object)
    inferred = pd.Series(values).array
    made = _pandas.text_array(values)
    assert made.dtype == inferred.dtype
    pd.testing.assert_extension_array_equal(made, inferred)
    pd.testing.assert_series_equal(pd.Series(made), pd.Series(values))


def test_column_dtypes_are_the_frames_dtypes():
    frame = _mixed_frame().assign(
        o=pd.Categorical(["a", "b"] * 10, ordered=True), u=pd.Categorical(["x"] * 20))
    assert list(_pandas.column_dtypes(frame)) == list(frame.dtypes)

    class NoManager:
        """A frame-like object without pandas' block manager: the public route."""

        _mgr = None
        shape = frame.shape
        dtypes = frame.dtypes

    assert list(_pandas.column_dtypes(NoManager())) == list(frame.dtypes)


def test_naming_a_tables_axes_leaves_other_tables_alone() -> None:
    """The column labels are built once per set of names: each table gets its own."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = semnet.cfa(HS_MODEL, semnet.datasets.holzinger_swineford())
    table = fit.estimates()
    table.columns.name = "column"
    table.index.name = "row"
    again = fit.estimates()
    assert again.columns.name is None and again.index.name is None
    text = _pandas.text_array(np.array(["a"], dtype=object))
    first = _pandas.frame({"lhs": text, "est": np.ones(1)})
    first.columns.name = "renamed"
    assert _pandas.frame({"lhs": text, "est": np.ones(1)}).columns.name is None
