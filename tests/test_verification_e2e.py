"""Done-when of issue 15 (the Justice Office's own scoring) over Telegram against the fake Bot API, on both
databases: an officer submits, an admin lowers two criteria with reasons, the officer explains one, the admin
finalises, the officer receives the result; a second unit's result is accepted as it stands and finalised; the
self-assessment workbook and the report, sent over the chat, show the verified totals, levels (a classification
seeded into the test's questionnaire) and ranks. The expected totals, levels and ranks are worked out here from the
questionnaire's file and the answers stored, not by the bot's scoring."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from typing import Any

import docx
import openpyxl
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
LEVELS = [("Xuất sắc", 90), ("Tốt", 80), ("Khá", 65), ("Đạt", 50)]
"""Seeded into the test's copy of the self-assessment (none is shipped as official)."""
SECOND_OFFICER, SECOND_UNIT = 2003, "16072"


def own_points(question: dict[str, Any], value: Any) -> float:
    """The points the questionnaire's file gives an answer, read directly: yes/no points, a choice's points (the sum
    of those chosen, up to the positive ones' sum), or the band it falls in."""
    if question["type"] == "yes_no":
        return float(question["points_yes"] if value == "co" else question.get("points_no") or 0)
    if "choices" in question:
        points = {c["value"]: c.get("points") or 0 for c in question["choices"]}
        if isinstance(value, list):
            return float(min(sum(points[v] for v in value), sum(p for p in points.values() if p > 0)))
        return float(points[value])
    for band in question.get("bands", []):
        below = band.get("below")
        if band["min"] <= value and (value < below if below is not None else value <= band["max"]):
            return float(band["points"])
    return 0.0


def total_of(definition: dict[str, Any], stored: dict[str, Any]) -> float:
    """The self total of the answers stored: each group's points, up to the group's maximum."""
    return sum(
        min(sum(own_points(q, stored[q["id"]]) for q in g["questions"] if q["id"] in stored), g["max_points"])
        for g in definition["groups"]
        if g.get("max_points")
    )


def level(total: float) -> str:
    return next(name for name, least in LEVELS if total >= least)


def rank(total: float, totals: list[float]) -> int:
    return 1 + sum(other > total for other in totals)


def in_text(points: float) -> str:
    return f"{points:g}".replace(".", ",")


def questionnaires(tmp_path: Path) -> Path:
    """The shipped questionnaires, the self-assessment with the test's classification."""
    directory = tmp_path / "questionnaires"
    shutil.copytree(ROOT / "presets" / "questionnaires", directory)
    path = directory / "tu-danh-gia.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["classification"] = [{"name": name, "min_points": least} for name, least in LEVELS]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return directory


def rows_of(book: Any, name: str) -> list[dict[str, Any]]:
    header, *rows = book[name].iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in rows]


