"""Progress of a period, one questionnaire at a time: each unit's response to a self-assessment (not started, in
progress, submitted, returned, approved) with its answered share, a survey's responses by unit, the counts by
status, the days left, and the officers who blocked the bot. /tiendo shows it; the reminders and the admins' morning
digest are written from the same figures. Every function takes the database session and the questionnaire it is
asked about, so a page outside the chat (the dashboard) can call it too."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot import assignments
from bot import texts as t
from bot.assignments import Audience
from conversations import engine
from conversations.answers import number_text
from conversations.definition import Questionnaire
from conversations.localtime import local_date
from conversations.status import LABELS, VERIFIED, VERIFYING, Status
from storage import queries, repo
from storage.models import Account, Event, Period, Response, Unit, Verification
from storage.queries import Selection, verifications

if TYPE_CHECKING:
    from bot.service import BotService

STATUS_KEYS = (None, Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.APPROVED)
ASSESSMENT_COUNTS = (
    "{counted}/{total} đơn vị đã nộp, {draft} đang làm, {missing} chưa bắt đầu, {returned} bị trả lại "
    "(đã duyệt {approved}/{counted})."
)
DAYS_LEFT = "Còn {days} ngày đến hạn nộp."
LAST_DAY = "Hôm nay là hạn cuối."
OVERDUE = "Đã quá hạn {days} ngày."
STATUS_DRAFT = "đang làm ({answered}/{total} câu, {share} %)"
STATUS_RETURNED = "bị trả lại, đang sửa"
STATUS_APPROVED = "đã duyệt ({points} điểm)"
VERIFYING_STATUS = "{status}, {verifying}"
VERIFIED_STATUS = "{verified} ({points} điểm thẩm định, tự chấm {own})"
VERIFICATION_COUNTS = " Thẩm định: {verifying} {verifying_label}, {verified} {verified_label}."


@dataclass(frozen=True)
class UnitProgress:
    unit: Unit
    response: Response | None
    answered: int
    asked: int
    verification: Verification | None = None
    """The Justice Office's scoring of the response (bot.verification): none, begun, or finalised."""

    @property
    def verifying(self) -> bool:
        return self.counted and self.verification is not None and not self.verification.finalised

    @property
    def verified(self) -> bool:
        return self.counted and self.verification is not None and self.verification.finalised

    @property
    def status(self) -> Status | None:
        return self.response.status if self.response else None

    @property
    def counted(self) -> bool:
        return self.status is not None and self.status.counted


@dataclass(frozen=True)
class SurveyProgress:
    """A survey's responses in a period by unit code, and the people who said no to its consent question (in no
    figure but the response rate)."""

    survey: Questionnaire
    responses: dict[str, int]
    declined: dict[str, int]
    events: list[tuple[Event, int]] = field(default_factory=list)
    """The period's events on this survey, each with the responses that came through its link (bot.events)."""

    def of(self, unit_code: str) -> tuple[int, int]:
        return self.responses.get(unit_code, 0), self.declined.get(unit_code, 0)

    def events_of(self, unit_code: str) -> list[tuple[Event, int]]:
        return [(event, n) for event, n in self.events if event.unit_code == unit_code]


@dataclass(frozen=True)
class QuestionnaireProgress:
    """Where one questionnaire of a period stands over the units it is assigned to: a self-assessment's response
    per unit (`assessment`); an individual survey's officers per unit, those who answered and those who did not
    (`answered`, `pending`); a public survey's responses and declines per unit (`survey`)."""

    qn: Questionnaire
    audience: Audience
    units: list[Unit]
    assessment: list[UnitProgress] = field(default_factory=list)
    answered: dict[str, list[Account]] = field(default_factory=dict)
    pending: dict[str, list[Account]] = field(default_factory=dict)
    survey: SurveyProgress | None = None

    def officers(self, unit_code: str) -> tuple[int, int]:
        """An individual survey's officers of a unit: how many answered, and how many it has."""
        answered = len(self.answered.get(unit_code, []))
        return answered, answered + len(self.pending.get(unit_code, []))


async def period_questionnaires(
    service: BotService,
    db: AsyncSession,
    period: Period,
    wanted: Sequence[Audience] = (Audience.UNIT, Audience.PUBLIC, Audience.INDIVIDUAL),
) -> list[Questionnaire]:
    """The questionnaires a period runs (bot.assignments) for the audiences wanted (by default every one: what the
    exports cover, the units' self-assessments, then the public's and the officers' surveys), each once: by audience
    in the order wanted, then in the order assigned."""
    found = await assignments.of_period(db, service.questionnaires, period.code)
    ordered = [a.questionnaire for audience in wanted for a in found if a.audience is audience]
    return list({qn.id: qn for qn in ordered if qn is not None}.values())


