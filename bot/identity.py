"""Who is writing: keyed-hash identities and the per-person lock taken before any state is read."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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


class KeyedLocks:
    """One asyncio lock per key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


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
