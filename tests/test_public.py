"""The public results over HTTP (dashboard.public): the survey a page shows is the one named by ?bang= (by default the
period's first, or the unit's), over the units it is assigned to, its small cells hidden as in the exports; the
period's other public surveys are listed; a survey or unit that is not there is a Vietnamese 404. A survey's poster
carries its unit's results page (address and a small QR code) only when PBGDPL_PUBLIC_URL is set and the public
results are on, and the page that link opens shows that survey's figures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import posters
from bot.app import open_service
from bot.channels.telegram import TelegramLinks
from bot.service import BotService
from conversations.definition import load_directory
from exports import survey
from exports.poster import qr_modules
from exports.workbook import HIDDEN
from storage.models import Event, Unit
from storage.queries import Selection
from tests.client import ROOT, Chat, Clock, public_settings, settings_for
from tests.test_dashboard import dashboard_served
from tests.test_posters import RESULTS_RGB, has_results_code, modules_in
from tests.test_survey_figures import surveys

MINIMUM = 3
"""The small-cell threshold of these tests (PBGDPL_SUPPRESS_BELOW)."""
STAFF = "khao-sat-phong-ban"
STAFF_ANSWERS = ["có", "1", "1", "có", "1", "1", "1", "1", "1", "1", "bỏ qua", "nộp"]
"""The staff survey answered: consent, group, age, informed, how, self-study, two knowledge questions, satisfied,
applies it, no suggestion."""
STAFF_COUNTS = {"16078": MINIMUM + 2, "16072": MINIMUM, "16012": 1}
"""Staff survey responses by unit (it is assigned to these three): 16012's figures rest on fewer than MINIMUM, and as
the only one hidden they would be the total less the others, so 16072 (the fewest of the rest) is hidden too."""


class Tables(HTMLParser):
    """Every table of a page by its id, rows of cell texts; the links' addresses; the main heading."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.links: list[str] = []
        self.heading = ""
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._in_h1 = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "table":
            self._table = self.tables.setdefault(named.get("id") or "", [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []
        elif tag == "a" and named.get("href"):
            self.links.append(named["href"] or "")
        elif tag == "h1":
            self._in_h1 = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._table is not None and self._cell is not None:
            self._table[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = None
        elif tag == "h1":
            self._in_h1 = False

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_h1:
            self.heading += data


@asynccontextmanager
async def public_site(
    tmp_path: Path, database_url: str | None = None, clock: Clock | None = None, **settings: object
) -> AsyncIterator[BotService]:
    """The web app on loopback, PBGDPL_PUBLIC_URL its address (what a poster prints), a small-cell threshold of
    MINIMUM."""
    config = public_settings(tmp_path, database_url=database_url, suppress_below=MINIMUM, **settings)
    async with open_service(config) as service, dashboard_served(service):
        service.admins = frozenset({"test:admin"})
        if clock is not None:
            service.clock = clock
        yield service


async def staff_surveys(service: BotService) -> None:
    """The staff survey assigned to three communes and answered there as STAFF_COUNTS says; the citizen survey once
    at 16078 (other figures on the same units)."""
    admin = Chat(service, "admin")
    for code in STAFF_COUNTS:
        assert "Đã giao" in await admin.send(f"/giao {STAFF} {code}")
    number = 500
    for code, count in STAFF_COUNTS.items():
        for _ in range(count):
            number += 1
            person = Chat(service, str(number))
            await person.send(f"/start ks_{code}__{STAFF}")
            assert "Đã nộp phiếu" in await person.answer_all(STAFF_ANSWERS), person.text
    await surveys(service, "16078", 1, 900)


async def page(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


def read_down(html: str) -> dict[str, str]:
    """A unit's page: its summary, each figure by its name."""
    return {row[0]: row[1] for row in Tables(html).tables["tong-hop"]}


def indicators(down: dict[str, str]) -> list[str]:
    """A unit's figures resting on its respondents (after the counts of people, which are never hidden)."""
    names = list(down)
    return [down[name] for name in names[names.index("Tỷ lệ trả lời (%)") + 1 :]]


async def test_the_page_shows_the_survey_named_and_lists_the_others(tmp_path: Path, database_url: str) -> None:
    async with public_site(tmp_path, database_url) as service:
        await staff_surveys(service)
        base = service.settings.base_url

        status, html = await page(f"{base}/ketqua/?bang={STAFF}")
        assert status == 200, html
        shown = Tables(html)
        assert shown.heading.startswith("Khảo sát cán bộ, người lao động: toàn địa bàn")
        header, *rows = shown.tables["tong-hop"]
        by_code = {row[0]: row for row in rows}
        assert list(by_code) == ["16012", "16072", "16078", "–"], "the units it is assigned to, then the total"
        count = header.index("Số phiếu")
        assert {code: int(by_code[code][count]) for code in STAFF_COUNTS} == STAFF_COUNTS
        first = header.index("Tỷ lệ trả lời (%)") + 1
        assert first < len(header), "the staff survey has figures of its own"
        assert {code for code, row in by_code.items() if HIDDEN in row[first:]} == {"16012", "16072"}
        assert set(by_code["16012"][first:]) == set(by_code["16072"][first:]) == {HIDDEN}
        assert f"/ketqua/16078?bang={STAFF}" in shown.links, "each unit's page of the same survey"
        assert "/ketqua/?bang=khao-sat-nguoi-dan" in shown.links, "the period's other public survey"
        assert "Theo nhóm người trả lời" in html and "theo-nhom" in shown.tables

        status, html = await page(f"{base}/ketqua/16078?bang={STAFF}")
        assert status == 200, html
        down = read_down(html)
        assert down["Số phiếu"] == str(STAFF_COUNTS["16078"]), "the staff survey's, not the citizen survey's one"
        assert HIDDEN not in indicators(down) and "–" not in indicators(down)
        for code in ("16012", "16072"):
            status, html = await page(f"{base}/ketqua/{code}?bang={STAFF}")
            down = read_down(html)
            assert status == 200 and set(indicators(down)) == {HIDDEN}, (code, down)

        status, html = await page(f"{base}/ketqua/16078")
        assert status == 200
        assert Tables(html).heading.startswith("Khảo sát người dân: Xã"), "by default the first assigned to it"
        down = read_down(html)
        assert down["Số phiếu"] == "1"
        status, html = await page(f"{base}/ketqua/16021")
        assert status == 200 and f"?bang={STAFF}" not in html, "a unit lists only the surveys assigned to it"

        refused = {
            "/ketqua/?bang=khong-co": "Kỳ 2026 không có khảo sát công khai mã “khong-co”.",
            "/ketqua/?bang=tu-danh-gia": "Kỳ 2026 không có khảo sát công khai mã “tu-danh-gia”.",
            "/ketqua/16012?bang=": "Kỳ 2026 không có khảo sát công khai mã “” ở Xã Hậu Lộc.",
            f"/ketqua/16021?bang={STAFF}": f"Kỳ 2026 không có khảo sát công khai mã “{STAFF}” ở Xã",
            "/ketqua/99999": "Không có xã, phường hay đơn vị mã “99999”.",
        }
        for path, said in refused.items():
            status, html = await page(base + path)
            assert status == 404 and said in html, (path, html)


def test_a_poster_prints_the_results_link_only_with_a_public_address_and_the_page_on(tmp_path: Path) -> None:
    unit = Unit(code="16012-vp", name="Văn phòng HĐND và UBND xã Hậu Lộc", kind="department")
    config = settings_for(tmp_path)
    planned = posters.of_unit(unit, load_directory(ROOT / "presets" / "questionnaires")[STAFF])
    assert posters.results_link(config, planned) is None, "the address the app listens on is not printed"
    public = "https://pbgdpl.example.vn"
    off = settings_for(tmp_path, public_url=public, web_public_results=False)
    assert posters.results_link(off, planned) is None
    on = settings_for(tmp_path, public_url=public + "/")
    assert posters.results_link(on, planned) == f"{public}/ketqua/16012-vp?bang={STAFF}"
    event = Event(id=7, name="Hội nghị", held_on=date(2026, 12, 5), unit_code=unit.code, questionnaire_id=STAFF)
    held = posters.of_event(event, unit, planned.questionnaire)
    assert posters.results_link(on, held) == f"{public}/ketqua/16012-vp?bang={STAFF}", "an event's: its unit's"


async def test_a_posters_results_code_opens_its_surveys_page(tmp_path: Path, database_url: str) -> None:
    async with public_site(tmp_path, database_url) as service:
        await staff_surveys(service)
        async with service.db.read() as db:
            unit = await db.get(Unit, "16072")
        assert unit is not None
        planned = posters.of_unit(unit, service.questionnaires[STAFF])
        drawn = await posters.draw(planned, TelegramLinks("pbgdpl_bot"), service.settings)
        assert drawn is not None
        link = f"{service.settings.base_url}/ketqua/16072?bang={STAFF}"
        assert modules_in(drawn.png, ink=RESULTS_RGB) == qr_modules(link)
        status, html = await page(link)
        assert status == 200
        down = read_down(html)
        assert down["Số phiếu"] == str(MINIMUM) and set(indicators(down)) == {HIDDEN}
        hidden_off = settings_for(tmp_path, public_url=service.settings.public_url, web_public_results=False)
        plain = await posters.draw(planned, TelegramLinks("pbgdpl_bot"), hidden_off)
        assert plain is not None and not has_results_code(plain.png)


async def test_the_figures_are_counted_once_a_minute_however_many_ask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    counts: list[Selection] = []
    gather = survey.gather

    async def counted(*args: Any) -> survey.SurveyResults:
        counts.append(args[3])
        await asyncio.sleep(0.05)  # long enough for the other requests to arrive while it counts
        return await gather(*args)

    monkeypatch.setattr(survey, "gather", counted)
    clock = Clock()
    async with public_site(tmp_path, clock=clock) as service:
        await surveys(service, "16078", 1, 900)
        unit = f"{service.settings.base_url}/ketqua/16078"
        shown = await asyncio.gather(*(page(unit) for _ in range(4)))
        assert [read_down(html)["Số phiếu"] for _, html in shown] == ["1"] * 4
        assert len(counts) == 1, "one count for the four"
        await surveys(service, "16078", 1, 901)
        clock.advance(seconds=59)
        assert read_down((await page(unit))[1])["Số phiếu"] == "1", "served as counted within the minute"
        clock.advance(seconds=1)
        assert read_down((await page(unit))[1])["Số phiếu"] == "2", "counted again after it"
        assert len(counts) == 2
        status, _ = await page(f"{service.settings.base_url}/ketqua/")
        assert status == 200 and [c.unit_code for c in counts] == ["16078", "16078", None], "each page its own"
