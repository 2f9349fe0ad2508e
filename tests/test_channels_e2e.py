"""One conversation script on every channel: console, Telegram, Zalo Official Account and Zalo Bot.

An admin invites an officer, the officer fills in the self-assessment with photo evidence, a citizen answers the
survey, and the admin exports the results: a file on the console and Telegram, a signed download link on Zalo. Every
answer is typed (Zalo has no buttons), and commands are typed as words, as Zalo users do. That the same script
passes everywhere is the proof that the engine and the service are channel-neutral.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from unittest.mock import patch

import aiohttp
import docx
import openpyxl
import pytest

from bot.app import open_service, serve
from bot.channels.console import ConsoleChat
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_updates import TelegramUpdate
from bot.channels.zalo_bot import ZaloBotChannel
from bot.channels.zalo_oa import ZaloOaChannel
from bot.messages import Document, Reply, Sender
from bot.render import plain
from bot.service import BotService
from conversations import messages as m
from tests.client import settings_for
from tests.fakes.local import free_port
from tests.fakes.telegram import FakeTelegram
from tests.fakes.telegram.records import BotMessage
from tests.fakes.zalo_bot_server import FakeZaloBot
from tests.fakes.zalo_oa_server import FakeZaloOA

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082"
)
ROLES = ("admin", "officer", "citizen")
VISITORS = ("resident", "staff", "participant")
"""Three more people on Telegram and Zalo OA: a commune's resident and a department's employee, who reach their
unit's survey by its link, and a participant of the commune's event, who reaches it by the event's."""


class Person(Protocol):
    """Someone in a private chat with the bot; each action returns the bot's messages in answer."""

    user_id: str

    async def say(self, text: str) -> list[str]: ...

    async def photo(self) -> list[str]: ...

    async def download(self, offer: list[str]) -> bytes: ...


async def fetch_link(offer: list[str]) -> bytes:
    found = re.search(r"http://127\.0\.0\.1:\d+/exports/\S+", "\n".join(offer))
    assert found, offer
    async with aiohttp.ClientSession() as session, session.get(found[0]) as response:
        assert response.status == 200
        return await response.read()


# ---------------------------------------------------------------- the console


class ConsolePerson:
    def __init__(self, service: BotService, user_id: str, folder: Path) -> None:
        self.user_id, self.folder = user_id, folder
        self.service = service
        self.chat = ConsoleChat(service, folder / "exports", io.StringIO())
        service.channels.add(self.chat)
        self.chat.sender = Sender("console", user_id)
        self.replies: list[Reply] = []
        show = self.chat.show

        def recording(replies: list[Reply]) -> None:
            self.replies += replies
            show(replies)

        self.chat.show = recording  # type: ignore[method-assign]

    async def say(self, text: str) -> list[str]:
        self.replies = []
        await self.chat.line(text)
        await self.service.detached.join()  # an export's file, shown once built
        return [plain(r) if not isinstance(r, Document) else r.caption for r in self.replies]

    async def photo(self) -> list[str]:
        path = self.folder / "bien-ban.png"
        path.write_bytes(PNG)
        return await self.say(f"/file {path}")

    async def download(self, offer: list[str]) -> bytes:
        documents = [r for r in self.replies if isinstance(r, Document)]
        assert documents, offer
        return (self.folder / "exports" / documents[0].filename).read_bytes()


# ---------------------------------------------------------------- Telegram


def _with_buttons(msg: BotMessage) -> str:
    """A message's text, then its buttons as "[nút] label" lines (what the person sees under it)."""
    return "\n".join([msg.plain_text or "", *(f"[nút] {label}" for label, _ in FakeTelegram.buttons(msg))])


class TelegramPerson:
    def __init__(self, tg: FakeTelegram, user_id: int, handled: list[int], service: BotService) -> None:
        self.tg, self.id, self.user_id, self.handled, self.service = tg, user_id, str(user_id), handled, service

    async def _act(self, inject: Callable[[], object]) -> list[str]:
        mark, target = len(self.tg.messages(self.id)), self.handled[0] + 1
        inject()
        await self.tg.wait_until(lambda: self.handled[0] >= target)
        await self.service.detached.join()  # an export's file, sent once built
        return [_with_buttons(msg) for msg in self.tg.messages(self.id)[mark:]]

    async def say(self, text: str) -> list[str]:
        return await self._act(lambda: self.tg.send_text(self.id, text))

    async def photo(self) -> list[str]:
        return await self._act(lambda: self.tg.send_photo(self.id, PNG))

    async def download(self, offer: list[str]) -> bytes:
        document = self.tg.last_message(self.id).document
        assert document is not None, offer
        return document.data


