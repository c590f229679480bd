"""Covariance matrix of the estimates from the expected information (lavaan's default
``se = "standard"``, ``information = "expected"`` for complete-data ML).

Equality constraints restrict the estimates to a manifold with tangent basis ``T``
(the linear reparametrization ``K``, further reduced by the null space of the Jacobian of
the active nonlinear constraints), and ``V = T (T' I T)^-1 T' / N``, the same as lavaan's
bordered-information inverse.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.linalg import lapack, null_space

from semnet.errors import SemnetWarning
from semnet.estimation.blocks import diagonal_blocks
from semnet.estimation.constraints import LinearConstraints
from semnet.estimation.ml import Evaluation, MLDiscrepancy
from semnet.estimation.optimize import constraint_jacobian
from semnet.inference.moment_space import congruence, expansion


class SingularInformationError(Exception):
    """The information matrix cannot be inverted; carries the smallest eigenvalue."""

    def __init__(self, smallest: float) -> None:
        self.smallest = smallest
        super().__init__(smallest)


def tangent_basis(con: LinearConstraints, x: np.ndarray) -> np.ndarray:
    """Basis ``T`` of the directions in ``x`` that keep every active constraint."""
    K = con.K
    active = [
        nc.h for nc in con.nonlinear if nc.equality or abs(nc.h(x)) < 1e-6
    ]
    if not active:
        return K
    z = con.to_z(x)
    A = constraint_jacobian([lambda zz, h=h: h(con.to_x(zz)) for h in active], z)
    return K @ null_space(A)


def expected_vcov(
    disc: MLDiscrepancy,
    con: LinearConstraints,
    x: np.ndarray,
    evaluation: Evaluation | None = None,
    in_z: bool = False,
) -> np.ndarray:
    """Covariance of the free parameters ``x``; raises :class:`SingularInformationError`.

    ``evaluation``: the discrepancy's evaluation at ``x`` with its information, when the
    caller has it (e.g. from the optimizer); ``in_z``: its information is already with
    respect to the constrained parameters (``con.matrix_z`` of the information).
    """
    info, T, plain = _information_z(disc, con, x, evaluation, in_z)
    if info.size == 0:
        return np.zeros((x.size, x.size))
    inv = _checked_inverse(info)
    # N, or the discrepancy's own count (N - G for ordinal statistics, as lavaan's)
    n = getattr(disc, "vcov_divisor", disc.ntotal)
    if plain:
        return con.matrix_x(inv) / n
    return T @ inv @ T.T / n


def _information_z(
    disc: MLDiscrepancy,
    con: LinearConstraints,
    x: np.ndarray,
    evaluation: Evaluation | None,
    in_z: bool,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The expected information in the directions ``T`` that keep the constraints, ``T``
    and whether ``T`` is the constraints' own basis (see :func:`expected_vcov`)."""
    T = tangent_basis(con, x)
    plain = T is con.K  # no active nonlinear constraint: T'IT is con.matrix_z
    if evaluation is None or evaluation.information is None or (in_z and not plain):
        evaluation, in_z = disc.evaluate(x), False
    if in_z:
        return evaluation.information, T, plain
    info = evaluation.information
    return (con.matrix_z(info) if plain else T.T @ info @ T), T, plain


def identification_message(
    disc: MLDiscrepancy,
    con: LinearConstraints,
    x: np.ndarray,
    evaluation: Evaluation | None = None,
    in_z: bool = False,
) -> str | None:
    """A warning where the expected information at ``x`` is singular or nearly so
    (smallest eigenvalue at most :data:`ILL_CONDITIONED_RATIO` times the largest), else
    None: for standard errors from the observed information (MLR, ``information =
    "observed"``), whose Hessian at a point of a flat ridge can look regular when the
    model is not identified.  lavaan does not check this (its standard errors are then
    silent).

    Examples
    --------
    >>> import semnet
    >>> fit = semnet.cfa("f =~ x1 + x2 + x3", semnet.datasets.holzinger_swineford())
    >>> identification_message(fit.discrepancy(), fit.constraints, fit.x) is None
    True
    """
    info = _information_z(disc, con, x, evaluation, in_z)[0]
    if info.size == 0:
        return None
    inv = _cholesky_inverse(info)
    if inv is not None and 1.0 / inv.trace() > ILL_CONDITIONED_RATIO * max(1.0, info.trace()):
        return None
    eig = np.linalg.eigvalsh(info)
    if eig[0] > ILL_CONDITIONED_RATIO * max(1.0, eig[-1]):
        return None
    return (
        f"the expected information matrix is (nearly) singular (smallest eigenvalue "
        f"{eig[0]:.3g}, largest {eig[-1]:.3g}), though the observed information the "
        "standard errors use is not: the model may not be identified, and its standard "
        "errors describe one point of a flat ridge. Check for factors with too few "
        "indicators, factors without a scale, or redundant paths."
    )


