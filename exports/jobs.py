"""Exports as jobs: a request (what, which period, unit, version, format) becomes a file.

`run_export` is blocking: it opens its own database connections in its own event loop. The bot runs it in a worker
process (bot.worker), so reading a hundred thousand responses and writing the workbook never hold up the bot's
event loop or its share of the GIL, and other people's conversations go on meanwhile; the CLI in a thread.
Counting happens in the database; big tables stream from a cursor into the file."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.answers import number_text
from conversations.definition import Questionnaire, SurveyMeasure
from conversations.localtime import day_text, file_stamp, local_date
from conversations.measures import measured_criteria
from conversations.text import fold
from exports import assessment, audit, evidence, report, survey
from exports.results import notes_sheet, suppression_note
from exports.workbook import Column, Sheet, write_csv, write_xlsx
from storage import repo
from storage.db import Database
from storage.files import FileStore
from storage.models import Unit
from storage.queries import Selection, get_period

Kind = Literal["tonghop", "danhgia", "khaosat", "dulieu", "baocao", "nhatky", "minhchung"]
Format = Literal["xlsx", "csv", "docx", "zip"]
FORMATS: dict[Kind, tuple[Format, ...]] = {
    "tonghop": ("xlsx",),
    "danhgia": ("xlsx", "csv"),
    "khaosat": ("xlsx", "csv"),
    "dulieu": ("xlsx", "csv"),
    "baocao": ("docx",),
    "nhatky": ("xlsx", "csv"),
    "minhchung": ("zip",),
}
MIME: dict[Format, str] = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "zip": "application/zip",
}
STEMS: dict[Kind, str] = {
    "tonghop": "ket-qua",
    "danhgia": "tu-danh-gia",
    "khaosat": "khao-sat",
    "dulieu": "du-lieu-goc-khong-chuyen-tiep",
    "baocao": "bao-cao",
    "nhatky": "nhat-ky",
    "minhchung": "minh-chung",
}


ZIP_TOO_LARGE = "Các tệp minh chứng nặng {size} MB, quá {limit} MB gửi được qua chat. {hint}"
ZIP_ONE_UNIT = "Hãy xuất từng đơn vị: /xuat minhchung <mã đơn vị>; hoặc trên máy chủ: pbgdpl export minhchung -o TỆP."
ZIP_BY_CRITERION = (
    "Hãy lấy từng tiêu chí: /minhchung {unit} <tiêu chí>; "
    "hoặc trên máy chủ: pbgdpl export minhchung --unit {unit} -o TỆP."
)


class ExportError(ValueError):
    """A request that cannot be exported; the message tells the requester why, in Vietnamese."""


@dataclass(frozen=True, kw_only=True)
class ExportRequest:
    kind: Kind
    period: str
    suppress_below: int
    """Figures resting on fewer respondents are hidden (PBGDPL_SUPPRESS_BELOW)."""
    breakdowns: tuple[str, ...]
    """Survey questions to break the indicators down by (PBGDPL_SURVEY_BREAKDOWNS)."""
    questionnaires: tuple[str, ...]
    """The questionnaires the export covers (ids), as the bot chose them for the period: the report and the results
    workbook take them all, a self-assessment or survey workbook the one of its kind."""
    units: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """For each questionnaire the period runs (id, even those the export does not cover), the units (codes) the
    period assigns it to, as the bot found them: its tables list those (and any other unit with responses); a
    questionnaire not in it lists every unit in force (a survey: the communes)."""
    unit: str | None = None
    version: str | None = None
    fmt: Format | None = None
    sheet: str | None = None
    """For CSV: which table (by its sheet name); by default the survey's Tổng hợp (the microdata: the answers in long
    form), the self-assessment's Chi tiết, the audit's changes."""
    evidence_dir: str
    max_mb: float | None = None
    """For a file sent in chat: the evidence zip is refused past this (a Telegram bot sends files up to 50 MB)."""
    """Where evidence files are kept (bot.evidence): the zip takes them from there, the workbook names their place."""

    @property
    def format(self) -> Format:
        return self.fmt or FORMATS[self.kind][0]


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content: bytes
    mime: str


def survey_measures(questionnaires: Mapping[str, Questionnaire], survey_id: str) -> list[SurveyMeasure]:
    return [
        q.measured_by
        for qn in questionnaires.values()
        for q in measured_criteria(qn)
        if q.measured_by is not None and survey_id in q.measured_by.surveys
    ]


def _store(request: ExportRequest) -> FileStore:
    return FileStore(Path(request.evidence_dir))


def _notes(request: ExportRequest, extra: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [
        ("Phạm vi", f"Đơn vị mã {request.unit}" if request.unit else "Tất cả đơn vị"),
        ("Phiên bản bảng hỏi", request.version or "Mọi phiên bản"),
        *extra,
    ]


ASSESSMENT_NOTES = [
    ("Hạng theo điểm tự chấm", "Xếp theo tổng điểm tự chấm của các đơn vị đã nộp phiếu; bằng điểm thì cùng hạng."),
    (
        "Thẩm định",
        "Điểm Phòng Tư pháp chấm từng tiêu chí (lệnh /chamdiem); tiêu chí chưa thẩm định tạm tính bằng điểm tự chấm "
        "cho tới khi chốt (lệnh /chot). Cột thẩm định để trống khi chưa thẩm định.",
    ),
    (
        "Xếp loại, Hạng",
        "Theo tổng điểm thẩm định, chỉ cho các đơn vị đã chốt kết quả; hạng xếp trong số các đơn vị đã chốt, bằng "
        "điểm thì cùng hạng. Đơn vị chưa chốt chưa có xếp loại và hạng (xem hạng theo điểm tự chấm).",
    ),
    (
        "Tiêu chí bị hạ điểm",
        "Các tiêu chí Phòng Tư pháp chấm thấp hơn điểm tự chấm, kể cả ở đơn vị đang thẩm định; tiêu chí bị hạ ở nhiều "
        "đơn vị nhất đứng đầu, kèm lý do của từng đơn vị.",
    ),
    (
        "Theo khảo sát",
        "Tiêu chí đánh dấu “measured_by” trong bảng hỏi được tính lại từ phiếu khảo sát người dân của đơn vị, theo "
        "cùng các khoảng điểm của tiêu chí, và đặt cạnh điểm tự chấm. Tổng điểm theo khảo sát chỉ có khi mọi tiêu chí "
        "này đủ số người trả lời.",
    ),
    (
        "Minh chứng",
        "Bot lưu từng tệp minh chứng trên máy chủ; cột “Trong tệp zip” là đường dẫn của tệp trong tệp zip lệnh "
        "/xuat minhchung gửi. Quản trị viên xem tệp của một đơn vị bằng lệnh /minhchung <mã đơn vị> [tiêu chí].",
    ),
]
SURVEY_NOTES = [
    ("Theo câu hỏi", "Tỷ lệ tính trên số người trả lời câu hỏi; câu chọn nhiều phương án có tổng trên 100 %."),
    (
        "Ý kiến",
        "Góp ý bằng chữ của người dân, chia nhóm tự động theo từ khóa (một ý kiến có thể thuộc nhiều nhóm), chỉ có "
        "số ý kiến. Toàn văn từng ý kiến là dữ liệu gốc, chỉ có trong tệp /xuat dulieu.",
    ),
    ("Chuyển tiếp", "Tệp này chỉ có số liệu tổng hợp, không có dòng nào của riêng một người trả lời."),
]
MICRODATA_WARNING = Sheet(
    "Không chuyển tiếp",
    [Column("DỮ LIỆU GỐC – KHÔNG CHUYỂN TIẾP", "long_text", width=110)],
    (
        [
            "Mỗi dòng của tệp này là câu trả lời của một người. Không gửi, không chuyển tiếp tệp cho ai ngoài người "
            "được giao xử lý dữ liệu gốc; số liệu để gửi đi là tệp /xuat khaosat (chỉ có số liệu tổng hợp, ô nhỏ đã "
            "ẩn)."
        ],
    ),
)
MICRODATA_NOTES = [
    (
        "Dữ liệu",
        "Mỗi dòng một phiếu, không có thông tin nhận diện người trả lời; mã phiếu là số thứ tự trong hệ thống. "
        "Không ẩn ô nhỏ.",
    ),
    ("Ý kiến", "Toàn văn từng góp ý bằng chữ, kèm mã phiếu và đơn vị."),
]


NONE = {
    "self_assessment": "Chưa có bảng hỏi tự đánh giá trên hệ thống.",
    "citizen_survey": "Chưa có bảng hỏi khảo sát người dân trên hệ thống.",
}
SEVERAL = "Kỳ {period} có nhiều bảng hỏi loại này ({codes}): hãy ghi mã bảng hỏi cần xuất."


SURVEYS = ("citizen_survey", "individual_survey")
"""The kinds a survey's tables are made for: the public's anonymous responses, and each officer's own."""


