"""The results workbook: each unit's self-assessment scores and the citizens' answers, Vietnamese headers."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import xlsxwriter

from conversations.answers import display
from conversations.conditions import visible
from conversations.definition import Questionnaire
from conversations.scoring import question_points, score
from conversations.text import vi_sort_key
from storage import repo
from storage.models import Response, Unit

LOCAL_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
STATUS_LABELS = {"submitted": "Đã nộp", "draft": "Đang làm", None: "Chưa bắt đầu"}


@dataclass(frozen=True)
class Sheet:
    name: str
    frame: pd.DataFrame
    widths: dict[str, int]


def local_time(moment: datetime | None) -> str:
    return moment.astimezone(LOCAL_TIME).strftime("%d/%m/%Y %H:%M") if moment else ""


def question_header(qn: Questionnaire, question_id: str) -> str:
    q = qn.question(question_id)
    label = q.export_label or q.text
    return f"{q.code} {label}" if q.code else label


async def self_assessment_sheets(
    db: Any, qn: Questionnaire, period: str, units: Sequence[Unit]
) -> list[Sheet]:
    rows = await repo.responses(db, qn.id, period)
    by_unit: dict[str, Response] = {r.unit_code: r for r in rows}
    evidence = await repo.evidence_counts(db, [r.id for r in rows if r.status == "submitted"])
    summary, detail = [], []
    known = {u.code: u for u in units}
    for code in {r.unit_code for r in rows} - known.keys():
        unit = await repo.get_unit(db, code)
        if unit is not None:
            known[code] = unit
    for unit in sorted(known.values(), key=lambda u: vi_sort_key(u.name)):
        response = by_unit.get(unit.code)
        answers = response.state["answers"] if response is not None else {}
        card = score(qn, answers)
        row: dict[str, Any] = {
            "Mã đơn vị": unit.code,
            "Đơn vị": unit.name,
            "Trạng thái": STATUS_LABELS[response.status if response else None],
            "Nộp lúc": local_time(response.submitted_at if response else None),
        }
        for g in card.groups:
            row[f"{g.code} (tối đa {g.maximum:g})"] = g.points if response else None
        row[f"Tổng điểm (tối đa {card.maximum:g})"] = card.total if response else None
        row["Xếp loại"] = (card.level or "") if card.levels_configured else "Chưa có ngưỡng chính thức"
        row["Số minh chứng"] = evidence.get(response.id, 0) if response else 0
        summary.append(row)
        if response is not None:
            for q in visible(qn, answers):
                if not q.answerable:
                    continue
                value = answers.get(q.id)
                detail.append(
                    {
                        "Mã đơn vị": unit.code,
                        "Đơn vị": unit.name,
                        "Nhóm": q.group,
                        "Tiêu chí": q.code or "",
                        "Câu hỏi": q.text,
                        "Trả lời": display(q, value) if value is not None else "",
                        "Điểm": question_points(q, value) if value is not None and q.scored else None,
                        "Điểm tối đa": q.max_points if q.scored else None,
                    }
                )
    return [
        Sheet("Tự đánh giá", pd.DataFrame.from_records(summary), {"Đơn vị": 28, "Nộp lúc": 17}),
        Sheet("Chi tiết tự đánh giá", pd.DataFrame.from_records(detail), {"Đơn vị": 24, "Câu hỏi": 60, "Trả lời": 30}),
    ]


async def survey_sheet(db: Any, qn: Questionnaire, period: str) -> Sheet:
    pairs = await repo.submitted_answers(db, qn.id, period)
    unit_names: dict[str, str] = {}
    records: dict[int, dict[str, Any]] = {}
    order = [q.id for q in qn.questions if q.answerable]
    for response, answer in pairs:
        if response.unit_code not in unit_names:
            unit = await repo.get_unit(db, response.unit_code)
            unit_names[response.unit_code] = unit.name if unit else response.unit_code
        record = records.setdefault(
            response.id,
            {
                "Mã phiếu": response.id,
                "Mã đơn vị": response.unit_code,
                "Đơn vị": unit_names[response.unit_code],
                "Nộp lúc": local_time(response.submitted_at),
            },
        )
        if qn.has(answer.question_id):
            record[question_header(qn, answer.question_id)] = answer.value_text
    columns = ["Mã phiếu", "Mã đơn vị", "Đơn vị", "Nộp lúc"] + [question_header(qn, qid) for qid in order]
    if qn.scored:
        for response_id, record in records.items():
            state = next(r.state for r, _ in pairs if r.id == response_id)
            record["Điểm kiến thức"] = score(qn, state["answers"]).total
        columns.append("Điểm kiến thức")
    frame = pd.DataFrame.from_records(list(records.values()), columns=columns)
    return Sheet("Khảo sát người dân", frame, {"Đơn vị": 20})


def notes_sheet(questionnaires: Sequence[Questionnaire], period: str, made_at: datetime) -> Sheet:
    rows = [{"Mục": "Kỳ đánh giá", "Nội dung": period}, {"Mục": "Thời điểm xuất", "Nội dung": local_time(made_at)}]
    for qn in questionnaires:
        rows.append({"Mục": f"{qn.title} (phiên bản {qn.version})", "Nội dung": f"Nguồn: {qn.source}"})
        if qn.notice:
            rows.append({"Mục": "", "Nội dung": qn.notice})
    return Sheet("Ghi chú", pd.DataFrame.from_records(rows), {"Mục": 40, "Nội dung": 100})


def _cell(ws: Any, row: int, col: int, value: Any, fmt: Any) -> None:
    """Text is always written as text: a citizen's "=1+1" must never become a formula."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, date | datetime):
        ws.write_string(row, col, value.isoformat(), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def write_xlsx(sheets: Sequence[Sheet]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    header = workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    text = workbook.add_format({"valign": "top", "text_wrap": True})
    for sheet in sheets:
        ws = workbook.add_worksheet(sheet.name[:31])
        columns = list(sheet.frame.columns)
        for col, name in enumerate(columns):
            ws.write_string(0, col, str(name), header)
            ws.set_column(col, col, sheet.widths.get(str(name), max(10, min(24, len(str(name)) + 2))))
        for row_index, values in enumerate(sheet.frame.itertuples(index=False, name=None), start=1):
            for col, value in enumerate(values):
                _cell(ws, row_index, col, value, text)
        ws.freeze_panes(1, 0)
        if columns:
            ws.autofilter(0, 0, max(len(sheet.frame), 1), len(columns) - 1)
    workbook.close()
    return buffer.getvalue()


async def results_sheets(
    db: Any,
    questionnaires: Sequence[Questionnaire],
    period: str,
    units: Sequence[Unit],
    made_at: datetime | None = None,
) -> list[Sheet]:
    """Everything the results workbook shows, read inside the caller's transaction; write_xlsx writes it."""
    sheets: list[Sheet] = []
    for qn in questionnaires:
        if qn.kind == "self_assessment":
            sheets += await self_assessment_sheets(db, qn, period, units)
        else:
            sheets.append(await survey_sheet(db, qn, period))
    sheets.append(notes_sheet(questionnaires, period, made_at or datetime.now(UTC)))
    return sheets
