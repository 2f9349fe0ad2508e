"""Telegram: python-telegram-bot as transport only. Updates become (Sender, Inbound); replies become messages."""

from __future__ import annotations

import asyncio
import hmac
import html
import io
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from datetime import timedelta
from functools import partial
from typing import Any

from aiohttp import web
from telegram import BotCommand, BotCommandScopeChat, InputFile, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter  # what RequestData holds (PTB pinned below 23)

from bot.channels.base import PlatformChannel, Received
from bot.channels.telegram_request import AiohttpRequest
from bot.messages import Document, Reply, Sender
from bot.order import each_in_order
from bot.outbox import SENT, Delivery, admin_recipients
from bot.render import split_text
from bot.service import BotService
from conversations.engine import FileRef, Inbound, Outgoing

CHANNEL = "telegram"
WEBHOOK_PATH = "/webhooks/telegram"
TEXT_LIMIT = 4096
POLL_TIMEOUT = 25
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


def inbound_of(message: Message) -> Inbound:
    if message.text is not None:
        return Inbound(text=message.text)
    if message.photo:
        best = message.photo[-1]
        ref = FileRef(best.file_id, "photo", None, "image/jpeg", best.file_size)
        return Inbound(files=(ref,), text=message.caption)
    if message.document is not None:
        doc = message.document
        return Inbound(files=(FileRef(doc.file_id, "document", doc.file_name, doc.mime_type, doc.file_size),))
    kind = "sticker" if message.sticker else "voice" if message.voice else "location" if message.location else "other"
    return Inbound(unsupported=kind)


def chat_key(update: Update) -> str:
    return str(update.effective_chat.id if update.effective_chat else 0)


