"""The architecture's rules, checked on the source (docs/architecture.md).

- no import circles between semnet's modules (imports inside functions count; imports
  under ``if TYPE_CHECKING:`` do not);
- no function longer than 120 lines (docstring included);
- estimator, discrepancy, vcov and test names are compared only inside the registries
  (``semnet/options.py``, ``semnet/inference/plugins.py``,
  ``semnet/estimation/discrepancy.py``), so a new estimator is a new registry row;
- no private names used across modules: a module does not import a ``_``-prefixed name
  from another semnet module (``from semnet.x import _y``, ``semnet.x._y``), nor read a
  ``_``-prefixed attribute (``fit._jacobian``) that only other semnet modules define; a
  ``_``-prefixed module is private to its package (``semnet._blas`` serves all of semnet,
  ``semnet.studies._output`` only ``semnet.studies``). Tests may use private names.
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
    "WLSMVS", "mean_var_adjusted", "mean.var.adjusted",
    "bootstrap", "bollen_stine", "bollen.stine",
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


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_module(target: str, module: str) -> str | None:
    """The ``_``-prefixed package part of ``target`` that ``module`` is outside of, if any."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        package = ".".join(parts[:i])
        if _is_private(part) and module != package and not module.startswith(package + "."):
            return ".".join(parts[: i + 1])
    return None


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".")
    package = package[: len(package) - node.level + (1 if is_package else 0)]
    return ".".join(package + ([node.module] if node.module else []))


def _private_attributes(tree: ast.AST) -> set[str]:
    """``_``-prefixed attributes a module defines: methods, class fields, ``self._x = ...``."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    out.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    out.add(item.target.id)
                elif isinstance(item, ast.Assign):
                    out.update(t.id for t in item.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            out.add(node.attr)
    return {name for name in out if _is_private(name)}


def _private_uses(
    tree: ast.AST,
    module: str,
    is_package: bool = False,
    attributes: dict[str, set[str]] | None = None,
) -> list[tuple[int, str]]:
    """Private names of other semnet modules that ``tree`` (module ``module``) uses.

    ``attributes`` maps each semnet module to the private attributes it defines (see
    :func:`_private_attributes`); ``obj._x`` counts when ``_x`` is defined in other modules
    and not in ``module`` (``self._x`` and ``cls._x`` never count).
    """
    modules = set(MODULES) | {module}
    bound: dict[str, str] = {}  # local name -> the semnet module it is bound to
    found: list[tuple[int, str]] = []

    def check_module(line: int, target: str) -> None:
        outside = _private_module(target, module)
        if outside is not None:
            found.append((line, outside))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "semnet":
                    check_module(node.lineno, alias.name)
                    bound[alias.asname or "semnet"] = alias.name if alias.asname else "semnet"
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, is_package)
            if source.split(".")[0] != "semnet":
                continue
            check_module(node.lineno, source)
            for alias in node.names:
                target = f"{source}.{alias.name}"
                if target in modules:
                    check_module(node.lineno, target)
                    bound[alias.asname or alias.name] = target
                elif _is_private(alias.name) and source != module:
                    found.append((node.lineno, target))

    def owner(node: ast.expr) -> str | None:
        if isinstance(node, ast.Name):
            return bound.get(node.id)
        if isinstance(node, ast.Attribute):
            parent = owner(node.value)
            if parent is not None and f"{parent}.{node.attr}" in modules:
                return f"{parent}.{node.attr}"
        return None

    own = (attributes or {}).get(module, set())
    elsewhere = set().union(*(v for k, v in (attributes or {}).items() if k != module))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or not _is_private(node.attr):
            continue
        parent = owner(node.value)
        if parent is not None:
            target = f"{parent}.{node.attr}"
            if target in modules:
                check_module(node.lineno, target)
            elif parent != module:
                found.append((node.lineno, target))
        elif (
            not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            and node.attr in elsewhere
            and node.attr not in own
        ):
            found.append((node.lineno, f"{ast.unparse(node.value)}.{node.attr}"))
    return sorted(set(found))


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("from semnet.partable.build import _pick", "semnet.api", "semnet.partable.build._pick"),
        ("import semnet.partable.build as b\nb._pick()", "semnet.api",
         "semnet.partable.build._pick"),
        ("import semnet.partable.build\nsemnet.partable.build._pick", "semnet.api",
         "semnet.partable.build._pick"),
        ("from semnet.partable import build\nbuild._ABSENT", "semnet.api",
         "semnet.partable.build._ABSENT"),
        ("from semnet.studies._output import OutputFolder", "semnet.api", "semnet.studies._output"),
        ("from .build import _pick", "semnet.partable.other", "semnet.partable.build._pick"),
        ("fit._jacobian(f)", "semnet.api", "fit._jacobian"),
    ],
)  # fmt: skip
def test_the_private_name_check_sees_a_use(source, module, expected):
    attributes = {"semnet.results.fit": {"_jacobian"}}
    assert [name for _, name in _private_uses(ast.parse(source), module, False, attributes)] == [
        expected
    ]


@pytest.mark.parametrize(
    ("source", "module"),
    [
        ("from semnet.partable.build import _pick", "semnet.partable.build"),
        ("from semnet._blas import cholesky", "semnet.results.fit"),
        ("from semnet.studies._output import OutputFolder", "semnet.studies.network_involvement"),
        ("from semnet.partable.build import partable as _partable", "semnet"),
        ("from semnet import __version__", "semnet.cli"),
        ("self._jacobian(f)", "semnet.api"),
        ("fit._jacobian(f)", "semnet.results.fit"),
        ("frame._mgr", "semnet.api"),
    ],
)  # fmt: skip
def test_the_private_name_check_allows_own_and_package_names(source, module):
    attributes = {"semnet.results.fit": {"_jacobian"}, "semnet.api": set()}
    assert _private_uses(ast.parse(source), module, False, attributes) == []


def test_private_attributes_are_those_a_module_defines():
    source = "class A:\n    _x: int\n    _z = 0\n    def _f(self):\n        self._y = other._w\n"
    assert _private_attributes(ast.parse(source)) == {"_x", "_z", "_f", "_y"}


def test_no_private_names_used_across_modules():
    trees = {m: ast.parse(p.read_text(encoding="utf-8")) for m, p in MODULES.items()}
    attributes = {m: _private_attributes(tree) for m, tree in trees.items()}
    found = []
    for module, tree in trees.items():
        path = MODULES[module]
        rel = path.relative_to(PACKAGE).as_posix()
        for line, name in _private_uses(tree, module, path.name == "__init__.py", attributes):
            found.append(f"{rel}:{line} {name}")
    assert found == []
