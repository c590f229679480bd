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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from operator import attrgetter, itemgetter, mul
from typing import Any

import numpy as np
import pandas as pd

from semnet.errors import ModelSpecificationError, OptionError, check_choice, warn
from semnet.syntax import parse_expression, parse_model
from semnet.syntax.model import NO_MODIFIERS, Constraint, ParsedModel, Relation
from semnet.syntax.roles import VariableNames, variable_roles

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


_FLOAT_COLUMNS = frozenset({"ustart", "lower", "upper"})


def _table_columns(cols: dict[str, list]) -> dict[str, np.ndarray]:
    """The read-only columns of the table whose columns (all but ``id``, which numbers
    the rows) are the fresh lists ``cols``: names as object arrays, the others int or
    float; ``block`` and ``group``, equal, are one array."""
    n = len(cols["lhs"])
    out = {}
    for c in COLUMNS:
        if c == "id":
            column = np.arange(1, n + 1, dtype=np.int64)
        elif c == "group" and cols["group"] == cols["block"]:
            out[c] = out["block"]
            continue
        else:
            column = _array(cols[c], object if c in STRING_COLUMNS else
                            float if c in _FLOAT_COLUMNS else np.int64)  # fmt: skip
        column.setflags(write=False)
        out[c] = column
    return out


def _array(values: list, dtype: Any) -> np.ndarray:
    """``values`` as a new array of ``dtype``; a column of one value (not a float zero,
    whose sign a comparison does not see) is filled with it, without converting each."""
    n = len(values)
    if (
        n and values[0] == values[-1] and values.count(values[0]) == n
        and (dtype is not float or values[0] != 0)
    ):  # fmt: skip
        column = np.empty(n, dtype=dtype)
        column.fill(values[0])
        return column
    return np.fromiter(values, dtype, n)


#: how many of the plabels ``.p1.``, ``.p2.``, ... are made once (the rows of most tables)
_KEPT_PLABELS = 4096


@lru_cache(maxsize=1)
def _first_plabels() -> tuple[str, ...]:
    return tuple(f".p{i}." for i in range(1, _KEPT_PLABELS + 1))


def plabels(n: int) -> list[str]:
    """lavaan's plabels of ``n`` rows: ``[".p1.", ".p2.", ..., f".p{n}."]``.

    Examples
    --------
    >>> plabels(3)
    ['.p1.', '.p2.', '.p3.']
    """
    first = _first_plabels()
    if n <= _KEPT_PLABELS:
        return list(first[:n])
    return [*first, *(f".p{i}." for i in range(_KEPT_PLABELS + 1, n + 1))]


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

    ops = set(map(_OP, parsed.relations))
    _reject_unsupported(parsed, ops, observed_products)
    if "|" in ops:
        _check_thresholds(parsed, ordered or {})
    if "~*~" in ops:
        _check_scale_factors(parsed, ordered or {}, parameterization)
    _check_block_labels(parsed, labels)
    any_intercept = "~1" in ops
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
    cols["plabel"] = plabels(len(cols["lhs"]))
    if any("~" in lab or "|" in lab for lab in cols["label"] if lab):
        _tie_named_parameters(cols)
    if len(labels) > 1:
        _apply_group_equal(cols, names, group_equal, partial_keys, std_lv, parameterization,
                           ordinal_identification)
        _warn_single_labels(parsed, group_equal)
    cols["free"] = _number_free(cols["free"])
    # the parameter rows as lists, before the constraint rows are appended (copies only
    # when there are such rows)
    checked = tuple(
        cols[c][:] if parsed.constraints else cols[c] for c in ("label", "plabel", "free", "ustart")
    )
    _append_constraints(cols, parsed.constraints)
    columns = _table_columns(cols)
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
            names, {}, set(), meanstructure=pt.meanstructure, std_lv=False,
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
    cols["free"] = _number_free(cols["free"])
    cols["plabel"] = plabels(len(cols["lhs"]))
    columns = _table_columns(cols)
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
    if not group_equal and not group_partial:
        return (), set()
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
    block_labels = set(map(_BLOCK, parsed.relations))
    block_labels.discard(None)
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
        names, dropped = parsed.roles
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
        # (every relation in this group: the model's roles, found once per model)
        names = variable_names(parsed if len(rel) == len(parsed.relations) else rel)
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


_OP = attrgetter("op")
_RHS = attrgetter("rhs")
_BLOCK = attrgetter("block")


