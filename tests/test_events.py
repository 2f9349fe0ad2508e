"""Events over Telegram and Zalo OA on both databases: an admin makes an event with /sukien and gets its poster (its
own QR code, `sk_<id>`); one citizen answers the commune's survey through the commune's link, another through the
event's; the responses are told apart by the event they came by, and /sukien counts the event's."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.channels.registry import event_payload, survey_payload
from bot.channels.telegram import TelegramLinks
from exports.poster import qr_modules
from storage.models import Response
from tests.test_channels_e2e import (
    Network,
    Person,
    TelegramPerson,
    ZaloOaPerson,
    complete,
    telegram_network,
    zalo_oa_network,
)
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
