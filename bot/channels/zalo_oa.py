"""Zalo Official Account (Open API v3): signed webhook events in, customer-service messages out.

- Every webhook is checked: X-ZEvent-Signature = SHA-256(app id + raw body + timestamp + OA secret key), with or
  without "mac="; a bad or missing signature gets 401, and events older (or newer) than the replay window are ignored.
- The token pair (the refresh token is single-use) is kept by bot/channels/zalo_oa_tokens.py.
- Replies are free only inside the reply window (48 hours after the person last wrote, as the inbox records). A
  message to someone outside it, or refused by Zalo for that reason, or when Zalo cannot be reached, is held in the
  outbox (status "held") and sent first when they next write; it is failed when they unfollow, and a refusal for
  another reason is recorded as failed. Nothing is dropped silently, and there is no queue beside the outbox.
- Zalo OA cannot carry our files, so exports go out as signed download links.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import mimetypes
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.base import PlatformChannel, Received
from bot.channels.zalo import download, pieces
from bot.channels.zalo_oa_tokens import OaTokens, ZaloOaError, ZaloOaTokenError, utc_now
from bot.config import ConfigError
from bot.identity import actor_key
from bot.links import DownloadLinks
from bot.messages import Reply, Sender
from bot.order import PersonOrder
from bot.outbox import SENT, Delivery, give_up_held, send_held_first
from bot.service import BotService
from conversations.engine import FileRef, Inbound, Outgoing
from storage import repo

CHANNEL = "zalo_oa"
PATH = "/webhooks/zalo-oa"
SEND = "/v3.0/oa/message/cs"
REPLY_WINDOW = timedelta(hours=48)
EXPIRED_TOKEN = -216
OUTSIDE_WINDOW = frozenset({-213, -230})  # no recent interaction / not following / reply quota used up
MAX_BUTTONS = 5
BUTTON_TITLE = 20
UNFOLLOWED = "unfollowed the Official Account"
BUTTON_TAP = re.compile(r"#([a-z]:\S+)")  # the hidden payload of one of our buttons: "#" + the engine's token
log = logging.getLogger(__name__)


def signature(app_id: str, raw_body: bytes, timestamp: str, secret_key: str) -> str:
    return hashlib.sha256(app_id.encode() + raw_body + timestamp.encode() + secret_key.encode()).hexdigest()


def verified_event(header: str | None, raw_body: bytes, app_id: str, secret_key: str) -> dict[str, Any] | None:
    """The event when X-ZEvent-Signature is right for this body; None otherwise."""
    if not header:
        return None
    try:
        event = json.loads(raw_body)
        timestamp = str(event["timestamp"])
    except (ValueError, TypeError, KeyError):
        return None
    expected = signature(app_id, raw_body, timestamp, secret_key)
    given = header.strip().removeprefix("mac=").strip()
    return event if isinstance(event, dict) and hmac.compare_digest(given.encode(), expected.encode()) else None


def _file_ref(attachment: dict[str, Any]) -> FileRef | None:
    payload = attachment.get("payload") or {}
    url = payload.get("url")
    if not isinstance(url, str) or not url:
        return None
    size = str(payload.get("size", ""))
    name = payload.get("name") if isinstance(payload.get("name"), str) else None
    photo = attachment.get("type") in ("image", "gif")
    mime = mimetypes.guess_type(name or url.split("?", 1)[0])[0]
    return FileRef(url, "photo" if photo else "document", name, mime, int(size) if size.isdigit() else None)


def inbound_of(event: dict[str, Any]) -> Inbound:
    name = str(event.get("event_name", ""))
    message = event.get("message") or {}
    text = message.get("text") if isinstance(message.get("text"), str) else None
    if name == "user_send_text":
        tapped = BUTTON_TAP.fullmatch(text.strip()) if text else None
        return Inbound(button=tapped[1]) if tapped else Inbound(text=text or "")
    files = tuple(ref for a in message.get("attachments") or () if (ref := _file_ref(a)) is not None)
    if name in ("user_send_image", "user_send_file") and files:
        return Inbound(files=files, text=text)
    return Inbound(unsupported=name.removeprefix("user_send_"))


def _title(label: str) -> str:
    return label if len(label) <= BUTTON_TITLE else label[: BUTTON_TITLE - 1] + "…"


def buttons(message: Outgoing) -> list[dict[str, str]]:
    """Tap targets for a message's choices and actions, when they fit on one card; each sends back the token."""
    labelled = [(f"{n}. {c.label}", c.token) for n, c in enumerate(message.choices, start=1)]
    labelled += [(a.label, a.token) for a in message.actions]
    if len(labelled) > MAX_BUTTONS:
        return []
    return [{"title": _title(label), "type": "oa.query.hide", "payload": "#" + token} for label, token in labelled]


