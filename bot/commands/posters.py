"""/qr <mã đơn vị> [mã bảng hỏi]: a printable A4 poster (PNG and PDF) for each public survey assigned to the unit (or
the one named), that brings people to it on Telegram and, when configured, on Zalo."""

from __future__ import annotations

from bot import audit, posters
from bot.messages import Document, Reply
from bot.table import Call
from conversations.engine import Outgoing
from storage import repo

USAGE = "Gõ /qr kèm mã đơn vị (và mã bảng hỏi nếu cần), ví dụ: /qr 16012. Gõ /donvi để xem mã các đơn vị."
UNIT_NOT_FOUND = "Không tìm thấy đơn vị có mã “{code}”. Gõ /donvi để xem mã các đơn vị."
NO_PERIOD = "Chưa có kỳ đánh giá nào đang mở, nên chưa có khảo sát để làm áp phích."
NO_SURVEY = "Kỳ {period} không giao khảo sát nào cho {unit}. Gõ /giao để xem và giao bảng hỏi."
NOT_ASSIGNED = "Khảo sát “{code}” không giao cho {unit} trong kỳ {period}. Các khảo sát của đơn vị: {codes}."
NO_TELEGRAM = "Chưa biết tên bot Telegram (kênh Telegram chưa chạy), nên chưa tạo được mã QR dẫn tới khảo sát."
CAPTION = "Áp phích “{title}” của {place} ({kind}): in khổ A4, dán ở nơi tổ chức tuyên truyền, họp thôn."


async def poster(call: Call) -> list[Reply]:
    service, db = call.service, call.db
    if not call.args:
        return [Outgoing(USAGE)]
    unit = await repo.get_unit(db, call.args[0])
    if unit is None:
        return [Outgoing(UNIT_NOT_FOUND.format(code=call.args[0]))]
    period = await repo.current_period(db)
    if period is None:
        return [Outgoing(NO_PERIOD)]
    surveys = await posters.unit_surveys(db, service.questionnaires, period.code, unit)
    if not surveys:
        return [Outgoing(NO_SURVEY.format(period=period.code, unit=unit.name))]
    if len(call.args) > 1:
        named = [qn for qn in surveys if qn.id == call.args[1]]
        if not named:
            codes = ", ".join(qn.id for qn in surveys)
            return [Outgoing(NOT_ASSIGNED.format(code=call.args[1], unit=unit.name, period=period.code, codes=codes))]
        surveys = named
    planned = [posters.of_unit(unit, qn) for qn in surveys]
    return await send(call, planned, unit.code)


async def send(call: Call, planned: list[posters.Planned], target: str) -> list[Reply]:
    """Audit the posters asked for and send each, drawn once the transaction has committed."""
    service = call.service
    links = [service.channels.deep_link(p.payload) for p in planned]
    if None in links:
        return [Outgoing(NO_TELEGRAM)]
    await audit.record(call.db, call.sender, service.clock(), "poster", target, {"links": links})

    async def made() -> list[Reply]:
        documents: list[Reply] = []
        for each in planned:
            drawn = await posters.draw(each, service.channels, service.settings)
            assert drawn is not None  # its link was made above
            said = {"title": each.questionnaire.short_title, "place": each.place}
            documents += [
                Document(f"{each.stem}.{ext}", data, CAPTION.format(kind=kind, **said), mime)
                for ext, data, kind, mime in (
                    ("png", drawn.png, "ảnh", "image/png"),
                    ("pdf", drawn.pdf, "PDF để in", "application/pdf"),
                )
            ]
        return documents

    call.after(made)
    return []
