"""sem(..., bootstrap=N, seed=...): bootstrap standard errors and intervals, as lavaan's
se = "bootstrap" with parameterEstimates(boot.ci.type = "perc")."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from reference import REFERENCE

import semnet
from semnet.analyses.bootstrap import BootstrapResult

HS = semnet.datasets.holzinger_swineford()


def _load(name: str) -> dict:
    with open(REFERENCE / "analyses" / f"{name}.json", encoding="utf-8") as fh:
        return json.load(fh)


REF = _load("bootstrap_ci_mediation")
MODEL = REF["call"]["model"]  # x8 ~ a*x7; x9 ~ b*x8 + c*x7; ind := a*b; total := c + a*b


@pytest.fixture(scope="module")
def boot_fit():
    return semnet.sem(MODEL, HS, bootstrap=500, seed=20261202)


def _lavaan_draws_fit() -> semnet.Fit:
    """The fit with lavaan's own 500 draws attached (exact comparisons)."""
    fit = semnet.sem(MODEL, HS)
    D = np.array(REF["boot"]["matrix"], dtype=float)
    assert REF["boot"]["names"] == ["a", "b", "c", "x8~~x8", "x9~~x9"]
    D = np.column_stack([D, D[:, 0] * D[:, 1], D[:, 2] + D[:, 0] * D[:, 1]])
    free = fit.partable.params["free"].to_numpy() > 0
    est = np.concatenate([fit.values[free], fit._names.defined(fit.values)])
    cols = ("x8~x7", "x9~x8", "x9~x7", "x8~~x8", "x9~~x9", "ind", "total")
    boot = BootstrapResult(
        n=len(D), type="ordinary", seed_entropy=0, columns=cols,
        rows=tuple((c, "", "", None, "") for c in cols), estimate=est, _draws=D,
        _chisq=np.zeros(len(D)), failure_reasons=("",) * len(D), acceleration=None,
        chisq_sample=0.0,
    )  # fmt: skip
    return fit.with_bootstrap(boot)


@pytest.mark.parametrize(("key", "level"), [("perc", 0.95), ("perc90", 0.90)])
def test_estimates_reproduce_lavaan_on_its_own_draws(key, level):
    """SEs (:= rows by the delta method with the bootstrap covariance matrix), z, p and
    percentile intervals of every row equal lavaan's parameterEstimates()."""
    est = _lavaan_draws_fit().estimates(level=level)
    lav = pd.DataFrame(REF[key])
    assert est["lhs"].tolist() == lav["lhs"].tolist()
    assert np.allclose(est["est"], lav["est"], rtol=1e-6)
    assert np.allclose(est["se"], lav["se"], rtol=1e-9, atol=1e-12)
    # z = est / se carries the estimates' agreement (both optimizers stop ~1e-7 apart)
    assert np.allclose(est["z"], lav["z"], rtol=1e-6, equal_nan=True)
    assert np.allclose(est["pvalue"], lav["pvalue"], rtol=1e-6, atol=1e-14, equal_nan=True)
    assert np.allclose(est["ci_lower"], lav["ci.lower"], rtol=1e-9, atol=1e-12)
    assert np.allclose(est["ci_upper"], lav["ci.upper"], rtol=1e-9, atol=1e-12)


def test_standardized_solution_uses_the_bootstrap_vcov_as_lavaan():
    ref = _load("bootstrap_ci_mediation_std")
    fit = _lavaan_draws_fit()
    for kind in ("std_all", "std_lv"):
        lav = pd.DataFrame(ref[kind])
        std = fit.standardized(kind)
        assert np.allclose(std["est_std"], lav["est.std"], rtol=1e-6)
        assert np.allclose(std["se"], lav["se"], rtol=1e-6, atol=1e-10)


def test_other_interval_types_come_from_the_draws():
    fit = _lavaan_draws_fit()
    lav = pd.DataFrame(REF["bca_simple"])
    est = fit.estimates(boot_ci="bca_simple")
    assert np.allclose(est["ci_lower"], lav["ci.lower"], rtol=1e-9)
    with pytest.raises(semnet.SemnetError, match="jackknife"):
        fit.estimates(boot_ci="bca")


