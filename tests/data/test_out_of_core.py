"""Out-of-core sample moments (semnet.moments): one pass over pandas or Dask data gives the
moments of the complete rows, and fits from them equal fits from the rows."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from shared_models import HS_MODEL as HS

import semnet
import semnet.moments
from semnet.inference.robust import adf_gamma

X = [f"x{i}" for i in range(1, 10)]

POPULATION = """
f1 =~ 0.8*y1 + 0.7*y2 + 0.6*y3 + 0.7*y4
f2 =~ 0.7*y5 + 0.6*y6 + 0.8*y7 + 0.5*y8
f2 ~ 0.4*f1
y1 ~ c(0.0, 0.3, -0.2)*1
y5 ~ c(0.0, 0.2, 0.1)*1
"""
Y = [f"y{i}" for i in range(1, 9)]
MODEL = """
f1 =~ y1 + y2 + y3 + y4
f2 =~ y5 + y6 + y7 + y8
f2 ~ f1
"""


@pytest.fixture(scope="module")
def hs_missing() -> pd.DataFrame:
    data = semnet.datasets.holzinger_swineford()
    data.loc[[3, 40], "x2"] = np.nan
    data.loc[[10, 200], "x5"] = np.nan
    return data


def pandas_moments(data: pd.DataFrame, group: str, columns: list[str]):
    out = {}
    for label, block in data.groupby(group, sort=False):
        x = block[columns].dropna()
        out[str(label)] = (len(x), x.mean(), x.cov(ddof=0))
    return out


def test_from_frame_equals_pandas_moments(hs_missing):
    mom = semnet.moments.from_frame(hs_missing, group="school", columns=X)
    assert mom.groups == ("Pasteur", "Grant-White")
    assert mom.n_dropped == {"Pasteur": 3, "Grant-White": 1}
    for label, (n, mean, cov) in pandas_moments(hs_missing, "school", X).items():
        assert mom.nobs[label] == n
        np.testing.assert_allclose(mom.mean[label], mean, rtol=1e-13)
        np.testing.assert_allclose(mom.cov[label], cov, rtol=1e-12)
    assert "4 rows dropped" in repr(mom)


def test_fourth_order_moments_give_lavaans_gamma(hs_missing):
    mom = semnet.moments.from_frame(hs_missing, group="school", columns=X, fourth=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = semnet.cfa(HS, hs_missing, group="school")
    for g, label in enumerate(mom.groups):
        np.testing.assert_allclose(mom.gamma(label), adf_gamma(fit.moments[g], True),
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("estimator", ["ML", "MLR", "MLM", "MLMV"])
def test_fit_from_moments_equals_fit_from_rows(hs_missing, estimator):
    mom = semnet.moments.from_frame(hs_missing, group="school", columns=X, fourth=True)
    args = {"estimator": estimator, "group_equal": ["loadings", "intercepts"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = semnet.cfa(HS, hs_missing, group="school", **args)
        moments = semnet.cfa(HS, mom, **args)
    assert moments.groups == rows.groups
    assert moments.nobs == rows.nobs
    a, b = rows.estimates(), moments.estimates()
    np.testing.assert_allclose(b["est"], a["est"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(b["se"], a["se"], rtol=1e-8, atol=1e-10)
    fa, fb = rows.fit_measures(), moments.fit_measures()
    np.testing.assert_allclose(fb.astype(float), fa.astype(float), rtol=1e-8, atol=1e-10)


def test_robust_fit_without_fourth_order_moments_is_refused(hs_missing):
    mom = semnet.moments.from_frame(hs_missing, columns=X)
    with pytest.raises(semnet.DataError, match="fourth=True"):
        semnet.cfa(HS, mom, estimator="MLR")


def test_what_moments_cannot_do(hs_missing):
    mom = semnet.moments.from_frame(hs_missing, group="school", columns=X)
    with pytest.raises(semnet.DataError, match="split by 'school'"):
        semnet.cfa(HS, mom, group="grade")
    with pytest.raises(semnet.DataError, match="raw data"):
        semnet.cfa(HS, mom, missing="fiml")
    with pytest.raises(semnet.DataError, match="'x10'"):
        semnet.cfa(HS + "speed =~ x10", mom)
    fit = semnet.cfa(HS, mom)
    with pytest.raises(semnet.DataError, match="summary statistics"):
        semnet.bootstrap(fit, n=5, seed=1)


def test_bad_input_is_named():
    frame = pd.DataFrame({"a": [1.0, 2.0, np.inf], "b": [1.0, 0.0, 2.0], "g": ["u", None, "v"]})
    with pytest.raises(semnet.DataError, match="infinite"):
        semnet.moments.from_frame(frame[["a", "b"]])
    with pytest.raises(semnet.DataError, match="missing values"):
        semnet.moments.from_frame(frame.iloc[:2], group="g")
    with pytest.raises(semnet.DataError, match="not numeric"):
        semnet.moments.from_frame(frame, columns=["a", "g"])
    with pytest.raises(semnet.DataError, match="'c'"):
        semnet.moments.from_frame(frame, columns=["a", "c"])
    with pytest.raises(semnet.DataError, match="group column 'h'"):
        semnet.moments.from_frame(frame, group="h")
    with pytest.raises(semnet.OptionError, match="columns="):
        semnet.moments.from_frame(frame, columns="a")


# ------------------------------------------------------------------------- Dask and Parquet
@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    """300,000 rows in three countries, written as a Parquet data set of 6 files."""
    pytest.importorskip("pyarrow")
    data = semnet.simulate(POPULATION, {"US": 120_000, "CN": 100_000, "RU": 80_000},
                           seed=8, group_column="country")
    rng = np.random.default_rng(1)
    data = data.iloc[rng.permutation(len(data))].reset_index(drop=True)
    for col in ("y2", "y7"):
        data.loc[rng.choice(len(data), 500, replace=False), col] = np.nan
    path = tmp_path_factory.mktemp("panel")
    for k, chunk in enumerate(np.array_split(np.arange(len(data)), 6)):
        data.iloc[chunk].to_parquet(path / f"part-{k}.parquet", index=False)
    return data, path


def test_from_dask_parquet_equals_pandas_and_in_memory_fit(panel):
    dd = pytest.importorskip("dask.dataframe")
    data, path = panel
    ddf = dd.read_parquet(str(path))
    assert ddf.npartitions >= 2
    mom = semnet.moments.from_dask(ddf, group="country", columns=Y, fourth=True,
                                   split_every=2)
    assert list(mom.groups) == [str(g) for g in pd.unique(data["country"])]
    expected = pandas_moments(data, "country", Y)
    for label, (n, mean, cov) in expected.items():
        assert mom.nobs[label] == n
        np.testing.assert_allclose(mom.mean[label], mean, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(mom.cov[label], cov, rtol=1e-11)
    assert sum(mom.n_dropped.values()) == int(data[Y].isna().any(axis=1).sum())
    in_memory = semnet.moments.from_frame(data, group="country", columns=Y, fourth=True)
    for label in mom.groups:
        np.testing.assert_allclose(mom.gamma(label), in_memory.gamma(label), rtol=1e-9,
                                   atol=1e-12)

    # ML from the rows in memory; MLR against in-memory moments (whose MLR equals MLR
    # from the rows: test_fit_from_moments_equals_fit_from_rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rows = semnet.sem(MODEL, data, group="country")
        moments = semnet.sem(MODEL, mom)
        robust = semnet.sem(MODEL, mom, estimator="MLR")
        robust_memory = semnet.sem(MODEL, in_memory, estimator="MLR")
    np.testing.assert_allclose(moments.estimates()["est"], rows.estimates()["est"],
                               rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(moments.estimates()["se"], rows.estimates()["se"],
                               rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(robust.estimates()["se"], robust_memory.estimates()["se"],
                               rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(robust.fit_measures()["chisq_scaled"],
                               robust_memory.fit_measures()["chisq_scaled"], rtol=1e-8)


def test_from_dask_refuses_a_pandas_frame(hs_missing):
    pytest.importorskip("dask")
    with pytest.raises(semnet.DataError, match="from_frame"):
        semnet.moments.from_dask(hs_missing)
