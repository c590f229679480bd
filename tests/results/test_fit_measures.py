"""Tests for :mod:`semnet.results.fit_measures` against lavaan's ``fitMeasures()``.

Every ML, complete-data fixture in ``tests/reference`` -- standard test, or
the robust tests of ``estimator = "MLM"`` (``satorra.bentler``), ``"MLR"``
(``yuan.bentler.mplus``) and ``"MLMV"`` (``scaled.shifted``) -- is rebuilt
from its sample and model-implied moments (plus, for the robust ones, the
scaled statistics and scaling factors of the model and the baseline model that
lavaan reports), and every measure is compared with lavaan's value -- once
with lavaan's chi-square passed in and once with the chi-square recomputed from
the moments.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from reference import REFERENCE
from scipy import optimize
from tolerances import FIT_RTOL

import semnet
from semnet.results.fit_measures import (
    FIT_MEASURE_NAMES,
    ROBUST_TESTS,
    GroupFitInput,
    MissingDataInput,
    ScaledInput,
    fit_measure_names,
    fit_measures,
)
from semnet.results.fit_measures.gfi import _group_gfi, _group_gfi_missing
from semnet.results.fit_measures.utils import zeroin

# Tolerances for the comparison with lavaan.
# RTOL: the project contract is agreement with lavaan to 1e-4 relative.  The
#   fixtures store lavaan's moments at full double precision and the formulas
#   are the same, so the observed agreement is ~1e-12; 1e-4 leaves room for
#   the optimiser-dependent last digits of lavaan's baseline fit and the
#   root-finder used for the RMSEA interval.
# ATOL: values that are zero in exact arithmetic (residual summaries and
#   chi-squares of saturated models, which lavaan reports as e.g. 3e-17, and
#   p-values of ~1e-9) carry pure rounding noise, for which a relative
#   comparison is meaningless; 1e-6 is far below any reported precision.
RTOL = 1e-4
ATOL = 1e-6

REFERENCE_DIR = Path(__file__).resolve().parents[1] / "reference"
FIXTURES = sorted(REFERENCE_DIR.glob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    with path.open() as fh:
        return json.load(fh)


def _skip_reason(fx: dict[str, Any]) -> str | None:
    """Why a fixture is out of scope (missing data, other tests), if it is."""
    if fx.get("estimator") != "ML":
        return f"estimator {fx.get('estimator')} not covered"
    if fx.get("missing") not in (None, "listwise"):
        return (
            f"missing = {fx.get('missing')!r}: FIML measures need the raw data (checked end "
            "to end in tests/api/test_reference.py)"
        )
    tests = list(fx.get("test_types") or ["standard"])
    if tests != ["standard"] and not (len(tests) == 1 and tests[0] in ROBUST_TESTS):
        return f"test {tests} not covered yet"
    if "fit_measures" not in fx or "sample" not in fx or "implied" not in fx:
        return "fixture lacks fit_measures/sample/implied"
    return None


def _fixed_x_names(partable: dict[str, list[Any]], group: int) -> set[str]:
    """Names of the fixed.x covariates of one group (1-based) from a partable."""
    n = len(partable["lhs"])
    groups = partable.get("group", [1] * n)
    return {
        partable["lhs"][k]
        for k in range(n)
        if partable["exo"][k] == 1
        and partable["op"][k] == "~~"
        and partable["lhs"][k] == partable["rhs"][k]
        and groups[k] == group
    }


def _groups_from_fixture(fx: dict[str, Any]) -> tuple[list[GroupFitInput], bool]:
    """GroupFitInput per group and the meanstructure flag of a fixture."""
    meanstructure = fx["implied"][0].get("mean") is not None
    groups = []
    for g, (samp, impl) in enumerate(zip(fx["sample"], fx["implied"], strict=True), start=1):
        names = list(samp["names"])
        assert list(impl["names"]) == names
        x_names = _fixed_x_names(fx["partable"], g)
        x_index = tuple(i for i, name in enumerate(names) if name in x_names)
        sample_mean = np.asarray(samp["mean"], dtype=float)
        implied_mean = (
            np.asarray(impl["mean"], dtype=float) if meanstructure else sample_mean.copy()
        )
        groups.append(
            GroupFitInput(
                nobs=int(samp["nobs"]),
                sample_cov=np.asarray(samp["cov"], dtype=float),
                sample_mean=sample_mean,
                implied_cov=np.asarray(impl["cov"], dtype=float),
                implied_mean=implied_mean,
                x_index=x_index,
            )
        )
    return groups, meanstructure


def _scaled_from_fixture(fx: dict[str, Any]) -> ScaledInput | None:
    """ScaledInput of a robust fixture (``None`` for a standard-test one).

    The model's scaled statistic and scaling factors come from lavaan's test
    object; the baseline's from ``fit_measures`` (lavaan does not store the
    baseline's test object).
    """
    tests = list(fx.get("test_types") or ["standard"])
    if tests == ["standard"]:
        return None
    (name,) = tests
    test = fx["tests"][name]
    fm = fx["fit_measures"]

    def num(value: Any) -> float:
        return math.nan if value is None else float(value)

    # the baseline's shift (scaled.shifted): its scaled statistic is X2_0 / c0 + b0
    base_shift = math.nan
    if name == "scaled.shifted":
        base_shift = num(fm["baseline.chisq.scaled"]) - num(fm["baseline.chisq"]) / num(
            fm["baseline.chisq.scaling.factor"]
        )
    return ScaledInput(
        test=name,
        chisq_scaled=num(test["stat"]),
        scaling_factor=num(test["scaling.factor"]),
        baseline_chisq_scaled=num(fm["baseline.chisq.scaled"]),
        baseline_scaling_factor=num(fm["baseline.chisq.scaling.factor"]),
        scaling_factor_h1=num(test.get("scaling.factor.h1")),
        scaling_factor_h0=num(test.get("scaling.factor.h0")),
        shift_parameter=num(test.get("shift.parameter")),
        baseline_shift_parameter=base_shift,
    )


def _lavaan_measures(fx: dict[str, Any]) -> pd.Series:
    """lavaan's fit measures with dots turned into underscores (NA -> nan)."""
    fm = fx["fit_measures"]
    return pd.Series(
        {k.replace(".", "_"): (math.nan if v is None else float(v)) for k, v in fm.items()},
        dtype=float,
    )


