"""Comparisons of a semnet fit with lavaan's results shared by the differential tests
(tests/api/test_fuzz_lavaan.py, tests/api/test_fuzz2_lavaan.py)."""

from __future__ import annotations

import numpy as np
from tolerances import FIT_RTOL

import semnet


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
