"""bootstrap(): reproducibility, refits, interval arithmetic and agreement with lavaan."""

from __future__ import annotations

import dataclasses
import json
import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from reference import REFERENCE, ROOT
from tolerances import EST_RTOL, STACK_RTOL

import semnet
from semnet.analyses.bootstrap import BootstrapResult, _bollen_stine_data, bootstrap

HS = semnet.datasets.holzinger_swineford()
MEDIATION = """
x8 ~ a*x7
x9 ~ b*x8 + c*x7
ind := a*b
total := c + a*b
"""


def _load(name: str) -> dict:
    with open(REFERENCE / "analyses" / f"{name}.json", encoding="utf-8") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def med_fit():
    return semnet.sem(MEDIATION, HS)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return np.array_equal(a, b, equal_nan=True)


# -- (a) reproducibility -----------------------------------------------------------------
def test_same_seed_same_draws_whatever_n_jobs(med_fit):
    one = bootstrap(med_fit, n=40, seed=11, ci="percentile")
    two = bootstrap(med_fit, n=40, seed=11, ci="percentile", n_jobs=2)
    with ThreadPoolExecutor(3) as pool:
        threads = bootstrap(med_fit, n=40, seed=11, ci="percentile", executor=pool)
    assert _same(one.draws.to_numpy(), two.draws.to_numpy())
    assert _same(one.draws.to_numpy(), threads.draws.to_numpy())
    assert _same(one.chisq, two.chisq)
    other = bootstrap(med_fit, n=40, seed=12, ci="percentile")
    assert not _same(one.draws.to_numpy(), other.draws.to_numpy())
    again = bootstrap(med_fit, n=40, seed=one.seed_entropy, ci="percentile")
    assert _same(one.draws.to_numpy(), again.draws.to_numpy())


def test_draw_equals_a_fresh_fit_of_the_resample():
    """Draw b is the fit of the cases drawn by SeedSequence(seed).spawn(n)[b], group by
    group, with fixed.x covariates at the resample's moments."""
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ ageyr\ntextual ~ ageyr"
    fit = semnet.sem(model, HS, group="school")
    res = bootstrap(fit, n=3, seed=5, ci="percentile")
    child = np.random.SeedSequence(5).spawn(3)[2]
    rng = np.random.default_rng(child)
    parts = []
    for label in fit.groups:
        block = HS[HS["school"] == label].reset_index(drop=True)
        parts.append(block.iloc[rng.integers(0, len(block), size=len(block))])
    refit = semnet.sem(model, pd.concat(parts, ignore_index=True), group="school")
    est = refit.estimates()
    free = fit.partable.params["free"].to_numpy() > 0
    assert np.allclose(res.draws.iloc[2].to_numpy(), est.loc[free, "est"].to_numpy(), atol=1e-6)
    assert np.isclose(res.chisq[2], refit.chisq, rtol=1e-6)



def test_linearised_start_is_first_order_in_the_moments():
    """The start of a refit predicts the optimum with an error of second order in the
    change of the moments (multi-group, mean structure, equality constraints)."""
    from semnet.analyses.bootstrap import _Refitter
    from semnet.estimation.optimize import minimize

    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6"
    fit = semnet.cfa(model, HS, group="school", group_equal=["loadings", "intercepts"])
    refitter = _Refitter(fit, [m.data for m in fit.moments], [])
    rng = np.random.default_rng(0)
    p = refitter.data[0].shape[1]
    E, shift = 0.3 * rng.normal(size=(p, p)), rng.normal(size=p)
    errors = []
    for eps in (0.1, 0.01):
        # every group's data moved by eps: a linear transformation and a shift
        moved = [d @ (np.eye(p) + eps * E) + eps * shift for d in refitter.data]
        disc = refitter.discrepancy_of(moved)
        optimum = minimize(disc, refitter.constraints, refitter.x).x
        start = refitter.linearization.start(disc.moments)
        errors.append(np.linalg.norm(start - optimum) / np.linalg.norm(refitter.x - optimum))
    # relative error proportional to eps (the prediction is exact to first order)
    assert errors[1] < 0.2 * errors[0] and errors[1] < 0.01

