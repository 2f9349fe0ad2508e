"""What several tests do alike: run a real `pbgdpl run` in a subprocess, wait for a condition, read what a
database or its outbox holds, read what the bot's logging writes, answer a whole self-assessment."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import re
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.logs import setup_logging
from bot.service import BotService
from conversations.engine import Outgoing
from storage.db import Database
from storage.models import InboxEvent, OutboxMessage, Response
from tests.client import Chat

SECRET = "crash-test-secret"


async def start_bot(
    data_dir: Path, database_url: str, log: Path, settings: dict[str, str]
) -> asyncio.subprocess.Process:
    """`pbgdpl run` in a subprocess, its output appended to `log`; `settings` are PBGDPL_* names without the prefix."""
    env = {
        **os.environ,
        "PBGDPL_DATA_DIR": str(data_dir),
        "PBGDPL_SECRET": SECRET,
        "PBGDPL_PERIOD": "2026",
        "PBGDPL_CONSOLE": "false",
        "PBGDPL_HTTP_PORT": "0",
        "PBGDPL_DATABASE_URL": database_url,
        **{f"PBGDPL_{name.upper()}": value for name, value in settings.items()},
    }
    with log.open("ab") as handle:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", env=env, stdout=handle, stderr=handle
        )


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 60.0, what: str = "condition") -> None:
    """Wait until `check()` is true, looking every 50 ms."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"{what}: not met within {timeout} s")
        await asyncio.sleep(0.05)


async def stored_states(database_url: str) -> dict[str | None, dict[str, object]]:
    """Every response's engine state, by respondent."""
    database = Database(database_url)
    try:
        async with database.read() as db:
            return {r.respondent: dict(r.state) for r in await db.scalars(select(Response))}
    finally:
        await database.dispose()


async def undone_events(database_url: str) -> int:
    """How many stored platform events are not applied yet (0 before the inbox table exists)."""
    database = Database(database_url)
    try:
        async with database.read() as db:
            query = select(func.count()).select_from(InboxEvent).where(InboxEvent.done_at.is_(None))
            return int(await db.scalar(query) or 0)
    finally:
        await database.dispose()


def sheet_rows(book: Any, name: str) -> dict[str, dict[str, Any]]:
    """A workbook sheet's rows by their first cell, each as {column heading: value}."""
    rows = list(book[name].iter_rows(values_only=True))
    return {str(row[0]): dict(zip(rows[0], row, strict=True)) for row in rows[1:]}


async def outbox(service: BotService, kind: str) -> dict[str, list[str]]:
    """The texts the outbox holds of one kind ("reminder", "returned"…), by recipient."""
    async with service.db.read() as db:
        rows = (await db.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind))).all()
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row.recipient, []).append(row.text)
    return found


@contextmanager
def captured_log(level: str, json_lines: bool = False) -> Iterator[io.StringIO]:
    """What the bot's logging (bot.logs.setup_logging) writes meanwhile; logging is reset afterwards."""
    setup_logging(level, json_lines=json_lines)
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        yield stream
    finally:
        logging.basicConfig(force=True)


TASKS = "Bấm nút, gõ số thứ tự hoặc tên phiếu"
"""What /danhgia says when the officer has several questionnaires to pick from (bot.texts.TASKS_TITLE)."""


async def open_questionnaire(officer: Chat, title: str = "Tự đánh giá") -> str:
    """/danhgia, and when it lists several questionnaires, the one of that short title, by its button."""
    text = await officer.send("/danhgia")
    if TASKS not in text:
        return text
    [label] = [
        line.split(". ", 1)[1] for line in text.splitlines() if line.startswith("  ") and f". {title} — " in line
    ]
    return await officer.tap(label)


async def answer_everything(officer: Chat, choice: str, percent: str) -> int:
    """Answer every question of the open questionnaire up to its review (choices by `choice`, rates by `percent`,
    one file per evidence question); the number of files sent."""
    files = 0
    for _ in range(100):
        text = officer.text
        if "Xem lại trước khi nộp" in text:
            return files
        if "Gửi ảnh hoặc tệp minh chứng" in text:
            files += 1
            await officer.send_file(f"tep-{files}", f"minh-chung-{files}.jpg")
            await officer.send("xong")
        elif "  1. " in text:
            await officer.send(choice)
        elif "tỉ lệ phần trăm" in text:
            await officer.send(percent)
        elif "ngày/tháng/năm" in text:
            await officer.send("1/1/2026")
        elif any(a.label == "Bỏ qua" for r in officer.last if isinstance(r, Outgoing) for a in r.actions):
            await officer.tap("Bỏ qua")
        else:
            await officer.send("5")
    raise AssertionError(f"the questionnaire did not reach its review: {officer.text}")


async def complete_assessment(
    officer: Chat, choice: str, percent: str, title: str = "Tự đánh giá"
) -> tuple[float, int]:
    """Open the self-assessment of that short title (/danhgia, picked when there are several), answer every question
    and submit; the total the officer was shown and the number of files sent."""
    await open_questionnaire(officer, title)
    files = await answer_everything(officer, choice, percent)
    total = re.search(r"Tổng: ([\d,]+)/100", officer.text)
    assert total, officer.text
    assert "Đã nộp phiếu" in await officer.tap("Nộp phiếu")
    return float(total[1].replace(",", ".")), files
