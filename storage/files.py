"""Files kept under the data directory, named by the SHA-256 of their bytes (evidence sent by officers).

A file is written once, whatever number of responses or people send it; it is written to a temporary name and then
renamed, so a crash never leaves half a file under a digest. Reading by digest is how the bot sends evidence back
(/minhchung) and how the evidence export finds it.

A file no row refers to any more (removed from a draft, a response deleted) is removed by bot.evidence.sweep once it
has not been sent for a while: `put` of bytes already kept makes the file new again (its modification time), and
`remove` takes a file away only if it is still old once it has been moved aside, so a file sent again while the
sweep runs is kept, or written again by its sender.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import secrets
import unicodedata
from datetime import datetime
from pathlib import Path

from storage.models import Evidence

DIGEST = re.compile(r"[0-9a-f]{64}")
"""How a file is named: the SHA-256 of its bytes, in hex."""
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if not DIGEST.fullmatch(sha256):
            raise ValueError("not a SHA-256 digest")
        return self.root / sha256[:2] / sha256

    def has(self, sha256: str | None) -> bool:
        return sha256 is not None and DIGEST.fullmatch(sha256) is not None and self.path(sha256).is_file()

    def put(self, content: bytes) -> str:
        """Keep the bytes (blocking: run it in a thread); their digest."""
        digest = hashlib.sha256(content).hexdigest()
        target = self.path(digest)
        try:
            os.utime(target)  # kept already: new again, so that the sweep leaves it
            return digest
        except FileNotFoundError:
            pass
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

    def older(self, than: datetime) -> list[str]:
        """The digests of the files last sent before `than` (blocking)."""
        found = []
        for path in self.root.glob("*/*"):
            try:
                if DIGEST.fullmatch(path.name) and path.stat().st_mtime < than.timestamp():
                    found.append(path.name)
            except FileNotFoundError:  # removed meanwhile (by another process's sweep)
                continue
        return found

    def remove(self, sha256: str, than: datetime) -> bool:
        """Take the file away if it was last sent before `than` (blocking): moved aside first, then looked at, so
        that bytes sent again meanwhile are put back (or written again by their `put`); whether it was removed."""
        target = self.path(sha256)
        aside = target.with_name(f".{sha256}.{secrets.token_hex(4)}.removed")
        try:
            os.replace(target, aside)
        except FileNotFoundError:
            return False
        if aside.stat().st_mtime >= than.timestamp():
            os.replace(aside, target)
            return False
        aside.unlink()
        return True


def file_name(f: Evidence) -> str:
    """A file's name as sent (made safe for a folder), or for a photo "anh-<id>" with the extension of its type."""
    name = _UNSAFE.sub("_", unicodedata.normalize("NFC", f.name or "")).strip(" ._")
    if name:
        return name[-120:]
    extension = mimetypes.guess_extension(f.mime or "") or ""
    return f"{'anh' if f.kind == 'photo' else 'tep'}-{f.id}{extension}"
