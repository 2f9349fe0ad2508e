"""The web dashboard in a real browser: Playwright driving Debian's Chromium (/usr/bin/chromium, installed by
.ci/run when missing; never a browser downloaded by `playwright install`). The bot runs with its Telegram channel
against the fake Bot API and the outbox: an admin types /web there and follows the link from the bot's message, reads
the progress table, opens a unit's submission and its evidence, returns it with a note (the officer receives it on the
fake Telegram server), downloads a workbook; the public page a poster's small code opens (/qr on Telegram) shows its
survey's results and no cell that should be hidden, nor do the pages linked from it; an Office page and an evidence
file fail closed without a session. No page logs a JavaScript error. Each test on SQLite and on PostgreSQL (the
suite's `database_url`); one browser for the module."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest
import pytest_asyncio
from matplotlib.figure import Figure
from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page, async_playwright

from bot.assignments import Audience
from bot.progress import period_overview, unit_status
from exports.poster import qr_modules
from exports.workbook import HIDDEN
from storage import repo
from tests.client import Clock, public_settings
from tests.fakes.telegram import FakeTelegram
from tests.test_dashboard import dashboard_served
from tests.test_exports import table
from tests.test_posters import RESULTS_RGB, modules_in
from tests.test_review_e2e import Bot, invite, received, running
from tests.test_survey_figures import surveys
from tests.test_telegram_e2e import ADMIN, OFFICER, User, complete

pytestmark = pytest.mark.asyncio(loop_scope="module")

CHROMIUM = Path("/usr/bin/chromium")
MINIMUM = 3
"""The small-cell threshold of these tests (PBGDPL_SUPPRESS_BELOW): a figure resting on fewer is hidden."""
CITIZENS = "khao-sat-nguoi-dan"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():  # a failure, never a skip: the browser tests are part of the suite
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: install Debian's package (apt-get install chromium; .ci/run does)"
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Console:
    """Every JavaScript error and console error of a browser context's pages."""

    errors: list[str] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> BrowserContext:
        context.on("console", self._console)
        context.on("weberror", lambda e: self.errors.append(f"{e.error}"))
        return context

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url')})")


@asynccontextmanager
async def dashboard(tg: FakeTelegram, tmp_path: Path, database_url: str) -> AsyncIterator[Bot]:
    """The bot on the fake Telegram with its outbox, and the web app beside it at its public address (what the
    posters print)."""
    config = public_settings(tmp_path, database_url=database_url, suppress_below=MINIMUM)
    async with running(tg, tmp_path, Clock(), config) as bot, dashboard_served(bot.service):
        yield bot


def a_pdf() -> bytes:
    figure = Figure(figsize=(3, 2))
    figure.text(0.1, 0.5, "Ke hoach PBGDPL 2026")
    out = io.BytesIO()
    figure.savefig(out, format="pdf")
    return out.getvalue()


async def sign_in(admin: User, page: Page) -> None:
    """/web on Telegram, then the link from the bot's message, and its button."""
    found = re.search(r"http://\S+/web/vao/\S+", await admin.say("/web"))
    assert found, admin.text
    await page.goto(found[0])
    await page.get_by_role("button", name="Đăng nhập").click()
    await page.wait_for_url("**/web/")


async def rows_of(page: Page, table: str) -> list[list[str]]:
    """A table's rows as the page shows them, its header first (when it has one)."""
    rows = page.locator(f"{table} tr")
    return [[c.strip() for c in await row.locator("th, td").all_inner_texts()] for row in await rows.all()]


def assert_groups_hide_small_cells(rows: list[list[str]]) -> None:
    """By group: no figure resting on 1 to MINIMUM - 1 respondents is shown, nor exactly one hidden group among
    those of a breakdown with respondents (the total less the others would give it). The table's rows: its header,
    then each breakdown's heading (one cell) followed by its groups."""
    header = rows[0]
    count = header.index("Số phiếu")
    by_breakdown: dict[str, list[list[str]]] = {}
    for row in rows[1:]:
        if len(row) == 1:
            members = by_breakdown.setdefault(row[0], [])
            continue
        assert len(row) == len(header), row
        members.append(row)
        if row[count] == HIDDEN:
            assert set(row[count:]) == {HIDDEN}, row
        else:
            assert int(row[count]) == 0 or int(row[count]) >= MINIMUM, row
    assert by_breakdown and all(by_breakdown.values()), by_breakdown
    for breakdown, groups in by_breakdown.items():
        assert sum(g[count] == HIDDEN for g in groups) != 1, breakdown


