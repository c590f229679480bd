"""semnet.alignment() against sirt::invariance.alignment() (Mplus's FIXED method).

The fixture ``tests/reference/alignment/alignment_sirt.json`` comes from
``make_alignment_sirt.R``: lavaan fits the configural model of each simulated data set and
sirt aligns it with Mplus's settings (component loss (x² + 0.01)^¼, pair weights
√(n_g n_h), first group mean 0 and variance 1), independently of semnet.

Two conventions of sirt are mapped before comparing:

* sirt reports the group SDs (``psi0``); semnet the variances.
* sirt's standard errors of the means are those of its optimization parameters, the means
  on the scale where the geometric mean of the group SDs is 1, not of the reported means
  (sirt rescales the estimates to the reference group's SD but not their standard errors).
  semnet's means and their joint covariance with the variances are mapped to that scale by
  the delta method.
* sirt's ``nu.aligned`` under Mplus's methods subtracts α_g λ_jg0 instead of Asparouhov &
  Muthén's α_g λ_jg0 / √ψ_g, so semnet's aligned intercepts are checked against the paper's
  formula evaluated at sirt's means and SDs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tolerances import SIRT_ATOL, SIRT_SE_RTOL

import semnet

HERE = Path(__file__).resolve().parent.parent / "reference" / "alignment"
REFERENCE = json.loads((HERE / "alignment_sirt.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=sorted(REFERENCE))
def case(request):
    ref = REFERENCE[request.param]
    data = pd.read_csv(HERE / f"{request.param}.csv")
    model = f"{ref['factor']} =~ " + " + ".join(ref["items"])
    aligned = semnet.alignment(model, data, group="country", method="FIXED")
    return ref, aligned


def test_configural_fit_is_lavaans(case) -> None:
    ref, aligned = case
    chisq = aligned.configural.fit_measures()["chisq"]
    assert chisq == pytest.approx(ref["configural"]["chisq"], rel=1e-4)


def test_means_and_sds_match_sirt(case) -> None:
    ref, aligned = case
    means = aligned.factor_means()
    assert list(means["group"]) == ref["groups"]
    np.testing.assert_allclose(means["mean"], ref["fixed"]["mean"], atol=SIRT_ATOL)
    np.testing.assert_allclose(np.sqrt(means["variance"]), ref["fixed"]["sd"], atol=SIRT_ATOL)


def test_aligned_loadings_and_intercepts_match_sirt(case) -> None:
    ref, aligned = case
    fa = aligned.factors[0]
    groups, items = len(ref["groups"]), len(ref["items"])
    loadings = fa.values[fa.block("loading", groups)].reshape(items, groups).T
    intercepts = fa.values[fa.block("intercept", groups)].reshape(items, groups).T
    np.testing.assert_allclose(loadings, ref["fixed"]["lambda_aligned"], atol=SIRT_ATOL)
    lam0 = np.array(ref["configural"]["lambda"])
    nu0 = np.array(ref["configural"]["nu"])
    alpha = np.array(ref["fixed"]["mean"])[:, None]
    sd = np.array(ref["fixed"]["sd"])[:, None]
    np.testing.assert_allclose(intercepts, nu0 - alpha * lam0 / sd, atol=SIRT_ATOL)


def test_standard_errors_match_sirt(case) -> None:
    ref, aligned = case
    fa = aligned.factors[0]
    groups = len(ref["groups"])
    mean, var = fa.values[:groups], fa.values[groups:2 * groups]
    vcov = fa.vcov[:2 * groups, :2 * groups]
    # sirt's parameters: means over the geometric mean of the SDs, and the SDs
    geo = np.exp(np.mean(0.5 * np.log(var)))
    jac = np.zeros((2 * groups, 2 * groups))
    jac[:groups, :groups] = np.eye(groups) / geo
    jac[:groups, groups:] = -np.outer(mean / geo, 1.0 / (2 * groups * var))
    jac[groups:, groups:] = np.diag(0.5 / np.sqrt(var))
    se = np.sqrt(np.diag(jac @ vcov @ jac.T))
    expected = dict(zip(ref["fixed"]["se_names"], ref["fixed"]["se"], strict=True))
    sirt_se = np.array([expected[f"alpha{g}"] for g in range(2, groups + 1)]
                       + [expected[f"psi{g}"] for g in range(2, groups + 1)])
    ours = np.concatenate([se[1:groups], se[groups + 1:]])
    np.testing.assert_allclose(ours, sirt_se, rtol=SIRT_SE_RTOL)
