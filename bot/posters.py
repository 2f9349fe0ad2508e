"""The posters of a period's public surveys (/qr, `pbgdpl qr`): one per public survey and unit it is assigned to, and
one per event (/sukien: its own link `sk_<id>`, so its responses are told apart).
Its Telegram QR code opens the deep link naming the questionnaire (`ks_<unit>__<questionnaire>`, so a printed poster
keeps opening the same survey whatever is assigned later); when the Zalo Official Account is configured
(PBGDPL_ZALO_OA_NAME, PBGDPL_ZALO_OA_ID), a second code opens the OA and the poster gives the words to send it, which
/khaosat's words read as the same unit and questionnaire. When people can reach the web app (PBGDPL_PUBLIC_URL set)
and the public results are on (PBGDPL_WEB_PUBLIC_RESULTS), the poster also prints the address and a small QR code of
the survey's results for its unit (/ketqua/<unit>?bang=<questionnaire>, dashboard.public), hidden cells and all."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot import assignments
from bot.channels.registry import DeepLinks, event_payload, survey_payload
from bot.config import Settings
from bot.links import results_path
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
    """One poster to draw: its survey, the place it names and the unit's code (an event's unit), the deep link's
    payload, the words to send on Zalo and the files' name (without the extension)."""

    questionnaire: Questionnaire
    place: str
    unit_code: str
    payload: str
    words: str
    stem: str


def of_unit(unit: Unit, qn: Questionnaire) -> Planned:
    words = SURVEY_WORDS.format(unit=unit.code, questionnaire=qn.id)
    stem = f"ap-phich-{qn.id}-{unit.code}"
    return Planned(qn, unit.name, unit.code, survey_payload(unit.code, qn.id), words, stem)


def of_event(event: Event, unit: Unit, qn: Questionnaire) -> Planned:
    place = f"{event.name}, {day_text(event.held_on)}, {unit.name}"
    words, stem = EVENT_WORDS.format(id=event.id), f"ap-phich-su-kien-{event.id}"
    return Planned(qn, place, unit.code, event_payload(event.id), words, stem)


async def unit_surveys(
    db: AsyncSession, questionnaires: Mapping[str, Questionnaire], period: str, unit: Unit
) -> list[Questionnaire]:
    """The public surveys the period assigns to the unit, in the order assigned: a poster each."""
    return await assignments.for_unit(db, questionnaires, period, unit, assignments.Audience.PUBLIC)


def zalo_code(settings: Settings, words: str) -> ZaloCode | None:
    if settings.zalo_oa_id is None or settings.zalo_oa_name is None:
        return None
    return ZaloCode(settings.zalo_oa_name, ZALO_LINK.format(oa_id=settings.zalo_oa_id), words)


def results_link(settings: Settings, planned: Planned) -> str | None:
    """The public results of the poster's survey for its unit, when people can open them: None without
    PBGDPL_PUBLIC_URL (the address the app listens on is not one to print) or with the public results off."""
    if settings.public_url is None or not settings.web_public_results:
        return None
    return settings.base_url + results_path(planned.unit_code, planned.questionnaire.id)


async def draw(planned: Planned, links: DeepLinks, settings: Settings) -> Poster | None:
    """The poster, drawn in a thread; None when no Telegram deep link can be made (the bot's name is unknown)."""
    link = links.deep_link(planned.payload)
    if link is None:
        return None
    zalo, results = zalo_code(settings, planned.words), results_link(settings, planned)
    text = PosterText(planned.questionnaire.short_title, planned.place, link, zalo, results)
    return await asyncio.to_thread(make_poster, text)
