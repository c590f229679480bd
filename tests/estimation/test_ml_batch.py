"""The stacked ML discrepancy and Newton's method on a stack of samples
(semnet.estimation.ml_batch) against MLDiscrepancy and minimize, sample by sample."""

from __future__ import annotations

import numpy as np
import pytest

import semnet
from semnet.data.moments import GroupMoments
from semnet.data.sample import Sample
from semnet.estimation.discrepancy import discrepancy
from semnet.estimation.ml_batch import StackedML, merged_batches, minimize_stack
from semnet.estimation.optimize import minimize

HS = semnet.datasets.holzinger_swineford()
POLDEM = semnet.datasets.political_democracy()
MODELS = {
    # latent paths of length three (B by Horner's rule), a defined parameter
    "mediation": ("ind60 =~ x1 + x2 + x3\ndem60 =~ y1 + y2 + y3 + y4\n"
                  "dem65 =~ y5 + y6 + y7 + y8\ndem60 ~ a*ind60\ndem65 ~ b*dem60 + c*ind60\n"
                  "ind := a*b", POLDEM, {}),
    # a mean structure with free intercepts and latent regressions on a covariate
    "means": ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nvisual ~ ageyr\n"
              "textual ~ visual", HS, {"meanstructure": True}),
    # ties by labels (K of 0/1 columns) and a general linear constraint
    "ties": ("visual =~ x1 + l*x2 + l*x3\ntextual =~ x4 + x5 + x6\nx1 ~~ v*x1\n"
             "x4 ~~ w*x4\nv == 2*w - 0.1", HS, {}),
}


def _resamples(fit, n: int, seed: int):
    """Moments of ``n`` resamples of the fit's data (covariance, N divisor, and mean)."""
    data = fit.moments[0].data
    rng = np.random.default_rng(seed)
    covs, means = [], []
    for _ in range(n):
        x = data[rng.integers(0, len(data), len(data))]
        c = x - x.mean(axis=0)
        covs.append(c.T @ c / len(x))
        means.append(x.mean(axis=0))
    return np.array(covs), np.array(means)


def _single(fit, cov: np.ndarray, mean: np.ndarray):
    """The single-fit discrepancy of a sample with these moments."""
    mom = GroupMoments("", tuple(fit.moments[0].names), cov, mean, fit.moments[0].nobs)
    return discrepancy("ML", fit.model, Sample((mom,)), fit.values, for_optimizer=True)


def _stack(fit, covs: np.ndarray, means: np.ndarray) -> StackedML:
    logdet = np.linalg.slogdet(covs)[1]
    return StackedML(fit.model, fit.constraints, np.tile(fit.values, (len(covs), 1)), covs,
                     means, logdet)


@pytest.fixture(scope="module", params=sorted(MODELS))
def case(request):
    model, data, options = MODELS[request.param]
    fit = semnet.sem(model, data, **options)
    covs, means = _resamples(fit, 6, seed=3)
    return fit, covs, means


def test_evaluation_equals_the_single_fit_discrepancy(case):
    """f, gradient, expected information and Hessian (in z) of every sample of the
    stack are those of MLDiscrepancy for that sample alone."""
    fit, covs, means = case
    con = fit.constraints
    stack = _stack(fit, covs, means)
    rng = np.random.default_rng(1)
    z = np.array([con.to_z(fit.x * (1 + 0.05 * rng.standard_normal(fit.x.size)))
                  for _ in covs])  # fmt: skip
    rows = np.arange(len(covs))[::-1]  # (any order: each row is its own sample)
    ev = stack.evaluate(z, rows, hessian=True)
    scoring = stack.evaluate(z, rows)
    f_only = stack.evaluate(z, rows, derivatives=False)
    for k, b in enumerate(rows):
        one = _single(fit, covs[b], means[b]).evaluate(con.to_x(z[k]), hessian=True)
        assert np.isclose(ev.f[k], one.f, rtol=1e-12, atol=0)
        assert f_only.f[k] == ev.f[k]
        grad = con.gradient_z(one.gradient)
        scale = np.abs(con.matrix_z(one.hessian)).max()
        assert np.allclose(ev.gradient[k], grad, rtol=0, atol=1e-12 * np.abs(grad).max())
        assert np.allclose(scoring.gradient[k], grad, rtol=0, atol=1e-12 * np.abs(grad).max())
        assert np.allclose(ev.information[k], con.matrix_z(one.information), rtol=0,
                           atol=1e-12 * scale)
        assert np.allclose(ev.hessian[k], con.matrix_z(one.hessian), rtol=0, atol=1e-12 * scale)
        assert np.array_equal(ev.hessian[k], ev.hessian[k].T)


