"""FIML-corrected statistics of the robust fit indices (lavaan's lav_fit_fiml_corrected).

The values are checked against lavaan end to end (``cfi_robust``, ``rmsea_robust``, ...
of the FIML fixtures in tests/api/test_reference.py); here: what must hold without
missing values.
"""

from __future__ import annotations

import pytest
from tolerances import FIT_RTOL

import semnet
from semnet.inference.fiml_corrected import fiml_corrected
from semnet.inference.vcov import tangent_basis

HS_MODEL = """
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""


@pytest.fixture(scope="module")
def complete_fiml():
    return semnet.cfa(HS_MODEL, semnet.datasets.holzinger_swineford(), missing="fiml")


def _corrected(fit, scaled):
    T = tangent_basis(fit.constraints, fit.x)
    return fiml_corrected(fit.model, fit.values, fit.moments, fit.patterns, T, fit.df, scaled)


def test_complete_data_statistics_are_the_ml_ones(complete_fiml):
    """Without missing values the EM moments are the sample moments and the missing-data
    information is the complete-data one: T3 is the ML chi-square, and with the
    standard test (V6) the scaling factors are 1."""
    fit = complete_fiml
    cor = _corrected(fit, scaled=False)
    fm = fit.fit_measures()
    assert cor.chisq == pytest.approx(fm["chisq"], rel=FIT_RTOL)
    assert cor.baseline_chisq == pytest.approx(fm["baseline_chisq"], rel=FIT_RTOL)
    assert (cor.df, cor.baseline_df) == (24, 36)
    assert cor.scaling_factor == pytest.approx(1.0, rel=1e-8)
    assert cor.baseline_scaling_factor == pytest.approx(1.0, rel=1e-8)
    for name in ("cfi", "tli", "rni", "rmsea", "rmsea_ci_lower", "rmsea_ci_upper"):
        assert fm[f"{name}_robust"] == pytest.approx(fm[name], rel=1e-6), name


def test_scaled_version_differs_from_the_standard_one(complete_fiml):
    """V3 weighs the casewise scores (non-normality): its scaling factor is not 1."""
    cor = _corrected(complete_fiml, scaled=True)
    assert cor.scaling_factor == pytest.approx(cor.chisq / cor.chisq_scaled)
    assert abs(cor.scaling_factor - 1.0) > 0.01
