"""Progress of the current period: each unit's self-assessment and the citizens' responses; admins also get
it as a chart."""

from __future__ import annotations

import asyncio

from bot import texts as t
from bot.commands import Call, command
from bot.service import Document, Reply
from conversations import engine
from conversations.answers import number_text
from conversations.definition import Questionnaire
from conversations.engine import Outgoing
from conversations.text import vi_sort_key
from exports.charts import progress_chart
from exports.queries import Selection, submitted_counts
from exports.results import STATUS_LABELS
from storage import repo
from storage.models import Response


def unit_status(qn: Questionnaire, response: Response | None) -> str:
    if response is None:
        return t.STATUS_MISSING
    if response.status == "submitted":
        return t.STATUS_SUBMITTED.format(points=number_text(response.total_points or 0))
    asked = engine.review_items(qn, response.state)
    answered = sum(1 for q in asked if q.id in response.state["answers"])
    return t.STATUS_DRAFT.format(answered=answered, total=len(asked))


@command("tiendo", words=("tien do",))
async def progress(call: Call) -> list[Reply]:
    service = call.service
    qn, survey = service.of_kind("self_assessment"), service.of_kind("citizen_survey")
    async with service.db.read() as db:
        role = await service.role(db, call.sender)
        if not role.is_admin and role.unit_code is None:
            return [Outgoing(t.ADMIN_ONLY)]
        period = await repo.current_period(db)
        if period is None or qn is None:
            return [Outgoing(t.NO_PERIOD)]
        units = await repo.units_in_force(db, service.clock().date())
        if not role.is_admin:
            units = [u for u in units if u.code == role.unit_code]
        assessments = {r.unit_code: r for r in await repo.responses(db, qn.id, period.code)}
        survey_counts = await submitted_counts(db, Selection(survey.id, period.code)) if survey else {}
    lines = []
    units = sorted(units, key=lambda u: vi_sort_key(u.name))
    for unit in units:
        status = unit_status(qn, assessments.get(unit.code))
        if survey_counts.get(unit.code):
            status += "; " + t.STATUS_SURVEYS.format(count=survey_counts[unit.code])
        lines.append(t.PROGRESS_LINE.format(unit=unit.name, status=status))
    statuses = [a.status for u in units if (a := assessments.get(u.code)) is not None]
    submitted, drafts = statuses.count("submitted"), statuses.count("draft")
    header = [
        t.PROGRESS_TITLE.format(period=period.code, deadline=period.deadline.strftime("%d/%m/%Y")),
        t.PROGRESS_SUMMARY.format(
            submitted=submitted, total=len(units), drafts=drafts, missing=len(units) - submitted - drafts
        ),
        t.PROGRESS_SURVEY.format(count=sum(survey_counts.get(u.code, 0) for u in units)),
        "",
    ]
    text = Outgoing("\n".join(header + lines))
    if not role.is_admin:
        return [text]
    counts = {STATUS_LABELS["submitted"]: submitted, STATUS_LABELS["draft"]: drafts}
    counts[STATUS_LABELS[None]] = len(units) - submitted - drafts
    surveyed = [(u.name, survey_counts.get(u.code, 0)) for u in units]
    chart = await asyncio.to_thread(progress_chart, counts, surveyed, f"Tiến độ kỳ {period.code}")
    return [text, Document(f"tien-do-{period.code}.png", chart, f"Biểu đồ tiến độ kỳ {period.code}", "image/png")]
