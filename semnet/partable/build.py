"""Build the parameter table from parsed model syntax (lavaan's ``lavaanify``).

The parameter table is the one description of a model: every matrix, constraint and
result table is derived from it.  Defaults follow lavaan's ``sem()``/``cfa()``:
marker-variable scaling (or ``std_lv``), residual and latent variances, covariances
among exogenous latent variables and among pure outcome variables, ``fixed.x``
covariates, free observed intercepts and zero latent means when a mean structure is
present.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from semnet.errors import ModelSpecificationError, OptionError, check_choice, warn
from semnet.syntax import parse_expression, parse_model
from semnet.syntax.model import Constraint, ParsedModel, Relation

GROUP_EQUAL_CHOICES = (
    "loadings",
    "intercepts",
    "means",
    "thresholds",
    "residuals",
    "residual_covariances",
    "lv_variances",
    "lv_covariances",
    "regressions",
)

COLUMNS = (
    "id", "lhs", "op", "rhs", "user", "block", "group", "free",
    "ustart", "exo", "label", "plabel", "lower", "upper",
)  # fmt: skip


@dataclass(frozen=True)
class VariableNames:
    """Variable roles of a model (lavaan's ``lav_partable_vnames``)."""

    ov: tuple[str, ...]  # observed, model order
    lv: tuple[str, ...]  # latent
    ov_x: tuple[str, ...]  # fixed.x exogenous covariates
    ov_ind: tuple[str, ...]  # indicators
    lv_x: tuple[str, ...]  # exogenous latent
    ov_y: tuple[str, ...]  # pure outcome observed
    lv_y: tuple[str, ...]  # pure outcome latent

    @property
    def ov_nox(self) -> tuple[str, ...]:
        return tuple(v for v in self.ov if v not in self.ov_x)


STRING_COLUMNS = frozenset({"lhs", "op", "rhs", "label", "plabel"})


def _column(name: str, values) -> np.ndarray:
    """A read-only column: object arrays for names, int or float otherwise."""
    if name in STRING_COLUMNS:
        out = np.empty(len(values), dtype=object)
        out[:] = list(values)
    elif name in ("ustart", "lower", "upper"):
        out = np.asarray(values, dtype=float)
    else:
        out = np.asarray(values, dtype=np.int64)
    out = out.copy() if out.base is not None or not out.flags.owndata else out
    out.setflags(write=False)
    return out


def _list_column(name: str, values: list) -> np.ndarray:
    """:func:`_column` of a fresh list (the array is always a new one)."""
    if name in STRING_COLUMNS:
        out = np.empty(len(values), dtype=object)
        out[:] = values
    else:
        out = np.array(values, dtype=float if name in _FLOAT_COLUMNS else np.int64)
    out.setflags(write=False)
    return out


_FLOAT_COLUMNS = frozenset({"ustart", "lower", "upper"})


@dataclass(frozen=True)
class ParTable:
    """A model's parameter table and the variable roles it implies.

    The table is held as read-only numpy columns (:attr:`columns`, every row; :attr:`cols`,
    the parameter rows); :attr:`table` and :attr:`params` are pandas views of them,
    built on first use for display and analysis.

    Attributes
    ----------
    columns : dict of str to ndarray
        lavaan's columns ``id, lhs, op, rhs, user, block, group, free, ustart, exo, label,
        plabel, lower, upper``: one row per parameter, then the ``:=``, ``==``, ``<``,
        ``>`` rows with ``group`` 0.
    names : VariableNames
    groups : tuple of str
        Group labels (``("",)`` for a single group).
    meanstructure : bool
    constraints : tuple of Constraint
    ordered : tuple of str
        The ordinal observed variables (their thresholds are ``"|"`` rows).
    parameterization : str
        Of the ordinal items: ``"delta"`` or ``"theta"``.
    """

    columns: dict[str, np.ndarray]
    names: VariableNames
    groups: tuple[str, ...]
    meanstructure: bool
    constraints: tuple[Constraint, ...]
    ordered: tuple[str, ...] = ()
    parameterization: str = "delta"

    @classmethod
    def from_frame(
        cls,
        table: pd.DataFrame,
        names: VariableNames,
        groups: tuple[str, ...],
        meanstructure: bool,
        constraints: tuple[Constraint, ...],
        ordered: tuple[str, ...] = (),
        parameterization: str = "delta",
    ) -> ParTable:
        """A ParTable from a table with lavaan's columns (e.g. an edited :attr:`table`)."""
        columns = {c: _column(c, table[c].to_numpy()) for c in COLUMNS}
        return cls(columns, names, groups, meanstructure, constraints, ordered,
                   parameterization)

    @property
    def ngroups(self) -> int:
        return len(self.groups)

    @cached_property
    def cols(self) -> dict[str, np.ndarray]:
        """The parameter rows (no constraint or definition rows), column by column."""
        keep = self.columns["group"] > 0
        if keep.all():
            return self.columns
        out = {}
        for c, v in self.columns.items():
            col = v[keep]
            col.setflags(write=False)
            out[c] = col
        return out

    @cached_property
    def table(self) -> pd.DataFrame:
        """Every row as a DataFrame (read it; :meth:`to_frame` gives a copy to edit)."""
        return pd.DataFrame({c: self.columns[c] for c in COLUMNS})

    @cached_property
    def params(self) -> pd.DataFrame:
        """The parameter rows (no constraint or definition rows) as a DataFrame."""
        return pd.DataFrame({c: self.cols[c] for c in COLUMNS})

    @cached_property
    def nfree(self) -> int:
        free = self.cols["free"]
        return int(free.max()) if (free > 0).any() else 0

    def ndat(self, fixed_x: bool = True) -> int:
        """Sample moments the model reproduces, summed over groups, less those of
        ``fixed.x`` covariates (lavaan's count behind the degrees of freedom)."""
        p = len(self.names.ov)
        if self.ordered:
            # thresholds, the means and variances of continuous variables, and the
            # correlations (covariances with a continuous variable)
            nth = int((self.cols["op"] == "|").sum())
            ncont = p - len(self.ordered)
            return nth + self.ngroups * (p * (p - 1) // 2 + 2 * ncont)
        nx = len(self.names.ov_x) if fixed_x else 0
        per_group = p * (p + 1) // 2 - nx * (nx + 1) // 2
        if self.meanstructure:
            per_group += p - nx
        return per_group * self.ngroups

    def to_frame(self) -> pd.DataFrame:
        """A copy of the table, safe for the caller to modify."""
        return self.table.copy()


def partable(
    model: str | ParsedModel,
    *,
    groups: Sequence[str] | int = 1,
    meanstructure: bool | None = None,
    std_lv: bool = False,
    orthogonal: bool = False,
    fixed_x: bool = True,
    int_ov_free: bool = True,
    int_lv_free: bool = False,
    auto_fix_first: bool | None = None,
    group_equal: Sequence[str] | str = (),
    group_partial: Sequence[str] | str = (),
    missing: str = "listwise",
    observed_products: Sequence[str] = (),
    ordered: dict[str, int] | None = None,
    parameterization: str = "delta",
    ordinal_identification: str = "lavaan",
) -> ParTable:
    """Build lavaan's parameter table for ``model``.

    Parameters
    ----------
    model : str or ParsedModel
        lavaan model syntax.
    groups : sequence of str or int
        Group labels, or the number of groups.
    meanstructure : bool, optional
        Add intercepts and means.  Default (None): only when the syntax has ``~1``
        terms, there are several groups, or ``missing="fiml"``, as lavaan.
    std_lv : bool
        Scale latent variables by fixing their variances to 1 instead of their first
        loadings.
    orthogonal : bool
        Fix covariances among exogenous latent variables to zero.
    fixed_x : bool
        Treat observed exogenous covariates as fixed (their variances and covariances
        are set to the sample values and not estimated).
    group_equal, group_partial : sequence of str
        Cross-group equality constraints and exemptions (lavaan's ``group.equal`` and
        ``group.partial``); see :data:`GROUP_EQUAL_CHOICES`.
    observed_products : sequence of str
        Product terms of observed variables (``"x1:x2"``) that the data carry as
        columns; other product terms must be measured latent products (``a:b =~ ...``).
    ordered : dict of str to int, optional
        Ordinal observed variables and their numbers of thresholds.  As lavaan's delta
        parameterization: free thresholds (``"|"`` rows ``t1``, ``t2``, ...), intercepts
        fixed to 0, residual variances not free (set so that the latent responses have
        unit variance), scale factors (``"~*~"`` rows) fixed to 1, and a mean structure.
    parameterization : str
        ``"delta"`` (above) or ``"theta"``: the residual variances of ordinal items fixed
        to 1 and their scale factors derived from the model.  With equal thresholds
        across groups, the scale factors (delta) or the residual variances (theta) of
        the later groups are free, and so are their latent means.
    ordinal_identification : str
        ``"lavaan"`` (above) or ``"wu_estabrook_2016"``: semTools' ``measEq.syntax(ID.cat
        = "Wu.Estabrook.2016")`` rules for the later groups (:func:`wu_estabrook_free`).

    Returns
    -------
    ParTable

    Examples
    --------
    >>> import semnet
    >>> pt = semnet.partable("visual =~ x1 + x2 + x3")
    >>> pt[["lhs", "op", "rhs", "free"]].head(3).values.tolist()
    [['visual', '=~', 'x1', 0], ['visual', '=~', 'x2', 1], ['visual', '=~', 'x3', 2]]
    """
    parsed = parse_model(model) if isinstance(model, str) else model
    labels = _group_labels(groups)
    group_equal, partial_keys = _group_equal_options(group_equal, group_partial)
    if auto_fix_first is None:
        auto_fix_first = not std_lv

    _reject_unsupported(parsed, observed_products)
    _check_block_labels(parsed, labels)
    any_intercept = any(r.op == "~1" for r in parsed.relations)
    ordered = dict(ordered or {})
    if meanstructure is None or ordered:
        meanstructure = bool(
            meanstructure or any_intercept or len(labels) > 1 or missing in ("fiml", "ml")
            or ordered
        )  # fmt: skip

    cols, names = _all_group_rows(
        parsed, labels,
        meanstructure=meanstructure, std_lv=std_lv, orthogonal=orthogonal,
        fixed_x=fixed_x, int_ov_free=int_ov_free, int_lv_free=int_lv_free,
        auto_fix_first=auto_fix_first, ordered=ordered,
    )  # fmt: skip
    n = len(cols["lhs"])
    cols["id"] = list(range(1, n + 1))
    cols["plabel"] = [f".p{i}." for i in cols["id"]]
    if len(labels) > 1:
        _apply_group_equal(cols, names, group_equal, partial_keys, std_lv, parameterization,
                           ordinal_identification)
        _warn_single_labels(parsed, group_equal)
    _number_free(cols)
    # the parameter rows as lists, before the constraint rows are appended (copies only
    # when there are such rows)
    checked = tuple(
        cols[c][:] if parsed.constraints else cols[c] for c in ("label", "plabel", "free", "ustart")
    )
    _append_constraints(cols, parsed.constraints)
    columns = {c: _list_column(c, cols[c]) for c in COLUMNS}
    pt = ParTable(
        columns, names, labels, bool(meanstructure), parsed.constraints, tuple(ordered),
        parameterization,
    )
    if not parsed.constraints:
        # every row is a parameter row: ParTable.cols is the columns themselves
        pt.__dict__["cols"] = columns
    _check_labels(pt, *checked)
    return pt


def independence_partable(pt: ParTable, random_x: Sequence[str] = ()) -> ParTable:
    """lavaan's baseline (independence) model of ``pt``'s observed variables.

    Every observed variable has a free variance (and, with a mean structure, a free
    mean) in every group, and no covariances; the ``fixed.x`` covariates of ``pt``
    (the variables of its rows with ``exo`` 1) keep their whole block of variances,
    covariances and means fixed at the sample values, as in ``pt``; the ``random_x``
    covariates (``fixed.x = FALSE``) have their block of variances and covariances free.

    Parameters
    ----------
    pt : ParTable
        The model's parameter table.
    random_x : sequence of str
        Exogenous covariates modelled as random variables.

    Returns
    -------
    ParTable

    Examples
    --------
    >>> from semnet.partable.build import independence_partable, partable
    >>> pt = partable("f =~ x1 + x2 + x3; f ~ x4 + x5")
    >>> base = independence_partable(pt)
    >>> base.table[["lhs", "op", "rhs", "free", "exo"]].tail(3).to_numpy().tolist()
    [['x4', '~~', 'x4', 0, 1], ['x4', '~~', 'x5', 0, 1], ['x5', '~~', 'x5', 0, 1]]
    """
    params = pt.cols
    fixed = set(params["lhs"][params["exo"] > 0].tolist()) | set(random_x)
    ov_x = tuple(v for v in pt.names.ov if v in fixed)
    names = VariableNames(pt.names.ov, (), ov_x, (), (), (), ())
    # ordinal items keep their thresholds (free), with unit latent-response variances
    first = (params["group"] == 1) & (params["op"] == "|")
    ordered = dict(Counter(params["lhs"][first].tolist()))
    parts = []
    for g in range(1, pt.ngroups + 1):
        cols = _default_columns(
            names, set(), set(), meanstructure=pt.meanstructure, std_lv=False,
            orthogonal=False, fixed_x=True, int_ov_free=True, int_lv_free=False,
            ordered=ordered,
        )  # fmt: skip
        n = len(cols["lhs"])
        # the random covariates' block is estimated, not fixed at the sample values
        for r in range(n):
            if cols["exo"][r] and cols["lhs"][r] in random_x:
                cols["exo"][r] = 0
                cols["free"][r] = 1
        cols.update(
            user=[0] * n, block=[g] * n, group=[g] * n, label=[""] * n,
            lower=[-math.inf] * n, upper=[math.inf] * n,
        )  # fmt: skip
        parts.append(cols)
    cols = {c: list(itertools.chain.from_iterable(part[c] for part in parts)) for c in parts[0]}
    cols["id"] = list(range(1, len(cols["lhs"]) + 1))
    cols["plabel"] = [f".p{i}." for i in cols["id"]]
    _number_free(cols)
    columns = {c: _list_column(c, cols[c]) for c in COLUMNS}
    return ParTable(
        columns, names, pt.groups, pt.meanstructure, (), pt.ordered, pt.parameterization
    )


def _group_labels(groups: Sequence[str] | int) -> tuple[str, ...]:
    """Group labels from labels or a number of groups (``("",)`` for one group)."""
    if isinstance(groups, int):
        return tuple(str(g + 1) for g in range(groups)) if groups > 1 else ("",)
    return tuple(groups) if len(groups) > 0 else ("",)


def _group_equal_options(
    group_equal: Sequence[str] | str, group_partial: Sequence[str] | str
) -> tuple[tuple[str, ...], set[str]]:
    """``group_equal`` checked against :data:`GROUP_EQUAL_CHOICES` (dots as underscores),
    and the ``group_partial`` keys without spaces."""
    if isinstance(group_equal, str):
        group_equal = (group_equal,)
    group_equal = tuple(g.replace(".", "_") for g in group_equal)
    for g in group_equal:
        check_choice("group_equal", g, GROUP_EQUAL_CHOICES)
    if isinstance(group_partial, str):
        group_partial = (group_partial,)
    return group_equal, {_normalize_partial(p) for p in group_partial}


def _check_block_labels(parsed: ParsedModel, labels: tuple[str, ...]) -> None:
    """Every ``group:`` block of the syntax names one of the groups."""
    block_labels = {r.block for r in parsed.relations if r.block is not None}
    unknown = sorted(b for b in block_labels if b not in labels)
    if unknown:
        raise ModelSpecificationError(
            f"the model has 'group: {unknown[0]}' but the groups are "
            f"{', '.join(repr(x) for x in labels)}; use one of those labels."
        )


def _all_group_rows(
    parsed: ParsedModel, labels: tuple[str, ...], **options: Any
) -> tuple[dict[str, list], VariableNames]:
    """The rows of every group, one group after the other (lists, without ``id`` and
    ``plabel``), and the variable names, which must be the same in every group."""
    if len(labels) > 1 and all(_same_in_every_group(r) for r in parsed.relations):
        # every group has group 1's rows: build them once (warning once per group, as
        # when each group's are built)
        names, dropped = _variable_roles(parsed.relations)
        for _ in labels:
            _warn_random_covariates(dropped)
        part = _group_rows(parsed.relations, names, 1, len(labels), **options)
        n = len(part["lhs"])
        cols = {c: v * len(labels) for c, v in part.items()}
        cols["block"] = [g for g in range(1, len(labels) + 1) for _ in range(n)]
        cols["group"] = cols["block"][:]
        return cols, names
    parts: list[dict[str, list]] = []
    names_by_group = []
    for gi, label in enumerate(labels, start=1):
        rel = [r for r in parsed.relations if r.block is None or r.block == label]
        names = variable_names(rel)
        names_by_group.append(names)
        parts.append(_group_rows(rel, names, gi, len(labels), **options))
    names = names_by_group[0]
    if any(n.ov != names.ov or n.lv != names.lv for n in names_by_group[1:]):
        raise ModelSpecificationError(
            "the group blocks use different variables; semnet needs the same observed and "
            "latent variables in every group (fix a parameter to 0 to drop it in one group)."
        )
    if len(parts) == 1:
        return parts[0], names  # fresh lists: nothing else holds them
    cols = {
        c: list(itertools.chain.from_iterable(part[c] for part in parts)) for c in parts[0]
    }
    return cols, names


def _same_in_every_group(r: Relation) -> bool:
    """The relation gives the same row in every group: no ``group:`` block, and each of
    its modifiers one value for all groups."""
    m = r.modifiers
    return r.block is None and all(
        v is None or len(v) == 1 for v in (m.fixed, m.start, m.label, m.lower, m.upper)
    )


def _normalize_partial(p: str) -> str:
    return "".join(p.split())


def _reject_unsupported(parsed: ParsedModel, observed_products: Sequence[str] = ()) -> None:
    for r in parsed.relations:
        if r.op == "|":
            raise ModelSpecificationError(
                f"line {r.line}: thresholds ('{r.lhs} | {r.rhs}') belong to ordinal models, "
                "which semnet does not estimate yet; treat the items as continuous "
                "(remove the '|' lines) or use lavaan's WLSMV for now."
            )
        if r.op == "<~":
            raise ModelSpecificationError(
                f"line {r.line}: composites ('{r.lhs} <~ {r.rhs}') are not estimated by "
                "semnet yet; model the construct reflectively with '=~'."
            )
        if ":" in r.rhs and not _defined_product(parsed, r.rhs, observed_products):
            raise ModelSpecificationError(
                f"line {r.line}: the latent product term '{r.rhs}' needs an interaction "
                "estimator (LMS or product indicators), which semnet does not provide yet; "
                "build product indicators and model them with '=~' for now."
            )


def _defined_product(parsed: ParsedModel, name: str, observed: Sequence[str]) -> bool:
    """A product term the model measures (a latent ``a:b =~ ...``) or that the caller
    supplies as an observed column (``observed_products``)."""
    return name in observed or any(r.lhs == name and r.op == "=~" for r in parsed.relations)


def variable_names(relations: Sequence[Relation]) -> VariableNames:
    """Variable roles, in lavaan's order (``lav_partable_vnames``)."""
    names, dropped = _variable_roles(relations)
    _warn_random_covariates(dropped)
    return names


def _warn_random_covariates(dropped: Sequence[str]) -> None:
    if dropped:
        warn(
            f"the model gives variances, covariances or intercepts of the exogenous "
            f"covariate(s) {', '.join(dropped)}; they are treated as random (estimated) "
            "variables. Remove those formulas to keep them fixed, or pass fixed_x=False."
        )


def _variable_roles(relations: Sequence[Relation]) -> tuple[VariableNames, list[str]]:
    """:func:`variable_names`, and the exogenous covariates the model gives moments of
    (treated as random variables: the warning's subject)."""
    # one pass sorts the names by operator (lists keep the order written)
    load_lhs: list[str] = []
    load_rhs: list[str] = []
    reg_lhs: list[str] = []
    reg_rhs: list[str] = []
    cov_lhs: list[str] = []
    cov_rhs: list[str] = []
    int_lhs: list[str] = []
    for r in relations:
        o = r.op
        if o == "=~":
            load_lhs.append(r.lhs)
            load_rhs.append(r.rhs)
        elif o == "~":
            reg_lhs.append(r.lhs)
            reg_rhs.append(r.rhs)
        elif o == "~~":
            cov_lhs.append(r.lhs)
            cov_rhs.append(r.rhs)
        elif o == "~1":
            int_lhs.append(r.lhs)
    lv = _unique(load_lhs)
    lv_set = set(lv)
    v_ind = _unique(load_rhs)
    eqs_y = _unique(reg_lhs)
    eqs_x = _unique(reg_rhs)
    ov_ind = [v for v in v_ind if v not in lv_set]
    ov_ind_set = set(ov_ind)
    ov_y_all = [v for v in eqs_y if v not in lv_set and v not in ov_ind_set]
    ov_y_all_set = set(ov_y_all)
    ov_x_all = [
        v for v in eqs_x if v not in lv_set and v not in ov_ind_set and v not in ov_y_all_set
    ]
    ov_cov = [v for v in cov_lhs if v not in lv_set]
    ov_cov += [v for v in cov_rhs if v not in lv_set]
    ov_int = [v for v in int_lhs if v not in lv_set]
    base = ov_ind + ov_y_all + ov_x_all
    base_set = set(base)
    ov = _unique(base + [v for v in _unique(ov_cov + ov_int) if v not in base_set])
    user_mentioned = {*int_lhs, *cov_lhs, *cov_rhs}
    ov_x = [v for v in ov_x_all if v not in user_mentioned]
    dropped = [v for v in ov_x_all if v in user_mentioned]
    v_ind_set, eqs_y_set, eqs_x_set = set(v_ind), set(eqs_y), set(eqs_x)
    lv_x = [v for v in lv if v not in v_ind_set and v not in eqs_y_set]
    ov_y = [v for v in ov if v in eqs_y_set and v not in v_ind_set and v not in eqs_x_set]
    lv_y = [v for v in lv if v in eqs_y_set and v not in v_ind_set and v not in eqs_x_set]
    return VariableNames(
        tuple(ov), tuple(lv), tuple(ov_x), tuple(ov_ind), tuple(lv_x), tuple(ov_y), tuple(lv_y)
    ), dropped


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))


