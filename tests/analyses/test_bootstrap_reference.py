"""bootstrap() against independent computations on the same resamples (issue 22).

``tests/reference/analyses/resampling_*.json`` (``tests/reference/make_resampling.R``)
hold, for semnet's own draws: lavaan's refits of the first resamples, lavaan's
leave-one-out jackknife, the acceleration and ``boot::boot.ci``'s percentile, basic,
normal and BCa intervals; and lavaan's χ² of semnet's Bollen–Stine resamples.  The
hand-computed cases check the acceleration and the BCa interval of a regression slope
against ordinary least squares and the formulas of Efron (1987) written out here.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from reference import REFERENCE, ROOT
from scipy.stats import norm
from tolerances import ACCEL_RTOL, ARITH_RTOL, BOOT_SE_TOL, FIT_RTOL

import semnet
from semnet.analyses.bootstrap import bootstrap

CASES = ("bca_mediation_latent", "bca_mediation_mg")
METHODS = {"percentile": "perc", "basic": "basic", "normal": "norm", "bca": "bca"}


def _load(name: str) -> dict:
    with open(REFERENCE / "analyses" / f"resampling_{name}.json", encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="module", params=CASES)
def case(request):
    """The fixture and semnet's bootstrap of the same fit with the same seed."""
    ref = _load(request.param)
    call = ref["call"]
    fit = semnet.sem(call["model"], pd.read_csv(ROOT / call["data"]), group=call["group"])
    res = bootstrap(fit, n=call["n"], seed=call["seed"], ci=("percentile", "bca"))
    return ref, res, fit


def _columns(ref: dict, res) -> list[int]:
    return [res.columns.index(q) for q in ref["quantities"]]


def test_draws_are_lavaans_fits_of_the_same_resamples(case):
    """The fixture's draws are this code's, and lavaan refits the same resamples to
    the same estimates (rows drawn by semnet's documented SeedSequence scheme)."""
    ref, res, _ = case
    q = ref["quantities"]
    draws = res.draws[q].to_numpy()
    se = np.nanstd(draws, axis=0)
    stored = pd.read_csv(REFERENCE / "analyses" / "resampling_inputs"
                         / f"{ref['name'].removeprefix('resampling_')}_draws.csv")  # fmt: skip
    assert list(stored.columns) == q
    # a failed draw (NaN) is failed in both; the others agree
    failed = np.isnan(draws)
    assert np.array_equal(failed, np.isnan(stored.to_numpy()))
    assert np.all(np.abs(draws - stored.to_numpy())[~failed] <= np.broadcast_to(
        BOOT_SE_TOL * se, draws.shape)[~failed])
    assert res.n_failed == ref["n_failed"]
    refits = np.array(ref["refits"]["matrix"])
    assert np.all(np.abs(draws[: len(refits)] - refits) <= BOOT_SE_TOL * se)
    assert np.all(np.abs(res.estimate[_columns(ref, res)] - ref["t0"]) <= BOOT_SE_TOL * se)


def test_acceleration_equals_the_lavaan_jackknife(case):
    """Efron's acceleration sum(L^3) / (6 sum(L^2)^1.5) of the leave-one-out estimates,
    every case of every group deleted once and all deletions pooled."""
    ref, res, _ = case
    ours = res.acceleration[_columns(ref, res)]
    assert np.allclose(ours, ref["acceleration"], rtol=ACCEL_RTOL, atol=0)
    # from the stored jackknife itself
    jack = np.array(ref["jackknife"]["matrix"])
    L = jack.mean(axis=0) - jack
    assert np.allclose(np.sum(L**3, axis=0) / (6 * np.sum(L**2, axis=0) ** 1.5),
                       ref["acceleration"], rtol=1e-12)  # fmt: skip
    assert len(jack) == 301 and sorted(ref["jackknife"]["row"]) == list(range(1, 302))


@pytest.mark.parametrize("level", [0.95, 0.90])
@pytest.mark.parametrize("method", list(METHODS))
def test_intervals_equal_boot_ci(case, method, level):
    """boot.ci() on the same draws: percentile to rounding; basic, normal and BCa to the
    difference of lavaan's and semnet's estimates and jackknife."""
    ref, res, _ = case
    tab = res.table(level=level, ci=method).set_index("name").loc[ref["quantities"]]
    theirs = ref["intervals"][f"{level:.2f}"]
    se = tab["boot_se"].to_numpy()
    for side in ("lower", "upper"):
        ours = tab[f"ci_{side}_{method}"].to_numpy()
        expected = np.array(theirs[f"{METHODS[method]}_{side}"])
        if method == "percentile":
            assert np.allclose(ours, expected, rtol=ARITH_RTOL, atol=0), side
        else:
            assert np.all(np.abs(ours - expected) <= BOOT_SE_TOL * se), (side, ours - expected)


def test_fit_estimates_report_the_same_bca_intervals(case):
    """``Fit.with_bootstrap(...).estimates(boot_ci="bca")`` puts each interval on its row
    (parameters of every group, then the ``:=`` rows)."""
    ref, res, fit = case
    est = fit.with_bootstrap(res).estimates(standardized=False, boot_ci="bca")
    later = {g: f".g{k + 1}" for k, g in enumerate(fit.groups) if k > 0}
    names = [r.lhs if r.op == ":=" else f"{r.lhs}{r.op}{r.rhs}{later.get(r.group, '')}"
             for r in est.itertuples()]  # fmt: skip
    rows = est.set_axis(names).loc[ref["quantities"]]
    se = res.table(ci="percentile").set_index("name").loc[ref["quantities"], "boot_se"]
    theirs = ref["intervals"]["0.95"]
    for side in ("lower", "upper"):
        diff = rows[f"ci_{side}"].to_numpy() - np.array(theirs[f"bca_{side}"])
        assert np.all(np.abs(diff) <= BOOT_SE_TOL * se.to_numpy()), (side, diff)


