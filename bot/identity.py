"""Who is writing: keyed-hash identities, the server secret behind them, and limits on guessing."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from pathlib import Path


def actor_key(secret: bytes, channel: str, platform_id: str) -> str:
    """The only form in which a citizen's platform id is kept."""
    return hmac.new(secret, f"{channel}:{platform_id}".encode(), hashlib.sha256).hexdigest()


def load_or_create_secret(path: Path) -> bytes:
    """The server secret for the keyed hashes, made once and kept beside the data."""
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32).encode()
    path.write_bytes(value)
    path.chmod(0o600)
    return value


class AttemptLimit:
    """At most `limit` failed attempts per key within `window`, e.g. guessing invite codes."""

    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, list[datetime]] = {}

    def blocked(self, key: str, now: datetime) -> bool:
        recent = [t for t in self._failures.get(key, []) if now - t < self.window]
        self._failures[key] = recent
        if not recent:
            del self._failures[key]
        return len(recent) >= self.limit

    def failed(self, key: str, now: datetime) -> None:
        self._failures.setdefault(key, []).append(now)
