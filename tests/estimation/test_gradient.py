"""The ML discrepancy's analytic gradient and expected information against numerics."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from shared_models import HS_MODEL as HS

import semnet
from semnet.data.moments import GroupMoments
from semnet.estimation.ml import MLDiscrepancy

HS_EXO = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
visual ~ ageyr + sex
textual ~ ageyr
"""
SEM_LATENT = """
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4
"""
INTERCEPTS = (
    HS
    + """
x1 ~ 0*1
x4 ~ 0*1
x7 ~ 0*1
visual ~ 1
textual ~ 1
speed ~ 1
"""
)

# a mean structure without a free mean or intercept (intercepts near the sample means)
FIXED_INTERCEPTS = HS + "".join(
    f"x{i} ~ {m}*1\n" for i, m in enumerate([5, 6, 2.5, 3, 4.5, 2, 4, 5.5, 5.5], start=1)
)

CASES = {
    "cfa": (HS, "hs", {}),
    "sem_exo": (HS_EXO, "hs", {}),
    "sem_latent_regressions": (SEM_LATENT, "pd", {}),
    "meanstructure": (INTERCEPTS, "hs", {"meanstructure": True}),
    "fixed_intercepts": (FIXED_INTERCEPTS, "hs", {}),
    "two_group": (HS, "hs", {"group": "school", "group_equal": ["loadings"]}),
}


@cache
def _fit(case: str) -> semnet.Fit:
    model, data, kwargs = CASES[case]
    frame = (
        semnet.datasets.holzinger_swineford()
        if data == "hs"
        else semnet.datasets.political_democracy()
    )
    return semnet.sem(model, frame, **kwargs)


def _disc(fit: semnet.Fit, moments=None) -> MLDiscrepancy:
    return MLDiscrepancy(fit.model, moments if moments is not None else fit.moments, fit.values)


def _f(disc: MLDiscrepancy, x: np.ndarray) -> float:
    return disc.evaluate(x, derivatives=False).f


