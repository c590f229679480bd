"""The format-neutral Table: one set of cells, five renderers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import semnet
from semnet.report.tables import (
    Column,
    Table,
    frame_to_html,
    frame_to_latex,
    frame_to_markdown,
    frame_to_text,
    html_page,
)

SPECIAL = "a_b % & # $ { } <"


@pytest.fixture
def table() -> Table:
    frame = pd.DataFrame({
        "param": [SPECIAL, "x|y", "z"],
        "est": [0.123456789012345, -1.5, np.nan],
        "df": [2.0, 24.0, 3.0],
        "n": pd.array([301, 156, None], dtype="Int64"),
        "pvalue": [0.0004, 0.0234, 1.0],
        "equal": [True, False, True],
    })
    return Table("t1", "Fit & more", frame, notes=("ML; 5% level.",), digits=2)


def test_cells_by_column_kind(table):
    header, rows, numeric = table.cells()
    assert header == ["param", "est", "df", "n", "pvalue", "equal"]
    assert numeric == [False, True, True, True, True, False]
    assert rows[0] == [SPECIAL, "0.12", "2", "301", "< .001", "yes"]
    assert rows[1] == ["x|y", "-1.50", "24", "156", "0.023", "no"]
    assert rows[2] == ["z", "", "3", "", "1.000", "yes"]  # NaN and NA are empty


def test_column_overrides_and_kinds():
    frame = pd.DataFrame({"id": [1, 2], "est": [0.5, 0.25], "p_adjusted": [0.5, 0.0001],
                          "sets": [("a", "b"), ("c",)]})
    t = Table("t", "", frame, columns={"id": "text", "est": Column("number", digits=1)})
    assert [c.kind for c in t.kinds()] == ["text", "number", "pvalue", "text"]
    assert t.cells()[1] == [["1", "0.5", "0.500", "a, b"], ["2", "0.2", "< .001", "c"]]


def test_bad_tables_are_clear_errors():
    frame = pd.DataFrame({"a": [1]})
    with pytest.raises(semnet.OptionError, match=r"'b'.*columns are a"):
        Table("t", "", frame, columns={"b": "text"})
    with pytest.raises(semnet.OptionError, match="DataFrame"):
        Table("t", "", {"a": [1]})
    with pytest.raises(semnet.OptionError, match=r"kind='numbr'.*'number'"):
        Column("numbr")
    with pytest.raises(semnet.OptionError, match="digits"):
        Table("t", "", frame, digits=-1)


def test_text_aligns_numbers_right_and_text_left(table):
    lines = table.to_text().splitlines()
    assert lines[:2] == ["Fit & more", ""]
    assert lines[2].split() == ["param", "est", "df", "n", "pvalue", "equal"]
    assert set(lines[3]) == {"-", " "}
    width = len(SPECIAL)
    assert lines[4].startswith(SPECIAL + "   0.12")
    assert lines[5].startswith("x|y" + " " * (width - 3) + "  -1.50")
    assert lines[6].startswith("z" + " " * (width - 1) + "       ")  # empty est
    assert lines[4].index("< .001") + len("< .001") == lines[5].index("0.023") + 5
    assert lines[-1] == "Note. ML; 5% level."


def test_markdown(table):
    md = table.to_markdown()
    lines = md.splitlines()
    assert lines[0] == "**Fit & more**"
    assert lines[2] == "| param | est | df | n | pvalue | equal |"
    assert lines[3] == "|:--|--:|--:|--:|--:|:--|"
    assert lines[4] == f"| {SPECIAL} | 0.12 | 2 | 301 | < .001 | yes |"
    assert lines[5].startswith("| x\\|y | -1.50 | 24 |")
    assert lines[6] == "| z |  | 3 |  | 1.000 | yes |"
    assert lines[-1] == "*Note.* ML; 5% level."
    assert md.endswith("\n")


def test_latex_booktabs_with_every_special_character_escaped(table):
    tex = table.to_latex()
    assert tex.startswith("\\begin{table}[htbp]\n\\centering\n\\begin{threeparttable}\n"
                          "\\caption{Fit \\& more}\n")
    assert "\\begin{tabular}{lrrrrl}\n\\toprule\n" in tex
    assert "param & est & df & n & pvalue & equal \\\\\n\\midrule\n" in tex
    row = r"a\_b \% \& \# \$ \{ \} \textless{} & 0.12 & 2 & 301 & \textless{} .001 & yes \\"
    assert row in tex.splitlines()
    assert "z &  & 3 &  & 1.000 & yes \\\\" in tex.splitlines()
    assert "\\bottomrule\n\\end{tabular}\n" in tex
    assert "\\begin{tablenotes}[flushleft]" in tex
    assert "\\item \\textit{Note.} ML; 5\\% level." in tex
    assert tex.endswith("\\end{tablenotes}\n\\end{threeparttable}\n\\end{table}\n")
    bare = Table("t", "", pd.DataFrame({"x": [0.5]})).to_latex()
    assert bare.startswith("\\begin{tabular}{r}") and "table}" not in bare


def test_html(table):
    page = table.to_html()
    assert '<p class="title">Fit &amp; more</p>' in page
    assert '<th class="txt">param</th><th class="num">est</th>' in page
    assert (f"<td class=\"txt\">{SPECIAL.replace('&', '&amp;').replace('<', '&lt;')}</td>"
            '<td class="num">0.12</td>') in page
    assert '<td class="num">&lt; .001</td>' in page
    assert '<td class="num"></td>' in page  # NaN
    assert page.count("<tr>") == 4
    assert page.rstrip().endswith('<p class="note"><em>Note.</em> ML; 5% level.</p>\n</div>')
    assert table._repr_html_() == page


def test_csv_keeps_full_precision(table):
    text = table.to_csv()
    back = pd.read_csv(pd.io.common.StringIO(text))
    assert back["est"].iloc[0] == 0.123456789012345
    assert back["pvalue"].iloc[0] == 0.0004
    assert text.splitlines()[3].startswith("z,,3.0,,1.0,")  # NaN and NA are empty


def test_write_every_format(table, tmp_path):
    paths = table.write(tmp_path / "out")
    assert [p.name for p in paths] == ["t1.md", "t1.tex", "t1.html", "t1.csv"]
    assert paths[0].read_text(encoding="utf-8") == table.to_markdown()
    assert str(table) == table.to_text()


@pytest.mark.parametrize("where", ["afile", "afile/sub"])
def test_write_into_a_file_is_refused_and_the_file_kept(table, tmp_path, where):
    # was a FileExistsError / NotADirectoryError from pathlib
    (tmp_path / "afile").write_text("keep", encoding="utf-8")
    with pytest.raises(semnet.OptionError, match="is a file, not a folder"):
        table.write(tmp_path / where)
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "keep"


def test_frame_helpers_keep_a_named_index():
    frame = pd.DataFrame({"cfi": [0.93, 0.9], "pvalue_diff": [np.nan, 0.00001]},
                         index=pd.Index(["configural", "metric"], name="level"))
    md = frame_to_markdown(frame)
    assert md.splitlines()[:3] == ["| level | cfi | pvalue_diff |", "|:--|--:|--:|",
                                   "| configural | 0.930 |  |"]
    assert "| metric | 0.900 | < .001 |" in md
    tex = frame_to_latex(frame, caption="Ladder_1")
    assert "\\caption{Ladder\\_1}" in tex and "pvalue\\_diff" in tex
    assert '<td class="txt">metric</td>' in frame_to_html(frame, digits=1)
    assert "| a |" in frame_to_markdown(pd.DataFrame({"a": [1]}, index=[5]))
    assert frame_to_text(frame, digits=2).splitlines()[2:] == [
        "configural  0.93", "metric      0.90       < .001"]


def test_markdown_star_legend_is_not_a_list_item():
    from semnet.report.format import STAR_NOTE

    md = Table("t", "T", pd.DataFrame({"a": [1.0]}), notes=("first", STAR_NOTE)).to_markdown()
    assert md.rstrip().splitlines()[-1] == "\\" + STAR_NOTE


@pytest.mark.parametrize("tables", [["x"], "Table 1", [None]])
def test_html_page_of_something_else_than_tables_is_an_option_error(tables):
    with pytest.raises(semnet.OptionError, match="html_page takes a list of semnet Tables"):
        html_page(tables)


def test_html_page_of_one_table_names_the_list_it_needs(table):
    with pytest.raises(semnet.OptionError, match="not Table"):
        html_page(table)


def test_frame_to_latex_labels_from_the_caption_or_the_label():
    frame = pd.DataFrame({"cfi": [0.95]})
    assert r"\label{tab:measurement-invariance-by-country}" in frame_to_latex(
        frame, caption="Measurement invariance, by country"
    )
    assert r"\label{tab:inv}" in frame_to_latex(frame, caption="Invariance", label="inv")
    assert r"\label" not in frame_to_latex(frame)
