"""Common-method-variance checks against lavaan 0.6.14 (tests/reference/cmv/make_cmv.R:
survey data with a planted method factor) and the Lindell–Whitney arithmetic by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from tolerances import EST_RTOL, EST_SE_FRACTION, FIT_RTOL, SE_RTOL

import semnet
from semnet.analyses.cmv import adjusted_correlation, ulmc_syntax

CMV = Path(__file__).resolve().parent.parent / "reference" / "cmv"
REF = json.loads((CMV / "cmv.json").read_text(encoding="utf-8"))
DATA = pd.read_csv(CMV / REF["data"])
HYP = REF["hypothesized"]


def _check(fit: semnet.Fit, ref: dict) -> None:
    """Estimates, SEs and chi-square of a fit against lavaan's parameterEstimates()."""
    est = fit.estimates()
    assert fit.fit_measures()["chisq"] == pytest.approx(ref["chisq"], rel=FIT_RTOL)
    assert fit.df == ref["df"]
    lav = pd.DataFrame({k: ref[k] for k in ("lhs", "op", "rhs", "est", "se", "std_all")})
    lav["g"] = ref["group"]
    groups = {label: k + 1 for k, label in enumerate(fit.groups)}
    ours = est.assign(g=[groups[g] if g is not None else 1 for g in est["group"]])
    # a covariance is one row whichever way round it is written (lavaan writes the
    # user's "method ~~ f1" as "f1 ~~ method")
    for frame in (lav, ours):
        swap = (frame["op"] == "~~") & (frame["lhs"] > frame["rhs"])
        frame.loc[swap, ["lhs", "rhs"]] = frame.loc[swap, ["rhs", "lhs"]].to_numpy()
    merged = lav.merge(ours, on=["lhs", "op", "rhs", "g"], suffixes=("_lav", ""))
    assert len(merged) == len(ours[ours["op"] != ":="])
    close = np.abs(merged["est"] - merged["est_lav"]) <= np.maximum(
        EST_RTOL * np.abs(merged["est_lav"]), EST_SE_FRACTION * merged["se_lav"].fillna(0)
    ) + 1e-12
    assert close.all(), merged.loc[~close, ["lhs", "op", "rhs", "g", "est", "est_lav"]]
    np.testing.assert_allclose(merged["se"], merged["se_lav"], rtol=SE_RTOL, atol=1e-6)
    np.testing.assert_allclose(merged["std_all"], merged["std_all_lav"], rtol=EST_RTOL,
                               atol=1e-6)  # fmt: skip


@pytest.mark.parametrize(("key", "group"), [("single", None), ("groups", "g")])
def test_harman_one_factor_and_hypothesized_models_match_lavaan(key, group):
    h = semnet.harman(HYP, DATA, group=group)
    _check(h.fit, REF[key]["one_factor"])
    _check(h.hypothesized, REF[key]["hypothesized"])
    assert list(h.compare.index) == ["hypothesized", "one_factor"]
    assert h.compare.loc["one_factor", "df_diff"] == REF[key]["one_factor"]["df"] - REF[key][
        "hypothesized"
    ]["df"]


def test_harman_first_component_share_by_hand():
    h = semnet.harman(HYP, DATA, group="g")
    items = [f"y{k}" for k in range(1, 13)]
    eig = np.linalg.eigvalsh(np.array(REF["cor"])[:12, :12])
    assert h.first_component_share == pytest.approx(eig[-1] / 12, rel=1e-12)
    for label in ("A", "B"):
        x = DATA.loc[DATA["g"] == label, items].to_numpy()
        assert h.shares[label] == pytest.approx(
            np.linalg.eigvalsh(np.corrcoef(x, rowvar=False))[-1] / 12, rel=1e-12
        )
    assert "insensitive" in h.note


