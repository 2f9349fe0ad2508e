"""Small repository functions over one AsyncSession; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import (
    Boolean,
    Integer,
    Text,
    and_,
    bindparam,
    cast,
    column,
    delete,
    func,
    null,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from conversations.status import Status
from conversations.text import vi_sort_key
from storage.db import Database, Prepared, advisory_key, connection_of
from storage.files import DIGEST
from storage.models import (
    ADMIN_UNITS,
    Account,
    Answer,
    AnswerChange,
    Assignment,
    AuditEntry,
    Base,
    BlockedRecipient,
    Event,
    Evidence,
    Explanation,
    InboxEvent,
    Invite,
    InviteFailure,
    Job,
    OutboxMessage,
    Period,
    QuestionnaireVersion,
    Response,
    Review,
    Unit,
    UnitName,
    UTCDateTime,
    WebSession,
    WebSignIn,
    ZaloOaToken,
)

# ---------------------------------------------------------------- units and periods


async def upsert_units(
    db: AsyncSession, unit_set: str, records: Iterable[dict[str, Any]], now: datetime, today: date
) -> int:
    """Units from a preset file or an admin's upload. A unit an admin has uploaded, renamed, ended or merged
    (unit set ADMIN_UNITS) is left as they made it when the preset files are applied again at start. A unit
    renamed keeps its earlier name (rename_unit)."""
    count = 0
    for record in records:
        unit = await db.get(Unit, record["code"])
        if unit is not None and unit.unit_set == ADMIN_UNITS and unit_set != ADMIN_UNITS:
            continue
        if unit is None:
            unit = Unit(code=record["code"], name=record["name"])
            db.add(unit)
        await rename_unit(db, unit, record["name"], now, today)
        unit.kind, unit.unit_set = record["kind"], unit_set
        unit.valid_from, unit.valid_to = record.get("valid_from"), record.get("valid_to")
        unit.formed_from, unit.parent_code = record.get("formed_from"), record.get("parent_code")
        count += 1
    await db.flush()
    return count


async def rename_unit(db: AsyncSession, unit: Unit, name: str, now: datetime, today: date) -> None:
    """The unit is called `name` from `today` on; its earlier name is kept, in use until yesterday."""
    if name == unit.name:
        return
    if unit.name:
        db.add(UnitName(unit_code=unit.code, name=unit.name, used_until=today - timedelta(days=1), changed_at=now))
    unit.name = name


async def named_on(db: AsyncSession, units: Sequence[Unit], day: date) -> list[Unit]:
    """The units under the names they had on `day` (a period's deadline): a unit renamed since comes as a copy
    under its earlier name, not attached to the session, so nothing is written back."""
    query = select(UnitName.unit_code, UnitName.name).where(UnitName.used_until >= day)
    earlier: dict[str, str] = {}
    for code, name in (await db.execute(query.order_by(UnitName.used_until.desc(), UnitName.id.desc()))).all():
        earlier[code] = name  # the last one read is the first name still in use on that day
    columns = [c.key for c in Unit.__table__.columns]
    return [
        Unit(**{**{c: getattr(u, c) for c in columns}, "name": earlier[u.code]}) if u.code in earlier else u
        for u in units
    ]


async def response_counts(db: AsyncSession, unit_codes: Sequence[str]) -> dict[str, int]:
    """How many responses (of any kind, drafts included) each unit has."""
    query = select(Response.unit_code, func.count()).where(Response.unit_code.in_(unit_codes))
    return {code: count for code, count in (await db.execute(query.group_by(Response.unit_code))).all()}


_UNITS_IN_FORCE = select(Unit).where(
    (Unit.valid_from.is_(None)) | (Unit.valid_from <= bindparam("today")),
    (Unit.valid_to.is_(None)) | (Unit.valid_to >= bindparam("today")),
)
"""Built once, as the other statements of a citizen's survey opening below: building a statement anew each time cost
a third of running it through the ORM."""
_UNITS_OF_KIND_IN_FORCE = _UNITS_IN_FORCE.where(Unit.kind == bindparam("kind"))


def in_unit_order(units: Iterable[Unit]) -> list[Unit]:
    """Units in the order a list of them is read: each unit whose parent is not among them in Vietnamese order of its
    name, followed by its own units (a commune's offices under the commune, not interleaved with other communes)."""
    found = list(units)
    names = {u.code: u.name for u in found}

    def place(unit: Unit) -> tuple[Any, ...]:
        if unit.parent_code in names and unit.parent_code != unit.code:
            return vi_sort_key(names[unit.parent_code]), 1, vi_sort_key(unit.name)
        return vi_sort_key(unit.name), 0

    return sorted(found, key=place)


async def units_in_force(db: AsyncSession, today: date, kind: str | None = None) -> list[Unit]:
    if kind is None:
        return list((await db.scalars(_UNITS_IN_FORCE, {"today": today})).all())
    return list((await db.scalars(_UNITS_OF_KIND_IN_FORCE, {"today": today, "kind": kind})).all())


async def get_unit(db: AsyncSession, code: str) -> Unit | None:
    return await db.get(Unit, code)


async def ensure_period(db: AsyncSession, code: str, title: str, deadline: date, now: datetime) -> Period:
    period = await db.get(Period, code)
    if period is None:
        period = Period(code=code, title=title, deadline=deadline, is_open=True, created_at=now)
        db.add(period)
        await db.flush()
    return period


async def add_assignment(db: AsyncSession, row: Assignment) -> Assignment:
    db.add(row)
    await db.flush()
    return row


async def remove_assignment(db: AsyncSession, row: Assignment) -> None:
    await db.delete(row)
    await db.flush()


async def add_event(db: AsyncSession, event: Event) -> Event:
    db.add(event)
    await db.flush()
    return event


async def get_event(db: AsyncSession, event_id: int) -> Event | None:
    return await db.get(Event, event_id)


async def remove_event(db: AsyncSession, event: Event) -> None:
    """The event goes; its responses stay, as the unit's (their event_id is cleared)."""
    await db.execute(update(Response).where(Response.event_id == event.id).values(event_id=None))
    await db.delete(event)
    await db.flush()


async def current_period(db: AsyncSession) -> Period | None:
    query = select(Period).where(Period.is_open.is_(True)).order_by(Period.code.desc()).limit(1)
    return (await db.scalars(query)).first()


_PERIODS = Base.metadata.tables["periods"]
_OPEN_PERIOD_CODES = Prepared(
    select(_PERIODS.c.code).where(_PERIODS.c.is_open.is_(True)).order_by(_PERIODS.c.code.desc())
)


async def current_period_code(db: AsyncSession) -> str | None:
    """The code of the current period (`current_period`), by a prepared statement with no ORM object: a citizen's
    survey asks for it at every step of opening (a period a year: the few rows are read, the first kept)."""
    found = (await _OPEN_PERIOD_CODES.run(db, {})).rows
    return str(found[0][0]) if found else None


# ---------------------------------------------------------------- accounts and invites


_ACCOUNTS = Base.metadata.tables["accounts"]
_ACCOUNT_ID = Prepared(
    select(_ACCOUNTS.c.id).where(
        _ACCOUNTS.c.channel == bindparam("channel"), _ACCOUNTS.c.platform_id == bindparam("platform_id")
    )
)


async def get_account(db: AsyncSession, channel: str, platform_id: str) -> Account | None:
    """The person's account, looked up by a prepared statement first: most people writing are citizens, who have
    none, and an ORM query that finds nothing costs as much as a whole answer's statements (the role is resolved
    at every command)."""
    found = (await _ACCOUNT_ID.run(db, {"channel": channel, "platform_id": platform_id})).rows
    return await db.get(Account, found[0][0]) if found else None


async def ensure_account(
    db: AsyncSession, channel: str, platform_id: str, now: datetime, display_name: str | None = None
) -> Account:
    account = await get_account(db, channel, platform_id)
    if account is None:
        account = Account(
            channel=channel, platform_id=platform_id, is_admin=False, display_name=display_name, created_at=now
        )
        db.add(account)
        await db.flush()
    return account


async def officers_of(db: AsyncSession, unit_code: str) -> list[Account]:
    return list((await db.scalars(select(Account).where(Account.unit_code == unit_code))).all())


async def add_invite(db: AsyncSession, invite: Invite) -> None:
    db.add(invite)
    await db.flush()


async def get_invite(db: AsyncSession, code: str) -> Invite | None:
    return await db.get(Invite, code, with_for_update=True)


async def invite_failures(db: AsyncSession, actor: str, since: datetime) -> tuple[int, int]:
    """Wrong invite codes typed since then: (by this person, by everyone)."""
    query = select(func.count(), func.count().filter(InviteFailure.actor == actor)).where(InviteFailure.at >= since)
    total, mine = (await db.execute(query)).one()
    return int(mine), int(total)


async def add_invite_failure(db: AsyncSession, actor: str, now: datetime, forget_before: datetime) -> None:
    """One more wrong code; those older than `forget_before` count for nothing any more and go."""
    await db.execute(delete(InviteFailure).where(InviteFailure.at < forget_before))
    db.add(InviteFailure(actor=actor, at=now))
    await db.flush()


# ---------------------------------------------------------------- conversations and responses


def _insert_for(dialect: str) -> Any:
    """The dialect's INSERT, whose ON CONFLICT clauses the upserts below use."""
    return sqlite_insert if dialect == "sqlite" else postgresql_insert


def _insert(db: AsyncSession) -> Any:
    return _insert_for(db.get_bind().dialect.name)


def _per_dialect(build: Callable[[str], Any]) -> dict[str, Prepared]:
    """A fixed statement that differs by dialect (an upsert), prepared for each: looked up by the write's."""
    return {dialect: Prepared(build(dialect)) for dialect in ("sqlite", "postgresql")}


def _store_inbound(dialect: str) -> Any:
    insert = _insert_for(dialect)(Base.metadata.tables["inbox"])
    names = ("channel", "update_key", "person", "payload", "received_at")
    return insert.values({name: bindparam(name) for name in names}).on_conflict_do_nothing().returning(InboxEvent.id)


_STORE_INBOUND = _per_dialect(_store_inbound)


async def store_inbound(
    database: Database, channel: str, update_key: str, person: str, payload: str, now: datetime
) -> int | None:
    """Keep a platform event until it is applied, committed when this returns (the platform is told it arrived only
    then): one statement on its own (`Database.write_one`: on PostgreSQL a single round trip). Its inbox id, or None
    when it was stored before (a redelivery)."""
    values = {"channel": channel, "update_key": update_key, "person": person, "payload": payload, "received_at": now}
    rows = (await database.write_one(_STORE_INBOUND[database.dialect], values)).rows
    return int(rows[0][0]) if rows else None


async def pending_inbound(db: AsyncSession, channel: str) -> list[InboxEvent]:
    """The channel's stored events not applied yet, oldest first."""
    query = select(InboxEvent).where(InboxEvent.channel == channel, InboxEvent.done_at.is_(None))
    return list((await db.scalars(query.order_by(InboxEvent.id))).all())


def _claim(dialect: str) -> Any:
    """Mark a platform update as applied (one statement); the row counts 1 unless it already was."""
    insert = _insert_for(dialect)(Base.metadata.tables["inbox"])
    return insert.values(
        channel=bindparam("channel"),
        update_key=bindparam("update_key"),
        received_at=bindparam("now"),
        done_at=bindparam("now"),
    ).on_conflict_do_update(
        index_elements=[InboxEvent.channel, InboxEvent.update_key],
        set_={"done_at": bindparam("now"), "payload": null()},
        where=InboxEvent.done_at.is_(None),
    )


_CLAIM = _per_dialect(_claim)


async def claim_update(db: AsyncSession, channel: str, update_key: str, now: datetime) -> bool:
    """Mark a platform update as applied, in the transaction that applies it; False when it already was (a
    redelivery). A stored event loses its payload; an update that was never stored (long polling) is recorded."""
    claim = _CLAIM[(await connection_of(db)).dialect.name]
    return (await claim.run(db, {"channel": channel, "update_key": update_key, "now": now})).rowcount == 1


REDELIVERY_WINDOW = timedelta(days=2)
"""How long an applied event's id is kept in the inbox: Telegram holds an unconfirmed update for at most 24 hours
and the Zalo platforms retry a webhook within minutes, so an id older than this can never come back."""


async def last_inbound(db: AsyncSession, channel: str, person: str) -> datetime | None:
    """When a person's latest stored event on a channel came (a platform's reply window), within the
    REDELIVERY_WINDOW the inbox keeps; None when longer ago, or never."""
    query = select(func.max(InboxEvent.received_at)).where(InboxEvent.channel == channel, InboxEvent.person == person)
    found: datetime | None = await db.scalar(query)
    return found


async def prune_inbox(db: AsyncSession, now: datetime) -> int:
    """Forget the events applied before the redelivery window (the table would otherwise grow with every message);
    events not applied yet are kept whatever their age."""
    query = delete(InboxEvent).where(InboxEvent.done_at < now - REDELIVERY_WINDOW)
    return int(getattr(await db.execute(query), "rowcount", 0) or 0)


class SessionState(NamedTuple):
    """Where a person is (storage.models.ConversationSession): the response they fill, or what is awaited."""

    response_id: int | None
    waiting_for: dict[str, Any] | None


class ResponseState(NamedTuple):
    """What a message reads of the response a person is filling (storage.models.Response)."""

    id: int
    questionnaire_id: str
    questionnaire_version: str
    period_code: str
    unit_code: str
    respondent: str | None
    status: Status
    state: dict[str, Any]
    total_points: float | None
    submitted_at: datetime | None


class Begun(NamedTuple):
    """A message's start: whether its update was claimed now (False: applied before), the person's session and the
    response it points at."""

    claimed: bool
    session: SessionState | None
    response: ResponseState | None


_SESSIONS, _RESPONSES = Base.metadata.tables["sessions"], Base.metadata.tables["responses"]
_ANSWERS, _EVIDENCE = Base.metadata.tables["answers"], Base.metadata.tables["evidence"]
_RESPONSE_FIELDS = [_RESPONSES.c[name] for name in ResponseState._fields]
_READ_SESSION = Prepared(
    select(_SESSIONS.c.response_id, _SESSIONS.c.waiting_for, *_RESPONSE_FIELDS)
    .select_from(_SESSIONS.outerjoin(_RESPONSES, _RESPONSES.c.id == _SESSIONS.c.response_id))
    .where(_SESSIONS.c.actor == bindparam("actor"))
)
"""SQLite: one writer at a time, so a plain read; PostgreSQL locks in pbgdpl_begin_message (migration 0014)."""
_BEGIN_POSTGRESQL = Prepared(
    text(
        "SELECT b.claimed, b.has_session, b.session_response, b.waiting_for, "
        + ", ".join(f"(b.response).{name}" for name in ResponseState._fields)
        + " FROM pbgdpl_begin_message(:lock_key, :actor, :channel, :update_key, :now) AS b"
    )
    .bindparams(bindparam("now", type_=UTCDateTime()))
    .columns(
        column("claimed", Boolean),
        column("has_session", Boolean),
        column("session_response", Integer),
        _SESSIONS.c.waiting_for,
        *_RESPONSE_FIELDS,
    )
)


def _begun(claimed: bool, has_session: bool, row: Sequence[Any]) -> Begun:
    session = SessionState(row[0], row[1]) if has_session else None
    response = ResponseState._make(row[2:]) if has_session and row[2] is not None else None
    return Begun(claimed, session, response)


async def begin_message(db: AsyncSession, actor: str, channel: str, update_key: str | None, now: datetime) -> Begun:
    """The start of one message's transaction, in statements with no ORM objects: the person's lock (PostgreSQL: an
    advisory lock on their keyed hash, so several processes never interleave one person's messages; SQLite runs
    one writer at a time), the update's claim when the platform gave an id, and the person's session and response.
    PostgreSQL does it all in one round trip (a server-side function whose every statement sees what was committed
    before the lock was granted); SQLite in two statements on the event loop."""
    connection = await connection_of(db)
    if connection.dialect.name == "postgresql":
        values = {"lock_key": advisory_key(actor), "actor": actor, "channel": channel, "update_key": update_key}
        (row,) = (await _BEGIN_POSTGRESQL.run(db, {**values, "now": now})).rows
        return _begun(row[0], row[1], row[2:])
    if update_key is not None and not await claim_update(db, channel, update_key, now):
        return Begun(False, None, None)
    found = (await _READ_SESSION.run(db, {"actor": actor})).rows
    return _begun(True, bool(found), found[0] if found else ())


async def get_session(db: AsyncSession, actor: str) -> SessionState | None:
    query = select(_SESSIONS.c.response_id, _SESSIONS.c.waiting_for).where(_SESSIONS.c.actor == actor)
    found = (await db.execute(query.with_for_update())).first()
    return SessionState(*found) if found is not None else None


def _save_session(dialect: str) -> Any:
    insert = _insert_for(dialect)(_SESSIONS)
    values: dict[str, Any] = {name: bindparam(name) for name in ("actor", "response_id", "waiting_for", "updated_at")}
    updated = {name: insert.excluded[name] for name in ("response_id", "waiting_for", "updated_at")}
    return insert.values(values).on_conflict_do_update(index_elements=[_SESSIONS.c.actor], set_=updated)


_SAVE_SESSION = _per_dialect(_save_session)


async def save_session(
    db: AsyncSession, actor: str, now: datetime, response_id: int | None, waiting_for: dict[str, Any] | None
) -> None:
    """Where the person is now: one statement (an upsert)."""
    values = {"actor": actor, "response_id": response_id, "waiting_for": waiting_for, "updated_at": now}
    await _SAVE_SESSION[(await connection_of(db)).dialect.name].run(db, values)


_SAVE_STATE = Prepared(
    update(_RESPONSES)
    .where(_RESPONSES.c.id == bindparam("response_id"))
    .values(state=bindparam("state"), updated_at=bindparam("updated_at"))
)


async def save_state(db: AsyncSession, response_id: int, state: dict[str, Any], now: datetime) -> None:
    """An answer's write: the response's conversation state (one statement, no ORM object)."""
    await _SAVE_STATE.run(db, {"response_id": response_id, "state": state, "updated_at": now})


async def get_response(db: AsyncSession, response_id: int) -> Response | None:
    return await db.get(Response, response_id, with_for_update=True, populate_existing=True)


def response_key(questionnaire_id: str, period: str, unit: str, respondent: str | None = None) -> str:
    """What makes a response one of a kind: a unit's self-assessment once per period, an officer's own survey once
    per period, a citizen's survey once per period and unit (`respondent`: bot.assignments.respondent)."""
    return "|".join([questionnaire_id, period, unit] + ([respondent] if respondent else []))


_FIND_RESPONSE = select(Response).where(Response.dedupe_key == bindparam("key")).with_for_update()
_LATEST_DRAFT = (
    select(Response)
    .where(Response.respondent == bindparam("respondent"), Response.status == Status.DRAFT)
    .order_by(Response.updated_at.desc())
    .limit(1)
)
_PERSON_RESPONSES = (
    select(Response)
    .where(
        Response.questionnaire_id == bindparam("questionnaire_id"),
        Response.period_code == bindparam("period_code"),
        Response.respondent == bindparam("respondent"),
    )
    .order_by(Response.id)
)


async def find_response(db: AsyncSession, dedupe_key: str) -> Response | None:
    return (await db.scalars(_FIND_RESPONSE, {"key": dedupe_key})).first()


async def latest_draft(db: AsyncSession, respondent: str) -> Response | None:
    """The survey this person left unfinished most recently."""
    return (await db.scalars(_LATEST_DRAFT, {"respondent": respondent})).first()


async def person_responses(
    db: AsyncSession, questionnaire_id: str, period_code: str, respondent: str
) -> list[Response]:
    """What one person answered (or began) of a questionnaire in a period, for any unit: at most one counts."""
    values = {"questionnaire_id": questionnaire_id, "period_code": period_code, "respondent": respondent}
    return list((await db.scalars(_PERSON_RESPONSES, values)).all())


async def add_response(db: AsyncSession, response: Response) -> Response:
    db.add(response)
    await db.flush()
    return response


async def store_submission(db: AsyncSession, answers: Sequence[Answer], evidence: Sequence[Evidence]) -> None:
    """A submission's answer and evidence rows, each table in one INSERT of all its rows (the ORM's flush wrote them
    one by one, tracking each object): nothing reads them back in the transaction."""
    connection = await connection_of(db)
    for table, rows in ((_ANSWERS, answers), (_EVIDENCE, evidence)):
        if rows:
            columns = [c.key for c in table.columns if not c.primary_key]
            await connection.execute(table.insert(), [{c: getattr(row, c) for c in columns} for row in rows])


async def file_digests(db: AsyncSession) -> set[str]:
    """Every SHA-256 a row refers to: the evidence submitted, the explanations' files, and the files in any
    response's answers (a draft's, a returned one's) or in the history of a submitted answer (what a resubmission
    replaced). Only the rows that hold a file are read; a digest is any 64 hex digits in them."""
    found = set((await db.scalars(select(Evidence.sha256).distinct())).all())
    found |= set((await db.scalars(select(Explanation.sha256).distinct())).all())
    for value in (Response.state, AnswerChange.old_value, AnswerChange.new_value):
        as_text = cast(value, Text)
        for held in (await db.scalars(select(as_text).where(as_text.like('%"sha256"%')))).all():
            found.update(DIGEST.findall(held))
    return {d for d in found if d}


# ---------------------------------------------------------------- reading for progress and exports


async def responses(
    db: AsyncSession, questionnaire_id: str, period_code: str, status: Status | None = None
) -> list[Response]:
    query = select(Response).where(Response.questionnaire_id == questionnaire_id, Response.period_code == period_code)
    if status is not None:
        query = query.where(Response.status == status)
    return list((await db.scalars(query.order_by(Response.id))).all())


async def get_zalo_oa_token(db: AsyncSession) -> ZaloOaToken | None:
    return await db.get(ZaloOaToken, 1, populate_existing=True)


async def save_zalo_oa_token(
    db: AsyncSession, access_token: str, refresh_token: str, expires_at: datetime, bootstrap: str, now: datetime
) -> None:
    row = await db.get(ZaloOaToken, 1)
    if row is None:
        row = ZaloOaToken(id=1)
        db.add(row)
    row.access_token, row.refresh_token, row.expires_at = access_token, refresh_token, expires_at
    row.bootstrap, row.updated_at = bootstrap, now
    await db.flush()


# ---------------------------------------------------------------- questionnaire versions


async def add_questionnaire_version(db: AsyncSession, row: QuestionnaireVersion) -> QuestionnaireVersion:
    db.add(row)
    await db.flush()
    return row


async def questionnaire_version(db: AsyncSession, questionnaire_id: str, version: str) -> QuestionnaireVersion | None:
    query = select(QuestionnaireVersion).where(
        QuestionnaireVersion.questionnaire_id == questionnaire_id, QuestionnaireVersion.version == version
    )
    return (await db.scalars(query)).first()


async def stored_versions(db: AsyncSession, questionnaire_id: str) -> list[str]:
    query = select(QuestionnaireVersion.version).where(QuestionnaireVersion.questionnaire_id == questionnaire_id)
    return list((await db.scalars(query)).all())


async def latest_unused_version(db: AsyncSession, questionnaire_id: str | None = None) -> QuestionnaireVersion | None:
    """The version uploaded last and not put into use yet (of one questionnaire, or of any)."""
    query = select(QuestionnaireVersion).where(QuestionnaireVersion.activated_at.is_(None))
    if questionnaire_id is not None:
        query = query.where(QuestionnaireVersion.questionnaire_id == questionnaire_id)
    query = query.order_by(QuestionnaireVersion.uploaded_at.desc(), QuestionnaireVersion.id.desc()).limit(1)
    return (await db.scalars(query.with_for_update())).first()


async def active_versions(db: AsyncSession, period_code: str) -> list[QuestionnaireVersion]:
    """For each questionnaire, the version activated last for the period (none: the preset files are used)."""
    query = (
        select(QuestionnaireVersion)
        .where(QuestionnaireVersion.period_code == period_code, QuestionnaireVersion.activated_at.is_not(None))
        .order_by(QuestionnaireVersion.activated_at, QuestionnaireVersion.id)
    )
    latest = {row.questionnaire_id: row for row in (await db.scalars(query)).all()}
    return list(latest.values())


# ---------------------------------------------------------------- running the evaluation: periods


async def all_periods(db: AsyncSession) -> list[Period]:
    return list((await db.scalars(select(Period).order_by(Period.code.desc()))).all())


async def open_periods(db: AsyncSession) -> list[Period]:
    return list((await db.scalars(select(Period).where(Period.is_open.is_(True)).order_by(Period.code))).all())


async def admin_accounts(db: AsyncSession) -> list[Account]:
    return list((await db.scalars(select(Account).where(Account.is_admin.is_(True)).order_by(Account.id))).all())


# ---------------------------------------------------------------- audit log


async def add_audit(db: AsyncSession, entry: AuditEntry) -> None:
    db.add(entry)
    await db.flush()


async def audit_entries(db: AsyncSession, period_code: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry)
    if period_code is not None:
        query = query.where(AuditEntry.period_code == period_code)
    return list((await db.scalars(query.order_by(AuditEntry.at, AuditEntry.id))).all())


# ---------------------------------------------------------------- reviews and the history of submitted answers


async def add_review(db: AsyncSession, review: Review) -> Review:
    db.add(review)
    await db.flush()
    return review


async def open_return(db: AsyncSession, response_id: int) -> Review | None:
    """The latest return of a response not yet answered by a new submission."""
    query = (
        select(Review)
        .where(Review.response_id == response_id, Review.action == "returned", Review.resolved_at.is_(None))
        .order_by(Review.at.desc(), Review.id.desc())
        .limit(1)
    )
    return (await db.scalars(query)).first()


async def reviews_of(db: AsyncSession, response_id: int) -> list[Review]:
    query = select(Review).where(Review.response_id == response_id).order_by(Review.at, Review.id)
    return list((await db.scalars(query)).all())


async def replace_submission(
    db: AsyncSession,
    response: Response,
    answers: Sequence[Answer],
    evidence: Sequence[Evidence],
    changed_by: int | None,
    now: datetime,
) -> list[AnswerChange]:
    """Store a new submission of a response submitted before: the answers that differ are kept as history
    (old → new), then the stored answers and evidence are replaced."""
    query = select(Answer).where(Answer.response_id == response.id)
    old = {a.question_id: a for a in (await db.scalars(query)).all()}
    new = {a.question_id: a for a in answers}
    changes = []
    for question_id in [*new, *(q for q in old if q not in new)]:
        before, after = old.get(question_id), new.get(question_id)
        if before is not None and after is not None and before.value == after.value:
            continue
        changes.append(
            AnswerChange(
                response_id=response.id,
                question_id=question_id,
                old_value=before.value if before else None,
                old_text=before.value_text if before else None,
                new_value=after.value if after else None,
                new_text=after.value_text if after else None,
                changed_by=changed_by,
                changed_at=now,
            )
        )
    await db.execute(delete(Answer).where(Answer.response_id == response.id))
    await db.execute(delete(Evidence).where(Evidence.response_id == response.id))
    db.add_all([*answers, *evidence, *changes])
    await db.flush()
    return changes


async def answer_changes(db: AsyncSession, period_code: str) -> list[tuple[AnswerChange, Response]]:
    query = (
        select(AnswerChange, Response)
        .join(Response, Response.id == AnswerChange.response_id)
        .where(Response.period_code == period_code)
        .order_by(AnswerChange.changed_at, AnswerChange.id)
    )
    return [(c, r) for c, r in (await db.execute(query)).all()]


# ---------------------------------------------------------------- notification outbox


async def enqueue(
    db: AsyncSession,
    channel: str,
    recipient: str,
    kind: str,
    text: str,
    now: datetime,
    account_id: int | None = None,
    dedupe_key: str | None = None,
    status: str = "pending",
    last_error: str | None = None,
) -> bool:
    """Queue a notification; False when one with the same key exists already (scheduled by another process, or
    earlier). One statement, so two processes scheduling the same reminder make one row. A message the channel
    could not send now is queued "held" (or recorded "failed")."""
    insert = _insert(db)
    values = {
        "channel": channel,
        "recipient": recipient,
        "account_id": account_id,
        "kind": kind,
        "text": text,
        "dedupe_key": dedupe_key,
        "status": status,
        "last_error": last_error[:300] if last_error else None,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    result = await db.execute(insert(OutboxMessage).values(values).on_conflict_do_nothing())
    return bool(getattr(result, "rowcount", 0) == 1)


async def claim_outbox(
    db: AsyncSession, channels: Sequence[str], now: datetime, token: str, lease_until: datetime, limit: int
) -> list[OutboxMessage]:
    """Claim due notifications for this process: pending ones whose time has come, and ones another process
    claimed but did not finish before its lease ran out; for each person only the oldest unsent one, so a message
    waiting for a retry is not overtaken. Rows locked by another claimer are skipped (PostgreSQL); SQLite runs one
    writer at a time."""
    due = or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.claimed_until < now),
    )
    earlier = aliased(OutboxMessage)
    waiting_behind = (
        select(earlier.id)
        .where(
            earlier.channel == OutboxMessage.channel,
            earlier.recipient == OutboxMessage.recipient,
            earlier.id < OutboxMessage.id,
            earlier.status.in_(("pending", "sending")),
        )
        .exists()
    )
    query = (
        select(OutboxMessage.id)
        .where(OutboxMessage.channel.in_(channels), due, ~waiting_behind)  # one person's messages in order
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list((await db.scalars(query)).all())
    if not ids:
        return []
    claim = {"status": "sending", "claim_token": token, "claimed_until": lease_until}
    await db.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids), due).values(**claim))
    claimed = select(OutboxMessage).where(OutboxMessage.claim_token == token).order_by(OutboxMessage.id)
    return list((await db.scalars(claimed.execution_options(populate_existing=True))).all())


