"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from storage.migrate import migrate
from storage.models import Base


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