def _assert_close(ours: pd.Series, ref: pd.Series, label: str) -> None:
    problems = []
    for name in ours.index:
        a, b = float(ours[name]), float(ref[name])
        if math.isnan(b) or math.isnan(a):
            if not (math.isnan(a) and math.isnan(b)):
                problems.append(f"{name}: ours={a!r} lavaan={b!r}")
            continue
        if math.isinf(a) or math.isinf(b):
            if a != b:
                problems.append(f"{name}: ours={a!r} lavaan={b!r}")
            continue
        if abs(a - b) > max(RTOL * abs(b), ATOL):
            problems.append(f"{name}: ours={a!r} lavaan={b!r}")
    assert not problems, f"{label}: " + "; ".join(problems)


@pytest.fixture(params=FIXTURES, ids=[p.stem for p in FIXTURES])
def lavaan_fixture(request: pytest.FixtureRequest) -> dict[str, Any]:
    fx = _load(request.param)
    reason = _skip_reason(fx)
    if reason is not None:
        pytest.skip(reason)
    return fx


@pytest.mark.parametrize("chisq_source", ["lavaan", "computed"])
def test_matches_lavaan(lavaan_fixture: dict[str, Any], chisq_source: str) -> None:
    fx = lavaan_fixture
    groups, meanstructure = _groups_from_fixture(fx)
    ref = _lavaan_measures(fx)
    chisq = float(ref["chisq"]) if chisq_source == "lavaan" else None
    scaled = _scaled_from_fixture(fx)
    ours = fit_measures(
        groups,
        npar=int(ref["npar"]),
        df=int(ref["df"]),
        meanstructure=meanstructure,
        chisq=chisq,
        scaled=scaled,
    )
    # same measures, same order as lavaan reports them
    assert list(ours.index) == list(ref.index)
    assert tuple(ours.index) == fit_measure_names(None if scaled is None else scaled.test)
    assert ours.dtype == np.float64
    _assert_close(ours, ref, f"{fx['name']} (chisq {chisq_source})")


