"""Reminders to the officers of units that have not submitted, and the admins' morning digest, written from the
period's progress (bot.progress) and queued through the outbox, once per key: by the scheduler at set times
(bot.scheduler) or by an admin with /nhacnho [mã đơn vị]."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox import admin_recipients, notify, recipients
from bot.progress import days_left_text, period_progress, summary_line, unit_status
from conversations.localtime import day_text, local_date
from storage import repo
from storage.models import Period

if TYPE_CHECKING:
    from bot.service import BotService

REMINDER = (
    "Nhắc việc: phiếu tự đánh giá kỳ {period} của {unit} chưa nộp ({status}). Hạn nộp: {deadline}. {left}\n"
    "Gõ /danhgia để làm tiếp."
)
DIGEST = "Tóm tắt ngày {day} – kỳ {period}, hạn nộp {deadline}. {left}\n{counted}/{total} đơn vị đã nộp. {summary}"
DIGEST_MISSING = "Chưa nộp: {units}."
DIGEST_FOOTER = "Gõ /tiendo để xem chi tiết, /nhacnho để nhắc các đơn vị chưa nộp."


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
