"""Alignment of ordinal items (semnet.alignment(..., ordered=...)): thresholds aligned as
minus intercepts, one loss component per threshold; the loss with threshold rows, its
delta-method Jacobian, recovery of planted factor means and of a planted non-invariant
threshold and loading, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tolerances import GRAD_RTOL, JACOBIAN_RTOL, MIN_MEAN_CORRELATION

import semnet
from semnet.analyses.alignment import AlignmentResult, alignment
from semnet.analyses.alignment_loss import (
    Identification,
    loss_and_gradient,
    minimize_loss,
    reported,
    reported_jacobian,
)
from semnet.errors import OptionError

GROUPS = 8
MODEL = "f =~ y1 + y2 + y3 + y4 + y5"
CUTS = np.array([-0.9, 0.1, 1.0])
#: planted: the first threshold of y2 in group 2 (cut 0.7 higher), the loading of y4 in
#: group 5
THRESHOLD_GROUP, THRESHOLD_SHIFT = 2, 0.7
LOADING_GROUP, LOADING = 5, 0.2


def _central(func, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    out = np.empty(x.size)
    for k in range(x.size):
        up, down = x.copy(), x.copy()
        up[k] += h
        down[k] -= h
        out[k] = (func(up) - func(down)) / (2 * h)
    return out


def _threshold_configural(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Four items with two or three thresholds each (as minus intercepts) in 5 groups."""
    rng = np.random.default_rng(seed)
    lam0 = rng.uniform(0.5, 1.0, (4, 1)) * np.exp(rng.normal(0, 0.2, (1, 5)))
    rows = np.array([0, 0, 0, 1, 1, 2, 2, 2, 3, 3])
    nu0 = -(np.linspace(-1, 1, rows.size)[:, None] + rng.normal(0, 0.3, (rows.size, 5)))
    w = np.sqrt(np.outer(*(2 * [rng.integers(100, 400, 5).astype(float)])))
    return lam0, nu0, w, rows


def test_gradient_with_threshold_rows_matches_finite_differences() -> None:
    lam0, nu0, w, rows = _threshold_configural(1)
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(0, 0.5, 5), rng.normal(0, 0.3, 5)])

    def loss(v):
        return loss_and_gradient(v[:5], np.exp(v[5:]), lam0, nu0, w, rows)[0]

    grad = loss_and_gradient(x[:5], np.exp(x[5:]), lam0, nu0, w, rows)[1]
    np.testing.assert_allclose(grad, _central(loss, x), rtol=GRAD_RTOL, atol=1e-6)


def test_threshold_rows_count_every_threshold_and_each_loading_once() -> None:
    """Repeating an item's row as its own item counts its loading twice: the loss with
    ``rows`` is the loss of the expanded items less the repeated loadings' terms."""
    lam0, nu0, w, rows = _threshold_configural(3)
    alpha, psi = np.linspace(-0.3, 0.3, 5), np.exp(np.linspace(-0.2, 0.2, 5))
    value = loss_and_gradient(alpha, psi, lam0, nu0, w, rows)[0]
    expanded = loss_and_gradient(alpha, psi, lam0[rows], nu0, w)[0]
    none = np.zeros(0, dtype=int)
    loadings_once = loss_and_gradient(alpha, psi, lam0, np.zeros((0, 5)), w, none)[0]
    loadings_expanded = loss_and_gradient(alpha, psi, lam0[rows], np.zeros((0, 5)), w,
                                          none)[0]
    assert value == pytest.approx(expanded - loadings_expanded + loadings_once, rel=1e-12)


@pytest.mark.parametrize("method", ["FIXED", "FREE"])
def test_delta_method_jacobian_with_threshold_rows(method) -> None:
    lam0, nu0, w, rows = _threshold_configural(5)
    lam0[0, 1] += 0.4
    ident = Identification(method, 5, reference=0)
    shape = lam0.shape
    eta = np.concatenate([lam0.ravel(), nu0.ravel()])
    theta = minimize_loss(ident, lam0, nu0, w, starts=3, rows=rows)[0]
    jac, hess = reported_jacobian(theta, eta, ident, shape, w, rows)
    assert np.linalg.eigvalsh(hess).min() > 0
    step = 1e-4 * np.random.default_rng(6).normal(size=eta.size)
    moved = eta + step
    theta2 = minimize_loss(ident, moved[: lam0.size].reshape(shape),
                           moved[lam0.size :].reshape(-1, 5), w, starts=3, rows=rows)[0]
    change = reported(theta2, moved, ident, shape, rows) - reported(theta, eta, ident, shape,
                                                                    rows)
    np.testing.assert_allclose(jac @ step, change, atol=JACOBIAN_RTOL * np.abs(change).max())


