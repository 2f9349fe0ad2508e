"""SIGKILL during a burst of answers, then a restart on the same database: no answer lost or doubled, whether the
platform is polled (Telegram) or calls a webhook that was already answered 200 (Zalo OA)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from bot.identity import actor_key
from conversations import engine
from tests.fakes.local import free_port
from tests.fakes.telegram import FakeTelegram
from tests.fakes.zalo_oa_server import FakeZaloOA
from tests.helpers import SECRET, eventually, start_bot, stored_states, undone_events

CITIZENS = range(5001, 5021)
ANSWERS = ["có", "2", "nữ", "3", "có", "1, 2"]
EXPECTED = {
    "dong_y": "co",
    "tuoi": "tu_31_45",
    "gioi_tinh": "nu",
    "nghe_nghiep": "nong_dan",
    "nhan_thong_tin": "co",
    "hinh_thuc": ["hoi_nghi", "loa"],
}


def telegram_settings(tg: FakeTelegram) -> dict[str, str]:
    return {"telegram_token": tg.token, "telegram_base_url": tg.base_url, "telegram_base_file_url": tg.base_file_url}


async def test_sigkill_during_a_burst_loses_and_doubles_nothing(tmp_path: Path, database_url: str) -> None:
    log = tmp_path / "bot.log"
    async with FakeTelegram() as tg:
        first = await start_bot(tmp_path, database_url, log, telegram_settings(tg))
        try:
            await tg.wait_for_calls("setMyCommands", timeout=60)
            for citizen in CITIZENS:
                tg.send_text(citizen, "/start ks_16012")
            for answer in ANSWERS:
                for citizen in CITIZENS:
                    tg.send_text(citizen, answer)
            await tg.wait_until(lambda: len(tg.calls_to("sendMessage")) >= 150, timeout=60)
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        assert tg.pending_updates, "the kill came after the burst was done; nothing was tested"

        second = await start_bot(tmp_path, database_url, log, telegram_settings(tg))
        try:
            await tg.wait_until(lambda: not tg.pending_updates, timeout=60)
        finally:
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), 30) == 0, log.read_text()

    rows = await stored_states(database_url)
    assert len(rows) == len(CITIZENS)
    for citizen in CITIZENS:
        state = rows[actor_key(SECRET.encode(), "telegram", str(citizen))]
        assert state["answers"] == EXPECTED, citizen
        [place] = engine.load_state(state)["positions"].values()
        assert place["current"] == "tu_tim_hieu"


ZALO_CITIZENS = [f"61424948230000{n:05d}" for n in range(1, 13)]


async def answers_http(port: int) -> bool:
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/healthz") as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False


async def test_sigkill_right_after_webhooks_are_acknowledged_loses_and_doubles_nothing(
    tmp_path: Path, database_url: str
) -> None:
    log, port = tmp_path / "bot.log", free_port()
    async with FakeZaloOA() as oa:
        oa.webhook_url = f"http://127.0.0.1:{port}/webhooks/zalo-oa"
        settings = {**oa.settings(), "http_port": str(port)}

        async def citizen(user_id: str) -> None:
            for text in ["/start ks_16012", *ANSWERS]:
                assert await oa.send_text(user_id, text) == 200

        first = await start_bot(tmp_path, database_url, log, settings)
        try:
            await eventually(lambda: answers_http(port), what="the bot's web app")
            await asyncio.gather(*(citizen(user_id) for user_id in ZALO_CITIZENS))
        finally:
            first.send_signal(signal.SIGKILL)  # right after the last 200
            await first.wait()
        assert await undone_events(database_url) > 0, "everything was applied before the kill; nothing was tested"

        second = await start_bot(tmp_path, database_url, log, settings)
        try:
            await eventually(lambda: answers_http(port), what="the restarted bot's web app")
            await eventually(lambda: _none_undone(database_url), what="applying the stored events")
            before = await stored_states(database_url)
            last_answer, _ = oa.deliveries[-1]
            assert await oa.deliver(last_answer) == 200, "a redelivery after the restart is acknowledged..."
            await asyncio.sleep(0.5)
            assert await stored_states(database_url) == before, "...and not applied again"
        finally:
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), 30) == 0, log.read_text()

    rows = await stored_states(database_url)
    assert len(rows) == len(ZALO_CITIZENS)
    for user_id in ZALO_CITIZENS:
        state = rows[actor_key(SECRET.encode(), "zalo_oa", user_id)]
        assert state["answers"] == EXPECTED, user_id
        [place] = engine.load_state(state)["positions"].values()
        assert place["current"] == "tu_tim_hieu"


async def _none_undone(database_url: str) -> bool:
    return await undone_events(database_url) == 0
