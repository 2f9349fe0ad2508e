"""Opening, resuming and pausing questionnaires; greeting and help."""

from __future__ import annotations

from bot import texts as t
from bot.commands import Call, command
from bot.commands.invites import redeem_invite
from bot.service import Reply
from conversations.answers import number_text
from conversations.engine import Outgoing
from conversations.localtime import local_time
from storage import repo


@command("start", words=("bat dau", "chao", "xin chao"))
async def start(call: Call) -> list[Reply]:
    service, sender = call.service, call.sender
    payload = call.args[0] if call.args else ""
    if payload.startswith("dk_"):
        return await redeem_invite(call, payload[3:])
    if payload.startswith("ks_"):
        return await survey(Call(service, sender, call.actor, [payload[3:]]))
    async with service.db.read() as db:
        role = await service.role(db, sender)
        unit = await repo.get_unit(db, role.unit_code) if role.unit_code else None
    replies: list[Reply] = []
    if role.is_admin:
        replies.append(Outgoing(t.WELCOME_ADMIN + "\n\n" + t.HELP_ADMIN))
    if unit is not None:
        name = f" {sender.display_name}" if sender.display_name else ""
        replies.append(Outgoing(t.WELCOME_OFFICER.format(name=name, unit=unit.name)))
    return replies or [Outgoing(t.WELCOME_CITIZEN)]


@command("trogiup", "help", words=("tro giup", "huong dan", "giup do"))
async def help_(call: Call) -> list[Reply]:
    async with call.service.db.read() as db:
        role = await call.service.role(db, call.sender)
    personal = Outgoing(t.HELP_OFFICER if role.unit_code else t.HELP_CITIZEN)
    return [Outgoing(t.HELP_ADMIN), personal] if role.is_admin else [personal]


@command("khaosat", words=("khao sat",))
async def survey(call: Call) -> list[Reply]:
    service, actor = call.service, call.actor
    async with service.db.write(lock=call.actor) as db:
        if call.args:
            unit = await repo.get_unit(db, call.args[0])
            if unit is None:
                return [Outgoing(t.UNIT_UNKNOWN.format(code=call.args[0]))]
            return await service.start_survey(db, actor, unit)
        draft = await repo.latest_draft(db, actor)
        if draft is not None:
            unit = await repo.get_unit(db, draft.unit_code)
            if unit is not None:
                return await service.start_survey(db, actor, unit)
        await repo.save_session(db, actor, service.clock(), None, {"pick": "unit"})
        return [service.unit_picker(await service.survey_units(db))]


@command("danhgia", words=("danh gia", "tu danh gia"))
async def assess(call: Call) -> list[Reply]:
    service = call.service
    qn = service.of_kind("self_assessment")
    if qn is None:
        return [Outgoing(t.NO_QUESTIONNAIRE)]
    async with service.db.write(lock=call.actor) as db:
        role = await service.role(db, call.sender)
        unit = await repo.get_unit(db, role.unit_code) if role.unit_code else None
        if unit is None:
            return [Outgoing(t.OFFICER_ONLY)]
        period = await repo.current_period(db)
        if period is None:
            return [Outgoing(t.NO_PERIOD)]
        heading = t.ASSESSMENT_FOR.format(period=period.code, unit=unit.name)
        opened = await service.open_response(db, call.actor, qn, period.code, unit, None, heading)
        if opened is not None:
            return opened
        response = await repo.find_response(db, repo.response_key(qn.id, period.code, unit.code))
        assert response is not None
        points = number_text(response.total_points or 0)
        locked = t.ASSESSMENT_LOCKED.format(
            period=period.code, unit=unit.name, time=local_time(response.submitted_at), points=points
        )
        return [Outgoing(locked)]


@command("huy", words=("huy", "tam dung", "dung lai"))
async def pause(call: Call) -> list[Reply]:
    service = call.service
    async with service.db.write(lock=call.actor) as db:
        session = await repo.get_session(db, call.actor)
        if session is None or (session.response_id is None and session.waiting_for is None):
            return [Outgoing(t.NOTHING_TO_PAUSE)]
        response = await repo.get_response(db, session.response_id) if session.response_id else None
        previewing = "preview" in (session.waiting_for or {})  # an admin trying a questionnaire version out
        await repo.save_session(db, call.actor, service.clock(), None, None)
    if previewing:
        return [Outgoing(t.PREVIEW_STOPPED)]
    again = "/danhgia" if response is not None and response.respondent is None else "/khaosat"
    return [Outgoing(t.PAUSED.format(command=again))]
