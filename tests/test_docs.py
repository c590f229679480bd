"""Every ```python block of every page in docs/ runs as written.

The blocks of one page run in order, in one namespace, with the repository root as the
working directory (the pages read ``models/`` and ``sample_data/`` by relative path).
Warnings are allowed; any exception fails the test and names the page and block.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# pages written by other people may appear later; every *.md page found is tested
PAGES = sorted(DOCS.glob("*.md"))

_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """The ```python blocks of a Markdown page, each with the line its code starts on."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in _BLOCK.finditer(text)]


def test_pages_exist() -> None:
    expected = {
        "index.md",
        "getting-started.md",
        "multigroup.md",
        "robust-and-missing.md",
        "reference.md",
        "simulation.md",
    }
    assert expected <= {p.name for p in PAGES}


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_examples_run(page: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    if not blocks:
        pytest.skip(f"{page.name} has no python blocks")
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": f"docs.{page.stem}"}
    env_before = dict(os.environ)
    failure = None
    try:
        for number, (line, code) in enumerate(blocks, start=1):
            try:
                compiled = compile(code, f"{page.name} (block {number}, line {line})", "exec")
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    exec(compiled, namespace)
            except Exception as exc:
                failure = (
                    f"docs/{page.name}: python block {number} (starting at line {line}) "
                    f"raised {type(exc).__name__}: {exc}\n\n{traceback.format_exc()}"
                )
                break
    finally:
        os.environ.clear()
        os.environ.update(env_before)
        _close_figures()
    if failure is not None:
        pytest.fail(failure, pytrace=False)


def _close_figures() -> None:
    """Close figures a page may have opened (only if it imported matplotlib)."""
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")
