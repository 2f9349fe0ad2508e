"""Irreversible admin actions ask first (closing a period, returning an approved submission, a deadline in the past,
a merge, a unit file that changes units): the command says what it is about to do and waits; it runs, with the same
arguments and what it showed, only if the next message is "đồng ý" (or the button) within ten minutes. Anything
else drops it, so nothing is done by a stray "có" much later.

A command asks with `await ask(call, "ky", question)`; run again after the yes, it finds `call.confirmed` set (the
`data` it asked with, {} when none) and does the work.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot import texts as t
from bot import waits
from bot.messages import Reply
from bot.table import Call, refusal
from bot.waits import Confirm
from conversations.engine import Button, Outgoing
from conversations.text import fold
from storage import repo

YES, NO = "confirm:yes", "confirm:no"
AGREED = {YES, "dong y", "xac nhan", "ok"}
WITHIN = timedelta(minutes=10)
ASK = "Gõ “đồng ý” để làm, hoặc “thôi” để không làm gì."
EXPIRED = "Câu hỏi xác nhận đã quá 10 phút nên không làm gì cả. Gõ lại lệnh nếu vẫn muốn làm."


async def ask(call: Call, command: str, question: str, data: dict[str, Any] | None = None) -> list[Reply]:
    """Wait for the admin's yes before `command` runs again with the call's arguments and `data`."""
    now = call.service.clock()
    at = now.isoformat()
    asked: Confirm = {"kind": "confirm", "command": command, "args": call.args, "data": data or {}, "at": at}
    await waits.wait_for(call.db, call.actor, now, asked)
    return [Outgoing(question, hint=ASK, actions=(Button("Đồng ý", YES), Button("Thôi", NO)))]


async def answered(call: Call, asked: Confirm) -> list[Reply]:
    """The message after the question: the command runs again, confirmed, or nothing happens."""
    now = call.service.clock()
    await repo.save_session(call.db, call.actor, now, None, None)
    inbound = call.inbound
    said = (inbound.button or fold(inbound.text or "")) if inbound is not None else ""
    if said not in AGREED:
        return [Outgoing(t.NOTHING_CHANGED)]
    if now - datetime.fromisoformat(asked["at"]) > WITHIN:
        return [Outgoing(EXPIRED)]
    command = call.service.commands.command(asked["command"])
    if command is None:
        return [Outgoing(t.NOTHING_CHANGED)]
    if not call.role.may(command.permission):
        return [Outgoing(refusal(command.permission, call.role))]
    return await command.handler(replace(call, args=list(asked["args"]), confirmed=dict(asked["data"])))