# ---------------------------------------------------------------------------
# fixture-independent checks
# ---------------------------------------------------------------------------


def _toy_group(seed: int, n: int = 200, p: int = 5, misfit: float = 0.15) -> GroupFitInput:
    """A one-factor-like implied matrix and a perturbed 'sample' matrix."""
    rng = np.random.default_rng(seed)
    lam = rng.uniform(0.5, 0.9, size=p)
    sigma = np.outer(lam, lam) + np.diag(1.0 - lam**2)
    noise = rng.normal(scale=misfit, size=(p, p))
    s = sigma + 0.5 * (noise + noise.T) * 0.2
    s = 0.5 * (s + s.T)
    s += np.eye(p) * max(0.0, 0.05 - np.linalg.eigvalsh(s).min())
    mean = rng.normal(size=p)
    return GroupFitInput(n, s, mean, sigma, mean.copy())


def test_names_and_order() -> None:
    out = fit_measures([_toy_group(1)], npar=10, df=5, meanstructure=False)
    assert tuple(out.index) == FIT_MEASURE_NAMES
    assert len(FIT_MEASURE_NAMES) == 46
    assert out["ntotal"] == 200
    assert out["rmsea_ci_level"] == 0.90
    assert out["srmr"] == out["srmr_bentler"]
    assert out["tli"] == out["nnfi"]


def test_saturated_model() -> None:
    g = _toy_group(2)
    sat = GroupFitInput(
        g.nobs, g.sample_cov, g.sample_mean, g.sample_cov.copy(), g.sample_mean.copy()
    )
    out = fit_measures([sat], npar=15, df=0, meanstructure=False)
    assert out["chisq"] == pytest.approx(0.0, abs=1e-10)
    assert math.isnan(out["pvalue"])
    assert out["rmsea"] == 0.0
    assert out["rmsea_ci_lower"] == 0.0
    assert out["rmsea_ci_upper"] == 0.0
    assert math.isnan(out["rmsea_pvalue"])
    assert math.isnan(out["rmsea_notclose_pvalue"])
    assert math.isnan(out["cn_05"])
    assert out["cfi"] == 1.0
    assert out["tli"] == 1.0
    assert out["nfi"] == 1.0
    assert out["pnfi"] == 0.0
    assert out["gfi"] == pytest.approx(1.0)
    assert out["agfi"] == 1.0
    assert out["srmr"] == pytest.approx(0.0, abs=1e-14)
    assert out["logl"] == pytest.approx(out["unrestricted_logl"])


def test_chisq_below_df() -> None:
    g = _toy_group(3)
    out = fit_measures([g], npar=10, df=5, meanstructure=False, chisq=2.0)
    assert out["cfi"] == 1.0
    assert out["rmsea"] == 0.0
    assert out["rmsea_ci_lower"] == 0.0
    assert out["rni"] > 1.0
    assert out["tli"] > 1.0
    assert out["mfi"] > 1.0


def test_chisq_argument_overrides_computed() -> None:
    g = _toy_group(4)
    computed = fit_measures([g], npar=10, df=5, meanstructure=False)
    given = fit_measures([g], npar=10, df=5, meanstructure=False, chisq=computed["chisq"] + 3.0)
    assert given["chisq"] == pytest.approx(computed["chisq"] + 3.0)
    # fmin is the ML objective at the estimate, independent of the chisq argument
    assert given["fmin"] == computed["fmin"]
    assert computed["chisq"] == pytest.approx(2 * g.nobs * computed["fmin"])


def test_duplicated_groups_are_invariant() -> None:
    """Two identical groups: RMSEA (with its sqrt(G) correction), SRMR, GFI
    and CFI equal the single-group values; chi-squares and df double.  (The
    RMSEA interval is not invariant: it depends on df through the
    non-central chi-square.)"""
    g = _toy_group(5)
    one = fit_measures([g], npar=10, df=5, meanstructure=True)
    two = fit_measures([g, g], npar=20, df=10, meanstructure=True)
    assert two["chisq"] == pytest.approx(2 * one["chisq"])
    assert two["baseline_chisq"] == pytest.approx(2 * one["baseline_chisq"])
    assert two["baseline_df"] == 2 * one["baseline_df"]
    for name in ("rmsea", "srmr", "srmr_mplus", "crmr", "rmr", "gfi", "cfi", "fmin", "mfi"):
        assert two[name] == pytest.approx(one[name], rel=1e-6), name


