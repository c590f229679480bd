"""semnet.invariance() with ordinal items (Wu & Estabrook 2016) against semTools 0.5-6's
measEq.syntax(ID.fac = "std.lv", ID.cat = "Wu.Estabrook.2016") fitted by lavaan 0.6.14
(WLSMV): every level's parameter table, fit measures and lavTestLRT against the level
before, also with a threshold, an intercept and a loading exempt (group_partial)
(tests/reference/invariance/make_ordinal_invariance.R writes the fixtures)."""

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tolerances import EST_RTOL, FIT_RTOL, ORDINAL_ATOL

import semnet
from semnet.analyses.invariance import CHEN_2007
from semnet.errors import OptionError

HERE = Path(__file__).parent.parent / "reference" / "invariance"
REF = json.loads((HERE / "ordinal_ladder.json").read_text())
CASES = ("four_delta", "four_theta", "four_theta_partial", "three_delta")
#: fit measures compared level by level (semnet's names; lavaan's have dots)
MEASURES = ("chisq", "pvalue", "chisq_scaled", "df_scaled", "pvalue_scaled",
            "chisq_scaling_factor", "cfi", "tli", "rmsea", "cfi_scaled", "tli_scaled",
            "rmsea_scaled", "srmr")


def _data(case: str) -> pd.DataFrame:
    return pd.read_csv(HERE / REF[case]["data"])


@pytest.fixture(scope="module")
def ladders():
    out = {}
    for case in CASES:
        r = REF[case]
        out[case] = semnet.invariance(REF["model"], _data(case), group=REF["group"],
                                      ordered=REF["ordered"],
                                      parameterization=r["parameterization"],
                                      group_partial=r.get("group_partial", ()))
    return out


@pytest.mark.parametrize("case", CASES)
def test_levels_and_constraints_are_semtools(ladders, case):
    res = ladders[case]
    levels = REF[case]["levels"]
    assert res.levels == list(levels)
    for name, lev in levels.items():
        ge = lev["group_equal"]
        ge = () if ge == "" else (ge,) if isinstance(ge, str) else tuple(ge)
        assert set(res.ladder[name]) == set(ge)


@pytest.mark.parametrize("case", CASES)
def test_parameter_tables_match_semtools(ladders, case):
    """Same free and fixed rows, fixed values and estimates, level by level."""
    for name, lev in REF[case]["levels"].items():
        ref = pd.DataFrame(lev["partable"])
        ref["group"] = ref["group"].astype(int)
        est = ladders[case].fits[name].estimates()
        pt = ladders[case].fits[name].partable.params
        ours = pd.DataFrame({"lhs": pt["lhs"], "op": pt["op"], "rhs": pt["rhs"],
                             "group": pt["group"].astype(int), "free": pt["free"],
                             "est": est["est"].to_numpy()[: len(pt)]})
        merged = ref.merge(ours, on=["lhs", "op", "rhs", "group"], how="outer",
                           suffixes=("_lav", "_sn"), indicator=True)
        assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
        np.testing.assert_array_equal(merged["free_lav"] > 0, merged["free_sn"] > 0,
                                      err_msg=f"{case} {name}: free rows differ")
        np.testing.assert_allclose(merged["est_sn"], merged["est_lav"], rtol=EST_RTOL,
                                   atol=ORDINAL_ATOL, err_msg=f"{case} {name}")


@pytest.mark.parametrize("case", CASES)
def test_fit_measures_match_lavaan(ladders, case):
    table = ladders[case].table()
    for name, lev in REF[case]["levels"].items():
        fm = lev["fit_measures"]
        row = table.loc[name]
        assert row["npar"] == fm["npar"] and row["df"] == fm["df"], name
        for key in MEASURES:
            np.testing.assert_allclose(row[key], fm[key.replace("_", ".")], rtol=FIT_RTOL,
                                       atol=1e-8, err_msg=f"{case} {name} {key}")


@pytest.mark.parametrize("case", CASES)
def test_difference_tests_are_lavtestlrt(ladders, case):
    """Satorra's (2000) scaled-shifted difference test, lavTestLRT's default for WLSMV."""
    table = ladders[case].table()
    for name, lev in REF[case]["levels"].items():
        if "lrt" not in lev:
            continue
        lrt = lev["lrt"]
        row = table.loc[name]
        assert row["df_diff"] == lrt["df_diff"]
        np.testing.assert_allclose(row["chisq_diff"], lrt["chisq_diff"], rtol=FIT_RTOL)
        np.testing.assert_allclose(row["pvalue_diff"], lrt["pvalue"], rtol=FIT_RTOL)