# -- result object -------------------------------------------------------------------------
def test_result_is_immutable_and_labelled(med_fit):
    res = bootstrap(med_fit, n=20, seed=1, ci="percentile", indirect={"x": "x7", "y": "x9"})
    assert isinstance(res, BootstrapResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.n = 3
    d = res.draws
    d.iloc[0, 0] = 99.0
    assert res.draws.iloc[0, 0] != 99.0
    assert list(res.draws.columns[:3]) == ["x8~x7", "x9~x8", "x9~x7"]
    assert "ind" in res.draws.columns and "total" in res.draws.columns
    assert "indirect[x7 -> x8 -> x9]" in res.draws.columns
    # the := row and the enumerated indirect effect are the same numbers
    assert np.allclose(res.draws["ind"], res.draws["indirect[x7 -> x8 -> x9]"])
    assert res.n_failed == 0 and res.n_ok == 20
    with pytest.raises(semnet.SemnetError, match="bollen_stine"):
        _ = res.bollen_stine_pvalue
    assert pickle.loads(pickle.dumps(res)).n == 20


# -- (c) intervals -------------------------------------------------------------------------
def test_percentile_interval_of_indirect_effect_brackets_the_estimate(med_fit):
    res = bootstrap(med_fit, n=300, seed=3, indirect={"x": "x7", "y": "x9"})
    tab = res.table().set_index("name")
    for name in ("ind", "indirect[x7 -> x8 -> x9]"):
        row = tab.loc[name]
        assert row.ci_lower_percentile < row.est < row.ci_upper_percentile
        assert row.ci_lower_bca < row.est < row.ci_upper_bca
        assert row.n_boot == 300
    delta = semnet.analyses.mediation.indirect_effects(med_fit, "x7", y="x9")
    se = delta.loc[delta["effect"] == "indirect", "se"].iloc[0]
    assert 0.7 < tab.loc["ind", "boot_se"] / se < 1.3
    narrow = res.table(level=0.5).set_index("name").loc["ind"]
    assert narrow.ci_upper_percentile - narrow.ci_lower_percentile < (
        tab.loc["ind"].ci_upper_percentile - tab.loc["ind"].ci_lower_percentile
    )


@pytest.mark.parametrize(
    ("key", "method", "level"),
    [("perc", "percentile", 0.95), ("perc90", "percentile", 0.90),
     ("bca_simple", "bca_simple", 0.95), ("basic", "basic", 0.95), ("norm", "normal", 0.95)],
)  # fmt: skip
def test_interval_arithmetic_reproduces_lavaan_on_its_own_draws(med_fit, key, method, level):
    ref = _load("bootstrap_ci_mediation")
    D = np.array(ref["boot"]["matrix"], dtype=float)
    assert ref["boot"]["names"] == ["a", "b", "c", "x8~~x8", "x9~~x9"]
    D = np.column_stack([D, D[:, 0] * D[:, 1], D[:, 2] + D[:, 0] * D[:, 1]])
    free = med_fit.partable.params["free"].to_numpy() > 0
    ours_est = np.concatenate([med_fit.values[free], med_fit._names.defined(med_fit.values)])
    lav = pd.DataFrame(ref[key])
    lav = lav[(lav["se"] > 0) | (lav["op"] == ":=")]
    # the interval arithmetic is checked at lavaan's own estimates (ours agree to EST_RTOL;
    # the basic interval 2 est - quantile would carry that difference)
    est = lav["est"].to_numpy()
    assert np.allclose(ours_est, est, rtol=EST_RTOL)
    cols = ("a", "b", "c", "x8~~x8", "x9~~x9", "ind", "total")
    res = BootstrapResult(
        n=len(D), type="ordinary", seed_entropy=0, columns=cols,
        rows=tuple((c, "", "", None, "") for c in cols), estimate=est, _draws=D,
        _chisq=np.zeros(len(D)), failure_reasons=("",) * len(D), acceleration=None,
        chisq_sample=0.0,
    )  # fmt: skip
    tab = res.table(level=level, ci=method)
    # lavaan's se of a := row divides by B - 1, boot_se by B: compare free rows only
    assert np.allclose(tab["boot_se"][:5], lav["se"][:5], rtol=1e-10)
    # lavaan's "norm" evaluates := at the mean of the parameters: compare free rows only
    rows = slice(0, 5) if method == "normal" else slice(None)
    for side in ("lower", "upper"):
        ours = tab[f"ci_{side}_{method}"].to_numpy()[rows]
        theirs = lav[f"ci.{side}"].to_numpy()[rows]
        assert np.allclose(ours, theirs, rtol=1e-10, atol=1e-12), side


def test_bca_uses_the_jackknife_acceleration(med_fit):
    res = bootstrap(med_fit, n=100, seed=8, ci=("percentile", "bca", "bca_simple"))
    assert res.acceleration is not None
    assert res.acceleration.shape == (len(res.columns),)
    assert np.all(np.isfinite(res.acceleration)) and np.abs(res.acceleration).max() < 0.5
    # with zero acceleration BCa is the bias-corrected interval
    zero = dataclasses.replace(res, acceleration=np.zeros(len(res.columns)))
    t0 = zero.table(ci=("bca", "bca_simple"))
    assert np.allclose(t0["ci_lower_bca"], t0["ci_lower_bca_simple"])
    no_jack = bootstrap(med_fit, n=10, seed=8, ci="percentile")
    with pytest.raises(semnet.SemnetError, match="jackknife"):
        no_jack.table(ci="bca")


# -- (d) failed draws --------------------------------------------------------------------
def test_failed_draws_are_counted_and_left_out():
    rng = np.random.default_rng(0)
    n = 30
    x = rng.normal(size=n)
    d = np.zeros(n)
    d[0] = 1.0  # a rare dummy: resamples without case 0 make it constant
    y = 0.5 * x + d + rng.normal(size=n)
    data = pd.DataFrame({"y": y, "x": x, "d": d})
    fit = semnet.sem("y ~ x + d", data)
    with pytest.warns(semnet.SemnetWarning, match="bootstrap draws failed"):
        res = bootstrap(fit, n=60, seed=2, ci="percentile")
    assert 5 < res.n_failed < 50
    failed = res.failed
    assert np.isnan(res.draws.to_numpy()[failed]).all()
    assert np.isfinite(res.draws.to_numpy()[~failed]).all()
    assert all("singular" in r for r, f in zip(res.failure_reasons, failed, strict=True) if f)
    tab = res.table(ci="percentile")
    assert (tab["n_boot"] == res.n_ok).all()
    assert np.isfinite(tab["boot_se"]).all()


def test_non_convergence_counts_as_failure(monkeypatch, med_fit):
    import semnet.analyses.bootstrap as mod
    from semnet.estimation.optimize import OptimizeResult

    draws = []  # every 4th draw fails, from the linearised start and from the estimates
    real = mod.minimize

    def flaky(disc, con, x, **options):
        if not any(d is disc for d in draws):
            draws.append(disc)
        out = real(disc, con, x, **options)
        if len(draws) % 4 == 0:
            return OptimizeResult(out.x, out.f, 500, False, "did not converge")
        return out

    monkeypatch.setattr(mod, "minimize", flaky)
    # the stack of a block hands every draw back to the draw-by-draw refit (minimize)
    real_stack = mod.minimize_stack

    def handed_back(stack, z):
        z, f, ok = real_stack(stack, z)
        return z, f, np.zeros_like(ok)

    monkeypatch.setattr(mod, "minimize_stack", handed_back)
    with pytest.warns(semnet.SemnetWarning, match="no convergence"):
        res = bootstrap(med_fit, n=20, seed=4, ci="percentile")
    assert res.n_failed == 5
    assert res.failure_reasons[3].startswith("no convergence")


# -- (e) Bollen-Stine ----------------------------------------------------------------------
def test_bollen_stine_data_have_the_implied_moments():
    fit = semnet.cfa("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6", HS, group="school")
    for g, X in enumerate(_bollen_stine_data(fit)):
        sigma, mu = fit.model.implied(fit.values, g)
        c = X - X.mean(axis=0)
        assert np.allclose(c.T @ c / len(X), sigma, atol=1e-10)
        assert np.allclose(X.mean(axis=0), mu, atol=1e-10)


def test_bollen_stine_pvalue_hs_cfa_matches_lavaan():
    ref = _load("bollen_stine_hs_cfa")
    fit = semnet.cfa(ref["call"]["model"], HS)
    res = bootstrap(fit, n=200, seed=20261203, ci="percentile", type="bollen_stine")
    assert res.n_failed == 0
    # the model is rejected: no draw exceeds chi-square 85.3 (lavaan: 0 of 1000)
    assert res.bollen_stine_pvalue == ref["pvalue"] == 0
    assert np.isclose(res.chisq_sample, ref["chisq"], rtol=1e-6)
    # the draws' chi-squares follow the reference distribution (mean near df = 24)
    assert abs(np.nanmean(res.chisq) - ref["boot_mean"]) < 4 * ref["boot_sd"] / np.sqrt(200)


@pytest.mark.slow
def test_bollen_stine_pvalue_poldem_matches_lavaan():
    ref = _load("bollen_stine_poldem")
    fit = semnet.sem(ref["call"]["model"], pd.read_csv(ROOT / ref["call"]["data"]))
    res = bootstrap(fit, n=1000, seed=20261203, ci="percentile", type="bollen_stine")
    # Monte Carlo standard error of the difference of two p-values ~ 0.022
    assert abs(res.bollen_stine_pvalue - ref["pvalue"]) < 0.07
    assert abs(np.nanmean(res.chisq) - ref["boot_mean"]) < 0.1 * ref["boot_mean"]


# -- (b) agreement with lavaan's bootstrap standard errors -------------------------------
@pytest.mark.slow
def test_bootstrap_se_match_lavaan_within_monte_carlo_error():
    ref = _load("bootstrap_mediation_latent")
    fit = semnet.sem(ref["call"]["model"], HS)
    res = bootstrap(fit, n=1000, seed=20261201, ci="percentile")
    tab = res.table(ci="percentile")
    lav = pd.DataFrame(ref["estimates"])
    lav = lav[lav["se"] > 0]
    assert tab["name"].str.replace(".g2", "").tolist()[-2:] == ["ind", "total"]
    ratio = tab["boot_se"].to_numpy() / lav["se"].to_numpy()
    # 1000 draws each: the SE of an SE is ~2-3 % (more for heavy-tailed loadings)
    assert np.all(np.abs(ratio - 1) < 0.15), ratio
    assert abs(np.median(ratio) - 1) < 0.06, np.median(ratio)
    assert np.allclose(tab["est"], lav["est"], rtol=1e-4)


# -- (f) FIML fits -------------------------------------------------------------------------
HS_MISSING = pd.read_csv(REFERENCE / "data" / "hs_missing.csv")


def test_fiml_draw_equals_a_fresh_fiml_fit_of_the_resampled_rows():
    """Incomplete rows are resampled too (not only complete cases) and refitted by FIML."""
    model = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6"
    fit = semnet.cfa(model, HS_MISSING, group="school", missing="fiml")
    res = bootstrap(fit, n=3, seed=9, ci="percentile")
    assert res.n_failed == 0 and np.isnan(res.chisq).all()
    rng = np.random.default_rng(np.random.SeedSequence(9).spawn(3)[1])
    parts = []
    for label in fit.groups:
        block = HS_MISSING[HS_MISSING["school"] == label]
        block = block[block[[f"x{i}" for i in range(1, 7)]].notna().any(axis=1)]
        block = block.reset_index(drop=True)
        parts.append(block.iloc[rng.integers(0, len(block), size=len(block))])
    resample = pd.concat(parts, ignore_index=True)
    assert resample[["x1", "x4"]].isna().any().all()  # incomplete rows are in the draw
    refit = semnet.cfa(model, resample, group="school", missing="fiml")
    free = fit.partable.params["free"].to_numpy() > 0
    assert np.allclose(res.draws.iloc[1], refit.estimates().loc[free, "est"], atol=1e-6)


def test_fiml_bootstrap_se_agree_with_lavaan_within_monte_carlo_error():
    """lavaan: 1000 FIML draws; semnet: 300.  The SE of a bootstrap SE is ~4 % with 300
    draws (normal theory), so the ratio is bounded at ~4 sigma."""
    ref = _load("bootstrap_fiml_mediation")
    fit = semnet.sem(ref["call"]["model"], HS_MISSING, missing="fiml", fixed_x=False,
                     bootstrap=300, seed=20261204)  # fmt: skip
    assert fit.bootstrap.n_failed == 0 and ref["n_ok"] == 1000
    est = fit.estimates()
    lav = pd.DataFrame(ref["estimates"])
    assert np.allclose(est["est"], lav["est"], rtol=1e-4)
    ratio = est["se"].to_numpy() / lav["se"].to_numpy()
    assert np.all(np.abs(ratio - 1) < 0.18), ratio
    assert abs(np.median(ratio) - 1) < 0.06
    for side in ("lower", "upper"):
        diff = (est[f"ci_{side}"] - lav[f"ci.{side}"]) / lav["se"]
        assert np.all(np.abs(diff) < 0.8), (side, diff.to_numpy())


def test_bollen_stine_refuses_fiml_fits_as_lavaan():
    fiml = semnet.cfa("f =~ x1 + x2 + x3", HS_MISSING, missing="fiml")
    with pytest.raises(semnet.SemnetError, match=r"not available for FIML fits.*lavaan"):
        bootstrap(fiml, n=5, type="bollen_stine")


def test_fiml_resample_with_a_variable_observed_once_is_a_failed_draw():
    rng = np.random.default_rng(0)
    x1 = rng.normal(size=40)
    x3 = 0.5 * x1 + rng.normal(size=40)
    x3[3:] = np.nan  # observed in three rows: a resample often holds fewer than two
    fit = semnet.sem("x3 ~ x1", pd.DataFrame({"x1": x1, "x3": x3}), missing="fiml",
                     fixed_x=False)  # fmt: skip
    with pytest.warns(semnet.SemnetWarning, match="bootstrap draws failed"):
        res = bootstrap(fit, n=10, seed=1, ci="percentile")
    assert any(r.startswith("too few observed values") for r in res.failure_reasons)
    assert np.isnan(res.draws.to_numpy()[res.failed]).all()


# -- errors ---------------------------------------------------------------------------------
def test_refuses_summary_statistics_fits():
    cov = HS[["x1", "x2", "x3"]].cov()
    stats_fit = semnet.cfa("f =~ x1 + x2 + x3", sample_cov=cov, sample_nobs=301)
    with pytest.raises(semnet.DataError, match="raw data"):
        bootstrap(stats_fit, n=5)


def test_bad_options(med_fit):
    with pytest.raises(semnet.OptionError):
        bootstrap(med_fit, n=5, ci="studentized")
    with pytest.raises(semnet.OptionError):
        bootstrap(med_fit, n=5, type="parametric")
    with pytest.raises(semnet.OptionError):
        bootstrap(med_fit, n=0)
    with pytest.raises(semnet.OptionError, match="indirect"):
        bootstrap(med_fit, n=5, indirect={"x": "x7"})
    # a seed numpy refuses was a TypeError from numpy.random.SeedSequence
    with pytest.raises(semnet.OptionError, match="seed must be a whole number >= 0"):
        bootstrap(med_fit, n=5, seed="x")


def test_progress_bar_runs(med_fit, capsys):
    res = bootstrap(med_fit, n=10, seed=1, ci="percentile", progress=True)
    assert res.n_ok == 10


# -- (f) blocks of draws refitted as a stack -----------------------------------------------
HS_MEDIATION = ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
                "textual ~ c(a1, a2)*visual\nspeed ~ c(b1, b2)*textual + visual\n"
                "ind1 := a1*b1\nind2 := a2*b2\ndiff := ind1 - ind2")