def modifier_for_group(values: tuple | None, g: int, ngroups: int, r: Relation, what: str):
    """The entry of a modifier (``c(a, b)*x``, ``start(1)*x``, ...) for group ``g``
    (1-based): its one value for every group, or the ``g``-th of one value per group;
    :data:`ABSENT` where the relation has no such modifier.  ``what`` names the modifier
    in the error for a vector of the wrong length."""
    if values is None:
        return ABSENT
    if len(values) == 1:
        return values[0]
    if len(values) != ngroups:
        raise ModelSpecificationError(
            f"line {r.line}, column {r.column}: the {what} modifier of '{r.lhs} {r.op} "
            f"{r.rhs}' has {len(values)} values but the model has {ngroups} group(s); give "
            "one value per group or a single value for all."
        )
    return values[g - 1]


#: "the relation has no such modifier" (see :func:`modifier_for_group`)
ABSENT = object()


#: ``(free, ustart, exo)`` of a default row that is free, fixed to 0, fixed to 1, or a moment
#: of ``fixed.x`` covariates (fixed at its sample value)
_FREE = (1, math.nan, 0)
_FIXED_ZERO = (0, 0.0, 0)
_FIXED_ONE = (0, 1.0, 0)
_FIXED_X = (0, math.nan, 1)

