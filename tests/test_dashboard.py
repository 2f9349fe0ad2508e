"""The web dashboard over HTTP: signing in with a one-time link from /web, the session cookie, CSRF, security headers,
and every Office page and evidence file failing closed without a live admin session."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import select

from bot.app import mounted, open_service, serve
from bot.links import DownloadLinks
from bot.service import BotService
from bot.web import WebServer
from dashboard.site import templates
from storage.models import AuditEntry, Response, WebSession, WebSignIn
from tests.client import SHIPPED_UNITS, Chat, Clock, settings_for
from tests.fakes.local import free_port

OFFICE_PAGES = ["/web/", "/web/tiendo", "/web/tiendo.png", "/web/donvi/16012", "/web/minhchung/1", "/web/xuat"]
OFFICE_PAGES += ["/web/nhatky", "/web/banghoi", "/web/banghoi/tu-danh-gia.xlsx", "/web/phien", "/web/xuat/abc/0"]
OFFICE_PAGES += ["/web/giaitrinh/1", "/web/banghoi/tu-danh-gia/cho", "/web/sukien/1/ap-phich.png"]
OFFICE_FORMS = ["/web/donvi/16012/duyet", "/web/donvi/16012/tralai", "/web/xuat", "/web/phien/1/ketthuc", "/web/ra"]
OFFICE_FORMS += ["/web/banghoi", "/web/banghoi/tu-danh-gia/kichhoat"]


@dataclass
class Site:
    service: BotService
    base: str
    admin: Chat

    async def link(self) -> str:
        found = re.search(r"http://\S+/web/vao/\S+", await self.admin.send("/web"))
        assert found, self.admin.text
        return found[0]

    def browser(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def signed_in(self, browser: aiohttp.ClientSession) -> str:
        """Open a fresh link and press the button; the progress page's HTML."""
        link = await self.link()
        async with browser.get(link) as page:
            assert page.status == 200
            assert "Đăng nhập" in await page.text()
        async with browser.post(link) as response:
            assert response.status == 200, await response.text()
            assert str(response.url).endswith("/web/")
            return await response.text()


@asynccontextmanager
async def running_site(
    tmp_path: Path, database_url: str | None = None, clock: Clock | None = None, **settings: object
) -> AsyncIterator[Site]:
    port = free_port()
    config = settings_for(tmp_path, http_port=port, database_url=database_url, **settings)
    async with open_service(config) as service, dashboard_served(service):
        service.admins = frozenset({"test:admin"})
        if clock is not None:
            service.clock = clock
        yield Site(service, config.base_url, Chat(service, "admin"))


@asynccontextmanager
async def dashboard_served(service: BotService) -> AsyncIterator[None]:
    """The web app with the dashboard's apps, listening where the service's settings say (no platform channel)."""
    config = service.settings
    ttl = timedelta(minutes=config.download_ttl_minutes)
    links = DownloadLinks(config.data_dir / "downloads", service.secret, config.base_url, ttl)
    server = WebServer("127.0.0.1", config.http_port, [], links, mounted=mounted(service))
    await server.start()
    try:
        yield
    finally:
        await server.stop()


def assert_page_headers(headers: Mapping[str, str]) -> None:
    """A page: nothing but this site's scripts, styles and images; never framed; no referrer elsewhere."""
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"


def assert_evidence_headers(headers: Mapping[str, str]) -> None:
    """An evidence file: framed only by the submission's page, nothing in it runs, never cached, never sniffed."""
    csp = headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none';") and "script-src" not in csp and "frame-ancestors 'self'" in csp
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "private, no-store"


