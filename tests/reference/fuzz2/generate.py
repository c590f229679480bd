"""Seeded random lavaan models, second round: the features ``tests/reference/fuzz/`` does
not draw (``make_fuzz2.R`` fits them with lavaan 0.6.14).

Every model belongs to one family (:data:`FAMILIES`): sampling weights and clusters
(``sampling.weights``, ``cluster=``, with groups and FIML), ordinal items (WLSMV, ULSMV,
DWLS; delta and theta; groups with equal thresholds and loadings), explicit constraints
(``==`` between labels, ``a == 2*b``, ``a > c``, nonlinear ``:=``), growth models
(``growth()``, free time loadings, covariates, time-varying covariates) and covariates
(``fixed.x = FALSE``, meanstructure, latent means with a marker intercept, groups,
``missing = "ml"`` and ``"ml.x"``). A second batch (:data:`BATCHES`) leans on what the
first reaches rarely: active inequality and nonlinear equality constraints, labels
across groups, ordinal items with a random covariate (``conditional.x = FALSE``),
weights and clusters with FIML and groups, growth models with groups, covariates and
missing waves (``growth2.csv`` here), ``int.lv.free``. About two in five models also ask
for the modification indices. Run from the repository root to (re)write the inputs::

    PYTHONPATH=$PWD python tests/reference/fuzz2/generate.py  # sim2*.csv, models.json
    Rscript tests/reference/fuzz2/make_fuzz2.R              # lavaan.json

Examples
--------
>>> models = generate([(SEED, 4, FAMILIES)])
>>> sorted(models[0])
['data', 'family', 'function', 'model', 'modindices', 'name', 'options']
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261208
N_MODELS = 120
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent.parent

#: the families and their shares of the models
FAMILIES = {"survey": 0.25, "ordinal": 0.22, "constraints": 0.18, "growth": 0.13,
            "covariates": 0.22}  # fmt: skip

SIM = "tests/reference/fuzz2/sim2.csv"
SIM_MISSING = "tests/reference/fuzz2/sim2_missing.csv"
HS_SURVEY = "tests/reference/survey/hs_survey.csv"
HS_SURVEY_MISSING = "tests/reference/survey/hs_missing_survey.csv"
HS_X_MISSING = "tests/reference/fixed_x/hs_missing_x.csv"
HS_ORDINAL = "tests/reference/ordinal/hs_four_school.csv"
HS = "semnet/datasets/HolzingerSwineford1939.csv"
GROWTH = "tests/reference/survey/growth.csv"

HS_FACTORS = {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"],
              "speed": ["x7", "x8", "x9"]}  # fmt: skip
SIM_FACTORS = {"f1": ["y1", "y2", "y3"], "f2": ["y4", "y5", "y6"], "f3": ["y7", "y8", "y9"]}
ORD_SIM = {"h1": ["o1", "o2", "o3", "o4"], "h2": ["o5", "o6", "o7", "o8"]}


def simulate(seed: int = SEED, n: int = 500) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three correlated factors (y1-y9, heavy-tailed residuals), two ordinal factors (o1-o8,
    3 or 4 categories), covariates z1 (continuous) and z2 (binary), two groups (g), 50
    clusters of 10 (clu, nested in g) with a random intercept in the factors, and skewed
    sampling weights (w); and a copy with ~10% of y1-y9 and ~8% of z1 missing (MCAR).

    Examples
    --------
    >>> full, holes = simulate(1, 40)
    >>> full.shape, int(full["clu"].nunique()), bool(holes["z1"].isna().any())
    ((40, 22), 4, True)
    """
    rng = np.random.default_rng(seed)
    g = np.repeat(["a", "b"], n // 2)
    b = (g == "b").astype(float)
    clu = np.arange(n) // 10 + 1
    u = rng.normal(scale=0.45, size=clu.max() + 1)[clu]
    z1 = rng.normal(size=n)
    z2 = rng.binomial(1, 0.4, size=n).astype(float)
    f1 = 0.3 * b + 0.4 * z1 + u + rng.normal(size=n)
    f2 = 0.5 * f1 - 0.3 * z2 + 0.5 * u + rng.normal(scale=0.8, size=n)
    f3 = 0.4 * f2 + 0.2 * f1 - 0.2 * b + rng.normal(scale=0.8, size=n)
    columns = {}
    for k, f in enumerate((f1, f2, f3)):
        for j, lam in enumerate((1.0, 0.8, 1.2)):
            noise = rng.standard_t(5, size=n) * 0.6
            columns[f"y{3 * k + j + 1}"] = np.round(2.0 + lam * f + noise, 5)
    h1 = 0.5 * f1 + 0.2 * b + rng.normal(scale=0.8, size=n)
    h2 = 0.4 * h1 + rng.normal(scale=0.9, size=n)
    cuts = ([-0.9, 0.1, 1.0], [-0.6, 0.6])
    for k, h in enumerate((h1, h2)):
        for j, lam in enumerate((1.0, 0.8, 0.7, 1.1)):
            star = lam * h + rng.normal(scale=0.8, size=n)
            star = star / star.std()
            columns[f"o{4 * k + j + 1}"] = np.searchsorted(cuts[j % 2], star) + 1
    w = np.round(np.exp(0.35 * rng.normal(size=n) + 0.25 * z2), 4)
    full = pd.DataFrame({**columns, "z1": np.round(z1, 5), "z2": z2.astype(int), "g": g,
                         "clu": clu, "w": w})  # fmt: skip
    holes = full.copy()
    items = [f"y{i}" for i in range(1, 10)]
    holes[items] = holes[items].mask(rng.random((n, len(items))) < 0.10)
    holes["z1"] = holes["z1"].mask(rng.random(n) < 0.08)
    return full, holes


def _cfa_lines(rng, factors, std_lv, k=None):
    """1-3 of ``factors`` (at least ``k``) with their indicators, as lavaan lines."""
    names = list(factors)
    if k is None:
        k = int(rng.choice([1, 2, 3][: len(names)], p=[0.2, 0.45, 0.35][: len(names)] /
                           np.sum([0.2, 0.45, 0.35][: len(names)])))  # fmt: skip
    chosen = [names[i] for i in sorted(rng.choice(len(names), size=k, replace=False))]
    lines = []
    for f in chosen:
        terms = list(factors[f])
        if not std_lv and rng.random() < 0.15:
            terms[0] = f"NA*{terms[0]}"
            lines.append(f"{f} =~ " + " + ".join(terms))
            lines.append(f"{f} ~~ 1*{f}")
            continue
        lines.append(f"{f} =~ " + " + ".join(terms))
    return chosen, lines


def _groups(rng, levels):
    """A random rung of ``levels`` (a ladder of group.equal lists), or none."""
    rung = levels[int(rng.integers(0, len(levels)))]
    return {"group.equal": list(rung)} if rung else {}


def _survey(rng):
    ds = "hs" if rng.random() < 0.5 else "sim"
    factors, group = (HS_FACTORS, "school") if ds == "hs" else (SIM_FACTORS, "g")
    std_lv = bool(rng.random() < 0.2)
    chosen, lines = _cfa_lines(rng, factors, std_lv)
    if len(chosen) >= 2 and rng.random() < 0.4:
        lines.append(f"{chosen[1]} ~ {chosen[0]}")
    if ds == "sim" and rng.random() < 0.3:
        lines.append(f"{chosen[-1]} ~ z1")
    opts: dict = {"std.lv": True} if std_lv else {}
    roll = rng.random()
    if roll < 0.45:
        opts["sampling.weights"] = "w"
        opts["estimator"] = "MLR" if rng.random() < 0.5 else "ML"
    elif roll < 0.75:
        opts["cluster"] = "psu" if ds == "hs" else "clu"
        opts["estimator"] = "MLR"
    else:
        opts["sampling.weights"] = "w"
        opts["cluster"] = "psu" if ds == "hs" else "clu"
        opts["estimator"] = "MLR"
    if rng.random() < 0.4:
        opts["group"] = group
        opts.update(_groups(rng, [[], ["loadings"], ["loadings", "intercepts"]]))
        if "sampling.weights" in opts and rng.random() < 0.5:
            opts["sampling.weights.normalization"] = "group"
    fiml = "z1" not in "\n".join(lines) and rng.random() < 0.2
    if fiml:
        opts["missing"] = "ml"
        data = HS_SURVEY_MISSING if ds == "hs" else SIM_MISSING
    else:
        data = HS_SURVEY if ds == "hs" else SIM
    function = "sem" if any(" ~ " in x for x in lines) else "cfa"
    return "\n".join(lines), data, function, opts


def _ordinal(rng):
    ds = "hs" if rng.random() < 0.45 else "sim"
    factors, group = (HS_FACTORS, "school") if ds == "hs" else (ORD_SIM, "g")
    std_lv = bool(rng.random() < 0.3)
    chosen, lines = _cfa_lines(rng, factors, std_lv)
    if len(chosen) >= 2 and rng.random() < 0.3:
        lines.append(f"{chosen[1]} ~ {chosen[0]}")
    items = [i for f in chosen for i in factors[f]]
    if len(items) >= 6 and rng.random() < 0.25:
        lines.append(f"{items[0]} ~~ {items[-1]}")
    opts: dict = {"std.lv": True} if std_lv else {}
    opts["ordered"] = items
    roll = rng.random()
    opts["estimator"] = "WLSMV" if roll < 0.65 else ("ULSMV" if roll < 0.82 else "DWLS")
    if rng.random() < 0.25:
        opts["parameterization"] = "theta"
    if rng.random() < 0.45:
        opts["group"] = group
        opts.update(_groups(rng, [[], ["thresholds"], ["thresholds", "loadings"],
                                  ["thresholds", "loadings", "lv.variances"]]))  # fmt: skip
    data = HS_ORDINAL if ds == "hs" else SIM
    function = "sem" if any(" ~ " in x for x in lines) else "cfa"
    return "\n".join(lines), data, function, opts


def _constraints(rng):
    ds = "hs" if rng.random() < 0.5 else "sim"
    factors = HS_FACTORS if ds == "hs" else SIM_FACTORS
    chosen, _ = _cfa_lines(rng, factors, False, k=int(rng.integers(2, 4)))
    lines, defined = [], []
    for idx, f in enumerate(chosen):
        a, b, c = factors[f]
        if idx == 0:
            lines.append(f"{f} =~ {a} + l1*{b} + l2*{c}")
        else:
            lines.append(f"{f} =~ {a} + {b} + {c}")
    structural = rng.random() < 0.6
    if structural:
        lines.append(f"{chosen[1]} ~ p1*{chosen[0]}")
        if len(chosen) == 3:
            lines.append(f"{chosen[2]} ~ p2*{chosen[1]} + p3*{chosen[0]}")
    kind = int(rng.integers(0, 5))
    if kind == 0:
        defined.append("l1 == l2")
    elif kind == 1:
        defined.append("l1 == 2*l2" if rng.random() < 0.5 else "l2 == 2*l1")
    elif kind == 2:
        defined.append(["l1 > 1", "l2 > 1.1", "l1 < 0.5", "l2 < l1"][int(rng.integers(0, 4))])
    elif kind == 3:
        first = factors[chosen[0]][0]
        lines.append(f"{first} ~~ v1*{first}")
        defined.append(f"v1 == {round(float(rng.uniform(0.3, 0.8)), 2)}")
    else:
        defined.append("l1 - l2 == 0.1")
    pool = ["r1 := l1/l2", "e1 := exp(l1 - l2)", "s1 := l1^2 + l2"]
    if structural:
        pool += ["ind := l1*p1", "ratio := p1/l2"]
        if len(chosen) == 3:
            pool += ["ind2 := p1*p2", "tot := p3 + p1*p2", "prop := p1*p2/(p3 + p1*p2)"]
    for i in rng.choice(len(pool), size=int(rng.integers(1, 4)), replace=False):
        defined.append(pool[int(i)])
    opts: dict = {}
    roll = rng.random()
    if roll < 0.25:
        opts["estimator"] = "MLR"
    elif roll < 0.35:
        opts["estimator"] = "MLM"
    if rng.random() < 0.25:
        opts["meanstructure"] = True
    function = "sem" if structural else "cfa"
    return "\n".join(lines + defined), HS if ds == "hs" else SIM, function, opts


def _growth(rng):
    t = ["t1", "t2", "t3", "t4"]
    lines = ["i =~ " + " + ".join(f"1*{x}" for x in t)]
    shape = rng.random()
    if shape < 0.5:
        lines.append("s =~ " + " + ".join(f"{k}*{x}" for k, x in enumerate(t)))
    elif shape < 0.8:
        lines.append("s =~ 0*t1 + 1*t2 + t3 + t4")
    else:
        lines.append("s =~ " + " + ".join(f"{k}*{x}" for k, x in enumerate(t)))
        lines.append("q =~ " + " + ".join(f"{k * k}*{x}" for k, x in enumerate(t)))
        lines.append("q ~~ 0*q")
    if rng.random() < 0.4:
        lines.append("i ~ x1 + x2\ns ~ x1 + x2" if rng.random() < 0.5 else "i + s ~ x1")
    if rng.random() < 0.3:
        lines += [f"{x} ~ c{k + 1}" for k, x in enumerate(t)]
    if rng.random() < 0.25:
        lines += [f"{x} ~~ r*{x}" for x in t]
    if rng.random() < 0.15:
        lines.append("i ~~ 0*s")
    opts: dict = {}
    if rng.random() < 0.4:
        opts["estimator"] = "MLR"
    if rng.random() < 0.25 and any(" ~ " in x for x in lines):
        opts["fixed.x"] = False
    return "\n".join(lines), GROWTH, "growth", opts


def _covariates(rng):
    ds = "hs" if rng.random() < 0.5 else "sim"
    factors = HS_FACTORS if ds == "hs" else SIM_FACTORS
    cov = ["ageyr", "sex"] if ds == "hs" else ["z1", "z2"]
    group = "school" if ds == "hs" else "g"
    chosen, lines = _cfa_lines(rng, factors, False)
    pick = cov if rng.random() < 0.5 else cov[:1]
    lines.append(f"{chosen[-1]} ~ " + " + ".join(pick))
    if len(chosen) >= 2 and rng.random() < 0.4:
        lines.append(f"{chosen[0]} ~ {pick[0]}")
    if rng.random() < 0.25:
        lines.append(f"{factors[chosen[0]][1]} ~ {cov[-1]}")
    opts: dict = {}
    if rng.random() < 0.5:
        opts["fixed.x"] = False
    if rng.random() < 0.25:
        marker = factors[chosen[0]][0]
        lines += [f"{marker} ~ 0*1", f"{chosen[0]} ~ 1"]
        opts["meanstructure"] = True
    elif rng.random() < 0.4:
        opts["meanstructure"] = True
    if rng.random() < 0.35:
        opts["group"] = group
        opts.update(_groups(rng, [[], ["loadings"], ["loadings", "intercepts"],
                                  ["loadings", "regressions"]]))  # fmt: skip
    roll = rng.random()
    data = HS if ds == "hs" else SIM
    if roll < 0.45:
        opts["missing"] = "ml" if roll < 0.2 else "ml.x"
        data = HS_X_MISSING if ds == "hs" else SIM_MISSING
    if rng.random() < 0.4:
        opts["estimator"] = "MLR"
    return "\n".join(lines), data, "sem", opts


DRAWS = {"survey": _survey, "ordinal": _ordinal, "constraints": _constraints,
         "growth": _growth, "covariates": _covariates}  # fmt: skip


def _constraints2(rng):
    """Inequalities that bind, nonlinear equalities, labels across two groups."""
    ds = "hs" if rng.random() < 0.5 else "sim"
    factors, group = (HS_FACTORS, "school") if ds == "hs" else (SIM_FACTORS, "g")
    names = list(factors)
    lines, defined, opts = [], [], {}
    grouped = rng.random() < 0.35
    for idx, f in enumerate(names[: int(rng.integers(2, 4))]):
        a, b, c = factors[f]
        if idx == 0 and grouped:
            lines.append(f"{f} =~ {a} + c(l1, m1)*{b} + c(l2, m2)*{c}")
        elif idx == 0:
            lines.append(f"{f} =~ {a} + l1*{b} + l2*{c}")
        else:
            lines.append(f"{f} =~ {a} + {b} + {c}")
    lines.append(f"{names[1]} ~ p1*{names[0]}")
    if grouped:
        opts["group"] = group
        defined.append(["l1 == m1", "l2 == m2", "l1 - m1 == 0.1", "m1 > l1 + 0.2"][
            int(rng.integers(0, 4))])
        defined.append("dl := l1 - m1")
    kind = int(rng.integers(0, 5))
    if kind == 0:
        bound = round(float(rng.uniform(1.0, 1.4)), 2)
        defined.append(f"l2 > {bound}")
    elif kind == 1:
        defined.append(f"l1 < {round(float(rng.uniform(0.4, 0.7)), 2)}")
    elif kind == 2:
        defined.append("l1*l2 == 1")
    elif kind == 3:
        defined.append("l2 == l1^2")
    else:
        first = factors[names[0]][0]
        lines.append(f"{first} ~~ v1*{first}")
        defined.append("v1 < 0.2")
    pool = ["r1 := l1/l2", "e1 := exp(p1)", "lg := log(l2)", "sq := sqrt(l1^2 + l2^2)",
            "ind := l1*p1", "hm := 2*l1*l2/(l1 + l2)"]
    for i in rng.choice(len(pool), size=int(rng.integers(1, 4)), replace=False):
        defined.append(pool[int(i)])
    roll = rng.random()
    if roll < 0.3:
        opts["estimator"] = "MLR"
    elif roll < 0.4 and not grouped:
        opts["estimator"] = "MLM"
    data = HS if ds == "hs" else SIM
    return "\n".join(lines + defined), data, "sem", opts


def _ordinal_covariate(rng):
    """Ordinal items with a continuous covariate modelled as random."""
    std_lv = bool(rng.random() < 0.3)
    chosen, lines = _cfa_lines(rng, ORD_SIM, std_lv)
    lines.append(f"{chosen[-1]} ~ z1")
    if len(chosen) == 2 and rng.random() < 0.5:
        lines.append(f"{chosen[0]} ~ z1")
    opts: dict = {"std.lv": True} if std_lv else {}
    opts["ordered"] = [i for f in chosen for i in ORD_SIM[f]]
    opts["conditional.x"] = False
    if rng.random() < 0.3:
        opts["estimator"] = "ULSMV"
    if rng.random() < 0.35:
        opts["group"] = "g"
        opts.update(_groups(rng, [[], ["thresholds"], ["thresholds", "loadings"]]))
    return "\n".join(lines), SIM, "sem", opts


def _survey2(rng):
    """Weights and clusters with FIML and groups, MLM with clusters."""
    model, data, function, opts = _survey(rng)
    if "missing" not in opts and "z1" not in model and rng.random() < 0.6:
        opts["missing"] = "ml"
        data = HS_SURVEY_MISSING if data == HS_SURVEY else SIM_MISSING
    if "cluster" in opts and "sampling.weights" not in opts and "missing" not in opts \
            and rng.random() < 0.5:
        opts["estimator"] = "MLM"
    if "group" not in opts and rng.random() < 0.5:
        opts["group"] = "school" if data.startswith("tests/reference/survey") else "g"
        opts.update(_groups(rng, [[], ["loadings"], ["loadings", "intercepts"]]))
    if "sampling.weights" in opts and rng.random() < 0.25:
        opts["sampling.weights.normalization"] = "none"
    return model, data, function, opts


def _growth2(rng):
    """Growth models with groups, covariates and missing waves (GROWTH2)."""
    t = ["t1", "t2", "t3", "t4", "t5"]
    lines = ["i =~ " + " + ".join(f"1*{x}" for x in t)]
    if rng.random() < 0.6:
        lines.append("s =~ " + " + ".join(f"{k}*{x}" for k, x in enumerate(t)))
    else:
        lines.append("s =~ 0*t1 + 1*t2 + t3 + t4 + t5")
    if rng.random() < 0.5:
        lines.append("i + s ~ w1" if rng.random() < 0.5 else "i ~ w1 + w2\ns ~ w1")
    opts: dict = {}
    if rng.random() < 0.5:
        opts["group"] = "grp"
        opts.update(_groups(rng, [[], ["loadings"], ["means"], ["residuals"],
                                  ["lv.variances", "lv.covariances"]]))  # fmt: skip
    roll = rng.random()
    data = GROWTH2
    if roll < 0.5:
        opts["missing"] = "ml"
        data = GROWTH2_MISSING
    if rng.random() < 0.4:
        opts["estimator"] = "MLR"
    if rng.random() < 0.25 and any(" ~ " in x for x in lines):
        opts["fixed.x"] = False
    if rng.random() < 0.3:
        # the same model through sem(): intercepts at 0, latent means free
        opts.update({"meanstructure": True, "int.ov.free": False, "int.lv.free": True})
        return "\n".join(lines), data, "sem", opts
    return "\n".join(lines), data, "growth", opts


def _covariates2(rng):
    """Random covariates with FIML and groups, ml.x with groups, latent means."""
    model, data, function, opts = _covariates(rng)
    if rng.random() < 0.5 and "missing" not in opts:
        opts["missing"] = "ml.x" if rng.random() < 0.5 else "ml"
        data = HS_X_MISSING if data == HS else SIM_MISSING
    if "group" not in opts and rng.random() < 0.5:
        opts["group"] = "school" if "hs" in data.lower() or "Holzinger" in data else "g"
        opts.update(_groups(rng, [[], ["loadings"], ["loadings", "intercepts"]]))
    return model, data, function, opts


GROWTH2 = "tests/reference/fuzz2/growth2.csv"
GROWTH2_MISSING = "tests/reference/fuzz2/growth2_missing.csv"
DRAWS.update({"constraints2": _constraints2, "ordinal_covariate": _ordinal_covariate,
              "survey2": _survey2, "growth2": _growth2, "covariates2": _covariates2})
#: the second batch's families
FAMILIES2 = {"constraints2": 0.25, "ordinal_covariate": 0.15, "survey2": 0.2,
             "growth2": 0.2, "covariates2": 0.2}  # fmt: skip
#: the batches: (seed, number of models, families and their shares)
BATCHES = ((SEED, N_MODELS, FAMILIES), (SEED + 1, 60, FAMILIES2))


def simulate_growth(seed: int = SEED, n: int = 400) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Five waves (t1-t5) of a linear growth with a random intercept and slope, two
    time-invariant covariates (w1 continuous, w2 binary) and two groups (grp) that
    differ in the mean slope; and a copy with ~12% of the waves missing (MAR on w1:
    later waves more often missing for high w1).

    Examples
    --------
    >>> full, holes = simulate_growth(1, 30)
    >>> full.shape, bool(holes["t5"].isna().any())
    ((30, 8), True)
    """
    rng = np.random.default_rng(seed)
    grp = np.repeat(["x", "y"], n // 2)
    w1 = rng.normal(size=n)
    w2 = rng.binomial(1, 0.5, size=n)
    i = 5.0 + 0.5 * w1 + rng.normal(size=n)
    s = 0.3 + 0.3 * (grp == "y") + 0.2 * w1 - 0.1 * w2 + rng.normal(scale=0.4, size=n)
    waves = {f"t{k + 1}": np.round(i + k * s + rng.normal(scale=0.6, size=n), 5)
             for k in range(5)}  # fmt: skip
    full = pd.DataFrame({**waves, "w1": np.round(w1, 5), "w2": w2, "grp": grp})
    holes = full.copy()
    for k in range(1, 5):
        p = 0.04 * k * (1 + (w1 > 0))
        holes[f"t{k + 1}"] = holes[f"t{k + 1}"].mask(rng.random(n) < p)
    return full, holes


def generate(batches=BATCHES) -> list[dict]:
    """The random models of ``batches`` (the same list on every machine), numbered on
    across the batches."""
    out: list[dict] = []
    for seed, n, families in batches:
        rng = np.random.default_rng(seed)
        names, shares = list(families), np.array(list(families.values()))
        for _ in range(n):
            family = names[int(rng.choice(len(names), p=shares / shares.sum()))]
            model, data, function, opts = DRAWS[family](rng)
            out.append({
                "name": f"n{len(out):03d}_{family}",
                "family": family,
                "model": model,
                "data": data,
                "function": function,
                "options": opts,
                "modindices": bool(rng.random() < 0.4),
            })  # fmt: skip
    return out


def main() -> None:
    full, holes = simulate()
    full.to_csv(HERE / "sim2.csv", index=False)
    holes.to_csv(HERE / "sim2_missing.csv", index=False, na_rep="NA")
    full, holes = simulate_growth()
    full.to_csv(HERE / "growth2.csv", index=False)
    holes.to_csv(HERE / "growth2_missing.csv", index=False, na_rep="NA")
    with open(HERE / "models.json", "w", encoding="utf-8") as fh:
        json.dump({"batches": BATCHES, "models": generate()}, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
