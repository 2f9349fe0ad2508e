"""The reads behind the exports. Counting is done by the database (GROUP BY); wide and long answer tables are
streamed from a cursor, never loaded whole. Every function reads inside the caller's transaction. The reads the bot
makes too (a selection, submitted or declined counts, a period, evidence files) are in storage.queries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from typing import Any

from sqlalchemy import String, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from conversations.measures import SurveyTally
from storage.models import Answer, Response
from storage.queries import Selection, answer_value

STREAM_BATCH = 2000


async def responses(db: AsyncSession, selection: Selection) -> list[Response]:
    """Drafts and submitted responses (small sets: one self-assessment per unit)."""
    query = select(Response).where(*selection.where(None)).order_by(Response.id)
    return list((await db.scalars(query)).all())


async def breakdown_tallies(
    db: AsyncSession, selection: Selection, by_questions: Sequence[str], question_ids: Sequence[str]
) -> dict[tuple[str, str], SurveyTally]:
    """For each (grouping question, its answer), e.g. ("tuoi", "tu_18_30"): the same counts as unit_tallies,
    over the respondents who gave that answer."""
    by = aliased(Answer)
    by_value, value = cast(by.value, String).label("by_answer"), cast(Answer.value, String).label("answer")
    query = (
        select(by.question_id, by_value, Answer.question_id, value, func.count(), func.sum(Answer.points))
        .join(Answer, Answer.response_id == by.response_id)
        .join(Response, Response.id == by.response_id)
        .where(*selection.where(), by.question_id.in_(by_questions), Answer.question_id.in_(question_ids))
        .group_by(by.question_id, by_value, Answer.question_id, value)
    )
    counts = (
        select(Answer.question_id, value, func.count())
        .join(Response, Response.id == Answer.response_id)
        .where(*selection.where(), Answer.question_id.in_(by_questions))
        .group_by(Answer.question_id, value)
    )
    tallies: dict[tuple[str, str], SurveyTally] = {}
    for question_id, text, count in (await db.execute(counts)).all():
        tallies[(question_id, str(answer_value(text)))] = SurveyTally(responses=count)
    for by_id, by_text, question_id, text, count, points in (await db.execute(query)).all():
        key = (by_id, str(answer_value(by_text)))
        tallies.setdefault(key, SurveyTally()).add(question_id, answer_value(text), count, points)
    return tallies


def unit_order(codes: Sequence[str], column: Any) -> Any:
    """An ORDER BY term that puts units in the given (Vietnamese) order, so the database sorts big tables."""
    if not codes:
        return column
    return case({code: index for index, code in enumerate(codes)}, value=column, else_=len(codes))


async def wide_answers(
    db: AsyncSession,
    selection: Selection,
    question_ids: Sequence[str],
    scored_ids: Sequence[str],
    units: Sequence[str],
    numeric_ids: Collection[str] = (),
) -> AsyncIterator[tuple[Any, ...]]:
    """One row per submitted response: id, unit code, submitted at, the displayed answer to each listed question
    (the number itself for those in `numeric_ids`), and the points earned on the scored ones; pivoted by the
    database, streamed in unit order."""
    raw = cast(Answer.value, String)
    columns = [
        func.max(case((Answer.question_id == qid, raw if qid in numeric_ids else Answer.value_text)))
        for qid in question_ids
    ]
    numeric = [3 + n for n, qid in enumerate(question_ids) if qid in numeric_ids]
    points = func.sum(case((Answer.question_id.in_(scored_ids), Answer.points))) if scored_ids else None
    query = (
        select(
            Response.id, Response.unit_code, Response.submitted_at, *columns, *([points] if points is not None else [])
        )
        .join(Answer, Answer.response_id == Response.id)
        .where(*selection.where())
        .group_by(Response.id, Response.unit_code, Response.submitted_at)
        .order_by(unit_order(units, Response.unit_code), Response.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    result = await db.stream(query)
    async for partition in result.partitions():
        for row in partition:
            values = list(row)
            for n in numeric:
                values[n] = answer_value(values[n])
            yield tuple(values)


async def long_answers(
    db: AsyncSession, selection: Selection, units: Sequence[str], numeric_ids: Collection[str] = ()
) -> AsyncIterator[tuple[Any, ...]]:
    """One row per submitted answer: response id, unit code, submitted at, question id, displayed answer (the number
    itself for the questions in `numeric_ids`), points."""
    numeric = sorted(numeric_ids)
    answer = case((Answer.question_id.in_(numeric), cast(Answer.value, String)), else_=Answer.value_text)
    query = (
        select(
            Response.id,
            Response.unit_code,
            Response.submitted_at,
            Answer.question_id,
            answer if numeric else Answer.value_text,
            Answer.points,
        )
        .join(Answer, Answer.response_id == Response.id)
        .where(*selection.where())
        .order_by(unit_order(units, Response.unit_code), Response.id, Answer.id)
        .execution_options(yield_per=STREAM_BATCH)
    )
    result = await db.stream(query)
    async for partition in result.partitions():
        for rid, unit, submitted_at, qid, text, points in partition:
            yield rid, unit, submitted_at, qid, answer_value(text) if qid in numeric_ids else text, points


async def text_answers(
    db: AsyncSession, selection: Selection, question_ids: Sequence[str]
) -> list[tuple[int, str, str, str]]:
    """(response id, unit code, question id, text) of the free-text answers."""
    query = (
        select(Response.id, Response.unit_code, Answer.question_id, Answer.value_text)
        .join(Response, Response.id == Answer.response_id)
        .where(*selection.where(), Answer.question_id.in_(question_ids))
        .order_by(Response.id, Answer.id)
    )
    return [(rid, unit, qid, text) for rid, unit, qid, text in (await db.execute(query)).all()]
