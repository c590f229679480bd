"""Tests for the lavaan model-syntax tokenizer and parser."""

from __future__ import annotations

import ast
import math
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import semnet.syntax
from semnet.errors import ModelSyntaxError
from semnet.syntax import Constraint, Modifiers, ParsedModel, Relation, parse_model
from semnet.syntax.tokenizer import TokenKind, tokenize


def triples(model: ParsedModel | str) -> list[tuple[str, str, str]]:
    if isinstance(model, str):
        model = parse_model(model)
    return [(r.lhs, r.op, r.rhs) for r in model.relations]


def only(text: str) -> Relation:
    relations = parse_model(text).relations
    assert len(relations) == 1, relations
    return relations[0]


def syntax_error(text: str) -> ModelSyntaxError:
    with pytest.raises(ModelSyntaxError) as info:
        parse_model(text)
    return info.value


# ------------------------------------------------------------------ canonical models
HOLZINGER_SWINEFORD = """
# the famous Holzinger and Swineford (1939) example
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"""

POLITICAL_DEMOCRACY = """
ind60 =~ x1 + x2 + x3
dem60 =~ y1 + a*y2 + b*y3 + c*y4
dem65 =~ y5 + a*y6 + b*y7 + c*y8
dem60 ~ ind60
dem65 ~ ind60 + dem60
y1 ~~ y5
y2 ~~ y4 + y6
y3 ~~ y7
y4 ~~ y8
y6 ~~ y8
"""


def test_holzinger_swineford_round_trip() -> None:
    model = parse_model(HOLZINGER_SWINEFORD)
    assert triples(model) == [
        (f, "=~", f"x{i}")
        for f, items in (("visual", (1, 2, 3)), ("textual", (4, 5, 6)), ("speed", (7, 8, 9)))
        for i in items
    ]
    assert all(r.modifiers == Modifiers() and r.modifiers.is_empty() for r in model.relations)
    assert all(r.block is None for r in model.relations)
    assert model.constraints == ()
    assert model.text == HOLZINGER_SWINEFORD
    first = model.relations[0]
    assert (first.line, first.column) == (3, 12)


def test_political_democracy_round_trip() -> None:
    model = parse_model(POLITICAL_DEMOCRACY)
    assert triples(model) == [
        ("ind60", "=~", "x1"), ("ind60", "=~", "x2"), ("ind60", "=~", "x3"),
        ("dem60", "=~", "y1"), ("dem60", "=~", "y2"), ("dem60", "=~", "y3"),
        ("dem60", "=~", "y4"),
        ("dem65", "=~", "y5"), ("dem65", "=~", "y6"), ("dem65", "=~", "y7"),
        ("dem65", "=~", "y8"),
        ("dem60", "~", "ind60"), ("dem65", "~", "ind60"), ("dem65", "~", "dem60"),
        ("y1", "~~", "y5"), ("y2", "~~", "y4"), ("y2", "~~", "y6"), ("y3", "~~", "y7"),
        ("y4", "~~", "y8"), ("y6", "~~", "y8"),
    ]  # fmt: skip
    labels = {r.rhs: r.modifiers.label for r in model.relations if r.op == "=~"}
    assert labels == {
        "x1": None, "x2": None, "x3": None, "y1": None, "y5": None,
        "y2": ("a",), "y6": ("a",), "y3": ("b",), "y7": ("b",), "y4": ("c",), "y8": ("c",),
    }  # fmt: skip
    y2 = model.relations[4]
    assert (y2.line, y2.column) == (3, 17)  # points at `y2`, not at the label


def test_political_democracy_as_one_line() -> None:
    one_line = "; ".join(line.strip() for line in POLITICAL_DEMOCRACY.splitlines() if line.strip())
    assert triples(one_line) == triples(POLITICAL_DEMOCRACY)


