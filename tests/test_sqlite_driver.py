"""The SQLite driver makes one trip to its worker thread per statement, and gives SQLAlchemy what the stock one does."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import Database
from storage.sqlite_driver import OneHopConnection


async def test_one_trip_per_statement_with_rows_rowcount_and_lastrowid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips = 0
    original = OneHopConnection.run

    async def counted(self: OneHopConnection, function: object) -> object:
        nonlocal trips
        trips += 1
        return await original(self, function)  # type: ignore[arg-type]

    monkeypatch.setattr(OneHopConnection, "run", counted)
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")
    try:
        async with database.write() as db:
            await db.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
            inserted = await db.execute(text("INSERT INTO t (name) VALUES ('một'), ('hai')"))
            assert inserted.rowcount == 2
            await db.execute(text("INSERT INTO t (name) VALUES (:name)"), [{"name": "ba"}, {"name": "bốn"}])
        async with database.write() as db:
            await db.execute(text("SELECT 1"))  # the transaction has begun
            before = trips
            rows = (await db.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
            assert trips - before == 1
            assert [name for _, name in rows] == ["một", "hai", "ba", "bốn"]
            again = await db.execute(text("INSERT INTO t (name) VALUES ('hai') ON CONFLICT DO NOTHING"))
            assert again.rowcount == 0
            updated = await db.execute(text("UPDATE t SET name = name || '!' WHERE id > 2"))
            assert updated.rowcount == 2
        async with database.read() as db:
            assert (await db.execute(text("SELECT count(*) FROM t WHERE name LIKE '%!'"))).scalar_one() == 2
            assert (await db.execute(text("SELECT name FROM t WHERE id = 99"))).first() is None
    finally:
        await database.dispose()


async def test_an_error_in_a_statement_rolls_the_transaction_back(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")
    try:
        async with database.write() as db:
            await db.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"))
        with pytest.raises(Exception, match="NOT NULL"):
            async with database.write() as db:
                await db.execute(text("INSERT INTO t (name) VALUES ('giữ')"))
                await db.execute(text("INSERT INTO t (name) VALUES (NULL)"))
        async with database.read() as db:
            assert (await db.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
    finally:
        await database.dispose()