_Values = tuple[int, float, int]
#: the values of a default row from its ``lhs`` and ``rhs``
_Rule = Callable[[str, str], _Values]


def _group_rows(
    relations: Sequence[Relation],
    names: VariableNames,
    g: int,
    ngroups: int,
    *,
    meanstructure: bool,
    std_lv: bool,
    orthogonal: bool,
    fixed_x: bool,
    int_ov_free: bool,
    int_lv_free: bool,
    auto_fix_first: bool,
    ordered: dict[str, int],
) -> dict[str, list]:
    """The rows of group ``g`` (1-based): the user's rows, then lavaan's defaults that the
    user did not write (with ``ordered`` items their thresholds first); columns ``lhs``
    ... ``upper`` as lists (``free`` 0/1)."""
    user = _user_rows(relations, g, names.lv + names.ov)
    cols = _user_columns(user, set(names.lv), std_lv, auto_fix_first)
    _apply_modifiers(cols, user, g, ngroups)
    # a user row, or a covariance the user wrote the other way round, replaces a default
    taken = set(user)
    taken.update([(b, o, a) for a, o, b in user if o == "~~"])
    default = _default_columns(
        names, taken, _single_indicators(cols["lhs"], cols["op"], cols["rhs"]),
        meanstructure=meanstructure, std_lv=std_lv, orthogonal=orthogonal, fixed_x=fixed_x,
        int_ov_free=int_ov_free, int_lv_free=int_lv_free, ordered=ordered,
    )  # fmt: skip
    nd = len(default["lhs"])
    for c, column in default.items():
        cols[c] += column
    cols["user"] += [0] * nd
    cols["label"] += [""] * nd
    cols["lower"] += [-math.inf] * nd
    cols["upper"] += [math.inf] * nd
    n = len(cols["lhs"])
    cols["block"] = [g] * n
    cols["group"] = [g] * n
    return {c: cols[c] for c in (
        "lhs", "op", "rhs", "user", "block", "group", "free", "ustart", "exo", "label",
        "lower", "upper",
    )}  # fmt: skip


