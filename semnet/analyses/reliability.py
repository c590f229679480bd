"""Reliability and validity of reflective measures, as semTools computes them.

For a factor ``f`` with indicators ``I`` (unit weights ``w``), loadings ``lambda``, latent
variance ``phi`` (model-implied) and the sample covariance matrix ``S`` of the indicators
(N divisor; with FIML the unrestricted model's estimates), per group:

- Cronbach's alpha: ``k/(k-1) (1 - tr(S_I) / 1'S_I 1)``;
- omega (composite reliability, semTools' ``compRelSEM()`` default ``obs.var=TRUE``):
  ``(sum lambda)^2 phi / 1'S_I 1``;
- AVE (``AVE()``): ``sum(lambda^2) phi / tr(S_I)``; not defined (NaN) when an indicator
  loads on several factors.

``htmt()`` is the heterotrait-monotrait ratio of Henseler, Ringle & Sarstedt (2015) from
the indicators' correlation matrix (absolute values), and with ``htmt2=True`` (semTools'
default) the geometric-mean version of Roemer, Schuberth & Henseler (2021).
``fornell_larcker()`` puts sqrt(AVE) on the diagonal of the latent correlation matrix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from semnet.data.moments import validate_frame
from semnet.errors import SemnetError
from semnet.syntax import parse_model

if TYPE_CHECKING:
    from semnet.results.fit import Fit


def _factors(fit: Fit, g: int) -> dict[str, list[tuple[str, float]]]:
    """Observed indicators and loadings of each factor in group g (1-based)."""
    params = fit.partable.params
    out: dict[str, list[tuple[str, float]]] = {}
    ov = set(fit.partable.names.ov)
    for r in np.flatnonzero((params["op"] == "=~").to_numpy() & (params["group"] == g).to_numpy()):
        f, x = params["lhs"].iat[r], params["rhs"].iat[r]
        if x in ov:
            out.setdefault(f, []).append((x, float(fit.values[r])))
    return out


def reliability(fit: Fit) -> pd.DataFrame:
    """Cronbach's alpha, omega and AVE of every factor (per group).

    Factors with a single indicator are left out (semTools' ``dropSingle``).

    Returns
    -------
    DataFrame
        ``group, factor, n_items, alpha, omega, ave``.

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> fit = semnet.cfa("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6", hs)
    >>> semnet.reliability(fit)[["factor", "alpha", "omega"]].round(3)  # doctest: +SKIP
    """
    rows = []
    model = fit.model
    for gi, mom in enumerate(fit.moments, start=1):
        factors = _factors(fit, gi)
        counts: dict[str, int] = {}
        for items in factors.values():
            for x, lam in items:
                if lam != 0:
                    counts[x] = counts.get(x, 0) + 1
        lv_cov, _ = model.implied_all(fit.values, gi - 1)
        for f, items in factors.items():
            items = [(x, lam) for x, lam in items if lam != 0]
            if len(items) < 2:
                continue
            idx = [mom.names.index(x) for x, _ in items]
            S = mom.cov[np.ix_(idx, idx)]
            lam = np.array([v for _, v in items])
            k = model.variables.index(f)
            phi = lv_cov[k, k]
            total = S.sum()
            n = len(items)
            alpha = n / (n - 1) * (1 - np.trace(S) / total)
            omega = lam.sum() ** 2 * phi / total
            cross = any(counts.get(x, 0) > 1 for x, _ in items)
            ave = np.nan if cross else float((lam**2).sum() * phi / np.trace(S))
            rows.append(
                {
                    "group": None if fit.partable.ngroups == 1 else mom.label,
                    "factor": f,
                    "n_items": n,
                    "alpha": float(alpha),
                    "omega": float(omega),
                    "ave": ave,
                }
            )
    return pd.DataFrame(rows, columns=["group", "factor", "n_items", "alpha", "omega", "ave"])


def fornell_larcker(fit: Fit) -> dict[str, pd.DataFrame]:
    """Latent correlations with sqrt(AVE) on the diagonal, per group.

    Discriminant validity holds for a pair of factors when both square roots of AVE
    exceed their correlation (Fornell & Larcker, 1981).
    """
    rel = reliability(fit)
    out = {}
    for gi, mom in enumerate(fit.moments):
        factors = [f for f in fit.partable.names.lv if f in set(rel["factor"])]
        cov, _ = fit.model.implied_all(fit.values, gi)
        idx = [fit.model.variables.index(f) for f in factors]
        c = cov[np.ix_(idx, idx)]
        sd = np.sqrt(np.diag(c))
        corr = c / np.outer(sd, sd)
        part = rel if fit.partable.ngroups == 1 else rel[rel["group"] == mom.label]
        ave = part.set_index("factor")["ave"]
        np.fill_diagonal(corr, np.sqrt(ave[factors].to_numpy(dtype=float)))
        out[mom.label] = pd.DataFrame(corr, index=factors, columns=factors)
    return out


def htmt(
    model: str,
    data: pd.DataFrame,
    *,
    group: str | None = None,
    htmt2: bool = True,
    absolute: bool = True,
) -> pd.DataFrame | dict[str, pd.DataFrame]:
    """Heterotrait-monotrait ratios of the factors' indicators (semTools' ``htmt()``).

    Parameters
    ----------
    model : str
        lavaan syntax; only its ``=~`` lines are used.
    data : DataFrame
        Raw data; incomplete rows are dropped (listwise), as semTools' default.
    group : str, optional
        Compute the ratios within each group.
    htmt2 : bool
        Geometric means (HTMT2, Roemer et al. 2021), semTools' default; else the
        original arithmetic-mean HTMT.
    absolute : bool
        Use absolute correlations (always with ``htmt2``).

    Returns
    -------
    DataFrame (factor x factor), or a dict of them by group.
    """
    parsed = parse_model(model)
    factors: dict[str, list[str]] = {}
    for r in parsed.relations:
        if r.op == "=~":
            factors.setdefault(r.lhs, []).append(r.rhs)
    if not factors:
        raise SemnetError("htmt() needs a measurement model with '=~' lines.")
    names = list(dict.fromkeys(x for items in factors.values() for x in items))
    frame = validate_frame(data, names, group)
    if group is None:
        return _htmt(frame[names].dropna().to_numpy(float), names, factors, htmt2, absolute)
    out = {}
    for label in pd.unique(frame[group].astype(str)):
        part = frame[frame[group].astype(str) == label][names].dropna().to_numpy(float)
        out[label] = _htmt(part, names, factors, htmt2, absolute)
    return out


def _htmt(x, names, factors, htmt2, absolute) -> pd.DataFrame:
    R = np.corrcoef(x, rowvar=False)
    if absolute or htmt2:
        R = np.abs(R)
    np.fill_diagonal(R, np.nan)
    index = {v: i for i, v in enumerate(names)}
    keys = list(factors)
    pos = {f: [index[v] for v in factors[f]] for f in keys}

    def avg(block: np.ndarray) -> float:
        vals = block[~np.isnan(block)]
        return float(np.exp(np.log(vals).mean())) if htmt2 else float(vals.mean())

    within = {f: avg(R[np.ix_(pos[f], pos[f])]) for f in keys}
    out = np.empty((len(keys), len(keys)))
    for i, a in enumerate(keys):
        for j, b in enumerate(keys):
            out[i, j] = avg(R[np.ix_(pos[a], pos[b])]) / np.sqrt(within[a] * within[b])
    return pd.DataFrame(out, index=keys, columns=keys)
