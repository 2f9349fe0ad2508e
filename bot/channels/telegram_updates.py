"""A Bot API update, as Telegram sends it (a JSON object), read straight into what the channel needs: who sent it
from which private chat, the neutral `Inbound`, and for a button the callback's id and the pressed message. No
python-telegram-bot object is built of it (Update.de_json builds a dozen per update, and its handlers, tasks and
context objects more), and nothing here does I/O.

Only `message` and `callback_query` updates from private chats are read (the kinds setWebhook and getUpdates ask
for); anything else is None, so it is neither stored nor applied."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.messages import Sender
from conversations.engine import FileRef, Inbound

CHANNEL = "telegram"
UNSUPPORTED = ("sticker", "voice", "location")
"""Kinds of message named to the person when they send one; any other kind of message is "other"."""


@dataclass(frozen=True, slots=True)
class Pressed:
    """The bot's message whose button was pressed."""

    chat_id: int
    message_id: int
    has_keyboard: bool


@dataclass(frozen=True, slots=True)
class TelegramUpdate:
    update_id: int
    chat_id: int
    sender: Sender
    inbound: Inbound
    callback_id: str | None = None
    """A button press: the callback query to answer (its spinner stops)."""
    pressed: Pressed | None = None
    """The pressed message, unless Telegram no longer gives it (older than 48 hours: an InaccessibleMessage)."""


def full_name(user: dict[str, Any]) -> str:
    """As Telegram clients show it (and as PTB's User.full_name makes it): first name, then last name if any."""
    last = user.get("last_name")
    return f"{user['first_name']} {last}" if last else str(user["first_name"])


def inbound_of(message: dict[str, Any]) -> Inbound:
    """What a message says: its text, a photo (the largest size, with its caption), a document, or its kind."""
    text = message.get("text")
    if text is not None:
        return Inbound(text=text)
    photo = message.get("photo")
    if photo:
        best = photo[-1]  # the sizes come smallest first
        ref = FileRef(best["file_id"], "photo", None, "image/jpeg", best.get("file_size"))
        return Inbound(files=(ref,), text=message.get("caption"))
    doc = message.get("document")
    if doc is not None:
        ref = FileRef(doc["file_id"], "document", doc.get("file_name"), doc.get("mime_type"), doc.get("file_size"))
        return Inbound(files=(ref,))
    return Inbound(unsupported=next((kind for kind in UNSUPPORTED if message.get(kind)), "other"))


def update_of(payload: dict[str, Any]) -> TelegramUpdate | None:
    """The update a payload is, or None for one the bot ignores (another kind, no sender, not a private chat).
    A payload missing what every update of its kind has raises KeyError or TypeError."""
    update_id = int(payload["update_id"])
    message = payload.get("message")
    if message is not None:
        sender = _private_sender(message.get("from"), message["chat"])
        if sender is None:
            return None
        return TelegramUpdate(update_id, int(message["chat"]["id"]), sender, inbound_of(message))
    query = payload.get("callback_query")
    if query is None:
        return None
    pressed = query.get("message")
    if pressed is None:  # a button of an inline-mode message: no chat
        return None
    sender = _private_sender(query["from"], pressed["chat"])
    if sender is None:
        return None
    chat_id = int(pressed["chat"]["id"])
    button = Inbound(button=query.get("data") or "")
    seen = None
    if pressed.get("date") != 0:  # date 0: an InaccessibleMessage, which can no longer be edited
        seen = Pressed(chat_id, int(pressed["message_id"]), pressed.get("reply_markup") is not None)
    return TelegramUpdate(update_id, chat_id, sender, button, callback_id=str(query["id"]), pressed=seen)


def _private_sender(user: dict[str, Any] | None, chat: dict[str, Any]) -> Sender | None:
    if user is None or chat["type"] != "private":
        return None
    return Sender(CHANNEL, str(user["id"]), full_name(user))
