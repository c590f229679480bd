"""Mplus's approximate-invariance procedure for one aligned parameter across groups
(Asparouhov & Muthén, 2014, section "Alignment"; Mplus's ALIGNMENT output).

1. Pairwise tests: two groups are *compatible* when the z test of the difference of
   their aligned estimates has p > .01.
2. The starting invariant set is the largest set of mutually compatible groups (the
   largest clique of the compatibility graph; ties go to the set with the most cases,
   then to the one with the smallest sum of pairwise |z|).
3. Each group is tested against the sample-size weighted mean of the invariant set
   (the z test of est_g - mean, with the variance of that linear combination from the
   covariance of the aligned estimates); the groups with p > .001 form the new set.
   Step 3 is repeated until the set no longer changes (or repeats a set it had before).

Examples
--------
>>> import numpy as np
>>> est = np.array([0.0, 0.02, -0.01, 0.9])
>>> res = invariant_set(est, np.eye(4) * 0.01, np.array([100, 100, 100, 100]))
>>> res.invariant.tolist()
[True, True, True, False]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

__all__ = ["PAIRWISE_ALPHA", "SET_ALPHA", "InvariantSet", "invariant_set"]

#: significance level of the pairwise tests that build the starting set
PAIRWISE_ALPHA = 0.01
#: significance level of each group's test against the invariant set's mean
SET_ALPHA = 0.001
_MAX_ROUNDS = 100


@dataclass(frozen=True)
class InvariantSet:
    """The outcome for one parameter: per group, membership of the final invariant set,
    the difference from the set's weighted mean, its standard error and p-value."""

    invariant: np.ndarray
    set_mean: float
    diff: np.ndarray
    se: np.ndarray
    pvalue: np.ndarray


def _pvalue(z: np.ndarray) -> np.ndarray:
    return 2.0 * special.ndtr(-np.abs(z))


def _cliques(adjacent: list[set[int]], r: set[int], p: set[int], x: set[int], out: list):
    """Bron–Kerbosch with pivoting: every maximal clique extending ``r``."""
    if not p and not x:
        out.append(frozenset(r))
        return
    pivot = max(p | x, key=lambda u: len(adjacent[u] & p))
    for v in sorted(p - adjacent[pivot]):
        _cliques(adjacent, r | {v}, p & adjacent[v], x & adjacent[v], out)
        p = p - {v}
        x = x | {v}


def _largest_compatible(est: np.ndarray, cov: np.ndarray, nobs: np.ndarray) -> frozenset:
    g = est.size
    var = np.add.outer(np.diag(cov), np.diag(cov)) - 2.0 * cov
    diff = np.subtract.outer(est, est)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, diff / np.sqrt(np.maximum(var, 0.0)), 0.0)
    compatible = _pvalue(z) > PAIRWISE_ALPHA
    adjacent = [set(np.flatnonzero(compatible[i])) - {i} for i in range(g)]
    cliques: list[frozenset] = []
    _cliques(adjacent, set(), set(range(g)), set(), cliques)

    def rank(c: frozenset) -> tuple:
        members = sorted(c)
        spread = np.abs(z[np.ix_(members, members)]).sum()
        return (-len(c), -nobs[members].sum(), spread, members)

    return min(cliques, key=rank)


def _against_set(est: np.ndarray, cov: np.ndarray, nobs: np.ndarray, members: frozenset
                 ) -> tuple[float, np.ndarray, np.ndarray]:
    weights = np.zeros(est.size)
    idx = sorted(members)
    weights[idx] = nobs[idx] / nobs[idx].sum()
    contrast = np.eye(est.size) - weights  # row g: e_g - weights
    diff = contrast @ est
    se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", contrast, cov, contrast), 0.0))
    return float(weights @ est), diff, se


def invariant_set(est: np.ndarray, cov: np.ndarray, nobs: np.ndarray) -> InvariantSet:
    """Run the procedure for one parameter.

    Parameters
    ----------
    est : array (G,)
        The aligned estimates of the parameter in each group.
    cov : array (G, G)
        Their covariance matrix.
    nobs : array (G,)
        Cases per group (the weights of the set's mean).

    Examples
    --------
    >>> import numpy as np
    >>> invariant_set(np.zeros(3), np.eye(3), np.ones(3)).invariant.tolist()
    [True, True, True]
    """
    nobs = np.asarray(nobs, dtype=float)
    members = _largest_compatible(est, cov, nobs)
    seen = {members}
    for _ in range(_MAX_ROUNDS):
        mean, diff, se = _against_set(est, cov, nobs, members)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(se > 0, _pvalue(diff / se), 1.0)
        update = frozenset(np.flatnonzero(p > SET_ALPHA).tolist())
        if not update or update == members or update in seen:
            break
        members = update
        seen.add(members)
    mean, diff, se = _against_set(est, cov, nobs, members)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(se > 0, _pvalue(diff / se), 1.0)
    invariant = np.zeros(est.size, dtype=bool)
    invariant[sorted(members)] = True
    return InvariantSet(invariant, mean, diff, se, p)
