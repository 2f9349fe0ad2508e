"""A public survey's current figures for one unit's survey-measured criteria (`measured_by`), worked out here
and handed to the engine as data: the officer is shown the figure instead of being asked to type it. Each
criterion reads the survey of the unit's audience: of the surveys it names, the first the period assigns to the unit
(`SurveyMeasure.survey_for`): a commune's citizens, a department's staff."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.definition import Question, Questionnaire
from conversations.disclosure import measure_hidden, read_over
from conversations.measures import Rate, SurveyFigures, SurveyTally, measure, measure_questions, measured_criteria
from storage.queries import Selection, unit_bases, unit_tallies


async def survey_figures(
    db: AsyncSession,
    questionnaires: Mapping[str, Questionnaire],
    qn: Questionnaire,
    period: str,
    unit_code: str,
    minimum: int,
    assigned: Collection[str],
) -> SurveyFigures | None:
    """The unit's figures for the questionnaire's survey-measured criteria, from the responses submitted this
    period to the survey each reads for the unit (`assigned`: the codes of the public surveys the period assigns to
    the unit); None when it has no such criterion. A figure resting on fewer than `minimum` respondents is
    given, but not used (the small-cell threshold of the exports), and so is one the exports hide beside another
    unit's (complementary suppression)."""
    by_survey: dict[str, list[Question]] = {}
    for q in measured_criteria(qn):
        assert q.measured_by is not None
        by_survey.setdefault(q.measured_by.survey_for(assigned), []).append(q)
    if not by_survey:
        return None
    rates: dict[str, Rate] = {}
    hidden: set[str] = set()
    for survey_id, criteria in by_survey.items():
        survey = questionnaires.get(survey_id)
        if survey is None:
            continue
        hows = [(q, q.measured_by) for q in criteria if q.measured_by is not None]
        needed = read_over(survey, [qid for _, how in hows for qid in measure_questions(survey, how)])
        # whether this unit's figure is hidden depends on the other units' (complementary suppression), and the
        # officer must not be shown a figure the exports hide: every unit's bases, which say whether any is hidden,
        # then only if one is every unit's answers (which say which); the answers of this unit alone otherwise
        bases = await unit_bases(db, Selection(survey_id, period), needed)
        own = await unit_tallies(db, Selection(survey_id, period, unit_code), needed)
        tally = own.get(unit_code, SurveyTally())
        rates.update({q.id: measure(survey, how, tally) for q, how in hows})
        enough = [(q, how) for q, how in hows if rates[q.id].base >= minimum]  # too few: said as such
        if any(measure_hidden(survey, how, bases, minimum) for _, how in enough):
            whole = await unit_tallies(db, Selection(survey_id, period), needed)
            hidden |= {q.id for q, how in enough if unit_code in measure_hidden(survey, how, whole, minimum)}
    return SurveyFigures(rates, minimum, frozenset(hidden))
