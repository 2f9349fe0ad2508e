"""`pbgdpl questionnaire export` and `pbgdpl questionnaire check`: the workbook staff start from, and a check that
installs nothing."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from bot.cli import main as cli_main
from tests.test_questionnaire_upload import add_criterion


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PBGDPL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PBGDPL_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
    monkeypatch.setenv("PBGDPL_SECRET", "test-secret")
    monkeypatch.setenv("PBGDPL_PERIOD", "2026")
    return tmp_path


def test_export_then_check(environment: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = environment / "tu-danh-gia.xlsx"
    cli_main(["questionnaire", "export", "tu-danh-gia", "-o", str(output)])
    printed = capsys.readouterr().out
    assert "Đã ghi" in printed and "phiên bản 2026.1" in printed
    survey = openpyxl.load_workbook(output)["survey"]
    names = [row[1] for row in survey.iter_rows(min_row=2, values_only=True)]
    # written so that LibreOffice does not read "_xa_" as an escaped line break; read back as n2_mang_xa_hoi
    assert "n2_mang_x005F_xa_hoi" in names and "n2_mang_xa_hoi" not in names

    cli_main(["questionnaire", "check", str(output)])
    said = capsys.readouterr().out
    assert "tu-danh-gia.xlsx: dùng được." in said and "36 câu hỏi trong 5 nhóm; tối đa 100 điểm" in said
    assert said.rstrip().endswith("• không có")

    output.write_bytes(add_criterion(output.read_bytes()))
    cli_main(["questionnaire", "check", str(output)])
    assert "• Thêm câu N5.5" in capsys.readouterr().out

    book = openpyxl.load_workbook(output)
    book["survey"].cell(3, 1, "geopoint")
    broken = io.BytesIO()
    book.save(broken)
    output.write_bytes(broken.getvalue())
    with pytest.raises(SystemExit) as refused:
        cli_main(["questionnaire", "check", str(output)])
    assert refused.value.code == 1
    assert "• trang “survey”, dòng 3, cột “type”: loại “geopoint” chưa được hỗ trợ" in capsys.readouterr().out


def test_export_of_an_unknown_questionnaire_or_version(environment: Path) -> None:
    with pytest.raises(
        SystemExit,
        match=r"Không có bảng hỏi “khong-co”\. Các mã: khao-sat-nguoi-dan, khao-sat-phong-ban, "
        r"khao-sat-thuc-trang, tu-danh-gia, tu-danh-gia-thi-diem, y-kien-hoi-thao",
    ):
        cli_main(["questionnaire", "export", "khong-co", "-o", str(environment / "x.xlsx")])
    with pytest.raises(SystemExit, match="Không có bảng hỏi “tu-danh-gia” phiên bản 9"):
        cli_main(["questionnaire", "export", "tu-danh-gia", "--version", "9", "-o", str(environment / "x.xlsx")])