def _user_rows(
    relations: Sequence[Relation], g: int, order: Sequence[str]
) -> dict[tuple[str, str, str], Relation]:
    """The user's rows by ``(lhs, op, rhs)``: a covariance turned round so that its
    ``lhs`` comes first in ``order`` (the latent, then the observed variables: lavaan's
    ``lav_partable_covariance_reorder``, so that ``x4 ~~ x1`` is the row ``x1 ~~ x4``);
    a repeated one (a covariance either way round) is ignored, with a warning in group
    1, as lavaan."""
    position = {v: k for k, v in enumerate(order)}
    user: dict[tuple[str, str, str], Relation] = {}
    for r in relations:
        key = (r.lhs, r.op, r.rhs)
        if r.op == "~~" and (
            (r.rhs, r.op, r.lhs) in user
            or position.get(r.lhs, -1) > position.get(r.rhs, len(order))
        ):
            key = (r.rhs, r.op, r.lhs)
        if key in user:
            if g == 1:
                warn(
                    f"line {r.line}: '{r.lhs} {r.op} {r.rhs}' appears twice; the second is "
                    "ignored."
                )
            continue
        user[key] = r
    return user


def _user_columns(
    user: dict[tuple[str, str, str], Relation], lv: set[str], std_lv: bool, auto_fix_first: bool
) -> dict[str, list]:
    """The user rows before their modifiers: free, except latent variances with
    ``std_lv`` (fixed to 1) and each factor's first loading with ``auto_fix_first``."""
    n = len(user)
    lhs = [k[0] for k in user]
    op = [k[1] for k in user]
    rhs = [k[2] for k in user]
    free = [1] * n
    ustart = [math.nan] * n
    if std_lv:
        for i in range(n):
            if op[i] == "~~" and lhs[i] == rhs[i] and lhs[i] in lv:
                ustart[i], free[i] = 1.0, 0
    if auto_fix_first:
        seen = set()
        for i in range(n):
            if op[i] == "=~" and lhs[i] not in seen:
                seen.add(lhs[i])
                ustart[i], free[i] = 1.0, 0
    return {
        "lhs": lhs, "op": op, "rhs": rhs, "user": [1] * n, "free": free, "ustart": ustart,
        "exo": [0] * n, "label": [""] * n, "lower": [-math.inf] * n, "upper": [math.inf] * n,
    }  # fmt: skip