@dataclass(frozen=True)
class Event:
    user_id: str
    inbound: Inbound | None  # None: the person unfollowed
    key: str


class ZaloOaChannel(PlatformChannel[Event]):
    name = CHANNEL

    def __init__(
        self,
        service: BotService,
        links: DownloadLinks,
        *,
        app_id: str,
        secret_key: str,
        app_secret: str,
        refresh_token: str | None,
        base_url: str,
        oauth_url: str,
        use_buttons: bool = False,
        replay_window: timedelta = timedelta(minutes=10),
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(service)
        self.links = links
        self.app_id, self.secret_key = app_id, secret_key
        self.base_url = base_url.rstrip("/")
        self.use_buttons, self.replay_window, self.clock = use_buttons, replay_window, clock
        self._app_secret, self._bootstrap, self._oauth_url = app_secret, refresh_token, oauth_url
        self._http: aiohttp.ClientSession | None = None
        self._tokens: OaTokens | None = None
        self._locks = PersonOrder()

    async def fetch_file(self, ref: FileRef) -> bytes:
        """A file's id on Zalo is its download link."""
        return await download(self._http, ref.file_id)

    def routes(self) -> list[web.RouteDef]:
        return [web.post(PATH, self.webhook)]

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        self._tokens = OaTokens(
            self.service.db, self._http, self._oauth_url, self.app_id, self._app_secret, self._bootstrap, self.clock
        )
        try:  # a wrong or used refresh token shows at start, not at the first message
            await self._tokens.access_token()
        except ZaloOaTokenError as exc:
            raise ConfigError(
                f"Zalo OA không cấp token ({exc}). Kiểm tra PBGDPL_ZALO_OA_APP_ID, PBGDPL_ZALO_OA_APP_SECRET, "
                "và đặt PBGDPL_ZALO_OA_REFRESH_TOKEN mới (cấp lại quyền cho ứng dụng)."
            ) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("Zalo OA token endpoint unreachable at start (%s); retried when sending", type(exc).__name__)
        await self.recover()
        log.info("Zalo OA webhook at %s", PATH)

    async def stop(self) -> None:
        await self.inbox.join()
        if self._http is not None:
            await self._http.close()

    # ------------------------------------------------------------ in

    async def webhook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        event = verified_event(request.headers.get("X-ZEvent-Signature"), raw, self.app_id, self.secret_key)
        if event is None:
            log.warning("refused a Zalo OA webhook request from %s: bad or missing signature", request.remote)
            return web.Response(status=401)
        sent_at = str(event.get("timestamp", ""))
        if not sent_at.isdigit() or abs(time.time() - int(sent_at) / 1000) > self.replay_window.total_seconds():
            log.info("ignored a Zalo OA event outside the replay window (%s)", event.get("event_name"))
            return web.Response()
        try:
            self.received(event)
        except (AttributeError, TypeError, ValueError):  # signed, yet not shaped as documented: nothing to retry
            log.warning("ignored a malformed Zalo OA event (%s)", event.get("event_name"))
            return web.Response()
        await self.accept(event)
        return web.Response()

    def received(self, payload: dict[str, Any]) -> Received[Event] | None:
        name = str(payload.get("event_name", ""))
        if name in ("follow", "unfollow"):
            user_id = str((payload.get("follower") or {}).get("id", ""))
            inbound = Inbound(text="/start") if name == "follow" else None
            key = f"{name}:{user_id}:{payload.get('timestamp')}"
            return Received(key, user_id, Event(user_id, inbound, key)) if user_id else None
        if name.startswith("user_send_"):
            user_id = str((payload.get("sender") or {}).get("id", ""))
            msg_id = str((payload.get("message") or {}).get("msg_id", ""))
            if not (user_id and msg_id):
                return None
            return Received(msg_id, user_id, Event(user_id, inbound_of(payload), msg_id))
        log.debug("ignored Zalo OA event %s", name)
        return None

    async def apply(self, key: str, event: Event) -> None:
        if event.inbound is None:
            async with self._locks.turn(event.user_id):
                await self.apply_here(
                    key, partial(give_up_held, channel=CHANNEL, recipient=event.user_id, reason=UNFOLLOWED)
                )
            return
        log.debug("a Zalo OA message")  # never the person's id: /toi tells them theirs
        sender, interim = Sender(CHANNEL, event.user_id), partial(self.send, event.user_id)
        replies = await self.service.handle(sender, event.inbound, update_id=event.key, interim=interim)
        await self.send(event.user_id, replies)

    def _actor(self, user_id: str) -> str:
        return actor_key(self.service.secret, CHANNEL, user_id)

    # ------------------------------------------------------------ out

    def messages(self, reply: Reply) -> list[dict[str, Any]]:
        """A reply as /message/cs message objects; buttons go on the last piece when configured and they fit."""
        found: list[dict[str, Any]] = [{"text": text} for text in pieces(reply, self.links)]
        tappable = buttons(reply) if self.use_buttons and isinstance(reply, Outgoing) else []
        if tappable:
            found[-1]["attachment"] = {"type": "template", "payload": {"buttons": tappable}}
        return found

    async def send(self, user_id: str, replies: Sequence[Reply]) -> Delivery:
        """Send to one person: what the outbox holds for them first, then these replies; outside the reply window
        everything is held until they write again. Returns what became of these replies: sent, held or failed."""
        fresh = [message for reply in replies for message in self.messages(reply)]
        return await self._send(user_id, fresh, keep=True)

    async def notify(self, platform_id: str, message: Outgoing) -> Delivery:
        """A notification (the outbox's row): sent now inside the reply window, after what is held for the person;
        outside it, or when Zalo cannot be reached, "held", and the outbox keeps it until the person writes."""
        return await self._send(platform_id, self.messages(message), keep=False)

    async def _send(self, user_id: str, fresh: list[dict[str, Any]], *, keep: bool) -> Delivery:
        async with self._locks.turn(user_id):
            async with self.service.db.read() as db:
                last = await repo.last_inbound(db, CHANNEL, self._actor(user_id))
            inside = last is not None and self.clock() - last < REPLY_WINDOW
            return await send_held_first(
                self.service.db,
                CHANNEL,
                user_id,
                fresh,
                partial(self._attempt, user_id) if inside else _outside_the_window,
                self.clock,
                text_of=lambda message: str(message["text"]),
                from_text=lambda text: {"text": text},
                keep=keep,
            )

    async def _attempt(self, user_id: str, message: dict[str, Any]) -> Delivery:
        try:
            await self._call(SEND, {"recipient": {"user_id": user_id}, "message": message})
        except ZaloOaTokenError as exc:
            log.error("%s; holding the messages until a token can be had", exc)
            return Delivery("held", detail="no access token")
        except ZaloOaError as exc:
            if exc.code in OUTSIDE_WINDOW:
                return Delivery("held", detail=f"outside the reply window ({exc.code})")
            log.error("Zalo OA refused a message (%s); marked failed", exc)
            return Delivery("failed", detail=str(exc))
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("could not reach Zalo OA (%s); holding the rest", type(exc).__name__)
            return Delivery("held", detail=f"network: {type(exc).__name__}")
        return SENT

    async def _call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """One Open API call; a -216 (expired token) refreshes the token and retries once."""
        assert self._tokens is not None
        token = await self._tokens.access_token()
        answer = await self._post(path, body, token)
        if answer.get("error") == EXPIRED_TOKEN:
            answer = await self._post(path, body, await self._tokens.refused(token))
        code = int(answer.get("error", 0))
        if code != 0:
            raise ZaloOaError(code, str(answer.get("message", "")))
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    async def _post(self, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        assert self._http is not None
        async with self._http.post(self.base_url + path, json=body, headers={"access_token": token}) as response:
            answer = await response.json(content_type=None)
        if not isinstance(answer, dict):
            raise ValueError("Zalo OA answered with something other than a JSON object")
        return answer


async def _outside_the_window(message: dict[str, Any]) -> Delivery:
    return Delivery("held", detail="outside the reply window")
