"""The draft district report, opened again with python-docx; the files converted by LibreOffice where it is
installed; the progress chart arriving on Telegram as a photo."""

from __future__ import annotations

import io
import shutil
import subprocess
import unicodedata
from pathlib import Path

import docx
import pytest

from conversations.answers import number_text
from exports.workbook import HIDDEN
from tests.fakes.telegram import FakeTelegram
from tests.test_exports import (
    CITIZENS,
    HAU_LOC,
    HOA_LOC,
    Seeded,
    consenting,
    export,
    satisfied,
    seeded,  # noqa: F401  (the fixture)
    self_study,
)
from tests.test_telegram_e2e import ADMIN, User, telegram_bot


def cells(table: docx.table.Table) -> list[list[str]]:
    return [[c.text for c in row.cells] for row in table.rows]


async def test_report_is_a_draft_with_the_figures(seeded: Seeded) -> None:  # noqa: F811
    document = await export(seeded, "/xuat báo cáo")
    assert document.filename.startswith("bao-cao-2026-") and document.filename.endswith(".docx")
    assert "DỰ THẢO" in document.caption
    report = docx.Document(io.BytesIO(document.content))
    assert "DỰ THẢO" in report.sections[0].header.paragraphs[0].text
    text = "\n".join(p.text for p in report.paragraphs)
    assert "Kết quả đánh giá hiệu quả công tác phổ biến, giáo dục pháp luật kỳ 2026" in text
    assert "Tự đánh giá: 2/5 đơn vị đã nộp phiếu, 1 đơn vị đang làm, 2 đơn vị chưa bắt đầu" in text
    assert (
        "Khảo sát người dân: 13 phiếu đã nộp tại 3 đơn vị, 1 người từ chối tham gia (tỷ lệ trả lời 92,9 %); "
        "công bố được tỷ lệ của 1 đơn vị (đơn vị, nhóm có dưới 5 người trả lời bị ẩn;" in text
    )
    blanks = [p.text for p in report.paragraphs if p.text.startswith("[Phòng Tư pháp viết:")]
    assert len(blanks) == 4
    assert len(report.inline_shapes) == 3  # progress, totals by unit, satisfaction

    tables = [cells(t) for t in report.tables]
    scores = next(t for t in tables if t[0][0] == "STT")
    assert [row[1] for row in scores[1:]] == ["Xã Hậu Lộc", "Xã Hoa Lộc"]
    own, own_rank = scores[0].index("Tự chấm\n(100)"), scores[0].index("Hạng tự chấm")
    assert [row[own] for row in scores[1:]] == [number_text(seeded.totals[u]) for u in (HAU_LOC, HOA_LOC)]
    assert [row[own_rank] for row in scores[1:]] == ["1", "2"]
    assert [row[-1] for row in scores[1:]] == ["", ""]  # no result is finalised
    assert [row[-2] for row in scores[1:]] == ["Chưa thẩm định"] * 2
    survey = next(t for t in tables if t[0][:2] == ["Đơn vị", "Số phiếu"])
    by_unit = {row[0]: row for row in survey[1:]}
    header = survey[0]
    six = consenting(HAU_LOC)
    column = header.index("Chỉ số hài lòng: tỷ lệ hài lòng (%)")
    assert by_unit["Xã Hậu Lộc"][column] == number_text(satisfied(six))
    assert by_unit["Xã Hoa Lộc"][column] == by_unit["Xã Triệu Lộc"][column] == HIDDEN
    assert by_unit["Tất cả đơn vị"][header.index("Tỷ lệ tự tìm hiểu pháp luật (%)")] == number_text(
        self_study(consenting())
    )
    themes = {row[0]: row[1] for row in next(t for t in tables if t[0][0] == "Nhóm ý kiến")[1:]}
    assert themes["Loa truyền thanh"] == "1" and themes["Mạng xã hội, Zalo, Internet"] == "1"
    assert themes["Ý kiến khác"] == "1"  # "=SUM(A1:A9)"
    everything = text + "\n".join(c for t in tables for row in t for c in row)
    suggestions = [unicodedata.normalize("NFC", c.suggestion) for c in CITIZENS if c.suggestion]
    quoted = [words for words in suggestions if words in everything]
    assert quoted == []  # themes and counts only: a suggestion's words can name its writer
    versus = next(t for t in tables if t[0][:2] == ["Tiêu chí", "Số đơn vị"])
    assert [row[0] for row in versus[1:]] == ["N4.1 (tối đa 4)", "N4.2 (tối đa 6)", "N4.3 (tối đa 5)"]
    assert versus[1][1:] == ["1", "4", "3"]  # one unit with enough respondents; 90 % typed, 83,3 % surveyed


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
async def test_libreoffice_opens_the_files(seeded: Seeded, tmp_path: Path) -> None:  # noqa: F811
    made = [await export(seeded, command) for command in ("/xuat khaosat", "/xuat danhgia", "/xuat baocao")]
    for document in made:
        (tmp_path / document.filename).write_bytes(document.content)
    profile = (tmp_path / "profile").as_uri()
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path / "pdf"),
            *(str(tmp_path / d.filename) for d in made),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    for document in made:
        pdf = tmp_path / "pdf" / (Path(document.filename).stem + ".pdf")
        assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5000, document.filename


async def test_progress_chart_is_a_telegram_photo(tmp_path: Path) -> None:
    async with FakeTelegram() as tg, telegram_bot(tg, tmp_path):
        admin = User(tg, ADMIN)
        await admin.say("/tiendo")
        sent = tg.messages(ADMIN)
        assert "Tiến độ kỳ 2026" in (sent[-2].plain_text or "")
        assert sent[-1].photo is not None and sent[-1].photo.startswith(b"\x89PNG")
        assert [c.method for c in tg.calls if c.method in ("sendPhoto", "sendDocument")] == ["sendPhoto"]
        tg.assert_no_violations()