def test_newton_on_the_stack_equals_minimize(case):
    """The optimum of each sample is minimize's from the same start, to rounding."""
    fit, covs, means = case
    con = fit.constraints
    stack = _stack(fit, covs, means)
    z0 = np.array([con.to_z(fit.x)] * len(covs))
    z, f, ok = minimize_stack(stack, z0)
    assert ok.all()
    for b in range(len(covs)):
        res = minimize(_single(fit, covs[b], means[b]), con, fit.x, information=False)
        assert res.converged
        assert np.isclose(f[b], res.f, rtol=1e-12, atol=1e-16)
        assert np.allclose(stack.x_of(z)[b], res.x, rtol=1e-9, atol=1e-11)


def test_a_sample_alone_is_the_sample_in_the_stack(case):
    """Bit for bit: nothing in the stack's arithmetic mixes samples."""
    fit, covs, means = case
    stack = _stack(fit, covs, means)
    z0 = np.array([fit.constraints.to_z(fit.x)] * len(covs))
    z, f, ok = minimize_stack(stack, z0)
    for b in (0, 3):
        alone = _stack(fit, covs[b : b + 1], means[b : b + 1])
        z1, f1, ok1 = minimize_stack(alone, z0[b : b + 1])
        assert ok1[0] == ok[b] and f1[0] == f[b] and np.array_equal(z1[0], z[b])


def test_samples_off_the_usual_path_are_handed_back():
    """A start where the implied covariance matrix is not positive definite (minimize
    would shorten the step or stop) leaves the stack unconverged; the others converge."""
    model, data, options = MODELS["mediation"]
    fit = semnet.sem(model, data, **options)
    covs, means = _resamples(fit, 3, seed=4)
    stack = _stack(fit, covs, means)
    z0 = np.array([fit.constraints.to_z(fit.x)] * 3)
    bad = fit.partable.params.index[fit.partable.params["op"].eq("~~")
                                    & fit.partable.params["lhs"].eq("x1")][0]
    z0[1, fit.partable.params["free"].iat[bad] - 1] = -50.0
    z, f, ok = minimize_stack(stack, z0)
    assert ok.tolist() == [True, False, True]
    assert np.isnan(f[1]) and np.array_equal(z[1], z0[1])


# -- several groups ------------------------------------------------------------------------
HS_MEDIATION = ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
                "textual ~ c(a1, a2)*visual\nspeed ~ c(b1, b2)*textual + visual\n")
MULTI = {
    # group 1 fixes the latent means group 2 frees: one merged batch
    "equal": (HS_MEDIATION, HS, {"group": "school",
                                 "group_equal": ["loadings", "intercepts"]}),
    # three groups, one loading not held equal across them (group_partial)
    "partial": ("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6",
                HS.assign(third=np.arange(len(HS)) % 3),
                {"group": "third", "group_equal": ["loadings", "intercepts"],
                 "group_partial": ["textual=~x5"]}),
    # a path fixed in each group that the other frees: two batches, not merged
    "batches": ("x9 ~ c(NA, 0)*x7 + c(0, NA)*x8\nx8 ~ x7", HS, {"group": "school"}),
    # a general linear constraint across groups (K not made of ties)
    "general": ("visual =~ x1 + x2 + x3\nvisual ~~ c(v1, v2)*visual\nv1 == 2*v2 - 0.1",
                HS, {"group": "school"}),
}