#: model, options, effect plan (x, y) or None
BLOCK_CASES = {
    "mediation": (MEDIATION, {}, ("x7", "x9")),
    # fixed.x covariate (its moments are each resample's), a mean structure
    "covariate": ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ ageyr\n"
                  "textual ~ visual", {"meanstructure": True}, None),
    # ties and a general linear constraint
    "constraints": ("visual =~ x1 + l*x2 + l*x3\ntextual =~ x4 + x5 + x6\nx1 ~~ v*x1\n"
                    "x4 ~~ w*x4\nv == 2*w - 0.1\nd := l*w", {}, None),
    # sampling weights travel with their cases
    "weights": (MEDIATION, {"sampling_weights": "agemo"}, None),
    # two groups, equal loadings and intercepts (group 1 fixes the latent means group 2
    # frees), := rows and an effect plan
    "mg_equal": (HS_MEDIATION, {"group": "school",
                                "group_equal": ["loadings", "intercepts"]},
                 ("visual", "speed")),
    # three groups, one loading not held equal across them (group_partial)
    "mg_partial": ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9",
                   {"group": "third", "group_equal": ["loadings", "intercepts"],
                    "group_partial": ["textual=~x5"]}, None),
    # a fixed.x covariate per group
    "mg_covariate": ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ ageyr\n"
                     "textual ~ visual", {"group": "school", "group_equal": ["loadings"]},
                     None),
    # sampling weights in two groups
    "mg_weights": ("x8 ~ c(a1, a2)*x7\nx9 ~ c(b1, b2)*x8 + x7\nind1 := a1*b1",
                   {"group": "school", "sampling_weights": "agemo"}, None),
    # groups of different structure (a path each group fixes that the other frees)
    "mg_structure": ("x9 ~ c(NA, 0)*x7 + c(0, NA)*x8\nx8 ~ x7", {"group": "school"}, None),
}


