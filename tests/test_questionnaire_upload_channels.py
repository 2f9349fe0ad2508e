"""The file fetchers: a workbook sent on Telegram (fetched over HTTP from the fake Bot API with getFile and the
download), on Zalo OA (the download link in the signed event) and on the console (`/file <path>`) reaches the
questionnaire upload."""

from __future__ import annotations

import io
from pathlib import Path

from bot.channels.console import ConsoleChat
from conversations.definition import load_questionnaire
from conversations.xlsform import write_xlsform
from tests.client import running_service
from tests.fakes.telegram import FakeTelegram
from tests.fakes.zalo_oa_server import FakeZaloOA
from tests.test_questionnaire_upload import XLSX, add_criterion
from tests.test_telegram_e2e import ADMIN, User, telegram_bot
from tests.test_zalo_oa import ADMIN as ZALO_ADMIN
from tests.test_zalo_oa import zalo_oa_bot

ROOT = Path(__file__).resolve().parents[1]
SELF_ASSESSMENT = load_questionnaire(ROOT / "presets/questionnaires/tu-danh-gia.yaml")


class Admin(User):
    async def send_document(self, data: bytes, name: str) -> str:
        await self._act(lambda: self.tg.send_document(self.id, data, name, XLSX))
        return self.text


async def test_telegram_admin_downloads_edits_and_uploads_the_workbook(tmp_path: Path) -> None:
    async with FakeTelegram() as tg, telegram_bot(tg, tmp_path):
        admin = Admin(tg, ADMIN)
        await admin.say("/banghoi tu-danh-gia")
        sent = tg.last_message(ADMIN).document
        assert sent is not None and sent.file_name == "tu-danh-gia-2026.1.xlsx"
        reply = await admin.send_document(add_criterion(sent.data), "tu-danh-gia-sua.xlsx")
        assert "Tệp tu-danh-gia-sua.xlsx dùng được." in reply and "• Thêm câu N5.5" in reply
        assert "không mở được tệp Excel" in await admin.send_document(b"PK\x03\x04 hong", "hong.xlsx")


async def test_console_file_command_uploads_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "tu-danh-gia.xlsx"
    path.write_bytes(add_criterion(write_xlsform(SELF_ASSESSMENT)))
    async with running_service(tmp_path) as service:
        service.admins = frozenset({"console:admin"})
        output = io.StringIO()
        chat = ConsoleChat(service, tmp_path / "exports", output)
        service.channels.add(chat)
        await chat.line(f"/file {path}")
        assert "Tệp tu-danh-gia.xlsx dùng được." in output.getvalue()
        assert "• Tổng điểm tối đa: 100 → 102" in output.getvalue()


async def test_zalo_oa_admin_uploads_a_workbook(tmp_path: Path) -> None:
    async with FakeZaloOA() as fake, zalo_oa_bot(fake, tmp_path) as bot:
        workbook = add_criterion(write_xlsform(SELF_ASSESSMENT))
        assert await fake.send_file(ZALO_ADMIN, workbook, "tu-danh-gia-sua.xlsx") == 200
        await bot.channel.inbox.join()
        reply = "\n".join(fake.texts(ZALO_ADMIN))
        assert "Tệp tu-danh-gia-sua.xlsx dùng được." in reply and "• Thêm câu N5.5" in reply
