"""Opening, resuming and pausing questionnaires; greeting and help."""

from __future__ import annotations

from dataclasses import replace

from bot import assignments, drafts, waits
from bot import texts as t
from bot.channels.registry import read_event_code, read_survey_payload
from bot.commands.invites import redeem_invite
from bot.messages import Reply
from bot.table import Call, Permission, refusal
from conversations import engine
from conversations.answers import InvalidAnswer, pick
from conversations.engine import Button, Outgoing
from conversations.localtime import local_time
from conversations.status import LABELS, Status
from conversations.text import clean_input, fold
from storage import repo
from storage.models import Period, Unit


async def start(call: Call) -> list[Reply]:
    payload = call.args[0] if call.args else ""
    if payload.startswith("dk_"):
        return await redeem_invite(call, payload[3:])
    if payload.startswith("ks_"):
        where, questionnaire = read_survey_payload(payload[3:])
        return await survey(replace(call, args=[where, *([questionnaire] if questionnaire else [])]))
    if (event := read_event_code(payload)) is not None:
        return await _event_survey(call, event)
    role = call.role
    unit = await repo.get_unit(call.db, role.unit_code) if role.unit_code else None
    replies: list[Reply] = []
    if role.is_admin:
        replies.append(Outgoing(t.WELCOME_ADMIN + "\n\n" + call.service.commands.help(role)[0]))
    if unit is not None:
        name = f" {call.sender.display_name}" if call.sender.display_name else ""
        replies.append(Outgoing(t.WELCOME_OFFICER.format(name=name, unit=unit.name)))
    return replies or [Outgoing(t.WELCOME_CITIZEN)]


async def whoami(call: Call) -> list[Reply]:
    """The person's own channel id, for PBGDPL_ADMINS: told to them, never written to a log."""
    sender = call.sender
    text = t.YOUR_ID.format(id=f"{sender.channel}:{sender.user_id}")
    return [Outgoing(text + ("\n" + t.YOUR_ID_ADMIN if call.role.is_admin else ""))]


async def help_(call: Call) -> list[Reply]:
    return [Outgoing(text) for text in call.service.commands.help(call.role)]


async def survey(call: Call) -> list[Reply]:
    service, actor, db = call.service, call.actor, call.db
    if call.args and (event := read_event_code(call.args[0])) is not None:
        return await _event_survey(call, event)
    if call.args:
        unit = await repo.get_unit(db, call.args[0])
        if unit is None:
            unknown = call.role.pick(t.UNIT_UNKNOWN, t.UNIT_UNKNOWN_STAFF, t.UNIT_UNKNOWN_STAFF)
            return [Outgoing(unknown.format(code=call.args[0]))]
        named = call.args[1] if len(call.args) > 1 else None
        return await service.start_survey(db, actor, call.role, unit, named)
    if call.role.is_admin:  # no unit list to pick from: an admin answers no survey
        return [Outgoing(t.SURVEY_NOT_FOR_ADMINS)]
    draft = await repo.latest_draft(db, actor)
    if draft is not None:
        unit = await repo.get_unit(db, draft.unit_code)
        if unit is not None:
            return await service.start_survey(db, actor, call.role, unit)
    units, others = await service.survey_units(db)
    if not units:
        if others:
            return [Outgoing(t.STAFF_SURVEY_BY_LINK)]
        return [Outgoing(t.NO_QUESTIONNAIRE if await repo.current_period(db) else t.NO_PERIOD)]
    await waits.wait_for(db, actor, service.clock(), {"kind": "unit_pick"})
    return [service.unit_picker(units, others)]


async def _event_survey(call: Call, event_id: int) -> list[Reply]:
    """The survey of an event, opened through its link (`sk_<id>`) or its code typed after /khaosat."""
    event = await repo.get_event(call.db, event_id)
    unit = await repo.get_unit(call.db, event.unit_code) if event is not None else None
    if event is None or unit is None:
        return [Outgoing(t.EVENT_UNKNOWN.format(code=f"sk{event_id}"))]
    return await call.service.start_survey(call.db, call.actor, call.role, unit, event.questionnaire_id, event)


async def unit_picked(call: Call, wait: waits.UnitPick) -> list[Reply]:
    """The unit a citizen picked after /khaosat: its button, its number or its name."""
    service, inbound = call.service, call.inbound
    units, others = await service.survey_units(call.db)
    text = clean_input(inbound.text) if inbound is not None and inbound.text else ""
    chosen: Unit | None = None
    if inbound is not None and inbound.button and inbound.button.startswith("u:"):
        chosen = next((u for u in units if u.code == inbound.button[2:]), None)
    elif text:
        try:
            chosen = units[pick([u.name for u in units], text, [u.code for u in units])]
        except InvalidAnswer as problem:
            return [Outgoing(str(problem)), service.unit_picker(units, others)]
    if chosen is None:
        return [service.unit_picker(units, others)]
    return await service.start_survey(call.db, call.actor, call.role, chosen)


async def assess(call: Call) -> list[Reply]:
    """/danhgia: the unit's and the officer's own questionnaires of the period; with one, it opens; with several, the
    list with each one's state (or the one named: its number, name or code)."""
    found = await _tasks(call)
    if isinstance(found, str):
        return [Outgoing(found)]
    period, unit, tasks = found
    if call.args:
        return await _picked(call, " ".join(call.args), tasks, period, unit)
    editable = [task for task in tasks if task.response is None or task.response.status.editable]
    if len(tasks) == 1 or len(editable) == 1:
        return await _open_task(call, period, unit, tasks, (editable or tasks)[0])
    await waits.wait_for(call.db, call.actor, call.service.clock(), {"kind": "questionnaire_pick"})
    return [await _task_list(call, period, unit, tasks)]


