"""Show-if: which questions are asked, given the answers so far."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conversations.definition import Condition, Question, Questionnaire


def holds(condition: Condition, answers: Mapping[str, Any]) -> bool:
    if condition.all is not None:
        return all(holds(c, answers) for c in condition.all)
    if condition.any is not None:
        return any(holds(c, answers) for c in condition.any)
    if condition.not_ is not None:
        return not holds(condition.not_, answers)
    assert condition.question is not None
    present = condition.question in answers
    if condition.answered is not None:
        return present == condition.answered
    if not present:
        return False
    value = answers[condition.question]
    if condition.equals is not None:
        return bool(value == condition.equals)
    if condition.not_equals is not None:
        return bool(value != condition.not_equals)
    if condition.in_ is not None:
        return value in condition.in_
    if condition.includes is not None:
        return isinstance(value, list) and condition.includes in value
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is None:
        return False
    if condition.gte is not None:
        return bool(number >= condition.gte)
    return condition.lte is not None and bool(number <= condition.lte)


def visible(qn: Questionnaire, answers: Mapping[str, Any]) -> list[Question]:
    """The questions asked, in order. A hidden question's answer does not count for later conditions."""
    shown: list[Question] = []
    counted: dict[str, Any] = {}
    for q in qn.questions:
        if q.show_if is None or holds(q.show_if, counted):
            shown.append(q)
            if q.id in answers:
                counted[q.id] = answers[q.id]
    return shown


def expected_count(qn: Questionnaire, answers: Mapping[str, Any]) -> int:
    """How many answerable questions this person will probably be asked: a question whose condition
    rests on a question not answered yet counts as asked, so "Câu 1/14" does not start as "Câu 1/1"."""
    shown = {q.id for q in visible(qn, answers)}
    count = 0
    for q in qn.questions:
        if not q.answerable:
            continue
        undecided = q.show_if is not None and any(ref not in answers for ref in q.show_if.referenced())
        if q.id in shown or undecided:
            count += 1
    return count


def effective_answers(qn: Questionnaire, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers of visible questions only: what is scored, shown and stored on submission."""
    return {q.id: answers[q.id] for q in visible(qn, answers) if q.id in answers}
