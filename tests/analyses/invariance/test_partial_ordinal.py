"""The partial-invariance search of ordinal ladders (semnet/analyses/invariance/
partial_ordinal.py, InvarianceResult.partial): recovery of one planted non-invariant
parameter per level from simulated data, and the refits that rank the candidates
against lavaan 0.6.14 + semTools 0.5-6 (measEq.syntax, Wu & Estabrook 2016;
tests/reference/invariance/make_ordinal_partial.R writes the fixture)."""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tolerances import FIT_RTOL

import semnet
from semnet.analyses.invariance.levels import added_constraints
from semnet.analyses.invariance.partial_ordinal import candidate_units, refit_candidates

HERE = Path(__file__).parent.parent.parent / "reference" / "invariance"
REF = json.loads((HERE / "ordinal_partial.json").read_text())
MODEL = "f =~ y1 + y2 + y3 + y4 + y5"
ITEMS = [f"y{i}" for i in range(1, 6)]
#: population: three groups with different latent means and variances; {l} is group C's
#: loading of y2, {b} its intercept of y3, {e} its residual variance of y5
POP = """f =~ 0.8*y1 + c(0.7, 0.7, {l})*y2 + 0.75*y3 + 0.7*y4 + 0.65*y5
y3 ~ c(0, 0, {b})*1
f ~ c(0, 0.3, -0.2)*1
f ~~ c(1, 1.2, 0.9)*f
y1 ~~ 0.36*y1
y2 ~~ 0.51*y2
y3 ~~ 0.44*y3
y4 ~~ 0.51*y4
y5 ~~ c(0.58, 0.58, {e})*y5
"""


def _data(b=0.0, l=0.7, e=0.58, t1=None, seed=1, n=500) -> pd.DataFrame:
    """Items cut into 4 categories at -1, 0, 1 after standardising over all groups;
    ``t1``: group C's first threshold of y4 instead of -1."""
    raw = semnet.simulate(POP.format(b=b, l=l, e=e), {"A": n, "B": n, "C": n}, seed=seed)
    out = raw[["group"]].copy()
    in_c = raw["group"].to_numpy() == "C"
    for y in ITEMS:
        z = raw[y].to_numpy()
        z = (z - z.mean()) / z.std()
        cuts = np.tile([-1.0, 0.0, 1.0], (len(z), 1))
        if y == "y4" and t1 is not None:
            cuts[in_c, 0] = t1
        out[y] = 1 + (z[:, None] > cuts).sum(axis=1)
    return out


def _ladder(data, **kw):
    return semnet.invariance(MODEL, data, group="group", ordered=ITEMS, **kw)


def _steps(p, level):
    return p.audit[p.audit["level"] == level]


@pytest.fixture(scope="module")
def intercept():
    return _ladder(_data(b=0.6))


@pytest.fixture(scope="module")
def loading():
    return _ladder(_data(l=0.3))


@pytest.fixture(scope="module")
def reference():
    return _ladder(pd.read_csv(HERE / REF["data"]))


@pytest.mark.parametrize("rule", ["chisq", "chen2007"])
def test_recovers_planted_intercept(intercept, rule):
    assert intercept.table().loc["scalar", "decision"] == "fails"
    p = intercept.partial("scalar", rule=rule)
    assert p.freed == ("y3~1",) and p.holds
    assert p.group_partial == ("y3~1",)
    assert len(_steps(p, "thresholds")) == len(_steps(p, "metric")) == 1
    last = _steps(p, "scalar").iloc[-1]
    assert last["step"] == 1 and last["decision"] == "holds" and last["n_candidates"] == 5
    # the ranking statistic is the difference test of the refit against the level
    test = semnet.compare(p.fit, intercept.fits["scalar"]).iloc[-1]
    assert last["X2"] == pytest.approx(test["chisq_diff"], rel=1e-12)
    assert last["df"] == test["df_diff"] == 2
    assert last["p_adjusted"] == pytest.approx(min(1.0, 5 * last["pvalue"]), rel=1e-12)
    # the final fit is the ladder's refit with the intercept exempt (Wu-Estabrook: the
    # later groups' intercept of y3 free, its scale factor too)
    again = intercept.refit(intercept.ladder["scalar"], ["y3~1"])
    assert p.fit.chisq == pytest.approx(again.chisq, rel=1e-10)


def test_recovers_planted_loading(loading):
    p = loading.partial("scalar", rule="chisq")
    assert p.freed == ("f=~y2",) and p.holds
    metric = _steps(p, "metric")
    assert metric["param"].isna().tolist() == [True, False]
    assert metric["param"].iat[1] == "f=~y2"
    assert metric["decision"].tolist() == ["fails", "holds"]
    # the scalar level keeps the loading free
    assert p.fits["scalar"].partable.params.pipe(
        lambda t: t[(t.op == "=~") & (t.rhs == "y2")]["label"].eq("").all())


