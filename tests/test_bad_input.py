"""Bad input over the real Telegram channel: each gets a clear Vietnamese reply, and nothing is stored wrongly."""

from __future__ import annotations

import asyncio
import unicodedata
from pathlib import Path

from sqlalchemy import select

from conversations.engine import Inbound
from storage.models import Response
from tests.client import Chat, running_service
from tests.fakes.telegram import FakeTelegram
from tests.test_telegram_e2e import CITIZEN_A, User, telegram_bot


async def answers(service: object) -> dict[str, object]:
    async with service.db.read() as db:  # type: ignore[attr-defined]
        return dict((await db.scalars(select(Response))).one().state["answers"])


async def test_stickers_locations_and_forged_buttons(tmp_path: Path, database_url: str) -> None:
    async with FakeTelegram() as tg, telegram_bot(tg, tmp_path, database_url) as service:
        citizen = User(tg, CITIZEN_A)
        await citizen.say("/start ks_16012")
        await citizen.press("a:dong_y:co")
        await citizen._act(lambda: tg.send_sticker(CITIZEN_A))
        assert "chưa đọc được loại tin này" in citizen.all_text()
        await citizen._act(lambda: tg.send_location(CITIZEN_A, 19.9, 105.9))
        await citizen._act(lambda: tg.send_voice(CITIZEN_A))
        assert citizen.all_text().count("chưa đọc được loại tin này") == 3
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


async def test_free_text_keeps_emoji_drops_control_characters_and_refuses_too_long(
    tmp_path: Path, database_url: str
) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        citizen = Chat(service, "41")
        await citizen.send("/start ks_16012")
        for _ in range(13):  # the first choice of every question up to the comment
            await citizen.send("1")
        assert "góp ý" in citizen.text
        before = await answers(service)
        reply = await citizen.send("rất tốt " * 1250)  # 10,000 characters; the comment takes 500
        assert "quá giới hạn 500 ký tự" in reply
        assert await answers(service) == before
        comment = "Tuye\u0302n truye\u0302\u0300n tho\u0302ng qua loa \u0111a\u0300i 👍\x00\x1b[31m\u202e rất hay"
        assert "Xem lại" in await citizen.send(comment)
        stored = (await answers(service))["gop_y"]
        assert stored == "Tuyên truyền thông qua loa đài 👍[31m rất hay"
        assert stored == unicodedata.normalize("NFC", stored)