def _weighted_hs() -> pd.DataFrame:
    data = HS.copy()
    data["agemo"] = data["agemo"] + 1.0  # (positive weights)
    data["third"] = np.arange(len(data)) % 3
    return data


@pytest.fixture(scope="module", params=sorted(BLOCK_CASES))
def refitter(request):
    from semnet.analyses.bootstrap import _Refitter

    model, options, effect = BLOCK_CASES[request.param]
    fit = semnet.sem(model, _weighted_hs(), **options)
    plans = [] if effect is None else [semnet.analyses.mediation.effect_plan(fit, *effect)]
    out = _Refitter(fit, [m.data for m in fit.moments], plans)
    assert out.stacked
    return out


def test_a_block_refits_each_draw_as_the_draw_alone(refitter):
    """The stack's draws are the draw-by-draw refits' (to rounding: the arithmetic
    differs), and a draw refitted alone is bit for bit the draw in its block."""
    specs = np.random.SeedSequence(8).spawn(12)
    block = refitter.refit_block(specs)
    one_by_one = [refitter.refit(s) for s in specs]
    for (out, chisq, why), (ref, ref_chisq, ref_why) in zip(block, one_by_one, strict=True):
        assert why == ref_why == ""
        assert np.allclose(out, ref, rtol=STACK_RTOL, atol=STACK_RTOL * np.abs(ref).max())
        assert np.isclose(chisq, ref_chisq, rtol=STACK_RTOL)
    for k in (0, 7):
        alone = refitter.refit_block([specs[k]])[0]
        assert _same(alone[0], block[k][0]) and alone[1] == block[k][1]
    shifted = refitter.refit_block(specs[5:])
    assert all(_same(a[0], b[0]) for a, b in zip(shifted, block[5:], strict=True))


