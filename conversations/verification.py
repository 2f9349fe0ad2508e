"""The Justice Office's own scoring (thẩm định), worked out: for each scored criterion of a self-assessment the
unit's own points, the points the citizen survey gives where the criterion is measured by it (`measured_by`), and
the verified points; the same per group (capped at the group's maximum, as conversations.scoring caps the
self-score) and overall; which criteria were lowered or raised, and whether every one is verified.

A criterion not verified yet counts at its self-score in the verified totals (`complete` says whether any is
left). The criteria are the scored questions the unit's answers show (a criterion hidden by a show-if is not
scored, so there is nothing to verify)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conversations.conditions import effective_answers, visible
from conversations.definition import Question, Questionnaire
from conversations.measures import SurveyFigures
from conversations.scoring import question_points, score

EPSILON = 1e-9


@dataclass(frozen=True)
class Criterion:
    question: Question
    maximum: float
    self_points: float
    survey_points: float | None
    """The points the survey's figure earns under the criterion's bands; None when it is not measured by the
    survey or the figure cannot be used (too few respondents, hidden)."""
    verified: float | None
    """The Justice Office's points; None while not verified."""

    @property
    def proposed(self) -> float:
        """What accepting the criterion gives: the survey's points where it is measured by the survey, else the
        unit's own."""
        return self.survey_points if self.survey_points is not None else self.self_points

    @property
    def counted(self) -> float:
        """What the verified totals count: the verified points, or the self-score while not verified."""
        return self.verified if self.verified is not None else self.self_points

    @property
    def lowered(self) -> bool:
        return self.verified is not None and self.verified < self.self_points - EPSILON

    @property
    def raised(self) -> bool:
        return self.verified is not None and self.verified > self.self_points + EPSILON


@dataclass(frozen=True)
class GroupTotals:
    code: str
    title: str
    maximum: float
    self_points: float
    survey_points: float | None
    """The group's points with the survey's figures in place of the unit's; None when they cannot all be used."""
    verified: float


@dataclass(frozen=True)
class Verified:
    criteria: tuple[Criterion, ...]
    groups: tuple[GroupTotals, ...]
    maximum: float
    self_total: float
    survey_total: float | None
    """None when the questionnaire has no survey-measured criterion or a figure cannot be used."""
    verified_total: float

    @property
    def complete(self) -> bool:
        """Every scored criterion is verified."""
        return all(c.verified is not None for c in self.criteria)

    @property
    def unverified(self) -> list[Criterion]:
        return [c for c in self.criteria if c.verified is None]

    @property
    def lowered(self) -> list[Criterion]:
        return [c for c in self.criteria if c.lowered]

    @property
    def raised(self) -> list[Criterion]:
        return [c for c in self.criteria if c.raised]

    def criterion(self, question_id: str) -> Criterion | None:
        return next((c for c in self.criteria if c.question.id == question_id), None)


def scored_criteria(qn: Questionnaire, answers: Mapping[str, Any]) -> list[Question]:
    """The criteria to verify: the scored questions the answers show, in order."""
    return [q for q in visible(qn, answers) if q.scored]


def survey_points(q: Question, figures: SurveyFigures | None) -> float | None:
    """The points a survey-measured criterion earns from the survey's usable figure; None otherwise."""
    if figures is None or q.measured_by is None:
        return None
    rate = figures.usable(q.id)
    if rate is None or rate.percent is None:
        return None
    return question_points(q, rate.percent) or 0.0


def verify(
    qn: Questionnaire,
    answers: Mapping[str, Any],
    verified: Mapping[str, float],
    figures: SurveyFigures | None = None,
) -> Verified:
    """The self, survey-based and verified points of a self-assessment's answers, given the verified points
    ({question id: points}; those of questions not scored now are ignored)."""
    counted = effective_answers(qn, answers)
    criteria = tuple(
        Criterion(
            question=q,
            maximum=q.max_points,
            self_points=question_points(q, counted[q.id]) if counted.get(q.id) is not None else 0.0,
            survey_points=survey_points(q, figures),
            verified=verified.get(q.id),
        )
        for q in scored_criteria(qn, answers)
    )
    replaced = figures.answers(qn, answers) if figures is not None else None
    survey_card = score(qn, replaced) if replaced is not None else None
    survey_groups = {g.code: g.points for g in survey_card.groups} if survey_card is not None else {}
    groups = []
    for g in qn.groups:
        if g.max_points is None:
            continue
        own = [c for c in criteria if c.question.group == g.code]
        groups.append(
            GroupTotals(
                code=g.code,
                title=g.title,
                maximum=g.max_points,
                self_points=min(sum(c.self_points for c in own), g.max_points),
                survey_points=survey_groups.get(g.code),
                verified=min(sum(c.counted for c in own), g.max_points),
            )
        )
    return Verified(
        criteria=criteria,
        groups=tuple(groups),
        maximum=qn.max_points,
        self_total=sum(g.self_points for g in groups),
        survey_total=survey_card.total if survey_card is not None else None,
        verified_total=sum(g.verified for g in groups),
    )
