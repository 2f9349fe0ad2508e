"""What operators rely on: /readyz tells whether the database answers, and logs can be JSON lines."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from pathlib import Path

from bot.links import DownloadLinks
from bot.web import WebServer
from storage.db import Database
from tests.fakes.local import free_port
from tests.helpers import captured_log
from tests.test_web import fetch


async def test_readiness_follows_the_database(tmp_path: Path) -> None:
    links = DownloadLinks(tmp_path / "downloads", b"secret", "http://127.0.0.1", timedelta(hours=1))
    healthy = Database(f"sqlite+aiosqlite:///{tmp_path / 'ok.sqlite3'}")
    unreachable = Database("postgresql+asyncpg://postgres@127.0.0.1:9/none")
    for database, expected in ((healthy, 200), (unreachable, 503)):
        port = free_port()
        server = WebServer("127.0.0.1", port, [], links, ready=database.ping)
        await server.start()
        try:
            status, _, _ = await fetch(f"http://127.0.0.1:{port}/readyz")
            assert status == expected
            assert (await fetch(f"http://127.0.0.1:{port}/healthz"))[0] == 200
        finally:
            await server.stop()
            await database.dispose()


def test_json_log_lines_are_parseable_and_redacted() -> None:
    with captured_log("INFO", json_lines=True) as stream:
        logging.getLogger("bot.test").info("gửi tới bot123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef12 thất bại")
        try:
            raise RuntimeError("bot123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef12")
        except RuntimeError:
            logging.getLogger("bot.test").exception("lỗi")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "gửi tới <redacted> thất bại" and first["level"] == "INFO"
    assert "ABCDEFGH" not in second["exception"] and second["logger"] == "bot.test"
