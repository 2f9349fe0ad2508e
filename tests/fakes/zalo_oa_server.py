"""A fake Zalo Official Account (Open API v3) for offline tests: the API the bot calls, and users who write to the OA.

API (as on openapi.zalo.me and oauth.zaloapp.com; answers `{"error": 0, "message": "Success", "data": …}`, errors
negative and delivered with HTTP 200):

* ``POST /v4/oa/access_token`` (form, header ``secret_key`` = App Secret): ``grant_type=refresh_token`` gives a new
  access token and a new refresh token; the refresh token used is invalidated at once (single use).
* ``POST /v3.0/oa/message/{cs,transaction,promotion}`` (JSON, header ``access_token``): ``-216`` for an unknown or
  expired token; ``-213`` to someone not following; on ``cs``, ``-230`` outside the reply window (48 hours after the
  user's last message) or once the user's free replies (8, reset by each message they send) are used up; ``-201``
  for an invalid message (text 1–2000 characters, at most 5 buttons with titles of at most 20 characters).
* ``POST /v2.0/oa/upload/{image,file}`` (multipart ``file``), ``POST /v2.0/oa/quota/message``,
  ``GET /v3.0/oa/user/detail?data={"user_id": …}``.

Users: ``await fake.send_text(user_id, "…")`` POSTs a signed ``user_send_text`` event to :attr:`webhook_url`
(``X-ZEvent-Signature: mac=sha256(app_id + body + timestamp + OA secret key)``, timestamp in ms as a string) and
returns the HTTP status the bot answered; also images, files, follow and unfollow, button taps (the payload comes
back as the user's text), ``user_submit_info`` with an ``84…`` phone, and badly signed events. The fake's clock only
governs tokens and the reply window (:meth:`advance`); event timestamps are real time.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.local import LocalServer
from tests.fakes.zalo_common import hex_id, json_response, now_ms, read_params

REPLY_WINDOW = timedelta(hours=48)
FREE_REPLIES = 8
TEXT_LIMIT = 2000
MAX_BUTTONS = 5
BUTTON_TITLE = 20
BUTTON_TYPES = frozenset({"oa.query.show", "oa.query.hide", "oa.open.url", "oa.open.phone", "oa.open.sms"})


@dataclass(frozen=True)
class SentMessage:
    kind: str  # cs | transaction | promotion
    user_id: str
    message: dict[str, Any]

    @property
    def text(self) -> str:
        return str(self.message.get("text", ""))

    @property
    def buttons(self) -> list[dict[str, Any]]:
        payload = (self.message.get("attachment") or {}).get("payload") or {}
        return list(payload.get("buttons") or [])


@dataclass
class _User:
    followed: bool = True
    last_message_at: float | None = None  # fake clock, seconds
    replies_left: int = 0
    info: dict[str, str] = field(default_factory=dict)


class FakeZaloOA(LocalServer):
    def __init__(
        self,
        *,
        app_id: str = "2553928453557884079",
        oa_id: str = "3662729599332560487",
        secret_key: str = "oa-secret-key-FAKE0123456789",
        app_secret: str = "app-secret-FAKE9876543210",
        refresh_token: str = "refresh-bootstrap-FAKE",
        expires_in: int = 90000,
        oauth_delay: float = 0.05,
    ) -> None:
        super().__init__()
        self.app_id, self.oa_id, self.secret_key, self.app_secret = app_id, oa_id, secret_key, app_secret
        self.bootstrap_refresh_token = refresh_token
        self.expires_in, self.oauth_delay = expires_in, oauth_delay
        self.webhook_url: str | None = None
        # Records.
        self.sent: list[SentMessage] = []
        self.refusals: list[tuple[str, int]] = []  # (user id, error code) of refused sends
        self.token_requests: list[dict[str, Any]] = []
        self.issued_access_tokens: list[str] = []
        self.issued_refresh_tokens: list[str] = [refresh_token]
        self.violations: list[str] = []
        self.deliveries: list[tuple[dict[str, Any], int]] = []  # (event, status the bot answered)
        # State.
        self._offset = 0.0
        self._refresh_tokens = {refresh_token}
        self._access_tokens: dict[str, float] = {}  # token -> expiry on the fake clock
        self._users: dict[str, _User] = {}
        self._seq = itertools.count(1)
        self._faults: list[tuple[int, str]] = []

    def setup(self, app: web.Application) -> None:
        app.router.add_post("/v4/oa/access_token", self._access_token)
        app.router.add_post("/v3.0/oa/message/{kind:cs|transaction|promotion}", self._message)
        app.router.add_post("/v2.0/oa/upload/{kind:image|file}", self._upload)
        app.router.add_post("/v2.0/oa/quota/message", self._quota)
        app.router.add_get("/v3.0/oa/user/detail", self._user_detail)

    @property
    def oauth_url(self) -> str:
        return f"{self.url}/v4/oa/access_token"

    def settings(self) -> dict[str, str]:
        """The PBGDPL_ZALO_OA_* settings that point the bot at this fake."""
        return {
            "zalo_oa_app_id": self.app_id,
            "zalo_oa_secret_key": self.secret_key,
            "zalo_oa_app_secret": self.app_secret,
            "zalo_oa_refresh_token": self.bootstrap_refresh_token,
            "zalo_oa_base_url": self.url,
            "zalo_oa_oauth_url": self.oauth_url,
        }

    # ------------------------------------------------------------ test API: time and faults

    def now(self) -> float:
        return asyncio.get_running_loop().time() + self._offset

    def advance(self, **delta: float) -> None:
        """Move the fake's clock (token expiry, reply window) forward."""
        self._offset += timedelta(**delta).total_seconds()

    def expire_access_tokens(self) -> None:
        """Every access token issued so far now fails with -216."""
        self._access_tokens = dict.fromkeys(self._access_tokens, self.now() - 1)

    def revoke_refresh_tokens(self) -> None:
        """The OA withdrew the app's permission: no refresh token works any more."""
        self._refresh_tokens.clear()

    def fail_next_send(self, code: int, message: str, times: int = 1) -> None:
        self._faults += [(code, message)] * times

    @property
    def refreshes(self) -> int:
        """Successful refreshes."""
        return len(self.issued_access_tokens)

    # ------------------------------------------------------------ test API: users

    def user(self, user_id: str) -> _User:
        return self._users.setdefault(user_id, _User())

    def event(self, event_name: str, user_id: str, message: dict[str, Any] | None = None) -> dict[str, Any]:
        event: dict[str, Any] = {
            "app_id": self.app_id,
            "user_id_by_app": f"9{user_id[-17:]}",
            "event_name": event_name,
            "timestamp": str(now_ms()),
        }
        if event_name in ("follow", "unfollow"):
            event.update(oa_id=self.oa_id, follower={"id": user_id}, source="oa_profile")
        else:
            event.update(sender={"id": user_id}, recipient={"id": self.oa_id})
            if message is not None:
                event["message"] = {"msg_id": hex_id(20), **message}
        return event

    def sign(self, body: bytes, timestamp: str, *, prefix: bool = True) -> str:
        mac = hashlib.sha256(self.app_id.encode() + body + timestamp.encode() + self.secret_key.encode()).hexdigest()
        return f"mac={mac}" if prefix else mac

    async def post(self, body: bytes, signature: str | None) -> int:
        """POST raw bytes to the bot's webhook with this signature header (None: no header)."""
        if self.webhook_url is None:
            raise RuntimeError("set webhook_url first")
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["X-ZEvent-Signature"] = signature
        async with aiohttp.ClientSession() as session, session.post(self.webhook_url, data=body, headers=headers) as r:
            await r.read()
            return r.status

    async def deliver(self, event: dict[str, Any], *, prefix: bool = True) -> int:
        """What Zalo does when a user acts: note it for the reply window, then send the signed event."""
        user_id = (event.get("sender") or event.get("follower") or {}).get("id")
        if user_id and event["event_name"].startswith("user_send_"):
            state = self.user(user_id)
            state.last_message_at, state.replies_left = self.now(), FREE_REPLIES
        elif user_id and event["event_name"] in ("follow", "unfollow"):
            state = self.user(user_id)
            state.followed = event["event_name"] == "follow"
            state.last_message_at, state.replies_left = self.now(), FREE_REPLIES
        body = json.dumps(event, ensure_ascii=False).encode()
        status = await self.post(body, self.sign(body, event["timestamp"], prefix=prefix))
        self.deliveries.append((event, status))
        return status

    async def send_text(self, user_id: str, text: str) -> int:
        return await self.deliver(self.event("user_send_text", user_id, {"text": text}))

    async def tap(self, user_id: str, button: dict[str, Any]) -> int:
        """A tap on an oa.query button: its payload comes back as the user's text."""
        return await self.send_text(user_id, str(button["payload"]))

    async def send_image(self, user_id: str, data: bytes, caption: str | None = None) -> int:
        url = self.host_file(data, "png")
        message: dict[str, Any] = {"attachments": [{"type": "image", "payload": {"thumbnail": url, "url": url}}]}
        if caption is not None:
            message["text"] = caption
        return await self.deliver(self.event("user_send_image", user_id, message))

    async def send_file(self, user_id: str, data: bytes, name: str) -> int:
        url = self.host_file(data, name.rsplit(".", 1)[-1])
        payload = {"url": url, "name": name, "size": str(len(data)), "type": name.rsplit(".", 1)[-1]}
        return await self.deliver(
            self.event("user_send_file", user_id, {"attachments": [{"type": "file", "payload": payload}]})
        )

    async def send_sticker(self, user_id: str) -> int:
        attachment = {"type": "sticker", "payload": {"id": "5e1b8a", "url": f"{self.url}/files/sticker"}}
        return await self.deliver(self.event("user_send_sticker", user_id, {"attachments": [attachment]}))

    async def submit_info(self, user_id: str, name: str, phone: str) -> int:
        event = self.event("user_submit_info", user_id)
        event["info"] = {"name": name, "phone": phone, "address": "", "city": "", "district": "", "ward": ""}
        self.user(user_id).info = event["info"]
        return await self.deliver(event)

    async def follow(self, user_id: str) -> int:
        return await self.deliver(self.event("follow", user_id))

    async def unfollow(self, user_id: str) -> int:
        return await self.deliver(self.event("unfollow", user_id))

    # ------------------------------------------------------------ test API: what the OA sent

    def messages(self, user_id: str) -> list[SentMessage]:
        return [m for m in self.sent if m.user_id == user_id]

    def texts(self, user_id: str) -> list[str]:
        return [m.text for m in self.messages(user_id)]

    def assert_no_violations(self) -> None:
        assert not self.violations, "\n".join(self.violations)

    # ------------------------------------------------------------ HTTP handlers

    async def _access_token(self, request: web.Request) -> web.Response:
        form = await read_params(request)
        self.token_requests.append(dict(form))
        await asyncio.sleep(self.oauth_delay)  # a real round trip: lets concurrent callers pile up
        if request.headers.get("secret_key") != self.app_secret:
            return json_response({"error": -14002, "error_description": "Invalid secret key"})
        if form.get("app_id") != self.app_id or form.get("grant_type") != "refresh_token":
            return json_response({"error": -14001, "error_description": "Invalid parameters"})
        used = str(form.get("refresh_token", ""))
        if used not in self._refresh_tokens:
            if used in self.issued_refresh_tokens:
                self.violations.append("a refresh token was used twice")
            return json_response({"error": -14014, "error_description": "Invalid refresh token"})
        self._refresh_tokens.discard(used)
        n = next(self._seq)
        access, refresh = f"access-{n}-{hex_id(24)}", f"refresh-{n}-{hex_id(24)}"
        self._access_tokens[access] = self.now() + self.expires_in
        self._refresh_tokens.add(refresh)
        self.issued_access_tokens.append(access)
        self.issued_refresh_tokens.append(refresh)
        expires: int | str = self.expires_in if n % 2 else str(self.expires_in)  # Zalo sends both kinds
        return json_response({"access_token": access, "refresh_token": refresh, "expires_in": expires})

    def _token_error(self, request: web.Request) -> web.Response | None:
        expiry = self._access_tokens.get(request.headers.get("access_token", ""))
        if expiry is None or expiry <= self.now():
            return json_response({"error": -216, "message": "Access token is invalid"})
        return None

    async def _message(self, request: web.Request) -> web.Response:
        refused = self._token_error(request)
        if refused is not None:
            return refused
        try:
            body = json.loads(await request.text())
        except ValueError:
            return json_response({"error": -201, "message": "Body is not JSON"})
        kind = request.match_info["kind"]
        user_id = str(((body.get("recipient") or {}).get("user_id")) or "")
        message = body.get("message")
        problem = self._check_message(message)
        if not user_id or problem is not None:
            self.violations.append(f"message/{kind}: {problem or 'no recipient.user_id'}")
            return json_response({"error": -201, "message": problem or "recipient is required"})
        if self._faults:
            code, text = self._faults.pop(0)
            self.refusals.append((user_id, code))
            return json_response({"error": code, "message": text})
        state = self._users.get(user_id)
        if state is None or not state.followed:
            self.refusals.append((user_id, -213))
            return json_response({"error": -213, "message": "User has not followed OA"})
        if kind == "cs":
            last = state.last_message_at
            if last is None or self.now() - last > REPLY_WINDOW.total_seconds():
                self.refusals.append((user_id, -230))
                return json_response({"error": -230, "message": "User has not interacted with the OA recently"})
            if state.replies_left <= 0:
                self.refusals.append((user_id, -230))
                return json_response({"error": -230, "message": "Reply quota for this interaction is used up"})
            state.replies_left -= 1
        self.sent.append(SentMessage(kind, user_id, message))
        quota = {"quota_type": "reply", "remain": str(state.replies_left), "total": str(FREE_REPLIES)}
        data = {"message_id": hex_id(32), "user_id": user_id, "quota": quota}
        return json_response({"error": 0, "message": "Success", "data": data})

    @staticmethod
    def _check_message(message: Any) -> str | None:
        if not isinstance(message, dict):
            return "message must be an object"
        text = message.get("text")
        if "text" in message and (not isinstance(text, str) or not 1 <= len(text) <= TEXT_LIMIT):
            return f"text must be 1-{TEXT_LIMIT} characters, got {len(text) if isinstance(text, str) else text!r}"
        attachment = message.get("attachment")
        if attachment is None:
            return None if "text" in message else "message needs text or an attachment"
        buttons = ((attachment or {}).get("payload") or {}).get("buttons") or []
        if len(buttons) > MAX_BUTTONS:
            return f"{len(buttons)} buttons (at most {MAX_BUTTONS})"
        for button in buttons:
            if button.get("type") not in BUTTON_TYPES:
                return f"unknown button type {button.get('type')!r}"
            title = button.get("title")
            if not isinstance(title, str) or not 1 <= len(title) <= BUTTON_TITLE:
                return f"button title must be 1-{BUTTON_TITLE} characters: {title!r}"
            if button["type"].startswith("oa.query.") and not isinstance(button.get("payload"), str):
                return "an oa.query button needs a text payload"
        return None

    async def _upload(self, request: web.Request) -> web.Response:
        refused = self._token_error(request)
        if refused is not None:
            return refused
        part = (await request.post()).get("file")
        if not isinstance(part, web.FileField):
            return json_response({"error": -201, "message": "file is required"})
        data = part.file.read()
        self.host_file(data, part.filename.rsplit(".", 1)[-1])
        key = "attachment_id" if request.match_info["kind"] == "image" else "token"
        return json_response({"error": 0, "message": "Success", "data": {key: hex_id(32)}})

    async def _quota(self, request: web.Request) -> web.Response:
        refused = self._token_error(request)
        if refused is not None:
            return refused
        data = {"quota_type": "sub_quota", "remain": 1000, "total": 1000, "expired_date": "2026-12-31"}
        return json_response({"error": 0, "message": "Success", "data": data})

    async def _user_detail(self, request: web.Request) -> web.Response:
        refused = self._token_error(request)
        if refused is not None:
            return refused
        try:
            user_id = str(json.loads(request.query.get("data", "{}")).get("user_id", ""))
        except ValueError:
            user_id = ""
        state = self._users.get(user_id)
        if state is None:
            return json_response({"error": -213, "message": "User has not followed OA"})
        data = {
            "user_id": user_id,
            "display_name": state.info.get("name", "Người dùng Zalo"),
            "user_is_follower": state.followed,
        }
        return json_response({"error": 0, "message": "Success", "data": data})