@pytest.fixture(scope="module")
def survey() -> tuple[pd.DataFrame, np.ndarray]:
    """Eight groups of four-category items cut from latent responses, with known factor
    means and variances, one shifted threshold and one weak loading."""
    means = np.array([0.0, 0.6, -0.4, 1.0, 0.2, -0.8, 0.4, -0.2])
    var = np.array([1.0, 1.3, 0.8, 1.2, 0.9, 1.1, 0.7, 1.4])
    lams = np.tile(np.array([[0.8], [0.7], [0.75], [0.65], [0.7]]), (1, GROUPS))
    lams[3, LOADING_GROUP] = LOADING

    def c(values) -> str:
        return "c(" + ", ".join(f"{v:g}" for v in values) + ")"

    population = "\n".join(
        ["f =~ " + " + ".join(f"{c(lams[j])}*y{j + 1}" for j in range(5))]
        + [f"y{j + 1} ~~ 0.4*y{j + 1}" for j in range(5)]
        + [f"f ~ {c(means)}*1", f"f ~~ {c(var)}*f"])
    groups = {f"G{g}": 600 for g in range(GROUPS)}
    latent = semnet.simulate(population, groups, seed=11, group_column="country")
    data = latent.copy()
    for item in [f"y{j}" for j in range(1, 6)]:
        data[item] = np.digitize(latent[item], CUTS)
    shifted = (latent["country"] == f"G{THRESHOLD_GROUP}").to_numpy()
    data.loc[shifted, "y2"] = np.digitize(latent.loc[shifted, "y2"],
                                          CUTS + np.array([THRESHOLD_SHIFT, 0.0, 0.0]))
    return data, means


@pytest.fixture(scope="module")
def fixed(survey) -> AlignmentResult:
    return alignment(MODEL, survey[0], group="country", method="FIXED", ordered=True)


def test_ordinal_alignment_recovers_the_means(fixed, survey) -> None:
    est = fixed.factor_means()["mean"].to_numpy()
    assert np.corrcoef(est, survey[1])[0, 1] >= MIN_MEAN_CORRELATION
    assert fixed.configural.options.estimator == "WLSMV"
    assert fixed.configural.options.parameterization == "theta"


def test_ordinal_alignment_flags_the_planted_threshold_and_loading(fixed) -> None:
    inv = fixed.invariance().set_index(["param", "group"])
    assert not inv.loc[("y2|t1", f"G{THRESHOLD_GROUP}"), "invariant"]
    assert not inv.loc[("f=~y4", f"G{LOADING_GROUP}"), "invariant"]
    # the planted threshold is higher: its aligned value exceeds the invariant set's
    row = inv.loc[("y2|t1", f"G{THRESHOLD_GROUP}")]
    assert row["est"] > row["set_mean"]
    share = fixed.noninvariance().set_index("factor").loc["all"]
    assert share["n_parameters"] == GROUPS * (5 + 5 * 3)
    assert share["percent"] < 10.0


def test_ordinal_parameters_and_standard_errors(fixed) -> None:
    """The FIXED reference group keeps its configural loadings and thresholds, so their
    covariance matrix is the configural one (signs included)."""
    params = fixed.parameters()
    assert params["param"].tolist()[: GROUPS] == ["f=~y1"] * GROUPS
    assert "y1|t3" in set(params["param"]) and "y1~1" not in set(params["param"])
    est = fixed.configural.estimates()
    conf = est[(est["group"] == "G0") & (((est["op"] == "=~") & (est["rhs"] == "y1"))
                                         | ((est["op"] == "|") & (est["lhs"] == "y1")))]
    ref = params[params["group"] == "G0"].iloc[[0, 5, 6, 7]]
    np.testing.assert_allclose(ref["est"], conf["est"], atol=1e-10)
    np.testing.assert_allclose(ref["se"], conf["se"], rtol=1e-6)
    fa = fixed.factors[0]
    idx = [fa.block("loading", GROUPS).start, fa.block("intercept", GROUPS).start]
    names = ["f=~y1", "y1|t1"]
    table = fixed.configural.partable.cols
    free = [next(table["free"][r] - 1 for r in range(len(table["op"]))
                 if table["group"][r] == 1 and f"{table['lhs'][r]}{table['op'][r]}"
                 f"{table['rhs'][r]}" == name) for name in names]
    np.testing.assert_allclose(fa.vcov[np.ix_(idx, idx)],
                               fixed.configural.vcov_free[np.ix_(free, free)], rtol=1e-6)
    assert "threshold" in fixed.to_markdown()


def test_ordinal_bad_options_are_refused(fixed, survey) -> None:
    with pytest.raises(OptionError, match="theta parameterization"):
        alignment(MODEL, survey[0], group="country", ordered=True, parameterization="delta")
    with pytest.raises(OptionError, match="ordinal"):
        fixed.simulate_check(reps=2)
