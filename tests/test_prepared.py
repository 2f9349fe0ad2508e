"""A message's fixed statements (storage.db.Prepared) run on the driver's own connection in a write, the SQLite
writer's sqlite3 connection or PostgreSQL's asyncpg connection, and store and read what SQLAlchemy does."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.status import Status
from storage import repo, sqlite_driver
from storage.db import Compiled, Database, PostgresqlWriter, Ran
from storage.migrate import migrate
from storage.models import Response, Unit
from storage.sqlite_driver import InlineConnection


async def test_prepared_statements_store_and_read_what_sqlalchemy_does(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same statements on the driver's connection and through SQLAlchemy store the same text and read back
    the same values (statuses, aware datetimes, JSON, the claim's row count)."""
    await migrate(database_url)
    database = Database(database_url)
    now = datetime(2026, 3, 2, 8, 30, 15, 123456, tzinfo=UTC)
    state = {"answers": {"q1": "Rất hài lòng", "q2": [1, 2]}, "position": "q3"}
    waiting = {"kind": "unit_pick", "đơn vị": "xã Hậu Lộc"}
    ran_directly = [0]
    run_now, run_prepared = InlineConnection.run_now, PostgresqlWriter.run

    def counted(self: InlineConnection, sql: str, parameters: object = None) -> sqlite_driver.Outcome:
        ran_directly[0] += 1
        return run_now(self, sql, parameters)

    async def counted_prepared(self: PostgresqlWriter, compiled: Compiled, values: Mapping[str, Any]) -> Ran:
        ran_directly[0] += 1
        return await run_prepared(self, compiled, values)

    monkeypatch.setattr(InlineConnection, "run_now", counted)
    monkeypatch.setattr(PostgresqlWriter, "run", counted_prepared)

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
                total_points=7.5,
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
    async with database.write() as db:  # the driver's own connection
        direct = await one_message(db, "a", "1")
    assert ran_directly[0] >= 5, "the statements ran on the driver's connection"
    async with database.writer.connect() as connection, connection.begin():  # the same through SQLAlchemy
        ran_directly[0] = 0
        through = await one_message(AsyncSession(bind=connection), "b", "2")
        assert ran_directly[0] == 0
    queries = [
        "SELECT response_id, CAST(waiting_for AS TEXT), CAST(updated_at AS TEXT) FROM sessions ORDER BY actor",
        "SELECT CAST(state AS TEXT), CAST(updated_at AS TEXT) FROM responses ORDER BY id",
        "SELECT CAST(received_at AS TEXT), CAST(done_at AS TEXT), payload FROM inbox ORDER BY update_key",
    ]
    async with database.read() as db:
        stored = {query: (await db.execute(text(query))).all() for query in queries}
    await database.dispose()

    assert direct[:2] == through[:2] == (True, False)
    begun, other = direct[2], through[2]
    assert begun.session is not None and other.session is not None
    assert begun.response is not None and other.response is not None
    assert begun.session == other.session._replace(response_id=begun.session.response_id) == (1, waiting)
    assert begun.response == other.response._replace(id=1, respondent="a")
    assert begun.response.status is Status.DRAFT and begun.response.state == state
    assert begun.response.total_points == 7.5 and isinstance(begun.response.total_points, float)
    assert begun.response.submitted_at == now and begun.response.submitted_at.tzinfo is not None
    for query, (first, second) in stored.items():
        assert first[1:] == second[1:] and (query.startswith("SELECT response_id") or first == second), query


async def test_an_event_is_stored_in_one_statement_committed_on_its_own(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A webhook's event is kept before the platform is told it arrived: on PostgreSQL one round trip (the
    statement's own transaction, no BEGIN or COMMIT); committed when store_inbound returns; a redelivery stores
    nothing."""
    await migrate(database_url)
    database = Database(database_url)
    begun = [0]
    start = AsyncAdapt_asyncpg_connection._start_transaction

    async def counted(self: AsyncAdapt_asyncpg_connection) -> None:
        begun[0] += 1
        await start(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "_start_transaction", counted)
    now = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
    try:
        assert await database.ping()  # the engine's first connection reads the server's settings in a transaction
        begun[0] = 0
        first = await repo.store_inbound(database, "zalo_oa", "e1", "người", "sealed", now)
        again = await repo.store_inbound(database, "zalo_oa", "e1", "người", "other", now)
        assert begun[0] == 0, "no transaction around the one statement"
        async with database.read() as db:  # committed: another connection sees it
            stored = (await db.execute(text("SELECT id, payload, person FROM inbox"))).all()
    finally:
        await database.dispose()
    assert isinstance(first, int) and again is None
    assert [tuple(row) for row in stored] == [(first, "sealed", "người")]
