"""The semnet error tree.

Every error a user can trigger is a :class:`SemnetError`.  Each message says what
failed, the offending value, and what to do next.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class SemnetError(Exception):
    """Base class of every error semnet raises on bad input or failed estimation."""


class ModelSyntaxError(SemnetError):
    """Invalid lavaan model syntax.

    Attributes
    ----------
    line, column : int
        1-based position of the offending token in the model text.
    source_line : str
        The text of that line.
    """

    def __init__(self, message: str, line: int, column: int, source_line: str = "") -> None:
        self.reason = message
        self.line = line
        self.column = column
        self.source_line = source_line
        caret = ""
        if source_line:
            caret = f"\n    {source_line}\n    {' ' * (column - 1)}^"
        super().__init__(f"line {line}, column {column}: {message}{caret}")


class ModelSpecificationError(SemnetError):
    """A syntactically valid model that cannot be built (unknown label, conflicting values...)."""


class IdentificationError(SemnetError):
    """The model is not identified (negative df, unscaled factor, ...)."""


class DataError(SemnetError):
    """The data cannot be used as given (unknown column, non-numeric values, singular cov...)."""


class OptionError(SemnetError, ValueError):
    """An option has a value semnet does not know."""


class ConvergenceError(SemnetError):
    """The optimizer failed in a way that leaves no usable estimate."""


class SemnetWarning(UserWarning):
    """Warnings about a model or a fit (negative variances, non-convergence, dropped rows,
    labels that tie parameters across groups)."""


def warn(message: str) -> None:
    """Issue a :class:`SemnetWarning` pointing at the caller's code, not at semnet's."""
    import sys
    import warnings
    from pathlib import Path

    # walk the frames without inspect.stack(), which reads every frame's source file
    package = str(Path(__file__).resolve().parent)
    frame = sys._getframe(1)
    level = 2
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(package):
        frame = frame.f_back
        level += 1
    warnings.warn(message, SemnetWarning, stacklevel=level)


def check_choice(name: str, value: object, valid: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``valid``; raise :class:`OptionError` otherwise.

    The message lists the valid values and suggests the nearest one.
    """
    if isinstance(value, str) and isinstance(valid, (tuple, list)) and value in valid:
        return value  # (the usual case, without copying valid)
    valid = list(valid)
    if isinstance(value, str) and value in valid:
        return value
    hint = ""
    if isinstance(value, str):
        close = difflib.get_close_matches(value, valid, n=1)
        if close:
            hint = f" Did you mean {close[0]!r}?"
    raise OptionError(
        f"{name}={value!r} is not a valid choice; use one of {', '.join(map(repr, valid))}.{hint}"
    )


def check_seed(seed: object, name: str = "seed", generator: bool = False) -> None:
    """Raise :class:`OptionError` unless ``seed`` is ``None``, a whole number >= 0, a
    ``numpy.random.SeedSequence`` or (with ``generator``) a ``numpy.random.Generator``:
    what numpy takes as a seed, checked before numpy sees it.

    Examples
    --------
    >>> check_seed(2021)
    >>> check_seed("abc")
    Traceback (most recent call last):
    ...
    semnet.errors.OptionError: seed must be a whole number >= 0 (e.g. 2021), or None for \
fresh randomness, not 'abc'.
    """
    import numbers

    import numpy as np

    if seed is None or isinstance(seed, np.random.SeedSequence):
        return
    if generator and isinstance(seed, np.random.Generator):
        return
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return
    kinds = ", a numpy.random.Generator" if generator else ""
    raise OptionError(
        f"{name} must be a whole number >= 0 (e.g. 2021){kinds}, or None for fresh "
        f"randomness, not {seed!r}."
    )


def check_level(level: object) -> None:
    """Raise :class:`OptionError` unless ``level`` (a confidence level) is a number
    strictly between 0 and 1.

    Examples
    --------
    >>> check_level(0.9)
    >>> check_level("0.9")
    Traceback (most recent call last):
    ...
    semnet.errors.OptionError: level must be between 0 and 1 (e.g. 0.95), not '0.9'.
    """
    if type(level) is float and 0.0 < level < 1.0:
        return  # (the usual case)
    import numbers

    if isinstance(level, numbers.Real) and not isinstance(level, bool) and 0 < level < 1:
        return
    raise OptionError(f"level must be between 0 and 1 (e.g. 0.95), not {level!r}.")
