"""The linear reparametrization x = x0 + K z and its shortcuts without constraints."""

from __future__ import annotations

import numpy as np
import pytest
from shared_models import HS_MODEL as HS

import semnet
from semnet.estimation.constraints import LinearConstraints, linear_constraints


def _constraints(model: str) -> LinearConstraints:
    fit = semnet.cfa(model, semnet.datasets.holzinger_swineford())
    return linear_constraints(fit.partable, fit.model.nfree, fit.model.free, fit.values)


@pytest.mark.parametrize(("model", "identity"), [
    (HS, True),
    (HS.replace("x2 + x3", "a*x2 + b*x3"), True),  # labels, but no ties
    (HS.replace("x2 + x3", "a*x2 + a*x3"), False),
    (HS + "x2 ~~ x3\nvisual =~ NA*x1\nvisual ~~ 1*visual\n", True),
])  # fmt: skip
def test_identity_flag(model: str, identity: bool) -> None:
    con = _constraints(model)
    assert con.identity is identity
    if identity:
        np.testing.assert_array_equal(con.K, np.eye(con.K.shape[0]))
        assert not con.x0.any()


@pytest.mark.parametrize("model", [HS, HS.replace("x2 + x3", "a*x2 + a*x3")])
def test_maps_agree_with_the_products(model: str) -> None:
    con = _constraints(model)
    rng = np.random.default_rng(1)
    q, r = con.K.shape
    x, g, M = rng.normal(size=q), rng.normal(size=q), rng.normal(size=(q, q))
    z = rng.normal(size=r)
    np.testing.assert_allclose(con.to_x(z), con.x0 + con.K @ z)
    np.testing.assert_allclose(con.gradient_z(g), con.K.T @ g)
    np.testing.assert_allclose(con.matrix_z(M), con.K.T @ M @ con.K)
    xz = con.to_x(z)
    np.testing.assert_allclose(con.to_x(con.to_z(xz)), xz)
    if con.identity:
        assert con.to_x(x) is not x and con.to_z(x) is not x  # copies, never the argument


def test_tied_parameters_map_through_the_sparse_K_as_through_the_dense_one():
    """Ties only (group_equal): K' M K, K' g, x0 + K z and the least-squares z, computed
    through the sparse K', equal the dense products."""
    fit = semnet.cfa(
        "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6",
        semnet.datasets.holzinger_swineford(), group="school",
        group_equal=["loadings", "intercepts"],
    )
    con = fit.constraints
    K = con.K
    q, qz = K.shape
    rng = np.random.default_rng(5)
    M, g, z = rng.normal(size=(q, q)), rng.normal(size=q), rng.normal(size=qz)
    np.testing.assert_allclose(con.matrix_z(M), K.T @ M @ K, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(con.gradient_z(g), K.T @ g, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(con.to_x(z), con.x0 + K @ z, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(con.to_z(con.to_x(z)), z, rtol=1e-12, atol=1e-12)
    V = rng.normal(size=(qz, qz))
    np.testing.assert_allclose(con.matrix_x(V), K @ V @ K.T, rtol=1e-12, atol=1e-12)


def test_tie_classes_are_labelled_as_by_relabelling_every_parameter():
    """The union-find labels equal those of relabelling every parameter per tie (the
    order of z, and so the fit's arithmetic, is unchanged)."""
    from semnet.estimation import constraints

    rng = np.random.default_rng(11)
    q = 60
    pairs = [tuple(int(v) for v in rng.choice(q, 2, replace=False)) for _ in range(45)]
    expected = list(range(q))
    for i, j in pairs:
        a, b = sorted((i, j))
        old, new = expected[b], expected[a]
        expected = [new if c == old else c for c in expected]
    assert constraints._tie_labels(q, pairs) == expected