# ---------------------------------------------------------------- Zalo


class ZaloOaPerson:
    def __init__(self, fake: FakeZaloOA, channel: ZaloOaChannel, user_id: str) -> None:
        self.fake, self.channel, self.user_id = fake, channel, user_id

    async def _act(self, deliver: Awaitable[int]) -> list[str]:
        mark = len(self.fake.texts(self.user_id))
        assert await deliver == 200
        await self.channel.inbox.join()
        await self.channel.service.detached.join()  # an export's link, sent once built
        return self.fake.texts(self.user_id)[mark:]

    async def say(self, text: str) -> list[str]:
        return await self._act(self.fake.send_text(self.user_id, text))

    async def photo(self) -> list[str]:
        return await self._act(self.fake.send_image(self.user_id, PNG))

    async def download(self, offer: list[str]) -> bytes:
        return await fetch_link(offer)


class ZaloBotPerson:
    def __init__(self, fake: FakeZaloBot, channel: ZaloBotChannel, chat_id: str) -> None:
        self.fake, self.channel, self.user_id = fake, channel, chat_id

    async def _act(self, deliver: Awaitable[None]) -> list[str]:
        mark = len(self.fake.texts(self.user_id))
        await deliver
        await self.fake.wait_fetched()
        await self.channel.inbox.join()
        await self.channel.service.detached.join()  # an export's link, sent once built
        return self.fake.texts(self.user_id)[mark:]

    async def say(self, text: str) -> list[str]:
        return await self._act(self.fake.send_text(self.user_id, text))

    async def photo(self) -> list[str]:
        return await self._act(self.fake.send_photo(self.user_id, self.fake.host_file(PNG, "png")))

    async def download(self, offer: list[str]) -> bytes:
        return await fetch_link(offer)


# ---------------------------------------------------------------- the channels under test


@dataclass
class Network:
    name: str
    service: BotService
    people: dict[str, Person]
    files_as_links: bool
    fake: Any = None


async def console_network(stack: AsyncExitStack, tmp_path: Path) -> Network:
    ids = {"admin": "admin", "officer": "officer-1", "citizen": "citizen-1"}
    settings = settings_for(tmp_path, admins="console:admin")
    service = await stack.enter_async_context(open_service(settings))
    people: dict[str, Person] = {role: ConsolePerson(service, ids[role], tmp_path) for role in ROLES}
    return Network("console", service, people, files_as_links=False)


async def telegram_network(stack: AsyncExitStack, tmp_path: Path, **overrides: object) -> Network:
    tg = await stack.enter_async_context(FakeTelegram())
    # a long citizen id: a short one ("3003") can occur by chance in a stored timestamp ("never stored" below)
    ids = {"admin": 1001, "officer": 2002, "citizen": 7356918204, "resident": 7356918211, "staff": 7356918233}
    ids["participant"] = 7356918257
    settings = settings_for(
        tmp_path,
        admins=f"telegram:{ids['admin']}",
        http_port=free_port(),
        telegram_token=tg.token,
        telegram_base_url=tg.base_url,
        telegram_base_file_url=tg.base_file_url,
        **overrides,
    )
    service = await stack.enter_async_context(open_service(settings))
    server = await stack.enter_async_context(serve(settings, service))
    assert server is not None
    channel = server.channel("telegram")
    assert isinstance(channel, TelegramChannel)
    handled = [0]
    apply = channel.apply

    async def count(key: str, event: TelegramUpdate) -> None:
        try:
            await apply(key, event)
        finally:
            handled[0] += 1  # once the channel has sent its replies

    stack.enter_context(patch.object(channel, "apply", count))
    people: dict[str, Person] = {role: TelegramPerson(tg, ids[role], handled, service) for role in ids}
    return Network("telegram", service, people, files_as_links=False, fake=tg)


