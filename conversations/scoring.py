"""Points: a pure function of the definition and the answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conversations.conditions import effective_answers
from conversations.definition import Question, Questionnaire, QuestionType


@dataclass(frozen=True)
class GroupScore:
    code: str
    title: str
    points: float
    maximum: float


@dataclass(frozen=True)
class ScoreCard:
    groups: tuple[GroupScore, ...]
    total: float
    maximum: float
    level: str | None
    levels_configured: bool


def question_points(q: Question, value: Any) -> float:
    if q.bands:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return 0.0
        return next((b.points for b in q.bands if b.contains(float(value))), 0.0)
    points = {c.value: c.points or 0.0 for c in q.options}
    if q.type is QuestionType.MULTIPLE_CHOICE and isinstance(value, list):
        return min(sum(points.get(v, 0.0) for v in value), q.max_points)
    if isinstance(value, str):
        return points.get(value, 0.0)
    return 0.0


def score(qn: Questionnaire, answers: Mapping[str, Any]) -> ScoreCard:
    counted = effective_answers(qn, answers)
    groups = []
    for g in qn.groups:
        if g.max_points is None:
            continue
        raw = sum(question_points(q, counted[q.id]) for q in g.questions if q.id in counted)
        groups.append(GroupScore(g.code, g.title, min(raw, g.max_points), g.max_points))
    total = sum(s.points for s in groups)
    level = None
    if qn.classification:
        level = next((lv.name for lv in qn.classification if total >= lv.min_points), None)
    return ScoreCard(tuple(groups), total, qn.max_points, level, qn.classification is not None)