def chosen(questionnaires: Mapping[str, Questionnaire], request: ExportRequest, *kinds: str) -> list[Questionnaire]:
    """The request's questionnaires of the kinds, in the request's order."""
    unknown = [i for i in request.questionnaires if i not in questionnaires]
    if unknown:
        raise ExportError(f"Không có bảng hỏi “{unknown[0]}” trên hệ thống.")
    return [questionnaires[i] for i in request.questionnaires if questionnaires[i].kind in kinds]


ONE_QUESTIONNAIRE: dict[Kind, tuple[str, ...]] = {
    "danhgia": ("self_assessment",),
    "khaosat": SURVEYS,
    "dulieu": SURVEYS,
}
"""The exports of one questionnaire, and the kinds of questionnaire it is one of."""


def only(questionnaires: Mapping[str, Questionnaire], request: ExportRequest) -> Questionnaire:
    """The one questionnaire a workbook of one questionnaire is about (ONE_QUESTIONNAIRE)."""
    kinds = ONE_QUESTIONNAIRE[request.kind]
    found = chosen(questionnaires, request, *kinds)
    if not found:
        raise ExportError(NONE[kinds[0]])
    if len(found) > 1:
        raise ExportError(SEVERAL.format(period=request.period, codes=", ".join(q.id for q in found)))
    return found[0]


