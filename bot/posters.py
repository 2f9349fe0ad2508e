"""The posters of a period's public surveys (/qr, `pbgdpl qr`): one per public survey and unit it is assigned to, and
one per event (/sukien: its own link `sk_<id>`, so its responses are told apart).
Its Telegram QR code opens the deep link naming the questionnaire (`ks_<unit>__<questionnaire>`, so a printed poster
keeps opening the same survey whatever is assigned later); when the Zalo Official Account is configured
(PBGDPL_ZALO_OA_NAME, PBGDPL_ZALO_OA_ID), a second code opens the OA and the poster gives the words to send it, which
/khaosat's words read as the same unit and questionnaire."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot import assignments
from bot.channels.registry import DeepLinks, event_payload, survey_payload
from bot.config import Settings
from conversations.definition import Questionnaire
from conversations.localtime import day_text
from exports.poster import Poster, PosterText, ZaloCode, make_poster
from storage.models import Event, Unit

ZALO_LINK = "https://zalo.me/{oa_id}"
SURVEY_WORDS = "khảo sát {unit} {questionnaire}"
"""What to send the Zalo OA to open a unit's survey: /khaosat's words, the unit's code and the questionnaire's."""
EVENT_WORDS = "khảo sát sk{id}"
"""What to send it to open an event's survey: /khaosat's words and the event's code (bot.channels.registry)."""


@dataclass(frozen=True)
class Planned:
    """One poster to draw: its survey, the place it names, the deep link's payload, the words to send on Zalo and
    the files' name (without the extension)."""

    questionnaire: Questionnaire
    place: str
    payload: str
    words: str
    stem: str


def of_unit(unit: Unit, qn: Questionnaire) -> Planned:
    words = SURVEY_WORDS.format(unit=unit.code, questionnaire=qn.id)
    return Planned(qn, unit.name, survey_payload(unit.code, qn.id), words, f"ap-phich-{qn.id}-{unit.code}")


def of_event(event: Event, unit: Unit, qn: Questionnaire) -> Planned:
    place = f"{event.name}, {day_text(event.held_on)}, {unit.name}"
    return Planned(qn, place, event_payload(event.id), EVENT_WORDS.format(id=event.id), f"ap-phich-su-kien-{event.id}")


async def unit_surveys(
    db: AsyncSession, questionnaires: Mapping[str, Questionnaire], period: str, unit: Unit
) -> list[Questionnaire]:
    """The public surveys the period assigns to the unit, in the order assigned: a poster each."""
    return await assignments.for_unit(db, questionnaires, period, unit, assignments.Audience.PUBLIC)


def zalo_code(settings: Settings, words: str) -> ZaloCode | None:
    if settings.zalo_oa_id is None or settings.zalo_oa_name is None:
        return None
    return ZaloCode(settings.zalo_oa_name, ZALO_LINK.format(oa_id=settings.zalo_oa_id), words)


async def draw(planned: Planned, links: DeepLinks, settings: Settings) -> Poster | None:
    """The poster, drawn in a thread; None when no Telegram deep link can be made (the bot's name is unknown)."""
    link = links.deep_link(planned.payload)
    if link is None:
        return None
    text = PosterText(planned.questionnaire.short_title, planned.place, link, zalo_code(settings, planned.words))
    return await asyncio.to_thread(make_poster, text)
