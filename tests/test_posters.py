"""Posters for citizens: /qr through Telegram sends a PNG and a PDF, `pbgdpl qr --all` writes one per unit, and
the QR code printed on the poster is the Telegram deep link of the unit's survey.

The QR check reads the code back from the PNG: the pure-black pixels (only the code is drawn in pure black) give its
box, the top-left finder pattern (7 modules wide) gives the module size and so the number of modules, and each
module is sampled at its centre. The matrix read must be exactly segno's encoding of the expected link, which is
what a scanner would decode (no pure-Python QR decoder is needed; pyzbar would need the zbar system library)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from bot.channels.registry import SURVEY_PAYLOAD
from bot.channels.telegram import TelegramLinks
from bot.cli import main
from exports.poster import make_poster, qr_modules
from tests.client import Chat, running_service
from tests.fakes.telegram import FakeTelegram
from tests.test_telegram_e2e import ADMIN, OFFICER, User, telegram_bot


def modules_in(png: bytes) -> list[list[bool]]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    pixels = image.load()
    assert pixels is not None
    black = [(x, y) for y in range(0, height) for x in range(0, width) if pixels[x, y] == (0, 0, 0)]
    left, top = min(x for x, _ in black), min(y for _, y in black)
    right, bottom = max(x for x, _ in black), max(y for _, y in black)
    run = next(x for x in range(left, right + 2) if pixels[x, top] != (0, 0, 0)) - left
    module = run / 7
    count = round((right - left + 1) / module)
    assert count == round((bottom - top + 1) / module), "a square code"
    return [
        [pixels[int(left + (i + 0.5) * module), int(top + (j + 0.5) * module)] == (0, 0, 0) for i in range(count)]
        for j in range(count)
    ]


def survey_link(unit_code: str) -> str:
    link = TelegramLinks("pbgdpl_bot").deep_link(SURVEY_PAYLOAD.format(code=unit_code))
    assert link is not None
    return link


def test_the_poster_carries_the_qr_code_of_the_units_survey_link() -> None:
    link = survey_link("16012")
    assert link == "https://t.me/pbgdpl_bot?start=ks_16012"
    made = make_poster("Xã Hậu Lộc", "16012", link)
    assert made.pdf.startswith(b"%PDF") and made.png.startswith(b"\x89PNG")
    assert Image.open(io.BytesIO(made.png)).size == (1654, 2338), "A4 at 200 dpi"
    read = modules_in(made.png)
    assert read == qr_modules(link)
    assert read != qr_modules(survey_link("16021")), "the check tells units apart"


async def test_qr_in_chat_sends_a_png_and_a_pdf_to_admins_only(tmp_path: Path) -> None:
    async with FakeTelegram() as tg, telegram_bot(tg, tmp_path):
        admin, officer = User(tg, ADMIN), User(tg, OFFICER)
        assert "chỉ dành cho quản trị viên" in await officer.say("/qr 16012")
        assert "Không tìm thấy đơn vị" in await admin.say("/qr 99999")
        await admin.say("/qr 16072")
        photo, document = tg.messages(ADMIN)[-2:]
        assert photo.photo is not None and "Áp phích khảo sát của Xã Hoa Lộc" in (photo.caption or "")
        assert document.document is not None and document.document.file_name == "ap-phich-khao-sat-16072.pdf"
        assert document.document.data.startswith(b"%PDF")
        tg.assert_no_violations()


async def test_without_telegram_the_chat_says_why_no_code(tmp_path: Path) -> None:
    async with running_service(tmp_path) as service:
        assert "Chưa biết tên bot Telegram" in await Chat(service, "admin").send("/qr 16012")


def test_pbgdpl_qr_all_writes_one_poster_per_unit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (("PBGDPL_DATA_DIR", str(tmp_path)), ("PBGDPL_PERIOD", "2026"), ("PBGDPL_SECRET", "s")):
        monkeypatch.setenv(name, value)
    main(["qr", "--all", "--bot", "pbgdpl_bot", "-o", str(tmp_path / "ap-phich")])
    written = sorted(p.name for p in (tmp_path / "ap-phich").iterdir())
    assert len(written) == 10 and "ap-phich-khao-sat-16078.pdf" in written
    png = (tmp_path / "ap-phich" / "ap-phich-khao-sat-16078.png").read_bytes()
    assert modules_in(png) == qr_modules("https://t.me/pbgdpl_bot?start=ks_16078")