def refused(questionnaires: Mapping[str, Questionnaire], request: ExportRequest) -> str | None:
    """Why the request cannot be made, known before it is built (a workbook of one questionnaire where the period
    runs none or several of its kind); None when it can."""
    if request.kind not in ONE_QUESTIONNAIRE:
        return None
    try:
        only(questionnaires, request)
    except ExportError as problem:
        return str(problem)
    return None


def frameworks(questionnaires: Mapping[str, Questionnaire], request: ExportRequest) -> list[str]:
    """The self-assessments the period runs (those the request names units for, else those it covers): the evidence
    zip has a folder for each when there are several."""
    ids = list(request.units) or list(request.questionnaires)
    return [i for i in ids if i in questionnaires and questionnaires[i].kind == "self_assessment"]


def unit_surveys(request: ExportRequest) -> dict[str, set[str]]:
    """For each unit, the questionnaires the period assigns to it (the survey a criterion measured by the survey
    reads for the unit is the first of its surveys among them)."""
    found: dict[str, set[str]] = {}
    for questionnaire_id, units in request.units.items():
        for code in units:
            found.setdefault(code, set()).add(questionnaire_id)
    return found


def assigned(request: ExportRequest, qn: Questionnaire, in_force: list[Unit]) -> list[Unit]:
    """The units in force a questionnaire's tables list: those the request says it is assigned to, else all (a
    survey: the communes, as before assignments)."""
    if qn.id in request.units:
        return [u for u in in_force if u.code in request.units[qn.id]]
    return [u for u in in_force if qn.kind != "citizen_survey" or u.kind == "commune"]


async def _assessment(
    db: AsyncSession,
    questionnaires: Mapping[str, Questionnaire],
    qn: Questionnaire,
    request: ExportRequest,
    in_force: list[Unit],
) -> assessment.Assessment:
    public = chosen(questionnaires, request, "citizen_survey")
    version = request.version if request.kind != "khaosat" else None
    selection = Selection(qn.id, request.period, request.unit, version)
    units = assigned(request, qn, in_force)
    return await assessment.gather(db, qn, public, selection, unit_surveys(request), units, request.suppress_below)


