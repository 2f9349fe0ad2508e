"""The channel-neutral bot: who is writing, which command, which questionnaire, and what to store.

Channels turn a platform event into (Sender, Inbound) and render the replies. The service routes a message and
holds the questionnaire versions loaded; the rules live in the engine and in bot's own modules (bot.submissions,
bot.review, bot.drafts, bot.progress, bot.versions), which commands call. One person's messages are applied one at
a time (the lock is taken before any state is read), and each message is one database transaction: the answer and
the conversation state are stored together or not at all.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot import assignments, drafts, evidence, jobs, review, submissions, waits
from bot import texts as t
from bot.channels.registry import Channels
from bot.config import Settings
from bot.figures import survey_figures
from bot.identity import actor_key
from bot.messages import Reply, Sender
from bot.order import PersonOrder
from bot.table import Call, CommandTable, Handler, Interim, Permission, Role, refusal
from bot.units import COMMUNE
from conversations import engine
from conversations.definition import (
    DEFINITION_SCHEMA,
    Questionnaire,
    parse_questionnaire,
    upgrade_definition,
)
from conversations.engine import Button, FileRef, Inbound, Outgoing
from conversations.localtime import local_date
from conversations.measures import SurveyFigures
from conversations.status import Status
from conversations.text import clean_input
from storage import repo
from storage.db import Database, GroupAborted
from storage.models import Event, Response, Unit
from storage.queries import get_period

log = logging.getLogger(__name__)


class BotService:
    def __init__(
        self,
        db: Database,
        questionnaires: Mapping[str, Questionnaire],
        secret: bytes,
        commands: CommandTable,
        admins: frozenset[str] = frozenset(),
        invite_ttl: timedelta = timedelta(hours=72),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        settings: Settings | None = None,
    ) -> None:
        self.db = db
        self.commands = commands
        """What people can ask for (bot.app builds it); dispatch goes through it."""
        self.settings = settings or Settings(_env_file=None)  # type: ignore[call-arg]
        """The configuration commands read (export suppression, survey targets, preset folders)."""
        self.questionnaires = dict(questionnaires)
        self.secret = secret
        self.admins = admins
        self.invite_ttl = invite_ttl
        self.clock = clock
        self.locks = PersonOrder()
        self.versions: dict[tuple[str, str], Questionnaire] = {(q.id, q.version): q for q in questionnaires.values()}
        """Every questionnaire version loaded so far; `questionnaires` are the ones in use for new responses."""
        self.channels = Channels()
        """The channels running in this process (bot.app registers them): files people send, deep links."""
        self.detached = PersonOrder()
        """Jobs running apart from the messages that recorded them (bot.jobs.detach), each requester's in order."""
        self.given: dict[str, bytes] = {}
        """Files uploaded on the web while the file entry they were given to runs (`run_file`), by file id."""

    # ------------------------------------------------------------ setup

    async def seed(
        self,
        unit_sets: Sequence[tuple[str, list[dict[str, Any]]]],
        period: str,
        deadline: date,
        assigned: Sequence[assignments.Rule] = (),
    ) -> None:
        """The preset units, and the configured period if there is none of that code yet (with the preset's
        assignments, `assigned`)."""
        now = self.clock()
        async with self.db.write() as db:
            for unit_set, records in unit_sets:
                await repo.upsert_units(db, unit_set, records, now, local_date(now))
            if await get_period(db, period) is None:
                await repo.ensure_period(db, period, f"Kỳ đánh giá {period}", deadline, self.clock())
                await assignments.start_period(db, self.questionnaires, period, now, assigned)
            for rule in assigned:
                if rule.questionnaire_id not in self.questionnaires:  # kept, listed as missing by /giao
                    log.warning("the unit presets assign questionnaire %s, which is not loaded", rule.questionnaire_id)
            current = await repo.current_period(db)  # an admin may have opened another one (/ky)
            for row in await repo.active_versions(db, current.code if current else period):  # put into use for it
                self.use(self.remember(row.questionnaire_id, row.version, row.definition, row.schema_version))

    def remember(
        self, questionnaire_id: str, version: str, definition: dict[str, Any], schema: int = DEFINITION_SCHEMA
    ) -> Questionnaire:
        """A stored version, upgraded from the definition schema it was stored in."""
        qn = parse_questionnaire(upgrade_definition(definition, schema), f"{questionnaire_id} {version}")
        self.versions[(qn.id, qn.version)] = qn
        return qn

    def use(self, qn: Questionnaire) -> None:
        """Start new responses on this version."""
        self.questionnaires[qn.id] = qn

    async def definition(self, db: AsyncSession, questionnaire_id: str, version: str) -> Questionnaire | None:
        """One version of a questionnaire: loaded already, or stored in the database."""
        known = self.versions.get((questionnaire_id, version))
        if known is not None:
            return known
        row = await repo.questionnaire_version(db, questionnaire_id, version)
        return self.remember(questionnaire_id, version, row.definition, row.schema_version) if row else None

    async def definition_of(self, db: AsyncSession, response: Response | repo.ResponseState) -> Questionnaire | None:
        """The version a response was started on; the one in use if that is gone (its preset file changed)."""
        found = await self.definition(db, response.questionnaire_id, response.questionnaire_version)
        return found or self.questionnaires.get(response.questionnaire_id)

    async def fetch_file(self, sender: Sender, ref: FileRef) -> bytes | None:
        """The bytes of a file the sender sent (or uploaded on the web); None when their channel cannot fetch files."""
        given = self.given.get(ref.file_id)
        return given if given is not None else await self.channels.fetch_file(sender.channel, ref)

    # ------------------------------------------------------------ entry point

    async def handle(
        self,
        sender: Sender,
        inbound: Inbound,
        update_id: str | None = None,
        interim: Interim | None = None,
    ) -> list[Reply]:
        """Apply one message. With the platform's `update_id`, a message delivered twice is applied once
        (the second delivery gets no reply)."""
        actor = actor_key(self.secret, sender.channel, sender.user_id)
        async with self.locks.turn(actor):
            try:
                try:
                    return await self._dispatch(sender, actor, inbound, update_id, interim)
                except GroupAborted:  # another message broke the transaction they shared: this one is not stored
                    return await self._dispatch(sender, actor, inbound, update_id, interim)
            except Exception:
                log.exception("failed to handle a message on %s", sender.channel)
                if update_id is not None:  # told to try again: never applied later, behind their newer messages
                    await self._give_up(sender.channel, update_id)
                return [Outgoing(t.ERROR_TRY_AGAIN)]

    async def _give_up(self, channel: str, update_id: str) -> None:
        try:
            async with self.db.write() as db:
                await repo.claim_update(db, channel, update_id, self.clock())
        except Exception:  # the database is down: the event stays in the inbox, applied after a restart
            log.exception("could not mark a failed update as handled on %s", channel)

    async def _dispatch(
        self, sender: Sender, actor: str, inbound: Inbound, update_id: str | None, interim: Interim | None
    ) -> list[Reply]:
        # Evidence is fetched and kept before the transaction: a download never holds the database.
        kept = await evidence.receive(self, sender, actor, inbound) if inbound.files else inbound
        # One transaction per message: the update's claim and everything the message does commit together, or
        # nothing does (and the platform's redelivery is applied later).
        async with self.db.write() as db:
            begun = await repo.begin_message(db, actor, sender.channel, update_id, self.clock())
            if not begun.claimed:
                return []
            if isinstance(kept, str):  # refused: nothing stored
                return [Outgoing(kept)]
            inbound = kept
            routed = await self._route(db, sender, actor, inbound, begun)
            if isinstance(routed, list):
                return routed
            call, handler = routed
            replies = await handler(call)
        return await self._committed(call, replies, interim)

    async def _committed(self, call: Call, replies: list[Reply], interim: Interim | None) -> list[Reply]:
        """After the handler's transaction committed: its jobs, then its work without the database."""
        if call.jobs:  # long work recorded in the transaction: the requester hears at once that it is under way
            if interim is not None:  # and the file comes the same way once it is ready; nobody waits for it
                await interim(replies)
                jobs.detach(self, call.actor, call.jobs, interim)
                replies = []
            else:
                for job_id in call.jobs:
                    replies += await jobs.run(self, job_id)
        for work in call.later:
            replies += await work()
        return replies

    async def run_command(
        self, sender: Sender, name: str, args: Sequence[str], confirmed: dict[str, Any] | None = None
    ) -> list[Reply]:
        """A command of the table given outside a chat, by a signed-in person on the web dashboard: the same entry,
        permission check, one transaction (their turn taken as for their messages), jobs and work after commit as the
        message that types it, so the dashboard never does a thing a second way. `confirmed` is the yes the page
        asked for, where the command would ask in chat (bot.confirm)."""
        command = self.commands.command(name)
        if command is None:
            raise KeyError(name)
        return await self._run(sender, "/" + name, command.permission, command.handler, list(args), None, confirmed)

    async def run_file(self, sender: Sender, name: str, content: bytes) -> list[Reply]:
        """A file uploaded on the web dashboard (a questionnaire's XLSForm), given to the entry the chat gives that
        file when it is sent outside a questionnaire: the same checks, transaction and replies."""
        ref = FileRef(file_id=f"web:{hashlib.sha256(content).hexdigest()}", name=name, size=len(content))
        inbound = Inbound(files=(ref,))
        entry = self.commands.file_handler(inbound)
        if entry is None:
            raise KeyError(name)
        self.given[ref.file_id] = content
        try:
            return await self._run(sender, "a file", entry.permission, entry.handler, [], inbound, None)
        finally:
            self.given.pop(ref.file_id, None)

    async def _run(
        self,
        sender: Sender,
        what: str,
        permission: Permission,
        handler: Handler,
        args: list[str],
        inbound: Inbound | None,
        confirmed: dict[str, Any] | None,
    ) -> list[Reply]:
        actor = actor_key(self.secret, sender.channel, sender.user_id)
        try:
            async with self.locks.turn(actor), self.db.write() as db:
                await repo.begin_message(db, actor, sender.channel, None, self.clock())
                role = await self.role(db, sender)
                if not role.may(permission):
                    return [Outgoing(refusal(permission, role))]
                call = Call(self, sender, actor, db, role, args, inbound=inbound, confirmed=confirmed)
                replies = await handler(call)
            return await self._committed(call, replies, None)  # a page waits for its job; the person's chat does not
        except Exception:
            log.exception("failed to run %s from the web", what)
            return [Outgoing(t.ERROR_TRY_AGAIN)]

    async def _route(
        self, db: AsyncSession, sender: Sender, actor: str, inbound: Inbound, begun: repo.Begun
    ) -> list[Reply] | tuple[Call, Callable[[Call], Awaitable[list[Reply]]]]:
        """What the message is (a command, a file, an answer, what the session waits for) and who may do it: the
        handler to call, or the replies when there is nothing more to do. An answer's path reads and writes rows
        with no ORM object (`begun` holds the person's session and response)."""
        table = self.commands
        text = clean_input(inbound.text) if inbound.text else ""
        parsed = table.parse(text, with_arguments=True) if text.startswith("/") else None
        if parsed is None:
            session = begun.session
            waiting = waits.read(session.waiting_for) if session is not None else None
            busy = session is not None and (waiting is not None or session.response_id is not None)
            # Inside a questionnaire, plain words are answers unless they are a whole command ("huỷ") or a poster's
            # words ("khảo sát sk1": a link followed).
            parsed = table.parse(text, with_arguments=not busy) if text else None
            if parsed is None and busy and text:
                parsed = table.followed_link(text, self.questionnaires)
            wait = table.wait(waiting["kind"]) if waiting is not None else None
            if parsed is not None and (wait is None or wait.answers_words_of != parsed[0] or parsed[1]):
                wait = None
            if wait is not None and waiting is not None:
                role = await self.role(db, sender)
                if not role.may(wait.permission):  # no longer theirs (an admin removed since): the wait ends
                    await repo.save_session(db, actor, self.clock(), None, None)
                    return [Outgoing(refusal(wait.permission, role))]
                found = waiting
                return Call(self, sender, actor, db, role, inbound=inbound), lambda c: wait.handler(c, found)
            if parsed is None and session is not None and session.response_id is not None:
                response = begun.response
                if response is not None and response.status.editable:
                    return await self._step(db, sender, actor, response, inbound)
                if response is not None and response.respondent is None:  # another officer submitted it
                    await repo.save_session(db, actor, self.clock(), None, None)
                    return [await drafts.locked_notice(db, response)]
        role = await self.role(db, sender)
        if parsed is None:
            on_file = table.file_handler(inbound)
            if on_file is None or not role.may(on_file.permission):
                not_open = t.NOT_IN_CONVERSATION, t.NOT_IN_CONVERSATION_OFFICER, t.NOT_IN_CONVERSATION_ADMIN
                return [Outgoing(role.pick(*not_open))]
            return Call(self, sender, actor, db, role, inbound=inbound), on_file.handler
        name, args = parsed
        command = table.command(name)
        if command is None:
            return [Outgoing(t.UNKNOWN_COMMAND.format(command="/" + name))]
        if not role.may(command.permission):
            return [Outgoing(refusal(command.permission, role))]
        return Call(self, sender, actor, db, role, args), command.handler

    async def role(self, db: AsyncSession, sender: Sender) -> Role:
        account = await repo.get_account(db, sender.channel, sender.user_id)
        is_admin = f"{sender.channel}:{sender.user_id}" in self.admins or bool(account and account.is_admin)
        return Role(account, is_admin)

    # ------------------------------------------------------------ questionnaires

    async def _step(
        self, db: AsyncSession, sender: Sender, actor: str, read: repo.ResponseState, inbound: Inbound
    ) -> list[Reply]:
        qn = await self.definition_of(db, read)
        if qn is None:
            return [Outgoing(t.NO_QUESTIONNAIRE)]
        now = self.clock()
        who = self.participant(sender, actor, read)
        places = engine.participants(read.state) - {actor}

        async def run(figures: SurveyFigures | None) -> engine.Step:
            return engine.handle(qn, read.state, inbound, now, who, figures)

        step = await self._with_figures(db, qn, read.period_code, read.unit_code, read.state, who, run)
        if not (step.declined or step.submitted):  # most messages: one statement writes the state
            await repo.save_state(db, read.id, engine.as_stored(step.state), now)
            return list(step.outgoing)
        response = await db.get(Response, read.id)  # locked already by begin_message
        assert response is not None
        response.state, response.updated_at = engine.as_stored(step.state), now
        if step.declined:  # no consent: kept apart, counted in no figure
            response.status = Status.DECLINED
            await repo.save_session(db, actor, now, None, None)
        if step.submitted:
            role = await self.role(db, sender)
            await submissions.store(db, self.questionnaires, qn, response, role.account, now)
            await repo.save_session(db, actor, now, None, None)
            await drafts.tell_others(db, self.secret, self.questionnaires, qn, response, places, who.name, now)
        return list(step.outgoing)

    async def figures(self, db: AsyncSession, qn: Questionnaire, period: str, unit_code: str) -> SurveyFigures | None:
        """The current figures for a unit's survey-measured criteria, each from the survey assigned to the unit."""
        unit = await repo.get_unit(db, unit_code)
        public = assignments.Audience.PUBLIC
        found = await assignments.for_unit(db, self.questionnaires, period, unit, public) if unit is not None else []
        minimum = self.settings.suppress_below
        return await survey_figures(db, self.questionnaires, qn, period, unit_code, minimum, {s.id for s in found})

    async def _with_figures(
        self,
        db: AsyncSession,
        qn: Questionnaire,
        period: str,
        unit_code: str,
        before: Mapping[str, Any] | None,
        who: engine.Participant,
        run: Callable[[SurveyFigures | None], Awaitable[engine.Step]],
    ) -> engine.Step:
        """An engine step given the survey's figures only where they are shown (a criterion measured by the survey,
        the review): read when the participant is there before or after the step, so that other messages do not
        count the unit's survey responses."""
        wanted = before is not None and engine.wants_figures(qn, before, who)
        figures = await self.figures(db, qn, period, unit_code) if wanted else None
        step = await run(figures)
        if figures is None and engine.wants_figures(qn, step.state, who):
            step = await run(await self.figures(db, qn, period, unit_code))
        return step

    def participant(self, sender: Sender, actor: str, response: Response | repo.ResponseState) -> engine.Participant:
        """Who is writing, as the engine knows them: officers of a unit share its draft and are named to each other
        when one changes what another is looking at; a citizen's name is never kept."""
        return engine.Participant(actor, sender.display_name if response.respondent is None else None)

    async def open_response(
        self,
        db: AsyncSession,
        actor: str,
        qn: Questionnaire,
        period: str,
        unit: Unit,
        respondent: str | None,
        heading: str,
        event_id: int | None = None,
    ) -> list[Reply] | None:
        """Start or resume a response (a returned one at its flagged questions); None when it is submitted. A
        response opened through an event's link carries the event: the last event whose link the person came
        through while it was a draft; opening it otherwise (the unit's link, /khaosat) keeps the event it has."""
        key = repo.response_key(qn.id, period, unit.code, respondent)
        response = await repo.find_response(db, key)
        now = self.clock()
        if response is not None and not response.status.editable:
            return None
        who = engine.Participant(actor)  # opening changes no answer, so no name is needed to tell others
        if response is None:

            async def start(figures: SurveyFigures | None) -> engine.Step:
                return engine.start(qn, now, who, figures)

            step = await self._with_figures(db, qn, period, unit.code, None, who, start)
            response = await repo.add_response(
                db,
                Response(
                    dedupe_key=key,
                    questionnaire_id=qn.id,
                    questionnaire_version=qn.version,
                    period_code=period,
                    unit_code=unit.code,
                    respondent=respondent,
                    status=Status.DRAFT,
                    state=engine.as_stored(step.state),
                    created_at=now,
                    updated_at=now,
                    event_id=event_id,
                ),
            )
        else:
            shown, opened, stored = await self.definition_of(db, response) or qn, response, response.state

            async def reopen(figures: SurveyFigures | None) -> engine.Step:
                opened.state = stored  # a second run (with the figures) starts from the same state
                if opened.status is Status.RETURNED:
                    return await review.reopen_returned(db, shown, opened, now, who, figures)
                return engine.resume(shown, opened.state, who, figures)

            step = await self._with_figures(db, shown, period, unit.code, response.state, who, reopen)
            response.state = engine.as_stored(step.state)  # a new officer's place, and what each was shown
            if event_id is not None:
                response.event_id = event_id
        await repo.save_session(db, actor, now, response.id, None)
        return [Outgoing(heading), *step.outgoing]

    async def start_survey(
        self, db: AsyncSession, actor: str, role: Role, unit: Unit, named: str | None = None, event: Event | None = None
    ) -> list[Reply]:
        """Open a public survey of a unit (the one `named`, else the first assigned to it; an event's, through its
        link): once per person and period whatever the unit, and never for the staff whose unit it scores."""
        period = await repo.current_period_code(db)
        if period is None:
            return [Outgoing(t.NO_PERIOD)]
        if event is not None and event.period_code != period:
            return [Outgoing(t.EVENT_OVER.format(event=event.name, period=event.period_code))]
        public = await assignments.for_unit(db, self.questionnaires, period, unit, assignments.Audience.PUBLIC)
        if named is not None:
            public = [qn for qn in public if qn.id == named]
            if not public:
                return [Outgoing(t.SURVEY_NOT_HERE.format(unit=unit.name, period=period))]
        if not public:
            return [Outgoing(t.NO_QUESTIONNAIRE)]
        qn = public[0]
        if role.is_admin:
            return [Outgoing(t.SURVEY_NOT_FOR_ADMINS)]
        if role.unit_code == unit.code:
            return [Outgoing(t.SURVEY_NOT_FOR_OFFICERS.format(unit=unit.name))]
        mine = await repo.person_responses(db, qn.id, period, actor)
        elsewhere = [r for r in mine if r.unit_code != unit.code]
        if elsewhere:
            other = await repo.get_unit(db, elsewhere[0].unit_code)
            said = t.SURVEY_ELSEWHERE_DRAFT if elsewhere[0].status.editable else _closed(elsewhere[0].status)
            await repo.save_session(db, actor, self.clock(), None, None)
            return [Outgoing(said.format(unit=other.name if other else elsewhere[0].unit_code, period=period))]
        heading = t.SURVEY_AT.format(event=event.name, unit=unit.name) if event else t.SURVEY_FOR.format(unit=unit.name)
        opened = await self.open_response(
            db, actor, qn, period, unit, actor, heading, event.id if event is not None else None
        )
        if opened is None:  # this unit's response of theirs, submitted or declined
            await repo.save_session(db, actor, self.clock(), None, None)
            return [Outgoing(_closed(mine[0].status).format(unit=unit.name, period=period))]
        return opened

    async def survey_units(self, db: AsyncSession) -> tuple[list[Unit], bool]:
        """The communes a public survey of the current period applies to, which a citizen picks from after /khaosat,
        and whether it applies to other units too (an office's staff survey, opened by the office's link or QR)."""
        period = await repo.current_period_code(db)
        if period is None:
            return [], False
        public = assignments.Audience.PUBLIC
        units = await assignments.units_for(db, self.questionnaires, period, public, self.clock().date())
        communes = [u for u in units if u.kind == COMMUNE]
        return communes, len(communes) < len(units)

    def unit_picker(self, units: Sequence[Unit], others: bool) -> Outgoing:
        choices = tuple(Button(u.name, f"u:{u.code}") for u in units)
        return Outgoing(t.PICK_UNIT + ("\n" + t.STAFF_SURVEY_BY_LINK if others else ""), choices=choices)

    async def bind_officer(self, sender: Sender, unit_code: str) -> Unit | None:
        """Trying the bot out on the console: act as an officer of a unit without an invite."""
        async with self.db.write() as db:
            unit = await repo.get_unit(db, unit_code)
            if unit is not None:
                account = await repo.ensure_account(db, sender.channel, sender.user_id, self.clock())
                account.unit_code = unit.code
            return unit


def _closed(status: Status) -> str:
    """What a person opening a public survey again is told of their response that can no longer change."""
    return t.SURVEY_DECLINED if status is Status.DECLINED else t.SURVEY_DONE
