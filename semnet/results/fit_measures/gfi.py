"""GFI, AGFI and PGFI (lavaan's ``lav_fit_gfi``), for complete data and, as lavaan
0.6-14 computes them, for incomplete data."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from semnet.results.fit_measures.inputs import MissingDataInput


def _group_gfi(
    S: np.ndarray,
    m: np.ndarray,
    Sigma: np.ndarray,
    mu: np.ndarray,
    Sigma_inv: np.ndarray,
    x: np.ndarray,
    meanstructure: bool,
) -> float:
    """LISREL-type GFI of one group with the structured ML weight matrix.

    The weight is lavaan's expected h1 information evaluated at the implied
    moments, ``blockdiag(Sigma^-1, 0.5 D'(Sigma^-1 x Sigma^-1) D)``, with the
    rows/columns of the fixed.x covariate moments set to zero.
    """
    E = S - Sigma
    Sx = S.copy()
    dm = m - mu
    mx = m.copy()
    if x.size:
        E[np.ix_(x, x)] = 0.0
        Sx[np.ix_(x, x)] = 0.0
        dm[x] = 0.0
        mx[x] = 0.0
    AE = Sigma_inv @ E
    AS = Sigma_inv @ Sx
    t1 = 0.5 * float(np.sum(AE * AE.T))
    t2 = 0.5 * float(np.sum(AS * AS.T))
    if meanstructure:
        t1 += float(dm @ Sigma_inv @ dm)
        t2 += float(mx @ Sigma_inv @ mx)
    return 1.0 - t1 / t2


def _group_gfi_missing(
    S: np.ndarray,
    m: np.ndarray,
    Sigma: np.ndarray,
    mu: np.ndarray,
    patterns: Sequence[tuple[np.ndarray, int]],
    x: np.ndarray | None = None,
) -> float:
    """GFI of one group with incomplete data, as lavaan 0.6-14 computes it (the
    moments of the fixed.x covariates ``x`` left out, as in :func:`_group_gfi`).

    The "observed" moments are the pairwise-deletion covariances ``S`` and the
    available-case means ``m``; the weight is the expected information of the
    missing-data likelihood at the implied moments, ``sum_k (n_k / N)`` of the
    complete-data weight of each pattern's observed variables.  With
    ``A_k = Sigma_oo^-1`` the quadratic form of ``(d, vech(E))`` is
    ``sum_k (n_k / N) [d_o' A_k d_o + tr(A_k E_oo A_k E_oo) / 2]``.
    """
    p = len(m)
    observed = np.zeros((len(patterns), p), dtype=bool)
    for k, (o, _) in enumerate(patterns):
        observed[k, o] = True
    count = np.array([c for _, c in patterns], dtype=float)
    # all patterns at once: A_k zero-padded to p x p (the unobserved rows and columns
    # of A_k then drop out of every product below)
    block = observed[:, :, None] & observed[:, None, :]
    A = np.where(block, np.linalg.inv(np.where(block, Sigma, np.eye(p))), 0.0)
    E = S - Sigma
    d = m - mu
    if x is not None and x.size:
        S, m = S.copy(), m.copy()
        for v in (E, S):
            v[np.ix_(x, x)] = 0.0
        d[x] = m[x] = 0.0
    AE = A @ E
    AS = A @ S
    t1 = np.einsum("i,kij,j->k", d, A, d) + 0.5 * np.einsum("kij,kji->k", AE, AE)
    t2 = np.einsum("i,kij,j->k", m, A, m) + 0.5 * np.einsum("kij,kji->k", AS, AS)
    return 1.0 - float(count @ t1) / float(count @ t2)


def _agfi(gfi: float, nel: int, df: float) -> float:
    """Adjusted GFI; ``nel`` is the number of modelled sample statistics."""
    if not (np.isfinite(gfi) and np.isfinite(df)):
        return math.nan
    if df > 0:
        return 1.0 - (nel / df) * (1.0 - gfi)
    return 1.0


def _pgfi(gfi: float, nel: int, df: float) -> float:
    """Parsimony GFI (LISREL formula)."""
    if not (np.isfinite(gfi) and np.isfinite(df)) or nel == 0:
        return math.nan
    return (df / nel) * gfi


def adjusted_gfi(gfi: float, nel: int, df: float) -> tuple[float, float]:
    """AGFI and PGFI of ``gfi`` with ``nel`` modelled sample statistics and ``df``.

    Examples
    --------
    >>> tuple(round(v, 6) for v in adjusted_gfi(0.99, 48, 19))
    (0.974737, 0.391875)
    """
    return _agfi(gfi, nel, df), _pgfi(gfi, nel, df)


def gfi_measures(
    per_group: Sequence[dict[str, float | np.ndarray]],
    w: np.ndarray,
    meanstructure: bool,
    df: float,
    missing: MissingDataInput | None,
) -> dict[str, float]:
    """GFI (averaged over the groups with weights ``N_g / N``), AGFI and PGFI.

    Parameters
    ----------
    per_group : sequence of dict
        :func:`~semnet.results.fit_measures.chisq.group_ml` of each group.
    w : numpy.ndarray
        The groups' weights ``N_g / N``.
    meanstructure : bool
        Whether the means are modelled (they then enter the GFI).
    df : float
        Degrees of freedom of the model.
    missing : MissingDataInput or None
        With it the GFI is the incomplete-data one (:func:`_group_gfi_missing`), NaN
        without the pairwise moments and the missing-data patterns.

    Returns
    -------
    dict
        ``gfi, agfi, pgfi``.

    Examples
    --------
    >>> from semnet.results.fit_measures.chisq import group_ml
    >>> import numpy as np
    >>> from semnet.results.fit_measures.inputs import GroupFitInput
    >>> S = np.array([[1.0, 0.3], [0.3, 1.0]])
    >>> g = GroupFitInput(nobs=100, sample_cov=S, sample_mean=np.zeros(2),
    ...                   implied_cov=np.eye(2), implied_mean=np.zeros(2))
    >>> fm = gfi_measures([group_ml(g, False)], np.ones(1), False, 1.0, None)
    >>> round(fm["gfi"], 4)
    0.9174
    """
    if missing is None:
        gfi_group = np.array(
            [
                _group_gfi(
                    pg["S"], pg["m"], pg["Sigma"], pg["mu"], pg["Sigma_inv"], pg["x"],
                    meanstructure,
                )
                for pg in per_group
            ]
        )  # fmt: skip
    elif missing.pairwise is not None and missing.patterns is not None:
        gfi_group = np.array(
            [
                _group_gfi_missing(cov, mean, pg["Sigma"], pg["mu"], pats, pg["x"])
                for (cov, mean), pats, pg in zip(
                    missing.pairwise, missing.patterns, per_group, strict=True
                )
            ]
        )
    else:
        gfi_group = np.full(len(per_group), math.nan)
    gfi = float(w @ gfi_group)
    nel = sum(
        pg["S"].shape[0] * (pg["S"].shape[0] + 1) // 2 + (pg["S"].shape[0] if meanstructure else 0)
        for pg in per_group
    )
    return {"gfi": gfi, "agfi": _agfi(gfi, nel, df), "pgfi": _pgfi(gfi, nel, df)}