def test_baseline_is_ml_fit_of_independence_model() -> None:
    """The closed-form baseline chi-square equals the chi-square of the model
    whose implied matrix is the baseline solution (with a fixed.x block)."""
    g = _toy_group(6, p=6)
    x = (4, 5)
    s = g.sample_cov
    base = np.diag(np.diag(s))
    base[np.ix_(x, x)] = s[np.ix_(x, x)]
    model = GroupFitInput(g.nobs, s, g.sample_mean, s.copy(), g.sample_mean.copy(), x)
    indep = GroupFitInput(g.nobs, s, g.sample_mean, base, g.sample_mean.copy(), x)
    ref = fit_measures([model], npar=21, df=0, meanstructure=True)
    out = fit_measures([indep], npar=10, df=int(ref["baseline_df"]), meanstructure=True)
    # p_y = 4, p_x = 2: 4*3/2 + 4*2 = 14
    assert ref["baseline_df"] == 14
    assert out["chisq"] == pytest.approx(ref["baseline_chisq"], rel=1e-10)
    assert out["cfi"] == pytest.approx(0.0, abs=1e-12)


def test_zeroin_agrees_with_brent() -> None:
    def f(lam: float) -> float:
        from scipy import special

        return float(special.chndtr(85.3, 24, lam)) - 0.05

    exact = optimize.brentq(f, 0.0, 400.0, xtol=1e-14)
    approx = zeroin(f, 0.0, 400.0)
    assert approx == pytest.approx(exact, abs=1.3e-4)
    assert math.isnan(zeroin(lambda v: v + 1.0, 0.0, 1.0))


@pytest.mark.parametrize(
    ("kwargs", "groups"),
    [
        ({}, []),
        ({"level": 1.5}, None),
    ],
)
def test_invalid_arguments(kwargs: dict[str, Any], groups: list[GroupFitInput] | None) -> None:
    groups = [_toy_group(7)] if groups is None else groups
    with pytest.raises(ValueError):
        fit_measures(groups, npar=10, df=5, meanstructure=False, **kwargs)


def test_non_positive_definite_implied_raises() -> None:
    g = _toy_group(8)
    bad = GroupFitInput(g.nobs, g.sample_cov, g.sample_mean, -np.eye(5), g.sample_mean)
    with pytest.raises(ValueError, match="positive definite"):
        fit_measures([bad], npar=10, df=5, meanstructure=False)


def test_shape_mismatch_raises() -> None:
    g = _toy_group(9)
    bad = GroupFitInput(g.nobs, g.sample_cov, g.sample_mean[:3], g.implied_cov, g.implied_mean)
    with pytest.raises(ValueError):
        fit_measures([bad], npar=10, df=5, meanstructure=False)


# ---------------------------------------------------------------------------
# robust (scaled) measures
# ---------------------------------------------------------------------------

ROBUST_FIXTURES = ("hs_mlm", "hs_mlr", "poldem_mlr", "hs_mg_mlr_metric", "hs_mg_mlr_scalar",
                   "hs_mlmv", "poldem_mlmv", "hs_mg_mlmv_metric", "hs_mg_mlmv_scalar")


@pytest.mark.parametrize("stem", ROBUST_FIXTURES)
def test_robust_fixtures_are_covered(stem: str) -> None:
    """The robust fixtures are in scope (not silently skipped)."""
    fx = _load(REFERENCE_DIR / f"{stem}.json")
    assert _skip_reason(fx) is None
    assert _scaled_from_fixture(fx) is not None


@pytest.mark.parametrize("stem", ["hs_fiml", "hs_fiml_mlr"])
def test_missing_data_fixtures_stay_skipped(stem: str) -> None:
    path = REFERENCE_DIR / f"{stem}.json"
    if not path.exists():
        pytest.skip(f"{stem} fixture absent")
    assert _skip_reason(_load(path)) is not None


