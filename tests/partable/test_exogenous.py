"""Exogenous covariates in the parameter table: ``fixed_x=False`` and the baseline model."""

from __future__ import annotations

import pandas as pd
from reference import load, table

from semnet.partable.build import independence_partable, partable

MODEL = "f =~ a1 + a2 + a3\ny ~ f + x1 + x2 + x3"


def _rows(pt, op="~~"):
    t = pt.table
    return t[t["op"] == op][["lhs", "rhs", "free", "exo"]].to_numpy().tolist()


def test_random_covariates_are_a_free_block_as_lavaan():
    """fixed_x=False frees the covariates' variances, covariances and means, in the rows
    (and the order) of the fixed.x block."""
    ref = load("fixed_x/hs_exo_mlr_random_x")
    theirs = table(ref, "partable")
    pt = partable(ref["call"]["model"], fixed_x=False)
    mine = pt.table
    cols = ["lhs", "op", "rhs", "free", "exo"]
    theirs = theirs[theirs["op"].isin(["=~", "~", "~~", "~1"])][cols].reset_index(drop=True)
    theirs["rhs"] = theirs["rhs"].fillna("")
    pd.testing.assert_frame_equal(mine[cols].reset_index(drop=True), theirs, check_dtype=False)
    assert pt.ndat(False) - pt.nfree == ref["fit_measures"]["df"]


def test_random_covariates_with_a_mean_structure():
    fixed = partable(MODEL, meanstructure=True)
    random = partable(MODEL, meanstructure=True, fixed_x=False)
    block = [[a, b] for a, b, *_ in _rows(fixed) if a.startswith("x")]
    assert block == [[a, b] for a, b, *_ in _rows(random) if a.startswith("x")]
    assert len(block) == 6
    assert all(free == 0 and exo == 1 for a, _, free, exo in _rows(fixed) if a.startswith("x"))
    assert all(free > 0 and exo == 0 for a, _, free, exo in _rows(random) if a.startswith("x"))
    means = [(a, free, exo) for a, _, free, exo in _rows(random, "~1") if a.startswith("x")]
    assert [m[0] for m in means] == ["x1", "x2", "x3"] and all(m[1] > 0 for m in means)
    assert random.nfree - fixed.nfree == 6 + 3


def test_independence_model_keeps_the_fixed_covariate_block():
    pt = partable(MODEL, groups=["a", "b"])
    base = independence_partable(pt)
    for g in (1, 2):
        t = base.table[base.table["group"] == g]
        free = t[t["free"] > 0]
        assert free["lhs"].tolist() == ["a1", "a2", "a3", "y"] * 2
        assert free["op"].tolist() == ["~~"] * 4 + ["~1"] * 4
        fixed = t[t["exo"] == 1]
        assert list(zip(fixed["lhs"], fixed["rhs"], strict=True)) == [
            ("x1", "x1"), ("x1", "x2"), ("x1", "x3"), ("x2", "x2"), ("x2", "x3"), ("x3", "x3"),
            ("x1", ""), ("x2", ""), ("x3", ""),
        ]
        assert (fixed["free"] == 0).all()
    # lavaan's baseline df: the outcomes' covariances among themselves and with the
    # covariates, per group
    assert base.ndat(True) - base.nfree == 2 * (4 * 3 // 2 + 4 * 3)


def test_independence_model_of_random_covariates_has_only_variances():
    pt = partable(MODEL, fixed_x=False)
    base = independence_partable(pt)
    t = base.table
    assert (t["lhs"] == t["rhs"]).all() and (t["free"] > 0).all()
    assert t["lhs"].tolist() == list(pt.names.ov)


def test_random_covariates_means_follow_int_ov_free():
    """A random covariate's mean is an observed intercept: free by default, fixed at 0
    with int_ov_free=False (lavaan's growth() with fixed.x = FALSE: its w1 ~ 1 is 0,
    tests/reference/fuzz2 n147); a fixed.x covariate's stays at its sample value."""
    def mean_row(**options):
        t = partable(MODEL, meanstructure=True, **options).table
        return t[(t["lhs"] == "x1") & (t["op"] == "~1")][["free", "exo", "ustart"]]

    assert mean_row(fixed_x=False)["free"].item() > 0
    fixed = mean_row(fixed_x=False, int_ov_free=False)
    assert fixed[["free", "exo", "ustart"]].to_numpy().tolist() == [[0, 0, 0.0]]
    assert mean_row(int_ov_free=False)[["free", "exo"]].to_numpy().tolist() == [[0, 1]]
