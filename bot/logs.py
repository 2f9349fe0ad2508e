"""Logging that keeps secrets and people out of the log, at every level.

What a log line may carry: the bot's own messages (which never name a person, print what they wrote, or a raw
platform id), with bot tokens and long numbers (platform ids, phone numbers) hidden all the same, tracebacks
included. The libraries' own lines below WARNING (python-telegram-bot prints every update and every request's
parameters at DEBUG, httpx and aiohttp the requests, SQLAlchemy and aiosqlite the statements' parameters) keep
only their fixed wording, every value they would fill in shown as "…"; the database engines never put parameters
into their messages or errors (`hide_parameters`, storage.db).
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

# Telegram and Zalo Bot tokens, in URLs ("bot<id>:<secret>") or bare (Zalo Bot ids run to 19 digits).
TOKEN = re.compile(r"bot\d+:[\w-]+|\b\d{6,20}:[A-Za-z0-9_-]{30,}")
# Seven digits or more, maybe grouped by spaces or dots: a Telegram or Zalo id, a phone number ("0912 345 678").
NUMBER = re.compile(r"(?<![\w.])\+?\d(?:[ .]?\d){6,}(?!\w)")
# A %-style placeholder of a logging call ("%s", "%(name)r", "%5.2f"), or an escaped percent sign.
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")
OWN = ("bot", "storage", "exports", "conversations", "bench")
"""The project's packages: their log lines are written not to carry anyone's data."""


def redact(text: str) -> str:
    return NUMBER.sub("<number>", TOKEN.sub("<redacted>", text))


def _own(name: str) -> bool:
    return name.split(".", 1)[0] in OWN


class HideLibraryValues(logging.Filter):
    """A library's line below WARNING keeps its wording, not its values: its template with each placeholder "…".
    A line without a template (text built before logging, or not text at all) is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING or _own(record.name):
            return True
        if not isinstance(record.msg, str) or not record.args:
            return False
        record.msg = PLACEHOLDER.sub(lambda m: "%" if m.group() == "%%" else "…", record.msg)
        record.args = ()
        return True


class TextLines(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonLines(logging.Formatter):
    """One JSON object a line, for journald, Docker and log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str, quiet: bool = False, json_lines: bool = False) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(HideLibraryValues())
    handler.setFormatter(JsonLines() if json_lines else TextLines())
    logging.basicConfig(level=logging.WARNING if quiet else level.upper(), handlers=[handler], force=True)
    # Lines that say little even without their values, once per request or statement: not worth their cost.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