async def test_an_admin_signs_in_from_telegram_reviews_returns_and_downloads(
    browser: Browser, tmp_path: Path, database_url: str
) -> None:
    console = Console()
    async with FakeTelegram() as tg, dashboard(tg, tmp_path, database_url) as bot:
        base = bot.service.settings.base_url
        admin, officer = User(tg, ADMIN), User(tg, OFFICER)
        await invite(admin, officer, "16012")
        await officer.say("/danhgia")
        assert "Đã nộp phiếu" in await complete(officer, photo=True, pdf=a_pdf())

        context = console.watch(await browser.new_context(accept_downloads=True))
        page = await context.new_page()
        await sign_in(admin, page)
        assert await page.title() == "Tiến độ kỳ 2026 – Đánh giá PBGDPL"
        shown = {}
        for row in await page.locator("table.progress tbody tr").all():
            cells = [c.strip() for c in await row.locator("td").all_inner_texts()]
            shown[await row.get_attribute("data-unit")] = (cells[0], cells[1])
        async with bot.service.db.read() as db:
            period = await repo.current_period(db)
            assert period is not None
            overview = await period_overview(bot.service, db, period)
        expected = next(p for p in overview if p.audience is Audience.UNIT).assessment
        assert shown == {
            p.unit.code: (unit_status(p), f"{round(100 * p.answered / p.asked) if p.asked else 0} %") for p in expected
        }
        assert len(shown) == 5 and shown["16012"][0].startswith("đã nộp (")
        assert "1/5 đơn vị đã nộp" in await page.locator("section.questionnaire .summary").first.inner_text()
        target = bot.service.settings.survey_target
        surveys = [c.strip() for c in await page.locator("table.responses tbody td").all_inner_texts()]
        assert surveys == [f"0/{target}"] * 5
        submitted = page.locator('tr[data-unit="16012"]')
        await submitted.get_by_role("link").click()
        await page.wait_for_url("**/web/donvi/16012")
        assert "Trạng thái: Đã nộp" in await page.inner_text("main")

        image = page.locator("img.evidence").first
        await image.scroll_into_view_if_needed()
        await page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=await image.element_handle())
        pdf_frame = page.locator(".pdf iframe")
        assert await pdf_frame.count() == 1
        pdf = await context.request.get(base + (await pdf_frame.get_attribute("src") or ""))
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.headers["content-disposition"].startswith("inline;")
        assert (await pdf.body()).startswith(b"%PDF")
        evidence_url = base + (await image.get_attribute("src") or "")

        await page.get_by_text("Trả lại tiêu chí N1.1").click()
        await page.get_by_label("Trả lại N1.1 để sửa").check()
        await page.locator('textarea[name="note:N1.1"]').fill("Chưa thấy kế hoạch năm 2026")
        await page.get_by_role("button", name="Trả lại các tiêu chí đã đánh dấu").click()
        await page.wait_for_load_state()
        assert "Đã trả lại phiếu của Xã Hậu Lộc" in await page.inner_text(".notice")
        await tg.wait_until(lambda: bool(received(officer, "trả lại phiếu")))
        notice = received(officer, "trả lại phiếu")[0]
        assert "N1.1" in notice and "Chưa thấy kế hoạch năm 2026" in notice

        await page.get_by_role("link", name="Xuất tệp").click()
        await page.get_by_role("button", name=re.compile("^Tự đánh giá: tổng hợp")).click()
        download_link = page.get_by_role("link", name=re.compile(r"^Tải .*\.xlsx$"))
        await download_link.wait_for(timeout=30000)
        async with page.expect_download() as started:
            await download_link.click()
        download = await started.value
        assert re.fullmatch(r"tu-danh-gia-2026.*\.xlsx", download.suggested_filename), download.suggested_filename
        book = openpyxl.load_workbook(io.BytesIO((await download.path()).read_bytes()))
        listed = {r["Mã đơn vị"]: r for r in table(book, "Tổng hợp")}
        assert listed["16012"]["Trạng thái"] == "Bị trả lại", listed["16012"]

        assert console.errors == []

        stranger = console.watch(await browser.new_context())
        other = await stranger.new_page()
        urls = [f"{base}/web/donvi/16012", evidence_url]
        for url in urls:
            opened = await other.goto(url)
            assert opened is not None and opened.status == 401, url
            assert "Cần đăng nhập" in await other.inner_text("main")
            assert "Xã Hậu Lộc" not in await other.content()
        refused = [f"the server responded with a status of 401 (Unauthorized) ({url})" for url in urls]
        assert [e.removeprefix("Failed to load resource: ") for e in console.errors] == refused, "and nothing else"
        await stranger.close()
        await context.close()
        tg.assert_no_violations()


