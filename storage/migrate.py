"""Schema migrations with Alembic, run at start and by `pbgdpl migrate`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, pool
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import DatabaseUnreachable, ensure_sqlite_directory, reason

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def migrate(url: str, revision: str = "head", questionnaires: Mapping[str, str] | None = None) -> None:
    """Upgrade the database to `revision`. `questionnaires` are the ones the deployment runs from its preset files
    (id → kind): a data migration that must know what the bot ran before (0016's assignments) reads them."""
    ensure_sqlite_directory(url)
    engine = create_async_engine(url, poolclass=pool.NullPool, hide_parameters=True)
    config = alembic_config()

    def upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        config.attributes["questionnaires"] = dict(questionnaires or {})
        command.upgrade(config, revision)

    try:
        try:
            connection = await engine.connect()
        except (OSError, DBAPIError) as exc:  # refused, unknown host, wrong password, no such database
            raise DatabaseUnreachable(reason(exc)) from None
        try:
            async with connection.begin():
                await connection.run_sync(upgrade)
        finally:
            await connection.close()
    finally:
        await engine.dispose()
