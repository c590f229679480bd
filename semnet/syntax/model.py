"""Data structures produced by the lavaan-syntax parser.

The parser turns model text into a :class:`ParsedModel`: a tuple of
:class:`Relation` rows (one per ``lhs op rhs`` term, the "flat table" of lavaan)
and a tuple of :class:`Constraint` rows (``:=``, ``==``, ``<``, ``>``).
Everything downstream (the parameter table) is built from these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from semnet.syntax.roles import VariableNames, variable_roles

#: operators that relate variables
RELATION_OPS = ("=~", "~", "~~", "~1", "<~", "|", "~*~")
#: operators that define or constrain parameters
CONSTRAINT_OPS = (":=", "==", "<", ">")


@dataclass(frozen=True)
class Modifiers:
    """Modifiers attached to one term, e.g. ``c(a1, a2)*start(0.5)*x``.

    Each field is ``None`` when that modifier was not given.  Otherwise it is a
    tuple with one entry per group (a single entry applies to every group).
    In ``fixed`` an entry of ``None`` means ``NA``: explicitly free.
    In ``label`` an entry of ``None`` means no label for that group.
    """

    fixed: tuple[float | None, ...] | None = None
    start: tuple[float | None, ...] | None = None
    label: tuple[str | None, ...] | None = None
    lower: tuple[float | None, ...] | None = None
    upper: tuple[float | None, ...] | None = None

    def is_empty(self) -> bool:
        return all(
            v is None for v in (self.fixed, self.start, self.label, self.lower, self.upper)
        )


#: the modifiers of a term without any, shared by the parser's relations of such terms
#: (it is frozen): ``relation.modifiers is NO_MODIFIERS`` is a quick test for them
NO_MODIFIERS = Modifiers()


@dataclass(frozen=True)
class Relation:
    """One ``lhs op rhs`` term of the model.

    ``op`` is one of :data:`RELATION_OPS`.  For intercepts (``y ~ 1``) ``op`` is
    ``"~1"`` and ``rhs`` is ``""``.  For thresholds (``x | t1``) ``rhs`` is
    ``"t1"``.  A latent product term ``a:b`` keeps its colon in ``rhs``.
    ``block`` is the group label of a ``group: <label>`` block, else ``None``.
    ``line`` and ``column`` (1-based) locate the ``rhs`` term in the model text.
    """

    lhs: str
    op: str
    rhs: str
    modifiers: Modifiers = field(default_factory=Modifiers)
    block: str | None = None
    line: int = 0
    column: int = 0


def new_relation(
    lhs: str, op: str, rhs: str, modifiers: Modifiers, block: str | None, line: int, column: int
) -> Relation:
    """``Relation(lhs, op, rhs, modifiers, block, line, column)``, made without the frozen
    dataclass's ``__init__`` (one ``object.__setattr__`` per field): the same object, at
    half the cost, for the parser's one relation per term."""
    relation = _new_object(Relation)
    relation.__dict__.update(
        lhs=lhs, op=op, rhs=rhs, modifiers=modifiers, block=block, line=line, column=column
    )
    return relation


_new_object = object.__new__


@dataclass(frozen=True)
class Constraint:
    """A definition (``:=``) or constraint (``==``, ``<``, ``>``).

    For ``:=`` ``lhs`` is the new parameter name.  Otherwise ``lhs`` and
    ``rhs`` are both expressions (see :class:`semnet.syntax.expr.Expression`).
    """

    lhs: str
    op: str
    rhs: str
    line: int = 0
    column: int = 0


@dataclass(frozen=True)
class ParsedModel:
    """The parsed model: relations in the order written, then constraints."""

    relations: tuple[Relation, ...]
    constraints: tuple[Constraint, ...]
    text: str = ""

    @cached_property
    def roles(self) -> tuple[VariableNames, tuple[str, ...]]:
        """The roles of the variables of all the relations and the exogenous covariates
        given moments (:func:`~semnet.syntax.roles.variable_roles`), found once (the
        model is immutable)."""
        return variable_roles(self.relations)
