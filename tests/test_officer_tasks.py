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
from tests.helpers import TASKS, answer_everything, complete_assessment

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

        await first.send("/danhgia")
        assert "phiếu của riêng anh/chị, đang làm 1/" in _listed(first)[2]
        resumed = await first.send("thí điểm")  # back where they were: the framework's second question
        assert "Câu 2/" in resumed, resumed

        refused = await first.send("/danhgia khong co phieu nay")
        assert "Chưa rõ bạn chọn phương án nào" in refused and TASKS in refused, refused

        await complete_assessment(first, "1", "90")  # picks "Tự đánh giá" from the list
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
