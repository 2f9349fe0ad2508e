"""The Zalo Official Account's token pair: the access token lasts about 25 hours and the refresh token is single-use,
so the current pair is kept in the database (`zalo_oa_tokens`), refreshed before it expires or once after error -216,
by one caller while the others wait; another process that refreshed first is noticed, not raced."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import aiohttp

from storage import repo
from storage.db import Database
from storage.models import ZaloOaToken

REFRESH_MARGIN = timedelta(minutes=10)
log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class ZaloOaError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Zalo OA error {code}: {message}")
        self.code = code


class ZaloOaTokenError(ZaloOaError):
    """No access token could be had: the refresh token was refused, or none is configured."""


class OaTokens:
    """The current access token; at most one refresh at a time, and the rotated pair stored before it is used."""

    def __init__(
        self,
        db: Database,
        http: aiohttp.ClientSession,
        oauth_url: str,
        app_id: str,
        app_secret: str,
        bootstrap: str | None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db, self.http, self.oauth_url = db, http, oauth_url
        self.app_id, self.app_secret, self.clock = app_id, app_secret, clock
        self._bootstrap = bootstrap
        self._chain = hashlib.sha256(bootstrap.encode()).hexdigest() if bootstrap else None
        self._lock = asyncio.Lock()
        self._access: str | None = None
        self._expires = datetime.min.replace(tzinfo=UTC)

    def _usable(self, expires: datetime) -> bool:
        return self.clock() < expires - REFRESH_MARGIN

    async def access_token(self) -> str:
        if self._access is None or not self._usable(self._expires):
            async with self._lock:
                if self._access is None or not self._usable(self._expires):
                    await self._renew(refused=None)
        assert self._access is not None
        return self._access

    async def refused(self, token: str) -> str:
        """Zalo said `token` is invalid (-216): refresh once, however many callers saw it."""
        async with self._lock:
            if self._access == token:
                await self._renew(refused=token)
        assert self._access is not None
        return self._access

    async def _stored(self) -> ZaloOaToken | None:
        async with self.db.read() as db:
            row = await repo.get_zalo_oa_token(db)
        if row is not None and self._chain is not None and row.bootstrap != self._chain:
            return None  # a new refresh token was configured: start over from it
        return row

    async def _renew(self, refused: str | None) -> None:
        row = await self._stored()
        if row is not None and row.access_token != refused and self._usable(row.expires_at):
            self._access, self._expires = row.access_token, row.expires_at  # another process refreshed it
            return
        if row is not None:
            refresh_token, chain = row.refresh_token, row.bootstrap
        elif self._bootstrap is not None and self._chain is not None:
            refresh_token, chain = self._bootstrap, self._chain
        else:
            raise ZaloOaTokenError(0, "no refresh token: set PBGDPL_ZALO_OA_REFRESH_TOKEN")
        try:
            access, rotated, expires = await self._exchange(refresh_token)
        except ZaloOaTokenError:
            row = await self._stored()
            if row is None or row.refresh_token == refresh_token:
                raise
            access, expires = row.access_token, row.expires_at  # another process won the race for this token
        else:
            async with self.db.write() as db:
                await repo.save_zalo_oa_token(db, access, rotated, expires, chain, self.clock())
            log.info("Zalo OA access token refreshed, valid until %s", expires.isoformat(timespec="minutes"))
        self._access, self._expires = access, expires

    async def _exchange(self, refresh_token: str) -> tuple[str, str, datetime]:
        form = {"refresh_token": refresh_token, "app_id": self.app_id, "grant_type": "refresh_token"}
        async with self.http.post(self.oauth_url, data=form, headers={"secret_key": self.app_secret}) as response:
            body = await response.json(content_type=None)
        if not isinstance(body, dict) or not body.get("access_token") or not body.get("refresh_token"):
            body = body if isinstance(body, dict) else {}
            detail = body.get("error_description") or body.get("message") or "no token in the answer"
            raise ZaloOaTokenError(int(body.get("error", -1)), str(detail))
        expires = self.clock() + timedelta(seconds=int(str(body.get("expires_in", 0))))
        return str(body["access_token"]), str(body["refresh_token"]), expires
