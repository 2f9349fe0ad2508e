"""/giao: which questionnaires the open period runs, for which units (bot.assignments), for admins.

/giao                              the period's assignments, numbered, with who answers each
/giao <mã bảng hỏi> tatca          assign it to every unit
/giao <mã bảng hỏi> xa|phong       assign it to the units of a kind (xã, phòng ban)
/giao <mã bảng hỏi> <mã đơn vị>    assign it to one unit (a unit's own criteria)
/giao bo <số>                      remove an assignment (asked first when it has responses; they are kept)
"""

from __future__ import annotations

from bot import assignments, audit, confirm
from bot import texts as t
from bot.assignments import Audience, Rule, Scope
from bot.messages import Reply
from bot.table import Call
from bot.units import KIND_NAMES, KINDS
from conversations.engine import Outgoing
from conversations.text import fold
from storage import repo

USAGE = (
    "Lệnh giao bảng hỏi cho kỳ đang mở:\n"
    "/giao – các bảng hỏi đã giao\n"
    "/giao <mã bảng hỏi> tatca – giao cho mọi đơn vị, ví dụ: /giao tu-danh-gia-thi-diem tatca\n"
    "/giao <mã bảng hỏi> xa (hoặc phong) – giao cho mọi xã (hoặc mọi phòng ban)\n"
    "/giao <mã bảng hỏi> <mã đơn vị> – giao cho một đơn vị\n"
    "/giao bo <số thứ tự> – bỏ một bảng hỏi đã giao"
)
TITLE = "Các bảng hỏi kỳ {period} (gõ /giao bo <số> để bỏ):"
LINE = "{n}. {code} – {title}: {scope}; {who}"
NONE = "Kỳ {period} chưa giao bảng hỏi nào."
MISSING = "chưa có bảng hỏi này trên hệ thống"
WHO = {
    Audience.UNIT: "đơn vị cùng làm một phiếu chung",
    Audience.INDIVIDUAL: "mỗi cán bộ một phiếu riêng",
    Audience.PUBLIC: "người dân, cán bộ hoặc người tham dự trả lời ẩn danh",
}
ALL_WORDS = {"tatca", "tat ca", "all", "moi don vi"}
UNKNOWN_QN = "Không có bảng hỏi mã “{code}”. Các mã: {codes}."
UNKNOWN_SCOPE = "Không hiểu “{text}”: gõ tatca, xa, phong hoặc mã một đơn vị (gõ /donvi để xem mã)."
EXISTS = "Bảng hỏi {code} đã được giao cho {scope} trong kỳ {period}."
ASSIGNED = "Đã giao bảng hỏi {code} – {title} cho {scope} trong kỳ {period} ({who})."
BAD_NUMBER = "Không có bảng hỏi số “{text}” trong danh sách. Gõ /giao để xem danh sách."
REMOVE_FIRST = (
    "Bỏ bảng hỏi {code} ({scope}) khỏi kỳ {period}? Đã có {count} phiếu trả lời; các phiếu được giữ lại nhưng "
    "không còn được mở, nhắc hay tính trong tiến độ của kỳ này."
)
REMOVED = "Đã bỏ bảng hỏi {code} ({scope}) khỏi kỳ {period}."


async def assign(call: Call) -> list[Reply]:
    db, service = call.db, call.service
    period = await repo.current_period(db)
    if period is None:
        return [Outgoing(t.NO_PERIOD_ADMIN)]
    found = await assignments.of_period(db, service.questionnaires, period.code)
    args = call.args
    if not args:
        return [Outgoing(await _listing(call, period.code, found))]
    if fold(args[0]) in ("bo", "xoa") and len(args) == 2:
        return await _remove(call, period.code, found, args[1])
    if len(args) < 2:
        return [Outgoing(USAGE)]
    code, target = args[0], " ".join(args[1:])
    qn = service.questionnaires.get(code)
    if qn is None:
        return [Outgoing(UNKNOWN_QN.format(code=code, codes=", ".join(sorted(service.questionnaires))))]
    rule = await _rule(call, code, target)
    if isinstance(rule, str):
        return [Outgoing(rule)]
    scope = await _scope_text(call, rule.scope, rule.target)
    now = service.clock()
    if await assignments.assign(db, period.code, rule, now) is None:
        return [Outgoing(EXISTS.format(code=code, scope=scope, period=period.code))]
    detail = {"scope": rule.scope.value, "target": rule.target, "period": period.code}
    await audit.record(db, call.sender, now, "assignment_add", code, detail)
    who = WHO[assignments.audience(qn)]
    return [Outgoing(ASSIGNED.format(code=code, title=qn.short_title, scope=scope, period=period.code, who=who))]


async def _rule(call: Call, code: str, text: str) -> Rule | str:
    """The units a typed target names: every unit, a kind, or one unit by its code."""
    folded = fold(text)
    if folded in ALL_WORDS:
        return Rule(code, Scope.ALL)
    if folded in KINDS:
        return Rule(code, Scope.KIND, KINDS[folded])
    unit = await repo.get_unit(call.db, text)
    if unit is None:
        return UNKNOWN_SCOPE.format(text=text)
    return Rule(code, Scope.UNIT, unit.code)


async def _scope_text(call: Call, scope: str, target: str) -> str:
    if scope == Scope.ALL:
        return "mọi đơn vị"
    if scope == Scope.KIND:
        return f"mọi {KIND_NAMES.get(target, target)}"
    unit = await repo.get_unit(call.db, target)
    return unit.name if unit is not None else target


async def _listing(call: Call, period: str, found: list[assignments.Assigned]) -> str:
    if not found:
        return NONE.format(period=period) + "\n\n" + USAGE
    lines = [TITLE.format(period=period)]
    for n, a in enumerate(found, start=1):
        qn, audience = a.questionnaire, a.audience
        title = qn.short_title if qn is not None else MISSING
        who = WHO[audience] if audience is not None else ""
        scope = await _scope_text(call, a.row.scope, a.row.target)
        lines.append(LINE.format(n=n, code=a.questionnaire_id, title=title, scope=scope, who=who).rstrip("; "))
    return "\n".join([*lines, "", USAGE])


async def _remove(call: Call, period: str, found: list[assignments.Assigned], text: str) -> list[Reply]:
    db = call.db
    if not (text.isdigit() and 1 <= int(text) <= len(found)):
        return [Outgoing(BAD_NUMBER.format(text=text))]
    chosen = found[int(text) - 1]
    row = chosen.row
    scope = await _scope_text(call, row.scope, row.target)
    said = {"code": row.questionnaire_id, "scope": scope, "period": period}
    if call.confirmed is not None and call.confirmed.get("id") != row.id:  # the list changed meanwhile
        return [Outgoing(t.NOTHING_CHANGED)]
    units = {u.code: u for u in await repo.units_in_force(db, call.service.clock().date())}
    responses = [
        r
        for r in await repo.responses(db, row.questionnaire_id, period)
        if r.unit_code not in units or chosen.applies_to(units[r.unit_code])
    ]
    if responses and call.confirmed is None:
        return await confirm.ask(call, "giao", REMOVE_FIRST.format(count=len(responses), **said), {"id": row.id})
    await repo.remove_assignment(db, row)
    now = call.service.clock()
    detail = {"scope": row.scope, "target": row.target, "period": period, "responses": len(responses)}
    await audit.record(db, call.sender, now, "assignment_remove", row.questionnaire_id, detail)
    return [Outgoing(REMOVED.format(**said))]
