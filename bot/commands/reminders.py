"""/nhacnho [mã đơn vị]: an admin reminds the officers of the units that have not submitted now (bot.reminders),
besides the scheduler's reminders at set times."""

from __future__ import annotations

from bot import audit
from bot import texts as t
from bot.messages import Reply
from bot.progress import UnitProgress, period_progress, unit_status
from bot.reminders import queue_reminders
from bot.table import Call
from conversations.engine import Outgoing
from conversations.localtime import local_time
from storage import repo

REMINDED = "Đã nhắc {officers} cán bộ của {units} đơn vị chưa nộp: {names}."
ALL_DONE = "Tất cả đơn vị đã nộp phiếu tự đánh giá kỳ {period}; không cần nhắc."
NO_OFFICERS = "Đơn vị chưa có cán bộ nào dùng bot (hãy gửi mã mời bằng /moi <mã đơn vị>): {names}."
UNIT_NOT_FOUND = "Không có đơn vị “{code}” đang áp dụng. Gõ /donvi để xem mã các đơn vị."
UNIT_DONE = "{unit} đã nộp phiếu tự đánh giá kỳ {period} lúc {time} ({status}); không cần nhắc."
UNIT_REMINDED = "Đã nhắc {officers} cán bộ của {unit}: phiếu tự đánh giá kỳ {period} {status}."
UNIT_NO_OFFICERS = "{unit} chưa có cán bộ nào dùng bot nên chưa nhắc được ({status}). Hãy gửi mã mời: /moi {code}"


async def remind(call: Call) -> list[Reply]:
    service = call.service
    db = call.db
    period = await repo.current_period(db)
    if period is None:
        return [Outgoing(t.NO_PERIOD_ADMIN)]
    only = call.args[0] if call.args else None
    found = await period_progress(service, db, period, only) if only is not None else []
    if only is not None and not found:
        return [Outgoing(UNIT_NOT_FOUND.format(code=only))]
    queued, reminded, nobody = await queue_reminders(service, db, period, None, only)
    detail = {"units": reminded, "messages": queued, "without_officers": nobody}
    await audit.record(db, call.sender, service.clock(), "remind", only or "tất cả", detail)
    if found:  # one unit: what stands there, whatever the other units do
        return [Outgoing(_one_unit(found[0], period.code, queued))]
    if not reminded and not nobody:
        return [Outgoing(ALL_DONE.format(period=period.code))]
    lines = [REMINDED.format(officers=queued, units=len(reminded), names=", ".join(reminded))] if reminded else []
    if nobody:
        lines.append(NO_OFFICERS.format(names=", ".join(nobody)))
    return [Outgoing("\n".join(lines))]


def _one_unit(p: UnitProgress, period: str, queued: int) -> str:
    status = unit_status(p)
    if p.counted and p.response is not None:
        time = local_time(p.response.submitted_at) if p.response.submitted_at else ""
        return UNIT_DONE.format(unit=p.unit.name, period=period, time=time, status=status)
    if not queued:
        return UNIT_NO_OFFICERS.format(unit=p.unit.name, status=status, code=p.unit.code)
    return UNIT_REMINDED.format(officers=queued, unit=p.unit.name, period=period, status=status)
