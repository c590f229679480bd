"""Comparisons of a semnet fit with lavaan's results shared by the tests against lavaan
fixtures (the differential tests tests/api/test_fuzz_lavaan.py and test_fuzz2_lavaan.py,
the ordinal and syntax fixtures)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import numpy as np
from tolerances import FIT_RTOL

import semnet


def assert_fit_measures(fit: semnet.Fit, reference: dict, atol: float) -> None:
    """The fit's df and every fit measure in ``reference`` (lavaan's names, dots for
    underscores; ``None``: lavaan's NA, which semnet must give as NaN) as lavaan's."""
    fm = fit.fit_measures()
    assert fit.df == reference["df"]
    for name, value in reference.items():
        ours = fm[name.replace(".", "_")]
        if value is None:
            assert np.isnan(ours), name
        else:
            np.testing.assert_allclose(ours, value, rtol=FIT_RTOL, atol=atol, err_msg=name)


def scaled_test_problems(fit: semnet.Fit, tests: dict, atol: float) -> list[str]:
    """The differences between the fit's robust test and lavaan's second test in
    ``tests`` (its ``lavInspect(fit, "test")`` by name; nothing to compare where lavaan
    has only the standard test): the test's kind, statistic, scaling factor and shift."""
    if len(tests) < 2:
        return []
    kind, theirs = list(tests.items())[1]
    t = fit.scaled_test
    if t is None or t.name != kind.replace(".", "_"):
        return [f"test {kind} vs {None if t is None else t.name}"]
    problems = []
    for ours, key in ((t.stat, "stat"), (t.scaling_factor, "scaling.factor"),
                      (t.shift_parameter, "shift.parameter")):  # fmt: skip
        value = theirs.get(key)
        if value is not None and not np.isclose(ours, value, rtol=FIT_RTOL, atol=atol):
            problems.append(f"test {key}: {ours:.8g} vs {value}")
    return problems


def load_fixture(folder: Path, generator: str) -> tuple[ModuleType, dict, dict]:
    """A differential test's generator module (``folder / generator``, loaded by path:
    the fixture folders are not packages), its models (``models.json``) and lavaan's
    results (``lavaan.json``), each by model name."""
    spec = importlib.util.spec_from_file_location(f"{folder.name}_generator",
                                                  folder / generator)  # fmt: skip
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with open(folder / "models.json", encoding="utf-8") as fh:
        inputs = {m["name"]: m for m in json.load(fh)["models"]}
    with open(folder / "lavaan.json", encoding="utf-8") as fh:
        lavaan = {r["name"]: r for r in json.load(fh)["fits"]}
    return module, inputs, lavaan
