"""Format-neutral tables for papers: one :class:`Table`, rendered as Markdown, LaTeX,
HTML or CSV with the same deterministic number formatting.

A table holds a DataFrame whose columns are data (lavaan's vocabulary); display labels
and number formats live only here.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Table:
    """A titled table with optional notes.

    Parameters
    ----------
    name : str
        File stem (``"table2_cfa_fit"``).
    title : str
        Caption.
    frame : DataFrame
        The data; the index is not written (keep identifiers as columns).
    notes : tuple of str
        Footnotes (estimator, missing-data handling, rules applied...).
    digits : int
        Decimals for floats (p-values always get 3, with ``< .001``).
    """

    name: str
    title: str
    frame: pd.DataFrame
    notes: tuple[str, ...] = ()
    digits: int = 3
    pvalue_columns: tuple[str, ...] = field(default=("pvalue", "pvalue_diff", "p"))

    def _cells(self) -> pd.DataFrame:
        out = self.frame.reset_index(drop=True).copy()
        for col in out.columns:
            out[col] = [self._format(col, v) for v in out[col]]
        return out

    def _format(self, col: str, v: object) -> str:
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            return ""
        if isinstance(v, bool | np.bool_):
            return "yes" if v else "no"
        if isinstance(v, int | np.integer):
            return str(int(v))
        if isinstance(v, float | np.floating):
            if col in ("df", "df_diff", "n", "n_items", "n_boot") and float(v).is_integer():
                return str(int(v))
            if col in self.pvalue_columns or col.startswith("pvalue"):
                return "< .001" if v < 0.001 else f"{v:.3f}"
            return f"{v:.{self.digits}f}"
        return str(v)

    def to_csv(self) -> str:
        """CSV of the raw values (full precision, ``%.10g``), for reuse in software."""
        return self.frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")

    def to_markdown(self) -> str:
        cells = self._cells()
        cols = [str(c) for c in cells.columns]
        lines = [f"**{self.title}**", "", "| " + " | ".join(cols) + " |"]
        lines.append("|" + "|".join("---" for _ in cols) + "|")
        for row in cells.itertuples(index=False):
            lines.append("| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |")
        for note in self.notes:
            lines += ["", f"*Note.* {note}"]
        return "\n".join(lines) + "\n"

    def to_latex(self) -> str:
        cells = self._cells()

        def esc(s: str) -> str:
            for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"),
                         ("_", r"\_"), ("#", r"\#"), ("~", r"\textasciitilde{}"),
                         ("<", r"$<$"), ("^", r"\^{}")):  # fmt: skip
                s = s.replace(a, b)
            return s

        cols = [esc(str(c)) for c in cells.columns]
        lines = [
            r"\begin{table}[ht]",
            r"\centering",
            rf"\caption{{{esc(self.title)}}}",
            r"\begin{tabular}{" + "l" * len(cols) + "}",
            r"\hline",
            " & ".join(cols) + r" \\",
            r"\hline",
        ]
        for row in cells.itertuples(index=False):
            lines.append(" & ".join(esc(str(v)) for v in row) + r" \\")
        lines += [r"\hline", r"\end{tabular}"]
        for note in self.notes:
            lines.append(rf"\par\smallskip\footnotesize\textit{{Note.}} {esc(note)}")
        lines.append(r"\end{table}")
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        cells = self._cells()
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in cells.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
            for row in cells.itertuples(index=False)
        )
        notes = "".join(f"<p><em>Note.</em> {html.escape(n)}</p>" for n in self.notes)
        return (
            f"<table>\n<caption>{html.escape(self.title)}</caption>\n<thead><tr>{head}</tr>"
            f"</thead>\n<tbody>{body}</tbody>\n</table>\n{notes}\n"
        )

    def write(self, folder: str | Path) -> list[Path]:
        """Write ``<name>.md``, ``.tex``, ``.html`` and ``.csv`` into ``folder``."""
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
