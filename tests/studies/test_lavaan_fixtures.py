"""The seed studies' measurement models and multi-group structural blocks against
lavaan 0.6.14 on the committed synthetic surveys (tests/reference/studies/, written by
make_studies.R; FIML)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tolerances import ATOL, EST_RTOL, FIT_RTOL, LARGE_FIML_EST_ATOL, SE_RTOL

import semnet

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "tests" / "reference" / "studies"
NAMES = sorted(p.stem for p in FOLDER.glob("*.json"))
OPTIONS = {"group": "group", "group.equal": "group_equal", "group.partial": "group_partial",
           "fixed.x": "fixed_x"}  # fmt: skip


@cache
def _load(name: str) -> dict:
    return json.loads((FOLDER / f"{name}.json").read_text(encoding="utf-8"))


@cache
def _refit(name: str) -> semnet.Fit:
    call = _load(name)["call"]
    kwargs = {OPTIONS[k]: v for k, v in call["options"].items() if k not in ("missing", "se")}
    assert call["options"]["missing"] == "ml"
    func = semnet.cfa if call["function"] == "cfa" else semnet.sem
    data = pd.read_csv(ROOT / call["data"])
    return func((ROOT / call["model"]).read_text(encoding="utf-8"), data, missing="fiml",
                **kwargs)  # fmt: skip


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    f = frame.copy()
    f["group"] = f["group"].fillna("").astype(str)
    f["rhs"] = np.where(f["op"] == ":=", "", f["rhs"].fillna("").astype(str))
    return f.set_index(["lhs", "op", "rhs", "group"])[["est", "se"]]


def test_every_seed_study_has_its_fixtures():
    studies = [s.name.replace("-", "_") for s in semnet.studies.list()
               if s.name != "network-involvement"]  # fmt: skip
    # every seed study: the configural measurement model and the multi-group structural
    # block (some also the partial scalar measurement model)
    expected = {f"{s}_{m}" for s in studies for m in ("measurement", "multigroup")}
    assert expected <= set(NAMES)
    assert all(n.rsplit("_", 1)[1] in ("measurement", "multigroup", "partial")
               for n in NAMES)  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_estimates_se_and_fit_match_lavaan(name):
    ref = _load(name)
    fit = _refit(name)
    assert fit.converged
    assert list(fit.nobs.values()) == ref["nobs"]
    theirs = _keyed(pd.DataFrame(ref["estimates"]).replace({None: np.nan}))
    ours = _keyed(fit.estimates())
    merged = ours.join(theirs, how="outer", suffixes=("", "_ref"))
    assert len(merged) == len(theirs) == len(ours)
    np.testing.assert_allclose(merged["est"], merged["est_ref"], rtol=EST_RTOL,
                               atol=LARGE_FIML_EST_ATOL)  # fmt: skip
    if ref["call"]["options"].get("se") != "none":  # fixtures made with --no-se
        np.testing.assert_allclose(merged["se"], merged["se_ref"], rtol=SE_RTOL, atol=ATOL,
                                   equal_nan=True)  # fmt: skip
    fm = fit.fit_measures()
    # lavaan stops a little short of the maximum (tolerances.LARGE_FIML_EST_ATOL)
    assert fm["logl"] >= ref["fit_measures"]["logl"] - 1e-9 * abs(fm["logl"])
    for key, value in ref["fit_measures"].items():
        assert fm[key] == pytest.approx(value, rel=FIT_RTOL, abs=ATOL), key
