"""Scheduling on SQLite and PostgreSQL: when reminders and digests are due, and two app processes on one database
scheduling them at the same moment queue each once."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from bot.scheduler import Scheduler, digest_day, due_reminder
from storage.models import OutboxMessage
from tests.client import Chat, Clock, running_service

DEADLINE = date(2026, 3, 15)


def test_the_latest_due_reminder_only_and_none_after_the_deadline_day() -> None:
    at = lambda *args: datetime(*args, tzinfo=UTC)  # noqa: E731
    assert due_reminder(DEADLINE, (7, 3, 1), 8, at(2026, 3, 8, 0, 59)) is None  # 07:59 in Vietnam, a week before
    assert due_reminder(DEADLINE, (7, 3, 1), 8, at(2026, 3, 8, 1, 0)) == 7
    assert due_reminder(DEADLINE, (7, 3, 1), 8, at(2026, 3, 11, 23, 0)) == 7  # 06:00 on 12/3
    assert due_reminder(DEADLINE, (7, 3, 1), 8, at(2026, 3, 12, 1, 0)) == 3
    assert due_reminder(DEADLINE, (7, 3, 1), 8, at(2026, 3, 15, 16, 59)) == 1  # 23:59 on the deadline day
    assert due_reminder(DEADLINE, (7, 3, 1), 8, at(2026, 3, 15, 17, 0)) is None
    assert digest_day(DEADLINE, 7, 8, at(2026, 3, 8, 1, 0)) is None, "seven days left: not the last week yet"
    assert digest_day(DEADLINE, 7, 8, at(2026, 3, 9, 0, 30)) is None, "before the hour"
    assert digest_day(DEADLINE, 7, 8, at(2026, 3, 9, 1, 0)) == date(2026, 3, 9)
    assert digest_day(DEADLINE, 7, 8, at(2026, 3, 16, 1, 0)) is None


async def test_two_schedulers_on_one_database_queue_each_reminder_once(tmp_path: Path, database_url: str) -> None:
    clock = Clock(datetime(2026, 12, 24, 1, 0, tzinfo=UTC))  # 08:00, seven days before 31/12
    async with (
        running_service(tmp_path / "one", clock, database_url) as one,
        running_service(tmp_path / "two", clock, database_url) as two,
    ):
        admin = Chat(one, "admin")
        for n, unit in enumerate(["16012", "16012", "16021", "16078"]):
            code = re.search(r"dk_([A-Z0-9]+)", await admin.send(f"/moi {unit}"))
            assert code
            await Chat(one, f"officer-{n}").send(f"/start dk_{code[1]}")
        first, second = Scheduler(one), Scheduler(two)
        counts = await asyncio.gather(*[s.tick() for s in (first, second, first, second)])
        assert sum(counts) == 4, counts
        clock.advance(days=1)  # the last week: the digest for the admin, once
        counts = await asyncio.gather(first.tick(), second.tick())
        assert sorted(counts) == [0, 1]
        async with one.db.read() as db:
            rows = (await db.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    reminders = [r for r in rows if r.kind == "reminder"]
    assert sorted(r.recipient for r in reminders) == ["officer-0", "officer-1", "officer-2", "officer-3"]
    assert {r.dedupe_key.split(":")[2] for r in reminders if r.dedupe_key} == {"7"}
    [digest] = [r for r in rows if r.kind == "digest"]
    assert digest.recipient == "admin" and "0/5 đơn vị đã nộp" in digest.text
