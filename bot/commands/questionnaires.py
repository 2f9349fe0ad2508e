"""Questionnaires as XLSForm workbooks, for admins (Phòng Tư pháp):

/banghoi              the questionnaires in use, the versions waiting, and how to change one
/banghoi <mã>         the version in use as an XLSForm workbook, to edit in Excel or LibreOffice
(an .xlsx sent)       checked: the problems by sheet, row and column, or a summary and what changed; kept in the
                      database as a version waiting to be put into use
/xemthu [mã]          run through the version waiting, as an officer or a citizen would; nothing is stored
/kichhoat [mã]        put the version waiting into use for the current period: new responses are given on it,
                      responses already started keep the version they were started on
"""

from __future__ import annotations

import asyncio

from bot import texts as t
from bot import versions, waits
from bot.messages import Document, Reply
from bot.table import Call
from bot.worker import WorkerError, in_worker
from conversations import engine
from conversations.engine import Outgoing
from conversations.versions import changes, summary
from conversations.xlsform import FormError, Problem, read_xlsform, write_xlsform
from storage import repo

MAX_BYTES = 2 * 1024 * 1024
MAX_PROBLEMS = 20

LIST = (
    "Bảng hỏi đang dùng:\n{lines}\n\n"
    "Để sửa một bảng hỏi: gõ /banghoi kèm mã (ví dụ /banghoi tu-danh-gia) để nhận tệp Excel dạng XLSForm của "
    "phiên bản đang dùng, sửa trong Excel hoặc LibreOffice, rồi gửi lại tệp .xlsx vào đây. Bot kiểm tra tệp; "
    "gõ /xemthu để làm thử, /kichhoat để áp dụng cho kỳ đánh giá hiện tại."
)
LINE = "• {id} – {title}, phiên bản {version}"
WAITING_LINE = "  phiên bản {version} đang chờ áp dụng: /xemthu {id}, /kichhoat {id}"
UNKNOWN = "Không có bảng hỏi mã “{id}”. Các mã: {ids}."
CAPTION = "«{title}», phiên bản {version}, dạng XLSForm. Sửa rồi gửi lại tệp .xlsx để tải lên phiên bản mới."
TOO_BIG = "Tệp {name} quá lớn ({size} KB). Tệp bảng hỏi XLSForm thường nhỏ hơn {limit} KB."
NO_FETCH = (
    "Kênh này chưa nhận được tệp tải lên. Hãy gửi tệp qua Telegram hoặc Zalo OA, hoặc kiểm tra tệp trên máy chủ "
    "bằng lệnh “pbgdpl questionnaire check <tệp>”."
)
PROBLEMS = "Tệp {name} chưa dùng được. Các chỗ cần sửa:\n{lines}\n\nSửa rồi gửi lại tệp."
MORE = "… và {count} chỗ khác."
NEW_FORM = (
    "Tệp {name} dùng được: đây là bảng hỏi MỚI, mã “{id}” (ô form_id, trang settings), không phải bảng hỏi nào "
    "đang dùng ({ids}). Nếu định sửa một bảng hỏi đang dùng, hãy ghi đúng mã của nó rồi gửi lại tệp.\n{summary}\n\n"
    "Gõ /xemthu {id} để làm thử, /kichhoat {id} để áp dụng cho kỳ {period}, rồi /giao {id} <mã đơn vị> để giao "
    "cho một đơn vị (hoặc /giao {id} tatca, xa, phong)."
)
SAME = "Tệp {name} giống hệt phiên bản đang dùng ({version}): không có gì thay đổi."
UPLOADED = (
    "Tệp {name} dùng được.\n{summary}\n\nThay đổi so với phiên bản đang dùng ({active}):\n{changes}\n\n"
    "Gõ /xemthu để làm thử, rồi /kichhoat để áp dụng cho kỳ {period}."
)
RENAMED = "Phiên bản “{wanted}” ghi trong tệp đã có, nên bản này được lưu là phiên bản “{version}”."
NONE_WAITING = "Chưa có phiên bản nào chờ áp dụng. Gửi tệp .xlsx của bảng hỏi vào đây để tải lên."
PREVIEW_STOPPED = "Đã dừng xem thử, không có gì được lưu. Gõ /xemthu để làm thử lại từ đầu, /kichhoat để áp dụng."
PREVIEW_START = (
    "XEM THỬ «{title}», phiên bản {version}. Trả lời như cán bộ hoặc người dân sẽ trả lời; không có gì được lưu. "
    "Gõ /huy để dừng."
)
PREVIEW_DONE = (
    "Hết phần xem thử, không có gì được lưu. Gõ /kichhoat {id} để áp dụng phiên bản {version} cho kỳ {period}, "
    "hoặc sửa tệp rồi gửi lại."
)
BROKEN_REFERENCE = "Chưa áp dụng được phiên bản {version}: {problem}"
ACTIVATED = (
    "Đã áp dụng «{title}» phiên bản {version} cho kỳ {period}. Phiếu bắt đầu từ bây giờ dùng phiên bản này; "
    "phiếu đang làm dở vẫn theo phiên bản lúc bắt đầu."
)


def _ids(call: Call) -> str:
    return ", ".join(sorted(call.service.questionnaires))


