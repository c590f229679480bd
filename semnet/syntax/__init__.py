"""lavaan model syntax: tokenizer, parser and constraint expressions.

>>> from semnet.syntax import parse_model
>>> [(r.lhs, r.op, r.rhs) for r in parse_model("y ~ 1 + x").relations]
[('y', '~1', ''), ('y', '~', 'x')]
"""

from semnet.syntax.expr import Expression, parse_expression
from semnet.syntax.model import (
    CONSTRAINT_OPS,
    RELATION_OPS,
    Constraint,
    Modifiers,
    ParsedModel,
    Relation,
)
from semnet.syntax.parser import parse_model

__all__ = [
    "CONSTRAINT_OPS",
    "RELATION_OPS",
    "Constraint",
    "Expression",
    "Modifiers",
    "ParsedModel",
    "Relation",
    "parse_expression",
    "parse_model",
]
