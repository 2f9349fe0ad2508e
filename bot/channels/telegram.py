"""Telegram. Updates are read as the Bot API's JSON (bot/channels/telegram_updates.py) and the frequent calls
(getUpdates, answerCallbackQuery, sendMessage, editMessageText/ReplyMarkup) are plain JSON calls through the
project's aiohttp request (`_api`), so the hot path builds no python-telegram-bot object. PTB's Bot makes the rare
calls: getMe at start, the menus, the webhook, getFile and a file's download, and sending files (multipart)."""

from __future__ import annotations

import asyncio
import hmac
import html
import io
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from datetime import timedelta
from functools import partial
from typing import Any

from aiohttp import web
from telegram import Bot, BotCommand, BotCommandScopeChat, InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.channels.base import PlatformChannel, Received
from bot.channels.telegram_poll import PollWindow
from bot.channels.telegram_request import AiohttpRequest
from bot.channels.telegram_updates import CHANNEL, Pressed, TelegramUpdate, update_of
from bot.identity import actor_key
from bot.messages import Document, Reply
from bot.outbox import SENT, Delivery, admin_recipients
from bot.render import split_text
from bot.service import BotService
from conversations.engine import FileRef, Outgoing

WEBHOOK_PATH = "/webhooks/telegram"
TEXT_LIMIT = 4096
POLL_TIMEOUT = 25
BUSY_POLL_DELAY = 0.05
"""Seconds between polls while updates are in flight and nothing finishes (Telegram does not wait then)."""
UPDATES = ["message", "callback_query"]
"""The kinds of update asked for (telegram_updates reads these)."""
HTML = "HTML"
API_URL, FILE_URL = "https://api.telegram.org/bot", "https://api.telegram.org/file/bot"
log = logging.getLogger(__name__)


class TelegramLinks:
    """Links that open a chat with the bot on Telegram and start it with a payload (t.me/<bot>?start=…): the one
    place they are made. The bot's name comes from the settings, and from getMe once the channel runs."""

    def __init__(self, username: str | None) -> None:
        self.username = username

    def deep_link(self, payload: str) -> str | None:
        return f"https://t.me/{self.username}?start={payload}" if self.username else None


def html_text(message: Outgoing) -> str:
    parts = []
    if message.header:
        parts.append(f"<b>{html.escape(message.header)}</b>")
    parts.append(html.escape(message.text))
    if message.hint:
        parts.append(f"<i>{html.escape(message.hint)}</i>")
    return "\n".join(parts)


def keyboard(message: Outgoing) -> dict[str, Any] | None:
    """The message's inline keyboard as the Bot API reads it (an InlineKeyboardMarkup's JSON)."""
    rows: list[list[dict[str, str]]] = []
    numbered = len(message.choices) > 1
    for n, choice in enumerate(message.choices, start=1):
        label = f"{n}. {choice.label}" if numbered else choice.label
        rows.append([{"text": label, "callback_data": choice.token}])
    actions = list(message.actions)
    width = 6 if all(len(a.label) <= 3 for a in actions) else 3
    for start in range(0, len(actions), width):
        rows.append([{"text": a.label, "callback_data": a.token} for a in actions[start : start + width]])
    return {"inline_keyboard": rows} if rows else None