def _group_resamples(fit, n: int, seed: int):
    """Moments of ``n`` resamples of each group's data (samples x groups x ...)."""
    rng = np.random.default_rng(seed)
    covs, means = [], []
    for _ in range(n):
        cs, ms = [], []
        for m in fit.moments:
            x = m.data[rng.integers(0, len(m.data), len(m.data))]
            c = x - x.mean(axis=0)
            cs.append(c.T @ c / len(x))
            ms.append(x.mean(axis=0))
        covs.append(cs)
        means.append(ms)
    return np.array(covs), np.array(means)


def _multi_single(fit, cov: np.ndarray, mean: np.ndarray):
    names = tuple(fit.moments[0].names)
    moms = tuple(GroupMoments(m.label, names, c, mu, m.nobs)
                 for m, c, mu in zip(fit.moments, cov, mean, strict=True))  # fmt: skip
    return discrepancy("ML", fit.model, Sample(moms), fit.values, for_optimizer=True)


def _multi_stack(fit, covs: np.ndarray, means: np.ndarray) -> StackedML:
    sizes = np.array([m.nobs for m in fit.moments], dtype=float)
    weights = np.tile(sizes / sizes.sum(), (len(covs), 1))
    return StackedML(fit.model, fit.constraints, np.tile(fit.values, (len(covs), 1)), covs,
                     means, np.linalg.slogdet(covs)[1], weights)


@pytest.fixture(scope="module", params=sorted(MULTI))
def multi(request):
    model, data, options = MULTI[request.param]
    fit = semnet.sem(model, data, **options)
    covs, means = _group_resamples(fit, 5, seed=6)
    return request.param, fit, covs, means


def test_batches_merge_where_groups_differ_only_in_their_free_cells(multi):
    name, fit, _, _ = multi
    assert len(merged_batches(fit.model)) == (2 if name == "batches" else 1)
    assert len(fit.model.batches) == {"equal": 2, "partial": 2, "batches": 2,
                                      "general": 1}[name]


def test_multi_group_evaluation_equals_the_single_fit_discrepancy(multi):
    """f = sum_g w_g F_g / 2 and its derivatives in z, sample by sample, are
    MLDiscrepancy's (gathered by tie class, or mapped through a general K)."""
    _, fit, covs, means = multi
    con = fit.constraints
    stack = _multi_stack(fit, covs, means)
    rng = np.random.default_rng(2)
    z = np.array([con.to_z(fit.x * (1 + 0.03 * rng.standard_normal(fit.x.size)))
                  for _ in covs])  # fmt: skip
    rows = np.arange(len(covs))[::-1]
    ev = stack.evaluate(z, rows, hessian=True)
    scoring = stack.evaluate(z, rows)
    no_info = stack.evaluate(z, rows, hessian=True, information=False)
    for k, b in enumerate(rows):
        one = _multi_single(fit, covs[b], means[b]).evaluate(con.to_x(z[k]), hessian=True)
        assert np.isclose(ev.f[k], one.f, rtol=1e-12, atol=0)
        grad, hess = con.gradient_z(one.gradient), con.matrix_z(one.hessian)
        scale = np.abs(hess).max()
        for g in (ev.gradient[k], scoring.gradient[k]):
            assert np.allclose(g, grad, rtol=0, atol=1e-12 * np.abs(grad).max())
        assert np.allclose(ev.information[k], con.matrix_z(one.information), rtol=0,
                           atol=1e-12 * scale)
        assert np.array_equal(ev.information[k], scoring.information[k])
        assert np.allclose(ev.hessian[k], hess, rtol=0, atol=1e-12 * scale)
        assert np.array_equal(ev.hessian[k], ev.hessian[k].T)
        assert np.array_equal(no_info.hessian[k], ev.hessian[k])
    assert no_info.information is None or stack.direct