def test_bootstrap_se_and_intervals_agree_with_lavaan_within_monte_carlo_error(boot_fit):
    """500 draws each: the SE of a bootstrap SE is ~3 %, of a percentile endpoint
    ~0.12 SE (normal theory), so the differences are bounded at ~4 sigma."""
    est = boot_fit.estimates()
    lav = pd.DataFrame(REF["perc"])
    free = lav["se"] > 0
    ratio = est.loc[free, "se"].to_numpy() / lav.loc[free, "se"].to_numpy()
    assert np.all(np.abs(ratio - 1) < 0.15), ratio
    for side in ("lower", "upper"):
        diff = (est[f"ci_{side}"] - lav[f"ci.{side}"])[free] / lav.loc[free, "se"]
        assert np.all(np.abs(diff) < 0.75), (side, diff.to_numpy())
    # the normal-theory SEs differ: the residual variances of these data are not normal
    analytic = semnet.sem(MODEL, HS).estimates()
    assert abs(analytic.loc[3, "se"] / lav.loc[3, "se"] - 1) > 0.15


def test_seed_reproducibility_and_the_attached_draws(boot_fit):
    again = semnet.sem(MODEL, HS, bootstrap=500, seed=20261202)
    assert again.bootstrap.draws.equals(boot_fit.bootstrap.draws)
    assert again.estimates().equals(boot_fit.estimates())
    other = semnet.sem(MODEL, HS, bootstrap=500, seed=1)
    assert not np.allclose(other.estimates()["se"], boot_fit.estimates()["se"])
    # the same draws as semnet.bootstrap() of the plain fit
    plain = semnet.sem(MODEL, HS)
    tab = semnet.bootstrap(plain, n=500, seed=20261202, ci="percentile").table(ci="percentile")
    est = boot_fit.estimates()
    free = plain.partable.params["free"].to_numpy() > 0
    assert np.allclose(est.loc[np.flatnonzero(free), "se"], tab["boot_se"][:5], rtol=1e-12)
    assert np.allclose(est["est"], plain.estimates()["est"])
    assert boot_fit.options.se == "bootstrap" and plain.options.se == "standard"


def test_fit_is_frozen_and_with_bootstrap_returns_a_new_fit(boot_fit):
    with pytest.raises(dataclasses.FrozenInstanceError):
        boot_fit.bootstrap = None
    plain = semnet.sem(MODEL, HS)
    boot = semnet.bootstrap(plain, n=50, seed=3, ci="percentile")
    attached = plain.with_bootstrap(boot)
    assert plain.bootstrap is None and attached.bootstrap is boot
    assert not np.allclose(plain.estimates()["se"], attached.estimates()["se"])
    other = semnet.sem("x8 ~ x7\nx9 ~ x8", HS)
    with pytest.raises(semnet.OptionError, match="not made from this fit"):
        other.with_bootstrap(boot)


def test_summary_reports_the_bootstrap(boot_fit):
    text = str(boot_fit.summary())
    assert "Bootstrap" in text
    assert "Number of requested bootstrap draws              500" in text
    assert "Number of successful bootstrap draws             500" in text


def test_bootstrap_with_equality_constraints_and_groups():
    model = "x8 ~ c(a, a)*x7\nx9 ~ x8"
    fit = semnet.sem(model, HS, group="school", bootstrap=30, seed=4)
    est = fit.estimates()
    tied = est.loc[(est["lhs"] == "x8") & (est["op"] == "~")]
    assert tied["se"].nunique() == 1 and tied["ci_lower"].nunique() == 1
    assert np.isfinite(est["se"]).all()


def test_options():
    with pytest.raises(semnet.OptionError, match="bootstrap must be"):
        semnet.sem(MODEL, HS, bootstrap=-5)
    with pytest.raises(semnet.OptionError, match="se='bootstrap'"):
        semnet.sem(MODEL, HS, bootstrap=10, se="robust.sem")
    fit = semnet.sem(MODEL, HS, se="bootstrap", bootstrap=20, seed=1)
    assert fit.bootstrap.n == 20
    one_int = pd.read_csv(REFERENCE / "lms" / "oneInt.csv")
    lms_model = "X =~ x1 + x2 + x3\nZ =~ z1 + z2 + z3\nY =~ y1 + y2 + y3\nY ~ X + Z + X:Z"
    with pytest.raises(semnet.OptionError, match="no bootstrap"):
        semnet.sem(lms_model, one_int, interaction="lms", bootstrap=10)
