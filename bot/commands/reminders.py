"""Reminders to the officers of units that have not submitted, and the admins' morning digest: queued through the
outbox, by the scheduler at set times (bot.scheduler) or by an admin with /nhacnho [mã đơn vị]."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit
from bot import texts as t
from bot.messages import Reply
from bot.outbox import admin_recipients, notify, recipients
from bot.progress import days_left_text, period_progress, summary_line, unit_status
from bot.service import BotService
from bot.table import Call
from conversations.engine import Outgoing
from conversations.localtime import day_text, local_date
from storage import repo
from storage.models import Period

REMINDER = (
    "Nhắc việc: phiếu tự đánh giá kỳ {period} của {unit} chưa nộp ({status}). Hạn nộp: {deadline}. {left}\n"
    "Gõ /danhgia để làm tiếp."
)
DIGEST = "Tóm tắt ngày {day} – kỳ {period}, hạn nộp {deadline}. {left}\n{counted}/{total} đơn vị đã nộp. {summary}"
DIGEST_MISSING = "Chưa nộp: {units}."
DIGEST_FOOTER = "Gõ /tiendo để xem chi tiết, /nhacnho để nhắc các đơn vị chưa nộp."
REMINDED = "Đã nhắc {officers} cán bộ của {units} đơn vị chưa nộp: {names}."
ALL_DONE = "Tất cả đơn vị đã nộp phiếu tự đánh giá kỳ {period}; không cần nhắc."
NO_OFFICERS = "Đơn vị chưa có cán bộ nào dùng bot (hãy gửi mã mời bằng /moi <mã đơn vị>): {names}."
UNIT_NOT_FOUND = "Không có đơn vị “{code}” đang áp dụng. Gõ /donvi để xem mã các đơn vị."


async def queue_reminders(
    service: BotService, db: AsyncSession, period: Period, key: str | None, only: str | None = None
) -> tuple[int, list[str], list[str]]:
    """Queue a reminder for each officer of each unit that has not submitted (or only one unit); with a key, each
    officer gets that reminder once, however often and by however many processes this runs. Returns the messages
    queued, the units reminded and the units that have nobody to remind."""
    now = service.clock()
    left = days_left_text(period.deadline, local_date(now))
    queued, reminded, nobody = 0, [], []
    for p in await period_progress(service, db, period, only):
        if p.counted:
            continue
        officers = await repo.officers_of(db, p.unit.code)
        if not officers:
            nobody.append(p.unit.name)
            continue
        text = REMINDER.format(
            period=period.code,
            unit=p.unit.name,
            status=unit_status(p),
            deadline=day_text(period.deadline),
            left=left,
        )
        queued += await notify(db, recipients(officers), "reminder", text, now, key)
        reminded.append(p.unit.name)
    return queued, reminded, nobody


async def queue_digest(service: BotService, db: AsyncSession, period: Period, key: str) -> int:
    """Queue the morning digest of the period for every admin, once per key."""
    now = service.clock()
    progress = await period_progress(service, db, period)
    missing = [p.unit.name for p in progress if not p.counted]
    lines = [
        DIGEST.format(
            day=day_text(now),
            period=period.code,
            deadline=day_text(period.deadline),
            left=days_left_text(period.deadline, local_date(now)),
            counted=len(progress) - len(missing),
            total=len(progress),
            summary=summary_line(progress),
        )
    ]
    if missing:
        lines.append(DIGEST_MISSING.format(units=", ".join(missing)))
    lines.append(DIGEST_FOOTER)
    return await notify(db, await admin_recipients(db, service.admins), "digest", "\n".join(lines), now, key)


async def remind(call: Call) -> list[Reply]:
    service = call.service
    db = call.db
    period = await repo.current_period(db)
    if period is None:
        return [Outgoing(t.NO_PERIOD)]
    only = call.args[0] if call.args else None
    if only is not None and not await period_progress(service, db, period, only):
        return [Outgoing(UNIT_NOT_FOUND.format(code=only))]
    queued, reminded, nobody = await queue_reminders(service, db, period, None, only)
    detail = {"units": reminded, "messages": queued, "without_officers": nobody}
    await audit.record(db, call.sender, service.clock(), "remind", only or "tất cả", detail)
    if not reminded and not nobody:
        return [Outgoing(ALL_DONE.format(period=period.code))]
    lines = [REMINDED.format(officers=queued, units=len(reminded), names=", ".join(reminded))] if reminded else []
    if nobody:
        lines.append(NO_OFFICERS.format(names=", ".join(nobody)))
    return [Outgoing("\n".join(lines))]
