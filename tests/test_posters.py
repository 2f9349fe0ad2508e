"""Posters for public surveys: /qr through Telegram sends a PNG and a PDF per public survey of the unit (or the one
named), `pbgdpl qr --all` writes one per unit and survey, and the QR code printed on the poster is the Telegram deep
link naming the survey; with the Zalo Official Account configured, a second code opens the OA and the words printed
beside it open the same survey over Zalo.

The QR check reads a code back from the PNG: the pure-black pixels (only the codes are drawn in pure black) of one
half of the page give its box, the top-left finder pattern (7 modules wide) gives the module size and so the number
of modules, and each module is sampled at its centre. The matrix read must be exactly segno's encoding of the
expected link, which is what a scanner would decode (no pure-Python QR decoder is needed; pyzbar would need the zbar
system library)."""

from __future__ import annotations

import asyncio
import io
import re
from contextlib import AsyncExitStack
from datetime import date
from pathlib import Path

import aiohttp
import pytest
from PIL import Image, ImageColor

from bot import events, posters
from bot.app import open_service
from bot.channels.registry import survey_payload
from bot.channels.telegram import TelegramLinks
from bot.cli import main
from bot.config import ConfigError, load_settings
from exports.poster import RESULTS_INK, PosterText, ZaloCode, make_poster, qr_modules
from storage import repo
from tests.client import Chat, running_service
from tests.fakes.telegram import FakeTelegram
from tests.test_channels_e2e import zalo_oa_network
from tests.test_telegram_e2e import ADMIN, OFFICER, User, telegram_bot

OA_ID = "4318636541427040178"


BLACK = (0, 0, 0)
RESULTS_RGB = ImageColor.getrgb(RESULTS_INK)


