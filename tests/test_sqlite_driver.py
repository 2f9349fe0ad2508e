"""The SQLite connections: readers make one trip to their worker thread per statement; the writer runs on the event
loop and waits for another process's lock without stopping the loop; both give SQLAlchemy what the stock driver does."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from storage import sqlite_driver
from storage.db import Database
from storage.sqlite_driver import InlineConnection, OneHopConnection


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")
    async with database.write() as db:
        await db.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)"))
    yield database
    await database.dispose()


def count_runs(monkeypatch: pytest.MonkeyPatch, cls: type[InlineConnection] | type[OneHopConnection]) -> list[int]:
    runs = [0]
    original = cls.run

    async def counted(self: object, function: object) -> object:
        runs[0] += 1
        return await original(self, function)  # type: ignore[arg-type]

    monkeypatch.setattr(cls, "run", counted)
    return runs


async def test_statements_give_rows_rowcount_and_one_trip_each(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    threaded, inline = count_runs(monkeypatch, OneHopConnection), count_runs(monkeypatch, InlineConnection)
    async with database.write() as db:
        inserted = await db.execute(text("INSERT INTO t (name) VALUES ('một'), ('hai')"))
        assert inserted.rowcount == 2
        await db.execute(text("INSERT INTO t (name) VALUES (:name)"), [{"name": "ba"}, {"name": "bốn"}])
        again = await db.execute(text("INSERT INTO t (name) VALUES ('hai') ON CONFLICT DO NOTHING"))
        assert again.rowcount == 0  # what the claim of a platform update id rests on
        updated = await db.execute(text("UPDATE t SET name = name || '!' WHERE id > 2"))
        assert updated.rowcount == 2
    assert threaded[0] == 0 and inline[0] > 0, "the writer runs on the event loop, not in a thread"
    async with database.read() as db:
        await db.execute(text("SELECT 1"))  # the transaction has begun
        before = threaded[0]
        rows = (await db.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
        assert threaded[0] - before == 1
        assert [name for _, name in rows] == ["một", "hai", "ba!", "bốn!"]
        assert (await db.execute(text("SELECT name FROM t WHERE id = 99"))).first() is None


async def test_an_error_in_a_statement_rolls_the_transaction_back(database: Database) -> None:
    with pytest.raises(IntegrityError, match="NOT NULL"):
        async with database.write() as db:
            await db.execute(text("INSERT INTO t (name) VALUES ('giữ')"))
            await db.execute(text("INSERT INTO t (name) VALUES (NULL)"))
    async with database.read() as db:
        assert (await db.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0


async def test_the_writer_waits_for_another_process_without_stopping_the_loop(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = sqlite3.connect(tmp_path / "driver.sqlite3", isolation_level=None)  # as `pbgdpl units import` would
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t (name) VALUES ('khác')")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def write() -> None:
        async with database.write() as db:
            await db.execute(text("INSERT INTO t (name) VALUES ('của bot')"))

    ticker = asyncio.create_task(tick())
    writing = asyncio.create_task(write())
    await asyncio.sleep(0.3)
    assert not writing.done() and ticks >= 10, "waiting for the lock, and the loop goes on"
    other.execute("COMMIT")
    await asyncio.wait_for(writing, 5)
    ticker.cancel()
    async with database.read() as db:
        assert (await db.execute(text("SELECT name FROM t ORDER BY id"))).scalars().all() == ["khác", "của bot"]

    monkeypatch.setattr(sqlite_driver, "BUSY_WAIT", 0.2)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError, match="database is locked"):
        await write()
    other.execute("ROLLBACK")
    other.close()
