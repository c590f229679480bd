"""Write semnet's bootstrap draws and resampling indices for make_resampling.R.

Run from the repository root, before the R script::

    PYTHONPATH=$PWD python tests/reference/make_resampling_inputs.py
    Rscript tests/reference/make_resampling.R

Writes, in ``tests/reference/analyses/resampling_inputs/``:

* ``cases.json``: the cases below (model, data, group, draws, seed, quantities);
* ``<case>_draws.csv``: semnet's bootstrap draws (``bootstrap(fit, n=B, seed=S)``) of
  the quantities the R script checks, one column per quantity (semnet's column names,
  ``NA`` for a failed draw), every number as the shortest decimal that round-trips;
* ``<case>_indices.csv``: the rows (1-based, into the data file) that draw ``b``
  resampled, for the first draws of the case (all of them for the Bollen-Stine case):
  column ``draw``, then one column per position of the resample, groups in semnet's
  order.  They follow semnet's documented scheme:
  ``SeedSequence(S).spawn(B)[b]`` seeds ``default_rng``, which draws
  ``integers(0, n_g, size=n_g)`` per group.

The R script refits those resamples with lavaan (an independent check of the draws),
computes the jackknife by leave-one-out lavaan fits, and hands the draws and the
jackknife to ``boot::boot.ci``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

import semnet
from semnet.analyses.bootstrap import bootstrap

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "reference" / "analyses" / "resampling_inputs"
HS = "semnet/datasets/HolzingerSwineford1939.csv"
HS_MODEL = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9\n"
CASES = [
    {
        "name": "bca_mediation_latent",
        "model": HS_MODEL + "textual ~ a*visual\nspeed ~ b*textual + c*visual\n"
        "ind := a*b\ntotal := c + a*b",
        "data": HS, "group": None, "type": "ordinary", "n": 500, "seed": 20261206,
        "quantities": ["ind", "total", "textual~visual", "visual=~x2", "x1~~x1",
                       "visual~~visual"],
        "n_indices": 10,
    },
    {
        "name": "bca_mediation_mg",
        "model": HS_MODEL + "textual ~ c(a1, a2)*visual\n"
        "speed ~ c(b1, b2)*textual + c(c1, c2)*visual\n"
        "ind1 := a1*b1\nind2 := a2*b2\ntotal1 := c1 + a1*b1\ntotal2 := c2 + a2*b2",
        "data": HS, "group": "school", "type": "ordinary", "n": 500, "seed": 20261207,
        "quantities": ["ind1", "ind2", "total2", "textual~visual.g2", "visual=~x2",
                       "visual=~x2.g2", "x1~~x1.g2", "speed~~speed"],
        "n_indices": 10,
    },
    {
        "name": "bollen_stine_poldem_draws",
        "model": json.loads((ROOT / "tests/reference/analyses/bollen_stine_poldem.json")
                            .read_text(encoding="utf-8"))["call"]["model"],
        "data": "semnet/datasets/PoliticalDemocracy.csv", "group": None,
        "type": "bollen_stine", "n": 200, "seed": 20261208, "quantities": [],
        "n_indices": 200,
    },
]  # fmt: skip


def group_rows(data: pd.DataFrame, group: str | None, labels: list[str]) -> list[np.ndarray]:
    """0-based row numbers of the data file, per group in the fit's order."""
    if group is None:
        return [np.arange(len(data))]
    return [np.flatnonzero(data[group].to_numpy() == label) for label in labels]


def resample_rows(rows: list[np.ndarray], seed: int, n: int, first: int) -> np.ndarray:
    """1-based data-file rows of the first ``first`` of ``n`` draws (semnet's scheme)."""
    out = []
    for child in np.random.SeedSequence(seed).spawn(n)[:first]:
        rng = np.random.default_rng(child)
        out.append(np.concatenate([r[rng.integers(0, r.size, size=r.size)] for r in rows]))
    return np.array(out) + 1


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        data = pd.read_csv(ROOT / case["data"])
        fit = semnet.sem(case["model"], data, group=case["group"])
        res = bootstrap(fit, n=case["n"], seed=case["seed"], ci="percentile",
                        type=case["type"])  # fmt: skip
        case["group_labels"] = list(fit.groups) if case["group"] else None
        if case["quantities"]:
            draws = res.draws[case["quantities"]]
            draws.to_csv(OUT / f"{case['name']}_draws.csv", index=False, na_rep="NA",
                         float_format=lambda v: repr(float(v)))  # fmt: skip
        rows = group_rows(data, case["group"], case["group_labels"])
        idx = resample_rows(rows, case["seed"], case["n"], case["n_indices"])
        frame = pd.DataFrame(idx, columns=[f"i{k + 1}" for k in range(idx.shape[1])])
        frame.insert(0, "draw", np.arange(1, len(idx) + 1))
        frame.to_csv(OUT / f"{case['name']}_indices.csv", index=False)
        print(f"  {case['name']}: {res.n} draws, {res.n_failed} failed")
    with open(OUT / "cases.json", "w", encoding="utf-8") as fh:
        json.dump(CASES, fh, indent=2)
        fh.write("\n")


if __name__ == "__main__":
    main()
