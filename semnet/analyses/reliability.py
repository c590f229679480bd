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

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from semnet._blas import one_blas_thread
from semnet.analyses.reliability_ordinal import (
    block_reliability,
    indicators,
    ordered_among,
    ordinal_reliability,
)
from semnet.data.moments import check_group_column, group_labels, validate_frame
from semnet.data.ordinal import Polychoric, polychoric
from semnet.errors import DataError, SemnetError
from semnet.estimation.dwls import ordinal_rows

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


def reliability(
    fit: Fit | str,
    data: pd.DataFrame | None = None,
    *,
    ordered: Sequence[str] | bool | None = True,
    group: str | None = None,
    missing: str = "listwise",
) -> pd.DataFrame:
    """Cronbach's alpha, omega and AVE of every factor (per group).

    Factors with a single indicator are left out (semTools' ``dropSingle``).

    Given a model (lavaan syntax) and data instead of a fit, the indicators are read as
    ordinal items and only the alphas, which need no model estimates, are reported:
    ``alpha`` from the covariances of the category numbers and ``alpha_latent`` (ordinal
    alpha, Zumbo et al. 2007) from the polychoric correlations, as semTools'
    ``compRelSEM(tau.eq=TRUE)`` with ``ord.scale=TRUE`` and ``FALSE``
    (:func:`semnet.analyses.reliability_ordinal.ordinal_reliability`).

    Parameters
    ----------
    fit : Fit or str
        A fitted model, or lavaan syntax (its ``=~`` lines) for ordinal items in ``data``.
    data, ordered, group, missing
        With a model string only: the data, the ordinal items (``True``: every
        indicator), a grouping column and ``"listwise"`` or ``"pairwise"`` deletion.

    A fit of ordinal items (WLSMV, ...) gets semTools' ``compRelSEM()`` for categorical
    indicators (:func:`semnet.analyses.reliability_ordinal.block_reliability`): ``alpha``
    and ``omega`` of the sum of the category numbers (``ord.scale=TRUE``, semTools'
    default; omega as Green & Yang 2009), ``ave`` (``AVE()``), and the latent-response
    versions ``alpha_latent`` (ordinal alpha) and ``omega_latent`` (``ord.scale=FALSE``),
    from the fit's loadings, factor covariances, estimated thresholds and scale factors
    and the group's polychoric correlations.  A factor with a continuous indicator gets
    NaN in these columns (they are defined for ordinal indicators only).

    Returns
    -------
    DataFrame
        ``group, factor, n_items, alpha, omega, ave`` for a fit (and ``alpha_latent,
        omega_latent`` for a fit of ordinal items); ``group, factor, n_items, alpha,
        alpha_latent`` for ordinal items from data.

    Examples
    --------
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> fit = semnet.cfa("visual =~ x1 + x2 + x3\\ntextual =~ x4 + x5 + x6", hs)
    >>> semnet.reliability(fit)[["factor", "alpha", "omega"]].round(3)  # doctest: +SKIP
    """
    if isinstance(fit, str):
        if data is None:
            raise SemnetError("reliability(model, data): give the data of the ordinal items "
                              "with the model, or pass a fitted model.")
        return ordinal_reliability(fit, data, ordered=ordered, group=group, missing=missing)
    if fit.sample.ordinal is not None:
        return _ordinal_fit_reliability(fit)
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


