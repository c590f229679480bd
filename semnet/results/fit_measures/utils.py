"""Numerical helpers shared by the fit-measure families (lavaan's ``lav_fit_utils``):
Cholesky log-determinants, chi-square distribution functions, R's ``all.equal`` and
``uniroot``."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import special

#: R's ``.Machine$double.eps``: the residual measures leave variances below it unscaled.
DOUBLE_EPS = float(np.finfo(float).eps)

#: Tolerance of R's ``all.equal()`` (``sqrt(.Machine$double.eps)``).
_ALL_EQUAL_TOL = 1.5e-8

#: R's default ``uniroot()`` tolerance, ``.Machine$double.eps^0.25``.
_UNIROOT_TOL = DOUBLE_EPS**0.25


def chol_logdet_inv(A: np.ndarray) -> tuple[float, np.ndarray]:
    """Log-determinant and inverse of a symmetric positive-definite matrix.

    Parameters
    ----------
    A : numpy.ndarray
        Symmetric positive-definite matrix.

    Returns
    -------
    logdet : float
        ``log|A|`` from the Cholesky factor.
    inv : numpy.ndarray
        ``A^{-1}`` (symmetrised).

    Raises
    ------
    ValueError
        If ``A`` is not positive definite.

    Examples
    --------
    >>> import numpy as np
    >>> logdet, inv = chol_logdet_inv(np.diag([2.0, 8.0]))
    >>> round(logdet, 4), inv.diagonal().round(4).tolist()
    (2.7726, [0.5, 0.125])
    """
    if A.shape[0] == 0:
        return 0.0, np.zeros((0, 0))
    try:
        L = np.linalg.cholesky(A)
    except np.linalg.LinAlgError as exc:
        raise ValueError("matrix is not positive definite") from exc
    logdet = 2.0 * float(np.sum(np.log(np.diag(L))))
    Linv = np.linalg.solve(L, np.eye(A.shape[0]))
    inv = Linv.T @ Linv
    return logdet, 0.5 * (inv + inv.T)


def chol_logdet(A: np.ndarray) -> float:
    """``log|A|`` of a symmetric positive-definite matrix via Cholesky.

    Parameters
    ----------
    A : numpy.ndarray
        Symmetric positive-definite matrix (``0 x 0`` gives 0).

    Returns
    -------
    float
        ``log|A|``.

    Raises
    ------
    ValueError
        If ``A`` is not positive definite.

    Examples
    --------
    >>> import numpy as np
    >>> chol_logdet(np.eye(3))
    0.0
    """
    if A.shape[0] == 0:
        return 0.0
    try:
        L = np.linalg.cholesky(A)
    except np.linalg.LinAlgError as exc:
        raise ValueError("matrix is not positive definite") from exc
    return 2.0 * float(np.sum(np.log(np.diag(L))))


def pchisq(q: float, df: float, ncp: float = 0.0) -> float:
    """Chi-square CDF (R's ``pchisq``), central or non-central.

    Parameters
    ----------
    q : float
        The quantile.
    df : float
        Degrees of freedom.
    ncp : float, optional
        Non-centrality (default 0, the central distribution).

    Returns
    -------
    float
        ``P(X <= q)``.

    Examples
    --------
    >>> round(pchisq(3.841459, 1.0), 6)
    0.95
    """
    if ncp == 0.0:
        return float(special.chdtr(df, q))
    return float(special.chndtr(q, df, ncp))


def qchisq(p: float, df: float) -> float:
    """Chi-square quantile (R's ``qchisq``); ``df = 0`` is a point mass at 0.

    Parameters
    ----------
    p : float
        The probability.
    df : float
        Degrees of freedom.

    Returns
    -------
    float
        The ``p`` quantile of the central chi-square on ``df``.

    Examples
    --------
    >>> round(qchisq(0.95, 1.0), 4), qchisq(0.95, 0)
    (3.8415, 0.0)
    """
    if df == 0:
        return 0.0
    return float(special.chdtri(df, 1.0 - p))


def chisq_pvalue(x2: float, df: float) -> float:
    """Upper-tail p-value as lavaan computes it (``NA`` when ``df == 0``).

    Parameters
    ----------
    x2 : float
        The chi-square statistic.
    df : float
        Its degrees of freedom.

    Returns
    -------
    float
        ``1 - pchisq(x2, df)``; ``nan`` when ``df == 0`` or ``x2`` is not finite.

    Examples
    --------
    >>> round(chisq_pvalue(3.841459, 1.0), 6), chisq_pvalue(0.0, 0.0)
    (0.05, nan)
    """
    if not np.isfinite(x2) or df == 0:
        return math.nan
    return 1.0 - pchisq(x2, df)


def r_all_equal_zero(x: float) -> bool:
    """R's ``isTRUE(all.equal(x, 0))`` for a finite scalar.

    Parameters
    ----------
    x : float
        The value.

    Returns
    -------
    bool
        Whether ``|x|`` is below R's ``all.equal()`` tolerance, ``1.5e-8``.

    Examples
    --------
    >>> r_all_equal_zero(1e-9), r_all_equal_zero(1e-6)
    (True, False)
    """
    return abs(x) < _ALL_EQUAL_TOL


def zeroin(
    f: Callable[[float], float],
    lower: float,
    upper: float,
    tol: float = _UNIROOT_TOL,
    maxiter: int = 1000,
) -> float:
    """Brent's root finder with the stopping rule of R's ``uniroot()``.

    Parameters
    ----------
    f : callable
        Scalar function with a sign change on ``[lower, upper]``.
    lower, upper : float
        Bracketing interval.
    tol : float, optional
        Absolute tolerance (R's default ``.Machine$double.eps^0.25``).
    maxiter : int, optional
        Maximum number of function evaluations.

    Returns
    -------
    float
        Approximate root; ``nan`` when the end points do not bracket a root
        (R's ``uniroot()`` fails, lavaan then reports ``NA``).

    Examples
    --------
    >>> round(zeroin(lambda v: v * v - 2.0, 0.0, 2.0), 4)
    1.4142
    """
    a, b = lower, upper
    fa, fb = f(a), f(b)
    if not (np.isfinite(fa) and np.isfinite(fb)) or fa * fb > 0.0:
        return math.nan
    if fa == 0.0:
        return a
    if fb == 0.0:
        return b
    c, fc = a, fa
    for _ in range(maxiter + 1):
        prev_step = b - a
        if abs(fc) < abs(fb):
            # make b the best approximation so far
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2.0 * DOUBLE_EPS * abs(b) + tol / 2.0
        new_step = (c - b) / 2.0
        if abs(new_step) <= tol_act or fb == 0.0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:
                # secant step
                t1 = fb / fa
                p = cb * t1
                q = 1.0 - t1
            else:
                # inverse quadratic interpolation
                q = fa / fc
                t1 = fb / fc
                t2 = fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0.0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2.0) and p < abs(prev_step * q / 2.0):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0.0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0.0 and fc > 0.0) or (fb < 0.0 and fc < 0.0):
            c, fc = a, fa
    return b
