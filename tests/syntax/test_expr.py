"""Tests for the safe arithmetic expressions used by ``:=``, ``==``, ``<`` and ``>``."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from semnet.errors import ModelSpecificationError, ModelSyntaxError
from semnet.syntax import Expression, parse_expression

ENV = {"a": 2.0, "b": 3.0, "c": 0.5, "x.1": 4.0, "long_name": 10.0}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1", 1.0),
        ("1e-3", 0.001),
        (".5", 0.5),
        ("a", 2.0),
        ("a*b", 6.0),
        ("a + b * c", 3.5),
        ("(a + b) * c", 2.5),
        ("a - b - c", -1.5),  # left-associative
        ("a / b / c", 2.0 / 3.0 / 0.5),
        ("a^b", 8.0),
        ("a**b", 8.0),
        ("2^3^2", 512.0),  # right-associative
        ("2**3**2", 512.0),
        ("-2^2", -4.0),  # ^ binds tighter than unary minus, as in R
        ("(-2)^2", 4.0),
        ("2^-1", 0.5),
        ("-a", -2.0),
        ("--a", 2.0),
        ("+a", 2.0),
        ("-a*b", -6.0),
        ("a*-b", -6.0),
        ("x.1 / long_name", 0.4),
        ("exp(0)", 1.0),
        ("log(a)", math.log(2.0)),
        ("log(8, 2)", 3.0),
        ("sqrt(b^2 + 16)", 5.0),
        ("abs(-a)", 2.0),
        ("sin(0) + cos(0) + tan(0)", 1.0),
        ("asin(1)", math.pi / 2),
        ("acos(1)", 0.0),
        ("atan(1)", math.pi / 4),
        ("tanh(0)", 0.0),
        ("pnorm(0)", 0.5),
        ("pnorm(1.96)", norm.cdf(1.96)),
        ("pnorm(1, 1, 2)", 0.5),
        ("qnorm(0.975)", norm.ppf(0.975)),
        ("qnorm(0.5, 3, 1)", 3.0),
        ("min(a, b, c)", 0.5),
        ("max(a, b, c)", 3.0),
        ("max(a)", 2.0),
        ("a*b/(1 - c)", 12.0),
        ("exp(a)/(1 + exp(a))", math.exp(2) / (1 + math.exp(2))),
        ("1/0", math.inf),
    ],
)
def test_evaluate(text: str, value: float) -> None:
    result = parse_expression(text).evaluate(ENV)
    assert isinstance(result, float)
    assert result == pytest.approx(value)


def test_nan_results_do_not_raise() -> None:
    assert math.isnan(parse_expression("sqrt(-1)").evaluate({}))
    assert math.isnan(parse_expression("0/0").evaluate({}))


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("1 + 2", ()),
        ("a*b", ("a", "b")),
        ("b*a + a", ("b", "a")),
        ("exp(a) + log(x.1)", ("a", "x.1")),
        ("max(c, b, a)", ("c", "b", "a")),
        ("exp + exp(exp)", ("exp",)),  # a function name not followed by `(` is a name
    ],
)
def test_names_in_first_appearance_order(text: str, names: tuple[str, ...]) -> None:
    assert parse_expression(text).names == names


def test_expression_is_frozen_and_keeps_text() -> None:
    expression = parse_expression("a * b")
    assert isinstance(expression, Expression)
    assert expression.text == "a * b"
    with pytest.raises(AttributeError):
        expression.text = "c"  # type: ignore[misc]
    assert expression == parse_expression("a * b")


def test_evaluate_is_vectorized() -> None:
    a = np.array([1.0, 2.0, 3.0])
    b = np.array([[1.0], [2.0]])
    result = parse_expression("a*b + 1").evaluate({"a": a, "b": b})
    assert isinstance(result, np.ndarray)
    np.testing.assert_allclose(result, a * b + 1)
    np.testing.assert_allclose(parse_expression("min(a, 2)").evaluate({"a": a}), np.minimum(a, 2))
    np.testing.assert_allclose(parse_expression("pnorm(a)").evaluate({"a": a}), norm.cdf(a))
    np.testing.assert_allclose(parse_expression("-a^2").evaluate({"a": a}), -(a**2))


def test_evaluate_accepts_integers_and_numpy_scalars() -> None:
    assert parse_expression("a/b").evaluate({"a": 1, "b": np.float32(4)}) == 0.25


def test_missing_name_is_a_specification_error() -> None:
    expression = parse_expression("a*zeta")
    with pytest.raises(ModelSpecificationError, match="`zeta`"):
        expression.evaluate({"a": 1.0})


ERRORS = [
    # (text, column, fragment) for text starting at line 1, column 1
    ("", 1, "the expression is empty"),
    ("   ", 4, "the expression is empty"),
    ("a +", 4, "expected a number, a name or `(` after `+`, found the end of the expression"),
    ("a b", 3, "unexpected `b`"),
    ("2 a", 3, "unexpected `a`"),
    ("(a + b", 1, "unbalanced `(`"),
    ("a + b)", 6, "unbalanced `)`"),
    ("(a b)", 4, "expected `)` to close the `(`"),
    ("foo(a)", 1, "unknown function `foo()`"),
    ("import(a)", 1, "unknown function"),
    ("exp(a, b)", 1, "`exp()` takes exactly 1 argument, but 2 were given"),
    ("sqrt()", 1, "`sqrt()` takes exactly 1 argument, but 0 were given"),
    ("log(1, 2, 3)", 1, "`log()` takes 1 to 2 arguments"),
    ("min()", 1, "`min()` takes at least 1 argument"),
    ("exp(a b)", 7, "expected `,` or `)`"),
    ("exp(a", 4, "unbalanced `(`"),
    ("max(a,)", 7, "expected a number, a name or `(` after `,`"),
    ("a == b", 3, "unexpected `==`"),
    ("a = b", 3, "unknown operator `=`"),
    ("'a' * 2", 1, "strings cannot be used"),
    ("a:b", 2, "unexpected `:`"),
    ("a ? b", 3, "unexpected `?`"),
    ("a ; b", 3, "cannot contain `;`"),
    ("a * * b", 5, "expected a number, a name or `(` after `*`"),
    ("a @ b", 3, "unexpected character `@`"),
    ("a__import__.x()", 1, "unknown function"),
    ("1x", 1, "`1x` is not a valid name"),
    ("a,b", 2, "unexpected `,`"),
    ("* a", 1, "expected a number, a name or `(`, found `*`"),
    ("< a", 1, "cannot be used inside an expression"),
]


@pytest.mark.parametrize(("text", "column", "fragment"), ERRORS)
def test_syntax_errors(text: str, column: int, fragment: str) -> None:
    with pytest.raises(ModelSyntaxError) as info:
        parse_expression(text)
    assert fragment in info.value.reason
    assert (info.value.line, info.value.column) == (1, column)


def test_error_positions_are_model_positions() -> None:
    with pytest.raises(ModelSyntaxError) as info:
        parse_expression("a * (b", line=7, column=12)
    error = info.value
    assert (error.line, error.column) == (7, 16)
    assert error.source_line == " " * 11 + "a * (b"
    assert str(error).endswith("\n    " + " " * 15 + "^")


def test_error_positions_on_later_lines() -> None:
    with pytest.raises(ModelSyntaxError) as info:
        parse_expression("a +\n  b b", line=3, column=5)
    assert (info.value.line, info.value.column) == (4, 5)
    assert info.value.source_line == "  b b"


def test_newlines_are_whitespace_in_standalone_expressions() -> None:
    assert parse_expression("a *\n b\n").evaluate({"a": 2, "b": 3}) == 6.0


def test_nesting_limit() -> None:
    assert parse_expression("(" * 40 + "a" + ")" * 40).evaluate({"a": 1}) == 1.0
    with pytest.raises(ModelSyntaxError, match="nested more than"):
        parse_expression("(" * 500 + "a" + ")" * 500)
    with pytest.raises(ModelSyntaxError, match="nested more than"):
        parse_expression("2^" * 500 + "2")
    with pytest.raises(ModelSyntaxError, match="nested more than"):
        parse_expression("exp(" * 500 + "1" + ")" * 500)


def test_long_flat_expressions_do_not_recurse() -> None:
    text = " + ".join(["a"] * 5000) + " - " + " * ".join(["1"] * 5000)
    assert parse_expression(text).evaluate({"a": 1.0}) == 4999.0
    assert parse_expression("-" * 5001 + "a").evaluate({"a": 1.0}) == -1.0


# ----------------------------------------------------------------------------- property
@st.composite
def arithmetic(draw: st.DrawFn, depth: int = 0) -> tuple[str, float]:
    """A random expression over small integers and its value computed by Python."""
    if depth > 3 or draw(st.integers(0, 2)) == 0:
        if draw(st.booleans()):
            value = draw(st.integers(0, 9))
            return str(value), float(value)
        name = draw(st.sampled_from(sorted(ENV)))
        return name, ENV[name]
    kind = draw(st.sampled_from(["+", "-", "*", "neg", "paren", "pow", "call"]))
    left, lvalue = draw(arithmetic(depth + 1))
    if kind == "neg":
        return f"-({left})", -lvalue
    if kind == "paren":
        return f"({left})", lvalue
    if kind == "call":
        function = draw(st.sampled_from(["abs", "exp", "tanh", "atan"]))
        value = {"abs": abs, "exp": math.exp, "tanh": math.tanh, "atan": math.atan}[function](
            max(min(lvalue, 30.0), -30.0) if function == "exp" else lvalue
        )
        argument = f"max(min({left}, 30), -30)" if function == "exp" else left
        return f"{function}({argument})", value
    right, rvalue = draw(arithmetic(depth + 1))
    if kind == "pow":
        exponent = draw(st.integers(0, 3))
        return f"({left})^{exponent}", lvalue**exponent
    spacing = draw(st.sampled_from(["", " "]))
    value = {"+": lvalue + rvalue, "-": lvalue - rvalue, "*": lvalue * rvalue}[kind]
    return f"({left}){spacing}{kind}{spacing}({right})", value


@settings(max_examples=80, deadline=None)
@given(arithmetic())
def test_random_expressions_match_python(case: tuple[str, float]) -> None:
    text, value = case
    assert parse_expression(text).evaluate(ENV) == pytest.approx(value, rel=1e-9, abs=1e-9)


_EXPRESSION_ALPHABET = [*"ab1.2 +-*/^()e,xp:=<'\"@#;\n", "exp(", "**", "qnorm("]


@settings(max_examples=120, deadline=None)
@given(st.lists(st.sampled_from(_EXPRESSION_ALPHABET), max_size=30).map("".join))
def test_random_text_parses_or_raises_model_syntax_error(text: str) -> None:
    try:
        expression = parse_expression(text)
    except ModelSyntaxError as error:
        assert error.line >= 1 and error.column >= 1
        return
    env = dict.fromkeys(expression.names, 0.5)
    result = expression.evaluate(env)
    assert isinstance(result, float)
