"""Sample moments computed without holding the data: per-group N, means, covariances and,
for MLR/MLM, the fourth-order moments, from a pandas or a Dask DataFrame.

:func:`from_dask` makes one pass over a Dask DataFrame (for instance a Parquet data set
larger than memory): every partition is reduced to per-group counts, its own mean and
the sums of cross-products of ``w_i = (1, e_i[, vech(e_i e_i')])`` with ``e_i`` the
deviations from that partition mean; partial results are merged in a tree by shifting
each to the common mean, which is exact (a linear map of ``w``, see
:func:`semnet.data.moments.shift_matrix`) and numerically stable.  No rows leave their
partition.  :func:`from_frame` does the same for an in-memory DataFrame.

The result, a :class:`SampleMoments`, is accepted by :func:`semnet.sem` and
:func:`semnet.cfa` in place of the data::

    mom = semnet.moments.from_dask(ddf, group="country", fourth=True)
    fit = semnet.cfa(model, mom, estimator="MLR")

Covariances have divisor N, as lavaan's for ML.  Rows with a missing value on any of the
``columns`` are dropped (listwise) and counted per group; the estimates then equal a fit
of the complete rows in memory.  With ``fourth=True`` the robust estimators ``"MLR"``, ``"MLM"``
and ``"MLMV"`` give the same standard errors and scaled tests as from raw data, since every
robust quantity is an average over cases of a quadratic form in ``w_i``.  Bootstrap,
FIML and models with product terms need the rows and are not available from moments.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from semnet.data.moments import CrossProducts, GroupMoments, label_text, shift_matrix, vech_indices
from semnet.errors import DataError, OptionError

__all__ = ["SampleMoments", "from_dask", "from_frame"]

#: largest cross-product matrix (bytes) that ``fourth=True`` will build per group
MAX_CROSS_BYTES = 2**31
#: cells of the row block formed at once inside a partition
_BLOCK_CELLS = 2**22


@dataclass(frozen=True)
class _Block:
    """One group's partial sums: ``n`` complete rows about ``center``."""

    n: int
    dropped: int
    center: np.ndarray
    sums: np.ndarray  # sum of w w' about center


@dataclass(frozen=True)
class _Partial:
    """Partial result of some partitions: group label -> block, labels in first-appearance
    order, plus rows with no group and the count of infinite cells."""

    blocks: dict[str, _Block]
    no_group: int
    infinite: int
    fourth: bool