def _central_gradient(disc: MLDiscrepancy, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    g = np.zeros_like(x)
    for k in range(x.size):
        e = np.zeros_like(x)
        e[k] = h * max(1.0, abs(x[k]))
        g[k] = (_f(disc, x + e) - _f(disc, x - e)) / (2 * e[k])
    return g


def _numerical_hessian(disc: MLDiscrepancy, x: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """Second central differences of f itself."""
    q = x.size
    H = np.zeros((q, q))
    f0 = _f(disc, x)
    steps = h * np.maximum(1.0, np.abs(x))
    for i in range(q):
        ei = np.zeros(q)
        ei[i] = steps[i]
        H[i, i] = (_f(disc, x + ei) - 2 * f0 + _f(disc, x - ei)) / steps[i] ** 2
        for j in range(i):
            ej = np.zeros(q)
            ej[j] = steps[j]
            H[i, j] = H[j, i] = (
                _f(disc, x + ei + ej)
                - _f(disc, x + ei - ej)
                - _f(disc, x - ei + ej)
                + _f(disc, x - ei - ej)
            ) / (4 * steps[i] * steps[j])
    return H


@pytest.mark.parametrize("case", list(CASES))
def test_gradient_matches_central_differences(case):
    fit = _fit(case)
    assert fit.converged
    disc = _disc(fit)
    rng = np.random.default_rng(12345)
    for _ in range(3):
        x = fit.x + 0.05 * rng.standard_normal(fit.x.size) * np.maximum(0.1, np.abs(fit.x))
        ev = disc.evaluate(x)
        assert np.isfinite(ev.f)
        numeric = _central_gradient(disc, x)
        # away from the optimum the gradient is clearly non-zero
        assert np.max(np.abs(numeric)) > 1e-3
        scale = np.max(np.abs(numeric))
        np.testing.assert_allclose(ev.gradient, numeric, rtol=1e-6, atol=1e-6 * scale)


@pytest.mark.parametrize("case", list(CASES))
def test_gradient_vanishes_at_estimate(case):
    """The optimizer's answer is a stationary point of the same function (free of
    equality constraints only, where the projected gradient must vanish)."""
    fit = _fit(case)
    disc = _disc(fit)
    grad = disc.evaluate(fit.x).gradient
    K = fit.constraints.K
    np.testing.assert_allclose(K.T @ grad, 0.0, atol=1e-6)


def _exact_moments(fit: semnet.Fit, x: np.ndarray) -> list[GroupMoments]:
    values = fit.model.values(x, fit.values)
    out = []
    for g, mom in enumerate(fit.moments):
        sigma, mu = fit.model.implied(values, g)
        out.append(GroupMoments(mom.label, mom.names, sigma.copy(), mu.copy(), mom.nobs))
    return out


@pytest.mark.parametrize("case", list(CASES))
def test_expected_information_is_hessian_at_exact_fit(case):
    fit = _fit(case)
    rng = np.random.default_rng(7)
    # a point near the estimate, made a perfect fit by using its implied moments as data
    x = fit.x + 0.02 * rng.standard_normal(fit.x.size) * np.maximum(0.1, np.abs(fit.x))
    disc = _disc(fit, _exact_moments(fit, x))
    ev = disc.evaluate(x)
    assert ev.f == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(ev.gradient, 0.0, atol=1e-10)
    H = _numerical_hessian(disc, x)
    scale = np.max(np.abs(ev.information))
    np.testing.assert_allclose(ev.information, H, rtol=1e-5, atol=1e-5 * scale)
    # and it is symmetric positive definite (the model is identified)
    np.testing.assert_allclose(ev.information, ev.information.T, atol=1e-14 * scale)
    assert np.linalg.eigvalsh(ev.information)[0] > 0


def test_information_differs_from_hessian_away_from_exact_fit():
    """Guard against a test that cannot fail: with real data and a point away from the
    estimate, the observed Hessian is not the expected information."""
    fit = _fit("cfa")
    disc = _disc(fit)
    x = fit.x * 1.2
    H = _numerical_hessian(disc, x)
    info = disc.evaluate(x).information
    assert np.max(np.abs(info - H)) > 1e-3 * np.max(np.abs(info))


def _gradient_differences(disc, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of the analytic gradient (a Hessian accurate to ~1e-9)."""
    q = x.size
    H = np.zeros((q, q))
    for k in range(q):
        e = np.zeros(q)
        e[k] = h * max(1.0, abs(x[k]))
        H[:, k] = (disc.evaluate(x + e).gradient - disc.evaluate(x - e).gradient) / (2 * e[k])
    return H


@pytest.mark.parametrize("case", list(CASES))
def test_analytic_hessian_matches_differences_of_the_gradient(case):
    """The exact Hessian (Newton steps, observed information) away from the estimate,
    where it differs from the expected information."""
    fit = _fit(case)
    disc = _disc(fit)
    x = fit.x * 1.1
    ev = disc.evaluate(x, hessian=True)
    numeric = _gradient_differences(disc, x)
    scale = np.max(np.abs(numeric))
    np.testing.assert_allclose(ev.hessian, numeric, rtol=1e-6, atol=1e-7 * scale)
    assert np.max(np.abs(ev.hessian - ev.information)) > 1e-3 * scale
    np.testing.assert_allclose(disc.observed_information(x), ev.hessian)


@pytest.mark.parametrize("case", ["cfa", "meanstructure", "two_group"])
def test_fiml_observed_information_matches_differences_of_the_gradient(case):
    from semnet.data.missing import fiml_data
    from semnet.estimation.fiml import FIMLDiscrepancy

    fit = _fit(case)
    kwargs = CASES[case][2]
    frame = semnet.datasets.holzinger_swineford()
    names = list(fit.moments[0].names)
    rng = np.random.default_rng(3)
    values = frame[names].to_numpy(dtype=float)
    values[rng.random(values.shape) < 0.1] = np.nan
    groups = [m.label for m in fit.moments]
    blocks = (
        [(g, values[(frame["school"] == g).to_numpy()]) for g in groups]
        if "group" in kwargs
        else [("", values)]
    )
    fdata = fiml_data(blocks, names)
    disc = FIMLDiscrepancy(fit.model, fdata.moments, fit.values, fdata.patterns)
    x = fit.x * 1.05
    numeric = _gradient_differences(disc, x)
    scale = np.max(np.abs(numeric))
    np.testing.assert_allclose(disc.observed_information(x), numeric, rtol=1e-6,
                               atol=1e-7 * scale)


def test_intercepts_fixed_at_the_sample_means_leave_the_covariance_fit():
    """With every intercept fixed at its sample mean the mean part fits exactly: the
    chi-square is the covariance structure's, on p more degrees of freedom."""
    data = semnet.datasets.holzinger_swineford()
    means = data[[f"x{i}" for i in range(1, 10)]].mean()
    fixed = HS + "".join(f"{name} ~ {float(m)!r}*1\n" for name, m in means.items())
    with_means = semnet.cfa(fixed, data)
    plain = semnet.cfa(HS, data)
    assert with_means.converged
    assert with_means.chisq == pytest.approx(plain.chisq, rel=1e-8)
    assert with_means.fit_measures()["df"] == plain.fit_measures()["df"] + 9


@pytest.mark.parametrize(
    ("model", "kwargs"),
    [
        (HS, {"group": "school", "group_equal": ["loadings", "intercepts"]}),
        (HS.replace("x2 + x3", "a*x2 + a*x3"), {"group": "school"}),
        (HS, {"group": "school", "meanstructure": False}),
    ],
    ids=["group_equal", "shared_label", "no_means"],
)
@pytest.mark.filterwarnings("ignore:line 2. the label")
def test_each_batch_adds_as_the_full_size_sum(model, kwargs):
    """batch_to_params(_sym), which adds the cells of a batch of groups of one structure
    into the free parameters at once, sums each group's cells exactly as
    to_params(_sym) does; every group is in exactly one batch."""
    fit = semnet.sem(model, semnet.datasets.holzinger_swineford(), **kwargs)
    m = fit.model
    rng = np.random.default_rng(3)
    seen = []
    for batch in m.batches:
        nb = len(batch.groups)
        plan = batch.plan
        k = plan.ka + plan.ks + plan.km
        h, v, w = rng.normal(size=(nb, k, k)), rng.normal(size=(nb, k)), rng.uniform(size=nb)
        out_h, out_v = np.ones((m.nfree, m.nfree)), np.ones(m.nfree)
        m.batch_to_params_sym(batch, h, out_h, w)
        m.batch_to_params(batch, v, out_v, w)
        want_h = 1.0 + sum(w[j] * m.to_params_sym(g, h[j]) for j, g in enumerate(batch.groups))
        want_v = 1.0 + sum(w[j] * m.to_params(g, v[j]) for j, g in enumerate(batch.groups))
        np.testing.assert_allclose(out_h, want_h, rtol=1e-14)
        np.testing.assert_allclose(out_v, want_v, rtol=1e-14)
        seen += batch.groups.tolist()
    assert sorted(seen) == list(range(len(fit.groups)))
