"""The checks every seed study's tests make on its outputs (tests/studies/test_*.py):
recovery of the planted paths, non-invariance and latent means, and reproducibility."""

import numpy as np
import pandas as pd


def assert_paths_within_three_se(out, true_paths: dict) -> pd.DataFrame:
    """Every labelled multi-group path within 3 SE of its population value; the effects
    table is returned for the study's own checks."""
    paths = pd.read_csv(out / "table6_structural.csv").set_index("label")
    for label, truth in true_paths.items():
        row = paths.loc[label]
        assert abs(row["est"] - truth) <= 3 * row["se"], (label, row["est"], truth)
    return pd.read_csv(out / "table7_effects.csv").set_index("lhs")


def assert_partial_search_frees(out, planted: list[str]) -> None:
    """The partial-invariance search frees exactly the planted parameters."""
    audit = pd.read_csv(out / "table4_partial.csv")
    assert sorted(audit["param"].dropna()) == sorted(planted)


def assert_latent_means_cover(out, true_means: dict) -> pd.DataFrame:
    """Every population latent mean difference (in pooled SDs) inside its 95% CI."""
    means = pd.read_csv(out / "table5_latent_means.csv").set_index("factor")
    for factor, truth in true_means.items():
        row = means.loc[factor]
        scale = np.sqrt(row["pooled_var"])
        assert row["ci_lower"] / scale <= truth <= row["ci_upper"] / scale, factor
    return means


def assert_rerun_identical(study, res, out, tmp_path, bootstrapped: set[str]) -> None:
    """The bootstrap covers ``bootstrapped``, and a rerun with the seed, its bootstrap on
    two workers, writes the same bytes."""
    boot = pd.read_csv(out / "table10_bootstrap.csv")
    assert bootstrapped <= set(boot["name"])
    again = study.run(out=tmp_path, bootstrap=10, seed=5, jobs=2)
    assert set(again.tables) == set(res.tables)
    for name in res.tables:
        assert (out / f"{name}.csv").read_bytes() == (tmp_path / f"{name}.csv").read_bytes()


def assert_generator_reproduces_the_survey(study, group: str) -> None:
    """The study's generator draws the committed synthetic survey."""
    committed = pd.read_csv(study.data_path())
    drawn = study.simulate()
    assert list(drawn.columns) == list(committed.columns)
    assert (drawn[group] == committed[group]).all()
    numbers = study.required[1:]
    np.testing.assert_array_equal(drawn[numbers].astype(float).to_numpy(),
                                  committed[numbers].astype(float).to_numpy())  # fmt: skip


def assert_fit_table_agrees(out) -> None:
    """Table 11 reports the ladder's configural fit, a partial scalar model between the
    configural and the full scalar one, and the structural model."""
    fit = pd.read_csv(out / "table11_fit.csv").set_index("model")
    ladder = pd.read_csv(out / "table3_invariance.csv").set_index("level")
    configural = fit.loc["Measurement (configural)"]
    assert configural["chisq"] == ladder.loc["configural", "chisq"]
    assert configural["df"] == ladder.loc["configural", "df"]
    partial = fit.loc["Measurement (partial scalar)"]
    assert ladder.loc["configural", "df"] < partial["df"] < ladder.loc["scalar", "df"]
    assert ladder.loc["configural", "chisq"] < partial["chisq"] < ladder.loc["scalar", "chisq"]
    assert fit.loc["Structural (table 6)", "df"] > 0
    assert fit[["cfi", "tli", "rmsea", "srmr"]].notna().all().all()