async def _survey(
    db: AsyncSession,
    questionnaires: Mapping[str, Questionnaire],
    qn: Questionnaire,
    request: ExportRequest,
    in_force: list[Unit],
) -> survey.SurveyResults:
    version = request.version if request.kind != "danhgia" else None
    selection = Selection(qn.id, request.period, request.unit, version)
    measures = survey_measures(questionnaires, qn.id)
    # the workbook's Theo nhóm and Sự kiện theo nhóm, and the report's tables of who each event reached need them
    breakdowns = request.breakdowns if request.kind in ("khaosat", "baocao") else ()
    units = assigned(request, qn, in_force)
    minimum, groups = request.suppress_below, request.kind == "khaosat"  # everyone's by group: only Theo nhóm
    return await survey.gather(db, qn, measures, selection, units, minimum, breakdowns, groups)


async def _assessments(
    db: AsyncSession, questionnaires: Mapping[str, Questionnaire], request: ExportRequest, in_force: list[Unit]
) -> list[assessment.Assessment]:
    found = chosen(questionnaires, request, "self_assessment")
    return [await _assessment(db, questionnaires, qn, request, in_force) for qn in found]


async def _surveys(
    db: AsyncSession, questionnaires: Mapping[str, Questionnaire], request: ExportRequest, in_force: list[Unit]
) -> list[survey.SurveyResults]:
    found = chosen(questionnaires, request, *SURVEYS)
    return [await _survey(db, questionnaires, qn, request, in_force) for qn in found]


async def _tables(
    db: AsyncSession,
    questionnaires: Mapping[str, Questionnaire],
    request: ExportRequest,
    made_at: datetime,
    in_force: list[Unit],
) -> tuple[list[Sheet], Sheet | None]:
    """The workbook's sheets, and the table a CSV gives by default."""
    notes = _notes(request, [suppression_note(request.suppress_below)])
    if request.kind == "nhatky":
        changes = await audit.changes_sheet(db, questionnaires, request.period)
        sheets = [changes, await audit.actions_sheet(db, request.period)]
        return [*sheets, notes_sheet([], request.period, made_at, [])], changes
    if request.kind == "danhgia":
        a = await _assessment(db, questionnaires, only(questionnaires, request), request, in_force)
        detail = assessment.detail_sheet(a)
        where = evidence.places(a, _store(request), evidence.folder(a, len(frameworks(questionnaires, request)) > 1))
        files = assessment.evidence_sheet(a, places=where)
        sheets = [assessment.summary_sheet(a), detail, assessment.lowered_sheet(a), files, assessment.progress_sheet(a)]
        qns = [a.qn] + ([a.survey] if a.survey else [])
        return [*sheets, notes_sheet(qns, request.period, made_at, notes + ASSESSMENT_NOTES)], detail
    if request.kind == "khaosat":
        s = await _survey(db, questionnaires, only(questionnaires, request), request, in_force)
        summary = survey.summary_sheet(s)
        sheets = [summary, survey.question_sheet(s), survey.group_sheet(s)]
        sheets += [survey.events_sheet(s)] if s.events else []
        sheets += [survey.event_groups_sheet(s)] if s.events and s.dimensions else []
        sheets.append(survey.opinions_sheet(s))
        return [*sheets, notes_sheet([s.qn], request.period, made_at, notes + SURVEY_NOTES)], summary
    if request.kind == "dulieu":
        s = await _survey(db, questionnaires, only(questionnaires, request), request, in_force)
        sheets = [MICRODATA_WARNING, survey.data_sheet(db, s), survey.texts_sheet(s)]
        return [*sheets, notes_sheet([s.qn], request.period, made_at, _notes(request, MICRODATA_NOTES))], (
            survey.long_sheet(db, s)
        )
    assessments = await _assessments(db, questionnaires, request, in_force)
    surveys = await _surveys(db, questionnaires, request, in_force)
    sheets = []
    for a in assessments:  # with several, each sheet begins with its questionnaire's short title
        one = len(assessments) == 1
        title, details, lowered, progress = (
            ("Tự đánh giá", "Chi tiết tự đánh giá", "Tiêu chí bị hạ điểm", "Tiến độ")
            if one
            else (
                a.qn.short_title,
                f"Chi tiết {a.qn.short_title}",
                f"Hạ điểm {a.qn.short_title}",
                f"Tiến độ {a.qn.short_title}",
            )
        )
        sheets += [assessment.summary_sheet(a, title), assessment.detail_sheet(a, details)]
        sheets += [assessment.lowered_sheet(a, lowered)] if a.qn.scored else []  # no points: none lowered
        sheets.append(assessment.progress_sheet(a, progress))
    for s in surveys:  # aggregated, as /xuat khaosat's Tổng hợp: this workbook is forwarded too
        sheets.append(survey.summary_sheet(s, "Khảo sát người dân" if len(surveys) == 1 else s.qn.short_title))
    qns = [x.qn for x in assessments] + [x.qn for x in surveys]
    return [*sheets, notes_sheet(qns, request.period, made_at, notes)], None


