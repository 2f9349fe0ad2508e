"""A fake Telegram Bot API server for offline end-to-end tests.

``FakeTelegram`` is a small aiohttp server that speaks enough of the Bot API for python-telegram-bot
(PTB) to run against it unchanged (``Bot(token, base_url=tg.base_url, base_file_url=tg.base_file_url)``).
Every request is recorded in :attr:`FakeTelegram.calls` and validated against the machine-readable
Bot API spec (``tests/fixtures/telegram-bot-api/``); problems end up in
:attr:`FakeTelegram.violations` so that a test can finish with :meth:`FakeTelegram.assert_no_violations`.

The test side injects user activity with plain (synchronous) methods such as
:meth:`FakeTelegram.send_text` and :meth:`FakeTelegram.press_button`, and inspects what the bot sent with
:meth:`FakeTelegram.messages`.  All of it must be used from the event loop that runs the server and the
bot under test.

Behaviour worth knowing (all modelled on the real Bot API):

* ``editMessageText`` without ``reply_markup`` removes the inline keyboard; an edit that changes
  nothing fails with ``400 Bad Request: message is not modified``.
* Sending to a chat that never talked to the bot fails with ``400 Bad Request: chat not found``;
  register users with :meth:`FakeTelegram.add_user` (or any ``send_*`` injection) first.
  :meth:`FakeTelegram.block` makes sends to a user fail with ``403 Forbidden: bot was blocked by the user``.
* Answering a callback query twice, or an unknown one, fails with ``400`` like Telegram does.
* A second ``getUpdates`` terminates a pending one with ``409 Conflict``; while a webhook is set,
  ``getUpdates`` answers ``409`` and injected updates are POSTed to the webhook URL instead.
* Spec problems are only recorded and the call still succeeds (unless ``reject_invalid=True``), except
  a missing required parameter, which always gives ``400``.  Unknown parameters are ignored by
  Telegram, so they are only recorded, never rejected.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import mimetypes
import re
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Self

import aiohttp
from aiohttp import web

__all__ = [
    "DEFAULT_SPEC_PATH",
    "DEFAULT_TOKEN",
    "ApiCall",
    "BotMessage",
    "FakeTelegram",
    "ParsedText",
    "UploadedFile",
    "WebhookDelivery",
    "parse_telegram_html",
]

DEFAULT_TOKEN = "123456:TEST-fake-token-abcdefghijklmnopqrstu"
#: Kept in the repository (with its licence) so that a fresh clone needs nothing beside it.
DEFAULT_SPEC_PATH = (
    Path(__file__).resolve().parents[1] / "fixtures" / "telegram-bot-api" / "telegram-bot-api.min.json"
)

JSONDict = dict[str, Any]
_Handler = Callable[[JSONDict], Awaitable[Any]]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200

#: Update types delivered when ``allowed_updates`` was never set or set to ``[]``.
_NOT_DEFAULT_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_PARSE_MODES = frozenset({"html", "markdown", "markdownv2"})
_INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_INT_RE = re.compile(r"-?\d+")
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


# --------------------------------------------------------------------------------------------------
# Public data classes
# ----------------------------------------------------------------------------------------------------


class UploadedFile(NamedTuple):
    """A file sent by the bot (multipart upload): ``(file_name, data, mime_type)``."""

    file_name: str
    data: bytes
    mime_type: str


@dataclass(frozen=True)
class ApiCall:
    """One request to the Bot API, in arrival order.

    ``params`` holds the decoded parameters (``chat_id`` as int, ``reply_markup`` as dict, ...);
    uploaded files appear as :class:`UploadedFile`.  ``time`` is ``time.monotonic()`` at arrival.
    """

    method: str
    params: dict[str, Any]
    time: float


@dataclass
class BotMessage:
    """A message the bot sent, kept up to date with later edits.

    ``text`` and ``caption`` are what the bot sent (HTML markup included); :attr:`plain_text` is the
    text as the user sees it.  ``reply_markup`` is any markup the bot passed (inline or reply keyboard),
    ``None`` once removed.
    ``raw`` is the Message dict the fake returned to the bot (and puts into callback queries).
    """

    message_id: int
    chat_id: int
    text: str | None = None
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    document: UploadedFile | None = None
    photo: bytes | None = None
    caption: str | None = None
    edit_count: int = 0
    deleted: bool = False
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def plain_text(self) -> str | None:
        """Text (or caption) after entity parsing, i.e. without HTML tags."""
        value = self.raw.get("text", self.raw.get("caption"))
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class WebhookDelivery:
    """One attempt to POST an update to the webhook URL (``status`` is ``None`` if the connection failed)."""

    update_id: int
    status: int | None
    time: float


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    mime_type: str
    file_name: str | None


@dataclass
class _Fault:
    status: int
    description: str
    retry_after: int | None
    times: int


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


# --------------------------------------------------------------------------------------------------
# Telegram HTML
# ----------------------------------------------------------------------------------------------------

_TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*)"
    r"\s*(/?)>"
)
_ATTR_RE = re.compile(r"([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'=<>`]+)))?")
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
#: Tags Telegram accepts (https://core.telegram.org/bots/api#html-style), mapped to entity types.
_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}


@dataclass
class ParsedText:
    """Result of :func:`parse_telegram_html`: what the user sees, its entities and any markup problems."""

    text: str
    entities: list[JSONDict]
    problems: list[str]


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int
    language: str | None = None


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode_entities(value: str) -> str:
    def repl(m: re.Match[str]) -> str:
        return _entity_char(m) or m.group(0)

    return _ENTITY_RE.sub(repl, value)


def _entity_char(m: re.Match[str]) -> str | None:
    named, dec, hexa = m.groups()
    if named:
        return _NAMED_ENTITIES[named]
    code = int(dec) if dec else int(hexa, 16)
    return chr(code) if 0 < code <= 0x10FFFF else None


def _snippet(text: str, pos: int) -> str:
    return text[max(0, pos - 12) : pos + 12].replace("\n", "\\n")


def parse_telegram_html(source: str) -> ParsedText:
    """Parse ``source`` like Telegram does for ``parse_mode=HTML``.

    Returns the visible text with its entities (offsets and lengths in UTF-16 code units) and a list
    of problems: unsupported or unbalanced tags, a bare ``<`` that starts no tag, a bare ``&`` that
    starts no entity.
    """
    out: list[str] = []
    entities: list[JSONDict] = []
    problems: list[str] = []
    stack: list[_OpenTag] = []
    pos16 = 0
    i = 0
    while i < len(source):
        char = source[i]
        if char == "<":
            m = _TAG_RE.match(source, i)
            if m is None:
                problems.append(f"bare '<' at position {i} (escape it as &lt;) near {_snippet(source, i)!r}")
                out.append(char)
                pos16 += 1
                i += 1
                continue
            closing, name, attr_text, self_closing = m.group(1), m.group(2).lower(), m.group(3), m.group(4)
            i = m.end()
            if name not in _TAG_ENTITY:
                problems.append(f"unsupported tag <{closing}{name}> at position {m.start()}")
                continue
            if closing:
                _close_tag(name, m.start(), stack, entities, problems, pos16)
                continue
            attrs = {
                a.group(1).lower(): _decode_entities(a.group(2) or a.group(3) or a.group(4) or "")
                for a in _ATTR_RE.finditer(attr_text)
            }
            problems.extend(_open_tag_problems(name, attrs, stack, m.start()))
            if self_closing:
                problems.append(f"self-closing tag <{name}/> at position {m.start()} is not supported")
                continue
            stack.append(_OpenTag(name, attrs, pos16))
            continue
        if char == "&":
            em = _ENTITY_RE.match(source, i)
            decoded = _entity_char(em) if em else None
            if em is None or decoded is None:
                problems.append(f"bare '&' at position {i} (escape it as &amp;) near {_snippet(source, i)!r}")
                out.append(char)
                pos16 += 1
                i += 1
                continue
            out.append(decoded)
            pos16 += _utf16_len(decoded)
            i = em.end()
            continue
        out.append(char)
        pos16 += 2 if ord(char) > 0xFFFF else 1
        i += 1
    for tag in reversed(stack):
        problems.append(f"unclosed tag <{tag.name}>")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText("".join(out), entities, problems)


def _open_tag_problems(name: str, attrs: dict[str, str], stack: list[_OpenTag], pos: int) -> list[str]:
    problems: list[str] = []
    if name == "a" and not attrs.get("href"):
        problems.append(f"<a> without href at position {pos}")
    if name == "span" and attrs.get("class") != "tg-spoiler":
        problems.append(f'<span> at position {pos} must have class="tg-spoiler"')
    if name == "tg-emoji" and not attrs.get("emoji-id"):
        problems.append(f"<tg-emoji> without emoji-id at position {pos}")
    inside = [t.name for t in stack]
    if "code" in inside or ("pre" in inside and name != "code"):
        problems.append(f"<{name}> at position {pos} cannot be nested inside <{inside[-1]}>")
    if name == "blockquote" and "blockquote" in inside:
        problems.append(f"nested <blockquote> at position {pos}")
    return problems


def _close_tag(
    name: str, pos: int, stack: list[_OpenTag], entities: list[JSONDict], problems: list[str], pos16: int
) -> None:
    if not stack or stack[-1].name != name:
        expected = f"</{stack[-1].name}>" if stack else "no end tag"
        problems.append(f"unexpected end tag </{name}> at position {pos} (expected {expected})")
        if not any(t.name == name for t in stack):
            return
        while stack[-1].name != name:
            stack.pop()
    tag = stack.pop()
    length = pos16 - tag.start
    if name == "code" and stack and stack[-1].name == "pre":
        language = tag.attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1].language = language.removeprefix("language-")
            return
    if length <= 0:
        return
    entity: JSONDict = {"type": _TAG_ENTITY[name], "offset": tag.start, "length": length}
    if name == "a":
        entity["url"] = tag.attrs.get("href", "")
    elif name == "pre" and tag.language:
        entity["language"] = tag.language
    elif name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
    entities.append(entity)


# --------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------


def _type_name(value: Any) -> str:
    if isinstance(value, UploadedFile):
        return "uploaded file"
    return type(value).__name__


def _iter_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _iter_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _iter_strings(item)


def _image_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG, GIF or JPEG image; (1280, 960) if unknown."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                break
            marker = data[i + 1]
            (seg_len,) = struct.unpack(">H", data[i + 2 : i + 4])
            if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + int(seg_len)
    return 1280, 960


def _error_body(status: int, description: str, parameters: JSONDict | None = None) -> JSONDict:
    body: JSONDict = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


def _json_response(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))


# --------------------------------------------------------------------------------------------------
# The server
# ----------------------------------------------------------------------------------------------------


class FakeTelegram:
    """Fake Bot API server on ``127.0.0.1`` (free port) with a test API; see the module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "pbgdpl_test_bot",
        spec_path: Path = DEFAULT_SPEC_PATH,
        *,
        bot_first_name: str = "PBGDPL Test Bot",
        reject_invalid: bool = False,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.spec_path = spec_path
        self.reject_invalid = reject_invalid
        bot_id = token.split(":", 1)[0]
        self.bot_user: JSONDict = {
            "id": int(bot_id) if bot_id.isdigit() else 123456,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }

        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        self._spec_methods: dict[str, JSONDict] = spec["methods"]
        self._spec_types: dict[str, JSONDict] = spec["types"]
        self._method_names = {name.lower(): name for name in self._spec_methods}

        # Public records.
        self.calls: list[ApiCall] = []
        self.violations: list[str] = []
        self.answered_callbacks: list[dict[str, Any]] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] | None = None

        # Private state.
        self._updates: list[JSONDict] = []
        self._update_ids = itertools.count(10001)
        self._allowed_updates: list[str] | None = None
        self._msg_seq: dict[int, int] = {}
        self._users: dict[int, JSONDict] = {}
        self._blocked: set[int] = set()
        self._bot_messages: dict[int, list[BotMessage]] = {}
        self._user_messages: dict[tuple[int, int], JSONDict] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._callback_seq = itertools.count(1)
        self._callbacks: dict[str, bool] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._network_faults: dict[str, deque[tuple[str, float]]] = {}
        self._changed = asyncio.Event()
        self._poll_generation = 0
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._handlers: dict[str, _Handler] = {
            "getMe": self._get_me,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
            "deleteMessage": self._delete_message,
        }

    # -----------------------------------------------------------------------------------------------
    # Lifecycle
    # ------------------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening on 127.0.0.1 on a free port."""
        if self._runner is not None:
            raise RuntimeError("FakeTelegram is already running")
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        for verb in ("GET", "POST"):
            app.router.add_route(verb, "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop the server; pending long polls return at once."""
        self._closing = True
        self._notify()
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("FakeTelegram is not running")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/bot`` (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """``http://127.0.0.1:PORT/file/bot`` (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -----------------------------------------------------------------------------------------------
    # Test API: injecting user activity
    # ------------------------------------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str = "An",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "vi",
    ) -> dict[str, Any]:
        """Register (or rename) a user who has a private chat with the bot; returns the User dict."""
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name is not None:
            user["last_name"] = last_name
        if username is not None:
            user["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        self._users[user_id] = user
        return user

    def block(self, user_id: int, blocked: bool = True) -> None:
        """Make every send/edit to ``user_id`` fail with 403 (``blocked=False`` undoes it)."""
        if blocked:
            self._blocked.add(user_id)
        else:
            self._blocked.discard(user_id)

    def send_text(self, user_id: int, text: str, first_name: str = "An") -> dict[str, Any]:
        """Inject a text message from a private chat; ``/command`` gets a ``bot_command`` entity."""
        self.add_user(user_id, first_name)
        content: JSONDict = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        return self._inject({"message": self._user_message(user_id, content)})

    def send_photo(
        self, user_id: int, data: bytes, caption: str | None = None, *, first_name: str | None = None
    ) -> dict[str, Any]:
        """Inject a photo; every PhotoSize is downloadable through getFile and serves ``data``."""
        self._ensure_user(user_id, first_name)
        mime = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
        content: JSONDict = {"photo": self._photo_sizes(data, mime)}
        if caption is not None:
            content["caption"] = caption
        return self._inject({"message": self._user_message(user_id, content)})

    def send_document(
        self, user_id: int, data: bytes, file_name: str, mime_type: str, *, first_name: str | None = None
    ) -> dict[str, Any]:
        """Inject a document; downloadable through getFile."""
        self._ensure_user(user_id, first_name)
        stored = self._store_file(data, mime_type, file_name, "documents")
        content: JSONDict = {"document": self._document_dict(stored)}
        return self._inject({"message": self._user_message(user_id, content)})

    def send_sticker(
        self, user_id: int, emoji: str = "👍", *, first_name: str | None = None
    ) -> dict[str, Any]:
        """Inject a (regular, static) sticker."""
        self._ensure_user(user_id, first_name)
        stored = self._store_file(b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp", None, "stickers")
        sticker: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "set_name": "FakeStickers",
            "file_size": len(stored.data),
        }
        return self._inject({"message": self._user_message(user_id, {"sticker": sticker})})

    def send_location(
        self, user_id: int, lat: float, lon: float, *, first_name: str | None = None
    ) -> dict[str, Any]:
        """Inject a location message."""
        self._ensure_user(user_id, first_name)
        content: JSONDict = {"location": {"latitude": lat, "longitude": lon}}
        return self._inject({"message": self._user_message(user_id, content)})

    def send_voice(self, user_id: int, duration: int = 3, *, first_name: str | None = None) -> dict[str, Any]:
        """Inject a voice note."""
        self._ensure_user(user_id, first_name)
        stored = self._store_file(b"OggS\x00\x02", "audio/ogg", None, "voice")
        voice: JSONDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(stored.data),
        }
        return self._inject({"message": self._user_message(user_id, {"voice": voice})})

    def press_button(
        self, user_id: int, message_id: int, data: str, *, force: bool = False
    ) -> dict[str, Any]:
        """Inject a callback_query: ``user_id`` taps the button ``data`` on the bot's message ``message_id``.

        Raises AssertionError if there is no such bot message or (unless ``force``) no such button on it.
        """
        msg = self._find_bot_message(user_id, message_id)
        if not force:
            available = [d for _, d in self.buttons(msg)]
            if data not in available:
                raise AssertionError(
                    f"message {message_id} in chat {user_id} has no button with callback_data {data!r}; "
                    f"buttons: {self.buttons(msg)!r}"
                )
        return self._inject_callback(user_id, msg, data)

    def press_button_text(self, user_id: int, message_id: int, text: str) -> dict[str, Any]:
        """Like :meth:`press_button`, choosing the button by its visible label."""
        msg = self._find_bot_message(user_id, message_id)
        for label, data in self.buttons(msg):
            if label == text:
                return self._inject_callback(user_id, msg, data)
        raise AssertionError(
            f"message {message_id} has no button labelled {text!r}; buttons: {self.buttons(msg)!r}"
        )

    # -----------------------------------------------------------------------------------------------
    # Test API: inspecting what the bot did
    # ------------------------------------------------------------------------------------------------

    def messages(self, chat_id: int) -> list[BotMessage]:
        """The bot's (not deleted) messages to ``chat_id`` in order, reflecting later edits."""
        return [m for m in self._bot_messages.get(chat_id, []) if not m.deleted]

    def last_message(self, chat_id: int) -> BotMessage:
        """The bot's latest message to ``chat_id``; AssertionError if there is none."""
        msgs = self.messages(chat_id)
        if not msgs:
            raise AssertionError(f"the bot has sent no message to chat {chat_id}")
        return msgs[-1]

    @staticmethod
    def buttons(msg: BotMessage) -> list[tuple[str, str]]:
        """``(text, callback_data)`` of the inline keyboard, row by row (non-callback buttons skipped)."""
        markup = msg.reply_markup or {}
        result: list[tuple[str, str]] = []
        rows = markup.get("inline_keyboard")
        if not isinstance(rows, list):
            return result
        for row in rows:
            for button in row if isinstance(row, list) else []:
                if isinstance(button, dict) and isinstance(button.get("callback_data"), str):
                    result.append((str(button.get("text", "")), button["callback_data"]))
        return result

    def calls_to(self, method: str) -> list[ApiCall]:
        """Recorded calls of one method."""
        return [c for c in self.calls if c.method == method]

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot (or not yet delivered to the webhook)."""
        return list(self._updates)

    def assert_no_violations(self) -> None:
        """Raise AssertionError listing every spec violation recorded so far."""
        if self.violations:
            listing = "\n".join(f"- {v}" for v in self.violations)
            raise AssertionError(f"FakeTelegram recorded {len(self.violations)} violation(s):\n{listing}")

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` is true (re-checked on every fake event and every 50 ms)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            if predicate():
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"condition not met within {timeout} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, 0.05))

    async def wait_for_messages(self, chat_id: int, count: int, timeout: float = 10.0) -> list[BotMessage]:
        """Wait until the bot has sent at least ``count`` messages to ``chat_id``; returns them all."""
        try:
            await self.wait_until(lambda: len(self.messages(chat_id)) >= count, timeout)
        except AssertionError:
            seen = [
                (m.message_id, m.text if m.text is not None else m.caption) for m in self.messages(chat_id)
            ]
            raise AssertionError(
                f"expected {count} bot message(s) in chat {chat_id} within {timeout} s, "
                f"got {len(seen)}: {seen!r}"
            ) from None
        return self.messages(chat_id)

    async def wait_for_calls(self, method: str, count: int = 1, timeout: float = 10.0) -> list[ApiCall]:
        """Wait until ``method`` was called at least ``count`` times; returns those calls."""
        try:
            await self.wait_until(lambda: len(self.calls_to(method)) >= count, timeout)
        except AssertionError:
            methods = [c.method for c in self.calls]
            raise AssertionError(
                f"expected {count} call(s) of {method} within {timeout} s; calls: {methods}"
            ) from None
        return self.calls_to(method)

    # -----------------------------------------------------------------------------------------------
    # Test API: faults
    # ------------------------------------------------------------------------------------------------

    def fail_next(
        self, method: str, status: int, description: str, retry_after: int | None = None, times: int = 1
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with this error envelope.

        Faults queue up behind earlier ones for the same method.

        Examples: ``fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)``,
        ``fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")``.
        """
        name = self._method_names.get(method.lower(), method)
        self._faults.setdefault(name, deque()).append(_Fault(status, description, retry_after, times))

    def stall_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` only after ``seconds`` (a client time-out)."""
        name = self._method_names.get(method.lower(), method)
        self._network_faults.setdefault(name, deque()).extend([("stall", seconds)] * times)

    def drop_next(self, method: str, times: int = 1) -> None:
        """Close the connection instead of answering the next ``times`` calls of ``method``."""
        name = self._method_names.get(method.lower(), method)
        self._network_faults.setdefault(name, deque()).extend([("drop", 0.0)] * times)

    # -----------------------------------------------------------------------------------------------
    # HTTP handlers
    # ------------------------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _json_response(_error_body(401, "Unauthorized"), 401)
        requested = request.match_info["method"]
        method = self._method_names.get(requested.lower(), requested)
        problems: list[str] = []
        try:
            raw = await self._read_params(request, problems)
        except ValueError as exc:
            self.violations.append(f"{method}: {exc}")
            self.calls.append(ApiCall(method, {}, time.monotonic()))
            self._notify()
            return _json_response(_error_body(400, f"Bad Request: {exc}"), 400)

        spec = self._spec_methods.get(method)
        params = self._decode_params(method, raw, spec, problems)
        self.calls.append(ApiCall(method, params, time.monotonic()))
        self._notify()
        if spec is None:
            self.violations.append(f"{requested}: unknown Bot API method")
            return _json_response(_error_body(404, "Not Found"), 404)

        ignored: list[str] = []  # problems Telegram itself ignores (unknown parameters)
        missing: list[str] = []
        blocking = (
            problems
            + self._check_fields(spec, params, ignored, missing)
            + self._check_semantics(method, params)
        )
        self.violations.extend(f"{method}: {p}" for p in ignored + missing + blocking)

        network = self._network_faults.get(method)
        if network:
            kind, seconds = network.popleft()
            if kind == "drop":
                if request.transport is not None:
                    request.transport.close()
                raise asyncio.CancelledError
            await asyncio.sleep(seconds)
        fault = self._take_fault(method)
        if fault is not None:
            return _json_response(_error_body(*fault), fault[0])
        if missing or (self.reject_invalid and blocking):
            return _json_response(_error_body(400, f"Bad Request: {(missing + blocking)[0]}"), 400)

        handler = self._handlers.get(method)
        try:
            if handler is not None:
                result = await handler(params)
            elif spec.get("returns") == ["Boolean"]:
                result = True
            else:
                self.violations.append(f"{method}: not implemented by FakeTelegram")
                raise _ApiError(400, f"Bad Request: method {method} is not implemented by FakeTelegram")
        except _ApiError as err:
            return _json_response(_error_body(err.status, err.description, err.parameters), err.status)
        except Exception as exc:  # malformed input the validation let through; never a 500
            self.violations.append(f"{method}: FakeTelegram could not handle the request: {exc!r}")
            return _json_response(_error_body(400, f"Bad Request: {exc}"), 400)
        return _json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _json_response(_error_body(401, "Unauthorized"), 401)
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return _json_response(_error_body(404, "Not Found"), 404)
        return web.Response(body=stored.data, content_type=stored.mime_type)

    async def _read_params(self, request: web.Request, problems: list[str]) -> JSONDict:
        """Raw parameters: strings (query, form, multipart), typed values (JSON body), UploadedFile parts."""
        params: JSONDict = dict(request.query)
        if not request.body_exists:
            return params
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = json.loads(await request.text())
            except ValueError as exc:
                raise ValueError(f"request body is not valid JSON: {exc}") from None
            if not isinstance(body, dict):
                raise ValueError("JSON request body must be an object")
            params.update(body)
        elif ctype == "application/x-www-form-urlencoded":
            params.update(await request.post())
        elif ctype == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    problems.append("unexpected nested or unnamed multipart part")
                    continue
                data = bytes(await part.read(decode=True))
                if part.filename is not None:
                    mime = part.headers.get(aiohttp.hdrs.CONTENT_TYPE, "application/octet-stream")
                    params[part.name] = UploadedFile(part.filename, data, mime)
                else:
                    params[part.name] = data.decode(part.get_charset(default="utf-8"))
        else:
            problems.append(f"unsupported Content-Type {ctype!r}")
        return params

    def _decode_params(
        self, method: str, raw: JSONDict, spec: JSONDict | None, problems: list[str]
    ) -> JSONDict:
        """Decode JSON-encoded form values where the spec type is not String (``chat_id=123`` -> 123)."""
        types_by_name = {f["name"]: f["types"] for f in (spec or {}).get("fields", [])}
        params: JSONDict = {}
        for name, value in raw.items():
            types: list[str] | None = types_by_name.get(name)
            if not isinstance(value, str) or types is None:
                params[name] = value
            elif "String" in types:
                params[name] = int(value) if "Integer" in types and _INT_RE.fullmatch(value) else value
            else:
                try:
                    params[name] = json.loads(value)
                except ValueError:
                    problems.append(
                        f"parameter {name!r} is not valid JSON for type {' or '.join(types)}: {value!r}"
                    )
                    params[name] = value
        return params

    # -----------------------------------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------------------------------------

    def _check_fields(
        self, spec: JSONDict, params: JSONDict, ignored: list[str], missing: list[str]
    ) -> list[str]:
        """Unknown parameters go to ``ignored``, missing required ones to ``missing``; returns type errors."""
        fields = {f["name"]: f for f in spec.get("fields", [])}
        attached = {s.removeprefix("attach://") for s in _iter_strings(params) if s.startswith("attach://")}
        blocking: list[str] = []
        for name, value in params.items():
            if name in attached and isinstance(value, UploadedFile):
                continue
            if name not in fields:
                ignored.append(f"unknown parameter {name!r}")
                continue
            blocking.extend(self._type_errors(value, fields[name]["types"], name, 0))
        for name, fdef in fields.items():
            if fdef["required"] and name not in params:
                missing.append(f"missing required parameter {name!r}")
        return blocking

    def _type_errors(self, value: Any, types: list[str], path: str, depth: int) -> list[str]:
        best: list[str] | None = None
        for type_name in types:
            errors = self._type_errors_one(value, type_name, path, depth)
            if not errors:
                return []
            if best is None or len(errors) < len(best):
                best = errors
        return best or []

    def _type_errors_one(self, value: Any, type_name: str, path: str, depth: int) -> list[str]:
        def wrong() -> list[str]:
            return [f"{path}: expected {type_name}, got {_type_name(value)} {value!r:.60}"]

        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                return wrong()
            inner = type_name.removeprefix("Array of ")
            errors: list[str] = []
            for index, item in enumerate(value):
                errors.extend(self._type_errors_one(item, inner, f"{path}[{index}]", depth))
            return errors
        if type_name == "Integer":
            return [] if isinstance(value, int) and not isinstance(value, bool) else wrong()
        if type_name == "Float":
            return [] if isinstance(value, int | float) and not isinstance(value, bool) else wrong()
        if type_name == "Boolean":
            return [] if isinstance(value, bool) else wrong()
        if type_name == "String":
            return [] if isinstance(value, str) else wrong()
        if type_name == "InputFile":
            return [] if isinstance(value, UploadedFile) else wrong()
        if not isinstance(value, dict):
            return wrong()
        tdef = self._spec_types.get(type_name)
        if tdef is None or depth > 12:
            return []
        if "subtypes" in tdef:
            return self._type_errors(value, list(tdef["subtypes"]), path, depth + 1)
        fields = {f["name"]: f for f in tdef.get("fields", [])}
        if not fields:
            return []
        errors = [f"{path}: unknown field {name!r} for {type_name}" for name in value if name not in fields]
        for name, fdef in fields.items():
            if name in value:
                errors.extend(self._type_errors(value[name], fdef["types"], f"{path}.{name}", depth + 1))
            elif fdef["required"]:
                errors.append(f"{path}: missing required field {name!r} of {type_name}")
        return errors

    def _check_semantics(self, method: str, params: JSONDict) -> list[str]:
        problems: list[str] = []
        parse_mode = params.get("parse_mode")
        if isinstance(parse_mode, str) and parse_mode.lower() not in _PARSE_MODES:
            problems.append(f"unknown parse_mode {parse_mode!r}")
        if method in ("sendMessage", "editMessageText") and isinstance(params.get("text"), str):
            problems.extend(
                self._check_text(params["text"], parse_mode, "text", MAX_TEXT_LENGTH, required=True)
            )
        if isinstance(params.get("caption"), str):
            problems.extend(self._check_text(params["caption"], parse_mode, "caption", MAX_CAPTION_LENGTH))
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            problems.extend(self._check_markup(markup))
        if method == "answerCallbackQuery":
            text = params.get("text")
            if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
                problems.append(
                    f"callback answer text is {len(text)} characters (max {MAX_CALLBACK_ANSWER_LENGTH})"
                )
        if method == "setMyCommands" and isinstance(params.get("commands"), list):
            problems.extend(self._check_commands(params["commands"]))
        if method == "setWebhook":
            secret = params.get("secret_token")
            if isinstance(secret, str) and not _SECRET_TOKEN_RE.fullmatch(secret):
                problems.append("secret_token must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        if method == "sendChatAction" and "action" in params and params["action"] not in _CHAT_ACTIONS:
            problems.append(f"unknown chat action {params.get('action')!r}")
        return problems

    @staticmethod
    def _check_text(
        text: str, parse_mode: Any, what: str, limit: int, *, required: bool = False
    ) -> list[str]:
        problems: list[str] = []
        plain = text
        if isinstance(parse_mode, str) and parse_mode.lower() == "html":
            parsed = parse_telegram_html(text)
            plain = parsed.text
            problems.extend(f"{what} HTML: {p}" for p in parsed.problems)
        if required and not plain.strip():
            problems.append(f"{what} is empty after entity parsing")
        if len(plain) > limit:
            problems.append(f"{what} is {len(plain)} characters after entity parsing (max {limit})")
        return problems

    @staticmethod
    def _check_markup(markup: JSONDict) -> list[str]:
        problems: list[str] = []
        for kind in ("inline_keyboard", "keyboard"):
            rows = markup.get(kind)
            if not isinstance(rows, list):
                continue
            for r, row in enumerate(rows):
                for c, button in enumerate(row if isinstance(row, list) else []):
                    where = f"{kind}[{r}][{c}]"
                    if isinstance(button, str):  # plain-string reply keyboard buttons are allowed
                        button = {"text": button}
                    if not isinstance(button, dict):
                        continue
                    text = button.get("text")
                    if not isinstance(text, str) or not text.strip():
                        problems.append(f"{where}: button text must be non-empty")
                    if kind == "keyboard":
                        continue
                    data = button.get("callback_data")
                    if isinstance(data, str):
                        size = len(data.encode("utf-8"))
                        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                            problems.append(
                                f"{where}: callback_data {data!r} is {size} bytes UTF-8 "
                                f"(allowed 1-{MAX_CALLBACK_DATA_BYTES})"
                            )
                    actions = [a for a in _INLINE_BUTTON_ACTIONS if a in button]
                    if len(actions) != 1:
                        problems.append(
                            f"{where}: an inline button needs exactly one action field, has {actions}"
                        )
        return problems

    @staticmethod
    def _check_commands(commands: list[Any]) -> list[str]:
        problems: list[str] = []
        if len(commands) > 100:
            problems.append(f"{len(commands)} commands (max 100)")
        for index, cmd in enumerate(commands):
            if not isinstance(cmd, dict):
                continue
            name, description = cmd.get("command"), cmd.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.fullmatch(name):
                problems.append(f"commands[{index}]: command {name!r} must be 1-32 of a-z, 0-9 and _")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                problems.append(f"commands[{index}]: description must be 1-256 characters")
        return problems

    def _take_fault(self, method: str) -> tuple[int, str, JSONDict | None] | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.popleft()
        parameters = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
        return fault.status, fault.description, parameters

    # -----------------------------------------------------------------------------------------------
    # Method implementations
    # ------------------------------------------------------------------------------------------------

    async def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _delete_webhook(self, params: JSONDict) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url")
        if not url:
            return await self._delete_webhook(params)
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "max_connections": params.get("max_connections", 40),
            "allowed_updates": params.get("allowed_updates"),
            "last_error_date": None,
            "last_error_message": None,
        }
        if "allowed_updates" in params:
            self._allowed_updates = params["allowed_updates"] or None
        self._notify()  # terminates pending long polls
        self._schedule_webhook()
        return True

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook["allowed_updates"] is not None:
                info["allowed_updates"] = self.webhook["allowed_updates"]
            if self.webhook["last_error_date"] is not None:
                info["last_error_date"] = self.webhook["last_error_date"]
                info["last_error_message"] = self.webhook["last_error_message"]
        return info

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook is not None:
            raise _ApiError(409, _CONFLICT_WEBHOOK)
        if "allowed_updates" in params and isinstance(params["allowed_updates"], list):
            self._allowed_updates = params["allowed_updates"] or None
        offset = params.get("offset")
        if isinstance(offset, int):
            self._confirm(offset)
        limit = params.get("limit", 100)
        limit = max(1, min(100, limit)) if isinstance(limit, int) else 100
        timeout = params.get("timeout", 0)
        timeout = max(0.0, float(timeout)) if isinstance(timeout, int | float) else 0.0

        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # wakes (and thereby terminates) an older pending poll
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            if generation != self._poll_generation:
                raise _ApiError(409, _CONFLICT_POLL)
            if self.webhook is not None:
                raise _ApiError(409, _CONFLICT_WEBHOOK)
            batch = self._select_updates(limit)
            if batch or self._closing:
                return batch
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def _send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        content = self._render("text", params["text"], params.get("parse_mode"), params.get("entities"))
        msg = self._new_bot_message(chat_id, params, content)
        msg.text = params["text"]
        return msg.raw

    async def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        if "inline_message_id" in params:
            return True
        msg = self._editable_message(params)
        content = self._render("text", params["text"], params.get("parse_mode"), params.get("entities"))
        if "text" not in msg.raw:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        markup = params.get("reply_markup")
        if (
            msg.text == params["text"]
            and msg.parse_mode == params.get("parse_mode")
            and msg.reply_markup == markup
        ):
            raise _ApiError(400, _NOT_MODIFIED)
        msg.text = params["text"]
        msg.parse_mode = params.get("parse_mode")
        msg.raw.pop("entities", None)
        msg.raw.update(content)
        self._apply_edit(msg, markup)
        return msg.raw

    async def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        if "inline_message_id" in params:
            return True
        msg = self._editable_message(params)
        markup = params.get("reply_markup")
        if msg.reply_markup == markup:
            raise _ApiError(400, _NOT_MODIFIED)
        self._apply_edit(msg, markup)
        return msg.raw

    async def _delete_message(self, params: JSONDict) -> bool:
        chat_id = self._target_chat(params)
        for msg in self._bot_messages.get(chat_id, []):
            if msg.message_id == params.get("message_id") and not msg.deleted:
                msg.deleted = True
                self._notify()
                return True
        if self._user_messages.pop((chat_id, params.get("message_id", 0)), None) is not None:
            return True
        raise _ApiError(400, "Bad Request: message to delete not found")

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params["callback_query_id"])
        if self._callbacks.get(query_id, True):
            raise _ApiError(400, _QUERY_TOO_OLD)
        self._callbacks[query_id] = True
        self.answered_callbacks.append(dict(params))
        self._notify()
        return True

    async def _send_document(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        stored = self._stored_from_param(params["document"], "documents")
        content: JSONDict = {"document": self._document_dict(stored)}
        content.update(self._caption_content(params))
        msg = self._new_bot_message(chat_id, params, content)
        msg.document = UploadedFile(stored.file_name or "document", stored.data, stored.mime_type)
        msg.caption = params.get("caption")
        return msg.raw

    async def _send_photo(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        value = params["photo"]
        if isinstance(value, UploadedFile):
            sizes = self._photo_sizes(value.data, value.mime_type)
            data = value.data
        else:
            stored = self._stored_from_param(value, "photos")
            sizes, data = self._photo_sizes(stored.data, stored.mime_type), stored.data
        content: JSONDict = {"photo": sizes}
        content.update(self._caption_content(params))
        msg = self._new_bot_message(chat_id, params, content)
        msg.photo = data
        msg.caption = params.get("caption")
        return msg.raw

    async def _get_file(self, params: JSONDict) -> JSONDict:
        stored = self._files.get(str(params["file_id"]))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    @staticmethod
    def _commands_key(params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _set_my_commands(self, params: JSONDict) -> bool:
        self.commands[self._commands_key(params)] = list(params["commands"])
        return True

    async def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: JSONDict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _send_chat_action(self, params: JSONDict) -> bool:
        self._target_chat(params)
        return True

    # -----------------------------------------------------------------------------------------------
    # Internals: updates
    # ------------------------------------------------------------------------------------------------

    def _notify(self) -> None:
        """Wake everybody waiting for a change (long polls, wait_until)."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _inject(self, body: JSONDict) -> JSONDict:
        update: JSONDict = {"update_id": next(self._update_ids), **body}
        self._updates.append(update)
        self._notify()
        self._schedule_webhook()
        return update

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _allowed(self, update: JSONDict) -> bool:
        kind = next((k for k in update if k != "update_id"), "")
        if self._allowed_updates is None:
            return kind not in _NOT_DEFAULT_UPDATES
        return kind in self._allowed_updates

    def _select_updates(self, limit: int) -> list[JSONDict]:
        return [copy.deepcopy(u) for u in self._updates if self._allowed(u)][:limit]

    def _schedule_webhook(self) -> None:
        if self.webhook is None or self._closing or not self._updates:
            return
        if self._webhook_task is not None and not self._webhook_task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._webhook_task = loop.create_task(self._webhook_worker())

    async def _webhook_worker(self) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            failures = 0
            while self.webhook is not None and not self._closing:
                pending = [u for u in self._updates if self._allowed(u)]
                if not pending:
                    return
                update = pending[0]
                headers = {"Content-Type": "application/json"}
                if self.webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
                status: int | None
                try:
                    async with session.post(
                        self.webhook["url"], data=json.dumps(update), headers=headers
                    ) as resp:
                        status = resp.status
                        await resp.read()
                except (aiohttp.ClientError, TimeoutError):
                    status = None
                self.webhook_deliveries.append(WebhookDelivery(update["update_id"], status, time.monotonic()))
                if status is not None and 200 <= status < 300:
                    self._updates = [u for u in self._updates if u is not update]
                    failures = 0
                else:
                    self.webhook["last_error_date"] = int(time.time())
                    self.webhook["last_error_message"] = f"Wrong response from the webhook: {status}"
                    failures += 1
                self._notify()
                if failures >= 3:
                    return  # keep the update pending; the next injection retries
                if failures:
                    await asyncio.sleep(0.05 * failures)

    # -----------------------------------------------------------------------------------------------
    # Internals: chats, messages, files
    # ------------------------------------------------------------------------------------------------

    def _ensure_user(self, user_id: int, first_name: str | None) -> None:
        if first_name is not None or user_id not in self._users:
            self.add_user(user_id, first_name or "An")

    def _chat(self, chat_id: int) -> JSONDict:
        user = self._users[chat_id]
        chat: JSONDict = {"id": chat_id, "type": "private", "first_name": user["first_name"]}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        self._msg_seq[chat_id] = self._msg_seq.get(chat_id, 0) + 1
        return self._msg_seq[chat_id]

    def _user_message(self, user_id: int, content: JSONDict) -> JSONDict:
        msg: JSONDict = {
            "message_id": self._next_message_id(user_id),
            "from": dict(self._users[user_id]),
            "chat": self._chat(user_id),
            "date": int(time.time()),
            **content,
        }
        self._user_messages[(user_id, msg["message_id"])] = msg
        return msg

    def _inject_callback(self, user_id: int, msg: BotMessage, data: str) -> JSONDict:
        query_id = str(4382000000000000000 + next(self._callback_seq))
        self._callbacks[query_id] = False
        query: JSONDict = {
            "id": query_id,
            "from": dict(self._users[user_id]),
            "message": copy.deepcopy(msg.raw),
            "chat_instance": str(-(abs(user_id) * 7919 % 10**18 + 8213)),
            "data": data,
        }
        return self._inject({"callback_query": query})

    def _find_bot_message(self, chat_id: int, message_id: int) -> BotMessage:
        for msg in self.messages(chat_id):
            if msg.message_id == message_id:
                return msg
        raise AssertionError(f"the bot has no message {message_id} in chat {chat_id}")

    def _target_chat(self, params: JSONDict) -> int:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int) or chat_id not in self._users:
            raise _ApiError(400, "Bad Request: chat not found")
        if chat_id in self._blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _editable_message(self, params: JSONDict) -> BotMessage:
        chat_id = self._target_chat(params)
        message_id = params.get("message_id")
        for msg in self.messages(chat_id):
            if msg.message_id == message_id:
                return msg
        if (chat_id, message_id) in self._user_messages:
            raise _ApiError(400, "Bad Request: message can't be edited")
        raise _ApiError(400, "Bad Request: message to edit not found")

    def _render(self, key: str, text: str, parse_mode: Any, entities: Any) -> JSONDict:
        """Message content as Telegram returns it: visible text plus entities."""
        if isinstance(parse_mode, str) and parse_mode.lower() == "html":
            parsed = parse_telegram_html(text)
            content: JSONDict = {key: parsed.text}
            if parsed.entities:
                content["entities" if key == "text" else "caption_entities"] = parsed.entities
            return content
        content = {key: text}
        if isinstance(entities, list) and entities:
            content["entities" if key == "text" else "caption_entities"] = entities
        return content

    def _caption_content(self, params: JSONDict) -> JSONDict:
        caption = params.get("caption")
        if not isinstance(caption, str) or not caption:
            return {}
        return self._render("caption", caption, params.get("parse_mode"), params.get("caption_entities"))

    def _new_bot_message(self, chat_id: int, params: JSONDict, content: JSONDict) -> BotMessage:
        message_id = self._next_message_id(chat_id)
        raw: JSONDict = {
            "message_id": message_id,
            "from": dict(self.bot_user),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
        }
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            replied = self._user_messages.get((chat_id, reply.get("message_id", 0)))
            if replied is not None:
                raw["reply_to_message"] = copy.deepcopy(replied)
        raw.update(content)
        markup = params.get("reply_markup")
        markup = markup if isinstance(markup, dict) else None
        if markup is not None and "inline_keyboard" in markup:
            raw["reply_markup"] = markup
        msg = BotMessage(
            message_id=message_id,
            chat_id=chat_id,
            parse_mode=params.get("parse_mode"),
            reply_markup=markup,
            raw=raw,
        )
        self._bot_messages.setdefault(chat_id, []).append(msg)
        self._notify()
        return msg

    def _apply_edit(self, msg: BotMessage, markup: Any) -> None:
        msg.reply_markup = markup if isinstance(markup, dict) else None
        msg.raw.pop("reply_markup", None)
        if msg.reply_markup is not None and "inline_keyboard" in msg.reply_markup:
            msg.raw["reply_markup"] = msg.reply_markup
        msg.raw["edit_date"] = int(time.time())
        msg.edit_count += 1
        self._notify()

    def _store_file(self, data: bytes, mime_type: str, file_name: str | None, folder: str) -> _StoredFile:
        n = next(self._file_seq)
        ext = mimetypes.guess_extension(mime_type, strict=False) or ""
        name_ext = file_name.rsplit(".", 1)[1] if file_name and "." in file_name else ""
        name_ext = re.sub(r"[^A-Za-z0-9]", "", name_ext)[:10]
        if name_ext:
            ext = "." + name_ext
        stored = _StoredFile(
            file_id=f"BQACAgIAAxkBAAI{n:08d}{folder[:3]}",
            file_unique_id=f"AgAD{n:08d}",
            file_path=f"{folder}/file_{n}{ext}",
            data=data,
            mime_type=mime_type,
            file_name=file_name,
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _stored_from_param(self, value: Any, folder: str) -> _StoredFile:
        if isinstance(value, UploadedFile):
            return self._store_file(value.data, value.mime_type, value.file_name, folder)
        stored = self._files.get(value) if isinstance(value, str) else None
        if stored is None:
            raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return stored

    @staticmethod
    def _document_dict(stored: _StoredFile) -> JSONDict:
        doc: JSONDict = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.file_name is not None:
            doc["file_name"] = stored.file_name
        doc["mime_type"] = stored.mime_type
        doc["file_size"] = len(stored.data)
        return doc

    def _photo_sizes(self, data: bytes, mime_type: str) -> list[JSONDict]:
        """Thumbnail-to-original PhotoSize list; every size serves the original bytes."""
        width, height = _image_size(data)
        sizes: list[JSONDict] = []
        for box in (90, 320, 800):
            scale = box / max(width, height)
            if scale < 1:
                sizes.append(self._photo_size(data, mime_type, round(width * scale), round(height * scale)))
        sizes.append(self._photo_size(data, mime_type, width, height))
        return sizes

    def _photo_size(self, data: bytes, mime_type: str, width: int, height: int) -> JSONDict:
        stored = self._store_file(data, mime_type, None, "photos")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": max(1, width),
            "height": max(1, height),
            "file_size": len(data),
        }
