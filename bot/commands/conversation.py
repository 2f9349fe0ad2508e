"""Opening, resuming and pausing questionnaires; greeting and help."""

from __future__ import annotations

from dataclasses import replace

from bot import assignments, drafts, waits
from bot import texts as t
from bot.commands.invites import redeem_invite
from bot.messages import Reply
from bot.table import Call, Permission, refusal
from conversations.answers import InvalidAnswer, pick
from conversations.engine import Outgoing
from conversations.text import clean_input
from storage import repo
from storage.models import Unit


async def start(call: Call) -> list[Reply]:
    payload = call.args[0] if call.args else ""
    if payload.startswith("dk_"):
        return await redeem_invite(call, payload[3:])
    if payload.startswith("ks_"):
        return await survey(replace(call, args=[payload[3:]]))
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
    if call.args:
        unit = await repo.get_unit(db, call.args[0])
        if unit is None:
            unknown = call.role.pick(t.UNIT_UNKNOWN, t.UNIT_UNKNOWN_STAFF, t.UNIT_UNKNOWN_STAFF)
            return [Outgoing(unknown.format(code=call.args[0]))]
        return await service.start_survey(db, actor, call.role, unit)
    if call.role.is_admin:  # no unit list to pick from: an admin answers no survey
        return [Outgoing(t.SURVEY_NOT_FOR_ADMINS)]
    draft = await repo.latest_draft(db, actor)
    if draft is not None:
        unit = await repo.get_unit(db, draft.unit_code)
        if unit is not None:
            return await service.start_survey(db, actor, call.role, unit)
    units = await service.survey_units(db)
    if not units:
        return [Outgoing(t.NO_QUESTIONNAIRE if await repo.current_period(db) else t.NO_PERIOD)]
    await waits.wait_for(db, actor, service.clock(), {"kind": "unit_pick"})
    return [service.unit_picker(units)]


async def unit_picked(call: Call, wait: waits.UnitPick) -> list[Reply]:
    """The unit a citizen picked after /khaosat: its button, its number or its name."""
    service, inbound = call.service, call.inbound
    units = await service.survey_units(call.db)
    text = clean_input(inbound.text) if inbound is not None and inbound.text else ""
    chosen: Unit | None = None
    if inbound is not None and inbound.button and inbound.button.startswith("u:"):
        chosen = next((u for u in units if u.code == inbound.button[2:]), None)
    elif text:
        try:
            chosen = units[pick([u.name for u in units], text, [u.code for u in units])]
        except InvalidAnswer as problem:
            return [Outgoing(str(problem)), service.unit_picker(units)]
    if chosen is None:
        return [service.unit_picker(units)]
    return await service.start_survey(call.db, call.actor, call.role, chosen)


async def assess(call: Call) -> list[Reply]:
    service, db = call.service, call.db
    unit = await repo.get_unit(db, call.role.unit_code) if call.role.unit_code else None
    if unit is None:
        return [Outgoing(refusal(Permission.OFFICER, call.role))]
    period = await repo.current_period(db)
    if period is None:
        return [Outgoing(t.NO_PERIOD)]
    shared = await assignments.for_unit(db, service.questionnaires, period.code, unit, assignments.Audience.UNIT)
    if not shared:
        return [Outgoing(t.NO_QUESTIONNAIRE)]
    qn = shared[0]
    heading = t.ASSESSMENT_FOR.format(period=period.code, unit=unit.name)
    opened = await service.open_response(db, call.actor, qn, period.code, unit, None, heading)
    if opened is not None:
        return opened
    response = await repo.find_response(db, repo.response_key(qn.id, period.code, unit.code))
    assert response is not None
    return [await drafts.locked_notice(db, response)]


async def pause(call: Call) -> list[Reply]:
    db = call.db
    session = await repo.get_session(db, call.actor)
    if session is None or (session.response_id is None and session.waiting_for is None):
        return [Outgoing(t.NOTHING_TO_PAUSE)]
    response = await repo.get_response(db, session.response_id) if session.response_id else None
    wait = waits.read(session.waiting_for)
    previewing = wait is not None and wait["kind"] == "preview"  # an admin trying a questionnaire version out
    await repo.save_session(db, call.actor, call.service.clock(), None, None)
    if previewing:
        return [Outgoing(t.PREVIEW_STOPPED)]
    if response is None:  # a file or a yes was awaited: nothing to resume
        return [Outgoing(t.NOTHING_CHANGED)]
    again = "/danhgia" if response is not None and response.respondent is None else "/khaosat"
    return [Outgoing(t.PAUSED.format(command=again))]
