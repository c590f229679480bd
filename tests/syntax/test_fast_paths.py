"""The fast paths of the syntax reader give what the general route gives: the
tokenizer's one-regex path the tokens (or the error) of its lexer, and parse_model's
line-by-line reading of simple models the parsed model of the token route."""

import random

import pytest

from semnet.errors import ModelSyntaxError
from semnet.syntax import parser
from semnet.syntax import tokenizer as tok

PIECES = [
    "=~", "~~", "~", ":=", "==", "<", ">", "|", "1.5e-3", "2.", ".5", "1e", "x1", "f", ".x",
    "start(", ")", " + ", "\n", ";", "# c\n", "! c", "'lab'", '"s"', "'open", "**", "->",
    "~*~", "%in%", "1x", "NA", "-1", "c(", ",", "\t", "\r\n", "\u02dc", "é", "\x0b", "²", "=",
]  # fmt: skip


def _outcome(func, text, line, column):
    try:
        return func(text, line, column), None
    except tok.ModelSyntaxError as exc:
        return None, (str(exc), exc.line, exc.column)


def _lexer(text, line, column):
    return tok._Lexer(tok.Source(text, line, column)).run()


@pytest.mark.parametrize("seed", range(4))
def test_fast_path_matches_lexer(seed):
    rng = random.Random(seed)
    fast_used = 0
    for _ in range(3000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 10)))
        line, column = (1, 1) if rng.random() < 0.7 else (rng.randint(1, 5), rng.randint(1, 9))
        assert _outcome(tok.tokenize, text, line, column) == _outcome(_lexer, text, line, column)
        fast_used += tok._fast_tokens(text, line, column) is not None
    assert fast_used > 300


def test_fast_path_on_a_model():
    text = "visual =~ x1 + a*x2 + start(0.5)*x3\n  # comment\ny ~ 1 + 0.3?x ; ab := a*2\n"
    assert tok._fast_tokens(text, 1, 1) == _lexer(text, 1, 1)


NAMES = ["f", "x1", "y_2", "a.b", "_z", "NA", "if", "TRUE", ".x", "1x", "a:b", "f"]
OPS = ["=~", "~", "~~", "~~~", "<~", "|", ":=", "=="]
GLUE = [" + ", "+", " +", "  + ", " ", "", "\t", "*", ";", "\r"]
TAILS = ["", "", "", "  # note", "! c", " +", ";", "\r"]


def _parse_outcome(func, text):
    try:
        return func(text), None
    except ModelSyntaxError as exc:
        return None, (str(exc), exc.line, exc.column)


def _random_model(rng):
    lines = []
    for _ in range(rng.randint(0, 5)):
        kind = rng.random()
        if kind < 0.15:
            lines.append(rng.choice(["", "   ", "# only a comment", "\t! c"]))
            continue
        terms = [rng.choice(NAMES[:5]) if rng.random() < 0.8 else rng.choice(NAMES)]
        for _ in range(rng.randint(0, 3)):
            terms.append(rng.choice(GLUE[:4]) if rng.random() < 0.85 else rng.choice(GLUE))
            terms.append(rng.choice(NAMES[:5]) if rng.random() < 0.8 else rng.choice(NAMES))
        op = rng.choice(OPS[:3]) if rng.random() < 0.85 else rng.choice(OPS)
        lhs = rng.choice(NAMES[:5]) if rng.random() < 0.9 else rng.choice(NAMES)
        lines.append(f"{' ' * rng.randint(0, 2)}{lhs} {op} {''.join(terms)}{rng.choice(TAILS)}")
    return "\n".join(lines)


@pytest.mark.parametrize("seed", range(4))
def test_simple_models_parse_as_the_token_route(seed):
    rng = random.Random(seed)
    simple = 0
    for _ in range(2000):
        text = _random_model(rng)
        expected = _parse_outcome(parser._parse, text)
        assert _parse_outcome(parser.parse_model, text) == expected
        fast = parser._parse_simple(text)
        if fast is not None:
            simple += 1
            assert expected == (fast, None)
    assert simple > 200


def test_simple_model_positions():
    text = "visual =~ x1 + x2\n\n  # comment\ny ~ visual ! x\r\nx1 ~~ x2\nvisual =~ x2"
    fast = parser._parse_simple(text)
    assert fast is not None and fast == parser._parse(text)
    assert [(r.line, r.column) for r in fast.relations] == [(1, 11), (1, 16), (4, 5), (5, 7)]
