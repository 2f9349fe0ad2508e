"""/tiendo: progress of the current period (bot.progress) as text: each unit's self-assessment and its citizens'
responses against the target, the late units and the officers who blocked the bot; admins also get it as a chart.
An officer sees their own unit."""

from __future__ import annotations

import asyncio

from bot import assignments
from bot import texts as t
from bot.messages import Document, Reply
from bot.progress import blocked_officers, days_left_text, period_progress, status_counts, summary_line, unit_status
from bot.table import Call
from conversations.engine import Outgoing
from conversations.localtime import day_text, local_date
from conversations.measures import declines_text
from conversations.status import LABELS
from exports.charts import progress_chart
from storage import repo
from storage.queries import get_period

CLOSED_ON = "Kỳ đã đóng ngày {day}."
NO_SUCH_PERIOD = "Không có kỳ đánh giá “{code}”."
CLOSED_ONES = "Tiến độ của một kỳ đã đóng: /tiendo <mã kỳ>, ví dụ /tiendo 2025."
LATE = "Trễ hạn, chưa nộp ({count}): {units}"
SURVEY_TARGET = (
    "Khảo sát người dân: {count} phiếu đã nộp{declines}; mục tiêu {target} phiếu mỗi đơn vị, {reached}/{total} đơn vị "
    "đạt."
)
BLOCKED = "Đã chặn bot nên không nhận được tin nhắc ({count}): {names}"
STATUS_TARGET = "khảo sát {count}/{target}"
STATUS_DECLINES = ", {declined} từ chối"


async def progress(call: Call) -> list[Reply]:
    service = call.service
    target = service.settings.survey_target
    db = call.db
    role = call.role
    period = await get_period(db, call.args[0]) if call.args else await repo.current_period(db)
    if period is None and call.args:
        return [Outgoing(NO_SUCH_PERIOD.format(code=call.args[0]))]
    if period is None:
        return [Outgoing(role.pick(t.NO_PERIOD, admin=t.NO_PERIOD_ADMIN) + "\n" + CLOSED_ONES)]
    if await assignments.first(db, service.questionnaires, period.code, assignments.Audience.UNIT) is None:
        return [Outgoing(role.pick(t.NO_QUESTIONNAIRE, admin=t.NO_QUESTIONNAIRE_ADMIN))]
    units = await period_progress(service, db, period, None if role.is_admin else role.unit_code)
    blocked_names = await blocked_officers(db)
    today = local_date(service.clock())
    targets = [
        STATUS_TARGET.format(count=p.surveys, target=target)
        + (STATUS_DECLINES.format(declined=p.declined) if p.declined else "")
        for p in units
    ]
    lines = [
        t.PROGRESS_LINE.format(unit=p.unit.name, status=f"{unit_status(p)}; {survey}")
        for p, survey in zip(units, targets, strict=True)
    ]
    late = [p.unit.name for p in units if not p.counted] if today > period.deadline else []
    header = [
        t.PROGRESS_TITLE.format(period=period.code, deadline=day_text(period.deadline)),
        CLOSED_ON.format(day=day_text(local_date(period.closed_at)))
        if period.closed_at is not None and not period.is_open
        else days_left_text(period.deadline, today),
        summary_line(units),
        SURVEY_TARGET.format(
            count=sum(p.surveys for p in units),
            declines=declines_text(sum(p.surveys for p in units), sum(p.declined for p in units)),
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
