"""Tables. Timestamps are UTC; codes are text (administrative codes have leading zeros)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from conversations.status import Status

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class StatusType(TypeDecorator[Status]):
    """A response's status, stored as its text."""

    impl = String(20)
    cache_ok = True

    def process_bind_param(self, value: Status | str | None, dialect: Dialect) -> str | None:
        return None if value is None else Status(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> Status | None:
        return None if value is None else Status(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Unit(Base):
    __tablename__ = "units"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    unit_set: Mapped[str] = mapped_column(String(60), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    formed_from: Mapped[list[str] | None] = mapped_column(JSON)
    parent_code: Mapped[str | None] = mapped_column(String(40))
    """The unit above this one (a district, a province), as a code; may name a unit not in the table."""


class UnitName(Base):
    """A name a unit had before it was renamed, and the last day it was in use: exports of earlier periods use the
    names units had then (storage.repo.named_on)."""

    __tablename__ = "unit_names"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    used_until: Mapped[date] = mapped_column(Date)
    changed_at: Mapped[datetime]


class Period(Base):
    __tablename__ = "periods"
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    deadline: Mapped[date] = mapped_column(Date)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    """Set when an admin closes the period; an unopened period has neither is_open nor closed_at."""


class Assignment(Base):
    """A questionnaire a period runs, and the units it applies to: every unit (`scope` "all"), the units of one kind
    ("kind", `target` the kind) or one unit ("unit", `target` its code). Who answers follows the questionnaire's kind
    (bot.assignments: a unit's shared draft, each officer's own response, or the public's anonymous ones)."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("period_code", "questionnaire_id", "scope", "target"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_code: Mapped[str] = mapped_column(ForeignKey("periods.code"), index=True)
    questionnaire_id: Mapped[str] = mapped_column(String(40))
    scope: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(40), default="")
    """The unit kind or the unit's code; empty for every unit."""
    created_at: Mapped[datetime]


class Account(Base):
    """A staff member on one channel. Citizens never have an account."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("channel", "platform_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    platform_id: Mapped[str] = mapped_column(String(100))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    display_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class Invite(Base):
    __tablename__ = "invites"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))


class InviteFailure(Base):
    """A wrong or expired invite code someone typed: the guessing limits count these, so they hold across
    restarts and processes."""

    __tablename__ = "invite_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(index=True)


class Response(Base):
    """One filled (or being filled) questionnaire: a unit's self-assessment or one citizen's survey."""

    __tablename__ = "responses"
    __table_args__ = (
        Index("ix_responses_person", "respondent", "questionnaire_id", "period_code"),
        Index("ix_responses_tally", "unit_code", "questionnaire_id", "period_code", "status", "event_id"),
    )
    """A person's responses (their latest draft, what they answered this period) are found among their own few rows;
    a questionnaire's responses in a period are counted by unit, status and event from the second alone, in unit order
    (the survey tallies, progress: storage.queries), without reading the rows and their states. No column an answer
    changes is in either."""
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    questionnaire_id: Mapped[str] = mapped_column(String(40), index=True)
    questionnaire_version: Mapped[str] = mapped_column(String(40))
    period_code: Mapped[str] = mapped_column(ForeignKey("periods.code"), index=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    respondent: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[Status] = mapped_column(StatusType(), default=Status.DRAFT)
    state: Mapped[dict[str, Any]]
    total_points: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"), index=True)
    """The event (a dissemination session, a seminar) whose link the respondent came by; None: the unit's own link."""


class Event(Base):
    """A dissemination session or seminar of a unit in a period (bot.events): the public survey its participants
    answer through its own link (`sk_<id>`), so the results can be told apart from the rest of the unit's."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_code: Mapped[str] = mapped_column(ForeignKey("periods.code"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date] = mapped_column(Date)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    questionnaire_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))


class Answer(Base):
    """A submitted answer, one row per question, for aggregation in SQL."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(40))
    value: Mapped[Any] = mapped_column(JSON)
    value_text: Mapped[str] = mapped_column(Text)
    points: Mapped[float | None] = mapped_column(Float)


class Evidence(Base):
    __tablename__ = "evidence"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    file_id: Mapped[str] = mapped_column(Text)  # a Zalo file URL can be long
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(300))
    mime: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))