# --------------------------------------------------------------------------- operators
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("f =~ x1", [("f", "=~", "x1")]),
        ("y ~ x", [("y", "~", "x")]),
        ("x1 ~~ x2", [("x1", "~~", "x2")]),
        ("x1 ~~ x1", [("x1", "~~", "x1")]),
        ("f <~ x1 + x2", [("f", "<~", "x1"), ("f", "<~", "x2")]),
        ("u | t1 + t2 + t3", [("u", "|", "t1"), ("u", "|", "t2"), ("u", "|", "t3")]),
        ("u ~*~ u", [("u", "~*~", "u")]),
        ("y ~ 1", [("y", "~1", "")]),
        ("y ~ 1 + x", [("y", "~1", ""), ("y", "~", "x")]),
        ("y ~ x + 1", [("y", "~", "x"), ("y", "~1", "")]),
        ("f=~x1+x2", [("f", "=~", "x1"), ("f", "=~", "x2")]),
        ("y~x", [("y", "~", "x")]),
        ("y \u02dc x", [("y", "~", "x")]),  # lavaan maps this locale tilde to ~
    ],
)
def test_operators(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert triples(text) == expected


def test_several_rhs_terms_in_order() -> None:
    model = parse_model("y ~ x3 + x1 + x2")
    assert [r.rhs for r in model.relations] == ["x3", "x1", "x2"]
    assert [r.column for r in model.relations] == [5, 10, 15]


def test_several_lhs_give_one_relation_per_pair() -> None:
    assert triples("y1 + y2 ~ x1 + x2") == [
        ("y1", "~", "x1"), ("y1", "~", "x2"), ("y2", "~", "x1"), ("y2", "~", "x2"),
    ]  # fmt: skip
    assert triples("y1 + y2 ~ 1") == [("y1", "~1", ""), ("y2", "~1", "")]
    assert triples("a + b + c ~~ d") == [("a", "~~", "d"), ("b", "~~", "d"), ("c", "~~", "d")]


def test_modifiers_apply_to_every_lhs() -> None:
    model = parse_model("y1 + y2 ~ b*x")
    assert [r.modifiers.label for r in model.relations] == [("b",), ("b",)]


def test_latent_product_terms_keep_the_colon() -> None:
    model = parse_model("y ~ f1 + f2 + f1:f2 + b3*f1:f3")
    assert [r.rhs for r in model.relations] == ["f1", "f2", "f1:f2", "f1:f3"]
    assert model.relations[3].modifiers.label == ("b3",)
    assert model.relations[2].column == 15


def test_intercept_fixed_to_zero_shorthand() -> None:
    relation = only("y ~ 0")
    assert (relation.op, relation.rhs, relation.modifiers.fixed) == ("~1", "", (0.0,))
    assert triples("y ~ x + 0") == [("y", "~", "x"), ("y", "~1", "")]


def test_phantom_latent_shorthand() -> None:
    relation = only("f =~ 0")
    assert (relation.lhs, relation.op, relation.rhs) == ("f", "=~", "f")
    assert relation.modifiers.fixed == (0.0,)


@pytest.mark.parametrize(
    ("text", "modifiers"),
    [
        ("y ~ 1", Modifiers()),
        ("y ~ 0*1", Modifiers(fixed=(0.0,))),
        ("y ~ NA*1", Modifiers(fixed=(None,))),
        ("y ~ a*1", Modifiers(label=("a",))),
        ("y ~ start(2)*1", Modifiers(start=(2.0,))),
        ("y ~ 2?1", Modifiers(start=(2.0,))),
        ("y ~ c(0, NA)*1", Modifiers(fixed=(0.0, None))),
        ("y ~ c(i1, i2)*1", Modifiers(label=("i1", "i2"))),
    ],
)
def test_intercept_modifiers(text: str, modifiers: Modifiers) -> None:
    relation = only(text)
    assert (relation.lhs, relation.op, relation.rhs) == ("y", "~1", "")
    assert relation.modifiers == modifiers


# --------------------------------------------------------------------------- modifiers
@pytest.mark.parametrize(
    ("term", "modifiers"),
    [
        ("x", Modifiers()),
        ("1*x", Modifiers(fixed=(1.0,))),
        ("0*x", Modifiers(fixed=(0.0,))),
        ("-1*x", Modifiers(fixed=(-1.0,))),
        ("+2*x", Modifiers(fixed=(2.0,))),
        ("1e-3*x", Modifiers(fixed=(0.001,))),
        ("2.5E+2*x", Modifiers(fixed=(250.0,))),
        (".5*x", Modifiers(fixed=(0.5,))),
        ("5.*x", Modifiers(fixed=(5.0,))),
        ("-.5 * x", Modifiers(fixed=(-0.5,))),
        ("NA*x", Modifiers(fixed=(None,))),
        ("a*x", Modifiers(label=("a",))),
        ("c*x", Modifiers(label=("c",))),  # a bare `c` is a label, as in lavaan
        ("lab.1*x", Modifiers(label=("lab.1",))),
        ('"my label"*x', Modifiers(label=("my label",))),
        ("'q'*x", Modifiers(label=("q",))),
        ("start(0.3)*x", Modifiers(start=(0.3,))),
        ("start(-1)*x", Modifiers(start=(-1.0,))),
        ("0.3?x", Modifiers(start=(0.3,))),
        ("NA?x", Modifiers(start=(None,))),
        ('label("a")*x', Modifiers(label=("a",))),
        ("label(a)*x", Modifiers(label=("a",))),
        ('equal("a")*x', Modifiers(label=("a",))),
        ("lower(0)*x", Modifiers(lower=(0.0,))),
        ("upper(1)*x", Modifiers(upper=(1.0,))),
        ("lower(-Inf)*upper(Inf)*x", Modifiers(lower=(-math.inf,), upper=(math.inf,))),
        ("fixed(2)*x", Modifiers(fixed=(2.0,))),
        ("c(a1,a2,a3)*x", Modifiers(label=("a1", "a2", "a3"))),
        ("c(1,NA,NA)*x", Modifiers(fixed=(1.0, None, None))),
        ("c(NA, NA)*x", Modifiers(fixed=(None, None))),
        ('c("a","b")*x', Modifiers(label=("a", "b"))),
        ("c(a, NA)*x", Modifiers(label=("a", None))),
        ("c(-1, 2)*x", Modifiers(fixed=(-1.0, 2.0))),
        ("start(c(1,2))*x", Modifiers(start=(1.0, 2.0))),
        ("start(1, 2)*x", Modifiers(start=(1.0, 2.0))),
        ("c(0.1, 0.2)?x", Modifiers(start=(0.1, 0.2))),
        ("c(c(1, 2), 3)*x", Modifiers(fixed=(1.0, 2.0, 3.0))),
        ('label(c("a", "b"))*x', Modifiers(label=("a", "b"))),
        ("lower(c(0, 0))*x", Modifiers(lower=(0.0, 0.0))),
        ("a*start(0.5)*x", Modifiers(label=("a",), start=(0.5,))),
        ("start(0.5)*a*x", Modifiers(label=("a",), start=(0.5,))),
        ("a*0.5?x", Modifiers(label=("a",), start=(0.5,))),
        ("1*start(1)*x", Modifiers(fixed=(1.0,), start=(1.0,))),
        (
            "lower(0)*upper(1)*start(.5)*b*NA*x",
            Modifiers(fixed=(None,), start=(0.5,), label=("b",), lower=(0.0,), upper=(1.0,)),
        ),
        ("c(b1, b2)*start(c(1, 1))*x", Modifiers(label=("b1", "b2"), start=(1.0, 1.0))),
        ("1*1*x", Modifiers(fixed=(1.0,))),  # the same value twice is harmless
    ],
)
def test_modifiers(term: str, modifiers: Modifiers) -> None:
    relation = only(f"f =~ {term}")
    assert (relation.lhs, relation.op, relation.rhs) == ("f", "=~", "x")
    assert relation.modifiers == modifiers


def test_modifier_position_points_at_the_variable() -> None:
    relation = only("f =~ start(0.5)*x")
    assert (relation.line, relation.column) == (1, 17)


def test_threshold_modifiers() -> None:
    model = parse_model("u | 0.5*t1 + th2*t2")
    assert [r.modifiers for r in model.relations] == [
        Modifiers(fixed=(0.5,)),
        Modifiers(label=("th2",)),
    ]


def test_repeated_relation_is_merged() -> None:
    model = parse_model("f =~ x1 + x2 + x3\nf =~ a*x2\nf =~ start(1)*x2")
    assert triples(model) == [("f", "=~", "x1"), ("f", "=~", "x2"), ("f", "=~", "x3")]
    x2 = model.relations[1]
    assert x2.modifiers == Modifiers(label=("a",), start=(1.0,))
    assert (x2.line, x2.column) == (1, 11)  # the first occurrence


def test_repeated_intercepts_are_merged() -> None:
    model = parse_model("y ~ 1\ny ~ a*1")
    assert triples(model) == [("y", "~1", "")]
    assert model.relations[0].modifiers == Modifiers(label=("a",))


def test_free_first_loading_idiom() -> None:
    model = parse_model("f =~ NA*x1 + x2 + x3\nf ~~ 1*f")
    assert model.relations[0].modifiers.fixed == (None,)
    assert model.relations[-1].modifiers.fixed == (1.0,)


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("f =~ 1*2*x", 1, 8, "two different fixed values"),
        ("f =~ a*b*x", 1, 8, "two different labels"),
        ("f =~ start(1)*0.5?x", 1, 15, "two different starting values"),
        ("f =~ lower(0)*lower(1)*x", 1, 15, "two different lower bounds"),
        ("f =~ NA*1*x", 1, 9, "two different fixed values"),
        ("f =~ 2*x\nf =~ 3*x", 2, 6, "already got the fixed value 2 at line 1, column 6"),
        ("f =~ a*x + b*x", 1, 12, "already got the label"),
        ("f =~ 2*0", 1, 8, "two different fixed values"),
    ],
)
def test_conflicting_modifiers(text: str, line: int, column: int, fragment: str) -> None:
    error = syntax_error(text)
    assert (error.line, error.column) == (line, column)
    assert fragment in error.reason


