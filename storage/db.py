"""Engines and transactions. SQLite: one writer connection with BEGIN IMMEDIATE, readers beside it (WAL)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Dialect, make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    AsyncTransaction,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import Select, SelectBase, TextualSelect

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

    if writer:
        _plain_savepoints(engine)
    return engine


def _plain_savepoints(engine: AsyncEngine) -> None:
    """Savepoints as plain SQL: every write of a group takes one (Database._grouped), and SQLAlchemy compiles its
    savepoint statements anew each time (they are never cached), which cost more than the answer's own statements.
    The names are SQLAlchemy's own (sa_savepoint_<n>), never quoted."""
    dialect = engine.sync_engine.dialect

    def run(sql: str) -> Callable[[Connection, str], None]:
        def execute(connection: Connection, name: str) -> None:  # on the sqlite3 connection: no execution context
            connection.connection.driver_connection.run_now(f"{sql} {name}")  # type: ignore[union-attr]

        return execute

    dialect.do_savepoint = run("SAVEPOINT")  # type: ignore[method-assign, assignment]
    dialect.do_release_savepoint = run("RELEASE SAVEPOINT")  # type: ignore[method-assign, assignment]
    dialect.do_rollback_to_savepoint = run("ROLLBACK TO SAVEPOINT")  # type: ignore[method-assign, assignment]


POSTGRESQL_POOL = 10
"""Connections a process keeps open to PostgreSQL: as many transactions as run at once under load, so none is
opened and closed again per message (a new connection costs its start-up and the driver's type introspection);
beyond them a message waits for one to be returned (no transaction opens a second connection, so none waits for
itself)."""


def _postgresql_engine(url: str) -> AsyncEngine:
    engine = create_async_engine(url, pool_size=POSTGRESQL_POOL, max_overflow=0, hide_parameters=True)

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        """A connection the server closed (a restart, an idle timeout) is replaced before use, as a pre-ping would,
        without its three round trips per checkout (BEGIN, a ping, ROLLBACK): the driver has seen the socket close."""
        if dbapi_conn.driver_connection.is_closed():
            raise DisconnectionError("the server closed the connection")

    return engine


CONNECTION = "pbgdpl.connection"
"""Where a write session keeps the connection whose transaction it joined."""
WRITER = "pbgdpl.writer"
"""Where a write session keeps its driver's own connection (`Prepared`): the SQLite writer's sqlite3 connection, or
the asyncpg connection under SQLAlchemy's adapter on PostgreSQL."""


async def connection_of(session: AsyncSession) -> AsyncConnection:
    """The connection of a session's transaction, for Core statements (without the session's bookkeeping)."""
    found = session.info.get(CONNECTION)
    return found if isinstance(found, AsyncConnection) else await session.connection()


class Ran(NamedTuple):
    """What a `Prepared` statement did: the rows it changed and the rows it returned."""

    rowcount: int
    rows: Sequence[Sequence[Any]]


Statement = Select[Any] | TextualSelect | UpdateBase


