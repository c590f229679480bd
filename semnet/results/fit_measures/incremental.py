"""The incremental fit indices (lavaan's ``lav_fit_cfi``): CFI, TLI / NNFI, RFI, NFI, PNFI,
IFI and RNI, and the robust CFI / TLI / NNFI / RNI of Brosseau-Liard & Savalei (2014)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from semnet.results.fit_measures.utils import r_all_equal_zero


def _cfi(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """CFI (Bentler, 1990); 1 when both non-centralities are (nearly) zero."""
    t1 = max(x2 - df, 0.0)
    t2 = max(x2 - df, x2_null - df_null, 0.0)
    if r_all_equal_zero(t1) and r_all_equal_zero(t2):
        return 1.0
    return 1.0 - t1 / t2


def _rni(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """RNI (McDonald & Marsh, 1990): the CFI without truncation at zero."""
    t1 = x2 - df
    t2 = x2_null - df_null
    if r_all_equal_zero(t2) or not (np.isfinite(t1) and np.isfinite(t2)):
        return math.nan
    return 1.0 - t1 / t2


def _tli(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """TLI / NNFI in lavaan's ``1 - (X2 - df) df0 / ((X2_0 - df0) df)`` form."""
    t1 = (x2 - df) * df_null
    t2 = (x2_null - df_null) * df
    if df > 0 and abs(t2) > 0:
        return 1.0 - t1 / t2
    if not (np.isfinite(t1) and np.isfinite(t2)):
        return math.nan
    return 1.0


def robust_incremental(
    x2: float, df: float, x2_null: float, df_null: float, c_hat: float, c_hat_null: float
) -> dict[str, float]:
    """Robust CFI / TLI / NNFI / RNI (Brosseau-Liard & Savalei, 2014).

    The unscaled statistics are compared with their expectations under the
    robust reference distribution, ``c_hat * df`` and ``c_hat_null *
    df_null``.  As in lavaan, the standard formulas are used when ``df`` is
    zero or either scaling factor equals 1 exactly, and everything is ``nan``
    when any input is missing.

    Parameters
    ----------
    x2, df : float
        Unscaled chi-square of the model and its degrees of freedom.
    x2_null, df_null : float
        The same for the baseline model.
    c_hat, c_hat_null : float
        Scaling factors of the model's and the baseline's robust tests.

    Returns
    -------
    dict
        ``cfi, tli, nnfi, rni``.

    Examples
    --------
    >>> round(robust_incremental(5.0, 2.0, 100.0, 10.0, 1.2, 1.5)["cfi"], 4)
    0.9694
    """
    names = ("cfi", "tli", "nnfi", "rni")
    if any(math.isnan(v) for v in (x2, df, x2_null, df_null, c_hat, c_hat_null)):
        return dict.fromkeys(names, math.nan)
    if df > 0 and c_hat != 1.0 and c_hat_null != 1.0:
        df_eff, df_null_eff = c_hat * df, c_hat_null * df_null
    else:
        df_eff, df_null_eff = df, df_null
    cfi = _cfi(x2, df_eff, x2_null, df_null_eff)
    rni = _rni(x2, df_eff, x2_null, df_null_eff)
    # TLI: (X2 - c df) df0 / ((X2_0 - c0 df0) df), guarded on the plain df
    t1 = (x2 - df_eff) * df_null
    t2 = (x2_null - df_null_eff) * df
    if df > 0 and abs(t2) > 0:
        tli = 1.0 - t1 / t2
    elif not (np.isfinite(t1) and np.isfinite(t2)):
        tli = math.nan
    else:
        tli = 1.0
    return {"cfi": cfi, "tli": tli, "nnfi": tli, "rni": rni}


def _rfi(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """RFI (Bollen, 1986)."""
    if df > df_null:
        return math.nan
    if df > 0 and df_null > 0:
        t1 = x2_null / df_null - x2 / df
        t2 = x2_null / df_null
        if not (np.isfinite(t1) and np.isfinite(t2)):
            return math.nan
        if t1 < 0 or t2 < 0:
            return 1.0
        return t1 / t2
    return 1.0


def _nfi(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """NFI (Bentler & Bonett, 1980)."""
    if df > df_null or r_all_equal_zero(x2_null):
        return math.nan
    if df > 0:
        return (x2_null - x2) / x2_null
    return 1.0


def _pnfi(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """PNFI (James, Mulaik & Brett, 1982)."""
    if df_null > 0 and x2_null > 0:
        return (df / df_null) * ((x2_null - x2) / x2_null)
    return math.nan


def _ifi(x2: float, df: float, x2_null: float, df_null: float) -> float:
    """IFI (Bollen, 1989)."""
    t1 = x2_null - x2
    t2 = x2_null - df
    if not (np.isfinite(t1) and np.isfinite(t2)):
        return math.nan
    if t2 < 0:
        return 1.0
    if r_all_equal_zero(t2):
        return math.nan
    return t1 / t2


#: The incremental indices, each a function of ``(x2, df, x2_null, df_null)``.
_INCREMENTAL: dict[str, Callable[[float, float, float, float], float]] = {
    "cfi": _cfi, "tli": _tli, "nnfi": _tli, "rfi": _rfi,
    "nfi": _nfi, "pnfi": _pnfi, "ifi": _ifi, "rni": _rni,
}  # fmt: skip


def incremental_measures(
    x2: float, df: float, x2_null: float, df_null: float, suffix: str = ""
) -> dict[str, float]:
    """The incremental indices (CFI, TLI, NNFI, RFI, NFI, PNFI, IFI, RNI) of ``x2`` on
    ``df`` against the baseline's ``x2_null`` on ``df_null``.

    Parameters
    ----------
    x2, df : float
        Chi-square of the model and its degrees of freedom.
    x2_null, df_null : float
        The same for the baseline model.
    suffix : str, optional
        Appended to every name (``"_scaled"`` for the scaled statistics).

    Returns
    -------
    dict
        One value per index, all ``nan`` unless every input is finite.

    Examples
    --------
    >>> out = incremental_measures(5.0, 2.0, 100.0, 10.0, suffix="_scaled")
    >>> round(out["cfi_scaled"], 4), round(out["tli_scaled"], 4)
    (0.9667, 0.8333)
    """
    finite = all(np.isfinite(v) for v in (x2, df, x2_null, df_null))
    return {
        f"{name}{suffix}": fun(x2, df, x2_null, df_null) if finite else math.nan
        for name, fun in _INCREMENTAL.items()
    }
