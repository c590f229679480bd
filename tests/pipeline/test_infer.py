"""Standard errors of models that are not identified: a warning, never silent numbers,
whatever the estimator (the robust sandwiches invert the information as the standard
errors do)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from reference import REFERENCE

import semnet

#: visual's three indicators with a residual covariance, uncorrelated with textual:
#: not identified (tests/reference/fuzz m072_hs, where lavaan warns too)
UNIDENTIFIED = """
visual =~ x1 + x2 + x3
textual =~ x4 + l*x5 + l*x6 + 0*x3
x2 ~~ x3
"""


@pytest.mark.parametrize("options", [
    {"estimator": "ML"}, {"estimator": "MLM"}, {"estimator": "MLR"}, {"estimator": "MLMV"},
    {"se": "robust.huber.white"},
])  # fmt: skip
def test_robust_standard_errors_of_an_unidentified_model_warn(options):
    data = semnet.datasets.holzinger_swineford()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = semnet.cfa(UNIDENTIFIED, data, orthogonal=True, **options)
    messages = [str(w.message) for w in caught]
    assert any("may not be identified" in m for m in messages), messages
    assert fit.estimates()["se"].isna().any()


def test_negative_sampling_variances_warn():
    """FIML MLR of a model that is not identified (tests/reference/fuzz m026_sim): the
    observed information clears the singularity checks (smallest eigenvalue 2e-10 of the
    largest) but the sandwich has negative variances; their SEs are NaN, with a warning."""
    data = pd.read_csv(REFERENCE / "fuzz" / "sim_missing.csv")
    model = "f1 =~ y1 + y2 + y3\nf2 =~ y4 + y5 + y6\ny5 ~~ y6\ny2 ~~ y5"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = semnet.cfa(model, data, orthogonal=True, missing="fiml", estimator="MLR")
    se = fit.estimates()["se"]
    assert np.isnan(se).any()
    assert any("some standard errors are NaN" in str(w.message) for w in caught)


#: an isolated factor with two indicators, uncorrelated with the other factor: not
#: identified (tests/reference/fuzz m112_pd, where lavaan is silent)
ISOLATED_PAIR = """
ind60 =~ x1 + x2
dem60 =~ y1 + l*y2 + l*y3 + y4
y2 ~~ y3
y2 ~~ y4
ind60 ~~ 0*dem60
"""


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_observed_information_regular_on_a_ridge_still_warns(estimator):
    """MLR's observed information at semnet's point of the ridge is regular to 1.4e-10,
    but the expected information is singular: the fit warns, as ML's does."""
    data = semnet.datasets.political_democracy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = semnet.sem(ISOLATED_PAIR, data, estimator=estimator, meanstructure=True)
    assert any("may not be identified" in str(w.message) for w in caught)
    assert any("may not be identified" in w for w in fit.warnings)


def test_identified_mlr_fit_gives_no_identification_warning():
    data = semnet.datasets.holzinger_swineford()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        semnet.cfa("f =~ x1 + x2 + x3\ng =~ x4 + x5 + x6", data, estimator="MLR")
    assert not [w for w in caught if "identified" in str(w.message)]
