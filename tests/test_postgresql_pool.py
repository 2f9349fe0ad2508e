"""PostgreSQL's connection pool: a connection the server closed is replaced before a message uses it (without a
ping per checkout), and connections are kept, not opened anew per message."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import text

from storage.db import POSTGRESQL_POOL, Database, connection_of, is_sqlite
from tests.conftest import POSTGRES_ADMIN_DSN


async def backend_pid(db: Database) -> int:
    async with db.write() as session:
        return int((await (await connection_of(session)).execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_the_server_closed_is_replaced_before_use(database_url: str) -> None:
    if is_sqlite(database_url):
        pytest.skip("PostgreSQL's pool")
    db = Database(database_url)
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        first = await backend_pid(db)
        assert await backend_pid(db) == first, "the pooled connection is used again"
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        await asyncio.sleep(0.5)  # the driver sees the socket close on the event loop
        assert await backend_pid(db) != first, "a closed connection was given to a write"
    finally:
        await admin.close()
        await db.dispose()


async def test_connections_are_kept_under_load(database_url: str) -> None:
    if is_sqlite(database_url):
        pytest.skip("PostgreSQL's pool")
    db = Database(database_url)
    try:
        pids = await asyncio.gather(*(backend_pid(db) for _ in range(POSTGRESQL_POOL * 3)))
        pids += await asyncio.gather(*(backend_pid(db) for _ in range(POSTGRESQL_POOL * 3)))
        assert len(set(pids)) <= POSTGRESQL_POOL, "connections beyond the pool were opened (and closed again)"
    finally:
        await db.dispose()
