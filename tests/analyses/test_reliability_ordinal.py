"""Reliability of ordinal items against semTools 0.5-6 (htmt with ordered=, compRelSEM
with tau.eq x ord.scale on lavaan 0.6.14's WLSMV fits): the fixture's lavaan estimates
are fed to semnet's formulas."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from reference import REFERENCE
from tolerances import EST_RTOL, POLYCHORIC_ATOL

import semnet
from semnet.analyses.reliability_ordinal import (
    block_reliability,
    categorical_omega,
    cronbach_alpha,
)

HERE = REFERENCE / "reliability_ordinal"
REF = json.loads((HERE / "reliability_ordinal.json").read_text(encoding="utf-8"))
DATA = pd.read_csv(HERE / REF["data"])
ITEMS = REF["items"]
MODEL = REF["model"]
FACTORS = ["visual", "textual", "speed"]
FITS = [(name, g) for name, fit in REF["fits"].items() for g in fit["blocks"]]


def _ref(name: str, key: str, g: str) -> pd.Series:
    table = REF["fits"][name]["compRelSEM"][key]
    return pd.Series(table if g == "all" else table[g])


def _estimates(name: str, g: str):
    b = REF["fits"][name]["blocks"][g]
    lam = pd.DataFrame(b["lambda"], ITEMS, FACTORS)
    psi = pd.DataFrame(b["psi"], FACTORS, FACTORS)
    cor = pd.DataFrame(b["cor"], ITEMS, ITEMS)
    tau = {x: np.array([v for k, v in b["tau"].items() if k.startswith(f"{x}|")])
           for x in ITEMS}
    return lam, psi, cor, tau, pd.Series(b["scales"])


def _codes(g: str) -> pd.DataFrame:
    rows = DATA if g == "all" else DATA[DATA["school"] == g]
    return rows[ITEMS].cov()


@pytest.mark.parametrize(("name", "g"), FITS)
def test_compRelSEM_from_lavaan_estimates(name, g):
    lam, psi, cor, tau, scales = _estimates(name, g)
    out = block_reliability(lam, psi, cor, tau, scales=scales,
                            code_cov=_codes(g)).set_index("factor")
    assert list(out.index) == FACTORS
    for col, key in [("omega", "omega_ord_scale"), ("omega_latent", "omega_latent_scale"),
                     ("alpha", "alpha_ord_scale"), ("alpha_latent", "alpha_latent_scale"),
                     ("ave", "AVE")]:
        ref = _ref(name, key, g)
        assert np.allclose(out.loc[ref.index, col], ref, rtol=EST_RTOL), col


def test_scales_change_the_second_group():
    # thresholds and loadings equal: lavaan frees the scale factors of the second group,
    # which semTools applies to both alphas, and the reference numbers move with them
    scales = pd.Series(REF["fits"]["thresholds_loadings"]["blocks"]["Grant-White"]["scales"])
    assert not np.allclose(scales, 1)
    a = _ref("thresholds_loadings", "alpha_ord_scale", "Grant-White")
    b = _ref("configural", "alpha_ord_scale", "Grant-White")
    assert not np.allclose(a, b[a.index], rtol=1e-3)


def test_latent_scale_totals():
    # the total composite of all nine items (semTools' return.total=TRUE)
    lam, psi, cor, _, _ = _estimates("single", "all")
    comp = REF["fits"]["single"]["compRelSEM"]
    L = lam.to_numpy()
    assert np.isclose((L @ psi.to_numpy() @ L.T).sum() / cor.to_numpy().sum(),
                      comp["omega_latent_scale_total"], rtol=EST_RTOL)
    assert np.isclose(cronbach_alpha(cor.to_numpy()), comp["alpha_latent_scale_total"],
                      rtol=EST_RTOL)
    assert np.isclose(cronbach_alpha(_codes("all").to_numpy()), comp["alpha_ord_scale_total"],
                      rtol=EST_RTOL)


def test_categorical_omega_of_several_factors_is_the_one_factor_value_when_block_diagonal():
    lam, psi, cor, tau, _ = _estimates("single", "all")
    items = ITEMS[:3]
    one = categorical_omega(lam.loc[items, "visual"], [tau[x] for x in items],
                            cor.loc[items, items], psi=psi.at["visual", "visual"])
    two = categorical_omega(lam.loc[items], [tau[x] for x in items], cor.loc[items, items],
                            psi=psi.to_numpy())
    assert np.isclose(one, two, rtol=1e-12)
    ref = _ref("single", "omega_ord_scale", "all")["visual"]
    assert np.isclose(one, ref, rtol=EST_RTOL)


def test_categorical_omega_of_continuous_limit():
    # many fine categories: the observed sum tends to the latent one (omega_latent)
    k, load = 4, 0.8
    R = np.full((k, k), load**2) + (1 - load**2) * np.eye(k)
    tau = [np.linspace(-2.5, 2.5, 15)] * k
    latent = k**2 * load**2 / R.sum()
    coarse = categorical_omega(np.full(k, load), [np.array([0.0])] * k, R)
    fine = categorical_omega(np.full(k, load), tau, R)
    assert coarse < fine < latent
    assert fine == pytest.approx(latent, abs=0.01)


def test_reliability_from_data_matches_semtools():
    out = semnet.reliability(MODEL, DATA[ITEMS]).set_index("factor")
    assert out["group"].isna().all()
    assert np.allclose(out["alpha"], pd.Series(REF["cronbach_raw"])[FACTORS], rtol=EST_RTOL)
    ref = _ref("single", "alpha_latent_scale", "all")
    # the sample polychorics: lavCor's optimizer stops within ~1e-7 of semnet's maximum
    assert np.allclose(out.loc[ref.index, "alpha_latent"], ref, rtol=EST_RTOL)


def test_reliability_from_data_by_group():
    out = semnet.reliability(MODEL, DATA, group="school")
    for g in ("Pasteur", "Grant-White"):
        part = out[out["group"] == g].set_index("factor")
        for col, key in [("alpha", "alpha_ord_scale"), ("alpha_latent", "alpha_latent_scale")]:
            ref = _ref("configural", key, g)
            assert np.allclose(part.loc[ref.index, col], ref, rtol=EST_RTOL), (g, col)


def test_reliability_from_data_with_a_continuous_indicator():
    data = DATA[ITEMS].assign(x9=semnet.datasets.holzinger_swineford()["x9"])
    out = semnet.reliability(MODEL, data, ordered=ITEMS[:8]).set_index("factor")
    assert np.isnan(out.at["speed", "alpha_latent"])
    assert np.isfinite(out.at["speed", "alpha"])
    assert np.isfinite(out.loc[["visual", "textual"], "alpha_latent"]).all()


@pytest.mark.parametrize(("key", "h2"), [("htmt2", True), ("htmt1", False)])
def test_htmt_on_polychorics_matches_semtools(key, h2):
    # ordered= may name columns the model does not use
    out = semnet.htmt(MODEL, DATA.assign(q=1), ordered=[*ITEMS, "q"], htmt2=h2)
    assert list(out.index) == FACTORS
    ref = np.array(REF["htmt"]["all"][key])
    assert np.allclose(out.to_numpy(), ref, rtol=EST_RTOL, atol=POLYCHORIC_ATOL)
    pearson = semnet.htmt(MODEL, DATA[ITEMS], htmt2=h2)
    assert not np.allclose(pearson.to_numpy(), ref, rtol=1e-3)


def test_htmt_on_polychorics_by_group():
    out = semnet.htmt(MODEL, DATA, ordered=True, group="school")
    assert list(out) == ["Pasteur", "Grant-White"]
    for g, table in out.items():
        ref = np.array(REF["htmt"][g]["htmt2"])
        assert np.allclose(table.to_numpy(), ref, rtol=EST_RTOL, atol=POLYCHORIC_ATOL), g


def test_bad_input_is_a_clear_error():
    with pytest.raises(semnet.SemnetError, match="data"):
        semnet.reliability(MODEL)
    with pytest.raises(semnet.SemnetError, match="'x9'"):
        semnet.reliability(MODEL, DATA[ITEMS[:8]])
    with pytest.raises(semnet.SemnetError, match="'x9'"):
        semnet.htmt(MODEL, DATA[ITEMS[:8]], ordered=True)
    with pytest.raises(semnet.SemnetError, match="=~"):
        semnet.reliability("x9 ~ x7", DATA)


def test_ave_is_not_defined_with_a_cross_loading():
    lam, psi, cor, tau, _ = _estimates("single", "all")
    lam.at["x4", "visual"] = 0.2
    out = block_reliability(lam, psi, cor, tau).set_index("factor")
    assert out.loc[["visual", "textual"], "ave"].isna().all()
    assert np.isfinite(out.at["speed", "ave"])
    assert out.at["visual", "n_items"] == 4


_FIT_OPTIONS = {
    "single": {},
    "theta": {"parameterization": "theta"},
    "configural": {"group": "school"},
    "thresholds_loadings": {"group": "school", "group_equal": ["thresholds", "loadings"]},
}
_COLUMNS = [("omega", "omega_ord_scale"), ("omega_latent", "omega_latent_scale"),
            ("alpha", "alpha_ord_scale"), ("alpha_latent", "alpha_latent_scale"),
            ("ave", "AVE")]


@pytest.mark.parametrize("name", sorted(_FIT_OPTIONS))
def test_reliability_of_a_semnet_wlsmv_fit_matches_compRelSEM(name):
    # semnet's own WLSMV fit of the fixture data, not lavaan's estimates
    opts = _FIT_OPTIONS[name]
    fit = semnet.cfa(MODEL, DATA if "group" in opts else DATA[ITEMS], ordered=ITEMS, **opts)
    out = semnet.reliability(fit)
    assert list(out.columns) == ["group", "factor", "n_items", "alpha", "omega", "ave",
                                 "alpha_latent", "omega_latent"]
    for g in REF["fits"][name]["blocks"]:
        part = (out if g == "all" else out[out["group"] == g]).set_index("factor")
        assert list(part.index) == FACTORS
        assert (part["n_items"] == 3).all()
        for col, key in _COLUMNS:
            ref = _ref(name, key, g)
            np.testing.assert_allclose(part[col], ref[FACTORS], rtol=EST_RTOL, err_msg=col)


def test_reliability_of_a_fit_with_a_continuous_indicator_leaves_that_factor_nan():
    data = DATA[ITEMS].assign(x9=semnet.datasets.holzinger_swineford()["x9"])
    fit = semnet.cfa(MODEL, data, ordered=ITEMS[:8])
    out = semnet.reliability(fit).set_index("factor")
    assert list(out.index) == FACTORS
    assert out.loc["speed", ["alpha", "omega", "ave"]].isna().all()
    assert out.loc[["visual", "textual"], "omega"].notna().all()
