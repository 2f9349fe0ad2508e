"""aiosqlite with one thread hop per statement.

SQLAlchemy's aiosqlite adapter makes four trips to aiosqlite's worker thread for each SELECT (open a cursor,
execute, fetch, close) and three for each write; each trip is a queue put, a thread wake-up and an event-loop
wake-up. On SQLite every answer is a write transaction through the one writer connection, so those trips are
what limits answers per second. Here a statement is one trip: the cursor is opened, executed, read and closed in
the worker thread, and SQLAlchemy reads the rows it already has. Hand it to the engine as
`connect_args={"async_creator_fn": connect}`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from functools import partial
from typing import Any

import aiosqlite

Rows = list[Any]
Outcome = tuple[Any, int, int | None, Rows]


def _statement(connection: sqlite3.Connection, sql: str, parameters: Any, many: bool) -> Outcome:
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        elif parameters is None:
            cursor.execute(sql)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class PrefetchedCursor:
    """The part of aiosqlite's cursor that SQLAlchemy's adapter uses, with the rows fetched in the same trip."""

    arraysize = 1

    def __init__(self, connection: OneHopConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: Rows = []

    async def __aenter__(self) -> PrefetchedCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def _run(self, sql: str, parameters: Any, many: bool) -> PrefetchedCursor:
        outcome: Outcome = await self._connection.run(partial(_statement, sql=sql, parameters=parameters, many=many))
        self.description, self.rowcount, self.lastrowid, self._rows = outcome
        return self

    async def execute(self, sql: str, parameters: Any = None) -> PrefetchedCursor:
        return await self._run(sql, parameters, many=False)

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> PrefetchedCursor:
        return await self._run(sql, list(parameters), many=True)

    async def fetchall(self) -> Rows:
        rows, self._rows = self._rows, []
        return rows

    async def fetchmany(self, size: int | None = None) -> Rows:
        count = size or self.arraysize
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def close(self) -> None:
        self._rows = []


class OneHopConnection(aiosqlite.Connection):
    def cursor(self) -> PrefetchedCursor:  # type: ignore[override]
        return PrefetchedCursor(self)

    async def run(self, function: partial[Outcome]) -> Outcome:
        """Call `function(connection)` in the worker thread, where the sqlite3 connection lives (aiosqlite's own
        queue: the version is pinned in pyproject.toml, and the driver tests fail if it changes)."""
        result: Outcome = await self._execute(lambda: function(self._conn))  # type: ignore[no-untyped-call]
        return result


async def connect(database: str, **options: Any) -> OneHopConnection:
    connection = OneHopConnection(partial(sqlite3.connect, database, **options), iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy's adapter does: a forgotten connection must not hold exit
    await connection
    return connection