def _toy_scaled(test: str, g: GroupFitInput, df: int, c: float, c0: float) -> ScaledInput:
    """A ScaledInput consistent with the toy group's unscaled statistics."""
    std = fit_measures([g], npar=10, df=df, meanstructure=False)
    return ScaledInput(
        test=test,
        chisq_scaled=float(std["chisq"]) / c,
        scaling_factor=c,
        baseline_chisq_scaled=float(std["baseline_chisq"]) / c0,
        baseline_scaling_factor=c0,
        scaling_factor_h1=1.1,
        scaling_factor_h0=1.2,
    )


def test_robust_names() -> None:
    sb = fit_measure_names("satorra.bentler")
    yb = fit_measure_names("yuan.bentler.mplus")
    assert fit_measure_names("scaled.shifted") == sb
    assert fit_measure_names() == FIT_MEASURE_NAMES
    # the robust sets extend the standard one, keeping its relative order
    for names in (sb, yb):
        assert [k for k in names if k in FIT_MEASURE_NAMES] == list(FIT_MEASURE_NAMES)
        assert len(set(names)) == len(names)
    assert set(yb) - set(sb) == {"scaling_factor_h1", "scaling_factor_h0"}
    assert yb.index("scaling_factor_h1") == yb.index("bic2") + 1
    assert len(sb) == 46 + 30  # lavaan 0.6-14: 76 measures for MLM, 78 for MLR
    assert len(yb) == 46 + 32
    # the Satterthwaite test: the scaled measures without the robust ones (lavaan 0.6-14's
    # 67 for ML with test = "mean.var.adjusted")
    mva = fit_measure_names("mean.var.adjusted")
    assert mva == tuple(k for k in sb if not k.endswith("_robust"))
    assert len(mva) == 67
    with pytest.raises(ValueError, match="unsupported robust test"):
        fit_measure_names("yuan.bentler")


@pytest.mark.parametrize("test", ROBUST_TESTS)
def test_robust_output_names(test: str) -> None:
    g = _toy_group(10)
    out = fit_measures(
        [g], npar=10, df=5, meanstructure=False, scaled=_toy_scaled(test, g, 5, 1.3, 1.6)
    )
    assert tuple(out.index) == fit_measure_names(test)
    assert out.dtype == np.float64
    if test == "yuan.bentler.mplus":
        assert out["scaling_factor_h1"] == 1.1
        assert out["scaling_factor_h0"] == 1.2


def test_robust_identities() -> None:
    """Robust RMSEA = sqrt(c) x RMSEA of the scaled statistic (point and
    interval); scaled indices = standard formulas on the scaled statistics;
    scaled RMSEA = RMSEA of the unscaled statistic on c * df."""
    g = _toy_group(11, misfit=0.4)
    df, c, c0 = 5, 1.4, 1.7
    sc = _toy_scaled("satorra.bentler", g, df, c, c0)
    out = fit_measures([g], npar=10, df=df, meanstructure=False, scaled=sc)
    # standard measures on the scaled statistic (baseline: only x2_null enters)
    on_scaled = fit_measures([g], npar=10, df=df, meanstructure=False, chisq=sc.chisq_scaled)
    assert out["chisq_scaled"] == sc.chisq_scaled
    assert out["df_scaled"] == df
    assert out["rmsea_robust"] == pytest.approx(math.sqrt(c) * on_scaled["rmsea"], rel=1e-12)
    for bound in ("lower", "upper"):
        assert out[f"rmsea_ci_{bound}_robust"] == pytest.approx(
            math.sqrt(c) * on_scaled[f"rmsea_ci_{bound}"], rel=1e-12
        )
    assert out["rmsea_scaled"] == pytest.approx(
        math.sqrt(max(out["chisq"] / 200 / (c * df) - 1 / 200, 0.0)), rel=1e-12
    )
    # robust CFI with the scaling factors entering the expected values
    x2, x20, df0 = out["chisq"], out["baseline_chisq"], out["baseline_df"]
    t1 = max(x2 - c * df, 0.0)
    t2 = max(x2 - c * df, x20 - c0 * df0, 0.0)
    assert out["cfi_robust"] == pytest.approx(1 - t1 / t2, rel=1e-12)
    assert out["rni_robust"] == pytest.approx(1 - (x2 - c * df) / (x20 - c0 * df0), rel=1e-12)
    assert out["tli_robust"] == pytest.approx(
        1 - (x2 - c * df) * df0 / ((x20 - c0 * df0) * df), rel=1e-12
    )
    assert out["nnfi_robust"] == out["tli_robust"]
    assert out["pvalue_scaled"] == pytest.approx(on_scaled["pvalue"], rel=1e-12)


