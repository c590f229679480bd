"""The indirect-export seed study (paper 002) on its committed synthetic survey: the
pipeline recovers the population values of models/indirect_export/population.lav and its
outputs are byte-identical for a seed."""

from __future__ import annotations

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

import semnet
from semnet.studies import get

STUDY = get("indirect-export")
#: 7-point Likert coding of a unit-variance item multiplies it by about
#: sum(dnorm(thresholds)) = 1.19 (simulate's module notes); a path from the observed 0/1
#: covariate xr therefore is -0.40 * dnorm(0) / 0.25 (dichotomising at 0) * 0.80 (marker) * 1.19
XR_PATH = -0.40 * 0.3989 / 0.25 * 0.80 * 1.19
#: population paths of the multi-group model (population.lav), by label; in the direct
#: group the slopes at the group's latent means (the raw-score products shift them)
TRUE_PATHS = {
    "x1_1": XR_PATH, "x1_2": XR_PATH, "a1_1": -0.35, "a1_2": -0.41, "a2_1": 0.45,
    "a2_2": 0.03, "b1_1": 0.50, "b1_2": 0.50, "b2_1": -0.10, "b2_2": -0.10, "c1_1": 0.40,
    "c1_2": 0.40, "c2_1": 0.20, "c2_2": 0.20, "c3_1": 0.20, "c3_2": 0.245, "c4_1": 0.15,
    "c4_2": 0.195,
}  # fmt: skip
#: latent mean differences direct - indirect of the exogenous factors, in SDs
TRUE_MEANS = {"DBN": -0.40, "CLE": 0.30, "CLC": 0.30}


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("indirect_export")
    return STUDY.run(out=out, bootstrap=10, seed=5), out


def test_paths_within_three_standard_errors(result):
    _, out = result
    effects = assert_paths_within_three_se(out, TRUE_PATHS)
    # the planted structural difference a2 = 0.45 vs 0.03 (at the direct group's means)
    assert abs(effects.loc["d_a2", "est"] - 0.42) <= 3 * effects.loc["d_a2", "se"]
    assert effects.loc["d_a2", "pvalue"] < 0.05


def test_planted_non_invariance_is_found(result):
    _, out = result
    ladder = pd.read_csv(out / "table3_invariance.csv").set_index("level")
    assert ladder.loc["metric", "pvalue_diff"] < 0.05
    assert_partial_search_frees(out, ["IEK=~exs", "exs~1"])
    assert_fit_table_agrees(out)


def test_latent_mean_differences_cover_the_population(result):
    _, out = result
    assert_latent_means_cover(out, TRUE_MEANS)


def test_interactions_are_positive(result):
    _, out = result
    full = pd.read_csv(out / "table8_full_model.csv")
    inter = full[full["rhs"].isin(["IDX:DBN", "CLE:CLC"])]
    assert len(inter) == 4
    assert (abs(inter["est"] - 0.15) <= 3 * inter["se"]).all()
    lms = pd.read_csv(out / "table9_moderation_lms.csv")
    lms = lms[lms["rhs"] == "IDX:DBN"]
    assert (lms["est"] > 0).all()
    assert (abs(lms["est"] - 0.15) <= 3 * lms["se"]).all()


def test_bootstrap_and_byte_identical_outputs(result, tmp_path):
    res, out = result
    assert_rerun_identical(STUDY, res, out, tmp_path, {"pit_1", "pit_2", "d_pit", "d_a2"})


def test_generator_reproduces_the_committed_survey():
    assert_generator_reproduces_the_survey(STUDY, "exportmode")


def test_missing_columns_named(tmp_path):
    data = pd.read_csv(STUDY.data_path()).drop(columns=["exs", "xr"])
    with pytest.raises(semnet.DataError, match=r"lack the column\(s\) exs, xr"):
        STUDY.run(data, tmp_path)


def test_journal_report(result):
    """The plan writes APA tables with construct names, one invariance rule, report.html,
    the multi-group path diagram and the manifest's report entry (issues #18/#21)."""
    res, out = result
    report = res.manifest["report"]
    assert report["html"] == "report.html" and (out / "report.html").is_file()
    assert (report["docx"] is None) == (report["docx_status"] != "written")
    assert res.manifest["options"]["invariance_rule"] == "chisq"
    figure = (out / "figure1_path_diagram.svg").read_text(encoding="utf-8")
    assert "indirect (n = 350)" in figure and "direct (n = 350)" in figure
    paths = (out / "table6_structural.md").read_text(encoding="utf-8")
    assert "Domestic business network → Direct international relationships" in paths
    assert "except none" not in paths
    ladder = res.tables["table3_invariance"]
    assert ladder.flat_header()[:2] == ["Model", "χ²"] and len(ladder.flat_header()) == 12
    note = " ".join(ladder.notes)
    assert "χ² difference test against the previous level has p > .05" in note
    assert "Chen" not in note and "N = 700 (indirect = 350, direct = 350)" in note
    assert [r[0] for r in ladder.cells()[1]][-1].startswith("Partial scalar (free: loading")
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("<table") == len(res.tables) and "<svg" in html
