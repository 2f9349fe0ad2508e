"""Secrets stay out of logs, invite codes cannot be guessed quickly, and a live database can be backed up."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

from storage.backup import backup_sqlite
from tests.client import Chat, Clock, running_service
from tests.helpers import captured_log
from tests.test_service import SURVEY_ANSWERS, invite_code

TOKEN = "1234567890:" + "AAH-fake-token-for-tests-0123456789"  # shaped like a real one


def test_tokens_are_redacted_from_log_lines() -> None:
    with captured_log("INFO") as stream:
        logging.getLogger("httpx").warning("HTTP Request: POST https://api.telegram.org/bot%s/getMe", TOKEN)
        logging.getLogger("bot.test").info("token %s and Zalo bot %s", TOKEN, "bot2991:xyzXYZ_abc-def")
    text = stream.getvalue()
    assert "fake-token-for-tests" not in text
    assert "xyzXYZ_abc-def" not in text
    assert text.count("<redacted>") == 3


async def test_invite_guessing_is_limited_per_person_and_in_total_across_a_restart(
    tmp_path: Path, database_url: str
) -> None:
    clock = Clock()
    async with running_service(tmp_path, clock, database_url) as service:
        admin, guesser = Chat(service, "admin"), Chat(service, "4444")
        real = invite_code(await admin.send("/moi 16012"))
        for attempt in range(5):
            assert "Mã mời không đúng" in await guesser.send(f"/start dk_WRONG{attempt}")
        assert "nhập sai mã mời nhiều lần" in await guesser.send(f"/start dk_{real}")
    async with running_service(tmp_path, clock, database_url) as service:  # a restart forgets nothing
        guesser = Chat(service, "4444")
        assert "nhập sai mã mời nhiều lần" in await guesser.send(f"/start dk_{real}")
        for account in range(5000, 5009):  # many accounts guessing together: 45 more wrong codes, 50 in all
            for attempt in range(5):
                assert "Mã mời không đúng" in await Chat(service, str(account)).send(f"/start dk_X{attempt}")
        assert "tạm ngừng nhận mã mời" in await Chat(service, "6000").send(f"/start dk_{real}")
        clock.advance(minutes=16)
        assert "Bạn đã được gắn với Xã Hậu Lộc" in await guesser.send(f"/start dk_{real}")


async def test_backup_of_a_live_database(tmp_path: Path) -> None:
    async with running_service(tmp_path) as service:
        citizen = Chat(service, "5")
        await citizen.send("/start ks_16012")
        await citizen.answer_all([*SURVEY_ANSWERS, "nộp"])
        pages = backup_sqlite(f"sqlite+aiosqlite:///{tmp_path / 'pbgdpl.sqlite3'}", tmp_path / "backup.sqlite3")
        assert pages > 0
    with sqlite3.connect(tmp_path / "backup.sqlite3") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT count(*) FROM responses WHERE status = 'submitted'").fetchone()[0] == 1
        assert copy.execute("SELECT count(*) FROM answers").fetchone()[0] == 13