async def zalo_oa_network(stack: AsyncExitStack, tmp_path: Path, **overrides: object) -> Network:
    fake = await stack.enter_async_context(FakeZaloOA())
    ids = {
        "admin": "5126318745061358240",
        "officer": "3187740238841021112",
        "citizen": "8823910427512907764",
        "resident": "6650912843377120518",
        "staff": "2290418876530014297",
        "participant": "4471906235518830962",
    }
    port = free_port()
    fake.webhook_url = f"http://127.0.0.1:{port}/webhooks/zalo-oa"
    settings = settings_for(
        tmp_path,
        admins=f"zalo_oa:{ids['admin']}",
        http_port=port,
        **fake.settings(),
        **overrides,
    )
    service = await stack.enter_async_context(open_service(settings))
    server = await stack.enter_async_context(serve(settings, service))
    assert server is not None
    channel = server.channel("zalo_oa")
    assert isinstance(channel, ZaloOaChannel)
    people: dict[str, Person] = {role: ZaloOaPerson(fake, channel, ids[role]) for role in ids}
    return Network("zalo_oa", service, people, files_as_links=True, fake=fake)


async def zalo_bot_network(stack: AsyncExitStack, tmp_path: Path) -> Network:
    fake = await stack.enter_async_context(FakeZaloBot())
    ids = {"admin": "a1b2c3d4e5f60718293a", "officer": "0f1e2d3c4b5a69788796", "citizen": "6ede9afa66b88fe6d6a9"}
    settings = settings_for(
        tmp_path,
        admins=f"zalo_bot:{ids['admin']}",
        http_port=free_port(),
        zalo_bot_token=fake.token,
        zalo_bot_base_url=fake.base_url,
    )
    service = await stack.enter_async_context(open_service(settings))
    server = await stack.enter_async_context(serve(settings, service))
    assert server is not None
    channel = server.channel("zalo_bot")
    assert isinstance(channel, ZaloBotChannel)
    people: dict[str, Person] = {role: ZaloBotPerson(fake, channel, ids[role]) for role in ROLES}
    return Network("zalo_bot", service, people, files_as_links=True, fake=fake)


NETWORKS = {
    "console": console_network,
    "telegram": telegram_network,
    "zalo_oa": zalo_oa_network,
    "zalo_bot": zalo_bot_network,
}


@pytest.fixture(params=list(NETWORKS))
async def network(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Network]:
    async with AsyncExitStack() as stack:
        yield await NETWORKS[request.param](stack, tmp_path)


# ---------------------------------------------------------------- the script


async def complete(person: Person, replies: list[str], *, photos: bool = False) -> str:
    """Answer every question by typing, as on a channel without buttons; send a photo as evidence when asked."""
    for _ in range(150):
        everything, last = "\n".join(replies), replies[-1]
        if m.REVIEW_TITLE in everything:
            return "\n".join(await person.say("nộp"))
        if m.HINT_EVIDENCE in last or "Đã lưu" in last:
            if photos and "Đã lưu" not in last:
                replies = await person.photo()
                continue
            answer = "xong"
        elif m.HINT_SINGLE in last or m.HINT_MULTIPLE in last:
            answer = "1"
        elif "tỉ lệ phần trăm" in last:
            answer = "90"
        elif "ngày/tháng/năm" in last:
            answer = "15/1/2026"
        elif m.OPTIONAL in last:
            answer = "bỏ qua"
        else:
            answer = "5"
        replies = await person.say(answer)
    raise AssertionError("the questionnaire did not end")


async def test_the_same_script_on_every_channel(network: Network, tmp_path: Path) -> None:
    admin, officer, citizen = (network.people[role] for role in ROLES)

    invite = "\n".join(await admin.say("mời cán bộ 16012"))
    code = re.search(r"/start dk_([A-Z0-9]+)", invite)
    assert code, invite
    assert "Bạn đã được gắn với Xã Hậu Lộc" in "\n".join(await officer.say(f"/start dk_{code[1]}"))

    opened = await officer.say("đánh giá")
    assert "Phiếu tự đánh giá kỳ 2026 của Xã Hậu Lộc" in "\n".join(opened)
    receipt = await complete(officer, opened, photos=True)
    assert "Đã nộp phiếu" in receipt
    total = re.search(r"Tổng: ([\d,]+)/100", receipt)
    assert total, receipt

    assert "xã/phường nào" in "\n".join(await citizen.say("khao sat"))
    opened = await citizen.say("hậu lộc")
    assert "Khảo sát cho Xã Hậu Lộc" in "\n".join(opened)
    assert "Đã nộp phiếu" in await complete(citizen, opened)

    offer = await admin.say("xuất")
    assert ("/exports/" in "\n".join(offer)) is network.files_as_links
    book = openpyxl.load_workbook(io.BytesIO(await admin.download(offer)))
    cells = {cell for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for cell in row}
    assert "Xã Hậu Lộc" in cells
    assert float(total[1].replace(",", ".")) in cells, "the officer's total is in the workbook"

    raw = b"".join(p.read_bytes() for p in tmp_path.glob("pbgdpl.sqlite3*"))
    assert citizen.user_id.encode() not in raw, "a citizen's platform id is never stored"
    if network.fake is not None:
        network.fake.assert_no_violations()


