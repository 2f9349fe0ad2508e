"""Bad input over the real Telegram channel: each gets a clear Vietnamese reply, and nothing is stored wrongly."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from conversations.engine import Inbound
from storage.models import Response
from tests.client import Chat, running_service
from tests.fakes.telegram_server import FakeTelegram
from tests.test_telegram_e2e import CITIZEN_A, User, telegram_bot


async def answers(service: object) -> dict[str, object]:
    async with service.db.read() as db:  # type: ignore[attr-defined]
        return dict((await db.scalars(select(Response))).one().state["answers"])


async def test_stickers_locations_and_forged_buttons(tmp_path: Path, database_url: str) -> None:
    async with FakeTelegram() as tg, telegram_bot(tg, tmp_path, database_url) as service:
        citizen = User(tg, CITIZEN_A)
        await citizen.say("/start ks_16012")
        await citizen.tap("a:dong_y:co")
        await citizen._act(lambda: tg.send_sticker(CITIZEN_A))
        assert "chưa đọc được loại tin này" in citizen.all_text()
        await citizen._act(lambda: tg.send_location(CITIZEN_A, 19.9, 105.9))
        question = tg.last_message(CITIZEN_A)
        for forged in ("a:gioi_tinh:nam", "a:tuoi:khong_co", "u:16072", "r:submit", "x" * 60):
            await citizen._act(lambda data=forged: tg.press_button(CITIZEN_A, question.message_id, data, force=True))
        assert "Câu 2/" in citizen.text
        assert await answers(service) == {"dong_y": "co"}
        await citizen.say("co\u0301 ")  # NFD and a trailing space are not an age
        await citizen.say("\u0032\ufe0f\u20e3")  # the keycap emoji 2️⃣ is not "2" either
        assert await answers(service) == {"dong_y": "co"}
        await citizen.say("2")
        assert await answers(service) == {"dong_y": "co", "tuoi": "tu_31_45"}
        tg.assert_no_violations()


async def test_two_quick_taps_on_one_question_record_one_answer(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        citizen = Chat(service, "31")
        await citizen.send("/start ks_16021")
        first, second = await asyncio.gather(
            service.handle(citizen.sender, Inbound(button="a:dong_y:co"), update_id="1"),
            service.handle(citizen.sender, Inbound(button="a:dong_y:khong"), update_id="2"),
        )
        texts = [m.text for m in (*first, *second) if hasattr(m, "text")]
        assert any("Nút đó thuộc một câu hỏi cũ" in text for text in texts)
        assert await answers(service) == {"dong_y": "co"}