class Compiled:
    """A statement compiled for one dialect: its SQL, its parameters in order with the converters of their types, and
    the converters of the columns it returns (known once the database has described them: how PostgreSQL's numbers
    are read depends on their type there)."""

    def __init__(self, statement: Statement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql, self._dialect = compiled.string, dialect
        self._binds = [
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in compiled.positiontup or []
        ]
        columns = list(statement.selected_columns) if isinstance(statement, SelectBase) else []
        self._types = [column.type.dialect_impl(dialect) for column in columns]
        self._results: list[Any] | None = None

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        return [values[name] if process is None else process(values[name]) for name, process in self._binds]

    def rows(self, rows: Sequence[Sequence[Any]], described: Sequence[Any] | None = None) -> Sequence[Sequence[Any]]:
        if not self._types:  # a write: what is read is its row count (not the key an INSERT returns by default)
            return rows
        if self._results is None:
            oids = described or [None] * len(self._types)
            converters = zip(self._types, oids, strict=True)
            self._results = [kind.result_processor(self._dialect, oid) for kind, oid in converters]
        if not any(self._results):
            return rows
        return [[v if p is None else p(v) for p, v in zip(self._results, row, strict=True)] for row in rows]


class _Writer(NamedTuple):
    connection: sqlite_driver.InlineConnection
    dialect: Dialect

    async def run(self, compiled: Compiled, values: Mapping[str, Any]) -> Ran:
        _, rowcount, _, rows = self.connection.run_now(compiled.sql, compiled.parameters(values))
        return Ran(rowcount, compiled.rows(rows))


class PostgresqlWriter(NamedTuple):
    """A PostgreSQL write's connection: SQLAlchemy's adapter, whose transaction every statement of the write joins
    (the ORM's too), and its asyncpg connection, whose prepared statements the adapter caches (private names of
    SQLAlchemy's asyncpg dialect, pinned below 2.2 in pyproject.toml)."""

    adapter: Any
    dialect: Dialect
    alone: bool = False
    """A statement committed on its own (`Database.write_one`): PostgreSQL's implicit transaction of one statement,
    with no BEGIN or COMMIT sent."""

    async def run(self, compiled: Compiled, values: Mapping[str, Any]) -> Ran:
        adapter = self.adapter
        if adapter._transaction is None and not self.alone:  # BEGIN, as SQLAlchemy sends it before a first statement
            await adapter._start_transaction()
        stale_before = self.dialect._invalidate_schema_cache_asof  # type: ignore[attr-defined]
        statement, described = await adapter._prepare(compiled.sql, stale_before)
        rows = await statement.fetch(*compiled.parameters(values))
        count = (statement.get_statusmsg() or "").rpartition(" ")[2]  # "UPDATE 1", "INSERT 0 1", "SELECT 1"
        return Ran(int(count) if count.isdigit() else -1, compiled.rows(rows, [a.type.oid for a in described]))


class Prepared:
    """A fixed Core statement of a message's path (the update's claim, the person's session, an answer's state). In a
    write it runs on the driver's connection itself, compiled once, with its values converted by the columns' own
    types as SQLAlchemy converts them (what is stored and read is the same): SQLAlchemy's execution around a
    statement (the greenlet, the execution context, the result object) costs several times the database's own work
    of an answer. On SQLite that is the writer's sqlite3 connection; on PostgreSQL the write's asyncpg connection, a
    prepared statement there, in the transaction SQLAlchemy began. Outside a write it runs through SQLAlchemy as any
    statement."""

    def __init__(self, statement: Statement) -> None:
        self.statement = statement
        self._compiled: dict[str, Compiled] = {}
        """By dialect: the tests run both in one process."""

    async def run(self, session: AsyncSession, values: Mapping[str, Any]) -> Ran:
        writer = session.info.get(WRITER)
        if isinstance(writer, _Writer | PostgresqlWriter):
            return await self.run_on(writer, values)
        result = await (await connection_of(session)).execute(self.statement, values)
        return Ran(result.rowcount, result.all() if result.returns_rows else [])

    async def run_on(self, writer: _Writer | PostgresqlWriter, values: Mapping[str, Any]) -> Ran:
        compiled = self._compiled.get(writer.dialect.name)
        if compiled is None:
            compiled = self._compiled[writer.dialect.name] = Compiled(self.statement, writer.dialect)
        return await writer.run(compiled, values)


class GroupAborted(Exception):
    """Another write of the same group broke the transaction they shared (SQLite rolled all of it back): nothing of
    this write is stored, and it can be tried again on its own."""


class _Group:
    """The one SQLite transaction that the writes arriving together share: each in its own savepoint, committed once
    when none of them is writing or waiting to; `done` says how the commit went."""

    def __init__(self, connection: AsyncConnection, transaction: AsyncTransaction, writer: _Writer) -> None:
        self.connection, self.transaction, self.writer = connection, transaction, writer
        assert connection.sync_connection is not None  # begun already
        self.sync = connection.sync_connection
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.committing: asyncio.Task[None] | None = None
        self.spare: AsyncSession | None = None
        """A session that a write of the group never used (a plain answer runs only prepared statements), taken by
        the next one: making and closing a session cost about as much as the answer's statements."""


async def _close(session: AsyncSession) -> None:
    """Close a write's session. With no transaction of its own (never used, or flushed and committed into the
    connection's) there is nothing to end on the connection, so it is closed at once, without a trip through
    SQLAlchemy's greenlet; else (an error left it in a transaction) that transaction is ended as usual."""
    if session.in_transaction():
        await session.close()
    else:
        session.sync_session.close()


def _unused(session: AsyncSession) -> bool:
    """Whether the ORM session was never used: no transaction begun, no object in it (so nothing of its write)."""
    sync = session.sync_session
    return not (sync.in_transaction() or sync.identity_map or sync.new or sync.deleted)


def _joined(connection: AsyncConnection, writer: _Writer | PostgresqlWriter | None = None) -> AsyncSession:
    """An ORM session in the connection's transaction (its savepoint, if one is open) that never commits it."""
    session = AsyncSession(bind=connection, expire_on_commit=False, join_transaction_mode="rollback_only")
    session.info[CONNECTION] = connection
    if writer is not None:
        session.info[WRITER] = writer
    return session


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        self.dialect = "sqlite" if self.sqlite else "postgresql"
        if self.sqlite:
            ensure_sqlite_directory(url)
            self.writer = _sqlite_engine(url, writer=True)
            self.reader = _sqlite_engine(url, writer=False)
        else:
            self.writer = self.reader = _postgresql_engine(url)
        self._read = async_sessionmaker(self.reader, expire_on_commit=False)
        self._turn = asyncio.Lock()
        """SQLite: whose write runs now on the one writer connection."""
        self._group: _Group | None = None
        self.group_commits = 0
        """SQLite: how many group transactions have committed (tests see writes share one)."""

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One transaction that commits on success and rolls back on any error; when this returns, what it wrote is
        committed. On PostgreSQL a message's transaction takes its person's advisory lock first
        (storage.repo.begin_message). SQLite runs one writer at a time (BEGIN IMMEDIATE) and commits the writes
        that arrive together as one group (`_grouped`).

        The transaction is the connection's; the ORM session joins it and costs nothing unless used: a plain answer
        runs Core statements on the connection (`connection_of`) and never begins, flushes or commits the session."""
        if self.sqlite:
            async with self._grouped() as session:
                yield session
            return
        async with self.writer.connect() as connection, connection.begin():
            assert connection.sync_connection is not None  # begun
            adapter = connection.sync_connection.connection.dbapi_connection
            session = _joined(connection, PostgresqlWriter(adapter, connection.dialect))
            try:
                yield session
                if session.in_transaction():  # the ORM was used: its changes are flushed (the commit stays ours)
                    await session.commit()
            finally:
                await _close(session)

    async def write_one(self, statement: Prepared, values: Mapping[str, Any]) -> Ran:
        """One statement, committed when this returns. On PostgreSQL a single round trip: the statement's own
        transaction, without a BEGIN and a COMMIT around it; on SQLite a write as any other (in the group's)."""
        if self.sqlite:
            async with self.write() as db:
                return await statement.run(db, values)
        async with self.writer.connect() as connection:
            assert connection.sync_connection is not None  # connected
            adapter = connection.sync_connection.connection.dbapi_connection
            return await statement.run_on(PostgresqlWriter(adapter, connection.dialect, alone=True), values)

    @asynccontextmanager
    async def _grouped(self) -> AsyncIterator[AsyncSession]:
        """Group commit: a commit (and the transaction's start and end) costs more than an answer's statements,
        so the writes that are ready at the same moment (different people's answers) share one transaction. Each
        runs in its own savepoint: one that fails is rolled back alone and the others stand. Each write returns only
        once the group has committed, so nothing is acknowledged or answered before it is stored. A failure that
        rolls back the whole transaction (SQLite does for some errors) ends the group at once, and the other writes
        of it fail with GroupAborted, nothing of them stored."""
        async with self._turn:
            group = self._group or await self._open_group()
            try:
                # The savepoint on the sync connection itself: its statements run inline (`_plain_savepoints`), so
                # it needs no trip through SQLAlchemy's greenlet, which AsyncConnection.begin_nested takes twice.
                with group.sync.begin_nested():
                    session, group.spare = group.spare or _joined(group.connection, group.writer), None
                    try:
                        yield session
                        if session.in_transaction():  # flushed into the savepoint, released below
                            await session.commit()
                    finally:
                        if _unused(session):
                            group.spare = session
                        else:
                            await _close(session)
            except BaseException:
                if not await self._still_open(group):  # no later write may run outside a transaction
                    await self._end(group, GroupAborted())
                raise
        await asyncio.shield(group.done)

    async def _open_group(self) -> _Group:
        connection = await self.writer.connect()
        try:
            raw = (await connection.get_raw_connection()).driver_connection
            assert isinstance(raw, sqlite_driver.InlineConnection)
            group = _Group(connection, await connection.begin(), _Writer(raw, connection.dialect))
        except BaseException:
            await connection.close()
            raise
        self._group = group
        group.committing = asyncio.create_task(self._commit(group), name="sqlite-group-commit")
        return group

    async def _commit(self, group: _Group) -> None:
        """After the writes that were ready when the group opened (and one more turn of the event loop), once the
        one writing now is done: commit, and tell every write of the group."""
        await asyncio.sleep(0)
        async with self._turn:
            if group.done.done():  # ended already by a write that broke it
                return
            try:
                await group.transaction.commit()
            except Exception as exc:
                await self._end(group, exc)
                return
            self.group_commits += 1
            await self._end(group, None)

    async def _end(self, group: _Group, error: Exception | None) -> None:
        """Close the group (in the turn): committed when there is no error, else rolled back, and every write of it
        told."""
        self._group = None
        try:
            if error is not None:
                with suppress(Exception):  # SQLite may have rolled it back already
                    await group.transaction.rollback()
            await group.connection.close()
        finally:
            if error is None:
                group.done.set_result(None)
            else:
                group.done.set_exception(error)
                group.done.exception()  # retrieved: a group whose writes all failed has nobody waiting for it

    @staticmethod
    async def _still_open(group: _Group) -> bool:
        """Whether the group's transaction survived a write's failure (its savepoint rolled back, the rest intact)."""
        raw = await group.connection.get_raw_connection()
        return bool(getattr(raw.driver_connection, "in_transaction", False))

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
        if self._group is not None and self._group.committing is not None:  # what is written is committed first
            await self._group.committing
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()
