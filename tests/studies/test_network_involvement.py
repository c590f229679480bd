"""The study pipeline on the bundled synthetic survey: outputs, determinism, recovery."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import semnet
from semnet.cli import main
from semnet.studies import network_involvement as study

FORMATS = ("md", "tex", "html", "csv")


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    return study.run(out=out, bootstrap=20, seed=7), out


def test_every_table_in_every_format_and_a_manifest(result):
    res, out = result
    assert len(res.tables) >= 14
    for name in res.tables:
        for ext in FORMATS:
            assert (out / f"{name}.{ext}").stat().st_size > 0
    svg = (out / "figure1_path_diagram.svg").read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "Network involvement" in svg
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 7 and manifest["semnet_version"] == semnet.__version__
    assert len(manifest["data_sha256"]) == 64
    assert manifest["countries"] == ["USA", "China", "Russia"]


def test_same_seed_gives_byte_identical_csvs(result, tmp_path):
    res, out = result
    again = study.run(out=tmp_path, bootstrap=20, seed=7)
    for name in res.tables:
        assert (out / f"{name}.csv").read_bytes() == (tmp_path / f"{name}.csv").read_bytes()
    assert again.manifest["data_sha256"] == res.manifest["data_sha256"]


def test_recovers_the_planted_effects(result):
    _, out = result
    lms = pd.read_csv(out / "table10_moderation_lms.csv")
    inter = lms[lms["rhs"] == "ni:et"].iloc[0]
    # population ni:et effect 0.15 (CODEBOOK.md) -> positive and significant
    assert inter["est"] > 0 and inter["pvalue"] < 0.05
    slopes = pd.read_csv(out / "table11_simple_slopes.csv")
    assert slopes["slope"].is_monotonic_increasing
    # the two planted non-invariant parameters (CODEBOOK.md), and nothing else
    audit = pd.read_csv(out / "table6_partial.csv")
    assert sorted(audit["param"].dropna()) == ["doi2~1", "ni=~ni3"]
    means = pd.read_csv(out / "table7_latent_means.csv")
    assert {"USA"} == set(means["reference"])
    # latent mean differences (in SDs) of the factors with unit population variance
    # cover the population values of CODEBOOK.md within their 95% CIs
    population = {("gm", "China"): 0.30, ("gm", "Russia"): -0.20,
                  ("rc", "China"): 0.40, ("rc", "Russia"): 0.20,
                  ("et", "China"): 0.30, ("et", "Russia"): 0.50,
                  ("ni", "China"): 0.470, ("ni", "Russia"): -0.035}  # fmt: skip
    for (factor, country), truth in population.items():
        row = means[(means["factor"] == factor) & (means["group"] == country)].iloc[0]
        se_es = row["se"] * abs(row["effect_size"] / row["est"])
        assert abs(row["effect_size"] - truth) <= 1.96 * se_es, (factor, country)
    # the NI -> DOI path is strongest in China (population .30 / .50 / .20)
    paths = pd.read_csv(out / "table8_structural.csv")
    doi_ni = paths[(paths["lhs"] == "doi") & (paths["rhs"] == "ni")].set_index("group")
    assert doi_ni["std_all"].idxmax() == "China"
    # the optional controls enter the DOI equation when present (population firm_size .10)
    controls = paths[(paths["lhs"] == "doi") & (paths["rhs"] == "firm_size")]
    assert len(controls) == 3 and controls["est"].mean() > 0
    cfa = pd.read_csv(out / "table4_cfa_fit.csv")
    assert (cfa["cfi"] > 0.95).all()


def test_missing_column_is_a_clear_error(tmp_path):
    data = pd.read_csv(study.default_data_path()).drop(columns=["ni3"])
    with pytest.raises(semnet.DataError, match="ni3"):
        study.run(data, tmp_path)


def test_cli_replicate_reports_bad_data(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"country": ["USA"], "gm1": [1]}).to_csv(bad, index=False)
    assert main(["replicate", "--data", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "lack the column" in capsys.readouterr().err
