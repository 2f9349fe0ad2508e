"""SIGKILL during a burst of answers, then a restart on the same database: no answer lost or doubled."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from sqlalchemy import select

from bot.identity import actor_key
from storage.db import Database
from storage.models import Response
from tests.fakes.telegram_server import FakeTelegram

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
SECRET = "crash-test-secret"


async def start_bot(tg: FakeTelegram, data_dir: Path, database_url: str, log: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "PBGDPL_TELEGRAM_TOKEN": tg.token,
        "PBGDPL_TELEGRAM_BASE_URL": tg.base_url,
        "PBGDPL_TELEGRAM_BASE_FILE_URL": tg.base_file_url,
        "PBGDPL_DATA_DIR": str(data_dir),
        "PBGDPL_SECRET": SECRET,
        "PBGDPL_PERIOD": "2026",
        "PBGDPL_CONSOLE": "false",
        "PBGDPL_HTTP_PORT": "0",
        "PBGDPL_DATABASE_URL": database_url,
    }
    with log.open("ab") as handle:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", env=env, stdout=handle, stderr=handle
        )


async def stored_states(database_url: str) -> dict[str, dict[str, object]]:
    database = Database(database_url)
    try:
        async with database.read() as db:
            return {r.respondent: dict(r.state) for r in await db.scalars(select(Response))}
    finally:
        await database.dispose()


async def test_sigkill_during_a_burst_loses_and_doubles_nothing(tmp_path: Path, database_url: str) -> None:
    log = tmp_path / "bot.log"
    async with FakeTelegram() as tg:
        first = await start_bot(tg, tmp_path, database_url, log)
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

        second = await start_bot(tg, tmp_path, database_url, log)
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
        assert state["current"] == "tu_tim_hieu"