def test_bollen_stine_chisq_and_pvalue_equal_lavaans_on_the_same_resamples():
    """lavaan's χ² of semnet's Bollen–Stine resamples (data transformed by the script as
    lavaan does, checked there against lavaan's own bollen.stine draws)."""
    ref = _load("bollen_stine_poldem_draws")
    call = ref["call"]
    fit = semnet.sem(call["model"], pd.read_csv(ROOT / call["data"]))
    res = bootstrap(fit, n=call["n"], seed=call["seed"], ci="percentile", type="bollen_stine")
    assert np.isclose(res.chisq_sample, ref["chisq_sample"], rtol=FIT_RTOL)
    assert np.allclose(res.chisq, ref["chisq"], rtol=FIT_RTOL)
    assert res.n_ok == ref["boot_length"] == call["n"]
    assert res.bollen_stine_pvalue == ref["pvalue"] == ref["boot_larger"] / ref["boot_length"]
    assert 0.2 < ref["pvalue"] < 0.8  # a p-value that tells the counting rule apart


# -- hand-computed acceleration and BCa interval ------------------------------------------
def _norm_inter(t: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Quantiles of the draws interpolated on the normal scale between the order
    statistics k and k+1 around (B + 1) alpha (Davison & Hinkley, 1997, eq. 5.8)."""
    t = np.sort(t)
    B = t.size
    out = []
    for a in alpha:
        k = int(np.floor((B + 1) * a))
        if k == (B + 1) * a:
            out.append(t[k - 1])
            continue
        k = min(max(k, 1), B - 1)
        z, z1, z2 = norm.ppf([a, k / (B + 1), (k + 1) / (B + 1)])
        out.append(t[k - 1] + (z - z1) / (z2 - z1) * (t[k] - t[k - 1]))
    return np.array(out)


def _ols(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.polyfit(x, y, 1)[0])


def _bca(t: np.ndarray, est: float, a: float, level: float) -> np.ndarray:
    """Efron's BCa limits: quantiles of the draws at Φ(w + (w + z)/(1 − a(w + z)))."""
    w = norm.ppf(np.mean(t < est))
    z = norm.ppf([(1 - level) / 2, (1 + level) / 2])
    return _norm_inter(t, norm.cdf(w + (w + z) / (1 - a * (w + z))))


def _skewed(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": 0.5 * x + rng.exponential(size=n) * (1 + x**2)})


def test_acceleration_and_bca_of_a_slope_by_hand():
    """y ~ x on 15 cases: the jackknife slopes are least-squares slopes without case i,
    a = Σ(m − b₋ᵢ)³ / (6 (Σ(m − b₋ᵢ)²)^1.5) with m their mean."""
    data = _skewed(15, 0)
    fit = semnet.sem("y ~ x", data)
    res = bootstrap(fit, n=999, seed=4, ci="bca")
    k = res.columns.index("y~x")
    x, y = data["x"].to_numpy(), data["y"].to_numpy()
    est = _ols(x, y)
    assert np.isclose(res.estimate[k], est, rtol=1e-8)
    jack = np.array([_ols(np.delete(x, i), np.delete(y, i)) for i in range(len(x))])
    L = jack.mean() - jack
    a = np.sum(L**3) / (6 * np.sum(L**2) ** 1.5)
    assert abs(a) > 0.05  # the skewed data give an acceleration that matters
    assert np.isclose(res.acceleration[k], a, rtol=ACCEL_RTOL, atol=0)
    t = res.draws["y~x"].to_numpy()
    for level in (0.95, 0.80):
        row = res.table(level=level, ci="bca").set_index("name").loc["y~x"]
        lo, hi = _bca(t, est, a, level)
        assert np.isclose(row.ci_lower_bca, lo, rtol=1e-6), level
        assert np.isclose(row.ci_upper_bca, hi, rtol=1e-6), level


def test_multigroup_jackknife_deletes_each_case_of_each_group_and_pools_them():
    """Two groups: a group-1 slope is unchanged by deleting a group-2 case, and the
    acceleration pools all n₁ + n₂ deletions, centred at their common mean."""
    one, two = _skewed(12, 5), _skewed(16, 6)
    data = pd.concat([one.assign(g="A"), two.assign(g="B")], ignore_index=True)
    fit = semnet.sem("y ~ x", data, group="g")
    res = bootstrap(fit, n=499, seed=7, ci="bca")
    for name, block, other in (("y~x", one, two), ("y~x.g2", two, one)):
        x, y = block["x"].to_numpy(), block["y"].to_numpy()
        est = _ols(x, y)
        own = [_ols(np.delete(x, i), np.delete(y, i)) for i in range(len(x))]
        jack = np.array(own + [est] * len(other))
        L = jack.mean() - jack
        a = np.sum(L**3) / (6 * np.sum(L**2) ** 1.5)
        k = res.columns.index(name)
        assert np.isclose(res.acceleration[k], a, rtol=ACCEL_RTOL, atol=0), name
        row = res.table(ci="bca").set_index("name").loc[name]
        lo, hi = _bca(res.draws[name].to_numpy(), est, a, 0.95)
        assert np.isclose(row.ci_lower_bca, lo, rtol=1e-6), name
        assert np.isclose(row.ci_upper_bca, hi, rtol=1e-6), name
