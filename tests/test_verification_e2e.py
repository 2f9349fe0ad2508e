"""Done-when of issue 15 (the Justice Office's own scoring) over Telegram against the fake Bot API, on both
databases: an officer submits, an admin lowers two criteria with reasons, the officer explains one, the admin
finalises, the officer receives the result. The expected totals are worked out here from the questionnaire's file
and the answers stored, not by the bot's scoring."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from sqlalchemy import select

from bot.app import open_service
from bot.channels.telegram import TelegramChannel
from bot.outbox import Outbox
from storage.models import Answer, Response
from tests.client import Clock, settings_for
from tests.fakes.telegram import FakeTelegram
from tests.test_review_e2e import invite, received
from tests.test_telegram_e2e import ADMIN, OFFICER, User, complete

ROOT = Path(__file__).resolve().parent.parent
LOWERED = {"n1_ke_hoach": (2, "Kế hoạch ban hành muộn"), "n1_van_ban": (3, "Chỉ có 2 văn bản đúng nội dung")}


def own_points(question: dict[str, object], value: object) -> float:
    """The points the questionnaire's file gives an answer, read directly: yes/no points, or the band it falls in."""
    if question["type"] == "yes_no":
        return float(question["points_yes"] if value == "co" else question.get("points_no") or 0)  # type: ignore[arg-type]
    for band in question["bands"]:  # type: ignore[attr-defined]
        below = band.get("below")
        if band["min"] <= value and (value < below if below is not None else value <= band["max"]):  # type: ignore[operator]
            return float(band["points"])
    raise AssertionError(value)


async def test_officer_submits_admin_lowers_two_officer_explains_admin_finalises(
    tmp_path: Path, database_url: str
) -> None:
    definition = yaml.safe_load((ROOT / "presets/questionnaires/tu-danh-gia.yaml").read_text(encoding="utf-8"))
    questions = {q["id"]: q for g in definition["groups"] for q in g["questions"]}
    clock = Clock()
    async with FakeTelegram() as tg, open_service(settings_for(tmp_path, database_url=database_url)) as service:
        service.clock = clock
        service.admins = frozenset({f"telegram:{ADMIN}"})
        channel = TelegramChannel(service, tg.token, tg.base_url, tg.base_file_url, retry_delay=0.05)
        service.channels.add(channel)
        await channel.start()
        worker = Outbox(service.db, [channel], clock, poll=0.05, per_chat=0.0)
        await worker.start()
        try:
            admin, officer = User(tg, ADMIN), User(tg, OFFICER)
            await invite(admin, officer, "16012")
            await officer.say("/danhgia")
            await complete(officer)
            review = "\n".join(m.plain_text or "" for m in tg.messages(OFFICER) if "Tổng:" in (m.plain_text or ""))
            shown = re.findall(r"Tổng: ([\d,]+)/100", review)
            assert shown, review
            own_total = float(shown[-1].replace(",", "."))
            async with service.db.read() as db:
                [response] = (await db.scalars(select(Response).where(Response.respondent.is_(None)))).all()
                stored = {
                    a.question_id: a.value
                    for a in (await db.scalars(select(Answer).where(Answer.response_id == response.id))).all()
                }
            before = {qid: own_points(questions[qid], stored[qid]) for qid in LOWERED}
            expected = own_total - sum(before.values()) + sum(points for points, _ in LOWERED.values())
            assert all(before[qid] > LOWERED[qid][0] for qid in LOWERED), before  # both really lowered

            for qid, (points, reason) in LOWERED.items():
                code = questions[qid]["code"]
                said = await admin.say(f"/chamdiem 16012 {code} {points} {reason}")
                assert f"Đã chấm {code} của Xã Hậu Lộc: {points}/" in said, said
            assert "Đã gửi giải trình" in await officer.say("/giaitrinh N1.1 Kế hoạch ký ngày 5/1/2026")
            assert "Đã thẩm định đủ" in await admin.say("/chamdiem 16012 dongy")
            await admin.say("/xem 16012")
            xem = "\n".join(m.plain_text or "" for m in tg.messages(ADMIN)[-3:])
            assert "(Kế hoạch ban hành muộn) | giải trình: Kế hoạch ký ngày 5/1/2026" in xem
            total = f"{expected:g}".replace(".", ",")
            assert f"thẩm định {total}/100" in xem
            asked = await admin.say("/chot 16012")
            assert "Hạ điểm:" in asked and "N1.1" in asked and "N1.3" in asked and f"{total}/100" in asked
            assert "Đã chốt kết quả thẩm định" in await admin.say("đồng ý")
            await tg.wait_until(lambda: bool(received(officer, "đã chốt kết quả thẩm định")))
            [notice] = received(officer, "đã chốt kết quả thẩm định")
            assert f"{total}/100 điểm (tự chấm {own_total:g})".replace(".", ",") in notice, notice
            for qid, (points, reason) in LOWERED.items():
                code = questions[qid]["code"]
                assert f"• {code}: {before[qid]:g} → {points}/" in notice and reason in notice, notice
            assert "đã chốt" in await admin.say("/chamdiem 16012 N1.1 6")
        finally:
            await worker.stop()
            await channel.stop()
