"""The one set of cell formatters and escapes of every semnet report.

Every table semnet writes -- study tables, invariance tables, the lavaan-style
:class:`~semnet.report.Summary` -- formats its numbers with :func:`format_number`,
:func:`format_integer` and :func:`format_pvalue`, and escapes its text with
:func:`latex_escape`, :func:`html_escape` and :func:`markdown_escape`; no other module
keeps a copy.  The p-value style is APA's: ``< .001`` below .001, three decimals
(``0.023``) otherwise.

Examples
--------
>>> from semnet.report.format import format_number, format_pvalue, latex_escape
>>> format_number(-0.0001), format_pvalue(0.0004), format_pvalue(0.0234)
('0.000', '< .001', '0.023')
>>> latex_escape("delta_cfi < 5%")
'delta\\\\_cfi \\\\textless{} 5\\\\%'
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "PVALUE_FLOOR",
    "STAR_LEVELS",
    "STAR_NOTE",
    "format_integer",
    "format_interval",
    "format_number",
    "format_p_clause",
    "format_pvalue",
    "html_escape",
    "is_missing",
    "latex_escape",
    "markdown_escape",
    "stars",
    "stars_note",
    "typeset_minus",
]

#: p-values below this print as ``< .001``
PVALUE_FLOOR = 0.001
#: (threshold, marker) of significance stars, strictest first
STAR_LEVELS = ((0.001, "***"), (0.01, "**"), (0.05, "*"))

_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
          "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
          "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}"}  # fmt: skip
#: the symbols of the journal tables, as LaTeX that compiles with pdflatex too
_LATEX_SYMBOLS = {"α": r"$\alpha$", "β": r"$\beta$", "χ": r"$\chi$", "Δ": r"$\Delta$",
                  "λ": r"$\lambda$", "ω": r"$\omega$", "²": r"\textsuperscript{2}",
                  "→": r"$\rightarrow$", "×": r"$\times$", "−": "$-$", "≥": r"$\geq$",
                  "≤": r"$\leq$", "·": r"$\cdot$", "…": r"\ldots{}", "—": "---", "–": "--",
                  "√": r"$\surd$"}  # fmt: skip


def is_missing(value: Any) -> bool:
    """Whether a cell is empty: None, ``pd.NA``/``NaT`` or a float NaN.

    Examples
    --------
    >>> is_missing(float("nan")), is_missing(None), is_missing(0.0)
    (True, True, False)
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def format_number(value: Any, digits: int = 3, na: str = "") -> str:
    """A number with ``digits`` fixed decimals: no negative zero, ``na`` for a missing value.

    Parameters
    ----------
    value : float or int
        The number; anything that is not a number is returned as ``str(value)``.
    digits : int
        Decimals.
    na : str
        Text of a missing value (None, NaN); ``""`` in tables, ``"NA"`` in lavaan's report.

    Returns
    -------
    str

    Examples
    --------
    >>> format_number(2.0), format_number(-0.0004), format_number(float("inf"), 2)
    ('2.000', '0.000', 'Inf')
    >>> format_number(float("nan"), na="NA")
    'NA'
    """
    if is_missing(value):
        return na
    v = _float(value)
    if v is None:
        return str(value)
    if math.isinf(v):
        return "Inf" if v > 0 else "-Inf"
    text = f"{v:.{digits}f}"
    if text.startswith("-") and float(text) == 0.0:
        text = text[1:]
    return text


def format_integer(value: Any, digits: int = 3, na: str = "") -> str:
    """A whole number without decimals (a count, degrees of freedom); a value that is
    not whole falls back to :func:`format_number` with ``digits``.

    Examples
    --------
    >>> format_integer(24.0), format_integer(3), format_integer(23.5, 2)
    ('24', '3', '23.50')
    """
    if is_missing(value):
        return na
    v = _float(value)
    if v is None or math.isinf(v) or not v.is_integer():
        return format_number(value, digits, na)
    return str(int(v))


def format_pvalue(value: Any, na: str = "") -> str:
    """A p-value as published: ``< .001`` below .001, else three decimals (``0.023``).

    Examples
    --------
    >>> format_pvalue(0.00002), format_pvalue(0.0456), format_pvalue(1.0)
    ('< .001', '0.046', '1.000')
    """
    if is_missing(value):
        return na
    v = _float(value)
    if v is None:
        return str(value)
    if v < PVALUE_FLOOR:
        return "< .001"
    return format_number(v, 3, na)


