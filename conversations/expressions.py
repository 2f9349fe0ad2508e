"""The part of the XLSForm expression language the bot understands, parsed into a small tree and evaluated over
the answers by this module (never by `eval`).

    ${ten_cau}                  the answer to another question, or a calculated value; '' when there is none
    .                           the answer being checked (constraints only)
    'chữ', "chữ", 12, 2.5       literals (typographic quotes ‘…’ “…” are accepted, as spreadsheets type them)
    =  !=  <  <=  >  >=         comparisons
    +  -  *  div  mod           arithmetic
    and  or                     logic
    not(x)  if(c, a, b)  selected(x, 'v')  count-selected(x)  string-length(x)  coalesce(a, b)  round(x, n)
    true()  false()
    ten_cot                     a column of the choices sheet (choice_filter only)

Values follow XPath 1.0, as in ODK: a missing answer is the empty string; `=` and `!=` compare numbers when one
side is a number and text otherwise; `<`, `>` compare numbers, or text when neither side is a number (ISO dates
compare correctly as text); a number that is not one (empty text, 1 div 0) makes comparisons false except `!=`.
A multiple-choice answer is its choice values separated by spaces, as in ODK.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any


class ExpressionError(ValueError):
    """An expression outside the supported language; the message says what and where, in Vietnamese."""


class Where(StrEnum):
    """Where an expression is written, which decides what it may refer to."""

    RELEVANT = "relevant"
    CONSTRAINT = "constraint"
    CALCULATION = "calculation"
    CHOICE_FILTER = "choice_filter"


@dataclass(frozen=True)
class Literal:
    value: str | int | float


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Current:
    pass


@dataclass(frozen=True)
class Column:
    name: str


@dataclass(frozen=True)
class Negate:
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


Node = Literal | Ref | Current | Column | Negate | Binary | Call
Value = str | float | bool

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    |\$\{(?P<ref>[^}]*)\}
    |(?P<num>\d+(?:\.\d+)?|\.\d+)
    |'(?P<str1>[^']*)'|"(?P<str2>[^"]*)"|‘(?P<str3>[^’]*)’|“(?P<str4>[^”]*)”
    |(?P<op>!=|<=|>=|=|<|>|\+|-|\*)
    |(?P<punct>[(),])
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:[-.][A-Za-z0-9_]+)*)
    |(?P<dot>\.(?!\.))
    """,
    re.VERBOSE,
)
_UNSUPPORTED_CHARACTERS = {
    "/": "đường dẫn “/” (dùng ${tên_câu})",
    "[": "điều kiện trong ngoặc vuông “[…]”",
    "@": "thuộc tính “@”",
    "|": "phép hợp “|”",
    "..": "“..” (câu cha)",
}
_WORD_OPERATORS = {"and", "or", "div", "mod"}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    at: int


def _tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    at = 0
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            piece = ".." if text.startswith("..", at) else text[at]
            what = _UNSUPPORTED_CHARACTERS.get(piece, f"ký tự “{piece}”")
            raise ExpressionError(f"{what} không dùng được trong biểu thức (vị trí {at + 1})")
        kind = match.lastgroup or ""
        if kind != "space":
            if kind.startswith("str"):
                found.append(_Token("str", match.group(kind), at))
            elif kind == "ref":
                found.append(_Token("ref", match.group("ref").strip(), at))
            else:
                found.append(_Token(kind, match.group(kind), at))
        at = match.end()
    found.append(_Token("end", "", len(text)))
    return found


@dataclass(frozen=True)
class _Function:
    arity: tuple[int, int]
    run: Callable[[list[Value]], Value]


def _string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        number = float(value)
        if math.isnan(number):
            return "NaN"
        return str(int(number)) if number.is_integer() else repr(number)
    if isinstance(value, list):
        return " ".join(str(v.get("file_id", "")) if isinstance(v, dict) else _string(v) for v in value)
    return str(value)


_NUMBER = re.compile(r"\s*-?(\d+(\.\d*)?|\.\d+)\s*")


def _number(value: Any) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    text = _string(value)
    return float(text) if _NUMBER.fullmatch(text) else math.nan


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return not math.isnan(value) and value != 0
    return _string(value) != ""


def _round(args: list[Value]) -> Value:
    number = _number(args[0])
    digits = int(_number(args[1])) if len(args) > 1 and not math.isnan(_number(args[1])) else 0
    if not math.isfinite(number):
        return number
    scale = 10.0**digits
    return math.floor(number * scale + 0.5) / scale


