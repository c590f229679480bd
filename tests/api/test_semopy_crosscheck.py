"""ML estimates and chi-square agree with an independent implementation (semopy).

semopy's default optimizer (SLSQP) stops about 2e-3 (relative) away from the optimum on
the HS CFA, so it is run with L-BFGS-B here; estimates are compared within 1e-3 relative.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from shared_models import HS_MODEL as HS
from tolerances import ATOL, FIT_RTOL, SEMOPY_RTOL

import semnet

POLDEM = """
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + y2 + y3 + y4
dem65 =~ y5 + y6 + y7 + y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
"""
CASES = {
    "hs_cfa": (HS, semnet.datasets.holzinger_swineford),
    "poldem_sem": (POLDEM, semnet.datasets.political_democracy),
}


def _semopy_fit(model: str, data: pd.DataFrame):
    semopy = pytest.importorskip("semopy")
    m = semopy.Model(model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m.fit(data, obj="MLW", solver="L-BFGS-B")
        chisq, _ = semopy.stats.calc_chi2(m)
        dof = semopy.stats.calc_dof(m)
    return m.inspect(), float(chisq), int(dof)


def _semopy_keyed(ins: pd.DataFrame, latents: set[str]) -> pd.Series:
    """semopy's rows as lavaan keys: (lhs, op, rhs) with covariances ordered."""
    out = {}
    rows = zip(ins["lval"], ins["op"], ins["rval"], ins["Estimate"], strict=True)
    for lval, op, rval, est in rows:
        if op == "~" and rval in latents and lval not in latents:
            key = (rval, "=~", lval)
        elif op == "~~":
            a, b = sorted((lval, rval))
            key = (a, "~~", b)
        else:
            key = (lval, op, rval)
        out[key] = float(est)
    return pd.Series(out)


def _semnet_keyed(est: pd.DataFrame) -> pd.Series:
    out = {}
    for lhs, op, rhs, value in zip(est["lhs"], est["op"], est["rhs"], est["est"], strict=True):
        if op == "~~":
            lhs, rhs = sorted((lhs, rhs))
        out[(lhs, op, rhs)] = float(value)
    return pd.Series(out)


@pytest.mark.parametrize("case", list(CASES))
def test_estimates_and_chisq_match_semopy(case):
    model, load = CASES[case]
    data = load()
    fit = semnet.sem(model, data)
    assert fit.converged
    ins, chisq, dof = _semopy_fit(model, data)
    theirs = _semopy_keyed(ins, set(fit.partable.names.lv))
    ours = _semnet_keyed(fit.estimates())
    assert sorted(theirs.index) == sorted(ours.index)
    ours = ours[theirs.index]
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=SEMOPY_RTOL, atol=ATOL)
    # semopy's chi-square is N * F_ML, as lavaan's
    assert fit.fit_measures()["chisq"] == pytest.approx(chisq, rel=FIT_RTOL)
    assert fit.fit_measures()["df"] == dof
