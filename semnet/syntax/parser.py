"""Recursive-descent parser for lavaan model syntax.

The text is first split into typed tokens (:mod:`semnet.syntax.tokenizer`),
the tokens are grouped into statements, and every statement is parsed into
:class:`~semnet.syntax.model.Relation` rows (one per ``lhs op rhs`` term) or a
:class:`~semnet.syntax.model.Constraint`.

The rules follow lavaan's own parser (``lav_syntax_parser_open.R``):

* statements end at a newline or ``;`` (the two are equivalent, as in lavaan)
  unless the statement is continued: the line ends in ``+ - * ? / ^ ,`` or an
  operator, the next line starts with ``+ - * ? / ^`` or an operator, or a
  parenthesis is still open; blank and comment-only lines in between are
  skipped;
* ``y1 + y2 ~ x1 + x2`` gives one relation per (lhs, rhs) pair, lhs outermost;
  empty ``+`` parts are skipped (so a leading ``+`` on a continued line works);
* a term is ``modifier*modifier*...*variable``; ``0.5?x`` means ``start(0.5)*x``;
* ``y ~ 1`` is an intercept (op ``~1``); a bare ``y ~ 0`` is an intercept fixed
  to zero; ``f =~ 0`` is lavaan's "phantom" shorthand for ``f =~ 0*f``;
* the same ``lhs op rhs`` written twice (in one block) is one relation whose
  modifiers are merged;
* ``group: label`` starts a block; relations written before the first
  ``group:`` header belong to the first group (lavaan warns about this too).
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace

from semnet.errors import ModelSyntaxError
from semnet.syntax.expr import expression_from_tokens
from semnet.syntax.model import (
    NO_MODIFIERS,
    Constraint,
    Modifiers,
    ParsedModel,
    Relation,
    new_relation,
)
from semnet.syntax.tokenizer import (
    CONSTRAINT_OPERATORS,
    END,
    NAME,
    NEWLINE,
    NUMBER,
    OPERATOR,
    PUNCT,
    RELATION_OPERATORS,
    STRING,
    Source,
    Token,
    tokenize,
)

__all__ = ["parse_model"]

#: R's reserved words: lavaan refuses them as variable names or labels
R_RESERVED = frozenset(
    {
        "if", "else", "repeat", "while", "function", "for", "next", "break", "in",
        "TRUE", "FALSE", "NULL", "Inf", "NaN", "NA", "NA_integer_", "NA_real_",
        "NA_character_", "NA_complex_",
    }
)  # fmt: skip

_BLOCK_KINDS = ("group", "level", "block", "class")
_NUMERIC_FUNCTIONS = ("start", "fixed", "lower", "upper")
_LABEL_FUNCTIONS = ("label", "equal")
_UNSUPPORTED_FUNCTIONS = {
    "prior": "priors (Bayesian estimation)",
    "rv": "random slopes (`rv()`)",
    "efa": "EFA blocks (`efa()`)",
}
_MAX_CALL_DEPTH = 8
_THRESHOLD = re.compile(r"t[0-9]+")
_EMPTY_MODEL = "the model is empty; write at least one relation such as `f =~ x1 + x2 + x3`"
_EXAMPLES = {
    "=~": "f =~ x1 + x2 + x3",
    "~": "y ~ x1 + x2",
    "~~": "x1 ~~ x2",
    "<~": "f <~ x1 + x2",
    "|": "x1 | t1 + t2",
    "~*~": "x1 ~*~ x1",
    ":=": "ab := a*b",
    "==": "a == b",
    "<": "a < 1",
    ">": "a > 0",
}


def parse_model(text: str) -> ParsedModel:
    """Parse lavaan model syntax.

    Parameters
    ----------
    text : str
        The model, in lavaan syntax: one statement per line (or separated by
        ``;``), comments after ``#`` or ``!``.

    Returns
    -------
    ParsedModel
        The relations in the order written (one per ``lhs op rhs`` term) and
        the constraints (``:=``, ``==``, ``<``, ``>``).

    Raises
    ------
    ModelSyntaxError
        If the text is not valid lavaan syntax; ``line`` and ``column`` locate
        the offending token and the message says how to fix it.

    Warns
    -----
    UserWarning
        When relations come before the first ``group:`` header (lavaan puts
        them in the first group, and so does semnet).

    Examples
    --------
    >>> model = parse_model('''
    ...     visual =~ x1 + a*x2 + start(0.5)*x3
    ...     visual ~~ 1*visual
    ... ''')
    >>> [(r.lhs, r.op, r.rhs) for r in model.relations]
    [('visual', '=~', 'x1'), ('visual', '=~', 'x2'), ('visual', '=~', 'x3'), \
('visual', '~~', 'visual')]
    >>> model.relations[1].modifiers.label
    ('a',)
    """
    if not isinstance(text, str):
        raise TypeError(f"the model must be a string, not {type(text).__name__}")
    simple = _parse_simple(text)
    return simple if simple is not None else _parse(text)


def _parse(text: str) -> ParsedModel:
    """:func:`parse_model` through tokens and statements (any model text)."""
    source = Source(text)
    statements = _split_statements(tokenize(text), source)
    if not statements:
        raise source.error(_EMPTY_MODEL, 1, 1)
    builder = _ModelBuilder(source)
    for statement in statements:
        builder.statement(statement)
    return ParsedModel(tuple(builder.relations), tuple(builder.constraints), text)


# -------------------------------------------------------------- simple models
_SIMPLE_NAME = r"[A-Za-z_][\w.]*"
_BLANKS = r"[^\S\n]*"
#: a line ``name op name + name + ...`` (op ``=~``, ``~`` or ``~~``; a comment may follow)
_SIMPLE_LINE = re.compile(
    rf"{_BLANKS}({_SIMPLE_NAME}){_BLANKS}(=~|~~|~){_BLANKS}"
    rf"({_SIMPLE_NAME}(?:{_BLANKS}\+{_BLANKS}{_SIMPLE_NAME})*){_BLANKS}(?:[#!][^\n]*)?"
)
#: a line without a statement: blanks, perhaps a comment
_EMPTY_LINE = re.compile(rf"{_BLANKS}(?:[#!][^\n]*)?")
_SIMPLE_TERM = re.compile(_SIMPLE_NAME)


def _parse_simple(text: str) -> ParsedModel | None:
    """:func:`parse_model` of a model whose every line is empty, a comment or one
    statement ``name op name + name ...`` (``=~``, ``~``, ``~~``, no modifiers), straight
    from the lines; ``None`` for any other text, or one :func:`_parse` would reject.

    Such a line is a statement of its own (it neither ends nor starts with what
    continues a statement), and each of its terms gives the relation that
    :meth:`_ModelBuilder.add_relation` makes of a bare variable, located at the name.
    """
    if not text.isascii():
        return None
    relations: list[Relation] = []
    seen: set[tuple[str, str, str]] = set()
    for number, line in enumerate(text.split("\n"), start=1):
        match = _SIMPLE_LINE.fullmatch(line)
        if match is None:
            if _EMPTY_LINE.fullmatch(line) is None:
                return None
            continue
        lhs, op = match.group(1, 2)
        if lhs in R_RESERVED:
            return None
        start, end = match.span(3)
        for term in _SIMPLE_TERM.finditer(line, start, end):
            rhs = term.group()
            if rhs in R_RESERVED or (op == "~" and rhs == lhs):  # (NA among the reserved)
                return None  # errors: left to _parse
            key = (lhs, op, rhs)
            if key not in seen:  # the same relation again adds nothing
                seen.add(key)
                relations.append(
                    new_relation(lhs, op, rhs, NO_MODIFIERS, None, number, term.start() + 1)
                )
    if not relations:
        return None
    return ParsedModel(tuple(relations), (), text)


# ------------------------------------------------------------------ statements
@dataclass
class _Statement:
    tokens: list[Token]
    error: ModelSyntaxError | None = None  # unbalanced parentheses, raised when reached


def _continues_after(token: Token) -> bool:
    """A statement whose last token is ``token`` goes on at the next line."""
    if token.kind is OPERATOR:
        return True
    return token.kind is PUNCT and token.text in ("+", "-", "*", "?", "/", "^", "**", ",")


def _continues_before(token: Token) -> bool:
    """A line starting with ``token`` continues the previous statement."""
    if token.kind is OPERATOR:
        return True
    return token.kind is PUNCT and token.text in ("+", "-", "*", "?", "/", "^", "**")


def _split_statements(tokens: list[Token], source: Source) -> list[_Statement]:
    statements: list[_Statement] = []
    current: list[Token] = []
    open_parens: list[Token] = []
    error: ModelSyntaxError | None = None
    for index, token in enumerate(tokens):
        if token.kind is END:
            break
        if token.kind is NEWLINE:
            if not current or open_parens or _continues_after(current[-1]):
                continue
            following = index + 1
            while tokens[following].kind is NEWLINE:
                following += 1
            if _continues_before(tokens[following]):
                continue
            statements.append(_Statement(current, error))
            current, error = [], None
            continue
        if token.kind is PUNCT and token.text == "(":
            open_parens.append(token)
        elif token.kind is PUNCT and token.text == ")":
            if open_parens:
                open_parens.pop()
            elif error is None:
                error = source.error_at(
                    token, "unbalanced `)`: there is no matching `(` before it; remove it"
                )
        current.append(token)
    if current:
        if open_parens and error is None:
            error = source.error_at(
                open_parens[-1],
                "unbalanced `(`: it is never closed; add the matching `)`",
            )
        statements.append(_Statement(current, error))
    return statements


def _split_plus(tokens: Sequence[Token]) -> list[list[Token]]:
    """Split on ``+`` outside parentheses (parts may be empty)."""
    parts: list[list[Token]] = []
    current: list[Token] = []
    depth = 0
    for token in tokens:
        if token.kind is PUNCT:
            if token.text == "(":
                depth += 1
            elif token.text == ")":
                depth -= 1
            elif token.text == "+" and depth == 0:
                parts.append(current)
                current = []
                continue
        current.append(token)
    parts.append(current)
    return parts


# -------------------------------------------------------------------- modifiers
@dataclass(frozen=True)
class _Modifier:
    """One parsed modifier: its kind (a :class:`Modifiers` field) and values."""

    kind: str
    values: tuple[float | str | None, ...]
    token: Token


@dataclass(frozen=True)
class _Value:
    """One element inside a modifier: a number, NA, a name or a string."""

    kind: str  # "number", "na", "name", "string"
    value: float | str | None
    token: Token


_KIND_WORDS = {
    "fixed": "fixed value",
    "start": "starting value",
    "label": "label",
    "lower": "lower bound",
    "upper": "upper bound",
}


def _format_values(values: tuple[float | str | None, ...]) -> str:
    shown = ["NA" if v is None else (f'"{v}"' if isinstance(v, str) else f"{v:g}") for v in values]
    return shown[0] if len(shown) == 1 else f"c({', '.join(shown)})"


# --------------------------------------------------------------------- builder
class _ModelBuilder:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.relations: list[Relation] = []
        self.constraints: list[Constraint] = []
        self.index: dict[tuple[str, str, str, str | None], int] = {}
        self.block: str | None = None
        self.seen_header = False
        self.current_lhs = "x"
        self.origins: dict[tuple[int, str], Token] = {}
        self.defined: dict[str, Constraint] = {}

    def fail(self, token: Token, message: str) -> ModelSyntaxError:
        return self.source.error_at(token, message)

    # statements -------------------------------------------------------------
    def statement(self, statement: _Statement) -> None:
        if statement.error is not None:
            raise statement.error
        tokens = statement.tokens
        operators = [
            i for i, t in enumerate(tokens) if t.kind is OPERATOR and t.text != ":"
        ]
        if not operators:
            self.header_or_error(tokens)
            return
        position = operators[0]
        op = tokens[position]
        if op.text not in RELATION_OPERATORS and op.text not in CONSTRAINT_OPERATORS:
            raise self.fail(
                op,
                f"semnet does not support the lavaan operator `{op.text}` yet; "
                f"use only {', '.join(f'`{o}`' for o in _EXAMPLES)}",
            )
        if len(operators) > 1:
            second = tokens[operators[1]]
            hint = ""
            if operators[1] == position + 1:
                hint = f" (to write `{op.text}{second.text}` leave no space inside it)"
            elif second.line != op.line:
                hint = (
                    " (a line that ends with `+`, `*` or an operator continues on the next "
                    "line: check the end of the line before)"
                )
            raise self.fail(
                second,
                f"a statement has only one operator, but `{second.text}` follows "
                f"`{op.text}`; put each relation on its own line or separate them "
                f"with `;`{hint}",
            )
        lhs, rhs = tokens[:position], tokens[position + 1 :]
        example = _EXAMPLES[op.text]
        if not lhs:
            raise self.fail(
                op,
                f"`{op.text}` has nothing on its left-hand side; write a name before it, "
                f"as in `{example}`",
            )
        if not rhs:
            raise self.fail(
                op,
                f"`{op.text}` has nothing on its right-hand side; write what follows it, "
                f"as in `{example}`",
            )
        if op.text in CONSTRAINT_OPERATORS:
            last = tokens[-1]
            self.constraint(lhs, op, rhs, Token(END, "", last.line, last.end_column))
        else:
            self.relation(lhs, op, rhs)

    def header_or_error(self, tokens: list[Token]) -> None:
        first = tokens[0]
        colon = len(tokens) > 1 and tokens[1].kind is OPERATOR and tokens[1].text == ":"
        if first.kind is OPERATOR and first.text == ":":
            raise self.fail(
                first,
                "`:` needs a block name before it; write a group header as `group: <label>`",
            )
        if colon and first.kind is NAME:
            kind = first.text.lower()
            if kind in _BLOCK_KINDS:
                self.header(tokens, kind)
                return
            raise self.fail(
                first,
                f"`{first.text}:` is not a block header and the statement has no operator; "
                "start a group block with `group: <label>` or write a relation such as "
                "`f =~ x1 + x2`",
            )
        if len(tokens) == 1:
            raise self.fail(
                first,
                f"{first.describe()} alone is not a statement: it has no operator; write a "
                "relation such as `f =~ x1 + x2` or `y ~ x`",
            )
        raise self.fail(
            tokens[1],
            f"expected an operator such as `=~`, `~` or `~~` after {first.describe()}, "
            f"found {tokens[1].describe()}; every statement needs an operator, "
            "as in `f =~ x1 + x2`",
        )

    def joined_label(self, tokens: list[Token]) -> str:
        """A group label written without quotes of names and numbers joined by ``-`` with
        no space between (``group: Grant-White``, as lavaan reads it)."""
        parts = tokens[2:]
        for before, token in itertools.pairwise(parts):
            if (
                token.kind not in (NAME, NUMBER, PUNCT)
                or (token.kind is PUNCT and token.text != "-")
                or token.line != before.line
                or token.column != before.end_column
            ):
                raise self.fail(
                    token,
                    f"unexpected {token.describe()} after the group label; a group header "
                    'is just `group: <label>` (quote labels with spaces: `group: "East '
                    'Germany"`)',
                )
        return "".join(t.text for t in parts)

    def header(self, tokens: list[Token], kind: str) -> None:
        first = tokens[0]
        if kind == "level":
            raise self.fail(
                first,
                "multilevel models are not supported yet; remove the `level:` blocks and "
                "fit a single-level model",
            )
        if kind != "group":
            raise self.fail(
                first,
                f"`{first.text}:` blocks are not supported yet; semnet supports "
                "multiple-group blocks written as `group: <label>`",
            )
        allowed = (NAME, NUMBER, STRING)
        if len(tokens) < 3 or tokens[2].kind not in allowed:
            where = tokens[2] if len(tokens) >= 3 else tokens[1]
            raise self.fail(
                where,
                f"`{first.text}:` needs a group label after the colon, "
                'e.g. `group: 1` or `group: "Germany"`',
            )
        label = tokens[2].value
        if len(tokens) > 3:
            label = self.joined_label(tokens)
        if not self.seen_header and self.relations:
            warnings.warn(
                f"line {first.line}: the relations written before the first `group:` header "
                f"belong to group {label!r} (as in lavaan); move them below the header, or "
                "repeat them in every group block",
                UserWarning,
                stacklevel=5,
            )
            self.relabel_block(label)
        self.seen_header = True
        self.block = label

    def relabel_block(self, label: str) -> None:
        self.relations = [replace(r, block=label) for r in self.relations]
        self.index = {(r.lhs, r.op, r.rhs, r.block): i for i, r in enumerate(self.relations)}

    # constraints -------------------------------------------------------------
    def constraint(self, lhs: list[Token], op: Token, rhs: list[Token], end: Token) -> None:
        if op.text == ":=":
            name = lhs[0]
            if len(lhs) != 1 or name.kind is not NAME:
                raise self.fail(
                    name,
                    "the left-hand side of `:=` must be a single new parameter name, "
                    "as in `ab := a*b`",
                )
            self.check_name(name, "a defined parameter")
            left_text = name.text
            earlier = self.defined.get(left_text)
            if earlier is not None:
                raise self.fail(
                    name,
                    f"`{left_text}` is defined twice with `:=`: at line {earlier.line} "
                    f"(`{left_text} := {earlier.rhs}`) and at line {name.line}; give each "
                    "defined parameter its own name",
                )
        else:
            left_text = expression_from_tokens(lhs, self.source, op).text
        right_text = expression_from_tokens(rhs, self.source, end).text
        first = lhs[0]
        constraint = Constraint(left_text, op.text, right_text, first.line, first.column)
        if op.text == ":=":
            self.defined[left_text] = constraint
        self.constraints.append(constraint)

    # relations ---------------------------------------------------------------
    def relation(self, lhs: list[Token], op: Token, rhs: list[Token]) -> None:
        names = [self.lhs_name(part, op) for part in _split_plus(lhs) if part]
        terms = [part for part in _split_plus(rhs) if part]
        if not names:
            raise self.fail(
                op,
                f"`{op.text}` has nothing on its left-hand side; write a name before it, "
                f"as in `{_EXAMPLES[op.text]}`",
            )
        if not terms:
            raise self.fail(
                op,
                f"`{op.text}` has nothing on its right-hand side; write what follows it, "
                f"as in `{_EXAMPLES[op.text]}`",
            )
        self.current_lhs = names[0]
        plain = op.text != "|"  # a threshold's name is checked by variable()
        parsed = []
        for part in terms:
            first = part[0]
            if (
                plain and len(part) == 1 and first.kind is NAME and first.text != "NA"
                and first.text not in R_RESERVED
            ):  # fmt: skip
                parsed.append(({}, first.text, first))  # a bare variable: what term() gives
            else:
                parsed.append(self.term(part, op))
        for name in names:
            for modifiers, variable, rhs_token in parsed:
                self.add_relation(name, op, modifiers, variable, rhs_token)

    def lhs_name(self, part: list[Token], op: Token) -> str:
        first = part[0]
        modifier_sign = next(
            (t for t in part if t.kind is PUNCT and t.text in ("*", "?")), None
        )
        if modifier_sign is not None:
            if first.kind is NAME and first.text in _UNSUPPORTED_FUNCTIONS:
                raise self.fail(
                    first,
                    f"{_UNSUPPORTED_FUNCTIONS[first.text]} are not supported yet; remove "
                    f"`{first.text}(...)*`",
                )
            raise self.fail(
                first,
                "modifiers cannot be put on the left-hand side; put them before the variable "
                "on the right-hand side, as in `f =~ a*x1` (not `a*f =~ x1`)",
            )
        if first.kind is not NAME:
            raise self.fail(
                first,
                f"the left-hand side of `{op.text}` must be a variable name, found "
                f"{first.describe()}",
            )
        if len(part) > 1:
            second = part[1]
            if second.kind is OPERATOR and second.text == ":":
                raise self.fail(
                    second,
                    "a product term such as `a:b` can only appear on the right-hand side "
                    "(e.g. `y ~ a:b`)",
                )
            raise self.fail(
                second,
                f"unexpected {second.describe()} after `{first.text}`; expected `+` or "
                f"`{op.text}` (names cannot contain spaces)",
            )
        self.check_name(first, "a variable name")
        return first.text

    def check_name(self, token: Token, role: str) -> None:
        if token.text in R_RESERVED:
            raise self.fail(
                token,
                f"`{token.text}` is a reserved word in R and cannot be used as {role} "
                "in lavaan syntax; choose another name",
            )

    def add_relation(
        self, lhs: str, op_token: Token, modifiers: dict[str, _Modifier], variable: str,
        rhs_token: Token,
    ) -> None:  # fmt: skip
        op = op_token.text
        rhs = variable
        if op == "~" and not rhs:
            op = "~1"
        elif op == "=~" and not rhs:
            rhs = lhs  # lavaan's phantom shorthand: f =~ 0  means  f =~ 0*f
        if op == "~" and rhs == lhs:
            fixed = modifiers.get("fixed")
            if fixed is None or fixed.values != (0.0,):
                raise self.fail(
                    rhs_token,
                    f"a variable cannot be regressed on itself (`{lhs} ~ {rhs}`); remove this term",
                )
        key = (lhs, op, rhs, self.block)
        position = self.index.get(key)
        if position is None:
            position = len(self.relations)
            self.index[key] = position
            self.relations.append(new_relation(
                lhs, op, rhs, NO_MODIFIERS, self.block, rhs_token.line, rhs_token.column
            ))  # fmt: skip
        if modifiers:
            self.relations[position] = self.merge(position, modifiers)

    def merge(self, position: int, modifiers: dict[str, _Modifier]) -> Relation:
        """Add ``modifiers`` to relation ``position``; a different value for a kind is an error."""
        relation = self.relations[position]
        values = {kind: getattr(relation.modifiers, kind) for kind in _KIND_WORDS}
        for kind, modifier in modifiers.items():
            previous = values[kind]
            if previous is not None and previous != modifier.values:
                origin = self.origins[position, kind]
                raise self.fail(
                    modifier.token,
                    f"`{relation.lhs} {relation.op} {relation.rhs}` already got the "
                    f"{_KIND_WORDS[kind]} {_format_values(previous)} at line {origin.line}, "
                    f"column {origin.column}; give each kind of modifier only once",
                )
            if previous is None:
                self.origins[position, kind] = modifier.token
            values[kind] = modifier.values
        return Relation(
            relation.lhs, relation.op, relation.rhs, Modifiers(**values),  # type: ignore[arg-type]
            relation.block, relation.line, relation.column,
        )  # fmt: skip

    # terms -------------------------------------------------------------------
    def term(self, tokens: list[Token], op: Token) -> tuple[dict[str, _Modifier], str, Token]:
        """Parse ``mod*mod*...*variable``; returns modifiers, rhs text and its token."""
        modifiers: dict[str, _Modifier] = {}
        position = 0
        while True:
            start = position
            position, factor = self.factor(tokens, position, op)
            if position < len(tokens):
                sign = tokens[position]
                if sign.kind is PUNCT and sign.text in ("*", "?"):
                    self.add_modifier(modifiers, self.modifier(tokens[start], factor, sign))
                    position += 1
                    if position >= len(tokens):
                        raise self.fail(
                            sign,
                            f"expected a variable name after `{sign.text}`, as in "
                            f"`{'0.5?x1' if sign.text == '?' else 'a*x1'}`",
                        )
                    continue
                raise self.fail(sign, self.after_factor_message(tokens[start], sign, op))
            return self.variable(tokens[start], factor, modifiers, op)

    def after_factor_message(self, factor: Token, token: Token, op: Token) -> str:
        if token.kind is PUNCT and token.text == "-":
            return "terms are joined with `+`, not `-`; for a negative value write `-1*x`"
        if token.kind is NAME or token.kind is NUMBER:
            return (
                f"unexpected {token.describe()} after {factor.describe()}; join terms with `+` "
                "and put `*` between a modifier and its variable (names cannot contain spaces)"
            )
        return (
            f"unexpected {token.describe()} in a term of `{op.text}`; expected `+`, `*` or "
            "the end of the statement"
        )

    def factor(
        self, tokens: list[Token], position: int, op: Token
    ) -> tuple[int, _Value | tuple[Token, Token] | list[Token]]:
        """One ``*``-separated piece of a term.

        Returns the new position and a :class:`_Value` (number, NA, name or
        string), a ``(name, name)`` pair for a product term ``a:b``, or the
        tokens of a call such as ``start(0.5)``.
        """
        token = tokens[position]
        nxt = tokens[position + 1] if position + 1 < len(tokens) else None
        if token.kind is PUNCT and token.text in ("-", "+"):
            if nxt is not None and nxt.kind is NUMBER:
                value = float(nxt.text)
                return position + 2, _Value("number", -value if token.text == "-" else value, token)
            raise self.fail(
                token if nxt is None else nxt,
                f"expected a number after `{token.text}` (as in `-1*x1`), found "
                f"{'the end of the term' if nxt is None else nxt.describe()}",
            )
        if token.kind is NUMBER:
            return position + 1, _Value("number", float(token.text), token)
        if token.kind is STRING:
            return position + 1, _Value("string", token.value, token)
        if token.kind is NAME:
            if nxt is not None and nxt.kind is PUNCT and nxt.text == "(":
                end = self.matching_paren(tokens, position + 1)
                return end + 1, tokens[position : end + 1]
            if nxt is not None and nxt.kind is OPERATOR and nxt.text == ":":
                other = tokens[position + 2] if position + 2 < len(tokens) else None
                if other is None or other.kind is not NAME:
                    raise self.fail(
                        nxt if other is None else other,
                        "expected a variable name after `:` in a product term such as `a:b`",
                    )
                after = tokens[position + 3] if position + 3 < len(tokens) else None
                if after is not None and after.kind is OPERATOR and after.text == ":":
                    raise self.fail(
                        after,
                        "three-way or higher interaction terms are not supported; compute "
                        "the product variable in your data and use it by name",
                    )
                return position + 3, (token, other)
            if token.text == "NA":
                return position + 1, _Value("na", None, token)
            return position + 1, _Value("name", token.text, token)
        if token.kind is OPERATOR:
            raise self.fail(
                token,
                f"unexpected `{token.text}` on the right-hand side of `{op.text}`"
                + ("; write `~~` without a space" if token.text == "~" else ""),
            )
        raise self.fail(
            token,
            f"unexpected {token.describe()} on the right-hand side of `{op.text}`; expected "
            "a variable name, a number or a modifier such as `start(0.5)`",
        )

    @staticmethod
    def matching_paren(tokens: list[Token], open_index: int) -> int:
        depth = 0
        for index in range(open_index, len(tokens)):
            token = tokens[index]
            if token.kind is PUNCT and token.text == "(":
                depth += 1
            elif token.kind is PUNCT and token.text == ")":
                depth -= 1
                if depth == 0:
                    return index
        raise AssertionError("parentheses are balanced by _split_statements")  # pragma: no cover

    def add_modifier(self, modifiers: dict[str, _Modifier], modifier: _Modifier) -> None:
        previous = modifiers.get(modifier.kind)
        if previous is not None and previous.values != modifier.values:
            raise self.fail(
                modifier.token,
                f"this term has two different {_KIND_WORDS[modifier.kind]}s "
                f"({_format_values(previous.values)} and {_format_values(modifier.values)}); "
                "give each kind of modifier once",
            )
        modifiers[modifier.kind] = modifier

    def variable(
        self,
        first: Token,
        factor: _Value | tuple[Token, Token] | list[Token],
        modifiers: dict[str, _Modifier],
        op: Token,
    ) -> tuple[dict[str, _Modifier], str, Token]:
        if isinstance(factor, tuple):
            if op.text == "|":
                raise self.fail(first, "a threshold must be named `t1`, `t2`, ..., not a product")
            self.check_name(factor[0], "a variable name")
            self.check_name(factor[1], "a variable name")
            return modifiers, f"{factor[0].text}:{factor[1].text}", first
        if isinstance(factor, list):
            raise self.fail(
                first,
                f"`{first.text}(...)` is a modifier and must be followed by `*` and a variable, "
                f"as in `{first.text}(...)*x1`",
            )
        if factor.kind == "number":
            return self.number_variable(factor, modifiers, op)
        if factor.kind in ("na", "string"):
            raise self.fail(
                first,
                f"a term must end with a variable name, but it ends with {first.describe()}; "
                f"a modifier goes before the variable, as in `{first.text}*x1`",
            )
        self.check_name(first, "a variable name")
        if op.text == "|" and not _THRESHOLD.fullmatch(first.text):
            raise self.fail(
                first,
                f"thresholds are named `t1`, `t2`, ...; write `{self.current_lhs} | t1 + t2`, "
                f"not `{first.text}`",
            )
        return modifiers, first.text, first

    def number_variable(
        self, factor: _Value, modifiers: dict[str, _Modifier], op: Token
    ) -> tuple[dict[str, _Modifier], str, Token]:
        token = factor.token
        value = factor.value
        if op.text == "~":
            if value == 1.0 and token.kind is NUMBER:
                return modifiers, "", token
            if value == 0.0 and token.kind is NUMBER and not modifiers:
                return {"fixed": _Modifier("fixed", (0.0,), token)}, "", token
            raise self.fail(
                token,
                "a number in a regression stands for the intercept: write `y ~ 1` (free "
                "intercept), `y ~ 0*1` or `y ~ 0` (intercept fixed to zero)",
            )
        if op.text == "=~" and value == 0.0 and token.kind is NUMBER:
            phantom = _Modifier("fixed", (value,), token)
            self.add_modifier(modifiers, phantom)
            return modifiers, "", token
        if op.text == "=~":
            raise self.fail(
                token,
                f"a loading needs a variable after the number: write `{token.text}*x1`, not "
                f"`{token.text}` alone (only `{self.current_lhs} =~ 0` is lavaan's shorthand "
                "for a phantom latent variable)",
            )
        raise self.fail(
            token,
            f"expected a variable name on the right-hand side of `{op.text}`, found "
            f"{token.describe()}",
        )

    # modifier values ----------------------------------------------------------
    def modifier(
        self, first: Token, factor: _Value | tuple[Token, Token] | list[Token], sign: Token
    ) -> _Modifier:
        if isinstance(factor, tuple):
            raise self.fail(
                first, "a product term `a:b` cannot be a modifier; put it after the last `*`"
            )
        if isinstance(factor, list):
            modifier = self.call_modifier(factor)
        elif factor.kind in ("number", "na"):
            modifier = _Modifier("fixed", (factor.value,), first)
        else:
            if factor.kind == "name":
                self.check_name(first, "a label")
            modifier = _Modifier("label", (factor.value,), first)
        if sign.text == "?":
            if modifier.kind == "label":
                raise self.fail(
                    first,
                    "`?` sets a starting value and needs a number before it, as in "
                    f"`0.5?x1`; for a label write `{first.text}*x1`",
                )
            modifier = _Modifier("start", modifier.values, first)
        return modifier

    def call_modifier(self, tokens: list[Token]) -> _Modifier:
        name = tokens[0]
        function = name.text
        values = self.call_values(tokens, 0)
        if function == "c":
            named = [v for v in values if v.kind in ("name", "string")]
            numbers = [v for v in values if v.kind == "number"]
            if named and numbers:
                raise self.fail(
                    numbers[0].token,
                    "`c(...)` mixes numbers and labels; use `c(...)` with numbers (fixed "
                    "values) or with labels, and give the other kind separately, as in "
                    "`c(a1, a2)*start(c(1, 1))*x1`",
                )
            if named:
                for v in named:
                    if v.kind == "name":
                        self.check_name(v.token, "a label")
                return _Modifier("label", tuple(v.value for v in values), name)
            self.check_finite(numbers, "fixed values")
            return _Modifier("fixed", tuple(v.value for v in values), name)
        if function in _NUMERIC_FUNCTIONS:
            for v in values:
                if v.kind not in ("number", "na"):
                    raise self.fail(
                        v.token,
                        f"`{function}()` needs numbers, as in `{function}(0.5)`, but got "
                        f"{v.token.describe()}",
                    )
            if function in ("start", "fixed"):
                self.check_finite(values, f"{_KIND_WORDS[function]}s")
            return _Modifier(function, tuple(v.value for v in values), name)
        if function in _LABEL_FUNCTIONS:
            for v in values:
                if v.kind == "number":
                    raise self.fail(
                        v.token,
                        f'`{function}()` needs a label, as in `{function}("a")`, but got '
                        f"{v.token.describe()}",
                    )
                if v.kind == "name":
                    self.check_name(v.token, "a label")
            if all(v.kind == "na" for v in values):
                raise self.fail(
                    name, f'`{function}()` needs a label, as in `{function}("a")`, not only NA'
                )
            return _Modifier("label", tuple(v.value for v in values), name)
        raise AssertionError(function)  # pragma: no cover - checked by call_values

    def check_finite(self, values: list[_Value], what: str) -> None:
        """Refuse an infinite number (``Inf``) among ``values`` (only bounds may be
        infinite)."""
        for v in values:
            if v.kind == "number" and not math.isfinite(v.value):  # type: ignore[arg-type]
                raise self.fail(
                    v.token,
                    f"{what} must be finite numbers, not {v.value:g}; only the bounds "
                    "`lower()` and `upper()` may be `-Inf` or `Inf`",
                )

    def call_values(self, tokens: list[Token], depth: int) -> list[_Value]:
        """Values of ``name( value, value, ... )``; nested ``c()`` are flattened."""
        name = tokens[0]
        function = name.text
        if function in _UNSUPPORTED_FUNCTIONS:
            raise self.fail(
                name,
                f"{_UNSUPPORTED_FUNCTIONS[function]} are not supported yet; remove "
                f"`{function}(...)`",
            )
        known = ("c", *_NUMERIC_FUNCTIONS, *_LABEL_FUNCTIONS)
        if function not in known:
            raise self.fail(
                name,
                f"unknown modifier `{function}()`; modifiers are numbers, labels, `NA`, "
                "`c(...)`, `start()`, `fixed()`, `label()`, `equal()`, `lower()` and "
                "`upper()`",
            )
        if depth > _MAX_CALL_DEPTH:
            raise self.fail(name, "modifiers are nested too deeply; simplify them")
        close = tokens[-1]
        inner = tokens[2:-1]
        if not inner:
            example = "0.5" if function in _NUMERIC_FUNCTIONS else '"a"'
            raise self.fail(
                close,
                f"`{function}()` is empty; give at least one value, as in `{function}({example})`",
            )
        values: list[_Value] = []
        position = 0
        while True:
            if position >= len(inner):
                raise self.fail(
                    close, f"expected a value after `,` in `{function}(...)`, found `)`"
                )
            token = inner[position]
            nxt = inner[position + 1] if position + 1 < len(inner) else close
            if token.kind is PUNCT and token.text in ("-", "+"):
                if nxt.kind is not NUMBER and not (
                    nxt.kind is NAME and nxt.text == "Inf"
                ):
                    raise self.fail(nxt, f"expected a number after `{token.text}`")
                number = math.inf if nxt.text == "Inf" else float(nxt.text)
                values.append(_Value("number", -number if token.text == "-" else number, token))
                position += 2
            elif token.kind is NUMBER:
                values.append(_Value("number", float(token.text), token))
                position += 1
            elif token.kind is STRING:
                values.append(_Value("string", token.value, token))
                position += 1
            elif token.kind is NAME and nxt.kind is PUNCT and nxt.text == "(":
                end = self.matching_paren(inner, position + 1)
                if token.text != "c":
                    raise self.fail(
                        token,
                        f"only `c(...)` can be used inside `{function}(...)`, "
                        f"not `{token.text}(...)`",
                    )
                values.extend(self.call_values(inner[position : end + 1], depth + 1))
                position = end + 1
            elif token.kind is NAME:
                if token.text == "NA":
                    values.append(_Value("na", None, token))
                elif token.text == "Inf":
                    values.append(_Value("number", math.inf, token))
                else:
                    values.append(_Value("name", token.text, token))
                position += 1
            elif token.kind is PUNCT and token.text == ",":
                raise self.fail(token, f"expected a value before `,` in `{function}(...)`")
            else:
                raise self.fail(
                    token,
                    f"unexpected {token.describe()} in `{function}(...)`; expected a number, "
                    "`NA`, a name or a quoted label",
                )
            if position >= len(inner):
                return values
            separator = inner[position]
            if not (separator.kind is PUNCT and separator.text == ","):
                raise self.fail(
                    separator,
                    f"expected `,` or `)` in `{function}(...)`, found {separator.describe()}",
                )
            position += 1
