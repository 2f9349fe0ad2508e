"""/ky: evaluation periods, for admins. One period is open at a time; it has a deadline and the questionnaire
versions that apply (the preset files, or a version put into use for it with /kichhoat).

/ky                          the periods, their state, deadline and questionnaire versions
/ky tao <mã> <hạn> [tên…]    create a period (not open yet; it runs what the period before it ran, bot.assignments);
                             hạn as dd/mm/yyyy
/ky mo <mã>                  open it: officers and citizens answer for it from now on, on its versions
/ky han <mã> <hạn>           change the deadline (reminders follow it)
/ky dong [mã]                close it: nothing more is answered for it; its results stay for export
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import assignments, audit, confirm
from bot.messages import Reply
from bot.table import Call
from bot.versions import use_period_versions, versions_for
from conversations.engine import Outgoing
from conversations.localtime import day_text, local_date, parse_day
from storage import repo
from storage.models import Period
from storage.queries import get_period

USAGE = (
    "Lệnh kỳ đánh giá:\n"
    "/ky – danh sách kỳ\n"
    "/ky tao <mã kỳ> <hạn nộp dd/mm/yyyy> [tên] – tạo kỳ mới (chưa mở), ví dụ: /ky tao 2027 15/12/2027\n"
    "/ky mo <mã kỳ> – mở kỳ\n"
    "/ky han <mã kỳ> <hạn nộp> – đổi hạn nộp\n"
    "/ky dong [mã kỳ] – đóng kỳ"
)
LINE = "• {code} – {title}: {state}, hạn nộp {deadline}\n  Bảng hỏi: {versions}"
STATES = {"open": "đang mở", "new": "chưa mở", "closed": "đã đóng"}
BAD_DATE = "Không đọc được hạn nộp “{text}”. Gõ theo dạng ngày/tháng/năm, ví dụ 15/12/2027."
BAD_CODE = "Mã kỳ chỉ gồm chữ không dấu, số, dấu gạch (tối đa 20 ký tự), ví dụ 2027 hoặc 2027-6t."
EXISTS = "Kỳ {code} đã có. Gõ /ky để xem các kỳ."
UNKNOWN = "Không có kỳ “{code}”. Gõ /ky để xem các kỳ."
CREATED = "Đã tạo kỳ {code} – {title}, hạn nộp {deadline} (chưa mở). Gõ /ky mo {code} để mở."
ANOTHER_OPEN = "Kỳ {other} đang mở. Đóng kỳ đó trước (/ky dong {other}) rồi mở kỳ {code}."
ALREADY = "Kỳ {code} đang mở rồi."
OPENED = (
    "Đã mở kỳ {code}, hạn nộp {deadline}. Bảng hỏi áp dụng: {versions}.\n"
    "Cán bộ gõ /danhgia để làm phiếu; bot tự nhắc các đơn vị chưa nộp trước hạn."
)
CLOSE_FIRST = (
    "Đóng kỳ {code}? Sau khi đóng, cán bộ và người dân không trả lời thêm được cho kỳ này; kết quả vẫn xem được "
    "(/tiendo {code}) và xuất được."
)
PAST_DEADLINE = "Hạn nộp {deadline} cho kỳ {code} là một ngày đã qua. Vẫn đặt hạn này?"
CLOSED = "Đã đóng kỳ {code}. Kết quả vẫn xuất được: /xuat danhgia {code}."
NOT_OPEN = "Kỳ {code} không mở."
NONE_OPEN = "Không có kỳ nào đang mở."
DEADLINE = "Hạn nộp kỳ {code}: {old} → {new}."


def period_state(period: Period) -> str:
    return "open" if period.is_open else "closed" if period.closed_at is not None else "new"


def valid_code(code: str) -> bool:
    return 0 < len(code) <= 20 and code.isascii() and all(c.isalnum() or c in "-_" for c in code)


def versions_text(versions: dict[str, tuple[str, str]]) -> str:
    return "; ".join(f"{qid} {version} ({source})" for qid, (version, source) in sorted(versions.items()))


async def periods(call: Call) -> list[Reply]:
    service = call.service
    db = call.db
    action, words = (call.args[0].lower(), call.args[1:]) if call.args else ("", [])
    now = service.clock()
    if action == "tao" and len(words) >= 2:
        return await _create(call, db, words, now)
    if action == "mo" and words:
        return [Outgoing(await _open(call, db, words[0], now))]
    if action == "han" and len(words) == 2:
        return await _deadline(call, db, words[0], words[1], now)
    if action == "dong":
        return await _close(call, db, words[0] if words else None, now)
    if action:
        return [Outgoing(USAGE)]
    lines = []
    for p in await repo.all_periods(db):
        versions = versions_text(await versions_for(db, p.code, call.service.settings.questionnaires_dir))
        state, deadline = STATES[period_state(p)], day_text(p.deadline)
        lines.append(LINE.format(code=p.code, title=p.title, state=state, deadline=deadline, versions=versions))
    return [Outgoing("\n".join(["Các kỳ đánh giá:", *lines, "", USAGE]))]


async def _create(call: Call, db: AsyncSession, words: list[str], now: datetime) -> list[Reply]:
    code, deadline = words[0], parse_day(words[1])
    if not valid_code(code):
        return [Outgoing(BAD_CODE)]
    if deadline is None:
        return [Outgoing(BAD_DATE.format(text=words[1]))]
    if await get_period(db, code) is not None:
        return [Outgoing(EXISTS.format(code=code))]
    if deadline < local_date(now) and call.confirmed is None:
        return await confirm.ask(call, "ky", PAST_DEADLINE.format(code=code, deadline=day_text(deadline)))
    title = " ".join(words[2:]) or f"Kỳ đánh giá {code}"
    db.add(Period(code=code, title=title, deadline=deadline, is_open=False, created_at=now))
    await db.flush()
    await assignments.start_period(db, call.service.questionnaires, code, now)
    await audit.record(db, call.sender, now, "period_create", code, {"deadline": deadline.isoformat()})
    return [Outgoing(CREATED.format(code=code, title=title, deadline=day_text(deadline)))]


async def _open(call: Call, db: AsyncSession, code: str, now: datetime) -> str:
    period = await get_period(db, code)
    if period is None:
        return UNKNOWN.format(code=code)
    if period.is_open:
        return ALREADY.format(code=code)
    other = await repo.current_period(db)
    if other is not None:
        return ANOTHER_OPEN.format(other=other.code, code=code)
    period.is_open, period.closed_at = True, None
    await audit.record(db, call.sender, now, "period_open", code)
    versions = versions_text(await use_period_versions(call.service, db, code))
    return OPENED.format(code=code, deadline=day_text(period.deadline), versions=versions)


async def _deadline(call: Call, db: AsyncSession, code: str, text: str, now: datetime) -> list[Reply]:
    period, deadline = await get_period(db, code), parse_day(text)
    if period is None:
        return [Outgoing(UNKNOWN.format(code=code))]
    if deadline is None:
        return [Outgoing(BAD_DATE.format(text=text))]
    if deadline < local_date(now) and call.confirmed is None:
        return await confirm.ask(call, "ky", PAST_DEADLINE.format(code=code, deadline=day_text(deadline)))
    old, period.deadline = period.deadline, deadline
    detail = {"old": old.isoformat(), "new": deadline.isoformat()}
    await audit.record(db, call.sender, now, "period_deadline", code, detail)
    return [Outgoing(DEADLINE.format(code=code, old=day_text(old), new=day_text(deadline)))]


async def _close(call: Call, db: AsyncSession, code: str | None, now: datetime) -> list[Reply]:
    period = await get_period(db, code) if code else await repo.current_period(db)
    if period is None:
        return [Outgoing(UNKNOWN.format(code=code) if code else NONE_OPEN)]
    if not period.is_open:
        return [Outgoing(NOT_OPEN.format(code=period.code))]
    if call.confirmed is None:
        return await confirm.ask(call, "ky", CLOSE_FIRST.format(code=period.code))
    period.is_open, period.closed_at = False, now
    await audit.record(db, call.sender, now, "period_close", period.code)
    return [Outgoing(CLOSED.format(code=period.code))]
