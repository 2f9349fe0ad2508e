"""/nhacnho [mã đơn vị]: an admin reminds the officers who have something left to submit now (bot.reminders, per
questionnaire), besides the scheduler's reminders at set times."""

from __future__ import annotations

from bot import audit
from bot import texts as t
from bot.messages import Reply
from bot.progress import period_units, unit_status
from bot.reminders import Due, dues, queue_reminders
from bot.table import Call
from conversations.engine import Outgoing
from conversations.localtime import local_time
from storage import repo

REMINDED = "Đã nhắc {officers} cán bộ của {units} đơn vị chưa nộp đủ: {names}."
ALL_DONE = "Tất cả đơn vị đã nộp đủ các phiếu kỳ {period}; không cần nhắc."
NO_OFFICERS = "Đơn vị chưa có cán bộ nào dùng bot (hãy gửi mã mời bằng /moi <mã đơn vị>): {names}."
UNIT_NOT_FOUND = "Không có đơn vị “{code}” đang áp dụng. Gõ /donvi để xem mã các đơn vị."
UNIT_NOTHING = "Kỳ {period} không giao cho {unit} phiếu nào cán bộ phải nộp; không cần nhắc."
UNIT_DONE = "{unit} đã nộp đủ các phiếu kỳ {period}: {done}; không cần nhắc."
DONE_ONE = "{title} lúc {time} ({status})"
ALL_ANSWERED = "{title}: mọi cán bộ đã trả lời"
UNIT_REMINDED = "Đã nhắc {officers} cán bộ của {unit}, kỳ {period}: {missing}."
UNIT_NO_OFFICERS = "{unit} chưa có cán bộ nào dùng bot nên chưa nhắc được ({missing}). Hãy gửi mã mời: /moi {code}"


async def remind(call: Call) -> list[Reply]:
    service = call.service
    db = call.db
    period = await repo.current_period(db)
    if period is None:
        return [Outgoing(t.NO_PERIOD_ADMIN)]
    only = call.args[0] if call.args else None
    if only is not None and not await period_units(service, db, period, only):
        return [Outgoing(UNIT_NOT_FOUND.format(code=only))]
    found = await dues(service, db, period, only) if only is not None else []
    queued, reminded, nobody = await queue_reminders(service, db, period, None, only)
    detail = {"units": reminded, "messages": queued, "without_officers": nobody}
    await audit.record(db, call.sender, service.clock(), "remind", only or "tất cả", detail)
    if only is not None:  # one unit: what stands there, whatever the other units do
        unit = (await period_units(service, db, period, only))[0]
        if not found:
            return [Outgoing(UNIT_NOTHING.format(period=period.code, unit=unit.name))]
        return [Outgoing(_one_unit(found[0], period.code, queued))]
    if not reminded and not nobody:
        return [Outgoing(ALL_DONE.format(period=period.code))]
    lines = [REMINDED.format(officers=queued, units=len(reminded), names=", ".join(reminded))] if reminded else []
    if nobody:
        lines.append(NO_OFFICERS.format(names=", ".join(nobody)))
    return [Outgoing("\n".join(lines))]


def _one_unit(due: Due, period: str, queued: int) -> str:
    if due.done:
        done = [
            DONE_ONE.format(
                title=qn.shown_title,
                time=local_time(p.response.submitted_at) if p.response and p.response.submitted_at else "",
                status=unit_status(p),
            )
            for qn, p in due.assessments
        ] + [ALL_ANSWERED.format(title=qn.shown_title) for qn, _ in due.own]
        return UNIT_DONE.format(unit=due.unit.name, period=period, done="; ".join(done))
    missing = "; ".join(due.summary())
    if not queued:
        return UNIT_NO_OFFICERS.format(unit=due.unit.name, missing=missing, code=due.unit.code)
    return UNIT_REMINDED.format(officers=queued, unit=due.unit.name, period=period, missing=missing)
