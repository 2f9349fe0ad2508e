"""Shared drafts: the officers of a unit fill one self-assessment, each from their own place in it (the engine
keeps the places). When one submits, the others who had a place are told, and their next message is answered
with the locked notice instead of being applied."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import review
from bot import texts as t
from bot.identity import actor_key
from bot.outbox import Recipient, notify
from conversations.answers import number_text
from conversations.definition import Questionnaire
from conversations.engine import Outgoing
from conversations.localtime import local_time
from storage import repo
from storage.models import Response


async def tell_others(
    db: AsyncSession,
    secret: bytes,
    questionnaires: Mapping[str, Questionnaire],
    qn: Questionnaire,
    response: Response,
    places: Collection[str],
    name: str | None,
    now: datetime,
) -> int:
    """Queue the news of a submission for the unit's other officers who had a place in the draft (`places`: their
    keyed hashes, the submitter's left out by the caller), naming the questionnaire when the unit has several
    (`questionnaires`: the versions in use)."""
    if not places:
        return 0
    unit = await repo.get_unit(db, response.unit_code)
    several = unit is not None and await review.has_several(db, questionnaires, response.period_code, unit)
    officers = [
        a
        for a in await repo.officers_of(db, response.unit_code)
        if actor_key(secret, a.channel, a.platform_id) in places
    ]
    text = t.SUBMITTED_BY_OTHER.format(
        name=name or t.ANOTHER_OFFICER,
        named=review.naming(qn, several),
        period=response.period_code,
        unit=unit.name if unit else response.unit_code,
        time=local_time(response.submitted_at),
    )
    return await notify(db, [Recipient.of(a) for a in officers], "draft_submitted", text, now)


async def locked_notice(db: AsyncSession, response: Response | repo.ResponseState) -> Outgoing:
    """What an officer reads when the self-assessment they were filling has been submitted."""
    unit = await repo.get_unit(db, response.unit_code)
    return Outgoing(
        t.ASSESSMENT_LOCKED.format(
            period=response.period_code,
            unit=unit.name if unit else response.unit_code,
            time=local_time(response.submitted_at),
            points=number_text(response.total_points or 0),
        )
    )
