"""No chat-path statement scans a table that grows with use: every lookup a citizen's survey or an officer's step
makes is served by an index, and by one that narrows it to a few rows (not the questionnaire's or the period's whole
share of the table), so answering stays as fast with 100,000 stored responses as with none.

The SQL of whole conversations is captured as the database runs it; each statement is then explained (SQLite:
EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN with sequential scans priced out, so a Seq Scan left in the plan has no
index to use)."""

from __future__ import annotations

import itertools
import json
import re
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url

from bot.service import BotService
from conversations.engine import Inbound
from storage.db import Compiled, PostgresqlWriter, Ran
from storage.models import Base
from storage.sqlite_driver import InlineConnection, Outcome
from tests.client import Chat, running_service
from tests.test_service import SURVEY_ANSWERS, invite_code

SMALL_TABLES = {"units", "periods", "questionnaire_versions", "assignments"}
"""Set up by admins, not grown by conversations (a few hundred units, a period a year): a scan costs nothing."""

FEW_VALUES = {"questionnaire_id", "questionnaire_version", "period_code", "unit_code", "status", "channel", "kind"}
"""Columns with a handful of values over a whole table: an index searched on these alone still reads a large share
of it (100,000 survey responses of one questionnaire and period)."""

Captured = list[tuple[str, Any]]


class NumberedChat(Chat):
    """A chat whose messages carry platform update ids, as the real channels' do (so the claim is captured too)."""

    numbers = itertools.count(1)

    async def _do(self, inbound: Inbound) -> str:
        self.last = await self.service.handle(self.sender, inbound, update_id=str(next(self.numbers)))
        return self.text


