"""Modification indices against lavaan's modindices() on every plain ML fixture."""

from __future__ import annotations

import numpy as np
import pytest
from reference import fixture_names, is_plain_ml, keyed, load, refit, table
from tolerances import EST_RTOL, SE_RTOL

from semnet.errors import OptionError

NAMES = [n for n in fixture_names() if is_plain_ml(load(n)) or n == "hs_fiml"]


def _touches_fixed_x(frame, ov_x):
    """lavaan rows semnet deliberately does not offer (see semnet.results.modindices)."""
    lhs = frame.index.get_level_values("lhs")
    op = frame.index.get_level_values("op")
    rhs = frame.index.get_level_values("rhs")
    return ((op == "~") & lhs.isin(ov_x)) | (
        op.isin(["~~", "~1"]) & lhs.isin(ov_x) & (rhs.isin(ov_x) | (rhs == ""))
    )


@pytest.mark.parametrize("name", NAMES)
def test_modindices_match_lavaan(name):
    ref = load(name)
    fit = refit(name)
    mine = keyed(fit.modindices(sort=False), ref["group_labels"])
    theirs = keyed(table(ref, "modindices"), ref["group_labels"])
    theirs = theirs[theirs["mi"].notna() & ~_touches_fixed_x(theirs, fit.partable.names.ov_x)]
    assert sorted(mine.index) == sorted(theirs.index)
    j = mine.join(theirs, suffixes=("", "_ref"))
    # MIs near zero are differences of nearly equal numbers: an absolute floor of 1e-4
    assert np.allclose(j["mi"], j["mi_ref"], rtol=SE_RTOL, atol=1e-4)
    # (a model with no modification index to offer, e.g. a saturated one, has no rows)
    epc_scale = j["epc_ref"].abs().max() if len(j) else 0.0
    assert np.allclose(j["epc"], j["epc_ref"], rtol=SE_RTOL, atol=1e-4 * epc_scale)
    assert np.allclose(j["sepc_all"], j["sepc.all"], rtol=SE_RTOL, atol=1e-4)
    assert np.allclose(j["sepc_lv"], j["sepc.lv"], rtol=SE_RTOL, atol=1e-4)


def test_modindices_sorted_largest_first():
    fit = refit("hs_modindices")
    mi = fit.modindices()
    assert list(mi.columns) == ["lhs", "op", "rhs", "group", "mi", "epc", "sepc_lv", "sepc_all"]
    assert (np.diff(mi["mi"].to_numpy()) <= 0).all()
    top = mi.iloc[0]
    # lavaan's famous largest index for the HS model: visual =~ x9
    assert (top["lhs"], top["op"], top["rhs"]) == ("visual", "=~", "x9")
    assert top["mi"] == pytest.approx(36.411, rel=EST_RTOL * 10)
    assert len(fit.modindices(minimum=10)) == (mi["mi"] > 10).sum()


@pytest.mark.parametrize("minimum", ["10", float("nan"), True, None])
def test_modindices_minimum_must_be_a_number(minimum):
    # '10' was a TypeError from the comparison; NaN kept every row
    with pytest.raises(OptionError, match="minimum must be a number"):
        refit("hs_cfa").modindices(minimum=minimum)