def _reject_unsupported(
    parsed: ParsedModel, ops: set[str], observed_products: Sequence[str] = ()
) -> None:
    """Composites and product terms not measured nor observed are refused (``ops``: the
    operators of the relations)."""
    # (a ':' in one of the right-hand sides is a ':' in them joined by newlines)
    if "<~" not in ops and ":" not in "\n".join(map(_RHS, parsed.relations)):
        return
    for r in parsed.relations:
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


def _tie_named_parameters(cols: dict[str, list]) -> None:
    """lavaan's ``equal("f=~x3")*x2``: a label that is the name of a parameter (``lhs op
    rhs``, with ``.g2``, ``.g3``, ... for the later groups, spaces ignored) ties its row to
    that parameter, which takes the label (in place)."""
    labels = cols["label"]
    names = {
        f"{a}{o}{'' if o == '~1' else b}{'' if g == 1 else f'.g{g}'}": i
        for i, (a, o, b, g) in enumerate(
            zip(cols["lhs"], cols["op"], cols["rhs"], cols["group"], strict=True)
        )
    }  # fmt: skip
    for i, lab in enumerate(labels):
        if not lab or ("~" not in lab and "|" not in lab):
            continue
        name = "".join(lab.split())
        target = names.get(name)
        if target is None:
            raise ModelSpecificationError(
                f"the label {lab!r} ({cols['lhs'][i]} {cols['op'][i]} {cols['rhs'][i]}) reads "
                "as the name of a parameter (as in equal('f=~x3')), but the model has no "
                "such parameter; write it as lhs, operator and rhs of one of its rows "
                "(with .g2, .g3, ... for the later groups), or use a plain label such as 'a'."
            )
        if labels[target] and labels[target] != lab:
            raise ModelSpecificationError(
                f"equal({lab!r}) ties {cols['lhs'][i]} {cols['op'][i]} {cols['rhs'][i]} to a "
                f"parameter that has its own label {labels[target]!r}; use that label instead."
            )
        labels[target] = lab


def _check_thresholds(parsed: ParsedModel, ordered: dict[str, int]) -> None:
    """Each threshold line names a threshold its item has: ``t1`` ... ``tK`` of an ordinal
    item with ``K`` thresholds (``ordered``; its categories less one)."""
    for r in parsed.relations:
        if r.op != "|":
            continue
        count = ordered.get(r.lhs)
        if count is None:
            raise ModelSpecificationError(
                f"line {r.line}: '{r.lhs} | {r.rhs}' gives a threshold to {r.lhs!r}, which is "
                "not an ordinal item here; thresholds belong to ordinal items (name them in "
                "ordered=, or fit with the data: a threshold line makes its item ordinal)."
            )
        k = int(r.rhs[1:])
        if not 1 <= k <= count:
            raise ModelSpecificationError(
                f"line {r.line}: '{r.lhs} | {r.rhs}': {r.lhs!r} has {count + 1} categories in "
                f"the data, so its thresholds are t1 to t{count}; remove or renumber the "
                f"threshold {r.rhs}."
            )


def _check_scale_factors(
    parsed: ParsedModel, ordered: dict[str, int], parameterization: str
) -> None:
    """Each ``~*~`` line is the scale factor of an ordinal item (``x1 ~*~ x1``), a
    parameter of the delta parameterization (lavaan ignores the others silently)."""
    for r in parsed.relations:
        if r.op != "~*~":
            continue
        where = f"line {r.line}: '{r.lhs} ~*~ {r.rhs}'"
        if r.rhs != r.lhs:
            raise ModelSpecificationError(
                f"{where}: a scale factor belongs to one item; write '{r.lhs} ~*~ {r.lhs}'."
            )
        if r.lhs not in ordered:
            raise ModelSpecificationError(
                f"{where}: scale factors belong to ordinal items, and {r.lhs!r} is not one "
                "here; name it in ordered= (or remove the line)."
            )
        if parameterization != "delta":
            raise ModelSpecificationError(
                f"{where}: with parameterization={parameterization!r} the scale factors are "
                "not parameters (they follow from the residual variances); constrain the "
                f"residual variance ('{r.lhs} ~~ {r.lhs}') instead, or use "
                "parameterization='delta'."
            )


def _defined_product(parsed: ParsedModel, name: str, observed: Sequence[str]) -> bool:
    """A product term the model measures (a latent ``a:b =~ ...``) or that the caller
    supplies as an observed column (``observed_products``)."""
    return name in observed or any(r.lhs == name and r.op == "=~" for r in parsed.relations)


def variable_names(relations: Sequence[Relation] | ParsedModel) -> VariableNames:
    """Variable roles, in lavaan's order (``lav_partable_vnames``), of ``relations`` or of
    a parsed model's relations (found once per model: :attr:`ParsedModel.roles`); warns
    about exogenous covariates given moments."""
    names, dropped = (
        relations.roles if isinstance(relations, ParsedModel) else variable_roles(relations)
    )
    _warn_random_covariates(dropped)
    return names


