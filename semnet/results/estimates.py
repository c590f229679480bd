"""The parameter-estimates table of a fit, shared by every estimator's result.

lavaan's ``parameterEstimates()`` frame -- ``lhs, op, rhs, group, label, est, se, z,
pvalue, ci_lower, ci_upper`` (+ ``std_lv, std_all``) -- is built here once, from the
row identifiers of a parameter table, the estimates and their standard errors, for
:class:`~semnet.results.fit.Fit` and :class:`~semnet.estimation.lms.LMSResult` alike.
:class:`FittedRows` gives both results the facts they share (``groups``, ``nobs``,
``n_dropped``, the cached row identifiers), :func:`implied_frames` their
``implied()`` tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import special

from semnet._pandas import frame, text_array, text_pieces

if TYPE_CHECKING:  # pragma: no cover
    from semnet.data.moments import GroupMoments
    from semnet.partable.build import ParTable

__all__ = [
    "FittedRows",
    "estimates_table",
    "implied_frames",
    "normal_quantile",
    "parameter_se",
    "row_columns",
    "row_ids",
    "row_text",
]


@lru_cache(maxsize=16)
def normal_quantile(level: float) -> float:
    """The two-sided normal critical value of a confidence level.

    Examples
    --------
    >>> round(normal_quantile(0.95), 4)
    1.96
    """
    return float(special.ndtri(1 - (1 - level) / 2))


#: the text columns of the row identifiers, in the order of :func:`row_text`
_TEXT = ("lhs", "op", "rhs", "label")


def _constant(value: float) -> np.ndarray:
    """``value`` as a read-only 0-d array (a ufunc takes it faster than a float)."""
    out = np.array(value)
    out.setflags(write=False)
    return out


_ZERO, _MINUS_ONE, _TWO = _constant(0.0), _constant(-1.0), _constant(2.0)


@lru_cache(maxsize=16)
def _critical_value(level: float) -> np.ndarray:
    """:func:`normal_quantile` of ``level`` as a constant."""
    return _constant(normal_quantile(level))


def row_columns(partable: ParTable, defined: bool = True) -> dict[str, np.ndarray]:
    """``lhs, op, rhs, group, label`` and the ``free`` flag of the table's parameter
    rows, then (with ``defined``) of its ``:=`` rows, as read-only numpy columns.

    ``group`` holds the group labels with several groups, ``None`` with one; a ``:=``
    row has no group, is labelled by its name and counts as free.

    Examples
    --------
    >>> import semnet
    >>> from semnet.partable.build import partable
    >>> pt = partable(semnet.syntax.parse_model("f =~ a*x1 + b*x2 + x3\\nd := a*b"))
    >>> row_columns(pt)["op"][-1]
    ':='
    """
    params = partable.cols
    defs = [c for c in partable.constraints if c.op == ":="] if defined else []
    n = len(params["op"])
    group = np.empty(n + len(defs), dtype=object)
    if partable.ngroups > 1:
        group[:n] = np.asarray(partable.groups, dtype=object)[params["group"] - 1]
    if not defs:  # the parameter table's own (read-only) text columns
        free = params["free"] > 0
        group.setflags(write=False)
        free.setflags(write=False)
        return {"lhs": params["lhs"], "op": params["op"], "rhs": params["rhs"],
                "group": group, "label": params["label"], "free": free}
    out = {
        "lhs": np.concatenate([params["lhs"], [c.lhs for c in defs]]),
        "op": np.concatenate([params["op"], [":="] * len(defs)]),
        "rhs": np.concatenate([params["rhs"], [c.rhs for c in defs]]),
        "group": group,
        "label": np.concatenate([params["label"], [c.lhs for c in defs]]),
        "free": np.concatenate([params["free"] > 0, np.ones(len(defs), dtype=bool)]),
    }
    for v in out.values():
        v.setflags(write=False)
    return out


def row_text(columns: Mapping[str, np.ndarray], ngroups: int) -> Any:
    """The text columns of :func:`row_columns` -- ``lhs, op, rhs, label``, then
    ``group`` with several groups -- as one pandas string array, column after column
    (one conversion for every column and table: :func:`row_ids` slices it).

    Examples
    --------
    >>> import numpy as np
    >>> cols = {k: np.array([v], dtype=object) for k, v in
    ...         zip(["lhs", "op", "rhs", "group", "label"], ["f", "=~", "x1", None, ""])}
    >>> list(row_text(cols, 1))
    ['f', '=~', 'x1', '']
    """
    text = _TEXT if ngroups == 1 else (*_TEXT, "group")
    return text_array(np.concatenate([columns[k] for k in text]))


def row_ids(columns: Mapping[str, np.ndarray], ngroups: int, text: Any = None
            ) -> dict[str, Any]:
    """``lhs, op, rhs, group, label`` of :func:`row_columns` as the pandas arrays of a
    result table: new arrays, which the table can take without a copy.

    Each column has the dtype pandas infers for it in a DataFrame: the text columns are
    slices of ``text`` (:func:`row_text`, made when not given), ``group`` one of them,
    or objects (``None``) with one group.

    Examples
    --------
    >>> import numpy as np
    >>> cols = {k: np.array([v], dtype=object) for k, v in
    ...         zip(["lhs", "op", "rhs", "group", "label"], ["f", "=~", "x1", None, ""])}
    >>> {k: str(v.dtype) for k, v in row_ids(cols, 1).items()}
    {'lhs': 'str', 'op': 'str', 'rhs': 'str', 'group': 'object', 'label': 'str'}
    """
    text = row_text(columns, ngroups) if text is None else text
    lhs, op, rhs, label, *group = text_pieces(text, columns["op"].size, 5 - (ngroups == 1))
    if not group:
        group = [pd.arrays.NumpyExtensionArray(columns["group"].copy())]
    return {"lhs": lhs, "op": op, "rhs": rhs, "group": group[0], "label": label}


def parameter_se(free: np.ndarray, vcov_free: np.ndarray | None) -> np.ndarray:
    """Standard errors of the parameter rows from the covariance matrix of the free
    parameters (0 for fixed rows; NaN for free rows without one).

    Parameters
    ----------
    free : ndarray of int
        The parameter table's ``free`` column (1-based numbers, 0 for fixed rows).
    vcov_free : ndarray or None
        Covariance matrix of the free parameters; ``None`` gives NaN for free rows.

    Returns
    -------
    ndarray
        One standard error per row.  A free parameter without sampling variance (a
        diagonal entry at most ``1e-14`` of the largest, e.g. pinned by an active
        bound) gets NaN, as lavaan reports it.

    Examples
    --------
    >>> import numpy as np
    >>> parameter_se(np.array([1, 0, 2]), np.diag([4.0, 0.25])).tolist()
    [2.0, 0.0, 0.5]
    """
    if vcov_free is None:
        return np.where(free > 0, np.nan, 0.0)
    var = vcov_free.diagonal()
    # (entry 0 for the fixed rows, entry k for free parameter k: one take by ``free``)
    sd = np.empty(var.size + 1)
    sd[0] = 0.0
    tiny = var <= 1e-14 * max(1.0, np.maximum.reduce(var, initial=0.0))
    np.sqrt(np.maximum(var, 0.0), out=sd[1:])
    sd[1:][tiny] = np.nan
    return sd[free]


def estimates_table(
    ids: Mapping[str, Any],
    est: np.ndarray,
    se: np.ndarray,
    free: np.ndarray,
    level: float = 0.95,
    interval: tuple[np.ndarray, np.ndarray] | None = None,
    standardized: Mapping[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """lavaan's ``parameterEstimates()`` frame.

    Parameters
    ----------
    ids : mapping
        The row identifiers ``lhs, op, rhs, group, label`` (:func:`row_ids`): the table
        takes their pandas arrays (made for it: pass each to one table only).
    est, se : ndarray
        Estimates and standard errors, one per row (``se`` 0 for fixed rows).
    free : ndarray of bool
        Which rows are free (``:=`` rows count as free): only they get a z test.
    level : float
        Confidence level of the Wald interval ``est -/+ q * se``.
    interval : tuple of ndarray, optional
        Lower and upper bounds to report instead of the Wald interval (e.g. bootstrap
        intervals); a fixed row's bounds are its estimate.
    standardized : mapping, optional
        The ``std_lv`` and ``std_all`` columns.

    Returns
    -------
    DataFrame
        ``lhs, op, rhs, group, label, est, se, z, pvalue, ci_lower, ci_upper``
        (+ the standardized columns); the float columns its own copies.

    Examples
    --------
    >>> import numpy as np
    >>> ids = {k: np.array([v], dtype=object) for k, v in
    ...        zip(["lhs", "op", "rhs", "group", "label"], ["y", "~", "x", None, ""])}
    >>> t = estimates_table(ids, np.array([0.5]), np.array([0.25]), np.array([True]))
    >>> round(float(t["z"][0]), 2)
    2.0
    """
    names = ["est", "se", "z", "pvalue", "ci_lower", "ci_upper", *(standardized or ())]
    # the float columns are computed in place, in the one block the table then owns
    block = np.empty((len(names), est.size))
    block[0] = est
    block[1] = se
    z, pvalue, lower, upper = block[2], block[3], block[4], block[5]
    # (divided only where the row has a standard error: no warning to silence)
    z.fill(np.nan)
    np.divide(est, se, out=z, where=free & (se > _ZERO))
    # 2 Phi(-|z|), with -|z| as one copysign
    np.copysign(z, _MINUS_ONE, out=pvalue)
    np.multiply(special.ndtr(pvalue, out=pvalue), _TWO, out=pvalue)
    if interval is None:
        # (a fixed row has se 0: its bounds are its estimate)
        half = np.multiply(_critical_value(level), se, out=upper)
        np.subtract(est, half, out=lower)
        np.add(est, half, out=upper)
    else:
        lower[:], upper[:] = est, est
        np.copyto(lower, interval[0], where=free)
        np.copyto(upper, interval[1], where=free)
    for row, values in zip(block[6:], (standardized or {}).values(), strict=True):
        row[:] = values
    return frame(ids, (names, block), copy=False)


def implied_frames(
    groups: Iterable[tuple[str, Sequence[str], np.ndarray, np.ndarray]],
) -> dict[str, dict[str, pd.DataFrame | pd.Series]]:
    """``{label: {"cov": DataFrame, "mean": Series}}`` from per-group ``(label, names,
    covariance, mean)`` (the ``implied()`` of a result).

    Examples
    --------
    >>> import numpy as np
    >>> implied_frames([("", ["x"], np.eye(1), np.zeros(1))])[""]["cov"].loc["x", "x"]
    np.float64(1.0)
    """
    return {
        label: {
            "cov": pd.DataFrame(cov, index=names, columns=names),
            "mean": pd.Series(mean, index=names),
        }
        for label, names, cov, mean in groups
    }


class FittedRows:
    """What a fitted model's results share, whatever the estimator: group labels, cases,
    and the identifiers of the estimates rows (built once per fit).

    A subclass has ``partable`` (:class:`~semnet.partable.build.ParTable`) and
    ``moments`` (one :class:`~semnet.data.moments.GroupMoments` per group), and says with
    ``_reports_defined`` whether its tables list the ``:=`` rows.
    """

    partable: ParTable
    moments: tuple[GroupMoments, ...]
    #: whether the estimates tables end with the ``:=`` rows
    _reports_defined: bool = True

    @property
    def groups(self) -> list[str]:
        """Group labels (``[""]`` for a single-group model)."""
        return list(self.partable.groups)

    @property
    def nobs(self) -> dict[str, int]:
        """Cases used per group."""
        return {m.label: m.nobs for m in self.moments}

    @property
    def n_dropped(self) -> dict[str, int]:
        """Rows dropped by listwise deletion, per group."""
        return {m.label: m.n_dropped for m in self.moments}

    @cached_property
    def _row_columns(self) -> dict[str, np.ndarray]:
        """``lhs, op, rhs, group, label`` and the ``free`` flag of the estimates rows, as
        numpy columns (:func:`row_columns`)."""
        return row_columns(self.partable, self._reports_defined)

    @cached_property
    def _row_text(self) -> Any:
        """The text row identifiers as one pandas string array (:func:`row_text`)."""
        return row_text(self._row_columns, self.partable.ngroups)

    @property
    def _row_ids(self) -> dict[str, Any]:
        """The row identifiers as new pandas arrays for a result table (:func:`row_ids`:
        slices of the cached :attr:`_row_text`)."""
        return row_ids(self._row_columns, self.partable.ngroups, self._row_text)

    def _frame(self, **columns: np.ndarray) -> pd.DataFrame:
        """The row identifiers followed by ``columns``, as one DataFrame (its own
        columns: the cached identifiers are never shared with the caller)."""
        return frame({**self._row_ids, **columns}, copy=False)

    def _estimates_table(
        self,
        est: np.ndarray,
        se: np.ndarray,
        level: float,
        interval: tuple[np.ndarray, np.ndarray] | None = None,
        standardized: Mapping[str, np.ndarray] | None = None,
    ) -> pd.DataFrame:
        """:func:`estimates_table` over this result's rows."""
        return estimates_table(self._row_ids, est, se, self._row_columns["free"], level,
                               interval, standardized)