@pytest.mark.parametrize(("key", "group"), [("single", None), ("groups", "g")])
def test_ulmc_matches_lavaan(key, group):
    u = semnet.ulmc(HYP, DATA, group=group)
    _check(u.fit, REF[key]["ulmc"])
    _check(u.trait_fit, REF[key]["hypothesized"])
    ref = REF[key]["ulmc"]
    method_rows = [k for k, (lhs, op) in enumerate(zip(ref["lhs"], ref["op"], strict=True))
                   if lhs == "method" and op == "=~"]  # fmt: skip
    lav_std = np.array(ref["std_all"])[method_rows]
    # (standardized, the method loadings' SEs are at least this: a thousandth of it)
    atol = EST_SE_FRACTION * min(np.array(ref["se"])[method_rows] * np.abs(
        lav_std / np.array(ref["est"])[method_rows]))
    np.testing.assert_allclose(u.method_loadings["loading"], lav_std, rtol=EST_RTOL, atol=atol)
    assert u.method_variance_share == pytest.approx(np.mean(np.square(lav_std)), rel=EST_RTOL)
    # the planted method factor is found: most items load on it
    assert (u.method_loadings["pvalue"] < 0.05).mean() > 0.5
    changes = u.changes
    assert {"without", "with", "change"} <= set(changes.columns)
    np.testing.assert_allclose(changes["change"], changes["with"] - changes["without"])


def test_ulmc_syntax_names_a_method_factor_that_is_not_taken():
    text = ulmc_syntax("method =~ a + b + c")
    assert "method_ =~ NA*a + b + c" in text and "method_ ~~ 1*method_" in text


def test_method_and_marker_factors_are_not_named_like_a_column():
    # a latent variable named like a column is refused (as lavaan); the data of the
    # reference has a column 'marker', and may have 'method' or 'common'
    text = ulmc_syntax("f =~ a + b + c", pd.DataFrame(columns=["a", "b", "c", "method"]))
    assert "method_ =~ NA*a + b + c" in text
    harman = semnet.harman(HYP, DATA.assign(common=0.0))
    assert harman.fit.converged


def test_lindell_whitney_by_hand():
    """r_A = (r - r_M) / (1 - r_M) and t = r_A / sqrt((1 - r_A^2) / (n - 3)) with r_M the
    marker's smallest positive correlation with an item, from R's correlations."""
    res = semnet.marker(HYP, DATA, marker="marker")
    cor = np.array(REF["cor"])
    marker_r = cor[12, :12]
    r_m = marker_r[marker_r > 0].min()
    assert (marker_r < 0).any()  # (the negative ones are not the method's share)
    assert res.r_m == pytest.approx(r_m, rel=1e-12)
    row = res.correlations.query("var1 == 'y1' and var2 == 'y5'").iloc[0]
    r = cor[0, 4]
    r_a = (r - r_m) / (1 - r_m)
    t = r_a / np.sqrt((1 - r_a**2) / (1000 - 3))
    assert row["r"] == pytest.approx(r, rel=1e-12)
    assert row["r_adjusted"] == pytest.approx(r_a, rel=1e-12)
    assert row["t"] == pytest.approx(t, rel=1e-12)
    assert row["pvalue"] == pytest.approx(2 * stats.t.sf(abs(t), 997), rel=1e-10)
    # Malhotra et al.: the marker correlation at its 95th percentile (Fisher z)
    upper = np.tanh(np.arctanh(r_m) + 1.6448536269514722 / np.sqrt(997))
    assert row["r_adjusted_95"] == pytest.approx((r - upper) / (1 - upper), rel=1e-10)
    assert len(res.correlations) == 66


def test_a_marker_without_positive_correlations_adjusts_nothing():
    from semnet.analyses.cmv import marker_correlation

    assert marker_correlation(np.array([-0.2, -0.01])) == 0.0
    assert marker_correlation(np.array([-0.2, 0.05, 0.3])) == 0.05


def test_adjusted_correlation_vectorised():
    r_a, p = adjusted_correlation(np.array([0.3, 0.1]), 0.1, 103)
    np.testing.assert_allclose(r_a, [0.2 / 0.9, 0.0])
    assert p[1] == pytest.approx(1.0)


