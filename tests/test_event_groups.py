"""Who each event reached, by group (issue 14): the survey workbook's Sự kiện theo nhóm, built over responses stored
through the chat (two events of one commune and its own link), read back and checked against the answers given,
and its hidden cells against the attacker of tests/test_cross_disclosure.py with the sums read from the same
workbook (each event's Số phiếu on Theo sự kiện, the commune's counts on Theo câu hỏi); and the same sheet after
citizens answer through two events' links on Telegram."""

from __future__ import annotations

import asyncio
import csv
import io
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest

from bot.cli import main as cli_main
from conversations.definition import question_label
from conversations.disclosure import answered, cross_hidden
from exports.report import REPORT_OPTIONS
from exports.survey import (
    OWN_LINK,
    WHOLE_UNIT,
    event_groups,
    event_groups_sheet,
    events_sheet,
    group_sheet,
    question_sheet,
    summary_sheet,
)
from exports.workbook import HIDDEN, write_xlsx
from storage.models import Event
from tests.client import Chat, Clock, running_service
from tests.test_channels_e2e import TelegramPerson, complete, telegram_network
from tests.test_cross_disclosure import attack_workbook
from tests.test_disclosure import DIMENSIONS, results, rows_of, tally_of
from tests.test_events import CREATE
from tests.test_exports import HAU_LOC, Citizen

SECOND = CREATE.replace("05/12/2026", "06/12/2026").replace("Luật Đất đai", "Luật Hôn nhân")
SHEET = "Sự kiện theo nhóm"
ROWS = ["sk1", "sk2", OWN_LINK]
PEOPLE: list[tuple[str, int, str, int]] = [
    *[("sk1", 1, "nữ", 3)] * 5,
    ("sk1", 2, "nam", 3),
    ("sk1", 1, "nam", 1),
    ("sk1", 3, "nữ", 3),
    *[("sk2", 2, "nam", 3)] * 4,
    ("sk2", 4, "nữ", 3),
    ("sk2", 2, "nữ", 7),
    *[(OWN_LINK, 3, "nữ", 3)] * 5,
    (OWN_LINK, 1, "nam", 3),
    (OWN_LINK, 2, "nam", 1),
]
"""Where each citizen came from, and their age band, gender and occupation (the options typed)."""
TYPED = {"tuoi": 1, "gioi_tinh": 2, "nghe_nghiep": 3}
"""Where each breakdown's answer is in a citizen's messages."""
GENDER = {"nam": 1, "nữ": 2}


def messages(age: int, gender: str, job: int) -> list[str]:
    typed = Citizen(HAU_LOC, gender, 1, (1, 1, 1), 1).messages()
    typed[TYPED["tuoi"]], typed[TYPED["nghe_nghiep"]] = str(age), str(job)
    return typed


def truth(people: list[tuple[str, int, str, int]]) -> dict[str, list[list[int]]]:
    """Each breakdown's counts: a row per event and the own link, a column per option."""
    found: dict[str, list[list[int]]] = {}
    for d in DIMENSIONS:
        chosen = {"tuoi": lambda p: p[1], "gioi_tinh": lambda p: GENDER[p[2]], "nghe_nghiep": lambda p: p[3]}[d.id]
        found[d.id] = [
            [sum(1 for p in people if p[0] == row and chosen(p) == n) for n in range(1, len(d.options) + 1)]
            for row in ROWS
        ]
    return found


def blocks(book: Any) -> dict[str, dict[str, list[Any]]]:
    """The sheet's cells: for each breakdown, each row's (its event's code, OWN_LINK, WHOLE_UNIT) counts and total."""
    found: dict[str, dict[str, list[Any]]] = {}
    for d in DIMENSIONS:
        rows = [r for r in rows_of(book, SHEET) if r["Chia theo"] == question_label(d)]
        headers = [h for h in rows[0] if any(h.endswith(c.label) for c in d.options)] if rows else []
        assert len(headers) == len(d.options), headers
        found[d.id] = {
            r["Mã sự kiện"] or r["Sự kiện"]: [*(r[h] for h in headers), r["Tổng"]] for r in rows if r["Mã đơn vị"]
        }
    return found