def _warn_random_covariates(dropped: Sequence[str]) -> None:
    if dropped:
        warn(
            f"the model gives variances, covariances or intercepts of the exogenous "
            f"covariate(s) {', '.join(dropped)}; they are treated as random (estimated) "
            "variables. Remove those formulas to keep them fixed, or pass fixed_x=False."
        )


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
    user = _user_rows(relations, g, names)
    cols = _user_columns(user, names.lv, std_lv, auto_fix_first)
    _apply_modifiers(cols, user, g, ngroups)
    default = _default_columns(
        names, _taken(user), _single_indicators(cols["lhs"], cols["op"], cols["rhs"]),
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
    cols["group"] = cols["block"][:]
    return {c: cols[c] for c in _ROW_COLUMNS}


#: the columns of :func:`_group_rows`, in order
_ROW_COLUMNS = (
    "lhs", "op", "rhs", "user", "block", "group", "free", "ustart", "exo", "label", "lower",
    "upper",
)  # fmt: skip
_KEY = attrgetter("lhs", "op", "rhs")


def _user_rows(
    relations: Sequence[Relation], g: int, names: VariableNames
) -> dict[tuple[str, str, str], Relation]:
    """The user's rows by ``(lhs, op, rhs)``: a covariance turned round so that its
    ``lhs`` comes first among the latent, then the observed variables (lavaan's
    ``lav_partable_covariance_reorder``, so that ``x4 ~~ x1`` is the row ``x1 ~~ x4``);
    a repeated one (a covariance either way round) is ignored, with a warning in group
    1, as lavaan."""
    user: dict[tuple[str, str, str], Relation] = {}
    position: dict[str, int] | None = None
    for key, r in zip(map(_KEY, relations), relations, strict=True):
        if key[1] == "~~":
            if position is None:
                position = {v: k for k, v in enumerate(names.lv + names.ov)}
            a, _, b = key
            if (b, "~~", a) in user or position.get(a, -1) > position.get(b, len(position)):
                key = (b, "~~", a)
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
    user: dict[tuple[str, str, str], Relation],
    lv: Sequence[str],
    std_lv: bool,
    auto_fix_first: bool,
) -> dict[str, list]:
    """The user rows before their modifiers: free, except latent variances with
    ``std_lv`` (fixed to 1) and each factor's first loading with ``auto_fix_first``."""
    n = len(user)
    lhs, op, rhs = (list(c) for c in zip(*user, strict=True)) if n else ([], [], [])
    free = [1] * n
    ustart = [math.nan] * n
    fixed: Iterable[int] = ()
    if std_lv:
        lv_set = set(lv)
        fixed = [
            i for i, (a, o, b) in enumerate(user) if o == "~~" and a == b and a in lv_set
        ]
    if auto_fix_first:
        first: dict[str, int] = {}  # each factor's first loading row
        for i in itertools.compress(range(n), map("=~".__eq__, op)):
            first.setdefault(lhs[i], i)
        fixed = itertools.chain(fixed, first.values())
    for i in fixed:
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
        if m is NO_MODIFIERS:  # (the parser's terms without modifiers share it)
            continue
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


#: the operators of lavaan's default rows
_DEFAULT_OPS = frozenset({"|", "~~", "~*~", "~1"})


def _taken(user: dict[tuple[str, str, str], Relation]) -> dict[str, set[tuple[str, str]]]:
    """The ``(lhs, rhs)`` of the user's rows by operator, for the operators of default rows
    (a covariance both ways round): a user row replaces the default row."""
    taken: dict[str, set[tuple[str, str]]] = {}
    for a, o, b in user:
        if o in _DEFAULT_OPS:
            pairs = taken.setdefault(o, set())
            pairs.add((a, b))
            if o == "~~":
                pairs.add((b, a))
    return taken


def _single_indicators(lhs: list[str], op: list[str], rhs: list[str]) -> set[str]:
    """The indicators of single-indicator factors that indicate nothing else: their
    residual variance is fixed to 0."""
    loads = list(map("=~".__eq__, op))
    per_factor = Counter(itertools.compress(lhs, loads))
    if 1 not in per_factor.values():
        return set()
    counts: dict[str, list[str]] = {}
    load_lhs, load_rhs = itertools.compress(lhs, loads), itertools.compress(rhs, loads)
    for a, b in zip(load_lhs, load_rhs, strict=True):
        counts.setdefault(a, []).append(b)
    uses = Counter(itertools.compress(rhs, loads))
    return {
        inds[0]
        for f, inds in counts.items()
        if len(inds) == 1 and inds[0] != f and uses[inds[0]] == 1
    }