FUNCTIONS: dict[str, _Function] = {
    "not": _Function((1, 1), lambda a: not _boolean(a[0])),
    "if": _Function((3, 3), lambda a: a[1] if _boolean(a[0]) else a[2]),
    "selected": _Function((2, 2), lambda a: _string(a[1]).strip() in _string(a[0]).split()),
    "count-selected": _Function((1, 1), lambda a: float(len(_string(a[0]).split()))),
    "string-length": _Function((1, 1), lambda a: float(len(_string(a[0])))),
    "coalesce": _Function((2, 2), lambda a: a[0] if _string(a[0]) != "" else a[1]),
    "round": _Function((1, 2), _round),
    "true": _Function((0, 0), lambda a: True),
    "false": _Function((0, 0), lambda a: False),
}


MAX_NESTING = 32
"""Brackets, calls and minus signs inside one another: far beyond any form written by hand, and within Python's
recursion limit for the parser, which recurses about ten times a level."""
MAX_DEPTH = 200
"""The depth of the tree (a sum of 150 answers is 150 deep), within the recursion limit for evaluating it."""
TOO_DEEP = (
    f"biểu thức lồng quá sâu (quá {MAX_NESTING} tầng ngoặc hoặc hàm lồng nhau, hay quá {MAX_DEPTH} phép tính "
    "nối nhau): hãy tách thành vài câu “calculate” ngắn hơn"
)


def _depth(node: Node) -> int:
    """The depth of a tree, walked without recursion."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack += [(child, depth + 1) for child in _children(node)]
    return deepest


class _Parser:
    def __init__(self, text: str, where: Where) -> None:
        self.tokens = _tokens(text)
        self.index = 0
        self.where = where
        self.nesting = 0

    def nest(self) -> None:
        """One level deeper (a bracket, a call, a minus sign): refused past MAX_NESTING before the parser recurses."""
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise ExpressionError(TOO_DEEP)

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.token
        self.index += 1
        return token

    def expect(self, text: str) -> None:
        if self.token.text != text or self.token.kind not in {"punct", "op"}:
            raise self.error(f"cần “{text}”")

    def error(self, problem: str) -> ExpressionError:
        token = self.token
        found = "hết biểu thức" if token.kind == "end" else f"“{token.text}”"
        return ExpressionError(f"{problem} ở vị trí {token.at + 1} (gặp {found})")

    def parse(self) -> Node:
        if self.token.kind == "end":
            raise ExpressionError("biểu thức trống")
        node = self.binary(0)
        if self.token.kind != "end":
            raise self.error("thừa phần sau")
        if _depth(node) > MAX_DEPTH:
            raise ExpressionError(TOO_DEEP)
        return node

    LEVELS: tuple[frozenset[str], ...] = (
        frozenset({"or"}),
        frozenset({"and"}),
        frozenset({"=", "!="}),
        frozenset({"<", "<=", ">", ">="}),
        frozenset({"+", "-"}),
        frozenset({"*", "div", "mod"}),
    )

    def _operator(self, level: int) -> str | None:
        token = self.token
        operators = self.LEVELS[level]
        if token.kind == "op" and token.text in operators:
            return token.text
        if token.kind == "name" and token.text in _WORD_OPERATORS and token.text in operators:
            return token.text
        return None

    def binary(self, level: int) -> Node:
        if level == len(self.LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        while (op := self._operator(level)) is not None:
            self.take()
            node = Binary(op, node, self.binary(level + 1))
        return node

    def unary(self) -> Node:
        if self.token.kind == "op" and self.token.text == "-":
            self.take()
            self.nest()
            node = Negate(self.unary())
            self.nesting -= 1
            return node
        return self.primary()

    def primary(self) -> Node:
        token = self.token
        if token.kind == "num":
            self.take()
            return Literal(float(token.text) if "." in token.text else int(token.text))
        if token.kind == "str":
            self.take()
            return Literal(token.text)
        if token.kind == "ref":
            if not token.text:
                raise ExpressionError(f"“${{}}” thiếu tên câu hỏi (vị trí {token.at + 1})")
            self.take()
            return Ref(token.text)
        if token.kind == "dot":
            if self.where is not Where.CONSTRAINT:
                raise self.error("“.” (câu trả lời đang kiểm tra) chỉ dùng trong 'constraint'")
            self.take()
            return Current()
        if token.kind == "punct" and token.text == "(":
            self.take()
            self.nest()
            node = self.binary(0)
            self.expect(")")
            self.take()
            self.nesting -= 1
            return node
        if token.kind == "name" and token.text not in _WORD_OPERATORS:
            self.take()
            if self.token.kind == "punct" and self.token.text == "(":
                return self.call(token)
            if self.where is not Where.CHOICE_FILTER:
                raise ExpressionError(
                    f"“{token.text}” ở vị trí {token.at + 1} không phải câu hỏi: hãy viết ${{{token.text}}}"
                )
            return Column(token.text)
        raise self.error("thiếu một giá trị")

    def call(self, name: _Token) -> Node:
        function = FUNCTIONS.get(name.text)
        if function is None:
            known = ", ".join(f"{n}()" for n in FUNCTIONS)
            raise ExpressionError(f"hàm “{name.text}()” chưa được hỗ trợ; các hàm dùng được: {known}")
        self.take()  # "("
        self.nest()
        args: list[Node] = []
        if not (self.token.kind == "punct" and self.token.text == ")"):
            args.append(self.binary(0))
            while self.token.kind == "punct" and self.token.text == ",":
                self.take()
                args.append(self.binary(0))
        self.expect(")")
        self.take()
        self.nesting -= 1
        low, high = function.arity
        if not low <= len(args) <= high:
            wanted = str(low) if low == high else f"{low}–{high}"
            raise ExpressionError(f"hàm “{name.text}()” cần {wanted} tham số, có {len(args)}")
        return Call(name.text, tuple(args))


def _children(node: Node) -> Sequence[Node]:
    if isinstance(node, Negate):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    return ()


def _walk(node: Node) -> list[Node]:
    return [node, *(n for child in _children(node) for n in _walk(child))]


def _compare(op: str, left: Value, right: Value) -> bool:
    if op in {"=", "!="}:
        a: Any
        b: Any
        if isinstance(left, bool) or isinstance(right, bool):
            a, b = _boolean(left), _boolean(right)
        elif isinstance(left, float) or isinstance(right, float):
            a, b = _number(left), _number(right)
        else:
            a, b = _string(left), _string(right)
        return bool(a == b) if op == "=" else bool(a != b)
    numeric = isinstance(left, float | bool) or isinstance(right, float | bool)
    if numeric or (_NUMBER.fullmatch(_string(left)) and _NUMBER.fullmatch(_string(right))):
        x, y = _number(left), _number(right)
        if math.isnan(x) or math.isnan(y):
            return False
        pair: tuple[Any, Any] = (x, y)
    else:
        pair = (_string(left), _string(right))
    return bool(
        {"<": pair[0] < pair[1], "<=": pair[0] <= pair[1], ">": pair[0] > pair[1], ">=": pair[0] >= pair[1]}[op]
    )


def _arithmetic(op: str, left: Value, right: Value) -> float:
    x, y = _number(left), _number(right)
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if op == "div":
        if y == 0:
            return math.nan if x == 0 or math.isnan(x) else math.copysign(math.inf, x)
        return x / y
    return math.fmod(x, y) if y != 0 else math.nan


def _answer(value: Any) -> Value:
    """A stored answer as an expression value: numbers stay numbers, everything else is text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return float(value)
    return _string(value)


