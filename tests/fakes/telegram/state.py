"""The fake server's state: updates waiting or sent to a webhook, chats, the bot's messages, files."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import mimetypes
import re
import time
from collections import deque
from pathlib import Path
from typing import Any

import aiohttp

from tests.fakes.local import LocalServer
from tests.fakes.telegram.constants import _NOT_DEFAULT_UPDATES, DEFAULT_SPEC_PATH, DEFAULT_TOKEN, JSONDict
from tests.fakes.telegram.formatting import parse_telegram_html
from tests.fakes.telegram.records import (
    ApiCall,
    BotMessage,
    UploadedFile,
    WebhookDelivery,
    _ApiError,
    _Fault,
    _StoredFile,
)
from tests.fakes.telegram.wire import _image_size


class State(LocalServer):
    """The fake's state and its internals: updates, chats, messages, files."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "pbgdpl_test_bot",
        spec_path: Path = DEFAULT_SPEC_PATH,
        *,
        bot_first_name: str = "PBGDPL Test Bot",
        reject_invalid: bool = False,
    ) -> None:
        super().__init__()
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
        self._webhook_task: asyncio.Task[None] | None = None

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
                    async with session.post(self.webhook["url"], data=json.dumps(update), headers=headers) as resp:
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
