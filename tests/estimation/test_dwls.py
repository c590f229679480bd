"""The least-squares discrepancy of ordinal items: value and analytic gradient against
finite differences, and the information as the Gauss-Newton J'WJ."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tolerances import GRAD_RTOL

import semnet
from semnet.estimation.discrepancy import discrepancy

HERE = Path(__file__).parent.parent / "reference" / "ordinal"
HS3 = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@pytest.fixture(scope="module", params=["delta", "theta"])
def multigroup_fit(request):
    # equal thresholds free the later group's scale factors (delta) or residual
    # variances (theta) and latent means: every kind of parameter enters the Jacobian
    data = pd.read_csv(HERE / "hs_four_school.csv")
    return semnet.cfa(HS3, data, ordered=True, group="school",
                      group_equal=["thresholds", "loadings"], parameterization=request.param)


def _central(f, x, h=1e-6):
    out = np.empty_like(x)
    for k in range(x.size):
        e = np.zeros_like(x)
        e[k] = h
        out[k] = (f(x + e) - f(x - e)) / (2 * h)
    return out


@pytest.mark.parametrize("name", ["DWLS", "ULS", "WLS"])
def test_gradient_matches_finite_differences(multigroup_fit, name):
    fit = multigroup_fit
    disc = discrepancy(name, fit.model, fit.sample, fit.values)
    # away from the minimum, with free scale factors, thresholds and latent means moved
    rng = np.random.default_rng(1)
    x = fit.x + rng.normal(scale=0.05, size=fit.x.size)
    ev = disc.evaluate(x)
    numeric = _central(lambda z: disc.evaluate(z, derivatives=False).f, x)
    np.testing.assert_allclose(ev.gradient, numeric, rtol=GRAD_RTOL, atol=1e-9)


def test_information_is_the_expected_information(multigroup_fit):
    fit = multigroup_fit
    disc = discrepancy("DWLS", fit.model, fit.sample, fit.values)
    values = fit.model.values(fit.x, disc.fixed_values)
    expected = sum(
        m.nobs / disc.ntotal * J.T @ W @ J
        for m, (J, W, _) in zip(fit.moments, disc.sandwich_parts(fit.x), strict=True)
    )
    np.testing.assert_allclose(disc.evaluate(fit.x).information, expected, rtol=1e-12)
    # the Jacobian of the implied statistics, column by column
    free = fit.model.free_rows
    numeric = np.column_stack([
        (disc.implied(values + e, 1) - disc.implied(values - e, 1)) / 2e-6
        for e in (np.eye(values.size)[free] * 1e-6)
    ])  # fmt: skip
    np.testing.assert_allclose(disc.jacobian(values, 1), numeric, atol=1e-7)


def test_value_is_lavaan_fmin_scale(multigroup_fit):
    # 2 N f is the chi-square: sum over groups of (N_g - 1) (s - sigma)' W (s - sigma)
    fit = multigroup_fit
    disc = discrepancy("DWLS", fit.model, fit.sample, fit.values)
    values = fit.model.values(fit.x, disc.fixed_values)
    total = 0.0
    for g, (s, W, _) in enumerate(disc.stats):
        e = s - disc.implied(values, g)
        total += (fit.sample.moments[g].nobs - 1) * e @ W @ e
    np.testing.assert_allclose(2 * disc.ntotal * disc.evaluate(fit.x).f, total, rtol=1e-12)
