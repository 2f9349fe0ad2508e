"""Who is writing: keyed-hash identities and the server secret behind them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
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
