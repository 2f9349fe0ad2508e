"""What every channel does the same way.

`Channel`: a name, webhook routes (none by default), start and stop, a notification nobody asked for (`notify`, one
attempt, for the outbox), the files people send and deep links when the platform has them, and delivery with a
bounded number of retries. bot.app registers each channel in the service's registry (bot/channels/registry.py).

`PlatformChannel` adds the per-person inbox. Acknowledged means stored: a channel hands each event it receives to
`accept`, which stores it in the inbox table before the platform is answered, then applies it in the sender's turn
(events of one person in the order they were stored, people at the same time). The service marks the event done in
the transaction that applies it (the `update_id` it is given), so a redelivery is applied once; at start, `recover`
applies what a crash left undone.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot.identity import actor_key
from bot.order import PersonOrder
from bot.outbox import Delivery
from bot.sealing import SealBroken, Sealer
from bot.service import BotService
from conversations.engine import FileRef, Outgoing
from storage import repo

log = logging.getLogger(__name__)
Event = TypeVar("Event")


@dataclass(frozen=True)
class Received(Generic[Event]):
    """What a stored payload comes to: the platform's key for it, who sent it (their platform id), the event."""

    key: str
    person: str
    event: Event


class Channel:
    name: str

    def __init__(self, service: BotService, *, max_attempts: int = 5, retry_delay: float = 1.0) -> None:
        self.service = service
        self.max_attempts, self.retry_delay = max_attempts, retry_delay

    def routes(self) -> list[web.RouteDef]:
        """The webhook routes of the one web app (bot/web.py)."""
        return []

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def notify(self, platform_id: str, message: Outgoing) -> Delivery:
        """One attempt at a message nobody asked for (the outbox retries and paces)."""
        raise NotImplementedError

    async def fetch_file(self, ref: FileRef) -> bytes | None:
        """The bytes of a file a person sent; None on a platform whose files the bot cannot fetch."""
        return None

    def deep_link(self, payload: str) -> str | None:
        """A link that opens a chat with the bot and starts it with `payload`; None on a platform without them."""
        return None

    async def deliver(self, attempt: Callable[[], Awaitable[Delivery]], what: str) -> bool:
        """Make one platform call, waiting out a rate limit for as long as the platform asks and retrying network
        faults with a growing backoff, at most `max_attempts` times. The user's answer is already stored; only the
        reply is at stake here."""
        for tried in range(1, self.max_attempts + 1):
            result = await attempt()
            if result.status != "retry":
                return result.status == "sent"
            if result.retry_after is None:
                log.warning("%s failed (attempt %d): %s", what, tried, result.detail)
            if tried < self.max_attempts:
                await asyncio.sleep(result.retry_after or self.retry_delay * 2 ** (tried - 1))
        log.error("%s: gave up after %d attempts", what, self.max_attempts)
        return False


class PlatformChannel(Channel, Generic[Event]):
    def __init__(self, service: BotService, *, max_attempts: int = 5, retry_delay: float = 1.0) -> None:
        super().__init__(service, max_attempts=max_attempts, retry_delay=retry_delay)
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

    async def apply_here(self, key: str, work: Callable[[AsyncSession], Awaitable[object]]) -> None:
        """Apply an event the service does not handle (an unfollow): claimed in the transaction that applies it, so a
        redelivery is applied once."""
        async with self.service.db.write() as db:
            if await repo.claim_update(db, self.name, key, self.service.clock()):
                await work(db)

    async def accept(self, payload: dict[str, Any]) -> None:
        """Store an event, then queue it; when this returns, the platform may be told it was received."""
        found = self.received(payload)
        if found is None:
            return
        actor = actor_key(self.service.secret, self.name, found.person)
        sealed = self._sealer.seal(json.dumps(payload, ensure_ascii=False).encode())
        row = await repo.store_inbound(self.service.db, self.name, found.key, actor, sealed, self.service.clock())
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
