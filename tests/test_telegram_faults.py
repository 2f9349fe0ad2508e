"""Platform faults: the answer is stored once and the reply still arrives."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.app import open_service
from bot.channels.telegram import TelegramChannel
from storage.models import Response
from tests.client import settings_for
from tests.fakes.telegram import FakeTelegram
from tests.test_telegram_e2e import CITIZEN_A, User


async def answers_of(service: object, unit: str) -> dict[str, object]:
    async with service.db.read() as db:  # type: ignore[attr-defined]
        response = (await db.scalars(select(Response).where(Response.unit_code == unit))).one()
        return dict(response.state["answers"])


async def test_429_5xx_timeouts_and_dropped_connections(tmp_path: Path, database_url: str) -> None:
    async with FakeTelegram() as tg, open_service(settings_for(tmp_path, database_url=database_url)) as service:
        channel = TelegramChannel(service, tg.token, tg.base_url, tg.base_file_url, read_timeout=0.5, retry_delay=0.05)
        service.channels.add(channel)
        await channel.start()
        try:
            citizen = User(tg, CITIZEN_A)
            tg.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
            assert "Câu 1/" in await citizen.say("/start ks_16012")
            tg.fail_next("answerCallbackQuery", 502, "Bad Gateway")
            tg.fail_next("sendMessage", 502, "Bad Gateway", times=2)
            assert "Câu 2/" in await citizen.tap("Có")
            tg.stall_next("sendMessage", 1.5)
            assert "Câu 3/" in await citizen.tap("18–30 tuổi")
            tg.drop_next("sendMessage")
            assert "Câu 4/" in await citizen.tap("Nữ")
            assert await answers_of(service, "16012") == {"dong_y": "co", "tuoi": "tu_18_30", "gioi_tinh": "nu"}
            retried = [c for c in tg.calls_to("sendMessage") if "Câu 2/" in str(c.params.get("text"))]
            assert len(retried) == 3  # two 502s, then delivered
            tg.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
            await citizen.tap("Nông dân")
            assert await answers_of(service, "16012") == {
                "dong_y": "co",
                "tuoi": "tu_18_30",
                "gioi_tinh": "nu",
                "nghe_nghiep": "nong_dan",
            }
        finally:
            await channel.stop()


async def test_a_redelivered_update_is_applied_once(tmp_path: Path, database_url: str) -> None:
    async with FakeTelegram() as tg, open_service(settings_for(tmp_path, database_url=database_url)) as service:
        channel = TelegramChannel(service, tg.token, tg.base_url, tg.base_file_url)
        service.channels.add(channel)
        await channel.start()
        try:
            citizen = User(tg, CITIZEN_A)
            await citizen.say("/start ks_16021")
            await citizen.tap("Có")
            update = tg.send_text(CITIZEN_A, "1")
            await tg.wait_until(lambda: "Câu 3/" in citizen.text)
            sent = len(tg.calls_to("sendMessage"))
            found = channel.received(update)
            assert found is not None
            await channel.apply(found.key, found.event)
            assert len(tg.calls_to("sendMessage")) == sent
            assert await answers_of(service, "16021") == {"dong_y": "co", "tuoi": "tu_18_30"}
        finally:
            await channel.stop()


async def test_a_batch_with_updates_the_bot_ignores_or_cannot_read_is_still_applied_and_confirmed(
    tmp_path: Path, database_url: str
) -> None:
    async with FakeTelegram() as tg, open_service(settings_for(tmp_path, database_url=database_url)) as service:
        channel = TelegramChannel(service, tg.token, tg.base_url, tg.base_file_url)
        service.channels.add(channel)
        group = {"id": -1001234567890, "title": "Cán bộ xã", "type": "supergroup"}
        from_citizen = {"id": CITIZEN_A, "is_bot": False, "first_name": "An"}
        tg._inject({"message": {"message_id": 1, "date": 1, "chat": group, "from": from_citizen, "text": "/khaosat"}})
        tg._inject({"message": {"message_id": 2, "text": "không có chat"}})  # no chat: unreadable
        tg.send_text(CITIZEN_A, "/start ks_16012")  # the same batch: all three wait for the first poll
        await channel.start()
        try:
            await tg.wait_until(lambda: not tg.pending_updates)
            assert "Câu 1/" in User(tg, CITIZEN_A).text
            assert {c.params["chat_id"] for c in tg.calls_to("sendMessage")} == {CITIZEN_A}, "nothing to the group"
        finally:
            await channel.stop()
