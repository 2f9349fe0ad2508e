"""Progress of a period: each unit's self-assessment (not started, in progress, submitted, returned, approved) with
its answered share and its citizens' responses, the counts by status, the days left, and the officers who blocked
the bot. /tiendo shows it; the reminders and the admins' morning digest are written from the same figures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot import assignments
from bot import texts as t
from conversations import engine
from conversations.answers import number_text
from conversations.localtime import local_date
from conversations.status import Status
from conversations.text import vi_sort_key
from storage import repo
from storage.models import Period, Response, Unit
from storage.queries import Selection, unit_counts

if TYPE_CHECKING:
    from bot.service import BotService

STATUS_KEYS = (None, Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.APPROVED)
PROGRESS_SUMMARY = (
    "Tự đánh giá: {counted}/{total} đơn vị đã nộp, {draft} đang làm, {missing} chưa bắt đầu, {returned} bị trả lại "
    "(đã duyệt {approved}/{counted})."
)
DAYS_LEFT = "Còn {days} ngày đến hạn nộp."
LAST_DAY = "Hôm nay là hạn cuối."
OVERDUE = "Đã quá hạn {days} ngày."
STATUS_DRAFT = "đang làm ({answered}/{total} câu, {share} %)"
STATUS_RETURNED = "bị trả lại, đang sửa"
STATUS_APPROVED = "đã duyệt ({points} điểm)"


@dataclass(frozen=True)
class UnitProgress:
    unit: Unit
    response: Response | None
    answered: int
    asked: int
    surveys: int
    declined: int
    """Citizens who said no to the consent question: in no figure but the response rate."""

    @property
    def status(self) -> Status | None:
        return self.response.status if self.response else None

    @property
    def counted(self) -> bool:
        return self.status is not None and self.status.counted


async def period_progress(
    service: BotService, db: AsyncSession, period: Period, only: str | None = None
) -> list[UnitProgress]:
    """Each unit in force (or only one), in Vietnamese order: its self-assessment, how much of it is answered (on the
    version it was started on), and its citizens' responses."""
    qn = await assignments.first(db, service.questionnaires, period.code, assignments.Audience.UNIT)
    survey = await assignments.first(db, service.questionnaires, period.code, assignments.Audience.PUBLIC)
    units = await repo.units_in_force(db, min(local_date(service.clock()), period.deadline))
    units = sorted((u for u in units if only is None or u.code == only), key=lambda u: vi_sort_key(u.name))
    responses = {r.unit_code: r for r in await repo.responses(db, qn.id, period.code)} if qn else {}
    surveys = await unit_counts(db, Selection(survey.id, period.code)) if survey else {}
    declines = await unit_counts(db, Selection(survey.id, period.code), {Status.DECLINED}) if survey else {}
    found = []
    for unit in units:
        response = responses.get(unit.code)
        version = await service.definition_of(db, response) if response is not None else None
        answered, asked = engine.answered(version, response.state) if response and version else (0, 0)
        counts = surveys.get(unit.code, 0), declines.get(unit.code, 0)
        found.append(UnitProgress(unit, response, answered, asked, *counts))
    return found


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


def summary_line(progress: list[UnitProgress]) -> str:
    counts = status_counts(progress)
    return PROGRESS_SUMMARY.format(
        counted=sum(p.counted for p in progress),
        total=len(progress),
        draft=counts[Status.DRAFT],
        missing=counts[None],
        returned=counts[Status.RETURNED],
        approved=counts[Status.APPROVED],
    )


def unit_status(p: UnitProgress) -> str:
    response = p.response
    if response is None:
        return t.STATUS_MISSING
    points = number_text(response.total_points or 0)
    if response.status is Status.SUBMITTED:
        return t.STATUS_SUBMITTED.format(points=points)
    if response.status is Status.APPROVED:
        return STATUS_APPROVED.format(points=points)
    if response.status is Status.RETURNED:
        return STATUS_RETURNED
    return STATUS_DRAFT.format(answered=p.answered, total=p.asked, share=round(100 * p.answered / max(p.asked, 1)))