def stars(p: Any) -> str:
    """Significance stars of a p-value (:data:`STAR_LEVELS`): ``***`` below .001, ``**``
    below .01, ``*`` below .05, else (and for a missing value) nothing.

    Examples
    --------
    >>> stars(0.0004), stars(0.004), stars(0.04), stars(0.05), stars(float("nan"))
    ('***', '**', '*', '', '')
    """
    v = None if is_missing(p) else _float(p)
    if v is None:
        return ""
    return next((mark for cut, mark in STAR_LEVELS if v < cut), "")


def format_interval(lower: Any, upper: Any, digits: int = 3) -> str:
    """A confidence interval as printed in tables: ``[0.120, 0.350]`` (empty when both
    bounds are missing).

    Examples
    --------
    >>> format_interval(0.1204, 0.35), format_interval(float("nan"), float("nan"))
    ('[0.120, 0.350]', '')
    """
    if is_missing(lower) and is_missing(upper):
        return ""
    return f"[{format_number(lower, digits, 'NA')}, {format_number(upper, digits, 'NA')}]"


def format_p_clause(value: Any) -> str:
    """A p-value inside a sentence, in the package's one style: ``p < .001`` or
    ``p = 0.023``.

    Examples
    --------
    >>> format_p_clause(2.474e-06), format_p_clause(0.0456)
    ('p < .001', 'p = 0.046')
    """
    text = format_pvalue(value, na="NA")
    return f"p {text}" if text.startswith("<") else f"p = {text}"

def stars_note(space: str = " ", sep: str = ", ") -> str:
    """The note explaining :func:`stars`, least stringent level first; ``space`` joins
    the words of each entry (a no-break space keeps them on one line), ``sep`` the
    entries. :data:`STAR_NOTE` is the tables' form.

    Examples
    --------
    >>> stars_note()
    '* p < .05, ** p < .01, *** p < .001'
    """
    entries = [space.join((mark, "p", "<", f"{level:g}".removeprefix("0")))
               for level, mark in reversed(STAR_LEVELS)]  # fmt: skip
    return sep.join(entries)


#: the sentence every table with stars carries in its note
STAR_NOTE = stars_note(sep=". ") + "."


def latex_escape(text: Any) -> str:
    """Text safe inside a LaTeX document: ``\\ & % $ # _ { } ~ ^ < >`` escaped, and the
    Greek letters and symbols of the journal tables (β, χ², Δ, →, ...) as LaTeX commands,
    so the output compiles with pdflatex as well as with XeLaTeX or LuaLaTeX.

    Examples
    --------
    >>> print(latex_escape("a_b & {c} #1 $2"))
    a\\_b \\& \\{c\\} \\#1 \\$2
    >>> print(latex_escape("β, Δχ²"))
    $\\beta$, $\\Delta$$\\chi$\\textsuperscript{2}
    """
    return "".join(_LATEX.get(ch) or _LATEX_SYMBOLS.get(ch, ch) for ch in str(text))


def html_escape(text: Any) -> str:
    """Text safe in HTML (and SVG): ``& < > " '`` as entities.

    Examples
    --------
    >>> html_escape("p < .001 & more")
    'p &lt; .001 &amp; more'
    """
    return html.escape(str(text))


def markdown_escape(text: Any) -> str:
    """A Markdown table cell: whitespace collapsed to single spaces, pipes escaped.

    Examples
    --------
    >>> print(markdown_escape("P(>|z|)"))
    P(>\\|z\\|)
    """
    return " ".join(str(text).split()).replace("|", "\\|")


#: a hyphen that is a minus sign: not after a letter or digit, before a digit or point
_MINUS = re.compile(r"(?<![0-9A-Za-z])-(?=[0-9.])")


def typeset_minus(text: str) -> str:
    """A number cell with its minus signs as the typographic minus (U+2212), which is
    as wide as a plus sign and a digit, so that negative numbers align and read as
    negative in typeset tables (HTML, LaTeX, Word); hyphens inside words are kept.

    Examples
    --------
    >>> typeset_minus("-0.120 [-0.31, 0.07]")
    '\u22120.120 [\u22120.31, 0.07]'
    >>> typeset_minus("x1-x2")
    'x1-x2'
    """
    return _MINUS.sub("\u2212", text)
