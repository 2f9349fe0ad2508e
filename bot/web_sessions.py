"""Signing in to the web dashboard without a password (/web), and the browser sessions that follow.

An admin types /web in chat and is sent a one-time link that works for a few minutes (PBGDPL_WEB_LINK_MINUTES); only
the SHA-256 of its token is stored, it signs in once, and an admin gets at most LINKS_PER_HOUR of them an hour. Opening
it shows a button (a chat's link preview fetching the page spends nothing); pressing it starts a session: a random
token in a signed cookie, its SHA-256 in the table, so an admin lists their sessions and ends any of them, and an
ended or expired session is refused at once. Every form carries a CSRF token derived from the session's token. Who
may use the dashboard is decided as in chat (`BotService.role`): an admin removed since is signed out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Account, WebSession, WebSignIn

LINK_PATH = "/web/vao/{token}"
COOKIE = "pbgdpl_phien"
LINKS_PER_HOUR = 5
TOUCH_EVERY = timedelta(minutes=5)
"""A session's last use is written at most this often (a page refreshing itself does not write on every poll)."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _mac(secret: bytes, purpose: str, value: str) -> str:
    key = hmac.new(secret, b"pbgdpl web " + purpose.encode(), hashlib.sha256).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


async def issue_link(db: AsyncSession, account: Account, base_url: str, now: datetime, ttl: timedelta) -> str | None:
    """A new one-time sign-in link for the account; None when it has asked for LINKS_PER_HOUR within the hour."""
    if await repo.sign_ins_since(db, account.id, now - timedelta(hours=1)) >= LINKS_PER_HOUR:
        return None
    token = secrets.token_urlsafe(32)
    await repo.add_sign_in(
        db, WebSignIn(token_hash=_digest(token), account_id=account.id, created_at=now, expires_at=now + ttl)
    )
    return base_url.rstrip("/") + LINK_PATH.format(token=token)


async def spend(db: AsyncSession, token: str, now: datetime) -> Account | None:
    """The account a sign-in link signs in, the link spent; None when it is unknown, used or expired."""
    account_id = await repo.use_sign_in(db, _digest(token), now) if len(token) < 100 else None
    return await db.get(Account, account_id) if account_id is not None else None


async def start(db: AsyncSession, secret: bytes, account: Account, agent: str, now: datetime, ttl: timedelta) -> str:
    """A new session of the account: the cookie's value."""
    session = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=_digest(session),
        account_id=account.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + ttl,
        agent=agent[:200],
    )
    await repo.add_web_session(db, row)
    return f"{session}.{_mac(secret, 'cookie', session)}"


@dataclass(frozen=True)
class Signed:
    """The session a request's cookie names, still live, and its account."""

    session: WebSession
    account: Account
    token: str


def token_of(secret: bytes, cookie: str | None) -> str | None:
    """The session token a cookie carries, if the cookie is ours and unaltered."""
    if not cookie or len(cookie) > 200:
        return None
    token, _, mac = cookie.partition(".")
    return token if token and hmac.compare_digest(mac.encode(), _mac(secret, "cookie", token).encode()) else None


async def current(db: AsyncSession, secret: bytes, cookie: str | None, now: datetime) -> Signed | None:
    """The live session the cookie names, or None: no cookie, altered, unknown, ended or expired."""
    token = token_of(secret, cookie)
    row = await repo.web_session(db, _digest(token)) if token is not None else None
    if token is None or row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    account = await db.get(Account, row.account_id)
    return Signed(row, account, token) if account is not None else None


def needs_touch(session: WebSession, now: datetime) -> bool:
    return now - session.last_seen_at >= TOUCH_EVERY


async def touch(db: AsyncSession, session_id: int, now: datetime) -> None:
    row = await db.get(WebSession, session_id)
    if row is not None:
        row.last_seen_at = now


def csrf_token(secret: bytes, session_token: str) -> str:
    """The token every form of this session carries: an attacker's page cannot know it."""
    return _mac(secret, "csrf", session_token)


def csrf_ok(secret: bytes, session_token: str, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(sent.encode(), csrf_token(secret, session_token).encode())


async def sessions_of(db: AsyncSession, account: Account, now: datetime) -> list[WebSession]:
    return await repo.live_web_sessions(db, account.id, now)


async def end(db: AsyncSession, account: Account, session_id: int, now: datetime) -> bool:
    """End one of the account's own sessions; False when it names none of them that is live."""
    row = await db.get(WebSession, session_id)
    if row is None or row.account_id != account.id or row.ended_at is not None:
        return False
    row.ended_at = now
    return True
