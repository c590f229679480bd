"""Journal tables (semnet.report.journal): structure in every format, and Word output."""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings

import pandas as pd
import pytest

import semnet
from semnet.report.docx import column_widths, write_docx
from semnet.report.format import STAR_NOTE
from semnet.report.journal import (
    coefficients_table,
    fit_table,
    fornell_larcker_table,
    htmt_table,
    indirect_table,
    invariance_table,
    measurement_table,
    model_labels,
    partial_search_table,
    paths_table,
    simple_slopes_table,
)

CFA = """
# @label visual  = Visual ability
# @label textual = Textual ability
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
"""
SEM = CFA + "textual ~ visual\n"
SCHOOLS = ["Pasteur", "Grant-White"]


@pytest.fixture(scope="module")
def labels():
    return model_labels(CFA)


@pytest.fixture(scope="module")
def tables(hs, labels):
    cfa = semnet.cfa(CFA, hs, group="school")
    sem = semnet.sem(SEM, hs, group="school")
    inv = semnet.invariance(CFA, hs, group="school", rule="chisq", progress=False)
    partial = inv.partial("scalar", progress=False)
    med = semnet.sem("x3 ~ a*x1\nx5 ~ b*x3 + x1", hs)
    delta = semnet.indirect_effects(med, "x1", y="x5")
    boot = semnet.bootstrap(med, n=30, seed=1, ci="percentile",
                            indirect=[{"x": "x1", "y": "x5"}], progress=False)
    slopes = pd.DataFrame({"at": [-1.0, 0.0, 1.0], "moderator_value": [-0.9, 0.0, 0.9],
                           "slope": [0.1, 0.3, 0.5], "se": [0.08, 0.07, 0.09],
                           "pvalue": [0.2, 0.001, 1e-6], "ci_lower": [-0.05, 0.16, 0.3],
                           "ci_upper": [0.25, 0.44, 0.7]})  # fmt: skip
    return {
        "measurement": measurement_table(cfa, labels=labels, label="Table 1"),
        "htmt": htmt_table(semnet.htmt(CFA, hs, group="school"), labels=labels),
        "fornell_larcker": fornell_larcker_table(semnet.fornell_larcker(cfa), labels=labels),
        "fit": fit_table([("Measurement", "Multi-group", cfa), ("Structural", "Multi-group",
                                                                sem)]),
        "invariance": invariance_table(inv, partial),
        "partial": partial_search_table(partial, notes=("How the search chose.",)),
        "paths": paths_table(sem, labels=labels),
        "coefficients": coefficients_table(semnet.sem(SEM, hs), labels=labels),
        "indirect": indirect_table(delta, boot.table(ci="percentile")),
        "slopes": simple_slopes_table(slopes, focal="x", moderator="w"),
    }


def test_model_labels_read_the_label_comments(labels):
    assert labels == {"visual": "Visual ability", "textual": "Textual ability"}
    assert model_labels("#@label  f=Factor one  \nf =~ a") == {"f": "Factor one"}


@pytest.mark.parametrize("name", ["measurement", "htmt", "fornell_larcker", "fit",
                                  "invariance", "partial", "paths", "coefficients",
                                  "indirect", "slopes"])  # fmt: skip
