"""Events over Telegram and Zalo OA on both databases: an admin makes an event with /sukien and gets its poster (its
own QR code, `sk_<id>`); one citizen answers the commune's survey through the commune's link, another through the
event's; the responses are told apart by the event they came by: /sukien counts the event's, /tiendo, the survey
workbook and the report show them apart and together."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator, Hashable
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import date
from pathlib import Path

import aiohttp
import docx
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.app import command_table
from bot.channels.registry import event_payload, survey_payload
from bot.channels.telegram import TelegramLinks
from conversations.definition import question_label
from conversations.disclosure import too_few
from exports.poster import qr_modules
from exports.survey import (
    WHOLE_UNIT,
    event_groups_sheet,
    events_sheet,
    group_sheet,
    option_headers,
    question_sheet,
    summary_sheet,
)
from exports.workbook import HIDDEN, write_xlsx
from storage.models import Event, Response
from tests.client import Chat, Clock, running_service
from tests.test_channels_e2e import (
    Network,
    Person,
    TelegramPerson,
    ZaloOaPerson,
    complete,
    telegram_network,
    zalo_oa_network,
)
from tests.test_cross_disclosure import attack_workbook
from tests.test_disclosure import (
    CHOICES,
    DIMENSIONS,
    FIGURES,
    Answers,
    System,
    check,
    respondent,
    results,
    rows_of,
    structure,
    tally_of,
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
    assert f"Đường dẫn của sự kiện (gửi vào nhóm Zalo, Facebook của người tham dự): https://t.me/{BOT}?start=sk_1" in (
        "\n".join(said)
    )
    assert ("nhắn cho Official Account: “khảo sát sk1”" in "\n".join(said)) is (net.name == "zalo_oa")
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

    report = docx.Document(io.BytesIO(await admin.download(await admin.say("/xuat baocao"))))
    [table] = [t for t in report.tables if [c.text for c in t.rows[0].cells][:3] == ["Đơn vị", "Sự kiện", "Số phiếu"]]
    assert [[c.text for c in row.cells][:4] for row in table.rows[1:]] == [
        ["Xã Hậu Lộc", "Hội nghị phổ biến Luật Đất đai (05/12/2026)", "1", "ẩn"],
        ["Xã Hậu Lộc", "Không qua sự kiện (mã QR, đường dẫn của đơn vị)", "1", "ẩn"],
        ["Xã Hậu Lộc", "Cả đơn vị", "2", "ẩn"],
    ]
    if net.fake is not None:
        net.fake.assert_no_violations()


async def test_a_draft_counts_under_the_last_events_link_its_respondent_came_through(net: Network) -> None:
    """A draft begun through one link and resumed through another: the last event whose link the person came
    through, whichever came first; the unit's own link never takes the event away, and a response is never
    counted under an event whose link its respondent did not use."""
    admin, citizen = net.people["admin"], net.people["citizen"]
    await admin.say(CREATE)
    await admin.say(CREATE.replace("05/12/2026", "06/12/2026").replace("Luật Đất đai", "Luật Hôn nhân"))
    commune = opening(net, survey_payload("16012", "khao-sat-nguoi-dan"), "khảo sát 16012 khao-sat-nguoi-dan")
    first, second = opening(net, event_payload(1), "khảo sát sk1"), opening(net, event_payload(2), "khảo sát sk2")
    paths = {7356918201: [commune, first], 7356918202: [first, commune], 7356918203: [first, second, commune]}
    paths[7356918204] = [commune, commune]
    for number, links in paths.items():
        person = another(net, citizen, number)
        for link in links[:-1]:
            replies = await person.say(link)
            assert "Khảo sát cho Xã Hậu Lộc." in "\n".join(replies) or "Phiếu lấy ý kiến" in "\n".join(replies)
            await person.say("1")  # the consent question: a draft, left unfinished
        replies = await person.say(links[-1])
        assert "Xã Hậu Lộc" in "\n".join(replies), replies
        assert "Đã nộp phiếu" in await complete(person, replies)

    async with net.service.db.read() as db:
        rows = (await db.scalars(select(Response).order_by(Response.id))).all()
    assert [(r.event_id, r.status.value) for r in rows] == [
        (1, "submitted"),  # the commune's link, then the event's
        (1, "submitted"),  # the event's, then the commune's
        (2, "submitted"),  # one event's, another's, then the commune's
        (None, "submitted"),  # the commune's only
    ]
    listing = "\n".join(await admin.say("/sukien"))
    assert "Luật Đất đai – 05/12/2026, Xã Hậu Lộc – Khảo sát người dân: 2 phiếu" in listing
    assert "Luật Hôn nhân – 06/12/2026, Xã Hậu Lộc – Khảo sát người dân: 1 phiếu" in listing


def test_only_a_posters_words_open_its_survey_inside_a_questionnaire() -> None:
    """Inside a questionnaire, plain words are answers: only what a poster gives to type follows its link."""
    table, ids = command_table(), {"khao-sat-nguoi-dan"}
    assert table.followed_link("Khảo sát SK1", ids) == ("khaosat", ["SK1"])
    assert table.followed_link("khảo sát 16012 khao-sat-nguoi-dan", ids) == ("khaosat", ["16012", "khao-sat-nguoi-dan"])
    for answer in ("khảo sát này hay", "khảo sát sk1 rất tốt", "khảo sát 16012 tu-danh-gia", "khảo sát", "sk1"):
        assert table.followed_link(answer, ids) is None, answer


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


attended = st.lists(st.lists(st.tuples(respondent(), st.integers(0, 2)), max_size=9), min_size=2, max_size=4)
"""Each unit's respondents, each with where they came from: 0 the unit's own link, 1 or 2 one of its two events."""


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(minimum=st.integers(2, 5), people_by_unit=attended)
def test_no_hidden_figure_of_the_events_table_can_be_worked_out(
    minimum: int, people_by_unit: list[list[tuple[Answers, int]]]
) -> None:
    """With the units' tables, the questions' and the groups', each unit's events and the rest of its respondents
    add up to the unit: no figure hidden in any of them follows from the figures shown, nor any count of Sự kiện theo
    nhóm (each event's respondents by group, also adding up to the unit's counts on Theo câu hỏi)."""
    s = results(minimum, [[answers for answers, _ in people] for people in people_by_unit])
    held, by_event = [], {}
    for n, (unit, people) in enumerate(zip(s.units, people_by_unit, strict=True)):
        ids = {0: None, 1: 10 * n + 1, 2: 10 * n + 2}
        held += [
            Event(id=ids[k], name=f"Buổi {ids[k]}", held_on=date(2026, 12, k), unit_code=unit.code) for k in (1, 2)
        ]
        for k, event in ids.items():
            came = [answers for answers, where in people if where == k]
            if came:
                by_event[(unit.code, event)] = tally_of(came)
    s = replace(s, events=held, by_event=by_event)
    sheets = [summary_sheet(s), question_sheet(s), group_sheet(s), events_sheet(s), event_groups_sheet(s)]
    book = openpyxl.load_workbook(io.BytesIO(asyncio.run(write_xlsx(sheets))))
    headers = {d.id: hs for d, hs in zip(DIMENSIONS, option_headers(DIMENSIONS), strict=True)}

    def events_table(system: System) -> list[Hashable]:
        rows = rows_of(book, "Theo sự kiện")
        members: dict[str, list[Hashable]] = {}
        for row in rows:
            if row["Sự kiện"] != WHOLE_UNIT:
                members.setdefault(row["Mã đơn vị"], []).append(("ev", row["Mã đơn vị"], row["Mã sự kiện"]))
        structure(system, [m for ms in members.values() for m in ms], [])
        for unit, ms in members.items():  # the events and the rest add up to the unit
            for q in CHOICES:
                for c in q.options:
                    system.equation({("c", unit, q.id, c.value): 1, **{("c", m, q.id, c.value): -1 for m in ms}})
                system.equation({("a", unit, q.id): 1, **{("a", m, q.id): -1 for m in ms}})
            for f in FIGURES:
                system.equation({("n", unit, f.label): 1, **{("n", m, f.label): -1 for m in ms}})
            system.equation({("r", unit): 1, **{("r", m): -1 for m in ms}})
        hidden: list[Hashable] = []
        for row in rows:
            where = row["Mã đơn vị"] if row["Sự kiện"] == WHOLE_UNIT else ("ev", row["Mã đơn vị"], row["Mã sự kiện"])
            system.known(("r", where))  # Số phiếu
            for f in FIGURES:
                if row[f.label] == HIDDEN:
                    hidden.append(("n", where, f.label))
                else:
                    system.known(("n", where, f.label))
        for row in rows:  # primary suppression: an event too small to show is hidden (else hiding nothing passes)
            tally = s.by_event.get(
                (row["Mã đơn vị"], next((e.id for e in held if f"sk{e.id}" == row["Mã sự kiện"]), None))
            )
            if row["Sự kiện"] != WHOLE_UNIT and row["Mã sự kiện"] and tally is not None:
                assert all(row[f.label] == HIDDEN for f in FIGURES if too_few(f.base(tally), minimum))
        dimensions = {question_label(d): d for d in DIMENSIONS}
        for row in rows_of(book, "Sự kiện theo nhóm"):
            d = dimensions[row["Chia theo"]]
            where = row["Mã đơn vị"] if row["Sự kiện"] == WHOLE_UNIT else ("ev", row["Mã đơn vị"], row["Mã sự kiện"])
            cells = [(("c", where, d.id, c.value), row[h]) for c, h in zip(d.options, headers[d.id], strict=True)]
            for name, cell in [*cells, (("a", where, d.id), row["Tổng"])]:
                if cell == HIDDEN:
                    hidden.append(name)
                else:
                    system.known(name)
        return hidden

    check(s, book, events_table)
    attack_workbook(book)  # and knowing that no count is negative, Sự kiện theo nhóm's


async def test_an_events_link_after_its_period_is_closed_says_so(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, Clock(), database_url) as service:  # 02/03/2026
        admin, citizen = Chat(service, "admin"), Chat(service, "9")
        made = await admin.send(CREATE)
        assert "Đã tạo sự kiện sk1" in made and "Chưa biết tên bot Telegram" in made, "made, without its poster"
        assert "Phiếu lấy ý kiến người tham dự: Hội nghị" in await citizen.send("khảo sát SK1"), "typed, any case"
        await citizen.send("/huy")
        await admin.send("/ky tao 2027 31/12/2027")
        await admin.send("/ky dong 2026")
        assert "Đã đóng kỳ 2026" in await admin.send("đồng ý")
        await admin.send("/ky mo 2027")
        over = "Sự kiện “Hội nghị phổ biến Luật Đất đai” thuộc kỳ 2026 đã kết thúc"
        assert over in await citizen.send("/start sk_1")
        assert "Không tìm thấy sự kiện “sk2”" in await citizen.send("/start sk_2")
        assert "Không có sự kiện “sk1” trong kỳ 2027" in await admin.send("/sukien qr sk1")
