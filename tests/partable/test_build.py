"""The default rows of :func:`semnet.partable.build.partable` (lavaan's ``lavaanify``
rules) on models the lavaan fixtures do not hold, a table of 2,000 factors, and a guard
that the build stays linear in the model's size."""

from __future__ import annotations

import math

import numpy as np
import pytest

import semnet
from semnet.partable.build import partable


def _row(pt, lhs, op, rhs):
    t = pt.table
    rows = t[(t["lhs"] == lhs) & (t["op"] == op) & (t["rhs"] == rhs)]
    assert len(rows) == 1, (lhs, op, rhs, len(rows))
    return rows.iloc[0]


def test_single_indicator_residual_variance_is_fixed_to_zero():
    pt = partable(
        "a =~ y1\nb =~ y2\nc =~ y2\nd =~ y3 + y4\ne =~ y5\ny5 ~~ 0.3*y5", auto_fix_first=True
    )
    # y1 indicates a only: its residual variance is 0
    assert (_row(pt, "y1", "~~", "y1")[["free", "ustart"]] == [0, 0.0]).all()
    # y2 indicates two factors: free
    assert _row(pt, "y2", "~~", "y2")["free"] > 0
    # a residual variance the user gives wins
    assert (_row(pt, "y5", "~~", "y5")[["free", "ustart"]] == [0, 0.3]).all()


@pytest.mark.parametrize("orthogonal", [False, True])
def test_orthogonal_fixes_latent_covariances_only(orthogonal):
    model = ("f =~ x1 + x2 + x3\ng =~ x4 + x5 + x6\nh =~ x7 + x8 + x9\n"
             "k =~ x10 + x11 + x12\ng ~ f\nh ~ f\ny ~ f")  # fmt: skip
    pt = partable(model, orthogonal=orthogonal)
    for lhs, rhs in [("f", "k"), ("g", "h")]:  # exogenous latent; latent outcomes
        row = _row(pt, lhs, "~~", rhs)
        assert (row["free"] == 0) == orthogonal
        assert row["ustart"] == 0.0 if orthogonal else math.isnan(row["ustart"])
    for lhs, rhs in [("g", "y"), ("h", "y")]:  # a latent and an observed outcome
        assert _row(pt, lhs, "~~", rhs)["free"] > 0


def test_user_covariance_replaces_the_default_either_way_round():
    factors = "\n".join(f"f{i} =~ y{3 * i} + y{3 * i + 1} + y{3 * i + 2}" for i in range(6))
    pt = partable(factors + "\nf3 ~~ f1\nf0 ~~ 0*f5", orthogonal=True)
    t = pt.table
    pair = t[(t["op"] == "~~") & t["lhs"].isin(["f1", "f3"]) & t["rhs"].isin(["f1", "f3"])
             & (t["lhs"] != t["rhs"])]  # fmt: skip
    # (written f3 ~~ f1, the row is lavaan's f1 ~~ f3)
    assert pair[["lhs", "rhs", "user"]].values.tolist() == [["f1", "f3", 1]]
    assert pair["free"].iloc[0] > 0
    assert (_row(pt, "f0", "~~", "f5")[["user", "free", "ustart"]] == [1, 0, 0.0]).all()
    # the other covariances are defaults, fixed to 0 by orthogonal
    assert (_row(pt, "f0", "~~", "f1")[["user", "free", "ustart"]] == [0, 0, 0.0]).all()
    assert len(t) == 6 * 3 * 2 + 6 + 6 * 5 // 2


@pytest.mark.parametrize(
    ("model", "rows"),
    [
        # lavaan 0.6.14's lavaanify(model, auto = TRUE): the user's covariances with lhs
        # and rhs in the order of the latent, then the observed variables
        ("f =~ x1 + x2 + x3 + x4\nx4 ~~ c*x1", [("x1", "x4", "c")]),
        ("f =~ x1 + x2 + x3 + x4\nx4 ~~ x2\nx3 ~~ x1", [("x2", "x4", ""), ("x1", "x3", "")]),
        ("f =~ x1 + x2 + x3\ng =~ x4 + x5 + x6\ng ~~ f\nx6 ~~ x1",
         [("f", "g", ""), ("x1", "x6", "")]),
        ("f =~ x1 + x2 + x3\ny ~ f\ny ~~ x1", [("x1", "y", "")]),
        # a cross-loading written first puts x9 before x4 (tests/reference/fuzz m092_hs)
        ("a =~ x1 + x2 + x3 + 0*x9\nb =~ x4 + x5 + x6\nc =~ x7 + x8 + x9\nx4 ~~ x9",
         [("x9", "x4", "")]),
    ],
)  # fmt: skip
def test_user_covariances_are_ordered_as_lavaan(model, rows):
    t = partable(model, auto_fix_first=True).table
    user = t[(t["op"] == "~~") & (t["lhs"] != t["rhs"]) & (t["user"] == 1)]
    assert [tuple(r) for r in user[["lhs", "rhs", "label"]].values.tolist()] == rows


