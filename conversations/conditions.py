"""Show-if: which questions are asked, given the answers so far; calculated values; the choices offered."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from conversations.answers import display
from conversations.definition import Choice, Question, Questionnaire
from conversations.expressions import Where

_REFERENCE = re.compile(r"\$\{([A-Za-z_][\w.-]*)\}")


def offered(q: Question, answers: Mapping[str, Any]) -> tuple[Choice, ...]:
    """The choices offered: all of them, or those the question's choice filter keeps."""
    choice_filter = q.expression(Where.CHOICE_FILTER)
    if choice_filter is None:
        return q.options
    return tuple(c for c in q.options if choice_filter.holds(answers, columns={**c.attributes, "name": c.value}))


def _filled(qn: Questionnaire, text: str, counted: Mapping[str, Any]) -> str:
    """`${name}` replaced by that answer as the person reads it, as ODK fills a label; empty when there is none."""

    def answer(found: re.Match[str]) -> str:
        name = found[1]
        if not qn.has(name):
            return found[0]
        return display(qn.question(name), counted[name]) if name in counted else ""

    return _REFERENCE.sub(answer, text)


def as_asked(qn: Questionnaire, q: Question, answers: Mapping[str, Any]) -> Question:
    """The question as it is asked given the answers so far: only the choices it offers, and the earlier answers
    its label and hint name (`${name}`) filled in."""
    named = "${" in q.text or "${" in (q.help or "")
    if q.choice_filter is None and not named:
        return q
    counted = effective_answers(qn, answers)
    update: dict[str, Any] = {}
    if q.choice_filter is not None:
        update["choices"] = list(offered(q, counted))
    if named:
        update["text"] = _filled(qn, q.text, counted)
        update["help"] = _filled(qn, q.help, counted) if q.help else q.help
    return q.model_copy(update=update)


def unoffered(qn: Questionnaire, answers: Mapping[str, Any]) -> str | None:
    """The first question whose answer its choice filter no longer offers (an earlier answer changed), or None."""
    if not any(q.choice_filter is not None and q.id in answers for q in qn.questions):
        return None
    counted = effective_answers(qn, answers)
    for q in qn.questions:
        if q.choice_filter is not None and q.id in answers:
            value = answers[q.id]
            chosen = set(value) if isinstance(value, list) else {value}
            if not chosen <= {c.value for c in offered(q, counted)}:
                return q.id
    return None


def _walk(qn: Questionnaire, answers: Mapping[str, Any]) -> tuple[list[Question], dict[str, Any]]:
    """The questions asked, and the values that count: the answers to those, and the calculated values."""
    shown: list[Question] = []
    counted: dict[str, Any] = {}
    for q, show_if, calculation, filtered in qn.asking:
        if show_if is not None and not show_if.test(counted):
            continue
        if calculation is not None:
            value = calculation.value(counted)
            if value is not None:
                counted[q.id] = value
            continue
        if filtered and not offered(q, counted):
            continue  # nothing left to choose from
        shown.append(q)
        if q.id in answers:
            counted[q.id] = answers[q.id]
    return shown, counted


def visible(qn: Questionnaire, answers: Mapping[str, Any]) -> list[Question]:
    """The questions asked, in order. A hidden question's answer does not count for later conditions."""
    return _walk(qn, answers)[0]


def expected_count(qn: Questionnaire, answers: Mapping[str, Any], shown: Iterable[Question]) -> int:
    """How many answerable questions this person will probably be asked, given those `shown` (visible now): a
    question whose condition rests on a question not answered yet counts as asked, so "Câu 1/14" does not start
    as "Câu 1/1"."""
    shown_ids = {q.id for q in shown}
    return sum(
        1 for q in qn.questions if q.answerable and (q.id in shown_ids or not qn.rests_on(q.id) <= answers.keys())
    )


def effective_answers(qn: Questionnaire, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers of visible questions, and the calculated values: what is scored and stored on submission."""
    return _walk(qn, answers)[1]