async def assigned_units(
    service: BotService, db: AsyncSession, period: Period, qns: Sequence[Questionnaire]
) -> dict[str, tuple[str, ...]]:
    """For each questionnaire, the codes of the units in force the period assigns it to (what an export lists:
    exports.jobs.ExportRequest.units)."""
    today = min(local_date(service.clock()), period.deadline)
    found = {}
    for qn in qns:
        units = await assignments.units_of(db, service.questionnaires, period.code, qn.id, today)
        found[qn.id] = tuple(u.code for u in units)
    return found


async def period_overview(
    service: BotService, db: AsyncSession, period: Period, only: str | None = None, qn: Questionnaire | None = None
) -> list[QuestionnaireProgress]:
    """Each questionnaire the period runs (or only `qn`), self-assessments, then individual surveys, then public
    surveys, over the units in force it is assigned to (or only one unit; a questionnaire not assigned to that unit
    is left out)."""
    found = []
    for each in [qn] if qn is not None else await period_questionnaires(service, db, period, tuple(Audience)):
        today = min(local_date(service.clock()), period.deadline)
        units = await assignments.units_of(db, service.questionnaires, period.code, each.id, today)
        units = [u for u in units if only is None or u.code == only]
        if only is not None and not units:
            continue
        found.append(await questionnaire_progress(service, db, period, each, units))
    return found


async def questionnaire_progress(
    service: BotService, db: AsyncSession, period: Period, qn: Questionnaire, units: list[Unit]
) -> QuestionnaireProgress:
    """Where one questionnaire stands over the units given (bot.assignments says who answers it)."""
    audience = assignments.audience(qn)
    if audience is Audience.UNIT:
        return QuestionnaireProgress(qn, audience, units, await assessment_progress(service, db, period, qn, units))
    if audience is Audience.PUBLIC:
        return QuestionnaireProgress(qn, audience, units, survey=await survey_progress(db, period, qn))
    counted = {r.respondent for r in await repo.responses(db, qn.id, period.code) if r.status.counted}
    answered: dict[str, list[Account]] = {}
    pending: dict[str, list[Account]] = {}
    for unit in units:
        for officer in await repo.officers_of(db, unit.code):
            done = assignments.respondent(audience, "", officer.id) in counted
            (answered if done else pending).setdefault(unit.code, []).append(officer)
    return QuestionnaireProgress(qn, audience, units, answered=answered, pending=pending)


async def period_units(service: BotService, db: AsyncSession, period: Period, only: str | None = None) -> list[Unit]:
    """The units in force in the period (or only one), in the order of a unit list (repo.in_unit_order)."""
    units = await repo.units_in_force(db, min(local_date(service.clock()), period.deadline))
    return repo.in_unit_order(u for u in units if only is None or u.code == only)


async def assessment_progress(
    service: BotService, db: AsyncSession, period: Period, qn: Questionnaire, units: list[Unit]
) -> list[UnitProgress]:
    """Each unit's response to the self-assessment in the period, and how much of it is answered (on the version it
    was started on)."""
    responses = {r.unit_code: r for r in await repo.responses(db, qn.id, period.code)}
    scored = await verifications(db, [r.id for r in responses.values()])
    found = []
    for unit in units:
        response = responses.get(unit.code)
        version = await service.definition_of(db, response) if response is not None else None
        answered, asked = engine.answered(version, response.state) if response and version else (0, 0)
        scoring = scored.get(response.id) if response is not None else None
        found.append(UnitProgress(unit, response, answered, asked, verification=scoring))
    return found


async def survey_progress(db: AsyncSession, period: Period, survey: Questionnaire) -> SurveyProgress:
    selection = Selection(survey.id, period.code)
    return SurveyProgress(
        survey,
        await queries.unit_counts(db, selection),
        await queries.unit_counts(db, selection, {Status.DECLINED}),
        await event_progress(db, period, survey),
    )


async def event_progress(db: AsyncSession, period: Period, survey: Questionnaire) -> list[tuple[Event, int]]:
    """The period's events on a public survey, each with the responses that came through its link (what /tiendo
    and the dashboard show by event)."""
    found = await queries.events(db, period.code, survey.id)
    counted = await queries.event_counts(db, Selection(survey.id, period.code)) if found else {}
    return [(event, counted.get(event.id, 0)) for event in found]


