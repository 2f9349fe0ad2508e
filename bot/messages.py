"""What passes between the channels and the service: who wrote, and the replies (messages and files)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from conversations.engine import FileRef, Outgoing


@dataclass(frozen=True)
class Sender:
    channel: str
    user_id: str
    display_name: str | None = None


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    caption: str
    mime: str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    original: bool = False
    """A file to give back as it is (evidence): never shown as a picture, which a platform would recompress."""


Reply = Outgoing | Document
FileFetcher = Callable[[FileRef], Awaitable[bytes]]
"""How a channel gets the bytes of a file a user sent it."""