class TelegramChannel(PlatformChannel[Update]):
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
        builder: ApplicationBuilder = (  # type: ignore[type-arg]
            Application.builder()
            .token(token)
            .request(AiohttpRequest(read_timeout=read_timeout))
            .get_updates_request(AiohttpRequest(pool_size=2, read_timeout=POLL_TIMEOUT + 10))
            .concurrent_updates(True)
            .updater(None)
        )
        if base_url:
            builder = builder.base_url(base_url)
        if base_file_url:
            builder = builder.base_file_url(base_file_url)
        self.app = builder.build()
        self.app.add_handler(CallbackQueryHandler(self._on_callback))
        self.app.add_handler(MessageHandler(filters.UpdateType.MESSAGE, self._on_message))
        self.app.add_error_handler(self._on_error)

    async def _set_menus(self) -> None:
        """Everyone's menu, and for each admin a menu with the admin commands too (in their private chat)."""
        table, bot = self.service.commands, self.app.bot
        await bot.set_my_commands([BotCommand(name, text[:256]) for name, text in table.menu(admin=False)])
        admin_menu = [BotCommand(name, text[:256]) for name, text in table.menu(admin=True)]
        async with self.service.db.read() as db:
            admins = await admin_recipients(db, self.service.admins)
        for admin in admins:
            if admin.channel == CHANNEL and admin.platform_id.lstrip("-").isdigit():
                await bot.set_my_commands(admin_menu, scope=BotCommandScopeChat(int(admin.platform_id)))

    async def start(self) -> None:
        await self.app.initialize()
        self.links.username = self.app.bot.username
        await self._set_menus()
        await self.app.start()
        await self.recover()  # what a crash left undone in webhook mode, even if it polls now
        if self.webhook_url is not None:
            await self.app.bot.set_webhook(
                self.webhook_url, secret_token=self.webhook_secret, allowed_updates=["message", "callback_query"]
            )
            return
        await self.app.bot.delete_webhook()
        self._poller = asyncio.create_task(self._poll(), name="telegram-poller")

    async def fetch_file(self, ref: FileRef) -> bytes:
        """The bytes of a file a user sent: getFile, then its download."""
        found = await self.app.bot.get_file(ref.file_id)
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
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400)
        await self.accept(payload)
        return web.Response()

    def received(self, payload: dict[str, Any]) -> Received[Update] | None:
        update = Update.de_json(payload, self.app.bot)
        sender = self._sender(update)
        return Received(str(update.update_id), sender.user_id, update) if sender is not None else None

    async def apply(self, key: str, event: Update) -> None:
        await self.app.process_update(event)

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self.inbox.join()
        if self.app.running:
            await self.app.stop()
        await self.app.shutdown()

    async def _poll(self) -> None:
        """Long polling that confirms a batch only after it is processed: after a crash, Telegram delivers
        the unfinished updates again, and the service's update ids keep them from being applied twice.
        (PTB's own updater confirms updates as soon as it has fetched them.)"""
        offset: int | None = None
        failures = 0
        while True:
            try:
                updates = await self.app.bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT, allowed_updates=["message", "callback_query"]
                )
                failures = 0
            except (TimedOut, NetworkError, RetryAfter) as exc:
                failures += 1
                log.warning("getUpdates failed (%d): %s", failures, exc)
                await asyncio.sleep(min(self.retry_delay * 2 ** min(failures, 6), 30))
                continue
            if updates:
                await each_in_order(updates, chat_key, self.app.process_update)
                offset = updates[-1].update_id + 1

    @staticmethod
    def _sender(update: Update) -> Sender | None:
        user = update.effective_user
        if user is None or update.effective_chat is None or update.effective_chat.type != "private":
            return None
        return Sender(CHANNEL, str(user.id), user.full_name)

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        sender, message = self._sender(update), update.effective_message
        if sender is None or message is None:
            return
        replies = await self.service.handle(
            sender, inbound_of(message), update_id=str(update.update_id), interim=partial(self._send, message.chat_id)
        )
        await self._send(message.chat_id, replies)

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, sender = update.callback_query, self._sender(update)
        if query is None or sender is None:
            return
        await self._deliver(query.answer, "answerCallbackQuery")
        replies = await self.service.handle(sender, Inbound(button=query.data or ""), update_id=str(update.update_id))
        pressed = query.message if isinstance(query.message, Message) else None
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
            send = partial(self._api, "sendMessage", chat_id=int(platform_id), text=piece, parse_mode=ParseMode.HTML)
            result = await self._attempt(send, "sendMessage")
            if result.status != "sent":
                return result
        return SENT

    async def _api(self, method: str, **params: object) -> None:
        """One Bot API call whose result is not read back: PTB's methods would build a Message object of every message
        sent, which nothing here looks at again. The request is PTB's (the bot's base URL, its HTTP seam and timeouts),
        and it raises PTB's errors (RetryAfter, Forbidden, BadRequest, TimedOut, NetworkError) as the methods do; the
        parameters left out are those that are None, as PTB leaves them out."""
        bot = self.app.bot
        given = [RequestParameter.from_input(name, value) for name, value in params.items() if value is not None]
        await bot.request.post(f"{bot.base_url}/{method}", RequestData(given))

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

    async def _lock(self, message: Message) -> None:
        """Take the buttons off an answered question so old taps are rare (the engine refuses them anyway)."""
        if message.reply_markup is not None:
            edit = partial(self._api, "editMessageReplyMarkup", chat_id=message.chat_id, message_id=message.message_id)
            await self._deliver(edit, "editMessageReplyMarkup")

    async def _edit(self, message: Message, reply: Outgoing) -> None:
        text = html_text(reply)
        edit = partial(
            self._api,
            "editMessageText",
            chat_id=message.chat_id,
            message_id=message.message_id,
            text=text,
            parse_mode=ParseMode.HTML,
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
                    send = partial(self.app.bot.send_photo, chat_id, upload, caption=reply.caption)
                    await self._deliver(send, "sendPhoto")
                else:
                    send = partial(self.app.bot.send_document, chat_id, upload, caption=reply.caption)
                    await self._deliver(send, "sendDocument")
                continue
            pieces = split_text(html_text(reply), TEXT_LIMIT, html=True)
            for index, piece in enumerate(pieces):
                markup = keyboard(reply) if index == len(pieces) - 1 else None
                send = partial(
                    self._api,
                    "sendMessage",
                    chat_id=chat_id,
                    text=piece,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                )
                await self._deliver(send, "sendMessage")

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(context.error, TelegramError):
            log.warning("Telegram error: %s", context.error)
        else:
            log.error("unexpected error in the Telegram channel", exc_info=context.error)
