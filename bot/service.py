"""The channel-neutral bot: who is writing, which command, which questionnaire, and what to store.

Channels turn a platform event into (Sender, Inbound) and render the replies. Every rule lives here or in the
engine. One person's messages are applied one at a time (the lock is taken before any state is read), and each
message is one database transaction: the answer and the conversation state are stored together or not at all.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import yaml
from sqlalchemy.ext.asyncio import AsyncSession

from bot import texts as t
from bot.identity import KeyedLocks, actor_key
from conversations import engine
from conversations.answers import InvalidAnswer, display, number_text, pick
from conversations.definition import Questionnaire, QuestionType
from conversations.engine import Button, Inbound, Outgoing
from conversations.scoring import question_points, score
from conversations.text import clean_input, vi_sort_key
from exports.results import local_time, results_sheets, write_xlsx
from storage import repo
from storage.db import Database
from storage.models import Account, Answer, Evidence, Invite, Response, Unit

log = logging.getLogger(__name__)

INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class Sender:
    channel: str
    user_id: str
    display_name: str | None = None


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    caption: str
    mime: str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


Reply = Outgoing | Document


@dataclass(frozen=True)
class Role:
    account: Account | None
    is_admin: bool

    @property
    def unit_code(self) -> str | None:
        return self.account.unit_code if self.account else None


def load_unit_presets(directory: Any) -> list[tuple[str, list[dict[str, Any]]]]:
    """Unit sets from the preset files: (set id, unit records with validity dates)."""
    found = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        records = [
            {
                "code": str(u["code"]),
                "name": clean_input(u["name"]),
                "kind": u["kind"],
                "valid_from": data.get("valid_from"),
                "valid_to": data.get("valid_to"),
                "formed_from": u.get("formed_from"),
            }
            for u in data["units"]
        ]
        found.append((str(data["id"]), records))
    return found


class BotService:
    def __init__(
        self,
        db: Database,
        questionnaires: Mapping[str, Questionnaire],
        secret: bytes,
        admins: frozenset[str] = frozenset(),
        invite_ttl: timedelta = timedelta(hours=72),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.questionnaires = dict(questionnaires)
        self.secret = secret
        self.admins = admins
        self.invite_ttl = invite_ttl
        self.clock = clock
        self.locks = KeyedLocks()
        self.bot_username: str | None = None

    # ------------------------------------------------------------ setup

    async def seed(self, unit_sets: Sequence[tuple[str, list[dict[str, Any]]]], period: str, deadline: date) -> None:
        async with self.db.write() as db:
            for unit_set, records in unit_sets:
                await repo.upsert_units(db, unit_set, records)
            await repo.ensure_period(db, period, f"Kỳ đánh giá {period}", deadline, self.clock())

    def _of_kind(self, kind: str) -> Questionnaire | None:
        return next((q for _, q in sorted(self.questionnaires.items()) if q.kind == kind), None)

    def deep_link(self, payload: str) -> str:
        return f"https://t.me/{self.bot_username or '<tên_bot>'}?start={payload}"

    # ------------------------------------------------------------ entry point

    async def handle(self, sender: Sender, inbound: Inbound) -> list[Reply]:
        actor = actor_key(self.secret, sender.channel, sender.user_id)
        async with self.locks.hold(actor):
            try:
                return await self._dispatch(sender, actor, inbound)
            except Exception:
                log.exception("failed to handle a message on %s", sender.channel)
                return [Outgoing(t.ERROR_TRY_AGAIN)]

    async def _dispatch(self, sender: Sender, actor: str, inbound: Inbound) -> list[Reply]:
        text = clean_input(inbound.text) if inbound.text else ""
        if text.startswith("/"):
            word, _, rest = text[1:].partition(" ")
            command = word.split("@", 1)[0].lower()
            args = rest.split()
            handler = self._commands().get(command)
            if handler is None:
                return [Outgoing(t.UNKNOWN_COMMAND.format(command="/" + command))]
            return await handler(sender, actor, args)
        async with self.db.write() as db:
            session = await repo.get_session(db, actor)
            if session is not None and session.waiting_for is not None:
                return await self._answer_unit_pick(db, sender, actor, inbound, text)
            if session is not None and session.response_id is not None:
                response = await repo.get_response(db, session.response_id)
                if response is not None and response.status == "draft":
                    return await self._step(db, sender, actor, response, inbound)
        return [Outgoing(t.NOT_IN_CONVERSATION)]

    def _commands(self) -> dict[str, Callable[[Sender, str, list[str]], Awaitable[list[Reply]]]]:
        return {
            "start": self._cmd_start,
            "help": self._cmd_help,
            "trogiup": self._cmd_help,
            "danhgia": self._cmd_assess,
            "khaosat": self._cmd_survey,
            "huy": self._cmd_pause,
            "moi": self._cmd_invite,
            "tiendo": self._cmd_progress,
            "xuat": self._cmd_export,
            "donvi": self._cmd_units,
        }

    async def _role(self, db: AsyncSession, sender: Sender) -> Role:
        account = await repo.get_account(db, sender.channel, sender.user_id)
        is_admin = f"{sender.channel}:{sender.user_id}" in self.admins or bool(account and account.is_admin)
        return Role(account, is_admin)

    # ------------------------------------------------------------ questionnaires

    async def _step(
        self, db: AsyncSession, sender: Sender, actor: str, response: Response, inbound: Inbound
    ) -> list[Reply]:
        qn = self.questionnaires.get(response.questionnaire_id)
        if qn is None:
            return [Outgoing(t.NO_QUESTIONNAIRE)]
        now = self.clock()
        step = engine.handle(qn, response.state, inbound, now)
        response.state, response.updated_at = step.state, now
        if step.submitted:
            role = await self._role(db, sender)
            await self._store_submission(db, qn, response, role, now)
            await repo.save_session(db, actor, now, None, None)
        return list(step.outgoing)

    async def _store_submission(
        self, db: AsyncSession, qn: Questionnaire, response: Response, role: Role, now: datetime
    ) -> None:
        answers = response.state["answers"]
        response.status, response.submitted_at = "submitted", now
        response.total_points = score(qn, answers).total if qn.scored else None
        response.submitted_by = role.account.id if role.account and not qn.anonymous else None
        rows, files = [], []
        for question_id, value in answers.items():
            q = qn.question(question_id)
            points = question_points(q, value) if q.scored else None
            rows.append(
                Answer(
                    response_id=response.id,
                    question_id=question_id,
                    value=value,
                    value_text=display(q, value),
                    points=points,
                )
            )
            if q.type is QuestionType.EVIDENCE:
                files += [
                    Evidence(
                        response_id=response.id,
                        question_id=question_id,
                        channel=f.get("channel", ""),
                        file_id=f["file_id"],
                        kind=f.get("kind", "document"),
                        name=f.get("name"),
                        mime=f.get("mime"),
                        size=f.get("size"),
                        sha256=f.get("sha256"),
                    )
                    for f in value
                ]
        await repo.store_submission(db, response, rows, files)

    async def _open(
        self,
        db: AsyncSession,
        actor: str,
        qn: Questionnaire,
        period: str,
        unit: Unit,
        respondent: str | None,
        heading: str,
    ) -> list[Reply] | None:
        """Start or resume a response; None when it is already submitted."""
        key = "|".join([qn.id, period, unit.code] + ([respondent] if respondent else []))
        response = await repo.find_response(db, key)
        now = self.clock()
        if response is not None and response.status != "draft":
            return None
        if response is None:
            step = engine.start(qn, now)
            response = await repo.add_response(
                db,
                Response(
                    dedupe_key=key,
                    questionnaire_id=qn.id,
                    questionnaire_version=qn.version,
                    period_code=period,
                    unit_code=unit.code,
                    respondent=respondent,
                    status="draft",
                    state=step.state,
                    created_at=now,
                    updated_at=now,
                ),
            )
        else:
            step = engine.resume(qn, response.state)
        await repo.save_session(db, actor, now, response.id, None)
        return [Outgoing(heading), *step.outgoing]

    async def _start_survey(self, db: AsyncSession, actor: str, unit: Unit) -> list[Reply]:
        qn = self._of_kind("citizen_survey")
        period = await repo.current_period(db)
        if qn is None:
            return [Outgoing(t.NO_QUESTIONNAIRE)]
        if period is None:
            return [Outgoing(t.NO_PERIOD)]
        opened = await self._open(db, actor, qn, period.code, unit, actor, t.SURVEY_FOR.format(unit=unit.name))
        if opened is None:
            await repo.save_session(db, actor, self.clock(), None, None)
            return [Outgoing(t.SURVEY_DONE.format(unit=unit.name, period=period.code))]
        return opened

    async def _survey_units(self, db: AsyncSession) -> list[Unit]:
        units = await repo.units_in_force(db, self.clock().date(), kind="commune")
        return sorted(units, key=lambda u: vi_sort_key(u.name))

    async def _answer_unit_pick(
        self, db: AsyncSession, sender: Sender, actor: str, inbound: Inbound, text: str
    ) -> list[Reply]:
        units = await self._survey_units(db)
        chosen: Unit | None = None
        if inbound.button and inbound.button.startswith("u:"):
            chosen = next((u for u in units if u.code == inbound.button[2:]), None)
        elif text:
            try:
                chosen = units[pick([u.name for u in units], text, [u.code for u in units])]
            except InvalidAnswer as problem:
                return [Outgoing(str(problem)), self._unit_picker(units)]
        if chosen is None:
            return [self._unit_picker(units)]
        return await self._start_survey(db, actor, chosen)

    def _unit_picker(self, units: Sequence[Unit]) -> Outgoing:
        choices = tuple(Button(u.name, f"u:{u.code}") for u in units)
        return Outgoing(t.PICK_UNIT, choices=choices)

    # ------------------------------------------------------------ commands

    async def _cmd_start(self, sender: Sender, actor: str, args: list[str]) -> list[Reply]:
        payload = args[0] if args else ""
        if payload.startswith("dk_"):
            return await self._redeem_invite(sender, payload[3:])
        if payload.startswith("ks_"):
            return await self._cmd_survey(sender, actor, [payload[3:]])
        async with self.db.read() as db:
            role = await self._role(db, sender)
            unit = await repo.get_unit(db, role.unit_code) if role.unit_code else None
        replies: list[Reply] = []
        if role.is_admin:
            replies.append(Outgoing(t.WELCOME_ADMIN + "\n\n" + t.HELP_ADMIN))
        if unit is not None:
            replies.append(Outgoing(t.WELCOME_OFFICER.format(name=sender.display_name or "", unit=unit.name)))
        return replies or [Outgoing(t.WELCOME_CITIZEN)]

    async def _cmd_help(self, sender: Sender, actor: str, args: list[str]) -> list[Reply]:
        async with self.db.read() as db:
            role = await self._role(db, sender)
        if role.is_admin:
            return [Outgoing(t.HELP_ADMIN), Outgoing(t.HELP_OFFICER if role.unit_code else t.HELP_CITIZEN)]
        return [Outgoing(t.HELP_OFFICER if role.unit_code else t.HELP_CITIZEN)]

    async def _cmd_survey(self, sender: Sender, actor: str, args: list[str]) -> list[Reply]:
        async with self.db.write() as db:
            if args:
                unit = await repo.get_unit(db, args[0])
                if unit is None:
                    return [Outgoing(t.UNIT_UNKNOWN.format(code=args[0]))]
                return await self._start_survey(db, actor, unit)
            session = await repo.get_session(db, actor)
            if session is not None and session.response_id is not None:
                response = await repo.get_response(db, session.response_id)
                if response is not None and response.status == "draft" and response.respondent == actor:
                    unit = await repo.get_unit(db, response.unit_code)
                    if unit is not None:
                        return await self._start_survey(db, actor, unit)
            await repo.save_session(db, actor, self.clock(), None, {"pick": "unit"})
            return [self._unit_picker(await self._survey_units(db))]

    async def _cmd_assess(self, sender: Sender, actor: str, args: list[str]) -> list[Reply]:
        qn = self._of_kind("self_assessment")
        if qn is None:
            return [Outgoing(t.NO_QUESTIONNAIRE)]
        async with self.db.write() as db:
            role = await self._role(db, sender)
            unit = await repo.get_unit(db, role.unit_code) if role.unit_code else None
            if unit is None:
                return [Outgoing(t.OFFICER_ONLY)]
            period = await repo.current_period(db)
            if period is None:
                return [Outgoing(t.NO_PERIOD)]
            heading = t.ASSESSMENT_FOR.format(period=period.code, unit=unit.name)
            opened = await self._open(db, actor, qn, period.code, unit, None, heading)
            if opened is not None:
                return opened
            response = await repo.find_response(db, f"{qn.id}|{period.code}|{unit.code}")
            assert response is not None
            points = number_text(response.total_points or 0)
            locked = t.ASSESSMENT_LOCKED.format(
                period=period.code, unit=unit.name, time=local_time(response.submitted_at), points=points
            )
            return [Outgoing(locked)]

    async def _cmd_pause(self, sender: Sender, actor: str, args: list[str]) -> list[Reply]:
        async with self.db.write() as db:
            session = await repo.get_session(db, actor)
            if session is None or (session.response_id is None and session.waiting_for is None):
                return [Outgoing(t.NOTHING_TO_PAUSE)]
            response = await repo.get_response(db, session.response_id) if session.response_id else None
            await repo.save_session(db, actor, self.clock(), None, None)
        command = "/danhgia" if response is not None and response.respondent is None else "/khaosat"
        return [Outgoing(t.PAUSED.format(command=command))]

    async def _cmd_invite(self, sender: Sender, actor: str, args: list[str]) -> list[Reply]:
        async with self.db.write() as db:
            role = await self._role(db, sender)
            if not role.is_admin:
                return [Outgoing(t.ADMIN_ONLY)]
            if not args:
                return [Outgoing(t.INVITE_USAGE)]
            unit = await repo.get_unit(db, args[0])
            if unit is None:
                return [Outgoing(t.UNIT_UNKNOWN.format(code=args[0])), Outgoing(t.INVITE_USAGE)]
            account = await repo.ensure_account(db, sender.channel, sender.user_id, self.clock(), sender.display_name)
            code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(10))
            now = self.clock()
            invite = Invite(
                code=code, unit_code=unit.code, created_by=account.id, created_at=now, expires_at=now + self.invite_ttl
            )
            await repo.add_invite(db, invite)
        text = t.INVITE_CREATED.format(
            unit=unit.name, code=code, expires=local_time(invite.expires_at), link=self.deep_link(f"dk_{code}")
        )
        return [Outgoing(text)]

    async def _redeem_invite(self, sender: Sender, code: str) -> list[Reply]:
        now = self.clock()
        async with self.db.write() as db:
            invite = await repo.get_invite(db, code.strip().upper())
            if invite is None or invite.expires_at <= now:
                return [Outgoing(t.INVITE_INVALID)]
            if invite.used_at is not None:
                return [Outgoing(t.INVITE_USED)]
            unit = await repo.get_unit(db, invite.unit_code)
            assert unit is not None
            account = await repo.ensure_account(db, sender.channel, sender.user_id, now, sender.display_name)
            account.unit_code = unit.code
            invite.used_at, invite.used_by = now, account.id
        return [Outgoing(t.INVITE_ACCEPTED.format(unit=unit.name))]

    async def bind_officer(self, sender: Sender, unit_code: str) -> Unit | None:
        """Trying the bot out on the console: act as an officer of a unit without an invite."""
        async with self.db.write() as db:
            unit = await repo.get_unit(db, unit_code)
            if unit is not None:
                account = await repo.ensure_account(db, sender.channel, sender.user_id, self.clock())
                account.unit_code = unit.code
            return unit

    async def _cmd_units(self, sender: Sender, actor: str, args: list[str]) -> list[Reply]:
        async with self.db.read() as db:
            units = await repo.units_in_force(db, self.clock().date())
        lines = [f"{u.code} – {u.name}" for u in sorted(units, key=lambda u: vi_sort_key(u.name))]
        return [Outgoing("\n".join([t.UNITS_TITLE, *lines]))]

    async def _cmd_progress(self, sender: Sender, actor: str, args: list[str]) -> list[Reply]:
        qn, survey = self._of_kind("self_assessment"), self._of_kind("citizen_survey")
        async with self.db.read() as db:
            role = await self._role(db, sender)
            if not role.is_admin and role.unit_code is None:
                return [Outgoing(t.ADMIN_ONLY)]
            period = await repo.current_period(db)
            if period is None or qn is None:
                return [Outgoing(t.NO_PERIOD)]
            units = await repo.units_in_force(db, self.clock().date())
            if not role.is_admin:
                units = [u for u in units if u.code == role.unit_code]
            assessments = {r.unit_code: r for r in await repo.responses(db, qn.id, period.code)}
            surveys = await repo.responses(db, survey.id, period.code, "submitted") if survey else []
        survey_counts: dict[str, int] = {}
        for r in surveys:
            survey_counts[r.unit_code] = survey_counts.get(r.unit_code, 0) + 1
        lines = []
        for unit in sorted(units, key=lambda u: vi_sort_key(u.name)):
            status = self._status(qn, assessments.get(unit.code))
            if survey_counts.get(unit.code):
                status += "; " + t.STATUS_SURVEYS.format(count=survey_counts[unit.code])
            lines.append(t.PROGRESS_LINE.format(unit=unit.name, status=status))
        statuses = [a.status for u in units if (a := assessments.get(u.code)) is not None]
        submitted, drafts = statuses.count("submitted"), statuses.count("draft")
        header = [
            t.PROGRESS_TITLE.format(period=period.code, deadline=period.deadline.strftime("%d/%m/%Y")),
            t.PROGRESS_SUMMARY.format(
                submitted=submitted, total=len(units), drafts=drafts, missing=len(units) - submitted - drafts
            ),
            t.PROGRESS_SURVEY.format(count=sum(survey_counts.get(u.code, 0) for u in units)),
            "",
        ]
        return [Outgoing("\n".join(header + lines))]

    @staticmethod
    def _status(qn: Questionnaire, response: Response | None) -> str:
        if response is None:
            return t.STATUS_MISSING
        if response.status == "submitted":
            return t.STATUS_SUBMITTED.format(points=number_text(response.total_points or 0))
        asked = engine.review_items(qn, response.state)
        answered = sum(1 for q in asked if q.id in response.state["answers"])
        return t.STATUS_DRAFT.format(answered=answered, total=len(asked))

    async def _cmd_export(self, sender: Sender, actor: str, args: list[str]) -> list[Reply]:
        async with self.db.read() as db:
            role = await self._role(db, sender)
            if not role.is_admin:
                return [Outgoing(t.ADMIN_ONLY)]
            period = await repo.current_period(db)
            if period is None:
                return [Outgoing(t.NO_PERIOD)]
            units = await repo.units_in_force(db, self.clock().date())
            ordered = sorted(self.questionnaires.values(), key=lambda q: q.kind != "self_assessment")
            sheets = await results_sheets(db, ordered, period.code, units, self.clock())
        content = await asyncio.to_thread(write_xlsx, sheets)
        log.info("export of period %s by %s", period.code, sender.channel)
        filename = f"ket-qua-{period.code}-{self.clock():%Y%m%d-%H%M}.xlsx"
        return [Document(filename, content, t.EXPORT_CAPTION.format(period=period.code))]
