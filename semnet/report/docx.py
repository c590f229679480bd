"""Word output: report tables as real Word tables in APA 7 style (python-docx).

:func:`write_docx` writes one ``.docx`` with every table in order: the number label in
bold, the title in italics, the table with horizontal rules only (above and below the
header, under spanning headers, between blocks of rows, at the bottom), numbers
right-aligned with their significance stars as superscripts, and the notes under it.
The same tables give a byte-identical file.
python-docx is an optional dependency: ``pip install "semnet[docx]"``.

Examples
--------
>>> import pandas as pd
>>> from semnet.report.tables import Table
>>> from semnet.report.docx import write_docx
>>> t = Table("t1", "Fit", pd.DataFrame({"model": ["a"], "cfi": [0.95]}), label="Table 1")
>>> write_docx([t], "tables.docx")  # doctest: +SKIP
PosixPath('tables.docx')
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from semnet.errors import SemnetError
from semnet.report.diagram import text_width
from semnet.report.format import typeset_minus
from semnet.report.tables import Table, split_stars

__all__ = ["DOCX_FONT", "column_widths", "docx_available", "write_docx"]

#: font and sizes (points) of the document: body, table cells, notes
DOCX_FONT = ("Times New Roman", 12, 10, 10)


def docx_available() -> bool:
    """Whether python-docx is installed (the ``[docx]`` extra).

    Examples
    --------
    >>> isinstance(docx_available(), bool)
    True
    """
    try:
        import docx  # noqa: F401
    except ImportError:
        return False
    return True


def _qn(tag: str) -> str:
    from docx.oxml.ns import qn

    return qn(tag)


def _element(tag: str, **attrs: str) -> Any:
    from docx.oxml import OxmlElement

    el = OxmlElement(tag)
    for key, value in attrs.items():
        el.set(_qn(f"w:{key}"), value)
    return el


def _cell_border(cell: Any, edge: str, size: int) -> None:
    """A single horizontal line on one edge of a cell (size in eighths of a point)."""
    props = cell._tc.get_or_add_tcPr()
    borders = props.find(_qn("w:tcBorders"))
    if borders is None:
        borders = _element("w:tcBorders")
        props.append(borders)
    borders.append(_element(f"w:{edge}", val="single", sz=str(size), space="0",
                            color="000000"))


def _no_table_borders(table: Any) -> None:
    props = table._tbl.tblPr
    borders = _element("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        borders.append(_element(f"w:{edge}", val="nil"))
    props.append(borders)


def _fill(cell: Any, text: str, numeric: bool, size: int) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    para = cell.paragraphs[0]
    para.style = CELL_STYLE
    para.alignment = WD_ALIGN_PARAGRAPH.RIGHT if numeric else WD_ALIGN_PARAGRAPH.LEFT
    number, marks = split_stars(text) if numeric else (text, "")
    run = para.add_run(typeset_minus(number) if numeric else number)
    run.font.size = Pt(size)
    if marks:
        sup = para.add_run(marks)
        sup.font.superscript = True
        sup.font.size = Pt(size)


#: the paragraph style of table cells: the cell font size, no spacing, single lines
#: (also for the paragraph mark, so an empty cell is no taller than a filled one)
CELL_STYLE = "Table Cell"


def _add_cell_style(doc: Any) -> None:
    from docx.enum.style import WD_STYLE_TYPE
    from docx.shared import Pt

    style = doc.styles.add_style(CELL_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    style.font.size = Pt(DOCX_FONT[2])
    fmt = style.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = 1.0


#: points of a cell's left and right margins
_CELL_PT = 12.0
#: a text column wraps beyond this many characters (never inside a word); a number
#: column is at least as wide as ``0.000`` (the columns of a matrix align)
_TEXT_CHARS, _NUMBER = 32, "0.000"


def column_widths(header: Sequence[str], rows: Sequence[Sequence[str]],
                  numeric: Sequence[bool], available: float,
                  size: float = DOCX_FONT[2]) -> list[float]:
    """Column widths (points) from the cells' text at font ``size`` (Helvetica's
    metrics, wider than Times: the estimate errs on the roomy side): a number column
    as wide as its widest cell, a text column up to ``_TEXT_CHARS`` characters but
    never narrower than its longest word; where the table is wider than ``available``,
    the text columns give up their width down to their longest words first, then every
    column shrinks in proportion.

    Examples
    --------
    >>> [round(w) for w in column_widths(["Construct", "M"], [["Global mindset", "3.97"]],
    ...                                   [False, True], 400)]
    [85, 40]
    """
    cap = text_width("n" * _TEXT_CHARS, size)
    need, floor = [], []
    for j, num in enumerate(numeric):
        texts = [str(header[j]), *(str(r[j]) for r in rows)]
        full = max(text_width(t, size) for t in texts)
        word = max((text_width(w, size) for t in texts for w in t.split()), default=0.0)
        if num:
            full = max(full, text_width(_NUMBER, size))
        need.append((full if num else max(word, min(full, cap))) + _CELL_PT)
        floor.append((full if num else word) + _CELL_PT)
    excess = sum(need) - available
    if excess > 0:
        slack = sum(n - f for n, f in zip(need, floor, strict=True))
        cut = min(1.0, excess / slack) if slack > 0 else 0.0
        need = [n - cut * (n - f) for n, f in zip(need, floor, strict=True)]
    total = sum(need)
    return need if total <= available else [n * available / total for n in need]


#: a table of at most this many body rows fits on a landscape page with its title and
#: notes, and is kept on one page; a longer one keeps its title, heading and first rows
#: together
_ONE_PAGE_ROWS, _FIRST_ROWS = 26, 3


def _keep_together(word: Any, rows: int) -> None:
    """Keep the first ``rows`` rows of a Word table with the row after each (Word's
    "keep with next" on their paragraphs)."""
    for row in word.rows[:rows]:
        for cell in row.cells:
            cell.paragraphs[0].paragraph_format.keep_with_next = True


def _set_widths(word: Any, table: Table, widths: Sequence[float], span_rows: int) -> None:
    """Fix the Word table's column widths (the grid and every cell, as Word reads
    both)."""
    from docx.shared import Pt

    word.autofit = False
    for col, width in zip(word.columns, widths, strict=True):
        col.width = Pt(width)
    if span_rows:
        col = 0
        for _, span in table.spans:
            word.rows[0].cells[col].width = Pt(sum(widths[col:col + span]))
            col += span
    for row in word.rows[span_rows:]:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Pt(width)
    for row in word.rows:  # no row breaks across pages
        row._tr.get_or_add_trPr().append(_element("w:cantSplit"))
    for row in word.rows[: span_rows + 1]:  # the heading rows repeat on every page
        row._tr.get_or_add_trPr().append(_element("w:tblHeader"))


def _add_table(doc: Any, table: Table) -> None:
    from docx.shared import Pt

    header, rows, numeric = table.cells()
    size = DOCX_FONT[2]
    if table.label:
        para = doc.add_paragraph()
        para.add_run(table.label).bold = True
        para.paragraph_format.space_after = Pt(0)
        para.paragraph_format.keep_with_next = True
    if table.title:
        para = doc.add_paragraph()
        para.add_run(table.title).italic = True
        para.paragraph_format.keep_with_next = True
    ncol = len(header)
    span_rows = 1 if table.spans else 0
    word = doc.add_table(rows=span_rows + 1 + len(rows), cols=ncol)
    _no_table_borders(word)
    grid = [list(r.cells) for r in word.rows]
    if table.spans:
        col = 0
        for text, width in table.spans:
            cell = grid[0][col]
            if width > 1:
                cell = cell.merge(grid[0][col + width - 1])
            _fill(cell, text, False, size)
            if text:
                cell.paragraphs[0].alignment = 1
                _cell_border(cell, "bottom", 4)
            _cell_border(cell, "top", 8)
            col += width
    for j, (h, num) in enumerate(zip(header, numeric, strict=True)):
        cell = grid[span_rows][j]
        _fill(cell, h, num, size)
        _cell_border(cell, "bottom", 4)
        if not table.spans:
            _cell_border(cell, "top", 8)
    for i, row in enumerate(rows):
        cells = grid[span_rows + 1 + i]
        for j, (text, num) in enumerate(zip(row, numeric, strict=True)):
            _fill(cells[j], text, num, size)
            if i in table.rules:
                _cell_border(cells[j], "top", 2)
            if i == len(rows) - 1:
                _cell_border(cells[j], "bottom", 8)
    _keep_together(word, span_rows + 1 + (len(rows) - 1 if len(rows) <= _ONE_PAGE_ROWS
                                          else _FIRST_ROWS))
    section = doc.sections[-1]
    available = (section.page_width - section.left_margin - section.right_margin) / 12700
    _set_widths(word, table, column_widths(header, rows, numeric, available), span_rows)
    for k, note in enumerate(table.notes):
        para = doc.add_paragraph()
        para.paragraph_format.space_after = Pt(2)
        if k == 0:
            lead = para.add_run("Note. ")
            lead.italic = True
            lead.font.size = Pt(DOCX_FONT[3])
        run = para.add_run(note)
        run.font.size = Pt(DOCX_FONT[3])
    doc.add_paragraph()


def write_docx(tables: Sequence[Table], path: str | Path, title: str = "",
               intro: Sequence[str] = ()) -> Path:
    """Write ``tables`` into one Word document, each a real Word table (APA 7 style).

    Parameters
    ----------
    tables : sequence of Table
        The tables, in order.
    path : path
        The ``.docx`` file to write.
    title : str
        A heading at the top (``""`` for none).
    intro : sequence of str
        Paragraphs under the heading.

    Returns
    -------
    Path

    Raises
    ------
    SemnetError
        python-docx is not installed.

    Examples
    --------
    >>> write_docx([], "empty.docx")  # doctest: +SKIP
    PosixPath('empty.docx')
    """
    try:
        import docx
        from docx.enum.section import WD_ORIENT
        from docx.shared import Pt
    except ImportError:
        raise SemnetError(
            "writing Word files needs python-docx; install it with "
            "pip install \"semnet[docx]\" (or pip install python-docx)."
        ) from None
    doc = docx.Document()
    style = doc.styles["Normal"]
    style.font.name = DOCX_FONT[0]
    style.font.size = Pt(DOCX_FONT[1])
    _add_cell_style(doc)
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    if title:
        doc.add_heading(title, level=1)
    for text in intro:
        doc.add_paragraph(text)
    for table in tables:
        _add_table(doc, table)
    path = Path(path)
    buffer = io.BytesIO()
    doc.save(buffer)
    path.write_bytes(_stable_zip(buffer.getvalue()))
    return path


def _stable_zip(blob: bytes) -> bytes:
    """The same package with every member dated 1980-01-01, so that the same tables give
    a byte-identical file on every run."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(blob)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            stable = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            stable.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(stable, src.read(info.filename))
    return out.getvalue()