#: the information is singular (no standard errors) when its smallest eigenvalue is at most
#: this many times its largest: machine precision, where lavaan's ``solve()`` fails too
SINGULAR_RATIO = float(np.finfo(float).eps)
#: below this ratio the standard errors are computed, as lavaan does, with a warning that
#: they rest on a nearly singular information matrix
ILL_CONDITIONED_RATIO = 1e-10


class NearlySingularInformation(SemnetWarning):
    """The information matrix is nearly singular: standard errors are unreliable."""


def _checked_inverse(info: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric information matrix, block by block where it is block
    diagonal (a configural model with many groups), with the check of
    :func:`_checked_dense_inverse`; a block whose Cholesky bound does not clear the
    threshold sends the whole matrix to the dense check (its eigenvalues decide)."""
    blocks = diagonal_blocks(info)
    if blocks is None:
        return _checked_dense_inverse(info)
    scale = max(1.0, info.trace())
    inv = np.zeros_like(info)
    for idx in blocks:
        part = _cholesky_inverse(info[np.ix_(idx, idx)])
        if part is None or not 1.0 / part.trace() > ILL_CONDITIONED_RATIO * scale:
            return _checked_dense_inverse(info)
        inv[np.ix_(idx, idx)] = part
    return inv


def checked_constrained_inverse(info: np.ndarray, T: np.ndarray) -> np.ndarray:
    """``T (T' info T)^-1 T'`` (:func:`~semnet.inference.moment_space.constrained_inverse`)
    for standard errors and robust tests: raises :class:`SingularInformationError` where
    ``T' info T`` is singular to machine precision and warns where it is nearly so, as
    the standard errors' own inverse (a robust sandwich of an unidentified model would
    otherwise be rounding noise, with no warning).

    Examples
    --------
    >>> checked_constrained_inverse(np.diag([4.0, 2.0]), np.eye(2)).diagonal().round(12).tolist()
    [0.25, 0.5]
    """
    out = expansion(T, _checked_inverse(congruence(T, info)))
    return (out + out.T) / 2


def _cholesky_inverse(info: np.ndarray) -> np.ndarray | None:
    """The inverse of a symmetric positive definite matrix by Cholesky, or None."""
    L, fail = lapack.dpotrf(info, lower=1)  # (its upper triangle zeroed)
    if fail != 0:
        return None
    l_inv, fail = lapack.dtrtri(L, lower=1)
    if fail != 0:
        return None
    # info^-1 = L'^-1 L^-1 (a product numpy makes exactly symmetric; cheaper than
    # LAPACK's dpotri on small matrices)
    return l_inv.T @ l_inv


def _checked_dense_inverse(info: np.ndarray) -> np.ndarray:
    """Inverse of a symmetric information matrix.

    Raises :class:`SingularInformationError` when its smallest eigenvalue is at most
    machine precision times its largest (lavaan cannot invert it either); warns with
    :class:`NearlySingularInformation` when that ratio is below 1e-10, where the
    standard errors are computed but large and unstable (empirical under-identification).

    Cholesky first: the smallest eigenvalue is at least ``1 / tr(inverse)`` and the
    largest at most ``tr(info)``, so where those bounds already clear the threshold the
    eigenvalues are not needed; otherwise they decide.
    """
    inv = _cholesky_inverse(info)
    if inv is not None and 1.0 / inv.trace() > ILL_CONDITIONED_RATIO * max(1.0, info.trace()):
        return inv
    eig = np.linalg.eigvalsh(info)
    scale = max(1.0, eig[-1])
    if eig[0] <= SINGULAR_RATIO * scale:
        raise SingularInformationError(float(eig[0]))
    if eig[0] <= ILL_CONDITIONED_RATIO * scale:
        warnings.warn(NearlySingularInformation(
            f"the information matrix is nearly singular (smallest eigenvalue {eig[0]:.3g}, "
            f"largest {eig[-1]:.3g}): the standard errors are computed, as lavaan does, "
            "but are large and unstable. The model may be empirically under-identified; "
            "check for near-zero factor variances or loadings, redundant paths, or too "
            "small a sample."), stacklevel=2)
    inv = np.linalg.inv(info)
    return (inv + inv.T) / 2