# ------------------------------------------------------------------- statement layout
@pytest.mark.parametrize(
    "text",
    [
        "f =~ x1 + x2\ny ~ f",
        "f =~ x1 + x2; y ~ f",
        "f =~ x1 + x2;y ~ f;",
        "\n\n  f =~ x1 + x2   \n\n\n y ~ f \n\n",
        "f =~ x1 + x2 # loadings\ny ~ f ! regression",
        "# header comment\nf =~ x1 + x2\n! another comment\ny ~ f",
        "f =~ x1 +\n     x2\ny ~ f",
        "f =~ x1\n   + x2\ny ~ f",
        "f =~\n  x1 + x2\ny ~\n f",
        "f =~ x1 + # first\n  # a comment line inside the statement\n\n  x2\ny ~ f",
        "f\n  =~ x1 + x2\ny ~ f",
        "f =~\n  + x1\n  + x2\ny ~ f",
        "f =~ x1 + x2\r\ny ~ f\r\n",
        "\tf =~ x1 +\tx2\n\ty ~ f",
        "f =~ x1 + + x2\ny ~ f",  # lavaan skips empty `+` parts
    ],
)
def test_statement_layout(text: str) -> None:
    assert triples(text) == [("f", "=~", "x1"), ("f", "=~", "x2"), ("y", "~", "f")]


def test_trailing_plus_at_end_of_model_is_ignored() -> None:
    assert triples("f =~ x1 + x2 +") == [("f", "=~", "x1"), ("f", "=~", "x2")]


