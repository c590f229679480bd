"""Packaging: the runtime dependencies are what semnet imports, and a built install
carries the study's files (``setup.py`` copies them; ``.ci/run`` installs a wheel in a
fresh venv and runs ``semnet replicate`` outside the repository)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower()


def _module_level_imports() -> set[str]:
    """Top-level packages that some module of semnet imports when it is imported."""
    found: set[str] = set()
    for path in (ROOT / "semnet").rglob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            for stmt in node.body if isinstance(node, ast.Try) else [node]:
                if isinstance(stmt, ast.Import):
                    found |= {a.name.split(".")[0] for a in stmt.names}
                elif isinstance(stmt, ast.ImportFrom) and stmt.level == 0 and stmt.module:
                    found.add(stmt.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "semnet"}


#: runtime dependencies imported where they are used, not on ``import semnet`` (importing
#: statsmodels.stats.multitest alone takes about a second)
IMPORTED_ON_USE = {"statsmodels": "semnet/analyses/invariance/adjust.py"}


def test_runtime_dependencies_are_what_semnet_imports():
    dependencies = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    assert dependencies == _module_level_imports() | set(IMPORTED_ON_USE)
    assert "semopy" not in dependencies
    for package, module in IMPORTED_ON_USE.items():
        assert f"from {package}" in (ROOT / module).read_text(encoding="utf-8")


def test_optional_packages_live_in_extras():
    extras = {k: {_name(r) for r in v}
              for k, v in PYPROJECT["project"]["optional-dependencies"].items()}  # fmt: skip
    assert extras["semopy"] == {"semopy"}
    assert {"pyreadstat", "pyarrow"} <= extras["io"]
    assert {"semopy", "pyreadstat", "pytest"} <= extras["dev"]


def test_bundled_files_exist_and_reach_the_sdist():
    manifest_in = (ROOT / "MANIFEST.in").read_text(encoding="utf-8")
    setup = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    bundled = next(
        ast.literal_eval(node.value) for node in setup.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "BUNDLED"
    )  # fmt: skip
    assert {dest for _, _, dest in bundled} == {"semnet/studies/models", "semnet/datasets"}
    for folder, pattern, _ in bundled:
        assert sorted((ROOT / folder).glob(pattern)), (folder, pattern)
        assert f"include {folder}/{pattern}" in manifest_in


def test_studies_is_an_attribute_after_import_semnet(tmp_path):
    code = "import semnet; print(semnet.studies.network_involvement.GROUP)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "country"
