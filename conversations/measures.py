"""Survey figures: tallies of submitted survey answers, the percentages they give, and the points a criterion
measured by the survey (`measured_by`) earns from them under its own bands."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conversations.answers import number_text
from conversations.definition import Question, Questionnaire, SurveyMeasure

PERCENT_DECIMALS = 1
"""Percentages are rounded once, before banding, so the points always follow the figure people read."""


@dataclass
class SurveyTally:
    """Counts over a set of submitted survey responses (a unit, a group of respondents, everyone); `declined`
    counts the people who said no to the consent question, who are in no other count."""

    responses: int = 0
    declined: int = 0
    answered: Counter[str] = field(default_factory=Counter)
    chosen: Counter[tuple[str, str]] = field(default_factory=Counter)
    points: dict[str, float] = field(default_factory=dict)

    def add(self, question_id: str, value: Any, count: int, points: float | None = None) -> None:
        """`count` respondents gave `value` (a choice, or a list of choices) to the question, earning `points`
        between them."""
        self.answered[question_id] += count
        for choice in value if isinstance(value, list) else [value]:
            if isinstance(choice, str):
                self.chosen[(question_id, choice)] += count
        if points:
            self.points[question_id] = self.points.get(question_id, 0.0) + points

    def merge(self, other: SurveyTally) -> None:
        self.responses += other.responses
        self.declined += other.declined
        self.answered.update(other.answered)
        self.chosen.update(other.chosen)
        for question_id, points in other.points.items():
            self.points[question_id] = self.points.get(question_id, 0.0) + points


@dataclass(frozen=True)
class Rate:
    """A percentage (None when nobody answered) and how many respondents it rests on."""

    percent: float | None
    base: int


@dataclass(frozen=True)
class SurveyFigures:
    """The citizen survey's current figures for one unit's survey-measured criteria, worked out by the host and
    given to the engine as data: {criterion id: rate}, and the fewest respondents a figure may rest on."""

    rates: Mapping[str, Rate]
    minimum: int
    hidden: frozenset[str] = frozenset()
    """The criteria whose figure disclosure control hides for this unit although it rests on enough respondents
    (beside a unit with too few, conversations.disclosure): not used, as the exports do not show it."""

    def usable(self, question_id: str) -> Rate | None:
        """The criterion's figure when it rests on enough respondents and is not hidden, else None."""
        rate = self.rates.get(question_id)
        if question_id in self.hidden or rate is None or rate.percent is None:
            return None
        return rate if rate.base >= self.minimum else None

    def answers(self, qn: Questionnaire, answers: Mapping[str, Any]) -> dict[str, Any] | None:
        """with_survey_figures() of the figures that are not hidden."""
        shown = {qid: rate for qid, rate in self.rates.items() if qid not in self.hidden}
        return with_survey_figures(qn, answers, shown, self.minimum)


def _percent(part: float, whole: float) -> float | None:
    return round(100 * part / whole, PERCENT_DECIMALS) if whole else None


def response_rate(responses: int, declined: int) -> Rate:
    """The share of the people asked for their consent who took part: responses / (responses + declines)."""
    return Rate(_percent(responses, responses + declined), responses + declined)


DECLINES = ", {declined} người từ chối tham gia (tỷ lệ trả lời {rate} %)"


def declines_text(responses: int, declined: int) -> str:
    """The declines and the response rate, when anyone declined (/tiendo and the report)."""
    if not declined:
        return ""
    return DECLINES.format(declined=declined, rate=number_text(response_rate(responses, declined).percent or 0))


def share(tally: SurveyTally, question_id: str, values: list[str]) -> Rate:
    """The share of the respondents who answered the question that chose one of `values`."""
    base = tally.answered[question_id]
    return Rate(_percent(sum(tally.chosen[(question_id, v)] for v in values), base), base)


def earned(survey: Questionnaire, group_code: str, tally: SurveyTally) -> Rate:
    """The share of the available points of a scored survey group that the respondents earned."""
    scored = [q for q in survey.group(group_code).questions if q.scored]
    possible = sum(tally.answered[q.id] * q.max_points for q in scored)
    base = max((tally.answered[q.id] for q in scored), default=0)
    return Rate(_percent(sum(tally.points.get(q.id, 0.0) for q in scored), possible), base)


def measure(survey: Questionnaire, how: SurveyMeasure, tally: SurveyTally) -> Rate:
    if how.group is not None:
        return earned(survey, how.group, tally)
    assert how.question is not None
    return share(tally, how.question, how.values)


def measure_questions(survey: Questionnaire, how: SurveyMeasure) -> list[str]:
    """The survey questions a measure is computed from."""
    if how.group is not None:
        return [q.id for q in survey.group(how.group).questions if q.scored]
    assert how.question is not None
    return [how.question]


def measured_criteria(qn: Questionnaire) -> list[Question]:
    return [q for q in qn.questions if q.measured_by is not None]


def with_survey_figures(
    qn: Questionnaire, answers: Mapping[str, Any], rates: Mapping[str, Rate], minimum: int
) -> dict[str, Any] | None:
    """The answers with every survey-measured criterion's figure replaced by the survey's, to be scored by the
    usual rules; None unless each of those figures rests on at least `minimum` respondents."""
    replaced = dict(answers)
    for q in measured_criteria(qn):
        rate = rates.get(q.id)
        if rate is None or rate.percent is None or rate.base < minimum:
            return None
        replaced[q.id] = rate.percent
    return replaced