def test_statement_continued_inside_parentheses() -> None:
    relation = only("f =~ c(1,\n       NA)*x1")
    assert relation.modifiers.fixed == (1.0, None)
    assert (relation.line, relation.column) == (2, 12)


def test_continued_constraint() -> None:
    model = parse_model("ab := a *\n  b\nc2 := a\n  * b")
    assert [(c.lhs, c.rhs) for c in model.constraints] == [("ab", "a*b"), ("c2", "a*b")]


def test_comment_characters_inside_strings_are_kept() -> None:
    relation = only('f =~ "a#b!c"*x1 # real comment')
    assert relation.modifiers.label == ("a#b!c",)


def test_positions_across_lines() -> None:
    model = parse_model("\n  f =~ x1 +\n        x2\n\ny ~ 1")
    assert [(r.line, r.column) for r in model.relations] == [(2, 8), (3, 9), (5, 5)]


def test_identifiers() -> None:
    model = parse_model("f.1 =~ x.1 + x_2 + .x + X9 + é1")
    assert [r.rhs for r in model.relations] == ["x.1", "x_2", ".x", "X9", "é1"]
    assert model.relations[0].lhs == "f.1"


# ------------------------------------------------------------------------ group blocks
def test_group_blocks() -> None:
    model = parse_model(
        "group: A\nf =~ x1 + a*x2\ngroup:B\nf =~ x1 + b*x2\n"
        'group: "East Germany"\nf =~ x1\ngroup : 3\nf =~ x1'
    )
    assert [(r.rhs, r.block) for r in model.relations] == [
        ("x1", "A"), ("x2", "A"), ("x1", "B"), ("x2", "B"),
        ("x1", "East Germany"), ("x1", "3"),
    ]  # fmt: skip
    assert [r.modifiers.label for r in model.relations][:4] == [None, ("a",), None, ("b",)]


def test_group_label_joined_by_hyphens_without_quotes() -> None:
    # lavaan reads `group: Grant-White` (HolzingerSwineford1939's school) as one label
    model = parse_model("group: Grant-White\nf =~ x1\ngroup: a-1-b\nf =~ x1")
    assert [r.block for r in model.relations] == ["Grant-White", "a-1-b"]


def test_group_header_is_case_insensitive() -> None:
    assert parse_model("Group: 1\nf =~ x1").relations[0].block == "1"


def test_same_relation_in_two_groups_is_not_merged() -> None:
    model = parse_model("group: 1\nf =~ 1*x1\ngroup: 2\nf =~ 2*x1")
    assert [r.modifiers.fixed for r in model.relations] == [(1.0,), (2.0,)]


def test_relations_before_first_header_join_the_first_group() -> None:
    with pytest.warns(UserWarning, match="before the first `group:` header"):
        model = parse_model("f =~ x1\ngroup: g1\nf =~ a*x1 + x2\ngroup: g2\nf =~ x1")
    assert [(r.rhs, r.block, r.modifiers.label) for r in model.relations] == [
        ("x1", "g1", ("a",)),
        ("x2", "g1", None),
        ("x1", "g2", None),
    ]


def test_constraints_inside_blocks() -> None:
    model = parse_model("group: 1\nf =~ a*x1\ngroup: 2\nf =~ b*x1\na == b")
    assert model.constraints == (Constraint("a", "==", "b", 5, 1),)


# ------------------------------------------------------------------------- constraints
def test_constraints() -> None:
    model = parse_model(
        "y ~ a*x + b*m\nab := a*b\na == b\na1 == a2*a3\na > 0\nb < 1\n"
        "total := a + (b * 2)^2 - exp(a)"
    )
    assert model.constraints == (
        Constraint("ab", ":=", "a*b", 2, 1),
        Constraint("a", "==", "b", 3, 1),
        Constraint("a1", "==", "a2*a3", 4, 1),
        Constraint("a", ">", "0", 5, 1),
        Constraint("b", "<", "1", 6, 1),
        Constraint("total", ":=", "a+(b*2)^2-exp(a)", 7, 1),
    )
    assert len(model.relations) == 2


def test_constraint_text_is_a_valid_expression() -> None:
    model = parse_model("d := -a / (b + 1e-3) ** 2\n2*a + b == 1 - c")
    for constraint in model.constraints:
        for side in (constraint.rhs, constraint.lhs):
            semnet.syntax.parse_expression(side)
    assert model.constraints[1].lhs == "2*a+b"


def test_constraint_position_is_the_statement_start() -> None:
    model = parse_model("f =~ x\n   ab := a*b")
    assert (model.constraints[0].line, model.constraints[0].column) == (2, 4)


