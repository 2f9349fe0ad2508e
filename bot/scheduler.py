"""Scheduling inside the app (no cron): reminders before the deadline, the admins' morning digest, forgetting
the applied platform events past the redelivery window, and removing the evidence files no row refers to.

Every tick looks at each open period with the injected clock. A reminder is due from its time (the local reminder
hour, `reminder_days` days before the deadline) until the next one's; only the latest due is sent, so a bot that
was down does not send a burst of stale reminders. The digest is due from the reminder hour on each of the last
`digest_days` days up to the deadline. Each is queued in the outbox under a key (period, offset or day, person):
the key is unique, so with two app processes on one database each person gets each reminder once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextlib import suppress
from datetime import date, datetime, time, timedelta

from bot import evidence, jobs
from bot.outbox import Outbox
from bot.reminders import queue_digest, queue_reminders
from bot.service import BotService
from conversations.localtime import VIETNAM
from storage import repo

log = logging.getLogger(__name__)

FILES_SWEPT_EVERY = timedelta(hours=6)
"""How often the evidence files no row refers to are looked for (bot.evidence.sweep): a listing of the folder."""


def local_moment(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=VIETNAM)


def due_reminder(deadline: date, offsets: Sequence[int], hour: int, now: datetime) -> int | None:
    """The reminder (days before the deadline) whose time has come and whose successor's has not; None before the
    first and after the deadline day."""
    if now >= local_moment(deadline + timedelta(days=1), 0):
        return None
    due = [d for d in offsets if now >= local_moment(deadline - timedelta(days=d), hour)]
    return min(due) if due else None


def digest_day(deadline: date, days: int, hour: int, now: datetime) -> date | None:
    """Today (local) when it is one of the last `days` days up to the deadline and past the hour."""
    local = now.astimezone(VIETNAM)
    today = local.date()
    return today if 0 <= (deadline - today).days < days and local.hour >= hour else None


class Scheduler:
    def __init__(
        self,
        service: BotService,
        outbox: Outbox | None = None,
        *,
        offsets: Sequence[int] = (7, 3, 1),
        hour: int = 8,
        digest_days: int = 7,
        interval: float = 60.0,
    ) -> None:
        self.service, self.outbox = service, outbox
        self.offsets, self.hour, self.digest_days, self.interval = tuple(offsets), hour, digest_days, interval
        self._task: asyncio.Task[None] | None = None
        self._files_swept: datetime | None = None

    async def tick(self) -> int:
        """Queue whatever is due now; how many messages were queued (0 when another process did it)."""
        now = self.service.clock()
        queued = 0
        async with self.service.db.write() as db:
            for period in await repo.open_periods(db):
                offset = due_reminder(period.deadline, self.offsets, self.hour, now)
                if offset is not None:
                    queued += (await queue_reminders(self.service, db, period, f"nhac:{period.code}:{offset}"))[0]
                day = digest_day(period.deadline, self.digest_days, self.hour, now)
                if day is not None:
                    queued += await queue_digest(self.service, db, period, f"tomtat:{period.code}:{day.isoformat()}")
        queued += await jobs.sweep(self.service)
        async with self.service.db.write() as db:  # its own short transaction: an indexed range, every tick
            await repo.prune_inbox(db, now)
        if self._files_swept is None or now - self._files_swept >= FILES_SWEPT_EVERY:
            await evidence.sweep(self.service)
            self._files_swept = now
        if queued:
            log.info("scheduled %d notification(s)", queued)
            if self.outbox is not None:
                self.outbox.wake()
        return queued

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("the scheduler failed; trying again at the next tick")
            await asyncio.sleep(self.interval)