async def period_events(service: BotService, db: AsyncSession, period: Period) -> list[tuple[Event, int]]:
    """The events of every public survey the period runs, survey by survey, each with its responses."""
    found = []
    for survey in await period_questionnaires(service, db, period, (Audience.PUBLIC,)):
        found += await event_progress(db, period, survey)
    return found


ChartFigures = tuple[list[tuple[str, dict[str, int]]], tuple[str, list[tuple[str, int]]] | None]
"""What exports.charts.progress_chart draws: each self-assessment's units by status, and a survey's responses per
unit, each under its questionnaire's short title."""


def chart_figures(found: Sequence[QuestionnaireProgress]) -> ChartFigures | None:
    """What the progress chart draws, in chat and on the dashboard: every self-assessment's units by status (the
    pilot framework beside TT 03/2018's criteria) beside the first public survey's responses per unit it is
    assigned to."""
    assessments = [p for p in found if p.audience is Audience.UNIT and p.units]
    survey = next((p for p in found if p.survey is not None and p.units), None)
    if not assessments and survey is None:
        return None
    statuses = [(p.qn.shown_title, {LABELS[k]: n for k, n in status_counts(p.assessment).items()}) for p in assessments]
    if survey is None or survey.survey is None:
        return statuses, None
    return statuses, (survey.qn.shown_title, [(u.name, survey.survey.of(u.code)[0]) for u in survey.units])


async def blocked_officers(db: AsyncSession) -> list[str]:
    """The officers who blocked the bot (so reminders do not reach them), each with their unit."""
    names = []
    for b in await repo.blocked_recipients(db):
        account = await repo.get_account(db, b.channel, b.recipient)
        if account is not None and account.unit_code is not None:
            unit = await repo.get_unit(db, account.unit_code)
            names.append(f"{account.display_name or 'cán bộ'} ({unit.name if unit else account.unit_code})")
    return names


def days_left_text(deadline: date, today: date) -> str:
    days = (deadline - today).days
    return DAYS_LEFT.format(days=days) if days > 0 else LAST_DAY if days == 0 else OVERDUE.format(days=-days)


def status_counts(progress: list[UnitProgress]) -> dict[Status | None, int]:
    counts = Counter(p.status for p in progress)
    return {key: counts[key] for key in STATUS_KEYS}


def assessment_counts(progress: list[UnitProgress]) -> str:
    """How many units submitted, are drafting, have not started, were returned, were approved."""
    counts = status_counts(progress)
    text = ASSESSMENT_COUNTS.format(
        counted=sum(p.counted for p in progress),
        total=len(progress),
        draft=counts[Status.DRAFT],
        missing=counts[None],
        returned=counts[Status.RETURNED],
        approved=counts[Status.APPROVED],
    )
    verifying, verified = sum(p.verifying for p in progress), sum(p.verified for p in progress)
    if verifying or verified:
        text += VERIFICATION_COUNTS.format(
            verifying=verifying,
            verifying_label=VERIFYING.lower(),
            verified=verified,
            verified_label=VERIFIED.lower(),
        )
    return text


def unit_status(p: UnitProgress) -> str:
    response = p.response
    if response is None:
        return t.STATUS_MISSING
    points = number_text(response.total_points or 0)
    if p.verified and p.verification is not None:
        verified = number_text(p.verification.total or 0)
        return VERIFIED_STATUS.format(verified=VERIFIED.lower(), points=verified, own=points)
    if p.verifying:
        return VERIFYING_STATUS.format(status=_response_status(p, points), verifying=VERIFYING.lower())
    return _response_status(p, points)


def _response_status(p: UnitProgress, points: str) -> str:
    response = p.response
    assert response is not None
    if response.status in (Status.SUBMITTED, Status.APPROVED) and response.total_points is None:
        return LABELS[response.status].lower()  # a framework without points (the pilot template): no "0 điểm"
    if response.status is Status.SUBMITTED:
        return t.STATUS_SUBMITTED.format(points=points)
    if response.status is Status.APPROVED:
        return STATUS_APPROVED.format(points=points)
    if response.status is Status.RETURNED:
        return STATUS_RETURNED
    return STATUS_DRAFT.format(answered=p.answered, total=p.asked, share=round(100 * p.answered / max(p.asked, 1)))
