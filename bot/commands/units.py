"""The list of units in force, with their codes."""

from __future__ import annotations

from bot import texts as t
from bot.messages import Reply
from bot.table import Call
from conversations.engine import Outgoing
from storage import repo


async def units(call: Call) -> list[Reply]:
    found = await repo.units_in_force(call.db, call.service.clock().date())
    lines = [f"{u.code} – {u.name}" for u in repo.in_unit_order(found)]
    return [Outgoing("\n".join([t.UNITS_TITLE, *lines]))]