def test_recovers_planted_thresholds_as_one_item():
    """A threshold that differs alone (not a shift of the intercept) fails the thresholds
    level; the unit freed is the item's set of thresholds, and its intercept is then no
    candidate at the scalar level (with no equal threshold it stays fixed at 0)."""
    res = _ladder(_data(t1=-0.3))
    p = res.partial("scalar", rule="chisq")
    assert p.freed == ("y4|t1", "y4|t2", "y4|t3") and p.holds
    step = _steps(p, "thresholds").iloc[-1]
    assert step["param"] == "y4|t1,y4|t2,y4|t3" and step["df"] == 2
    scalar = p.fits["scalar"]
    units = candidate_units(scalar, ("intercepts",), set(p.freed))
    assert [u.param for u in units] == ["y1~1", "y2~1", "y3~1", "y4~1", "y5~1"]
    cand, refits = refit_candidates(res, "scalar", scalar, p.freed, ("intercepts",))
    assert cand["param"].tolist() == ["y1~1", "y2~1", "y3~1", "y5~1"]
    assert set(refits) == set(cand["param"])


def test_recovers_planted_residual_variance_theta():
    res = _ladder(_data(e=1.6), parameterization="theta")
    p = res.partial("strict", rule="chisq")
    assert p.freed == ("y5~~y5",) and p.holds
    strict = _steps(p, "strict")
    assert len(strict) == 2 and strict["param"].iat[1] == "y5~~y5"


@pytest.mark.parametrize("level", ["thresholds", "metric", "scalar"])
def test_candidate_refits_match_lavaan(reference, level):
    ref = REF["levels"][level]
    fit = reference.fits[level]
    assert fit.chisq == pytest.approx(ref["fit_measures"]["chisq"], rel=FIT_RTOL)
    cand, refits = refit_candidates(reference, level, fit, [],
                                    added_constraints(reference.ladder, level))
    cand = cand.set_index("param")
    assert len(cand) == len(ref["candidates"])
    for c in ref["candidates"].values():
        keys = c["group_partial"]
        keys = (keys,) if isinstance(keys, str) else tuple(keys)
        row = cand.loc[",".join(keys)]
        assert row["keys"] == keys
        refit = refits[",".join(keys)]
        fm = refit.fit_measures()
        assert refit.df == c["fit_measures"]["df"]
        assert fm["chisq"] == pytest.approx(c["fit_measures"]["chisq"], rel=FIT_RTOL)
        assert fm["chisq_scaled"] == pytest.approx(c["fit_measures"]["chisq.scaled"],
                                                   rel=FIT_RTOL)
        assert row["X2"] == pytest.approx(c["chisq_diff"], rel=FIT_RTOL)
        assert row["df"] == c["df_diff"]
        assert row["pvalue"] == pytest.approx(c["pvalue"], rel=FIT_RTOL)


def test_search_on_reference_frees_y3(reference):
    p = reference.partial("scalar", rule="chisq")
    assert p.freed == ("y3~1",) and p.holds
    step = _steps(p, "scalar").iloc[-1]
    ref = REF["levels"]["scalar"]["candidates"]["y3~1"]
    assert step["X2"] == pytest.approx(ref["chisq_diff"], rel=FIT_RTOL)
    assert step["pvalue"] == pytest.approx(ref["pvalue"], rel=FIT_RTOL)
    assert step["chisq"] == pytest.approx(ref["fit_measures"]["chisq"], rel=FIT_RTOL)


def test_min_invariant_and_max_steps(loading):
    with pytest.warns(semnet.SemnetWarning, match="min_invariant=5"):
        p = loading.partial("metric", rule="chisq", min_invariant=5)
    assert p.freed == () and not p.holds
    p = loading.partial("metric", rule="chisq", max_steps=0)
    assert p.freed == () and not p.holds
    # a factor's last equal loading is never a candidate (its variance would lose its scale)
    metric = loading.fits["metric"]
    four = {f"f=~y{i}" for i in range(1, 5)}
    assert candidate_units(metric, ("loadings",), four) == []
    assert [u.param for u in candidate_units(metric, ("loadings",), four - {"f=~y4"})] == [
        "f=~y4", "f=~y5"]


def test_thresholds_count_for_min_invariant():
    """An item with its thresholds freed is no longer an invariant indicator."""
    res = _ladder(_data(b=0.6))
    freed = [f"y{i}|t{j}" for i in (1, 2) for j in (1, 2, 3)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        partial = _ladder(_data(b=0.6), group_partial=freed)
    with pytest.warns(semnet.SemnetWarning, match="with 2 invariant indicator"):
        p = partial.partial("scalar", rule="chisq", min_invariant=3)
    assert p.freed == () and not p.holds
    assert res.partial("scalar", rule="chisq", min_invariant=3).freed == ("y3~1",)


def test_bad_levels_are_clear(intercept):
    with pytest.raises(semnet.OptionError, match=r"level.*strict"):
        intercept.partial("strict")
    with pytest.raises(semnet.OptionError, match="first level"):
        intercept.partial("configural")
    with pytest.raises(semnet.OptionError, match="alpha"):
        intercept.partial("scalar", alpha=1.5)
