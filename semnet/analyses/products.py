"""Product indicators for latent interactions (semTools' ``indProd``).

The product-indicator approach (Kenny & Judd, 1984; Marsh, Wen & Hau, 2004) measures
a latent interaction ``X × Z`` by products of the indicators of ``X`` and ``Z``.  The
indicators are centred first so that the products carry as little of the main
effects as possible:

``"mean"``
    Centre each indicator at its mean, then multiply (semTools ``meanC = TRUE,
    doubleMC = FALSE``).
``"double_mean"``
    Centre the indicators, multiply, then centre the products (Lin, Wen, Marsh & Lin,
    2010; semTools' default, ``meanC = TRUE, doubleMC = TRUE``).
``"residual"``
    Multiply the raw indicators, then replace each product by its residual from the
    least-squares regression on all first-order indicators of both factors
    ("orthogonalizing", Little, Bovaird & Widaman, 2006; semTools' ``orthogonalize``).
``"none"``
    Raw products.

Missing values
    A product is missing where one of its two indicators is missing.  Means are taken
    over the available cases of each column, as R's ``scale()`` does.  For residual
    centring the regression uses the cases complete on every indicator involved; a
    product of a case that is incomplete there has no residual and is set to missing.
    (semTools leaves the *raw, uncentred* product in such cells, which mixes two
    different scales in one column; semnet does not reproduce that.)

Names
    As semTools: ``"x1.z1"`` (the two indicator names joined by a dot).  lavaan (and
    semnet) model syntax accepts dots in names, so ``xz =~ x1.z1 + x2.z2`` works as
    written.  Names that would not be valid identifiers (an indicator whose name
    starts with a digit, or has characters other than letters, digits, ``_`` and
    ``.``) are rejected with a hint to pass ``names=``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from semnet.errors import DataError, OptionError, check_choice

METHODS = ("double_mean", "mean", "residual", "none")

_IDENTIFIER = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


def product_indicators(
    data: pd.DataFrame,
    x: Sequence[str] | str,
    z: Sequence[str] | str,
    method: str = "double_mean",
    match: bool = True,
    names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Add product indicators of two sets of indicators to a copy of ``data``.

    Parameters
    ----------
    data : DataFrame
        The data (never modified).
    x, z : sequence of str
        Indicators of the two interacting factors (column names, in order).
    method : {"double_mean", "mean", "residual", "none"}
        Centring (see the module docstring): double-mean centring (the default, as
        semTools' ``indProd``), mean centring of the indicators, residual centring
        (semTools' ``orthogonalize``), or raw products.
    match : bool
        ``True``: matched pairs ``x[0]·z[0], x[1]·z[1], ...`` (Marsh et al., 2004);
        ``x`` and ``z`` must then have the same length, as in semTools.  ``False``:
        all ``len(x) * len(z)`` products, ``x[0]·z[0], x[0]·z[1], ...``.
    names : sequence of str, optional
        Names of the product columns; default ``"x1.z1"`` style, as semTools.

    Returns
    -------
    DataFrame
        A new DataFrame: every column of ``data`` followed by the products.

    Raises
    ------
    DataError
        Unknown or non-numeric columns, unequal set sizes with ``match=True``, a name
        clash with an existing column, or a product name that is not a valid
        identifier.

    Examples
    --------
    >>> import semnet
    >>> from semnet.analyses.products import product_indicators
    >>> hs = semnet.datasets.holzinger_swineford()
    >>> d = product_indicators(hs, ["x1", "x2", "x3"], ["x4", "x5", "x6"])
    >>> list(d.columns[-3:])
    ['x1.x4', 'x2.x5', 'x3.x6']
    >>> round(float(d["x1.x4"].mean()), 12)
    0.0
    """
    method = check_choice("method", method, METHODS)
    if not isinstance(data, pd.DataFrame):
        raise DataError(
            f"data must be a pandas DataFrame, not {type(data).__name__}; wrap arrays "
            "with pandas.DataFrame(array, columns=[...])."
        )
    xs = _names(x, "x")
    zs = _names(z, "z")
    for v in (*xs, *zs):
        if v not in data.columns:
            raise DataError(
                f"indicator {v!r} is not a column of the data; the data has "
                f"{', '.join(map(str, list(data.columns)[:20]))}"
                + (" ..." if data.shape[1] > 20 else "")
                + "."
            )
        if not (pd.api.types.is_numeric_dtype(data[v]) or pd.api.types.is_bool_dtype(data[v])):
            raise DataError(
                f"indicator {v!r} is not numeric (dtype {data[v].dtype}); recode it to numbers."
            )
    if match and len(xs) != len(zs):
        raise DataError(
            f"match=True pairs the indicators one to one, but x has {len(xs)} and z has "
            f"{len(zs)}; give sets of equal size, or pass match=False for all "
            f"{len(xs) * len(zs)} products."
        )
    pairs = list(zip(xs, zs, strict=True)) if match else [(a, b) for a in xs for b in zs]

    if names is None:
        names = [f"{a}.{b}" for a, b in pairs]
        bad = [n for n in names if not _IDENTIFIER.match(n) or n[0].isdigit()]
        if bad:
            raise DataError(
                f"the default product name(s) {', '.join(map(repr, bad))} are not valid "
                "model-syntax identifiers (letters, digits, '_' and '.', not starting with "
                "a digit); pass names=[...] explicitly."
            )
    else:
        names = [str(n) for n in names]
        if len(names) != len(pairs):
            raise DataError(
                f"names has {len(names)} entries but there are {len(pairs)} products "
                f"({', '.join(f'{a}*{b}' for a, b in pairs)})."
            )
    if len(set(names)) != len(names):
        raise DataError(f"the product names {names} are not unique.")
    clash = [n for n in names if n in data.columns]
    if clash:
        raise DataError(
            f"the data already has column(s) {', '.join(map(repr, clash))}; drop them "
            "first or pass other names=."
        )

    X = data[xs].to_numpy(dtype=float, na_value=np.nan)
    Z = data[zs].to_numpy(dtype=float, na_value=np.nan)
    if method in ("mean", "double_mean"):
        X = X - _colmeans(X)
        Z = Z - _colmeans(Z)
    ix = {v: k for k, v in enumerate(xs)}
    iz = {v: k for k, v in enumerate(zs)}
    P = np.column_stack([X[:, ix[a]] * Z[:, iz[b]] for a, b in pairs])
    if method == "residual":
        P = _residualize(P, np.column_stack([X, Z]))
    elif method == "double_mean":
        P = P - _colmeans(P)

    out = data.copy()
    products = pd.DataFrame(P, index=data.index, columns=names)
    return pd.concat([out, products], axis=1)