def test_robust_unit_scaling_is_standard() -> None:
    """With scaling factors of exactly 1 (lavaan's fallback), every scaled
    and robust measure equals its standard counterpart."""
    g = _toy_group(12, misfit=0.4)
    out = fit_measures(
        [g], npar=10, df=5, meanstructure=False, scaled=_toy_scaled("satorra.bentler", g, 5, 1, 1)
    )
    for name in out.index:
        for suffix in ("_scaled", "_robust"):
            if name.endswith(suffix) and name.removesuffix(suffix) in out.index:
                base = name.removesuffix(suffix)
                assert out[name] == pytest.approx(out[base], rel=1e-12, abs=1e-14), name


def test_robust_multigroup_rmsea() -> None:
    """Two identical groups: the robust RMSEA keeps the single-group value
    (the sqrt(G) correction), with the pooled scaling factor."""
    g = _toy_group(13, misfit=0.4)
    c, c0 = 1.3, 1.5
    one = fit_measures(
        [g],
        npar=10,
        df=5,
        meanstructure=True,
        scaled=_toy_scaled("yuan.bentler.mplus", g, 5, c, c0),
    )
    two_std = fit_measures([g, g], npar=20, df=10, meanstructure=True)
    sc2 = ScaledInput(
        "yuan.bentler.mplus",
        float(two_std["chisq"]) / c,
        c,
        float(two_std["baseline_chisq"]) / c0,
        c0,
    )
    two = fit_measures([g, g], npar=20, df=10, meanstructure=True, scaled=sc2)
    for name in ("rmsea_robust", "rmsea_scaled", "cfi_robust", "cfi_scaled", "tli_robust"):
        assert two[name] == pytest.approx(one[name], rel=1e-10), name
    assert math.isnan(two["scaling_factor_h1"])


def test_robust_missing_scaling_factor_gives_nan() -> None:
    g = _toy_group(14)
    sc = ScaledInput("satorra.bentler", math.nan, math.nan, 100.0, 1.2)
    out = fit_measures([g], npar=10, df=5, meanstructure=False, scaled=sc)
    for name in ("cfi_robust", "tli_robust", "rni_robust", "rmsea_robust",
                 "rmsea_ci_lower_robust", "rmsea_pvalue_robust", "rmsea_scaled",
                 "cfi_scaled", "pvalue_scaled"):  # fmt: skip
        assert math.isnan(out[name]), name
    # the standard measures are unaffected
    std = fit_measures([g], npar=10, df=5, meanstructure=False)
    pd.testing.assert_series_equal(out[list(FIT_MEASURE_NAMES)], std)


def test_robust_unknown_test_raises() -> None:
    g = _toy_group(15)
    sc = ScaledInput("yuan.bentler", 10.0, 1.1, 100.0, 1.2)
    with pytest.raises(ValueError, match="unsupported robust test"):
        fit_measures([g], npar=10, df=5, meanstructure=False, scaled=sc)


# ---------------------------------------------------------------------------
# missing data (FIML)
# ---------------------------------------------------------------------------


def test_missing_names() -> None:
    """With FIML lavaan adds the nine (FIML-corrected) robust measures to the standard
    set; with a robust test the names are the robust set."""
    names = fit_measure_names(None, missing=True)
    assert len(names) == 46 + 9
    assert [k for k in names if k in FIT_MEASURE_NAMES] == list(FIT_MEASURE_NAMES)
    assert names.index("cfi_robust") == names.index("tli") + 1
    assert names.index("rmsea_robust") == names.index("rmsea_notclose_h0") + 1
    # (not the Satterthwaite test: semnet, like lavaan, fits it to complete data only)
    for test in ("satorra.bentler", "yuan.bentler.mplus", "scaled.shifted"):
        assert fit_measure_names(test, missing=True) == fit_measure_names(test)


