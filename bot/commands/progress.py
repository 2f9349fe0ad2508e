"""/tiendo [mã kỳ] [mã bảng hỏi]: progress of the current period (bot.progress) as text, a block per questionnaire
the period runs (a self-assessment: each unit's status and answered share; an individual survey: the officers who
answered, per unit; a public survey: its responses against the target, per unit, and those that came through each
of the unit's events), then the total; with a questionnaire's code, that one only. The late units and the officers
who blocked the bot are said too; admins also get a chart. An officer sees their own unit on the questionnaires
assigned to it."""

from __future__ import annotations

import asyncio

from bot import texts as t
from bot.assignments import Audience
from bot.messages import Document, Reply
from bot.progress import (
    QuestionnaireProgress,
    assessment_counts,
    blocked_officers,
    chart_figures,
    days_left_text,
    period_overview,
    period_questionnaires,
    unit_status,
)
from bot.table import Call
from conversations.answers import count_text
from conversations.engine import Outgoing
from conversations.localtime import day_text, local_date
from conversations.measures import declines_text
from exports.charts import progress_chart
from storage import repo
from storage.models import Period
from storage.queries import get_period

CLOSED_ON = "Kỳ đã đóng ngày {day}."
NO_SUCH_PERIOD = "Không có kỳ đánh giá “{code}”."
NOT_IN_PERIOD = "Kỳ {period} không có bảng hỏi “{code}”. Các bảng hỏi của kỳ: {codes}."
CLOSED_ONES = "Tiến độ của một kỳ đã đóng: /tiendo <mã kỳ>, ví dụ /tiendo 2025."
BLOCK_TITLE = "■ {title} (mã {code}) – {who}"
WHO = {
    Audience.UNIT: "mỗi đơn vị một phiếu",
    Audience.INDIVIDUAL: "mỗi cán bộ một phiếu",
    Audience.PUBLIC: "phiếu ẩn danh",
}
NOT_ASSIGNED = "Chưa giao cho đơn vị nào đang áp dụng."
LATE = "Trễ hạn, chưa nộp ({count}): {units}"
SURVEY_TARGET = "{count} phiếu đã nộp{declines}; mục tiêu {target} phiếu mỗi đơn vị, {reached}/{total} đơn vị đạt."
SURVEY_LINE = "{count}/{target} phiếu"
SURVEY_DECLINES = ", {declined} từ chối"
EVENT_LINE = "   – sự kiện sk{id} {name} ({day}): {count} phiếu"
OWN_LINK = "   – qua mã QR, đường dẫn của đơn vị: {count} phiếu"
OFFICERS_SUMMARY = "{answered}/{officers} cán bộ đã trả lời; {done}/{total} đơn vị đủ cán bộ trả lời."
OFFICERS_LINE = "{answered}/{officers} cán bộ đã trả lời"
NO_OFFICERS = "chưa có cán bộ dùng bot"
TOTAL = "Tổng cộng {count} bảng hỏi: {parts}."
TOTAL_UNIT = "tự đánh giá {counted}/{due} phiếu đơn vị đã nộp"
TOTAL_INDIVIDUAL = "{answered}/{officers} phiếu cán bộ"
TOTAL_PUBLIC = "{count} phiếu ẩn danh"
BLOCKED = "Đã chặn bot nên không nhận được tin nhắc ({count}): {names}"
USAGE = "Dùng: /tiendo [mã kỳ] [mã bảng hỏi]"


async def progress(call: Call) -> list[Reply]:
    service = call.service
    db = call.db
    role = call.role
    codes = [a for a in call.args if a not in service.questionnaires]
    named = [a for a in call.args if a in service.questionnaires]
    if len(codes) > 1 or len(named) > 1:
        return [Outgoing(USAGE)]
    period = await get_period(db, codes[0]) if codes else await repo.current_period(db)
    if period is None and codes:
        return [Outgoing(NO_SUCH_PERIOD.format(code=codes[0]))]
    if period is None:
        return [Outgoing(role.pick(t.NO_PERIOD, admin=t.NO_PERIOD_ADMIN) + "\n" + CLOSED_ONES)]
    running = await period_questionnaires(service, db, period, tuple(Audience))
    if not running:
        return [Outgoing(role.pick(t.NO_QUESTIONNAIRE, admin=t.NO_QUESTIONNAIRE_ADMIN))]
    qn = next((q for q in running if q.id in named), None)
    if named and qn is None:
        said = ", ".join(q.id for q in running)
        return [Outgoing(NOT_IN_PERIOD.format(period=period.code, code=named[0], codes=said))]
    found = await period_overview(service, db, period, None if role.is_admin else role.unit_code, qn)
    today = local_date(service.clock())
    target = service.settings.survey_target
    header = [
        t.PROGRESS_TITLE.format(period=period.code, deadline=day_text(period.deadline)),
        CLOSED_ON.format(day=day_text(local_date(period.closed_at)))
        if period.closed_at is not None and not period.is_open
        else days_left_text(period.deadline, today),
    ]
    blocked_names = await blocked_officers(db) if role.is_admin else []
    if blocked_names:
        header.append(BLOCKED.format(count=len(blocked_names), names=", ".join(blocked_names)))
    blocks = ["\n".join(_block(p, target, today > period.deadline)) for p in found]
    if len(found) > 1:
        blocks.append(_total(found))
    text = Outgoing("\n\n".join(["\n".join(header), *blocks]))
    if not role.is_admin:
        return [text]
    _chart(call, period, found, target)
    return [text]