async def test_the_sheet_says_who_each_event_reached_and_hides_what_the_sums_would_give(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_service(tmp_path, Clock(), database_url=database_url) as service:
        admin = Chat(service, "admin")
        assert "Đã tạo sự kiện sk1" in await admin.send(CREATE)
        assert "Đã tạo sự kiện sk2" in await admin.send(SECOND)
        for n, (where, age, gender, job) in enumerate(PEOPLE):
            chat = Chat(service, f"citizen-{n}")
            await chat.send(f"/start ks_{HAU_LOC}" if where == OWN_LINK else f"khảo sát {where}")
            assert "Đã nộp phiếu" in await chat.answer_all(messages(age, gender, job))
        await admin.send("/xuat khaosat")
        [document] = admin.documents
        await admin.send("/xuat baocao")
        [drafted] = admin.documents
        await admin.send(f"/xuat khaosat 2026 {HAU_LOC}")
        [alone] = admin.documents
        for name, value in {"DATA_DIR": tmp_path, "DATABASE_URL": service.db.url, "PERIOD": "2026"}.items():
            monkeypatch.setenv(f"PBGDPL_{name}", str(value))
        monkeypatch.setenv("PBGDPL_SECRET", "test-secret")
        output = tmp_path / "su-kien-theo-nhom.csv"
        command = ["export", "khaosat", "--period", "2026", "--format", "csv", "--sheet", SHEET, "-o", str(output)]
        await asyncio.to_thread(cli_main, command)
    book = openpyxl.load_workbook(io.BytesIO(document.content))
    assert SHEET in book.sheetnames
    known = truth(PEOPLE)
    found = blocks(book)
    sizes = {r["Mã sự kiện"] or r["Sự kiện"]: r["Số phiếu"] for r in rows_of(book, "Theo sự kiện")}
    asked = [r for r in rows_of(book, "Theo câu hỏi")]
    hidden_anywhere = 0
    for d in DIMENSIONS:
        counts = known[d.id]
        block = found[d.id]
        assert list(block) == [*ROWS, WHOLE_UNIT]
        columns = [sum(column) for column in zip(*counts, strict=True)]
        whole = [r["Xã Hậu Lộc: số"] for r in asked if r["Câu hỏi"] == question_label(d)][1:]  # but "Số người trả lời"
        assert block[WHOLE_UNIT] == [*columns, len(PEOPLE)] and whole == columns, "the commune's, as Theo câu hỏi"
        hidden = cross_hidden(counts, 5)
        assert hidden, d.id  # every breakdown here has a small cell the sums do not give
        for r, row in enumerate(ROWS):
            assert block[row][-1] == sizes[row] == sum(counts[r]), "each row's total is its Số phiếu"
            expected = [HIDDEN if (r, c) in hidden else n for c, n in enumerate(counts[r])]
            assert block[row][:-1] == expected, (d.id, row)
        hidden_anywhere += sum(1 for v in block.values() for cell in v if cell == HIDDEN)
    assert hidden_anywhere and attack_workbook(book) == hidden_anywhere, "the attacker, from the workbook alone"
    # the commune's own export shows what the export of every unit shows of it
    assert rows_of(openpyxl.load_workbook(io.BytesIO(alone.content)), SHEET) == rows_of(book, SHEET)
    # the CSV of the sheet: the same cells
    read = list(csv.DictReader(io.StringIO(output.read_text("utf-8-sig"))))
    assert read == [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows_of(book, SHEET)]
    # the report: a table per breakdown with few options, the same cells as the workbook
    report = docx.Document(io.BytesIO(drafted.content))
    for d in DIMENSIONS:
        header = ["Đơn vị", "Sự kiện", *(c.label for c in d.options), "Tổng"]
        tables = [t for t in report.tables if [c.text for c in t.rows[0].cells] == header]
        if len(d.options) > REPORT_OPTIONS:
            assert not tables and f"câu “{question_label(d)}”: xem trang “Sự kiện theo nhóm”" in text_of(report)
            continue
        [table] = tables
        cells = [[c.text for c in row.cells][2:] for row in table.rows[1:]]
        assert cells == [[str(v) for v in found[d.id][row]] for row in [*ROWS, WHOLE_UNIT]], d.id
        named = [row.cells[1].text for row in table.rows[1:]]
        assert named[:2] == [
            "Hội nghị phổ biến Luật Đất đai (05/12/2026)",
            "Hội nghị phổ biến Luật Hôn nhân (06/12/2026)",
        ]


def text_of(report: Any) -> str:
    return "\n".join(p.text for p in report.paragraphs)


async def test_citizens_through_two_events_links_on_telegram(tmp_path: Path, database_url: str) -> None:
    async with AsyncExitStack() as stack:
        net = await telegram_network(stack, tmp_path, database_url=database_url, suppress_below=2)
        admin, citizen = net.people["admin"], net.people["citizen"]
        assert isinstance(citizen, TelegramPerson)
        await admin.say(CREATE)
        await admin.say(SECOND)
        came = {7356918301: ("sk_1", "2"), 7356918302: ("sk_1", "2"), 7356918303: ("sk_1", "1")}
        came |= {7356918304: ("sk_2", "1"), 7356918305: ("sk_2", "1"), 7356918306: ("sk_2", "2")}
        for number, (link, gender) in came.items():
            person = TelegramPerson(citizen.tg, number, citizen.handled, citizen.service)
            replies = await person.say(f"/start {link}")
            assert "Phiếu lấy ý kiến người tham dự" in "\n".join(replies)
            for typed in ("1", "1", gender):  # consent, the age band, the gender
                replies = await person.say(typed)
            assert "Đã nộp phiếu" in await complete(person, replies)
        book = openpyxl.load_workbook(
            io.BytesIO(await admin.download(await admin.say("/xuat khaosat khao-sat-nguoi-dan")))
        )
        assert net.fake is not None
        net.fake.assert_no_violations()
    found = blocks(book)
    # by gender (Nam, Nữ, Khác): sk1 one man and two women, sk2 two men and a woman, nobody by the own link; with
    # K = 2 each event's single one is hidden, and so the other's cell of each: the sums give only their sum
    assert found["gioi_tinh"] == {
        "sk1": [HIDDEN, HIDDEN, 0, 3],
        "sk2": [HIDDEN, HIDDEN, 0, 3],
        OWN_LINK: [0, 0, 0, 0],
        WHOLE_UNIT: [3, 3, 0, 6],
    }
    assert found["tuoi"] == {
        "sk1": [3, 0, 0, 0, 3],
        "sk2": [3, 0, 0, 0, 3],
        OWN_LINK: [0] * 5,
        WHOLE_UNIT: [6, 0, 0, 0, 6],
    }


def test_a_unit_whose_counts_theo_cau_hoi_hides_has_its_block_hidden() -> None:
    """One event that is the whole unit: its row is the unit's distribution, shown where Theo câu hỏi shows it (the
    sums give it) and hidden, but for its Số phiếu, where Theo câu hỏi hides it (three respondents, K = 5)."""
    few = [{"dong_y": "co", "tuoi": "tu_18_30", "gioi_tinh": g, "nghe_nghiep": "nong_dan"} for g in ("nam", "nu", "nu")]
    many = few * 4
    s = results(5, [few, few * 2, many])  # the six: Theo câu hỏi's complement of the three
    small, complement, large = (u.code for u in s.units)
    held = [Event(id=n, name=f"Buổi {n}", held_on=date(2026, 12, n), unit_code=u) for n, u in ((1, small), (2, large))]
    s = replace(s, events=held, by_event={(small, 1): tally_of(few), (large, 2): tally_of(many)})
    gender = DIMENSIONS[1]
    assert s.hidden_units("question:gioi_tinh", answered("gioi_tinh"), ["gioi_tinh"]) == {small, complement}
    blocks = {t.unit.code: t.rows for t in event_groups(s) if t.dimension is gender}
    assert [(r.code, r.counts, r.total) for r in blocks[small]] == [
        ("sk1", [HIDDEN] * 3, 3),
        (None, [HIDDEN] * 3, 0),
        (None, [HIDDEN] * 3, 3),
    ]
    assert [(r.code, r.counts, r.total) for r in blocks[large]] == [
        ("sk2", [4, 8, 0], 12),  # the unit's, which the sums give
        (None, [0, 0, 0], 0),
        (None, [4, 8, 0], 12),
    ]
    sheets = [summary_sheet(s), question_sheet(s), group_sheet(s), events_sheet(s), event_groups_sheet(s)]
    attack_workbook(openpyxl.load_workbook(io.BytesIO(asyncio.run(write_xlsx(sheets)))))
