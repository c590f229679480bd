"""Per-group sample moments: the only view of the data the ML engine needs.

Raw data are validated here (unknown, non-numeric, complex, constant, infinite,
overflowing or all-missing columns; a group column that is a model variable or whose
distinct values print alike; empty groups) and reduced to N-divisor covariances and
means, as lavaan does for normal-theory ML (``likelihood = "normal"``).  A sample
covariance matrix that is not positive definite stops the fit, as in lavaan, with a
message naming the group and the variables (:func:`check_sample_cov`).

Robust standard errors and tests (MLR, MLM) need more than means and covariances: the
casewise scores, or equivalently the moments of the data up to order four.  When the
rows themselves are not kept (out-of-core data, :mod:`semnet.moments`), a group carries
:class:`CrossProducts` instead: the average of ``w_i w_i'`` over cases, with
``w_i = (1, e_i, vech(e_i e_i'))`` and ``e_i = y_i - ȳ``.  Every robust quantity is a mean
over cases of a quadratic form in ``w_i`` and so follows from that one matrix exactly.
"""

from __future__ import annotations

import difflib
import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.linalg import lapack

from semnet._pandas import column_arrays
from semnet.errors import DataError


def vech_indices(p: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of ``vech`` (the column-wise lower triangle, lavaan's order)."""
    cols, rows = np.triu_indices(p)
    return rows, cols


def shift_matrix(delta: np.ndarray, fourth: bool) -> np.ndarray:
    """``L`` with ``w(c') = L w(c)``, where ``w(c) = (1, y - c, vech((y - c)(y - c)'))`` (the
    last block only with ``fourth``) and ``delta = c - c'``."""
    p = delta.size
    r, c = vech_indices(p)
    size = 1 + p + (r.size if fourth else 0)
    L = np.eye(size)
    L[1 : 1 + p, 0] = delta
    if fourth:
        rows = 1 + p + np.arange(r.size)
        L[rows, 0] = delta[r] * delta[c]
        np.add.at(L, (rows, 1 + r), delta[c])
        np.add.at(L, (rows, 1 + c), delta[r])
    return L


@dataclass(frozen=True)
class CrossProducts:
    """Moments up to order four of one group, about its sample mean.

    Attributes
    ----------
    matrix : ndarray
        ``(1/N) sum_i w_i w_i'`` with ``w_i = (1, e_i, vech(e_i e_i'))``, ``e_i = y_i - ȳ``
        (``vech`` in :func:`vech_indices` order); size ``1 + p + p(p+1)/2``.
    p : int
        Number of variables.
    """

    matrix: np.ndarray
    p: int

    def __post_init__(self) -> None:
        self.matrix.setflags(write=False)

    def select(self, index: np.ndarray) -> CrossProducts:
        """The cross-products of the variables ``index`` (in that order)."""
        index = np.asarray(index, dtype=int)
        r, c = vech_indices(index.size)
        a, b = index[r], index[c]
        pos = _vech_position(np.maximum(a, b), np.minimum(a, b), self.p)
        keep = np.concatenate([[0], 1 + index, 1 + self.p + pos])
        return CrossProducts(self.matrix[np.ix_(keep, keep)].copy(), int(index.size))

    def mean_outer(self, G: np.ndarray) -> np.ndarray:
        """``(1/N) sum_i (G w_i)(G w_i)'`` for a coefficient matrix ``G`` (k x size)."""
        out = G @ self.matrix @ G.T
        return (out + out.T) / 2

    def gamma(self, meanstructure: bool) -> np.ndarray:
        """Asymptotic covariance of (mean, vech(cov)), divisor N (lavaan's Gamma)."""
        start = 1 if meanstructure else 1 + self.p
        u = self.matrix[start:, start:]
        m = self.matrix[0, start:]
        out = u - np.outer(m, m)
        return (out + out.T) / 2


def _vech_position(row: np.ndarray, col: np.ndarray, p: int) -> np.ndarray:
    """Position of element (row, col), row >= col, in :func:`vech_indices` order."""
    return col * p - col * (col - 1) // 2 + (row - col)


@dataclass(frozen=True)
class GroupMoments:
    """Sample statistics of one group.

    Attributes
    ----------
    label : str
        Group label (``""`` for a single-group model).
    names : tuple of str
        Observed variables, in model order.
    cov : ndarray
        Covariance matrix with divisor N (lavaan's convention for ML).
    mean : ndarray
        Sample means.
    nobs : int
        Number of cases used.
    n_dropped : int
        Rows dropped by listwise deletion.
    data : ndarray, optional
        The complete cases (N x p), kept for robust standard errors and tests; ``None``
        when only summary statistics were given.
    cross : CrossProducts, optional
        Moments up to order four, standing in for ``data`` in robust standard errors and
        tests when the rows are not kept (:func:`semnet.moments.from_dask`).
    weights : ndarray, optional
        Sampling weights of the cases in ``data`` (normalised as lavaan's
        ``sampling.weights.normalization``); ``cov`` and ``mean`` are then weighted.
    clusters : ndarray, optional
        Each case's cluster (integer codes), for cluster-robust standard errors and tests.
    gamma : ndarray, optional
        The asymptotic covariance (divisor N) of ``(mean, vech(cov))`` when it is given
        rather than computed from the cases (a survey design's, :mod:`semnet.data.survey`).
    """

    label: str
    names: tuple[str, ...]
    cov: np.ndarray
    mean: np.ndarray
    nobs: int
    n_dropped: int = 0
    data: np.ndarray | None = field(default=None, repr=False)
    cross: CrossProducts | None = field(default=None, repr=False)
    weights: np.ndarray | None = field(default=None, repr=False)
    clusters: np.ndarray | None = field(default=None, repr=False)
    gamma: np.ndarray | None = field(default=None, repr=False)
    logdet: float = field(init=False)

    def __post_init__(self) -> None:
        logdet = check_sample_cov(self.cov, self.names, self.label, self.nobs, self.data)
        object.__setattr__(self, "logdet", logdet)
        self.cov.setflags(write=False)
        self.mean.setflags(write=False)

    @property
    def size(self) -> float:
        """The group's weight in the likelihood: the sum of its sampling weights, or
        the number of cases (lavaan's ``nobs`` of the sample statistics)."""
        return self.nobs if self.weights is None else float(self.weights.sum())


def data_fingerprint(moments: Sequence[GroupMoments]) -> str:
    """SHA-256 of each group's label and rows (a fit's ``meta["data_sha256"]`` for raw
    data).

    The rows' bytes are hashed in place (no copy), as the concatenation of label and rows.
    """
    digest = hashlib.sha256()
    for m in moments:
        digest.update(m.label.encode())
        digest.update(np.ascontiguousarray(m.data))
    return digest.hexdigest()


#: a variable whose share of variance not explained by the variables before it (the
#: squared pivot of the Cholesky factor of the correlation matrix, ``1 - R^2``) is below
#: this is taken as an exact linear combination of them: rounding leaves ``1 - R^2`` near
#: 1e-15 for an exactly dependent column, while data measured with any noise give far more
SINGULAR_TOLERANCE = 1e-12


def check_sample_cov(
    cov: np.ndarray,
    names: Sequence[str],
    label: str = "",
    nobs: int | None = None,
    data: np.ndarray | None = None,
) -> float:
    """Check that a group's sample covariance matrix is positive definite; return its
    log-determinant.

    lavaan stops with "sample covariance matrix is not positive-definite" when its
    Cholesky factor fails; semnet stops there too, and also when a variable is a linear
    combination of the others up to rounding (``1 - R^2 <`` :data:`SINGULAR_TOLERANCE`
    on the correlation scale), where the factor may succeed by chance.  The message names
    the group and the variables involved: zero or negative variances, identical or
    perfectly correlated columns, or the linearly dependent set.

    Parameters
    ----------
    cov : ndarray
        The p x p sample covariance matrix.
    names : sequence of str
        The variables, in the order of ``cov``.
    label : str
        The group label (``""`` for a single group).
    nobs : int, optional
        The number of cases (named in the message when it is too small).
    data : ndarray, optional
        The cases (N x p), used only to tell identical columns apart in the message.

    Returns
    -------
    float
        ``log det(cov)``.

    Raises
    ------
    DataError
        If ``cov`` is not finite or not positive definite.

    Examples
    --------
    >>> import numpy as np
    >>> round(check_sample_cov(np.array([[2.0, 0.5], [0.5, 1.0]]), ["a", "b"]), 4)
    0.5596
    >>> check_sample_cov(np.ones((2, 2)), ["a", "b"], "g1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    semnet.errors.DataError: the sample covariance matrix in group 'g1' is singular ...
    """
    factor, info = lapack.dpotrf(cov, lower=1, clean=0)
    if info == 0:
        pivots = factor.diagonal().tolist()
        # a squared pivot over the variance is that variable's 1 - R^2 on the ones before it
        # (the squared pivot of the correlation matrix's Cholesky factor); NaN fails the test
        if all(
            q * q >= SINGULAR_TOLERANCE * v
            for q, v in zip(pivots, cov.diagonal().tolist(), strict=True)
        ):
            logdet = 2.0 * math.fsum(map(math.log, pivots))
            if math.isfinite(logdet):
                return logdet
    raise DataError(_singular_message(cov, tuple(names), label, nobs, data))


def _singular_message(
    cov: np.ndarray,
    names: tuple[str, ...],
    label: str,
    nobs: int | None,
    data: np.ndarray | None,
) -> str:
    """Why ``cov`` is not positive definite, naming the variables."""
    where = f" in group {label!r}" if label else ""
    head = f"the sample covariance matrix{where}"
    var = cov.diagonal()
    bad = [n for n, v in zip(names, var.tolist(), strict=True) if not math.isfinite(v)]
    if bad or not np.isfinite(cov).all():
        bad = bad or [names[i] for i in np.flatnonzero(~np.isfinite(cov).all(axis=0))]
        return (
            f"{head} has missing or infinite entries (variables {', '.join(bad)}); check "
            "those columns for values too large to square in floating point, or pass a "
            "complete covariance matrix."
        )
    for sign, word in ((var == 0, "zero"), (var < 0, "negative")):
        if sign.any():
            listed = ", ".join(n for n, s in zip(names, sign.tolist(), strict=True) if s)
            return (
                f"{head} is not positive definite: variable(s) {listed} have {word} "
                "variance. Drop them from the model"
                + (" or pass a valid covariance matrix." if word == "negative" else ".")
            )
    sd = np.sqrt(var)
    corr = cov / np.outer(sd, sd)
    eig, vec = np.linalg.eigh((corr + corr.T) / 2)
    weights = np.abs(vec[:, 0])
    order = [int(i) for i in np.argsort(-weights) if weights[i] > 0.1]
    involved = [names[i] for i in order]
    if nobs is not None and nobs <= len(names):
        fix = (
            f" There are {nobs} cases for {len(names)} variables: the matrix needs more "
            "cases than variables."
        )
    else:
        fix = " Drop one of them from the model."
    if len(order) == 2:
        i, j = sorted(order)
        if data is not None and np.array_equal(data[:, i], data[:, j]):
            what = "are identical columns"
        else:
            what = f"are identical or perfectly correlated (r = {corr[i, j]:.6g})"
        return f"{head} is singular (not positive definite): {names[i]} and {names[j]} {what}.{fix}"
    return (
        f"{head} is singular (not positive definite): the variables {', '.join(involved)} "
        f"are linearly dependent (smallest eigenvalue of their correlation matrix "
        f"{eig[0]:.3g}); one is a weighted sum of the others, as a total score is of its "
        f"items.{fix}"
    )


@dataclass(frozen=True)
class NumericData:
    """The model's columns of a data frame as one float matrix, checked.

    Attributes
    ----------
    values : ndarray
        Cases x variables (NaN = missing), read-only.
    names : tuple of str
        The variables, in model order.
    groups : ndarray or None
        Each row's group label as a string (None without groups).
    index : Index
        The rows' labels in the caller's frame.
    """

    values: np.ndarray
    names: tuple[str, ...]
    groups: np.ndarray | None
    index: pd.Index


def check_group_column(data: pd.DataFrame, group: str) -> None:
    """Raise :class:`DataError` unless ``group`` is a column of ``data`` (suggesting the
    nearest name)."""
    if group in data.columns:
        return
    close = difflib.get_close_matches(str(group), [str(c) for c in data.columns], n=1)
    raise DataError(
        f"the group column {group!r} is not a column of the data"
        + (f" (did you mean {close[0]!r}?)" if close else "")
        + f"; the data has {', '.join(map(str, list(data.columns)[:20]))}"
        + (" ..." if data.shape[1] > 20 else "")
        + ". Pass group= the name of the column that holds the group labels."
    )


def numeric_data(data: object, names: Sequence[str], group: str | None) -> NumericData:
    """Check that ``data`` holds usable numeric columns ``names``; return them as a float
    matrix (the caller's DataFrame is never modified)."""
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"data must be a pandas DataFrame, not {type(data).__name__}; "
            "wrap arrays with pandas.DataFrame(array, columns=[...])."
        )
    n_rows = len(data.index)
    if n_rows == 0:
        raise DataError("data has no rows; pass a DataFrame with at least one case per group.")
    columns = data.columns
    if group is not None and group not in columns:
        check_group_column(data, group)
    if group is not None and group in names:
        raise DataError(
            f"the group column {group!r} is a variable of the model; a grouping column "
            "splits the cases and cannot also be modelled. Pass as group= the column that "
            f"holds the group labels, or remove {group!r} from the model."
        )
    unique = columns.is_unique
    if not unique:
        used = [*names, *([group] if group is not None else [])]
        duplicated = sorted(
            {str(c) for c in data.columns[data.columns.duplicated()] if c in used}
        )
        if duplicated:
            raise DataError(
                f"the data has several columns named {', '.join(map(repr, duplicated))}; "
                "rename or drop the duplicates so that each model variable is one column."
            )
    # the stored columns, where pandas' internals give them: found by label, every name
    # is a column (a missing one gives None), so the check below runs only without them
    stored = column_arrays(data, names) if unique else None
    missing = [] if stored is not None else [n for n in names if n not in columns]
    if missing:
        hints = []
        for n in missing:
            close = difflib.get_close_matches(n, [str(c) for c in data.columns], n=1)
            hints.append(f"{n!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise DataError(
            f"variable(s) {', '.join(hints)} used in the model are not columns of the data; "
            f"the data has {', '.join(map(str, list(data.columns)[:20]))}"
            + (" ..." if data.shape[1] > 20 else "")
            + ". Fix the spelling in the model or add the column."
        )
    values = _numeric_columns(data, names, n_rows, stored)
    # a finite sum of squares has no NaN, no infinite term and no square that overflows
    # (np.vdot, unlike np.dot, does not warn where it overflows: no np.errstate needed)
    squares = np.vdot(values, values)
    if not math.isfinite(squares):
        _check_finite(values, names, data.index)
    values.setflags(write=False)
    groups = None if group is None else _group_text(data, group)
    return NumericData(values, tuple(names), groups, data.index)


def _group_text(data: pd.DataFrame, group: str) -> np.ndarray:
    """``data[group].astype(str).to_numpy()``: a column of pandas' ``str`` dtype (text,
    NaN for missing) is already text, so its stored array gives the same object array
    without a Series and a cast (about 50 us under pandas 3)."""
    stored = column_arrays(data, [group]) if data.columns.is_unique else None
    dtype = getattr(stored[0], "dtype", None) if stored is not None else None
    if isinstance(dtype, pd.StringDtype) and dtype.na_value is not pd.NA:
        return np.asarray(stored[0].to_numpy(), dtype=object)
    return data[group].astype(str).to_numpy()


def _check_finite(values: np.ndarray, names: Sequence[str], index: pd.Index) -> None:
    """Raise :class:`DataError` for a column with an infinite value, with no observed
    value, or whose sum of squares overflows (values beyond about 1e150), naming the
    column and the first offending row."""
    infinite = np.isinf(values)
    if infinite.any():
        k = int(np.argmax(infinite.any(axis=0)))
        row = index[int(np.argmax(infinite[:, k]))]
        raise DataError(
            f"column {names[k]!r} contains infinite values ({values[infinite[:, k], k][0]:g} "
            f"in row {row!r}); replace them with NaN (missing) or finite numbers."
        )
    empty = np.isnan(values).all(axis=0)
    if empty.any():
        n = names[int(np.argmax(empty))]
        raise DataError(f"column {n!r} is missing for every case; drop it from the model.")
    # the largest absolute value of each column (NaN ignored; no copy of the data): a
    # column's sum of squares can overflow only where n times its square does
    peak = np.maximum(np.fmax.reduce(values, axis=0), -np.fmin.reduce(values, axis=0))
    with np.errstate(over="ignore"):
        risky = np.flatnonzero(~np.isfinite(peak * peak * values.shape[0]))
    for k in risky.tolist():
        column = values[:, k]
        with np.errstate(over="ignore"):
            squares = np.nansum(column * column)
        if not math.isfinite(squares):
            i = int(np.nanargmax(np.abs(column)))
            raise DataError(
                f"column {names[k]!r} has values too large to compute with ({column[i]:g} in "
                f"row {index[i]!r}): their squares overflow double precision. Rescale the "
                f"column (e.g. divide it by a power of 10) or correct the value."
            )


def _numeric_columns(
    data: pd.DataFrame, names: Sequence[str], n_rows: int, stored: list | None = None
) -> np.ndarray:
    """The columns ``names`` of ``data`` as a cases x variables float matrix (NaN for
    missing values), column by column (numpy columns read from the frame's storage,
    ``stored`` (:func:`~semnet._pandas.column_arrays`) where the caller has them, others
    through their Series); raises :class:`DataError` for a column that is not numeric."""
    values = np.empty((n_rows, len(names)))
    by_column = values.T  # (a view: its row k is column k of values)
    for k, n in enumerate(names):
        if stored is not None and isinstance(stored[k], np.ndarray) and (
            stored[k].dtype.kind in "biuf"
        ):
            by_column[k] = stored[k]  # numpy numbers: no Series needed
            continue
        col = data[n]
        dtype = col.dtype
        if dtype.kind == "c":
            raise DataError(
                f"column {n!r} holds complex numbers (dtype {dtype}); semnet fits real "
                f"data only. Pass the part you mean to model, e.g. data[{n!r}].to_numpy().real."
            )
        if not (
            dtype.kind in "biuf"
            or pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_bool_dtype(dtype)
            or _object_of_numbers(col)
        ):
            sample = col.dropna().astype(str).unique()[:3]
            if isinstance(dtype, pd.CategoricalDtype):
                raise DataError(
                    f"column {n!r} is an unordered Categorical (values such as "
                    f"{', '.join(map(repr, sample))}); recode it to numbers with "
                    f"data[{n!r}].cat.codes, or make it ordered (.cat.as_ordered()) to "
                    "treat it as an ordinal item."
                )
            raise DataError(
                f"column {n!r} is not numeric (dtype {dtype}, values such as "
                f"{', '.join(map(repr, sample))}); recode it to numbers, e.g. "
                f"data[{n!r}].map({{...}}), or pd.to_numeric(..., errors='coerce')."
            )
        by_column[k] = col.to_numpy(dtype=float, na_value=np.nan)
    return values


def _object_of_numbers(col: pd.Series) -> bool:
    """An object column whose values are all numbers (Python or numpy ints and floats,
    ``None``/NaN for missing), as ``df.astype(object)`` leaves them: numeric data, not
    text."""
    return col.dtype == object and pd.api.types.infer_dtype(col, skipna=True) in (
        "integer", "floating", "mixed-integer-float", "empty"
    )


def validate_frame(data: object, names: Sequence[str], group: str | None) -> pd.DataFrame:
    """Check that ``data`` holds usable numeric columns ``names`` and return a float copy
    (with the group column, when given).

    The caller's DataFrame is never modified.
    """
    checked = numeric_data(data, names, group)
    frame = pd.DataFrame(checked.values.copy(), index=checked.index, columns=list(names))
    if group is not None:
        frame[group] = data[group].to_numpy()
    return frame


def group_labels(data: pd.DataFrame, group: str) -> list[str]:
    """Group labels in order of first appearance (lavaan's order), as strings."""
    stored = column_arrays(data, [group]) if data.columns.is_unique else None
    # the stored array where pandas gives it (the same distinct values, without a Series)
    labels = pd.unique(data[group] if stored is None else stored[0])
    # a missing value is among the distinct values exactly when the column has one
    if pd.isna(labels).any():
        raise DataError(
            f"the group column {group!r} has {int(data[group].isna().sum())} missing values; "
            "drop those rows or give them a group."
        )
    text = label_text(labels, group)
    if isinstance(labels, np.ndarray) and labels.dtype.kind == "O":
        _check_equal_values_print_alike(data[group], labels, text, group)
    return text


def _check_equal_values_print_alike(
    column: pd.Series, labels: Sequence[object], text: list[str], group: str
) -> None:
    """Rows are put in their group by their text: a value equal to a distinct value but
    printed otherwise (``1`` beside ``1.0`` in an object column) would belong to no
    group and be lost silently, so it is a :class:`DataError`."""
    shown = column.astype(str)
    odd = ~shown.isin(text)
    if odd.any():
        value = column[odd].iloc[0]
        other = next(v for v in labels if v == value)
        raise DataError(
            f"the group column {group!r} holds the values {other!r} "
            f"({type(other).__name__}) and {value!r} ({type(value).__name__}), which are "
            f"equal but print differently, so the group of the rows holding {value!r} would "
            f"be unclear. Recode the column to one type, e.g. data[{group!r}].astype(float) "
            f"to merge them, or data[{group!r}].astype(str) to keep them apart."
        )


def label_text(values: Sequence[object], group: str) -> list[str]:
    """Distinct group values as the text labels semnet uses (lavaan's labels).

    Two distinct values that print alike, such as ``1`` and ``"1"``, would become one
    label and their groups could not be told apart: that is a :class:`DataError`.

    Parameters
    ----------
    values : sequence
        The distinct values of the group column.
    group : str
        The column's name (for the message).

    Returns
    -------
    list of str
        ``str(v)`` of each value, in order.

    Examples
    --------
    >>> label_text([1, "a"], "g")
    ['1', 'a']
    >>> label_text([1, "1"], "g")
    Traceback (most recent call last):
    ...
    semnet.errors.DataError: the group column 'g' holds the distinct values 1 (int) and \
'1' (str), which both print as '1', so their groups could not be told apart. Recode the \
column to one type, e.g. data['g'].astype(str) to merge them, or give them different labels.
    """
    text = [str(v) for v in values]
    if len(set(text)) < len(text):
        first: dict[str, object] = {}
        for value, shown in zip(values, text, strict=True):
            if shown in first:
                other = first[shown]
                raise DataError(
                    f"the group column {group!r} holds the distinct values {other!r} "
                    f"({type(other).__name__}) and {value!r} ({type(value).__name__}), "
                    f"which both print as {shown!r}, so their groups could not be told "
                    f"apart. Recode the column to one type, e.g. data[{group!r}].astype(str) "
                    "to merge them, or give them different labels."
                )
            first[shown] = value
    return text


def moments_from_frame(
    frame: pd.DataFrame, names: Sequence[str], group: str | None, labels: Sequence[str]
) -> list[GroupMoments]:
    """Listwise-complete N-divisor moments per group of a validated frame."""
    groups = None if group is None else frame[group].astype(str).to_numpy()
    x = np.ascontiguousarray(frame[list(names)].to_numpy(dtype=float))
    return moments_from_data(NumericData(x, tuple(names), groups, frame.index), labels)


def moments_from_data(data: NumericData, labels: Sequence[str]) -> list[GroupMoments]:
    """Listwise-complete N-divisor moments per group."""
    names = data.names
    result = []
    for label in labels:
        x = data.values if data.groups is None else data.values[data.groups == label]
        # the column sums (those of x.mean(axis=0)): all finite, no value is missing
        work = np.empty_like(x)
        sums = column_sums(x, work)
        n_dropped = 0
        if not all(map(math.isfinite, sums.tolist())):
            complete = ~np.isnan(x).any(axis=1)
            n_dropped = int(x.shape[0] - complete.sum())
            if n_dropped:
                x = x[complete]
                work = np.empty_like(x)
                sums = column_sums(x, work)
        n = x.shape[0]
        where = f" in group {label!r}" if label else ""
        if n <= len(names):
            raise DataError(
                f"only {n} complete case(s){where} ({n_dropped} dropped for missing values) "
                f"for {len(names)} observed variables; the sample covariance matrix needs more "
                "cases than variables. Merge small groups, drop the group, or use fewer "
                "variables."
            )
        # x.mean(axis=0) without np.mean's Python layer (the same sum and division)
        mean = sums / n
        centered = np.subtract(x, mean, out=work)
        # exactly symmetric: numpy computes the product of a matrix and its own transpose
        # by one triangle (BLAS syrk) and copies it to the other (or, without BLAS, adds
        # the same products in the same order for both)
        cov = centered.T @ centered
        cov /= n
        diagonal = cov.diagonal().tolist()
        if 0.0 in diagonal:
            constant = [names[i] for i, v in enumerate(diagonal) if v == 0]
            raise DataError(
                f"variable(s) {', '.join(constant)} are constant{where} "
                f"(value {x[0, names.index(constant[0])]:g}); drop them from the model."
            )
        if x.flags.writeable:
            x.setflags(write=False)
        result.append(GroupMoments(label, tuple(names), cov, mean, n, n_dropped, x))
    return result


def column_sums(x: np.ndarray, work: np.ndarray) -> np.ndarray:
    """``np.add.reduce(x, axis=0)`` to the last bit, faster where the columns are not
    contiguous (``work``: an array of ``x``'s shape the sums may be written into).

    numpy adds a column's values in row order when they are not contiguous in memory (a
    C-ordered array of several columns): the running sums of ``np.add.accumulate`` end
    in the same numbers, in half the time (one pass per column instead of one short
    pass per row).  Contiguous columns it sums pairwise: ``reduce`` then.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(500, 3))
    >>> bool((column_sums(x, np.empty_like(x)) == np.add.reduce(x, axis=0)).all())
    True
    """
    if x.ndim == 2 and x.shape[0] and x.shape[1] > 1 and x.flags.c_contiguous:
        return np.add.accumulate(x, axis=0, out=work)[-1]
    return np.add.reduce(x, axis=0)


def moments_from_stats(
    sample_cov: object,
    sample_mean: object,
    sample_nobs: object,
    names: Sequence[str],
    labels: Sequence[str] | None,
) -> list[GroupMoments]:
    """Moments given as summary statistics.

    ``sample_cov`` is an unbiased (N-1 divisor) covariance matrix, as R's ``cov()``;
    like lavaan (``sample.cov.rescale = TRUE``) it is rescaled by (N-1)/N.  With several
    groups each argument is a dict keyed by group label.
    """
    if isinstance(sample_cov, Mapping):
        labels = list(labels) if labels is not None else [str(k) for k in sample_cov]
        if not isinstance(sample_nobs, Mapping):
            raise DataError("with sample_cov given per group, sample_nobs must be a dict too.")
        covs = [sample_cov[k] for k in _keys(sample_cov, labels)]
        nobs = [sample_nobs[k] for k in _keys(sample_nobs, labels)]
        if sample_mean is None:
            means = [None] * len(labels)
        elif isinstance(sample_mean, Mapping):
            means = [sample_mean[k] for k in _keys(sample_mean, labels)]
        else:
            raise DataError("with sample_cov given per group, sample_mean must be a dict too.")
    else:
        labels = [""]
        covs, means, nobs = [sample_cov], [sample_mean], [sample_nobs]
    result = []
    for label, cov, mean, n in zip(labels, covs, means, nobs, strict=True):
        where = f" for group {label!r}" if label else ""
        if n is None:
            raise DataError(f"sample_nobs{where} is required with sample_cov.")
        n = _as_nobs(n, where)
        c = _as_matrix(cov, names, where)
        if not np.isfinite(c).all():
            raise DataError(
                f"sample_cov{where} contains missing or infinite entries; pass a complete "
                "covariance matrix."
            )
        scale = max(1.0, float(np.max(np.abs(c))))
        if np.max(np.abs(c - c.T)) > 1e-8 * scale:
            i, j = np.unravel_index(np.argmax(np.abs(c - c.T)), c.shape)
            raise DataError(
                f"sample_cov{where} is not symmetric (entry [{names[i]}, {names[j]}] is "
                f"{c[i, j]:g} but [{names[j]}, {names[i]}] is {c[j, i]:g}); pass a "
                "covariance matrix."
            )
        c = c * (n - 1) / n
        c = (c + c.T) / 2
        if mean is None:
            m = np.zeros(len(names))
        elif isinstance(mean, pd.Series):
            _check_names(list(mean.index), names, "sample_mean")
            m = _as_floats(mean[list(names)], "sample_mean", where)
        else:
            m = _as_floats(mean, "sample_mean", where).reshape(-1)
            if m.size != len(names):
                raise DataError(
                    f"sample_mean{where} has {m.size} entries; the model has {len(names)} "
                    f"observed variables ({', '.join(names)}). Pass a Series indexed by "
                    "variable name."
                )
        if not np.isfinite(m).all():
            raise DataError(
                f"sample_mean{where} contains missing or infinite entries; pass a complete "
                "mean vector."
            )
        result.append(GroupMoments(label, tuple(names), c, m.copy(), n))
    return result


def _as_nobs(n: object, where: str) -> int:
    """sample_nobs as an int: a whole number of at least 2 (the N-1 rescaling needs it)."""
    try:
        value = float(n)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = np.nan
    if not np.isfinite(value) or value != int(value) or value < 2:
        raise DataError(
            f"sample_nobs{where} must be a whole number of cases of at least 2, not {n!r}."
        )
    return int(value)


def _keys(mapping: Mapping, labels: Sequence[str]) -> list:
    by_str: dict[str, object] = {}
    for k in mapping:
        if str(k) in by_str:
            other = by_str[str(k)]
            raise DataError(
                f"the group keys {other!r} ({type(other).__name__}) and {k!r} "
                f"({type(k).__name__}) both print as {str(k)!r}, so their groups could not "
                "be told apart; key the sample statistics by distinct labels."
            )
        by_str[str(k)] = k
    missing = [lab for lab in labels if lab not in by_str]
    if missing:
        raise DataError(f"no sample statistics for group(s) {', '.join(missing)}.")
    return [by_str[lab] for lab in labels]


def _check_names(have: list, names: Sequence[str], what: str) -> None:
    missing = [n for n in names if n not in have]
    if missing:
        raise DataError(
            f"variable(s) {', '.join(missing)} used in the model are not in {what} "
            f"(it has {', '.join(map(str, have))})."
        )


def _as_floats(value: object, what: str, where: str) -> np.ndarray:
    """``value`` (array-like, Series or DataFrame) as a new float array; raises
    :class:`DataError` for text, complex or other non-numeric entries."""
    kind = "a matrix" if what == "sample_cov" else "a vector"
    if isinstance(value, (str, bytes)):
        raise DataError(
            f"{what}{where} must be {kind} of numbers (a pandas object or a numpy array), "
            f"not the string {value!r}."
        )
    try:
        arr = value.to_numpy() if isinstance(value, (pd.DataFrame, pd.Series)) else (
            np.asarray(value)
        )
        if arr.dtype.kind == "c":
            raise DataError(
                f"{what}{where} holds complex numbers; pass real numbers (e.g. its .real "
                "part, if the imaginary part is zero)."
            )
        return np.array(arr, dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(
            f"{what}{where} must be {kind} of numbers (a pandas object or a numpy array), "
            f"not {type(value).__name__} ({exc})."
        ) from None


def _as_matrix(cov: object, names: Sequence[str], where: str = "") -> np.ndarray:
    if isinstance(cov, pd.DataFrame):
        _check_names(list(cov.columns), names, "sample_cov")
        _check_names(list(cov.index), names, "the rows of sample_cov")
        return _as_floats(cov.loc[list(names), list(names)], "sample_cov", where)
    arr = _as_floats(cov, "sample_cov", where)
    if arr.shape != (len(names), len(names)):
        raise DataError(
            f"sample_cov{where} has shape {arr.shape}; expected {len(names)}x{len(names)} for "
            f"the model variables {', '.join(names)} (pass a DataFrame with named rows/columns "
            "to select variables by name)."
        )
    return arr
