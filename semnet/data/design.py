"""Sampling weights and clusters of the cases, as lavaan's ``sampling.weights=`` and
``cluster=``.

The weights are read from a column of the data, checked (numeric, finite, not
negative, not missing, a positive sum in every group) and normalised as lavaan's
``sampling.weights.normalization``:

- ``"total"`` (lavaan's default): rescaled to sum to the total number of cases,
  ``w_i N / sum_j w_j`` over all groups;
- ``"group"``: rescaled within each group to sum to the group's number of cases;
- ``"none"``: as given (the weights' sum then stands for the number of cases).

A group's moments are then the weighted mean and the weighted covariance with divisor
``sum_i w_i`` (R's ``cov.wt(..., method = "ML")``), and its size in the likelihood is
the sum of its weights (:attr:`~semnet.data.moments.GroupMoments.size`).  The cluster
column gives each case an integer cluster code; clusters are nested in groups.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd

from semnet.data.moments import GroupMoments, NumericData
from semnet.errors import DataError

#: lavaan's sampling.weights.normalization values
NORMALIZATIONS = ("total", "group", "none")


def _column(data: pd.DataFrame, name: str, what: str, names: Sequence[str]) -> pd.Series:
    if not isinstance(name, str) or name not in data.columns:
        raise DataError(
            f"{what}={name!r} is not a column of the data; pass the name of the column "
            f"that holds the {'sampling weights' if what == 'sampling_weights' else 'clusters'}."
        )
    if name in names:
        raise DataError(
            f"{what}={name!r} is a variable of the model; the {what} column describes how "
            "the cases were sampled and cannot also be modelled. Remove it from the model."
        )
    return data[name]


def read_weights(data: pd.DataFrame, column: str, names: Sequence[str]) -> np.ndarray:
    """The sampling weights in ``column`` (one per row), checked.

    Examples
    --------
    >>> import pandas as pd
    >>> read_weights(pd.DataFrame({"x": [1.0, 2.0], "w": [1, 3]}), "w", ["x"]).tolist()
    [1.0, 3.0]
    """
    col = _column(data, column, "sampling_weights", names)
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & col.notna().to_numpy()
    if bad.any():
        raise DataError(
            f"the sampling weights column {column!r} is not numeric (e.g. "
            f"{col[bad].iloc[0]!r} in row {data.index[bad][0]!r}); weights must be numbers."
        )
    for mask, problem in ((np.isnan(values), "missing"), (~np.isfinite(values) & ~np.isnan(values),
                          "infinite"), (values < 0, "negative")):  # fmt: skip
        if mask.any():
            rows = ", ".join(map(repr, data.index[mask][:5]))
            raise DataError(
                f"the sampling weights column {column!r} has {int(mask.sum())} {problem} "
                f"value(s) (rows {rows}); every case needs a weight >= 0. Drop those rows "
                "or fix the weights."
            )
    return values


def read_clusters(
    data: pd.DataFrame, column: str, names: Sequence[str], groups: np.ndarray | None
) -> np.ndarray:
    """Integer codes of the clusters in ``column`` (one per row), checked: no missing
    label, and (with groups) no label in two groups."""
    col = _column(data, column, "cluster", names)
    if col.isna().any():
        rows = ", ".join(map(repr, data.index[col.isna().to_numpy()][:5]))
        raise DataError(
            f"the cluster column {column!r} has missing values (rows {rows}); every case "
            "needs a cluster label."
        )
    codes, uniques = pd.factorize(col.astype(str), sort=False)
    if groups is not None:
        pairs = pd.DataFrame({"c": codes, "g": groups}).drop_duplicates()
        spread = pairs["c"][pairs["c"].duplicated()]
        if len(spread):
            label = uniques[int(spread.iloc[0])]
            found = sorted(pairs["g"][pairs["c"] == spread.iloc[0]].tolist())
            raise DataError(
                f"cluster {label!r} of column {column!r} appears in groups "
                f"{', '.join(map(repr, found))}; clusters must be nested in groups. Give "
                "clusters of different groups different labels."
            )
    _check_several_clusters(codes, groups, column)
    return np.asarray(codes, dtype=np.int64)


def _check_several_clusters(codes: np.ndarray, groups: np.ndarray | None, column: str) -> None:
    """Cluster-robust standard errors and tests compare the clusters of a group with
    each other (the factor G/(G - 1)): every group needs two clusters or more."""
    pairs = pd.DataFrame({"c": codes, "g": "" if groups is None else groups})
    counts = pairs.groupby("g", sort=False)["c"].nunique()
    if (counts < 2).any():
        where = "" if groups is None else f" in group {counts.index[counts < 2][0]!r}"
        raise DataError(
            f"the cluster column {column!r} has a single cluster{where}; cluster-robust "
            "standard errors need two clusters or more in every group. Check the column, "
            "or drop cluster= to treat the cases as independent."
        )


def normalise(
    weights: Sequence[np.ndarray], labels: Sequence[str], normalization: str
) -> list[np.ndarray]:
    """The weights of each group's cases, normalised (``"total"``, ``"group"``,
    ``"none"``); a group whose weights sum to zero is an error.

    Examples
    --------
    >>> import numpy as np
    >>> [w.tolist() for w in normalise([np.array([1.0, 3.0])], [""], "total")]
    [[0.5, 1.5]]
    """
    for w, label in zip(weights, labels, strict=True):
        if not w.sum() > 0:
            where = f" in group {label!r}" if label else ""
            raise DataError(f"the sampling weights sum to zero{where}; no case counts.")
    total = sum(float(w.sum()) for w in weights)
    ntotal = sum(len(w) for w in weights)
    if normalization == "total":
        return [w / total * ntotal for w in weights]
    if normalization == "group":
        return [w / w.sum() * len(w) for w in weights]
    return list(weights)


def fiml_blocks(
    data: NumericData, labels: Sequence[str], weights: np.ndarray | None,
    clusters: np.ndarray | None, normalization: str,
) -> tuple[list[tuple[str, np.ndarray]], list[np.ndarray] | None, list[np.ndarray] | None]:
    """Per group, for FIML: its rows, their normalised weights (the cases with any
    observed value count; the others, which FIML drops, get weight 0) and the cluster
    codes of the cases kept."""
    rows = [np.ones(len(data.values), bool) if data.groups is None else data.groups == lab
            for lab in labels]  # fmt: skip
    blocks = [(lab, data.values[r]) for lab, r in zip(labels, rows, strict=True)]
    kept = [~np.isnan(x).all(axis=1) for _, x in blocks]
    codes = None if clusters is None else [clusters[r][k] for r, k in zip(rows, kept, strict=True)]
    if weights is None:
        return blocks, None, codes
    scaled = normalise([weights[r][k] for r, k in zip(rows, kept, strict=True)], labels,
                       normalization)  # fmt: skip
    out = []
    for k, w in zip(kept, scaled, strict=True):
        full = np.zeros(len(k))
        full[k] = w
        out.append(full)
    return blocks, out, codes


def weighted_moments(
    moments: Sequence[GroupMoments],
    data: NumericData,
    weights: np.ndarray | None,
    clusters: np.ndarray | None,
    normalization: str = "total",
) -> list[GroupMoments]:
    """The groups' moments with the cases' weights (normalised) and clusters: the
    complete cases of each group (those ``moments`` were computed from) get their
    weights and cluster codes, and weighted means and covariances."""
    kept = []
    for mom in moments:
        rows = np.ones(len(data.values), bool) if data.groups is None else data.groups == mom.label
        complete = rows.copy()
        complete[rows] = ~np.isnan(data.values[rows]).any(axis=1)
        kept.append(complete)
    scaled = None if weights is None else normalise(
        [weights[k] for k in kept], [m.label for m in moments], normalization)  # fmt: skip
    out = []
    for i, (mom, k) in enumerate(zip(moments, kept, strict=True)):
        changes: dict = {}
        if clusters is not None:
            changes["clusters"] = clusters[k]
        if scaled is not None:
            w = scaled[i]
            x = mom.data
            mean = w @ x / w.sum()
            c = x - mean
            cov = (c * w[:, None]).T @ c / w.sum()
            changes.update(cov=(cov + cov.T) / 2, mean=mean, weights=w)
        out.append(dataclasses.replace(mom, **changes))
    return out