class TelegramChannel(PlatformChannel[TelegramUpdate]):
    name = CHANNEL

    def __init__(
        self,
        service: BotService,
        token: str,
        base_url: str | None,
        base_file_url: str | None,
        *,
        read_timeout: float = 10.0,
        retry_delay: float = 1.0,
        max_attempts: int = 5,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
    ) -> None:
        super().__init__(service, max_attempts=max_attempts, retry_delay=retry_delay)
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret or secrets.token_urlsafe(32)
        self.links = TelegramLinks(None)
        self._poller: asyncio.Task[None] | None = None
        self._calls = AiohttpRequest(read_timeout=read_timeout)
        self._polls = AiohttpRequest(pool_size=2, read_timeout=POLL_TIMEOUT + 10)
        self.bot = Bot(
            token, base_url or API_URL, base_file_url or FILE_URL, request=self._calls, get_updates_request=self._polls
        )

    async def _set_menus(self) -> None:
        """Everyone's menu, and for each admin a menu with the admin commands too (in their private chat)."""
        table, bot = self.service.commands, self.bot
        await bot.set_my_commands([BotCommand(name, text[:256]) for name, text in table.menu(admin=False)])
        admin_menu = [BotCommand(name, text[:256]) for name, text in table.menu(admin=True)]
        async with self.service.db.read() as db:
            admins = await admin_recipients(db, self.service.admins)
        for admin in admins:
            if admin.channel == CHANNEL and admin.platform_id.lstrip("-").isdigit():
                await bot.set_my_commands(admin_menu, scope=BotCommandScopeChat(int(admin.platform_id)))

    async def start(self) -> None:
        await self.bot.initialize()  # getMe: the bot's name, for its links
        self.links.username = self.bot.username
        await self._set_menus()
        await self.recover()  # what a crash left undone in webhook mode, even if it polls now
        if self.webhook_url is not None:
            await self.bot.set_webhook(self.webhook_url, secret_token=self.webhook_secret, allowed_updates=UPDATES)
            return
        await self.bot.delete_webhook()
        self._poller = asyncio.create_task(self._poll(), name="telegram-poller")

    async def fetch_file(self, ref: FileRef) -> bytes:
        """The bytes of a file a user sent: getFile, then its download."""
        found = await self.bot.get_file(ref.file_id)
        return bytes(await found.download_as_bytearray())

    def deep_link(self, payload: str) -> str | None:
        return self.links.deep_link(payload)

    def routes(self) -> list[web.RouteDef]:
        return [web.post(WEBHOOK_PATH, self.webhook)]

    async def webhook(self, request: web.Request) -> web.Response:
        """Webhook mode: a request with the secret registered by setWebhook is stored in the inbox before it is
        answered, so an update is never acknowledged and then lost in a crash; Telegram's retries are applied once."""
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "").encode()
        if self.webhook_url is None or not hmac.compare_digest(given, self.webhook_secret.encode()):
            log.warning("refused a Telegram webhook request from %s: wrong or missing secret token", request.remote)
            return web.Response(status=401)
        try:
            payload = await request.json()
            if not isinstance(payload, dict):
                raise ValueError("an update is a JSON object")
            self.received(payload)
        except (ValueError, TypeError, KeyError, AttributeError):
            return web.Response(status=400)
        await self.accept(payload)
        return web.Response()

    def received(self, payload: dict[str, Any]) -> Received[TelegramUpdate] | None:
        update = update_of(payload)
        return Received(str(update.update_id), update.sender.user_id, update) if update is not None else None

    async def apply(self, key: str, event: TelegramUpdate) -> None:
        try:
            if event.callback_id is None:
                await self._on_message(key, event)
            else:
                await self._on_callback(key, event, event.callback_id)
        except TelegramError as exc:  # a call that neither succeeded nor failed in a way _attempt knows
            log.warning("Telegram error: %s", exc)

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self.inbox.join()
        await self.bot.shutdown()

    async def _poll(self) -> None:
        """Pipelined long polling that confirms an update only after it is applied (bot/channels/telegram_poll.py):
        the next poll goes out at once while a batch is applied, the offset stays at the first unfinished update, and
        the updates Telegram returns again are skipped by id. Each new update is applied in its sender's turn (after
        that person's earlier updates, whatever batch they came in), different people at the same time. After a
        crash, Telegram delivers the unconfirmed updates again and the service's update ids keep them from being
        applied twice. (PTB's own updater confirms updates as soon as it has fetched them.)"""
        window = PollWindow()
        failures = 0
        while True:
            window.clear()
            try:
                answer = await self._api(
                    "getUpdates", offset=window.offset, timeout=POLL_TIMEOUT, allowed_updates=UPDATES
                )
                updates: list[dict[str, Any]] = json.loads(answer)["result"]
                failures = 0
            except (TimedOut, NetworkError, RetryAfter, ValueError, KeyError) as exc:
                failures += 1
                log.warning("getUpdates failed (%d): %s", failures, exc)
                await asyncio.sleep(min(self.retry_delay * 2 ** min(failures, 6), 30))
                continue
            fresh = window.fresh(updates)
            for payload in fresh:
                found = self._readable(payload)
                if found is None:
                    window.finish(payload["update_id"])
                    continue
                actor = actor_key(self.service.secret, self.name, found.person)
                self.inbox.later(actor, partial(self._apply_polled, window, payload["update_id"], found))
            if not fresh and window.busy:  # Telegram answered at once: poll again on a cue, or after a short while
                with suppress(TimeoutError):
                    await asyncio.wait_for(window.cue(updates).wait(), BUSY_POLL_DELAY)

    async def _apply_polled(self, window: PollWindow, update_id: int, found: Received[TelegramUpdate]) -> None:
        try:
            await self.apply(found.key, found.event)
        finally:  # a failure is logged by the inbox and the update confirmed, as a webhook's would be
            window.finish(update_id)

    def _readable(self, payload: dict[str, Any]) -> Received[TelegramUpdate] | None:
        """A polled update, or None for one the bot ignores or cannot read: finished at once, so it is confirmed and
        not fetched (and refused) again and again."""
        try:
            return self.received(payload)
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("left out a Telegram update that cannot be read")
            return None

    async def _on_message(self, key: str, update: TelegramUpdate) -> None:
        interim = partial(self._send, update.chat_id)
        replies = await self.service.handle(update.sender, update.inbound, update_id=key, interim=interim)
        await self._send(update.chat_id, replies)

    async def _on_callback(self, key: str, update: TelegramUpdate, callback_id: str) -> None:
        answer = partial(self._api, "answerCallbackQuery", callback_query_id=callback_id)
        await self._deliver(answer, "answerCallbackQuery")
        replies = await self.service.handle(update.sender, update.inbound, update_id=key)
        pressed = update.pressed
        if pressed is None:
            return
        if replies and isinstance(replies[0], Outgoing) and replies[0].replaces_prompt:
            await self._edit(pressed, replies[0])
            replies = replies[1:]
        else:
            await self._lock(pressed)
        await self._send(pressed.chat_id, replies)

    async def notify(self, platform_id: str, message: Outgoing) -> Delivery:
        """One attempt at a message nobody asked for (the outbox retries and paces)."""
        for piece in split_text(html_text(message), TEXT_LIMIT, html=True):
            send = partial(self._api, "sendMessage", chat_id=int(platform_id), text=piece, parse_mode=HTML)
            result = await self._attempt(send, "sendMessage")
            if result.status != "sent":
                return result
        return SENT

    async def _api(self, method: str, **params: object) -> bytes:
        """One Bot API call with a JSON body, its answer's bytes: PTB's methods would build an object of every message
        sent, which nothing here looks at again. The request is the bot's (its base URL, aiohttp session and timeouts;
        getUpdates has its own, as PTB's has), and it raises PTB's errors (RetryAfter, Forbidden, BadRequest, TimedOut,
        NetworkError) for the same answers; the parameters that are None are left out, as PTB leaves them out."""
        request = self._polls if method == "getUpdates" else self._calls
        given = {name: value for name, value in params.items() if value is not None}
        return await request.call(f"{self.bot.base_url}/{method}", given)

    @staticmethod
    async def _attempt(action: Callable[[], Awaitable[object]], what: str) -> Delivery:
        """One Bot API call, and what it came to."""
        try:
            await action()
        except RetryAfter as exc:
            wait = exc.retry_after
            return Delivery("retry", wait.total_seconds() if isinstance(wait, timedelta) else float(wait), str(exc))
        except Forbidden as exc:
            log.info("%s: the user has blocked the bot", what)
            return Delivery("blocked", detail=str(exc))
        except BadRequest as exc:
            log.warning("%s refused: %s", what, exc)
            return Delivery("failed", detail=str(exc))
        except (TimedOut, NetworkError) as exc:
            return Delivery("retry", detail=str(exc) or type(exc).__name__)
        return SENT

    async def _deliver(self, action: Callable[[], Awaitable[object]], what: str) -> bool:
        return await self.deliver(partial(self._attempt, action, what), what)

    async def _lock(self, message: Pressed) -> None:
        """Take the buttons off an answered question so old taps are rare (the engine refuses them anyway)."""
        if message.has_keyboard:
            edit = partial(self._api, "editMessageReplyMarkup", chat_id=message.chat_id, message_id=message.message_id)
            await self._deliver(edit, "editMessageReplyMarkup")

    async def _edit(self, message: Pressed, reply: Outgoing) -> None:
        text = html_text(reply)
        edit = partial(
            self._api,
            "editMessageText",
            chat_id=message.chat_id,
            message_id=message.message_id,
            text=text,
            parse_mode=HTML,
            reply_markup=keyboard(reply),
        )
        edited = len(text) <= TEXT_LIMIT and await self._deliver(edit, "editMessageText")
        if not edited:
            await self._send(message.chat_id, [reply])

    async def _send(self, chat_id: int, replies: Sequence[Reply]) -> None:
        for reply in replies:
            if isinstance(reply, Document):
                upload = InputFile(io.BytesIO(reply.content), filename=reply.filename)
                if reply.mime.startswith("image/") and not reply.original:  # a chart: a picture, not a file to open
                    send = partial(self.bot.send_photo, chat_id, upload, caption=reply.caption)
                    await self._deliver(send, "sendPhoto")
                else:
                    send = partial(self.bot.send_document, chat_id, upload, caption=reply.caption)
                    await self._deliver(send, "sendDocument")
                continue
            pieces = split_text(html_text(reply), TEXT_LIMIT, html=True)
            for index, piece in enumerate(pieces):
                markup = keyboard(reply) if index == len(pieces) - 1 else None
                message = partial(
                    self._api, "sendMessage", chat_id=chat_id, text=piece, parse_mode=HTML, reply_markup=markup
                )
                await self._deliver(message, "sendMessage")
