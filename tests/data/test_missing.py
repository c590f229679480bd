"""The data layer's incomplete-data statistics: the saturated model per group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reference import REFERENCE
from tolerances import FIT_RTOL

import semnet

MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


@pytest.mark.parametrize("n", [3, 6])
def test_a_group_too_small_for_its_saturated_model_is_named(n):
    """Fewer cases than variables (with a missing value) leave the EM covariance
    singular: a DataError naming the group, not numpy's LinAlgError."""
    hs = semnet.datasets.holzinger_swineford()
    hs.loc[: n - 1, "school"] = "Small"
    hs.loc[1, "x4"] = np.nan
    with pytest.raises(semnet.DataError, match=r"group 'Small'.*more cases than variables"):
        semnet.cfa(MODEL, hs, group="school", missing="fiml")


def test_fiml_baseline_saturates_the_random_covariates():
    """With ``fixed_x=False`` the baseline model frees the covariates' block, as the
    complete-data baseline does: FIML on complete data gives the ML baseline, and with
    a missing covariate lavaan's baseline (0.6.14: ``sem(..., fixed.x = FALSE,
    missing = "ml")`` of the model below on hs_missing_x.csv, baseline.chisq
    889.8553073), whose covariates' block is the EM estimate of their columns alone."""
    model = (
        "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ NA*x7 + x8 + x9\n"
        "speed ~~ 1*speed\nspeed ~ ageyr + sex\nx1 ~ 0*1\nvisual ~ 1"
    )
    hs = semnet.datasets.holzinger_swineford()
    complete = [
        semnet.sem(model, hs, fixed_x=False, missing=m).fit_measures()["baseline_chisq"]
        for m in ("listwise", "fiml")
    ]
    assert complete[1] == pytest.approx(complete[0], rel=FIT_RTOL)
    holes = pd.read_csv(REFERENCE / "fixed_x" / "hs_missing_x.csv")
    fit = semnet.sem(model, holes, fixed_x=False, missing="fiml")
    assert fit.fit_measures()["baseline_chisq"] == pytest.approx(889.8553073, rel=FIT_RTOL)