def test_missing_gfi_one_complete_pattern_is_the_complete_data_gfi() -> None:
    g = _toy_group(16)
    p = g.sample_cov.shape[0]
    inv = np.linalg.inv(g.implied_cov)
    complete = _group_gfi(
        g.sample_cov, g.sample_mean, g.implied_cov, g.implied_mean + 0.1, inv,
        np.array([], dtype=int), True,
    )  # fmt: skip
    missing = _group_gfi_missing(
        g.sample_cov, g.sample_mean, g.implied_cov, g.implied_mean + 0.1,
        [(np.arange(p), g.nobs)],
    )  # fmt: skip
    assert missing == pytest.approx(complete, rel=1e-12)
    # a second pattern with one variable missing changes the weight
    two = _group_gfi_missing(
        g.sample_cov, g.sample_mean, g.implied_cov, g.implied_mean + 0.1,
        [(np.arange(p), g.nobs // 2), (np.arange(1, p), g.nobs // 2)],
    )  # fmt: skip
    assert abs(two - complete) > 1e-6


def test_missing_without_corrected_statistics_is_nan() -> None:
    """FIML measures that need what the caller did not give are NaN, not the
    complete-data formulas."""
    g = _toy_group(17)
    std = fit_measures([g], npar=10, df=5, meanstructure=True)
    info = MissingDataInput(
        logl=float(std["logl"]),
        unrestricted_logl=float(std["unrestricted_logl"]),
        baseline_chisq=float(std["baseline_chisq"]),
    )
    out = fit_measures([g], npar=10, df=5, meanstructure=True, chisq=std["chisq"], missing=info)
    assert tuple(out.index) == fit_measure_names(None, missing=True)
    nan = [k for k in out.index if "robust" in k or k in ("gfi", "agfi", "pgfi")]
    assert out[nan].isna().all()
    assert out.drop(nan).notna().all()


@pytest.mark.parametrize("options", [{"estimator": "MLR"}, {"estimator": "MLM"},
                                     {"ordered": ["x7", "x8", "x9"]}])  # fmt: skip
def test_saturated_model_has_a_zero_robust_rmsea_interval(options) -> None:
    """df = 0 leaves no scaling factor; lavaan's robust RMSEA interval is then [0, 0], as
    the standard one (tests/reference/fuzz2 n005, n046)."""
    hs = semnet.datasets.holzinger_swineford()
    cut = {v: pd.cut(hs[v], 4, labels=False) for v in ("x7", "x8", "x9")}
    data = hs.assign(**cut) if "ordered" in options else hs
    fm = semnet.cfa("speed =~ x7 + x8 + x9", data, **options).fit_measures()
    assert fm["df"] == 0
    assert (fm["rmsea_robust"], fm["rmsea_ci_lower_robust"], fm["rmsea_ci_upper_robust"]) == (
        0.0, 0.0, 0.0)  # fmt: skip


def test_ordinal_residuals_keep_a_continuous_variable_in_its_variance() -> None:
    """Ordinal items with a random continuous covariate: lavaan's rmr compares
    covariances, the covariate in its own variance (0.94 here), not correlations
    (lavaan 0.6.14, ``sem(model, sim2, ordered = o5:o8, conditional.x = FALSE)``:
    rmr_nomean 0.004178345751; tests/reference/fuzz2 n133)."""
    data = pd.read_csv(REFERENCE / "fuzz2" / "sim2.csv")
    fit = semnet.sem("h2 =~ NA*o5 + o6 + o7 + o8\nh2 ~~ 1*h2\nh2 ~ z1", data,
                     ordered=["o5", "o6", "o7", "o8"], fixed_x=False)  # fmt: skip
    fm = fit.fit_measures()
    assert fm["rmr_nomean"] == pytest.approx(0.004178345751, rel=FIT_RTOL)
