"""Progress of the current period: each unit's self-assessment (not started, in progress, submitted, returned,
approved) with its answered share, the late units, the citizens' responses against the target, and the people who
blocked the bot; admins also get it as a chart. An officer sees their own unit. The same figures feed the
reminders and the admins' morning digest."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts as t
from bot.messages import Document, Reply
from bot.service import BotService
from bot.table import Call
from conversations import engine
from conversations.answers import number_text
from conversations.engine import Outgoing
from conversations.localtime import day_text, local_date
from conversations.status import LABELS, Status
from conversations.text import vi_sort_key
from exports.charts import progress_chart
from storage import repo
from storage.models import Period, Response, Unit
from storage.queries import Selection, submitted_counts

STATUS_KEYS = (None, Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.APPROVED)
PROGRESS_SUMMARY = (
    "Tự đánh giá: {counted}/{total} đơn vị đã nộp, {draft} đang làm, {missing} chưa bắt đầu, {returned} bị trả lại "
    "(đã duyệt {approved}/{counted})."
)
DAYS_LEFT = "Còn {days} ngày đến hạn nộp."
LAST_DAY = "Hôm nay là hạn cuối."
OVERDUE = "Đã quá hạn {days} ngày."
LATE = "Trễ hạn, chưa nộp ({count}): {units}"
SURVEY_TARGET = (
    "Khảo sát người dân: {count} phiếu đã nộp; mục tiêu {target} phiếu mỗi đơn vị, {reached}/{total} đơn vị đạt."
)
BLOCKED = "Đã chặn bot nên không nhận được tin nhắc ({count}): {names}"
STATUS_DRAFT = "đang làm ({answered}/{total} câu, {share} %)"
STATUS_RETURNED = "bị trả lại, đang sửa"
STATUS_APPROVED = "đã duyệt ({points} điểm)"
STATUS_TARGET = "khảo sát {count}/{target}"


@dataclass(frozen=True)
class UnitProgress:
    unit: Unit
    response: Response | None
    answered: int
    asked: int
    surveys: int

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
    qn, survey = service.of_kind("self_assessment"), service.of_kind("citizen_survey")
    units = await repo.units_in_force(db, local_date(service.clock()))
    units = sorted((u for u in units if only is None or u.code == only), key=lambda u: vi_sort_key(u.name))
    responses = {r.unit_code: r for r in await repo.responses(db, qn.id, period.code)} if qn else {}
    surveys = await submitted_counts(db, Selection(survey.id, period.code)) if survey else {}
    found = []
    for unit in units:
        response = responses.get(unit.code)
        asked = []
        if response is not None:
            version = await service.definition_of(db, response)
            asked = engine.review_items(version, response.state) if version else []
        answered = sum(1 for q in asked if response and q.id in response.state["answers"])
        found.append(UnitProgress(unit, response, answered, len(asked), surveys.get(unit.code, 0)))
    return found


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


async def progress(call: Call) -> list[Reply]:
    service = call.service
    target = service.settings.survey_target
    db = call.db
    role = call.role
    period = await repo.current_period(db)
    if period is None or service.of_kind("self_assessment") is None:
        return [Outgoing(t.NO_PERIOD)]
    units = await period_progress(service, db, period, None if role.is_admin else role.unit_code)
    blocked = await repo.blocked_recipients(db)
    blocked_names = []
    for b in blocked:
        account = await repo.get_account(db, b.channel, b.recipient)
        if account is not None and account.unit_code is not None:
            unit = await repo.get_unit(db, account.unit_code)
            blocked_names.append(f"{account.display_name or 'cán bộ'} ({unit.name if unit else account.unit_code})")
    today = local_date(service.clock())
    targets = [STATUS_TARGET.format(count=p.surveys, target=target) for p in units]
    lines = [
        t.PROGRESS_LINE.format(unit=p.unit.name, status=f"{unit_status(p)}; {survey}")
        for p, survey in zip(units, targets, strict=True)
    ]
    late = [p.unit.name for p in units if not p.counted] if today > period.deadline else []
    header = [
        t.PROGRESS_TITLE.format(period=period.code, deadline=day_text(period.deadline)),
        days_left_text(period.deadline, today),
        summary_line(units),
        SURVEY_TARGET.format(
            count=sum(p.surveys for p in units),
            target=target,
            reached=sum(p.surveys >= target for p in units),
            total=len(units),
        ),
    ]
    if late:
        header.append(LATE.format(count=len(late), units=", ".join(late)))
    if blocked_names and role.is_admin:
        header.append(BLOCKED.format(count=len(blocked_names), names=", ".join(blocked_names)))
    text = Outgoing("\n".join([*header, "", *lines]))
    if not role.is_admin:
        return [text]
    counts = {LABELS[k]: n for k, n in status_counts(units).items()}
    surveyed = [(p.unit.name, p.surveys) for p in units]
    code = period.code

    async def chart() -> list[Reply]:
        drawn = await asyncio.to_thread(progress_chart, counts, surveyed, f"Tiến độ kỳ {code}", target)
        return [Document(f"tien-do-{code}.png", drawn, f"Biểu đồ tiến độ kỳ {code}", "image/png")]

    call.after(chart)
    return [text]