# ---------------------------------------------------------------- the shipped preset: several questionnaires

OFFICER_TASKS = ("Tự đánh giá", "Khung tiêu chí thí điểm", "Khảo sát thực trạng")
DEPARTMENT = "16012-vp"
"""Văn phòng HĐND và UBND xã Hậu Lộc, of the shipped preset's template of the communes' offices."""


def _tasks(replies: list[str]) -> list[str]:
    """The questionnaires /danhgia lists, as typed text shows them ("  1. Tự đánh giá — chưa bắt đầu")."""
    lines = "\n".join(replies).splitlines()
    typed = [line.strip() for line in lines if re.match(r"\s+\d\. .+ — ", line)]
    pressed = [line[6:] for line in lines if line.startswith("[nút] ") and " — " in line]
    return typed or pressed  # Telegram's buttons carry their numbers


@pytest.mark.parametrize("channel", ["telegram", "zalo_oa"])
async def test_an_officer_completes_every_questionnaire_of_the_preset(
    channel: str, tmp_path: Path, database_url: str
) -> None:
    """On the shipped preset, as `make run` loads it (the TT 03/2018 self-assessment and the pilot framework for
    every unit, the survey of practice for every officer, the citizen survey for the communes, the staff survey for
    the departments: the communes' offices), an officer of a commune sees three questionnaires and completes each, by
    typing; an officer of a department sees its own three; a resident answers the commune's survey and an employee
    the department's through their links; /tiendo, the workbooks and the report show each questionnaire on its own
    and all of them together."""
    from bot.channels.registry import survey_payload
    from tests.client import SHIPPED_UNITS

    build = telegram_network if channel == "telegram" else zalo_oa_network
    async with AsyncExitStack() as stack:
        network = await build(stack, tmp_path, units_dir=SHIPPED_UNITS, database_url=database_url)
        admin, officer = network.people["admin"], network.people["officer"]

        async def join(person: Person, unit: str) -> None:
            invite = "\n".join(await admin.say(f"mời cán bộ {unit}"))
            code = re.search(r"/start dk_([A-Z0-9]+)", invite)
            assert code, invite
            assert "Bạn đã được gắn với" in "\n".join(await person.say(f"/start dk_{code[1]}"))

        await join(officer, "16012")
        listed = _tasks(await officer.say("đánh giá"))
        assert [line.split(". ", 1)[1].split(" — ")[0] for line in listed] == list(OFFICER_TASKS), listed
        assert all(line.endswith("chưa bắt đầu") for line in listed), listed
        assert "phiếu của riêng anh/chị" in listed[2]

        for title in reversed(OFFICER_TASKS):  # the last first: picked by name, then by number, then opened alone
            replies = await officer.say("đánh giá")
            shown = _tasks(replies)
            if shown:
                number = next(line.split(".")[0] for line in shown if f". {title} — " in line)
                replies = await officer.say(title.lower() if title != "Tự đánh giá" else number)
            assert f"{title}:" in "\n".join(replies) or "Phiếu tự đánh giá kỳ 2026" in "\n".join(replies), replies
            receipt = await complete(officer, replies)
            assert "Đã nộp phiếu" in receipt
        total = re.search(r"Tổng: ([\d,]+)/100", receipt)  # the last one: the TT 03/2018 self-assessment
        assert total, receipt

        done = _tasks(await officer.say("đánh giá"))
        assert len(done) == 3 and all(line.endswith("đã nộp") for line in done), done

        department = network.people["citizen"]  # another person of the network, made an officer of the department
        await join(department, DEPARTMENT)
        theirs = _tasks(await department.say("đánh giá"))
        assert [line.split(". ", 1)[1] for line in theirs] == [
            "Tự đánh giá — chưa bắt đầu",
            "Khung tiêu chí thí điểm — chưa bắt đầu",
            "Khảo sát thực trạng — phiếu của riêng anh/chị, chưa bắt đầu",
        ], theirs  # the unit's drafts are its own: nothing of the commune's shows

        for person, unit, survey, name in (
            ("resident", "16012", CITIZENS, "Xã Hậu Lộc"),
            ("staff", DEPARTMENT, STAFF, "Văn phòng HĐND và UBND xã Hậu Lộc"),
        ):
            payload = survey_payload(unit, survey)  # what the unit's QR code and link carry
            link = network.service.channels.deep_link(payload)
            assert link is None or link.endswith(f"?start={payload}"), link
            opened = await network.people[person].say(f"/start {payload}" if link else f"khảo sát {unit} {survey}")
            assert f"Khảo sát cho {name}." in "\n".join(opened), opened
            assert "Đã nộp phiếu" in await complete(network.people[person], opened)

        await _progress_shows_each(admin)
        for words in (f"/chamdiem 16012 {PILOT} dongy", f"/chot 16012 {PILOT}"):
            refused = "\n".join(await admin.say(words))
            assert "“Khung tiêu chí thí điểm” không chấm điểm" in refused, refused
            assert f"/duyet 16012 {PILOT}" in refused, refused
        await _workbooks_show_each(admin, float(total[1].replace(",", ".")))
        await _report_shows_each(admin)
        await _an_event_shows_apart(network)
        if network.fake is not None:
            network.fake.assert_no_violations()


