"""Complex survey designs: :class:`SurveyDesign` and the design-based moments of a group.

For a design with strata, primary sampling units (PSUs), weights and finite-population
corrections, the sample moments are the weighted means and covariances, and their
asymptotic covariance Γ is the Taylor-linearisation (sandwich) estimate over the
PSUs, as R's ``survey`` package computes it (``svymean``, ``svyvar``).  The model is
then fitted to those moments by ML with Γ in the robust (``robust.sem``) standard
errors and the scaled tests: the approach of ``lavaan.survey`` (Oberski 2014).

Each case's influence on the moments ``(mean, vech(cov))`` is ``z_i = w_i (y_i - ȳ,
c (u_i - ū)) / Σw`` with ``u_i = vech(d_i d_i')``, ``d_i = y_i - ȳ`` and
``c = n / (n - 1)`` (``svyvar`` estimates the covariance with that factor); with
``t_hj`` the sum of ``z_i`` over PSU ``j`` of stratum ``h``, ``n_h`` PSUs in stratum
``h`` and ``f_h`` its sampling fraction::

    V = Σ_h (1 - f_h) n_h / (n_h - 1) Σ_j (t_hj - t̄_h)(t_hj - t̄_h)',   Γ = n V

PSUs are nested in strata (their labels are read within each stratum, ``survey``'s
``nest = TRUE``).  With groups, each group is its own design (as in cross-national
surveys drawn separately in each country).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from semnet.data.moments import GroupMoments, NumericData, vech_indices
from semnet.errors import DataError


@dataclass(frozen=True)
class SurveyDesign:
    """A complex sampling design, by the columns that describe it.

    Parameters
    ----------
    weights : str, optional
        Sampling weights (default: equal weights).
    strata : str, optional
        Strata (default: one stratum).
    cluster : str, optional
        Primary sampling units, nested in strata (default: each case).
    fpc : str, optional
        Finite-population correction per stratum: the population's number of PSUs, or
        (values at most 1) the sampling fraction.

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> hs["psu"] = hs["id"] // 6
    >>> design = semnet.SurveyDesign(strata="school", cluster="psu")
    >>> fit = semnet.cfa("f =~ x1 + x2 + x3", hs, survey=design)
    >>> fit.options.se, fit.options.test
    ('robust_sem', 'satorra_bentler')
    """

    weights: str | None = None
    strata: str | None = None
    cluster: str | None = None
    fpc: str | None = None

    @property
    def columns(self) -> dict[str, str]:
        """The design's columns by role."""
        roles = ("weights", "strata", "cluster", "fpc")
        return {r: getattr(self, r) for r in roles if getattr(self, r) is not None}


def _column(data: pd.DataFrame, role: str, name: str, names: Sequence[str]) -> pd.Series:
    if not isinstance(name, str) or name not in data.columns:
        raise DataError(
            f"SurveyDesign({role}={name!r}): no such column in the data; pass the name of "
            f"the column that holds the {role}."
        )
    if name in names:
        raise DataError(
            f"SurveyDesign({role}={name!r}) is a variable of the model; a design column "
            "describes the sampling and cannot also be modelled."
        )
    col = data[name]
    if col.isna().any():
        raise DataError(
            f"SurveyDesign({role}={name!r}): the column has {int(col.isna().sum())} missing "
            "value(s); every case needs one."
        )
    return col


def _numbers(col: pd.Series, role: str, minimum: float) -> np.ndarray:
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    if np.isnan(values).any() or not np.all(np.isfinite(values)) or (values < minimum).any():
        raise DataError(
            f"SurveyDesign({role}={col.name!r}) must hold finite numbers >= {minimum:g}; "
            f"found {col.iloc[int(np.flatnonzero(~(values >= minimum))[0])]!r}."
        )
    return values


def design_columns(
    data: pd.DataFrame, design: SurveyDesign, names: Sequence[str]
) -> dict[str, np.ndarray]:
    """The design's columns, checked: weights and fpc as numbers, strata and PSUs as
    integer codes (PSUs within strata)."""
    n = len(data)
    cols = {r: _column(data, r, c, names) for r, c in design.columns.items()}
    out = {
        "weights": _numbers(cols["weights"], "weights", 0.0) if "weights" in cols else np.ones(n),
        "strata": pd.factorize(cols["strata"].astype(str))[0] if "strata" in cols
        else np.zeros(n, dtype=np.int64),
    }  # fmt: skip
    psu = cols["cluster"].astype(str) if "cluster" in cols else pd.Series(np.arange(n).astype(str))
    pairs = pd.Series(out["strata"].astype(str)) + "\x00" + psu.to_numpy()
    out["psu"] = pd.factorize(pairs)[0]
    if "fpc" in cols:
        out["fpc"] = _numbers(cols["fpc"], "fpc", np.finfo(float).tiny)
    return out


