"""The survey figures an officer (and /xem, and the dashboard's unit page) is shown read every unit's bases
(storage.queries.unit_bases: counts only) and the unit's own answers (unit_tallies of that unit), and every unit's
whole tallies only where the bases hide something: on random responses over several units, with too few in some
(primary and complementary suppression), declines and drafts, on both databases, the bases are those of the whole
tallies and the figures, the hidden ones included, are those worked out from the whole tallies as the exports do."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from bot import assignments
from bot.service import BotService
from conversations.definition import Question, Questionnaire
from conversations.disclosure import measure_hidden, read_over
from conversations.measures import SurveyFigures, SurveyTally, measure, measure_questions, measured_criteria
from conversations.status import Status
from storage import repo
from storage.models import Answer, Response
from storage.queries import Selection, unit_bases, unit_tallies
from tests.client import running_service

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
STATUSES = [Status.SUBMITTED, Status.SUBMITTED, Status.APPROVED, Status.DECLINED, Status.DRAFT]


def random_value(q: Question, rng: random.Random) -> object:
    values = [c.value for c in q.choices]
    if q.type == "select_multiple":
        return rng.sample(values, rng.randint(1, len(values)))
    return rng.choice(values) if values else rng.randint(0, 10)


async def add_responses(
    service: BotService, survey: Questionnaire, questions: list[Question], period: str, units: list[str], round_: int
) -> None:
    """0 to 9 responses per unit, at random statuses, each answering each listed question or not."""
    rng = random.Random(round_)
    async with service.db.write() as db:
        for unit in units:
            for n in range(rng.randint(0, 9)):
                key = f"test-{round_}-{unit}-{n}"
                response = Response(
                    dedupe_key=key,
                    questionnaire_id=survey.id,
                    questionnaire_version=survey.version,
                    period_code=period,
                    unit_code=unit,
                    respondent=key,
                    status=rng.choice(STATUSES),
                    state={},
                    created_at=NOW,
                    updated_at=NOW,
                )
                db.add(response)
                await db.flush()
                for q in questions:
                    if rng.random() < 0.8:
                        value, points = random_value(q, rng), rng.choice([None, 0.0, 1.0, 2.5])
                        answer = Answer(
                            response_id=response.id, question_id=q.id, value=value, value_text="", points=points
                        )
                        db.add(answer)


def from_whole_tallies(
    survey: Questionnaire, qn: Questionnaire, tallies: dict[str, SurveyTally], unit: str, minimum: int
) -> SurveyFigures:
    """The figures as worked out from every unit's whole tallies (what the exports read)."""
    hows = [(q, q.measured_by) for q in measured_criteria(qn) if q.measured_by is not None]
    rates = {q.id: measure(survey, how, tallies.get(unit, SurveyTally())) for q, how in hows}
    hidden = {
        q.id for q, how in hows if rates[q.id].base >= minimum and unit in measure_hidden(survey, how, tallies, minimum)
    }
    return SurveyFigures(rates, minimum, frozenset(hidden))


async def test_figures_from_the_bases_are_those_of_the_whole_tallies(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        qn, survey = service.questionnaires["tu-danh-gia"], service.questionnaires["khao-sat-nguoi-dan"]
        needed = read_over(
            survey,
            [qid for q in measured_criteria(qn) if q.measured_by for qid in measure_questions(survey, q.measured_by)],
        )
        questions = [q for q in survey.questions if q.id in needed]
        minimum = service.settings.suppress_below
        async with service.db.read() as db:
            period = await repo.current_period(db)
            assert period is not None
            units = [u.code for u in await repo.units_in_force(db, NOW.date(), "commune")]
        assert len(units) == 5
        hidden_seen = 0
        for round_ in range(8):
            await add_responses(service, survey, questions, period.code, units, round_)
            async with service.db.read() as db:
                whole = await unit_tallies(db, Selection(survey.id, period.code), needed)
                bases = await unit_bases(db, Selection(survey.id, period.code), needed)
                assert {u: (t.responses, t.declined, +t.answered) for u, t in bases.items()} == {
                    u: (t.responses, t.declined, +t.answered) for u, t in whole.items()
                }
                for unit in units:
                    unit_row = await repo.get_unit(db, unit)
                    assert unit_row is not None
                    public = await assignments.for_unit(
                        db, service.questionnaires, period.code, unit_row, assignments.Audience.PUBLIC
                    )
                    assert survey.id in {s.id for s in public}
                    shown = await service.figures(db, qn, period.code, unit)
                    assert shown == from_whole_tallies(survey, qn, whole, unit, minimum), (round_, unit)
                    hidden_seen += bool(shown is not None and shown.hidden)
        assert hidden_seen  # complementary suppression was met
