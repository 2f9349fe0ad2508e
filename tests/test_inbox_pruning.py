"""Applied platform events are kept in the inbox for the redelivery window, then forgotten by the scheduler's tick."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.scheduler import Scheduler
from bot.service import Sender
from conversations.engine import Inbound
from storage.models import InboxEvent
from tests.client import Clock, running_service


async def test_events_applied_before_the_redelivery_window_are_pruned(tmp_path: Path, database_url: str) -> None:
    clock = Clock()
    async with running_service(tmp_path, clock, database_url) as service:
        citizen = Sender("test", "77")
        scheduler = Scheduler(service)
        await service.handle(citizen, Inbound(text="/start ks_16012"), update_id="1")
        clock.advance(hours=47)
        await service.handle(citizen, Inbound(text="có"), update_id="2")
        await scheduler.tick()
        assert await service.handle(citizen, Inbound(text="có"), update_id="1") == [], "still a redelivery at 47 h"
        clock.advance(hours=2)
        await scheduler.tick()
        async with service.db.read() as db:
            kept = (await db.scalars(select(InboxEvent.update_key))).all()
        assert kept == ["2"]
