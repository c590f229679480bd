"""FIML helpers: pairwise moments of incomplete data."""

from __future__ import annotations

import numpy as np
import pandas as pd
from tolerances import ATOL

from semnet.estimation.fiml import pairwise_moments


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