@contextmanager
def capturing(service: BotService) -> Iterator[Captured]:
    statements: Captured = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE")):
            return
        many = executemany and parameters and isinstance(parameters[0], list | tuple)
        statements.append((statement, parameters[0] if many else parameters))

    def run_now(connection: InlineConnection, sql: str, parameters: Any = None) -> Outcome:
        record(None, None, sql, parameters, None, False)
        return run_directly(connection, sql, parameters)

    async def prepared(writer: PostgresqlWriter, compiled: Compiled, values: Mapping[str, Any]) -> Ran:
        record(None, None, compiled.sql, compiled.parameters(values), None, False)
        return await run_prepared(writer, compiled, values)

    engines = {service.db.writer.sync_engine, service.db.reader.sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    # The writers' prepared statements (storage.db.Prepared), on the driver's connection, not through SQLAlchemy.
    run_directly, run_prepared = InlineConnection.run_now, PostgresqlWriter.run
    InlineConnection.run_now = run_now  # type: ignore[method-assign]
    PostgresqlWriter.run = prepared  # type: ignore[method-assign]
    try:
        yield statements
    finally:
        InlineConnection.run_now = run_directly  # type: ignore[method-assign]
        PostgresqlWriter.run = run_prepared  # type: ignore[method-assign]
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


async def chat_path(service: BotService) -> Captured:
    """A citizen's whole survey (a unit picked, paused, resumed, submitted) and an officer's steps."""
    admin = Chat(service, "admin")
    code = invite_code(await admin.send("/moi 16078"))
    with capturing(service) as statements:
        citizen = NumberedChat(service, "9001")
        assert "xã/phường nào" in await citizen.send("/khaosat")
        assert "Khảo sát cho Xã Hoa Lộc" in await citizen.send("hoa loc")
        await citizen.answer_all(SURVEY_ANSWERS[:3])
        assert "Đã tạm dừng" in await citizen.send("/huy")
        assert "Tiếp tục phiếu" in await citizen.send("/khaosat")  # the respondent's latest draft
        await citizen.answer_all(SURVEY_ANSWERS[3:])
        assert "Đã nộp phiếu" in await citizen.send("nộp")
        again = NumberedChat(service, "9002")
        assert "Khảo sát cho Xã Hậu Lộc" in await again.send("/start ks_16012")
        officer = NumberedChat(service, "9100")
        assert "Bạn đã được gắn với" in await officer.send(f"/start dk_{code}")
        assert "Câu 1/" in await officer.send("/danhgia")
        assert "Câu 2/" in await officer.send("có")
    assert len(statements) > 30
    return statements


def unselective(table: str, condition: str) -> bool:
    """Whether an index search on a growing table is narrowed only by columns with a few values."""
    used = set(re.findall(r"[a-z_]+", condition)) & set(Base.metadata.tables[table].columns.keys())
    return table not in SMALL_TABLES and bool(used) and used <= FEW_VALUES


def sqlite_scans(path: str, statements: Captured) -> set[str]:
    found = set()
    with sqlite3.connect(path) as connection:
        for statement, parameters in statements:
            for *_, detail in connection.execute(f"EXPLAIN QUERY PLAN {statement}", tuple(parameters)):
                scanned = re.match(r"SCAN (\w+)", detail)
                searched = re.match(r"SEARCH (\w+) USING (?:COVERING )?INDEX \w+ \((.*)\)", detail)
                if (scanned and scanned[1] not in SMALL_TABLES) or (searched and unselective(*searched.groups())):
                    found.add(f"{detail}: {statement}")
    return found


def seq_scans(plan: dict[str, Any], table: str = "") -> Iterator[str]:
    """Sequential scans of growing tables, and index searches on them narrowed only by columns with few values."""
    table = plan.get("Relation Name", table)  # a bitmap index scan names its table on the heap scan above it
    if plan.get("Node Type") == "Seq Scan" and table not in SMALL_TABLES:
        yield f"Seq Scan on {table}"
    if "Index Cond" in plan and unselective(table, plan["Index Cond"]):
        yield f"{plan['Node Type']} using {plan['Index Name']} ({plan['Index Cond']}) on {table}"
    for child in plan.get("Plans", []):
        yield from seq_scans(child, table)


async def postgresql_scans(service: BotService, statements: Captured) -> set[str]:
    found = set()
    async with service.db.writer.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        await raw.execute("SET enable_seqscan = off")
        for statement, parameters in statements:
            if statement.lstrip().upper().startswith("SELECT PG_ADVISORY"):
                continue
            plan = await raw.fetchval(f"EXPLAIN (FORMAT JSON) {statement}", *parameters)
            plan = json.loads(plan) if isinstance(plan, str) else plan  # SQLAlchemy's JSON codec may decode it
            found |= {f"{scan}: {statement}" for scan in seq_scans(plan[0]["Plan"])}
    return found


async def test_no_chat_path_statement_scans_a_growing_table(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        statements = await chat_path(service)
        if service.db.sqlite:
            scans = sqlite_scans(str(make_url(database_url).database), statements)
        else:
            scans = await postgresql_scans(service, statements)
    assert not scans, "\n".join(sorted(scans))


async def test_an_answer_is_a_few_statements_with_no_orm_reads(tmp_path: Path, database_url: str) -> None:
    """A plain answer begins with the person's lock, the claim and the reads of their session and response, and
    writes the state: one round trip and an UPDATE on PostgreSQL (a server-side function), the claim, one read and
    the UPDATE on SQLite, each a prepared statement on the driver's connection, none through SQLAlchemy's
    execution. A regression to ORM loads or extra round trips shows here."""
    async with running_service(tmp_path, database_url=database_url) as service:
        citizen = NumberedChat(service, "9001")
        assert "Khảo sát cho Xã Hậu Lộc" in await citizen.send("/start ks_16012")
        await citizen.answer_all(SURVEY_ANSWERS[:2])
        through_sqlalchemy: list[str] = []
        event.listen(service.db.writer.sync_engine, "before_cursor_execute", lambda *a: through_sqlalchemy.append(a[2]))
        with capturing(service) as statements:
            assert "Câu " in await citizen.send(SURVEY_ANSWERS[2])
    begun = [s for s in through_sqlalchemy if s != "BEGIN IMMEDIATE"]  # SQLite's group transaction
    assert not begun, "a plain answer's statements run on the driver's connection (storage.db.Prepared)"
    kinds = [" ".join(statement.split()[:2]).upper() for statement, _ in statements]
    if service.db.sqlite:
        assert kinds == ["INSERT INTO", "SELECT SESSIONS.RESPONSE_ID,", "UPDATE RESPONSES"]
    else:
        assert kinds == ["SELECT B.CLAIMED,", "UPDATE RESPONSES"]
