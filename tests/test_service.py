"""The service over a real SQLite file: roles, invites, shared drafts, one response per citizen, restarts."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
from sqlalchemy import event, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError

from conversations import engine
from exports.workbook import HIDDEN
from storage.models import Answer, Base, Response
from tests.client import Chat, Clock, running_service
from tests.helpers import complete_assessment

SURVEY_ANSWERS = ["có", "2", "nữ", "3", "có", "1, 2", "1", "1", "1", "1", "rất hài lòng", "1", "loa", "bỏ qua"]


def invite_code(text: str) -> str:
    found = re.search(r"/start dk_([A-Z0-9]+)", text)
    assert found, text
    return found[1]


async def test_invite_binds_an_officer_once_and_expires(tmp_path: Path, database_url: str) -> None:
    clock = Clock()
    async with running_service(tmp_path, clock, database_url) as service:
        admin, officer, other = Chat(service, "admin"), Chat(service, "501"), Chat(service, "502")
        service.admins = frozenset({"test:admin"})
        assert "chỉ dành cho quản trị viên" in await officer.send("/moi 16012")
        assert "Gõ /moi kèm mã đơn vị" in await admin.send("/moi")
        assert "Không tìm thấy đơn vị" in await admin.send("/moi 99999")
        reply = await admin.send("/moi 16012")
        code = invite_code(reply)
        assert f"/start dk_{code}" in reply and "t.me" not in reply  # no Telegram here, so no Telegram link
        assert "Phiếu tự đánh giá chỉ dành cho cán bộ" in await officer.send("/danhgia")
        assert "Bạn đã được gắn với Xã Hậu Lộc" in await officer.send(f"/start dk_{code.lower()}")
        assert "đã được dùng" in await other.send(f"/start dk_{code}")
        expired = invite_code(await admin.send("/moi 16021"))
        clock.advance(hours=73)
        assert "hết hạn" in await other.send(f"/start dk_{expired}")
        assert "Phiếu tự đánh giá kỳ 2026 của Xã Hậu Lộc" in await officer.send("/danhgia")


async def test_officers_of_a_unit_share_one_draft(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        admin = Chat(service, "admin")
        first, second = Chat(service, "601"), Chat(service, "602")
        for chat in (first, second):
            await chat.send(f"/start dk_{invite_code(await admin.send('/moi 16078'))}")
        opened = await first.send("/danhgia")
        assert "Câu 1/" in opened
        assert "Câu 2/" in await first.send("có")
        resumed = await second.send("/danhgia")
        assert "Tiếp tục phiếu đang làm dở" in resumed
        assert "Câu 2/" in resumed
        progress = await admin.send("/tiendo")
        assert "Xã Vạn Lộc: đang làm (1/" in progress
        assert "0/5 đơn vị đã nộp, 1 đang làm, 4 chưa bắt đầu" in progress


async def test_a_citizen_answers_once_and_only_a_keyed_hash_is_kept(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        citizen = Chat(service, "987654321")
        assert "xã/phường nào" in await citizen.send("/khaosat")
        assert "Khảo sát cho Xã Hoa Lộc" in await citizen.send("hoa loc")
        done = await citizen.answer_all(SURVEY_ANSWERS)
        assert "Xem lại trước khi nộp" in done
        assert "Đã nộp phiếu" in await citizen.send("nộp")
        assert "Bạn chưa mở phiếu nào" in await citizen.send("1")
        assert "Bạn đã trả lời khảo sát này cho Xã Hoa Lộc" in await citizen.send("/start ks_16072")
        other_unit = await citizen.send("/start ks_16012")  # one response per person and period, whatever the unit
        assert "Bạn đã trả lời khảo sát này cho Xã Hoa Lộc trong kỳ 2026" in other_unit
        async with service.db.read() as db:
            stored = [
                str(row) for table in Base.metadata.sorted_tables for row in (await db.execute(select(table))).all()
            ]
            respondents = list((await db.scalars(select(Response.respondent))).all())
            answers = len((await db.scalars(select(Answer.id))).all())
    assert stored and not any("987654321" in row for row in stored)
    assert len(respondents) == 1 and len(respondents[0] or "") == 64
    assert answers == 13  # 14 questions asked, the optional suggestion skipped


async def test_restart_resumes_at_the_same_question(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        citizen = Chat(service, "123")
        await citizen.send("/start ks_16033")
        await citizen.answer_all(["có", "1", "nam"])
        assert "Câu 4/" in citizen.text
    async with running_service(tmp_path, database_url=database_url) as service:
        citizen = Chat(service, "123")
        reply = await citizen.send("3")
        assert "Câu 5/" in reply
        assert "Trong 12 tháng qua" in reply
        assert "Tiếp tục phiếu" in await citizen.send("/khaosat")


async def test_bad_input_gets_a_vietnamese_reply(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        citizen = Chat(service, "77")
        assert "Không có lệnh “/xyz”" in await citizen.send("/xyz")
        assert "Gõ /khaosat để trả lời khảo sát" in await citizen.send("xin chào")
        assert "Bạn chưa mở phiếu nào" in await citizen.send("abc")
        assert "chỉ dành cho quản trị viên" in await citizen.send("/xuat")
        assert "Không tìm thấy đơn vị" in await citizen.send("/start ks_khong-co")
        await citizen.send("/start ks_16012")
        nfd = "co\u0301"  # "có" typed with a combining accent
        assert "Câu 2/" in await citizen.send(nfd)
        assert "Chưa rõ bạn chọn" in await citizen.send("x" * 10_000)
        assert "Câu này không cần tệp" in await citizen.send_file("f1")
        assert "Đã tạm dừng" in await citizen.send("/huy")
        assert "không có phiếu nào đang mở" in await citizen.send("/huy")


async def test_admin_export_has_scores_and_answers(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        admin, officer, citizen = Chat(service, "admin"), Chat(service, "801"), Chat(service, "802")
        await officer.send(f"/start dk_{invite_code(await admin.send('/moi 16012'))}")
        total, _ = await complete_assessment(officer, "1", "90")
        assert "đã nộp" in await officer.send("/danhgia")
        await citizen.send("/start ks_16012")
        await citizen.answer_all([*SURVEY_ANSWERS[:-1], "=SUM(A1:A9)", "nộp"])
        await admin.send("/xuat")
        [document] = admin.documents
    book = openpyxl.load_workbook(io.BytesIO(document.content))
    assert book.sheetnames == [
        "Tự đánh giá",
        "Chi tiết tự đánh giá",
        "Tiêu chí bị hạ điểm",
        "Tiến độ",
        "Khảo sát người dân",
        "Ghi chú",
    ]
    summary = book["Tự đánh giá"]
    header = [c.value for c in summary[1]]
    rows = {row[1]: dict(zip(header, row, strict=True)) for row in summary.iter_rows(min_row=2, values_only=True)}
    assert list(rows) == ["Xã Đông Thành", "Xã Hậu Lộc", "Xã Hoa Lộc", "Xã Triệu Lộc", "Xã Vạn Lộc"]
    assert rows["Xã Hậu Lộc"]["Trạng thái"] == "Đã nộp"
    assert rows["Xã Hậu Lộc"]["Tổng điểm tự chấm (tối đa 100)"] == total
    assert rows["Xã Đông Thành"]["Trạng thái"] == "Chưa bắt đầu"
    assert rows["Xã Hậu Lộc"]["Xếp loại"] == "Chưa có ngưỡng chính thức"
    survey = book["Khảo sát người dân"]  # aggregated, as /xuat khaosat's Tổng hợp: no respondent's row
    header = [c.value for c in survey[1]]
    surveyed = {row[1]: dict(zip(header, row, strict=True)) for row in survey.iter_rows(min_row=2, values_only=True)}
    assert surveyed["Xã Hậu Lộc"]["Số phiếu"] == 1 and surveyed["Tất cả đơn vị"]["Số phiếu"] == 1
    assert surveyed["Xã Hậu Lộc"]["Chỉ số hài lòng: tỷ lệ hài lòng (%)"] == HIDDEN  # one respondent
    cells = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert "=SUM(A1:A9)" not in cells and "Mã phiếu" not in cells


async def test_commands_as_plain_words_without_stealing_answers(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        citizen = Chat(service, "91")
        assert "Khảo sát cho Xã Triệu Lộc" in await citizen.send("Khảo sát 16021")
        await citizen.answer_all(SURVEY_ANSWERS[:-1])
        assert "góp ý" in citizen.text.lower() or "kiến nghị" in citizen.text.lower()
        review = await citizen.send("mọi người cần thêm buổi tuyên truyền")
        assert "Xem lại trước khi nộp" in review
        assert "mọi người cần thêm buổi tuyên truyền" in review
        assert "Đã tạm dừng" in await citizen.send("huỷ")
        assert "Tiếp tục phiếu đang làm dở" in await citizen.send("khao sat")
        assert "Hướng dẫn" in await citizen.send("trợ giúp") or "Các lệnh" in citizen.text


async def test_a_database_error_mid_answer_loses_nothing_and_stores_nothing_partial(
    tmp_path: Path, database_url: str
) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        citizen = Chat(service, "66")
        await citizen.send("/start ks_16012")
        await citizen.send("có")
        failures = iter([True])

        def fail_once(connection: Connection) -> None:
            if next(failures, False):
                raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

        writer = service.db.writer.sync_engine  # the commit of the message's transaction fails
        event.listen(writer, "commit", fail_once)
        try:
            assert "hệ thống vừa gặp lỗi" in await citizen.send("2")
        finally:
            event.remove(writer, "commit", fail_once)
        async with service.db.read() as db:
            [response] = (await db.scalars(select(Response))).all()
        assert response.state["answers"] == {"dong_y": "co"}
        [place] = engine.load_state(response.state)["positions"].values()
        assert place["current"] == "tuoi"
        assert "Câu 3/" in await citizen.send("2")
