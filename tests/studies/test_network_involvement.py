"""The study pipeline on the bundled synthetic survey: outputs, determinism, recovery."""

from __future__ import annotations

import hashlib
import json
import shutil

import numpy as np
import pandas as pd
import pytest

import semnet
from semnet.cli import main
from semnet.report.format import typeset_minus
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
    """The same seed gives the same tables, also with the bootstrap on two workers."""
    res, out = result
    again = study.run(out=tmp_path, bootstrap=20, seed=7, jobs=2)
    for name in res.tables:
        assert (out / f"{name}.csv").read_bytes() == (tmp_path / f"{name}.csv").read_bytes()
    for name in ("report.html", "tables.docx"):
        if (out / name).exists():
            assert (out / name).read_bytes() == (tmp_path / name).read_bytes(), name
    assert again.manifest["data_sha256"] == res.manifest["data_sha256"]


def test_recovers_the_planted_effects(result):
    _, out = result
    lms = pd.read_csv(out / "table13_moderation_lms.csv")
    inter = lms[lms["rhs"] == "ni:et"].iloc[0]
    # population ni:et effect 0.15 (CODEBOOK.md) -> positive and significant
    assert inter["est"] > 0 and inter["pvalue"] < 0.05
    slopes = pd.read_csv(out / "table14_simple_slopes.csv")
    assert slopes["slope"].is_monotonic_increasing
    # the two planted non-invariant parameters (CODEBOOK.md), and nothing else
    audit = pd.read_csv(out / "table8_partial.csv")
    assert sorted(audit["param"].dropna()) == ["doi2~1", "ni=~ni3"]
    means = pd.read_csv(out / "table9_latent_means.csv")
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
    paths = pd.read_csv(out / "table11_structural.csv")
    beta = paths[paths["statistic"] == "beta"]
    doi_ni = beta[(beta["outcome"] == "doi") & (beta["predictor"] == "ni")].set_index("group")
    assert doi_ni["est"].idxmax() == "China"
    # the optional controls enter the DOI equation when present (population firm_size .10)
    controls = beta[(beta["outcome"] == "doi") & (beta["predictor"] == "firm_size")]
    assert len(controls) == 3 and controls["est"].mean() > 0
    fit = pd.read_csv(out / "table6_fit.csv")
    assert len(fit) == 9 and (fit["cfi"] > 0.95).all()
    assert list(fit["model"]).count("Structural") == 4


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


