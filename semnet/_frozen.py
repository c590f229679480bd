"""Frozen dataclass instances made without their generated ``__init__``.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``: about
0.3 us a field, 8 us for the 25 fields of :class:`semnet.options.Options`, made once
a fit. :func:`frozen` puts the values in the instance's ``__dict__`` in one step: the
same object (equal, hashing alike, as immutable), for the dataclasses without
``__post_init__`` or ``__slots__`` that a fit makes on every call.
"""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")

_new = object.__new__


def frozen(cls: type[T], values: dict[str, Any]) -> T:
    """``cls(**values)`` for a frozen dataclass ``cls`` and a value for each of its fields.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Point:
    ...     x: float
    ...     y: float
    >>> frozen(Point, {"x": 1.0, "y": 2.0}) == Point(1.0, 2.0)
    True
    """
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__} has a __post_init__, which frozen() would skip")
    if len(values) != len(cls.__dataclass_fields__):  # type: ignore[attr-defined]
        raise TypeError(
            f"{cls.__name__} has the fields {', '.join(cls.__dataclass_fields__)}, "  # type: ignore[attr-defined]
            f"given {', '.join(values)}"
        )
    instance = _new(cls)
    instance.__dict__.update(values)
    return instance
