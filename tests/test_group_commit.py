"""Group commit (SQLite): different people's messages that arrive together are written in one transaction, each in
its own savepoint; each is answered only once it is stored, and one that fails loses or doubles nothing of the
others. On PostgreSQL every message has its own transaction; the behaviour a person sees is the same."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import texts as t
from bot.messages import Reply
from bot.render import plain
from bot.service import BotService
from bot.table import Call, Command, Permission
from conversations.engine import Inbound, Outgoing
from storage.db import connection_of
from storage.models import AuditEntry, InboxEvent
from tests.client import Chat, running_service
from tests.test_dispatch import with_command

FIRST, SECOND = "Câu 1/", "Câu 2/"


async def started(service: BotService, *people: str) -> list[Chat]:
    chats = [Chat(service, person) for person in people]
    for chat in chats:
        assert FIRST in await chat.send("/start ks_16012")
    return chats


async def claimed(service: BotService, update: str) -> int:
    """How many times the update is claimed, seen from outside any write (what is committed)."""
    async with service.db.read() as db:
        found = select(func.count()).select_from(InboxEvent).where(InboxEvent.update_key == update)
        return await db.scalar(found) or 0


def probe_command(service: BotService, work: object) -> None:
    async def probe(call: Call) -> list[Reply]:
        call.db.add(AuditEntry(actor="probe", action="probe", target="", at=service.clock(), detail={}))
        await call.db.flush()
        assert callable(work)
        await work(call)
        return [Outgoing("xong")]

    service.commands = with_command(service.commands, Command(("probe",), probe, Permission.ANYONE, "thử"))


async def test_answers_arriving_together_share_one_commit_and_are_answered_once_stored(
    tmp_path: Path, database_url: str
) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        chats = await started(service, "801", "802", "803")
        commits = service.db.group_commits

        async def answer(chat: Chat, update: str) -> list[Reply]:
            replies = await service.handle(chat.sender, Inbound(text="1"), update)
            assert await claimed(service, update) == 1, "stored before it is answered"
            return replies

        replies = await asyncio.gather(*(answer(chat, f"g{n}") for n, chat in enumerate(chats)))
        for got in replies:
            assert any(isinstance(r, Outgoing) and SECOND in plain(r) for r in got)
        if service.db.sqlite:
            assert service.db.group_commits == commits + 1, "three people's answers, one transaction"
        again = await asyncio.gather(
            *(service.handle(c.sender, Inbound(text="1"), f"g{n}") for n, c in enumerate(chats))
        )
        assert again == [[], [], []], "each applied once"


async def test_a_failure_in_the_middle_of_a_group_loses_nothing_of_the_others(
    tmp_path: Path, database_url: str
) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        first, failing, last = await started(service, "811", "812", "813")
        seen: list[tuple[bool, int]] = []

        async def fail(call: Call) -> None:
            connection = await connection_of(call.db)
            mine = select(func.count()).select_from(InboxEvent).where(InboxEvent.update_key == "m1")
            seen.append((connection.in_nested_transaction(), await call.db.scalar(mine) or 0))
            raise RuntimeError("a bug in one handler")

        probe_command(service, fail)
        replies = await asyncio.gather(
            service.handle(first.sender, Inbound(text="1"), "m1"),
            service.handle(failing.sender, Inbound(text="/probe"), "m2"),
            service.handle(last.sender, Inbound(text="1"), "m3"),
        )
        if service.db.sqlite:
            assert seen == [(True, 1)], "in its own savepoint, in the transaction the first answer is written in"
        texts = [[plain(r) for r in got if isinstance(r, Outgoing)] for got in replies]
        assert any(SECOND in x for x in texts[0]) and any(SECOND in x for x in texts[2])
        assert texts[1] == [t.ERROR_TRY_AGAIN]
        assert [await claimed(service, u) for u in ("m1", "m2", "m3")] == [1, 1, 1], "the failed one is given up"
        async with service.db.read() as db:
            assert await db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.actor == "probe")) == 0
        assert await service.handle(first.sender, Inbound(text="1"), "m1") == [], "not doubled"
        assert "Câu 3/" in await last.send("2"), "the last one goes on from its stored answer"


async def test_a_message_that_breaks_the_shared_transaction_has_the_others_applied_alone(tmp_path: Path) -> None:
    """SQLite rolls a whole transaction back on some errors (a full disk, an I/O error): the group ends there and
    the messages written in it before are applied again, each on its own, and answered once."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'pbgdpl.sqlite3'}"
    async with running_service(tmp_path, database_url=url) as service:
        first, breaking, last = await started(service, "821", "822", "823")

        async def break_it(call: Call) -> None:
            raw = await (await connection_of(call.db)).get_raw_connection()
            raw.driver_connection._conn.execute("ROLLBACK")  # what SQLite itself does on SQLITE_FULL
            raise RuntimeError("disk full")

        probe_command(service, break_it)
        replies = await asyncio.gather(
            service.handle(first.sender, Inbound(text="1"), "b1"),
            service.handle(breaking.sender, Inbound(text="/probe"), "b2"),
            service.handle(last.sender, Inbound(text="1"), "b3"),
        )
        texts = [[plain(r) for r in got if isinstance(r, Outgoing)] for got in replies]
        assert any(SECOND in x for x in texts[0]), "applied again on its own, and answered"
        assert texts[1] == [t.ERROR_TRY_AGAIN]
        assert any(SECOND in x for x in texts[2])
        assert [await claimed(service, u) for u in ("b1", "b2", "b3")] == [1, 1, 1]
        assert await service.handle(first.sender, Inbound(text="1"), "b1") == []
        async with service.db.read() as db:
            assert await db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.actor == "probe")) == 0


@pytest.mark.parametrize("people", [40])
async def test_many_at_once_each_in_order(tmp_path: Path, database_url: str, people: int) -> None:
    """Each person's messages in the order sent, everyone's at once: every answer lands on its own question."""
    async with running_service(tmp_path, database_url=database_url) as service:
        chats = await started(service, *(str(900 + n) for n in range(people)))
        commits = service.db.group_commits

        async def two(chat: Chat) -> tuple[list[Reply], list[Reply]]:
            one = asyncio.ensure_future(service.handle(chat.sender, Inbound(text="1"), f"{chat.sender.user_id}-1"))
            other = asyncio.ensure_future(service.handle(chat.sender, Inbound(text="2"), f"{chat.sender.user_id}-2"))
            return await one, await other

        results = await asyncio.gather(*(two(chat) for chat in chats))
        for one, other in results:
            assert any(isinstance(r, Outgoing) and SECOND in plain(r) for r in one)
            assert any(isinstance(r, Outgoing) and "Câu 3/" in plain(r) for r in other)
        if service.db.sqlite:
            assert service.db.group_commits - commits <= 4, "everyone's first answers in a group, then the second ones"