def _ordinal_fit_reliability(fit: Fit) -> pd.DataFrame:
    """:func:`reliability` of a least-squares fit of ordinal items, group by group."""
    pt = fit.partable
    cols = pt.cols
    ov = list(pt.names.ov)
    lv = [f for f in pt.names.lv if f in set(cols["lhs"][cols["op"] == "=~"].tolist())]
    parts = []
    for g, (mom, pc) in enumerate(zip(fit.moments, fit.sample.ordinal, strict=True)):
        in_group = cols["group"] == g + 1
        loadings = pd.DataFrame(0.0, index=ov, columns=lv)
        for r in np.flatnonzero(in_group & (cols["op"] == "=~")):
            if cols["rhs"][r] in loadings.index:
                loadings.at[cols["rhs"][r], cols["lhs"][r]] = fit.values[r]
        lv_cov, _ = fit.model.implied_all(fit.values, g)
        k = [fit.model.variables.index(f) for f in lv]
        psi = pd.DataFrame(lv_cov[np.ix_(k, k)], index=lv, columns=lv)
        rows = ordinal_rows(pt, g)
        items = [ov[j] for j in np.flatnonzero(rows.is_item)]
        thresholds = {x: fit.values[rows.thresholds[rows.item == ov.index(x)]] for x in items}
        scales = pd.Series(fit.values[rows.scales[rows.is_item]], index=items)
        codes = pd.DataFrame(mom.data, columns=ov)[items].cov()
        ordinal_only = (loadings.loc[[x for x in ov if x not in items]] == 0).all(axis=0)
        table = block_reliability(loadings.loc[items, ordinal_only[ordinal_only].index],
                                  psi, pc.cor.loc[items, items], thresholds, scales=scales,
                                  code_cov=codes)  # fmt: skip
        mixed = [f for f in lv if not ordinal_only[f]
                 and (loadings[f] != 0).sum() > 1]  # fmt: skip
        if mixed:
            table = pd.concat([table, pd.DataFrame({
                "factor": mixed, "n_items": [int((loadings[f] != 0).sum()) for f in mixed]})],
                ignore_index=True)  # fmt: skip
        order = {f: i for i, f in enumerate(lv)}
        table = table.sort_values("factor", key=lambda c: c.map(order)).reset_index(drop=True)
        table.insert(0, "group", None if pt.ngroups == 1 else mom.label)
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


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


@one_blas_thread
def htmt(
    model: str,
    data: pd.DataFrame,
    *,
    group: str | None = None,
    htmt2: bool = True,
    absolute: bool = True,
    ordered: Sequence[str] | bool | None = None,
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
    ordered : sequence of str or True, optional
        Ordinal items: the ratios are computed from polychoric (and, with continuous
        indicators, polyserial) correlations, as semTools' ``htmt(..., ordered=)``
        through ``lavCor()`` (see :func:`semnet.polychoric`); ``True``: every indicator.

    Returns
    -------
    DataFrame (factor x factor), or a dict of them by group.

    Examples
    --------
    >>> import pandas as pd
    >>> import semnet
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> items = hs[[f"x{i}" for i in range(1, 7)]].apply(lambda c: pd.cut(c, 4, labels=False))
    >>> semnet.htmt("a =~ x1 + x2 + x3\\nb =~ x4 + x5 + x6", items, ordered=True).round(3)
           a      b
    a  1.000  0.421
    b  0.421  1.000
    """
    factors = indicators(model)
    names = list(dict.fromkeys(x for items in factors.values() for x in items))
    if ordered is not None and ordered is not False:
        absent = [n for n in names if n not in data.columns]
        if absent:
            raise SemnetError(f"indicator(s) {', '.join(map(repr, absent))} of the model are "
                              "not in the data.")
        if group is not None:
            check_group_column(data, group)
        keep = names if group is None else [*names, group]
        stats = polychoric(data[keep], ordered=ordered_among(ordered, names), group=group)
        if isinstance(stats, Polychoric):
            return _htmt(stats.cor.to_numpy(), names, factors, htmt2, absolute)
        return {label: _htmt(pc.cor.to_numpy(), names, factors, htmt2, absolute)
                for label, pc in stats.items()}
    frame = validate_frame(data, names, group)
    if group is None:
        return _htmt(_pearson(frame[names], ""), names, factors, htmt2, absolute)
    out = {}
    text = frame[group].astype(str)
    for label in group_labels(data, group):
        out[label] = _htmt(_pearson(frame[text == label][names], label), names, factors,
                           htmt2, absolute)
    return out


def _pearson(frame: pd.DataFrame, label: str) -> np.ndarray:
    """Pearson correlations of the complete cases; a constant item is an error (its
    correlations are undefined, and the ratios would silently leave them out)."""
    x = frame.dropna().to_numpy(float)
    constant = np.ptp(x, axis=0) == 0 if len(x) else np.ones(x.shape[1], bool)
    if constant.any():
        where = f" in group {label!r}" if label else ""
        raise DataError(
            f"the item {frame.columns[int(np.argmax(constant))]!r} is constant among the "
            f"complete cases{where}; its correlations are undefined. Drop it from the model."
        )
    return np.corrcoef(x, rowvar=False)


def _htmt(R, names, factors, htmt2, absolute) -> pd.DataFrame:
    R = np.abs(R) if absolute or htmt2 else R.copy()
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
