"""Notifications through a table: reminders, digests, returns and approvals are queued in the database (`outbox`)
and sent by a worker inside the app, so they survive a restart and go out once.

- Queuing is part of the transaction that decides to notify (the return, the reminder), so both happen or neither.
  A scheduled notification carries a key, and the key is unique: two processes scheduling it make one row.
- A worker claims due rows with a claim token and a lease (SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite
  runs one writer at a time), sends them through the channel's `notify`, and records the result against its token.
  A process that dies holding rows loses them only until the lease runs out; one that stops gives them back.
- Sending keeps under the platform's limits (Telegram: about 30 messages a second overall, one a second per chat),
  waits out a 429 for its `retry_after`, retries network faults with a growing backoff, gives up after a bounded
  number of attempts, and marks people who blocked the bot.
- Channels stay thin: `notify(platform_id, message)` makes one attempt and says what happened (`Delivery`).
- "held" is a status, not a second queue: a channel with a reply window (Zalo OA) answers "held" for someone it may
  not write to now, and sends what is held for a person first when they next write (`send_held_first`); replies it
  could not send are kept here as held too.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.engine import Outgoing
from storage import repo
from storage.db import Database
from storage.models import Account, OutboxMessage

log = logging.getLogger(__name__)
Message = TypeVar("Message")
HELD_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Delivery:
    """What one attempt to send a notification came to."""

    status: Literal["sent", "held", "retry", "blocked", "failed"]
    """"held": the channel keeps the message and sends it when the person next writes (Zalo OA's reply window)."""
    retry_after: float | None = None
    """For "retry": how long the platform asked us to wait (Telegram's 429), when it said."""
    detail: str = ""


SENT = Delivery("sent")


class Notifier(Protocol):
    """A channel that can send a message nobody asked for."""

    name: str

    async def notify(self, platform_id: str, message: Outgoing) -> Delivery: ...


@dataclass(frozen=True)
class Recipient:
    channel: str
    platform_id: str
    account_id: int | None = None

    @classmethod
    def of(cls, account: Account) -> Recipient:
        return cls(account.channel, account.platform_id, account.id)


def recipients(accounts: Iterable[Account]) -> list[Recipient]:
    return [Recipient.of(a) for a in accounts]


async def admin_recipients(db: AsyncSession, configured: Iterable[str]) -> list[Recipient]:
    """Admins named in PBGDPL_ADMINS ("channel:id") and admin accounts, each once."""
    found = {(r.channel, r.platform_id): r for r in recipients(await repo.admin_accounts(db))}
    for entry in configured:
        channel, _, platform_id = entry.partition(":")
        if platform_id and (channel, platform_id) not in found:
            account = await repo.get_account(db, channel, platform_id)
            found[(channel, platform_id)] = Recipient(channel, platform_id, account.id if account else None)
    return list(found.values())


async def notify(
    db: AsyncSession, to: Sequence[Recipient], kind: str, text: str, now: datetime, key: str | None = None
) -> int:
    """Queue one message for each recipient, in the caller's transaction; with a key, each recipient gets it once
    ever. Returns how many were queued."""
    queued = 0
    for r in to:
        dedupe = f"{key}:{r.channel}:{r.platform_id}" if key is not None else None
        queued += await repo.enqueue(db, r.channel, r.platform_id, kind, text, now, r.account_id, dedupe)
    return queued


async def send_held_first(
    database: Database,
    channel: str,
    recipient: str,
    fresh: Sequence[Message],
    send: Callable[[Message], Awaitable[Delivery]],
    clock: Callable[[], datetime],
    *,
    text_of: Callable[[Message], str],
    from_text: Callable[[str], Message],
    keep: bool = True,
) -> Delivery:
    """Send one person what the outbox holds for them, then `fresh`, in order, one attempt each through `send`.
    From the first one held ("held", or "retry": the platform cannot be reached), that one and the rest are held
    for when the person writes again; a refused one is recorded as failed. With `keep`, the fresh messages not sent
    are kept in the outbox too (a reply); without, the caller records them (the outbox worker's own row). Returns
    what became of the fresh ones: sent, held or failed."""
    token = secrets.token_hex(8)
    async with database.write() as db:
        held = await repo.claim_held(db, channel, recipient, token, clock() + HELD_LEASE)
    queue: list[tuple[OutboxMessage | None, Message]] = [(row, from_text(row.text)) for row in held]
    queue += [(None, message) for message in fresh]
    results: list[tuple[OutboxMessage | None, Message, Delivery]] = []
    holding: Delivery | None = None
    for row, message in queue:
        result = holding or await send(message)
        if result.status in ("held", "retry"):
            holding = result = holding or Delivery("held", detail=result.detail)
        results.append((row, message, result))
    now = clock()
    async with database.write() as db:
        for row, message, result in results:
            status = result.status if result.status in ("sent", "held") else "failed"
            if row is not None:
                values: dict[str, object] = {"status": status, "last_error": result.detail[:300] or None}
                await repo.settle_outbox(db, row.id, token, values | ({"sent_at": now} if status == "sent" else {}))
            elif keep and status != "sent":
                await repo.enqueue(
                    db, channel, recipient, "reply", text_of(message), now, status=status, last_error=result.detail
                )
    if holding is not None:
        log.info(
            "%s: holding %d message(s) for someone: %s",
            channel,
            sum(1 for *_, r in results if r is holding),
            holding.detail,
        )
    outcome = [result for row, _, result in results if row is None]
    return next((r for r in outcome if r.status == "held"), None) or next(
        (Delivery("failed", detail=r.detail) for r in outcome if r.status != "sent"), SENT
    )


async def give_up_held(db: AsyncSession, channel: str, recipient: str, reason: str) -> None:
    """What is held for someone who can no longer be reached (they unfollowed): failed, with the reason."""
    if given_up := await repo.fail_held(db, channel, recipient, reason):
        log.info("%s: %d held message(s) failed: %s", channel, given_up, reason)


class Pacer:
    """Spaces sends: at most `per_second` overall and one per `per_chat` seconds to each chat; a 429 pauses all.
    A slot is reserved before any waiting, so concurrent senders keep their order and never share a slot."""

    def __init__(
        self,
        per_second: float,
        per_chat: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval, self.per_chat = 1 / per_second, per_chat
        self.clock, self.sleep = clock, sleep
        self._next = 0.0
        self._chats: dict[str, float] = {}

    async def slot(self, chat: str) -> None:
        now = self.clock()
        at = max(now, self._next, self._chats.get(chat, 0.0))
        self._next = at + self.interval
        self._chats = {c: t for c, t in self._chats.items() if t > now}
        self._chats[chat] = at + self.per_chat
        if at > now:
            await self.sleep(at - now)

    def pause(self, seconds: float) -> None:
        self._next = max(self._next, self.clock() + seconds)


class Outbox:
    """The worker that sends queued notifications through the channels it has."""

    def __init__(
        self,
        db: Database,
        notifiers: Iterable[Notifier],
        clock: Callable[[], datetime],
        *,
        per_second: float = 25.0,
        per_chat: float = 1.0,
        max_attempts: int = 5,
        backoff: timedelta = timedelta(seconds=5),
        lease: timedelta = timedelta(minutes=2),
        batch: int = 50,
        poll: float = 2.0,
    ) -> None:
        self.db, self.clock = db, clock
        self.notifiers: dict[str, Notifier] = {n.name: n for n in notifiers}
        self.pacers = {name: Pacer(per_second, per_chat) for name in self.notifiers}
        self.max_attempts, self.backoff, self.lease = max_attempts, backoff, lease
        self.batch, self.poll = batch, poll
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Look for due notifications now rather than at the next poll."""
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        """Finish the message being sent, give back the rest, and stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stopping:
            try:
                handled = await self.run_once()
            except Exception:
                log.exception("the outbox worker failed; trying again")
                handled = 0
            if handled == 0:
                self._wake.clear()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll)

    async def run_once(self) -> int:
        """Claim the due notifications of our channels and send them; how many were claimed."""
        if not self.notifiers:
            return 0
        token = secrets.token_hex(8)
        now = self.clock()
        async with self.db.write() as db:
            claimed = await repo.claim_outbox(db, list(self.notifiers), now, token, now + self.lease, self.batch)
        by_chat: dict[tuple[str, str], list[OutboxMessage]] = {}
        for message in claimed:
            by_chat.setdefault((message.channel, message.recipient), []).append(message)
        try:
            await asyncio.gather(*(self._send_in_order(queue, token) for queue in by_chat.values()))
        finally:
            async with self.db.write() as db:
                await repo.release_outbox(db, token)
        return len(claimed)

    async def _send_in_order(self, queue: list[OutboxMessage], token: str) -> None:
        """One chat's messages one after another; after a block, the rest are not tried."""
        blocked: Delivery | None = None
        for message in queue:
            if self._stopping:
                return
            result = blocked or await self._attempt(message)
            await self._record(message, token, result)
            if result.status == "blocked":
                blocked = result

    async def _attempt(self, message: OutboxMessage) -> Delivery:
        pacer = self.pacers[message.channel]
        await pacer.slot(message.recipient)
        try:
            result = await self.notifiers[message.channel].notify(message.recipient, Outgoing(message.text))
        except Exception as exc:
            log.exception("notification %d: the %s channel failed", message.id, message.channel)
            result = Delivery("retry", detail=type(exc).__name__)
        if result.status == "retry" and result.retry_after:
            pacer.pause(result.retry_after)
        return result

    async def _record(self, message: OutboxMessage, token: str, result: Delivery) -> None:
        now = self.clock()
        attempts = message.attempts + 1
        values: dict[str, object] = {"attempts": attempts, "last_error": result.detail[:300] or None}
        if result.status == "retry" and attempts < self.max_attempts:
            wait = timedelta(seconds=result.retry_after) if result.retry_after else self.backoff * 2 ** (attempts - 1)
            values |= {"status": "pending", "next_attempt_at": now + min(wait, timedelta(hours=1))}
        elif result.status == "retry":
            log.warning("notification %d: gave up after %d attempts (%s)", message.id, attempts, result.detail)
            values |= {"status": "failed", "last_error": f"{attempts} lần không gửi được: {result.detail}"[:300]}
        else:
            values["status"] = result.status
        if result.status == "sent":
            values["sent_at"] = now
        async with self.db.write() as db:
            await repo.settle_outbox(db, message.id, token, values)
            if result.status == "sent":
                await repo.clear_blocked(db, message.channel, message.recipient)
            elif result.status == "blocked":
                await repo.mark_blocked(db, message.channel, message.recipient, now)