@pytest.mark.parametrize("groups", [1, 2])
def test_draws_do_not_depend_on_workers_or_chunks(med_fit, monkeypatch, groups):
    """Several blocks: serial, two workers and other chunks give the same draws (one
    group, and two groups with equal loadings and intercepts)."""
    import semnet.analyses.parallel as parallel

    fit = med_fit
    if groups == 2:
        model, options, _ = BLOCK_CASES["mg_equal"]
        fit = semnet.sem(model, HS, **options)
    one = bootstrap(fit, n=100, seed=3, ci="percentile")
    two = bootstrap(fit, n=100, seed=3, ci="percentile", n_jobs=2)
    monkeypatch.setattr(parallel, "CHUNKS_PER_WORKER", 1)
    with ThreadPoolExecutor(2) as pool:
        chunks = bootstrap(fit, n=100, seed=3, ci="percentile", executor=pool)
    for other in (two, chunks):
        assert _same(one.draws.to_numpy(), other.draws.to_numpy())
        assert _same(one.chisq, other.chisq)


def test_singular_resamples_in_a_block_fail_as_draw_by_draw():
    """A resample with a singular covariance matrix leaves the stack and fails with the
    draw-by-draw reason; the block's other draws are unaffected."""
    from semnet.analyses.bootstrap import _Refitter

    data = HS[["x1", "x2", "x3"]].iloc[:6].copy()
    fit = semnet.sem("x3 ~ x1 + x2", data)
    refitter = _Refitter(fit, [m.data for m in fit.moments], [])
    specs = np.random.SeedSequence(2).spawn(40)
    block = refitter.refit_block(specs)
    one_by_one = [refitter.refit(s) for s in specs]
    reasons = [why for _, _, why in block]
    assert reasons == [why for _, _, why in one_by_one]
    assert "singular sample covariance matrix" in reasons and "" in reasons
    for (out, _, _), (ref, _, _) in zip(block, one_by_one, strict=True):
        assert np.allclose(out, ref, rtol=1e-9, atol=1e-10, equal_nan=True)