@dataclass(frozen=True, repr=False)
class SampleMoments:
    """Per-group sample moments (divisor N), usable as the data of :func:`semnet.sem`.

    Attributes
    ----------
    names : tuple of str
        The variables, in column order.
    group : str or None
        The group column the moments were split by.
    groups : tuple of str
        Group labels in order of first appearance (``("",)`` without groups).
    fourth : bool
        Whether fourth-order moments (for MLR and MLM) are included.
    """

    names: tuple[str, ...]
    group: str | None
    groups: tuple[str, ...]
    fourth: bool
    _blocks: tuple[_Block, ...]

    @property
    def nobs(self) -> dict[str, int]:
        """Complete cases per group."""
        return {g: b.n for g, b in zip(self.groups, self._blocks, strict=True)}

    @property
    def n_dropped(self) -> dict[str, int]:
        """Rows dropped per group for a missing value (listwise deletion)."""
        return {g: b.dropped for g, b in zip(self.groups, self._blocks, strict=True)}

    @property
    def mean(self) -> dict[str, pd.Series]:
        """Sample means per group."""
        return {g: pd.Series(b.center, index=list(self.names), name="mean")
                for g, b in zip(self.groups, self._blocks, strict=True)}

    @property
    def cov(self) -> dict[str, pd.DataFrame]:
        """Covariance matrices (divisor N) per group."""
        return {g: pd.DataFrame(self._cov(b), index=list(self.names), columns=list(self.names))
                for g, b in zip(self.groups, self._blocks, strict=True)}

    def _cov(self, b: _Block) -> np.ndarray:
        p = len(self.names)
        c = b.sums[1 : 1 + p, 1 : 1 + p] / b.n
        return (c + c.T) / 2

    def gamma(self, group: str | None = None, meanstructure: bool = True) -> np.ndarray:
        """lavaan's Gamma (asymptotic covariance of means and ``vech`` of the covariances,
        divisor N) of one group; needs ``fourth=True``."""
        if not self.fourth:
            raise OptionError("gamma needs fourth-order moments; compute with fourth=True.")
        b = self._block(group)
        return CrossProducts(b.sums / b.n, len(self.names)).gamma(meanstructure)

    def _block(self, group: str | None) -> _Block:
        if group is None:
            if len(self.groups) > 1:
                raise OptionError(f"name a group: one of {', '.join(self.groups)}.")
            return self._blocks[0]
        if str(group) not in self.groups:
            raise OptionError(f"no group {group!r}; the groups are {', '.join(self.groups)}.")
        return self._blocks[self.groups.index(str(group))]

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the moments (recorded in a fit's metadata)."""
        digest = hashlib.sha256()
        for g, b in zip(self.groups, self._blocks, strict=True):
            digest.update(g.encode() + np.ascontiguousarray(b.sums).tobytes())
        return digest.hexdigest()

    def group_moments(self, names: Sequence[str]) -> list[GroupMoments]:
        """The moments of the variables ``names`` (a model's observed variables) per group,
        as the estimation code takes them."""
        missing = [n for n in names if n not in self.names]
        if missing:
            raise DataError(
                f"variable(s) {', '.join(map(repr, missing))} used in the model are not in "
                f"the sample moments (they hold {', '.join(self.names)}); recompute them "
                "with these columns."
            )
        index = np.array([self.names.index(n) for n in names], dtype=int)
        p = len(self.names)
        out = []
        for label, b in zip(self.groups, self._blocks, strict=True):
            where = f" in group {label!r}" if label else ""
            if b.n <= len(names):
                raise DataError(
                    f"only {b.n} complete case(s){where} ({b.dropped} dropped for missing "
                    f"values) for {len(names)} observed variables; the sample covariance "
                    "matrix needs more cases than variables."
                )
            full = CrossProducts(b.sums / b.n, p) if self.fourth else None
            keep = np.concatenate([[0], 1 + index])
            sub = b.sums[np.ix_(keep, keep)] / b.n
            cov = sub[1:, 1:]
            cov = (cov + cov.T) / 2
            constant = [names[i] for i in np.flatnonzero(np.diag(cov) == 0)]
            if constant:
                raise DataError(f"variable(s) {', '.join(constant)} are constant{where}; "
                                "drop them from the model.")
            out.append(GroupMoments(
                label, tuple(names), cov, b.center[index].copy(), b.n, b.dropped,
                cross=None if full is None else full.select(index),
            ))  # fmt: skip
        return out

    def __repr__(self) -> str:
        sizes = ", ".join(f"{g}: {b.n}" if g else str(b.n)
                          for g, b in zip(self.groups, self._blocks, strict=True))
        dropped = sum(b.dropped for b in self._blocks)
        return (f"<semnet.SampleMoments {len(self.names)} variables, N = {sizes}"
                + (f", {dropped} rows dropped" if dropped else "")
                + (", fourth-order moments" if self.fourth else "") + ">")


# ------------------------------------------------------------------------ public builders
def from_frame(
    data: pd.DataFrame,
    group: str | None = None,
    columns: Sequence[str] | None = None,
    fourth: bool = False,
) -> SampleMoments:
    """Sample moments of an in-memory DataFrame (the same result as :func:`from_dask`).

    Parameters
    ----------
    data : DataFrame
        The data; never modified.
    group : str, optional
        Column whose values define groups (labels in order of first appearance).
    columns : sequence of str, optional
        Variables to summarise; default every numeric column except ``group``.
    fourth : bool
        Also compute the fourth-order moments that ``estimator="MLR"``/``"MLM"`` need.

    Returns
    -------
    SampleMoments

    Examples
    --------
    >>> import semnet
    >>> data = semnet.datasets.holzinger_swineford()
    >>> mom = semnet.moments.from_frame(data, group="school", columns=["x1", "x2", "x3"])
    >>> mom.nobs
    {'Pasteur': 156, 'Grant-White': 145}
    >>> fit = semnet.cfa("f =~ x1 + x2 + x3", mom)
    >>> fit.groups
    ['Pasteur', 'Grant-White']
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame, not {type(data).__name__}; "
                        "for a Dask DataFrame use semnet.moments.from_dask.")
    names = _columns(data.columns, data.dtypes, group, columns)
    _check_size(names, bool(fourth))
    part = _partition_sums(data, names, group, bool(fourth))
    return _finish(part, names, group, bool(fourth))


def from_dask(
    ddf: Any,
    group: str | None = None,
    columns: Sequence[str] | None = None,
    fourth: bool = False,
    split_every: int = 8,
) -> SampleMoments:
    """Sample moments of a Dask DataFrame in one pass, without loading its rows.

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        The data, e.g. ``dask.dataframe.read_parquet(path)``.
    group : str, optional
        Column whose values define groups (labels in order of first appearance).
    columns : sequence of str, optional
        Variables to summarise; default every numeric column except ``group``.  Only
        these (and ``group``) are read.
    fourth : bool
        Also compute the fourth-order moments that ``estimator="MLR"``/``"MLM"`` need
        (a matrix of side ``1 + p + p(p+1)/2`` per group).
    split_every : int
        Partial results merged per step of the reduction tree.

    Returns
    -------
    SampleMoments
        Accepted by :func:`semnet.sem` / :func:`semnet.cfa` as the data.

    Examples
    --------
    A survey panel stored as Parquet::

        import dask.dataframe as dd
        ddf = dd.read_parquet("panel/")
        mom = semnet.moments.from_dask(ddf, group="country", fourth=True)
        fit = semnet.cfa(model, mom, estimator="MLR")
    """
    try:
        import dask
    except ImportError:  # pragma: no cover - dask is in the dev extra
        raise OptionError("semnet.moments.from_dask needs dask: pip install "
                          "'semnet[dask]' (or 'dask[dataframe]').") from None
    if not hasattr(ddf, "to_delayed") or not hasattr(ddf, "dtypes"):
        raise DataError(f"ddf must be a Dask DataFrame, not {type(ddf).__name__}; for a "
                        "pandas DataFrame use semnet.moments.from_frame.")
    if not isinstance(split_every, int) or split_every < 2:
        raise OptionError(f"split_every must be an integer >= 2, not {split_every!r}.")
    names = _columns(ddf.columns, ddf.dtypes, group, columns)
    fourth = bool(fourth)
    _check_size(names, fourth)
    sub = ddf[[*names, *([group] if group is not None else [])]]
    level = [dask.delayed(_partition_sums)(part, names, group, fourth)
             for part in sub.to_delayed()]
    while len(level) > 1:
        level = [dask.delayed(_merge_all)(level[i : i + split_every])
                 for i in range(0, len(level), split_every)]
    (part,) = dask.compute(level[0])
    return _finish(part, names, group, fourth)


# --------------------------------------------------------------------------- the reduction
def _columns(available: Any, dtypes: Any, group: str | None,
             columns: Sequence[str] | None) -> list[str]:
    have = [str(c) for c in available]
    if group is not None and group not in have:
        raise DataError(f"the group column {group!r} is not a column of the data (it has "
                        f"{', '.join(have[:20])}); pass group= the column of group labels.")
    kinds = {str(c): t for c, t in zip(available, dtypes, strict=True)}

    def numeric(c: str) -> bool:
        return pd.api.types.is_numeric_dtype(kinds[c]) or pd.api.types.is_bool_dtype(kinds[c])

    if columns is None:
        names = [c for c in have if c != group and numeric(c)]
    else:
        if isinstance(columns, str):
            raise OptionError(f"columns must be a list of column names, not the string "
                              f"{columns!r}; write columns=[{columns!r}].")
        names = [str(c) for c in columns]
        unknown = [c for c in names if c not in have]
        if unknown:
            raise DataError(f"column(s) {', '.join(map(repr, unknown))} are not in the data "
                            f"(it has {', '.join(have[:20])}).")
        bad = [c for c in names if not numeric(c)]
        if bad:
            raise DataError(f"column(s) {', '.join(map(repr, bad))} are not numeric; recode "
                            "them to numbers or leave them out of columns=.")
        if group in names:
            raise OptionError(f"the group column {group!r} cannot also be a variable.")
        if len(set(names)) != len(names):
            raise OptionError("columns lists a column more than once.")
    if not names:
        raise DataError("the data have no numeric columns to summarise; pass columns=.")
    return names


def _width(p: int, fourth: bool) -> int:
    return 1 + p + (p * (p + 1) // 2 if fourth else 0)


def _check_size(names: Sequence[str], fourth: bool) -> None:
    width = _width(len(names), fourth)
    if fourth and width * width * 8 > MAX_CROSS_BYTES:
        raise OptionError(
            f"fourth-order moments of {len(names)} variables form a {width} x {width} matrix "
            f"per group ({width * width * 8 / 2**30:.1f} GiB); pass columns= with only the "
            "model's variables, or fourth=False for ML."
        )


def _cross_sums(e: np.ndarray, fourth: bool) -> np.ndarray:
    """``sum_i w_i w_i'`` with ``w_i = (1, e_i[, vech(e_i e_i')])``, in row blocks."""
    n, p = e.shape
    width = _width(p, fourth)
    r, c = vech_indices(p)
    out = np.zeros((width, width))
    step = max(1, _BLOCK_CELLS // width)
    for start in range(0, n, step):
        x = e[start : start + step]
        w = np.empty((x.shape[0], width))
        w[:, 0] = 1.0
        w[:, 1 : 1 + p] = x
        if fourth:
            np.multiply(x[:, r], x[:, c], out=w[:, 1 + p :])
        out += w.T @ w
    return out


def _partition_sums(frame: pd.DataFrame, names: Sequence[str], group: str | None,
                    fourth: bool) -> _Partial:
    """One partition (or a whole in-memory frame) reduced to per-group partial sums."""
    x = frame[list(names)].to_numpy(dtype=float, na_value=np.nan)
    infinite = int(np.isinf(x).sum())
    complete = np.isfinite(x).all(axis=1)
    if group is None:
        codes = np.zeros(x.shape[0], dtype=np.intp)
        labels = [""]
        no_group = 0
    else:
        codes, uniques = pd.factorize(frame[group], use_na_sentinel=True)
        labels = label_text(list(uniques), group)
        no_group = int((codes < 0).sum())
    blocks: dict[str, _Block] = {}
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
    for k, label in enumerate(labels):
        rows = order[bounds[k] : bounds[k + 1]]
        ok = rows[complete[rows]]
        xs = x[ok]
        center = xs.mean(axis=0) if ok.size else np.zeros(len(names))
        sums = _cross_sums(xs - center, fourth)
        blocks[label] = _Block(int(ok.size), int(rows.size - ok.size), center, sums)
    return _Partial(blocks, no_group, infinite, fourth)


def _merge_blocks(a: _Block, b: _Block, fourth: bool) -> _Block:
    n = a.n + b.n
    if a.n == 0 or b.n == 0:
        keep = a if a.n else b
        return _Block(n, a.dropped + b.dropped, keep.center, keep.sums)
    center = (a.n * a.center + b.n * b.center) / n
    La = shift_matrix(a.center - center, fourth)
    Lb = shift_matrix(b.center - center, fourth)
    sums = La @ a.sums @ La.T + Lb @ b.sums @ Lb.T
    return _Block(n, a.dropped + b.dropped, center, (sums + sums.T) / 2)


def _merge_all(parts: Sequence[_Partial]) -> _Partial:
    """Merge partial results given in data order (group order: first appearance)."""
    fourth = parts[0].fourth
    blocks: dict[str, _Block] = {}
    for part in parts:
        for label, b in part.blocks.items():
            blocks[label] = _merge_blocks(blocks[label], b, fourth) if label in blocks else b
    return _Partial(blocks, sum(p.no_group for p in parts), sum(p.infinite for p in parts),
                    fourth)


def _finish(part: _Partial, names: Sequence[str], group: str | None,
            fourth: bool) -> SampleMoments:
    if part.infinite:
        raise DataError(f"the data contain {part.infinite} infinite value(s); replace them "
                        "with NaN (dropped listwise) or finite numbers.")
    if part.no_group:
        raise DataError(f"the group column {group!r} has {part.no_group} missing values; "
                        "drop those rows or give them a group.")
    if not part.blocks:
        raise DataError("the data have no rows.")
    for label, b in part.blocks.items():
        if b.n == 0:
            where = f" in group {label!r}" if label else ""
            raise DataError(f"no complete rows{where}: every row has a missing value on "
                            f"{', '.join(names)}; pass fewer columns=.")
    return SampleMoments(tuple(names), group, tuple(part.blocks), fourth,
                         tuple(part.blocks.values()))
