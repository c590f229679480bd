"""Tokenizer for lavaan model syntax.

The tokenizer turns model text into a flat list of typed :class:`Token` objects.
Every token remembers the 1-based line and column where it starts, so the
parser can point at the exact offending character when it raises
:class:`~semnet.errors.ModelSyntaxError`.

Lexical rules (following lavaan's own tokenizer):

* names: letters, digits, ``_`` and ``.``; they must not start with a digit
  (``x.1`` and ``.x`` are names, ``1x`` is an error);
* numbers: ``1``, ``1.``, ``.5``, ``1e-3``, ``2.5E+2`` (no sign: a leading ``-``
  is a separate token, the parser turns ``-`` + number into a negative number); a
  number too large for double precision (``1e999``) is an error;
* strings: ``"..."`` or ``'...'`` on one line, no escapes;
* operators: ``=~ ~ ~~ <~ | ~*~ := == < > :`` and lavaan's other operators
  (``|~ :~ %...%``), which the parser rejects as unsupported;
* punctuation: ``( ) , * ? + - / ^ **``;
* statement separators: newline and ``;`` (both give a :attr:`TokenKind.NEWLINE`);
* comments: ``#`` or ``!`` up to the end of the line (not inside strings).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

from semnet.errors import ModelSyntaxError

__all__ = [
    "CONSTRAINT_OPERATORS",
    "RELATION_OPERATORS",
    "UNSUPPORTED_OPERATORS",
    "Source",
    "Token",
    "TokenKind",
    "tokenize",
]


class TokenKind(Enum):
    """The type of a :class:`Token`."""

    NAME = "name"
    NUMBER = "number"
    STRING = "string"
    OPERATOR = "operator"
    PUNCT = "punctuation"
    NEWLINE = "newline"
    END = "end"


class Token(NamedTuple):
    """One token of model text (a named tuple: cheaper to make than a frozen dataclass).

    Attributes
    ----------
    kind : TokenKind
        The token type.
    text : str
        The exact source text (strings include their quotes; a ``;``
        separator keeps ``";"``, a line break is ``"\\n"``).
    line, column : int
        1-based position of the first character.
    value : str
        For strings the text between the quotes, else equal to ``text``.
    """

    kind: TokenKind
    text: str
    line: int
    column: int
    value: str = ""

    @property
    def end_column(self) -> int:
        """Column just after the token (tokens never span lines)."""
        return self.column + len(self.text)

    def describe(self) -> str:
        """Human-readable description used in error messages."""
        if self.kind is TokenKind.END:
            return "the end of the model"
        if self.kind is TokenKind.NEWLINE:
            return "the end of the statement"
        return f"`{self.text}`"


# the kinds as module constants: an attribute of an Enum class takes ~0.1 µs to look
# up (Python 3.11), and the tokenizer and parser test kinds for every token
NAME = TokenKind.NAME
NUMBER = TokenKind.NUMBER
STRING = TokenKind.STRING
OPERATOR = TokenKind.OPERATOR
PUNCT = TokenKind.PUNCT
NEWLINE = TokenKind.NEWLINE
END = TokenKind.END

#: lavaan operators that relate variables (``~1`` is produced by the parser)
RELATION_OPERATORS = frozenset({"=~", "~", "~~", "<~", "|", "~*~"})
#: operators that define or constrain parameters
CONSTRAINT_OPERATORS = frozenset({":=", "==", "<", ">"})
#: lavaan operators that semnet recognises but does not support yet
UNSUPPORTED_OPERATORS = frozenset({"|~", ":~"})

_KNOWN_OPERATORS = RELATION_OPERATORS | CONSTRAINT_OPERATORS | UNSUPPORTED_OPERATORS | {":"}
_OPERATOR_CHARS = frozenset("=~<>|:")
_PUNCT_CHARS = frozenset("(),*?+-/^")
_COMMENT_CHARS = frozenset("#!")
_QUOTES = frozenset("\"'")
_ODD_TILDE = "\u02dc"  # lavaan maps this locale tilde to '~'

_OPERATOR_HINTS = {
    "=": "did you mean `=~` (is measured by), `==` (equality constraint) "
    "or `:=` (defined parameter)?",
    "<=": "lavaan writes inequality constraints with `<` (they are not strict)",
    ">=": "lavaan writes inequality constraints with `>` (they are not strict)",
    "=<": "lavaan writes inequality constraints with `<` (they are not strict)",
    "=>": "lavaan writes inequality constraints with `>` (they are not strict)",
    "~=": "did you mean `=~` (is measured by)?",
    "~~~": "did you mean `~~` (covariance)?",
    "=~~": "did you mean `=~` (is measured by) or `~~` (covariance)?",
    "==~": "did you mean `=~` (is measured by)?",
}

_OPERATOR_LIST = "`=~`, `~`, `~~`, `<~`, `|`, `:=`, `==`, `<` and `>`"


def _is_name_start(ch: str) -> bool:
    return ch.isalpha() or ch == "_"


#: a run of name characters: ``\w`` is exactly ``str.isalnum()`` or ``_``
_NAME_CHARS = re.compile(r"[\w.]*")
#: a run of whitespace other than line breaks (``\s`` is exactly ``str.isspace()``)
_BLANKS = re.compile(r"[^\S\n]+")


@dataclass(frozen=True)
class Source:
    """The text being tokenized and where it starts in the model.

    ``line`` and ``column`` are the 1-based position of ``text[0]`` in the full
    model (so that an expression cut out of a model reports model positions).
    """

    text: str
    line: int = 1
    column: int = 1

    def source_line(self, line: int) -> str:
        """The text of model line ``line`` as far as this source knows it."""
        lines = self.text.split("\n")
        index = line - self.line
        if not 0 <= index < len(lines):
            return ""
        shown = lines[index].rstrip("\r").replace("\t", " ")
        if index == 0:
            shown = " " * (self.column - 1) + shown
        return shown

    def error(self, message: str, line: int, column: int) -> ModelSyntaxError:
        """Build a :class:`ModelSyntaxError` located at ``line``, ``column``."""
        return ModelSyntaxError(message, line, column, self.source_line(line))

    def error_at(self, token: Token, message: str) -> ModelSyntaxError:
        """Build a :class:`ModelSyntaxError` located at ``token``."""
        return self.error(message, token.line, token.column)


def tokenize(text: str, line: int = 1, column: int = 1) -> list[Token]:
    """Split model text into tokens.

    Parameters
    ----------
    text : str
        Model syntax (or a piece of it).
    line, column : int
        1-based position of ``text[0]`` in the full model; token positions
        are reported relative to the full model.

    Returns
    -------
    list of Token
        The tokens in order, ending with one :attr:`TokenKind.END` token.
        Comments and whitespace are dropped; newlines and ``;`` become
        :attr:`TokenKind.NEWLINE` tokens.

    Raises
    ------
    ModelSyntaxError
        On an unexpected character, an unterminated string, a name that starts
        with a digit or an operator lavaan does not have.

    Examples
    --------
    >>> [t.text for t in tokenize("f =~ a*x1")]
    ['f', '=~', 'a', '*', 'x1', '']
    """
    tokens = _fast_tokens(text, line, column)
    return tokens if tokens is not None else _Lexer(Source(text, line, column)).run()


#: one token of plain ASCII model text after the blanks before it, one group per kind
#: (``bad``: what :class:`_Lexer` rejects or treats specially, such as a ``%...%``
#: operator or a string left open; ``end``: blanks at the end of the text)
_FAST_TOKEN = re.compile(
    r"""[^\S\n]*(?:"""
    r"""(?P<number>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)(?P<bad_number>[\w.]+)?"""
    r"""|(?P<name>[A-Za-z_.][\w.]*)"""
    r"""|(?P<newline>[\n;])"""
    r"""|(?P<punct>\*\*|[(),*?+\-/^])"""
    r"""|(?P<operator>~\*~|[=~<>|:]+)"""
    r"""|(?P<comment>[#!][^\n]*)"""
    r"""|(?P<string>"[^"\n]*"|'[^'\n]*')"""
    r"""|(?P<end>\Z)"""
    r"""|(?P<bad>.))"""
)
# the group numbers of the kinds (``match.lastindex``), in the order of the pattern
_F_NUMBER, _F_BAD_NUMBER, _F_NAME, _F_NEWLINE, _F_PUNCT, _F_OPERATOR, _F_COMMENT, _F_STRING, \
    _F_END, _F_BAD = range(1, 11)
_new_token = tuple.__new__  # a Token without the Python-level __new__ of a named tuple


def _is_infinite(number: str) -> bool:
    """Whether the number literal ``number`` overflows to infinity (only a literal with an
    exponent or with more than 300 digits can; one that is not a float, such as one with
    non-ASCII digits, is left to the parser)."""
    if "e" not in number and "E" not in number and len(number) <= 300:
        return False
    try:
        return math.isinf(float(number))
    except ValueError:
        return False


def _fast_tokens(text: str, line: int, column: int) -> list[Token] | None:
    """The tokens of ``text`` as :class:`_Lexer` makes them, from one regular expression;
    ``None`` where the text is not ASCII or holds anything that :class:`_Lexer` rejects
    or treats specially (it then tokenizes the text and raises its error)."""
    if not text.isascii():
        return None
    tokens: list[Token] = []
    append = tokens.append
    new = _new_token
    first_line = line
    shift = column - 1  # columns of the first line start at ``column``
    line_start = 0
    for match in _FAST_TOKEN.finditer(text):
        kind = match.lastindex
        if kind in (_F_COMMENT, _F_END):
            continue
        start = match.start(kind)
        token_text = match.group(kind)
        col = start - line_start + 1 + (shift if line == first_line else 0)
        if kind == _F_NAME:
            append(new(Token, (NAME, token_text, line, col, token_text)))
        elif kind == _F_NEWLINE:
            append(new(Token, (NEWLINE, token_text, line, col, token_text)))
            if token_text == "\n":
                line += 1
                line_start = start + 1
        elif kind == _F_PUNCT:
            if token_text == "-" and text.startswith(">", start + 1):
                return None
            append(new(Token, (PUNCT, token_text, line, col, token_text)))
        elif kind == _F_OPERATOR:
            if token_text not in _KNOWN_OPERATORS:
                return None
            append(new(Token, (OPERATOR, token_text, line, col, token_text)))
        elif kind == _F_NUMBER:
            if _is_infinite(token_text):
                return None
            append(new(Token, (NUMBER, token_text, line, col, token_text)))
        elif kind == _F_STRING:
            append(new(Token, (STRING, token_text, line, col, token_text[1:-1])))
        else:
            return None
    col = len(text) - line_start + 1 + (shift if line == first_line else 0)
    append(new(Token, (END, "", line, col, "")))
    return tokens


class _Lexer:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.text = source.text
        self.pos = 0
        self.line = source.line
        self.line_start = 0  # index of the first character of the current line
        self.tokens: list[Token] = []

    def column_of(self, pos: int) -> int:
        column = pos - self.line_start + 1
        if self.line == self.source.line:
            column += self.source.column - 1
        return column

    def fail(self, message: str, pos: int) -> ModelSyntaxError:
        return self.source.error(message, self.line, self.column_of(pos))

    def add(self, kind: TokenKind, start: int, end: int, value: str | None = None) -> None:
        token_text = self.text[start:end]
        self.tokens.append(
            Token(
                kind,
                token_text,
                self.line,
                self.column_of(start),
                token_text if value is None else value,
            )
        )

    def run(self) -> list[Token]:
        text = self.text
        n = len(text)
        while self.pos < n:
            ch = text[self.pos]
            if ch == "\n":
                self.add(NEWLINE, self.pos, self.pos + 1)
                self.pos += 1
                self.line += 1
                self.line_start = self.pos
            elif ch == ";":
                self.add(NEWLINE, self.pos, self.pos + 1)
                self.pos += 1
            elif ch.isspace():
                self.pos = _BLANKS.match(text, self.pos).end()  # type: ignore[union-attr]
            elif ch in _COMMENT_CHARS:
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end
            elif ch in _QUOTES:
                self.string()
            elif ch.isdigit() or (ch == "." and self.pos + 1 < n and text[self.pos + 1].isdigit()):
                self.number()
            elif _is_name_start(ch) or ch == ".":
                self.name()
            elif ch in _OPERATOR_CHARS or ch == _ODD_TILDE:
                self.operator()
            elif ch == "%":
                self.percent_operator()
            elif ch in _PUNCT_CHARS:
                self.punct()
            else:
                raise self.fail(self.bad_character_message(ch), self.pos)
        self.tokens.append(Token(END, "", self.line, self.column_of(self.pos)))
        return self.tokens

    @staticmethod
    def bad_character_message(ch: str) -> str:
        shown = repr(ch)[1:-1] if not ch.isprintable() else ch
        return (
            f"unexpected character `{shown}`; names may contain only letters, digits, "
            "`_` and `.`, and lavaan syntax uses only the operators "
            f"{_OPERATOR_LIST} with `+`, `*`, `?`, `(`, `)` and `,`; "
            "remove the character or rename the variable"
        )

    def string(self) -> None:
        start = self.pos
        quote = self.text[start]
        end = start + 1
        n = len(self.text)
        while end < n and self.text[end] != quote and self.text[end] != "\n":
            end += 1
        if end >= n or self.text[end] != quote:
            raise self.fail(
                f"unterminated string: add the closing {quote} on the same line",
                start,
            )
        self.add(STRING, start, end + 1, self.text[start + 1 : end])
        self.pos = end + 1

    def number(self) -> None:
        text = self.text
        n = len(text)
        start = end = self.pos
        while end < n and text[end].isdigit():
            end += 1
        if end < n and text[end] == ".":
            end += 1
            while end < n and text[end].isdigit():
                end += 1
        if end < n and text[end] in "eE":
            exp = end + 1
            if exp < n and text[exp] in "+-":
                exp += 1
            if exp < n and text[exp].isdigit():
                end = exp
                while end < n and text[end].isdigit():
                    end += 1
        stop = _NAME_CHARS.match(text, end).end()  # type: ignore[union-attr]
        if stop > end:
            bad = text[start:stop]
            raise self.fail(
                f"`{bad}` is not a valid name: names must start with a letter or `.`, "
                f"not a digit; rename it (e.g. `x{bad}`), or put `*` between a number "
                "and a name",
                start,
            )
        if _is_infinite(text[start:end]):
            raise self.fail(
                f"the number `{text[start:end]}` is too large: it is infinite in double "
                "precision (the largest number is about 1.8e308); write a finite number",
                start,
            )
        self.add(NUMBER, start, end)
        self.pos = end

    def name(self) -> None:
        start = self.pos
        end = _NAME_CHARS.match(self.text, start).end()  # type: ignore[union-attr]
        self.add(NAME, start, end)
        self.pos = end

    def operator(self) -> None:
        text = self.text
        n = len(text)
        start = self.pos
        if text.startswith("~*~", start):
            self.add(OPERATOR, start, start + 3)
            self.pos = start + 3
            return
        end = start
        while end < n and (text[end] in _OPERATOR_CHARS or text[end] == _ODD_TILDE):
            end += 1
        raw = text[start:end]
        op = raw.replace(_ODD_TILDE, "~")
        if op not in _KNOWN_OPERATORS:
            hint = _OPERATOR_HINTS.get(op, f"lavaan's operators are {_OPERATOR_LIST}")
            raise self.fail(f"unknown operator `{raw}`; {hint}", start)
        self.tokens.append(Token(OPERATOR, op, self.line, self.column_of(start), op))
        self.pos = end

    def percent_operator(self) -> None:
        start = self.pos
        close = self.text.find("%", start + 1)
        newline = self.text.find("\n", start + 1)
        end = start + 1
        if close >= 0 and (newline < 0 or close < newline) and close - start < 10:
            end = close + 1
        self.add(OPERATOR, start, end)
        self.pos = end

    def punct(self) -> None:
        start = self.pos
        ch = self.text[start]
        if ch == "-" and self.text.startswith(">", start + 1):
            raise self.fail(
                "unknown operator `->`; lavaan writes a regression of y on x as `y ~ x` "
                "and a loading of x on factor f as `f =~ x`",
                start,
            )
        end = start + 1
        if ch == "*" and self.text.startswith("*", end):
            end += 1  # `**` is the power operator in expressions
        self.add(PUNCT, start, end)
        self.pos = end