async def test_officer_submits_admin_lowers_two_officer_explains_admin_finalises(
    tmp_path: Path, database_url: str
) -> None:
    directory = questionnaires(tmp_path)
    definition = yaml.safe_load((directory / "tu-danh-gia.yaml").read_text(encoding="utf-8"))
    questions = {q["id"]: q for g in definition["groups"] for q in g["questions"]}
    clock = Clock()
    settings = settings_for(tmp_path, database_url=database_url, questionnaires_dir=directory)
    async with FakeTelegram() as tg, open_service(settings) as service:
        service.clock = clock
        service.admins = frozenset({f"telegram:{ADMIN}"})
        channel = TelegramChannel(service, tg.token, tg.base_url, tg.base_file_url, retry_delay=0.05)
        service.channels.add(channel)
        await channel.start()
        worker = Outbox(service.db, [channel], clock, poll=0.05, per_chat=0.0)
        await worker.start()
        try:
            admin, officer, second = User(tg, ADMIN), User(tg, OFFICER), User(tg, SECOND_OFFICER)
            for user, unit in ((officer, "16012"), (second, SECOND_UNIT)):
                await invite(admin, user, unit)
                await user.say("/danhgia")
                await complete(user)
            review = "\n".join(m.plain_text or "" for m in tg.messages(OFFICER) if "Tổng:" in (m.plain_text or ""))
            shown = re.findall(r"Tổng: ([\d,]+)/100", review)
            assert shown, review
            answers: dict[str, dict[str, Any]] = {}
            async with service.db.read() as db:
                for response in (await db.scalars(select(Response).where(Response.respondent.is_(None)))).all():
                    found = await db.scalars(select(Answer).where(Answer.response_id == response.id))
                    answers[response.unit_code] = {a.question_id: a.value for a in found.all()}
            own = {unit: total_of(definition, stored) for unit, stored in answers.items()}
            assert set(own) == {"16012", SECOND_UNIT} and own["16012"] == float(shown[-1].replace(",", "."))
            own_total = own["16012"]
            stored = answers["16012"]
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
            assert f"\nXếp loại: {level(expected)}\n" in notice, notice
            assert "\nHạng 1/1 theo điểm thẩm định (trong số các đơn vị đã chốt kết quả kỳ 2026)\n" in notice, notice
            for qid, (points, reason) in LOWERED.items():
                code = questions[qid]["code"]
                assert f"• {code}: {before[qid]:g} → {points}/" in notice and reason in notice, notice
            assert "đã chốt" in await admin.say("/chamdiem 16012 N1.1 6")
            await admin.say("/xem 16012")
            assert f"Xếp loại: {level(expected)}" in "\n".join(m.plain_text or "" for m in tg.messages(ADMIN)[-3:])

            assert "Đã thẩm định đủ" in await admin.say(f"/chamdiem {SECOND_UNIT} dongy")  # no survey: its own
            await admin.say(f"/chot {SECOND_UNIT}")
            assert "Đã chốt kết quả thẩm định" in await admin.say("đồng ý")
            verified = {"16012": expected, SECOND_UNIT: own[SECOND_UNIT]}
            ranks = {unit: rank(points, list(verified.values())) for unit, points in verified.items()}
            await tg.wait_until(lambda: bool(received(second, "đã chốt kết quả thẩm định")))
            [notice] = received(second, "đã chốt kết quả thẩm định")
            assert f"Hạng {ranks[SECOND_UNIT]}/2 theo điểm thẩm định" in notice, notice  # both finalised now
            await admin.say("/xem 16012")
            shown_to_admin = "\n".join(m.plain_text or "" for m in tg.messages(ADMIN)[-3:])
            assert f"Hạng {ranks['16012']}/2 theo điểm thẩm định" in shown_to_admin, shown_to_admin
            seen = len(tg.messages(OFFICER))
            await officer.say("/xem")
            own_view = "\n".join(m.plain_text or "" for m in tg.messages(OFFICER)[seen:])
            assert "Xếp loại" in own_view and "theo điểm thẩm định" not in own_view  # the Office's /xem has the rank
            book = openpyxl.load_workbook(io.BytesIO((await admin.export("/xuat danhgia")).data))
            summary = {r["Mã đơn vị"]: r for r in rows_of(book, "Tổng hợp")}
            for unit, points in verified.items():
                row = summary[unit]
                assert row["Thẩm định"] == "Đã chốt"
                assert row["Tổng điểm tự chấm (tối đa 100)"] == own[unit]
                assert row["Tổng điểm thẩm định (tối đa 100)"] == points
                assert row["Xếp loại"] == level(points)
                assert row["Hạng"] == ranks[unit]  # the rank the chat gave
                assert row["Hạng theo điểm tự chấm"] == rank(own[unit], list(own.values()))
            assert level(expected) != level(own_total)  # the level the unit reaches is the verified total's
            assert [rank(v, list(verified.values())) for v in verified.values()] == [2, 1]  # lowered below the other
            assert [rank(v, list(own.values())) for v in own.values()] == [1, 1]  # the same answers: a shared rank
            detail = {(r["Mã đơn vị"], r["Tiêu chí"]): r for r in rows_of(book, "Chi tiết")}
            explained = detail[("16012", "N1.1")]
            assert (explained["Điểm thẩm định"], explained["Lý do thẩm định"]) == LOWERED["n1_ke_hoach"]
            assert explained["Giải trình của đơn vị"] == "Kế hoạch ký ngày 5/1/2026"
            lowered = {r["Tiêu chí"]: r for r in rows_of(book, "Tiêu chí bị hạ điểm")}
            assert set(lowered) == {questions[qid]["code"] for qid in LOWERED}
            for qid, (points, reason) in LOWERED.items():
                code = questions[qid]["code"]
                quoted = f"Xã Hậu Lộc ({in_text(before[qid])} → {in_text(points)}): “{reason}”"
                assert lowered[code]["Số đơn vị bị hạ điểm"] == 1
                assert lowered[code]["Đơn vị (tự chấm → thẩm định): lý do"] == quoted

            report = docx.Document(io.BytesIO((await admin.export("/xuat baocao")).data))
            tables = [[[c.text for c in row.cells] for row in t.rows] for t in report.tables]
            header, *rows = next(t for t in tables if t[0][0] == "STT")
            by_name = {row[1]: row for row in rows}
            for unit, name in (("16012", "Xã Hậu Lộc"), (SECOND_UNIT, "Xã Hoa Lộc")):
                row = by_name[name]
                assert row[header.index("Tự chấm\n(100)")] == in_text(own[unit])
                assert row[header.index("Thẩm định")] == in_text(verified[unit])
                assert row[header.index("Xếp loại")] == level(verified[unit])
                assert row[header.index("Hạng")] == str(rank(verified[unit], list(verified.values())))
            most = next(t for t in tables if t[0][-1] == "Đơn vị (tự chấm → thẩm định): lý do")
            for qid, (points, reason) in LOWERED.items():
                quoted = f"Xã Hậu Lộc ({in_text(before[qid])} → {in_text(points)}): “{reason}”"
                assert any(
                    r[0].startswith(f"{questions[qid]['code']} ") and r[1:] == ["1", quoted] for r in most[1:]
                ), most
        finally:
            await worker.stop()
            await channel.stop()
