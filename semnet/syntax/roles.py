"""The roles of a model's variables (lavaan's ``lav_partable_vnames``): which are observed,
latent, indicators, exogenous covariates, pure outcomes, read from its relations.

>>> from semnet.syntax import parse_model
>>> names, _ = variable_roles(parse_model("f =~ x1 + x2 + x3; f ~ z").relations)
>>> names.ov, names.lv, names.ov_x
(('x1', 'x2', 'x3', 'z'), ('f',), ('z',))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import filterfalse
from operator import attrgetter
from typing import TYPE_CHECKING

from semnet.errors import ModelSpecificationError

if TYPE_CHECKING:
    from semnet.syntax.model import Relation

__all__ = ["VariableNames", "threshold_items", "variable_roles"]


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


_TERMS = attrgetter("op", "lhs", "rhs")
_NO_NAMES: tuple[str, ...] = ()


def _without(names: Iterable[str], *excluded: dict[str, None]) -> list[str]:
    """``names`` (in order) that are in none of ``excluded`` (the dicts are ordered sets)."""
    kept = list(names)
    for other in excluded:
        if other and kept:
            kept = list(filterfalse(other.__contains__, kept))
    return kept


def variable_roles(relations: Sequence[Relation]) -> tuple[VariableNames, tuple[str, ...]]:
    """The variable roles of ``relations``, in lavaan's order, and the exogenous covariates
    the model gives moments of (``~~`` or ``~1`` relations: they are random variables,
    not ``fixed.x`` covariates).

    The names of each role are kept in dicts (ordered sets: the order written); a role
    that an empty one decides is not computed.
    """
    # one pass sorts the names by operator (lists keep the order written)
    load_lhs: list[str] = []
    load_rhs: list[str] = []
    reg_lhs: list[str] = []
    reg_rhs: list[str] = []
    cov: list[str] = []
    int_lhs: list[str] = []
    for o, a, b in map(_TERMS, relations):
        if o == "=~":
            load_lhs.append(a)
            load_rhs.append(b)
        elif o == "~":
            reg_lhs.append(a)
            reg_rhs.append(b)
        elif o == "~~":
            cov += (a, b)
        elif o == "~1":
            int_lhs.append(a)
    lv = dict.fromkeys(load_lhs)
    v_ind = dict.fromkeys(load_rhs)
    eqs_y = dict.fromkeys(reg_lhs)
    eqs_x = dict.fromkeys(reg_rhs)
    ov_ind = dict.fromkeys(_without(v_ind, lv))
    ov_y_all = dict.fromkeys(_without(eqs_y, lv, ov_ind))
    ov_x_all = _without(eqs_x, lv, ov_ind, ov_y_all)
    ov = dict.fromkeys(ov_ind)
    ov.update(dict.fromkeys(ov_y_all))
    ov.update(dict.fromkeys(ov_x_all))
    mentioned: dict[str, None] = {}
    if cov or int_lhs:
        # the covariances' names in their order (each relation's lhs before its rhs: the
        # lhs of every covariance first), then the intercepts'
        mentioned = dict.fromkeys([*cov[::2], *cov[1::2], *int_lhs])
        ov.update(dict.fromkeys(_without(mentioned, lv)))
    ov_x = tuple(filterfalse(mentioned.__contains__, ov_x_all)) if mentioned else tuple(ov_x_all)
    dropped = tuple(filter(mentioned.__contains__, ov_x_all)) if mentioned else _NO_NAMES
    lv_x = _without(lv, v_ind, eqs_y)
    if eqs_y:
        ov_y = tuple(_without(filter(eqs_y.__contains__, ov), v_ind, eqs_x))
        lv_y = tuple(_without(filter(eqs_y.__contains__, lv), v_ind, eqs_x))
    else:
        ov_y = lv_y = _NO_NAMES
    names = VariableNames(tuple(ov), tuple(lv), ov_x, tuple(ov_ind), tuple(lv_x), ov_y, lv_y)
    return names, dropped


def threshold_items(relations: Sequence[Relation], names: VariableNames) -> tuple[str, ...]:
    """The variables given thresholds (``x1 | t1``), in the order written: ordinal items,
    as lavaan's ``ov.ord``; a latent variable or a name the other relations do not use
    as an observed variable is an error.

    >>> from semnet.syntax import parse_model
    >>> parsed = parse_model("f =~ u1 + u2 + u3; u2 | t1 + t2")
    >>> threshold_items(parsed.relations, parsed.roles[0])
    ('u2',)
    """
    items: dict[str, None] = {}
    for r in relations:
        if r.op != "|":
            continue
        if r.lhs not in names.ov:
            what = ("a latent variable" if r.lhs in names.lv
                    else "not an observed variable of the model")
            raise ModelSpecificationError(
                f"line {r.line}: '{r.lhs} | {r.rhs}': thresholds belong to observed ordinal "
                f"items, and {r.lhs!r} is {what}."
            )
        items[r.lhs] = None
    return tuple(items)
