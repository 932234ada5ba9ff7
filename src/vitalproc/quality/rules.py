"""The language of cohort rules: one condition per rule, parsed into a small tree.

A condition is built of

- ``COLUMN OP VALUE``: a clinical table's column, ``OP`` one of ``== != < <= > >=``,
  ``VALUE`` a number, a quoted text, ``true``/``false``; ``COLUMN in ('a', 'b')``;
  ``COLUMN is null`` / ``COLUMN is not null``;
- ``TRACK present``: the case has the track (a name of the rules' ``[tracks]`` table,
  which lists fallbacks, or a track name as the recordings spell it);
- ``TRACK METRIC OP NUMBER [during WINDOW]``: a metric of the qc table for the case's
  track; ``during WINDOW`` reads ``coverage_WINDOW`` (written by ``qc`` with that window);

joined by ``and``, ``or``, ``not`` and parentheses. Names are checked against the
clinical table, the qc table and the tracks before any case is evaluated.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from .errors import QualityInputError

_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<str>'[^']*'|"[^"]*")
    | (?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w/]))
    | (?P<op>==|!=|<=|>=|<|>|=)
    | (?P<punct>[(),])
    | (?P<word>[^\s()<>=!,'"]+)
    )""",
    re.VERBOSE,
)

KEYWORDS = {"and", "or", "not", "in", "is", "null", "present", "during", "true", "false"}
OPS = {"==", "!=", "<", "<=", ">", ">="}


@dataclass
class Compare:
    column: str
    op: str
    value: Any


@dataclass
class IsNull:
    column: str
    negate: bool


@dataclass
class Present:
    track: str


@dataclass
class Metric:
    track: str
    metric: str
    op: str
    value: Any


@dataclass
class BoolOp:
    op: str  # and, or, not
    items: list[Any]


class ParseError(Exception):
    pass


def tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ParseError(f"cannot read {text[pos:]!r}")
        pos = m.end()
        kind = m.lastgroup or ""
        value: Any = m.group(kind)
        if kind == "str":
            value = value[1:-1]
        elif kind == "num":
            value = float(value)
        elif kind == "op" and value == "=":
            value = "=="
        elif kind == "word" and value.lower() in KEYWORDS:
            kind, value = "kw", value.lower()
        tokens.append((kind, value))
    return tokens


class _Parser:
    def __init__(self, text: str, is_track: Any):
        self.tokens = tokenize(text)
        self.i = 0
        self.is_track = is_track  # name -> whether it names a track

    def peek(self, k: int = 0) -> tuple[str, Any]:
        j = self.i + k
        return self.tokens[j] if j < len(self.tokens) else ("end", None)

    def take(self) -> tuple[str, Any]:
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, kind: str, value: Any = None) -> Any:
        k, v = self.take()
        if k != kind or (value is not None and v != value):
            want = value if value is not None else kind
            raise ParseError(f"expected {want!r}, found {_show(k, v)}")
        return v

    def parse(self) -> Any:
        if not self.tokens:
            raise ParseError("empty condition")
        node = self.disjunction()
        if self.peek()[0] != "end":
            raise ParseError(f"unexpected {_show(*self.peek())}")
        return node

    def disjunction(self) -> Any:
        items = [self.conjunction()]
        while self.peek() == ("kw", "or"):
            self.take()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else BoolOp("or", items)

    def conjunction(self) -> Any:
        items = [self.negation()]
        while self.peek() == ("kw", "and"):
            self.take()
            items.append(self.negation())
        return items[0] if len(items) == 1 else BoolOp("and", items)

    def negation(self) -> Any:
        if self.peek() == ("kw", "not"):
            self.take()
            return BoolOp("not", [self.negation()])
        if self.peek() == ("punct", "("):
            self.take()
            node = self.disjunction()
            self.expect("punct", ")")
            return node
        return self.atom()

    def value(self) -> Any:
        k, v = self.take()
        if k in ("num", "str"):
            return v
        if k == "kw" and v in ("true", "false"):
            return v == "true"
        raise ParseError(f"expected a number or a quoted text, found {_show(k, v)}")

    def atom(self) -> Any:
        k, name = self.take()
        if k != "word":
            raise ParseError(f"expected a column or a track, found {_show(k, name)}")
        nxt = self.peek()
        if nxt == ("kw", "present"):
            self.take()
            return Present(name)
        if nxt[0] == "word" and self.is_track(name):
            metric = self.take()[1]
            op = self.expect("op")
            value = self.value()
            if self.peek() == ("kw", "during"):
                self.take()
                window = self.expect("word")
                if metric != "coverage":
                    raise ParseError(f"'during' applies to coverage, not {metric!r}")
                metric = f"coverage_{window}"
            return Metric(name, metric, op, value)
        if nxt == ("kw", "in"):
            self.take()
            self.expect("punct", "(")
            values = [self.value()]
            while self.peek() == ("punct", ","):
                self.take()
                values.append(self.value())
            self.expect("punct", ")")
            return Compare(name, "in", values)
        if nxt == ("kw", "is"):
            self.take()
            negate = self.peek() == ("kw", "not")
            if negate:
                self.take()
            self.expect("kw", "null")
            return IsNull(name, negate)
        if nxt[0] == "op":
            self.take()
            return Compare(name, nxt[1], self.value())
        if nxt[0] == "word":
            raise ParseError(f"{name!r} is no track of the rules or the qc table")
        raise ParseError(
            f"expected an operator, 'present', 'in' or 'is' after {name!r}, found {_show(*nxt)}"
        )


def _show(kind: str, value: Any) -> str:
    return "the end" if kind == "end" else repr(value)


def parse(text: str, is_track: Any, where: str) -> Any:
    """The tree of one rule's condition.

    Raises
    ------
    QualityInputError
        The condition does not parse; the message starts with ``where`` (the rule).
    """
    try:
        return _Parser(text, is_track).parse()
    except ParseError as exc:
        raise QualityInputError(f"{where}: {exc} in {text!r}") from None


def names(node: Any) -> list[Any]:
    """Every leaf of a tree."""
    if isinstance(node, BoolOp):
        return [leaf for item in node.items for leaf in names(item)]
    return [node]


def compare(have: Any, op: str, want: Any) -> bool:
    """``have OP want``; a missing or NaN value satisfies no comparison."""
    if have is None or (isinstance(have, float) and math.isnan(have)):
        return False
    if op == "in":
        return any(compare(have, "==", w) for w in want)
    if isinstance(want, str) != isinstance(have, str):
        if isinstance(want, str):
            have = (
                str(have)
                if not isinstance(have, float) or not have.is_integer()
                else str(int(have))
            )
        else:
            try:
                have = float(have)
            except (TypeError, ValueError):
                return False
    try:
        return {
            "==": have == want,
            "!=": have != want,
            "<": have < want,
            "<=": have <= want,
            ">": have > want,
            ">=": have >= want,
        }[op]
    except TypeError:
        return False