def modules_in(png: bytes, part: tuple[float, float] = (0.0, 1.0), ink: tuple[int, ...] = BLACK) -> list[list[bool]]:
    """The code drawn in `ink` in a part of the page's width (from, to, as shares of it)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    pixels = image.load()
    assert pixels is not None
    columns = range(int(part[0] * width), int(part[1] * width))
    dark = [(x, y) for y in range(0, height) for x in columns if pixels[x, y] == ink]
    assert dark, f"no code in {ink}"
    left, top = min(x for x, _ in dark), min(y for _, y in dark)
    right, bottom = max(x for x, _ in dark), max(y for _, y in dark)
    run = next(x for x in range(left, right + 2) if pixels[x, top] != ink) - left
    module = run / 7
    count = round((right - left + 1) / module)
    assert count == round((bottom - top + 1) / module), "a square code"
    return [
        [pixels[int(left + (i + 0.5) * module), int(top + (j + 0.5) * module)] == ink for i in range(count)]
        for j in range(count)
    ]


def has_results_code(png: bytes) -> bool:
    colours = Image.open(io.BytesIO(png)).convert("RGB").getcolors(1 << 24)
    assert colours is not None
    return any(colour == RESULTS_RGB for _, colour in colours)


def survey_link(unit_code: str, questionnaire: str = "khao-sat-nguoi-dan", bot: str = "pbgdpl_bot") -> str:
    link = TelegramLinks(bot).deep_link(survey_payload(unit_code, questionnaire))
    assert link is not None
    return link


def test_the_poster_carries_the_qr_code_of_the_surveys_link_and_only_it_without_zalo() -> None:
    link = survey_link("16012")
    assert link == "https://t.me/pbgdpl_bot?start=ks_16012__khao-sat-nguoi-dan"
    made = make_poster(PosterText("Khảo sát người dân", "Xã Hậu Lộc", link))
    assert made.pdf.startswith(b"%PDF") and made.png.startswith(b"\x89PNG")
    assert Image.open(io.BytesIO(made.png)).size == (1654, 2338), "A4 at 200 dpi"
    read = modules_in(made.png)
    assert read == qr_modules(link), "one code on the page: the Telegram one"
    assert read != qr_modules(survey_link("16021")), "the check tells units apart"
    assert read != qr_modules(survey_link("16012", "khao-sat-phong-ban")), "and surveys"
    assert not has_results_code(made.png), "no results without their address"


def test_the_results_code_is_drawn_apart_from_the_surveys_codes() -> None:
    link, oa = survey_link("16012"), f"https://zalo.me/{OA_ID}"
    results = "https://pbgdpl.example.vn/ketqua/16012?bang=khao-sat-nguoi-dan"
    zalo = ZaloCode("PBGDPL Hậu Lộc", oa, "khảo sát 16012 khao-sat-nguoi-dan")
    for z, telegram in ((None, (0.0, 1.0)), (zalo, (0.0, 0.5))):
        made = make_poster(PosterText("Khảo sát người dân", "Xã Hậu Lộc", link, z, results))
        assert modules_in(made.png, ink=RESULTS_RGB) == qr_modules(results)
        assert modules_in(made.png, telegram) == qr_modules(link), "the survey's code stays the black one"


def test_with_the_zalo_account_the_poster_carries_its_code_beside_telegrams() -> None:
    link, oa = survey_link("16012"), f"https://zalo.me/{OA_ID}"
    zalo = ZaloCode("PBGDPL Hậu Lộc", oa, "khảo sát 16012 khao-sat-nguoi-dan")
    made = make_poster(PosterText("Khảo sát người dân", "Xã Hậu Lộc", link, zalo))
    assert modules_in(made.png, (0.0, 0.5)) == qr_modules(link)
    assert modules_in(made.png, (0.5, 1.0)) == qr_modules(oa)


def test_the_zalo_account_needs_its_name_and_id_together(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PBGDPL_ZALO_OA_NAME", "PBGDPL Hậu Lộc")
    with pytest.raises(ConfigError, match="cần cả PBGDPL_ZALO_OA_NAME và PBGDPL_ZALO_OA_ID"):
        load_settings()
    monkeypatch.setenv("PBGDPL_ZALO_OA_ID", "zalo.me/abc")
    with pytest.raises(ConfigError, match="PBGDPL_ZALO_OA_ID: mã Official Account Zalo chỉ gồm chữ số"):
        load_settings()
    monkeypatch.setenv("PBGDPL_ZALO_OA_ID", OA_ID)
    assert load_settings().zalo_oa_id == OA_ID


async def test_qr_in_chat_sends_a_png_and_a_pdf_per_survey_to_admins_only(tmp_path: Path) -> None:
    async with FakeTelegram() as tg, telegram_bot(tg, tmp_path):
        admin, officer = User(tg, ADMIN), User(tg, OFFICER)
        assert "chỉ dành cho quản trị viên" in await officer.say("/qr 16012")
        assert "Không tìm thấy đơn vị" in await admin.say("/qr 99999")
        said = await admin.say("/qr 16072 khao-sat-phong-ban")
        assert "không giao cho Xã Hoa Lộc" in said and "khao-sat-nguoi-dan" in said
        assert "Đã giao" in await admin.say("/giao y-kien-hoi-thao 16072")
        await admin.say("/qr 16072")
        sent = tg.messages(ADMIN)[-4:]
        assert [m.document.file_name for m in sent[1::2] if m.document] == [
            "ap-phich-khao-sat-nguoi-dan-16072.pdf",
            "ap-phich-y-kien-hoi-thao-16072.pdf",
        ]
        photo = sent[2]
        assert photo.photo is not None and "Áp phích “Ý kiến hội thảo, tọa đàm” của Xã Hoa Lộc" in (photo.caption or "")
        assert modules_in(photo.photo) == qr_modules(survey_link("16072", "y-kien-hoi-thao", tg.bot_username))
        before = len(tg.messages(ADMIN))
        await admin.say("/qr 16072 khao-sat-nguoi-dan")
        named = tg.messages(ADMIN)[before:]
        assert [m.document.file_name for m in named if m.document] == ["ap-phich-khao-sat-nguoi-dan-16072.pdf"]
        tg.assert_no_violations()


async def test_without_telegram_the_chat_says_why_no_code(tmp_path: Path) -> None:
    async with running_service(tmp_path) as service:
        assert "Chưa biết tên bot Telegram" in await Chat(service, "admin").send("/qr 16012")


async def test_the_words_on_the_poster_open_its_survey_over_zalo(tmp_path: Path, database_url: str) -> None:
    async with AsyncExitStack() as stack:
        net = await zalo_oa_network(
            stack,
            tmp_path,
            database_url=database_url,
            telegram_bot_username="pbgdpl_bot",
            zalo_oa_name="PBGDPL Hậu Lộc",
            zalo_oa_id=OA_ID,
        )
        admin, citizen = net.people["admin"], net.people["citizen"]
        await admin.say("/giao y-kien-hoi-thao 16012")
        offer = await admin.say("/qr 16012")
        links = re.findall(r"http://127\.0\.0\.1:\d+/exports/\S+", "\n".join(offer))
        assert len(links) == 4, offer
        async with aiohttp.ClientSession() as session, session.get(links[2]) as response:
            png = await response.read()
        assert modules_in(png, (0.0, 0.5)) == qr_modules(survey_link("16012", "y-kien-hoi-thao"))
        assert modules_in(png, (0.5, 1.0)) == qr_modules(f"https://zalo.me/{OA_ID}")
        async with net.service.db.read() as db:
            unit = await repo.get_unit(db, "16012")
        assert unit is not None
        seminar = posters.of_unit(unit, net.service.questionnaires["y-kien-hoi-thao"])
        assert seminar.words == "khảo sát 16012 y-kien-hoi-thao"
        opened = "\n".join(await citizen.say(seminar.words))
        assert "người tham dự hội thảo, tọa đàm" in opened and "Xã Hậu Lộc" in opened
        await citizen.say("/huy")
        citizens = posters.of_unit(unit, net.service.questionnaires["khao-sat-nguoi-dan"])
        opened = "\n".join(await citizen.say(citizens.words.replace("khảo sát", "khao sat")))
        assert "về việc tuyên truyền, phổ biến pháp luật ở địa phương" in opened, "typed without diacritics too"


def test_pbgdpl_qr_all_writes_one_poster_per_unit_and_survey_and_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (("PBGDPL_DATA_DIR", str(tmp_path)), ("PBGDPL_PERIOD", "2026"), ("PBGDPL_SECRET", "s")):
        monkeypatch.setenv(name, value)
    asyncio.run(an_event())
    main(["qr", "--all", "--bot", "pbgdpl_bot", "-o", str(tmp_path / "ap-phich")])
    written = sorted(p.name for p in (tmp_path / "ap-phich").iterdir())
    assert "ap-phich-khao-sat-nguoi-dan-16078.pdf" in written and "ap-phich-khao-sat-phong-ban-16012-vp.pdf" in written
    assert len(written) == 42, "the shipped preset: 5 communes' citizen survey, 15 departments' staff survey, 1 event"
    png = (tmp_path / "ap-phich" / "ap-phich-khao-sat-nguoi-dan-16078.png").read_bytes()
    assert modules_in(png) == qr_modules("https://t.me/pbgdpl_bot?start=ks_16078__khao-sat-nguoi-dan")
    png = (tmp_path / "ap-phich" / "ap-phich-su-kien-1.png").read_bytes()
    assert modules_in(png) == qr_modules("https://t.me/pbgdpl_bot?start=sk_1")


async def an_event() -> None:
    """An event of the open period, made as /sukien makes it."""
    async with open_service(load_settings()) as service, service.db.write() as db:
        unit = await repo.get_unit(db, "16012")
        period = await repo.current_period(db)
        assert unit is not None and period is not None
        planned = events.Planned("Hội nghị", date(2026, 12, 5), unit, service.questionnaires["khao-sat-nguoi-dan"])
        await events.create(db, period.code, planned, None, service.clock())