# ------------------------------------------------------------------------------ errors
ERRORS = [
    # (text, line, column, fragment of the message)
    ("", 1, 1, "the model is empty; write at least one relation such as `f =~ x1 + x2 + x3`"),
    ("# only a comment\n\n! and another\n", 1, 1, "the model is empty"),
    (" ; ; \n", 1, 1, "the model is empty"),
    ("f = x1", 1, 3, "unknown operator `=`"),
    ("f =~~ x1", 1, 3, "unknown operator `=~~`"),
    ("y -> x", 1, 3, "unknown operator `->`"),
    ("a >= 0", 1, 3, "unknown operator `>=`"),
    ("f =~", 1, 3, "`=~` has nothing on its right-hand side"),
    ("f =~ # comment", 1, 3, "nothing on its right-hand side"),
    ("y ~ x\nf =~", 2, 3, "nothing on its right-hand side"),
    ("=~ x1", 1, 1, "`=~` has nothing on its left-hand side"),
    ("f =~ x1\n  ~~ x2", 2, 3, "only one operator"),
    ("f =~ x1 +\ng =~ y1", 2, 3, "continues on the next line"),
    ("y ~ ~ x", 1, 5, "leave no space"),
    ("f x1", 1, 3, "expected an operator such as `=~`, `~` or `~~` after `f`, found `x1`"),
    ("f", 1, 1, "has no operator"),
    ("y ~ x\n\n  f x1 x2", 3, 5, "expected an operator"),
    ("f =~ c(1,", 1, 7, "unbalanced `(`"),
    ("f =~ start(0.5*x", 1, 11, "unbalanced `(`"),
    ("f =~ x1)", 1, 8, "unbalanced `)`"),
    ("ab := (a*b))", 1, 12, "unbalanced `)`"),
    ("ab := (a*b", 1, 7, "unbalanced `(`"),
    ("f =~ 'x1", 1, 6, "unterminated string"),
    ('f =~ "x1\ny ~ x', 1, 6, "unterminated string"),
    ("f =~ start(a)*x", 1, 12, "`start()` needs numbers, as in `start(0.5)`, but got `a`"),
    ('f =~ lower("a")*x', 1, 12, "`lower()` needs numbers"),
    ("f =~ c(1,)*x", 1, 10, "expected a value after `,`"),
    ("f =~ c(,1)*x", 1, 8, "expected a value before `,`"),
    ("f =~ c(1 2)*x", 1, 10, "expected `,` or `)`"),
    ("f =~ c()*x", 1, 8, "`c()` is empty"),
    ("f =~ c(1, a)*x", 1, 8, "mixes numbers and labels"),
    ("f =~ label(1)*x", 1, 12, "`label()` needs a label"),
    ("f =~ label(NA)*x", 1, 6, "not only NA"),
    ("f =~ start(exp(1))*x", 1, 12, "only `c(...)` can be used inside"),
    ("f =~ foo(1)*x", 1, 6, "unknown modifier `foo()`"),
    ("f =~ prior(1)*x", 1, 6, "not supported yet"),
    ("f =~ a?x", 1, 6, "`?` sets a starting value"),
    ("f =~ start(0.5)", 1, 6, "must be followed by `*` and a variable"),
    ("f =~ NA", 1, 6, "a term must end with a variable name"),
    ('f =~ "a"', 1, 6, "a term must end with a variable name"),
    ("f =~ a*", 1, 7, "expected a variable name after `*`"),
    ("f =~ 0.5?", 1, 9, "expected a variable name after `?`"),
    # a number other than 0 is not lavaan's phantom shorthand (it refuses `f =~ 1`)
    ("f =~ 1 + x2 + x3", 1, 6, "a loading needs a variable after the number: write `1*x1`"),
    ("f =~ 0.5", 1, 6, "only `f =~ 0` is lavaan's shorthand"),
    ("f =~ -x", 1, 7, "expected a number after `-`"),
    ("f =~ x1 - x2", 1, 9, "terms are joined with `+`, not `-`"),
    ("f =~ x1 x2", 1, 9, "unexpected `x2` after `x1`"),
    ("f =~ (x1)", 1, 6, "unexpected `(`"),
    ("a*f =~ x1", 1, 1, "modifiers cannot be put on the left-hand side"),
    ("f + 1*g =~ x1", 1, 5, "modifiers cannot be put on the left-hand side"),
    ('efa("b")*f1 =~ x1', 1, 1, "EFA blocks"),
    ("1 =~ x1", 1, 1, "must be a variable name"),
    ("f g =~ x1", 1, 3, "unexpected `g` after `f`"),
    ("a:b ~ x", 1, 2, "product term"),
    ("y ~ a:b:c", 1, 8, "three-way"),
    ("y ~ a:", 1, 6, "expected a variable name after `:`"),
    ("f =~ x1 @ x2", 1, 9, "unexpected character `@`"),
    ("f =~ $x1", 1, 6, "unexpected character `$`"),
    ("f =~ x1[1]", 1, 8, "unexpected character `[`"),
    ("f =~ 1x", 1, 6, "`1x` is not a valid name"),
    ("f =~ x1 + 2nd", 1, 11, "must start with a letter or `.`, not a digit"),
    ("f =~ .5x", 1, 6, "`.5x` is not a valid name"),
    ("TRUE =~ x1", 1, 1, "reserved word"),
    ("f =~ if", 1, 6, "reserved word"),
    ("f =~ Inf*x", 1, 6, "reserved word"),
    ("a + b := a*b", 1, 1, "the left-hand side of `:=` must be a single new parameter name"),
    ("2 := a*b", 1, 1, "single new parameter name"),
    (":= a*b", 1, 1, "nothing on its left-hand side"),
    ("ab :=", 1, 4, "nothing on its right-hand side"),
    ("ab := a*", 1, 9, "expected a number, a name or `(` after `*`"),
    ("ab := a b", 1, 9, "unexpected `b` in the expression"),
    ("a == foo(b)", 1, 6, "unknown function `foo()`"),
    ("a == 'b'", 1, 6, "strings cannot be used"),
    ("a > b > c", 1, 7, "only one operator"),
    ("  a2 == \n   a1 *", 2, 8, "found the end of the expression"),
    ("y %~~% x", 1, 3, "does not support the lavaan operator `%~~%`"),
    ("y |~ x", 1, 3, "does not support the lavaan operator `|~`"),
    ("a :~ b", 1, 3, "does not support the lavaan operator `:~`"),
    ("level: 1\nf =~ x1", 1, 1, "multilevel models are not supported yet"),
    ("Level: within", 1, 1, "multilevel models are not supported yet"),
    ("block: 1", 1, 1, "`block:` blocks are not supported yet"),
    ("group:", 1, 6, "needs a group label"),
    ("group: (", 1, 8, "unbalanced `(`"),
    ("group: *", 1, 8, "needs a group label"),
    ("group: a b", 1, 10, "after the group label"),
    ("group: a - b", 1, 10, "after the group label"),
    ("group: a-*", 1, 10, "after the group label"),
    ("grp: 1", 1, 1, "is not a block header"),
    (": 1", 1, 1, "needs a block name"),
    ("y ~ y", 1, 5, "cannot be regressed on itself"),
    ("y ~ 2", 1, 5, "stands for the intercept"),
    ("y ~ a*0", 1, 7, "stands for the intercept"),
    ("x1 ~~ 1", 1, 7, "expected a variable name on the right-hand side of `~~`"),
    ("u | x", 1, 5, "thresholds are named `t1`, `t2`"),
    ("u | a:b", 1, 5, "threshold"),
    ("f =~ x\n\n\ny ~ x\n   z @", 5, 6, "unexpected character"),
    # non-finite numbers: refused where written (not blamed later on start values)
    ("f =~ 1e999*x1 + x2", 1, 6, "the number `1e999` is too large"),
    ("f =~ x1 + x2\nb == 1e999", 2, 6, "infinite in double precision"),
    ("f =~ x1 + x2\nb == -1E+400", 2, 7, "the number `1E+400` is too large"),
    ("f =~ x1 + 1" + "0" * 400 + "*x2", 1, 11, "is too large"),
    ("f =~ x1 + a*x2\na == 1/0", 2, 7, "division by zero: `0` is 0"),
    ("f =~ x1 + a*x2\na == b/(2 - 2)", 2, 7, "division by zero: `(2-2)` is 0"),
    ("f =~ x1 + a*x2\na > log(0)", 2, 5, "`log(0)` is -inf"),
    ("f =~ x1 + a*x2\nd := a + sqrt(-1)", 2, 10, "`sqrt(-1)` is nan"),
    ("f =~ x1 + a*x2\nd := a + 1e300*1e300", 2, 15, "`1e300*1e300` is inf"),
    ("f =~ x1 + a*x2\nd := a^(0^-1)", 2, 10, "`0^-1` is inf"),
    ("f =~ x1 + start(Inf)*x2", 1, 17, "starting values must be finite numbers, not inf"),
    ("f =~ x1 + fixed(-Inf)*x2", 1, 17, "fixed values must be finite"),
    ("f =~ x1 + c(1, Inf)*x2", 1, 16, "fixed values must be finite"),
    # a defined parameter is defined once
    ("f =~ x1 + a*x2 + b*x3\nd := a\nd := b", 3, 1,
     "`d` is defined twice with `:=`: at line 2 (`d := a`) and at line 3"),
    ("group: 1\nf =~ x1 + a*x2\nd := a\ngroup: 2\nf =~ x1 + b*x2\nd := b", 6, 1,
     "defined twice"),
]


