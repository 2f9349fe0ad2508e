"""Reads the bot and the exports both make: which responses a selection covers, how many are submitted (or declined)
per unit (and per event), the units' survey tallies (also for the figures of criteria measured by the survey), a
period by its code, its assignments and events, the evidence files of responses, the Justice Office's verified points,
verifications and the officers' explanations. Every function reads inside the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, String, bindparam, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from conversations.measures import SurveyTally
from conversations.status import COUNTED, Status
from storage.models import (
    Answer,
    Assignment,
    Event,
    Evidence,
    Explanation,
    Period,
    Response,
    Verification,
    VerifiedPoints,
)

Grouping = InstrumentedAttribute[Any]
"""A column responses are counted by (the unit, the event)."""


@dataclass(frozen=True)
class Selection:
    """Which responses an export (or a progress count) covers: by default those that count (submitted, approved)."""

    questionnaire_id: str
    period_code: str
    unit_code: str | None = None
    version: str | None = None

    def where(self, statuses: Collection[Status] | None = COUNTED) -> list[ColumnElement[bool]]:
        """Conditions on responses at one of `statuses` (None: at any status)."""
        conditions = [Response.questionnaire_id == self.questionnaire_id, Response.period_code == self.period_code]
        if statuses is not None:
            conditions.append(Response.status.in_(statuses))
        if self.unit_code is not None:
            conditions.append(Response.unit_code == self.unit_code)
        if self.version is not None:
            conditions.append(Response.questionnaire_version == self.version)
        return conditions


async def get_period(db: AsyncSession, code: str) -> Period | None:
    return await db.get(Period, code)


_ASSIGNMENTS = select(Assignment).where(Assignment.period_code == bindparam("period")).order_by(Assignment.id)
"""Built once: a citizen's survey opening reads them twice, and building the statement cost a third of running it."""


async def assignments(db: AsyncSession, period_code: str) -> list[Assignment]:
    """The questionnaires a period runs and the units each applies to, in the order they were assigned
    (bot.assignments says what they mean)."""
    return list((await db.scalars(_ASSIGNMENTS, {"period": period_code})).all())


async def events(db: AsyncSession, period_code: str, questionnaire_id: str | None = None) -> list[Event]:
    """A period's events (bot.events), or those on one questionnaire, in the order they were created."""
    query = select(Event).where(Event.period_code == period_code)
    if questionnaire_id is not None:
        query = query.where(Event.questionnaire_id == questionnaire_id)
    return list((await db.scalars(query.order_by(Event.id))).all())


async def event_counts(db: AsyncSession, selection: Selection) -> dict[int | None, int]:
    """Responses that count per event (None: those that came by the unit's own link)."""
    return {key[0]: n for key, n in (await _counts(db, selection, (Response.event_id,), COUNTED)).items()}


async def unit_counts(db: AsyncSession, selection: Selection, statuses: Collection[Status] = COUNTED) -> dict[str, int]:
    """Responses per unit at one of `statuses`: by default those that count; {DECLINED} for the declines."""
    return {key[0]: n for key, n in (await _counts(db, selection, (Response.unit_code,), statuses)).items()}


def answer_value(text: str | None) -> Any:
    return json.loads(text) if text is not None else None


async def unit_tallies(db: AsyncSession, selection: Selection, question_ids: Sequence[str]) -> dict[str, SurveyTally]:
    """For each unit: how many respondents gave each answer to each listed question, the points earned, and how
    many declined to take part (counted apart: a decline is in no other figure)."""
    found = await _tallies(db, selection, question_ids, (Response.unit_code,))
    return {key[0]: tally for key, tally in found.items()}


async def unit_bases(db: AsyncSession, selection: Selection, question_ids: Sequence[str]) -> dict[str, SurveyTally]:
    """For each unit: the counts of unit_tallies that say how many respondents a figure rests on (responses, declines
    and how many answered each listed question), without the answers given: all that disclosure control decides
    by, read from the indexes alone."""
    answered = (
        select(Response.unit_code, Answer.question_id, func.count())
        .join(Response, Response.id == Answer.response_id)
        .where(*selection.where(), Answer.question_id.in_(question_ids))
        .group_by(Response.unit_code, Answer.question_id)
    )
    tallies = await _respondents(db, selection, (Response.unit_code,))
    for unit_code, question_id, count in (await db.execute(answered)).all():
        tallies.setdefault((unit_code,), SurveyTally()).answered[question_id] += count
    return {key[0]: tally for key, tally in tallies.items()}


