"""Ordinal items: the bivariate normal CDF, thresholds and polychoric correlations
against lavaan 0.6.14's lavCor() (tests/reference/ordinal/make_ordinal.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special
from tolerances import EST_RTOL, POLYCHORIC_ATOL

import semnet
from semnet.data.ordinal import pair_correlation, thresholds
from semnet.data.ordinal_cdf import bivariate_normal_cdf

ORDINAL = Path(__file__).resolve().parent.parent / "reference" / "ordinal"


def _reference_cdf(x: float, y: float, r: float) -> float:
    """Phi2 by adaptive quadrature of phi(t) Phi((y - r t) / sqrt(1 - r^2)) up to x."""
    s = np.sqrt(1 - r * r)

    def f(t: float) -> float:
        return np.exp(-t * t / 2) / np.sqrt(2 * np.pi) * special.ndtr((y - r * t) / s)

    return integrate.quad(f, -np.inf, x, epsabs=1e-15, epsrel=1e-14, limit=200)[0]


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
@pytest.mark.parametrize("r", [-0.999, -0.95, -0.6, 0.0, 0.3, 0.924, 0.926, 0.99])
def test_bivariate_normal_cdf_is_accurate_to_1e_10(r):
    rng = np.random.default_rng(int(1000 * (r + 1)))
    x, y = rng.normal(scale=1.5, size=(2, 12))
    want = [_reference_cdf(a, b, r) for a, b in zip(x, y, strict=True)]
    np.testing.assert_allclose(bivariate_normal_cdf(x, y, r), want, rtol=0, atol=1e-10)


def test_bivariate_normal_cdf_special_values():
    assert float(bivariate_normal_cdf(0.0, 0.0, 0.5)) == pytest.approx(1 / 3, abs=1e-15)
    got = bivariate_normal_cdf([np.inf, -np.inf, 1.0, np.inf], [0.3, 0.3, np.inf, np.inf], 0.4)
    np.testing.assert_allclose(got, [special.ndtr(0.3), 0.0, special.ndtr(1.0), 1.0])


@pytest.mark.parametrize("name", ["hs_four", "hs_two", "hs_six", "zero_cell"])
def test_polychoric_matches_lavcor(name):
    ref = json.loads((ORDINAL / f"{name}.json").read_text(encoding="utf-8"))
    data = pd.read_csv(ORDINAL / ref["data"])
    pc = semnet.polychoric(data)
    assert pc.nobs == ref["nobs"]
    assert list(pc.thresholds.index) == ref["th_names"]
    np.testing.assert_allclose(pc.thresholds.to_numpy(), list(ref["th"].values()), rtol=EST_RTOL)
    want = np.array(ref["cor"])
    got = pc.cor.to_numpy()
    # lavaan stops at its bound 0.999 where the maximum lies below it (see below)
    at_bound = np.isclose(np.abs(want), 0.999, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got[~at_bound], want[~at_bound], rtol=0, atol=POLYCHORIC_ATOL)


def _negloglik(freq, ta, tb, r):
    from semnet.data.ordinal_fit import TableSet

    return -float(TableSet([freq], [ta], [tb]).loglik(np.array([r]))[0][0])


def test_a_2x2_table_with_an_empty_cell_keeps_its_margins():
    """lavaan 0.6.14 gives 0.835754442802 for this table (0.5 moved into the empty cell
    and its diagonal partner); a table where lavaan stops at its bound 0.999 gets the
    maximum of the likelihood instead."""
    table = [20, 0, 60, 120]
    a = np.repeat([0, 0, 1, 1], table)
    b = np.repeat([0, 1, 0, 1], table)
    ta, tb = thresholds(a, "a"), thresholds(b, "b")
    freq = np.array(table).reshape(2, 2)
    assert pair_correlation(freq, ta, tb) == pytest.approx(0.835754442802, abs=POLYCHORIC_ATOL)
    ref = json.loads((ORDINAL / "zero_cell.json").read_text(encoding="utf-8"))
    data = pd.read_csv(ORDINAL / "zero_cell.csv")
    assert ref["cor"][1][0] == pytest.approx(0.999)
    codes = data[["a", "b"]].to_numpy() - 1
    freq = np.bincount(codes[:, 0] * 2 + codes[:, 1], minlength=4).reshape(2, 2).astype(float)
    ta, tb = thresholds(codes[:, 0], "a"), thresholds(codes[:, 1], "b")
    r = semnet.polychoric(data).cor.loc["a", "b"]
    adjusted = freq + 0.5 * np.array([[-1.0, 1.0], [1.0, -1.0]])
    assert _negloglik(adjusted, ta, tb, r) < _negloglik(adjusted, ta, tb, 0.999) - 1.0


def test_two_empty_cells_give_a_perfect_correlation():
    ta = tb = np.array([0.2])
    assert pair_correlation(np.array([[40, 0], [0, 60]]), ta, tb) == 1.0
    assert pair_correlation(np.array([[0, 40], [60, 0]]), ta, tb) == -1.0


def test_ordered_categorical_uses_its_category_order():
    hs = semnet.datasets.holzinger_swineford()
    levels = ["low", "mid", "high"]
    codes = pd.cut(hs["x1"], 3, labels=False)
    as_cat = pd.Categorical.from_codes(codes, categories=levels, ordered=True)
    frame = pd.DataFrame({"x1": as_cat, "x2": pd.cut(hs["x2"], 3, labels=False)})
    plain = pd.DataFrame({"x1": codes, "x2": frame["x2"]})
    a, b = semnet.polychoric(frame), semnet.polychoric(plain)
    np.testing.assert_allclose(a.cor.to_numpy(), b.cor.to_numpy(), rtol=0, atol=1e-14)


@pytest.mark.parametrize(
    ("column", "message"),
    [
        (pd.Series([1, 1, 1, 1]), r"only one observed category.*drop it"),
        (pd.Series(range(30)), r"30 categories.*continuous"),
        (pd.Series(["a", "b", "a", "c"]), r"text values.*ordered Categorical.*cat.codes"),
        (pd.Series(pd.Categorical(["a", "b", "a"])), r"unordered Categorical.*cat.codes"),
    ],
)
def test_bad_ordinal_items_get_clear_errors(column, message):
    frame = pd.DataFrame({"bad": column, "ok": np.arange(len(column)) % 2})
    with pytest.raises(semnet.DataError, match=message):
        semnet.polychoric(frame)


def test_data_is_not_modified():
    hs = semnet.datasets.holzinger_swineford()[["x1", "x2", "x3"]].apply(
        lambda c: pd.cut(c, 4, labels=False)
    )
    before = hs.copy()
    semnet.polychoric(hs)
    pd.testing.assert_frame_equal(hs, before)


@pytest.mark.parametrize("name", ["hs_four", "hs_two", "hs_six", "zero_cell"])
def test_gamma_matches_lavaan(name):
    """N x the asymptotic covariance of thresholds and correlations (Muthén 1984), as
    lavaan's lavInspect(fit, "gamma"): names, order and values (leaving out the
    correlation where lavaan stopped at its bound, see above)."""
    ref = json.loads((ORDINAL / f"{name}.json").read_text(encoding="utf-8"))
    gamma = semnet.polychoric(pd.read_csv(ORDINAL / ref["data"])).gamma
    assert list(gamma.columns) == ref["gamma_names"]
    want = np.array(ref["gamma"])
    keep = [k for k, n in enumerate(ref["gamma_names"]) if n != "a~~b"]
    np.testing.assert_allclose(
        gamma.to_numpy()[np.ix_(keep, keep)], want[np.ix_(keep, keep)],
        rtol=EST_RTOL, atol=POLYCHORIC_ATOL,
    )  # fmt: skip


def test_groups_match_lavaan():
    """lavCor(..., group = "school"): thresholds, correlations and gamma per group."""
    ref = json.loads((ORDINAL / "hs_four_school.json").read_text(encoding="utf-8"))
    data = pd.read_csv(ORDINAL / ref["data"])
    result = semnet.polychoric(data, ordered=ref["names"], group=ref["group"])
    assert list(result) == [g["group"] for g in ref["groups"]]
    for g in ref["groups"]:
        pc = result[g["group"]]
        assert pc.nobs == g["nobs"]
        np.testing.assert_allclose(pc.thresholds.to_numpy(), list(g["th"].values()),
                                   rtol=EST_RTOL)  # fmt: skip
        np.testing.assert_allclose(pc.cor.to_numpy(), g["cor"], rtol=0, atol=POLYCHORIC_ATOL)
        np.testing.assert_allclose(pc.gamma.to_numpy(), g["gamma"], rtol=EST_RTOL,
                                   atol=POLYCHORIC_ATOL)  # fmt: skip


def test_a_category_empty_in_one_group_is_an_error():
    data = pd.read_csv(ORDINAL / "hs_four_school.csv")
    pasteur = data["school"] == "Pasteur"
    data.loc[pasteur, "x1"] = data.loc[pasteur, "x1"].replace(4, 3)
    with pytest.raises(semnet.DataError, match=r"item 'x1' is empty in group 'Pasteur'"):
        semnet.polychoric(data, group="school")
