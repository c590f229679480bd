"""``to_markdown``/``to_latex``/``to_html`` of the invariance results, through the one
report engine (:class:`semnet.report.tables.Table`).

Examples
--------
>>> import pandas as pd
>>> from semnet.analyses.invariance.formats import pick_columns
>>> pick_columns(pd.DataFrame({"a": [1], "b": [2]}), None, ("b", "c")).columns.tolist()
['b']
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from semnet.errors import OptionError
from semnet.report.tables import (
    frame_to_html,
    frame_to_latex,
    frame_to_markdown,
    frame_to_text,
)

__all__ = ["frame_to_html", "frame_to_latex", "frame_to_markdown", "frame_to_text"]


class TableFormats:
    """``to_text``/``to_markdown``/``to_latex``/``to_html`` of a result's main table.

    A mixin of the invariance results: a subclass defines ``_display(columns)``, its main
    table with the columns picked (:func:`pick_columns`).

    Examples
    --------
    >>> import pandas as pd
    >>> class Demo(TableFormats):
    ...     def _display(self, columns):
    ...         return pick_columns(pd.DataFrame({"a": [1.0]}), columns, ("a",))
    >>> Demo().to_markdown(digits=1).splitlines()[0]
    '| a |'
    """

    def _display(self, columns: Sequence[str] | None) -> pd.DataFrame:  # pragma: no cover
        raise NotImplementedError

    def to_text(self, digits: int = 3, columns: Sequence[str] | None = None) -> str:
        """The main table as aligned plain text."""
        return frame_to_text(self._display(columns), digits)

    def to_markdown(self, digits: int = 3, columns: Sequence[str] | None = None) -> str:
        """The main table as Markdown (``columns`` picks columns; default a compact set)."""
        return frame_to_markdown(self._display(columns), digits)

    def to_latex(self, digits: int = 3, columns: Sequence[str] | None = None,
                 caption: str | None = None, label: str | None = None) -> str:
        """The main table as a LaTeX ``tabular`` (booktabs); with a ``caption`` in a
        ``table`` float labelled ``tab:<label>`` (default: made from the caption)."""
        return frame_to_latex(self._display(columns), digits, caption, label)

    def to_html(self, digits: int = 3, columns: Sequence[str] | None = None) -> str:
        """The main table as an HTML ``<table>``."""
        return frame_to_html(self._display(columns), digits)


def pick_columns(frame: pd.DataFrame, columns: Sequence[str] | None,
                 default: Sequence[str]) -> pd.DataFrame:
    """The ``columns`` of ``frame``, or those of ``default`` it has.

    Parameters
    ----------
    frame : DataFrame
        The full table.
    columns : sequence of str, optional
        The columns the user asked for, in order; ``None`` for the default set.
    default : sequence of str
        The compact default set (columns ``frame`` lacks are left out).

    Returns
    -------
    DataFrame

    Raises
    ------
    OptionError
        If ``columns`` names a column ``frame`` does not have.

    Examples
    --------
    >>> import pandas as pd
    >>> pick_columns(pd.DataFrame({"a": [1], "b": [2]}), ["b", "a"], ()).columns.tolist()
    ['b', 'a']
    """
    cols = list(columns) if columns is not None else [c for c in default if c in frame]
    unknown = [c for c in cols if c not in frame.columns]
    if unknown:
        raise OptionError(
            f"unknown column(s) {', '.join(map(repr, unknown))}; the table has "
            f"{', '.join(map(str, frame.columns))}."
        )
    return frame[cols]