async def test_the_public_page_reached_from_a_poster_hides_every_small_cell(
    browser: Browser, tmp_path: Path, database_url: str
) -> None:
    console = Console()
    async with FakeTelegram() as tg, dashboard(tg, tmp_path, database_url) as bot:
        base = bot.service.settings.base_url
        for unit, count, first in (("16012", 1, 100), ("16021", MINIMUM, 200), ("16078", MINIMUM + 1, 300)):
            await surveys(bot.service, unit, count, first)
        admin = User(tg, ADMIN)
        await admin.say("/qr 16078")
        await tg.wait_until(lambda: any(m.photo for m in tg.messages(ADMIN)))
        poster = next(m.photo for m in tg.messages(ADMIN) if m.photo)
        link = f"{base}/ketqua/16078?bang={CITIZENS}"
        assert modules_in(poster, ink=RESULTS_RGB) == qr_modules(link), "the poster's small code: its results"

        page = await console.watch(await browser.new_context()).new_page()  # a citizen's: no session
        await page.goto(link)
        assert (await page.inner_text("h1")).startswith("Khảo sát người dân: Xã Vạn Lộc")
        down = dict(await rows_of(page, "#tong-hop"))
        assert down["Số phiếu"] == str(MINIMUM + 1)
        await page.get_by_role("link", name="← Toàn địa bàn").click()
        await page.wait_for_url(f"**/ketqua/?bang={CITIZENS}")
        summary = await rows_of(page, "#tong-hop")
        header, communes = summary[0], {row[0]: row for row in summary[1:]}
        first = header.index("Tỷ lệ trả lời (%)") + 1  # the indicators, each resting on the unit's respondents
        assert first < len(header)
        assert list(down) == header[2:], "a unit's page reads its row of the table down, after its code and name"
        # 16012 rests on fewer than MINIMUM; as the only one hidden it would be the total less the others, so the
        # unit with the fewest respondents of the rest is hidden too (16021, exactly MINIMUM); 16078 is shown
        expected_hidden = {"16012", "16021"}
        for code, row in communes.items():
            indicators = row[first:]
            if code in expected_hidden:
                assert set(indicators) == {HIDDEN}, row
            else:
                assert HIDDEN not in indicators, row
        assert communes["16078"][first:] == [down[name] for name in header[first:]], "its page: the table's figures"
        assert all(v != "–" for v in communes["16078"][first:]), "shown, as numbers"
        linked = await page.locator("#tong-hop a").evaluate_all("links => links.map(a => a.pathname + a.search)")
        assert linked == [f"/ketqua/{code}?bang={CITIZENS}" for code in communes if code != "–"], "not the total"
        assert_groups_hide_small_cells(await rows_of(page, "#theo-nhom"))

        for code in ("16012", "16021", "16078"):
            await page.locator("#tong-hop").get_by_role("link", name=communes[code][1]).click()
            await page.wait_for_url(f"**/ketqua/{code}?bang={CITIZENS}")
            down = dict(await rows_of(page, "#tong-hop"))
            indicators = [down[name] for name in header[first:]]
            if code in expected_hidden:
                assert set(indicators) == {HIDDEN}, (code, down)
            else:
                assert HIDDEN not in indicators, (code, down)
            assert_groups_hide_small_cells(await rows_of(page, "#theo-nhom"))
            await page.go_back()
        await page.context.close()  # while the server runs: nothing it still loads fails
    assert console.errors == []