def _default_columns(
    names: VariableNames,
    taken: dict[str, set[tuple[str, str]]],
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
    """lavaan's default rows not in ``taken`` (the ``(lhs, rhs)`` of the user's rows by
    operator), in lavaan's order, block by block, with their ``free``, ``ustart`` and
    ``exo``: the thresholds of ``ordered`` items, variances, covariances of the exogenous
    latent variables, of the pure outcomes and of the exogenous covariates, the scale
    factors of ordered items, then intercepts.
    The covariates' variances, covariances and means are fixed at their sample values
    with ``fixed_x`` (``exo`` 1) and free without it, as lavaan's ``fixed.x = FALSE``
    (their means then follow ``int_ov_free``, as the other observed variables').

    A block whose rows all take the same values is built without a per-row step, so
    that the table is built in time linear in its number of rows.
    """
    ov_x = names.ov_x
    lv, ov_x_set, ov = set(names.lv), set(ov_x), set(names.ov)
    exogenous = _FIXED_X if fixed_x else _FREE
    cols: dict[str, list] = {c: [] for c in ("lhs", "op", "rhs", "free", "ustart", "exo")}

    def add(op: str, lhs: list[str], rhs: list[str], rule: _Values | _Rule) -> None:
        if not lhs:
            return
        if op in taken:
            lhs, rhs = _drop_taken(lhs, rhs, taken[op])
        m = len(lhs)
        cols["lhs"] += lhs
        cols["op"] += [op] * m
        cols["rhs"] += rhs
        if callable(rule):
            values = list(map(rule, lhs, rhs))
            for k, c in enumerate(("free", "ustart", "exo")):
                cols[c] += map(itemgetter(k), values)
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

    items = [v for v in names.ov if v in ordered] if ordered else []
    if items:
        steps = [ordered[v] for v in items]
        add("|", [v for v, k in zip(items, steps, strict=True) for _ in range(k)],
            [f"t{j + 1}" for k in steps for j in range(k)], _FREE)
    variances = [*_without(names.ov, ov_x_set), *names.lv]
    # (every variance free without ordered items, single indicators and std_lv)
    add("~~", variances, variances,
        variance if ordered or single or (std_lv and lv) else _FREE)
    add("~~", *_pairs(names.lv_x), _FIXED_ZERO if orthogonal else _FREE)
    add("~~", *_pairs(names.lv_y + names.ov_y), outcome_covariance if orthogonal else _FREE)
    if ov_x:
        add("~~", *_pairs(ov_x, diagonal=True), exogenous)
    add("~*~", items, items, _FIXED_ONE)
    if meanstructure:
        means = [*names.ov, *names.lv]
        add("~1", means, [""] * len(means), mean)
    return cols


def _without(names: Sequence[str], excluded: set[str]) -> Iterable[str]:
    """``names`` that are not in ``excluded``, in order."""
    return itertools.filterfalse(excluded.__contains__, names) if excluded else names


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
    lhs: list[str], rhs: list[str], pairs: set[tuple[str, str]]
) -> tuple[list[str], list[str]]:
    """The rows ``(lhs, rhs)`` not in ``pairs`` (a per-row check only when one of
    ``pairs`` can be among them)."""
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
            f"group_partial= names {', '.join(map(repr, unknown))}, which is not a parameter "
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


def _number_free(free: list[int]) -> list[int]:
    """The free rows (non-zero ``free``) numbered 1, 2, ... in order, the fixed rows 0."""
    flags = list(map(bool, free))
    # the running count of free rows, kept where the row is free (True * count)
    return list(map(mul, flags, itertools.accumulate(flags)))


def _append_constraints(cols: dict[str, list], constraints: Sequence[Constraint]) -> None:
    """Append the ``:=``, ``==``, ``<``, ``>`` rows (group 0) to ``cols`` in place."""
    for c in constraints:
        row = {
            "lhs": c.lhs, "op": c.op, "rhs": c.rhs, "user": 1, "block": 0,
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
    if not pt.constraints and not any(labels):
        return  # nothing to check
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
    """The three switches are booleans (Python's or numpy's)."""
    if type(std_lv) is bool and type(orthogonal) is bool and type(fixed_x) is bool:
        return  # (bool has no subclasses: the loop below would find nothing)
    for name, value in (("std_lv", std_lv), ("orthogonal", orthogonal), ("fixed_x", fixed_x)):
        if not isinstance(value, _BOOLS):
            raise OptionError(f"{name} must be True or False, not {value!r}.")