def test_every_table_renders_in_every_format(tables, name, tmp_path):
    table = tables[name]
    _, rows, numeric = table.cells()
    assert table.notes and rows
    md, tex, html = table.to_markdown(), table.to_latex(), table.to_html()
    assert md.count("\n| ") == len(rows) + 1 and "*Note.*" in md
    assert "\\begin{threeparttable}" in tex and "\\begin{tablenotes}" in tex
    assert tex.count("\\\\\n") >= len(rows) + 1 and "\\toprule" in tex
    assert html.count("<tr") == len(rows) + 1 + bool(table.spans)
    assert '<p class="note"><em>Note.</em>' in html
    # numbers right-aligned, text left-aligned
    assert html.count('<td class="num">') == sum(numeric) * len(rows)
    csv = pd.read_csv(pd.io.common.StringIO(table.to_csv()))
    assert len(csv) >= 1
    paths = table.write(tmp_path)
    assert [p.suffix for p in paths] == [".md", ".tex", ".html", ".csv"]
    assert paths[2].read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_measurement_table_side_by_side(tables, hs):
    t = tables["measurement"]
    assert t.spans == (("", 2), ("Pasteur", 2), ("Grant-White", 2))
    header, rows, _ = t.cells()
    assert header == ["Construct", "Item", "λ", "SE", "λ", "SE"]
    stats = ["α", "CR (ω)", "AVE"]
    assert [r[1] for r in rows] == ["x1", "x2", "x3", *stats, "x4", "x5", "x6", *stats]
    assert rows[0][0] == "Visual ability" and rows[6][0] == "Textual ability"
    assert t.rules == (6,)
    std = semnet.cfa(CFA, hs, group="school").standardized()
    x2 = std[(std["rhs"] == "x2") & (std["group"] == "Grant-White")].iloc[0]
    assert rows[1][4] == f"{x2['est_std']:.3f}" and rows[1][5] == f"{x2['se']:.3f}"
    rel = semnet.reliability(semnet.cfa(CFA, hs, group="school"))
    alpha = rel[(rel["group"] == "Pasteur") & (rel["factor"] == "textual")]["alpha"].iloc[0]
    assert rows[9][2] == f"{alpha:.3f}" and rows[9][3] == ""
    assert "N = 301 (Pasteur = 156, Grant-White = 145)." in t.notes[0]
    assert "\\multicolumn{2}{c}{Pasteur}" in t.to_latex()
    assert "\\cmidrule(lr){3-4}" in t.to_latex()
    tidy = pd.read_csv(pd.io.common.StringIO(t.to_csv()))
    assert set(tidy["statistic"]) == {"loading", "alpha", "omega", "ave"}


def test_discriminant_matrices_are_lower_triangles(tables):
    header, rows, _ = tables["htmt"].cells()
    assert header == ["Group", "Construct", "1", "2"]
    assert rows[0][:4] == ["Pasteur", "1. Visual ability", "—", ""]
    assert rows[1][3] == "—" and re.fullmatch(r"0\.\d{3}", rows[1][2])
    _, rows, _ = tables["fornell_larcker"].cells()
    assert rows[0][3] == "" and rows[0][2] != "" and rows[1][3] != ""  # √AVE diagonal


def test_fit_table_columns_and_robust_versions(tables, hs):
    header, rows, _ = tables["fit"].cells()
    assert header == ["Model", "Sample", "N", "χ²", "df", "p", "CFI", "TLI", "RMSEA",
                      "90% CI", "SRMR"]
    assert re.fullmatch(r"\[0\.\d{3}, 0\.\d{3}\]", rows[0][9])
    mlr = semnet.cfa(CFA, hs, estimator="MLR")
    t = fit_table([("CFA", "All", mlr)])
    fm = mlr.fit_measures()
    assert t.cells()[1][0][3] == f"{fm['chisq_scaled']:.3f}"
    assert t.cells()[1][0][6] == f"{fm['cfi_robust']:.3f}"
    assert "Scaled χ² and robust CFI" in t.notes[0]


def test_invariance_table_one_rule(tables):
    t = tables["invariance"]
    frame = t.frame.set_index("model")
    assert list(t.cells()[0]) == ["Model", "χ²", "df", "Δχ²", "Δdf", "p", "CFI", "ΔCFI",
                                  "RMSEA", "ΔRMSEA", "SRMR", "Decision"]
    assert frame.loc["Configural", "decision"] == "reference"
    assert "χ² difference test" in t.notes[0] and "p > .05" in t.notes[0]
    partial_rows = [m for m in frame.index if m.startswith("Partial")]
    for m in partial_rows:
        assert frame.loc[m, "decision"] == "holds"
        assert frame.loc[m, "df"] > 20  # the model's df, not the score test's


def test_partial_search_table_names_the_ranking_test(tables, hs):
    t = tables["partial"]
    header, rows, _ = t.cells()
    assert t.title.endswith("(score tests)") and header[3] == "Score χ²"
    assert [r[2] for r in rows][-1].startswith("intercept of ")  # in words
    assert t.tidy["param"].dropna().str.endswith("~1").all()  # the CSV keeps lavaan's
    items = [f"x{i}" for i in range(1, 10)]
    cut = hs.assign(**{c: pd.cut(hs[c], 4, labels=False) for c in items})
    inv = semnet.invariance(CFA + "speed =~ x7 + x8 + x9\n", cut, group="school",
                            ordered=items, rule="chisq", progress=False)
    ordinal = partial_search_table(inv.partial("scalar", progress=False))
    assert ordinal.title.endswith("(refitted candidates)")
    assert ordinal.cells()[0][3] == "Candidate Δχ²"


