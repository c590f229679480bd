"""The gvc-upgrading seed study (Kang & Kim 2023, paper 003) on its committed synthetic
survey: the pipeline recovers the population values of
models/gvc_upgrading/population.lav and its outputs are byte-identical for a seed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from seed_study_checks import (
    assert_fit_table_agrees,
    assert_generator_reproduces_the_survey,
    assert_latent_means_cover,
    assert_partial_search_frees,
    assert_paths_within_three_se,
    assert_rerun_identical,
)

from semnet.studies import get

STUDY = get("gvc-upgrading")
#: second-order loadings of the upgrading types on UPG and the paths into UPG
TYPES = {"r": 0.85, "d": 0.75, "f": 0.70, "h": 0.65}
INTO_UPG = {"1": 0.35, "2": -0.25, "3": -0.20, "4": 0.35}
#: direct network paths: CHN ~ SMN in Japan, FUN ~ SMN in Korea
DIRECT = {"h1_1": 0.25, "f1_2": 0.30}
#: population paths of the four-outcome multi-group model (population.lav), by label
TRUE_PATHS = {
    **{f"{k}{p}_{g}": lam * u + DIRECT.get(f"{k}{p}_{g}", 0.0)
       for k, lam in TYPES.items() for p, u in INTO_UPG.items() for g in ("1", "2")},
    **{f"{label}_{g}": value for label, value in {
        "k1": 0.40, "k2": 0.30, "t1": 0.45, "t2": 0.15, "t3": 0.20, "t4": 0.10}.items()
       for g in ("1", "2")},
}  # fmt: skip
TRUE_EFFECTS = {"d_SMN_CHN": 0.25, "d_SMN_FUN": -0.30, "d_route": 0.55}
#: latent mean differences Korea - Japan of the exogenous factors, in SDs
TRUE_MEANS = {"RGL": -0.30, "RSI": 0.40, "SMN": 0.0, "PAS": 0.0, "LLO": 0.0}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("gvc_upgrading")
    return STUDY.run(out=out, bootstrap=10, seed=5), out


def test_paths_within_three_standard_errors(result):
    _, out = result
    assert len(TRUE_PATHS) == len(pd.read_csv(out / "table6_structural.csv")) == 44
    effects = assert_paths_within_three_se(out, TRUE_PATHS)
    for name, truth in TRUE_EFFECTS.items():
        assert abs(effects.loc[name, "est"] - truth) <= 3 * effects.loc[name, "se"], name
    assert effects.loc["d_route", "pvalue"] < 0.05


def test_planted_non_invariance_is_found(result):
    _, out = result
    ladder = pd.read_csv(out / "table3_invariance.csv").set_index("level")
    assert ladder.loc["metric", "pvalue_diff"] < 0.05
    assert ladder.loc["scalar", "pvalue_diff"] < 0.05
    assert_partial_search_frees(out, ["RGL=~rg3", "fu2~1"])
    assert_fit_table_agrees(out)


def test_latent_mean_differences_cover_the_population(result):
    _, out = result
    means = assert_latent_means_cover(out, TRUE_MEANS)
    # the first-order upgrading means are fixed at 0; the second-order UPG carries it
    assert (means.loc[["PRC", "PRD", "FUN", "CHN"], "est"] == 0).all()
    assert np.isfinite(means.loc["UPG", "se"])


def test_interactions(result):
    _, out = result
    full = pd.read_csv(out / "table8_full_model.csv")
    # in the UPG metric: 0.15 * 0.85 (PRC's loading) / (0.80 * 1.19) (SMN's and PAS's
    # markers after 7-point coding, see test_indirect_export) = 0.134; SMN:LLO 0.089
    for rhs, truth in (("SMN:PAS", 0.134), ("SMN:LLO", 0.089)):
        rows = full[full["rhs"] == rhs]
        assert len(rows) == 2
        assert (abs(rows["est"] - truth) <= 3 * rows["se"]).all(), rhs
    lms = pd.read_csv(out / "table9_moderation_lms.csv")
    lms = lms[lms["rhs"] == "SMN:PAS"]
    assert (lms["est"] > 0).all() and (lms["lr_pvalue"] < 0.05).all()


def test_bootstrap_and_byte_identical_outputs(result, tmp_path):
    res, out = result
    assert_rerun_identical(STUDY, res, out, tmp_path, {"d_SMN_CHN", "d_SMN_FUN", "d_route"})


def test_generator_reproduces_the_committed_survey():
    assert_generator_reproduces_the_survey(STUDY, "country")
