"""Engines and transactions. SQLite: one writer connection with BEGIN IMMEDIATE, readers beside it (WAL)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage import sqlite_driver

log = logging.getLogger(__name__)


class DatabaseUnreachable(Exception):
    """The database cannot be reached, or refuses the connection; the message is the reason, in one line."""


def reason(exc: BaseException) -> str:
    """An error's reason in one line, without SQLAlchemy's wrapping (the statement, the background link)."""
    inner = getattr(exc, "orig", None) or exc
    return (str(inner).strip().splitlines() or [type(inner).__name__])[0]


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_xact_lock (storage.repo.begin_message)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def ensure_sqlite_directory(url: str) -> None:
    database = make_url(url).database
    if is_sqlite(url) and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_engine(url: str, *, writer: bool) -> AsyncEngine:
    """The writer runs its statements on the event loop, readers in aiosqlite's threads (see storage.sqlite_driver)."""
    connect = sqlite_driver.connect_inline if writer else sqlite_driver.connect
    engine = create_async_engine(
        url,
        pool_size=1 if writer else 4,
        max_overflow=0,
        connect_args={"async_creator_fn": connect},
        hide_parameters=True,  # a statement's parameters (answers, names) never reach a log line or an error
    )
    # The writer must not wait for another process's lock inside SQLite: that would stop the event loop.
    busy_timeout = 0 if writer else 10000

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", f"busy_timeout={busy_timeout}", "foreign_keys=ON"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


CONNECTION = "pbgdpl.connection"
"""Where a write session keeps the connection whose transaction it joined."""


async def connection_of(session: AsyncSession) -> AsyncConnection:
    """The connection of a session's transaction, for Core statements (without the session's bookkeeping)."""
    found = session.info.get(CONNECTION)
    return found if isinstance(found, AsyncConnection) else await session.connection()


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        if self.sqlite:
            ensure_sqlite_directory(url)
            self.writer = _sqlite_engine(url, writer=True)
            self.reader = _sqlite_engine(url, writer=False)
        else:
            self.writer = self.reader = create_async_engine(
                url, pool_size=5, max_overflow=5, pool_pre_ping=True, hide_parameters=True
            )
        self._read = async_sessionmaker(self.reader, expire_on_commit=False)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction that commits on success and rolls back on any error. SQLite runs one writer at a time
        (BEGIN IMMEDIATE); on PostgreSQL a message's transaction takes its person's advisory lock first
        (storage.repo.begin_message).

        The transaction is the connection's; the ORM session joins it and costs nothing unless used: a plain answer
        runs Core statements on the connection (`connection_of`) and never begins, flushes or commits the session."""
        async with self.writer.connect() as connection, connection.begin():
            session = AsyncSession(bind=connection, expire_on_commit=False, join_transaction_mode="rollback_only")
            session.info[CONNECTION] = connection
            try:
                yield session
                if session.in_transaction():  # the ORM was used: its changes are flushed (the commit stays ours)
                    await session.commit()
            finally:
                await session.close()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._read() as session, session.begin():
            yield session

    async def ping(self) -> bool:
        """Whether the database answers now (for /readyz)."""
        try:
            async with self.reader.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError) as exc:
            log.warning("database ping failed: %s", exc)
            return False
        return True

    async def dispose(self) -> None:
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()
