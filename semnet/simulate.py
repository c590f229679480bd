"""Simulate data from a population model written in lavaan syntax (lavaan's ``simulateData``).

The numbers in the model are the population values::

    f  =~ 0.8*x1 + 0.7*x2 + c(0.6, 0.4)*x3     # one loading per group with c()
    y  ~  0.3*f + 0.2*z + 0.15*f:z              # f:z is a (latent) product term
    x1 ~~ 0.36*x1                               # residual variance
    f  ~  c(0, 0.5)*1                           # latent mean per group

Parameters that the model does not give take lavaan's ``simulateData()`` defaults
(``std.lv = TRUE``, ``fixed.x = FALSE``, ``standardized = FALSE``): factor loadings 1 (0.7 with
``standardized=True``), variances and residual variances 1 (with ``standardized=True`` the
residual variances of endogenous variables are chosen so that every variable has variance
1), regression coefficients 0 (with a warning), covariances, intercepts and means 0.

How the data are generated
--------------------------
The model is put in RAM form (:mod:`semnet.matrices.ram`): every variable (observed and
latent) is ``v = A v + m + e`` with ``Cov(e) = S``.  For each case the error vector ``e`` is
drawn, and the scores are ``v = (I - A)^-1 (m + e)``.  A product term ``y ~ g*a:b`` adds
``g * v_a * v_b`` to the equation of ``y``; the products are formed from the generated
scores of ``a`` and ``b`` (raw, not centred), so the system is solved again after each
round of products (one round per product term, which is exact for any recursive
ordering).  A product whose outcome feeds back into one of its factors is refused.

Non-normality (``skew``) is put into the *error terms* by Fleishman's (1978) power
transformation ``-c + b Z + c Z^2 + d Z^3`` of standard normal ``Z``; when transformed
errors are correlated (residual covariances), the normal ``Z`` are drawn with the
Vale & Maurelli (1983) intermediate correlations, so the errors keep their covariance
``S``.  (lavaan transforms the observed variables instead; transforming the errors keeps
the model's covariance structure exact and lets latent variables stay normal.)

Likert coding (``likert``) cuts each continuous variable at fixed thresholds after
standardising it by its mean and standard deviation in the whole (pooled) sample, so
differences in means and intercepts between groups survive the coding.  The
thresholds for ``k`` categories are the standard-normal quantiles of the cumulative
probabilities of a Binomial(k - 1, 1/2) variable, a symmetric "discretized normal":
for ``k = 7`` they are about -2.15, -1.22, -0.40, 0.40, 1.22, 2.15 and a standard normal
variable gives the bell-shaped category proportions 1, 6, 15, 20, 15, 6, 1 (out of 64).

All randomness comes from one ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import itertools
import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats

from semnet.api import read_model
from semnet.errors import ModelSpecificationError, OptionError, SemnetWarning, check_seed
from semnet.matrices.ram import Model
from semnet.partable.build import ParTable, partable
from semnet.syntax import ParsedModel, Relation, parse_model

__all__ = ["fleishman_coefficients", "likert_thresholds", "simulate"]


@dataclass(frozen=True)
class _Product:
    """A product term ``lhs ~ value*a:b`` (value per group)."""

    lhs: str
    a: str
    b: str
    values: tuple[float, ...]  # one per group
    line: int


def simulate(
    model: str | Path,
    n: int | Mapping[str, int],
    *,
    groups: Sequence[str] | None = None,
    seed: int | np.random.Generator | None = None,
    likert: int | Mapping[str, int] | None = None,
    skew: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None,
    missing: float | Mapping[str, object] | None = None,
    empirical: bool = False,
    standardized: bool = False,
    group_column: str = "group",
) -> pd.DataFrame:
    """Draw a data set from a population model (lavaan's ``simulateData()``).

    Parameters
    ----------
    model : str or Path
        lavaan model syntax (or the path of a ``.lav`` file) whose numbers are the
        population values; ``c(v1, v2, ...)*x`` gives one value per group.  Latent product
        terms ``y ~ 0.2*f1:f2`` are supported.  ``:=`` and ``==`` lines are ignored.
    n : int or dict
        Sample size, or a dict group label -> size.
    groups : sequence of str, optional
        Group labels, in order.  Default: the keys of ``n`` when it is a dict, else one
        group.  With groups the output has a column ``group_column`` holding the labels.
    seed : int or numpy Generator, optional
        Seed of ``numpy.random.default_rng``; the same seed gives the same data.
    likert : int or dict, optional
        Number of response categories ``k``: every indicator of a latent variable is coded
        ``1..k`` (a dict ``{variable: k}`` picks variables, observed covariates included).
        See the module notes for the thresholds.
    skew : (skewness, excess kurtosis) or dict, optional
        Non-normal error terms by Fleishman's power method with Vale–Maurelli
        intermediate correlations.  A single pair applies to the error (residual) term of
        every observed variable; a dict ``{variable: (skewness, kurtosis)}`` may also
        name latent variables (their disturbances).
    missing : float or dict, optional
        Missing answers set to NaN.  A float ``p`` is MCAR: in every observed column
        exactly ``round(p * N)`` cells chosen at random.  A dict may hold ``"mcar": p``,
        ``"mar": (p, "driver")`` (in every other column ``round(p * N)`` cells, chosen
        with probability proportional to the rank of ``driver``, so high values of the
        driver make missing answers likelier; the driver stays complete) and
        ``"columns": [...]`` (the columns concerned; default all observed variables).
        The group column is never missing.
    empirical : bool
        Make the error terms' sample mean exactly 0 and their covariance (divisor N)
        exactly S in every group, so a linear model's sample moments equal the implied
        moments (before Likert coding or missing data).  Not with ``skew``.
    standardized : bool
        Choose the unspecified residual variances of endogenous variables so that all
        variables have variance 1 (lavaan's ``standardized=TRUE``); default loadings 0.7.
        Not available with product terms.
    group_column : str
        Name of the group column.

    Returns
    -------
    DataFrame
        The observed variables in model order (then the group column when there are
        groups).  Likert-coded columns hold integers (pandas ``Int64`` when they have
        missing values).

    Raises
    ------
    ModelSpecificationError
        The model cannot generate data (unknown product factor, feedback through a
        product, covariance matrix not positive semidefinite).
    OptionError
        An option has an invalid value.

    Examples
    --------
    >>> import semnet
    >>> from semnet.simulate import simulate
    >>> model = '''
    ...     f =~ 0.8*x1 + 0.7*x2 + 0.6*x3
    ...     x1 ~~ 0.36*x1
    ...     x2 ~~ 0.51*x2
    ...     x3 ~~ 0.64*x3
    ... '''
    >>> data = simulate(model, 500, seed=1)
    >>> data.shape
    (500, 3)
    >>> two = simulate(model, {"A": 200, "B": 300}, seed=1, likert=5)
    >>> two["group"].value_counts().sort_index().tolist()
    [200, 300]
    >>> sorted(two["x1"].unique().tolist()) == [1, 2, 3, 4, 5]
    True
    """
    text = read_model(model)
    labels, sizes, has_groups = _groups_and_sizes(n, groups)
    _check_flags(group_column, empirical, standardized)
    check_seed(seed, generator=True)
    rng = np.random.default_rng(seed)

    pt, ram, index, products = _population_model(text, labels, has_groups)
    _check_products(products, index, standardized)
    values = _population_values(pt, standardized)
    _check_recursive(pt, ram, products, index)
    if standardized:
        values = _standardize(pt, ram, values)

    if has_groups and group_column in ram.ov:
        raise OptionError(
            f"group_column={group_column!r} is also a variable of the model; choose another name."
        )
    skew_spec, likert_spec, missing_spec = _data_specs(
        skew, likert, missing, empirical, pt, ram, index
    )

    blocks = [
        _group_scores(ram, values, g, size, labels[g], rng, skew_spec, empirical, products, index)
        for g, size in enumerate(sizes)
    ]
    frame = pd.DataFrame(np.vstack(blocks), columns=list(ram.ov))
    _code_and_blank(frame, likert_spec, missing_spec, rng)
    if has_groups:
        frame[group_column] = np.repeat(np.array(labels, dtype=object), sizes)
    return frame


def _code_and_blank(
    frame: pd.DataFrame,
    likert_spec: Mapping[str, int],
    missing_spec: Mapping[str, object],
    rng: np.random.Generator,
) -> None:
    """Likert-code the columns of ``likert_spec``, then set the missing cells to NaN (in
    place); the coded columns become integers (``Int64`` when they have missing values)."""
    for name, k in likert_spec.items():
        frame[name] = _likert_code(frame[name].to_numpy(), k)
    _apply_missing(frame, missing_spec, rng)
    for name in likert_spec:
        col = frame[name]
        frame[name] = col.astype("Int64") if col.isna().any() else col.astype(np.int64)


def _population_model(
    text: str, labels: tuple[str, ...], has_groups: bool
) -> tuple[ParTable, Model, dict[str, int], list[_Product]]:
    """The model without its product terms: its parameter table (lavaan's
    ``simulateData()`` options), RAM form and variable index; and the product terms."""
    parsed = parse_model(text)
    linear, products = _split_products(parsed, labels)
    with warnings.catch_warnings():
        # the label-sharing and fixed.x notes concern estimation, not simulation
        warnings.filterwarnings("ignore", message=".*applies to every group.*")
        warnings.filterwarnings("ignore", message=".*exogenous covariate.*")
        pt = partable(
            linear,
            groups=list(labels) if has_groups else 1,
            meanstructure=True,
            std_lv=True,
            fixed_x=False,
            auto_fix_first=False,
        )
    ram = Model(pt)
    return pt, ram, {v: k for k, v in enumerate(ram.variables)}, products


def _group_scores(
    ram: Model,
    values: np.ndarray,
    g: int,
    size: int,
    label: str,
    rng: np.random.Generator,
    skew_spec: Mapping[int, tuple[float, float, float]],
    empirical: bool,
    products: Sequence[_Product],
    index: Mapping[str, int],
) -> np.ndarray:
    """The observed scores of ``size`` cases of group ``g`` (0-based; label ``label``)."""
    mats = ram.matrices(values, g)
    try:
        B = ram.total_effects(mats)
    except np.linalg.LinAlgError:
        raise ModelSpecificationError(
            "the model's paths form a feedback loop with no solution (I - A is singular)"
            + (f" in group {label!r}" if label else "")
            + "; change the regression coefficients."
        ) from None
    e = _draw_errors(mats.S, size, rng, skew_spec, empirical, label)
    base = mats.m[None, :] + e
    scores = base @ B.T
    if products:
        P = np.zeros((ram.n, len(products)))
        ia = np.array([index[p.a] for p in products])
        ib = np.array([index[p.b] for p in products])
        for k, p in enumerate(products):
            P[index[p.lhs], k] = p.values[g]
        for _ in range(len(products)):
            scores = (base + (scores[:, ia] * scores[:, ib]) @ P.T) @ B.T
    return scores[:, : ram.p]


# ----------------------------------------------------------------------- input checks
def _check_flags(group_column: object, empirical: object, standardized: object) -> None:
    if not isinstance(group_column, str) or not group_column:
        raise OptionError(f"group_column must be a non-empty string, not {group_column!r}.")
    if not isinstance(empirical, bool | np.bool_):
        raise OptionError(f"empirical must be True or False, not {empirical!r}.")
    if not isinstance(standardized, bool | np.bool_):
        raise OptionError(f"standardized must be True or False, not {standardized!r}.")


def _data_specs(
    skew: object,
    likert: object,
    missing: object,
    empirical: bool,
    pt: ParTable,
    ram: Model,
    index: Mapping[str, int],
) -> tuple[dict[int, tuple[float, float, float]], dict[str, int], dict[str, object]]:
    """The checked ``skew``, ``likert`` and ``missing`` options (``empirical`` excludes
    ``skew``)."""
    skew_spec = _skew_spec(skew, ram, index)
    if empirical and skew_spec:
        raise OptionError(
            "empirical=True cannot be combined with skew (the Fleishman transformation does "
            "not reproduce the moments exactly); drop one of them."
        )
    return skew_spec, _likert_spec(likert, pt), _missing_spec(missing, ram.ov)


def _check_products(
    products: Sequence[_Product], index: Mapping[str, int], standardized: bool
) -> None:
    """Every factor of a product term is a variable of the model; no ``standardized``."""
    for p in products:
        for name in (p.a, p.b):
            if name not in index:
                raise ModelSpecificationError(
                    f"line {p.line}: the product term '{p.a}:{p.b}' uses {name!r}, which the "
                    f"model does not otherwise define; define it (e.g. '{name} =~ ...' for a "
                    f"latent variable, or '{name} ~~ 1*{name}' for an observed one)."
                )
    if products and standardized:
        raise OptionError(
            "standardized=True is not available with product terms (the variance a product "
            "adds is not a linear function of the model); give the residual variances "
            "explicitly, e.g. 'y ~~ 0.7*y'."
        )


def _groups_and_sizes(
    n: int | Mapping[str, int], groups: Sequence[str] | None
) -> tuple[tuple[str, ...], list[int], bool]:
    if groups is not None:
        if isinstance(groups, str) or not isinstance(groups, Sequence) or not groups:
            raise OptionError(f"groups must be a non-empty list of group labels, not {groups!r}.")
        labels = tuple(str(g) for g in groups)
        if len(set(labels)) != len(labels):
            raise OptionError(f"groups has repeated labels: {list(labels)}.")
    elif isinstance(n, Mapping):
        labels = tuple(str(g) for g in n)
    else:
        labels = ("",)
    has_groups = groups is not None or isinstance(n, Mapping)
    if isinstance(n, Mapping):
        given = {str(k): v for k, v in n.items()}
        if set(given) != set(labels):
            raise OptionError(
                f"n gives sizes for {sorted(given)} but the groups are {list(labels)}; give "
                "one size per group."
            )
        sizes = [given[g] for g in labels]
    else:
        sizes = [n] * len(labels)
    for label, size in zip(labels, sizes, strict=True):
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
            where = f" for group {label!r}" if label else ""
            raise OptionError(f"n must be a positive integer{where}, not {size!r}.")
    return labels, [int(s) for s in sizes], has_groups


def _split_products(
    parsed: ParsedModel, labels: Sequence[str]
) -> tuple[ParsedModel, list[_Product]]:
    """Remove the ``a:b`` terms from the model and return them separately."""
    ngroups = len(labels)
    kept: list[Relation] = []
    merged: dict[tuple[str, str, str], list[float]] = {}
    lines: dict[tuple[str, str, str], int] = {}
    for r in parsed.relations:
        if r.op != "~" or ":" not in r.rhs:
            kept.append(r)
            continue
        a, b = r.rhs.split(":")
        vals = r.modifiers.fixed
        if vals is None or all(v is None for v in vals):
            vals = r.modifiers.start
        if vals is None or all(v is None for v in vals):
            warnings.warn(
                f"line {r.line}: the product term '{r.lhs} ~ {r.rhs}' has no value; it is set "
                f"to zero (write e.g. '0.2*{r.rhs}').",
                SemnetWarning,
                stacklevel=3,
            )
            vals = (0.0,)
        vals = tuple(0.0 if v is None else float(v) for v in vals)
        key = (r.lhs, a, b)
        current = merged.setdefault(key, [0.0] * ngroups)
        lines.setdefault(key, r.line)
        if r.block is not None:
            if r.block not in labels:
                raise ModelSpecificationError(
                    f"line {r.line}: the model has 'group: {r.block}' but the groups are "
                    f"{', '.join(repr(x) for x in labels)}; use one of those labels."
                )
            if len(vals) != 1:
                raise ModelSpecificationError(
                    f"line {r.line}: inside a 'group:' block give one value, not {len(vals)}."
                )
            current[list(labels).index(r.block)] = vals[0]
            continue
        if len(vals) not in (1, ngroups):
            raise ModelSpecificationError(
                f"line {r.line}: the value of '{r.lhs} ~ {r.rhs}' has {len(vals)} entries but "
                f"there are {ngroups} group(s); give one value per group or a single value."
            )
        current[:] = list(vals * ngroups if len(vals) == 1 else vals)
    products = [_Product(k[0], k[1], k[2], tuple(v), lines[k]) for k, v in merged.items()]
    mentioned = set()
    for r in kept:
        mentioned.update((r.lhs, r.rhs))
    for p in products:
        if p.lhs not in mentioned:
            # the outcome appears only in product terms: declare it with a variance row
            kept.append(Relation(p.lhs, "~~", p.lhs, line=p.line))
            mentioned.add(p.lhs)
    return replace(parsed, relations=tuple(kept)), products


def _population_values(pt: ParTable, standardized: bool) -> np.ndarray:
    """ustart with lavaan simulateData's defaults filled in."""
    params = pt.params
    values = params["ustart"].to_numpy(dtype=float).copy()
    op = params["op"].to_numpy()
    lhs = params["lhs"].to_numpy()
    rhs = params["rhs"].to_numpy()
    nan = np.isnan(values)
    values[nan & (op == "=~")] = 0.7 if standardized else 1.0
    values[nan & (op == "~~") & (lhs == rhs)] = 1.0
    unset = nan & (op == "~")
    if unset.any():
        first = np.flatnonzero(unset)[0]
        warnings.warn(
            f"some regression coefficients have no value (e.g. '{lhs[first]} ~ {rhs[first]}') "
            "and are set to zero, as lavaan's simulateData(); write e.g. "
            f"'{lhs[first]} ~ 0.3*{rhs[first]}'.",
            SemnetWarning,
            stacklevel=3,
        )
    values[np.isnan(values)] = 0.0
    return values


def _edges(pt: ParTable, index: Mapping[str, int], nvar: int) -> np.ndarray:
    """Adjacency (cause -> effect) of the linear model, over all groups."""
    params = pt.params
    adj = np.zeros((nvar, nvar), dtype=bool)
    for op, lhs, rhs in zip(params["op"], params["lhs"], params["rhs"], strict=True):
        if op == "=~":
            adj[index[lhs], index[rhs]] = True
        elif op == "~":
            adj[index[rhs], index[lhs]] = True
    return adj


def _closure(adj: np.ndarray) -> np.ndarray:
    reach = adj.copy()
    for k in range(len(adj)):
        reach |= reach[:, [k]] & reach[[k], :]
    return reach


def _check_recursive(
    pt: ParTable, ram: Model, products: list[_Product], index: Mapping[str, int]
) -> None:
    if not products:
        return
    adj = _edges(pt, index, ram.n)
    for p in products:
        adj[index[p.a], index[p.lhs]] = True
        adj[index[p.b], index[p.lhs]] = True
    reach = _closure(adj)
    for p in products:
        if reach[index[p.lhs], index[p.lhs]]:
            raise ModelSpecificationError(
                f"line {p.line}: '{p.lhs}' is affected by the product '{p.a}:{p.b}' and, "
                f"through the model's paths, affects '{p.a}' or '{p.b}' itself; products must "
                "enter a recursive (feedback-free) model."
            )


def _standardize(pt: ParTable, ram: Model, values: np.ndarray) -> np.ndarray:
    """Residual variances (unspecified ones) that give every endogenous variable variance 1."""
    values = values.copy()
    params = pt.params
    index = {v: k for k, v in enumerate(ram.variables)}
    adj = _edges(pt, index, ram.n)
    if _closure(adj).diagonal().any():
        raise OptionError(
            "standardized=True needs a recursive model (no feedback loops); give the residual "
            "variances explicitly instead."
        )
    order = _topological(adj)
    endogenous = adj.any(axis=0)
    op, lhs, rhs = params["op"].to_numpy(), params["lhs"].to_numpy(), params["rhs"].to_numpy()
    user = params["user"].to_numpy()
    group = params["group"].to_numpy()
    if ((op == "~~") & (lhs == rhs) & (user > 0)).any():
        warnings.warn(
            "standardized=True: the (residual) variances given in the model are kept; only "
            "the unspecified ones are chosen to give variance 1.",
            SemnetWarning,
            stacklevel=3,
        )
    for g in range(ram.pt.ngroups):
        for k in order:
            if not endogenous[k]:
                continue
            name = ram.variables[k]
            row = np.flatnonzero(
                (group == g + 1) & (op == "~~") & (lhs == name) & (rhs == name) & (user == 0)
            )
            if row.size == 0:
                continue
            values[row] = 0.0
            mats = ram.matrices(values, g)
            B = ram.total_effects(mats)
            explained = B[k] @ mats.S @ B[k]
            if explained >= 1.0:
                warnings.warn(
                    f"standardized=True: the model already explains variance {explained:.3f} "
                    f">= 1 of {name!r}; its residual variance is set to 1.",
                    SemnetWarning,
                    stacklevel=3,
                )
                values[row] = 1.0
            else:
                values[row] = 1.0 - explained
    return values


def _topological(adj: np.ndarray) -> list[int]:
    remaining = set(range(len(adj)))
    order: list[int] = []
    while remaining:
        ready = sorted(k for k in remaining if not adj[list(remaining), k].any())
        order.extend(ready)
        remaining -= set(ready)
    return order


def _pair(value: object, what: str) -> tuple[float, float]:
    if (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) == 2
        and all(isinstance(v, numbers.Real) and math.isfinite(v) for v in value)
    ):
        return float(value[0]), float(value[1])
    raise OptionError(
        f"{what} must be a (skewness, excess kurtosis) pair such as (1.0, 2.0), not {value!r}."
    )


def _skew_spec(
    skew: object, ram: Model, index: Mapping[str, int]
) -> dict[int, tuple[float, float, float]]:
    """Variable index -> Fleishman (b, c, d) of its error term."""
    if skew is None:
        return {}
    if isinstance(skew, Mapping):
        pairs = {}
        for name, value in skew.items():
            if name not in index:
                raise OptionError(
                    f"skew names {name!r}, which is not a variable of the model; use one of "
                    f"{', '.join(ram.variables)}."
                )
            pairs[index[name]] = _pair(value, f"skew[{name!r}]")
    else:
        pair = _pair(skew, "skew")
        pairs = {k: pair for k in range(ram.p)}
    return {k: fleishman_coefficients(*pair) for k, pair in pairs.items() if pair != (0.0, 0.0)}


def _likert_spec(likert: object, pt: ParTable) -> dict[str, int]:
    if likert is None:
        return {}
    if isinstance(likert, Mapping):
        spec = dict(likert)
        for name in spec:
            if name not in pt.names.ov:
                raise OptionError(
                    f"likert names {name!r}, which is not an observed variable of the model; "
                    f"use one of {', '.join(pt.names.ov)}."
                )
    else:
        spec = dict.fromkeys(pt.names.ov_ind, likert)
    for name, k in spec.items():
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 2:
            raise OptionError(
                f"likert must be an integer number of categories >= 2 (e.g. 7), not {k!r}"
                f" (variable {name!r})."
            )
    return {name: int(k) for name, k in spec.items()}


def _proportion(value: object, what: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 0.0 <= float(value) < 1.0
    ):
        raise OptionError(f"{what} must be a proportion in [0, 1), not {value!r}.")
    return float(value)


def _missing_spec(missing: object, ov: Sequence[str]) -> dict[str, object]:
    if missing is None:
        return {}
    if not isinstance(missing, Mapping):
        return {"mcar": _proportion(missing, "missing"), "columns": list(ov)}
    unknown = set(missing) - {"mcar", "mar", "columns"}
    if unknown:
        raise OptionError(
            f"missing has unknown key(s) {sorted(unknown)}; use 'mcar', 'mar' and 'columns', "
            "e.g. {'mcar': 0.05} or {'mar': (0.1, 'x1')}."
        )
    spec: dict[str, object] = {}
    columns = list(missing.get("columns", ov))
    bad = [c for c in columns if c not in ov]
    if bad:
        raise OptionError(
            f"missing['columns'] names {bad[0]!r}, which is not an observed variable of the "
            "model (the group column is never made missing)."
        )
    spec["columns"] = columns
    if "mcar" in missing:
        spec["mcar"] = _proportion(missing["mcar"], "missing['mcar']")
    if "mar" in missing:
        value = missing["mar"]
        if (
            not isinstance(value, Sequence)
            or isinstance(value, str)
            or len(value) != 2
            or not isinstance(value[1], str)
        ):
            raise OptionError(
                f"missing['mar'] must be (proportion, driver column), e.g. (0.1, 'x1'), not "
                f"{value!r}."
            )
        p = _proportion(value[0], "missing['mar'] proportion")
        if value[1] not in ov:
            raise OptionError(
                f"the MAR driver {value[1]!r} is not an observed variable of the model; use one "
                f"of {', '.join(ov)}."
            )
        spec["mar"] = (p, value[1])
    return spec


# ------------------------------------------------------------------ random generation
def fleishman_coefficients(skewness: float, kurtosis: float) -> tuple[float, float, float]:
    """Fleishman's (1978) ``(b, c, d)`` for a target skewness and *excess* kurtosis.

    ``Y = -c + b Z + c Z^2 + d Z^3`` with standard normal ``Z`` has mean 0, variance 1 and the
    requested skewness and excess kurtosis.

    Examples
    --------
    >>> b, c, d = fleishman_coefficients(0.0, 0.0)
    >>> round(b, 6), round(c, 6), round(d, 6)
    (1.0, 0.0, 0.0)
    """

    def equations(x: np.ndarray) -> np.ndarray:
        b, c, d = x
        return np.array(
            [
                b * b + 6 * b * d + 2 * c * c + 15 * d * d - 1,
                2 * c * (b * b + 24 * b * d + 105 * d * d + 2) - skewness,
                24 * (b * d + c * c * (1 + b * b + 28 * b * d)
                      + d * d * (12 + 48 * b * d + 141 * c * c + 225 * d * d)) - kurtosis,
            ]
        )  # fmt: skip

    starts = [(1.0, 0.0, 0.0), (0.9, skewness / 6, kurtosis / 24), (0.8, 0.1, 0.05)]
    starts += [(b, c, d) for b in (0.5, 1.2) for c in (-0.3, 0.3) for d in (-0.1, 0.1)]
    for start in starts:
        sol = optimize.root(equations, np.array(start), method="hybr", tol=1e-12)
        b, c, d = sol.x
        if np.max(np.abs(equations(sol.x))) < 1e-9 and b > 0:
            return float(b), float(c), float(d)
    raise OptionError(
        f"skewness {skewness} with excess kurtosis {kurtosis} cannot be reached by "
        "Fleishman's power method; raise the kurtosis (it must be at least about "
        f"{1.5 * skewness**2 - 1.13:.2f} for this skewness)."
    )


def _intermediate_correlation(r: float, f1: tuple, f2: tuple) -> float:
    """Vale & Maurelli (1983): the normal correlation that becomes ``r`` after transforms."""
    b1, c1, d1 = f1
    b2, c2, d2 = f2
    coef = [6 * d1 * d2, 2 * c1 * c2, b1 * b2 + 3 * b1 * d2 + 3 * d1 * b2 + 9 * d1 * d2, -r]
    roots = np.roots(np.trim_zeros(np.array(coef), "f"))
    real = roots[np.abs(roots.imag) < 1e-9].real
    real = real[np.abs(real) <= 1 + 1e-9]
    if real.size == 0:
        raise OptionError(
            f"the correlation {r:.3f} between two skewed error terms cannot be reached with "
            "the requested skewness/kurtosis (Vale–Maurelli); use milder non-normality."
        )
    return float(np.clip(real[np.argmin(np.abs(real - r))], -1.0, 1.0))


def _draw_errors(
    S: np.ndarray,
    size: int,
    rng: np.random.Generator,
    skew: Mapping[int, tuple[float, float, float]],
    empirical: bool,
    label: str,
) -> np.ndarray:
    nvar = len(S)
    where = f" in group {label!r}" if label else ""
    var = np.diag(S)
    if (var < 0).any():
        k = int(np.flatnonzero(var < 0)[0])
        raise ModelSpecificationError(
            f"a (residual) variance is negative ({var[k]}){where}; variances must be >= 0."
        )
    pos = np.flatnonzero(var > 0)
    e = np.zeros((size, nvar))
    if pos.size == 0:
        return e
    sd = np.sqrt(var[pos])
    R = S[np.ix_(pos, pos)] / np.outer(sd, sd)
    fl = [skew.get(int(k), (1.0, 0.0, 0.0)) for k in pos]
    nonnormal = np.array([f != (1.0, 0.0, 0.0) for f in fl])
    if nonnormal.any():
        for i, j in itertools.combinations(range(pos.size), 2):
            if R[i, j] != 0 and (nonnormal[i] or nonnormal[j]):
                R[i, j] = R[j, i] = _intermediate_correlation(R[i, j], fl[i], fl[j])
    lam, vec = np.linalg.eigh(R)
    if lam.min() < -1e-9 * max(1.0, lam.max()):
        raise ModelSpecificationError(
            f"the covariance matrix of the error terms{where} is not positive semidefinite "
            f"(smallest eigenvalue {lam.min():.4g}); check the variances and covariances"
            + (" (or use milder skew)." if nonnormal.any() else ".")
        )
    keep = lam > 1e-12 * max(1.0, lam.max())
    L = vec[:, keep] * np.sqrt(lam[keep])
    z = rng.standard_normal((size, int(keep.sum())))
    if empirical:
        if size <= z.shape[1]:
            raise OptionError(
                f"empirical=True needs more cases than error terms{where} ({size} <= {z.shape[1]})."
            )
        z = z - z.mean(axis=0)
        chol = np.linalg.cholesky(z.T @ z / size)
        z = np.linalg.solve(chol, z.T).T
    u = z @ L.T
    if nonnormal.any():
        b, c, d = (np.array([f[i] for f in fl])[nonnormal] for i in range(3))
        x = u[:, nonnormal]
        u[:, nonnormal] = -c + b * x + c * x * x + d * x * x * x
    e[:, pos] = u * sd
    return e


def likert_thresholds(k: int) -> np.ndarray:
    """Cut points (on the z scale) that code a standard normal variable into ``1..k``.

    They are the normal quantiles of the cumulative Binomial(k - 1, 1/2) probabilities:
    symmetric around 0, giving bell-shaped category proportions.

    Examples
    --------
    >>> likert_thresholds(7).round(2).tolist()
    [-2.15, -1.23, -0.4, 0.4, 1.23, 2.15]
    """
    cum = stats.binom.cdf(np.arange(k - 1), k - 1, 0.5)
    return stats.norm.ppf(cum)


def _likert_code(x: np.ndarray, k: int) -> np.ndarray:
    sd = x.std()
    z = (x - x.mean()) / (sd if sd > 0 else 1.0)
    return 1 + np.searchsorted(likert_thresholds(k), z, side="left")


def _apply_missing(
    frame: pd.DataFrame, spec: Mapping[str, object], rng: np.random.Generator
) -> None:
    if not spec:
        return
    columns = list(spec["columns"])  # type: ignore[arg-type]
    nrow = len(frame)
    if "mar" in spec:
        p, driver = spec["mar"]  # type: ignore[misc]
        cols = [c for c in columns if c != driver]
        m = round(p * nrow)
        if m > 0 and cols:
            rank = np.argsort(np.argsort(frame[driver].to_numpy(), kind="stable")) + 1.0
            # Gumbel top-m: sampling without replacement with probability ~ rank
            keys = np.log(rank)[:, None] + rng.gumbel(size=(nrow, len(cols)))
            chosen = np.argpartition(-keys, m - 1, axis=0)[:m]
            _blank(frame, cols, chosen)
    if "mcar" in spec:
        m = round(spec["mcar"] * nrow)  # type: ignore[operator]
        if m > 0 and columns:
            keys = rng.random((nrow, len(columns)))
            chosen = np.argpartition(keys, m - 1, axis=0)[:m]
            _blank(frame, columns, chosen)


def _blank(frame: pd.DataFrame, columns: Sequence[str], rows: np.ndarray) -> None:
    for j, name in enumerate(columns):
        values = frame[name].to_numpy(dtype=float, copy=True)
        values[rows[:, j]] = np.nan
        frame[name] = values
