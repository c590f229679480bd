"""The one set of cell formatters and escapes, and that no other module keeps its own."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import semnet
from semnet.report.format import (
    format_integer,
    format_number,
    format_pvalue,
    html_escape,
    is_missing,
    latex_escape,
    markdown_escape,
)

SOURCE = Path(semnet.__file__).resolve().parent
FORMAT_MODULE = SOURCE / "report" / "format.py"


def test_format_number():
    assert format_number(0.12345) == "0.123"
    assert format_number(0.12345, 2) == "0.12"
    assert format_number(-1.5) == "-1.500"
    assert format_number(-0.0004) == "0.000"  # no negative zero
    assert format_number(np.float32(2.5), 1) == "2.5"
    assert format_number(3) == "3.000"
    assert format_number(float("nan")) == ""
    assert format_number(None, na="NA") == "NA"
    assert format_number(float("-inf")) == "-Inf"
    assert format_number("ML") == "ML"


def test_format_integer():
    assert format_integer(24.0) == "24"
    assert format_integer(np.int64(7)) == "7"
    assert format_integer(23.5, 2) == "23.50"
    assert format_integer(pd.NA) == ""
    assert format_integer(float("nan"), na="NA") == "NA"


@pytest.mark.parametrize(("p", "text"), [
    (0.0, "< .001"), (0.00099, "< .001"), (0.001, "0.001"), (0.0234, "0.023"),
    (0.05, "0.050"), (1.0, "1.000"), (float("nan"), ""), (None, ""),
])
def test_format_pvalue_has_one_style(p, text):
    assert format_pvalue(p) == text


def test_is_missing():
    assert is_missing(None) and is_missing(np.nan) and is_missing(pd.NA) and is_missing(pd.NaT)
    assert not is_missing(0.0) and not is_missing("") and not is_missing(0)


def test_latex_escape_every_special_character():
    assert latex_escape("a_b % & # $ { }") == r"a\_b \% \& \# \$ \{ \}"
    assert latex_escape("p < .001 > x") == r"p \textless{} .001 \textgreater{} x"
    assert latex_escape("\\~^") == r"\textbackslash{}\textasciitilde{}\textasciicircum{}"
    assert latex_escape(1.5) == "1.5"


def test_html_and_markdown_escape():
    assert html_escape('<b> & "q"') == "&lt;b&gt; &amp; &quot;q&quot;"
    assert markdown_escape("P(>|z|)") == "P(>\\|z\\|)"
    assert markdown_escape("  x2    (a) ") == "x2 (a)"


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes of a module and its classes and functions."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def _code_facts(source: str) -> tuple[list[str], list[str], list[str]]:
    """The string constants (docstrings left out), function names and imported modules."""
    tree = ast.parse(source)
    docs = _docstrings(tree)
    strings = [n.value for n in ast.walk(tree)
               if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docs]
    functions = [n.name for n in ast.walk(tree)
                 if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    imports = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    imports += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    return strings, functions, imports


#: what a private copy of a LaTeX escape, an HTML escape or a p-value formatter looks like
LATEX_STRING = re.compile(r"textbackslash|textless|textasciitilde|^\\[_&%#$]$")
PVALUE_STRING = re.compile(r"<\s?0?\.001")
ESCAPE_FUNCTION = re.compile(r"(latex|tex|html)_?esc|^_?esc(ape)?$", re.IGNORECASE)
PVALUE_FUNCTION = re.compile(r"(fmt|format)_?p(val(ue)?)?s?$|^_?p(val(ue)?)?_?(text|str|fmt)$",
                             re.IGNORECASE)


def _private_copies(source: str) -> list[str]:
    strings, functions, imports = _code_facts(source)
    found = [f"LaTeX escape string {s!r}" for s in strings if LATEX_STRING.search(s)]
    found += [f"p-value style {s!r}" for s in strings if PVALUE_STRING.search(s)]
    found += [f"escape function {f}()" for f in functions if ESCAPE_FUNCTION.search(f)]
    found += [f"p-value formatter {f}()" for f in functions if PVALUE_FUNCTION.search(f)]
    found += ["import html" for m in imports if m == "html"]
    return found


def test_the_check_finds_a_private_copy():
    copy = ('import html\n'
            'def _esc(s):\n    return s.replace("<", "\\\\textless{}")\n'
            'def fmt_pvalue(p):\n    return "< .001" if p < .001 else f"{p:.3f}"\n'
            'def cell(p):\n    return f"<0.001" if p < .001 else "x"\n')
    found = _private_copies(copy)
    assert len(found) == 6, found
    own = _private_copies(FORMAT_MODULE.read_text(encoding="utf-8"))
    assert any("format_pvalue" in f for f in own) and any("latex_escape" in f for f in own)


def test_no_other_module_keeps_its_own_escape_or_pvalue_style():
    found = [f"{path.relative_to(SOURCE)}: {what}"
             for path in sorted(SOURCE.rglob("*.py")) if path != FORMAT_MODULE
             for what in _private_copies(path.read_text(encoding="utf-8"))]
    assert not found, "outside semnet/report/format.py:\n" + "\n".join(found)


def test_stars_and_their_note():
    from semnet.report.format import stars, stars_note

    cases = [(0.0009, "***"), (0.001, "**"), (0.0099, "**"), (0.01, "*"), (0.0499, "*"),
             (0.05, ""), (0.9, ""), (float("nan"), ""), (None, "")]  # fmt: skip
    assert [stars(p) for p, _ in cases] == [s for _, s in cases]
    assert stars_note() == "* p < .05, ** p < .01, *** p < .001"
    assert stars_note("\u00a0").split(", ")[0] == "*\u00a0p\u00a0<\u00a0.05"