def test_fiml_fits_and_nonlinear_constraints_refit_draw_by_draw():
    from semnet.analyses.bootstrap import _Refitter

    mg = semnet.sem("x8 ~ x7\nx9 ~ x8 + x7", HS, group="school")
    assert _Refitter(mg, [m.data for m in mg.moments], []).stacked
    data = HS.copy()
    data.loc[::7, "x8"] = np.nan
    fiml = semnet.sem(MEDIATION, data, missing="fiml")
    assert not _Refitter(fiml, [m.data for m in fiml.moments], []).stacked
    nonlinear = semnet.sem(MEDIATION + "a*b > 0.1\n", HS)
    assert not _Refitter(nonlinear, [m.data for m in nonlinear.moments], []).stacked


def test_jackknife_blocks_across_groups_refit_each_deletion_as_alone():
    """A block of deletions from two groups (the groups' sizes differ between its
    tasks) is stacked in parts; each deletion is its draw-by-draw refit."""
    from semnet.analyses.bootstrap import _Refitter

    model, options, _ = BLOCK_CASES["mg_equal"]
    fit = semnet.sem(model, HS, **options)
    refitter = _Refitter(fit, [m.data for m in fit.moments], [])
    n1 = fit.moments[0].nobs
    specs = [(0, j) for j in range(n1 - 20, n1)] + [(1, j) for j in range(12)]
    block = refitter.refit_block(specs)
    for spec, (out, chisq, why) in zip(specs, block, strict=True):
        ref, ref_chisq, ref_why = refitter.refit(spec)
        assert why == ref_why == ""
        assert np.allclose(out, ref, rtol=STACK_RTOL, atol=STACK_RTOL * np.abs(ref).max())
        assert np.isclose(chisq, ref_chisq, rtol=STACK_RTOL)
        alone = refitter.refit_block([spec])[0]
        assert _same(alone[0], out) and alone[1] == chisq


