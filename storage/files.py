"""Files kept under the data directory, named by the SHA-256 of their bytes (evidence sent by officers).

A file is written once, whatever number of responses or people send it; it is written to a temporary name and then
renamed, so a crash never leaves half a file under a digest. Reading by digest is how the bot sends evidence back
(/minhchung) and how the evidence export finds it.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import secrets
import unicodedata
from pathlib import Path

from storage.models import Evidence

_DIGEST = re.compile(r"[0-9a-f]{64}")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if not _DIGEST.fullmatch(sha256):
            raise ValueError("not a SHA-256 digest")
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str | None) -> bool:
        return sha256 is not None and _DIGEST.fullmatch(sha256) is not None and self.path(sha256).is_file()

    def put(self, content: bytes) -> str:
        """Keep the bytes (blocking: run it in a thread); their digest."""
        digest = hashlib.sha256(content).hexdigest()
        target = self.path(digest)
        if target.is_file():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{digest}.{secrets.token_hex(4)}")
        with partial.open("wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
        return digest

    def read(self, sha256: str | None) -> bytes | None:
        """The bytes kept under a digest (blocking); None when none are."""
        return self.path(sha256).read_bytes() if self.has(sha256) and sha256 is not None else None


def file_name(f: Evidence) -> str:
    """A file's name as sent (made safe for a folder), or for a photo "anh-<id>" with the extension of its type."""
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", f.name or "")).strip(" ._")
    if name:
        return name[-120:]
    extension = mimetypes.guess_extension(f.mime or "") or ""
    return f"{'anh' if f.kind == 'photo' else 'tep'}-{f.id}{extension}"