def _apply_modifiers(
    cols: dict[str, list], user: dict[tuple[str, str, str], Relation], g: int, ngroups: int
) -> None:
    """Apply the user's modifiers (fixed value, start, label, bounds) of group ``g`` to the
    user rows, the first ``len(user)`` rows of ``cols`` (in place)."""
    free, ustart, label = cols["free"], cols["ustart"], cols["label"]
    lower, upper = cols["lower"], cols["upper"]
    for i, r in enumerate(user.values()):
        m = r.modifiers
        # (an absent modifier, None, leaves the row as it is: skip modifier_for_group for it)
        if m.fixed is not None:
            fixed = modifier_for_group(m.fixed, g, ngroups, r, "fixed-value")
            if fixed is None:
                free[i], ustart[i] = 1, math.nan
            else:
                free[i], ustart[i] = 0, float(fixed)
        if m.start is not None:
            start = modifier_for_group(m.start, g, ngroups, r, "start")
            if start is not None and free[i]:
                ustart[i] = float(start)
        if m.label is not None:
            lab = modifier_for_group(m.label, g, ngroups, r, "label")
            if lab is not None:
                label[i] = lab
        if m.lower is not None:
            lo = modifier_for_group(m.lower, g, ngroups, r, "lower")
            if lo is not None:
                lower[i] = float(lo)
        if m.upper is not None:
            up = modifier_for_group(m.upper, g, ngroups, r, "upper")
            if up is not None:
                upper[i] = float(up)


