"""Zalo Bot API (the Telegram-like Zalo Bot Platform): long polling or a webhook in, plain text out.

getUpdates answers ONE update per call and HTTP 408 when nothing came within the timeout; it has no offset, so the
same update may come twice: each is applied once by its message id (the service keeps processed ids). The platform
has no buttons and no documents: choices are numbered, exports are signed download links.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.base import PlatformChannel, Received
from bot.channels.zalo import download, pieces
from bot.config import ConfigError
from bot.links import DownloadLinks
from bot.messages import Reply, Sender
from bot.outbox import SENT, Delivery
from bot.service import BotService
from conversations.engine import FileRef, Inbound, Outgoing

CHANNEL = "zalo_bot"
PATH = "/webhooks/zalo-bot"
SECRET_HEADER = "X-Bot-Api-Secret-Token"
SEND_ATTEMPTS = 3
RETRY_CODES = frozenset({408, 429, 500, 502, 503, 504})
log = logging.getLogger(__name__)


class ZaloBotError(Exception):
    def __init__(self, method: str, code: object, description: object) -> None:
        super().__init__(f"Zalo Bot API {method} failed: {code} {description}")
        self.code = code


def inbound_of(update: dict[str, Any]) -> Inbound:
    message = update["message"]
    event = str(update.get("event_name", ""))
    if isinstance(message.get("text"), str) and event in ("", "message.text.received"):
        return Inbound(text=message["text"])
    photo = message.get("photo_url")
    if isinstance(photo, str) and photo:
        caption = message.get("caption") if isinstance(message.get("caption"), str) else None
        return Inbound(files=(FileRef(photo, "photo", None, "image/jpeg"),), text=caption)
    return Inbound(unsupported=event.removeprefix("message.").removesuffix(".received") or "other")


@dataclass(frozen=True)
class Event:
    chat_id: str
    sender: Sender
    inbound: Inbound


class ZaloBotChannel(PlatformChannel[Event]):
    name = CHANNEL

    def __init__(
        self,
        service: BotService,
        links: DownloadLinks,
        *,
        token: str,
        base_url: str,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        poll_timeout: int = 30,
        retry_delay: float = 2.0,
    ) -> None:
        super().__init__(service, max_attempts=SEND_ATTEMPTS, retry_delay=retry_delay)
        self.links = links
        self._api = f"{base_url.rstrip('/')}/bot{token}/"
        self.webhook_url, self.webhook_secret = webhook_url, webhook_secret
        self.poll_timeout = poll_timeout
        self._http: aiohttp.ClientSession | None = None
        self._poller: asyncio.Task[None] | None = None

    async def fetch_file(self, ref: FileRef) -> bytes:
        """A file's id on Zalo is its download link."""
        return await download(self._http, ref.file_id)

    def routes(self) -> list[web.RouteDef]:
        return [web.post(PATH, self.webhook)]

    async def start(self) -> None:
        self._http = aiohttp.ClientSession()
        await self.recover()
        try:
            me = await self._call("getMe")
        except ZaloBotError as exc:
            if exc.code not in (401, 404):
                raise
            raise ConfigError(f"Zalo Bot không nhận token ({exc}). Kiểm tra PBGDPL_ZALO_BOT_TOKEN.") from None
        if self.webhook_url is not None and self.webhook_secret is not None:
            await self._call("setWebhook", url=self.webhook_url, secret_token=self.webhook_secret)
            log.info("Zalo Bot %s: webhook at %s", me.get("account_name"), PATH)
        else:
            await self._call("deleteWebhook")  # getUpdates is refused while a webhook is set
            self._poller = asyncio.create_task(self._poll())
            log.info("Zalo Bot %s: long polling", me.get("account_name"))

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        await self.inbox.join()
        if self._http is not None:
            await self._http.close()

    # ------------------------------------------------------------ in

    async def _poll(self) -> None:
        while True:
            try:
                update = await self._call("getUpdates", timeout=str(self.poll_timeout))
            except ZaloBotError as exc:
                if exc.code != 408:  # 408: nothing arrived within the timeout; ask again
                    log.warning("%s", exc)
                    await asyncio.sleep(self.retry_delay)
                continue
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                log.warning("Zalo Bot getUpdates failed: %s", type(exc).__name__)
                await asyncio.sleep(self.retry_delay)
                continue
            try:
                await self.accept(update)
            except Exception:
                log.exception("could not store a Zalo Bot update")
                await asyncio.sleep(self.retry_delay)

    async def webhook(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if self.webhook_secret is None or not hmac.compare_digest(given, self.webhook_secret.encode()):
            log.warning("refused a Zalo Bot webhook request from %s: wrong or missing secret token", request.remote)
            return web.Response(status=401)
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400)
        wrapped = isinstance(body, dict) and body.get("ok") is True and isinstance(body.get("result"), dict)
        update = body["result"] if wrapped else body
        if isinstance(update, dict):
            await self.accept(update)
        return web.Response()

    def received(self, payload: dict[str, Any]) -> Received[Event] | None:
        message = payload.get("message")
        if not isinstance(message, dict):
            log.debug("ignored a Zalo Bot update without a message")
            return None
        chat, person = message.get("chat") or {}, message.get("from") or {}
        if chat.get("chat_type", "PRIVATE") != "PRIVATE" or not chat.get("id") or not message.get("message_id"):
            return None
        name = person.get("display_name") or person.get("first_name")
        sender = Sender(CHANNEL, str(person.get("id") or chat["id"]), name if isinstance(name, str) else None)
        key = str(message["message_id"])
        return Received(key, sender.user_id, Event(str(chat["id"]), sender, inbound_of(payload)))

    async def apply(self, key: str, event: Event) -> None:
        log.debug("a Zalo Bot message")  # never the person's id: /toi tells them theirs
        replies = await self.service.handle(
            event.sender, event.inbound, update_id=key, interim=partial(self.send, event.chat_id)
        )
        await self.send(event.chat_id, replies)

    # ------------------------------------------------------------ out

    async def send(self, chat_id: str, replies: Sequence[Reply]) -> None:
        for reply in replies:
            for text in pieces(reply, self.links):
                await self.deliver(partial(self._attempt, chat_id, text), "Zalo Bot sendMessage")

    async def notify(self, platform_id: str, message: Outgoing) -> Delivery:
        """One attempt at a message nobody asked for (the outbox retries and paces)."""
        for text in pieces(message, self.links):
            result = await self._attempt(platform_id, text)
            if result.status != "sent":
                return result
        return SENT

    async def _attempt(self, chat_id: str, text: str) -> Delivery:
        try:
            await self._call("sendMessage", chat_id=chat_id, text=text)
        except ZaloBotError as exc:
            if exc.code not in RETRY_CODES:
                log.error("%s", exc)
                return Delivery("failed", detail=str(exc))
            return Delivery("retry", detail=str(exc))
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return Delivery("retry", detail=type(exc).__name__)
        return SENT

    async def _call(self, method: str, **params: str) -> dict[str, Any]:
        """One Bot API call; the answer's `ok`, not the HTTP status, says whether it worked."""
        assert self._http is not None
        wait = aiohttp.ClientTimeout(total=self.poll_timeout + 10)
        async with self._http.post(self._api + method, json=params, timeout=wait) as response:
            answer = await response.json(content_type=None)
        if not isinstance(answer, dict):
            raise ValueError(f"Zalo Bot {method} answered with something other than a JSON object")
        if answer.get("ok") is not True:
            raise ZaloBotError(method, answer.get("error_code", response.status), answer.get("description"))
        result = answer.get("result")
        return result if isinstance(result, dict) else {}
