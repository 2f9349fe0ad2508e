"""A fake Zalo Bot API (bot-api.zaloplatforms.com) for offline tests.

``POST /bot<token>/<method>`` with a JSON or form body; answers ``{"ok": true, "result": …}`` or
``{"ok": false, "error_code": N, "description": "…"}``. Methods: getMe, getUpdates, setWebhook, getWebhookInfo,
deleteWebhook, sendMessage, sendPhoto, sendSticker, sendChatAction; anything else (sendDocument included) is 404.

* ``getUpdates`` returns ONE update (not a list) and has no offset; when nothing arrives within ``timeout`` (seconds,
  a string) it answers HTTP 408. It is refused while a webhook is set.
* ``setWebhook`` needs ``url`` (HTTPS; plain http only on loopback, for tests) and ``secret_token`` (8–256).
  Updates then go to the webhook as flat JSON (``wrapped=True``: ``{"ok": true, "result": …}``) with
  ``X-Bot-Api-Secret-Token``; ``getWebhookInfo`` answers 404 when none is set.
* ``sendMessage``: ``chat_id`` of someone who wrote, ``text`` 1–2000 characters. The free plan's limits are counted:
  50 users per bot (later users' messages never arrive) and 3,000 messages a month (then 429).
* Ids are 20-hex strings and dates Unix milliseconds. ``duplicate=True`` delivers an update twice, as the platform
  may; :meth:`send_unsupported` can come without a ``message``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.fakes.local import LocalServer
from tests.fakes.zalo_common import hex_id, json_response, now_ms, read_params

DEFAULT_TOKEN = "1459232241454765289:" + "FAKE-zalo-bot-secret-for-tests-only"  # shaped like a real one
TEXT_LIMIT = 2000
MAX_USERS = 50
MONTHLY_MESSAGES = 3000
METHODS = frozenset(
    {
        "getMe",
        "getUpdates",
        "setWebhook",
        "getWebhookInfo",
        "deleteWebhook",
        "sendMessage",
        "sendPhoto",
        "sendSticker",
        "sendChatAction",
    }
)


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


class FakeZaloBot(LocalServer):
    def __init__(self, token: str = DEFAULT_TOKEN, *, wrapped: bool = False) -> None:
        super().__init__()
        self.token = token
        self.wrapped = wrapped
        self.bot_id = token.split(":", 1)[0]
        self.calls: list[Call] = []
        self.sent: list[tuple[str, str]] = []  # (chat id, text)
        self.violations: list[str] = []
        self.webhook: dict[str, Any] | None = None
        self.webhook_statuses: list[int] = []
        self._updates: deque[dict[str, Any]] = deque()
        self._arrived = asyncio.Event()
        self._users: dict[str, str] = {}  # chat id -> display name
        self.messages_this_month = 0

    def setup(self, app: web.Application) -> None:
        app.router.add_route("POST", "/bot{token}/{method}", self._api)
        app.router.add_route("GET", "/bot{token}/{method}", self._api)

    @property
    def base_url(self) -> str:
        return self.url

    async def stop(self) -> None:
        self._arrived.set()  # a pending long poll answers 408 at once
        await super().stop()

    # ------------------------------------------------------------ test API

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def texts(self, chat_id: str) -> list[str]:
        return [text for chat, text in self.sent if chat == chat_id]

    @property
    def pending(self) -> int:
        return len(self._updates)

    def assert_no_violations(self) -> None:
        assert not self.violations, "\n".join(self.violations)

    def _message(self, chat_id: str, name: str, **content: Any) -> dict[str, Any]:
        return {
            "message_id": hex_id(20),
            "date": now_ms(),
            "chat": {"id": chat_id, "chat_type": "PRIVATE"},
            "from": {"id": chat_id, "display_name": name, "is_bot": False},
            **content,
        }

    async def send_text(self, chat_id: str, text: str, name: str = "Nguyễn Văn A", *, duplicate: bool = False) -> None:
        update = {"event_name": "message.text.received", "message": self._message(chat_id, name, text=text)}
        await self.deliver(update, duplicate=duplicate)

    async def send_photo(self, chat_id: str, photo_url: str, caption: str | None = None) -> None:
        content: dict[str, Any] = {"photo_url": photo_url}
        if caption is not None:
            content["caption"] = caption
        message = self._message(chat_id, "Nguyễn Văn A", **content)
        await self.deliver({"event_name": "message.image.received", "message": message})

    async def send_sticker(self, chat_id: str) -> None:
        content = {"sticker": "bfe458bf64fa8da4d4eb", "url": "https://zalo-api.zadn.vn/sticker.png"}
        await self.deliver(
            {"event_name": "message.sticker.received", "message": self._message(chat_id, "An", **content)}
        )

    async def send_unsupported(self, chat_id: str | None = None) -> None:
        """An unsupported message (a contact card, a document); without a chat id, one with no `message` at all."""
        update: dict[str, Any] = {"event_name": "message.unsupported.received"}
        if chat_id is not None:
            update["message"] = self._message(chat_id, "An")
        await self.deliver(update)

    async def deliver(self, update: dict[str, Any], *, duplicate: bool = False) -> None:
        """Queue the update for getUpdates, or POST it to the webhook; twice with `duplicate`."""
        chat_id = ((update.get("message") or {}).get("chat") or {}).get("id")
        if chat_id is not None and chat_id not in self._users:
            if len(self._users) >= MAX_USERS:
                return  # the free plan serves 50 users per bot; the 51st never reaches the bot
            self._users[chat_id] = update["message"]["from"]["display_name"]
        for _ in range(2 if duplicate else 1):
            if self.webhook is not None:
                await self._post_webhook(update)
            else:
                self._updates.append(update)
                self._arrived.set()

    async def _post_webhook(self, update: dict[str, Any]) -> None:
        assert self.webhook is not None
        body = {"ok": True, "result": update} if self.wrapped else update
        headers = {"X-Bot-Api-Secret-Token": self.webhook["secret_token"]}
        async with (
            aiohttp.ClientSession() as session,
            session.post(self.webhook["url"], json=body, headers=headers) as r,
        ):
            await r.read()
            self.webhook_statuses.append(r.status)

    async def wait_fetched(self, timeout: float = 10.0) -> None:
        """Wait until the bot has taken every queued update and asked for the next one."""
        async with asyncio.timeout(timeout):
            while self._updates or not self._polling:
                await asyncio.sleep(0.005)

    # ------------------------------------------------------------ HTTP

    _polling = False

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        method = request.match_info["method"]
        try:
            params = await read_params(request)
        except ValueError as exc:
            self.violations.append(f"{method}: {exc}")
            return json_response({"ok": False, "error_code": 400, "description": str(exc)}, 400)
        self.calls.append(Call(method, params))
        if method not in METHODS:
            self.violations.append(f"{method}: not a Zalo Bot API method")
            return json_response({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
        try:
            result = await getattr(self, "_" + method)(params)
        except _ApiError as err:
            return json_response({"ok": False, "error_code": err.status, "description": err.description}, err.status)
        return json_response({"ok": True, "result": result})

    async def _getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"id": self.bot_id, "account_name": "bot.PbgdplTest", "account_type": "BASIC", "can_join_groups": False}

    async def _getUpdates(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.webhook is not None:
            raise _ApiError(409, "Conflict: getUpdates is not available while a webhook is set")
        timeout = params.get("timeout", "30")
        if not isinstance(timeout, str) or not timeout.isdigit():
            self.violations.append(f"getUpdates: timeout should be a string of seconds, got {timeout!r}")
            timeout = "30"
        self._polling = True
        try:
            if not self._updates:
                self._arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), int(timeout))
            if not self._updates:
                raise _ApiError(408, "Request timeout")
            return self._updates.popleft()
        finally:
            self._polling = False

    async def _setWebhook(self, params: dict[str, Any]) -> dict[str, Any]:
        url, secret = str(params.get("url", "")), str(params.get("secret_token", ""))
        parts = urlsplit(url)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost")):
            raise _ApiError(400, "Bad Request: url must be HTTPS")
        if not 8 <= len(secret) <= 256:
            raise _ApiError(400, "Bad Request: secret_token must be 8-256 characters")
        self.webhook = {"url": url, "secret_token": secret, "updated_at": now_ms()}
        return {"url": url, "updated_at": self.webhook["updated_at"]}

    async def _getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.webhook is None:
            raise _ApiError(404, "Not Found")
        return {"url": self.webhook["url"], "updated_at": self.webhook["updated_at"]}

    async def _deleteWebhook(self, params: dict[str, Any]) -> dict[str, Any]:
        self.webhook = None
        return {"url": "", "updated_at": now_ms()}

    def _recipient(self, params: dict[str, Any]) -> str:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, str) or chat_id not in self._users:
            raise _ApiError(400, "Bad Request: chat not found")
        if self.messages_this_month >= MONTHLY_MESSAGES:
            raise _ApiError(429, "Too Many Requests: monthly message quota exceeded")
        self.messages_this_month += 1
        return chat_id

    def _sent(self) -> dict[str, Any]:
        return {"message_id": hex_id(20), "date": now_ms()}

    async def _sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = params.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= TEXT_LIMIT:
            length = len(text) if isinstance(text, str) else text
            self.violations.append(f"sendMessage: text must be 1-{TEXT_LIMIT} characters, got {length!r}")
            raise _ApiError(400, "Bad Request: text is too long or empty")
        self.sent.append((self._recipient(params), text))
        return self._sent()

    async def _sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        if not str(params.get("photo", "")).startswith(("http://", "https://")):
            raise _ApiError(400, "Bad Request: photo must be an image URL")
        self._recipient(params)
        return self._sent()

    async def _sendSticker(self, params: dict[str, Any]) -> dict[str, Any]:
        self._recipient(params)
        return self._sent()

    async def _sendChatAction(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("action") != "typing":
            raise _ApiError(400, "Bad Request: unknown action")
        self._recipient(params)
        return {}