async def _an_event_shows_apart(network: Network) -> None:
    """A session of the commune (/sukien): a participant answers through the event's QR code (on Zalo, the words
    its poster gives); /tiendo, the survey's workbook and the report show the event's responses apart."""
    admin, participant = network.people["admin"], network.people["participant"]
    made = "\n".join(await admin.say(f"/sukien tao 05/12/2026 16012 {CITIZENS} Hội nghị phổ biến Luật Đất đai"))
    assert "Đã tạo sự kiện sk1: Hội nghị phổ biến Luật Đất đai – 05/12/2026, Xã Hậu Lộc" in made, made
    link = network.service.channels.deep_link("sk_1")
    opened = await participant.say("/start sk_1" if link else "khảo sát sk1")
    assert "Phiếu lấy ý kiến người tham dự: Hội nghị phổ biến Luật Đất đai (Xã Hậu Lộc)." in "\n".join(opened)
    assert "Đã nộp phiếu" in await complete(participant, opened)
    progress = "\n".join(await admin.say(f"/tiendo {CITIZENS}"))
    assert "• Xã Hậu Lộc: 2/30 phiếu" in progress, progress
    assert "   – sự kiện sk1 Hội nghị phổ biến Luật Đất đai (05/12/2026): 1 phiếu" in progress
    book = await _workbook(admin, f"xuất khảo sát {CITIZENS}")
    events = [(row[2], row[3], row[5]) for row in book["Theo sự kiện"].iter_rows(min_row=2, values_only=True)]
    assert events[0] == ("sk1", "Hội nghị phổ biến Luật Đất đai", 1), events
    offer = await admin.say("xuất báo cáo")
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(await admin.download(offer))).paragraphs)
    assert "Kết quả theo sự kiện – khảo sát người dân" in text


TT03, PILOT, PRACTICE, CITIZENS, STAFF = (
    "tu-danh-gia",
    "tu-danh-gia-thi-diem",
    "khao-sat-thuc-trang",
    "khao-sat-nguoi-dan",
    "khao-sat-phong-ban",
)
SHOWN = {  # each questionnaire's /tiendo block: its heading, then its counts
    TT03: "■ Tự đánh giá (mã tu-danh-gia) – mỗi đơn vị một phiếu\n1/20 đơn vị đã nộp, 0 đang làm, 19 chưa bắt đầu",
    PILOT: "■ Khung tiêu chí thí điểm (mã tu-danh-gia-thi-diem) – mỗi đơn vị một phiếu\n1/20 đơn vị đã nộp, 0 đang làm",
    PRACTICE: "■ Khảo sát thực trạng (mã khao-sat-thuc-trang) – mỗi cán bộ một phiếu\n1/2 cán bộ đã trả lời",
    CITIZENS: "■ Khảo sát người dân (mã khao-sat-nguoi-dan) – phiếu ẩn danh\n1 phiếu đã nộp; mục tiêu 30 phiếu",
    STAFF: "■ Khảo sát cán bộ, người lao động (mã khao-sat-phong-ban) – phiếu ẩn danh\n1 phiếu đã nộp",
}


