"""Shortcuts past pandas' per-column overhead, each with the public route as fallback.

A small fit spends more time in pandas than in its numerics: under pandas 3 every
``frame[name]`` builds a Series (about 15 us) and a DataFrame built from a dict infers
the dtype of its column labels and re-checks every column (150-250 us for an estimates
table).  The functions here reach the same results through
``DataFrame._mgr.iget_values`` (pandas 1.x on) and
``pandas.api.internals.create_dataframe_from_blocks`` (pandas 3); when either is missing
or refuses the input, they take the public route.  ``tests/test_pandas.py`` checks both
routes against each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd


def column_arrays(data: pd.DataFrame, names: Sequence[str]) -> list[Any] | None:
    """The columns ``names`` of ``data`` (unique labels) as their stored arrays, without a
    Series per column; ``None`` when pandas' internals do not allow it.

    The arrays may be views of the frame's storage: read them, never write to them.
    """
    try:
        mgr = data._mgr
        get_loc = data.columns.get_loc
        # (``mgr.iget_values(i)``, without its lookups of these per column)
        blocks, blknos, blklocs = mgr.blocks, mgr.blknos, mgr.blklocs
        arrays = []
        for n in names:
            i = get_loc(n)
            if not isinstance(i, int):
                return None
            arrays.append(blocks[blknos[i]].iget(blklocs[i]))
        return arrays
    except (AttributeError, TypeError, KeyError):
        return None


def column_dtypes(data: pd.DataFrame) -> Sequence[Any]:
    """The dtypes of ``data``'s columns, in order (``data.dtypes``' values, without
    building that Series: about 40 us under pandas 3).

    Examples
    --------
    >>> import pandas as pd
    >>> [str(t) for t in column_dtypes(pd.DataFrame({"a": [1], "b": [0.5]}))]
    ['int64', 'float64']
    """
    try:
        dtypes = data._mgr.get_dtypes()
        if len(dtypes) == data.shape[1]:
            return dtypes
    except (AttributeError, TypeError):
        pass
    return data.dtypes.to_numpy()


_EXTENSION_ARRAY = pd.api.extensions.ExtensionArray
_NUMPY_EXTENSION_ARRAY = pd.arrays.NumpyExtensionArray


@lru_cache(maxsize=1)
def _text_dtype() -> Any:
    """The dtype pandas infers for a column of strings (``str`` from pandas 3 on,
    ``object`` before)."""
    return pd.Series(["x"]).dtype


def text_array(values: Any) -> Any:
    """Strings as the pandas array a DataFrame would infer for them, without inferring
    (straight from pyarrow where pandas keeps strings in pyarrow)."""
    dtype = _text_dtype()
    if getattr(dtype, "storage", None) == "pyarrow":
        try:
            import pyarrow as pa

            return pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string()),
                                             dtype=dtype)
        except (ImportError, TypeError, ValueError):
            pass
    return pd.array(values, dtype=dtype)


def text_pieces(text: Any, n: int, k: int) -> list[Any]:
    """The ``k`` consecutive pieces of length ``n`` of a :func:`text_array`, as new
    arrays that share no writable memory with it (a table can take them without a
    copy): slices of pyarrow's immutable strings, else copies of the slices.

    Examples
    --------
    >>> [list(p) for p in text_pieces(text_array(["a", "b", "c", "d"]), 2, 2)]
    [['a', 'b'], ['c', 'd']]
    """
    pieces = [text[i * n : (i + 1) * n] for i in range(k)]
    if isinstance(text, pd.arrays.ArrowStringArray):
        return pieces
    return [p.copy() for p in pieces]


@lru_cache(maxsize=64)
def _labels(names: tuple[str, ...]) -> pd.Index:
    """The column labels as the Index pandas would infer for them (built once)."""
    return pd.DataFrame(columns=list(names)).columns


def frame(
    columns: Mapping[str, Any],
    numbers: tuple[Sequence[str], np.ndarray] | None = None,
    copy: bool = True,
) -> pd.DataFrame:
    """``pd.DataFrame(columns)``, for equal-length columns, then the float columns
    ``numbers``: ``(names, block)``, one row of the 2-D ``block`` per name.

    The shortcut hands pandas the table's blocks ready-made
    (``pandas.api.internals.create_dataframe_from_blocks``, pandas 3): the numpy
    columns of numbers stacked by dtype, each pandas array as it is, a pandas array of
    objects as an object block.  The result equals the public constructor's (dtypes
    included) when every pandas array has the dtype pandas infers for its values (as
    ``pd.Series(values).array`` does).  Any other column (a list, a numpy array of
    objects), or an older pandas, sends the whole table the public way.  Either way the
    table owns its columns: writing to it (or naming its axes) never changes
    ``columns`` or another table.  They are copies of ``columns``, or with ``copy=False``
    the pandas arrays of ``columns`` themselves (and the storage of a pandas array of
    objects), as ``block`` always is: the caller passes arrays it has just made for the
    table, and keeps no reference.

    Examples
    --------
    >>> import numpy as np
    >>> t = frame({"lhs": text_array(["f", "f"])}, (["est", "se"], np.ones((2, 2))))
    >>> [str(t) for t in t.dtypes], t.shape
    (['str', 'float64', 'float64'], (2, 3))
    """
    names, block = ((), None) if numbers is None else numbers
    arrays = list(columns.values())
    n = len(arrays[0]) if arrays else (0 if block is None else block.shape[1])
    create = _create_from_blocks()
    blocks = None if create is None else _blocks(arrays, n, copy)
    if blocks is not None and block is not None:
        if block.ndim != 2 or block.shape != (len(names), n) or block.dtype != np.float64:
            blocks = None
        else:
            blocks.append((block, np.arange(len(arrays), len(arrays) + len(names))))
    if blocks is None:
        rows = () if block is None else list(block)
        return pd.DataFrame({**columns, **dict(zip(names, rows, strict=True))})
    # (a view of the cached labels: renaming one table's axis leaves the others alone)
    labels = _labels((*columns, *names)).view()
    return create(blocks, index=pd.RangeIndex.from_range(range(n)), columns=labels)


def _blocks(arrays: Sequence[Any], n: int, copy: bool) -> list[tuple[Any, np.ndarray]] | None:
    """The blocks of :func:`frame` (pandas arrays copied with ``copy``), or ``None`` for
    a column it cannot take."""
    numbers: dict[np.dtype, list[int]] = {}
    blocks = []
    place = np.arange(len(arrays))
    for i, a in enumerate(arrays):
        if isinstance(a, np.ndarray):
            if a.ndim != 1 or a.dtype.kind not in "biufc" or a.shape[0] != n:
                return None
            numbers.setdefault(a.dtype, []).append(i)
            continue
        if not isinstance(a, _EXTENSION_ARRAY) or a.ndim != 1 or len(a) != n:
            return None
        if type(a) is _NUMPY_EXTENSION_ARRAY:  # (not its subclasses, as pandas' strings)
            a = a.to_numpy().reshape(1, n)
        blocks.append((a.copy() if copy else a, place[i : i + 1]))
    for where in numbers.values():
        blocks.append((np.array([arrays[i] for i in where]), place[where]))
    return blocks


@lru_cache(maxsize=1)
def _create_from_blocks() -> Any:
    try:
        from pandas.api.internals import create_dataframe_from_blocks
    except ImportError:
        return None
    return create_dataframe_from_blocks