class ConversationSession(Base):
    """Where one person is: their keyed-hash identity, the response they are filling, or what we wait for."""

    __tablename__ = "sessions"
    actor: Mapped[str] = mapped_column(String(64), primary_key=True)
    response_id: Mapped[int | None] = mapped_column(ForeignKey("responses.id"))
    waiting_for: Mapped[dict[str, Any] | None]
    updated_at: Mapped[datetime]


class InboxEvent(Base):
    """A platform event (webhook delivery, polled update): stored before it is acknowledged, so nothing the platform
    was told we have is lost in a crash, and marked done in the transaction that applies it, so a redelivery or a
    restart applies it once. `payload` is the platform's event as received, sealed under the server secret (it
    holds the sender's platform id and words) and kept only until it is applied; `person` is the sender's keyed
    hash (as in sessions). Long polling, which confirms a batch only after it is processed, records its updates
    here when they are applied, with no payload."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("channel", "update_key"),
        Index("ix_inbox_person_received", "channel", "person", "received_at"),  # when someone last wrote
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    update_key: Mapped[str] = mapped_column(String(100))
    person: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime]
    done_at: Mapped[datetime | None] = mapped_column(index=True)


class ZaloOaToken(Base):
    """The Zalo Official Account's current token pair (one row). The refresh token is single-use: every refresh
    returns a new pair, so the pair lives here, not in configuration. `bootstrap` is the SHA-256 of the configured
    refresh token the chain started from, so a new one in the configuration starts a new chain."""

    __tablename__ = "zalo_oa_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime]
    bootstrap: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class QuestionnaireVersion(Base):
    """A questionnaire version uploaded as XLSForm: the normalised definition the engine runs (the model's JSON),
    the file and admin it came from, and, once put into use, the period it was activated for. Responses name the
    version they were started on (responses.questionnaire_version) and keep it."""

    __tablename__ = "questionnaire_versions"
    __table_args__ = (UniqueConstraint("questionnaire_id", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    questionnaire_id: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(40))
    definition: Mapped[dict[str, Any]]
    schema_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """The shape `definition` was stored in (conversations.definition.DEFINITION_SCHEMA then): upgraded on load."""
    filename: Mapped[str] = mapped_column(String(300))
    uploaded_by: Mapped[str] = mapped_column(String(140))
    uploaded_at: Mapped[datetime]
    period_code: Mapped[str | None] = mapped_column(ForeignKey("periods.code"))
    activated_at: Mapped[datetime | None]


# ---------------------------------------------------------------- running the evaluation (issue 4)

ADMIN_UNITS = "quan-tri"
"""The unit set of units an admin uploaded or changed: applying the preset files at start leaves them alone."""


class AuditEntry(Base):
    """An admin action: invites, exports, returns, approvals, uploads, period and unit changes."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(140))
    """"<channel>:<platform id>", and the name the platform gave, as the admin was known then."""
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any] | None]
    period_code: Mapped[str | None] = mapped_column(String(20), index=True)