@pytest.mark.parametrize(("text", "line", "column", "fragment"), ERRORS)
def test_errors(text: str, line: int, column: int, fragment: str) -> None:
    error = syntax_error(text)
    assert fragment in error.reason
    assert (error.line, error.column) == (line, column), str(error)
    # the caret line produced by ModelSyntaxError points at the offending column
    if error.source_line:
        assert error.source_line == text.split("\n")[line - 1].rstrip("\r").replace("\t", " ")
        caret_line = str(error).split("\n")[-1]
        assert caret_line.index("^") - 4 == column - 1


def test_error_message_shows_the_line_and_caret() -> None:
    error = syntax_error("f =~ x1\ny ~ f\nz ~ @")
    assert str(error) == (f"line 3, column 5: {error.reason}\n    z ~ @\n        ^")


def test_first_error_in_text_order_wins() -> None:
    error = syntax_error("f x1\ny ~ (x")
    assert (error.line, error.column) == (1, 3)


def test_errors_are_semnet_errors() -> None:
    from semnet.errors import SemnetError

    with pytest.raises(SemnetError):
        parse_model("f =~")


def test_non_string_model_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_model(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- tokenizer
def test_tokens_remember_line_and_column() -> None:
    tokens = tokenize('f =~ 1.5*x1 + "a b"*x2 # note\n  y ~~ y;z')
    shown = [(t.kind, t.text, t.line, t.column) for t in tokens]
    assert shown == [
        (TokenKind.NAME, "f", 1, 1),
        (TokenKind.OPERATOR, "=~", 1, 3),
        (TokenKind.NUMBER, "1.5", 1, 6),
        (TokenKind.PUNCT, "*", 1, 9),
        (TokenKind.NAME, "x1", 1, 10),
        (TokenKind.PUNCT, "+", 1, 13),
        (TokenKind.STRING, '"a b"', 1, 15),
        (TokenKind.PUNCT, "*", 1, 20),
        (TokenKind.NAME, "x2", 1, 21),
        (TokenKind.NEWLINE, "\n", 1, 30),
        (TokenKind.NAME, "y", 2, 3),
        (TokenKind.OPERATOR, "~~", 2, 5),
        (TokenKind.NAME, "y", 2, 8),
        (TokenKind.NEWLINE, ";", 2, 9),
        (TokenKind.NAME, "z", 2, 10),
        (TokenKind.END, "", 2, 11),
    ]
    assert tokens[6].value == "a b"


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("1e-3", [TokenKind.NUMBER]),
        ("1E+3", [TokenKind.NUMBER]),
        (".5", [TokenKind.NUMBER]),
        ("5.", [TokenKind.NUMBER]),
        ("x.1", [TokenKind.NAME]),
        ("._x", [TokenKind.NAME]),
        ("a**b", [TokenKind.NAME, TokenKind.PUNCT, TokenKind.NAME]),
        ("a:=b", [TokenKind.NAME, TokenKind.OPERATOR, TokenKind.NAME]),
        ("a<-1", [TokenKind.NAME, TokenKind.OPERATOR, TokenKind.PUNCT, TokenKind.NUMBER]),
        ("y~-1", [TokenKind.NAME, TokenKind.OPERATOR, TokenKind.PUNCT, TokenKind.NUMBER]),
        ("x|t1", [TokenKind.NAME, TokenKind.OPERATOR, TokenKind.NAME]),
    ],
)
def test_token_kinds(text: str, kinds: list[TokenKind]) -> None:
    tokens = tokenize(text)
    assert [t.kind for t in tokens[:-1]] == kinds
    assert "".join(t.text for t in tokens) == text


