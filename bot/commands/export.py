"""/xuat: exports for admins.

`/xuat` alone: what can be exported, and the results workbook of the current period.
`/xuat danhgia|khaosat|baocao [kỳ] [mã đơn vị] [csv]`: the self-assessment workbook, the citizen survey workbook
(aggregated only: it is forwarded as it is) or the draft district report. `/xuat dulieu`: the survey's microdata,
one row per respondent, labelled not to be forwarded, after the admin's yes. Each file is built by exports.jobs in
a worker process with its own connections, so nobody's conversation waits for it."""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, confirm, jobs
from bot import texts as t
from bot.messages import Document, Reply, Sender
from bot.progress import assigned_units, period_questionnaires
from bot.service import BotService
from bot.table import Call
from bot.worker import in_worker
from conversations.engine import Outgoing
from conversations.text import fold
from exports.jobs import SURVEYS, ExportError, ExportFile, ExportRequest, Format, Kind, refused, run_export
from storage import repo
from storage.queries import get_period

PREPARING = "Đang chuẩn bị tệp xuất, xin chờ trong giây lát…"
INTERRUPTED = "Tệp xuất bạn yêu cầu chưa làm xong vì hệ thống vừa khởi động lại. Gõ lại {command} để xuất lại."
JOB = "export"
CHAT_FILE_MB = 45
"""The largest evidence zip sent in chat (a Telegram bot sends files up to 50 MB)."""

log = logging.getLogger(__name__)
Made = tuple[ExportFile | str, float]
"""The file (or why there is none) and the seconds it took."""

MENU = (
    "Các tệp xuất được (chỉ quản trị viên):\n"
    "/xuat danhgia [kỳ] [mã đơn vị] [mã bảng hỏi] – Excel tự đánh giá: tổng hợp, chi tiết, minh chứng, tiến độ\n"
    "/xuat khaosat [kỳ] [mã đơn vị] [mã bảng hỏi] – Excel khảo sát người dân, chỉ số liệu tổng hợp (gửi đi được): "
    "tổng hợp, theo câu hỏi, theo nhóm, theo sự kiện, nhóm ý kiến\n"
    "/xuat dulieu [kỳ] [mã đơn vị] [mã bảng hỏi] – dữ liệu gốc khảo sát, mỗi người một dòng, toàn văn ý kiến "
    "(KHÔNG chuyển tiếp; hỏi xác nhận trước)\n"
    "/xuat baocao [kỳ] – dự thảo báo cáo (Word) có bảng điểm và biểu đồ\n"
    "/xuat nhatky [kỳ] – Excel lịch sử sửa phiếu sau lần nộp đầu và nhật ký thao tác của quản trị viên\n"
    "/xuat minhchung [kỳ] [mã đơn vị] – tệp zip các minh chứng đơn vị đã nộp, kèm danh sách tệp\n"
    "Thêm “csv” để lấy một bảng dạng CSV (khảo sát: bảng Tổng hợp; dữ liệu gốc: mỗi câu trả lời một dòng), "
    "ví dụ: /xuat khaosat {period} csv"
)
MICRODATA = (
    "/xuat dulieu gửi dữ liệu gốc khảo sát kỳ {period}: mỗi người trả lời một dòng, toàn văn ý kiến, không ẩn ô nhỏ. "
    "Tệp này không được gửi, chuyển tiếp cho ai ngoài người được giao xử lý dữ liệu gốc; số liệu để gửi đi là "
    "/xuat khaosat. Vẫn lấy tệp dữ liệu gốc?"
)
MENU_WORKBOOK = "Kèm theo đây là tệp Excel kết quả chung của kỳ {period}."
NOT_IN_PERIOD = "Kỳ {period} không có bảng hỏi “{code}”. Các bảng hỏi của kỳ: {codes}."
NOT_UNDERSTOOD = (
    "Không hiểu “{word}”: không phải kỳ đánh giá, mã đơn vị, mã bảng hỏi hay dạng tệp (xlsx, csv, docx, zip)."
)
CAPTIONS: dict[Kind, str] = {
    "tonghop": t.EXPORT_CAPTION,
    "danhgia": "Tự đánh giá kỳ {period}{unit}: tổng hợp, chi tiết, minh chứng, tiến độ.",
    "khaosat": (
        "Khảo sát người dân kỳ {period}{unit}: tổng hợp, theo câu hỏi, theo nhóm, theo sự kiện, nhóm ý kiến. "
        "Chỉ có số liệu tổng hợp (ô nhỏ đã ẩn), gửi đi được."
    ),
    "dulieu": (
        "DỮ LIỆU GỐC – KHÔNG CHUYỂN TIẾP. Khảo sát người dân kỳ {period}{unit}: mỗi người trả lời một dòng, toàn văn "
        "ý kiến. Chỉ dùng để xử lý số liệu; để gửi đi hãy dùng /xuat khaosat."
    ),
    "baocao": (
        "DỰ THẢO báo cáo kỳ {period}{unit}. Phòng Tư pháp kiểm tra số liệu, viết các phần còn trống "
        "(tô vàng) trước khi ban hành."
    ),
    "nhatky": "Nhật ký kỳ {period}{unit}: lịch sử sửa phiếu (cũ → mới, ai, lúc nào) và thao tác của quản trị viên.",
    "minhchung": (
        "Minh chứng kỳ {period}{unit}: mỗi đơn vị một thư mục, mỗi tiêu chí một thư mục con; danh sách tệp "
        "(đơn vị, tiêu chí, tên tệp, cỡ, SHA-256) trong tệp danh-sach-minh-chung.csv."
    ),
}
KINDS: dict[str, Kind] = {
    "danhgia": "danhgia",
    "khaosat": "khaosat",
    "dulieu": "dulieu",
    "baocao": "baocao",
    "nhatky": "nhatky",
    "minhchung": "minhchung",
}
FORMATS: dict[str, Format] = {
    "xlsx": "xlsx",
    "excel": "xlsx",
    "csv": "csv",
    "docx": "docx",
    "word": "docx",
    "zip": "zip",
}