def _single_indicators(lhs: list[str], op: list[str], rhs: list[str]) -> set[str]:
    """The indicators of single-indicator factors that indicate nothing else: their
    residual variance is fixed to 0."""
    counts: dict[str, list[str]] = {}
    for a, o, b in zip(lhs, op, rhs, strict=True):
        if o == "=~":
            counts.setdefault(a, []).append(b)
    uses = Counter(b for inds in counts.values() for b in inds)
    return {
        inds[0]
        for f, inds in counts.items()
        if len(inds) == 1 and inds[0] != f and uses[inds[0]] == 1
    }


def _default_columns(
    names: VariableNames,
    taken: set[tuple[str, str, str]],
    single: set[str],
    *,
    meanstructure: bool,
    std_lv: bool,
    orthogonal: bool,
    fixed_x: bool,
    int_ov_free: bool,
    int_lv_free: bool,
    ordered: dict[str, int] | None = None,
) -> dict[str, list]:
    """lavaan's default rows not in ``taken``, in lavaan's order, block by block, with their
    ``free``, ``ustart`` and ``exo``: the thresholds of ``ordered`` items, variances,
    covariances of the exogenous latent variables, of the pure outcomes and of the
    exogenous covariates, the scale factors of ordered items, then intercepts.
    The covariates' variances, covariances and means are fixed at their sample values
    with ``fixed_x`` (``exo`` 1) and free without it, as lavaan's ``fixed.x = FALSE``
    (their means then follow ``int_ov_free``, as the other observed variables').

    A block whose rows all take the same values is built without a per-row step, so
    that the table is built in time linear in its number of rows.
    """
    ov_x = list(names.ov_x)
    lv, ov_x_set, ov = set(names.lv), set(ov_x), set(names.ov)
    exogenous = _FIXED_X if fixed_x else _FREE
    cols: dict[str, list] = {c: [] for c in ("lhs", "op", "rhs", "free", "ustart", "exo")}

    def add(op: str, lhs: list[str], rhs: list[str], rule: _Values | _Rule) -> None:
        lhs, rhs = _drop_taken(op, lhs, rhs, taken)
        m = len(lhs)
        cols["lhs"] += lhs
        cols["op"] += [op] * m
        cols["rhs"] += rhs
        if callable(rule):
            values = [rule(a, b) for a, b in zip(lhs, rhs, strict=True)]
            for k, c in enumerate(("free", "ustart", "exo")):
                cols[c] += [v[k] for v in values]
        else:
            for value, c in zip(rule, ("free", "ustart", "exo"), strict=True):
                cols[c] += [value] * m

    ordered = ordered or {}

    def variance(a: str, b: str) -> _Values:
        if a in ordered:
            return _FIXED_ONE
        return _FIXED_ZERO if a in single else _FIXED_ONE if std_lv and a in lv else _FREE

    def outcome_covariance(a: str, b: str) -> _Values:
        return _FIXED_ZERO if a in lv and b in lv else _FREE

    def mean(a: str, b: str) -> _Values:
        if a in ov_x_set and fixed_x:
            return exogenous
        # a random covariate's mean is an observed intercept: fixed at 0 without
        # int_ov_free (lavaan's growth() with fixed.x = FALSE)
        if (not int_ov_free and a in ov) or (not int_lv_free and a in lv) or a in ordered:
            return _FIXED_ZERO
        return _FREE

    items = [v for v in names.ov if v in ordered]
    steps = [ordered[v] for v in items]
    add("|", [v for v, k in zip(items, steps, strict=True) for _ in range(k)],
        [f"t{j + 1}" for k in steps for j in range(k)], _FREE)
    variances = [v for v in names.ov if v not in ov_x_set] + list(names.lv)
    add("~~", variances, variances, variance)
    add("~~", *_pairs(names.lv_x), _FIXED_ZERO if orthogonal else _FREE)
    add("~~", *_pairs(names.lv_y + names.ov_y), outcome_covariance if orthogonal else _FREE)
    if ov_x:
        add("~~", *_pairs(ov_x, diagonal=True), exogenous)
    add("~*~", items, items, _FIXED_ONE)
    if meanstructure:
        means = list(names.ov) + list(names.lv)
        add("~1", means, [""] * len(means), mean)
    return cols


def _pairs(names: Sequence[str], diagonal: bool = False) -> tuple[list[str], list[str]]:
    """``(lhs, rhs)`` of the pairs ``names[j], names[i]`` with ``j < i`` (``j <= i`` with
    ``diagonal``), ordered by ``j`` then ``i``."""
    names = list(names)
    k = len(names)
    first = 0 if diagonal else 1
    lhs = list(itertools.chain.from_iterable(
        itertools.repeat(a, k - j - first) for j, a in enumerate(names)
    ))  # fmt: skip
    rhs = list(itertools.chain.from_iterable(names[j + first :] for j in range(k)))
    return lhs, rhs


def _drop_taken(
    op: str, lhs: list[str], rhs: list[str], taken: set[tuple[str, str, str]]
) -> tuple[list[str], list[str]]:
    """The rows ``(lhs, op, rhs)`` whose key is not in ``taken`` (a per-row check only
    when a key of ``taken`` can be among them)."""
    pairs = {(a, b) for a, o, b in taken if o == op}
    if pairs:
        present = set(lhs).union(rhs)
        pairs = {(a, b) for a, b in pairs if a in present and b in present}
    if not pairs:
        return lhs, rhs
    keep = [(a, b) not in pairs for a, b in zip(lhs, rhs, strict=True)]
    return (
        [a for a, k in zip(lhs, keep, strict=True) if k],
        [b for b, k in zip(rhs, keep, strict=True) if k],
    )


