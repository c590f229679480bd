"""Regenerate the synthetic survey ``sample_data/network_involvement.csv``.

Run from anywhere::

    python sample_data/make_sample_data.py

The data are drawn by :func:`semnet.simulate.simulate` from the population model
``models/population.lav`` (true values per country; see ``sample_data/CODEBOOK.md``).
They are SYNTHETIC: the survey data of Mikhailitchenko (2021) are not public.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from semnet.simulate import simulate

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "population.lav"
OUTPUT = ROOT / "sample_data" / "network_involvement.csv"

SEED = 20210612
SIZES = {"USA": 320, "China": 350, "Russia": 280}
ITEMS = (
    [f"gm{i}" for i in range(1, 5)]
    + [f"rc{i}" for i in range(1, 5)]
    + [f"et{i}" for i in range(1, 5)]
    + [f"ni{i}" for i in range(1, 6)]
    + [f"doi{i}" for i in range(1, 4)]
)
LIKERT_POINTS = 7
ITEM_SKEW = (-0.5, 0.5)  # (skewness, excess kurtosis) of the items' error terms
AGE_SKEW = (1.0, 1.5)  # firm age: right-skewed
MISSING_MCAR = 0.03  # share of missing answers per item (exact, MCAR)
# controls: standardized in the model, rescaled here
SIZE_MEAN, SIZE_SD = 3.6, 0.9  # log(number of employees): about 37 employees on average
AGE_MEAN, AGE_SD = 18.0, 9.0  # years since founding


def make(seed: int = SEED):
    """The synthetic survey as a DataFrame (column ``country`` first)."""
    skew = dict.fromkeys(ITEMS, ITEM_SKEW)
    skew["firm_age"] = AGE_SKEW
    data = simulate(
        MODEL,
        SIZES,
        seed=seed,
        likert=dict.fromkeys(ITEMS, LIKERT_POINTS),
        skew=skew,
        missing={"mcar": MISSING_MCAR, "columns": ITEMS},
        group_column="country",
    )
    data["firm_size"] = np.round(SIZE_MEAN + SIZE_SD * data["firm_size"], 2)
    data["firm_age"] = np.clip(np.round(AGE_MEAN + AGE_SD * data["firm_age"]), 1, None).astype(
        np.int64
    )
    return data[["country", *ITEMS, "firm_size", "firm_age"]]


def main() -> None:
    data = make()
    data.to_csv(OUTPUT, index=False)
    sizes = data["country"].value_counts(sort=False).to_dict()
    share = data[ITEMS].isna().to_numpy().mean()
    print(f"wrote {OUTPUT.relative_to(ROOT)}: {len(data)} firms {sizes}, {share:.1%} missing")


if __name__ == "__main__":
    main()
