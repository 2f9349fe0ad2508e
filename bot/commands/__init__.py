"""Chat commands. Each module registers its handlers with @command; the service looks them up by name.

A command can be typed as "/danhgia" on any channel, or as plain words ("danh gia", "đánh giá") where users
rarely type a slash (Zalo); `words` lists those, compared after fold().
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conversations.engine import Inbound
from conversations.text import fold

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.service import BotService, Reply, Sender


@dataclass(frozen=True)
class Call:
    service: BotService
    sender: Sender
    actor: str
    args: list[str]
    inbound: Inbound | None = None
    """The message itself, for handlers of files and of what a session waits for."""
    interim: Interim | None = None
    """Sends replies at once, before the handler ends (e.g. "đang chuẩn bị" before a long export)."""


Handler = Callable[[Call], Awaitable["list[Reply]"]]
Interim = Callable[["list[Reply]"], Awaitable[object]]
Waiting = Callable[[Call, "AsyncSession", dict[str, Any]], Awaitable["list[Reply]"]]
COMMANDS: dict[str, Handler] = {}
ADMIN_COMMANDS: set[str] = set()
WORDS: dict[str, str] = {}
FILES: dict[str, Handler] = {}
"""A file whose name ends so (".xlsx"), sent outside any questionnaire: its handler."""
WAITING: dict[str, Waiting] = {}
"""What else a session can wait for (sessions.waiting_for = {kind: data}): the handler of the next message that is
not a command, called in that message's transaction."""


def command(
    *names: str, words: tuple[str, ...] = (), admin: bool = False
) -> Callable[[Handler], Handler]:
    """Register a handler under its names and words; `admin` commands are refused to anyone else before the
    handler runs (authorization in one place)."""

    def register(handler: Handler) -> Handler:
        for name in names:
            COMMANDS[name] = handler
            if admin:
                ADMIN_COMMANDS.add(name)
        for word in words:
            WORDS[fold(word)] = names[0]
        return handler

    return register


def on_file(suffix: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        FILES[suffix] = handler
        return handler

    return register


def on_waiting(kind: str) -> Callable[[Waiting], Waiting]:
    def register(handler: Waiting) -> Waiting:
        WAITING[kind] = handler
        return handler

    return register


def file_handler(inbound: Inbound) -> Handler | None:
    names = [(f.name or "").lower() for f in inbound.files]
    return next((FILES[s] for s in FILES if names and all(n.endswith(s) for n in names)), None)


def parse(text: str, with_arguments: bool) -> tuple[str, list[str]] | None:
    """(command, arguments) for "/cmd a b", "/cmd@bot a", or a command's plain words; None for other text.
    Without `with_arguments`, plain words must be the whole message, so an answer that merely starts with
    a command word ("mọi người…") stays an answer."""
    if text.startswith("/"):
        word, _, rest = text[1:].partition(" ")
        return word.split("@", 1)[0].lower(), rest.split()
    key = fold(text)
    for words, name in sorted(WORDS.items(), key=lambda item: -len(item[0])):
        if key == words or (with_arguments and key.startswith(words + " ")):
            return name, text.split()[len(words.split()) :]
    return None


def load() -> None:
    """Import every command module so that its handlers are registered."""
    from bot.commands import (  # noqa: F401
        conversation,
        export,
        invites,
        periods,
        posters,
        progress,
        questionnaires,
        reminders,
        review,
        unit_changes,
        units,
    )
