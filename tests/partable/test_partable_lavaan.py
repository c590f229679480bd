"""semnet.partable() against lavaan's parTable() for every reference fixture.

Each fixture in tests/reference/*.json holds lavaan's ``parTable(fit)``.  We rebuild the
table from the model syntax and the fixture's options and compare row by row.

Known, intended difference: lavaan expresses every equality that comes from a shared
label or from ``group.equal`` twice, as the shared label *and* as an extra ``==`` row
between plabels (``user = 2``).  semnet keeps only the shared label.  Those ``user = 2``
rows are therefore left out of the row comparison and used to check the equality
structure instead.
"""

from __future__ import annotations

import re
from functools import cache

import numpy as np
import pandas as pd
import pytest
from reference import fixture_names, load, table

import semnet

#: syntax semnet rejects on purpose (a fixture using it is skipped with the reason)
REJECTED = {
    r"^\s*\S+\s*\|": "threshold lines ('|') need the data's categories",
    r"=~[^\n]*\b\w+:\w+|~[^\n]*\b\w+:\w+": "latent interactions ('f1:f2') are not supported",
    r"<~": "composites ('<~') are not supported",
}

NAMES = fixture_names()

#: (test name without "test_", fixture) pairs that fail because of a known semnet bug;
#: each becomes a strict xfail with the reason
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _params(test: str) -> list:
    out = []
    for name in NAMES:
        reason = KNOWN_BUGS.get((test, name))
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        out.append(pytest.param(name, marks=marks, id=name))
    return out


def _rejected(model: str) -> str | None:
    for pattern, reason in REJECTED.items():
        if re.search(pattern, model, flags=re.MULTILINE):
            return reason
    return None


