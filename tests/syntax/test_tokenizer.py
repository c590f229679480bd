"""The tokenizer's one-regex fast path gives the tokens (or the error) of its lexer."""

import random

import pytest

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