def problems_text(name: str, problems: list[Problem]) -> str:
    lines = [f"• {p}" for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        lines.append(MORE.format(count=len(problems) - MAX_PROBLEMS))
    return PROBLEMS.format(name=name, lines="\n".join(lines))


async def questionnaires(call: Call) -> list[Reply]:
    service = call.service
    if call.args:
        qn = service.questionnaires.get(call.args[0])
        if qn is None:
            return [Outgoing(UNKNOWN.format(id=call.args[0], ids=_ids(call)))]
        chosen = qn

        async def workbook() -> list[Reply]:
            content = await asyncio.to_thread(write_xlsform, chosen)
            caption = CAPTION.format(title=chosen.title, version=chosen.version)
            return [Document(f"{chosen.id}-{chosen.version}.xlsx", content, caption)]

        call.after(workbook)
        return []
    lines = []
    db = call.db
    for qn_id, qn in sorted(service.questionnaires.items()):
        lines.append(LINE.format(id=qn_id, title=qn.title, version=qn.version))
        waiting = await repo.latest_unused_version(db, qn_id)
        if waiting is not None:
            lines.append(WAITING_LINE.format(id=qn_id, version=waiting.version))
    return [Outgoing(LIST.format(lines="\n".join(lines)))]


async def upload(call: Call) -> list[Reply]:
    """A workbook sent outside any questionnaire: checked, and kept as a version waiting to be put into use."""
    service = call.service
    assert call.inbound is not None
    ref = call.inbound.files[0]
    name = ref.name or "bang-hoi.xlsx"
    if ref.size is not None and ref.size > MAX_BYTES:
        return [Outgoing(TOO_BIG.format(name=name, size=ref.size // 1024, limit=MAX_BYTES // 1024))]
    content = await service.fetch_file(call.sender, ref)
    if content is None:
        return [Outgoing(NO_FETCH)]
    if len(content) > MAX_BYTES:
        return [Outgoing(TOO_BIG.format(name=name, size=len(content) // 1024, limit=MAX_BYTES // 1024))]
    try:
        reading = await in_worker(read_xlsform, content, name, dict(service.questionnaires))
    except FormError as error:
        return [Outgoing(problems_text(name, error.problems))]
    except WorkerError as error:
        return [Outgoing(str(error))]
    qn, noticed = reading.questionnaire, "\n\n" + reading.noticed if reading.notices else ""
    active = service.questionnaires.get(qn.id)
    if active is not None and versions.same(versions.stored(active), versions.stored(qn)):
        return [Outgoing(SAME.format(name=name, version=active.version) + noticed)]
    wanted, now = qn.version, service.clock()
    db = call.db
    uploader = f"{call.sender.channel}:{call.sender.user_id}"
    qn = await versions.keep_upload(service, db, qn, name, uploader, now)
    period = await repo.current_period(db)
    stored = qn
    call.once_committed(lambda: service.versions.__setitem__((stored.id, stored.version), stored))
    when = period.code if period else "hiện tại"
    if active is None:  # a new questionnaire: kept waiting, used once put into use and assigned (/giao)
        said = NEW_FORM.format(name=name, id=qn.id, ids=_ids(call), summary="\n".join(summary(qn)), period=when)
        return [Outgoing(said + noticed)]
    changed = changes(active, qn)
    text = UPLOADED.format(
        name=name,
        summary="\n".join(summary(qn)),
        active=active.version,
        changes="\n".join(f"• {line}" for line in changed),
        period=period.code if period else "hiện tại",
    )
    if qn.version != wanted:
        text += "\n" + RENAMED.format(wanted=wanted, version=qn.version)
    return [Outgoing(text + noticed)]


async def preview(call: Call) -> list[Reply]:
    service = call.service
    now = service.clock()
    db = call.db
    found = await versions.waiting(service, db, call.args[0] if call.args else None)
    if found is None:
        return [Outgoing(NONE_WAITING)]
    _, qn = found
    step = engine.start(qn, now)
    wait: waits.Preview = {"kind": "preview", "questionnaire": qn.id, "version": qn.version, "state": dict(step.state)}
    await waits.wait_for(db, call.actor, now, wait)
    return [Outgoing(PREVIEW_START.format(title=qn.title, version=qn.version)), *step.outgoing]


async def preview_step(call: Call, wait: waits.Preview) -> list[Reply]:
    """An answer during a preview: the engine runs as usual, its state lives in the session only."""
    service, now, db = call.service, call.service.clock(), call.db
    qn = await service.definition(db, wait["questionnaire"], wait["version"])
    if qn is None or call.inbound is None:
        await repo.save_session(db, call.actor, now, None, None)
        return [Outgoing(t.NO_QUESTIONNAIRE_ADMIN)]
    step = engine.handle(qn, wait["state"], call.inbound, now)
    if not step.submitted:
        await waits.wait_for(db, call.actor, now, {**wait, "state": dict(step.state)})
        return list(step.outgoing)
    await repo.save_session(db, call.actor, now, None, None)
    period = await repo.current_period(db)
    done = PREVIEW_DONE.format(id=qn.id, version=qn.version, period=period.code if period else "hiện tại")
    return [*step.outgoing, Outgoing(done)]


def preview_stopped(wait: waits.Preview) -> str:
    """What /huy says during a preview."""
    return PREVIEW_STOPPED


async def activate(call: Call) -> list[Reply]:
    service = call.service
    db = call.db
    period = await repo.current_period(db)
    if period is None:
        return [Outgoing(t.NO_PERIOD_ADMIN)]
    found = await versions.waiting(service, db, call.args[0] if call.args else None)
    if found is None:
        return [Outgoing(NONE_WAITING)]
    row, qn = found
    problem = versions.reference_problem(service, qn)
    if problem is not None:
        return [Outgoing(BROKEN_REFERENCE.format(version=qn.version, problem=problem))]
    versions.put_into_use(row, period, service.clock())
    chosen = qn
    call.once_committed(lambda: service.use(chosen))
    return [Outgoing(ACTIVATED.format(title=qn.title, version=qn.version, period=period.code))]