def test_decisions_judge_the_scaled_indices(ladders):
    """Chen (2007) on the changes of cfi.scaled and rmsea.scaled (lavaan's numbers)."""
    res = ladders["four_theta"]
    table = res.table()
    levels = REF["four_theta"]["levels"]
    names = list(levels)
    for prev, name in itertools.pairwise(names):
        f0, f1 = levels[prev]["fit_measures"], levels[name]["fit_measures"]
        deltas = {"delta_cfi": f1["cfi.scaled"] - f0["cfi.scaled"],
                  "delta_rmsea": f1["rmsea.scaled"] - f0["rmsea.scaled"],
                  "delta_srmr": f1["srmr"] - f0["srmr"]}
        holds, _ = CHEN_2007.decide(deltas, res.ladder[name][-1:])
        assert table.loc[name, "decision"] == ("holds" if holds else "fails"), name
        assert "(scaled)" in table.loc[name, "reason"]
    assert table["decision"].tolist() == [None, "holds", "holds", "fails", "holds"]
    assert res.highest_level == "metric"


def test_three_categories_threshold_step_is_not_testable(ladders):
    """With 3 categories, equal thresholds free each item's intercept and scale factor in
    the other group: as many parameters as the configural model, an equivalent model
    (Wu & Estabrook 2016), so no difference test is printed."""
    res = ladders["three_delta"]
    row = res.table().loc["thresholds"]
    lev = REF["three_delta"]["levels"]
    assert lev["thresholds"]["fit_measures"]["df"] == lev["configural"]["fit_measures"]["df"]
    assert row["decision"] == "not testable" and row["df_diff"] == 0
    assert np.isnan(row["chisq_diff"]) and np.isnan(row["pvalue_diff"])
    assert np.isnan(row["delta_cfi_scaled"])
    assert "equivalent" in row["reason"] and "Wu & Estabrook" in row["reason"]
    np.testing.assert_allclose(row["chisq"], res.table().loc["configural", "chisq"],
                               rtol=FIT_RTOL)
    # the ladder goes on past the untestable step
    assert res.table().loc["metric", "decision"] == "holds"
    assert res.highest_level == "metric"
    assert "not testable" in repr(res)


def test_default_levels_follow_the_parameterization(ladders):
    assert ladders["four_delta"].levels == ["configural", "thresholds", "metric", "scalar"]
    assert ladders["four_theta"].levels[-1] == "strict"


@pytest.mark.parametrize("kwargs, match", [
    ({"std_lv": False}, "std_lv=True"),
    ({"ordinal_identification": "lavaan"}, "leave out ordinal_identification"),
    ({"levels": ("configural", "thresholds", "metric", "scalar", "strict")},
     "parameterization='theta'"),
])
def test_bad_options_are_refused(kwargs, match):
    with pytest.raises(OptionError, match=match):
        semnet.invariance(REF["model"], _data("four_delta"), group="school",
                          ordered=REF["ordered"], **kwargs)


def test_binary_items_stop_before_intercepts():
    data = _data("four_delta")
    items = REF["ordered"]
    data[items] = (data[items] > 2).astype(int)
    with pytest.raises(OptionError, match="binary item"):
        semnet.invariance(REF["model"], data, group="school", ordered=items)


def test_thresholds_level_needs_ordinal_items():
    hs = semnet.datasets.holzinger_swineford()
    with pytest.raises(OptionError, match="needs ordinal items"):
        semnet.invariance(REF["model"], hs, group="school",
                          levels=("configural", "thresholds", "metric"))


def test_partial_search_passes_over_untestable_steps(ladders):
    """Equal thresholds of 3-category items are an equivalent model: nothing to search,
    and the step counts as passed (as in highest_level)."""
    res = ladders["three_delta"]
    p = res.partial("metric", rule="chisq")
    steps = p.audit[p.audit["level"] == "thresholds"]
    assert steps["decision"].tolist() == ["not testable"]
    assert p.levels_held["thresholds"] and p.holds == (
        res.table().loc["metric", "decision"] == "holds")


def test_journal_table_shows_the_scaled_indices_and_untestable_steps(ladders):
    from semnet.report.journal import invariance_table

    res = ladders["three_delta"]
    frame = invariance_table(res).frame.set_index("model")
    table = res.table()
    assert frame.loc["Thresholds", "decision"] == "not testable"
    np.testing.assert_allclose(frame.loc["Metric", "cfi"], table.loc["metric", "cfi_scaled"])
    np.testing.assert_allclose(frame.loc["Metric", "chisq"],
                               table.loc["metric", "chisq_scaled"])