def _kind(args: list[str]) -> tuple[Kind, list[str]] | None:
    """The export asked for, typed as one word or two ("khaosat", "khảo sát"), and the words after it."""
    if not args:
        return "tonghop", []
    folded = [fold(a) for a in args]
    for taken in (1, 2):
        kind = KINDS.get("".join(folded[:taken]).replace(" ", ""))
        if kind is not None:
            return kind, args[taken:]
    return None


async def parse_request(service: BotService, db: AsyncSession, args: list[str], period: str) -> ExportRequest | str:
    """The request the words make, or what to tell the admin."""
    settings = service.settings
    found = _kind(args)
    if found is None:
        return NOT_UNDERSTOOD.format(word=args[0]) + "\n\n" + MENU.format(period=period)
    kind, rest = found
    unit: str | None = None
    fmt: Format | None = None
    named: list[str] = []
    for word in rest:
        if fold(word) in service.questionnaires:
            named.append(fold(word))
        elif fold(word) in FORMATS:
            fmt = FORMATS[fold(word)]
        elif await get_period(db, word) is not None:
            period = word
        elif await repo.get_unit(db, word) is not None:
            unit = word
        else:
            return NOT_UNDERSTOOD.format(word=word) + "\n\n" + MENU.format(period=period)
    found_period = await get_period(db, period)
    assert found_period is not None  # the current period, or one the words named
    questionnaires = await period_questionnaires(service, db, found_period)
    units = await assigned_units(service, db, found_period, questionnaires)  # every one the period runs
    if named:  # one questionnaire's workbook: that one, with the public surveys its figures may read
        unknown = [i for i in named if i not in {qn.id for qn in questionnaires}]
        if unknown:
            return NOT_IN_PERIOD.format(code=unknown[0], period=period, codes=", ".join(qn.id for qn in questionnaires))

        def family(kind: str) -> str:  # a survey's workbook leaves out every other survey, public or each officer's
            return SURVEYS[0] if kind in SURVEYS else kind

        kinds = {family(service.questionnaires[i].kind) for i in named}
        questionnaires = [qn for qn in questionnaires if qn.id in named or family(qn.kind) not in kinds]
    request = ExportRequest(
        kind=kind,
        period=period,
        unit=unit,
        fmt=fmt,
        suppress_below=settings.suppress_below,
        breakdowns=settings.survey_breakdowns,
        questionnaires=tuple(qn.id for qn in questionnaires),
        units=units,
        evidence_dir=str(settings.evidence_dir),
        max_mb=CHAT_FILE_MB,
    )
    return refused(service.questionnaires, request) or request  # "several of this kind" before "đang chuẩn bị"