class Review(Base):
    """An admin's decision on a submitted self-assessment: returned on some criteria (with notes), or approved.
    A return is resolved when the unit submits again."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    by_account: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime]
    items: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    """The criteria flagged on a return: [{"question_id", "code", "note"}]."""
    question_ids: Mapped[list[str]] = mapped_column(JSON)
    """Every question reopened: the flagged criteria and the questions backing them (dates, evidence)."""
    resolved_at: Mapped[datetime | None]


class AnswerChange(Base):
    """A change to a submitted answer: what it was, what it became, who submitted the change and when."""

    __tablename__ = "answer_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    old_text: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_text: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    changed_at: Mapped[datetime]


class OutboxMessage(Base):
    """A notification to send (reminder, digest, return, approval): kept until sent, so it survives a restart.

    status: "pending" (due at next_attempt_at) → "sending" (claimed by one process until claimed_until) → "sent",
    "held" (outside the platform's reply window, as on Zalo OA, or the platform unreachable: sent first when the
    person next writes, bot.outbox.send_held_first), "failed" (refused, or too many attempts, or held for someone
    who unfollowed) or "blocked" (the person blocked the bot). Replies the channel could not send are kept here too
    (kind "reply"). `dedupe_key` makes a
    scheduled notification exist once, however many processes schedule it."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    claim_token: Mapped[str | None] = mapped_column(String(40))
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class BlockedRecipient(Base):
    """Someone whose platform refused our message because they blocked the bot; cleared once one gets through."""

    __tablename__ = "blocked_recipients"
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    recipient: Mapped[str] = mapped_column(String(100), primary_key=True)
    blocked_at: Mapped[datetime]


class Job(Base):
    """Long work a message asked for (an export): recorded in that message's transaction and run once it commits,
    so a crash never loses the request. `heartbeat_at` moves while the job runs; a running job whose heartbeat
    stopped was cut short by a crash, and its requester is told. `requester` is the platform id to tell."""

    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(20))
    requester: Mapped[str] = mapped_column(String(140))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(20), index=True)
    """"running", "done" or "failed"."""
    created_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


# ---------------------------------------------------------------- the web dashboard (issue 16)


class WebSignIn(Base):
    """A one-time sign-in link an admin asked for with /web: only the SHA-256 of its token is kept, so the table
    gives no link away; it works once (`used_at`) and only until `expires_at`."""

    __tablename__ = "web_sign_ins"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A browser signed in to the dashboard: the cookie carries a random token (signed), the table its SHA-256, so an
    admin can list their sessions and end one, and a session ended here is refused at once."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    agent: Mapped[str] = mapped_column(String(200))
    """The browser, as its User-Agent names it, for the list of sessions."""


# ---------------------------------------------------------------- the Justice Office's own scoring (issue 15)


class VerifiedPoints(Base):
    """The points the Justice Office gives one criterion of a submitted self-assessment (thẩm định): 0 to the
    criterion's maximum, the reason (required when they differ from the self-score), who and when. One row per
    criterion, changed in place; every change is in the audit log."""

    __tablename__ = "verified_points"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(40))
    points: Mapped[float] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)
    by_account: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime]


class Verification(Base):
    """Where the Justice Office's scoring of one self-assessment stands: begun with the first verified points
    ("đang thẩm định"), finalised ("đã chốt": locked, the officers told), re-opened with a reason."""

    __tablename__ = "verifications"
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True)
    started_at: Mapped[datetime]
    finalised: Mapped[bool] = mapped_column(Boolean, default=False)
    finalised_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    finalised_at: Mapped[datetime | None]
    total: Mapped[float | None] = mapped_column(Float)
    """The verified total when finalised."""
    reopened_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    reopened_at: Mapped[datetime | None]
    reopen_reason: Mapped[str | None] = mapped_column(Text)


class Explanation(Base):
    """An officer's answer (giải trình) to a lowered criterion, once per criterion, before finalising: the text and
    optionally one file, kept by SHA-256 like evidence (storage.files)."""

    __tablename__ = "explanations"
    __table_args__ = (UniqueConstraint("response_id", "question_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    by_account: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    at: Mapped[datetime]
    channel: Mapped[str | None] = mapped_column(String(20))
    file_id: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str | None] = mapped_column(String(20))
    name: Mapped[str | None] = mapped_column(String(300))
    mime: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    file_at: Mapped[datetime | None]
