"""The study pipeline on the bundled synthetic survey: outputs, determinism, recovery."""

from __future__ import annotations

import hashlib
import json
import shutil

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


def test_model_files_default_and_errors(tmp_path, monkeypatch):
    models = study.model_files()
    assert sorted(models) == sorted(study.MODELS)
    assert all("=~" in text or "~" in text for text in models.values())
    with pytest.raises(semnet.SemnetError, match="does not exist; pass models_dir="):
        study.model_files(tmp_path / "none")
    (tmp_path / "measurement.lav").write_text(models["measurement"], encoding="utf-8")
    with pytest.raises(semnet.SemnetError, match=r"lacks structural\.lav, moderated\.lav"):
        study.model_files(tmp_path)
    monkeypatch.setattr(study, "bundled_path", lambda *args: None)
    with pytest.raises(semnet.SemnetError, match="missing from this semnet install"):
        study.model_files()


def test_load_data_reads_stata_with_country_names(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    survey = semnet.datasets.network_involvement()
    codes = {"USA": 1, "China": 2, "Russia": 3}
    path = tmp_path / "survey.dta"
    pyreadstat.write_dta(survey.assign(country=survey["country"].map(codes)), str(path),
                         variable_value_labels={"country": {v: k for k, v in codes.items()}})
    frame, digest = study.load_data(path)
    assert list(pd.unique(frame["country"])) == ["USA", "China", "Russia"]
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()


def test_rerun_into_its_own_folder(result, tmp_path):
    """A second run into a folder an earlier run wrote: allowed; files of the earlier run
    that it does not write again are removed, other files kept, symlinks replaced."""
    _, out = result
    again = tmp_path / "again"
    shutil.copytree(out, again)
    (again / "notes.txt").write_text("mine", encoding="utf-8")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    (again / "table1_descriptives.md").unlink()
    (again / "table1_descriptives.md").symlink_to(victim)
    res = study.run(out=again, bootstrap=0, seed=7)
    assert "table15_bootstrap" not in res.tables
    assert not list(again.glob("table15_bootstrap.*"))
    assert (again / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert victim.read_text(encoding="utf-8") == "keep"
    assert not (again / "table1_descriptives.md").is_symlink()
    assert (again / "table1_descriptives.md").read_bytes() == (
        out / "table1_descriptives.md").read_bytes()
    manifest = json.loads((again / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["bootstrap"] == 0
    assert set(manifest["outputs"]) | {"manifest.json", "notes.txt"} == {
        p.name for p in again.iterdir()}
