"""Load the lavaan reference fixtures (tests/reference/*.json) and refit them with semnet."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

import semnet

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference"

OPTION_NAMES = {
    "std.lv": "std_lv",
    "group.equal": "group_equal",
    "group.partial": "group_partial",
    "meanstructure": "meanstructure",
    "orthogonal": "orthogonal",
    "group": "group",
    "estimator": "estimator",
    "missing": "missing",
    "fixed.x": "fixed_x",
    "sampling.weights": "sampling_weights",
    "cluster": "cluster",
}


#: subfolders holding fit fixtures too (the other subfolders hold other reference data)
FIT_FOLDERS = ("", "invariance/", "fixed_x/")


def fixture_names() -> list[str]:
    """Fit fixtures: the JSON files that record a lavaan call, in tests/reference/ and
    the folders of :data:`FIT_FOLDERS` (named ``"invariance/ni_scalar"`` there)."""
    names = []
    for folder in FIT_FOLDERS:
        for p in (REFERENCE / folder).glob("*.json"):
            if "call" in load(folder + p.stem):
                names.append(folder + p.stem)
    return sorted(names)


@cache
def load(name: str) -> dict:
    with open(REFERENCE / f"{name}.json", encoding="utf-8") as fh:
        return json.load(fh)


def is_complete_data(ref: dict) -> bool:
    """Complete (or listwise-deleted) data: ML, MLM or MLR, no FIML."""
    return ref["call"]["options"].get("missing", "listwise") == "listwise"


def is_plain_ml(ref: dict) -> bool:
    """Complete-data ML with standard SEs and test (what the core engine does)."""
    opts = ref["call"]["options"]
    return (
        opts.get("estimator", "ML") == "ML"
        and opts.get("missing", "listwise") == "listwise"
        and ref["test_types"] == ["standard"]
    )


@cache
def refit(name: str) -> semnet.Fit:
    ref = load(name)
    call = ref["call"]
    kwargs = {}
    for key, value in call["options"].items():
        if key in ("sample.cov", "sample.nobs"):
            continue
        kwargs[OPTION_NAMES[key]] = value
    opts = call["options"]
    if "sample.cov" in opts:
        sc = opts["sample.cov"]
        kwargs["sample_cov"] = pd.DataFrame(sc["matrix"], index=sc["names"], columns=sc["names"])
        kwargs["sample_nobs"] = opts["sample.nobs"]
        data = None
    else:
        data = pd.read_csv(ROOT / call["data"])
    func = semnet.cfa if call["function"] == "cfa" else semnet.sem
    return func(call["model"], data, **kwargs)


def table(ref: dict, key: str) -> pd.DataFrame:
    frame = pd.DataFrame(ref[key])
    return frame.replace({None: np.nan})


def keyed(frame: pd.DataFrame, groups: list[str] | None) -> pd.DataFrame:
    """Index rows by (lhs, op, rhs, group label) for matching."""
    f = frame.copy()
    if "group" in f and groups is not None and len(groups) > 1:
        g = f["group"]
        if pd.api.types.is_numeric_dtype(g):
            f["group"] = [groups[int(v) - 1] if int(v) > 0 else "" for v in g]
        f["group"] = f["group"].fillna("").astype(str)
    else:
        f["group"] = ""
    f["rhs"] = f["rhs"].fillna("").astype(str)
    return f.set_index(["lhs", "op", "rhs", "group"])
