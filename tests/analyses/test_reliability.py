"""Reliability and validity against semTools (compRelSEM, AVE, htmt)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from reference import REFERENCE, refit
from tolerances import EST_RTOL

import semnet
from semnet.analyses.reliability import fornell_larcker, htmt, reliability

REF = json.loads((REFERENCE / "semtools" / "reliability.json").read_text(encoding="utf-8"))
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@pytest.mark.parametrize("name", ["hs_cfa", "hs_fiml"])
def test_single_group_matches_semtools(name):
    out = reliability(refit(name)).set_index("factor")
    ref = REF[name]
    for col in ("omega", "alpha", "ave"):
        theirs = pd.Series(ref[col])
        assert np.allclose(out.loc[theirs.index, col], theirs, rtol=EST_RTOL), col


def test_multigroup_matches_semtools():
    out = reliability(refit("hs_mg_configural"))
    ref = REF["hs_mg_configural"]
    for col in ("omega", "alpha", "ave"):
        table = pd.DataFrame(ref[col]).set_index("group")
        for f in ("visual", "textual", "speed"):
            mine = out[out["factor"] == f].set_index("group")[col]
            assert np.allclose(mine[table.index], table[f], rtol=EST_RTOL), (col, f)


@pytest.mark.parametrize(("key", "h2"), [("htmt2", True), ("htmt1", False)])
def test_htmt_matches_semtools(key, h2):
    out = htmt(HS_MODEL, semnet.datasets.holzinger_swineford(), htmt2=h2)
    assert list(out.index) == ["visual", "textual", "speed"]
    assert np.allclose(out.to_numpy(), np.array(REF[key]), rtol=EST_RTOL)


def test_fornell_larcker_has_sqrt_ave_on_the_diagonal():
    fit = refit("hs_cfa")
    table = fornell_larcker(fit)[""]
    ave = pd.Series(REF["hs_cfa"]["ave"])
    assert np.allclose(np.diag(table), np.sqrt(ave[table.index]), rtol=EST_RTOL)
    off = table.to_numpy()[~np.eye(3, dtype=bool)]
    assert ((off > 0) & (off < 1)).all()


def test_htmt_needs_a_measurement_model():
    with pytest.raises(semnet.SemnetError, match="=~"):
        htmt("x9 ~ x7", semnet.datasets.holzinger_swineford())


@pytest.mark.parametrize("ordered", [None, True])
def test_htmt_group_that_is_not_a_column_is_named(ordered):
    # with ordered= it was a KeyError from pandas
    with pytest.raises(semnet.DataError, match="group column 'nope' is not a column"):
        semnet.htmt(HS_MODEL, semnet.datasets.holzinger_swineford(), group="nope",
                    ordered=ordered)


def test_reliability_from_data_group_that_is_not_a_column_is_named():
    # was a KeyError from pandas
    with pytest.raises(semnet.DataError, match="group column 'nope' is not a column"):
        semnet.reliability(HS_MODEL, semnet.datasets.holzinger_swineford(), group="nope")


def test_htmt_group_with_missing_labels_is_refused():
    # the missing label became a group of its own, all-NaN ratios and numpy warnings
    data = semnet.datasets.holzinger_swineford()
    data.loc[0, "school"] = np.nan
    with pytest.raises(semnet.DataError, match="'school' has 1 missing values"):
        semnet.htmt(HS_MODEL, data, group="school")


def test_htmt_constant_item_is_refused():
    # its NaN correlations were left out of the averages without a word
    data = semnet.datasets.holzinger_swineford().assign(x1=1.0)
    with pytest.raises(semnet.DataError, match="item 'x1' is constant"):
        semnet.htmt(HS_MODEL, data)
