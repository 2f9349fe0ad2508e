"""The web app's addresses given out of it: time-limited signed download links, for files a chat cannot carry
(exports on Zalo), and the public results page of a survey (printed on its posters, linked from the page itself).

A file is kept under the data directory; the link names it by a random id and carries its expiry and an HMAC of
both, so it works until it expires and fails once anything in it is altered. The web app serves it (bot/web.py).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, urlencode

from bot.messages import Document
from conversations.localtime import clock_then_day

ROUTE = "/exports/{file_id}"
RESULTS = "/ketqua"
"""Where the public results are served (dashboard.public, mounted by bot.app when PBGDPL_WEB_PUBLIC_RESULTS is on)."""
SURVEY = "bang"
"""The results page's query parameter naming the survey shown (a questionnaire's id)."""
LINK_TEXT = "{caption}\nTải tệp {filename} tại:\n{url}\n(Đường dẫn dùng được đến {time}.)"
_ID = re.compile(r"[A-Za-z0-9_-]{20,64}")
_EXP = re.compile(r"[0-9]{1,12}")  # seconds since 1970: 12 digits last for 30,000 years; more is not a time


def results_path(unit_code: str | None, questionnaire_id: str) -> str:
    """The public results of a survey for one unit, or (None) for every unit it is assigned to."""
    return f"{RESULTS}/{quote(unit_code or '', safe='')}?{urlencode({SURVEY: questionnaire_id})}"


class LinkRefused(Exception):
    """The link was altered, or names no file."""


class LinkExpired(Exception):
    """The link is genuine but its time is up."""


class DownloadLinks:
    def __init__(
        self,
        directory: Path,
        secret: bytes,
        base_url: str,
        ttl: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.directory = directory
        self.base_url = base_url.rstrip("/")
        self.ttl = ttl
        self.clock = clock
        self._key = hmac.new(secret, b"pbgdpl download links", hashlib.sha256).digest()

    def publish(self, document: Document) -> str:
        """Keep the file and return the chat text that offers it: caption, link and until when it works."""
        self._sweep()
        file_id = secrets.token_urlsafe(24)
        folder = self.directory / file_id
        folder.mkdir(parents=True)
        name = Path(document.filename).name or "tep"
        (folder / name).write_bytes(document.content)
        expires = self.clock() + self.ttl
        url = self.url(file_id, expires)
        when = clock_then_day(expires)
        return LINK_TEXT.format(caption=document.caption, filename=name, url=url, time=when)

    def url(self, file_id: str, expires: datetime) -> str:
        exp = int(expires.timestamp())
        return f"{self.base_url}{ROUTE.format(file_id=file_id)}?exp={exp}&sig={self._sign(file_id, exp)}"

    def open(self, file_id: str, exp: str, sig: str) -> Path:
        """The file a link names; LinkRefused when it was altered, LinkExpired when its time is up."""
        if not (_ID.fullmatch(file_id) and _EXP.fullmatch(exp)):
            raise LinkRefused
        if not hmac.compare_digest(sig.encode(), self._sign(file_id, int(exp)).encode()):
            raise LinkRefused
        if int(exp) <= self.clock().timestamp():
            raise LinkExpired
        files = sorted((self.directory / file_id).glob("*"))
        if not files:
            raise LinkRefused
        return files[0]

    def _sign(self, file_id: str, exp: int) -> str:
        return hmac.new(self._key, f"{file_id}:{exp}".encode(), hashlib.sha256).hexdigest()

    def _sweep(self) -> None:
        """Delete the files whose links have all expired (by file age, with a day's margin)."""
        if not self.directory.is_dir():
            return
        cutoff = time.time() - (self.ttl + timedelta(days=1)).total_seconds()
        for folder in self.directory.iterdir():
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
