"""The notification outbox on SQLite and PostgreSQL: each message sent once, also by two workers on one database;
retries, giving up, blocked people, scheduled keys, and the pacing that keeps under Telegram's limits."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.outbox import SENT, Delivery, Outbox, Pacer, Recipient, notify
from conversations.engine import Outgoing
from storage import repo
from storage.db import Database
from storage.migrate import migrate
from storage.models import BlockedRecipient, OutboxMessage
from tests.client import Clock


class FakeChannel:
    """Records what it was asked to send; answers from a script of results, then "sent"."""

    name = "fake"

    def __init__(self, *script: Delivery, delay: float = 0.0) -> None:
        self.script = list(script)
        self.delay = delay
        self.sent: list[tuple[str, str]] = []
        self.tried: list[tuple[str, str]] = []

    async def notify(self, platform_id: str, message: Outgoing) -> Delivery:
        self.tried.append((platform_id, message.text))
        await asyncio.sleep(self.delay)
        result = self.script.pop(0) if self.script else SENT
        if result.status == "sent":
            self.sent.append((platform_id, message.text))
        return result


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    await migrate(database_url)
    database = Database(database_url)
    yield database
    await database.dispose()


def worker(db: Database, channel: FakeChannel, clock: Clock, **options: object) -> Outbox:
    settings: dict[str, object] = {"per_second": 1000.0, "per_chat": 0.0, **options}
    return Outbox(db, [channel], clock, **settings)  # type: ignore[arg-type]


async def queue(db: Database, clock: Clock, texts: list[tuple[str, str]], key: str | None = None) -> int:
    async with db.write() as session:
        return sum([await notify(session, [Recipient("fake", who)], "test", text, clock(), key) for who, text in texts])


async def statuses(db: Database) -> Counter[str]:
    async with db.read() as session:
        return Counter((await session.scalars(select(OutboxMessage.status))).all())


async def test_two_workers_on_one_database_send_each_message_once(db: Database, database_url: str) -> None:
    clock = Clock()
    messages = [(f"{n % 7}", f"tin {n}") for n in range(40)]
    await queue(db, clock, messages)
    other_db = Database(database_url)  # a second app process: its own connections
    channel = FakeChannel(delay=0.002)
    first, second = worker(db, channel, clock, batch=5), worker(other_db, channel, clock, batch=5)
    try:
        for _ in range(20):
            if sum(await asyncio.gather(first.run_once(), second.run_once())) == 0:
                break
    finally:
        await other_db.dispose()
    assert sorted(channel.sent) == sorted(messages)
    assert len(channel.tried) == 40
    assert await statuses(db) == {"sent": 40}
    for who in {w for w, _ in messages}:
        mine = [text for w, text in channel.sent if w == who]
        assert mine == [text for w, text in messages if w == who], "one person's messages keep their order"


async def test_a_scheduled_key_makes_one_message_per_person(db: Database) -> None:
    clock = Clock()
    assert await queue(db, clock, [("1", "nhắc"), ("2", "nhắc")], key="nhac:2026:7") == 2
    assert await queue(db, clock, [("1", "nhắc"), ("2", "nhắc"), ("3", "nhắc")], key="nhac:2026:7") == 1
    assert await queue(db, clock, [("1", "nhắc")], key="nhac:2026:3") == 1
    assert await statuses(db) == {"pending": 4}


async def test_retry_after_backoff_then_give_up(db: Database) -> None:
    clock = Clock()
    await queue(db, clock, [("1", "a"), ("2", "b")])
    channel = FakeChannel(Delivery("retry", 30.0, "429"), Delivery("retry", None, "timeout"))
    outbox = worker(db, channel, clock, max_attempts=3, backoff=timedelta(seconds=10))
    outbox.pacers["fake"].pause = lambda seconds: None  # type: ignore[method-assign]
    assert await outbox.run_once() == 2
    assert channel.sent == [] and await statuses(db) == {"pending": 2}
    assert await outbox.run_once() == 0, "nothing is due before its time"
    clock.advance(seconds=10)
    assert await outbox.run_once() == 1 and channel.sent == [("2", "b")], "a network fault: backoff of 10 s"
    clock.advance(seconds=20)
    assert await outbox.run_once() == 1 and channel.sent == [("2", "b"), ("1", "a")], "a 429: its retry_after"
    async with db.read() as session:
        rows = {m.recipient: m for m in (await session.scalars(select(OutboxMessage))).all()}
    assert rows["1"].attempts == 2 and rows["1"].sent_at == clock()

    await queue(db, clock, [("3", "c")])
    failing = FakeChannel(*[Delivery("retry", None, "timeout")] * 5)
    outbox = worker(db, failing, clock, max_attempts=3, backoff=timedelta(seconds=1))
    for _ in range(3):
        await outbox.run_once()
        clock.advance(seconds=10)
    assert await outbox.run_once() == 0
    assert len(failing.tried) == 3, "a bounded number of attempts"
    assert await statuses(db) == {"sent": 2, "failed": 1}


async def test_a_blocked_person_is_marked_and_not_tried_again_until_a_message_gets_through(db: Database) -> None:
    clock = Clock()
    await queue(db, clock, [("9", "một"), ("9", "hai"), ("8", "ba")])
    channel = FakeChannel(Delivery("blocked", detail="Forbidden: bot was blocked by the user"))
    assert await worker(db, channel, clock).run_once() == 2, "one message per person at a time: their oldest"
    assert channel.tried == [("9", "một"), ("8", "ba")], "after a block, that person's next message is not tried"
    assert await statuses(db) == {"blocked": 2, "sent": 1}
    async with db.read() as session:
        assert [(b.channel, b.recipient) for b in await repo.blocked_recipients(session)] == [("fake", "9")]
    await queue(db, clock, [("9", "bốn")])
    await worker(db, channel, clock).run_once()
    async with db.read() as session:
        assert (await session.scalars(select(BlockedRecipient))).all() == [], "unblocked once a message arrives"


async def test_a_message_the_channel_holds_is_recorded_as_held_and_not_tried_again(db: Database) -> None:
    clock = Clock()
    await queue(db, clock, [("7", "nhắc")])
    channel = FakeChannel(Delivery("held", detail="outside the reply window"))
    assert await worker(db, channel, clock).run_once() == 1
    clock.advance(hours=2)
    assert await worker(db, channel, clock).run_once() == 0, "the channel has it; the outbox does not send it again"
    assert channel.tried == [("7", "nhắc")] and await statuses(db) == {"held": 1}
    async with db.read() as session:
        assert (await session.scalars(select(OutboxMessage))).one().sent_at is None


class GatedChannel(FakeChannel):
    """Sends its first `free` messages at once, then holds the next one until the gate opens."""

    def __init__(self, free: int) -> None:
        super().__init__()
        self.free = free
        self.gate, self.holding = asyncio.Event(), asyncio.Event()

    async def notify(self, platform_id: str, message: Outgoing) -> Delivery:
        if len(self.tried) >= self.free:
            self.holding.set()
            await self.gate.wait()
        return await super().notify(platform_id, message)


async def test_stopping_gives_back_what_was_not_sent(db: Database) -> None:
    clock = Clock()
    await queue(db, clock, [("1", f"tin {n}") for n in range(5)])
    channel = GatedChannel(free=2)
    outbox = worker(db, channel, clock)
    await outbox.start()
    await asyncio.wait_for(channel.holding.wait(), 30)  # two sent, the third being sent
    stopping = asyncio.create_task(outbox.stop())
    await asyncio.sleep(0)  # stop() has begun: nothing more is started
    channel.gate.set()
    await asyncio.wait_for(stopping, 30)
    assert len(channel.sent) == 3, "the message being sent is finished"
    assert await statuses(db) == {"sent": 3, "pending": 2}
    restarted = worker(db, channel, clock)
    while await restarted.run_once():
        pass
    assert [text for _, text in channel.sent] == [f"tin {n}" for n in range(5)], "each once, in order"


async def test_pacing_keeps_under_the_overall_and_per_chat_limits() -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    pacer = Pacer(per_second=30, per_chat=1.0, clock=lambda: now[0], sleep=sleep)
    starts = []
    for chat in ["a", "b", "a", "c", "a"]:  # all asked for at time 0: each starts when its wait ends
        slept.clear()
        await pacer.slot(chat)
        starts.append(slept[0] if slept else 0.0)
    slept.clear()
    assert starts[0] == 0.0
    assert starts[1] == pytest.approx(1 / 30)
    assert starts[2] == pytest.approx(1.0), "one message a second to the same chat"
    assert starts[3] == pytest.approx(1.0 + 1 / 30), "the overall spacing follows the later slot"
    assert starts[4] == pytest.approx(2.0)
    pacer.pause(5.0)
    await pacer.slot("d")
    assert slept == [pytest.approx(5.0)], "a 429 pauses every chat"
