"""Invites: an admin makes a single-use, expiring code; an officer redeems it and is bound to the unit."""

from __future__ import annotations

import secrets
from datetime import timedelta

from bot import audit
from bot import texts as t
from bot.messages import Reply
from bot.table import Call
from conversations.engine import Outgoing
from conversations.localtime import local_time
from storage import repo
from storage.models import Invite

INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
GUESS_WINDOW = timedelta(minutes=15)
GUESSES_PER_PERSON = 5
GUESSES_IN_TOTAL = 50
"""Wrong codes within the window, by one person and by everyone (many accounts guessing together), before
redeeming waits; counted in the database (storage InviteFailure), so a restart does not reset them."""


async def invite(call: Call) -> list[Reply]:
    service, db = call.service, call.db
    if not call.args:
        return [Outgoing(t.INVITE_USAGE)]
    unit = await repo.get_unit(db, call.args[0])
    if unit is None:
        return [Outgoing(t.UNIT_UNKNOWN_STAFF.format(code=call.args[0])), Outgoing(t.INVITE_USAGE)]
    now = service.clock()
    account = await audit.record(db, call.sender, now, "invite", unit.code)
    code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(10))
    created = Invite(
        code=code, unit_code=unit.code, created_by=account.id, created_at=now, expires_at=now + service.invite_ttl
    )
    await repo.add_invite(db, created)
    text = t.INVITE_CREATED.format(unit=unit.name, code=code, expires=local_time(created.expires_at))
    link = service.channels.deep_link(f"dk_{code}")
    if link is not None:
        text += "\n" + t.INVITE_LINK.format(link=link)
    return [Outgoing(text)]


async def redeem_invite(call: Call, code: str) -> list[Reply]:
    service, sender, db = call.service, call.sender, call.db
    now = service.clock()
    mine, everyone = await repo.invite_failures(db, call.actor, now - GUESS_WINDOW)
    if mine >= GUESSES_PER_PERSON:
        return [Outgoing(t.INVITE_TOO_MANY)]
    if everyone >= GUESSES_IN_TOTAL:
        return [Outgoing(t.INVITE_TOO_MANY_IN_TOTAL)]
    found = await repo.get_invite(db, code.strip().upper())
    if found is None or found.expires_at <= now:
        await repo.add_invite_failure(db, call.actor, now, now - GUESS_WINDOW)
        return [Outgoing(t.INVITE_INVALID)]
    if found.used_at is not None:
        return [Outgoing(t.INVITE_USED)]
    unit = await repo.get_unit(db, found.unit_code)
    assert unit is not None
    account = await repo.ensure_account(db, sender.channel, sender.user_id, now, sender.display_name)
    account.unit_code = unit.code
    found.used_at, found.used_by = now, account.id
    return [Outgoing(t.INVITE_ACCEPTED.format(unit=unit.name))]