def test_marker_by_group_uses_each_groups_marker_correlation():
    res = semnet.marker(HYP, DATA, marker="marker", group="g")
    assert set(res.correlations["group"].dropna()) == {"A", "B"}
    assert len(res.correlations) == 3 * 66


def test_a_marker_in_the_model_is_refused():
    with pytest.raises(semnet.ModelSpecificationError, match="'y1' is a variable of the model"):
        semnet.marker(HYP, DATA, marker="y1")


def test_a_constant_marker_is_refused():
    # its correlations were NaN (numpy warnings) and r_m a silent 0: no adjustment
    with pytest.raises(semnet.DataError, match="'m' is constant"):
        semnet.marker(HYP, DATA.assign(m=1.0), marker="m")


def test_a_text_marker_is_named_as_not_numeric():
    # every value was coerced to NaN: "fewer than five complete cases"
    with pytest.raises(semnet.DataError, match="column 'm' is not numeric"):
        semnet.marker(HYP, DATA.assign(m="a"), marker="m")


def test_a_group_that_is_not_a_column_is_named():
    # was a KeyError from pandas
    with pytest.raises(semnet.DataError, match="group column 'nope' is not a column"):
        semnet.harman(HYP, DATA, group="nope")


def test_a_model_without_factors_is_refused():
    with pytest.raises(semnet.ModelSpecificationError, match="no '=~' lines"):
        semnet.harman("y1 ~ y2", DATA)


def test_cfa_marker_technique_matches_lavaan():
    """Williams, Hartman & Cavazotte (2010): the CFA, baseline, Method-C, Method-U and
    Method-R models as lavaan fits them (the same choice of Method-U)."""
    ref = REF["cfa_marker"]
    res = semnet.cfa_marker(HYP, DATA, marker_items=ref["marker_items"])
    assert res.chosen == f"method_{ref['chosen'].lower()}"
    for key in ("cfa", "baseline", "method_c", "method_u", "method_r"):
        fit = res.fits[key]
        assert fit.converged
        assert fit.fit_measures()["chisq"] == pytest.approx(ref[key]["chisq"], rel=FIT_RTOL)
        assert fit.df == ref[key]["df"]
    assert list(res.tests["comparison"]) == [
        "baseline vs method_c", "method_c vs method_u", f"{res.chosen} vs method_r",
    ]
    first = res.tests.iloc[0]
    assert first["chisq_diff"] == pytest.approx(
        ref["baseline"]["chisq"] - ref["method_c"]["chisq"], rel=FIT_RTOL
    )
    assert first["pvalue"] < 0.001  # the planted method variance is found
    assert len(res.method_loadings) == 12


def test_cfa_marker_needs_a_latent_marker_outside_the_model():
    with pytest.raises(semnet.ModelSpecificationError, match="at least two items"):
        semnet.cfa_marker(HYP, DATA, marker_items=["mk1"])
    with pytest.raises(semnet.ModelSpecificationError, match="'y1'"):
        semnet.cfa_marker(HYP, DATA, marker_items=["y1", "mk1"])


def test_cfa_marker_by_group_fixes_each_groups_values():
    res = semnet.cfa_marker(HYP, DATA, marker_items=["mk1", "mk2", "mk3"], group="g")
    assert all(f.converged for f in res.fits.values())
    # Method-C: one equal marker loading per group (2 parameters more than baseline)
    assert res.tests.iloc[0]["df_diff"] == 2
    # the baseline fixes the marker's loadings and error variances at each group's CFA values
    base = res.fits["baseline"].estimates()
    cfa = res.fits["cfa"].estimates()
    rows = (base["lhs"] == "marker") & (base["op"] == "=~") & base["rhs"].isin(["mk2", "mk3"])
    crow = (cfa["lhs"] == "marker") & (cfa["op"] == "=~") & cfa["rhs"].isin(["mk2", "mk3"])
    np.testing.assert_allclose(base.loc[rows, "est"], cfa.loc[crow, "est"], rtol=1e-12)
    assert (base.loc[rows, "se"] == 0).all()
