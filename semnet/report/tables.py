"""Format-neutral tables for papers: one :class:`Table`, rendered as plain text, Markdown,
LaTeX (booktabs), HTML or CSV with the same deterministic number formatting.

A table holds a DataFrame whose columns are data (lavaan's vocabulary) and a
:class:`Column` kind per column -- text, number (with its decimals), integer, p-value,
an estimate with significance stars or a confidence interval -- guessed from the
column's name and type unless given.  Cells are formatted only by
:mod:`semnet.report.format`, so every table of the package prints numbers, p-values
(``< .001``, ``0.023``) and missing values (empty) the same way; the CSV keeps the raw
values at full precision (or the table's ``tidy`` long-format data, for a journal table
whose display is wide).

A journal table (APA 7) also has a number label (``"Table 3"``), display headers, a row
of spanning headers over groups of columns (one country's β and SE), rules between
blocks of rows, and notes; every renderer draws them: LaTeX with booktabs and
``threeparttable`` notes, HTML with horizontal rules only (:data:`TABLE_CSS`), Word
through :mod:`semnet.report.docx`.

Examples
--------
>>> import pandas as pd
>>> from semnet.report.tables import Table
>>> frame = pd.DataFrame({"path": ["doi~ni"], "est": [0.35214], "df": [2.0],
...                       "pvalue": [0.00002]})
>>> print(Table("t1", "Paths", frame, notes=("FIML.",)).to_text())
Paths
<BLANKLINE>
path      est  df  pvalue
------  -----  --  ------
doi~ni  0.352   2  < .001
<BLANKLINE>
Note. FIML.
<BLANKLINE>
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from semnet.errors import OptionError, check_choice
from semnet.report.format import (
    format_integer,
    format_interval,
    format_number,
    format_pvalue,
    html_escape,
    is_missing,
    latex_escape,
    markdown_escape,
    stars,
    typeset_minus,
)

__all__ = [
    "INTEGER_COLUMNS",
    "KINDS",
    "PVALUE_COLUMNS",
    "TABLE_CSS",
    "Column",
    "Table",
    "frame_to_html",
    "frame_to_latex",
    "frame_to_markdown",
    "frame_to_text",
    "html_page",
    "split_stars",
    "stars",
]

#: the kinds of column a table knows
KINDS = ("text", "number", "integer", "pvalue", "starred", "interval")
#: columns whose whole-number values print without decimals (counts, degrees of freedom)
INTEGER_COLUMNS = frozenset({"df", "df_diff", "fit_df", "n", "n_boot", "n_candidates",
                             "n_items", "nobs", "npar", "step"})  # fmt: skip
#: columns that hold p-values (besides every ``pvalue*`` and ``p_*`` column)
PVALUE_COLUMNS = ("pvalue", "pvalue_diff", "p")


@dataclass(frozen=True)
class Column:
    """How one column is formatted.

    Parameters
    ----------
    kind : {"text", "number", "integer", "pvalue", "starred", "interval"}
        ``"number"``: fixed decimals; ``"integer"``: whole numbers without decimals;
        ``"pvalue"``: ``< .001`` or three decimals; ``"starred"``: a cell
        ``(estimate, p)`` as the number followed by its significance stars
        (:func:`semnet.report.format.stars`); ``"interval"``: a cell ``(lower, upper)``
        as ``[lower, upper]``; ``"text"``: as given (floats in it as numbers, booleans
        as yes/no, tuples joined by commas).
    digits : int, optional
        Decimals of a number column (default: the table's ``digits``).

    Examples
    --------
    >>> Column("number", digits=2).format(0.12345, 3)
    '0.12'
    >>> Column("pvalue").format(0.0004, 3), Column("integer").format(24.0, 3)
    ('< .001', '24')
    >>> Column("starred").format((0.35214, 0.004), 3), Column("interval").format((0.1, 0.4), 2)
    ('0.352**', '[0.10, 0.40]')
    """

    kind: str = "number"
    digits: int | None = None

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, KINDS)
        if self.digits is not None and (not isinstance(self.digits, int) or self.digits < 0):
            raise OptionError(f"digits must be a whole number >= 0, not {self.digits!r}.")

    @property
    def numeric(self) -> bool:
        """Whether the column holds numbers (right-aligned)."""
        return self.kind != "text"

    def format(self, value: Any, digits: int) -> str:
        """The text of one cell (empty for a missing value)."""
        digits = self.digits if self.digits is not None else digits
        if self.kind == "starred" and isinstance(value, tuple | list):
            text = format_number(value[0], digits)
            return text + stars(value[1]) if text else ""
        if self.kind == "interval" and isinstance(value, tuple | list):
            return format_interval(value[0], value[1], digits)
        if is_missing(value):
            return ""
        if isinstance(value, bool | np.bool_):
            return "yes" if value else "no"
        if isinstance(value, tuple | list):
            return ", ".join(map(str, value))
        if not isinstance(value, int | float | np.integer | np.floating):
            return str(value)
        if self.kind == "pvalue":
            return format_pvalue(value)
        if self.kind == "integer" or isinstance(value, int | np.integer):
            return format_integer(value, digits)
        return format_number(value, digits)


def _guess(name: str, series: pd.Series, pvalue_columns: Sequence[str]) -> Column:
    if name in pvalue_columns or name.startswith(("pvalue", "p_")):
        return Column("pvalue")
    if pd.api.types.is_bool_dtype(series):
        return Column("text")
    if name in INTEGER_COLUMNS or pd.api.types.is_integer_dtype(series):
        return Column("integer")
    if pd.api.types.is_numeric_dtype(series):
        return Column("number")
    return Column("text")


#: the style of every HTML table semnet writes (APA 7: horizontal rules only, numbers
#: right-aligned in tabular figures so their decimals line up, stars outside the number)
TABLE_CSS = """\
body { font-family: "Times New Roman", Times, serif; font-size: 12pt; color: #111;
       max-width: 72em; margin: 2em auto; padding: 0 1em; line-height: 1.35; }
.apa-table { margin: 2.2em 0; overflow-x: auto; }
.apa-table .label { font-weight: bold; margin: 0; }
.apa-table .title { font-style: italic; margin: 0.6em 0 0.5em 0; }
table.apa { border-collapse: collapse; border-top: 1.5px solid #000;
            border-bottom: 1.5px solid #000; font-variant-numeric: tabular-nums; }
table.apa th, table.apa td { padding: 0.22em 0.7em; vertical-align: bottom; border: 0; }
table.apa th { font-weight: normal; }
table.apa thead tr:last-child th { border-bottom: 1px solid #000; }
table.apa th.span { text-align: center; padding-bottom: 0; }
table.apa th.span span { display: block; border-bottom: 1px solid #000; margin: 0 0.3em;
                         padding-bottom: 0.15em; }
table.apa .num { text-align: right; white-space: nowrap; }
table.apa .txt { text-align: left; }
table.apa tr.rule td { border-top: 1px solid #999; }
table.apa .stars { display: inline-block; width: 1.7em; text-align: left; }
.apa-table .note { font-size: 10.5pt; margin: 0.35em 0 0 0; max-width: 55em; }
"""

_STARS = re.compile(r"^(.*[0-9])(\*{1,3})$")


def split_stars(text: str) -> tuple[str, str]:
    """A formatted cell split into the number and its significance stars.

    Examples
    --------
    >>> split_stars("0.352**"), split_stars("0.120"), split_stars("a*")
    (('0.352', '**'), ('0.120', ''), ('a*', ''))
    """
    match = _STARS.match(text)
    return (match.group(1), match.group(2)) if match else (text, "")


def _spans_valid(spans: Sequence[tuple[str, int]], ncol: int) -> bool:
    return all(isinstance(w, int) and w > 0 for _, w in spans) and sum(
        w for _, w in spans) == ncol


def _escaped_start(text: str) -> str:
    """A Markdown line whose leading ``*``, ``-`` or ``+`` would start a list, escaped."""
    return "\\" + text if text[:1] in ("*", "-", "+") else text


@dataclass(frozen=True)
class Table:
    """A titled table with optional notes, rendered in every format from one set of cells.

    Parameters
    ----------
    name : str
        File stem (``"table2_cfa_fit"``).
    title : str
        Caption (``""`` for none).
    frame : DataFrame
        The data; the index is not written (keep identifiers as columns).
    notes : tuple of str
        Footnotes (estimator, missing-data handling, rules applied...).
    digits : int
        Decimals of number columns (p-values always get 3, with ``< .001``).
    pvalue_columns : tuple of str
        Columns that hold p-values, besides every ``pvalue*`` and ``p_*`` column.
    columns : mapping, optional
        Column name → :class:`Column` (or its kind, ``"text"``...), overriding the kind
        guessed from the name (:data:`INTEGER_COLUMNS`, p-value names) and the dtype.
    label : str
        The number label printed above the title (``"Table 3"``), or ``""``.
    header : mapping, optional
        Column name → the header printed (``{"USA_b": "β"}``); default the name.
    spans : tuple of (str, int)
        A header row above the column headers: (text, number of columns) pairs covering
        every column in order (``(("", 1), ("USA", 2), ("China", 2))``).
    rules : tuple of int
        Rows (0-based) drawn with a thin rule above them, between blocks of rows.
    tidy : DataFrame, optional
        The long-format data written as CSV instead of ``frame`` (full precision).

    Examples
    --------
    >>> import pandas as pd
    >>> t = Table("t", "Fit", pd.DataFrame({"model": ["a_1"], "cfi": [0.9312]}))
    >>> print(t.to_markdown())
    **Fit**
    <BLANKLINE>
    | model | cfi |
    |:--|--:|
    | a_1 | 0.931 |
    <BLANKLINE>
    >>> wide = pd.DataFrame({"path": ["NI → DOI"], "US": [(0.35, 0.0001)], "CN": [(0.1, 0.2)]})
    >>> t = Table("t", "Paths", wide, label="Table 1", columns={"US": "starred", "CN": "starred"},
    ...           spans=(("", 1), ("β", 2)))
    >>> t.cells()[1]
    [['NI → DOI', '0.350***', '0.100']]
    """

    name: str
    title: str
    frame: pd.DataFrame
    notes: tuple[str, ...] = ()
    digits: int = 3
    pvalue_columns: tuple[str, ...] = PVALUE_COLUMNS
    columns: Mapping[str, Column | str] = field(default_factory=dict)
    label: str = ""
    header: Mapping[str, str] = field(default_factory=dict)
    spans: tuple[tuple[str, int], ...] = ()
    rules: tuple[int, ...] = ()
    tidy: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.frame, pd.DataFrame):
            raise OptionError(
                f"Table {self.name!r}: frame must be a pandas DataFrame, not "
                f"{type(self.frame).__name__}; wrap it with pd.DataFrame(...)."
            )
        if isinstance(self.notes, str):
            object.__setattr__(self, "notes", (self.notes,))
        if not isinstance(self.digits, int) or self.digits < 0:
            raise OptionError(f"digits must be a whole number >= 0, not {self.digits!r}.")
        for what, names in (("columns", self.columns), ("header", self.header)):
            unknown = [c for c in names if c not in self.frame.columns]
            if unknown:
                raise OptionError(
                    f"Table {self.name!r}: {what}= names {', '.join(map(repr, unknown))}, "
                    f"which the frame lacks; its columns are "
                    f"{', '.join(map(str, self.frame.columns))}."
                )
        if self.spans and not _spans_valid(self.spans, self.frame.shape[1]):
            raise OptionError(
                f"Table {self.name!r}: spans= must cover the {self.frame.shape[1]} columns "
                f"with positive widths, not {[w for _, w in self.spans]}."
            )

    # -- cells -----------------------------------------------------------------------------
    def kinds(self) -> list[Column]:
        """The :class:`Column` of every column, in order.

        Examples
        --------
        >>> import pandas as pd
        >>> t = Table("t", "", pd.DataFrame({"df": [2.0], "p_adjusted": [0.2], "est": [1.0]}))
        >>> [c.kind for c in t.kinds()]
        ['integer', 'pvalue', 'number']
        """
        out = []
        for name in self.frame.columns:
            given = self.columns.get(name)
            if isinstance(given, str):
                given = Column(given)
            out.append(given or _guess(str(name), self.frame[name], self.pvalue_columns))
        return out

    def cells(self) -> tuple[list[str], list[list[str]], list[bool]]:
        """Header texts, formatted rows and which columns are numeric (right-aligned).

        Examples
        --------
        >>> import pandas as pd
        >>> Table("t", "", pd.DataFrame({"a": ["x"], "pvalue": [0.5]})).cells()
        (['a', 'pvalue'], [['x', '0.500']], [False, True])
        """
        kinds = self.kinds()
        header = [self.header.get(c, str(c)) for c in self.frame.columns]
        columns = [self.frame.iloc[:, j].tolist() for j in range(self.frame.shape[1])]
        rows = [
            [kind.format(col[i], self.digits) for kind, col in zip(kinds, columns, strict=True)]
            for i in range(len(self.frame))
        ]
        return header, rows, [k.numeric for k in kinds]

    def flat_header(self) -> list[str]:
        """The column headers with their spanning header in front (``"USA β"``), for
        formats with a single header row (text, Markdown).

        Examples
        --------
        >>> import pandas as pd
        >>> t = Table("t", "", pd.DataFrame({"a": [1], "b": [2]}), spans=(("", 1), ("US", 1)))
        >>> t.flat_header()
        ['a', 'US b']
        """
        header = self.cells()[0]
        if not self.spans:
            return header
        owners = [text for text, width in self.spans for _ in range(width)]
        return [f"{o} {h}".strip() for o, h in zip(owners, header, strict=True)]

    # -- renderers ---------------------------------------------------------------------------
    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()

    def _heading(self) -> list[str]:
        return [t for t in (self.label, self.title) if t]

    def to_text(self) -> str:
        """Plain text: the label and title, aligned columns under a dashed rule, then the
        notes (see the module's example)."""
        _, rows, numeric = self.cells()
        header = self.flat_header()
        widths = [max([len(h)] + [len(r[j]) for r in rows]) for j, h in enumerate(header)]

        def line(cells: Sequence[str]) -> str:
            parts = [c.rjust(w) if num else c.ljust(w)
                     for c, w, num in zip(cells, widths, numeric, strict=True)]
            return "  ".join(parts).rstrip()

        heading = self._heading()
        lines = [*heading, ""] if heading else []
        lines += [line(header), "  ".join("-" * w for w in widths)]
        lines += [line(r) for r in rows]
        if self.notes:
            lines.append("")
            lines.append(f"Note. {self.notes[0]}")
            lines += list(self.notes[1:])
        return "\n".join(lines) + "\n"

    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown: bold label, title, aligned pipe table, notes."""
        _, rows, numeric = self.cells()
        header = self.flat_header()
        lines = [f"**{markdown_escape(self.label)}**", ""] if self.label else []
        if self.title:
            title = markdown_escape(self.title)
            lines += [f"*{title}*" if self.label else f"**{title}**", ""]

        def cell(text: str) -> str:
            number, marks = split_stars(text)
            return markdown_escape(number) + marks.replace("*", "\\*")

        lines.append("| " + " | ".join(markdown_escape(h) for h in header) + " |")
        lines.append("|" + "|".join("--:" if n else ":--" for n in numeric) + "|")
        lines += ["| " + " | ".join(cell(c) for c in r) + " |" for r in rows]
        if self.notes:
            lines += ["", f"*Note.* {markdown_escape(self.notes[0])}"]
            # a note that starts with a star (the significance legend) is not a bullet
            lines += [_escaped_start(markdown_escape(n)) for n in self.notes[1:]]
        return "\n".join(lines) + "\n"

    def _latex_rows(self) -> list[str]:
        header, rows, numeric = self.cells()
        lines = []
        if self.spans:
            parts, cmid, col = [], [], 1
            for text, width in self.spans:
                parts.append(rf"\multicolumn{{{width}}}{{c}}{{{latex_escape(text)}}}"
                             if text and width > 1 else latex_escape(text))  # fmt: skip
                if text:
                    cmid.append(rf"\cmidrule(lr){{{col}-{col + width - 1}}}")
                col += width
            lines += [" & ".join(parts) + r" \\", " ".join(cmid)]
        lines += [" & ".join(latex_escape(h) for h in header) + r" \\", r"\midrule"]

        def cell(text: str, num: bool) -> str:
            number, marks = split_stars(text) if num else (text, "")
            mark = rf"\rlap{{\textsuperscript{{{marks}}}}}" if marks else ""
            return latex_escape(typeset_minus(number) if num else number) + mark

        for i, r in enumerate(rows):
            if i in self.rules:
                lines.append(r"\midrule")
            lines.append(" & ".join(cell(c, n) for c, n in zip(r, numeric, strict=True))
                         + r" \\")  # fmt: skip
        return lines

    def to_latex(self) -> str:
        """LaTeX with booktabs rules (``\\usepackage{booktabs, threeparttable}``): a
        ``tabular``, inside a ``table`` float and a ``threeparttable`` (notes as
        ``tablenotes``) when the table has a title or notes; the caption is the title
        (LaTeX numbers the tables itself).  Stars are set as zero-width superscripts, so
        the numbers stay aligned.

        Examples
        --------
        >>> import pandas as pd
        >>> print(Table("t", "", pd.DataFrame({"p_x": [0.0001]})).to_latex())
        \\begin{tabular}{r}
        \\toprule
        p\\_x \\\\
        \\midrule
        \\textless{} .001 \\\\
        \\bottomrule
        \\end{tabular}
        <BLANKLINE>
        """
        numeric = self.cells()[2]
        align = "".join("r" if n else "l" for n in numeric)
        body = [rf"\begin{{tabular}}{{{align}}}", r"\toprule", *self._latex_rows(),
                r"\bottomrule", r"\end{tabular}"]  # fmt: skip
        if not self.title and not self.notes:
            return "\n".join(body) + "\n"
        lines = [r"\begin{table}[htbp]", r"\centering", r"\begin{threeparttable}"]
        if self.title:
            lines.append(rf"\caption{{{latex_escape(self.title)}}}")
        lines.append(rf"\label{{tab:{re.sub(r'[^A-Za-z0-9:._-]', '-', self.name)}}}")
        lines += body
        if self.notes:
            lines += [r"\begin{tablenotes}[flushleft]", r"\footnotesize",
                      rf"\item \textit{{Note.}} {latex_escape(self.notes[0])}"]
            lines += [rf"\item {latex_escape(n)}" for n in self.notes[1:]]
            lines.append(r"\end{tablenotes}")
        lines += [r"\end{threeparttable}", r"\end{table}"]
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """An HTML fragment: the label and title, a ``<table class="apa">`` (numbers
        right-aligned, stars beside them, spanning headers, rules between blocks) and the
        notes; style it with :data:`TABLE_CSS` (as :func:`html_page` does).

        Examples
        --------
        >>> import pandas as pd
        >>> t = Table("t", "", pd.DataFrame({"x": ["a & b"]}))
        >>> '<td class="txt">a &amp; b</td>' in t.to_html()
        True
        """
        header, rows, numeric = self.cells()
        starred = [k.kind == "starred" for k in self.kinds()]

        def td(text: str, num: bool, star: bool, tag: str = "td") -> str:
            if not num:
                return f'<{tag} class="txt">{html_escape(text)}</{tag}>'
            number, marks = split_stars(text)
            pad = f'<span class="stars">{marks}</span>' if star else ""
            return f'<{tag} class="num">{html_escape(typeset_minus(number))}{pad}</{tag}>'

        out = [f'<div class="apa-table" id="{html_escape(self.name)}">']
        if self.label:
            out.append(f'<p class="label">{html_escape(self.label)}</p>')
        if self.title:
            out.append(f'<p class="title">{html_escape(self.title)}</p>')
        out += ['<table class="apa">', "  <thead>"]
        if self.spans:
            out.append("    <tr>" + "".join(
                f'<th class="span" colspan="{w}"><span>{html_escape(t)}</span></th>' if t
                else f'<th class="gap" colspan="{w}"></th>' for t, w in self.spans) + "</tr>")
        out.append("    <tr>" + "".join(td(h, n, st, "th") for h, n, st in zip(
            header, numeric, starred, strict=True)) + "</tr>")
        out += ["  </thead>", "  <tbody>"]
        for i, r in enumerate(rows):
            cls = ' class="rule"' if i in self.rules else ""
            out.append(f"    <tr{cls}>" + "".join(
                td(c, n, st) for c, n, st in zip(r, numeric, starred, strict=True)) + "</tr>")
        out += ["  </tbody>", "</table>"]
        if self.notes:
            out.append(f'<p class="note"><em>Note.</em> {html_escape(self.notes[0])}</p>')
            out += [f'<p class="note">{html_escape(n)}</p>' for n in self.notes[1:]]
        out.append("</div>")
        return "\n".join(out) + "\n"

    def to_csv(self) -> str:
        """CSV of the raw values at full precision (shortest round-trip), for software:
        the ``tidy`` long-format data when the table has them, else the frame.

        Examples
        --------
        >>> import pandas as pd
        >>> print(Table("t", "", pd.DataFrame({"x": [0.1234567890123]})).to_csv())
        x
        0.1234567890123
        <BLANKLINE>
        """
        data = self.frame if self.tidy is None else self.tidy
        return data.to_csv(index=False, lineterminator="\n")

    def write(self, folder: str | Path) -> list[Path]:
        """Write ``<name>.md``, ``.tex``, ``.html`` (a styled page) and ``.csv`` into
        ``folder``.

        Examples
        --------
        >>> import pandas as pd
        >>> Table("t1", "", pd.DataFrame({"x": [1]})).write("out")  # doctest: +SKIP
        [PosixPath('out/t1.md'), PosixPath('out/t1.tex'), PosixPath('out/t1.html'), ...]
        """
        folder = Path(folder)
        blocking = next((p for p in (folder, *folder.parents) if p.exists()), None)
        if blocking is not None and not blocking.is_dir():
            raise OptionError(
                f"cannot write the table into {str(folder)!r}: {str(blocking)!r} is a file, "
                "not a folder; pass a folder (it is created when it does not exist)."
            )
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for ext, text in (
            ("md", self.to_markdown()),
            ("tex", self.to_latex()),
            ("html", html_page([self], title=self.label or self.title or self.name,
                               heading=False)),
            ("csv", self.to_csv()),
        ):
            path = folder / f"{self.name}.{ext}"
            path.write_text(text, encoding="utf-8")
            out.append(path)
        return out

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, title: str = "", digits: int = 3,
                   name: str = "table", **kwargs: Any) -> Table:
        """A table of ``frame`` that keeps a named index as its first column(s).

        Examples
        --------
        >>> import pandas as pd
        >>> frame = pd.DataFrame({"cfi": [0.93]}, index=pd.Index(["metric"], name="level"))
        >>> Table.from_frame(frame).cells()[0]
        ['level', 'cfi']
        """
        named = any(n is not None for n in frame.index.names)
        data = frame.reset_index() if named else frame.reset_index(drop=True)
        return cls(name, title, data, digits=digits, **kwargs)


def html_page(tables: Sequence[Table], title: str = "", intro: Sequence[str] = (),
              figures: Sequence[tuple[str, str]] = (), heading: bool = True) -> str:
    """One self-contained HTML document: the style, a heading (``title``, unless
    ``heading=False``), paragraphs, the tables and figures (``(caption, inline SVG)``
    pairs, placed after the tables; an empty caption for a figure that carries its own
    title).

    Examples
    --------
    >>> import pandas as pd
    >>> page = html_page([Table("t1", "Fit", pd.DataFrame({"cfi": [0.95]}), label="Table 1")],
    ...                  title="Results")
    >>> page.startswith("<!DOCTYPE html>") and "<style>" in page and 'id="t1"' in page
    True
    """
    if isinstance(tables, (str, Table)):
        wrong = [tables]
    else:
        wrong = [t for t in tables if not isinstance(t, Table)]
    if wrong:
        shown = wrong[0]
        raise OptionError(
            f"html_page takes a list of semnet Tables, not {type(shown).__name__} {shown!r:.60}; "
            "make them with semnet.report.journal (e.g. fit_table) or Table(...)."
        )
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f"<title>{html_escape(title)}</title>", "<style>", TABLE_CSS.rstrip(),
           ".figure { margin: 2.2em 0; } .figure svg { max-width: 100%; height: auto; }",
           "</style>", "</head>", "<body>"]  # fmt: skip
    if title and heading:
        out.append(f"<h1>{html_escape(title)}</h1>")
    out += [f"<p>{html_escape(p)}</p>" for p in intro]
    out += [t.to_html().rstrip() for t in tables]
    for caption, svg in figures:
        label = ([f'<p class="label"><strong>{html_escape(caption)}</strong></p>']
                 if caption else [])  # an empty caption: the SVG carries its own title
        out += ['<div class="figure">', *label, svg.strip(), "</div>"]
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def frame_to_markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as a GitHub-flavoured Markdown table (a named index becomes a column).

    Examples
    --------
    >>> import pandas as pd
    >>> print(frame_to_markdown(pd.DataFrame({"a": ["x"], "b": [0.12345]})))
    | a | b |
    |:--|--:|
    | x | 0.123 |
    <BLANKLINE>
    """
    return Table.from_frame(frame, digits=digits).to_markdown()


def frame_to_latex(frame: pd.DataFrame, digits: int = 3, caption: str | None = None,
                   label: str | None = None) -> str:
    """A DataFrame as a LaTeX ``tabular`` with booktabs rules (in a ``table`` float when
    a caption is given, labelled ``tab:<label>``; by default ``label`` is made from the
    caption, so that two tables with different captions do not share a label).

    Examples
    --------
    >>> import pandas as pd
    >>> print(frame_to_latex(pd.DataFrame({"delta_cfi": [-0.01]})))
    \\begin{tabular}{r}
    \\toprule
    delta\\_cfi \\\\
    \\midrule
    $-$0.010 \\\\
    \\bottomrule
    \\end{tabular}
    <BLANKLINE>
    """
    if label is None:
        label = "-".join(re.findall(r"[a-z0-9]+", (caption or "").lower())[:8]) or "table"
    return Table.from_frame(frame, title=caption or "", digits=digits, name=label).to_latex()


def frame_to_html(frame: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as an HTML ``<table>`` with numbers rounded to ``digits``.

    Examples
    --------
    >>> import pandas as pd
    >>> '<td class="txt">x</td>' in frame_to_html(pd.DataFrame({"a": ["x"]}))
    True
    """
    return Table.from_frame(frame, digits=digits).to_html()


def frame_to_text(frame: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as aligned plain text (a named index becomes a column).

    Examples
    --------
    >>> import pandas as pd
    >>> print(frame_to_text(pd.DataFrame({"a": ["x"], "pvalue": [0.0001]})))
    a  pvalue
    -  ------
    x  < .001
    <BLANKLINE>
    """
    return Table.from_frame(frame, digits=digits).to_text()
