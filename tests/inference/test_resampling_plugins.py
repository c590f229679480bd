"""The resampling plug-ins: se="bootstrap" (VCOV) and test="bollen_stine" (TESTS) are
registry rows whose post-fit hook the pipeline runs; the options lavaan refuses for them
are clear errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from reference import REFERENCE

import semnet
from semnet.inference.plugins import TESTS, VCOV, Resampling, VcovPlugin
from semnet.options import DEFAULT_BOOTSTRAP, resolve

HS = semnet.datasets.holzinger_swineford()
CFA = "textual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def test_the_rows_and_their_names():
    assert VCOV.get("bootstrap").resampling.type == "ordinary"
    assert VCOV.get("bootstrap").compute is None
    for name in ("bollen_stine", "bollen.stine", "Bollen-Stine", "bootstrap", "boot"):
        assert TESTS.name(name) == "bollen_stine"  # lavaan's spellings of test=
    plugin = TESTS.get("bollen_stine")
    assert plugin.resampling.type == "bollen_stine" and not plugin.scaled
    assert plugin.complete_data and not plugin.weights and not plugin.cluster


@pytest.mark.parametrize(
    ("kwargs", "se", "test", "draws"),
    [
        ({"se": "bootstrap"}, "bootstrap", "standard", DEFAULT_BOOTSTRAP),
        ({"bootstrap": 20}, "bootstrap", "standard", 20),
        ({"test": "bollen.stine"}, "standard", "bollen_stine", DEFAULT_BOOTSTRAP),
        ({"test": "bollen.stine", "bootstrap": 30}, "standard", "bollen_stine", 30),
        ({"test": "bollen.stine", "se": "robust.sem", "bootstrap": 30}, "robust_sem",
         "bollen_stine", 30),
        ({"estimator": "MLR", "bootstrap": 5}, "bootstrap", "yuan_bentler_mplus", 5),
        ({}, "standard", "standard", 0),
    ],
)  # fmt: skip
def test_options_resolve_through_the_registries(kwargs, se, test, draws):
    opts = resolve(**kwargs)
    assert (opts.se, opts.test, opts.bootstrap) == (se, test, draws)


def test_the_bootstrap_records_the_estimators_information():
    """The bootstrap uses no information matrix; the fit records the estimator's (what
    its score tests and modification indices use), as before it was a registry row."""
    assert resolve(se="bootstrap").information == "expected"
    assert resolve(se="bootstrap", estimator="MLR").information == "observed"
    assert resolve(se="bootstrap", missing="fiml").information == "observed"


def test_the_pipeline_runs_any_rows_resampling_hook(monkeypatch):
    """A new VCOV row with a Resampling is all it takes: the pipeline draws the bootstrap
    its row names and hands it to the row's hook."""
    seen = []

    def attach(fit, boot):
        seen.append((boot.type, boot.n))
        return fit.with_bootstrap(boot)

    row = VcovPlugin(None, None, casewise=True, resampling=Resampling("bollen_stine", attach))
    monkeypatch.setitem(VCOV._items, "model_bootstrap", row)
    fit = semnet.cfa(CFA, HS, se="model.bootstrap", bootstrap=15, seed=2)
    assert seen == [("bollen_stine", 15)]
    assert fit.bootstrap.type == "bollen_stine" and np.isfinite(fit.vcov_free).all()


def test_se_bootstrap_is_the_vcov_of_the_draws():
    fit = semnet.cfa(CFA, HS, se="bootstrap", bootstrap=25, seed=3)
    draws = fit.bootstrap.draws.to_numpy()
    free = fit.partable.params["free"].to_numpy()
    first = np.unique(free[free > 0] - 1, return_index=True)[1]
    x = draws[:, first]
    np.testing.assert_allclose(fit.vcov_free, np.cov(x.T, ddof=0), rtol=1e-12)
    assert fit.bootstrap_test is None and fit.tests().index.tolist() == ["standard"]


def test_with_bootstrap_test_needs_a_model_based_bootstrap():
    fit = semnet.cfa(CFA, HS)
    boot = semnet.bootstrap(fit, n=5, seed=1, ci="percentile")
    with pytest.raises(semnet.SemnetError, match="ordinary bootstrap"):
        fit.with_bootstrap_test(boot)
    other = semnet.cfa("textual =~ x4 + x5 + x6", HS)
    bs = semnet.bootstrap(fit, n=5, seed=1, ci="percentile", type="bollen_stine")
    with pytest.raises(semnet.OptionError, match="not made from this fit"):
        other.with_bootstrap_test(bs)
    attached = fit.with_bootstrap_test(bs)
    assert fit.bootstrap_test is None and attached.bootstrap_test is bs
    with pytest.raises(dataclasses.FrozenInstanceError):
        attached.bootstrap_test = None


def test_what_lavaan_refuses_is_a_clear_error():
    hs_missing = pd.read_csv(REFERENCE / "data" / "hs_missing.csv")
    with pytest.raises(semnet.OptionError, match="needs complete data"):
        semnet.cfa(CFA, hs_missing, missing="fiml", test="bollen.stine")
    with pytest.raises(semnet.OptionError, match="ordinal items"):
        semnet.cfa(CFA, HS, ordered=True, test="bollen.stine")
    with pytest.raises(semnet.OptionError, match="cluster="):
        semnet.cfa(CFA, HS, cluster="school", test="bollen.stine")
    weighted = HS.assign(w=np.linspace(0.5, 1.5, len(HS)))
    with pytest.raises(semnet.OptionError, match="sampling_weights="):
        semnet.cfa(CFA, weighted, sampling_weights="w", test="bollen.stine")
    with pytest.raises(semnet.OptionError, match="se='bootstrap'"):
        semnet.cfa(CFA, HS, bootstrap=10, se="robust.sem")
    with pytest.raises(semnet.OptionError, match="bootstrap must be"):
        semnet.cfa(CFA, HS, test="bollen.stine", bootstrap=1.5)
    cov = HS[["x4", "x5", "x6", "x7", "x8", "x9"]].cov()
    with pytest.raises(semnet.DataError, match="raw data"):
        semnet.cfa(CFA, sample_cov=cov, sample_nobs=301, test="bollen.stine", bootstrap=5)


def test_the_bootstrap_keeps_fiml_as_lavaan():
    """se="bootstrap" is defined with FIML (the raw rows are resampled); the
    Bollen–Stine test is not (its rotation needs complete data)."""
    hs_missing = pd.read_csv(REFERENCE / "data" / "hs_missing.csv")
    with pytest.warns(semnet.SemnetWarning):
        fit = semnet.cfa("f =~ x1 + x2 + x3", hs_missing, missing="fiml", se="bootstrap",
                         bootstrap=5, seed=1)  # fmt: skip
    assert fit.options.se == "bootstrap" and fit.bootstrap.n == 5
