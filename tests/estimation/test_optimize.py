"""The optimizer's fallback: where Newton and scoring steps stall on a ridge, quasi-Newton
runs from the stall and from the start values find lavaan's optimum."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from reference import REFERENCE
from tolerances import EST_RTOL, FIT_RTOL, SE_RTOL

import semnet

EXAMPLE_RF = REFERENCE / "example_rf"


@pytest.fixture(scope="module")
def example_rf():
    ref = json.loads((EXAMPLE_RF / "lavaan.json").read_text())
    data = pd.read_csv(EXAMPLE_RF / "example_rf.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", semnet.SemnetWarning)
        fit = semnet.sem(ref["call"]["model"], data)
    return ref, fit


def test_example_rf_converges_to_lavaans_optimum(example_rf):
    """semopy's example_rf: the steps from semnet's start values stall at chi-square 26.573
    with a factor variance of 1.8e6; lavaan converges at chi-square 2.410."""
    ref, fit = example_rf
    assert fit.converged
    assert not [w for w in fit.warnings if "did not converge" in w]
    measures = fit.fit_measures()
    np.testing.assert_allclose(measures["chisq"], ref["fit_measures"]["chisq"], rtol=FIT_RTOL)
    np.testing.assert_allclose(measures["logl"], ref["fit_measures"]["logl"], rtol=FIT_RTOL)


def test_example_rf_estimates_equal_lavaans(example_rf):
    ref, fit = example_rf
    lavaan = pd.DataFrame(ref["estimates"]).set_index(["lhs", "op", "rhs"])["est"]
    ours = fit.estimates().set_index(["lhs", "op", "rhs"])["est"]
    np.testing.assert_allclose(ours.loc[lavaan.index].to_numpy(), lavaan.to_numpy(),
                               rtol=EST_RTOL)


def test_example_rf_standard_errors_equal_lavaans_with_a_warning(example_rf):
    """lavaan inverts the nearly singular information (smallest eigenvalue 8e-9 of 3.8e3)
    and prints standard errors; semnet does the same and says the information is nearly
    singular."""
    ref, fit = example_rf
    lavaan = pd.DataFrame(ref["estimates"]).set_index(["lhs", "op", "rhs"])["se"]
    ours = fit.estimates().set_index(["lhs", "op", "rhs"])["se"]
    np.testing.assert_allclose(ours.loc[lavaan.index].to_numpy(), lavaan.to_numpy(),
                               rtol=SE_RTOL)
    assert [w for w in fit.warnings if "nearly singular" in w]


def test_block_diagonal_systems_are_solved_block_by_block_exactly():
    """A block-diagonal matrix (a configural model's information, its parameters in any
    order) is found as its blocks and solved as the whole; a coupled one is one block."""
    from scipy.linalg import block_diag

    from semnet.estimation.blocks import diagonal_blocks
    from semnet.estimation.optimize import cholesky_solve

    rng = np.random.default_rng(8)
    parts = []
    for _ in range(60):
        a = rng.normal(size=(5, 5))
        parts.append(a @ a.T + 5 * np.eye(5))
    perm = rng.permutation(300)
    H = block_diag(*parts)[np.ix_(perm, perm)]
    g = rng.normal(size=300)
    blocks = diagonal_blocks(H)
    assert len(blocks) == 60 and sorted(np.concatenate(blocks).tolist()) == list(range(300))
    np.testing.assert_allclose(cholesky_solve(H, g), np.linalg.solve(H, g), rtol=1e-10)
    H[0, :] = H[:, 0] = 0.01
    H[0, 0] = 10.0
    assert diagonal_blocks(H) is None
    np.testing.assert_allclose(cholesky_solve(H, g), np.linalg.solve(H, g), rtol=1e-10)
    H[1, 1] = -100.0
    assert cholesky_solve(H, g) is None