def test_tokenize_with_offset() -> None:
    tokens = tokenize("a +\nb", line=4, column=10)
    assert [(t.text, t.line, t.column) for t in tokens] == [
        ("a", 4, 10), ("+", 4, 12), ("\n", 4, 13), ("b", 5, 1), ("", 5, 2),
    ]  # fmt: skip


def test_no_eval_or_exec_in_the_syntax_package() -> None:
    package = Path(semnet.syntax.__file__).parent
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"eval", "exec", "compile"}, path


def test_public_exports() -> None:
    for name in ("parse_model", "parse_expression", "Expression", "Modifiers", "Relation",
                 "Constraint", "ParsedModel"):  # fmt: skip
        assert hasattr(semnet.syntax, name)
        assert name in semnet.syntax.__all__


# ----------------------------------------------------------------------------- property
_NUMBERS = [("1", 1.0), ("-1", -1.0), ("0.5", 0.5), (".5", 0.5), ("1e-3", 0.001),
            ("2.5E+2", 250.0), ("0", 0.0), ("-0.25", -0.25)]  # fmt: skip
_LABELS = ["a", "b1", "lab.x", "c", "L_2"]

number = st.sampled_from(_NUMBERS)
number_or_na = st.one_of(number, st.just(("NA", None)))


@st.composite
def modifier_strategy(draw: st.DrawFn) -> tuple[list[str], dict[str, tuple]]:
    """Random modifiers: their text pieces (each ending in `*` or `?`) and expected values."""
    kinds = draw(
        st.lists(st.sampled_from(["fixed", "start", "label", "lower", "upper"]), unique=True)
    )
    pieces: list[str] = []
    values: dict[str, tuple] = {}
    for kind in kinds:
        groups = draw(st.integers(1, 3))
        if kind == "label":
            labels = draw(st.lists(st.sampled_from(_LABELS), min_size=groups, max_size=groups))
            style = draw(st.sampled_from(["bare", "quoted", "label", "equal"]))
            if groups == 1:
                text = {
                    "bare": labels[0],
                    "quoted": f'"{labels[0]}"',
                    "label": f'label("{labels[0]}")',
                    "equal": f"equal('{labels[0]}')",
                }[style]
            else:
                inner = ", ".join(f'"{x}"' if style == "quoted" else x for x in labels)
                text = f"c({inner})"
            pieces.append(text + "*")
            values["label"] = tuple(labels)
            continue
        drawn = draw(st.lists(number_or_na, min_size=groups, max_size=groups))
        vector = ", ".join(t for t, _ in drawn)
        values[kind] = tuple(v for _, v in drawn)
        arg = vector if groups == 1 else f"c({vector})"
        if kind == "fixed":
            text = draw(st.sampled_from([arg, f"fixed({arg})"])) + "*"
        elif kind == "start":
            text = draw(st.sampled_from([f"start({arg})*", f"{arg}?"]))
        else:
            text = f"{kind}({arg})*"
        pieces.append(text)
    return pieces, values