async def export(call: Call) -> list[Reply]:
    """Check the words and record the export as a job: it is built once this message has committed."""
    current = await repo.current_period(call.db)
    if current is None:
        return [Outgoing(t.NO_PERIOD_ADMIN)]
    request = await parse_request(call.service, call.db, call.args, current.code)
    if isinstance(request, str):
        return [Outgoing(request)]
    if request.kind == "dulieu" and call.confirmed is None:
        return await confirm.ask(call, "xuat", MICRODATA.format(period=request.period))
    await jobs.record(call, JOB, {"request": asdict(request), "words": " ".join(call.args)})
    return [Outgoing(PREPARING)]


def _request(payload: dict[str, Any]) -> ExportRequest:
    fields = payload["request"]
    units = {code: tuple(found) for code, found in fields.get("units", {}).items()}
    return ExportRequest(**{**fields, "breakdowns": tuple(fields["breakdowns"]), "units": units})


EXPORT_TIME_LIMIT = 1800.0
EXPORT_MEMORY_LIMIT = 4 << 30
"""An export's worker: a 100,000-response workbook takes about a minute and a half and 250 MB."""


async def make(service: BotService, payload: dict[str, Any]) -> Made:
    """The file, built in a worker process with its own connections: reading and writing a workbook holds the GIL
    for minutes, and in the bot's process it would hold up everyone's conversation."""
    started = time.monotonic()
    try:
        made = await in_worker(
            run_export,
            service.db.url,
            service.questionnaires,
            _request(payload),
            service.clock(),
            time_limit=EXPORT_TIME_LIMIT,
            memory_limit=EXPORT_MEMORY_LIMIT,
        )
    except ExportError as problem:
        return str(problem), 0.0
    return made, time.monotonic() - started


async def finish(
    service: BotService, db: AsyncSession, sender: Sender, payload: dict[str, Any], done: Made
) -> list[Reply]:
    made, seconds = done
    if isinstance(made, str):
        return [Outgoing(made)]
    request = _request(payload)
    detail = {"kind": request.kind, "format": request.format, "period": request.period, "unit": request.unit}
    await audit.record(db, sender, service.clock(), "export", request.kind, detail)
    log.info(
        "export %s (%s) of period %s%s by an admin on %s: %d bytes in %.1f s",
        request.kind,
        request.format,
        request.period,
        f", unit {request.unit}" if request.unit else "",
        sender.channel,
        len(made.content),
        seconds,
    )
    unit = f", đơn vị {request.unit}" if request.unit else ""
    caption = CAPTIONS[request.kind].format(period=request.period, unit=unit)
    document = Document(made.filename, made.content, caption, made.mime)
    if request.kind == "tonghop":
        menu = MENU.format(period=request.period) + "\n\n" + MENU_WORKBOOK.format(period=request.period)
        return [Outgoing(menu), document]
    return [document]


def interrupted(payload: dict[str, Any]) -> str:
    words = payload.get("words", "")
    return INTERRUPTED.format(command=f"/xuat {words}".strip())
