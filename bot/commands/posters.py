"""/qr <mã đơn vị>: a printable A4 poster (PNG and PDF) that brings citizens to the unit's survey."""

from __future__ import annotations

import asyncio

from bot import audit
from bot.channels.registry import SURVEY_PAYLOAD
from bot.messages import Document, Reply
from bot.table import Call
from conversations.engine import Outgoing
from exports.poster import make_poster
from storage import repo

USAGE = "Gõ /qr kèm mã đơn vị, ví dụ: /qr 16012. Gõ /donvi để xem mã các đơn vị."
UNIT_NOT_FOUND = "Không tìm thấy đơn vị có mã “{code}”. Gõ /donvi để xem mã các đơn vị."
NO_TELEGRAM = "Chưa biết tên bot Telegram (kênh Telegram chưa chạy), nên chưa tạo được mã QR dẫn tới khảo sát."
CAPTION = "Áp phích khảo sát của {unit} ({kind}): in khổ A4, dán ở nơi tổ chức tuyên truyền, họp thôn."


async def poster(call: Call) -> list[Reply]:
    service, db = call.service, call.db
    if not call.args:
        return [Outgoing(USAGE)]
    unit = await repo.get_unit(db, call.args[0])
    if unit is None:
        return [Outgoing(UNIT_NOT_FOUND.format(code=call.args[0]))]
    link = service.channels.deep_link(SURVEY_PAYLOAD.format(code=unit.code))
    if link is None:
        return [Outgoing(NO_TELEGRAM)]
    await audit.record(db, call.sender, service.clock(), "poster", unit.code, {"link": link})
    name, code = unit.name, unit.code

    async def made() -> list[Reply]:
        drawn = await asyncio.to_thread(make_poster, name, code, link)
        stem = f"ap-phich-khao-sat-{code}"
        return [
            Document(f"{stem}.png", drawn.png, CAPTION.format(unit=name, kind="ảnh"), "image/png"),
            Document(f"{stem}.pdf", drawn.pdf, CAPTION.format(unit=name, kind="PDF để in"), "application/pdf"),
        ]

    call.after(made)
    return []