async def test_the_public_pages_carry_the_security_headers(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, site.browser() as browser:
        for path, status in (("/ketqua/", 200), ("/ketqua/16012", 200), ("/ketqua/99999", 404)):
            async with browser.get(site.base + path) as page:
                assert page.status == status, path
                assert_page_headers(page.headers)
                assert "Set-Cookie" not in page.headers, "no session, no cookie"
        async with browser.get(f"{site.base}/web/") as page:
            assert page.status == 401
            assert_page_headers(page.headers)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert found, html
    return found[1]


async def test_a_link_from_chat_signs_in_once_and_the_cookie_is_guarded(tmp_path: Path, database_url: str) -> None:
    async with running_site(tmp_path, database_url) as site, site.browser() as browser:
        link = await site.link()
        assert "dùng một lần" in site.admin.text
        async with browser.get(link) as page:  # a link preview fetching the page spends nothing
            assert page.status == 200
        async with browser.get(link) as page:
            assert page.status == 200
            assert page.headers["Referrer-Policy"] == "same-origin"
        async with browser.post(link, allow_redirects=False) as response:
            assert response.status == 303
            assert response.headers["Location"] == "/web/"
            cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/web" in cookie
        assert "Secure" not in cookie, "plain HTTP on loopback"
        async with browser.get(f"{site.base}/web/") as page:
            html = await page.text()
            assert page.status == 200
            assert "Tiến độ kỳ 2026" in html and "Xã Hậu Lộc" in html
            assert_page_headers(page.headers)

        async with site.browser() as other, other.post(link) as again:
            assert again.status == 410
            assert "đã dùng hoặc đã hết hạn" in await again.text()

        async with site.service.db.read() as db:
            stored = (await db.scalars(select(WebSignIn))).all()
            sessions = (await db.scalars(select(WebSession))).all()
            actions = [e.action for e in (await db.scalars(select(AuditEntry))).all()]
        token = link.rsplit("/", 1)[1]
        assert len(stored) == 1 and token not in stored[0].token_hash and stored[0].used_at is not None
        assert len(sessions) == 1 and sessions[0].token_hash not in cookie
        assert actions == ["web_link", "web_sign_in"]


async def test_links_expire_and_are_rate_limited(tmp_path: Path) -> None:
    clock = Clock()
    async with running_site(tmp_path, clock=clock) as site, site.browser() as browser:
        link = await site.link()
        clock.advance(minutes=11)
        async with browser.post(link) as response:
            assert response.status == 410
        for _ in range(4):
            await site.link()
        assert "dùng một lần" in site.admin.text
        assert "đã xin 5 đường dẫn" in await site.admin.send("/web")
        clock.advance(minutes=61)
        await site.link()


async def test_every_office_page_fails_closed(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, site.browser() as browser:
        for path in OFFICE_PAGES:
            async with browser.get(site.base + path) as page:
                body = await page.text()
                assert page.status == 401, path
                assert "Xã Hậu Lộc" not in body and "Cần đăng nhập" in body
        for path in OFFICE_FORMS:
            async with browser.post(site.base + path, data={"csrf": "0" * 64}) as page:
                assert page.status == 401, path
        browser.cookie_jar.update_cookies({"pbgdpl_phien": "forged.0000"})
        async with browser.get(f"{site.base}/web/") as page:
            assert page.status == 401

        html = await site.signed_in(browser)
        csrf = csrf_of(html)
        async with browser.post(f"{site.base}/web/xuat", data={"tep": "danhgia:xlsx"}) as page:
            assert page.status == 403, "no CSRF token"
        headers = {"Origin": "http://evil.example"}
        form = {"csrf": csrf, "tep": "danhgia:xlsx"}
        async with browser.post(f"{site.base}/web/xuat", data=form, headers=headers) as page:
            assert page.status == 403, "another site's form"

        site.service.admins = frozenset()  # no longer an admin: signed out at once
        async with browser.get(f"{site.base}/web/") as page:
            assert page.status == 401
            assert "không còn là quản trị viên" in await page.text()


async def test_an_admin_lists_and_ends_sessions(tmp_path: Path, database_url: str) -> None:
    async with running_site(tmp_path, database_url) as site, site.browser() as laptop, site.browser() as phone:
        await site.signed_in(laptop)
        html = await site.signed_in(phone)
        async with phone.get(f"{site.base}/web/phien") as page:
            listing = await page.text()
        ids = re.findall(r"/web/phien/(\d+)/ketthuc", listing)
        assert len(ids) == 2 and "phiên này" in listing
        laptop_session = min(ids, key=int)
        form = {"csrf": csrf_of(html)}
        async with phone.post(f"{site.base}/web/phien/{laptop_session}/ketthuc", data=form) as page:
            assert page.status == 200 and str(page.url).endswith("/web/phien")
        async with laptop.get(f"{site.base}/web/") as page:
            assert page.status == 401, "the ended session is refused at once"
        async with phone.get(f"{site.base}/web/") as page:
            assert page.status == 200
        async with phone.post(f"{site.base}/web/ra", data=form) as page:
            assert "Đã đăng xuất" in await page.text()
        async with phone.get(f"{site.base}/web/") as page:
            assert page.status == 401


async def test_the_console_alone_serves_the_dashboard(tmp_path: Path) -> None:
    port = free_port()
    settings = settings_for(tmp_path, http_port=port)
    async with open_service(settings) as service, serve(settings, service) as server:
        assert server is not None and server.channels == []
        async with aiohttp.ClientSession() as browser, browser.get(f"http://127.0.0.1:{port}/web") as page:
            assert page.status == 401 and str(page.url).endswith("/web/")


async def test_the_unit_page_shows_every_self_assessment_with_its_verified_scores(
    tmp_path: Path, database_url: str
) -> None:
    """The shipped preset runs two self-assessments for every unit: the page shows both, each with its criteria, the
    Office's verified points and reasons, the unit's explanation and its file; approving names the one approved."""
    from tests.client import SHIPPED_UNITS, SentFiles
    from tests.helpers import answer_everything, complete_assessment, open_questionnaire

    async with running_site(tmp_path, database_url, Clock(), units_dir=SHIPPED_UNITS) as site, site.browser() as b:
        SentFiles(site.service)
        code = re.search(r"dk_([A-Z0-9]+)", await site.admin.send("/moi 16012"))
        assert code
        officer = Chat(site.service, "officer-1")
        await officer.send(f"/start dk_{code[1]}")
        own, _ = await complete_assessment(officer, "1", "90")
        await open_questionnaire(officer, "Khung tiêu chí thí điểm")  # its total is not out of 100
        await answer_everything(officer, "1", "90")
        assert "Đã nộp phiếu" in await officer.tap("Nộp phiếu")
        scored = await site.admin.send("/chamdiem 16012 tu-danh-gia N1.1 3 Kế hoạch ban hành muộn")
        assert "Đã chấm N1.1" in scored, scored
        assert "gửi ngay một ảnh" in await officer.send("/giaitrinh tu-danh-gia N1.1 Kế hoạch ký ngày 5/1")
        assert "Đã lưu tệp" in await officer.send_file("kh", "ke-hoach.jpg")

        html = await site.signed_in(b)
        async with b.get(f"{site.base}/web/donvi/16012") as page:
            shown = await page.text()
        assert 'data-questionnaire="tu-danh-gia"' in shown and 'data-questionnaire="tu-danh-gia-thi-diem"' in shown
        assert "Khung tiêu chí thí điểm" in shown
        assert "Thẩm định: 3/6 điểm – Kế hoạch ban hành muộn" in shown
        verified = f"{own - 3:g}".replace(".", ",")  # N1.1 lowered from 6 to 3
        assert "<p>Thẩm định: Đang thẩm định</p>" in shown and f"· thẩm định {verified}/100</p>" in shown
        assert "Giải trình của đơn vị: Kế hoạch ký ngày 5/1" in shown
        link = re.search(r'href="(/web/giaitrinh/\d+)"', shown)
        assert link, shown
        async with b.get(site.base + link[1]) as file:
            assert file.status == 200 and await file.read() == b"\xff\xd8\xff\xe0kh"
            assert file.headers["Content-Disposition"].startswith("inline;")
            assert_evidence_headers(file.headers)
        evidence = re.search(r'src="(/web/minhchung/\d+)"', shown)
        assert evidence, shown
        async with b.get(site.base + evidence[1]) as file:
            assert file.status == 200 and file.headers["Content-Type"] == "image/jpeg"
            assert_evidence_headers(file.headers)

        form = {"csrf": csrf_of(html), "bang": "tu-danh-gia-thi-diem"}
        async with b.post(f"{site.base}/web/donvi/16012/duyet", data=form) as page:
            text = await page.text()
        assert "Đã duyệt phiếu tự đánh giá “Khung tiêu chí thí điểm” (tu-danh-gia-thi-diem)" in text, text
        async with site.service.db.read() as db:
            statuses = {r.questionnaire_id: r.status.value for r in (await db.scalars(select(Response))).all()}
        assert statuses == {"tu-danh-gia": "submitted", "tu-danh-gia-thi-diem": "approved"}


async def test_a_new_xlsform_version_is_uploaded_checked_previewed_and_put_into_use(
    tmp_path: Path, database_url: str
) -> None:
    """The page gives the workbook to the entry a workbook sent in chat goes to: the same problems, the same summary
    of what changed; then the version waiting is read through and put into use (/kichhoat)."""
    from tests.test_questionnaire_upload import NEW_QUESTION, XLSX, add_criterion

    async with running_site(tmp_path, database_url) as site, site.browser() as b:
        csrf = csrf_of(await site.signed_in(b))

        async def upload(content: bytes, name: str = "tu-danh-gia.xlsx") -> str:
            form = aiohttp.FormData({"csrf": csrf})
            form.add_field("tep", content, filename=name, content_type=XLSX)
            async with b.post(f"{site.base}/web/banghoi", data=form) as page:
                assert page.status == 200
                return await page.text()

        async with b.get(f"{site.base}/web/banghoi/tu-danh-gia.xlsx") as file:
            current = await file.read()
        assert "giống hệt phiên bản đang dùng (2026.1)" in await upload(current)
        refused = await upload(add_criterion(current, "${n5_sang_kienn} = 'co'"))
        assert "chưa dùng được" in refused and "không có câu hỏi nào tên “n5_sang_kienn”" in refused
        assert "không phải tệp Excel .xlsx" in await upload(current, "tu-danh-gia.ods")
        kept = await upload(add_criterion(current))
        assert "37 câu hỏi trong 5 nhóm; tối đa 102 điểm" in kept and 'href="/web/banghoi/tu-danh-gia/cho"' in kept
        assert site.service.questionnaires["tu-danh-gia"].version == "2026.1", "kept waiting, not in use"

        async with b.get(f"{site.base}/web/banghoi/tu-danh-gia/cho") as page:
            preview = await page.text()
        assert "Thêm câu N5.5" in preview and NEW_QUESTION in preview and "Áp dụng phiên bản 2026.1-2" in preview
        async with b.post(f"{site.base}/web/banghoi/tu-danh-gia/kichhoat", data={"csrf": csrf}) as page:
            done = await page.text()
        assert "Đã áp dụng «Phiếu tự đánh giá" in done and "phiên bản 2026.1-2 cho kỳ 2026" in done, done
        assert site.service.questionnaires["tu-danh-gia"].version == "2026.1-2"
        async with b.get(f"{site.base}/web/banghoi/tu-danh-gia/cho") as page:
            assert "không có phiên bản nào đang chờ" in await page.text()


async def test_microdata_from_the_web_needs_the_ticked_yes(tmp_path: Path) -> None:
    async with running_site(tmp_path) as site, site.browser() as browser:
        html = await site.signed_in(browser)
        async with browser.get(f"{site.base}/web/xuat") as page:
            listing = await page.text()
        assert 'value="dulieu:xlsx"' in listing and "sẽ không chuyển tiếp tệp" in listing
        form = {"csrf": csrf_of(html), "tep": "dulieu:xlsx"}
        async with browser.post(f"{site.base}/web/xuat", data=form) as page:
            assert page.status == 400 and "đánh dấu ô xác nhận" in await page.text()
        async with browser.post(f"{site.base}/web/xuat", data={**form, "dongy": "1"}) as page:
            assert page.status == 200 and "/web/xuat/" in str(page.url)
            status = str(page.url)
        for _ in range(600):
            async with browser.get(status) as page:
                shown = await page.text()
            if "Đang chuẩn bị" not in shown:
                break
            await asyncio.sleep(0.1)
        assert "Tải du-lieu-goc-khong-chuyen-tiep-2026-" in shown and "KHÔNG CHUYỂN TIẾP" in shown


async def test_the_progress_page_lists_the_events_with_their_posters(tmp_path: Path, database_url: str) -> None:
    """The period's events (name, day, unit, survey, responses through its link: what /tiendo counts) and each one's
    poster, drawn and audited as /sukien qr sends it; signed-in only (OFFICE_PAGES)."""
    from tests.helpers import answer_everything
    from tests.test_events import CREATE

    async with running_site(tmp_path, database_url, telegram_bot_username="pbgdpl_test_bot") as site:
        assert "Đã tạo sự kiện sk1" in await site.admin.send(CREATE)
        participant = Chat(site.service, "9")
        assert "Phiếu lấy ý kiến người tham dự" in await participant.send("/start sk_1")
        await answer_everything(participant, "1", "90")
        assert "Đã nộp phiếu" in await participant.tap("Nộp phiếu")
        async with site.browser() as b:
            html = await site.signed_in(b)
            row = re.search(r'<tr data-event="1">(.*?)</tr>', html, re.S)
            assert row, html
            cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row[1], re.S)
            assert cells[:6] == [
                "sk1",
                "Hội nghị phổ biến Luật Đất đai",
                "05/12/2026",
                "Xã Hậu Lộc",
                "Khảo sát người dân",
                "1",
            ]
            progress = await site.admin.send("/tiendo khao-sat-nguoi-dan")
            assert "– sự kiện sk1 Hội nghị phổ biến Luật Đất đai (05/12/2026): 1 phiếu" in progress, "the same count"
            for ext, mime, magic in (("png", "image/png", b"\x89PNG"), ("pdf", "application/pdf", b"%PDF")):
                async with b.get(f"{site.base}/web/sukien/1/ap-phich.{ext}") as file:
                    assert file.status == 200 and file.headers["Content-Type"] == mime
                    assert file.headers["Content-Disposition"].endswith(f"ap-phich-su-kien-1.{ext}")
                    assert (await file.read()).startswith(magic)
            async with b.get(f"{site.base}/web/sukien/2/ap-phich.png") as file:
                assert file.status == 404 and "Không có sự kiện “sk2”" in await file.text()
        async with site.service.db.read() as db:
            posters = [e.target for e in (await db.scalars(select(AuditEntry))).all() if e.action == "poster"]
        assert posters == ["sk1", "sk1", "sk1"], "the one /sukien tao sent, then the page's two"


def test_the_progress_counts_set_thousands_apart() -> None:
    """A clerk reads 10.000 phiếu, as the public pages and the chat's /tiendo write it, not 10000."""
    page = templates().get_template("progress_table.html")
    unit = {"code": "16012", "name": "Xã Hậu Lộc"}
    survey = {"qn": {"id": "ks", "short_title": "Khảo sát"}, "audience": "public", "units": [unit]}
    survey |= {"rows": [{"unit": unit, "n": 10000, "declined": 0}], "surveys": 10000, "reached": 1}
    html = page.render(days_left="", sections=[survey], target=30)
    assert "10.000 phiếu đã nộp" in html and "10.000/30" in html


async def test_the_progress_page_shows_each_questionnaire_over_its_own_units(tmp_path: Path, database_url: str) -> None:
    """The shipped presets, as `make run` has them: two self-assessments over the 20 units, the citizen survey over
    the 5 communes and the staff survey over the 15 offices, as /tiendo counts them, not one self-assessment with
    the citizens' target set for every office."""
    async with running_site(tmp_path, database_url, units_dir=SHIPPED_UNITS) as site, site.browser() as browser:
        html = await site.signed_in(browser)
        sections = re.findall(
            r'<section class="questionnaire" data-questionnaire="([^"]+)">(.*?)</section>', html, re.S
        )
        rows = {qid: re.findall(r'<tr[^>]*data-unit="([^"]+)"', body) for qid, body in sections}
        assert [len(rows[qid]) for qid, _ in sections] == [20, 20, 20, 5, 15], list(rows)
        assert rows["khao-sat-nguoi-dan"] == ["16033", "16012", "16072", "16021", "16078"]
        assert all(code.endswith(("-kt", "-vhxh", "-vp")) for code in rows["khao-sat-phong-ban"])
        assert "0/20 đơn vị đã nộp" in dict(sections)["tu-danh-gia"]
        chat = await site.admin.send("/tiendo")
        assert "0 phiếu đã nộp; mục tiêu 30 phiếu mỗi đơn vị, 0/5 đơn vị đạt." in chat
        assert "Phiếu ẩn danh: 0 phiếu đã nộp; mục tiêu 30 phiếu mỗi đơn vị, 0/5 đơn vị đạt." in html