@pytest.mark.parametrize("ci", [None, 5])
def test_ci_that_names_no_methods_is_an_option_error(med_fit, ci):
    # was a TypeError ('NoneType' object is not iterable) from list(ci)
    boot = bootstrap(med_fit, n=3, seed=1, ci="percentile")
    with pytest.raises(semnet.OptionError, match="ci must name interval methods"):
        boot.table(ci=ci)
    with pytest.raises(semnet.OptionError, match="ci must name interval methods"):
        bootstrap(med_fit, n=3, seed=1, ci=ci)


def test_bootstrap_of_what_is_not_a_fit_or_a_bool_count_is_refused(med_fit):
    # a string was an AttributeError ('str' object has no attribute 'not_resampled');
    # n=True ran one draw
    with pytest.raises(semnet.OptionError, match="takes a Fit"):
        bootstrap("fit", n=3, seed=1)
    with pytest.raises(semnet.OptionError, match="n must be a positive number"):
        bootstrap(med_fit, n=True, seed=1)


def test_with_bootstrap_of_what_is_not_a_bootstrap_result(med_fit):
    # was an AttributeError ('str' object has no attribute 'columns')
    for attach in (med_fit.with_bootstrap, med_fit.with_bootstrap_test):
        with pytest.raises(semnet.OptionError, match="BootstrapResult"):
            attach("boot")
