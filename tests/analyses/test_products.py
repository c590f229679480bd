"""Product indicators against semTools' indProd() (fixtures written by make_reference.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference import REFERENCE, ROOT

import semnet
from semnet.analyses.products import product_indicators

DATA = {
    "hs": ROOT / "semnet" / "datasets" / "HolzingerSwineford1939.csv",
    "hs_missing": REFERENCE / "data" / "hs_missing.csv",
}
X = ["x1", "x2", "x3"]


def _z(match: bool) -> list[str]:
    return ["x4", "x5", "x6"] if match else ["x4", "x5"]


@pytest.mark.parametrize("dataset", sorted(DATA))
@pytest.mark.parametrize("method", ["none", "mean", "double_mean", "residual"])
@pytest.mark.parametrize("match", [True, False])
def test_matches_semtools_indprod(dataset, method, match):
    data = pd.read_csv(DATA[dataset])
    ref = pd.read_csv(
        REFERENCE / "analyses" / f"products_{dataset}_{method}_{'match' if match else 'all'}.csv"
    )
    out = product_indicators(data, X, _z(match), method=method, match=match)
    # semTools' names and order: x1.x4, x2.x5, ... (match) or x1.x4, x1.x5, x2.x4, ...
    assert list(out.columns) == [*data.columns, *ref.columns]
    ours = out[ref.columns].to_numpy()
    theirs = ref.to_numpy()
    if method == "residual" and dataset == "hs_missing":
        # semTools keeps the raw product where a case misses any indicator; semnet has
        # no residual there (NaN).  Where both have a residual they agree.
        incomplete = data[X + _z(match)].isna().any(axis=1).to_numpy()
        assert np.isnan(ours[incomplete]).all()
        ours, theirs = ours[~incomplete], theirs[~incomplete]
    assert np.array_equal(np.isnan(ours), np.isnan(theirs))
    ok = ~np.isnan(theirs)
    assert np.allclose(ours[ok], theirs[ok], rtol=1e-10, atol=1e-10)


def test_products_missing_where_an_input_is_missing():
    data = pd.read_csv(DATA["hs_missing"])
    out = product_indicators(data, X, _z(True), method="mean")
    for a, b in zip(X, _z(True), strict=True):
        missing = data[a].isna() | data[b].isna()
        assert out[f"{a}.{b}"].isna().equals(missing)


def test_double_mean_products_are_centred_and_input_untouched():
    data = semnet.datasets.holzinger_swineford()
    before = data.copy()
    out = product_indicators(data, X, _z(True))
    pd.testing.assert_frame_equal(data, before)
    assert out is not data
    assert np.allclose(out[["x1.x4", "x2.x5", "x3.x6"]].mean(), 0, atol=1e-12)
    pd.testing.assert_frame_equal(out[data.columns], data)


def test_residual_products_are_orthogonal_to_the_indicators():
    data = semnet.datasets.holzinger_swineford()
    out = product_indicators(data, X, _z(False), method="residual", match=False)
    prods = out[[c for c in out.columns if "." in c]]
    assert prods.shape[1] == 6
    corr = np.corrcoef(np.column_stack([prods, data[X + _z(False)]]).T)[:6, 6:]
    assert np.abs(corr).max() < 1e-10


def test_custom_names_and_errors():
    data = semnet.datasets.holzinger_swineford()
    out = product_indicators(data, X, _z(True), names=["p1", "p2", "p3"])
    assert list(out.columns[-3:]) == ["p1", "p2", "p3"]
    with pytest.raises(semnet.DataError, match="match=False"):
        product_indicators(data, X, _z(False))
    with pytest.raises(semnet.DataError, match="names has 2"):
        product_indicators(data, X, _z(True), names=["a", "b"])
    with pytest.raises(semnet.DataError, match="already has"):
        product_indicators(data, X, _z(True), names=["x7", "p2", "p3"])
    with pytest.raises(semnet.DataError, match="not a column"):
        product_indicators(data, ["x1", "nope"], ["x4", "x5"])
    with pytest.raises(semnet.OptionError):
        product_indicators(data, X, _z(True), method="orthogonal")
    odd = data.rename(columns={"x1": "1x"})
    with pytest.raises(semnet.DataError, match="identifiers"):
        product_indicators(odd, ["1x"], ["x4"])


def test_product_names_work_in_model_syntax():
    data = product_indicators(semnet.datasets.holzinger_swineford(), X, _z(True))
    fit = semnet.cfa("xz =~ x1.x4 + x2.x5 + x3.x6", data)
    assert fit.converged
    assert fit.partable.names.ov == ("x1.x4", "x2.x5", "x3.x6")
