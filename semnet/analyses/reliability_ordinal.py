"""Reliability of ordinal items, as semTools 0.5-6's ``compRelSEM()`` computes it.

An ordinal item is read as a cut of a normal latent response ``y*`` at its thresholds.
Reliability can then be stated for the latent responses or for the sum of the observed
category numbers, semTools' ``ord.scale=FALSE`` and ``ord.scale=TRUE``.  For a factor
with indicators ``I``, loadings ``Lambda`` (items x factors), factor covariance ``Psi``,
polychoric correlations ``R``, thresholds ``tau`` and the scales ``Delta`` of the
latent responses (the delta parameterization's scale factors, 1 unless freed):

- ``alpha_latent`` (ordinal alpha of Zumbo, Gadermann & Zeisser 2007; semTools'
  ``tau.eq=TRUE, ord.scale=FALSE``): Cronbach's alpha of ``Delta^-1 R Delta^-1``;
- ``alpha`` (``tau.eq=TRUE, ord.scale=TRUE``): Cronbach's alpha of the covariance of
  the category numbers ``1 .. K``, scaled by ``Delta^-1`` as semTools does;
- ``ave`` (``AVE()``): ``sum(lambda^2) Psi / tr(Delta^-1 R Delta^-1)``;
- ``omega_latent`` (``ord.scale=FALSE``): ``1' Lambda Psi Lambda' 1 / 1' Delta^-1 R
  Delta^-1 1``;
- ``omega`` (``ord.scale=TRUE``, semTools' default; Green & Yang 2009): the share of
  the variance of the sum of the category numbers due to the factors,

  ``sum_jj' [sum_cc' Phi2(t_jc, t_j'c'; rho*_jj') - sum_c Phi(t_jc) sum_c' Phi(t_j'c')]``
  over the same sum with the polychoric correlations in place of ``rho*``, where
  ``t = Delta tau`` and ``rho* = Delta Lambda Psi Lambda' Delta`` (the true-score part of
  the standardized latent responses).

These need only the polychoric correlations, the thresholds and (for omega) the
loadings and factor covariances: :func:`ordinal_reliability` computes the alphas from
the data, :func:`block_reliability` everything from the estimates of an ordinal CFA.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import special

from semnet.data.moments import check_group_column
from semnet.data.ordinal import Polychoric, ordinal_item, polychoric
from semnet.data.ordinal_cdf import bivariate_normal_cdf
from semnet.errors import SemnetError
from semnet.syntax import parse_model


def indicators(model: str) -> dict[str, list[str]]:
    """The indicators of each factor in the ``=~`` lines of lavaan syntax.

    Examples
    --------
    >>> from semnet.analyses.reliability_ordinal import indicators
    >>> indicators("f =~ a + b + c\\ng =~ d + e")
    {'f': ['a', 'b', 'c'], 'g': ['d', 'e']}
    """
    factors: dict[str, list[str]] = {}
    for r in parse_model(model).relations:
        if r.op == "=~":
            factors.setdefault(r.lhs, []).append(r.rhs)
    if not factors:
        raise SemnetError("this needs a measurement model with '=~' lines (factor =~ items).")
    return factors


def ordered_among(
    ordered: Sequence[str] | bool | None, names: Sequence[str]
) -> Sequence[str] | bool | None:
    """``ordered`` restricted to the model's indicators ``names`` (a list may name other
    columns of the data too, e.g. every item of a questionnaire).

    Examples
    --------
    >>> from semnet.analyses.reliability_ordinal import ordered_among
    >>> ordered_among(["a", "q9"], ["a", "b"])
    ['a']
    """
    if ordered is None or isinstance(ordered, bool):
        return ordered
    named = {ordered} if isinstance(ordered, str) else set(ordered)
    return [n for n in names if n in named]


def cronbach_alpha(cov: np.ndarray) -> float:
    """Cronbach's alpha of a covariance (or correlation) matrix of ``k >= 2`` items.

    Examples
    --------
    >>> import numpy as np
    >>> from semnet.analyses.reliability_ordinal import cronbach_alpha
    >>> round(cronbach_alpha(np.array([[1.0, 0.5], [0.5, 1.0]])), 4)
    0.6667
    """
    S = np.asarray(cov, dtype=float)
    k = S.shape[0]
    return float(k / (k - 1) * (1 - np.trace(S) / S.sum()))


def _threshold_vector(thresholds: Sequence[np.ndarray], scales: np.ndarray):
    """All thresholds on the standardized scale, and the item each belongs to."""
    values = [np.asarray(t, dtype=float) * s for t, s in zip(thresholds, scales, strict=True)]
    item = np.repeat(np.arange(len(values)), [len(v) for v in values])
    return np.concatenate(values), item


def categorical_omega(
    loadings: np.ndarray,
    thresholds: Sequence[np.ndarray],
    cor: np.ndarray,
    *,
    psi: np.ndarray | float = 1.0,
    scales: np.ndarray | None = None,
) -> float:
    """Green & Yang's (2009) omega of the sum of ordinal items' category numbers
    (semTools' ``compRelSEM(..., ord.scale=TRUE)``).

    Parameters
    ----------
    loadings : array (k,) or (k, m)
        The items' loadings on the ``m`` factors (delta parameterization).
    thresholds : sequence of k arrays
        Each item's thresholds, in the model's scale.
    cor : array (k, k)
        The items' polychoric correlations (a covariance is rescaled to correlations).
    psi : float or array (m, m)
        Factor (co)variance.
    scales : array (k,), optional
        The scale factors Delta of the latent responses (1 when not given).

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from semnet.analyses.reliability_ordinal import categorical_omega
    >>> R = np.full((3, 3), 0.49) + 0.51 * np.eye(3)
    >>> tau = [np.array([-1.0, 0.0, 1.0])] * 3
    >>> round(categorical_omega(np.full(3, 0.7), tau, R), 4)
    0.6981
    """
    lam = np.asarray(loadings, dtype=float).reshape(len(thresholds), -1)
    phi = np.atleast_2d(np.asarray(psi, dtype=float))
    delta = np.ones(len(lam)) if scales is None else np.asarray(scales, dtype=float)
    true = delta[:, None] * (lam @ phi @ lam.T) * delta[None, :]
    S = np.asarray(cor, dtype=float)
    sd = np.sqrt(np.diag(S))
    denom = S / np.outer(sd, sd)
    t, item = _threshold_vector(thresholds, delta)
    marginal = special.ndtr(t).sum() ** 2
    a, b = np.meshgrid(t, t, indexing="ij")
    pair = (item[:, None], item[None, :])
    num = bivariate_normal_cdf(a, b, true[pair]).sum() - marginal
    den = bivariate_normal_cdf(a, b, denom[pair]).sum() - marginal
    return float(num / den)


def block_reliability(
    loadings: pd.DataFrame,
    psi: pd.DataFrame,
    cor: pd.DataFrame,
    thresholds: Mapping[str, np.ndarray],
    *,
    scales: pd.Series | None = None,
    code_cov: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """alpha, omega and their latent-response versions of each factor of one group of
    an ordinal CFA, as semTools' ``compRelSEM()`` (``tau.eq`` x ``ord.scale``).

    Parameters
    ----------
    loadings : DataFrame
        Items x factors (0 where an item does not load); the estimates of the delta
        parameterization (lavaan's ``lavInspect(fit, "est")$lambda``).
    psi : DataFrame
        Factor covariance matrix (factors x factors).
    cor : DataFrame
        The sample polychoric correlations of the items (lavaan's ``"sampstat"`` cov).
    thresholds : mapping
        Item name to its estimated thresholds.
    scales : Series, optional
        Item name to its scale factor Delta (lavaan's ``"~*~"`` rows); 1 when not given.
    code_cov : DataFrame, optional
        Covariance of the items' category numbers, for ``alpha`` (left NaN without it).

    Returns
    -------
    DataFrame
        ``factor, n_items, alpha, omega, ave, alpha_latent, omega_latent``; factors
        with a single indicator are left out (semTools' ``dropSingle``); ``ave`` is
        semTools' ``AVE()``, ``sum(lambda^2) psi / tr(Delta^-1 R Delta^-1)`` (NaN when an
        indicator loads on several factors).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from semnet.analyses.reliability_ordinal import block_reliability
    >>> items = ["a", "b", "c"]
    >>> lam = pd.DataFrame({"f": [0.7, 0.7, 0.7]}, index=items)
    >>> R = pd.DataFrame(np.full((3, 3), 0.49) + 0.51 * np.eye(3), items, items)
    >>> tau = {x: np.array([-1.0, 0.0, 1.0]) for x in items}
    >>> block_reliability(lam, pd.DataFrame([[1.0]], ["f"], ["f"]), R, tau).round(4)
      factor  n_items  alpha   omega   ave  alpha_latent  omega_latent
    0      f        3    NaN  0.6981  0.49        0.7424        0.7424
    """
    rows = []
    cross = (loadings != 0).sum(axis=1) > 1
    for f in loadings.columns:
        items = [x for x in loadings.index if loadings.at[x, f] != 0]
        if len(items) < 2:
            continue
        delta = np.ones(len(items)) if scales is None else scales[items].to_numpy(float)
        inv = np.outer(1 / delta, 1 / delta)
        latent = cor.loc[items, items].to_numpy(float) * inv
        lam = loadings.loc[items, f].to_numpy(float)
        phi = float(psi.at[f, f])
        alpha = np.nan
        if code_cov is not None:
            alpha = cronbach_alpha(code_cov.loc[items, items].to_numpy(float) * inv)
        rows.append({
            "factor": f,
            "n_items": len(items),
            "alpha": alpha,
            "omega": categorical_omega(lam, [thresholds[x] for x in items], latent,
                                       psi=phi, scales=delta),
            "ave": np.nan if cross[items].any() else float((lam**2).sum() * phi
                                                            / np.trace(latent)),
            "alpha_latent": cronbach_alpha(latent),
            "omega_latent": float(lam.sum() ** 2 * phi / latent.sum()),
        })
    columns = ["factor", "n_items", "alpha", "omega", "ave", "alpha_latent", "omega_latent"]
    return pd.DataFrame(rows, columns=columns)


def _code_cov(data: pd.DataFrame, names: list[str], ordinal: set[str],
              missing: str) -> pd.DataFrame:
    """Covariance of the items' category numbers (continuous variables as they are),
    listwise or pairwise complete."""
    frame = data[names]
    if missing == "listwise":
        frame = frame.dropna()
    columns = {n: ordinal_item(frame[n], n)[0] if n in ordinal
               else pd.to_numeric(frame[n]).to_numpy(float) for n in names}
    return pd.DataFrame(columns, index=frame.index).cov()


def ordinal_reliability(
    model: str,
    data: pd.DataFrame,
    *,
    ordered: Sequence[str] | bool | None = True,
    group: str | None = None,
    missing: str = "listwise",
) -> pd.DataFrame:
    """Cronbach's alpha of ordinal items on the category scale and on the polychoric
    correlations (ordinal alpha), per factor of ``model`` (and per group), from data.

    Parameters
    ----------
    model : str
        lavaan syntax; only its ``=~`` lines are used.
    data : DataFrame
        The items (never modified).
    ordered : sequence of str or True
        The ordinal items (as :func:`semnet.polychoric`; ``True``: every item).
    group : str, optional
        A grouping column: the statistics of each group.
    missing : {"listwise", "pairwise"}
        Cases complete on every item, or each pair's complete cases.

    Returns
    -------
    DataFrame
        ``group, factor, n_items, alpha, alpha_latent``: ``alpha`` from the covariance
        of the category numbers ``1 .. K`` (semTools' ``tau.eq=TRUE, ord.scale=TRUE``),
        ``alpha_latent`` from the polychoric correlations (``ord.scale=FALSE``; NaN
        for a factor with a continuous indicator, as semTools).

    Examples
    --------
    >>> import pandas as pd
    >>> import semnet
    >>> from semnet.analyses.reliability_ordinal import ordinal_reliability
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> items = hs[["x1", "x2", "x3"]].apply(lambda c: pd.cut(c, 4, labels=False))
    >>> ordinal_reliability("visual =~ x1 + x2 + x3", items).round(3)
      group  factor  n_items  alpha  alpha_latent
    0  None  visual        3  0.524         0.614
    """
    factors = {f: v for f, v in indicators(model).items() if len(v) > 1}
    names = list(dict.fromkeys(x for items in factors.values() for x in items))
    absent = [n for n in names if n not in data.columns]
    if absent:
        raise SemnetError(f"item(s) {', '.join(map(repr, absent))} of the model are not in "
                          "the data.")
    if group is not None:
        check_group_column(data, group)
    keep = names if group is None else [*names, group]
    stats = polychoric(data[keep], ordered=ordered_among(ordered, names), group=group,
                       missing=missing)
    if isinstance(stats, Polychoric):
        parts = {None: (stats, data)}
    else:
        text = np.array([str(v) for v in data[group].to_numpy()], dtype=object)
        parts = {label: (pc, data[text == label]) for label, pc in stats.items()}
    rows = []
    for label, (pc, part) in parts.items():
        ordinal = set(pc.ordered)
        cov = _code_cov(part, names, ordinal, missing)
        for f, items in factors.items():
            all_ordinal = ordinal.issuperset(items)
            cor = pc.cor.loc[items, items].to_numpy()
            rows.append({
                "group": label,
                "factor": f,
                "n_items": len(items),
                "alpha": cronbach_alpha(cov.loc[items, items].to_numpy()),
                "alpha_latent": cronbach_alpha(cor) if all_ordinal else np.nan,
            })
    return pd.DataFrame(rows, columns=["group", "factor", "n_items", "alpha", "alpha_latent"])