def _apply_group_equal(
    cols: dict[str, list],
    names: VariableNames,
    group_equal: Sequence[str],
    partial: set[str],
    std_lv: bool,
    parameterization: str = "delta",
    ordinal_identification: str = "lavaan",
) -> None:
    """Tie parameters across groups by giving them group 1's plabel (lavaan's rule);
    edits ``cols`` in place."""
    op, lhs, rhs = cols["op"], cols["lhs"], cols["rhs"]
    free = list(cols["free"])
    ustart = list(cols["ustart"])
    later = [g > 1 and u == 0 for g, u in zip(cols["group"], cols["user"], strict=True)]
    ov_nox, lv = set(names.ov_nox), set(names.lv)
    n = len(op)
    # with std_lv, equal loadings leave the latent variances of groups 2..G free
    if std_lv and "loadings" in group_equal and "lv_variances" not in group_equal:
        for i in range(n):
            if later[i] and op[i] == "~~" and lhs[i] in lv and lhs[i] == rhs[i]:
                free[i], ustart[i] = 1, math.nan
    equal = set(group_equal)
    kinds = [equality_kind(o, a, b, ov_nox, lv) for o, a, b in zip(op, lhs, rhs, strict=True)]
    # with ordinal items, lavaan counts the intercepts of continuous variables (minus the
    # "thresholds" of their univariate statistics) among the thresholds
    among = {"thresholds", "intercepts"} if "|" in op and "thresholds" in equal else set()
    flagged = [i for i in range(n) if kinds[i] in equal or kinds[i] in among]
    # the keys of the flagged rows (of every row where group_partial names some)
    keys = {i: lhs[i] + op[i] + rhs[i] for i in (range(n) if partial else flagged)}
    unknown = sorted(partial - set(keys.values()))
    if unknown:
        raise ModelSpecificationError(
            f"group_partial names {', '.join(map(repr, unknown))}, which is not a parameter "
            "of the model; write it as in the syntax without spaces, e.g. 'x3~1' or "
            "'visual=~x2'."
        )
    # free rows only; user labels win; each key takes the plabel of its first row
    labels = list(cols["label"])
    plabels = cols["plabel"]
    first: dict[str, int] = {}
    for i in flagged:
        k = keys[i]
        if k in partial:
            continue
        if k not in first:
            first[k] = i
        j = first[k]
        if free[j] and free[i] and labels[i] == "":
            labels[i] = plabels[j]
    if ordinal_identification == "wu_estabrook_2016" and "|" in op:
        tied = [labels[i] != "" for i in range(n)]
        for i, value in wu_estabrook_free(cols, tied, group_equal, partial, parameterization):
            free[i], ustart[i] = (1, math.nan) if value is None else (0, value)
        cols.update(label=labels, free=free, ustart=ustart)
        return
    # with equal intercepts (or thresholds) and free-to-vary means, latent means are free
    # in groups 2..G; with equal thresholds the scale factors of ordinal items too
    # (lavaan's delta parameterization)
    thresholds = "thresholds" in group_equal and "|" in op
    located = "intercepts" in group_equal or thresholds
    if located and "means" not in group_equal:
        for i in range(n):
            if later[i] and op[i] == "~1" and lhs[i] in lv:
                free[i], ustart[i] = 1, math.nan
    if thresholds:
        ordinal = {lhs[i] for i in range(n) if op[i] == "|"}
        for i in range(n):
            scale = op[i] == "~*~"
            residual = op[i] == "~~" and lhs[i] == rhs[i] and lhs[i] in ordinal
            if later[i] and (scale if parameterization == "delta" else residual):
                free[i], ustart[i] = 1, math.nan
    cols["label"] = labels
    cols["free"] = free
    cols["ustart"] = ustart


def wu_estabrook_free(
    cols: dict[str, list],
    tied: Sequence[bool],
    group_equal: Sequence[str],
    partial: set[str],
    parameterization: str,
) -> list[tuple[int, float | None]]:
    """The later groups' rows that semTools' ``measEq.syntax(ID.cat = "Wu.Estabrook.2016")``
    sets differently from the configural model: ``(row, None)`` to free, ``(row, value)``
    to fix.

    For each ordinal item of group g > 1 with ``k`` thresholds tied to group 1's (the
    ``tied`` rows): its intercept is free when ``k >= 1`` and intercepts are not equal;
    its scale factor (delta) or residual variance (theta) is free when ``k >= 2``, or
    ``k >= 1`` with equal intercepts, unless residuals are equal; otherwise they keep
    the configural values (intercept 0, scale factor or residual variance 1).  A latent
    mean is free when an indicator of that factor alone has an equal intercept.  Only
    the rows the user did not write are changed.

    Examples
    --------
    >>> from semnet.partable.build import partable
    >>> pt = partable("f =~ y1 + y2 + y3", groups=2, ordered={"y1": 3, "y2": 3, "y3": 3},
    ...               std_lv=True, group_equal=["thresholds"],
    ...               ordinal_identification="wu_estabrook_2016")
    >>> p = pt.params
    >>> p[(p.group == 2) & p.op.isin(["~1", "~*~"])]["free"].gt(0).tolist()
    [True, True, True, True, True, True, False]
    """
    op, lhs, rhs, group, user = (cols[c] for c in ("op", "lhs", "rhs", "group", "user"))
    n = len(op)
    equal_int = "intercepts" in group_equal
    equal_res = "residuals" in group_equal
    equal_means = "means" in group_equal
    ntied: dict[tuple[int, str], int] = Counter(
        (group[i], lhs[i]) for i in range(n) if op[i] == "|" and tied[i] and group[i] > 1
    )
    items = {lhs[i] for i in range(n) if op[i] == "|"}
    only: dict[str, set[str]] = {}
    for i in range(n):
        if op[i] == "=~" and group[i] == 1:
            only.setdefault(rhs[i], set()).add(lhs[i])
    located: set[tuple[int, str]] = set()
    out: list[tuple[int, float | None]] = []
    for i in range(n):
        if group[i] == 1 or user[i]:
            continue
        item = lhs[i]
        eq_int = equal_int and f"{item}~1" not in partial
        if op[i] == "~1" and eq_int and len(only.get(item, ())) == 1 and not equal_means:
            located.add((group[i], next(iter(only[item]))))
        if item not in items:
            continue
        k = ntied.get((group[i], item), 0)
        if op[i] == "~1":
            out.append((i, None if k >= 1 and not eq_int else 0.0))
        scale = op[i] == "~*~" if parameterization == "delta" else (
            op[i] == "~~" and rhs[i] == item)
        if scale:
            eq_res = equal_res and f"{item}~~{item}" not in partial
            loose = (k >= 2 or (k >= 1 and eq_int)) and not eq_res
            out.append((i, None if loose else 1.0))
    out += [(i, None) for i in range(n)
            if op[i] == "~1" and (group[i], lhs[i]) in located and not user[i]]
    return out


