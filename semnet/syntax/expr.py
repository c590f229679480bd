"""Safe arithmetic expressions for ``:=``, ``==``, ``<`` and ``>``.

Expressions are parsed by a small recursive-descent parser into an immutable
syntax tree and evaluated by walking that tree with numpy, so they work on
scalars and, element-wise, on arrays (e.g. bootstrap draws).  Nothing is ever
passed to ``eval``.

Grammar (R precedence; ``^`` binds tighter than unary minus, so ``-2^2 == -4``)::

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := ("+" | "-")* power
    power      := primary (("^" | "**") unary)?        # right-associative
    primary    := NUMBER | NAME | NAME "(" args ")" | "(" expression ")"
    args       := expression ("," expression)*

Functions: ``exp log sqrt abs sin cos tan asin acos atan tanh pnorm qnorm min max``.
``log(x, base)`` takes an optional base, ``pnorm``/``qnorm`` take optional
``mean`` and ``sd``, and ``min``/``max`` are element-wise over their arguments
(R's ``pmin``/``pmax``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.stats import norm

from semnet.errors import ModelSpecificationError
from semnet.syntax.tokenizer import Source, Token, TokenKind, tokenize

__all__ = ["FUNCTIONS", "Expression", "parse_expression"]

Value = float | np.ndarray

#: deepest nesting of parentheses / powers / calls an expression may use
MAX_NESTING = 50


# --------------------------------------------------------------------------- AST
@dataclass(frozen=True, slots=True)
class _Number:
    value: float


@dataclass(frozen=True, slots=True)
class _Name:
    name: str


@dataclass(frozen=True, slots=True)
class _Negate:
    operand: _Node


@dataclass(frozen=True, slots=True)
class _Chain:
    """``first (op operand)*`` for a left-associative level (``+ -`` or ``* /``)."""

    first: _Node
    rest: tuple[tuple[str, _Node], ...]


@dataclass(frozen=True, slots=True)
class _Power:
    base: _Node
    exponent: _Node


@dataclass(frozen=True, slots=True)
class _Call:
    function: str
    args: tuple[_Node, ...]


_Node = _Number | _Name | _Negate | _Chain | _Power | _Call


def _log(x: Value, base: Value | None = None) -> Value:
    if base is None:
        return np.log(x)
    return np.log(x) / np.log(base)


def _pnorm(q: Value, mean: Value = 0.0, sd: Value = 1.0) -> Value:
    return norm.cdf(q, loc=mean, scale=sd)


def _qnorm(p: Value, mean: Value = 0.0, sd: Value = 1.0) -> Value:
    return norm.ppf(p, loc=mean, scale=sd)


def _elementwise(op: Callable[[Value, Value], Value]) -> Callable[..., Value]:
    def apply(*args: Value) -> Value:
        return functools.reduce(op, args)

    return apply


#: allowed functions: name -> (minimum arguments, maximum arguments or None, implementation)
FUNCTIONS: dict[str, tuple[int, int | None, Callable[..., Value]]] = {
    "exp": (1, 1, np.exp),
    "log": (1, 2, _log),
    "sqrt": (1, 1, np.sqrt),
    "abs": (1, 1, np.abs),
    "sin": (1, 1, np.sin),
    "cos": (1, 1, np.cos),
    "tan": (1, 1, np.tan),
    "asin": (1, 1, np.arcsin),
    "acos": (1, 1, np.arccos),
    "atan": (1, 1, np.arctan),
    "tanh": (1, 1, np.tanh),
    "pnorm": (1, 3, _pnorm),
    "qnorm": (1, 3, _qnorm),
    "min": (1, None, _elementwise(np.minimum)),
    "max": (1, None, _elementwise(np.maximum)),
}

_FUNCTION_LIST = ", ".join(FUNCTIONS)


# ------------------------------------------------------------------- Expression
@dataclass(frozen=True)
class Expression:
    """A parsed arithmetic expression.

    Attributes
    ----------
    text : str
        The expression text as given.
    names : tuple of str
        Parameter names used, in order of first appearance (function names
        are not included).

    Examples
    --------
    >>> e = parse_expression("a*b + c^2")
    >>> e.names
    ('a', 'b', 'c')
    >>> e.evaluate({"a": 2.0, "b": 3.0, "c": 1.0})
    7.0
    """

    text: str
    names: tuple[str, ...]
    _tree: _Node = field(repr=False, compare=False)

    def evaluate(self, env: Mapping[str, float | np.ndarray]) -> float | np.ndarray:
        """Evaluate the expression.

        Parameters
        ----------
        env : mapping
            Value of every name in :attr:`names`; values may be floats or
            numpy arrays (broadcast element-wise).

        Returns
        -------
        float or numpy.ndarray
            A float when every input is scalar, else an array.

        Raises
        ------
        ModelSpecificationError
            If a name has no value in ``env``.
        """
        missing = [name for name in self.names if name not in env]
        if missing:
            known = ", ".join(sorted(map(str, env))) or "none"
            raise ModelSpecificationError(
                f"the expression `{self.text}` uses `{missing[0]}`, which has no value; "
                f"give it a value or use one of the known names ({known})"
            )
        values = {name: np.asarray(env[name], dtype=float) for name in self.names}
        with np.errstate(all="ignore"):
            result = _evaluate(self._tree, values)
        result = np.asarray(result, dtype=float)
        if result.ndim == 0:
            return float(result)
        return result


def _evaluate(node: _Node, env: Mapping[str, np.ndarray]) -> Value:
    match node:
        case _Number(value):
            return np.float64(value)
        case _Name(name):
            return env[name]
        case _Negate(operand):
            return -_evaluate(operand, env)
        case _Power(base, exponent):
            return np.power(_evaluate(base, env), _evaluate(exponent, env))
        case _Call(function, args):
            return FUNCTIONS[function][2](*(_evaluate(a, env) for a in args))
        case _Chain(first, rest):
            value = _evaluate(first, env)
            for op, operand in rest:
                other = _evaluate(operand, env)
                if op == "+":
                    value = value + other
                elif op == "-":
                    value = value - other
                elif op == "*":
                    value = value * other
                else:
                    value = np.true_divide(value, other)
            return value
    raise TypeError(f"unknown expression node {node!r}")  # pragma: no cover


def _is_constant(node: _Node) -> bool:
    """Whether ``node`` uses no parameter name (its value is known when parsed)."""
    match node:
        case _Number():
            return True
        case _Name():
            return False
        case _Negate(operand):
            return _is_constant(operand)
        case _Power(base, exponent):
            return _is_constant(base) and _is_constant(exponent)
        case _Call(_, args):
            return all(map(_is_constant, args))
        case _Chain(first, rest):
            return _is_constant(first) and all(_is_constant(n) for _, n in rest)
    raise TypeError(f"unknown expression node {node!r}")  # pragma: no cover


def _constant_value(node: _Node) -> float:
    """The value of a constant ``node`` (see :func:`_is_constant`)."""
    with np.errstate(all="ignore"):
        return float(_evaluate(node, {}))


# ----------------------------------------------------------------------- parser
def parse_expression(text: str, line: int = 1, column: int = 1) -> Expression:
    """Parse an arithmetic expression.

    Parameters
    ----------
    text : str
        The expression, e.g. ``"a*b"`` or ``"sqrt(v1 + v2)"``.
    line, column : int
        1-based position of ``text[0]`` in the model, so that errors point
        into the model text.

    Returns
    -------
    Expression

    Raises
    ------
    ModelSyntaxError
        If ``text`` is not a valid expression.

    Examples
    --------
    >>> parse_expression("-2^2").evaluate({})
    -4.0
    """
    source = Source(text, line, column)
    tokens = tokenize(text, line, column)
    for token in tokens:
        if token.kind is TokenKind.NEWLINE and token.text == ";":
            raise source.error_at(token, "an expression cannot contain `;`; remove it")
    body = [t for t in tokens if t.kind not in (TokenKind.NEWLINE, TokenKind.END)]
    tree, names = parse_expression_tokens(body, source, tokens[-1])
    return Expression(text, names, tree)


def parse_expression_tokens(
    tokens: Sequence[Token], source: Source, end: Token, finite: bool = False
) -> tuple[_Node, tuple[str, ...]]:
    """Parse already-tokenized expression text (used by the model parser).

    ``end`` is the token just after the expression; "unexpected end" errors
    point at it.  With ``finite``, a part that uses no parameter name and is not a
    finite number (``1/0``, ``log(0)``), or a division by such a part equal to zero,
    is an error.  Returns the syntax tree and the names used.
    """
    parser = _ExpressionParser(list(tokens), source, end, finite)
    return parser.parse()


def expression_from_tokens(tokens: Sequence[Token], source: Source, end: Token) -> Expression:
    """Parse tokens of model syntax into an :class:`Expression` whose text is the tokens
    joined; constant parts must be finite (``a == 1/0`` is an error)."""
    tree, names = parse_expression_tokens(tokens, source, end, finite=True)
    return Expression("".join(t.text for t in tokens), names, tree)


class _ExpressionParser:
    def __init__(self, tokens: list[Token], source: Source, end: Token, finite: bool) -> None:
        self.finite = finite
        self.tokens = tokens
        self.source = source
        self.end = end
        self.index = 0
        self.depth = 0
        self.names: dict[str, None] = {}

    # helpers
    def peek(self) -> Token:
        if self.index < len(self.tokens):
            return self.tokens[self.index]
        return self.end

    def at_punct(self, *texts: str) -> bool:
        token = self.peek()
        return token.kind is TokenKind.PUNCT and token.text in texts

    def advance(self) -> Token:
        token = self.peek()
        self.index += 1
        return token

    def describe(self, token: Token) -> str:
        if token is self.end or token.kind in (TokenKind.END, TokenKind.NEWLINE):
            return "the end of the expression"
        return f"`{token.text}`"

    def fail(self, token: Token, message: str) -> Exception:
        return self.source.error_at(token, message)

    def nest(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(
                token,
                f"the expression is nested more than {MAX_NESTING} levels deep; simplify it",
            )

    # grammar
    def parse(self) -> tuple[_Node, tuple[str, ...]]:
        if not self.tokens:
            raise self.fail(
                self.end, "the expression is empty; write a number, a name or a formula like `a*b`"
            )
        tree = self.expression()
        if self.index < len(self.tokens):
            token = self.peek()
            if token.kind is TokenKind.PUNCT and token.text == ")":
                message = "unbalanced `)`: there is no matching `(`; remove it"
            else:
                message = (
                    f"unexpected {self.describe(token)} in the expression; expected an "
                    "operator (`+`, `-`, `*`, `/`, `^`) or the end of the expression"
                )
            raise self.fail(token, message)
        return tree, tuple(self.names)

    def expression(self) -> _Node:
        return self.chain(("+", "-"), self.term)

    def term(self) -> _Node:
        return self.chain(("*", "/"), self.unary)

    def chain(self, ops: tuple[str, ...], operand: Callable[[], _Node]) -> _Node:
        start = self.index
        first = operand()
        rest: list[tuple[str, _Node]] = []
        while self.at_punct(*ops):
            token = self.advance()
            right = self.index
            node = operand()
            if (
                self.finite and token.text == "/" and _is_constant(node)
                and _constant_value(node) == 0
            ):  # fmt: skip
                raise self.fail(
                    token,
                    f"division by zero: `{self.text(right)}` is 0, so the expression is "
                    "infinite whatever the parameter values; divide by a non-zero number",
                )
            rest.append((token.text, node))
            self.check_finite(_Chain(first, tuple(rest)), token, start)
        return _Chain(first, tuple(rest)) if rest else first

    def text(self, start: int) -> str:
        """The text of the tokens from ``start`` to the current one."""
        return "".join(t.text for t in self.tokens[start : self.index])

    def check_finite(self, node: _Node, token: Token, start: int) -> None:
        """With ``finite``, refuse a constant ``node`` (no parameter names) that is
        infinite or NaN."""
        if self.finite and _is_constant(node):
            value = _constant_value(node)
            if not np.isfinite(value):
                raise self.fail(
                    token,
                    f"`{self.text(start)}` is {value:g} (not a finite number) whatever the "
                    "parameter values; write a finite number",
                )

    def unary(self) -> _Node:
        negate = False
        while self.at_punct("+", "-"):
            if self.advance().text == "-":
                negate = not negate
        node = self.power()
        return _Negate(node) if negate else node

    def power(self) -> _Node:
        start = self.index
        base = self.primary()
        if self.at_punct("^", "**"):
            token = self.advance()
            self.nest(token)
            exponent = self.unary()
            self.depth -= 1
            node = _Power(base, exponent)
            self.check_finite(node, token, start)
            return node
        return base

    def primary(self) -> _Node:
        token = self.peek()
        if token is not self.end and token.kind is TokenKind.NUMBER:
            self.advance()
            return _Number(float(token.text))
        if token is not self.end and token.kind is TokenKind.NAME:
            self.advance()
            if self.at_punct("("):
                return self.call(token)
            self.names.setdefault(token.text, None)
            return _Name(token.text)
        if token is not self.end and token.kind is TokenKind.PUNCT and token.text == "(":
            self.advance()
            self.nest(token)
            node = self.expression()
            self.depth -= 1
            if not self.at_punct(")"):
                found = self.peek()
                if found is self.end:
                    raise self.fail(token, "unbalanced `(`: add the matching `)`")
                raise self.fail(
                    found,
                    f"expected `)` to close the `(` at line {token.line}, column "
                    f"{token.column}, found {self.describe(found)}",
                )
            self.advance()
            return node
        raise self.fail(token, self.operand_message(token))

    def operand_message(self, token: Token) -> str:
        what = self.describe(token)
        previous = self.tokens[self.index - 1].text if self.index > 0 else None
        where = f" after `{previous}`" if previous else ""
        hint = ""
        if token.kind is TokenKind.STRING:
            hint = "; strings cannot be used in expressions"
        elif token.kind is TokenKind.OPERATOR:
            hint = f"; `{token.text}` cannot be used inside an expression"
        return f"expected a number, a name or `(`{where}, found {what}{hint}"

    def call(self, name: Token) -> _Node:
        start = self.index - 1  # the name's token
        function = name.text
        if function not in FUNCTIONS:
            raise self.fail(
                name,
                f"unknown function `{function}()`; expressions may use {_FUNCTION_LIST}",
            )
        open_paren = self.advance()
        self.nest(open_paren)
        args: list[_Node] = []
        if not self.at_punct(")"):
            args.append(self.expression())
            while self.at_punct(","):
                self.advance()
                args.append(self.expression())
        if not self.at_punct(")"):
            token = self.peek()
            if token is self.end:
                raise self.fail(open_paren, "unbalanced `(`: add the matching `)`")
            raise self.fail(
                token,
                f"expected `,` or `)` in the call of `{function}()`, found {self.describe(token)}",
            )
        self.advance()
        self.depth -= 1
        low, high, _ = FUNCTIONS[function]
        if len(args) < low or (high is not None and len(args) > high):
            if high is None:
                wanted = f"at least {low} argument{'s' if low > 1 else ''}"
            elif low == high:
                wanted = f"exactly {low} argument{'s' if low > 1 else ''}"
            else:
                wanted = f"{low} to {high} arguments"
            given = f"{len(args)} {'was' if len(args) == 1 else 'were'} given"
            raise self.fail(name, f"`{function}()` takes {wanted}, but {given}")
        node = _Call(function, tuple(args))
        self.check_finite(node, name, start)
        return node
