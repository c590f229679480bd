"""FIML helpers: batched pattern sums, EM, casewise scores, pairwise moments."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tolerances import ATOL

from semnet._blas import one_blas_thread
from semnet.data import missing
from semnet.data.missing import PatternSet, em_moments, missing_patterns, pairwise_moments
from semnet.estimation.fiml import accumulate_patterns, pattern_scores


def _incomplete(seed: int, n: int = 120, p: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p)) @ rng.normal(size=(p, p)) + 3.0
    x[rng.random((n, p)) < 0.15] = np.nan
    return x


def test_pairwise_moments_match_pairwise_deletion():
    """R's cov(use = "pairwise") (what pandas computes) rescaled by (N - 1) / N."""
    x = _incomplete(1)
    cov, mean = pairwise_moments(x)
    frame = pd.DataFrame(x)
    n = x.shape[0]
    np.testing.assert_allclose(cov, frame.cov().to_numpy() * (n - 1) / n, rtol=1e-12)
    np.testing.assert_allclose(mean, frame.mean().to_numpy(), rtol=1e-14)
    assert np.array_equal(cov, cov.T)


def test_pairwise_moments_complete_data_are_the_sample_moments():
    x = _incomplete(2)
    x = x[~np.isnan(x).any(axis=1)]
    cov, mean = pairwise_moments(x)
    np.testing.assert_allclose(cov, np.cov(x.T, bias=True), rtol=1e-12, atol=ATOL)
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-14)


def _reference_accumulate(sigma, mu, patterns, order):
    """Pattern by pattern with explicit Kronecker products (the definition)."""
    p = len(mu)
    total, g_sigma, g_mu = 0.0, np.zeros((p, p)), np.zeros(p)
    h_ss, h_mm, h_ms = np.zeros((p * p, p * p)), np.zeros((p, p)), np.zeros((p, p * p))
    for pat in patterns:
        o, n = pat.observed, pat.n
        a = np.linalg.inv(sigma[np.ix_(o, o)])
        d = pat.mean - mu[o]
        total += 0.5 * n * (
            len(o) * np.log(2 * np.pi) + np.linalg.slogdet(sigma[np.ix_(o, o)])[1]
            + np.sum(a * pat.cov) + d @ a @ d
        )  # fmt: skip
        ama = a @ (pat.cov + np.outer(d, d)) @ a
        g_sigma[np.ix_(o, o)] += 0.5 * n * (a - ama)
        g_mu[o] -= n * a @ d
        oo = (o[:, None] * p + o[None, :]).reshape(-1)
        kk = np.kron(a, a)
        h_mm[np.ix_(o, o)] += n * a
        if order == 2:
            h_ss[np.ix_(oo, oo)] += n * kk
        else:
            h_ss[np.ix_(oo, oo)] += 0.5 * n * (np.kron(ama, a) + np.kron(a, ama) - kk)
            h_ms[np.ix_(o, oo)] += n * np.kron(a, (a @ d)[None, :])
    if order == 2:
        return total, g_sigma, g_mu, h_ss, h_mm
    return total, g_sigma, g_mu, h_ss, h_mm, h_ms


def _sigma_mu(x):
    return np.cov(x[~np.isnan(x).any(axis=1)].T) * 1.1, np.nanmean(x, axis=0) + 0.1


@pytest.mark.parametrize("order", [2, 3])
def test_batched_pattern_sums_match_the_kronecker_definition(order):
    x = _incomplete(4)
    pats = missing_patterns(x)
    sigma, mu = _sigma_mu(x)
    got = accumulate_patterns(sigma, mu, pats, order)
    want = _reference_accumulate(sigma, mu, pats, order)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-11, atol=1e-11 * np.max(np.abs(w)))


def test_patterns_in_several_stacks_give_the_same_sums(monkeypatch):
    x = _incomplete(5)
    sigma, mu = _sigma_mu(x)
    whole = missing_patterns(x)
    monkeypatch.setattr(missing, "STACK_CELLS", 3 * x.shape[1] ** 2)
    split = PatternSet.of(tuple(whole), x.shape[1])
    assert len(whole.stacks) == 1 and len(split.stacks) == -(-len(whole) // 3)
    pairs = zip(accumulate_patterns(sigma, mu, split, 3), accumulate_patterns(sigma, mu, whole, 3),
                strict=True)
    for g, w in pairs:
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12 * np.max(np.abs(w)))


def test_em_moments_maximize_the_likelihood():
    """At the EM estimates the gradient of the incomplete-data likelihood vanishes (per
    case, to the precision that EM's stopping rule on the log-likelihood gives); with
    complete data they are the sample moments."""
    x = _incomplete(6)
    pats = missing_patterns(x)
    p = x.shape[1]
    sigma, mu, logl = em_moments(pats, np.diag(np.nanvar(x, axis=0)), np.nanmean(x, axis=0))
    total, g_sigma, g_mu = accumulate_patterns(sigma, mu, pats, 1)
    assert logl == pytest.approx(-total, rel=1e-14)
    n = len(x)
    assert np.max(np.abs(g_sigma)) / n < 1e-5 and np.max(np.abs(g_mu)) / n < 1e-5
    full = x[~np.isnan(x).any(axis=1)]
    sigma, mu, _ = em_moments(missing_patterns(full), np.eye(p), np.zeros(p))
    np.testing.assert_allclose(sigma, np.cov(full.T, bias=True), rtol=1e-10)
    np.testing.assert_allclose(mu, full.mean(axis=0), rtol=1e-12)


def test_casewise_scores_add_up_to_the_gradient():
    """The scores of the cases (for the moments themselves as parameters) sum to minus
    the gradient of -logL."""
    x = _incomplete(7)
    pats = missing_patterns(x)
    sigma, mu = _sigma_mu(x)
    p = x.shape[1]
    r, c = np.tril_indices(p)
    d_sigma = np.zeros((r.size + p, p, p))
    d_sigma[np.arange(r.size), r, c] = 1.0
    d_sigma[np.arange(r.size), c, r] = 1.0
    d_mu = np.vstack([np.zeros((r.size, p)), np.eye(p)])
    scores = pattern_scores(sigma, mu, d_sigma, d_mu, x, pats)
    _, g_sigma, g_mu = accumulate_patterns(sigma, mu, pats, 1)
    want = -(d_sigma.reshape(len(d_sigma), -1) @ g_sigma.reshape(-1) + d_mu @ g_mu)
    np.testing.assert_allclose(scores.sum(axis=0), want, rtol=1e-10, atol=1e-10)


def test_fiml_work_runs_with_one_blas_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")

    @one_blas_thread
    def threads():
        return [i["num_threads"] for i in threadpoolctl.threadpool_info()
                if i["user_api"] == "blas"]

    assert set(threads()) <= {1}