async def _progress_shows_each(admin: Person) -> None:
    """/tiendo: a block per questionnaire and the total; /tiendo <mã bảng hỏi>: that one alone."""
    shown = "\n".join(await admin.say("/tiendo"))
    for block in SHOWN.values():
        assert block in shown, (block, shown)
    assert "• Xã Hậu Lộc: đã nộp (" in shown and "• Xã Hậu Lộc: đã nộp\n" in shown, "the pilot has no points"
    assert "• Văn phòng HĐND và UBND xã Hậu Lộc: 1/30 phiếu" in shown and "• Xã Hậu Lộc: 1/30 phiếu" in shown
    total = "Tổng cộng 5 bảng hỏi: tự đánh giá 2/40 phiếu đơn vị đã nộp; 1/2 phiếu cán bộ; 2 phiếu ẩn danh."
    assert total in shown, shown
    one = "\n".join(await admin.say(f"/tiendo {STAFF}"))
    assert SHOWN[STAFF] in one and all(SHOWN[q] not in one for q in SHOWN if q != STAFF) and "Tổng cộng" not in one


async def _workbook(admin: Person, words: str) -> Any:
    offer = await admin.say(words)
    return openpyxl.load_workbook(io.BytesIO(await admin.download(offer)))


async def _workbooks_show_each(admin: Person, total: float) -> None:
    """The period's workbook: a sheet per self-assessment and per survey; one questionnaire's: that one alone."""
    from tests.helpers import sheet_rows

    book = await _workbook(admin, "xuất")
    assert sheet_rows(book, "Tự đánh giá")["16012"]["Tổng điểm tự chấm (tối đa 100)"] == total
    pilot_row = sheet_rows(book, "Khung tiêu chí thí điểm")["16012"]
    assert pilot_row["Trạng thái"] == "Đã nộp" and not any(str(c).startswith("Tổng điểm") for c in pilot_row), pilot_row
    assert len(sheet_rows(book, "Khung tiêu chí thí điểm")) == 20, "every commune and department"
    assert "Hạ điểm Tự đánh giá" in book.sheetnames and "Hạ điểm Khung tiêu chí thí điểm" not in book.sheetnames
    for sheet, unit in (
        ("Khảo sát người dân", "16012"),
        ("Khảo sát cán bộ, người lao động", DEPARTMENT),
        ("Khảo sát thực trạng", "16012"),
    ):
        counted = {code: row["Số phiếu"] for code, row in sheet_rows(book, sheet).items() if row["Số phiếu"]}
        assert counted in ({unit: 1}, {unit: 1, "": 1}), (sheet, counted)  # one response, under its unit (and all)

    pilot = await _workbook(admin, f"xuất đánh giá {PILOT}")
    assert "Tự đánh giá" not in pilot.sheetnames and sheet_rows(pilot, "Tổng hợp")["16012"]["Trạng thái"] == "Đã nộp"
    staff = await _workbook(admin, f"xuất khảo sát {STAFF}")
    assert "Dữ liệu" not in staff.sheetnames and sheet_rows(staff, "Tổng hợp")[DEPARTMENT]["Số phiếu"] == 1


async def _report_shows_each(admin: Person) -> None:
    """The report: a part per framework and per survey, and how many took part in each."""
    offer = await admin.say("xuất báo cáo")
    document = docx.Document(io.BytesIO(await admin.download(offer)))
    text = "\n".join(p.text for p in document.paragraphs)
    for heading in (
        "Điểm tự đánh giá và thẩm định theo đơn vị – Tự đánh giá",
        "Đơn vị đã nộp phiếu – Khung tiêu chí thí điểm",  # a framework without points: who submitted it
        "Kết quả khảo sát người dân",
        "Kết quả khảo sát cán bộ, người lao động",
        "Kết quả khảo sát thực trạng",
    ):
        assert heading in text, (heading, text)
    assert "Tự đánh giá – Khung tiêu chí thí điểm: 1/20 đơn vị đã nộp phiếu" in text, text
    assert "Khung tiêu chí thí điểm không chấm điểm" in text and "Tổng điểm tự đánh giá theo đơn vị – Khung" not in text
    assert "Khảo sát cán bộ, người lao động: 1 phiếu đã nộp tại 1 đơn vị" in text
    assert "Khảo sát thực trạng: 1 phiếu đã nộp tại 1 đơn vị" in text