def test_paths_wide_with_stars_and_r2(tables, hs):
    t = tables["paths"]
    header, rows, _ = t.cells()
    assert header == ["Path", "β", "SE", "β", "SE"]
    assert rows[0][0] == "Visual ability → Textual ability"
    assert rows[0][1].endswith("***") and rows[-1][0] == "R² Textual ability"
    assert t.rules == (1,) and t.notes[-1] == STAR_NOTE
    r2 = semnet.sem(SEM, hs, group="school").r_squared()
    value = r2[(r2["group"] == "Pasteur") & (r2["name"] == "textual")]["r2"].iloc[0]
    assert rows[-1][1] == f"{value:.3f}"
    tex = t.to_latex()
    assert "\\rlap{\\textsuperscript{***}}" in tex
    assert '<span class="stars">***</span>' in t.to_html()
    assert "\\*\\*\\*" in t.to_markdown()
    ci = paths_table(semnet.sem(SEM, hs, group="school"), ci=True, r2=False)
    assert ci.cells()[0] == ["Path", "β", "95% CI", "β", "95% CI"]
    assert ci.cells()[1][0][2].startswith("[")


def test_indirect_table_has_both_intervals_of_the_same_fit(tables):
    t = tables["indirect"]
    header, rows, _ = t.cells()
    assert header == ["Effect", "Path", "b", "SE", "95% CI (delta)", "Boot SE",
                      "95% CI (bootstrap)", "β"]
    assert [r[0] for r in rows] == ["Indirect", "Direct", "Total"]  # no repeated total
    assert rows[0][1] == "X1 → X3 → X5"
    assert all(r[6].startswith("[") for r in rows)


def test_bad_input_is_a_clear_error(hs):
    cfa = semnet.cfa(CFA, hs)
    with pytest.raises(semnet.OptionError, match="no regression paths"):
        paths_table(cfa)
    with pytest.raises(semnet.OptionError, match="at least one fit"):
        measurement_table({})


def test_word_document_has_one_real_table_per_table(tables, tmp_path):
    docx = pytest.importorskip("docx")
    path = write_docx(list(tables.values()), tmp_path / "t.docx", title="Tables")
    document = docx.Document(str(path))
    assert len(document.tables) == len(tables)
    paths = document.tables[list(tables).index("paths")]
    assert [c.text for c in paths.rows[0].cells] == ["", "Pasteur", "Pasteur",
                                                     "Grant-White", "Grant-White"]
    assert paths.rows[2].cells[1].text.endswith("***")
    star_runs = [r for r in paths.rows[2].cells[1].paragraphs[0].runs if r.text == "***"]
    assert star_runs and star_runs[0].font.superscript
    assert paths.rows[2].cells[1].paragraphs[0].alignment == 2  # right
    texts = [p.text for p in document.paragraphs]
    assert "Table 1" in texts and any(t.startswith("Note. Completely") for t in texts)
    # fixed column widths: a text column is never narrower than its longest word, the
    # heading rows repeat on every page
    measurement = document.tables[list(tables).index("measurement")]
    header, rows, numeric = tables["measurement"].cells()
    widths = [c.width.pt for c in measurement.columns]
    # (Word keeps widths in twentieths of a point)
    assert widths == pytest.approx(column_widths(header, rows, numeric, 648.0), abs=0.05)
    longest = max(len(w) for r in rows for w in r[0].split())
    assert widths[0] >= longest * 5
    repeated = measurement.rows[1]._tr.trPr.xml
    assert "tblHeader" in repeated and "cantSplit" in repeated


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_latex_of_every_table_compiles_with_pdflatex(tables, tmp_path):
    """The LaTeX (booktabs, threeparttable, the Greek letters and symbols as commands)
    compiles with plain pdflatex, the strictest of the engines."""
    body = "\n\\clearpage\n".join(t.to_latex() for t in tables.values())
    (tmp_path / "tables.tex").write_text(
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage[utf8]{inputenc}\n"
        "\\usepackage{booktabs,threeparttable}\n\\begin{document}\n" + body
        + "\n\\end{document}\n", encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                          "tables.tex"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)  # fmt: skip
    errors = [line for line in run.stdout.splitlines() if line.startswith("!")]
    assert run.returncode == 0 and not errors, errors or run.stdout[-2000:]
    assert (tmp_path / "tables.pdf").stat().st_size > 0


