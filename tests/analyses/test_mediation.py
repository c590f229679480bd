"""indirect_effects() against lavaan's `:=` definitions of the same effects."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from reference import REFERENCE
from tolerances import ATOL, EST_RTOL, SE_RTOL

import semnet
from semnet.analyses.mediation import effect_plan, indirect_effects

HS = semnet.datasets.holzinger_swineford()


def _load(name: str) -> dict:
    with open(REFERENCE / "analyses" / f"{name}.json", encoding="utf-8") as fh:
        return json.load(fh)


def _fit(name: str):
    call = _load(name)["call"]
    kwargs = {"group": call["group"]} if call.get("group") else {}
    return semnet.sem(call["model"], HS, **kwargs)


def _defined(name: str) -> pd.DataFrame:
    ref = _load(name)
    est = pd.DataFrame(ref["estimates"])
    std = pd.DataFrame(ref["std_solution"])
    est = est[est["op"] == ":="].set_index("lhs")
    std = std[std["op"] == ":="].set_index("lhs")
    est["est_std"] = std["est.std"]
    return est


def _check(ours: pd.Series, theirs: pd.Series) -> None:
    assert np.isclose(ours["est"], theirs["est"], rtol=EST_RTOL, atol=ATOL)
    assert np.isclose(ours["se"], theirs["se"], rtol=SE_RTOL, atol=ATOL)
    assert np.isclose(ours["pvalue"], theirs["pvalue"], rtol=SE_RTOL, atol=1e-5)
    assert np.isclose(ours["ci_lower"], theirs["ci.lower"], rtol=SE_RTOL, atol=1e-5)
    assert np.isclose(ours["ci_upper"], theirs["ci.upper"], rtol=SE_RTOL, atol=1e-5)
    assert np.isclose(ours["std_all"], theirs["std.all"], rtol=EST_RTOL, atol=ATOL)
    assert np.isclose(ours["std_all"], theirs["est_std"], rtol=EST_RTOL, atol=ATOL)
    assert np.isclose(ours["std_lv"], theirs["std.lv"], rtol=EST_RTOL, atol=ATOL)


def _row(tab: pd.DataFrame, effect: str, path: str | None = None, group=None) -> pd.Series:
    sel = tab["effect"] == effect
    if path is not None:
        sel &= tab["path"] == path
    if group is not None:
        sel &= tab["group"] == group
    assert sel.sum() == 1, (effect, path, group)
    return tab[sel].iloc[0]


def test_latent_mediation_matches_lavaan():
    fit = _fit("mediation_latent")
    tab = indirect_effects(fit, "visual", y="speed")
    ref = _defined("mediation_latent")
    assert tab["effect"].tolist() == ["indirect", "total_indirect", "direct", "total"]
    _check(_row(tab, "indirect", "visual -> textual -> speed"), ref.loc["ind"])
    _check(_row(tab, "total_indirect"), ref.loc["ind"])
    _check(_row(tab, "total"), ref.loc["total"])
    # the direct effect is the regression coefficient itself
    est = fit.estimates()
    c = est[(est["lhs"] == "speed") & (est["op"] == "~") & (est["rhs"] == "visual")].iloc[0]
    direct = _row(tab, "direct")
    assert np.isclose(direct["est"], c["est"]) and np.isclose(direct["se"], c["se"], rtol=1e-6)
    assert np.isclose(direct["std_all"], c["std_all"])
    assert tab["group"].isna().all()


def test_two_mediators_parallel_and_serial_paths_match_lavaan():
    fit = _fit("mediation_two")
    tab = indirect_effects(fit, "x1", y="x9")
    ref = _defined("mediation_two")
    # shorter paths first
    assert tab.loc[tab["effect"] == "indirect", "path"].tolist() == [
        "x1 -> x4 -> x9", "x1 -> x7 -> x9", "x1 -> x4 -> x7 -> x9",
    ]  # fmt: skip
    _check(_row(tab, "indirect", "x1 -> x4 -> x9"), ref.loc["ind1"])
    _check(_row(tab, "indirect", "x1 -> x7 -> x9"), ref.loc["ind2"])
    _check(_row(tab, "indirect", "x1 -> x4 -> x7 -> x9"), ref.loc["ind3"])
    _check(_row(tab, "total_indirect"), ref.loc["total_ind"])
    _check(_row(tab, "total"), ref.loc["total"])
    tot = _row(tab, "total")["est"]
    assert np.isclose(tot, _row(tab, "direct")["est"] + _row(tab, "total_indirect")["est"])


def test_multigroup_effects_per_group_match_lavaan():
    fit = _fit("mediation_mg")
    ref = _defined("mediation_mg")
    labels = _load("mediation_mg")["group_labels"]
    tab = indirect_effects(fit, "visual", y="speed")
    assert tab["group"].tolist() == [labels[0]] * 4 + [labels[1]] * 4
    for k, g in enumerate(labels, start=1):
        _check(_row(tab, "indirect", group=g), ref.loc[f"ind{k}"])
        _check(_row(tab, "total", group=g), ref.loc[f"total{k}"])


def test_mediators_restrict_the_specific_paths():
    fit = _fit("mediation_two")
    only_x4 = indirect_effects(fit, "x1", "x4", y="x9")
    assert only_x4.loc[only_x4["effect"] == "indirect", "path"].tolist() == ["x1 -> x4 -> x9"]
    full = indirect_effects(fit, "x1", y="x9")
    assert np.isclose(
        _row(only_x4, "total_indirect")["est"], _row(full, "indirect", "x1 -> x4 -> x9")["est"]
    )
    # total and direct are the model's, whatever the mediators
    assert np.isclose(_row(only_x4, "total")["est"], _row(full, "total")["est"])
    both = indirect_effects(fit, "x1", ["x4", "x7"], y="x9")
    assert (both["effect"] == "indirect").sum() == 3


def test_no_direct_path_gives_a_fixed_zero():
    model = "x8 ~ x7\nx9 ~ x8"
    fit = semnet.sem(model, HS)
    tab = indirect_effects(fit, "x7", y="x9")
    direct = _row(tab, "direct")
    assert direct["est"] == 0 and direct["se"] == 0 and np.isnan(direct["pvalue"])
    assert np.isclose(_row(tab, "total")["est"], _row(tab, "indirect")["est"])


def test_errors():
    fit = _fit("mediation_latent")
    with pytest.raises(semnet.SemnetError, match="no directed path"):
        indirect_effects(fit, "speed", y="visual")
    with pytest.raises(semnet.SemnetError, match="not a variable"):
        indirect_effects(fit, "visul", y="speed")
    with pytest.raises(semnet.SemnetError, match="only through"):
        indirect_effects(fit, "visual", "x1", y="speed")
    with pytest.raises(semnet.SemnetError, match="level"):
        indirect_effects(fit, "visual", y="speed", level=95)


def test_feedback_loop_is_refused():
    model = "x5 ~ x4 + x6\nx6 ~ x5 + x1\nx9 ~ x5"
    fit = semnet.sem(model, HS)
    with pytest.raises(semnet.SemnetError, match="feedback loop"):
        indirect_effects(fit, "x4", y="x9")


def test_effect_plan_is_picklable_and_matches_the_table():
    import pickle

    fit = _fit("mediation_two")
    plan = pickle.loads(pickle.dumps(effect_plan(fit, "x1", "x9")))
    tab = indirect_effects(fit, "x1", y="x9")
    assert np.allclose(plan.evaluate(fit.values), tab["est"])
    assert len(set(plan.names)) == len(plan.names)
