"""Disclosure control: which figures of a table are hidden ("ẩn"), so that nobody can be picked out by their answers,
also by adding or subtracting the figures that are shown. Every writer asks here: the survey workbook and its CSV,
the self-assessment workbook's survey-based scores, the report's tables and its charts, and the survey's figure
an officer is shown for a survey-measured criterion (bot/figures.py).

A table here is a set of members (the units, or the groups of one breakdown such as gender) whose figures add up
to the figure of all of them ("Tất cả đơn vị", or everyone), a figure being a count or the numerator of a rate over
the respondents it rests on (its base).

- Primary suppression: a figure resting on at least one but fewer than K respondents is hidden.
- Complementary suppression: where exactly one member of a table is hidden, the shown total minus the shown members
  would give it, so one more member is hidden: the one with the fewest respondents among those that have any (ties:
  the first code). Then the total minus the shown members gives only the sum of two hidden figures. The total itself
  is never hidden as a complement, so tables that share it (units and each breakdown, the workbook and the report)
  stay independent; it is hidden only when it rests on fewer than K respondents itself, and then so is every member.
- The choice depends only on the members' bases, so every table holding the same figure (the share answering "Có"
  on Tổng hợp and its count on Theo câu hỏi, the survey workbook and the self-assessment's survey-based scores)
  hides the same members. It is made over every unit with respondents, also when an export shows only one, so
  exports of one unit and of all units never differ in what they show of a unit.
- A member without respondents shows nothing: its figure is known to be zero and plays no part.
- A question asked only after some answer (show-if) rests on as many respondents as gave that answer: its figures
  (and its "Số người trả lời") are hidden wherever that answer's count is, or they would give it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from functools import partial
from typing import TypeVar

from conversations.definition import Questionnaire, SurveyMeasure
from conversations.measures import SurveyTally, measure, measure_questions

Member = TypeVar("Member", bound=Hashable)


def too_few(base: int, minimum: int) -> bool:
    """A figure resting on at least one but fewer than `minimum` respondents (primary suppression)."""
    return 0 < base < minimum


def hidden(bases: Mapping[Member, int], minimum: int) -> frozenset[Member]:
    """The members of one table whose figure is hidden, given how many respondents each figure rests on."""
    found = {m for m, base in bases.items() if too_few(base, minimum)}
    others = [m for m, base in bases.items() if base and m not in found]
    if len(found) == 1 and others:
        found.add(min(others, key=lambda m: (bases[m], str(m))))
    return frozenset(found)


def conditions(qn: Questionnaire, question_id: str) -> frozenset[str]:
    """The questions whose answers decide whether this one is asked (show-if), but the consent question: every
    counted respondent said yes to it. A figure's base on such a question is a count of those answers."""
    return frozenset(r for r in qn.rests_on(question_id) if not qn.question(r).consent)


def _answered(question_id: str, tally: SurveyTally) -> int:
    return tally.answered[question_id]


def answered(question_id: str) -> Callable[[SurveyTally], int]:
    """How many respondents a figure on one question rests on."""
    return partial(_answered, question_id)


def hidden_figure(
    qn: Questionnaire,
    tallies: Mapping[str, SurveyTally],
    base: Callable[[SurveyTally], int] | None,
    questions: Iterable[str],
    minimum: int,
) -> frozenset[str]:
    """The units whose figure (resting on `base` respondents, computed from `questions`) is hidden: by its own
    bases, and wherever a question it rests on is asked after an answer whose count is hidden, since the figure's
    base (or a figure and its percentage) would give that count. Without `base`: only the latter (the number who
    answered a question, which is such a count)."""
    found = set(hidden({code: base(t) for code, t in tallies.items()}, minimum)) if base is not None else set()
    for r in {r for q in questions for r in conditions(qn, q)}:
        found |= hidden({code: t.answered[r] for code, t in tallies.items()}, minimum)
    return frozenset(found)


def total_hidden(
    qn: Questionnaire,
    total: SurveyTally,
    base: Callable[[SurveyTally], int] | None,
    questions: Iterable[str],
    minimum: int,
) -> bool:
    """Whether the figure of all the units is hidden: only when it (unless `base` is None), or an answer it rests
    on, has too few."""
    refs = {r for q in questions for r in conditions(qn, q)}
    own = base is not None and too_few(base(total), minimum)
    return own or any(too_few(total.answered[r], minimum) for r in refs)


def _measure_base(survey: Questionnaire, how: SurveyMeasure, tally: SurveyTally) -> int:
    return measure(survey, how, tally).base


def measure_hidden(
    survey: Questionnaire, how: SurveyMeasure, tallies: Mapping[str, SurveyTally], minimum: int
) -> frozenset[str]:
    """The units whose figure for a survey-measured criterion is hidden, decided over every unit with respondents
    (`tallies`), as the survey workbook decides it: the same in the exports and in the figure an officer is shown."""
    base = partial(_measure_base, survey, how)
    return hidden_figure(survey, tallies, base, measure_questions(survey, how), minimum)
