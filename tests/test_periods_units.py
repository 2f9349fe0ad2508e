"""Units managed by admins: a list uploaded in chat (CSV, or /nhapdonvi then .xlsx) or with `pbgdpl units import`,
renaming, ending, merging into a new unit with history kept (earlier periods still export under the old units)."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from bot.cli import main
from conversations.engine import FileRef, Inbound
from storage import repo
from storage.models import Unit
from tests.client import Chat, Clock, SentFiles, running_service

CSV = "code;name;kind;parent\n00070;Xã Thử Nghiệm;xã;38\n00071;Phòng Tư pháp;department;38\n".encode()


def xlsx(rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def test_units_uploaded_renamed_ended_and_merged_with_history(tmp_path: Path) -> None:
    files = {"f-csv": CSV, "f-xlsx": xlsx([["Mã", "Tên", "Loại", "Cấp trên"], ["00072", "Xã Mới Lộc", "commune", ""]])}
    async with running_service(tmp_path, Clock()) as service:
        SentFiles(service, files)
        admin, officer = Chat(service, "admin"), Chat(service, "501")
        sent = await admin._do(Inbound(files=(FileRef("f-csv", "document", "don-vi.csv", "text/csv"),)))
        assert "Đã nhập 2 đơn vị từ don-vi.csv: 2 mới, 0 cập nhật" in sent
        assert "chỉ dành cho quản trị viên" in await officer.send("/nhapdonvi")
        assert "Gửi tệp danh sách đơn vị" in await admin.send("/nhapdonvi")
        sent = await admin._do(Inbound(files=(FileRef("f-xlsx", "document", "don-vi.xlsx", "application/xlsx"),)))
        assert "Đã nhập 1 đơn vị" in sent
        async with service.db.read() as db:
            unit = await repo.get_unit(db, "00070")
            assert unit is not None and unit.parent_code == "38" and unit.kind == "commune"
        assert "Xã Thử Nghiệm → Xã Thử Nghiệm Mới" in await admin.send("/doiten 00070 Xã Thử Nghiệm Mới")
        assert "Xã Thử Nghiệm Mới" in await admin.send("/donvi")

        code = (await admin.send("/moi 00070")).split("dk_")[1].split()[0]
        await officer.send(f"/start dk_{code}")
        asked = await admin.send("/gopdonvi 00070 00072 vao 00090 Xã Hợp Nhất")
        assert "Gộp Xã Thử Nghiệm Mới (00070), Xã Mới Lộc (00072) thành Xã Hợp Nhất (00090)" in asked
        merged = await admin.send("đồng ý")
        assert "thành Xã Hợp Nhất (00090)" in merged and "1 cán bộ chuyển sang đơn vị mới" in merged
        units = await admin.send("/donvi")
        assert "Xã Hợp Nhất" in units and "Xã Thử Nghiệm Mới" not in units and "Xã Mới Lộc" not in units
        assert "Phiếu tự đánh giá kỳ 2026 của Xã Hợp Nhất" in await officer.send("/danhgia")
        assert "không còn áp dụng từ 02/03/2026" in await admin.send("/ngungdonvi 00071")
        assert "Phòng Tư pháp" not in await admin.send("/donvi")
        async with service.db.read() as db:
            new, old = await repo.get_unit(db, "00090"), await repo.get_unit(db, "00070")
            actions = [e.action for e in await repo.audit_entries(db)]
        assert new is not None and new.formed_from == ["00070", "00072"]
        assert old is not None and old.name == "Xã Thử Nghiệm Mới" and str(old.valid_to) == "2026-03-01"
        assert actions == ["units_upload", "units_upload", "unit_rename", "invite", "unit_merge", "unit_deactivate"]
    async with running_service(tmp_path, Clock()) as service:  # the presets applied again leave admins' units
        async with service.db.read() as db:
            kept = await repo.get_unit(db, "00070")
        assert kept is not None and kept.name == "Xã Thử Nghiệm Mới"


async def test_a_bad_list_is_refused_at_the_row(tmp_path: Path) -> None:
    async with running_service(tmp_path) as service:
        bad = b"code,name,kind\n00070,Xa A,commune\n00070,Xa B,commune\n"
        SentFiles(service, {"f": bad})
        reply = await Chat(service, "admin")._do(Inbound(files=(FileRef("f", "document", "x.csv"),)))
        assert "Dòng 3: mã “00070” lặp lại." in reply


def test_pbgdpl_units_import(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in (("PBGDPL_DATA_DIR", str(tmp_path)), ("PBGDPL_PERIOD", "2026"), ("PBGDPL_SECRET", "s")):
        monkeypatch.setenv(name, value)
    (tmp_path / "don-vi.csv").write_bytes(CSV)
    main(["units", "import", str(tmp_path / "don-vi.csv")])
    assert "Đã nhập 2 đơn vị" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="Thiếu cột kind"):
        (tmp_path / "sai.csv").write_text("code,name\n1,A\n", encoding="utf-8")
        main(["units", "import", str(tmp_path / "sai.csv")])


def test_a_unit_list_puts_each_commune_s_offices_under_it_in_vietnamese_order() -> None:
    def unit(code: str, name: str, parent: str | None = None) -> Unit:
        return Unit(code=code, name=name, kind="department" if parent else "commune", parent_code=parent)

    listed = repo.in_unit_order(
        [
            unit("2-vp", "Văn phòng HĐND và UBND xã Vạn Lộc", "2"),
            unit("2", "Xã Vạn Lộc"),
            unit("1-kt", "Phòng Kinh tế xã Hòa Lộc", "1"),
            unit("3", "Xã Ấp Mới"),
            unit("1", "Xã Hòa Lộc"),
            unit("9-kt", "Phòng Kinh tế xã Đã Gộp", "9"),  # its commune is not in the list: listed on its own name
            unit("2-kt", "Phòng Kinh tế xã Vạn Lộc", "2"),
        ]
    )
    assert [u.code for u in listed] == ["9-kt", "3", "1", "1-kt", "2", "2-kt", "2-vp"]
