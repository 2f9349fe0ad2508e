"""/web: an admin's one-time link to the web dashboard (bot.web_sessions), to open on a computer."""

from __future__ import annotations

from datetime import timedelta

from bot import audit, web_sessions
from bot.messages import Reply
from bot.table import Call
from conversations.engine import Outgoing
from conversations.localtime import clock_then_day
from storage import repo

LINK = (
    "Đường dẫn đăng nhập trang quản trị (dùng một lần, đến {time}):\n{url}\n"
    "Mở trên máy tính của cơ quan rồi bấm “Đăng nhập”. Không chuyển đường dẫn này cho người khác."
)
TOO_MANY = (
    "Bạn đã xin {count} đường dẫn đăng nhập trong một giờ qua. Hãy dùng đường dẫn mới nhất, hoặc chờ ít phút rồi gõ "
    "lại /web."
)
OFF = "Trang quản trị trên web đang tắt (PBGDPL_WEB_DASHBOARD=false)."


async def web(call: Call) -> list[Reply]:
    service, db = call.service, call.db
    settings = service.settings
    if not settings.web_dashboard:
        return [Outgoing(OFF)]
    now = service.clock()
    ttl = timedelta(minutes=settings.web_link_minutes)
    sender = call.sender
    account = await repo.ensure_account(db, sender.channel, sender.user_id, now, sender.display_name)
    url = await web_sessions.issue_link(db, account, settings.base_url, now, ttl)
    if url is None:
        return [Outgoing(TOO_MANY.format(count=web_sessions.LINKS_PER_HOUR))]
    await audit.record(db, sender, now, "web_link", "web")
    return [Outgoing(LINK.format(time=clock_then_day(now + ttl), url=url))]