async def claim_held(
    db: AsyncSession, channel: str, recipient: str, token: str, lease_until: datetime
) -> list[OutboxMessage]:
    """Claim what the outbox holds for one person (they wrote again), oldest first, as the worker claims due ones."""
    held = (OutboxMessage.channel == channel, OutboxMessage.recipient == recipient, OutboxMessage.status == "held")
    claim = {"status": "sending", "claim_token": token, "claimed_until": lease_until}
    await db.execute(update(OutboxMessage).where(*held).values(**claim))
    claimed = select(OutboxMessage).where(OutboxMessage.claim_token == token).order_by(OutboxMessage.id)
    return list((await db.scalars(claimed.execution_options(populate_existing=True))).all())


async def fail_held(db: AsyncSession, channel: str, recipient: str, reason: str) -> int:
    """What is held for someone who can no longer be reached (they unfollowed): failed, with the reason."""
    held = (OutboxMessage.channel == channel, OutboxMessage.recipient == recipient, OutboxMessage.status == "held")
    result = await db.execute(update(OutboxMessage).where(*held).values(status="failed", last_error=reason[:300]))
    return int(getattr(result, "rowcount", 0) or 0)


async def settle_outbox(db: AsyncSession, message_id: int, token: str, values: dict[str, Any]) -> None:
    """Record what became of a claimed notification, unless another process has claimed it since."""
    query = update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.claim_token == token)
    await db.execute(query.values(claim_token=None, claimed_until=None, **values))


