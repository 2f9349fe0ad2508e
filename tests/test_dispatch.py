"""Dispatch: one transaction per message (the update's claim and the handler's work), the role resolved once and
checked against the command table, long jobs recorded in that transaction and taken up after a crash."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot import jobs
from bot.app import command_table, open_service
from bot.commands.export import PREPARING
from bot.messages import Reply
from bot.service import BotService
from bot.table import Call, Command, CommandTable, Permission
from conversations.engine import Inbound, Outgoing
from storage.models import AuditEntry, InboxEvent, Job, OutboxMessage
from tests.client import Chat, running_service, settings_for

PROBE = Inbound(text="/probe")


class Crash(BaseException):
    """The process dying half-way: nothing after it runs, not even the service's error handling."""


def with_command(service_table: CommandTable, command: Command) -> CommandTable:
    return CommandTable(
        [*service_table.commands, command],
        service_table.files,
        service_table.waits.values(),
        service_table.jobs.values(),
    )


IMPORTS = "import bot.service, sys; print([m for m in sys.modules if m.startswith('bot.commands')])"


def test_the_service_alone_imports_no_command() -> None:
    imported = subprocess.run(
        [
            sys.executable,
            "-c",
            IMPORTS,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.strip() == "[]"


async def test_the_claim_and_the_work_share_one_transaction(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        seen: list[tuple[int, int]] = []

        async def probe(call: Call) -> list[Reply]:
            claimed = select(func.count()).select_from(InboxEvent).where(InboxEvent.update_key == "u1")
            async with service.db.read() as elsewhere:
                seen.append((await call.db.scalar(claimed) or 0, await elsewhere.scalar(claimed) or 0))
            call.db.add(AuditEntry(actor="probe", action="probe", target="", at=service.clock(), detail={}))
            if len(seen) == 1:
                raise Crash
            return [Outgoing("xong")]

        service.commands = with_command(service.commands, Command(("probe",), probe, Permission.ANYONE, "thử"))
        chat = Chat(service, "700")
        with pytest.raises(Crash):
            await service.handle(chat.sender, PROBE, "u1")
        assert seen == [(1, 0)], "claimed inside the handler's transaction, not yet visible outside it"
        async with service.db.read() as db:
            assert await db.scalar(select(func.count()).select_from(InboxEvent)) == 0, "the crash undid the claim"
            assert await db.scalar(select(func.count()).select_from(AuditEntry)) == 0
        redelivered = await service.handle(chat.sender, PROBE, "u1")
        assert [r.text for r in redelivered if isinstance(r, Outgoing)] == ["xong"], "the redelivery is applied"
        again = await service.handle(chat.sender, PROBE, "u1")
        assert again == [], "and only once"
        async with service.db.read() as db:
            assert await db.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.actor == "probe")) == 1


async def test_permissions_come_from_the_table(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        citizen, admin = Chat(service, "701"), Chat(service, "admin")
        assert "chỉ dành cho quản trị viên" in await citizen.send("/duyet 16012")
        assert "dành cho quản trị viên (Phòng Tư pháp) và cán bộ" in await citizen.send("/tiendo")
        assert "chỉ dành cho cán bộ" in await citizen.send("/danhgia")
        help_text = await citizen.send("/trogiup")
        assert "/khaosat" in help_text and "/duyet" not in help_text
        admin_help = await admin.send("/trogiup")
        assert "Lệnh quản trị:" in admin_help and "/duyet <mã đơn vị>" in admin_help
        assert {name for name, _ in service.commands.menu(admin=True)} >= {
            n for c in command_table().commands for n in c.names
        }


async def test_an_export_is_a_recorded_job(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        admin = Chat(service, "admin")
        reply = await admin.send("/xuat danhgia")
        assert "Đang chuẩn bị tệp xuất" in reply and admin.documents
        async with service.db.read() as db:
            job = (await db.scalars(select(Job))).one()
            assert (job.kind, job.status, job.payload["request"]["kind"]) == ("export", "done", "danhgia")
            actions = (await db.scalars(select(AuditEntry.action))).all()
            assert list(actions).count("export") == 1


async def test_a_detached_job_a_shutdown_cuts_short_is_told_like_a_crash(tmp_path: Path, database_url: str) -> None:
    sent: list[list[Reply]] = []

    async def interim(replies: list[Reply]) -> None:
        sent.append(replies)

    async def never(made_by: BotService, payload: dict[str, Any]) -> Any:
        await asyncio.Event().wait()

    async with running_service(tmp_path, database_url=database_url) as service:
        table, export = service.commands, service.commands.job("export")
        service.commands = CommandTable(
            table.commands, table.files, table.waits.values(), [replace(export, make=never)]
        )
        admin = Chat(service, "admin")
        assert await service.handle(admin.sender, Inbound(text="/xuat danhgia"), "u1", interim) == []
        assert [[r.text for r in rs if isinstance(r, Outgoing)] for rs in sent] == [[PREPARING]], "told at once"
    async with running_service(tmp_path, database_url=database_url) as service:  # the shutdown did not wait for it
        async with service.db.read() as db:
            assert (await db.scalars(select(Job.status))).all() == ["running"]
        service.clock = lambda: datetime.now(UTC) + jobs.STALLED * 2
        assert await jobs.sweep(service) == 1, "its requester is told, as after a crash"
        async with service.db.read() as db:
            assert [m.recipient for m in (await db.scalars(select(OutboxMessage))).all()] == ["admin"]


async def test_a_job_a_crash_cut_short_is_taken_up_at_restart(tmp_path: Path, database_url: str) -> None:
    now = datetime.now(UTC)
    settings = settings_for(tmp_path, database_url=database_url)
    async with open_service(settings) as service, service.db.write() as db:
        for requester, beat in (("gone", now - timedelta(minutes=5)), ("alive", now)):
            db.add(
                Job(
                    kind="export",
                    channel="test",
                    requester=requester,
                    status="running",
                    payload={"request": {}, "words": "baocao"},
                    created_at=beat,
                    heartbeat_at=beat,
                )
            )
    async with open_service(settings) as service:  # the restart
        async with service.db.read() as db:
            status = {r: s for r, s in (await db.execute(select(Job.requester, Job.status))).all()}
            told = (await db.scalars(select(OutboxMessage))).all()
        assert status == {"gone": "failed", "alive": "running"}, "one another process still runs is left alone"
        assert [(m.recipient, m.text) for m in told] == [
            (
                "gone",
                "Tệp xuất bạn yêu cầu chưa làm xong vì hệ thống vừa khởi động lại. Gõ lại /xuat baocao để xuất lại.",
            )
        ]
        service.clock = lambda: now + timedelta(minutes=5)
        assert await jobs.sweep(service) == 1, "the scheduler's sweep takes up the other once its heartbeat stops"
        assert await jobs.sweep(service) == 0