def test_multi_group_newton_on_the_stack_equals_minimize(multi):
    _, fit, covs, means = multi
    con = fit.constraints
    stack = _multi_stack(fit, covs, means)
    z, f, ok = minimize_stack(stack, np.array([con.to_z(fit.x)] * len(covs)))
    assert ok.all()
    for b in range(len(covs)):
        res = minimize(_multi_single(fit, covs[b], means[b]), con, fit.x, information=False)
        assert res.converged
        # (f near 0 is the difference of terms near 1: its rounding is absolute)
        assert np.isclose(f[b], res.f, rtol=1e-12, atol=1e-14)
        assert np.allclose(stack.x_of(z)[b], res.x, rtol=1e-9, atol=1e-11)


def test_multi_group_sample_alone_is_the_sample_in_the_stack(multi):
    _, fit, covs, means = multi
    z0 = np.array([fit.constraints.to_z(fit.x)] * len(covs))
    z, f, ok = minimize_stack(_multi_stack(fit, covs, means), z0)
    for b in (1, 4):
        alone = _multi_stack(fit, covs[b : b + 1], means[b : b + 1])
        z1, f1, ok1 = minimize_stack(alone, z0[b : b + 1])
        assert ok1[0] == ok[b] and f1[0] == f[b] and np.array_equal(z1[0], z[b])


def test_shortened_steps_are_minimizes(monkeypatch):
    """From a start far from the optimum the full steps must be shortened (minimize's
    backtracking) and Hessians are not positive definite (scoring steps from the
    information): the stack takes those steps too, and ends where minimize does."""
    import semnet.estimation.ml_batch as mod

    model, data, options = MULTI["equal"]
    fit = semnet.sem(model, data, **options)
    covs, means = _group_resamples(fit, 6, seed=1)
    con = fit.constraints
    calls = {"_line_search": 0, "_with_information": 0}
    for name in calls:
        real = getattr(mod, name)

        def counted(*args, _real=real, _name=name):
            calls[_name] += 1
            return _real(*args)

        monkeypatch.setattr(mod, name, counted)
    rng = np.random.default_rng(5)
    starts = [fit.x * (1 + 0.4 * rng.standard_normal(fit.x.size)) for _ in covs]
    stack = _multi_stack(fit, covs, means)
    z, f, ok = minimize_stack(stack, np.array([con.to_z(x) for x in starts]))
    assert calls["_line_search"] > 0 and calls["_with_information"] > 0
    assert ok.sum() >= 4
    for b in np.flatnonzero(ok):
        res = minimize(_multi_single(fit, covs[b], means[b]), con, starts[b],
                       information=False)
        assert np.isclose(f[b], res.f, rtol=1e-12, atol=1e-14)
        assert np.allclose(stack.x_of(z)[b], res.x, rtol=1e-8, atol=1e-10)


def test_a_part_without_derivatives_leaves_nans_beside_the_others(monkeypatch):
    """Evaluated in parts, a part whose samples' f is not defined has no derivatives:
    its rows are NaN (inf f), the other parts' rows are theirs."""
    import semnet.estimation.ml_batch as mod

    model, data, options = MULTI["equal"]
    fit = semnet.sem(model, data, **options)
    covs, means = _group_resamples(fit, 4, seed=3)
    stack = _multi_stack(fit, covs, means)
    bad = fit.partable.params.index[fit.partable.params["op"].eq("~~")
                                    & fit.partable.params["lhs"].eq("x1")][0]
    x_bad = fit.x.copy()
    x_bad[fit.partable.params["free"].iat[bad] - 1] = -50.0  # (x1's residual variance)
    con = fit.constraints
    z = np.array([con.to_z(fit.x)] * 2 + [con.to_z(x_bad)] * 2)  # (the second part bad)
    whole = stack.evaluate(z, np.arange(4), hessian=True)
    monkeypatch.setattr(mod, "CHUNK_MEMBERS", 4)  # (two samples of two groups a part)
    parts = stack.evaluate(z, np.arange(4), hessian=True)
    assert np.isinf(parts.f[2:]).all() and np.isnan(parts.gradient[2:]).all()
    assert np.array_equal(parts.f[:2], whole.f[:2])
    for a, b in ((parts.gradient, whole.gradient), (parts.hessian, whole.hessian)):
        assert np.array_equal(a[:2], b[:2])
