"""XLSForm `relevant` expressions and the structured show-if, both ways."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conversations.definition import Condition, QuestionType
from conversations.expressions import Binary, Call, Literal, Node, Ref, Where, parse
from conversations.question_types import KINDS


def _textual(kind: QuestionType) -> bool:
    return KINDS[kind].compared_as_text


def _test(node: Node, kinds: Mapping[str, QuestionType]) -> dict[str, Any] | None:
    """A comparison of one earlier answer with a literal, as a show-if test with the same meaning; or None."""
    if isinstance(node, Call) and node.name == "selected":
        target, chosen = node.args
        if (
            isinstance(target, Ref)
            and target.name in kinds
            and KINDS[kinds[target.name]].multiple
            and isinstance(chosen, Literal)
            and isinstance(chosen.value, str)
        ):
            return {"question": target.name, "includes": chosen.value.strip()}
        return None
    if not (isinstance(node, Binary) and isinstance(node.left, Ref) and isinstance(node.right, Literal)):
        return None
    question, value, kind = node.left.name, node.right.value, kinds.get(node.left.name)
    if kind is None:
        return None
    if value == "" and node.op in {"=", "!="}:
        return {"question": question, "answered": node.op == "!="}
    same_kind = _textual(kind) if isinstance(value, str) else KINDS[kind].number
    if not same_kind:
        return None
    if node.op == "=":
        return {"question": question, "equals": value}
    if node.op == "!=":
        return {"not": {"question": question, "equals": value}}
    if node.op in {">=", "<="} and not isinstance(value, str):
        return {"question": question, "gte" if node.op == ">=" else "lte": value}
    return None


def _operands(node: Node, op: str) -> list[Node]:
    if isinstance(node, Binary) and node.op == op:
        return _operands(node.left, op) + _operands(node.right, op)
    return [node]


def _merge_all(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`${q} != '' and not(${q} = 'v')` is the show-if `not_equals` (false when unanswered)."""
    merged: list[dict[str, Any]] = []
    for part in parts:
        previous = merged[-1] if merged else {}
        inner = part.get("not", {})
        if previous.get("answered") is True and "equals" in inner and inner.get("question") == previous["question"]:
            merged[-1] = {"question": previous["question"], "not_equals": inner["equals"]}
        else:
            merged.append(part)
    return merged


def _structured(node: Node, kinds: Mapping[str, QuestionType]) -> dict[str, Any] | None:
    if isinstance(node, Binary) and node.op in {"and", "or"}:
        parts = [_structured(n, kinds) for n in _operands(node, node.op)]
        if any(p is None for p in parts):
            return None
        found = [p for p in parts if p is not None]
        if node.op == "and":
            found = _merge_all(found)
            return found[0] if len(found) == 1 else {"all": found}
        questions = {p.get("question") for p in found}
        values = [p.get("equals") for p in found]
        same = len(questions) == 1 and all(set(p) == {"question", "equals"} for p in found)
        if same and all(isinstance(v, str) for v in values):
            return {"question": found[0]["question"], "in": values}
        return {"any": found}
    if isinstance(node, Call) and node.name == "not":
        inner = _structured(node.args[0], kinds)
        return {"not": inner} if inner is not None else None
    return _test(node, kinds)


def relevant_condition(text: str, kinds: Mapping[str, QuestionType]) -> dict[str, Any]:
    """An XLSForm `relevant` as show-if data: structured when it means exactly what a structured condition
    means, else the expression itself. Raises ExpressionError."""
    structured = _structured(parse(text, Where.RELEVANT).tree, kinds)
    return structured if structured is not None else {"expression": text}


def _literal(value: str | int | float) -> str:
    """A literal that reads back as the same value: 5 stays an int, 5.0 a float."""
    if isinstance(value, str):
        return f'"{value}"' if "'" in value else f"'{value}'"
    return repr(value)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def relevant_text(condition: Condition) -> str:
    """A show-if as an XLSForm `relevant` expression with the same meaning."""
    if condition.expression is not None:
        return condition.expression
    if condition.all is not None:
        return " and ".join(_operand(c) for c in condition.all)
    if condition.any is not None:
        return " or ".join(_operand(c) for c in condition.any)
    if condition.not_ is not None:
        return f"not({relevant_text(condition.not_)})"
    ref = f"${{{condition.question}}}"
    if condition.answered is not None:
        return f"{ref} != ''" if condition.answered else f"{ref} = ''"
    if condition.equals is not None:
        return f"{ref} = {_literal(condition.equals)}"
    if condition.not_equals is not None:
        return f"{ref} != '' and {ref} != {_literal(condition.not_equals)}"
    if condition.in_ is not None:
        return " or ".join(f"{ref} = {_literal(v)}" for v in condition.in_)
    if condition.includes is not None:
        return f"selected({ref}, {_literal(condition.includes)})"
    if condition.gte is not None:
        return f"{ref} >= {_number(condition.gte)}"
    assert condition.lte is not None
    return f"{ref} <= {_number(condition.lte)}"


def _operand(condition: Condition) -> str:
    """A part of an `and`/`or`, in brackets unless it is a single test."""
    simple = condition.question is not None and condition.not_equals is None and len(condition.in_ or []) < 2
    text = relevant_text(condition)
    return text if simple or condition.not_ is not None else f"({text})"
