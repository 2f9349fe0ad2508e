"""Logging that never prints a bot token."""

from __future__ import annotations

import logging
import re

# Telegram and Zalo Bot tokens, in URLs ("bot<id>:<secret>") or bare (Zalo Bot ids run to 19 digits).
TOKEN = re.compile(r"bot\d+:[\w-]+|\b\d{6,20}:[A-Za-z0-9_-]{30,}")


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = TOKEN.sub("<redacted>", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def setup_logging(level: str, quiet: bool = False) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactTokens())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING if quiet else level.upper(), handlers=[handler], force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("aiosqlite").setLevel(logging.INFO)  # its DEBUG lines carry SQL parameters: tokens, answers