def equality_kind(op: str, lhs: str, rhs: str, ov_nox: set[str], lv: set[str]) -> str:
    """The :data:`GROUP_EQUAL_CHOICES` entry a row falls under (``""``: none), as lavaan
    assigns it: a covariance is a residual (latent) covariance by its ``lhs``."""
    if op == "=~":
        return "loadings"
    if op == "|":
        return "thresholds"
    if op == "~":
        return "regressions"
    if op == "~1":
        return "intercepts" if lhs in ov_nox else "means" if lhs in lv else ""
    if op == "~~":
        if lhs in ov_nox:
            return "residuals" if lhs == rhs else "residual_covariances"
        if lhs in lv:
            return "lv_variances" if lhs == rhs else "lv_covariances"
    return ""


def _warn_single_labels(parsed: ParsedModel, group_equal: Sequence[str]) -> None:
    """A single label in a multi-group model ties the parameter across all groups."""
    single = [
        r for r in parsed.relations
        if r.block is None and r.modifiers.label is not None and len(r.modifiers.label) == 1
    ]
    if single and not group_equal:
        r = single[0]
        warn(
            f"line {r.line}: the label {r.modifiers.label[0]!r} on '{r.lhs} {r.op} {r.rhs}' "
            "applies to every group, so this parameter is constrained EQUAL across groups. "
            "If that is not intended, give one label per group, e.g. "
            f"'c({r.modifiers.label[0]}1, {r.modifiers.label[0]}2)*{r.rhs}'."
        )


def _number_free(cols: dict[str, list]) -> None:
    """Number the free rows 1, 2, ... in order (fixed rows: 0)."""
    count = itertools.count(1)
    cols["free"] = [next(count) if f else 0 for f in cols["free"]]


def _append_constraints(cols: dict[str, list], constraints: Sequence[Constraint]) -> None:
    """Append the ``:=``, ``==``, ``<``, ``>`` rows (group 0) to ``cols`` in place."""
    start = len(cols["id"]) + 1
    for k, c in enumerate(constraints):
        row = {
            "id": start + k, "lhs": c.lhs, "op": c.op, "rhs": c.rhs, "user": 1, "block": 0,
            "group": 0, "free": 0, "ustart": np.nan, "exo": 0,
            "label": c.lhs if c.op == ":=" else "", "plabel": "", "lower": -np.inf,
            "upper": np.inf,
        }  # fmt: skip
        for name, value in row.items():
            cols[name].append(value)


def _check_labels(
    pt: ParTable, labels: list[str], plabels: list[str], free: list[int], ustart: list[float]
) -> None:
    """Every name used in ``:=`` / ``==`` / ``<`` / ``>`` must be a label or defined
    (``labels`` ... ``ustart``: those columns of the parameter rows, as lists)."""
    params = pt.cols
    known = ({lab for lab in labels if lab} | set(plabels)) if pt.constraints else set()
    defined: set[str] = set()
    for c in pt.constraints:
        exprs = [parse_expression(c.rhs, c.line, c.column)]
        if c.op != ":=":
            exprs.append(parse_expression(c.lhs, c.line, c.column))
        for e in exprs:
            for name in e.names:
                if name not in known and name not in defined:
                    import difflib

                    close = difflib.get_close_matches(name, sorted(known | defined), n=1)
                    hint = f" Did you mean {close[0]!r}?" if close else ""
                    raise ModelSpecificationError(
                        f"line {c.line}: '{c.lhs} {c.op} {c.rhs}' uses {name!r}, which is not a "
                        f"parameter label; label a parameter with '{name}*variable' first."
                        + hint
                    )
        if c.op == ":=":
            if c.lhs in known:
                raise ModelSpecificationError(
                    f"line {c.line}: ':=' defines {c.lhs!r}, which is already a parameter "
                    "label; choose a new name."
                )
            defined.add(c.lhs)
    # fixed and free rows sharing a label conflict (only a label with a fixed row can)
    with_fixed = {lab for lab, f in zip(labels, free, strict=True) if f == 0 and lab}
    by_label: dict[str, list[int]] = {}
    if with_fixed:
        for i, lab in enumerate(labels):
            if lab in with_fixed:
                by_label.setdefault(lab, []).append(i)
    for name, rows in by_label.items():
        fixed = [i for i in rows if free[i] == 0]
        if fixed and len(fixed) < len(rows):
            other = next(i for i in rows if free[i] > 0)
            raise ModelSpecificationError(
                f"label {name!r} is given to a fixed parameter ({_row_text(params, fixed[0])}) "
                f"and to a free one ({_row_text(params, other)}); a label means 'equal', so "
                "fix both or free both."
            )
        values = sorted({float(ustart[i]) for i in fixed})
        if len(values) > 1:
            raise ModelSpecificationError(
                f"label {name!r} ties parameters fixed to different values "
                f"({', '.join(map(str, values))}); use different labels or the same value."
            )


def _row_text(params: dict[str, np.ndarray], i: int) -> str:
    return f"{params['lhs'][i]} {params['op'][i]} {params['rhs'][i]}".strip()


_BOOLS = (bool, np.bool_)  # (a tuple: ``bool | np.bool_`` builds a new union per call)


def check_options(std_lv: object, orthogonal: object, fixed_x: object) -> None:
    for name, value in (("std_lv", std_lv), ("orthogonal", orthogonal), ("fixed_x", fixed_x)):
        if not isinstance(value, _BOOLS):
            raise OptionError(f"{name} must be True or False, not {value!r}.")