def taylor_moments(
    x: np.ndarray, columns: dict[str, np.ndarray], label: str = ""
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted covariance (divisor Σw), weighted mean and the design-based Γ of the
    complete cases ``x`` with their design ``columns`` (one group)."""
    n, p = x.shape
    w = columns["weights"]
    total = w.sum()
    where = f" in group {label!r}" if label else ""
    if not total > 0:
        raise DataError(f"the survey weights sum to zero{where}; no case counts.")
    mean = w @ x / total
    d = x - mean
    r, c = vech_indices(p)
    u = d[:, r] * d[:, c]
    ubar = w @ u / total
    cov = np.zeros((p, p))
    cov[r, c] = ubar
    cov[c, r] = ubar
    z = np.hstack([d, (u - ubar) * (n / (n - 1))]) * (w / total)[:, None]
    psu, first = np.unique(columns["psu"], return_index=True)
    index = np.searchsorted(psu, columns["psu"])
    sums = np.zeros((psu.size, z.shape[1]))
    np.add.at(sums, index, z)
    stratum = columns["strata"][first]
    n_h = np.bincount(stratum)
    if n_h.size == 1 and psu.size < 2:
        raise DataError(
            f"the design has a single PSU{where} (every case in one cluster): the variance "
            "between PSUs cannot be estimated. Give the cluster= column with at least two "
            "PSUs, or leave it out."
        )
    if (n_h[stratum] < 2).any():
        raise DataError(
            f"a stratum{where} has a single PSU (stratum of case {int(first[n_h[stratum] < 2][0])}"
            "); its variance cannot be estimated. Merge it with a similar stratum."
        )
    means = np.zeros((n_h.size, z.shape[1]))
    np.add.at(means, stratum, sums)
    centred = sums - (means / np.maximum(n_h, 1)[:, None])[stratum]
    scale = n_h / np.maximum(n_h - 1, 1) * (1.0 - _fractions(columns, first, stratum, n_h))
    V = (centred * scale[stratum][:, None]).T @ centred
    return cov, mean, n * V


def _fractions(
    columns: dict[str, np.ndarray], first: np.ndarray, stratum: np.ndarray, n_h: np.ndarray
) -> np.ndarray:
    """The sampling fraction of each stratum (0 without an fpc)."""
    if "fpc" not in columns:
        return np.zeros(n_h.size)
    fpc = columns["fpc"]
    per_stratum = np.full(n_h.size, np.nan)
    per_stratum[stratum] = fpc[first]
    if not np.allclose(fpc, per_stratum[columns["strata"]]):
        raise DataError("SurveyDesign(fpc=...) must be constant within each stratum.")
    fraction = np.where(per_stratum <= 1, per_stratum, n_h / per_stratum)
    if (fraction > 1).any():
        raise DataError(
            "SurveyDesign(fpc=...) is smaller than the number of sampled PSUs in a stratum; "
            "give the population's number of PSUs (or the sampling fraction)."
        )
    return fraction


def design_effects(x: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """The design effects of the moments ``(mean, vech(cov))``: the diagonal of the
    design-based Γ over that of the cases taken as independent and equally weighted
    (lavaan's ADF Γ of ``x``)."""
    d = x - x.mean(axis=0)
    r, c = vech_indices(x.shape[1])
    u = np.hstack([d, d[:, r] * d[:, c]])
    u = u - u.mean(axis=0)
    return np.diag(gamma) / np.einsum("ij,ij->j", u, u) * x.shape[0]


def survey_moments(
    data: pd.DataFrame, checked: NumericData, labels: Sequence[str], design: SurveyDesign
) -> tuple[list[GroupMoments], list[np.ndarray]]:
    """Per group, the design-based moments of the complete cases, with their Γ, and
    the moments' design effects (:func:`design_effects`)."""
    columns = design_columns(data, design, checked.names)
    out, deff = [], []
    for label in labels:
        rows = np.ones(len(checked.values), bool) if checked.groups is None else (
            checked.groups == label)  # fmt: skip
        x = checked.values[rows]
        complete = ~np.isnan(x).any(axis=1)
        keep = np.flatnonzero(rows)[complete]
        x = x[complete]
        if x.shape[0] <= x.shape[1]:
            raise DataError(
                f"only {x.shape[0]} complete case(s) for {x.shape[1]} observed variables"
                + (f" in group {label!r}" if label else "") + "."
            )
        cov, mean, gamma = taylor_moments(x, {k: v[keep] for k, v in columns.items()}, label)
        out.append(GroupMoments(label, checked.names, cov, mean, x.shape[0],
                                int((~complete).sum()), gamma=gamma))  # fmt: skip
        deff.append(design_effects(x, gamma))
    return out, deff
