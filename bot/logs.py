"""Logging that never prints a bot token."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

# Telegram and Zalo Bot tokens, in URLs ("bot<id>:<secret>") or bare (Zalo Bot ids run to 19 digits).
TOKEN = re.compile(r"bot\d+:[\w-]+|\b\d{6,20}:[A-Za-z0-9_-]{30,}")


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = TOKEN.sub("<redacted>", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


class JsonLines(logging.Formatter):
    """One JSON object a line, for journald, Docker and log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = TOKEN.sub("<redacted>", self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str, quiet: bool = False, json_lines: bool = False) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactTokens())
    text = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(JsonLines() if json_lines else text)
    logging.basicConfig(level=logging.WARNING if quiet else level.upper(), handlers=[handler], force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.INFO)  # its DEBUG lines carry SQL parameters: tokens, answers