async def release_outbox(db: AsyncSession, token: str) -> None:
    """Give back the notifications this process claimed and did not send (it is stopping)."""
    query = update(OutboxMessage).where(OutboxMessage.claim_token == token, OutboxMessage.status == "sending")
    await db.execute(query.values(status="pending", claim_token=None, claimed_until=None))


async def mark_blocked(db: AsyncSession, channel: str, recipient: str, now: datetime) -> None:
    if await db.get(BlockedRecipient, (channel, recipient)) is None:
        db.add(BlockedRecipient(channel=channel, recipient=recipient, blocked_at=now))
    pending = (OutboxMessage.channel == channel, OutboxMessage.recipient == recipient)
    await db.execute(update(OutboxMessage).where(*pending, OutboxMessage.status == "pending").values(status="blocked"))
    await db.flush()


async def clear_blocked(db: AsyncSession, channel: str, recipient: str) -> None:
    query = delete(BlockedRecipient).where(BlockedRecipient.channel == channel, BlockedRecipient.recipient == recipient)
    await db.execute(query)


async def blocked_recipients(db: AsyncSession) -> list[BlockedRecipient]:
    return list((await db.scalars(select(BlockedRecipient).order_by(BlockedRecipient.blocked_at))).all())


# ---------------------------------------------------------------- jobs


