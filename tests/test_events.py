"""Events over Telegram and Zalo OA on both databases: an admin makes an event with /sukien and gets its poster (its
own QR code, `sk_<id>`); one citizen answers the commune's survey through the commune's link, another through the
event's; the responses are told apart by the event they came by: /sukien counts the event's, /tiendo and the survey
workbook show them apart and together."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import date
from pathlib import Path

import aiohttp
import openpyxl
import pytest
from sqlalchemy import select

from bot.channels.registry import event_payload, survey_payload
from bot.channels.telegram import TelegramLinks
from exports.poster import qr_modules
from exports.survey import events_sheet
from exports.workbook import HIDDEN
from storage.models import Event, Response
from tests.test_channels_e2e import (
    Network,
    Person,
    TelegramPerson,
    ZaloOaPerson,
    complete,
    telegram_network,
    zalo_oa_network,
)
from tests.test_disclosure import FIGURES, results, tally_of
from tests.test_posters import OA_ID, modules_in

CREATE = "/sukien tao 05/12/2026 16012 khao-sat-nguoi-dan Hội nghị phổ biến Luật Đất đai"
BOT = "pbgdpl_test_bot"  # the fake Bot API's, and so the deep links' on both networks


@pytest.fixture(params=["telegram", "zalo_oa"])
async def net(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> AsyncIterator[Network]:
    overrides = {"database_url": database_url, "zalo_oa_name": "PBGDPL Hậu Lộc", "zalo_oa_id": OA_ID}
    async with AsyncExitStack() as stack:
        if request.param == "telegram":
            yield await telegram_network(stack, tmp_path, **overrides)
        else:
            yield await zalo_oa_network(stack, tmp_path, telegram_bot_username=BOT, **overrides)


def another(net: Network, person: Person, number: int) -> Person:
    """A second citizen on the same network."""
    if isinstance(person, TelegramPerson):
        return TelegramPerson(person.tg, number, person.handled, person.service)
    assert isinstance(person, ZaloOaPerson)
    return ZaloOaPerson(person.fake, person.channel, str(number))


async def poster_png(net: Network, said: list[str]) -> bytes:
    """The PNG of the poster the admin was just sent: a photo on Telegram, a download link on Zalo."""
    if net.name == "telegram":
        photos = [m.photo for m in net.fake.messages(int(net.people["admin"].user_id)) if m.photo is not None]
        return bytes(photos[-1])
    links = re.findall(r"http://127\.0\.0\.1:\d+/exports/\S+", "\n".join(said))
    assert len(links) == 2, said  # the PNG, then the PDF
    async with aiohttp.ClientSession() as session, session.get(links[0]) as response:
        return await response.read()


def opening(net: Network, payload: str, words: str) -> str:
    """What a citizen sends to open a survey: the deep link's start on Telegram, the poster's words on Zalo."""
    return f"/start {payload}" if net.name == "telegram" else words


async def test_a_citizen_by_the_communes_link_and_one_by_the_events_are_told_apart(net: Network) -> None:
    admin, citizen = net.people["admin"], net.people["citizen"]
    participant = another(net, citizen, 7356918299)
    said = await admin.say(CREATE)
    assert "Đã tạo sự kiện sk1: Hội nghị phổ biến Luật Đất đai – 05/12/2026, Xã Hậu Lộc" in "\n".join(said)
    png = await poster_png(net, said)
    event_link = TelegramLinks(BOT).deep_link(event_payload(1))
    assert event_link == f"https://t.me/{BOT}?start=sk_1"
    assert modules_in(png, (0.0, 0.5)) == qr_modules(event_link)
    assert modules_in(png, (0.5, 1.0)) == qr_modules(f"https://zalo.me/{OA_ID}")

    commune = opening(net, survey_payload("16012", "khao-sat-nguoi-dan"), "khảo sát 16012 khao-sat-nguoi-dan")
    replies = await citizen.say(commune)
    assert "Khảo sát cho Xã Hậu Lộc." in "\n".join(replies)
    await complete(citizen, replies)
    replies = await participant.say(opening(net, event_payload(1), "khảo sát sk1"))
    assert "Phiếu lấy ý kiến người tham dự: Hội nghị phổ biến Luật Đất đai (Xã Hậu Lộc)." in "\n".join(replies)
    await complete(participant, replies)

    async with net.service.db.read() as db:
        rows = (await db.scalars(select(Response).where(Response.questionnaire_id == "khao-sat-nguoi-dan"))).all()
    assert sorted((r.unit_code, r.event_id or 0, r.status.value) for r in rows) == [
        ("16012", 0, "submitted"),
        ("16012", 1, "submitted"),
    ], "the event's, and the commune's own"
    listing = "\n".join(await admin.say("/sukien"))
    assert "sk1 – Hội nghị phổ biến Luật Đất đai – 05/12/2026, Xã Hậu Lộc – Khảo sát người dân: 1 phiếu" in listing

    progress = "\n".join(await admin.say("/tiendo khao-sat-nguoi-dan"))
    assert "• Xã Hậu Lộc: 2/" in progress, "together"
    assert "   – sự kiện sk1 Hội nghị phổ biến Luật Đất đai (05/12/2026): 1 phiếu" in progress, "apart"
    assert "   – qua mã QR, đường dẫn của đơn vị: 1 phiếu" in progress
    assert "• Xã Triệu Lộc: 0/" in progress and progress.count("qua mã QR") == 1, "only where there are events"

    book = openpyxl.load_workbook(io.BytesIO(await admin.download(await admin.say("/xuat khaosat"))))
    assert "Theo sự kiện" in book.sheetnames
    summary = {row[1]: row[2] for row in book["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    assert summary["Xã Hậu Lộc"] == 2
    rows = [row[:6] for row in book["Theo sự kiện"].iter_rows(min_row=2, values_only=True)]
    assert [(r[0], r[2], r[3], r[5]) for r in rows] == [
        ("16012", "sk1", "Hội nghị phổ biến Luật Đất đai", 1),
        ("16012", None, "Không qua sự kiện (mã QR, đường dẫn của đơn vị)", 1),
        ("16012", None, "Cả đơn vị", 2),
    ]
    shown = {cell for row in book["Theo sự kiện"].iter_rows(min_row=2, min_col=9, values_only=True) for cell in row}
    assert shown == {"ẩn"}, "one respondent each: every figure hidden"
    if net.fake is not None:
        net.fake.assert_no_violations()


async def test_sukien_refuses_bad_input_and_asks_before_removing_an_event_with_responses(net: Network) -> None:
    admin, citizen = net.people["admin"], net.people["citizen"]
    assert "Không đọc được ngày “32/12/2026”" in "\n".join(await admin.say("/sukien tao 32/12/2026 16012 x Tên"))
    assert "Không tìm thấy đơn vị có mã “999”" in "\n".join(await admin.say("/sukien tao 05/12/2026 999 x Tên"))
    refused = "\n".join(await admin.say("/sukien tao 05/12/2026 16012 tu-danh-gia Tên"))
    assert "không phải khảo sát ẩn danh giao cho Xã Hậu Lộc" in refused and "khao-sat-nguoi-dan" in refused
    assert "Thiếu tên sự kiện" in "\n".join(await admin.say("/sukien tao 05/12/2026 16012 khao-sat-nguoi-dan"))
    assert "chưa có sự kiện nào" in "\n".join(await admin.say("/sukien"))
    await admin.say(CREATE)
    assert "Không có sự kiện “sk9”" in "\n".join(await admin.say("/sukien bo sk9"))
    await complete(citizen, await citizen.say(opening(net, event_payload(1), "khảo sát sk1")))
    asked = "\n".join(await admin.say("/sukien bo sk1"))
    assert "Đã có 1 phiếu trả lời qua đường dẫn của sự kiện" in asked
    assert "Đã bỏ sự kiện sk1" in "\n".join(await admin.say("đồng ý"))
    async with net.service.db.read() as db:
        rows = (await db.scalars(select(Response))).all()
    assert [(r.unit_code, r.event_id) for r in rows] == [("16012", None)], "kept, as the commune's"
    gone = "\n".join(await another(net, citizen, 7356918277).say(opening(net, event_payload(1), "khảo sát sk1")))
    assert "Không tìm thấy sự kiện “sk1”" in gone


def test_an_events_small_cell_hides_a_second_member_of_the_units_table() -> None:
    """A unit's events and the rest of its respondents add up to the unit: one event too small to show hides a
    second member (the fewest of the others), so the unit's figure minus the rest gives only the sum of two."""
    people = [{"dong_y": "co", "nhan_thong_tin": "co"}] * 24
    s = results(5, [people, people])
    unit = s.units[0].code
    held = [Event(id=n, name=f"Buổi {n}", held_on=date(2026, 12, n), unit_code=unit) for n in (1, 2)]
    sizes = {1: 10, 2: 2, None: 12}
    s = replace(s, events=held, by_event={(unit, e): tally_of(people[:n]) for e, n in sizes.items()})
    sheet = events_sheet(s)
    share = FIGURES.index(next(f for f in FIGURES if "nhan_thong_tin" in f.questions))
    rows = [row for row in sheet.rows if isinstance(row, list)]
    assert [(row[2], row[5], row[8 + share]) for row in rows] == [
        ("sk1", 10, HIDDEN),  # the complement: fewer respondents than the rest
        ("sk2", 2, HIDDEN),
        (None, 12, 100.0),
        (None, 24, 100.0),
    ]