@st.composite
def model_strategy(draw: st.DrawFn) -> tuple[str, list[tuple[str, str, str, Modifiers]]]:
    """A random valid model and the relations it must parse to."""
    statements: list[str] = []
    expected: dict[tuple[str, str, str], Modifiers] = {}
    counter = 0
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["=~", "~", "~~", "<~"]))
        lhs = draw(st.lists(st.sampled_from(["f1", "f2", "eta.3"]), min_size=1, max_size=2,
                            unique=True))  # fmt: skip
        terms: list[str] = []
        parsed: list[tuple[str, str, Modifiers]] = []
        for _ in range(draw(st.integers(1, 4))):
            if op == "~" and draw(st.integers(0, 5)) == 0:
                terms.append("1")
                parsed.append(("~1", "", Modifiers()))
                continue
            counter += 1
            variable = draw(st.sampled_from(["x", "y.", "item_"])) + str(counter)
            if draw(st.booleans()):
                variable = f"{variable}:z{counter}"
            pieces, values = draw(modifier_strategy())
            terms.append("".join(pieces) + variable)
            parsed.append((op, variable, Modifiers(**values)))
        joiners = st.sampled_from([" + ", "+", " +\n    ", "\n  + ", " + # note\n   "])
        text = terms[0]
        for term in terms[1:]:
            text += draw(joiners) + term
        operator = draw(st.sampled_from([f" {op} ", op, f" {op}\n   "]))
        statements.append(" + ".join(lhs) + operator + text)
        for name in lhs:
            for real_op, rhs, modifiers in parsed:
                expected.setdefault((name, real_op, rhs), modifiers)
    separators = st.sampled_from(["\n", ";", " ; ", "\n\n# comment\n", "\r\n", "\n! bang\n"])
    model = statements[0]
    for statement in statements[1:]:
        model += draw(separators) + statement
    model = (
        draw(st.sampled_from(["", "\n", "# top\n"]))
        + model
        + draw(st.sampled_from(["", "\n", "  # tail"]))
    )
    return model, [(lhs, op, rhs, mods) for (lhs, op, rhs), mods in expected.items()]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model_strategy())
def test_random_valid_models_parse_back(case: tuple[str, list]) -> None:
    text, expected = case
    model = parse_model(text)
    assert [(r.lhs, r.op, r.rhs, r.modifiers) for r in model.relations] == expected
    lines = text.split("\n")
    for relation in model.relations:
        assert 1 <= relation.line <= len(lines)
        assert 1 <= relation.column <= len(lines[relation.line - 1])


_GARBAGE_ALPHABET = [
    *"fxy12 \n;#!=~<>|:*?+-/^(),.\"'_%@$[]aeNAc\t\u02dc",
    "=~", "~~", ":=", "==", "start(", "c(", "label(", "NA", "group:", "level:", "1e-3",
]  # fmt: skip


def _check_garbage(text: str) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parse_model(text)
    except ModelSyntaxError as error:
        lines = text.split("\n")
        assert 1 <= error.line <= max(1, len(lines))
        assert 1 <= error.column <= len(lines[error.line - 1]) + 1
        assert error.reason


@settings(max_examples=120, deadline=None)
@given(st.lists(st.sampled_from(_GARBAGE_ALPHABET), max_size=30).map("".join))
def test_garbage_parses_or_raises_model_syntax_error(text: str) -> None:
    _check_garbage(text)


@settings(max_examples=80, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_text_parses_or_raises_model_syntax_error(text: str) -> None:
    _check_garbage(text)


def test_deeply_nested_input_is_a_syntax_error_not_a_crash() -> None:
    _check_garbage("ab := " + "(" * 400 + "a" + ")" * 400)
    _check_garbage("f =~ " + "c(" * 400 + "1" + ")" * 400 + "*x")
    _check_garbage("ab := " + "-" * 5000 + "a")
    _check_garbage("ab := " + "+".join(["a"] * 5000))
    with pytest.raises(ModelSyntaxError, match="nested"):
        parse_model("ab := " + "(" * 400 + "a" + ")" * 400)


def test_infinite_bounds_stay_allowed() -> None:
    (relation,) = parse_model("f =~ lower(-Inf)*upper(Inf)*start(1)*x").relations
    assert relation.modifiers.lower == (-math.inf,)
    assert relation.modifiers.upper == (math.inf,)


def test_underflowing_number_is_zero() -> None:
    (relation,) = parse_model("f =~ 1e-999*x").relations
    assert relation.modifiers.fixed == (0.0,)


def test_definitions_with_different_names_and_an_equal_right_side() -> None:
    model = parse_model("f =~ x1 + a*x2\nd := a\ne := a\nd == e")
    assert [(c.lhs, c.op, c.rhs) for c in model.constraints] == [
        ("d", ":=", "a"), ("e", ":=", "a"), ("d", "==", "e"),
    ]


def test_constants_that_are_finite_are_kept() -> None:
    model = parse_model("f =~ x1 + a*x2\na == 1/4 + log(1) + 2^-1 + 1e300*1e-300\nd := a/2")
    assert [c.rhs for c in model.constraints] == ["1/4+log(1)+2^-1+1e300*1e-300", "a/2"]
