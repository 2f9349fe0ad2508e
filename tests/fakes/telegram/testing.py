"""The test side of the fake: a user's messages and taps, what the bot sent, faults to inject."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable
from typing import Any

from tests.fakes.telegram.constants import JSONDict
from tests.fakes.telegram.formatting import _utf16_len
from tests.fakes.telegram.methods import Methods
from tests.fakes.telegram.records import ApiCall, BotMessage, _Fault


class TestApi(Methods):
    """What a test does: inject user activity, inspect what the bot did, plan faults."""

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

    def send_sticker(self, user_id: int, emoji: str = "👍", *, first_name: str | None = None) -> dict[str, Any]:
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

    def send_location(self, user_id: int, lat: float, lon: float, *, first_name: str | None = None) -> dict[str, Any]:
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

    def press_button(self, user_id: int, message_id: int, data: str, *, force: bool = False) -> dict[str, Any]:
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
        raise AssertionError(f"message {message_id} has no button labelled {text!r}; buttons: {self.buttons(msg)!r}")

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
            seen = [(m.message_id, m.text if m.text is not None else m.caption) for m in self.messages(chat_id)]
            raise AssertionError(
                f"expected {count} bot message(s) in chat {chat_id} within {timeout} s, got {len(seen)}: {seen!r}"
            ) from None
        return self.messages(chat_id)

    async def wait_for_calls(self, method: str, count: int = 1, timeout: float = 10.0) -> list[ApiCall]:
        """Wait until ``method`` was called at least ``count`` times; returns those calls."""
        try:
            await self.wait_until(lambda: len(self.calls_to(method)) >= count, timeout)
        except AssertionError:
            methods = [c.method for c in self.calls]
            raise AssertionError(f"expected {count} call(s) of {method} within {timeout} s; calls: {methods}") from None
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
