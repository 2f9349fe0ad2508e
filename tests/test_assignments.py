"""Assignments (bot/assignments.py): a period runs several questionnaires, each for the units it applies to; an old
database keeps what it ran."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from conversations import engine
from conversations.definition import load_directory
from storage.migrate import migrate
from storage.queries import assignments
from tests.client import Chat, running_service

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = load_directory(ROOT / "presets" / "questionnaires")


def _stored_state(questionnaire_id: str) -> str:
    qn = SHIPPED[questionnaire_id]
    return json.dumps(engine.as_stored(engine.start(qn, datetime(2025, 3, 1, tzinfo=UTC)).state))


async def test_an_old_database_keeps_what_each_period_ran_and_its_counts(tmp_path: Path, database_url: str) -> None:
    """Migration 0016: a period is assigned the questionnaires its responses were on (the self-assessment to every
    unit, the citizen survey to the communes); a kind nobody answered yet, the one the bot would have opened. What
    was submitted is counted as before, and the survey still opens."""
    await migrate(database_url, "0015")
    old = create_async_engine(database_url)
    at = datetime(2025, 11, 1, 8, 0, tzinfo=UTC)
    async with old.begin() as connection:
        await connection.execute(
            sa.text("INSERT INTO units (code, name, kind, unit_set) VALUES ('16012', 'Xã Hậu Lộc', 'commune', 'x')")
        )
        for code, is_open, closed in (("2025", False, at), ("2026", True, None)):
            await connection.execute(
                sa.text(
                    "INSERT INTO periods (code, title, deadline, is_open, created_at, closed_at)"
                    " VALUES (:code, :code, :deadline, :open, :at, :closed)"
                ),
                {"code": code, "deadline": date(int(code), 12, 15), "open": is_open, "at": at, "closed": closed},
            )
        rows = [
            ("2025", "tu-danh-gia", None, 80.0),
            ("2025", "khao-sat-nguoi-dan", "nguoi-a", None),
            ("2026", "tu-danh-gia", None, 70.0),
        ]
        for period, questionnaire, respondent, points in rows:
            key = "|".join([questionnaire, period, "16012"] + ([respondent] if respondent else []))
            await connection.execute(
                sa.text(
                    "INSERT INTO responses (dedupe_key, questionnaire_id, questionnaire_version, period_code,"
                    " unit_code, respondent, status, state, total_points, created_at, updated_at, submitted_at)"
                    " VALUES (:key, :qid, '2026.1', :period, '16012', :respondent, 'submitted', :state, :points,"
                    " :at, :at, :at)"
                ),
                {
                    "key": key,
                    "qid": questionnaire,
                    "period": period,
                    "respondent": respondent,
                    "state": _stored_state(questionnaire),
                    "points": points,
                    "at": at,
                },
            )
    await old.dispose()
    async with running_service(tmp_path, database_url=database_url) as service:  # migrates as a start does
        async with service.db.read() as db:
            rows = {p: await assignments(db, p) for p in ("2025", "2026")}
        ran = {p: [(a.questionnaire_id, a.scope, a.target) for a in found] for p, found in rows.items()}
        legacy = [("tu-danh-gia", "all", ""), ("khao-sat-nguoi-dan", "kind", "commune")]
        assert ran == {"2025": legacy, "2026": legacy}  # 2026's survey: nobody answered it yet, the shipped one
        admin, citizen = Chat(service, "admin"), Chat(service, "7001")
        closed = await admin.send("/tiendo 2025")
        assert "Xã Hậu Lộc: đã nộp (80 điểm)" in closed and "Xã Hậu Lộc: 1/" in closed, closed
        now = await admin.send("/tiendo")
        assert "Xã Hậu Lộc: đã nộp (70 điểm)" in now and "Xã Hậu Lộc: 0/" in now, now
        assert "Khảo sát cho Xã Hậu Lộc." in await citizen.send("/khaosat 16012")