async def questionnaire_picked(call: Call, wait: waits.QuestionnairePick) -> list[Reply]:
    """The questionnaire an officer picked after /danhgia: its button, its number or its name."""
    found = await _tasks(call)
    if isinstance(found, str):
        await repo.save_session(call.db, call.actor, call.service.clock(), None, None)
        return [Outgoing(found)]
    period, unit, tasks = found
    inbound = call.inbound
    if inbound is not None and inbound.button and inbound.button.startswith("qn:"):
        chosen = next((task for task in tasks if task.questionnaire.id == inbound.button[3:]), None)
        if chosen is not None:
            return await _open_task(call, period, unit, tasks, chosen)
    text = clean_input(inbound.text) if inbound is not None and inbound.text else ""
    if not text:
        return [await _task_list(call, period, unit, tasks)]
    titled = any(fold(task.questionnaire.short_title) == fold(text) for task in tasks)
    if not titled and call.service.commands.parse(text, with_arguments=False) is not None:  # /danhgia's own words
        return [await _task_list(call, period, unit, tasks)]
    return await _picked(call, text, tasks, period, unit)


async def _tasks(call: Call) -> tuple[Period, Unit, list[assignments.Task]] | str:
    """The officer's unit, the current period and what they fill in it; or what to tell them."""
    service, db, account = call.service, call.db, call.role.account
    unit = await repo.get_unit(db, call.role.unit_code) if call.role.unit_code else None
    if unit is None or account is None:
        return refusal(Permission.OFFICER, call.role)
    period = await repo.current_period(db)
    if period is None:
        return t.NO_PERIOD
    tasks = await assignments.officer_tasks(db, service.questionnaires, period.code, unit, account.id)
    return (period, unit, tasks) if tasks else t.NO_QUESTIONNAIRE


async def _picked(call: Call, text: str, tasks: list[assignments.Task], period: Period, unit: Unit) -> list[Reply]:
    titles = [task.questionnaire.short_title for task in tasks]
    try:
        chosen = tasks[pick(titles, text, [task.questionnaire.id for task in tasks])]
    except InvalidAnswer as problem:
        await waits.wait_for(call.db, call.actor, call.service.clock(), {"kind": "questionnaire_pick"})
        return [Outgoing(str(problem)), await _task_list(call, period, unit, tasks)]
    return await _open_task(call, period, unit, tasks, chosen)


async def _task_list(call: Call, period: Period, unit: Unit, tasks: list[assignments.Task]) -> Outgoing:
    choices = []
    for task in tasks:
        qn, response = task.questionnaire, task.response
        if response is None:
            state = t.STATUS_MISSING
        elif response.status is Status.DRAFT:
            version = await call.service.definition_of(call.db, response) or qn
            answered, asked = engine.answered(version, response.state)
            state = t.TASK_STARTED.format(answered=answered, asked=asked)
        else:
            state = LABELS[response.status].lower()
        if task.audience is assignments.Audience.INDIVIDUAL:
            state = f"{t.TASK_OWN}, {state}"
        choices.append(Button(f"{qn.short_title} — {state}", f"qn:{qn.id}"))
    title = t.TASKS_TITLE.format(period=period.code, unit=unit.name, count=len(tasks))
    return Outgoing(title, choices=tuple(choices))


async def _open_task(
    call: Call, period: Period, unit: Unit, tasks: list[assignments.Task], task: assignments.Task
) -> list[Reply]:
    """Start or resume one of the officer's questionnaires at their own place in it; its notice once submitted."""
    service, db, qn = call.service, call.db, task.questionnaire
    title = qn.short_title
    shared = [other for other in tasks if other.audience is assignments.Audience.UNIT]
    if task.audience is assignments.Audience.INDIVIDUAL:
        heading = t.OWN_FORM_FOR.format(title=title, period=period.code, unit=unit.name)
    elif len(shared) > 1:
        heading = t.ASSESSMENT_NAMED.format(title=title, period=period.code, unit=unit.name)
    else:
        heading = t.ASSESSMENT_FOR.format(period=period.code, unit=unit.name)
    opened = await service.open_response(db, call.actor, qn, period.code, unit, task.respondent, heading)
    if opened is not None:
        return opened
    await repo.save_session(db, call.actor, service.clock(), None, None)
    response = await repo.find_response(db, repo.response_key(qn.id, period.code, unit.code, task.respondent))
    assert response is not None
    if task.audience is assignments.Audience.INDIVIDUAL:
        done = t.OWN_FORM_DONE.format(title=title, period=period.code, time=local_time(response.submitted_at))
        return [Outgoing(done)]
    return [await drafts.locked_notice(db, response)]


async def pause(call: Call) -> list[Reply]:
    db = call.db
    session = await repo.get_session(db, call.actor)
    if session is None or (session.response_id is None and session.waiting_for is None):
        return [Outgoing(t.NOTHING_TO_PAUSE)]
    response = await repo.get_response(db, session.response_id) if session.response_id else None
    wait = waits.read(session.waiting_for)
    await repo.save_session(db, call.actor, call.service.clock(), None, None)
    if wait is not None:  # a pick, a file, a yes, a preview's answers: what the wait kept, or nothing done
        entry = call.service.commands.wait(wait["kind"])
        stopped = entry.stopped if entry is not None else None
        return [Outgoing(stopped(wait) if stopped is not None else t.NOTHING_CHANGED)]
    if response is None:
        return [Outgoing(t.NOTHING_CHANGED)]
    officers = response.respondent is None or response.respondent.startswith(assignments.OWN)
    again = "/danhgia" if officers else "/khaosat"
    return [Outgoing(t.PAUSED.format(command=again))]
