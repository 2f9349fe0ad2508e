"""A citizen who says no to the consent question counts in no figure (both databases): every export, `/tiendo` and
its targets are the same before and after more people decline, at units with and without responses, except for
the declines and the response rate, which count them."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import docx
import openpyxl

from exports.survey import DECLINED, RESPONSE_RATE
from tests.client import Chat
from tests.test_exports import (
    HAU_LOC,
    TRIEU_LOC,
    Citizen,
    Seeded,
    export,
    microdata,
    pct,
    seeded,  # noqa: F401  (the fixture)
    table,
)

VAN_LOC = "16078"
DECLINERS = [HAU_LOC, HAU_LOC, TRIEU_LOC, TRIEU_LOC, TRIEU_LOC, VAN_LOC]
WORKBOOKS = ["/xuat danhgia", "/xuat khaosat", "/xuat"]
CSVS = ["/xuat khaosat csv", "/xuat danhgia csv", "/xuat nhatky csv"]
MICRODATA = ["/xuat dulieu", "/xuat dulieu csv"]
DECLINES_TEXT = re.compile(r", \d+ người từ chối tham gia \(tỷ lệ trả lời [\d,]+ %\)|, \d+ từ chối")


def without_declines(rows: list[list[Any]]) -> list[list[Any]]:
    """A table's cells, without the columns that count declines and without the export's time."""
    kept = [n for n, name in enumerate(rows[0] if rows else []) if name not in (DECLINED, RESPONSE_RATE)]
    return [[r[n] for n in kept] for r in rows if r[:1] != ["Thời điểm xuất"]]


def workbook_figures(content: bytes) -> dict[str, list[list[Any]]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {ws.title: without_declines([list(r) for r in ws.iter_rows(values_only=True)]) for ws in book.worksheets}


def report_figures(content: bytes) -> tuple[list[str], list[list[list[str]]], list[bytes]]:
    report = docx.Document(io.BytesIO(content))
    paragraphs = [DECLINES_TEXT.sub("", p.text) for p in report.paragraphs if "Dự thảo lập ngày" not in p.text]
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in report.tables]
    images = [
        report.part.related_parts[b.get(docx.oxml.ns.qn("r:embed"))].blob for b in report.element.xpath(".//a:blip")
    ]
    return paragraphs, tables, images


async def everything(seeded: Seeded) -> dict[str, Any]:  # noqa: F811
    found: dict[str, Any] = {}
    for command in WORKBOOKS:
        found[command] = workbook_figures((await export(seeded, command)).content)
    for command in CSVS:
        text = (await export(seeded, command)).content.decode("utf-8-sig")
        found[command] = without_declines(list(csv.reader(io.StringIO(text))))
    for command in MICRODATA:
        content = (await microdata(seeded, command)).content
        found[command] = workbook_figures(content) if "csv" not in command else content
    found["/xuat baocao"] = report_figures((await export(seeded, "/xuat baocao")).content)
    found["/tiendo"] = DECLINES_TEXT.sub("", await seeded.admin.send("/tiendo"))
    [chart] = seeded.admin.documents
    found["/tiendo chart"] = chart.content
    return found


async def test_a_decline_counts_in_no_figure(seeded: Seeded) -> None:  # noqa: F811
    service = seeded.service
    service.settings = service.settings.model_copy(update={"survey_target": 5})
    before = await everything(seeded)
    assert "mục tiêu 5 phiếu mỗi đơn vị, 2/5 đơn vị đạt" in before["/tiendo"]  # Hậu Lộc's six, Hoa Lộc's five
    for n, unit in enumerate(DECLINERS):
        chat = Chat(service, f"decliner-{n}")
        await chat.send(f"/start ks_{unit}")
        assert "không tham gia" in await chat.answer_all(
            Citizen(unit, "nam", 1, (1, 1, 1), 1, consent=False).messages()
        )
    after = await everything(seeded)
    for what, figures in before.items():
        assert after[what] == figures, what  # Triệu Lộc's 2 + 3 declines would reach the target of 5

    progress = await seeded.admin.send("/tiendo")
    assert (
        "■ Khảo sát người dân (mã khao-sat-nguoi-dan) – phiếu ẩn danh\n13 phiếu đã nộp, 7 người từ chối tham gia"
        " (tỷ lệ trả lời 65 %)" in progress
    )
    assert "Xã Triệu Lộc: 2/5 phiếu, 3 từ chối" in progress
    summary = {
        r["Đơn vị"]: r
        for r in table(openpyxl.load_workbook(io.BytesIO((await export(seeded, WORKBOOKS[1])).content)), "Tổng hợp")
    }
    assert [
        (summary[u][DECLINED], summary[u][RESPONSE_RATE]) for u in ("Xã Triệu Lộc", "Xã Vạn Lộc", "Tất cả đơn vị")
    ] == [
        (3, pct(2, 5)),
        (1, 0.0),
        (7, pct(13, 20)),
    ]
    report = docx.Document(io.BytesIO((await export(seeded, "/xuat baocao")).content))
    text = "\n".join(p.text for p in report.paragraphs)
    assert "13 phiếu đã nộp tại 3 đơn vị, 7 người từ chối tham gia (tỷ lệ trả lời 65 %)" in text
