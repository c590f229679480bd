"""Simple slopes and Johnson-Neyman bounds against semTools' probe2WayMC."""

from __future__ import annotations

import numpy as np
import pytest
from reference import load, refit
from scipy import stats
from tolerances import EST_RTOL, SE_RTOL

import semnet
from semnet.analyses.moderation import johnson_neyman, simple_slopes


def test_simple_slopes_match_probe2waymc():
    ref = load("kenny_judd_probe")["probe"]
    fit = refit("kenny_judd_probe")
    out = simple_slopes(fit, "x", "z", tuple(ref["val_probe"]), sd_units=False, product="xz")
    theirs = ref["slopes"]
    assert out["moderator_value"].tolist() == ref["val_probe"]
    assert np.allclose(out["slope"], theirs["est"], rtol=EST_RTOL)
    assert np.allclose(out["se"], theirs["se"], rtol=SE_RTOL)
    assert np.allclose(out["z"], theirs["z.1"], rtol=SE_RTOL)


def test_sd_units_use_the_model_implied_moderator_sd():
    fit = refit("kenny_judd_probe")
    raw = simple_slopes(fit, "x", "z", (0.0,), sd_units=False, product="xz")
    k = fit.model.variables.index("z")
    sd = np.sqrt(fit.model.implied_all(fit.values, 0)[0][k, k])
    in_sd = simple_slopes(fit, "x", "z", (1.0,), product="xz")
    direct = simple_slopes(fit, "x", "z", (sd,), sd_units=False, product="xz")
    assert in_sd["slope"].iloc[0] == pytest.approx(direct["slope"].iloc[0])
    assert in_sd["slope"].iloc[0] != pytest.approx(raw["slope"].iloc[0])


def test_johnson_neyman_bounds_are_exactly_significant():
    fit = refit("kenny_judd_probe")
    (jn,) = johnson_neyman(fit, "x", "z", product="xz")
    assert len(jn.bounds) == 2
    crit = stats.norm.ppf(0.975)
    at = simple_slopes(fit, "x", "z", jn.bounds, sd_units=False, product="xz")
    assert np.allclose(np.abs(at["z"]), crit, rtol=1e-8)
    # the slope is significant outside the bounds here (positive interaction)
    mid = simple_slopes(fit, "x", "z", (np.mean(jn.bounds),), sd_units=False, product="xz")
    assert (mid["pvalue"] > 0.05).all() == (not jn.significant_inside)
    assert "below" in jn.region() or "between" in jn.region()


def test_missing_interaction_term_is_a_clear_error():
    with pytest.raises(semnet.SemnetError, match="no interaction term"):
        simple_slopes(refit("hs_cfa"), "visual", "textual")


def test_moderation_by_groups_splits_fits_and_tests():
    from semnet.analyses.moderation import moderation_by_groups

    hs = semnet.datasets.holzinger_swineford()
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\ntextual ~ visual"
    res = moderation_by_groups(model, hs, moderator="ageyr", path="textual~visual", cut=13)
    assert list(res.table["group"]) == ["low", "high"]
    assert res.table["n"].sum() == len(hs)
    assert res.table["n"].iloc[0] == int((hs["ageyr"] <= 13).sum())
    # the table is the free model's path; Wald and LRT test the same constraint
    direct = res.fit.estimates()
    path = direct[(direct["op"] == "~")]
    assert np.allclose(path["est"], res.table["est"])
    assert res.wald["df"] == 1 and res.lrt["df_diff"].iloc[1] == 1
    assert res.wald["stat"] == pytest.approx(res.lrt["chisq_diff"].iloc[1], rel=0.2)
    with pytest.raises(semnet.ModelSpecificationError, match="no regression"):
        moderation_by_groups(model, hs, moderator="ageyr", path="x9~visual")


@pytest.mark.parametrize(
    ("moderator", "cut", "error", "match"),
    [
        # text was coerced to NaN: every case dropped, then a confusing label error
        ("school", "median", semnet.DataError, "column 'school' is not numeric"),
        # a constant moderator put every case in one group: the same confusing error
        ("m", "median", semnet.DataError, "puts every case in one group"),
        ("ageyr", 100, semnet.DataError, "puts every case in one group"),
        # was a ValueError from float('quartile')
        ("ageyr", "quartile", semnet.OptionError, "cut must be 'median' or a number"),
    ],
)
def test_moderation_by_groups_bad_moderator_or_cut(moderator, cut, error, match):
    from semnet.analyses.moderation import moderation_by_groups

    hs = semnet.datasets.holzinger_swineford().assign(m=1.0)
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\ntextual ~ visual"
    with pytest.raises(error, match=match):
        moderation_by_groups(model, hs, moderator=moderator, path="textual~visual", cut=cut)


@pytest.mark.parametrize("at", [(), (1, "a"), [np.nan], None, "abc"])
def test_simple_slopes_at_must_be_moderator_values(at):
    # () gave an empty frame without columns; None and 'abc' were TypeErrors
    with pytest.raises(semnet.OptionError, match="at must be moderator values"):
        simple_slopes(refit("kenny_judd_probe"), "x", "z", at=at, product="xz")


def test_one_moderator_value_may_be_a_number():
    fit = refit("kenny_judd_probe")
    one = simple_slopes(fit, "x", "z", at=1.0, product="xz")
    assert one[["at", "slope"]].values.tolist() == simple_slopes(
        fit, "x", "z", at=(1.0,), product="xz")[["at", "slope"]].values.tolist()


@pytest.mark.parametrize("probe", [simple_slopes, johnson_neyman])
def test_probing_checks_the_level(probe):
    # level=2 gave NaN intervals and NaN Johnson-Neyman bounds
    with pytest.raises(semnet.OptionError, match="level must be between 0 and 1"):
        probe(refit("kenny_judd_probe"), "x", "z", product="xz", level=2)
