"""FIML-corrected statistics of the robust fit indices (lavaan's lav_fit_fiml_corrected).

The values are checked against lavaan end to end (``cfi_robust``, ``rmsea_robust``, ...
of the FIML fixtures in tests/api/test_reference.py); here: what must hold without
missing values.
"""

from __future__ import annotations

import pandas as pd
import pytest
from reference import REFERENCE
from shared_models import HS_MODEL
from tolerances import FIT_RTOL

import semnet
from semnet.inference.fiml_corrected import fiml_corrected
from semnet.inference.vcov import tangent_basis


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


def test_random_covariates_as_lavaan():
    """``fixed.x = FALSE`` with FIML: the baseline model saturates the covariates' block,
    and lavaan's complete-data information has zero rows and columns for their moments
    (lavaan 0.6.14, ``sem("f =~ x1 + x2 + x3; f ~ ageyr", fixed.x = FALSE,
    missing = "ml")`` on hs_missing_x.csv, and MLR)."""
    holes = pd.read_csv(REFERENCE / "fixed_x" / "hs_missing_x.csv")
    model = "f =~ x1 + x2 + x3\nf ~ ageyr"
    lavaan = {
        "ML": {"baseline_chisq": 106.3691247216, "cfi_robust": 0.9886230573,
               "rmsea_robust": 0.0465008427},
        "MLR": {"cfi_robust": 0.9899973755, "rmsea_robust": 0.0435378657},
    }  # fmt: skip
    for estimator, expected in lavaan.items():
        fm = semnet.sem(model, holes, fixed_x=False, missing="fiml",
                        estimator=estimator).fit_measures()  # fmt: skip
        for key, value in expected.items():
            assert fm[key] == pytest.approx(value, rel=FIT_RTOL), (estimator, key)
