"""A whole evaluation period through the real Telegram channel against the fake Bot API, with an injected clock:
open a period with a deadline, invite officers, watch progress, reminders at the right simulated times to the right
people, return and resubmit, approve, close; authorization refusals; the outbox across a restart and a 429."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
from sqlalchemy import func, select

from bot.app import open_service
from bot.channels.telegram import TelegramChannel
from bot.config import Settings
from bot.outbox import Outbox, Recipient, notify
from bot.scheduler import Scheduler
from bot.service import BotService
from storage.models import AnswerChange, AuditEntry, OutboxMessage
from tests.client import Clock, settings_for
from tests.fakes.telegram import FakeTelegram
from tests.test_telegram_e2e import ADMIN, CITIZEN_A, OFFICER, User, complete

OFFICER_B, OFFICER_C = 2003, 2004


@dataclass
class Bot:
    service: BotService
    channel: TelegramChannel
    outbox: Outbox
    scheduler: Scheduler


@asynccontextmanager
async def running(
    tg: FakeTelegram, data_dir: Path, clock: Clock, config: Settings | None = None, **outbox: float
) -> AsyncIterator[Bot]:
    async with open_service(config or settings_for(data_dir)) as service:
        service.clock = clock
        service.admins = frozenset({f"telegram:{ADMIN}"})
        channel = TelegramChannel(service, tg.token, tg.base_url, tg.base_file_url, retry_delay=0.05)
        service.channels.add(channel)
        await channel.start()
        worker = Outbox(service.db, [channel], clock, poll=0.05, **{"per_chat": 0.0, **outbox})
        await worker.start()
        try:
            yield Bot(service, channel, worker, Scheduler(service, worker))
        finally:
            await worker.stop()
            await channel.stop()


async def invite(admin: User, officer: User, unit: str) -> None:
    found = re.search(r"dk_([A-Z0-9]+)", await admin.say(f"/moi {unit}"))
    assert found, admin.text
    assert "Bạn đã được gắn với" in await officer.say(f"/start dk_{found[1]}")


def received(user: User, words: str) -> list[str]:
    return [m.plain_text or "" for m in user.tg.messages(user.id) if words in (m.plain_text or "")]


async def test_a_whole_period_with_reminders_at_the_right_times_to_the_right_people(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 3, 2, 1, 0, tzinfo=UTC))  # 08:00 in Vietnam
    async with FakeTelegram() as tg, running(tg, tmp_path, clock) as bot:
        admin, a, b, c = User(tg, ADMIN), User(tg, OFFICER), User(tg, OFFICER_B), User(tg, OFFICER_C)
        assert "Kỳ 2026 đang mở" in await admin.say("/ky mo 2026")
        assert "Đóng kỳ 2026?" in await admin.say("/ky dong 2026")
        assert "Đã đóng kỳ 2026" in await admin.say("đồng ý")
        assert "chưa có kỳ đánh giá nào đang mở" in await User(tg, CITIZEN_A).say("/start ks_16012")
        created = await admin.say("/ky tao 2026-q1 15/03/2026 Kỳ thử quý I")
        assert "Đã tạo kỳ 2026-q1" in created and "15/03/2026" in created
        opened = await admin.say("/ky mo 2026-q1")
        assert "Đã mở kỳ 2026-q1, hạn nộp 15/03/2026" in opened and "tu-danh-gia 2026.1" in opened
        assert "2026-q1 – Kỳ thử quý I: đang mở" in await admin.say("/ky")
        for officer, unit in ((a, "16012"), (b, "16021"), (c, "16078")):
            await invite(admin, officer, unit)
        await a.say("/danhgia")
        assert "Đã nộp phiếu" in await complete(a)
        await admin.say("/tiendo")
        progress = tg.messages(ADMIN)[-2].plain_text or ""
        assert "Còn 13 ngày đến hạn nộp" in progress
        assert "1/5 đơn vị đã nộp, 0 đang làm, 4 chưa bắt đầu" in progress
        assert "mục tiêu 30 phiếu mỗi đơn vị" in progress

        assert await bot.scheduler.tick() == 0, "nothing is due 13 days before the deadline"
        clock.now = datetime(2026, 3, 8, 0, 59, tzinfo=UTC)  # 07:59 on 8/3, a week before
        assert await bot.scheduler.tick() == 0
        clock.advance(minutes=1)
        assert await bot.scheduler.tick() == 2, "officers of the two units that have not submitted"
        assert await bot.scheduler.tick() == 0, "each reminder once"
        await tg.wait_until(lambda: bool(received(b, "Nhắc việc")) and bool(received(c, "Nhắc việc")))
        assert "Nhắc việc kỳ 2026-q1 – Xã Triệu Lộc: chưa nộp Tự đánh giá." in received(b, "Nhắc việc")[0]
        assert "Còn 7 ngày đến hạn nộp" in received(b, "Nhắc việc")[0]
        assert received(a, "Nhắc việc") == [] and received(admin, "Nhắc việc") == []

        await b.say("/danhgia")
        assert "Đã nộp phiếu" in await complete(b)
        clock.now = datetime(2026, 3, 9, 1, 30, tzinfo=UTC)  # the last week: the admins' morning digest
        assert await bot.scheduler.tick() == 1
        await tg.wait_until(lambda: bool(received(admin, "Tóm tắt ngày 09/03/2026")))
        digest = received(admin, "Tóm tắt ngày 09/03/2026")[0]
        assert "2/5 đơn vị đã nộp" in digest and "Xã Vạn Lộc" in digest and "Xã Hậu Lộc" not in digest
        clock.now = datetime(2026, 3, 12, 1, 0, tzinfo=UTC)  # three days before
        await bot.scheduler.tick()
        await tg.wait_until(lambda: len(received(c, "Nhắc việc")) == 2)
        assert len(received(b, "Nhắc việc")) == 1, "a unit that has submitted is not reminded again"
        assert "Còn 3 ngày" in received(c, "Nhắc việc")[1]

        clock.now = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)  # past the deadline
        await admin.say("/tiendo")
        late = tg.messages(ADMIN)[-2].plain_text or ""
        assert "Đã quá hạn 1 ngày" in late and "Trễ hạn, chưa nộp (3)" in late and "Xã Vạn Lộc" in late
        assert await bot.scheduler.tick() == 0, "no reminder after the deadline"
        assert "Đóng kỳ 2026-q1?" in await admin.say("/ky dong")
        assert "Đã đóng kỳ 2026-q1" in await admin.say("đồng ý")
        assert "chưa có kỳ đánh giá nào đang mở" in await c.say("/danhgia")
        tg.assert_no_violations()


async def test_return_resubmit_approve_and_who_may_do_what(tmp_path: Path) -> None:
    clock = Clock()
    async with FakeTelegram() as tg, running(tg, tmp_path, clock) as bot:
        admin, officer, other, citizen = User(tg, ADMIN), User(tg, OFFICER), User(tg, OFFICER_B), User(tg, CITIZEN_A)
        await invite(admin, officer, "16012")
        await invite(admin, other, "16021")
        assert "chưa nộp phiếu tự đánh giá kỳ 2026" in await admin.say("/duyet 16012")
        await officer.say("/danhgia")
        assert "Đã nộp phiếu" in await complete(officer)

        assert "chỉ dành cho quản trị viên" in await officer.say("/duyet 16012")
        assert "chỉ dành cho quản trị viên" in await officer.say("/tralai 16012 N1.1 sai")
        assert "chỉ dành cho quản trị viên" in await officer.say("/xuat")
        assert "Bạn chỉ xem được phiếu của đơn vị mình (Xã Triệu Lộc)" in await other.say("/xem 16012")
        for command in ("/xem 16012", "/duyet 16012", "/ky", "/nhacnho"):
            reply = await citizen.say(command)
            assert "quản trị viên" in reply, (command, reply)

        shown = await admin.say("/xem 16012")
        assert "Phiếu tự đánh giá kỳ 2026 – Xã Hậu Lộc (16012)" in shown and "Trạng thái: Đã nộp" in shown
        assert "1. N1.1 " in shown and "điểm" in shown and "Tổng điểm:" in shown
        assert "Trạng thái: Đã nộp" in await officer.say("/xem"), "an officer reads their own unit's"

        assert "Không thấy mã tiêu chí" in await admin.say("/tralai 16012 thiếu minh chứng")
        assert "Hãy ghi lý do" in await admin.say("/tralai 16012 N1.1")
        returned = await admin.say("/tralai 16012 N1.1: chưa thấy kế hoạch; N1.5: báo cáo gửi chậm")
        assert "Đã trả lại phiếu của Xã Hậu Lộc" in returned and "Đã báo cho 1 cán bộ" in returned
        await tg.wait_until(lambda: bool(received(officer, "trả lại phiếu")))
        notice = received(officer, "trả lại phiếu")[0]
        assert "N1.1" in notice and "chưa thấy kế hoạch" in notice and "N1.5" in notice
        assert "N1.2" not in notice and "N2.1" not in notice, "only the flagged criteria"
        assert received(other, "trả lại phiếu") == []
        await admin.say("/tiendo")
        assert "Xã Hậu Lộc: bị trả lại" in (tg.messages(ADMIN)[-2].plain_text or "")

        reopened = await officer.say("/danhgia")
        texts = "\n".join(m.plain_text or "" for m in tg.messages(OFFICER)[-3:])
        assert "Phiếu được mở lại để sửa" in texts and "Ghi chú của Phòng Tư pháp: chưa thấy kế hoạch" in reopened
        await officer.tap("Không")
        assert "Báo cáo công tác PBGDPL" in officer.text and "báo cáo gửi chậm" in officer.text
        await officer.tap("Giữ nguyên")
        assert "Gửi minh chứng báo cáo" in officer.text, "the evidence backing a flagged criterion is reopened too"
        await officer.tap("Xong")
        assert "Xem lại trước khi nộp" in officer.text, "straight back to the review after the flagged ones"
        assert "Đã nộp phiếu" in await officer.tap("Nộp phiếu")

        await tg.wait_until(lambda: bool(received(admin, "đã nộp lại")))
        told = received(admin, "đã nộp lại")[0]
        assert "Xã Hậu Lộc đã nộp lại phiếu tự đánh giá kỳ 2026" in told
        assert "N1.1" in told and "Có → Không" in told
        assert "Đã duyệt phiếu tự đánh giá kỳ 2026 của Xã Hậu Lộc" in await admin.say("/duyet 16012")
        await tg.wait_until(lambda: bool(received(officer, "đã được Phòng Tư pháp duyệt")))
        assert "đã được duyệt lúc" in await admin.say("/duyet 16012")
        assert "đã nộp lúc" in await officer.say("/danhgia"), "an approved self-assessment stays locked"
        async with bot.service.db.read() as db:
            changes = (await db.scalars(select(AnswerChange))).all()
            actions = list((await db.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all())
        assert {c.question_id for c in changes} >= {"n1_ke_hoach"}
        assert next(c for c in changes if c.question_id == "n1_ke_hoach").new_text == "Không"
        assert actions == ["invite", "invite", "return", "approve"]
        exported = await admin.export("/xuat nhatky")

        asked = await admin.say("/tralai 16012 N1.1: vẫn thiếu kế hoạch")  # an approved one: asked first
        assert "đã được duyệt" in asked and "phải duyệt lại từ đầu" in asked
        assert "Đã thôi, không có gì thay đổi" in await admin.say("không")
        assert "đã được duyệt lúc" in await admin.say("/duyet 16012"), "still approved"
        await admin.say("/tralai 16012 N1.1: vẫn thiếu kế hoạch")
        assert "Đã trả lại phiếu của Xã Hậu Lộc" in await admin.tap("Đồng ý")
        tg.assert_no_violations()
    assert exported.file_name.startswith("nhat-ky-2026")
    book = openpyxl.load_workbook(io.BytesIO(exported.data))
    assert book.sheetnames == ["Lịch sử sửa phiếu", "Nhật ký quản trị", "Ghi chú"]
    history = [row for row in book["Lịch sử sửa phiếu"].iter_rows(min_row=2, values_only=True)]
    plan = next(row for row in history if str(row[3]).startswith("N1.1"))
    assert plan[1:3] == ("16012", "Xã Hậu Lộc") and plan[4:6] == ("Có", "Không") and f"telegram:{OFFICER}" in plan[6]
    done = [row[2] for row in book["Nhật ký quản trị"].iter_rows(min_row=2, values_only=True)]
    assert done == ["Tạo mã mời cán bộ", "Tạo mã mời cán bộ", "Trả lại phiếu để sửa", "Duyệt phiếu"]


async def test_the_outbox_survives_a_restart_without_duplicates_and_waits_out_a_429(tmp_path: Path) -> None:
    clock = Clock()
    async with FakeTelegram() as tg:
        user = User(tg, OFFICER)
        tg.add_user(OFFICER)
        async with running(tg, tmp_path, clock, per_chat=1.0) as bot:
            await bot.outbox.stop()  # queue first, then send
            async with bot.service.db.write() as db:
                for n in range(5):
                    await notify(db, [Recipient("telegram", str(OFFICER))], "test", f"Thông báo {n}", clock())
            tg.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
            await bot.outbox.start()
            await tg.wait_for_calls("sendMessage", 1)
            await asyncio.sleep(0.3)
            assert received(user, "Thông báo") == [], "the next ones wait: a retried message is not overtaken"
            clock.advance(seconds=1)
            await tg.wait_until(lambda: len(received(user, "Thông báo")) >= 2)
        assert 2 <= len(received(user, "Thông báo")) < 5, "stopped half-way"
        async with running(tg, tmp_path, clock, per_chat=0.3) as bot:
            await tg.wait_until(lambda: len(received(user, "Thông báo")) == 5)
            sent = 0
            for _ in range(100):  # a message is marked sent just after Telegram has taken it
                async with bot.service.db.read() as db:
                    sent = await db.scalar(select(func.count()).where(OutboxMessage.status == "sent")) or 0
                if sent == 5:
                    break
                await asyncio.sleep(0.05)
        assert [m.plain_text for m in tg.messages(OFFICER)] == [f"Thông báo {n}" for n in range(5)]
        assert sent == 5
        assert len([c for c in tg.calls_to("sendMessage") if c.params.get("text") == "Thông báo 0"]) == 2, "429, then"
        tg.assert_no_violations()
