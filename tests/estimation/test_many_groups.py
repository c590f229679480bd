"""Many groups (issue #20): 30 countries of 30 rows against lavaan 0.6.14.

The configural model's 360 parameters make its information block diagonal, so the
optimizer's steps and the standard errors are computed block by block
(:mod:`semnet.estimation.blocks`); the scalar model ties every group's loadings and
intercepts (the sparse map of :class:`~semnet.estimation.constraints.LinearConstraints`).
Fixture: tests/reference/make_many_groups.R.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from reference import REFERENCE
from tolerances import ATOL, EST_SE_FRACTION, FIT_RTOL, SE_RTOL

import semnet

MODEL = "f =~ y1 + y2 + y3 + y4"


@pytest.mark.parametrize("level", ["configural", "scalar"])
def test_thirty_countries_match_lavaan(level):
    ref = json.loads((REFERENCE / "many_groups.json").read_text(encoding="utf-8"))[level]
    data = pd.read_csv(REFERENCE / "data" / "many_groups.csv")
    equal = ref["group_equal"] if isinstance(ref["group_equal"], list) else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = semnet.cfa(MODEL, data, group="country", group_equal=[e for e in equal if e])
    assert fit.converged and ref["converged"]
    assert fit.npar == ref["npar"]
    np.testing.assert_allclose(fit.chisq, ref["chisq"], rtol=FIT_RTOL)
    lav = pd.DataFrame(ref["estimates"])
    lav["group"] = [ref["group_labels"][g - 1] for g in lav["group"]]
    ours = fit.estimates().set_index(["lhs", "op", "rhs", "group"])
    lav = lav.set_index(["lhs", "op", "rhs", "group"]).loc[ours.index]
    # lavaan stops its 360-parameter configural fit a little early: estimates within a
    # thousandth of their standard errors (the chi-squares agree to FIT_RTOL)
    gap = np.abs(ours["est"].to_numpy() - lav["est"].to_numpy())
    assert np.all(gap <= EST_SE_FRACTION * lav["se"].fillna(0).to_numpy() + ATOL)
    np.testing.assert_allclose(ours["se"], lav["se"], rtol=SE_RTOL, atol=ATOL)