def _names(v: Sequence[str] | str, what: str) -> list[str]:
    if isinstance(v, str):
        v = [v]
    out = list(v)
    if not out:
        raise OptionError(f"{what} must name at least one indicator.")
    if len(set(out)) != len(out):
        raise OptionError(f"{what} names an indicator twice: {out}.")
    return out


def _colmeans(a: np.ndarray) -> np.ndarray:
    """Column means over the available (non-missing) values, as R's ``scale()``."""
    with np.errstate(invalid="ignore"):
        ok = ~np.isnan(a)
        n = ok.sum(axis=0)
        s = np.where(ok, a, 0.0).sum(axis=0)
        return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def _residualize(P: np.ndarray, W: np.ndarray) -> np.ndarray:
    """Residuals of each column of ``P`` regressed (with intercept) on ``W``, fitted on
    the rows complete on ``P`` and ``W``; other rows are NaN."""
    ok = ~(np.isnan(P).any(axis=1) | np.isnan(W).any(axis=1))
    out = np.full(P.shape, np.nan)
    if ok.sum() <= W.shape[1] + 1:
        raise DataError(
            f"residual centring needs more complete cases ({int(ok.sum())}) than "
            f"regressors ({W.shape[1] + 1}, intercept included)."
        )
    design = np.column_stack([np.ones(int(ok.sum())), W[ok]])
    coef, *_ = np.linalg.lstsq(design, P[ok], rcond=None)
    out[ok] = P[ok] - design @ coef
    return out
