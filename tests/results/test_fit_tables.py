"""The tables a Fit returns: pandas' own dtypes, and independent copies of cached pieces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import semnet

MODEL = "visual =~ x1 + a*x2 + x3\ntextual =~ x4 + b*x5 + x6\nab := a*b"


@pytest.mark.parametrize("group", [None, "school"])
def test_identifier_columns_have_the_dtypes_pandas_infers(hs, group):
    fit = semnet.cfa(MODEL, hs, group=group, group_equal=["loadings"] if group else ())
    table = fit.estimates()
    inferred = pd.DataFrame({k: np.asarray(table[k], dtype=object) for k in table.columns[:5]})
    assert list(table.dtypes.iloc[:5]) == list(inferred.dtypes)
    assert table["op"].iloc[-1] == ":=" and table["label"].iloc[-1] == "ab"
    if group is None:
        assert table["group"].isna().all()
    else:
        assert list(dict.fromkeys(table["group"].iloc[:-1])) == ["Pasteur", "Grant-White"]


def test_tables_are_independent_copies(hs):
    fit = semnet.cfa(MODEL, hs, group="school", group_equal=["loadings"])
    first = fit.estimates()
    expected = first.copy()
    first.loc[0, "lhs"] = "changed"
    first.loc[0, "group"] = "changed"
    first.loc[0, "est"] = -1.0
    pd.testing.assert_frame_equal(fit.estimates(), expected)
    std = fit.standardized()
    pd.testing.assert_frame_equal(std.iloc[:, :5], expected.iloc[:, :5])
