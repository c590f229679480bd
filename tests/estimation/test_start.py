"""Starting values: usable (a positive definite implied covariance matrix) where the
simple per-pair rules would not be."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from tolerances import FIT_RTOL

import semnet
from semnet.estimation.start import start_values

#: ind60 and dem60 are both close to dem65 (their markers correlate about .5-.9 with
#: dem65's), but fixed uncorrelated with each other: the markers' covariances as starts
#: make the factors' covariance matrix indefinite (tests/reference/fuzz m088_pd)
MODEL = """
ind60 =~ x1 + x2 + 1*x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6
ind60 ~~ 0*dem60
"""
LAVAAN_CHISQ = 91.952297338345


def test_factor_covariance_starts_are_positive_definite():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semnet.SemnetWarning)
        fit = semnet.sem(MODEL, semnet.datasets.political_democracy())
    assert fit.converged
    pt = fit.partable
    starts = start_values(pt, fit.sample.moments)
    cols = pt.cols
    factors = ["ind60", "dem60", "dem65"]
    psi = np.zeros((3, 3))
    for r in np.flatnonzero(cols["op"] == "~~"):
        a, b = cols["lhs"][r], cols["rhs"][r]
        if a in factors and b in factors:
            psi[factors.index(a), factors.index(b)] = starts[r]
            psi[factors.index(b), factors.index(a)] = starts[r]
    assert np.linalg.eigvalsh(psi)[0] > 0
    # lavaan 0.6.14's chi-square of this model (the fit it reaches has an indefinite
    # latent covariance matrix, as lavaan's, which warns)
    assert fit.fit_measures()["chisq"] == pytest.approx(LAVAAN_CHISQ, rel=FIT_RTOL)
