"""The architecture's rules, checked on the source (docs/architecture.md).

- no import circles between semnet's modules (imports inside functions count; imports
  under ``if TYPE_CHECKING:`` do not);
- no function longer than 120 lines (docstring included);
- estimator, discrepancy, vcov and test names are compared only inside the registries
  (``semnet/options.py``, ``semnet/inference/plugins.py``,
  ``semnet/estimation/discrepancy.py``), so a new estimator is a new registry row.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "semnet"
MAX_FUNCTION_LINES = 120

#: the plug-in names a module outside the registries must not branch on
PLUGIN_NAMES = {
    "ML", "MLR", "MLM", "MLMV", "FIML", "GLS", "ULS", "WLS", "DWLS", "WLSMV",
    "robust_sem", "robust_huber_white", "robust.sem", "robust.huber.white",
    "satorra_bentler", "yuan_bentler_mplus", "scaled_shifted",
    "satorra.bentler", "yuan.bentler.mplus", "scaled.shifted",
}  # fmt: skip
REGISTRIES = {"options.py", "inference/plugins.py", "estimation/discrepancy.py"}
#: lavaan's fitMeasures() is keyed on lavaan's test name: which measures a robust test
#: adds (and how its RMSEA is formed) is part of the reference interface it reproduces
KEYED_ON_LAVAAN_TEST = {"results/fit_measures/names.py", "results/fit_measures/robust.py"}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(tree: ast.AST, module: str) -> set[str]:
    """semnet modules imported by ``tree`` (not under ``if TYPE_CHECKING:``)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            targets: list[str] = []
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                targets = [child.module] + [f"{child.module}.{a.name}" for a in child.names]
            elif isinstance(child, ast.Import):
                targets = [a.name for a in child.names]
            for target in targets:
                if target.startswith("semnet"):
                    resolved = _resolve(target)
                    # the package itself (semnet/__init__) re-exports the public API
                    if resolved not in (None, module, "semnet"):
                        found.add(resolved)
            visit(child)

    visit(tree)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            strong(v)
    return out


def test_no_import_circles():
    graph = {m: _imports(ast.parse(p.read_text(encoding="utf-8")), m) for m, p in MODULES.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_function_over_120_lines():
    long = []
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({lines})")
    assert long == []


def _compared_names(tree: ast.AST) -> list[tuple[int, str]]:
    """String constants in comparisons (``x == "MLR"``, ``x in ("ML", "MLR")``)."""
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        for operand in (node.left, *node.comparators):
            values = operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set) else [
                operand
            ]
            for v in values:
                if isinstance(v, ast.Constant) and v.value in PLUGIN_NAMES:
                    out.append((node.lineno, v.value))
    return out


@pytest.mark.parametrize("source", ['x == "MLR"', 'se in ("robust_sem", "x")', "'ML' != e"])
def test_the_name_check_sees_a_comparison(source):
    assert _compared_names(ast.parse(source))


def test_no_branch_on_plugin_names_outside_the_registries():
    found = []
    for path in MODULES.values():
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in REGISTRIES | KEYED_ON_LAVAAN_TEST:
            continue
        for line, name in _compared_names(ast.parse(path.read_text(encoding="utf-8"))):
            found.append(f"{rel}:{line} compares {name!r}")
    assert found == []
