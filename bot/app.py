"""Putting it together: settings → database → service → channels."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from pydantic import SecretStr

from bot.channels import zalo_bot
from bot.channels.console import ConsoleChat
from bot.channels.telegram import TelegramChannel
from bot.channels.zalo_bot import ZaloBotChannel
from bot.channels.zalo_oa import ZaloOaChannel
from bot.config import ConfigError, Settings
from bot.identity import load_or_create_secret
from bot.links import DownloadLinks
from bot.logs import setup_logging
from bot.outbox import Notifier, Outbox
from bot.scheduler import Scheduler
from bot.service import BotService, load_unit_presets
from bot.web import Channel, WebServer
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
        db,
        questionnaires,
        secret,
        admins=admins,
        invite_ttl=timedelta(hours=settings.invite_ttl_hours),
        settings=settings,
    )
    service.bot_username = settings.telegram_bot_username  # the Telegram channel confirms it with getMe
    try:
        await service.seed(load_unit_presets(settings.units_dir), settings.period, settings.deadline)
        yield service
    finally:
        await db.dispose()


def public_url(settings: Settings) -> str:
    return (settings.public_url or f"http://{settings.http_host}:{settings.http_port}").rstrip("/")


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def build_channels(settings: Settings, service: BotService, links: DownloadLinks) -> list[Channel]:
    """The platform channels the settings ask for (the console runs apart, in the terminal)."""
    channels: list[Channel] = []
    if settings.telegram_token is not None:
        channels.append(
            TelegramChannel(
                service,
                settings.telegram_token.get_secret_value(),
                settings.telegram_base_url,
                settings.telegram_base_file_url,
                webhook_url=settings.telegram_webhook_url,
                webhook_secret=_secret(settings.telegram_webhook_secret),
            )
        )
    if settings.zalo_oa_app_id is not None:
        secret_key, app_secret = _secret(settings.zalo_oa_secret_key), _secret(settings.zalo_oa_app_secret)
        if secret_key is None or app_secret is None:
            raise ConfigError(
                "Zalo OA cần cả PBGDPL_ZALO_OA_SECRET_KEY (khóa bí mật của OA, trang Webhook) "
                "và PBGDPL_ZALO_OA_APP_SECRET (khóa bí mật của ứng dụng)."
            )
        channels.append(
            ZaloOaChannel(
                service,
                links,
                app_id=settings.zalo_oa_app_id,
                secret_key=secret_key,
                app_secret=app_secret,
                refresh_token=_secret(settings.zalo_oa_refresh_token),
                base_url=settings.zalo_oa_base_url,
                oauth_url=settings.zalo_oa_oauth_url,
                use_buttons=settings.zalo_oa_buttons,
                replay_window=timedelta(seconds=settings.zalo_oa_replay_window_seconds),
            )
        )
    if settings.zalo_bot_token is not None:
        webhook_secret = _secret(settings.zalo_bot_webhook_secret)
        channels.append(
            ZaloBotChannel(
                service,
                links,
                token=settings.zalo_bot_token.get_secret_value(),
                base_url=settings.zalo_bot_base_url,
                webhook_url=public_url(settings) + zalo_bot.PATH if webhook_secret else None,
                webhook_secret=webhook_secret,
            )
        )
    return channels


@asynccontextmanager
async def notifications(
    settings: Settings, service: BotService, notifiers: Sequence[Notifier]
) -> AsyncIterator[Outbox]:
    """The outbox worker and the scheduler (reminders, digest), running while the channels do."""
    outbox = Outbox(
        service.db,
        notifiers,
        service.clock,
        per_second=settings.outbox_per_second,
        per_chat=settings.outbox_per_chat_seconds,
        max_attempts=settings.outbox_max_attempts,
    )
    scheduler = Scheduler(
        service, outbox, offsets=settings.reminder_days, hour=settings.reminder_hour, digest_days=settings.digest_days
    )
    await outbox.start()
    await scheduler.start()
    try:
        yield outbox
    finally:
        await scheduler.stop()
        await outbox.stop()


@asynccontextmanager
async def serve(settings: Settings, service: BotService) -> AsyncIterator[WebServer | None]:
    """The web app and the configured platform channels, running; None when no platform is configured."""
    links = DownloadLinks(
        settings.data_dir / "downloads",
        service.secret,
        public_url(settings),
        timedelta(minutes=settings.download_ttl_minutes),
    )
    channels = build_channels(settings, service, links)
    if not channels:
        yield None
        return
    server = WebServer(settings.http_host, settings.http_port, channels, links, ready=service.db.ping)
    await server.start()
    started: list[Channel] = []
    try:
        for channel in channels:
            started.append(channel)  # stopped even if it fails half-way through starting
            await channel.start()
            log.info("%s channel started", channel.name)
        async with notifications(settings, service, channels):
            yield server
    finally:
        for channel in reversed(started):
            await channel.stop()
        await server.stop()


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run(settings: Settings) -> None:
    console = settings.run_console
    async with open_service(settings, console=console) as service, serve(settings, service):
        if console:
            chat = ConsoleChat(service, settings.data_dir / "exports")
            async with notifications(settings, service, [chat]):
                await chat.run()
        else:
            await _until_signalled()


def main_run(settings: Settings) -> None:
    setup_logging(settings.log_level, quiet=settings.run_console, json_lines=settings.log_format == "json")
    try:
        asyncio.run(run(settings))
    except ConfigError as problem:
        raise SystemExit(f"Cấu hình chưa đúng: {problem}") from None