async def build(
    db: AsyncSession, questionnaires: Mapping[str, Questionnaire], request: ExportRequest, made_at: datetime
) -> ExportFile:
    """The file, read inside the caller's transaction."""
    if request.format not in FORMATS[request.kind]:
        raise ExportError(f"Không xuất được dạng {request.format} cho mục này.")
    period = await get_period(db, request.period)
    if period is None:
        raise ExportError(f"Không có kỳ đánh giá “{request.period}”.")
    if request.unit is not None and await repo.get_unit(db, request.unit) is None:
        raise ExportError(f"Không tìm thấy đơn vị có mã “{request.unit}”.")
    in_force = await repo.units_in_force(db, min(local_date(made_at), period.deadline))
    stamp = file_stamp(made_at)
    filename = "-".join([STEMS[request.kind], request.period, *([request.unit] if request.unit else []), stamp])
    filename += f".{request.format}"
    if request.kind == "baocao":
        data = report.ReportData(
            period=period.code,
            deadline=day_text(period.deadline),
            assessments=await _assessments(db, questionnaires, request, in_force),
            surveys=await _surveys(db, questionnaires, request, in_force),
            made_at=made_at,
        )
        return ExportFile(filename, report.build_docx(data), MIME["docx"])
    if request.kind == "minhchung":
        found = await _assessments(db, questionnaires, request, in_force)
        if not found:
            raise ExportError(NONE["self_assessment"])
        limit = int(request.max_mb * 1024 * 1024) if request.max_mb is not None else None
        try:
            several = len(frameworks(questionnaires, request)) > 1
            content = await evidence.build_zip(found, _store(request), limit, several)
        except evidence.TooLarge as large:
            hint = ZIP_BY_CRITERION.format(unit=request.unit) if request.unit else ZIP_ONE_UNIT
            assert request.max_mb is not None  # only a limit refuses
            size, most = number_text(round(large.args[0] / 1024 / 1024, 1)), number_text(request.max_mb)
            raise ExportError(ZIP_TOO_LARGE.format(size=size, limit=most, hint=hint)) from None
        return ExportFile(filename, content, MIME["zip"])
    sheets, default = await _tables(db, questionnaires, request, made_at, in_force)
    if request.format == "xlsx":
        return ExportFile(filename, await write_xlsx(sheets), MIME["xlsx"])
    tables = ([default] if default is not None and default not in sheets else []) + sheets
    chosen = default
    if request.sheet is not None:
        chosen = next((t for t in tables if fold(t.name) == fold(request.sheet)), None)
        if chosen is None:
            names = ", ".join(f"“{t.name}”" for t in tables)
            raise ExportError(f"Không có bảng “{request.sheet}”. Các bảng: {names}.")
    assert chosen is not None
    return ExportFile(filename, await write_csv(chosen), MIME["csv"])


def run_export(
    url: str, questionnaires: Mapping[str, Questionnaire], request: ExportRequest, made_at: datetime
) -> ExportFile:
    """Blocking: build the file in this thread's own event loop with its own connections."""

    async def job() -> ExportFile:
        database = Database(url)
        try:
            async with database.read() as db:
                return await build(db, questionnaires, request, made_at)
        finally:
            await database.dispose()

    return asyncio.run(job())
