"""/giao: an admin lists the open period's assignments, assigns a questionnaire to every unit, a kind or one unit,
and removes one (asked first when it has responses, which are kept); each change is audited. Over the chat, on both
databases."""

from __future__ import annotations

import re
from pathlib import Path

import sqlalchemy as sa

from storage.models import AuditEntry, Response
from tests.client import Chat, Clock, running_service
from tests.helpers import TASKS

HAU_LOC, HOA_LOC = "16012", "16072"


async def _officer(admin: Chat, unit: str) -> Chat:
    officer = Chat(admin.service, f"officer-{unit}")
    code = re.search(r"dk_([A-Z0-9]+)", await admin.send(f"/moi {unit}"))
    assert code
    await officer.send(f"/start dk_{code[1]}")
    return officer


async def test_assign_list_and_remove(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, Clock(), database_url) as service:
        admin = Chat(service, "admin")
        hau_loc, hoa_loc = await _officer(admin, HAU_LOC), await _officer(admin, HOA_LOC)

        listed = await admin.send("/giao")
        assert "1. tu-danh-gia – Tự đánh giá: mọi đơn vị; đơn vị cùng làm một phiếu chung" in listed, listed
        assert "2. khao-sat-nguoi-dan – Khảo sát người dân: mọi xã; người dân" in listed, listed

        assert "Không có bảng hỏi mã “khong-co”. Các mã: khao-sat-nguoi-dan" in await admin.send("/giao khong-co xa")
        assert "Không hiểu “abc”: gõ tatca, xa, phong" in await admin.send("/giao khao-sat-thuc-trang abc")
        assert "/giao bo <số thứ tự>" in await admin.send("/giao tu-danh-gia")

        one = await admin.send(f"/giao tu-danh-gia-thi-diem {HOA_LOC}")
        assert "Đã giao bảng hỏi tu-danh-gia-thi-diem – Khung tiêu chí thí điểm cho Xã Hoa Lộc trong kỳ 2026" in one
        assert "đã được giao cho Xã Hoa Lộc" in await admin.send(f"/giao tu-danh-gia-thi-diem {HOA_LOC}")
        everyone = await admin.send("/giao khao-sat-thuc-trang tất cả")
        assert "cho mọi đơn vị trong kỳ 2026 (mỗi cán bộ một phiếu riêng)" in everyone, everyone

        assert TASKS in await hoa_loc.send("/danhgia")
        assert len(re.findall(r"^\s+\d\. ", hoa_loc.text, re.M)) == 3, hoa_loc.text
        assert "Khung tiêu chí thí điểm" not in await hau_loc.send("/danhgia")
        await hoa_loc.send("thí điểm")  # its draft begins: the assignment has a response now
        await hoa_loc.send("1")

        assert "3. tu-danh-gia-thi-diem – Khung tiêu chí thí điểm: Xã Hoa Lộc" in await admin.send("/giao")
        assert "Không có bảng hỏi số “9”" in await admin.send("/giao bo 9")
        asked = await admin.send("/giao bo 3")
        assert "Bỏ bảng hỏi tu-danh-gia-thi-diem (Xã Hoa Lộc) khỏi kỳ 2026? Đã có 1 phiếu" in asked, asked
        assert "Đã thôi" in await admin.send("thôi")
        assert "3. tu-danh-gia-thi-diem" in await admin.send("/giao")
        await admin.send("/giao bo 3")
        assert "Đã bỏ bảng hỏi tu-danh-gia-thi-diem (Xã Hoa Lộc) khỏi kỳ 2026." in await admin.send("đồng ý")
        assert "– Khung tiêu chí thí điểm" not in await admin.send("/giao")
        assert "Khung tiêu chí thí điểm" not in await hoa_loc.send("/danhgia")

        assert "Đã bỏ bảng hỏi khao-sat-thuc-trang" in await admin.send("/giao bo 3")  # no response: not asked
        assert "Phiếu tự đánh giá kỳ 2026 của Xã Hoa Lộc" in await hoa_loc.send("/danhgia")  # one left: opened

        async with service.db.read() as db:
            actions = (await db.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id))).all()
            kept = (await db.scalars(sa.select(Response.questionnaire_id))).all()
        assert [a for a in actions if a.startswith("assignment")] == [
            "assignment_add",
            "assignment_add",
            "assignment_remove",
            "assignment_remove",
        ]
        assert "tu-danh-gia-thi-diem" in kept, "a removed assignment's responses are kept"
        assert "/giao" in await admin.send("/trogiup")


def test_a_payload_names_a_questionnaire_and_old_ones_still_read() -> None:
    from bot.channels.registry import read_survey_payload, survey_payload

    assert survey_payload("16012") == "ks_16012"
    for unit in ("16012", "hl23-phong-tu-phap", "don_vi_cu"):
        for questionnaire in (None, "khao-sat-phong-ban"):
            assert read_survey_payload(survey_payload(unit, questionnaire)[3:]) == (unit, questionnaire)


async def test_a_deep_link_opens_the_survey_it_names(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, Clock(), database_url) as service:
        admin = Chat(service, "admin")
        assert "Đã giao" in await admin.send(f"/giao khao-sat-phong-ban {HAU_LOC}")
        staff, citizen, stray = Chat(service, "staff-1"), Chat(service, "citizen-1"), Chat(service, "stray-1")

        named = await staff.send(f"/start ks_{HAU_LOC}__khao-sat-phong-ban")
        assert "Khảo sát cho Xã Hậu Lộc." in named and "cán bộ, công chức, viên chức" in named, named
        plain = await citizen.send(f"/start ks_{HAU_LOC}")  # a link printed before: the unit's first survey
        assert "Khảo sát cho Xã Hậu Lộc." in plain and "cán bộ, công chức, viên chức" not in plain, plain
        refused = await stray.send(f"/start ks_{HOA_LOC}__khao-sat-phong-ban")
        assert "Khảo sát của đường dẫn này không mở cho Xã Hoa Lộc trong kỳ 2026" in refused, refused

        async with service.db.read() as db:
            query = sa.select(Response.questionnaire_id, Response.unit_code).order_by(Response.id)
            rows = (await db.execute(query)).all()
        assert [tuple(r) for r in rows] == [("khao-sat-phong-ban", HAU_LOC), ("khao-sat-nguoi-dan", HAU_LOC)]
