"""SIGKILL during a burst of answers, then a restart on the same database: no answer lost or doubled."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path

from bot.identity import actor_key
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


async def start_bot(tg: FakeTelegram, data_dir: Path, log: Path) -> asyncio.subprocess.Process:
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
    }
    env.pop("PBGDPL_DATABASE_URL", None)
    with log.open("ab") as handle:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", env=env, stdout=handle, stderr=handle
        )


async def test_sigkill_during_a_burst_loses_and_doubles_nothing(tmp_path: Path) -> None:
    log = tmp_path / "bot.log"
    async with FakeTelegram() as tg:
        first = await start_bot(tg, tmp_path, log)
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

        second = await start_bot(tg, tmp_path, log)
        try:
            await tg.wait_until(lambda: not tg.pending_updates, timeout=60)
        finally:
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), 30) == 0, log.read_text()

    with sqlite3.connect(tmp_path / "pbgdpl.sqlite3") as db:
        rows = dict(db.execute("SELECT respondent, state FROM responses"))
    assert len(rows) == len(CITIZENS)
    for citizen in CITIZENS:
        state = json.loads(rows[actor_key(SECRET.encode(), "telegram", str(citizen))])
        assert state["answers"] == EXPECTED, citizen
        assert state["current"] == "tu_tim_hieu"
