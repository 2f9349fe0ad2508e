"""What every page shares: the templates, the security headers, and who is signed in (failing closed)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot import web_sessions
from bot.messages import Sender
from bot.service import BotService
from conversations.answers import count_text
from conversations.localtime import clock_then_day, day_text
from storage.models import Account

HERE = Path(__file__).resolve().parent
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
EVIDENCE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
"""An evidence file: shown inside the submission's page, nothing in it runs."""
SIGNED = web.RequestKey("signed", web_sessions.Signed)
"""The live session a request came with, once the middleware has checked it."""
NEED_SIGN_IN = "Cần đăng nhập"
NEED_SIGN_IN_TEXT = (
    "Trang này chỉ dành cho Phòng Tư pháp. Gõ /web trong chat với bot để nhận đường dẫn đăng nhập (dùng một lần)."
)
NOT_ADMIN = "Tài khoản này không còn là quản trị viên, nên không dùng được trang quản trị."
BAD_FORM = "Biểu mẫu đã cũ hoặc không gửi từ trang này. Hãy tải lại trang rồi làm lại."


def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = lambda moment: clock_then_day(moment) if isinstance(moment, datetime) else ""
    env.filters["day"] = day_text
    env.filters["count"] = count_text
    return env


class Site:
    """The service and the templates, for the handlers of both apps."""

    def __init__(self, service: BotService) -> None:
        self.service = service
        self.env = templates()
        self.secure = service.settings.base_url.startswith("https://")
        self.static = HERE / "static"

    def page(self, request: web.Request, name: str, http_status: int = 200, **values: Any) -> web.Response:
        signed = request.get(SIGNED)
        csrf = web_sessions.csrf_token(self.service.secret, signed.token) if signed is not None else ""
        account = signed.account if signed is not None else None
        body = self.env.get_template(name).render(csrf=csrf, account=account, path=request.path, **values)
        return web.Response(text=body, status=http_status, content_type="text/html", charset="utf-8")

    def message(self, request: web.Request, title: str, text: str, status: int = 200) -> web.Response:
        return self.page(request, "message.html", status, title=title, text=text)

    async def headers(self, request: web.Request, response: web.StreamResponse) -> None:
        """On every response, also errors and files: no framing, no sniffing, a referrer only to this site (a
        sign-in link's token must not leave in one; "no-referrer" would make a browser send its forms with `Origin:
        null`, which `same_origin` refuses), nothing of the Office's kept in a cache."""
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Frame-Options", "DENY")
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "same-origin"
        h["Cross-Origin-Opener-Policy"] = "same-origin"
        h.setdefault("Cache-Control", "no-store")
        if self.secure:
            h["Strict-Transport-Security"] = "max-age=31536000"

    def cookie(self, response: web.StreamResponse, value: str | None) -> None:
        if value is None:
            response.del_cookie(web_sessions.COOKIE, path="/web")
            return
        hours = self.service.settings.web_session_hours
        response.set_cookie(
            web_sessions.COOKIE,
            value,
            path="/web",
            max_age=hours * 3600,
            httponly=True,
            secure=self.secure,
            samesite="Lax",
        )

    def signed_in(self, open_routes: set[str]) -> Middleware:
        """Every route but `open_routes` needs a live session of an admin: otherwise 401 and nothing else is read. A
        form sent must carry the session's CSRF token and come from this site."""

        @web.middleware
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            route = request.match_info.route.name
            if request.method == "POST" and not same_origin(request):
                return self.message(request, NEED_SIGN_IN, BAD_FORM, 403)
            if route in open_routes:
                return await handler(request)
            service = self.service
            now = service.clock()
            async with service.db.read() as db:
                signed = await web_sessions.current(db, service.secret, request.cookies.get(web_sessions.COOKIE), now)
                role = await service.role(db, sender_of(signed.account)) if signed is not None else None
            if signed is None or role is None or not role.is_admin:
                text = NEED_SIGN_IN_TEXT if role is None or signed is None else NOT_ADMIN
                response = self.message(request, NEED_SIGN_IN, text, 401)
                self.cookie(response, None)
                return response
            if request.method == "POST":
                form = await request.post()
                sent = form.get("csrf")
                if not web_sessions.csrf_ok(service.secret, signed.token, sent if isinstance(sent, str) else None):
                    return self.message(request, NEED_SIGN_IN, BAD_FORM, 403)
            if web_sessions.needs_touch(signed.session, now):
                async with service.db.write() as db:
                    await web_sessions.touch(db, signed.session.id, now)
            request[SIGNED] = signed
            return await handler(request)

        return middleware


def sender_of(account: Account) -> Sender:
    """An admin as the chat knows them: what they do on the web is theirs, audited under their name."""
    return Sender(account.channel, account.platform_id, account.display_name)


def signed(request: web.Request) -> web_sessions.Signed:
    return request[SIGNED]


def me(request: web.Request) -> Sender:
    """The signed-in admin, as a sender of commands."""
    return sender_of(signed(request).account)


def same_origin(request: web.Request) -> bool:
    """A form sent from this site: a browser names the page's origin on every POST; another site's page fails."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host
