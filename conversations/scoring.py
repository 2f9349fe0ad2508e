"""Points: a pure function of the definition and the answers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from conversations.conditions import effective_answers
from conversations.definition import Question, Questionnaire


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
    """The points an answer earns, by its question type (conversations.question_types)."""
    return q.kind.points(q, value)


def score(qn: Questionnaire, answers: Mapping[str, Any]) -> ScoreCard:
    counted = effective_answers(qn, answers)
    groups = []
    for g in qn.groups:
        if g.max_points is None:
            continue
        raw = sum(question_points(q, counted[q.id]) for q in g.questions if q.id in counted)
        groups.append(GroupScore(g.code, g.title, min(raw, g.max_points), g.max_points))
    total = sum(s.points for s in groups)
    return ScoreCard(tuple(groups), total, qn.max_points, level(qn, total), qn.classification is not None)


def level(qn: Questionnaire, total: float) -> str | None:
    """The questionnaire's level a total reaches (its `classification`, highest first); None when it has none or
    the total reaches none (a self total, or the Justice Office's verified total, conversations.verification)."""
    return next((lv.name for lv in qn.classification or () if total >= lv.min_points), None)


K = TypeVar("K")


def places(totals: Mapping[K, float]) -> dict[K, int]:
    """Ranks: highest total first; equal totals share a place (1, 1, 3). The exports rank the units by their own
    totals and the finalised ones by their verified totals (exports.assessment.ranked), /xem and the finalised notice
    the finalised ones (bot.verification.rank_line), all with this."""
    rounded = {k: round(t, 6) for k, t in totals.items()}
    return {k: 1 + sum(other > t for other in rounded.values()) for k, t in rounded.items()}
