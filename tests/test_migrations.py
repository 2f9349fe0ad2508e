"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import Database
from storage.migrate import migrate
from storage.models import Base, OutboxMessage


async def test_migrations_match_the_models(database_url: str) -> None:
    url = database_url
    await migrate(url)
    await migrate(url)  # running again at the next start changes nothing
    engine = create_async_engine(url)

    def differences(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []
    await engine.dispose()


async def test_messages_zalo_oa_held_in_its_own_table_move_into_the_outbox(database_url: str) -> None:
    """Migration 0015: a held message stays held (now an outbox status); sent or undeliverable ones were settled."""
    await migrate(database_url, "0014")
    engine = create_async_engine(database_url)
    created = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    rows = [("6142494823000000201", "Nhắc nhở: còn 1 ngày.", "held"), ("6142494823000000202", "Đã gửi.", "sent")]
    async with engine.begin() as connection:
        for user, text, status in rows:
            await connection.execute(
                sa.text(
                    "INSERT INTO zalo_oa_held_messages (user_id, message, status, reason, created_at)"
                    " VALUES (:user, :message, :status, 'outside the reply window', :created)"
                ),
                {"user": user, "message": json.dumps({"text": text}), "status": status, "created": created},
            )
    await engine.dispose()
    await migrate(database_url)
    database = Database(database_url)
    try:
        async with database.read() as db:
            moved = (await db.scalars(sa.select(OutboxMessage))).all()
    finally:
        await database.dispose()
    assert [(m.channel, m.recipient, m.text, m.status, m.kind) for m in moved] == [
        ("zalo_oa", "6142494823000000201", "Nhắc nhở: còn 1 ngày.", "held", "reply")
    ]
    assert moved[0].created_at == created