async def add_job(db: AsyncSession, job: Job) -> int:
    db.add(job)
    await db.flush()
    return job.id


async def get_job(db: AsyncSession, job_id: int) -> Job | None:
    return await db.get(Job, job_id, with_for_update=True)


async def stalled_jobs(db: AsyncSession, before: datetime) -> list[Job]:
    """Running jobs whose heartbeat stopped before then: the process running them is gone."""
    query = select(Job).where(Job.status == "running", Job.heartbeat_at < before).order_by(Job.id).with_for_update()
    return list((await db.scalars(query)).all())


async def beat(db: AsyncSession, job_id: int, now: datetime) -> None:
    await db.execute(update(Job).where(Job.id == job_id, Job.status == "running").values(heartbeat_at=now))


# ---------------------------------------------------------------- the web dashboard's sign-in links and sessions


async def add_sign_in(db: AsyncSession, row: WebSignIn) -> None:
    db.add(row)
    await db.flush()


async def sign_ins_since(db: AsyncSession, account_id: int, since: datetime) -> int:
    query = select(func.count()).where(WebSignIn.account_id == account_id, WebSignIn.created_at >= since)
    return int(await db.scalar(query) or 0)


async def use_sign_in(db: AsyncSession, token_hash: str, now: datetime) -> int | None:
    """Spend a sign-in link: the account it signs in, once, while it is valid; None when it is unknown, used or
    expired. One UPDATE, so two browsers racing with the same link cannot both win."""
    spent = await db.execute(
        update(WebSignIn)
        .where(WebSignIn.token_hash == token_hash, WebSignIn.used_at.is_(None), WebSignIn.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(spent, "rowcount", 0) != 1:
        return None
    return await db.scalar(select(WebSignIn.account_id).where(WebSignIn.token_hash == token_hash))


async def add_web_session(db: AsyncSession, row: WebSession) -> WebSession:
    db.add(row)
    await db.flush()
    return row


async def web_session(db: AsyncSession, token_hash: str) -> WebSession | None:
    return (await db.scalars(select(WebSession).where(WebSession.token_hash == token_hash))).first()


async def live_web_sessions(db: AsyncSession, account_id: int, now: datetime) -> list[WebSession]:
    query = select(WebSession).where(
        WebSession.account_id == account_id, WebSession.ended_at.is_(None), WebSession.expires_at > now
    )
    return list((await db.scalars(query.order_by(WebSession.created_at, WebSession.id))).all())