def _block(p: QuestionnaireProgress, target: int, late_day: bool) -> list[str]:
    lines = [BLOCK_TITLE.format(title=p.qn.shown_title, code=p.qn.id, who=WHO[p.audience])]
    if not p.units:
        return [*lines, NOT_ASSIGNED]
    if p.audience is Audience.UNIT:
        lines.append(assessment_counts(p.assessment))
        late = [u.unit.name for u in p.assessment if not u.counted] if late_day else []
        if late:
            lines.append(LATE.format(count=len(late), units=", ".join(late)))
        return lines + [t.PROGRESS_LINE.format(unit=u.unit.name, status=unit_status(u)) for u in p.assessment]
    if p.audience is Audience.INDIVIDUAL:
        counts = [p.officers(u.code) for u in p.units]
        done = sum(0 < officers == answered for answered, officers in counts)
        lines.append(
            OFFICERS_SUMMARY.format(
                answered=sum(a for a, _ in counts), officers=sum(o for _, o in counts), done=done, total=len(p.units)
            )
        )
        return lines + [
            t.PROGRESS_LINE.format(
                unit=u.name,
                status=OFFICERS_LINE.format(answered=answered, officers=officers) if officers else NO_OFFICERS,
            )
            for u, (answered, officers) in zip(p.units, counts, strict=True)
        ]
    assert p.survey is not None
    counted = [p.survey.of(u.code) for u in p.units]
    responses, declined = sum(n for n, _ in counted), sum(d for _, d in counted)
    lines.append(
        SURVEY_TARGET.format(
            count=count_text(responses),
            declines=declines_text(responses, declined),
            target=target,
            reached=sum(n >= target for n, _ in counted),
            total=len(p.units),
        )
    )
    for u, (n, d) in zip(p.units, counted, strict=True):
        status = SURVEY_LINE.format(count=count_text(n), target=target) + (
            SURVEY_DECLINES.format(declined=d) if d else ""
        )
        lines.append(t.PROGRESS_LINE.format(unit=u.name, status=status))
        held = p.survey.events_of(u.code)
        for event, came in held:
            lines.append(
                EVENT_LINE.format(id=event.id, name=event.name, day=day_text(event.held_on), count=count_text(came))
            )
        if held:
            lines.append(OWN_LINK.format(count=count_text(n - sum(came for _, came in held))))
    return lines


def _total(found: list[QuestionnaireProgress]) -> str:
    parts = []
    units = [u for p in found if p.audience is Audience.UNIT for u in p.assessment]
    if units:
        parts.append(TOTAL_UNIT.format(counted=sum(u.counted for u in units), due=len(units)))
    individual = [p for p in found if p.audience is Audience.INDIVIDUAL]
    if individual:
        answered = sum(len(v) for p in individual for v in p.answered.values())
        pending = sum(len(v) for p in individual for v in p.pending.values())
        parts.append(TOTAL_INDIVIDUAL.format(answered=answered, officers=answered + pending))
    public = [p for p in found if p.survey is not None]
    if public:
        parts.append(
            TOTAL_PUBLIC.format(count=sum(p.survey.of(u.code)[0] for p in public if p.survey for u in p.units))
        )
    return TOTAL.format(count=len(found), parts="; ".join(parts))


def _chart(call: Call, period: Period, found: list[QuestionnaireProgress], target: int) -> None:
    figures = chart_figures(found)
    if figures is None:
        return
    counts, surveyed = figures
    code = period.code

    async def chart() -> list[Reply]:
        drawn = await asyncio.to_thread(progress_chart, counts, surveyed, f"Tiến độ kỳ {code}", target)
        return [Document(f"tien-do-{code}.png", drawn, f"Biểu đồ tiến độ kỳ {code}", "image/png")]

    call.after(chart)