def test_tables_of_something_that_is_not_a_fit_are_refused():
    # was an AttributeError ('str' object has no attribute 'standardized')
    with pytest.raises(semnet.OptionError, match="not str"):
        paths_table("notafit")
    with pytest.raises(semnet.OptionError, match="not int"):
        measurement_table({"A": 1})


def test_measurement_table_of_a_path_model_is_refused(hs):
    # was a KeyError ('construct') from pandas
    with pytest.raises(semnet.OptionError, match="no '=~' rows"):
        measurement_table(semnet.sem("x9 ~ x1", hs))


def test_fit_table_without_fits_is_refused():
    # was an IndexError
    with pytest.raises(semnet.OptionError, match="at least one"):
        fit_table([])


def test_coefficients_table_names_the_group_of_each_block(hs, labels):
    # a multi-group fit printed both groups' paths one after the other, unlabelled
    t = coefficients_table(semnet.sem(SEM, hs, group="school"), labels=labels)
    assert t.flat_header()[:2] == ["Group", "Path"]
    assert [row[0] for row in t.cells()[1]] == ["Pasteur", "Grant-White"]
    assert coefficients_table(semnet.sem(SEM, hs)).flat_header()[0] == "Path"


def test_coefficients_and_paths_tables_take_one_outcome_as_a_string(hs):
    sem = semnet.sem(SEM, hs, group="school")
    # a string was a TypeError from pandas' isin()
    assert len(coefficients_table(sem, outcomes="textual").cells()[1]) == 2
    assert paths_table(sem, outcomes="textual").flat_header()[0] == "Path"


@pytest.mark.parametrize(("call", "message"), [
    (lambda hs: paths_table(semnet.sem(SEM, hs), labels=["visual"]), "labels must map"),
    (lambda hs: paths_table(semnet.sem(SEM, hs), outcomes=5), "outcomes must be"),
    (lambda hs: coefficients_table("fit"), "journal tables take a fit"),
    (lambda hs: fit_table([("Model", semnet.sem(SEM, hs))]), "triples"),
    (lambda hs: fit_table([("Model", "All", "fit")]), "journal tables take a fit"),
    (lambda hs: invariance_table("ladder"), "result of semnet.invariance"),
    (lambda hs: htmt_table("matrix"), "must be a DataFrame"),
    (lambda hs: simple_slopes_table(pd.DataFrame({"a": [1]}), focal="x", moderator="w"),
     "columns lack at"),
    (lambda hs: indirect_table(pd.DataFrame({"effect": ["indirect"]})), "columns lack path"),
])
def test_journal_tables_refuse_inputs_of_the_wrong_kind(hs, call, message):
    # each was an AttributeError, KeyError, TypeError or ValueError from inside
    with pytest.raises(semnet.OptionError, match=message):
        call(hs)


def test_indirect_table_names_the_bootstrap_interval_it_lacks(hs):
    med = semnet.sem("x3 ~ a*x1\nx5 ~ b*x3 + x1", hs)
    boot = semnet.bootstrap(med, n=3, seed=1, ci="percentile", indirect={"x": "x1", "y": "x5"},
                            progress=False).table(ci="percentile")
    with pytest.raises(semnet.OptionError, match="ci_lower_bca"):
        indirect_table(semnet.indirect_effects(med, "x1", y="x5"), boot, ci_method="bca")


def test_tables_of_the_standardized_solution_point_an_lms_fit_to_coefficients_table():
    hs = semnet.datasets.holzinger_swineford()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lms = semnet.sem("visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\n"
                         "speed =~ x7 + x8 + x9\nspeed ~ visual + textual + visual:textual", hs)
    for table in (measurement_table, paths_table):
        with pytest.raises(semnet.OptionError, match=r"use journal\.coefficients_table\(fit\)"):
            table(lms)
    assert coefficients_table(lms).title