def test_intercepts_of_fixed_x_covariates_and_fixed_intercepts():
    pt = partable("f =~ a1 + a2 + a3\ny ~ f + x1 + x2", meanstructure=True, int_ov_free=False)
    for x in ("x1", "x2"):
        row = _row(pt, x, "~1", "")
        assert row["exo"] == 1 and row["free"] == 0 and math.isnan(row["ustart"])
    for v in ("y", "a1", "f"):
        row = _row(pt, v, "~1", "")
        assert row["exo"] == 0 and row["free"] == 0 and row["ustart"] == 0.0
    assert (_row(pt, "x1", "~~", "x2")[["exo", "free"]] == [1, 0]).all()


def test_partable_of_2000_factors():
    # three indicators per factor; every pair of the exogenous factors covaries
    nf = 2000
    pt = partable("\n".join(f"f{i} =~ y{3 * i} + y{3 * i + 1} + y{3 * i + 2}" for i in range(nf)))
    ncov = nf * (nf - 1) // 2
    cols = pt.columns
    assert len(cols["lhs"]) == 3 * nf + 3 * nf + nf + ncov
    # free: two loadings per factor, the residual and latent variances, the covariances
    assert pt.nfree == 2 * nf + 3 * nf + nf + ncov
    assert np.array_equal(cols["id"], np.arange(1, len(cols["lhs"]) + 1))
    cov = slice(7 * nf, None)
    assert (cols["op"][cov] == "~~").all()
    assert (cols["lhs"][7 * nf], cols["rhs"][7 * nf]) == ("f0", "f1")
    assert (cols["lhs"][-1], cols["rhs"][-1]) == (f"f{nf - 2}", f"f{nf - 1}")
    assert cols["plabel"][-1] == f".p{len(cols['lhs'])}."


_COUNTS = [0]


class _CountedName(str):
    """A variable name that counts the comparisons and hashes made with it."""

    def __eq__(self, other: object) -> bool:
        _COUNTS[0] += 1
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        _COUNTS[0] += 1
        return str.__ne__(self, other)

    def __hash__(self) -> int:
        _COUNTS[0] += 1
        return str.__hash__(self)


def _name_operations(nf: int, **options) -> tuple[int, int]:
    """Comparisons and hashes of variable names while building the table of ``nf``
    factors of five indicators (the parsed names counted), and the table's rows."""
    import dataclasses

    from semnet.syntax import parse_model

    text = "".join(f"f{i} =~ " + " + ".join(f"y{5 * i + j}" for j in range(5)) + "\n"
                   for i in range(nf))
    parsed = parse_model(text)
    relations = tuple(dataclasses.replace(r, lhs=_CountedName(r.lhs), rhs=_CountedName(r.rhs))
                      for r in parsed.relations)
    parsed = dataclasses.replace(parsed, relations=relations)
    _COUNTS[0] = 0
    pt = partable(parsed, **options)
    return _COUNTS[0], len(pt.columns["lhs"])


def test_partable_work_on_names_grows_linearly_with_the_model():
    """A guard without timing: the work partable does on variable names (comparisons and
    hashes, each counted) grows in proportion to the user's relations in one group, and
    to the table's rows with cross-group equalities.  A scan of a list of names per
    factor or per row (``list.count``, ``in``, ``index``: one comparison per element)
    makes it grow with their square: the code before partable was made linear (commit
    89768d6) did 8.1 times the work for 4 times the factors (7,020 -> 56,880
    operations), this code 4 times (4,840 -> 19,360)."""
    small, _ = _name_operations(40)
    large, _ = _name_operations(160)
    assert large <= 1.1 * 4 * small
    small, rows_small = _name_operations(20, groups=3, group_equal=("loadings", "intercepts"))
    large, rows_large = _name_operations(80, groups=3, group_equal=("loadings", "intercepts"))
    assert large <= 1.1 * small * rows_large / rows_small


def test_threshold_lines_need_their_items_ordinal():
    # a threshold line names an ordinal item's threshold: without ordered= counts there is
    # none (a fit with data makes the item ordinal itself)
    with pytest.raises(semnet.ModelSpecificationError) as error:
        semnet.partable("f =~ u1 + u2 + u3\nu1 | t1 + t2")
    assert "line 2: 'u1 | t1' gives a threshold to 'u1', which is not an ordinal item" in str(
        error.value
    )


def test_threshold_lines_are_the_items_thresholds_in_the_order_written():
    pt = partable("f =~ u1 + u2 + u3\nu1 | a*t2 + 0.5*t1", ordered={"u1": 2, "u2": 1})
    rows = pt.params[pt.params["op"] == "|"]
    assert rows[["lhs", "rhs", "label"]].to_numpy().tolist() == [
        ["u1", "t2", "a"], ["u1", "t1", ""], ["u2", "t1", ""]
    ]
    assert rows["free"].to_numpy().tolist()[1] == 0
    assert rows["ustart"].to_numpy().tolist()[1] == 0.5
