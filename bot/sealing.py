"""Sealing what must be kept for a moment but never readable at rest: a platform event waiting in the inbox holds
the sender's platform id, name and words, which the database otherwise never keeps (only keyed hashes).

A keystream from SHAKE-256 over a key and a random nonce (a keyed sponge is a pseudo-random function), XORed
with the data, then an HMAC-SHA-256 tag over nonce and ciphertext (encrypt-then-MAC). Both keys come from the
server secret; nothing outside the standard library."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

NONCE = 16
TAG = 32


class SealBroken(ValueError):
    """Sealed under another secret, or altered."""


class Sealer:
    def __init__(self, secret: bytes, purpose: str) -> None:
        self._stream_key = hmac.new(secret, f"{purpose} stream".encode(), hashlib.sha256).digest()
        self._tag_key = hmac.new(secret, f"{purpose} tag".encode(), hashlib.sha256).digest()

    def _xor(self, nonce: bytes, data: bytes) -> bytes:
        stream = hashlib.shake_256(self._stream_key + nonce).digest(len(data))
        return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(len(data), "big")

    def seal(self, data: bytes) -> str:
        nonce = secrets.token_bytes(NONCE)
        body = nonce + self._xor(nonce, data)
        return base64.b64encode(body + hmac.new(self._tag_key, body, hashlib.sha256).digest()).decode()

    def open(self, sealed: str) -> bytes:
        raw = base64.b64decode(sealed)
        body, tag = raw[:-TAG], raw[-TAG:]
        if len(body) < NONCE or not hmac.compare_digest(tag, hmac.new(self._tag_key, body, hashlib.sha256).digest()):
            raise SealBroken("the sealed data was altered or sealed under another secret")
        return self._xor(body[:NONCE], body[NONCE:])