@dataclass(frozen=True)
class Expression:
    text: str
    tree: Node

    @property
    def refs(self) -> tuple[str, ...]:
        """The question names it refers to, in order, once each."""
        return tuple(dict.fromkeys(n.name for n in _walk(self.tree) if isinstance(n, Ref)))

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(n.name for n in _walk(self.tree) if isinstance(n, Column)))

    def evaluate(
        self, values: Mapping[str, Any], current: Any = None, columns: Mapping[str, str] | None = None
    ) -> Value:
        def run(node: Node) -> Value:
            if isinstance(node, Literal):
                return float(node.value) if isinstance(node.value, int | float) else node.value
            if isinstance(node, Ref):
                return _answer(values.get(node.name))
            if isinstance(node, Current):
                return _answer(current)
            if isinstance(node, Column):
                return (columns or {}).get(node.name, "")
            if isinstance(node, Negate):
                return -_number(run(node.operand))
            if isinstance(node, Call):
                return FUNCTIONS[node.name].run([run(arg) for arg in node.args])
            if node.op == "or":
                return _boolean(run(node.left)) or _boolean(run(node.right))
            if node.op == "and":
                return _boolean(run(node.left)) and _boolean(run(node.right))
            left, right = run(node.left), run(node.right)
            if node.op in {"=", "!=", "<", "<=", ">", ">="}:
                return _compare(node.op, left, right)
            return _arithmetic(node.op, left, right)

        return run(self.tree)

    def holds(self, values: Mapping[str, Any], current: Any = None, columns: Mapping[str, str] | None = None) -> bool:
        return _boolean(self.evaluate(values, current, columns))

    def value(self, values: Mapping[str, Any]) -> int | float | str | None:
        """A calculation's result as an answer value: a number (whole numbers as int), a text, or None for
        nothing (empty text, or a number that is not one)."""
        result = self.evaluate(values)
        if isinstance(result, bool):
            return _string(result)
        if isinstance(result, float):
            if not math.isfinite(result):
                return None
            return int(result) if result.is_integer() else result
        return result or None


@lru_cache(maxsize=4096)
def parse(text: str, where: Where) -> Expression:
    """The expression, or ExpressionError saying what is wrong with it."""
    return Expression(text, _Parser(text, where).parse())
