"""The SQLite connections: readers make one trip to their worker thread per statement; the writer runs on the event
loop and waits for another process's lock without stopping the loop; both give SQLAlchemy what the stock driver does."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.status import Status
from storage import repo, sqlite_driver
from storage.db import Database
from storage.migrate import migrate
from storage.models import Response, Unit
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


async def test_prepared_statements_store_and_read_what_sqlalchemy_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message's fixed statements run on the writer's sqlite3 connection (storage.db.Prepared) store the same text
    and read back the same values (statuses, aware datetimes, JSON) as the same statements through SQLAlchemy."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'prepared.sqlite3'}"
    await migrate(url)
    database = Database(url)
    now = datetime(2026, 3, 2, 8, 30, 15, 123456, tzinfo=UTC)
    state = {"answers": {"q1": "Rất hài lòng", "q2": [1, 2]}, "position": "q3"}
    waiting = {"kind": "unit_pick", "đơn vị": "xã Hậu Lộc"}
    ran_now = [0]
    original = InlineConnection.run_now

    def counted(self: InlineConnection, sql: str, parameters: object = None) -> sqlite_driver.Outcome:
        ran_now[0] += 1
        return original(self, sql, parameters)

    monkeypatch.setattr(InlineConnection, "run_now", counted)

    async def one_message(db: AsyncSession, actor: str, update: str) -> tuple[bool, bool, repo.Begun]:
        response = await repo.add_response(
            db,
            Response(
                dedupe_key=f"k|{actor}",
                questionnaire_id="k",
                questionnaire_version="1",
                period_code="2026",
                unit_code="xa",
                respondent=actor,
                status=Status.DRAFT,
                state={},
                created_at=now,
                updated_at=now,
                submitted_at=now,
            ),
        )
        claimed = await repo.claim_update(db, "telegram", update, now)
        again = await repo.claim_update(db, "telegram", update, now)
        await repo.save_session(db, actor, now, response.id, waiting)
        await repo.save_state(db, response.id, state, now)
        return claimed, again, await repo.begin_message(db, actor, "telegram", None, now)

    async with database.write() as db:
        db.add(Unit(code="xa", name="Xã", kind="commune", unit_set="s"))
        await repo.ensure_period(db, "2026", "Kỳ", now.date(), now)
    async with database.write() as db:  # the writer's own connection
        inline = await one_message(db, "a", "1")
    assert ran_now[0] >= 6, "the statements ran on the sqlite3 connection"
    async with database.writer.connect() as connection, connection.begin():  # the same through SQLAlchemy
        ran_now[0] = 0
        through = await one_message(AsyncSession(bind=connection), "b", "2")
        assert ran_now[0] == 0
    await database.dispose()

    assert inline[:2] == through[:2] == (True, False)
    begun, other = inline[2], through[2]
    assert begun.session is not None and other.session is not None
    assert begun.response is not None and other.response is not None
    assert begun.session == other.session._replace(response_id=begun.session.response_id) == (1, waiting)
    assert begun.response == other.response._replace(id=1, respondent="a")
    assert begun.response.status is Status.DRAFT and begun.response.state == state
    assert begun.response.submitted_at == now and begun.response.submitted_at.tzinfo is not None
    stored = sqlite3.connect(tmp_path / "prepared.sqlite3")
    rows = [
        "SELECT response_id, waiting_for, updated_at FROM sessions ORDER BY actor",
        "SELECT state, updated_at FROM responses ORDER BY id",
        "SELECT received_at, done_at, payload FROM inbox ORDER BY update_key",
    ]
    for query in rows:
        first, second = stored.execute(query).fetchall()
        assert first[1:] == second[1:] and (query.startswith("SELECT response_id") or first == second), query
    stored.close()