def _build(name: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """lavaan's full table and semnet's, for one fixture (copies, safe to modify)."""
    reason = _rejected(load(name)["call"]["model"])
    if reason:
        pytest.skip(f"{name}: {reason}")
    theirs, ours, ref = _build_cached(name)
    return theirs.copy(), ours.copy(), ref


@cache
def _build_cached(name: str) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    ref = load(name)
    model = ref["call"]["model"]
    opts = ref["call"]["options"]
    theirs = table(ref, "partable")
    theirs["rhs"] = theirs["rhs"].fillna("").astype(str)
    theirs["label"] = theirs["label"].fillna("").astype(str)
    theirs["plabel"] = theirs["plabel"].fillna("").astype(str)
    labels = ref["group_labels"]
    meanstructure = bool((theirs["op"] == "~1").any())
    ours = semnet.partable(
        model,
        groups=labels if len(labels) > 1 else 1,
        meanstructure=meanstructure,
        std_lv=opts.get("std.lv", False),
        orthogonal=opts.get("orthogonal", False),
        fixed_x=opts.get("fixed.x", True),
        group_equal=opts.get("group.equal", []),
        group_partial=opts.get("group.partial", []),
    )
    ours["rhs"] = ours["rhs"].fillna("").astype(str)
    return theirs, ours, ref


def _keys(t: pd.DataFrame) -> list[tuple[str, str, str, int]]:
    return [
        (lhs, op, rhs, int(g))
        for lhs, op, rhs, g in zip(t["lhs"], t["op"], t["rhs"], t["group"], strict=True)
    ]


def _lavaan_rows(theirs: pd.DataFrame) -> pd.DataFrame:
    return theirs[theirs["user"] != 2].reset_index(drop=True)


def _aligned(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables with rows in lavaan's order (requires the same row set)."""
    theirs, ours, _ = _build(name)
    theirs = _lavaan_rows(theirs)
    index = {k: i for i, k in enumerate(_keys(ours))}
    assert len(index) == len(ours), "semnet's table has duplicated (lhs, op, rhs, group) rows"
    order = [index[k] for k in _keys(theirs)]
    return theirs, ours.iloc[order].reset_index(drop=True)


def _classes(t: pd.DataFrame, eq_rows: pd.DataFrame | None = None) -> set[frozenset[int]]:
    """Equality classes (of positions in ``t``) implied by shared labels and ``==`` rows.

    Only classes with at least two members are returned.
    """
    params = t[t["group"] > 0]
    parent = list(range(len(t)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    for _, rows in params[params["label"] != ""].groupby("label"):
        pos = list(rows.index)
        for p in pos[1:]:
            union(pos[0], p)
    if eq_rows is not None:
        by_plabel = {pl: i for i, pl in zip(params.index, params["plabel"], strict=True)}
        for lhs, rhs in zip(eq_rows["lhs"], eq_rows["rhs"], strict=True):
            union(by_plabel[lhs], by_plabel[rhs])
    groups: dict[int, set[int]] = {}
    for i in params.index:
        groups.setdefault(find(i), set()).add(i)
    return {frozenset(g) for g in groups.values() if len(g) > 1}


@pytest.mark.parametrize("name", _params("same_rows"))
def test_same_rows(name):
    theirs, ours, _ = _build(name)
    mine = _keys(ours)
    assert len(set(mine)) == len(mine)
    assert set(_keys(_lavaan_rows(theirs))) == set(mine)


@pytest.mark.parametrize("name", _params("same_order"))
def test_same_order(name):
    """Row order as lavaan's, per group, for user rows and for the whole table."""
    theirs, ours, _ = _build(name)
    theirs = _lavaan_rows(theirs)
    for g in sorted(set(theirs["group"])):
        t_g, o_g = theirs[theirs["group"] == g], ours[ours["group"] == g]
        t_user = _keys(t_g[t_g["user"] == 1])
        o_user = _keys(o_g[o_g["user"] == 1])
        assert o_user == t_user, f"user rows of group {g} in a different order"
        assert _keys(o_g) == _keys(t_g), f"rows of group {g} in a different order"
    assert _keys(ours) == _keys(theirs)


@pytest.mark.parametrize("name", _params("user_block_group_columns"))
def test_user_block_group_columns(name):
    theirs, ours = _aligned(name)
    for col in ("user", "block", "group"):
        assert ours[col].astype(int).tolist() == theirs[col].astype(int).tolist(), col


@pytest.mark.parametrize("name", _params("free_and_fixed"))
def test_free_and_fixed(name):
    theirs, ours = _aligned(name)
    # fixed/free status, and the free-parameter numbering itself
    assert ((ours["free"] > 0) == (theirs["free"] > 0)).all()
    assert ours["free"].astype(int).tolist() == theirs["free"].astype(int).tolist()
    # fixed values; lavaan stores the sample value in ustart of fixed.x rows, semnet NaN
    fixed = (theirs["free"] == 0) & (theirs["exo"] == 0) & (theirs["group"] > 0)
    np.testing.assert_allclose(
        ours.loc[fixed, "ustart"].to_numpy(float),
        theirs.loc[fixed, "ustart"].to_numpy(float),
        rtol=0,
        atol=0,
    )
    # user start values on free rows
    start = (theirs["free"] > 0) & theirs["ustart"].notna()
    np.testing.assert_allclose(
        ours.loc[start, "ustart"].to_numpy(float), theirs.loc[start, "ustart"].to_numpy(float)
    )


@pytest.mark.parametrize("name", _params("exo_flags"))
def test_exo_flags(name):
    theirs, ours = _aligned(name)
    assert ours["exo"].astype(int).tolist() == theirs["exo"].astype(int).tolist()
    exo = ours[ours["exo"] == 1]
    assert (exo["free"] == 0).all()


@pytest.mark.parametrize("name", _params("labels"))
def test_labels(name):
    """Every label lavaan shows on a parameter row, semnet shows too (and no others)."""
    theirs, ours = _aligned(name)
    params = theirs["group"] > 0
    assert ours.loc[params, "label"].tolist() == theirs.loc[params, "label"].tolist()
    assert ours.loc[params, "plabel"].tolist() == theirs.loc[params, "plabel"].tolist()


@pytest.mark.parametrize("name", _params("equality_structure"))
def test_equality_structure(name):
    """Rows lavaan ties (shared label, or its user=2 '==' rows) semnet ties by one label."""
    theirs, ours, _ = _build(name)
    eq2 = theirs[(theirs["user"] == 2) & (theirs["op"] == "==")]
    theirs_rows = _lavaan_rows(theirs)
    # map lavaan's user=2 == rows onto the aligned positions
    t_classes = _classes(theirs_rows, eq2)
    index = {k: i for i, k in enumerate(_keys(ours))}
    pos = [index[k] for k in _keys(theirs_rows)]
    aligned = ours.iloc[pos].reset_index(drop=True)
    o_classes = _classes(aligned)
    assert o_classes == t_classes
    # all user-written constraint / definition rows are kept, as lavaan
    cons = ["==", "<", ">", ":="]
    t_cons = theirs_rows[theirs_rows["op"].isin(cons)]
    o_cons = ours[ours["op"].isin(cons)]
    assert _keys(o_cons) == _keys(t_cons)


DEFINED = [n for n in NAMES if (table(load(n), "partable")["op"] == ":=").any()]


@pytest.mark.parametrize("name", DEFINED)
def test_defined_parameter_labels(name):
    theirs, ours, _ = _build(name)
    t = theirs[theirs["op"] == ":="]
    o = ours[ours["op"] == ":="]
    assert o["label"].tolist() == t["label"].tolist()


def test_fixture_list_is_complete():
    """Guards the parametrization: every fixture is compared (none silently dropped)."""
    assert len(NAMES) >= 29
    assert all(_rejected(load(n)["call"]["model"]) is None for n in NAMES)


@pytest.mark.parametrize(
    "model",
    ["f1 =~ x1 + x2 + x3\nf2 =~ x4 + x5 + x6\ny ~ f1:f2", "u1 | t1 + t2\nf =~ u1 + u2 + u3"],
)
def test_rejected_syntax_detector(model):
    """The skip rule recognises the syntax semnet rejects, and semnet does reject it."""
    assert _rejected(model) is not None
    with pytest.raises(semnet.ModelSpecificationError):
        semnet.partable(model)
