"""WLSMV with pairwise deletion, with ordinal and continuous observed variables together,
and WLSMVS, against lavaan 0.6.14 (tests/reference/ordinal/make_wlsmv_more.R)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lavaan_checks import assert_fit_measures
from ordinal_reference import assert_table_estimates_and_se
from tolerances import EST_RTOL, FIT_RTOL, ORDINAL_ATOL, SE_RTOL

import semnet
from semnet.errors import OptionError

HERE = Path(__file__).parent.parent / "reference" / "ordinal"
REF = json.loads((HERE / "wlsmv_more.json").read_text())


def _fit(case: str):
    r = REF[case]
    data = pd.read_csv(HERE / r["data"])
    kwargs = {}
    for key in ("group", "group_equal"):
        if r.get(key):
            kwargs[key] = r[key]
    fit = semnet.sem(r["model"], data, ordered=r["ordered"], estimator=r["estimator"],
                     missing=r["missing"], parameterization=r["parameterization"],
                     fixed_x=r["fixed_x"], **kwargs)
    return r, fit


@pytest.mark.parametrize("case", sorted(REF))
def test_estimates_and_se(case):
    r, fit = _fit(case)
    assert_table_estimates_and_se(fit, r)


@pytest.mark.parametrize("case", sorted(REF))
def test_cases_and_sample_statistics(case):
    r, fit = _fit(case)
    assert list(fit.nobs.values()) == r["nobs"]
    groups = r["wls_obs"].values() if isinstance(r["wls_obs"], dict) else r["wls_obs"]
    for g, wls in enumerate(groups):
        ours = fit.sample.ordinal[g].statistics
        assert len(ours) == len(wls)
        np.testing.assert_allclose(ours.to_numpy(), list(wls.values()), rtol=EST_RTOL,
                                   atol=ORDINAL_ATOL)


@pytest.mark.parametrize("case", sorted(REF))
def test_fit_measures(case):
    r, fit = _fit(case)
    assert_fit_measures(fit, r["fit_measures"], ORDINAL_ATOL)


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["rhs"] = out["rhs"].fillna("")
    out["key"] = out["lhs"] + out["op"] + out["rhs"] + "|" + out["group"].astype(str)
    return out.set_index("key")


@pytest.mark.parametrize("case", sorted(REF))
def test_standardized_solution(case):
    r, fit = _fit(case)
    ref = _keyed(pd.DataFrame(r["standardized"]))
    ours = fit.standardized()
    ours["group"] = [1 if g is None else fit.groups.index(g) + 1 for g in ours["group"]]
    ours = _keyed(ours).loc[ref.index]
    np.testing.assert_allclose(ours["est_std"], ref["est.std"], rtol=EST_RTOL, atol=ORDINAL_ATOL)
    np.testing.assert_allclose(ours["se"], ref["se"], rtol=SE_RTOL, atol=ORDINAL_ATOL)


def test_pairwise_needs_ordinal_items():
    data = semnet.datasets.holzinger_swineford()
    with pytest.raises(OptionError, match="pairwise"):
        semnet.cfa("f =~ x1 + x2 + x3", data, missing="pairwise")


def test_fixed_covariates_with_ordinal_items_is_a_clear_error():
    r = REF["mixed_covariate"]
    data = pd.read_csv(HERE / r["data"])
    with pytest.raises(OptionError, match="fixed_x=False"):
        semnet.sem(r["model"], data, ordered=r["ordered"])


def test_pairwise_warns_only_of_rows_missing_on_every_item():
    r = REF["pairwise_four"]
    data = pd.read_csv(HERE / r["data"])
    data.loc[:4, r["ordered"]] = np.nan
    with pytest.warns(semnet.SemnetWarning, match="missing on every model variable"):
        fit = semnet.cfa(r["model"], data, ordered=r["ordered"], missing="pairwise")
    assert fit.nobs == {"": len(data) - 5}


def test_compare_wlsmvs_fits_uses_satorra_2000_as_lavtestlrt():
    r = json.loads((HERE / "wlsmvs_lrt.json").read_text())
    data = pd.read_csv(HERE / r["data"])
    less = semnet.cfa(r["model"], data, ordered=r["ordered"], group=r["group"],
                      estimator=r["estimator"])
    more = semnet.cfa(r["model"], data, ordered=r["ordered"], group=r["group"],
                      estimator=r["estimator"], group_equal=r["group_equal"])
    table = semnet.compare(less, more)
    assert table.attrs["method"] == "satorra_2000"
    assert table["df_diff"].iloc[1] == r["df_diff"]
    np.testing.assert_allclose(table["chisq_diff"].iloc[1], r["chisq_diff"], rtol=FIT_RTOL)
    np.testing.assert_allclose(table["pvalue"].iloc[1], r["pvalue"], rtol=FIT_RTOL)


@pytest.mark.parametrize("case", sorted(REF))
def test_modification_indices(case):
    r, fit = _fit(case)
    ref = _keyed(pd.DataFrame(r["modindices"]))
    ours = fit.modindices()
    ours["group"] = [1 if g is None else fit.groups.index(g) + 1 for g in ours["group"]]
    ours = _keyed(ours).loc[ref.index]
    np.testing.assert_allclose(ours["mi"], ref["mi"], rtol=SE_RTOL)
    np.testing.assert_allclose(ours["epc"], ref["epc"], rtol=SE_RTOL, atol=ORDINAL_ATOL)