async def event_tallies(
    db: AsyncSession, selection: Selection, question_ids: Sequence[str]
) -> dict[tuple[str, int | None], SurveyTally]:
    """As unit_tallies, for each unit and event: (unit, event id), (unit, None) for those who came by the unit's own
    link."""
    found = await _tallies(db, selection, question_ids, (Response.unit_code, Response.event_id))
    return {(key[0], key[1]): tally for key, tally in found.items()}


async def _tallies(
    db: AsyncSession, selection: Selection, question_ids: Sequence[str], keys: Sequence[Grouping]
) -> dict[tuple[Any, ...], SurveyTally]:
    value = cast(Answer.value, String).label("answer")
    query = (
        select(*keys, Answer.question_id, value, func.count(), func.sum(Answer.points))
        .join(Response, Response.id == Answer.response_id)
        .where(*selection.where(), Answer.question_id.in_(question_ids))
        .group_by(*keys, Answer.question_id, value)
    )
    tallies = await _respondents(db, selection, keys)
    for row in (await db.execute(query)).all():
        *group, question_id, text, count, points = row
        tallies.setdefault(tuple(group), SurveyTally()).add(question_id, answer_value(text), count, points)
    return tallies


async def _respondents(
    db: AsyncSession, selection: Selection, keys: Sequence[Grouping]
) -> dict[tuple[Any, ...], SurveyTally]:
    """Tallies holding the responses that count and the declines of each group."""
    tallies = {key: SurveyTally(responses=n) for key, n in (await _counts(db, selection, keys, COUNTED)).items()}
    for key, n in (await _counts(db, selection, keys, {Status.DECLINED})).items():
        tallies.setdefault(key, SurveyTally()).declined = n
    return tallies


async def _counts(
    db: AsyncSession, selection: Selection, keys: Sequence[Grouping], statuses: Collection[Status]
) -> dict[tuple[Any, ...], int]:
    query = select(*keys, func.count()).where(*selection.where(statuses)).group_by(*keys)
    return {tuple(row[:-1]): row[-1] for row in (await db.execute(query)).all()}


async def evidence_files(db: AsyncSession, response_ids: Sequence[int]) -> list[Evidence]:
    if not response_ids:
        return []
    query = select(Evidence).where(Evidence.response_id.in_(response_ids)).order_by(Evidence.id)
    return list((await db.scalars(query)).all())


async def verified_points(db: AsyncSession, response_ids: Sequence[int]) -> dict[int, dict[str, VerifiedPoints]]:
    """The Justice Office's points on each response's criteria: {response id: {question id: row}}."""
    found: dict[int, dict[str, VerifiedPoints]] = {}
    if not response_ids:
        return found
    query = select(VerifiedPoints).where(VerifiedPoints.response_id.in_(response_ids)).order_by(VerifiedPoints.id)
    for row in (await db.scalars(query)).all():
        found.setdefault(row.response_id, {})[row.question_id] = row
    return found


async def verifications(db: AsyncSession, response_ids: Sequence[int]) -> dict[int, Verification]:
    """Where the scoring of each response stands (absent: not begun)."""
    if not response_ids:
        return {}
    query = select(Verification).where(Verification.response_id.in_(response_ids))
    return {row.response_id: row for row in (await db.scalars(query)).all()}


async def finalised_totals(db: AsyncSession, questionnaire_id: str, period_code: str) -> dict[int, float]:
    """The verified totals of the questionnaire's finalised results in the period: {response id: total}."""
    query = (
        select(Verification.response_id, Verification.total)
        .join(Response, Response.id == Verification.response_id)
        .where(Response.questionnaire_id == questionnaire_id, Response.period_code == period_code)
        .where(Verification.finalised.is_(True))
    )
    return {response_id: total for response_id, total in (await db.execute(query)).all() if total is not None}


async def explanations(db: AsyncSession, response_ids: Sequence[int]) -> dict[int, dict[str, Explanation]]:
    """The officers' explanations on each response's lowered criteria: {response id: {question id: row}}."""
    found: dict[int, dict[str, Explanation]] = {}
    if not response_ids:
        return found
    query = select(Explanation).where(Explanation.response_id.in_(response_ids)).order_by(Explanation.id)
    for row in (await db.scalars(query)).all():
        found.setdefault(row.response_id, {})[row.question_id] = row
    return found
