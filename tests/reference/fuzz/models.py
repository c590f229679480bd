"""Seeded random lavaan models for the differential test against lavaan (``make_fuzz.R``).

The models are drawn in batches (:data:`BATCHES`), each from a ``numpy`` generator with
its own seed, so the list is the same on every machine. Run from the repository root to
(re)write the inputs::

    PYTHONPATH=$PWD python tests/reference/fuzz/models.py   # sim.csv, sim_missing.csv, models.json
    Rscript tests/reference/fuzz/make_fuzz.R                # lavaan.json

``tests/api/test_fuzz_lavaan.py`` imports :func:`generate` and checks that it still gives
the committed ``models.json``.

Examples
--------
>>> models = generate([(SEED, 3, BATCHES[0][2])])
>>> sorted(models[0])
['data', 'function', 'model', 'name', 'options']
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261207
#: the batches: (seed, number of models, rates of orthogonal factors, groups and FIML);
#: the second leans on the options the first draws rarely
BATCHES = (
    (SEED, 130, {"orthogonal": 0.15, "group": 0.35, "fiml": 0.2}),
    (SEED + 1, 50, {"orthogonal": 0.6, "group": 0.6, "fiml": 0.35}),
)
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent

#: per data set: the factors the data were made from (name -> indicators), covariates,
#: the grouping column, and the CSV with ~10% of the indicators missing (FIML)
DATASETS = {
    "hs": {
        "path": "semnet/datasets/HolzingerSwineford1939.csv",
        "missing": "tests/reference/data/hs_missing.csv",
        "factors": {
            "visual": ["x1", "x2", "x3"],
            "textual": ["x4", "x5", "x6"],
            "speed": ["x7", "x8", "x9"],
        },
        "covariates": ["ageyr", "sex", "grade"],
        "group": "school",
    },
    "pd": {
        "path": "semnet/datasets/PoliticalDemocracy.csv",
        "missing": None,
        "factors": {
            "ind60": ["x1", "x2", "x3"],
            "dem60": ["y1", "y2", "y3", "y4"],
            "dem65": ["y5", "y6", "y7", "y8"],
        },
        "covariates": [],
        "group": None,
    },
    "sim": {
        "path": "tests/reference/fuzz/sim.csv",
        "missing": "tests/reference/fuzz/sim_missing.csv",
        "factors": {f"f{k + 1}": [f"y{3 * k + j + 1}" for j in range(3)] for k in range(4)},
        "covariates": ["z1", "z2"],
        "group": "g",
    },
}
GROUP_EQUAL = ["loadings", "intercepts", "residuals", "lv.variances", "regressions"]


def simulate(seed: int = SEED, n: int = 400) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Four correlated factors with three indicators each (y1-y12), heavy-tailed
    residuals, a continuous (z1) and a binary (z2) covariate, two groups (g) that differ
    in factor means and in one intercept; and a copy with ~10% of y1-y12 missing (MCAR).

    Examples
    --------
    >>> full, holes = simulate(1, 20)
    >>> full.shape, bool(holes.isna().any().any())
    ((20, 15), True)
    """
    rng = np.random.default_rng(seed)
    g = np.repeat(["a", "b"], n // 2)
    b = (g == "b").astype(float)
    z1 = rng.normal(size=n)
    z2 = rng.binomial(1, 0.4, size=n).astype(float)
    f1 = 0.3 * b + 0.4 * z1 + rng.normal(size=n)
    f2 = 0.5 * f1 - 0.3 * z2 + rng.normal(scale=0.8, size=n)
    f3 = 0.4 * f2 + 0.2 * f1 - 0.2 * b + rng.normal(scale=0.8, size=n)
    f4 = 0.3 * f3 + 0.3 * f1 + rng.normal(scale=0.9, size=n)
    columns = {}
    loadings = (1.0, 0.8, 1.2)
    for k, f in enumerate((f1, f2, f3, f4)):
        for j, lam in enumerate(loadings):
            shift = 0.4 * b if (k, j) == (0, 1) else 0.0
            noise = rng.standard_t(5, size=n) * 0.6
            columns[f"y{3 * k + j + 1}"] = np.round(2.0 + shift + lam * f + noise, 5)
    full = pd.DataFrame({**columns, "z1": np.round(z1, 5), "z2": z2.astype(int), "g": g})
    holes = full.copy()
    items = [f"y{i}" for i in range(1, 13)]
    mask = rng.random((n, len(items))) < 0.10
    holes[items] = holes[items].mask(mask)
    return full, holes


def _measurement(rng: np.random.Generator, factors: dict[str, list[str]], std_lv: bool):
    """Pick 1-4 factors and their indicators; returns (factor -> indicators, lines)."""
    names = list(factors)
    weights = np.array([1.0, 3.0, 3.0, 2.0][: len(names)])
    k = int(rng.choice(len(names), p=weights / weights.sum())) + 1
    chosen = sorted(rng.choice(len(names), size=k, replace=False))
    picked = {}
    for i in chosen:
        items = list(factors[names[i]])
        if k >= 2 and len(items) >= 3 and rng.random() < 0.15:
            items = items[:2]  # a 2-indicator factor, correlated with the others
        elif len(items) > 3 and rng.random() < 0.3:
            items = items[:3]
        picked[names[i]] = items
    lines = {}
    for f, items in picked.items():
        terms = list(items)
        roll = rng.random()
        if len(items) >= 3 and roll < 0.2:
            label = f"l_{f}"
            start = 0 if std_lv else 1
            terms[start] = f"{label}*{terms[start]}"
            terms[start + 1] = f"{label}*{terms[start + 1]}"
        elif len(items) >= 3 and roll < 0.3 and not std_lv:
            terms[2] = f"1*{terms[2]}"
        elif roll < 0.4 and not std_lv:
            terms[0] = f"NA*{terms[0]}"
            lines[f + "_var"] = f"{f} ~~ 1*{f}"
        lines[f] = terms
    return picked, lines


def _extras(rng, picked, lines, ds):
    """Cross-loadings, residual covariances, equal residual variances."""
    extra = []
    full = [f for f, items in picked.items() if len(items) >= 3]
    if len(full) >= 2 and rng.random() < 0.3:
        a, b = rng.choice(len(full), size=2, replace=False)
        item = picked[full[a]][-1]
        lines[full[b]].append(f"0*{item}" if rng.random() < 0.3 else item)
    items = [i for f in picked for i in picked[f]]
    for _ in range(int(rng.integers(0, 3))):
        if len(items) < 5:
            break
        i, j = sorted(rng.choice(len(items), size=2, replace=False))
        line = f"{items[i]} ~~ {items[j]}"
        if line not in extra:
            extra.append(line)
    if ds == "pd" and rng.random() < 0.5:
        for a, b in (("y1", "y5"), ("y2", "y6"), ("y3", "y7"), ("y2", "y4")):
            line = f"{a} ~~ {b}"
            if a in items and b in items and line not in extra:
                extra.append(line)
    if len(items) >= 3 and rng.random() < 0.15:
        a, b = items[0], items[1]
        extra += [f"{a} ~~ e*{a}", f"{b} ~~ e*{b}"]
    return extra


def _structural(rng, picked, ds):
    """Regressions among the factors (labelled, with := effects) and on covariates."""
    lines, defined = [], []
    f = list(picked)
    if len(f) >= 2 and rng.random() < 0.5:
        lines.append(f"{f[1]} ~ a*{f[0]}")
        if len(f) >= 3:
            direct = " + c*" + f[0] if rng.random() < 0.6 else ""
            lines.append(f"{f[2]} ~ b*{f[1]}{direct}")
            defined.append("ind := a*b")
            if direct:
                defined.append("total := c + a*b")
        elif rng.random() < 0.5:
            defined.append("a2 := a^2")
    elif len(f) >= 2 and rng.random() < 0.2:
        lines.append(f"{f[0]} ~~ 0*{f[1]}")
    cov = DATASETS[ds]["covariates"]
    if cov and rng.random() < 0.35:
        size = int(rng.integers(1, 3))
        pick = [str(c) for c in rng.choice(cov, size=size, replace=False)]
        lines.append(f"{f[-1]} ~ " + " + ".join(pick))
        if rng.random() < 0.3:
            item = picked[f[0]][0]
            lines.append(f"{item} ~ {pick[0]}")
    return lines, defined


def _options(rng, ds, picked, has_regression, std_lv, fiml, rates):
    opts = {}
    if std_lv:
        opts["std.lv"] = True
    if len(picked) >= 2 and not has_regression and rng.random() < rates["orthogonal"] and all(
        len(v) >= 3 for v in picked.values()
    ):
        opts["orthogonal"] = True
    if rng.random() < 0.25:
        opts["meanstructure"] = True
    group = DATASETS[ds]["group"]
    if group is not None and rng.random() < rates["group"]:
        opts["group"] = group
        levels = [
            [],
            ["loadings"],
            ["loadings", "intercepts"],
            ["loadings", "intercepts", "residuals"],
        ][int(rng.integers(0, 4))]
        for extra in ("lv.variances", "regressions"):
            if levels and rng.random() < 0.25:
                levels.append(extra)
        if levels:
            opts["group.equal"] = levels
            if rng.random() < 0.3:
                f = next(iter(picked))
                partial = [f"{f}=~{picked[f][-1]}"]
                if "intercepts" in levels:
                    partial.append(f"{picked[f][0]}~1")
                opts["group.partial"] = partial
    roll = rng.random()
    if fiml:
        opts["missing"] = "ml"
        opts["estimator"] = "MLR" if roll < 0.5 else "ML"
    elif roll < 0.2:
        opts["estimator"] = "MLR"
    elif roll < 0.35:
        opts["estimator"] = "MLM"
    elif roll < 0.5:
        opts["estimator"] = "MLMV"
    elif roll < 0.58:
        opts["se"] = "robust.huber.white"
    elif roll < 0.66:
        opts["test"] = ["satorra.bentler", "scaled.shifted", "mean.var.adjusted"][
            int(rng.integers(0, 3))
        ]
    return opts


def draw(rng: np.random.Generator, index: int, rates: dict[str, float]) -> dict:
    """One random model: its name, syntax, data path, function and lavaan options."""
    ds = ["hs", "pd", "sim"][int(rng.choice(3, p=[0.45, 0.2, 0.35]))]
    std_lv = bool(rng.random() < 0.25)
    picked, mlines = _measurement(rng, DATASETS[ds]["factors"], std_lv)
    extra = _extras(rng, picked, mlines, ds)
    struct, defined = _structural(rng, picked, ds)
    fiml = DATASETS[ds]["missing"] is not None and bool(rng.random() < rates["fiml"])
    has_regression = any(" ~ " in line for line in struct)
    opts = _options(rng, ds, picked, has_regression, std_lv, fiml, rates)
    text = []
    for key, value in mlines.items():
        text.append(value if isinstance(value, str) else f"{key} =~ " + " + ".join(value))
    model = "\n".join(text + extra + struct + defined)
    function = "sem" if struct or rng.random() < 0.5 else "cfa"
    data = DATASETS[ds]["missing"] if fiml else DATASETS[ds]["path"]
    return {
        "name": f"m{index:03d}_{ds}",
        "model": model,
        "data": data,
        "function": function,
        "options": opts,
    }


def generate(batches=BATCHES) -> list[dict]:
    """The random models of ``batches`` (the same list on every machine), numbered on
    across the batches."""
    out: list[dict] = []
    for seed, n, rates in batches:
        rng = np.random.default_rng(seed)
        out += [draw(rng, len(out) + i, rates) for i in range(n)]
    return out


def main() -> None:
    full, holes = simulate()
    full.to_csv(HERE / "sim.csv", index=False)
    holes.to_csv(HERE / "sim_missing.csv", index=False, na_rep="NA")
    with open(HERE / "models.json", "w", encoding="utf-8") as fh:
        json.dump({"batches": BATCHES, "models": generate()}, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
