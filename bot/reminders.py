"""Reminders to the officers of units that have something left to submit, and the admins' morning digest, written
from the period's progress (bot.progress) per questionnaire and queued through the outbox, once per key: by the
scheduler at set times (bot.scheduler) or by an admin with /nhacnho [mã đơn vị].

What a unit has left (`Due`): each self-assessment assigned to it that is not submitted, said with where it stands
("chưa nộp Bộ tiêu chí TT 03/2018; Khung tiêu chí thí điểm đang làm, đã trả lời 12/40 câu"), which every officer
of the unit is told; and each individual survey an officer has not answered, which only that officer is told."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot.assignments import Audience
from bot.outbox import admin_recipients, notify, recipients
from bot.progress import QuestionnaireProgress, UnitProgress, assessment_counts, days_left_text, period_overview
from conversations.definition import Questionnaire
from conversations.localtime import day_text, local_date
from conversations.status import Status
from storage import repo
from storage.models import Account, Period, Unit

if TYPE_CHECKING:
    from bot.service import BotService

REMINDER = "Nhắc việc kỳ {period} – {unit}: {missing}. Hạn nộp: {deadline}. {left}\nGõ /danhgia để làm tiếp."
NOT_STARTED = "chưa nộp {title}"
DRAFTING = "{title} đang làm, đã trả lời {answered}/{asked} câu"
RETURNED = "{title} bị trả lại, đang sửa"
OWN = "{title}: phiếu của riêng anh/chị chưa nộp"
OWN_PENDING = "{title}: {count} cán bộ chưa trả lời"
DIGEST = "Tóm tắt ngày {day} – kỳ {period}, hạn nộp {deadline}. {left}"
DIGEST_LINE = "{title}: {counts}"
DIGEST_OFFICERS = "{answered}/{officers} cán bộ đã trả lời."
DIGEST_SURVEY = "{count} phiếu."
DIGEST_MISSING = "Chưa nộp:"
DIGEST_UNIT = "• {unit}: {missing}"
DIGEST_FOOTER = "Gõ /tiendo để xem chi tiết, /nhacnho để nhắc các đơn vị chưa nộp."


@dataclass(frozen=True)
class Due:
    """A unit in a period: where each self-assessment assigned to it stands, and for each individual survey
    assigned to it, its officers who have not answered."""

    unit: Unit
    assessments: list[tuple[Questionnaire, UnitProgress]] = field(default_factory=list)
    own: list[tuple[Questionnaire, list[Account]]] = field(default_factory=list)

    @property
    def missing(self) -> list[tuple[Questionnaire, UnitProgress]]:
        return [(qn, p) for qn, p in self.assessments if not p.counted]

    @property
    def done(self) -> bool:
        return not self.missing and not any(pending for _, pending in self.own)

    def shared(self) -> list[str]:
        """What every officer of the unit is told is missing."""
        return [missing_text(qn, p) for qn, p in self.missing]

    def of(self, officer: Account) -> list[str]:
        """What one officer is told is missing: the unit's, then their own."""
        own = [OWN.format(title=qn.shown_title) for qn, pending in self.own if any(o.id == officer.id for o in pending)]
        return self.shared() + own

    def summary(self) -> list[str]:
        """What is missing, for the admins: the unit's, then how many officers have not answered."""
        pending = [OWN_PENDING.format(title=qn.shown_title, count=len(p)) for qn, p in self.own if p]
        return self.shared() + pending


def missing_text(qn: Questionnaire, p: UnitProgress) -> str:
    if p.response is None:
        return NOT_STARTED.format(title=qn.shown_title)
    if p.status is Status.RETURNED:
        return RETURNED.format(title=qn.shown_title)
    return DRAFTING.format(title=qn.shown_title, answered=p.answered, asked=p.asked)


async def dues(service: BotService, db: AsyncSession, period: Period, only: str | None = None) -> list[Due]:
    """Each unit in force (or only one) that the period gives a self-assessment or an individual survey, in
    Vietnamese order."""
    return dues_of(await period_overview(service, db, period, only))


def dues_of(overview: list[QuestionnaireProgress]) -> list[Due]:
    found: dict[str, Due] = {}
    for p in overview:
        if p.audience is Audience.UNIT:
            for u in p.assessment:
                found.setdefault(u.unit.code, Due(u.unit)).assessments.append((p.qn, u))
        elif p.audience is Audience.INDIVIDUAL:
            for unit in p.units:
                found.setdefault(unit.code, Due(unit)).own.append((p.qn, p.pending.get(unit.code, [])))
    order = {u.code: i for i, u in enumerate(repo.in_unit_order(d.unit for d in found.values()))}
    return sorted(found.values(), key=lambda d: order[d.unit.code])


async def queue_reminders(
    service: BotService, db: AsyncSession, period: Period, key: str | None, only: str | None = None
) -> tuple[int, list[str], list[str]]:
    """Queue a reminder for each officer who has something missing, in each unit (or only one); with a key, each
    officer gets that reminder once, however often and by however many processes this runs. Returns the messages
    queued, the units reminded and the units that have nobody to remind."""
    now = service.clock()
    left = days_left_text(period.deadline, local_date(now))
    queued, reminded, nobody = 0, [], []
    for due in await dues(service, db, period, only):
        if due.done:
            continue
        officers = await repo.officers_of(db, due.unit.code)
        if not officers:
            nobody.append(due.unit.name)
            continue
        for officer in officers:
            missing = due.of(officer)
            if not missing:
                continue
            text = REMINDER.format(
                period=period.code,
                unit=due.unit.name,
                missing="; ".join(missing),
                deadline=day_text(period.deadline),
                left=left,
            )
            queued += await notify(db, recipients([officer]), "reminder", text, now, key)
        reminded.append(due.unit.name)
    return queued, reminded, nobody


async def queue_digest(service: BotService, db: AsyncSession, period: Period, key: str) -> int:
    """Queue the morning digest of the period for every admin, once per key: each questionnaire's figures, then
    what each unit has left."""
    now = service.clock()
    lines = [
        DIGEST.format(
            day=day_text(now),
            period=period.code,
            deadline=day_text(period.deadline),
            left=days_left_text(period.deadline, local_date(now)),
        )
    ]
    overview = await period_overview(service, db, period)
    for p in overview:
        if p.audience is Audience.UNIT:
            counts = assessment_counts(p.assessment)
        elif p.audience is Audience.INDIVIDUAL:
            answered = sum(len(v) for v in p.answered.values())
            counts = DIGEST_OFFICERS.format(answered=answered, officers=answered + sum(map(len, p.pending.values())))
        else:
            assert p.survey is not None
            counts = DIGEST_SURVEY.format(count=sum(p.survey.of(u.code)[0] for u in p.units))
        lines.append(DIGEST_LINE.format(title=p.qn.shown_title, counts=counts))
    missing = [d for d in dues_of(overview) if not d.done]
    if missing:
        lines.append(DIGEST_MISSING)
        lines += [DIGEST_UNIT.format(unit=d.unit.name, missing="; ".join(d.summary())) for d in missing]
    lines.append(DIGEST_FOOTER)
    return await notify(db, await admin_recipients(db, service.admins), "digest", "\n".join(lines), now, key)
