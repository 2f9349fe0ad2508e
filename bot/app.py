"""Putting it together: settings → database → service → channels."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from bot.channels.console import ConsoleChat
from bot.channels.telegram import TelegramChannel
from bot.config import Settings
from bot.identity import load_or_create_secret
from bot.logs import setup_logging
from bot.service import BotService, load_unit_presets
from conversations.definition import load_directory
from storage.db import Database
from storage.migrate import migrate

log = logging.getLogger(__name__)


@asynccontextmanager
async def open_service(settings: Settings, *, console: bool = False) -> AsyncIterator[BotService]:
    """A migrated, seeded service; the database is closed on exit."""
    url = settings.effective_database_url
    await migrate(url)
    questionnaires = load_directory(settings.questionnaires_dir)
    secret = (
        settings.secret.get_secret_value().encode()
        if settings.secret
        else load_or_create_secret(settings.data_dir / "secret.key")
    )
    admins = settings.admins | ({"console:admin"} if console else frozenset())
    db = Database(url)
    service = BotService(
        db, questionnaires, secret, admins=admins, invite_ttl=timedelta(hours=settings.invite_ttl_hours)
    )
    try:
        await service.seed(load_unit_presets(settings.units_dir), settings.period, settings.deadline)
        yield service
    finally:
        await db.dispose()


async def run(settings: Settings) -> None:
    console = settings.run_console
    async with open_service(settings, console=console) as service:
        telegram = None
        if settings.telegram_token is not None:
            telegram = TelegramChannel(
                service,
                settings.telegram_token.get_secret_value(),
                settings.telegram_base_url,
                settings.telegram_base_file_url,
            )
            await telegram.start()
            log.info("Telegram polling as @%s", service.bot_username)
        try:
            if console:
                await ConsoleChat(service, settings.data_dir / "exports").run()
            else:
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGINT, signal.SIGTERM):
                    with suppress(NotImplementedError):
                        loop.add_signal_handler(sig, stop.set)
                await stop.wait()
        finally:
            if telegram is not None:
                await telegram.stop()


def main_run(settings: Settings) -> None:
    setup_logging(settings.log_level, quiet=settings.run_console)
    asyncio.run(run(settings))