def test_rerun_into_its_own_folder(result, tmp_path, monkeypatch):
    """A second run into a folder an earlier run wrote: allowed; files of the earlier run
    that it does not write again are removed, other files kept, symlinks replaced.  Here
    without python-docx: no tables.docx, and the manifest says why."""
    import semnet.report.docx

    monkeypatch.setattr(semnet.report.docx, "docx_available", lambda: False)
    _, out = result
    again = tmp_path / "again"
    shutil.copytree(out, again)
    (again / "notes.txt").write_text("mine", encoding="utf-8")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep", encoding="utf-8")
    (again / "table1_descriptives.md").unlink()
    (again / "table1_descriptives.md").symlink_to(victim)
    res = study.run(out=again, bootstrap=0, seed=7)
    assert "boot_se" not in res.tables["table17_indirect"].tidy.columns
    assert "boot_se" not in pd.read_csv(again / "table17_indirect.csv").columns
    assert (again / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert victim.read_text(encoding="utf-8") == "keep"
    assert not (again / "table1_descriptives.md").is_symlink()
    assert (again / "table1_descriptives.md").read_bytes() == (
        out / "table1_descriptives.md").read_bytes()
    manifest = json.loads((again / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["bootstrap"] == 0
    assert not (again / "tables.docx").exists() and (again / "report.html").exists()
    assert manifest["report"]["docx"] is None
    assert "python-docx" in manifest["report"]["docx_status"]
    assert set(manifest["outputs"]) | {"manifest.json", "notes.txt"} == {
        p.name for p in again.iterdir()}


def test_journal_tables_of_the_study(result):
    res, out = result
    assert list(res.tables) == [f"table{k}_{name}"
                                for k, name in enumerate(study.TABLES, start=1)]
    countries = ["USA", "China", "Russia"]
    for name, table in res.tables.items():
        assert table.label == f"Table {name[5:].split('_')[0]}"
        assert table.notes, name
        assert "e-0" not in " ".join(table.notes), name  # one p-value style
    # measurement model: λ and SE per country side by side, α / CR / AVE rows
    measurement = res.tables["table2_measurement"]
    assert measurement.spans == (("", 2), *((c, 2) for c in countries))
    header, rows, _ = measurement.cells()
    assert header == ["Construct", "Item"] + ["λ", "SE"] * 3
    assert rows[0][0] == "Global mindset" and [r[1] for r in rows[4:7]] == ["α", "CR (ω)",
                                                                            "AVE"]
    # structural paths wide by country, stars explained, R² rows at the bottom
    paths = res.tables["table11_structural"]
    header, rows, _ = paths.cells()
    assert header == ["Path"] + ["β", "SE"] * 3
    assert rows[0][0] == "Global mindset → Network involvement" and rows[0][1].endswith("***")
    assert [r[0] for r in rows[-2:]] == ["R² Network involvement",
                                         "R² Degree of internationalization"]
    assert paths.notes[-1] == "* p < .05. ** p < .01. *** p < .001."
    # one decision rule: the ladder and the partial search agree on the metric level
    ladder = res.tables["table7_invariance"].frame.set_index("model")
    assert ladder.loc["Metric", "decision"] == "fails"
    assert ladder.loc["Partial metric (free: loading of ni3)", "decision"] == "holds"
    scalar = "Partial scalar (free: loading of ni3, intercept of doi2)"
    assert ladder.loc[scalar, "decision"] == "holds"
    assert "χ² difference test" in res.tables["table7_invariance"].notes[0]
    # the bootstrap refits the FIML model: the same estimates as the delta-method rows
    indirect = pd.read_csv(out / "table17_indirect.csv")
    assert (indirect["n_boot"] == 20).all() and indirect["boot_se"].gt(0).all()
    med = semnet.sem(study.model_files()["mediation"], study.load_data(None)[0],
                     missing="fiml")
    gm = semnet.indirect_effects(med, "gm", y="doi")
    assert indirect["est"].iloc[0] == pytest.approx(gm["est"].iloc[0], rel=1e-10)
    assert "950 firms" in res.tables["table17_indirect"].notes[1]


def test_report_html_and_word_document(result):
    res, out = result
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert page.count('<table class="apa">') == len(res.tables)
    assert "<svg" in page and "Figure 1." in page
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["report"]["html"] == "report.html"
    assert manifest["options"]["invariance_rule"] == "chisq"
    docx = pytest.importorskip("docx")
    assert manifest["report"]["docx"] == "tables.docx"
    document = docx.Document(str(out / "tables.docx"))
    assert len(document.tables) == len(res.tables)
    for word, table in zip(document.tables, res.tables.values(), strict=True):
        header, rows, numeric = table.cells()
        offset = 1 if table.spans else 0
        assert len(word.rows) == offset + 1 + len(rows)
        assert [c.text for c in word.rows[offset].cells] == header
        # numbers set with the typographic minus
        assert [c.text for c in word.rows[-1].cells] == [
            typeset_minus(c) if num else c for c, num in zip(rows[-1], numeric, strict=True)
        ]
    texts = [p.text for p in document.paragraphs]
    assert "Table 9" in texts and any(t.startswith("Note. ") for t in texts)


def test_method_variance_alignment_and_ordinal_robustness_tables(result):
    _, out = result
    cmv = pd.read_csv(out / "table5_method_variance.csv").set_index("sample")
    assert list(cmv.index) == ["USA", "China", "Russia", "Pooled"]
    assert (cmv["first_component_share"] < 0.5).all()  # no planted method factor
    assert 0 < cmv.loc["Pooled", "ulmc_method_variance_share"] < 0.2
    aligned = pd.read_csv(out / "table10_alignment.csv")
    # alignment and the partial scalar model agree within a standard error
    assert ((aligned["aligned"] - aligned["partial_scalar"]).abs()
            < aligned["aligned_se"]).all()
    ordinal = pd.read_csv(out / "table18_ordinal.csv")
    levels = ordinal.groupby("items")["level"].apply(list).to_dict()
    assert levels["wlsmv"] == ["configural", "thresholds", "metric", "scalar"]
    assert levels["mlr"] == ["configural", "metric", "scalar", "strict"]
    scalar = ordinal[ordinal["level"] == "scalar"].set_index("items")["decision"]
    assert (scalar == "fails").all()  # the planted doi2 intercept, found either way


def test_sampling_weights_reach_every_model_that_allows_them(tmp_path):
    data, _ = study.load_data(None)
    data = data.assign(w=np.linspace(0.5, 2.0, len(data)))
    res = study.run(data, tmp_path / "weighted", bootstrap=0, weights="w")
    assert res.manifest["options"]["sampling_weights"] == "w"
    paths = pd.read_csv(tmp_path / "weighted" / "table11_structural.csv")
    direct = semnet.sem(
        study.model_files()["structural"] + "\ndoi ~ firm_size + firm_age\n", data,
        group="country", group_equal=["loadings", "intercepts"],
        group_partial=["ni=~ni3", "doi2~1"], missing="fiml", sampling_weights="w",
    ).standardized()
    row = direct[(direct["lhs"] == "ni") & (direct["op"] == "~") & (direct["rhs"] == "gm")
                 & (direct["group"] == "USA")]["est_std"].item()
    ours = paths[(paths["outcome"] == "ni") & (paths["predictor"] == "gm")
                 & (paths["group"] == "USA") & (paths["statistic"] == "beta")]
    assert ours.iloc[0]["est"] == pytest.approx(row, rel=1e-6)
    notes = " ".join(res.tables["table11_structural"].notes)
    assert "MLR with the sampling weights of column w" in notes
    assert "HTMT does not use the sampling weights" in " ".join(res.tables["table3_htmt"].notes)
    with pytest.raises(semnet.DataError, match="'nope' is not in the data"):
        study.run(data, tmp_path / "bad", bootstrap=0, weights="nope")
