"""SQLite connections for SQLAlchemy's aiosqlite dialect, with fewer trips between threads.

SQLAlchemy's aiosqlite adapter makes four trips to aiosqlite's worker thread for each SELECT (open a cursor,
execute, fetch, close) and three for each write; each trip is a queue put, a thread wake-up and an event-loop
wake-up, which on a VM costs more than the statement itself. Two connections replace it, handed to an engine as
`connect_args={"async_creator_fn": ...}`:

- `connect`: aiosqlite's worker thread, one trip per statement (the cursor is opened, executed, read and closed
  there, and SQLAlchemy reads the rows it already has). For readers, whose queries (exports) may be long.
- `connect_inline`: no thread; statements run on the event loop. For the one writer: every answer is a short write
  transaction (a few point lookups and one update, microseconds each), serialised anyway by SQLite's single writer;
  a commit that crosses the WAL's autocheckpoint size also copies pages back into the database file (milliseconds).
  It never waits on SQLite's lock inside C, which would stop the loop: with `busy_timeout` 0 a locked database
  (another process writing, such as `pbgdpl units import`) is retried here with `asyncio.sleep`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterable
from functools import partial
from typing import Any, Protocol

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


class Runner(Protocol):
    async def run(self, function: partial[Outcome]) -> Outcome: ...


class PrefetchedCursor:
    """The part of aiosqlite's cursor that SQLAlchemy's adapter uses, with the rows fetched in the same trip."""

    arraysize = 1

    def __init__(self, connection: Runner) -> None:
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
    connector = partial(sqlite3.connect, database, **{**options, "isolation_level": None})  # we emit BEGIN ourselves
    connection = OneHopConnection(connector, iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy's adapter does: a forgotten connection must not hold exit
    await connection
    return connection


BUSY_WAIT = 10.0
"""How long a statement waits, in all, for another process to release SQLite's write lock."""


def _busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class InlineConnection:
    """The part of aiosqlite's connection that SQLAlchemy's adapter uses, on the event loop's own thread."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection: sqlite3.Connection | None = connection

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError("no active connection")
        return self._connection

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @property
    def in_transaction(self) -> bool:
        """Whether SQLite has a transaction open (some errors roll all of it back)."""
        return self._conn.in_transaction

    def cursor(self) -> PrefetchedCursor:
        return PrefetchedCursor(self)

    async def run(self, function: partial[Outcome]) -> Outcome:
        delay, waited = 0.002, 0.0
        while True:
            try:
                return function(self._conn)
            except sqlite3.OperationalError as error:
                if not _busy(error) or waited >= BUSY_WAIT:
                    raise
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 0.25)

    def run_now(self, sql: str, parameters: Any = None) -> Outcome:
        """A statement run at once, with no await: only inside the writer's transaction (BEGIN IMMEDIATE holds the
        write lock already, so SQLite never answers busy)."""
        return _statement(self._conn, sql, parameters, many=False)

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


async def connect_inline(database: str, **options: Any) -> InlineConnection:
    """Give it `PRAGMA busy_timeout = 0`: waiting for the lock is done in `InlineConnection.run`."""
    # timeout 0: Python's sqlite3 would otherwise wait up to 5 s for a lock inside SQLite until the pragmas are set
    options = {**options, "isolation_level": None, "check_same_thread": False, "timeout": 0.0}
    return InlineConnection(sqlite3.connect(database, **options))
