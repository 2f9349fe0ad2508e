"""/sukien: a unit's dissemination sessions and seminars (bot.events), for admins.

/sukien                                                  the open period's events, with their responses
/sukien tao <dd/mm/yyyy> <mã đơn vị> <mã bảng hỏi> <tên>  make one, and get its poster
/sukien qr <mã sự kiện>                                   its poster again
/sukien bo <mã sự kiện>                                   remove it (asked first when it has responses; they are kept)
"""

from __future__ import annotations

from bot import audit, confirm, events, posters
from bot import texts as t
from bot.channels.registry import read_event_code
from bot.channels.zalo_oa import CHANNEL as ZALO_OA
from bot.commands.posters import send
from bot.messages import Reply
from bot.table import Call
from conversations.engine import Outgoing
from conversations.localtime import day_text, parse_day
from conversations.text import fold
from storage import queries, repo
from storage.models import Event, Period

USAGE = (
    "Lệnh sự kiện (buổi tuyên truyền, hội thảo, tọa đàm) của kỳ đang mở:\n"
    "/sukien – các sự kiện đã tạo\n"
    "/sukien tao <ngày dd/mm/yyyy> <mã đơn vị> <mã bảng hỏi> <tên sự kiện> – tạo sự kiện và nhận áp phích, ví dụ: "
    "/sukien tao 05/12/2026 16012 khao-sat-nguoi-dan Hội nghị phổ biến Luật Đất đai\n"
    "/sukien qr <mã sự kiện> – áp phích của sự kiện\n"
    "/sukien bo <mã sự kiện> – bỏ sự kiện"
)
TITLE = "Các sự kiện kỳ {period}:"
LINE = "sk{id} – {name} – {day}, {unit} – {title}: {count} phiếu"
NONE = "Kỳ {period} chưa có sự kiện nào."
BAD_DAY = "Không đọc được ngày “{text}”: gõ theo dạng dd/mm/yyyy, ví dụ 05/12/2026."
UNIT_NOT_FOUND = "Không tìm thấy đơn vị có mã “{code}”. Gõ /donvi để xem mã các đơn vị."
NOT_PUBLIC = (
    "Bảng hỏi “{code}” không phải khảo sát ẩn danh giao cho {unit} trong kỳ {period}. Các khảo sát của đơn vị: "
    "{codes}. Gõ /giao để giao thêm."
)
NO_SURVEY = "Kỳ {period} không giao khảo sát ẩn danh nào cho {unit}. Gõ /giao để giao một khảo sát cho đơn vị."
NO_NAME = "Thiếu tên sự kiện. " + USAGE
TOO_LONG = "Tên sự kiện dài quá ({length} ký tự); tối đa {limit} ký tự."
CREATED = (
    "Đã tạo sự kiện sk{id}: {name} – {day}, {unit}; người tham dự trả lời “{title}”. Phiếu trả lời qua mã QR "
    "hoặc đường dẫn của sự kiện được tính riêng cho sự kiện (và vẫn tính cho đơn vị). Áp phích gửi ngay sau đây."
)
LINK = "Đường dẫn của sự kiện (gửi vào nhóm Zalo, Facebook của người tham dự): {link}"
ZALO = "Trên Zalo, người tham dự nhắn cho Official Account: “{words}”"
UNKNOWN = "Không có sự kiện “{code}” trong kỳ {period}. Gõ /sukien để xem các sự kiện."
REMOVE_FIRST = (
    "Bỏ sự kiện sk{id} ({name})? Đã có {count} phiếu trả lời qua đường dẫn của sự kiện; các phiếu được giữ lại và "
    "tính cho {unit}, nhưng không còn tách riêng theo sự kiện. Áp phích đã in sẽ không mở được nữa."
)
REMOVED = "Đã bỏ sự kiện sk{id} ({name})."


async def events_command(call: Call) -> list[Reply]:
    period = await repo.current_period(call.db)
    if period is None:
        return [Outgoing(t.NO_PERIOD_ADMIN)]
    args = call.args
    if not args:
        return [Outgoing(await _listing(call, period))]
    action = fold(args[0])
    if action == "tao":
        return await _create(call, period, args[1:])
    if action in ("qr", "bo", "xoa") and len(args) == 2:
        event = await _event(call, period, args[1])
        if event is None:
            return [Outgoing(UNKNOWN.format(code=args[1], period=period.code))]
        return await (_poster(call, event) if action == "qr" else _remove(call, event))
    return [Outgoing(USAGE)]


