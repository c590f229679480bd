"""semnet.simulate: lavaan's simulateData() analogue, and the bundled synthetic survey."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import semnet
from semnet.errors import ModelSpecificationError, OptionError
from semnet.matrices.ram import Model
from semnet.partable.build import partable
from semnet.simulate import fleishman_coefficients, likert_thresholds, simulate

ROOT = Path(__file__).resolve().parent.parent

CFA_POP = """
f1 =~ 0.8*x1 + 0.7*x2 + 0.6*x3
f2 =~ 0.75*x4 + 0.65*x5 + 0.55*x6
f1 ~~ 0.4*f2
x1 ~~ 0.36*x1
x2 ~~ 0.51*x2
x3 ~~ 0.64*x3
x4 ~~ 0.4375*x4
x5 ~~ 0.5775*x5
x6 ~~ 0.6975*x6
x2 ~ 0.5*1
"""
CFA_FREE = """
f1 =~ x1 + x2 + x3
f2 =~ x4 + x5 + x6
"""
TRUE_LOADINGS = {"x1": 0.8, "x2": 0.7, "x3": 0.6, "x4": 0.75, "x5": 0.65, "x6": 0.55}


def _implied(model: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    pt = partable(model, meanstructure=True, std_lv=True, fixed_x=False, auto_fix_first=False)
    values = np.nan_to_num(pt.params["ustart"].to_numpy(dtype=float), nan=0.0)
    sigma, mu = Model(pt).implied(values, 0)
    return sigma, mu, pt.names.ov


@pytest.fixture(scope="module")
def big_cfa() -> pd.DataFrame:
    return simulate(CFA_POP, 20000, seed=11)


# ------------------------------------------------------------------ reproducibility
def test_same_seed_identical_and_different_seeds_differ():
    kwargs = dict(
        groups=["A", "B"], likert=5, skew=(0.5, 0.5), missing={"mcar": 0.05, "mar": (0.05, "x1")}
    )
    a = simulate(CFA_POP, 300, seed=5, **kwargs)
    b = simulate(CFA_POP, 300, seed=5, **kwargs)
    c = simulate(CFA_POP, 300, seed=6, **kwargs)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    rng_a = simulate(CFA_POP, 50, seed=np.random.default_rng(3))
    rng_b = simulate(CFA_POP, 50, seed=3)
    pd.testing.assert_frame_equal(rng_a, rng_b)


# ------------------------------------------------------------------ recovery
def test_sample_moments_match_implied(big_cfa):
    sigma, mu, ov = _implied(CFA_POP)
    assert list(big_cfa.columns) == list(ov)
    s = big_cfa.cov().to_numpy()
    assert np.abs(s - sigma).max() < 0.05
    assert np.abs(big_cfa.mean().to_numpy() - mu).max() < 0.04
    assert mu[1] == pytest.approx(0.5)


def test_cfa_recovers_loadings(big_cfa):
    fit = semnet.cfa(CFA_FREE, big_cfa, std_lv=True)
    est = fit.estimates(standardized=False)
    load = est[est["op"] == "=~"].set_index("rhs")["est"]
    for item, value in TRUE_LOADINGS.items():
        assert load[item] == pytest.approx(value, abs=0.03)


def test_empirical_reproduces_implied_moments_exactly():
    sigma, mu, _ = _implied(CFA_POP)
    data = simulate(CFA_POP, 200, seed=1, empirical=True)
    x = data.to_numpy()
    np.testing.assert_allclose(x.mean(axis=0), mu, atol=1e-10)
    np.testing.assert_allclose(np.cov(x.T, ddof=0), sigma, atol=1e-10)


def test_lavaan_defaults_and_standardized():
    # unspecified: loading 1, variances 1, intercepts 0 (lavaan's simulateData defaults)
    data = simulate("f =~ x1 + x2", 100, seed=1, empirical=True)
    np.testing.assert_allclose(data.var(ddof=0).to_numpy(), [2.0, 2.0], atol=1e-10)
    np.testing.assert_allclose(data.cov(ddof=0).iloc[0, 1], 1.0, atol=1e-10)
    with pytest.warns(semnet.SemnetWarning, match="set to zero"):
        simulate("y ~ x", 10, seed=1)
    model = "f =~ x1 + x2 + 0.5*x3\ny ~ 0.4*f + 0.3*z"
    std = simulate(model, 300, seed=2, empirical=True, standardized=True)
    np.testing.assert_allclose(std.var(ddof=0).to_numpy(), 1.0, atol=1e-10)


# ------------------------------------------------------------------ groups
def test_multigroup_sizes_and_group_specific_values():
    model = CFA_POP.replace("0.6*x3", "c(0.6, 0.3)*x3").replace(
        "f1 ~~ 0.4*f2", "f1 ~~ 0.4*f2\nf1 ~ c(0, 0.5)*1"
    )
    data = simulate(model, {"A": 4000, "B": 5000}, seed=3, group_column="country")
    assert list(data.columns)[-1] == "country"
    assert data["country"].tolist()[:1] == ["A"]
    assert data["country"].value_counts().to_dict() == {"A": 4000, "B": 5000}
    fit = semnet.cfa(CFA_FREE, data, group="country", std_lv=True)
    est = fit.estimates(standardized=False)
    x3 = est[(est["op"] == "=~") & (est["rhs"] == "x3")].set_index("group")["est"]
    assert x3["A"] == pytest.approx(0.6, abs=0.04)
    assert x3["B"] == pytest.approx(0.3, abs=0.04)
    means = data.groupby("country")["x1"].mean()
    assert means["B"] - means["A"] == pytest.approx(0.8 * 0.5, abs=0.06)


def test_group_blocks_and_size_per_group():
    model = "group: g1\nf =~ 0.9*x1 + 0.9*x2\ngroup: g2\nf =~ 0.1*x1 + 0.1*x2"
    data = simulate(model, 3000, groups=["g1", "g2"], seed=4, empirical=True)
    corr = data.groupby("group")[["x1", "x2"]].corr().xs("x1", level=1)["x2"]
    assert corr["g1"] == pytest.approx(0.81 / 1.81)
    assert corr["g2"] == pytest.approx(0.01 / 1.01)


# ------------------------------------------------------------------ interactions
INTERACTION = """
f1 =~ 1*a1 + 1*a2 + 1*a3
f2 =~ 1*b1 + 1*b2 + 1*b3
a1 ~~ 0.01*a1
a2 ~~ 0.01*a2
a3 ~~ 0.01*a3
b1 ~~ 0.01*b1
b2 ~~ 0.01*b2
b3 ~~ 0.01*b3
f1 ~~ 0.3*f2
y ~ 0.3*f1 + 0.2*f2 + 0.25*f1:f2
y ~~ 0.5*y
"""


def _ols(y: np.ndarray, *xs: np.ndarray) -> np.ndarray:
    X = np.column_stack([np.ones_like(y), *xs])
    return np.linalg.lstsq(X, y, rcond=None)[0]


def test_latent_interaction_recovered():
    data = simulate(INTERACTION, 20000, seed=8)
    m1 = data[["a1", "a2", "a3"]].mean(axis=1).to_numpy()
    m2 = data[["b1", "b2", "b3"]].mean(axis=1).to_numpy()
    coef = _ols(data["y"].to_numpy(), m1, m2, m1 * m2)
    assert coef[1:] == pytest.approx([0.3, 0.2, 0.25], abs=0.03)
    # E[y] = 0.25 * Cov(f1, f2) for zero-mean factors
    assert data["y"].mean() == pytest.approx(0.25 * 0.3, abs=0.02)


def test_interaction_with_endogenous_factor_and_latent_outcome():
    model = """
    x =~ 1*x1
    m =~ 1*m1
    w =~ 1*w1
    d =~ 1*d1
    x1 ~~ 0*x1
    m1 ~~ 0*m1
    w1 ~~ 0*w1
    d1 ~~ 0*d1
    m ~ 0.5*x
    d ~ c(0.3, 0.6)*m + 0.2*w + 0.4*m:w
    w ~ 1*1
    """
    data = simulate(model, {"A": 20000, "B": 20000}, seed=2)
    for label, slope in (("A", 0.3), ("B", 0.6)):
        g = data[data["group"] == label]
        coef = _ols(g["d1"].to_numpy(), g["m1"].to_numpy(), g["w1"].to_numpy(),
                    (g["m1"] * g["w1"]).to_numpy())  # fmt: skip
        assert coef[1:] == pytest.approx([slope, 0.2, 0.4], abs=0.03)


def test_product_feedback_and_unknown_factor_rejected():
    with pytest.raises(ModelSpecificationError, match="recursive"):
        simulate("y ~ 0.2*x:z\nx ~ 0.3*y\nz ~~ 1*z", 10, seed=1)
    with pytest.raises(ModelSpecificationError, match="does not otherwise define"):
        simulate("f =~ 0.7*x1 + 0.7*x2\ny ~ 0.2*f:g", 10, seed=1)
    with pytest.raises(OptionError, match="standardized"):
        simulate(INTERACTION, 10, seed=1, standardized=True)


def test_feedback_loop_without_solution_names_the_group():
    # y = 2x and x = 0.5y leave I - A singular; in group B only
    model = "y ~ c(0.5, 2)*x\nx ~ 0.5*y"
    with pytest.raises(ModelSpecificationError, match=r"feedback loop.*in group 'B'"):
        simulate(model, {"A": 20, "B": 20}, seed=1)
    with pytest.raises(ModelSpecificationError, match=r"singular\); change"):
        simulate("y ~ 2*x\nx ~ 0.5*y", 20, seed=1)
    # a loop that has a solution simulates
    assert simulate("y ~ 0.5*x\nx ~ 0.5*y", 20, seed=1).shape == (20, 2)


# ------------------------------------------------------------------ Likert, skew, missing
def test_likert_integer_codes():
    data = simulate(CFA_POP, 2000, seed=4, likert=7)
    for col in data:
        assert data[col].dtype == np.int64
        assert set(data[col].unique()) <= set(range(1, 8))
    assert data["x1"].nunique() == 7
    one = simulate(CFA_POP, 200, seed=4, likert={"x1": 3}, missing=0.1)
    assert one["x1"].dtype == "Int64" and set(one["x1"].dropna().unique()) <= {1, 2, 3}
    assert one["x2"].dtype == np.float64
    np.testing.assert_allclose(likert_thresholds(7), -likert_thresholds(7)[::-1])


def test_skew_moves_skewness_in_the_right_direction():
    fl = fleishman_coefficients(1.0, 1.5)
    np.testing.assert_allclose(fl, (0.9530769, 0.1631943, 0.0065974), atol=1e-6)
    base = simulate(CFA_POP, 20000, seed=9)
    right = simulate(CFA_POP, 20000, seed=9, skew=(2.0, 6.0))
    left = simulate(CFA_POP, 20000, seed=9, skew={"x6": (-2.0, 6.0), "f1": (1.0, 1.5)})
    assert abs(stats.skew(base["x6"])) < 0.1
    assert stats.skew(right["x6"]) > 0.5
    assert stats.skew(left["x6"]) < -0.5
    assert stats.skew(left["x1"]) > 0.2  # skewed factor f1
    # the covariance structure is kept
    sigma, _, _ = _implied(CFA_POP)
    assert np.abs(right.cov().to_numpy() - sigma).max() < 0.08


def test_correlated_skewed_errors_keep_their_covariance():
    model = "y1 ~~ 1*y1\ny2 ~~ 1*y2\ny1 ~~ 0.6*y2"
    data = simulate(model, 40000, seed=1, skew=(1.5, 3.0))
    assert data.corr().iloc[0, 1] == pytest.approx(0.6, abs=0.03)
    assert stats.skew(data["y1"]) == pytest.approx(1.5, abs=0.3)


def test_missing_proportions_and_group_column_complete():
    data = simulate(CFA_POP, {"A": 1500, "B": 1500}, seed=3, missing=0.07)
    share = data.drop(columns="group").isna().to_numpy().mean()
    assert abs(share - 0.07) <= 0.01
    assert data["group"].notna().all()
    mar = simulate(CFA_POP, 4000, seed=3, missing={"mar": (0.2, "x1")})
    assert mar["x1"].notna().all()
    miss = mar["x4"].isna()
    assert abs(miss.mean() - 0.2) <= 0.01
    high = mar["x1"] > mar["x1"].median()
    assert miss[high].mean() > miss[~high].mean() + 0.1


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(n=0), "positive integer"),
        (dict(n=10.5), "positive integer"),
        (dict(n={"A": 10}, groups=["A", "B"]), "one size per group"),
        (dict(n=10, likert=1), "categories"),
        (dict(n=10, likert={"nope": 5}), "not an observed variable"),
        (dict(n=10, skew={"nope": (1, 1)}), "not a variable"),
        (dict(n=10, skew=(1.0,)), "pair"),
        (dict(n=10, skew=(3.0, 0.0)), "Fleishman"),
        (dict(n=10, missing=1.5), "proportion"),
        (dict(n=10, missing={"mnar": 0.1}), "unknown key"),
        (dict(n=10, missing={"mar": (0.1, "zz")}), "driver"),
        (dict(n=10, groups=["A", "B"], group_column="x1"), "group_column"),
        (dict(n=10, skew=(1.0, 1.5), empirical=True), "empirical"),
    ],
)
def test_bad_options(kwargs, match):
    with pytest.raises(OptionError, match=match):
        simulate(CFA_POP, **kwargs, seed=1)


@pytest.mark.parametrize("seed", ["abc", -1])
def test_a_seed_numpy_refuses_is_an_option_error(seed):
    # was a TypeError/ValueError from numpy.random.default_rng
    with pytest.raises(OptionError, match="seed must be a whole number >= 0"):
        simulate(CFA_POP, 10, seed=seed)


def test_group_vector_length_mismatch():
    with pytest.raises(ModelSpecificationError):
        simulate("f =~ c(0.5, 0.6, 0.7)*x1 + x2", {"A": 10, "B": 10}, seed=1)
    with pytest.raises(semnet.SemnetError):
        simulate("f =~ x1 + * x2", 10, seed=1)


# ------------------------------------------------------------------ the study's files
ITEMS = (
    [f"gm{i}" for i in range(1, 5)]
    + [f"rc{i}" for i in range(1, 5)]
    + [f"et{i}" for i in range(1, 5)]
    + [f"ni{i}" for i in range(1, 6)]
    + [f"doi{i}" for i in range(1, 4)]
)


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "make_sample_data", ROOT / "sample_data" / "make_sample_data.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bundled_sample_data():
    path = ROOT / "sample_data" / "network_involvement.csv"
    data = pd.read_csv(path)
    assert list(data.columns) == ["country", *ITEMS, "firm_size", "firm_age"]
    assert list(pd.unique(data["country"])) == ["USA", "China", "Russia"]
    sizes = data["country"].value_counts().to_dict()
    assert sizes == {"USA": 320, "China": 350, "Russia": 280}
    codebook = (ROOT / "sample_data" / "CODEBOOK.md").read_text(encoding="utf-8")
    for country, size in sizes.items():
        assert f"| {country} | {size} |" in codebook
    items = data[ITEMS]
    assert set(np.unique(items.stack().dropna().to_numpy())) <= set(range(1, 8))
    assert 0.02 <= items.isna().to_numpy().mean() <= 0.04
    assert data[["country", "firm_size", "firm_age"]].notna().all().all()
    assert (data["firm_age"] >= 1).all()
    # the script regenerates exactly the committed file
    script = _load_script()
    fresh = script.make()
    pd.testing.assert_frame_equal(
        fresh.astype({c: float for c in ITEMS}).reset_index(drop=True),
        data.astype({c: float for c in ITEMS}),
        check_dtype=False,
    )


def test_study_model_files_parse():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("measurement", "structural", "mediation"):
            text = (ROOT / "models" / f"{name}.lav").read_text(encoding="utf-8")
            assert "Mikhailitchenko" in text
            pt = semnet.partable(text)
            assert {"gm", "rc", "et", "ni", "doi"} <= set(pt["lhs"])
        moderated = (ROOT / "models" / "moderated.lav").read_text(encoding="utf-8")
        assert "ni:et" in moderated
        # the product term model is a valid population model for simulate()
        data = simulate(ROOT / "models" / "moderated.lav", 50, seed=1)
        assert set(ITEMS) <= set(data.columns)
