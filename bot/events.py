"""Events: a unit's dissemination sessions and seminars (a name, the day it is held, the unit, the public survey its
participants answer). Each has its own link (`sk_<id>`, bot.channels.registry) and poster (bot.posters); a response
opened through it carries the event (storage `Response.event_id`), so progress and the survey workbook tell the
event's participants apart from the rest of the unit's respondents. Admins make them with /sukien."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.definition import Questionnaire
from storage import queries, repo
from storage.models import Event, Unit

NAME_LIMIT = 200


@dataclass(frozen=True)
class Planned:
    """An event to make, checked: its survey and unit."""

    name: str
    held_on: date
    unit: Unit
    questionnaire: Questionnaire


async def create(db: AsyncSession, period: str, planned: Planned, account_id: int | None, now: datetime) -> Event:
    event = Event(
        period_code=period,
        name=planned.name,
        held_on=planned.held_on,
        unit_code=planned.unit.code,
        questionnaire_id=planned.questionnaire.id,
        created_at=now,
        created_by=account_id,
    )
    return await repo.add_event(db, event)


async def responses(db: AsyncSession, event: Event) -> int:
    """How many responses that count came through the event's link."""
    counts = await queries.event_counts(db, queries.Selection(event.questionnaire_id, event.period_code))
    return counts.get(event.id, 0)
