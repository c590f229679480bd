"""Whether structural paths are equal across groups: a likelihood-ratio test of the
paths tied by ``group_equal``, and Wald tests of the free model, jointly and pairwise.

Examples
--------
>>> import semnet
>>> from semnet.analyses.invariance import compare_paths
>>> hs = semnet.datasets.holzinger_swineford()
>>> m = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\ntextual ~ visual"
>>> out = compare_paths(m, hs, group="school", paths="textual ~ visual")
>>> out.joint["test"].tolist()
['Wald', 'LRT']
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from semnet.analyses.compare import compare
from semnet.analyses.invariance.adjust import ADJUST, adjust_pvalues
from semnet.analyses.invariance.formats import TableFormats, frame_to_text, pick_columns
from semnet.analyses.invariance.levels import is_robust, normalize_group_equal
from semnet.api import sem
from semnet.errors import OptionError, SemnetError, check_choice
from semnet.results.fit import Fit

__all__ = ["PathComparison", "compare_paths"]


@dataclass(frozen=True, eq=False)
class PathComparison(TableFormats):
    """Tests that structural paths are equal across groups (from :func:`compare_paths`).

    Attributes
    ----------
    paths : tuple of str
        The paths tested, e.g. ``("doi~ni",)``.
    free, equal : Fit
        The model with the paths free in every group, and with them equal.
    lrt : DataFrame
        :func:`semnet.compare` of ``free`` and ``equal`` (all paths jointly).
    estimates : DataFrame
        ``path, group, est, se, z, pvalue, ci_lower, ci_upper, std_all`` from ``free``.
    joint : DataFrame
        ``path, test, stat, df, pvalue``: per path the Wald test that it is equal in all
        groups (G − 1 df), then for all paths together the Wald test and the LRT.
    pairwise : DataFrame
        ``path, group_a, group_b, est_a, est_b, diff, se, z, pvalue, p_adjusted``: Wald
        (z) tests of each pair of groups, adjusted within each path.
    """

    paths: tuple[str, ...]
    free: Fit
    equal: Fit
    lrt: pd.DataFrame
    estimates: pd.DataFrame
    joint: pd.DataFrame
    pairwise: pd.DataFrame

    def _display(self, columns):
        return pick_columns(self.pairwise, columns, tuple(self.pairwise.columns))

    def __repr__(self) -> str:
        return (f"<PathComparison {', '.join(self.paths)}>\n"
                f"{frame_to_text(self.joint, 4)}\n{frame_to_text(self.pairwise, 4)}")


def _path_key(path: str) -> str:
    key = "".join(str(path).split())
    if "~" not in key or "=~" in key or "~~" in key or key.endswith("~1"):
        raise OptionError(
            f"{path!r} is not a regression path; write it as 'outcome ~ predictor', e.g. "
            "'doi ~ ni'."
        )
    return key


def compare_paths(
    model: str | Path,
    data: pd.DataFrame | None = None,
    *,
    group: str,
    paths: Sequence[str],
    adjust: str | None = "holm",
    level: float = 0.95,
    **fit_args: Any,
) -> PathComparison:
    """Test whether structural paths are equal across groups, jointly and pairwise.

    Parameters
    ----------
    model : str or path
        lavaan model syntax with the regressions (``doi ~ ni``), or a ``.lav`` path.
    data : DataFrame
    group : str
    paths : sequence of str
        Regressions to compare, as ``"doi~ni"`` or ``"doi ~ ni"``.
    adjust : {"holm", "bonferroni", "bh", None}
        Adjustment of the pairwise p-values within each path.
    level : float
        Confidence level of the per-group estimates.
    **fit_args
        Passed to :func:`semnet.sem` for both models (``estimator``, ``missing``,
        ``group_equal`` for the measurement constraints, e.g.
        ``("loadings", "intercepts")``, ``group_partial``, ...).

    Returns
    -------
    PathComparison

    Notes
    -----
    The constrained model adds ``"regressions"`` to ``group_equal`` and exempts every
    other regression through ``group_partial``, so only the listed paths are equal;
    its likelihood-ratio test against the free model (Satorra–Bentler scaled when
    robust) is in :attr:`PathComparison.lrt`.  Wald tests use the free model's
    covariance matrix of the estimates (robust with MLR/MLM), as lavaan's
    ``lavTestWald()`` with the constraints written on the paths' labels.  Paths that
    carry user labels (``c(b1, b2)*x``) cannot be tied by ``group_equal``; remove the
    labels.

    Examples
    --------
    >>> import semnet
    >>> from semnet.analyses.invariance import compare_paths
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> m = "visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6\\ntextual ~ visual"
    >>> out = compare_paths(m, hs, group="school", paths=["textual ~ visual"])
    >>> round(float(out.joint["stat"].iloc[0]), 3)
    2.13
    """
    keys, adjust = _path_keys(paths), _adjust(adjust)
    ge = fit_args.pop("group_equal", ())
    ge = tuple(normalize_group_equal(g) for g in ((ge,) if isinstance(ge, str) else ge))
    if "regressions" in ge:
        raise OptionError(
            "group_equal already contains 'regressions', so every path is equal in both "
            "models; leave it out: compare_paths() adds it for the paths tested."
        )
    partial = fit_args.pop("group_partial", ())
    partial = (partial,) if isinstance(partial, str) else tuple(partial)
    free, equal = _fit_pair(model, data, group, keys, ge, partial, fit_args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        lrt = compare(free, equal, names=["free", "equal"])
    wald = _Wald(free)
    est = free.estimates(standardized=True, level=level)
    est_rows, joint, pair_rows, all_C, all_d = [], [], [], [], []
    for k in keys:
        rows = wald.rows(k)
        est_rows += _estimate_rows(k, rows, est, free.groups)
        C, d = wald.contrasts(rows)
        all_C.append(C)
        all_d.append(d)
        joint.append(wald.test(k, C, d))
        pair_rows += wald.pairwise(k, rows, adjust)
    if len(keys) > 1:
        joint.append(wald.test(", ".join(keys), np.vstack(all_C), np.concatenate(all_d)))
    joint.append({"path": ", ".join(keys),
                  "test": "LRT" + (" (scaled)" if is_robust(free) else ""),
                  "stat": float(lrt["chisq_diff"].iloc[1]),
                  "df": int(lrt["df_diff"].iloc[1]),
                  "pvalue": float(lrt["pvalue"].iloc[1])})
    return PathComparison(
        paths=keys,
        free=free,
        equal=equal,
        lrt=lrt,
        estimates=pd.DataFrame(est_rows),
        joint=pd.DataFrame(joint),
        pairwise=pd.DataFrame(pair_rows),
    )


def _path_keys(paths: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(paths, str):
        paths = [paths]
    keys = tuple(dict.fromkeys(_path_key(p) for p in paths))
    if not keys:
        raise OptionError("paths must name at least one regression, e.g. ['doi ~ ni'].")
    return keys


def _adjust(adjust: str | None) -> str | None:
    return None if adjust is None else check_choice("adjust", adjust, ADJUST)


def _fit_pair(model: str | Path, data: pd.DataFrame | None, group: str,
              keys: tuple[str, ...], ge: tuple[str, ...], partial: tuple[str, ...],
              fit_args: Mapping[str, Any]) -> tuple[Fit, Fit]:
    """The model with the paths free in every group, and with them equal."""
    free = sem(model, data, group=group, group_equal=ge, group_partial=partial, **fit_args)
    G = len(free.groups)
    if G < 2:
        raise SemnetError(f"the group column {group!r} has a single value; paths can only be "
                          "compared across two or more groups.")
    p = free.partable.params
    reg = p[p["op"] == "~"]
    all_keys = list(dict.fromkeys(reg["lhs"] + "~" + reg["rhs"]))
    unknown = [k for k in keys if k not in all_keys]
    if unknown:
        raise OptionError(
            f"{', '.join(map(repr, unknown))} is not a regression of the model; its "
            f"regressions are {', '.join(map(repr, all_keys)) or 'none'}."
        )
    others = [k for k in all_keys if k not in keys]
    equal = sem(model, data, group=group, group_equal=(*ge, "regressions"),
                group_partial=(*partial, *others), **fit_args)
    if equal.df - free.df != len(keys) * (G - 1):
        raise SemnetError(
            f"constraining {', '.join(keys)} added {equal.df - free.df} df instead of "
            f"{len(keys) * (G - 1)}: some of these paths carry labels or constraints of "
            "their own (labels win over group_equal). Remove their labels, or test them "
            "with fit.wald('b1 == b2')."
        )
    return free, equal


def _estimate_rows(key: str, rows: list[int], est: pd.DataFrame,
                   groups: Sequence[str]) -> list[dict[str, Any]]:
    """The path's estimate in every group (from the free model's estimates)."""
    out = []
    for g, r in enumerate(rows):
        e = est.iloc[r]
        out.append({"path": key, "group": groups[g], "est": e["est"], "se": e["se"],
                    "z": e["z"], "pvalue": e["pvalue"], "ci_lower": e["ci_lower"],
                    "ci_upper": e["ci_upper"], "std_all": e["std_all"]})
    return out


class _Wald:
    """Wald tests of differences between groups' paths, with the free model's covariance
    matrix of the estimates (robust with MLR/MLM), as lavaan's ``lavTestWald()``."""

    def __init__(self, free: Fit) -> None:
        V = free.vcov_free
        if V is None:
            raise SemnetError("the free model has no standard errors; Wald tests are not "
                              "possible.")
        self.V = V
        self.params = free.partable.params
        self.free_idx = self.params["free"].to_numpy()
        self.values = free.values
        self.groups = free.groups

    def rows(self, key: str) -> list[int]:
        """The parameter-table row of the path ``key`` in each group (all free)."""
        p = self.params
        lhs, rhs = key.split("~", 1)
        rows = [int(np.flatnonzero((p["lhs"] == lhs) & (p["op"] == "~") & (p["rhs"] == rhs)
                                   & (p["group"] == g))[0])
                for g in range(1, len(self.groups) + 1)]
        if any(self.free_idx[r] == 0 for r in rows):
            raise SemnetError(f"the path {key} is fixed in some group; only free paths can be "
                              "compared.")
        return rows

    def contrast(self, rows: list[int], a: int, b: int) -> tuple[np.ndarray, float]:
        """The contrast vector of group a minus group b, and that difference."""
        c = np.zeros(self.V.shape[0])
        c[self.free_idx[rows[a]] - 1] += 1.0
        c[self.free_idx[rows[b]] - 1] -= 1.0
        return c, float(self.values[rows[a]] - self.values[rows[b]])

    def contrasts(self, rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Group 1 minus group g for g = 2..G: the G - 1 constraints of equality."""
        C, d = zip(*(self.contrast(rows, 0, g) for g in range(1, len(rows))), strict=True)
        return np.array(C), np.array(d)

    def test(self, path: str, C: np.ndarray, d: np.ndarray) -> dict[str, Any]:
        """The joint Wald test that ``C x = 0``."""
        w = float(d @ np.linalg.solve(C @ self.V @ C.T, d))
        return {"path": path, "test": "Wald", "stat": w, "df": len(d),
                "pvalue": float(stats.chi2.sf(w, len(d)))}

    def pairwise(self, key: str, rows: list[int], adjust: str | None) -> list[dict[str, Any]]:
        """z tests of every pair of groups, adjusted within the path."""
        out = []
        G = len(rows)
        for a in range(G):
            for b in range(a + 1, G):
                c, diff = self.contrast(rows, a, b)
                se = math.sqrt(float(c @ self.V @ c))
                z = diff / se
                out.append({
                    "path": key, "group_a": self.groups[a], "group_b": self.groups[b],
                    "est_a": float(self.values[rows[a]]), "est_b": float(self.values[rows[b]]),
                    "diff": diff, "se": se, "z": z,
                    "pvalue": float(2 * stats.norm.sf(abs(z))),
                })
        adj = adjust_pvalues([r["pvalue"] for r in out], adjust)
        for r, a in zip(out, adj, strict=True):
            r["p_adjusted"] = float(a)
        return out
