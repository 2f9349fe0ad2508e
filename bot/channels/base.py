"""What every platform channel does the same way.

Acknowledged means stored: a channel hands each event it receives to `accept`, which stores it in the inbox table
before the platform is answered, then applies it in the sender's turn (events of one person in the order they were
stored, people at the same time). The service marks the event done in the transaction that applies it (the
`update_id` it is given), so a redelivery is applied once; at start, `recover` applies what a crash left undone.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from bot.identity import actor_key
from bot.order import PersonOrder
from bot.sealing import SealBroken, Sealer
from bot.service import BotService
from storage import repo

log = logging.getLogger(__name__)
Event = TypeVar("Event")


@dataclass(frozen=True)
class Received(Generic[Event]):
    """What a stored payload comes to: the platform's key for it, who sent it (their platform id), the event."""

    key: str
    person: str
    event: Event


class PlatformChannel(Generic[Event]):
    name: str

    def __init__(self, service: BotService) -> None:
        self.service = service
        self.inbox = PersonOrder()
        self._recovered: set[int] = set()
        self._ready = asyncio.Event()
        self._sealer = Sealer(service.secret, "pbgdpl inbox")

    def received(self, payload: dict[str, Any]) -> Received[Event] | None:
        """The event in a payload as the platform sent it; None for one the bot ignores (never stored)."""
        raise NotImplementedError

    async def apply(self, key: str, event: Event) -> None:
        """Apply one event (the service gets `key` as its update id) and answer it."""
        raise NotImplementedError

    async def accept(self, payload: dict[str, Any]) -> None:
        """Store an event, then queue it; when this returns, the platform may be told it was received."""
        found = self.received(payload)
        if found is None:
            return
        actor = actor_key(self.service.secret, self.name, found.person)
        sealed = self._sealer.seal(json.dumps(payload, ensure_ascii=False).encode())
        async with self.service.db.write() as db:
            row = await repo.store_inbound(db, self.name, found.key, actor, sealed, self.service.clock())
        if row is None:
            return  # a redelivery: applied already, or queued
        await self._ready.wait()  # events stored while starting wait behind the ones a crash left
        if row not in self._recovered:
            self.inbox.later(actor, partial(self.apply, found.key, found.event))

    async def recover(self) -> None:
        """Queue the stored events not applied yet (a crash, a restart), oldest first; then take new ones."""
        async with self.service.db.read() as db:
            rows = await repo.pending_inbound(db, self.name)
        for row in rows:
            try:
                found = self.received(json.loads(self._sealer.open(row.payload))) if row.payload else None
            except (SealBroken, AttributeError, TypeError, ValueError, KeyError):
                found = None
            if found is None:  # SealBroken: the server secret changed since
                log.warning("a stored %s event cannot be read any more; left undone", self.name)
                continue
            self._recovered.add(row.id)
            self.inbox.later(row.person or found.person, partial(self.apply, found.key, found.event))
        if rows:
            log.info("%s: applying %d event(s) stored before a restart", self.name, len(rows))
        self._ready.set()
