"""End to end over real HTTP: the Telegram channel against the fake Bot API server, every request checked
against the published Bot API description."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import select

from bot.app import open_service
from bot.channels.telegram import TelegramChannel
from bot.service import BotService
from bot.table import CommandTable
from storage.models import Job
from tests.client import settings_for
from tests.fakes.telegram import BotMessage, FakeTelegram, UploadedFile

ADMIN, OFFICER, CITIZEN_A, CITIZEN_B = 1001, 2002, 3003, 3004
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082"
)


@asynccontextmanager
async def telegram_bot(tg: FakeTelegram, data_dir: Path, database_url: str | None = None) -> AsyncIterator[BotService]:
    async with open_service(settings_for(data_dir, database_url=database_url)) as service:
        service.admins = frozenset({f"telegram:{ADMIN}"})
        channel = TelegramChannel(service, tg.token, tg.base_url, tg.base_file_url)
        service.channels.add(channel)
        await channel.start()
        try:
            yield service
        finally:
            await channel.stop()


class User:
    """A person in a private chat with the bot: types, taps buttons, sends photos, and waits for the bot."""

    def __init__(self, tg: FakeTelegram, user_id: int) -> None:
        self.tg, self.id = tg, user_id

    async def _act(self, inject: Callable[[], dict[str, Any]]) -> None:
        """The channel confirms an update only once it has processed it and sent every reply."""
        update_id = inject()["update_id"]
        await self.tg.wait_until(lambda: all(u["update_id"] != update_id for u in self.tg.pending_updates))

    async def say(self, text: str) -> str:
        await self._act(lambda: self.tg.send_text(self.id, text))
        return self.text

    async def photo(self, data: bytes) -> str:
        await self._act(lambda: self.tg.send_photo(self.id, data))
        return self.text

    async def document(self, data: bytes, file_name: str, mime_type: str) -> str:
        await self._act(lambda: self.tg.send_document(self.id, data, file_name, mime_type))
        return self.text

    async def press(self, token_prefix: str) -> str:
        """Press the latest button whose callback data starts so (any choice of a kind: "a:", "d:")."""
        message = self.with_button(token_prefix)
        data = next(d for _, d in self.tg.buttons(message) if d.startswith(token_prefix))
        await self._act(lambda: self.tg.press_button(self.id, message.message_id, data))
        return self.text

    async def tap(self, label: str) -> str:
        """Press the latest button labelled as the person sees it ("Bỏ qua", "Nông dân" for "3. Nông dân")."""
        for message in reversed(self.tg.messages(self.id)):
            for shown, _ in self.tg.buttons(message):
                if label in (shown, re.sub(r"^\d+\. ", "", shown)):
                    pressed = partial(self.tg.press_button_text, self.id, message.message_id, shown)
                    await self._act(pressed)
                    return self.text
        raise AssertionError(f"no button labelled {label!r} in chat {self.id}")

    def with_button(self, token_prefix: str) -> BotMessage:
        for message in reversed(self.tg.messages(self.id)):
            if any(d.startswith(token_prefix) for _, d in self.tg.buttons(message)):
                return message
        raise AssertionError(f"no button {token_prefix!r} in chat {self.id}")

    async def export(self, text: str) -> UploadedFile:
        """Ask for a file that is built after the reply ("Đang chuẩn bị tệp xuất…") and wait until it is sent."""
        mark = len(self.tg.messages(self.id))
        assert "Đang chuẩn bị tệp xuất" in await self.say(text)
        await self.tg.wait_until(lambda: any(m.document for m in self.tg.messages(self.id)[mark:]))
        document = next(m.document for m in self.tg.messages(self.id)[mark:] if m.document)
        assert document is not None
        return document

    @property
    def text(self) -> str:
        return self.tg.last_message(self.id).plain_text or ""

    def all_text(self) -> str:
        return "\n".join(m.plain_text or "" for m in self.tg.messages(self.id))


async def complete(user: User, *, photo: bool = False, pdf: bytes | None = None) -> str:
    """Answer every question with the first choice, a photo, or a plausible number, then submit; `pdf`, when given,
    is sent as a document on the first evidence question (ke-hoach.pdf)."""
    for _ in range(120):
        last = user.tg.last_message(user.id)
        text, tokens = last.plain_text or "", [d for _, d in user.tg.buttons(last)]
        if "Xem lại trước khi nộp" in text:
            return await user.press("r:submit")
        if "Gửi ảnh hoặc tệp minh chứng" in text or "Đã lưu" in text:
            if photo and "Đã lưu" not in text:
                await user.photo(PNG)
            if pdf is not None:
                await user.document(pdf, "ke-hoach.pdf", "application/pdf")
                pdf = None
            await user.press("d:")
        elif any(t.startswith("a:") for t in tokens):
            await user.press("a:")
            if any(t.startswith("d:") for t in [d for _, d in user.tg.buttons(user.tg.last_message(user.id))]):
                await user.press("d:")
        elif "tỉ lệ phần trăm" in text:
            await user.say("90")
        elif "ngày/tháng/năm" in text:
            await user.say("15/1/2026")
        elif any(t.startswith("s:") for t in tokens):
            await user.press("s:")
        else:
            await user.say("5")
    raise AssertionError("the questionnaire did not end")


async def test_invite_assess_survey_and_export(tmp_path: Path) -> None:
    async with FakeTelegram() as tg, telegram_bot(tg, tmp_path):
        everyone = {c["command"] for c in tg.commands[('{"type": "default"}', "")]}
        admins = {c["command"] for c in tg.commands[(f'{{"chat_id": {ADMIN}, "type": "chat"}}', "")]}
        assert {"danhgia", "khaosat", "trogiup"} <= everyone and not {"moi", "xuat", "duyet"} & everyone
        assert {"moi", "xuat", "duyet", "danhgia", "khaosat"} <= admins, "admins see the admin commands"

        admin, officer = User(tg, ADMIN), User(tg, OFFICER)
        invite = await admin.say("/moi 16012")
        code = re.search(r"start=dk_([A-Z0-9]+)", invite)
        assert code, invite
        assert f"https://t.me/pbgdpl_test_bot?start=dk_{code[1]}" in invite
        assert "Bạn đã được gắn với Xã Hậu Lộc" in await officer.say(f"/start dk_{code[1]}")

        await officer.say("/danhgia")
        assert "Câu 1/" in officer.text
        receipt = await complete(officer, photo=True)
        assert "Đã nộp phiếu" in receipt
        total = re.search(r"Tổng: ([\d,]+)/100", receipt)
        assert total
        photos_saved = sum("Đã lưu 1 tệp" in str(c.params.get("text")) for c in tg.calls_to("sendMessage"))
        assert photos_saved >= 1

        for citizen_id in (CITIZEN_A, CITIZEN_B):
            citizen = User(tg, citizen_id)
            opened = await citizen.say("/start ks_16012")
            assert "Câu 1/" in opened
            assert "Khảo sát cho Xã Hậu Lộc" in citizen.all_text()
            assert "Đã nộp phiếu" in await complete(citizen)

        exported = await admin.export("/xuat")  # sent once ready, after the reply
        assert exported.file_name.endswith(".xlsx")
        tg.assert_no_violations()

    book = openpyxl.load_workbook(io.BytesIO(exported.data))
    summary = book["Tự đánh giá"]
    header = [c.value for c in summary[1]]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in summary.iter_rows(min_row=2, values_only=True)}
    assert rows["16012"]["Đơn vị"] == "Xã Hậu Lộc"
    assert rows["16012"]["Tổng điểm tự chấm (tối đa 100)"] == float(total[1].replace(",", "."))
    assert rows["16012"]["Số minh chứng"] == photos_saved
    assert rows["16078"]["Trạng thái"] == "Chưa bắt đầu"
    survey = book["Khảo sát người dân"]  # aggregated: a row per unit, none per respondent
    header = [c.value for c in survey[1]]
    surveyed = {r[0]: dict(zip(header, r, strict=True)) for r in survey.iter_rows(min_row=2, values_only=True)}
    assert surveyed["16012"]["Số phiếu"] == 2 and surveyed[""]["Số phiếu"] == 2


async def test_restart_in_the_middle_of_a_survey(tmp_path: Path, database_url: str) -> None:
    async with FakeTelegram() as tg:
        citizen = User(tg, CITIZEN_A)
        async with telegram_bot(tg, tmp_path, database_url):
            await citizen.say("/start ks_16021")
            await citizen.press("a:dong_y:co")
            assert "Câu 2/" in citizen.text
            await citizen.press("a:tuoi:")
            assert "Câu 3/" in citizen.text
        async with telegram_bot(tg, tmp_path, database_url):
            reply = await citizen.say("2")
            assert "Câu 4/" in reply
            stale = citizen.tg.messages(CITIZEN_A)[-3]
            await citizen._act(lambda: tg.press_button(CITIZEN_A, stale.message_id, "a:tuoi:tren_60", force=True))
            assert "Nút đó thuộc một câu hỏi cũ" in citizen.all_text()
            assert "Câu 4/" in citizen.text
        tg.assert_no_violations()


async def test_others_are_answered_while_an_export_is_built(tmp_path: Path, database_url: str) -> None:
    """Long polling confirms a batch once it is handled: an export waited for there would hold everyone's
    messages behind it. The export runs apart; its file comes when it is ready."""
    async with FakeTelegram() as tg, telegram_bot(tg, tmp_path, database_url) as service:
        building, release = asyncio.Event(), asyncio.Event()
        export = service.commands.job("export")

        async def slow(made_by: BotService, payload: dict[str, Any]) -> Any:
            building.set()
            await release.wait()
            return await export.make(made_by, payload)

        table = service.commands
        service.commands = CommandTable(table.commands, table.files, table.waits.values(), [replace(export, make=slow)])
        admin, citizen = User(tg, ADMIN), User(tg, CITIZEN_A)
        assert "Đang chuẩn bị tệp xuất" in await admin.say("/xuat khaosat")
        await asyncio.wait_for(building.wait(), 10)
        assert "Câu 1/" in await citizen.say("/start ks_16021"), "answered while the export is being built"
        await citizen.press("a:dong_y:co")
        assert "Câu 2/" in citizen.text
        assert tg.last_message(ADMIN).document is None, "the file is not ready yet"
        async with service.db.read() as db:
            assert (await db.scalars(select(Job.status))).all() == ["running"]

        release.set()
        await tg.wait_until(lambda: tg.last_message(ADMIN).document is not None)
        exported = tg.last_message(ADMIN).document
        assert exported is not None and exported.file_name.endswith(".xlsx")
        async with service.db.read() as db:
            assert (await db.scalars(select(Job.status))).all() == ["done"]
        tg.assert_no_violations()
