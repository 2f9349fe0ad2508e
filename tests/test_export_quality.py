"""Exports that agree and read well (both databases): numeric answers are numbers, the audit sheets read as
Vietnamese and name who resubmitted, the progress sheet counts the questions that apply, the report leaves out the
templates' notes and keeps charts with their captions and the signature with the text before it, and /nhacnho of
one unit says what stands at that unit."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import docx
import openpyxl
from docx.oxml.ns import qn

from conversations.definition import Questionnaire, parse_questionnaire
from tests.client import Chat, running_service
from tests.helpers import outbox
from tests.test_engine_properties import QUESTIONNAIRES
from tests.test_exports import (
    DONG_THANH,
    HAU_LOC,
    HOA_LOC,
    TRIEU_LOC,
    Seeded,
    export,
    microdata,
    seeded,  # noqa: F401  (the fixture)
    table,
)
from tests.test_service import SURVEY_ANSWERS


async def test_numeric_answers_are_numbers(seeded: Seeded) -> None:  # noqa: F811
    book = openpyxl.load_workbook(io.BytesIO((await export(seeded, "/xuat danhgia")).content))
    ws = book["Chi tiết"]
    header = [c.value for c in ws[1]]
    column = header.index("Số liệu")
    n41 = next(row for row in ws.iter_rows(min_row=2) if row[1].value == "Xã Hậu Lộc" and row[3].value == "N4.1")
    assert (n41[header.index("Trả lời")].value, n41[column].value, n41[column].data_type) == ("90 %", 90, "n")
    assert n41[column].number_format == "General"
    choices = [row[column].value for row in ws.iter_rows(min_row=2) if row[3].value == "N1.1"]
    assert choices and all(v is None for v in choices)  # a choice has no number


async def test_the_audit_reads_as_vietnamese_and_names_who_resubmitted(seeded: Seeded) -> None:  # noqa: F811
    admin, service = seeded.admin, seeded.service
    assert "Đã trả lại phiếu của Xã Hậu Lộc" in await admin.send("/tralai 16012 N1.1: chưa thấy kế hoạch")
    officer = Chat(service, f"officer-{HAU_LOC}")
    await officer.send("/danhgia")
    for _ in range(20):
        if "Xem lại trước khi nộp" in officer.text:
            break
        await officer.send("2" if "  1. " in officer.text else "bỏ qua")
    assert "Đã nộp phiếu" in await officer.send("nộp")
    await admin.send("/nhacnho 16021")
    await export(seeded, "/xuat danhgia")
    book = openpyxl.load_workbook(io.BytesIO((await export(seeded, "/xuat nhatky")).content))
    [change] = [r for r in table(book, "Lịch sử sửa phiếu") if str(r["Câu hỏi"]).startswith("N1.1")]
    assert change["Người nộp lại"] == f"Người thử – cán bộ Xã Hậu Lộc (test:officer-{HAU_LOC})"
    actions = {r["Việc"]: r["Chi tiết"] for r in table(book, "Nhật ký quản trị")}
    assert actions["Trả lại phiếu để sửa"] == "Tiêu chí trả lại: N1.1: chưa thấy kế hoạch"
    assert actions["Gửi nhắc việc"] == "Đơn vị được nhắc: Xã Triệu Lộc\nSố tin nhắn: 1"
    assert actions["Xuất dữ liệu"].startswith("Loại: danhgia\nDạng tệp: xlsx\nKỳ: 2026")
    assert not any(mark in str(detail) for detail in actions.values() for mark in "{}[]'")


async def test_the_progress_sheet_counts_the_questions_that_apply(seeded: Seeded) -> None:  # noqa: F811
    shown = re.search(r"Câu (\d+)/(\d+)", await Chat(seeded.service, f"officer-{TRIEU_LOC}").send("/danhgia"))
    assert shown is not None and shown[1] == "2"
    book = openpyxl.load_workbook(io.BytesIO((await export(seeded, "/xuat danhgia")).content))
    progress = {r["Đơn vị"]: r for r in table(book, "Tiến độ")}
    draft = progress["Xã Triệu Lộc"]
    assert (draft["Số câu đã trả lời"], draft["Số câu phải trả lời"]) == (1, int(shown[2]))  # as the officer reads
    listed = {}
    for unit, name in ((HAU_LOC, "Xã Hậu Lộc"), (HOA_LOC, "Xã Hoa Lộc")):
        listed[unit] = len(re.findall(r"^\d+\. ", await seeded.admin.send(f"/xem {unit}"), re.M))
        assert progress[name]["Số câu phải trả lời"] == listed[unit]  # as /xem lists the questions answered
    assert listed[HOA_LOC] < listed[HAU_LOC]  # "Không" hides the questions that back a "Có"
    assert f"1/{shown[2]} câu" in await seeded.admin.send("/tiendo")


async def test_the_report_reads_as_a_report(seeded: Seeded) -> None:  # noqa: F811
    report = docx.Document(io.BytesIO((await export(seeded, "/xuat baocao")).content))
    text = "\n".join(p.text for p in report.paragraphs)
    assert "bảng hỏi gợi ý" not in text and "không phải mẫu phiếu chính thức" not in text
    paragraphs = report.paragraphs
    charts = [n for n, p in enumerate(paragraphs) if p._p.xpath(".//pic:pic")]
    assert len(charts) == 3
    for n in charts:
        assert paragraphs[n].paragraph_format.keep_with_next
        assert paragraphs[n + 1].text.startswith("Biểu đồ ")
    body = list(report.element.body)
    closing = report.tables[-1]
    assert "TRƯỞNG PHÒNG" in closing.rows[0].cells[1].text
    before = body[body.index(closing._tbl) - 1]
    assert before.tag == qn("w:p") and docx.text.paragraph.Paragraph(before, report).paragraph_format.keep_with_next
    assert closing.rows[0]._tr.trPr.find(qn("w:cantSplit")) is not None


async def test_reminding_one_unit_tells_the_truth_about_it(seeded: Seeded) -> None:  # noqa: F811
    admin = seeded.admin
    done = await admin.send(f"/nhacnho {HAU_LOC}")
    assert done.startswith("Xã Hậu Lộc đã nộp đủ các phiếu kỳ 2026: Tự đánh giá lúc") and "không cần nhắc" in done
    assert "Tất cả đơn vị" not in done
    drafting = await admin.send(f"/nhacnho {TRIEU_LOC}")
    assert drafting.startswith("Đã nhắc 1 cán bộ của Xã Triệu Lộc, kỳ 2026: Tự đánh giá đang làm, đã trả lời 1/")
    nobody = await admin.send(f"/nhacnho {DONG_THANH}")
    assert "Xã Đông Thành chưa có cán bộ nào dùng bot" in nobody and f"/moi {DONG_THANH}" in nobody
    everyone = await admin.send("/nhacnho")
    assert "Đã nhắc 1 cán bộ của 1 đơn vị chưa nộp đủ: Xã Triệu Lộc" in everyone
    assert "Không có đơn vị “99999” đang áp dụng" in await admin.send("/nhacnho 99999")

    assert "Đã duyệt" in await admin.send(f"/duyet {HAU_LOC}")
    assert "Đã trả lại" in await admin.send(f"/tralai {HOA_LOC} N1.1: thiếu kế hoạch")
    approved = await admin.send(f"/nhacnho {HAU_LOC}")
    assert approved.startswith("Xã Hậu Lộc đã nộp đủ") and "đã duyệt" in approved and "không cần nhắc" in approved
    returned = await admin.send(f"/nhacnho {HOA_LOC}")
    assert returned == "Đã nhắc 1 cán bộ của Xã Hoa Lộc, kỳ 2026: Tự đánh giá bị trả lại, đang sửa.", returned
    told = await outbox(seeded.service, "reminder")
    assert f"officer-{HAU_LOC}" not in told, "an approved unit is not nagged"
    [hoa_loc] = told[f"officer-{HOA_LOC}"]
    assert hoa_loc.startswith("Nhắc việc kỳ 2026 – Xã Hoa Lộc: Tự đánh giá bị trả lại, đang sửa. Hạn nộp")
    [trieu_loc, _] = told[f"officer-{TRIEU_LOC}"]  # by the unit's /nhacnho, then by everyone's
    assert trieu_loc.startswith("Nhắc việc kỳ 2026 – Xã Triệu Lộc: Tự đánh giá đang làm, đã trả lời 1/")


def with_a_number(shipped: Questionnaire) -> Questionnaire:
    """The shipped citizen survey with a last question asking for a number."""
    data = shipped.model_dump(mode="json")
    asked = {"question": "dong_y", "equals": "co"}
    data["groups"][-1]["questions"].append(
        {"id": "so_buoi", "type": "decimal", "text": "Bạn đã dự bao nhiêu buổi tuyên truyền?", "show_if": asked}
    )
    return parse_questionnaire(data, "thu.yaml")


async def test_numbers_in_the_survey_data_are_numbers(tmp_path: Path, database_url: str) -> None:
    survey = with_a_number(QUESTIONNAIRES[2])
    async with running_service(tmp_path, database_url=database_url) as service:
        service.use(survey)
        service.versions[(survey.id, survey.version)] = survey
        for n, typed in enumerate(["3", "2,5"]):
            citizen = Chat(service, f"so-{n}")
            await citizen.send("/start ks_16012")
            assert "Đã nộp phiếu" in await citizen.answer_all([*SURVEY_ANSWERS, typed, "nộp"])
        admin = Chat(service, "admin")
        book = openpyxl.load_workbook(io.BytesIO((await microdata(Seeded(service, admin))).content))
        long = (await microdata(Seeded(service, admin), "/xuat dulieu csv")).content.decode("utf-8-sig")
    ws = book["Dữ liệu"]
    column = [c.value for c in ws[1]].index("Bạn đã dự bao nhiêu buổi tuyên truyền?")
    cells = [row[column] for row in ws.iter_rows(min_row=2)]
    assert [c.value for c in cells] == [3, 2.5] and all(c.data_type == "n" for c in cells)
    rows = list(csv.DictReader(io.StringIO(long)))
    assert [r["Trả lời"] for r in rows if r["Mã câu hỏi"] == "so_buoi"] == ["3", "2.5"]  # not "2,5"
    assert {r["Trả lời"] for r in rows if r["Mã câu hỏi"] == "gioi_tinh"} <= {"Nam", "Nữ"}  # a choice is its label
