"""Write the data sets that ``make_alignment_sirt.R`` aligns with sirt.

Run from the repository root: ``python tests/reference/alignment/make_alignment_inputs.py``.
The data are simulated by semnet from population models with known group means and
variances and a few planted non-invariant loadings and intercepts; the R script fits
the configural model with lavaan and aligns it with sirt, independently of semnet.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import semnet

HERE = Path(__file__).resolve().parent


def eight_countries() -> str:
    """Eight countries, one factor, five items; a loading in FR and an intercept in CN."""
    return """
    trust =~ 0.8*t1 + 0.7*t2 + c(0.75, 0.75, 0.75, 0.75, 0.35, 0.75, 0.75, 0.75)*t3
    trust =~ 0.65*t4 + 0.7*t5
    t2 ~ c(0, 0, 0.6, 0, 0, 0, 0, 0)*1
    t1 ~~ 0.3*t1
    t2 ~~ 0.3*t2
    t3 ~~ 0.3*t3
    t4 ~~ 0.3*t4
    t5 ~~ 0.3*t5
    trust ~ c(0, 0.4, -0.3, 0.2, 0.5, -0.5, 0.1, 0.3)*1
    trust ~~ c(1, 1.2, 0.8, 1, 1.3, 0.9, 1.1, 1)*trust
    """


def fifteen_countries(seed: int = 11) -> tuple[str, list[str]]:
    """Fifteen countries of unequal size, six items, scattered non-invariance."""
    rng = np.random.default_rng(seed)
    groups = [f"G{g:02d}" for g in range(1, 16)]
    means = np.round(rng.normal(0, 0.5, 15), 2)
    means[0] = 0
    variances = np.round(rng.uniform(0.6, 1.5, 15), 2)
    variances[0] = 1
    loadings = np.tile([0.8, 0.7, 0.75, 0.65, 0.7, 0.6], (15, 1))
    intercepts = np.zeros((15, 6))
    for g, j in [(2, 0), (5, 3), (9, 5), (12, 1)]:
        intercepts[g, j] = 0.5
    for g, j in [(4, 2), (11, 4)]:
        loadings[g, j] = 0.3
    lines = ["f =~ " + " + ".join(
        f"c({', '.join(map(str, loadings[:, j]))})*y{j + 1}" for j in range(6))]
    lines += [f"y{j + 1} ~ c({', '.join(map(str, intercepts[:, j]))})*1" for j in range(6)]
    lines += [f"y{j + 1} ~~ 0.35*y{j + 1}" for j in range(6)]
    lines += [f"f ~ c({', '.join(map(str, means))})*1",
              f"f ~~ c({', '.join(map(str, variances))})*f"]
    return "\n".join(lines), groups


def main() -> None:
    countries = ["AT", "BR", "CN", "DE", "FR", "IN", "JP", "US"]
    eight = semnet.simulate(eight_countries(), {c: 250 for c in countries}, seed=4,
                            group_column="country")
    eight.to_csv(HERE / "eight_countries.csv", index=False, float_format="%.10g")
    model, groups = fifteen_countries()
    sizes = {g: int(n) for g, n in zip(groups, np.linspace(150, 600, 15).round(), strict=True)}
    fifteen = semnet.simulate(model, sizes, seed=5, group_column="country")
    fifteen.to_csv(HERE / "fifteen_countries.csv", index=False, float_format="%.10g")


if __name__ == "__main__":
    main()
