"""Issue 12.5: a unit file never overwrites silently. Changes to existing units are shown (old → new name, kind,
parent) and applied only once the admin says yes; a commune with responses leaving the survey list is warned
about; earlier names are kept with their dates, so an earlier period exports under the names it had."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
from sqlalchemy import select

from conversations.engine import FileRef, Inbound
from storage import repo
from storage.models import UnitName
from tests.client import Chat, Clock, SentFiles, running_service
from tests.test_exports import strings
from tests.test_service import SURVEY_ANSWERS

FIRST = "code;name;kind;parent\n00070;Xã Thử Nghiệm;xã;38\n".encode()
CHANGED = "code;name;kind;parent\n00070;Trung tâm Thử Nghiệm;phòng;39\n00073;Xã Thêm;xã;38\n".encode()
FILES = {"first": FIRST, "changed": CHANGED}


def sent(file_id: str) -> Inbound:
    return Inbound(files=(FileRef(file_id, "document", f"{file_id}.csv", "text/csv"),))


async def test_a_file_that_changes_units_waits_for_the_admins_yes(tmp_path: Path, database_url: str) -> None:
    clock = Clock()
    async with running_service(tmp_path, clock, database_url) as service:
        SentFiles(service, FILES)
        admin, citizen = Chat(service, "admin"), Chat(service, "5")
        assert "Đã nhập 1 đơn vị từ first.csv: 1 mới, 0 cập nhật" in await admin._do(sent("first"))
        assert "Đã nhập 1 đơn vị" in await admin._do(sent("first")), "the same file again changes nothing: no question"
        await citizen.send("/start ks_00070")
        await citizen.answer_all([*SURVEY_ANSWERS, "nộp"])
        clock.advance(days=314)  # 10/01/2027: after the 2026 period's deadline

        asked = await admin._do(sent("changed"))
        assert "Tệp changed.csv thay đổi 1 đơn vị đang có" in asked
        assert "• 00070: tên Xã Thử Nghiệm → Trung tâm Thử Nghiệm; loại xã → phòng ban; cấp trên 38 → 39" in asked
        assert "⚠ Xã Thử Nghiệm (00070) đã có 1 phiếu" in asked and "không còn trong danh sách khảo sát" in asked
        assert "đồng ý" in asked
        assert "Đã thôi, không có gì thay đổi" in await admin.send("thôi")
        assert "Trung tâm" not in await admin.send("/donvi") and "Xã Thêm" not in admin.text

        await admin._do(sent("changed"))
        clock.advance(minutes=11)
        assert "quá 10 phút" in await admin.send("đồng ý")
        assert "Xã Thêm" not in await admin.send("/donvi")

        await admin._do(sent("changed"))
        assert "Đã nhập 2 đơn vị từ changed.csv: 1 mới, 1 cập nhật" in await admin.press("confirm:yes")
        units = await admin.send("/donvi")
        assert "00070 – Trung tâm Thử Nghiệm" in units and "00073 – Xã Thêm" in units
        async with service.db.read() as db:
            unit = await repo.get_unit(db, "00070")
            [earlier] = (await db.scalars(select(UnitName))).all()
            picker = [u.code for u in (await service.survey_units(db))[0]]
        assert unit is not None and (unit.kind, unit.parent_code) == ("department", "39")
        assert (earlier.unit_code, earlier.name, str(earlier.used_until)) == ("00070", "Xã Thử Nghiệm", "2027-01-09")
        assert "00070" not in picker and "00073" in picker

        await admin.send("/xuat khaosat 2026")
        [document] = admin.documents
        names = strings(openpyxl.load_workbook(io.BytesIO(document.content)))
        assert "Xã Thử Nghiệm" in names and not any("Trung tâm Thử Nghiệm" in n for n in names)

        assert "Trung tâm Mới" in await admin.send("/doiten 00070 Trung tâm Mới")
        async with service.db.read() as db:
            assert [n.name for n in await db.scalars(select(UnitName).order_by(UnitName.id))] == [
                "Xã Thử Nghiệm",
                "Trung tâm Thử Nghiệm",
            ]
            now = await repo.get_unit(db, "00070")
            assert now is not None
            [today] = await repo.named_on(db, [now], clock().date())
            [yesterday] = await repo.named_on(db, [now], earlier.used_until)
        assert (today.name, yesterday.name) == ("Trung tâm Mới", "Xã Thử Nghiệm")
