"""The stacked ML discrepancy and Newton's method on a stack of samples
(semnet.estimation.ml_batch) against MLDiscrepancy and minimize, sample by sample."""

from __future__ import annotations

import numpy as np
import pytest

import semnet
from semnet.data.moments import GroupMoments
from semnet.data.sample import Sample
from semnet.estimation.discrepancy import discrepancy
from semnet.estimation.ml_batch import StackedML, minimize_stack
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
