"""What the fake records and returns: calls, the bot's messages, files, faults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from tests.fakes.telegram.constants import JSONDict

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
