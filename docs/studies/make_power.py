"""Offline power planning for the seed studies (numbers quoted in docs/studies/*.md).

Run from the repository root (a few minutes on one core)::

    python docs/studies/make_power.py [study ...]     # default: every seed study

For each seed study it asks :func:`semnet.power` how many firms per group give 80% power
(alpha .05) for

* the paper's key effect (:attr:`semnet.studies.Study.key_effect`, a ``:=`` difference
  of the multi-group model, Wald z test), fitted as in the study's run (loadings and
  intercepts equal, the planted non-invariant parameters free);
* the planted non-invariance (the metric level against the configural one, chi-square
  difference test of the measurement model).

Data are drawn from the study's population model as in :meth:`Study.simulate` (7-point
Likert items with skewed errors) but complete (no missing answers, so the fits use ML
rather than FIML) and, for indirect-export, with xr left continuous. :data:`REPS`
replications per size (few: the Monte Carlo SE of a power near .80 is about .073,
so read the table as a rough guide).
Writes (updates) docs/studies/power.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import semnet

ROOT = Path(__file__).resolve().parents[2]
REPS = 30
SIZES = [100, 200, 300]
SEED = 20261206


def plan(study: semnet.studies.Study, freed: list[str]) -> dict:
    """Power by firms per group for the key effect and the planted non-invariance."""
    models = study.model_files()
    simulate_args = {"likert": dict.fromkeys(study.items, 7),
                     "skew": dict.fromkeys(study.items, (-0.5, 0.5))}  # fmt: skip
    key = semnet.power(
        models["population"], models["multigroup"], n=SIZES, reps=REPS,
        test=study.key_effect, group=list(study.groups), seed=SEED,
        simulate_args=simulate_args, group_equal=["loadings", "intercepts"],
        group_partial=freed,
    )  # fmt: skip
    metric = semnet.power(
        models["population"], models["measurement"], n=SIZES, reps=REPS, test="metric",
        group=list(study.groups), seed=SEED, simulate_args=simulate_args,
    )  # fmt: skip
    return {
        "reps": REPS, "seed": SEED, "per_group": SIZES,
        "key_effect": study.key_effect, "key_power": key.power.round(3).tolist(),
        "planted": study.planted, "metric_power": metric.power.round(3).tolist(),
    }


#: the planted non-invariant parameters left free in the multi-group model (those of its
#: variables; indirect-export's exs is not in its multi-group model)
FREED = {
    "gvc-position": ["PA=~pa2", "ct3~1"],
    "indirect-export": [],
    "ethnic-ties": ["ETH=~et4", "et2~1"],
    "gvc-upgrading": ["RGL=~rg3", "fu2~1"],
}


def main(names: list[str]) -> None:
    path = ROOT / "docs" / "studies" / "power.json"
    out = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    for name in names or list(FREED):
        out[name] = plan(semnet.studies.get(name), FREED[name])
        path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
