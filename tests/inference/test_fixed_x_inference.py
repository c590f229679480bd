"""Robust inference conditional on fixed.x covariates (lavaan's default ``fixed.x``)."""

import numpy as np
import pytest

import semnet
from semnet.data.moments import vech_indices
from semnet.inference.moment_space import (
    adf_gamma,
    fixed_x_moments,
    fixed_x_variables,
)
from semnet.matrices.ram import Model
from semnet.partable.build import partable

COLUMNS = ["x1", "x2", "x3", "ageyr", "sex"]
X = (3, 4)


def _moments_of_residuals(data: np.ndarray, meanstructure: bool) -> np.ndarray:
    """lavaan's construction, written out case by case: each case's moments less those
    of its values predicted from the covariates by least squares with an intercept."""
    y = [k for k in range(data.shape[1]) if k not in X]
    design = np.column_stack([np.ones(len(data)), data[:, X]])
    coef, *_ = np.linalg.lstsq(design, data[:, y], rcond=None)
    predicted = data.copy()
    predicted[:, y] = design @ coef
    r, c = vech_indices(data.shape[1])

    def moments(values):
        d = values - values.mean(axis=0)
        out = d[:, r] * d[:, c]
        return np.hstack([values, out]) if meanstructure else out

    z = moments(data) - moments(predicted)
    z = z - z.mean(axis=0)
    return z.T @ z / len(data)


@pytest.mark.parametrize("meanstructure", [False, True])
def test_conditional_gamma_is_the_gamma_of_the_residual_moments(meanstructure):
    hs = semnet.datasets.holzinger_swineford()
    fit = semnet.sem("f =~ x1 + x2 + x3\nf ~ ageyr + sex", hs, meanstructure=meanstructure)
    mom = fit.moments[0]
    assert list(mom.names) == COLUMNS
    got = adf_gamma(mom, meanstructure, X)
    want = _moments_of_residuals(mom.data, meanstructure)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    # the covariates' own moments have zero rows and columns
    mask = fixed_x_moments(fit.model)
    assert mask.sum() == 3 + (2 if meanstructure else 0)
    assert np.allclose(got[mask], 0, atol=1e-12) and np.allclose(got[:, mask], 0, atol=1e-12)


def test_conditional_gamma_from_fourth_order_moments_equals_the_raw_data():
    hs = semnet.datasets.holzinger_swineford()
    mom = semnet.moments.from_frame(hs, columns=COLUMNS, fourth=True).group_moments(COLUMNS)[0]
    fit = semnet.sem("f =~ x1 + x2 + x3\nf ~ ageyr + sex", hs, meanstructure=True)
    np.testing.assert_allclose(
        adf_gamma(mom, True, X), adf_gamma(fit.moments[0], True, X), rtol=1e-8, atol=1e-10
    )


def test_fixed_x_positions_follow_the_table():
    fixed = Model(partable("f =~ x1 + x2 + x3\nf ~ ageyr + sex"))
    random = Model(partable("f =~ x1 + x2 + x3\nf ~ ageyr + sex", fixed_x=False))
    assert fixed_x_variables(fixed) == X
    assert fixed_x_variables(random) == ()
    assert not fixed_x_moments(random).any()


@pytest.mark.parametrize("estimator", ["MLR", "MLM", "MLMV"])
def test_robust_fit_with_covariates_from_fourth_order_moments(estimator):
    """The out-of-core moments (no rows kept) give the same robust inference."""
    hs = semnet.datasets.holzinger_swineford()
    model = "f =~ x1 + x2 + x3\nf ~ ageyr + sex"
    raw = semnet.sem(model, hs, estimator=estimator)
    mom = semnet.moments.from_frame(hs, columns=COLUMNS, fourth=True)
    summary = semnet.sem(model, mom, estimator=estimator)
    np.testing.assert_allclose(summary.estimates()["se"], raw.estimates()["se"], rtol=1e-6)
    assert summary.scaled_test.stat == pytest.approx(raw.scaled_test.stat, rel=1e-6)
    assert summary.baseline_scaled_test.stat == pytest.approx(
        raw.baseline_scaled_test.stat, rel=1e-6
    )
