"""/danhgia with several questionnaires: the unit's shared drafts and the officer's own survey, listed with their
state, picked by button, number or name; each keeps its draft and each officer's place. Over the chat, on both
databases."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from bot import assignments
from storage.models import Assignment, Response
from tests.client import Chat, Clock, running_service
from tests.helpers import TASKS, answer_everything, complete_assessment, open_questionnaire, outbox

HAU_LOC = "16012"
RULES = (
    assignments.Rule("tu-danh-gia", assignments.Scope.ALL),
    assignments.Rule("tu-danh-gia-thi-diem", assignments.Scope.ALL),
    assignments.Rule("khao-sat-thuc-trang", assignments.Scope.ALL),
    assignments.Rule("khao-sat-nguoi-dan", assignments.Scope.KIND, "commune"),
)


async def _officer(admin: Chat, unit: str, name: str) -> Chat:
    officer = Chat(admin.service, name)
    code = re.search(r"dk_([A-Z0-9]+)", await admin.send(f"/moi {unit}"))
    assert code
    await officer.send(f"/start dk_{code[1]}")
    return officer


def _listed(chat: Chat) -> list[str]:
    return [line.strip() for line in chat.text.splitlines() if re.match(r"\s+\d\. ", line)]


async def test_several_questionnaires_listed_picked_and_kept(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, Clock(), database_url) as service:
        async with service.db.write() as db:
            await db.execute(sa.delete(Assignment).where(Assignment.period_code == "2026"))
            for rule in RULES:
                await assignments.assign(db, "2026", rule, service.clock())
        admin = Chat(service, "admin")
        first, second = await _officer(admin, HAU_LOC, "o-1"), await _officer(admin, HAU_LOC, "o-2")

        assert TASKS in await first.send("/danhgia")
        assert _listed(first) == [
            "1. Tự đánh giá — chưa bắt đầu",
            "2. Khung tiêu chí thí điểm — chưa bắt đầu",
            "3. Khảo sát thực trạng — phiếu của riêng anh/chị, chưa bắt đầu",
        ]
        assert TASKS in await first.send("đánh giá")  # the command's own words at the list: the list again
        opened = await first.send("2")  # by number
        assert "Khung tiêu chí thí điểm: phiếu tự đánh giá kỳ 2026 của Xã Hậu Lộc" in opened, opened
        await first.send("1")  # the first question of the framework answered
        await first.send("/danhgia")
        pilot = _listed(first)[1]
        assert re.fullmatch(r"2\. Khung tiêu chí thí điểm — đang làm 1/\d+", pilot), pilot

        own = await first.send("khảo sát thực trạng")  # by name
        assert "Khảo sát thực trạng: phiếu kỳ 2026 của riêng anh/chị" in own, own
        await first.send("1")

        await second.send("/danhgia")  # the unit's draft is shared; the survey of practice is each officer's own
        assert _listed(second)[1] == pilot
        assert _listed(second)[2] == "3. Khảo sát thực trạng — phiếu của riêng anh/chị, chưa bắt đầu"
        await second.tap(_listed(second)[2][3:])  # by button
        assert "Khảo sát thực trạng: phiếu kỳ 2026 của riêng anh/chị" in second.text
        await second.send("/danhgia")
        typed = await second.send("Tự đánh giá")  # a title that is also the command's words picks it
        assert "Tự đánh giá: phiếu tự đánh giá kỳ 2026 của Xã Hậu Lộc" in typed, typed

        await first.send("/danhgia")
        assert "phiếu của riêng anh/chị, đang làm 1/" in _listed(first)[2]
        resumed = await first.send("thí điểm")  # back where they were: the framework's second question
        assert "Câu 2/" in resumed, resumed

        refused = await first.send("/danhgia khong co phieu nay")
        assert "Chưa rõ bạn chọn phương án nào" in refused and TASKS in refused, refused

        await complete_assessment(first, "1", "90")  # picks "Tự đánh giá" from the list
        [told] = (await outbox(service, "draft_submitted"))["o-2"]  # who had a place in that draft: named
        assert "vừa nộp phiếu tự đánh giá “Tự đánh giá” (tu-danh-gia) kỳ 2026 của Xã Hậu Lộc" in told, told
        await first.send("/danhgia thuc trang")
        await answer_everything(first, "1", "90")
        assert "Đã nộp phiếu" in await first.tap("Nộp phiếu")
        await first.send("/danhgia")  # only the framework is left: it opens at once
        assert "Khung tiêu chí thí điểm: phiếu tự đánh giá" in first.text
        await answer_everything(first, "1", "90")
        assert "Đã nộp phiếu" in await first.tap("Nộp phiếu")

        await first.send("/danhgia")  # everything sent: the list says so
        assert _listed(first) == [
            "1. Tự đánh giá — đã nộp",
            "2. Khung tiêu chí thí điểm — đã nộp",
            "3. Khảo sát thực trạng — phiếu của riêng anh/chị, đã nộp",
        ]
        assert "đã nộp phiếu “Khảo sát thực trạng” kỳ 2026" in await first.send("3")

        async with service.db.read() as db:
            rows = (await db.scalars(sa.select(Response).where(Response.unit_code == HAU_LOC))).all()
        kinds = sorted((r.questionnaire_id, r.respondent is None, r.status) for r in rows)
        assert kinds == [
            ("khao-sat-thuc-trang", False, "draft"),
            ("khao-sat-thuc-trang", False, "submitted"),
            ("tu-danh-gia", True, "submitted"),
            ("tu-danh-gia-thi-diem", True, "submitted"),
        ]


async def test_review_names_the_self_assessment_when_a_unit_has_several(tmp_path: Path, database_url: str) -> None:
    """/xem, /duyet, /tralai and /minhchung ask which self-assessment when the unit has several, and name it."""
    async with running_service(tmp_path, Clock(), database_url) as service:
        async with service.db.write() as db:
            await db.execute(sa.delete(Assignment).where(Assignment.period_code == "2026"))
            for rule in RULES:
                await assignments.assign(db, "2026", rule, service.clock())
        admin = Chat(service, "admin")
        officer = await _officer(admin, HAU_LOC, "o-1")
        await complete_assessment(officer, "1", "90")
        await complete_assessment_untotalled(officer, "Khung tiêu chí thí điểm")

        several = await admin.send(f"/xem {HAU_LOC}")
        assert "Kỳ 2026, Xã Hậu Lộc làm 2 phiếu tự đánh giá: Tự đánh giá (tu-danh-gia), Khung tiêu chí" in several
        assert f"/xem {HAU_LOC} tu-danh-gia." in several, several
        shown = await admin.send(f"/xem {HAU_LOC} tu-danh-gia-thi-diem")
        assert shown.startswith("Khung tiêu chí thí điểm (tu-danh-gia-thi-diem)") and "Đã nộp" in shown, shown
        assert "Tổng điểm" not in shown, "a framework without points shows none"
        assert "Ghi mã bảng hỏi" in await officer.send("/xem")
        assert "Tự đánh giá (tu-danh-gia)" in await officer.send(f"/xem {HAU_LOC} tu-danh-gia 2026")
        assert (await officer.send("/xem tu-danh-gia-thi-diem")).startswith("Khung tiêu chí thí điểm (tu-danh-gia-")
        refused = await admin.send(f"/xem {HAU_LOC} khao-sat-thuc-trang")
        assert "không giao bảng hỏi “khao-sat-thuc-trang” cho Xã Hậu Lộc" in refused, refused

        assert f"/duyet {HAU_LOC} tu-danh-gia." in await admin.send(f"/duyet {HAU_LOC}")
        approved = await admin.send(f"/duyet {HAU_LOC} tu-danh-gia")
        assert "Đã duyệt phiếu tự đánh giá “Tự đánh giá” (tu-danh-gia) kỳ 2026 của Xã Hậu Lộc" in approved, approved
        assert "Ghi mã bảng hỏi" in await admin.send(f"/tralai {HAU_LOC} ĐV1 thiếu số liệu")
        returned = await admin.send(f"/tralai {HAU_LOC} tu-danh-gia-thi-diem ĐV1 thiếu số liệu")
        assert "Đã trả lại phiếu “Khung tiêu chí thí điểm” (tu-danh-gia-thi-diem) của Xã Hậu Lộc" in returned, returned
        async with service.db.read() as db:
            query = sa.select(Response.questionnaire_id, Response.status).where(Response.respondent.is_(None))
            statuses = {qid: status for qid, status in (await db.execute(query)).all()}
        assert statuses == {"tu-danh-gia": "approved", "tu-danh-gia-thi-diem": "returned"}
        assert "Ghi mã bảng hỏi" in await admin.send(f"/minhchung {HAU_LOC}")
        files = await admin.send(f"/minhchung {HAU_LOC} tu-danh-gia")
        assert "Minh chứng của Xã Hậu Lộc kỳ 2026 “Tự đánh giá” (tu-danh-gia)" in files, files

        framework = "“Khung tiêu chí thí điểm” (tu-danh-gia-thi-diem) kỳ 2026"
        tt03 = "“Tự đánh giá” (tu-danh-gia) kỳ 2026"
        [told] = (await outbox(service, "approved"))["o-1"]
        assert f"Phiếu tự đánh giá {tt03} của Xã Hậu Lộc đã được Phòng Tư pháp duyệt. Tổng điểm: " in told, told
        [told] = (await outbox(service, "returned"))["o-1"]
        assert f"trả lại phiếu tự đánh giá {framework} của Xã Hậu Lộc để sửa 1 tiêu chí" in told, told
        assert "thiếu số liệu" in told
        await open_questionnaire(officer, "Khung tiêu chí thí điểm")
        await answer_everything(officer, "2", "80")
        assert "Đã nộp phiếu" in await officer.tap("Nộp phiếu")
        [told] = (await outbox(service, "resubmitted"))["admin"]
        assert f"Xã Hậu Lộc đã nộp lại phiếu tự đánh giá {framework}" in told, told
        assert f"/xem {HAU_LOC} tu-danh-gia-thi-diem để xem, /duyet {HAU_LOC} tu-danh-gia-thi-diem" in told, told
        assert "Tổng điểm" not in told, told

        assert "Đã thẩm định đủ" in await admin.send(f"/chamdiem {HAU_LOC} tu-danh-gia dongy")
        await admin.send(f"/chot {HAU_LOC} tu-danh-gia")
        assert "Đã chốt kết quả thẩm định" in await admin.send("đồng ý")
        [told] = (await outbox(service, "verified"))["o-1"]
        assert f"đã chốt kết quả thẩm định phiếu tự đánh giá {tt03} của Xã Hậu Lộc" in told, told
        await admin.send(f"/chot {HAU_LOC} tu-danh-gia mo lai Bổ sung minh chứng")
        await admin.send("đồng ý")
        [told] = (await outbox(service, "reopened"))["o-1"]
        assert f"mở lại việc thẩm định phiếu tự đánh giá {tt03} của Xã Hậu Lộc (Bổ sung minh chứng)" in told, told


async def complete_assessment_untotalled(officer: Chat, title: str) -> None:
    """Open a self-assessment that has no points by its title, answer everything and submit."""
    await open_questionnaire(officer, title)
    await answer_everything(officer, "1", "90")
    assert "Đã nộp phiếu" in await officer.tap("Nộp phiếu")