async def _event(call: Call, period: Period, code: str) -> Event | None:
    found = read_event_code(code if not code.isdigit() else f"sk{code}")
    event = await repo.get_event(call.db, found) if found is not None else None
    return event if event is not None and event.period_code == period.code else None


async def _listing(call: Call, period: Period) -> str:
    found = await queries.events(call.db, period.code)
    if not found:
        return NONE.format(period=period.code) + "\n\n" + USAGE
    lines = [TITLE.format(period=period.code)]
    for event in found:
        unit = await repo.get_unit(call.db, event.unit_code)
        qn = call.service.questionnaires.get(event.questionnaire_id)
        said = {"id": event.id, "name": event.name, "day": day_text(event.held_on)}
        count = await events.responses(call.db, event)
        title = qn.short_title if qn is not None else event.questionnaire_id
        lines.append(LINE.format(unit=unit.name if unit else event.unit_code, title=title, count=count, **said))
    return "\n".join([*lines, "", USAGE])


async def _create(call: Call, period: Period, args: list[str]) -> list[Reply]:
    service, db = call.service, call.db
    if len(args) < 3:
        return [Outgoing(USAGE)]
    held_on = parse_day(args[0])
    if held_on is None:
        return [Outgoing(BAD_DAY.format(text=args[0]))]
    unit = await repo.get_unit(db, args[1])
    if unit is None:
        return [Outgoing(UNIT_NOT_FOUND.format(code=args[1]))]
    surveys = await posters.unit_surveys(db, service.questionnaires, period.code, unit)
    if not surveys:
        return [Outgoing(NO_SURVEY.format(period=period.code, unit=unit.name))]
    qn = next((q for q in surveys if q.id == args[2]), None)
    if qn is None:
        codes = ", ".join(q.id for q in surveys)
        return [Outgoing(NOT_PUBLIC.format(code=args[2], unit=unit.name, period=period.code, codes=codes))]
    name = " ".join(args[3:])
    if not name:
        return [Outgoing(NO_NAME)]
    if len(name) > events.NAME_LIMIT:
        return [Outgoing(TOO_LONG.format(length=len(name), limit=events.NAME_LIMIT))]
    now = service.clock()
    detail = {"name": name, "questionnaire": qn.id}
    account = await audit.record(db, call.sender, now, "event_create", unit.code, detail)
    event = await events.create(db, period.code, events.Planned(name, held_on, unit, qn), account.id, now)
    said = {"id": event.id, "name": name, "day": day_text(held_on), "unit": unit.name, "title": qn.short_title}
    planned = posters.of_event(event, unit, qn)
    link = service.channels.deep_link(planned.payload)
    where = [LINK.format(link=link)] if link else []
    where += [ZALO.format(words=planned.words)] if ZALO_OA in service.channels else []
    created = CREATED.format(**said) + ("\n" + "\n".join(where) if where else "")
    return [Outgoing(created), *await send(call, [planned], f"sk{event.id}")]


async def _poster(call: Call, event: Event) -> list[Reply]:
    unit = await repo.get_unit(call.db, event.unit_code)
    qn = call.service.questionnaires.get(event.questionnaire_id)
    if unit is None or qn is None:
        return [Outgoing(UNKNOWN.format(code=f"sk{event.id}", period=event.period_code))]
    return await send(call, [posters.of_event(event, unit, qn)], f"sk{event.id}")


async def _remove(call: Call, event: Event) -> list[Reply]:
    db = call.db
    count = await events.responses(db, event)
    unit = await repo.get_unit(db, event.unit_code)
    said = {"id": event.id, "name": event.name, "unit": unit.name if unit else event.unit_code, "count": count}
    if count and call.confirmed is None:
        return await confirm.ask(call, "sukien", REMOVE_FIRST.format(**said))
    detail = {"name": event.name, "responses": count}
    await audit.record(db, call.sender, call.service.clock(), "event_remove", f"sk{event.id}", detail)
    await repo.remove_event(db, event)
    return [Outgoing(REMOVED.format(**said))]
