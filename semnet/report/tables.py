"""Format-neutral tables for papers: one :class:`Table`, rendered as plain text, Markdown,
LaTeX (booktabs), HTML or CSV with the same deterministic number formatting.

A table holds a DataFrame whose columns are data (lavaan's vocabulary) and a
:class:`Column` kind per column -- text, number (with its decimals), integer or p-value
-- guessed from the column's name and type unless given.  Cells are formatted only by
:mod:`semnet.report.format`, so every table of the package prints numbers, p-values
(``< .001``, ``0.023``) and missing values (empty) the same way; the CSV keeps the raw
values at full precision.

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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from semnet.errors import OptionError, check_choice
from semnet.report.format import (
    format_integer,
    format_number,
    format_pvalue,
    html_escape,
    is_missing,
    latex_escape,
    markdown_escape,
)

__all__ = [
    "INTEGER_COLUMNS",
    "KINDS",
    "PVALUE_COLUMNS",
    "Column",
    "Table",
    "frame_to_html",
    "frame_to_latex",
    "frame_to_markdown",
    "frame_to_text",
]

#: the kinds of column a table knows
KINDS = ("text", "number", "integer", "pvalue")
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
    kind : {"text", "number", "integer", "pvalue"}
        ``"number"``: fixed decimals; ``"integer"``: whole numbers without decimals;
        ``"pvalue"``: ``< .001`` or three decimals; ``"text"``: as given (floats in it
        as numbers, booleans as yes/no, tuples joined by commas).
    digits : int, optional
        Decimals of a number column (default: the table's ``digits``).

    Examples
    --------
    >>> Column("number", digits=2).format(0.12345, 3)
    '0.12'
    >>> Column("pvalue").format(0.0004, 3), Column("integer").format(24.0, 3)
    ('< .001', '24')
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
    """

    name: str
    title: str
    frame: pd.DataFrame
    notes: tuple[str, ...] = ()
    digits: int = 3
    pvalue_columns: tuple[str, ...] = PVALUE_COLUMNS
    columns: Mapping[str, Column | str] = field(default_factory=dict)

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
        unknown = [c for c in self.columns if c not in self.frame.columns]
        if unknown:
            raise OptionError(
                f"Table {self.name!r}: columns= names {', '.join(map(repr, unknown))}, which "
                f"the frame lacks; its columns are {', '.join(map(str, self.frame.columns))}."
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
        header = [str(c) for c in self.frame.columns]
        columns = [self.frame.iloc[:, j].tolist() for j in range(self.frame.shape[1])]
        rows = [
            [kind.format(col[i], self.digits) for kind, col in zip(kinds, columns, strict=True)]
            for i in range(len(self.frame))
        ]
        return header, rows, [k.numeric for k in kinds]

    # -- renderers ---------------------------------------------------------------------------
    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_text(self) -> str:
        """Plain text: the title, aligned columns under a dashed rule, then the notes (see
        the module's example)."""
        header, rows, numeric = self.cells()
        widths = [max([len(h)] + [len(r[j]) for r in rows]) for j, h in enumerate(header)]

        def line(cells: Sequence[str]) -> str:
            parts = [c.rjust(w) if num else c.ljust(w)
                     for c, w, num in zip(cells, widths, numeric, strict=True)]
            return "  ".join(parts).rstrip()

        lines = [self.title, ""] if self.title else []
        lines += [line(header), "  ".join("-" * w for w in widths)]
        lines += [line(r) for r in rows]
        if self.notes:
            lines.append("")
            lines += [f"Note. {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown: bold title, aligned pipe table, italic notes."""
        header, rows, numeric = self.cells()
        lines = [f"**{markdown_escape(self.title)}**", ""] if self.title else []
        lines.append("| " + " | ".join(markdown_escape(h) for h in header) + " |")
        lines.append("|" + "|".join("--:" if n else ":--" for n in numeric) + "|")
        lines += ["| " + " | ".join(markdown_escape(c) for c in r) + " |" for r in rows]
        for note in self.notes:
            lines += ["", f"*Note.* {markdown_escape(note)}"]
        return "\n".join(lines) + "\n"

    def to_latex(self) -> str:
        """LaTeX with booktabs rules (``\\usepackage{booktabs}``): a ``tabular``, inside a
        ``table`` float with the caption and notes when the table has either.

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
        header, rows, numeric = self.cells()
        align = "".join("r" if n else "l" for n in numeric)
        body = [rf"\begin{{tabular}}{{{align}}}", r"\toprule",
                " & ".join(latex_escape(h) for h in header) + r" \\", r"\midrule"]
        body += [" & ".join(latex_escape(c) for c in r) + r" \\" for r in rows]
        body += [r"\bottomrule", r"\end{tabular}"]
        if not self.title and not self.notes:
            return "\n".join(body) + "\n"
        lines = [r"\begin{table}[ht]", r"\centering"]
        if self.title:
            lines.append(rf"\caption{{{latex_escape(self.title)}}}")
        lines += body
        lines += [rf"\par\smallskip\footnotesize\textit{{Note.}} {latex_escape(n)}"
                  for n in self.notes]
        lines.append(r"\end{table}")
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """An HTML ``<table>`` (caption, numbers right-aligned), notes as paragraphs.

        Examples
        --------
        >>> import pandas as pd
        >>> "<td>a &amp; b</td>" in Table("t", "", pd.DataFrame({"x": ["a & b"]})).to_html()
        True
        """
        header, rows, numeric = self.cells()
        right = ' style="text-align: right"'

        def row(cells: Sequence[str], tag: str) -> str:
            return "    <tr>" + "".join(
                f"<{tag}{right if num else ''}>{html_escape(c)}</{tag}>"
                for c, num in zip(cells, numeric, strict=True)
            ) + "</tr>"

        lines = ["<table>"]
        if self.title:
            lines.append(f"  <caption>{html_escape(self.title)}</caption>")
        lines += ["  <thead>", row(header, "th"), "  </thead>", "  <tbody>"]
        lines += [row(r, "td") for r in rows]
        lines += ["  </tbody>", "</table>"]
        lines += [f"<p><em>Note.</em> {html_escape(n)}</p>" for n in self.notes]
        return "\n".join(lines) + "\n"

    def to_csv(self) -> str:
        """CSV of the raw values at full precision (shortest round-trip), for software.

        Examples
        --------
        >>> import pandas as pd
        >>> print(Table("t", "", pd.DataFrame({"x": [0.1234567890123]})).to_csv())
        x
        0.1234567890123
        <BLANKLINE>
        """
        return self.frame.to_csv(index=False, lineterminator="\n")

    def write(self, folder: str | Path) -> list[Path]:
        """Write ``<name>.md``, ``.tex``, ``.html`` and ``.csv`` into ``folder``.

        Examples
        --------
        >>> import pandas as pd
        >>> Table("t1", "", pd.DataFrame({"x": [1]})).write("out")  # doctest: +SKIP
        [PosixPath('out/t1.md'), PosixPath('out/t1.tex'), PosixPath('out/t1.html'), ...]
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        out = []
        for ext, text in (
            ("md", self.to_markdown()),
            ("tex", self.to_latex()),
            ("html", self.to_html()),
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


def frame_to_latex(frame: pd.DataFrame, digits: int = 3, caption: str | None = None) -> str:
    """A DataFrame as a LaTeX ``tabular`` with booktabs rules (in a ``table`` float when
    a caption is given).

    Examples
    --------
    >>> import pandas as pd
    >>> print(frame_to_latex(pd.DataFrame({"delta_cfi": [-0.01]})))
    \\begin{tabular}{r}
    \\toprule
    delta\\_cfi \\\\
    \\midrule
    -0.010 \\\\
    \\bottomrule
    \\end{tabular}
    <BLANKLINE>
    """
    return Table.from_frame(frame, title=caption or "", digits=digits).to_latex()


def frame_to_html(frame: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as an HTML ``<table>`` with numbers rounded to ``digits``.

    Examples
    --------
    >>> import pandas as pd
    >>> "<td>x</td>" in frame_to_html(pd.DataFrame({"a": ["x"]}))
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
