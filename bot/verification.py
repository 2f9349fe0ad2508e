"""The Justice Office's own scoring of a submitted self-assessment (thẩm định): verified points per criterion (a
reason when they differ from the self-score), accepting the remaining self-scores (the survey's score where the
criterion is measured by the survey), finalising (locked, the officers told the result and each changed criterion
with its reason), re-opening, and the officers' explanations (giải trình) on lowered criteria. The arithmetic is
conversations.verification's; /chamdiem, /chot and /giaitrinh (bot/commands/verification.py) read the words and
call these; /xem shows `lines`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox import notify, recipients
from conversations import messages as m
from conversations.answers import number_text, read_number
from conversations.definition import Questionnaire, question_header
from conversations.engine import FileRef
from conversations.localtime import local_time
from conversations.measures import SurveyFigures
from conversations.scoring import level, places
from conversations.status import scoring_label
from conversations.text import fold, vi_sort_key
from conversations.verification import Criterion, Verified, verify
from storage import repo
from storage.models import Account, Evidence, Explanation, Response, Unit, Verification, VerifiedPoints
from storage.queries import explanations, finalised_totals, verifications, verified_points

NO_CRITERION = "Không có tiêu chí chấm điểm “{code}” trong phiếu của {unit}. Các tiêu chí: {codes}."
BAD_POINTS = "Điểm “{text}” không hợp lệ: tiêu chí {code} được chấm từ 0 đến {maximum} điểm."
REASON_NEEDED = (
    "Điểm {points} khác điểm tự chấm ({own}) của tiêu chí {code}: hãy ghi lý do, ví dụ:\n"
    "/chamdiem {unit} {code} {points} Thiếu minh chứng"
)
SURVEY_REASON = "Theo khảo sát người dân: {points} điểm"
FINAL_NOTICE = (
    "Phòng Tư pháp đã chốt kết quả thẩm định phiếu tự đánh giá{named} kỳ {period} của {unit}: "
    "{verified}/{maximum} điểm (tự chấm {own})."
)
CHANGED_LINES = "Các tiêu chí được chấm khác điểm tự chấm:"
NO_CHANGE = "Mọi tiêu chí giữ nguyên điểm tự chấm."
REOPENED_NOTICE = (
    "Phòng Tư pháp mở lại việc thẩm định phiếu tự đánh giá{named} kỳ {period} của {unit} ({reason}). "
    "Kết quả sẽ được báo lại khi chốt."
)


@dataclass
class Scoring:
    """A response's verification as stored and worked out."""

    result: Verified
    rows: dict[str, VerifiedPoints]
    state: Verification | None
    explained: dict[str, Explanation]

    @property
    def finalised(self) -> bool:
        return self.state is not None and self.state.finalised


async def scoring(db: AsyncSession, qn: Questionnaire, response: Response, figures: SurveyFigures | None) -> Scoring:
    rows = (await verified_points(db, [response.id])).get(response.id, {})
    state = (await verifications(db, [response.id])).get(response.id)
    explained = (await explanations(db, [response.id])).get(response.id, {})
    result = verify(qn, response.state["answers"], {q: r.points for q, r in rows.items()}, figures)
    return Scoring(result, rows, state, explained)


async def is_finalised(db: AsyncSession, response: Response) -> bool:
    """Whether the response's verified result is finalised (locked: no return, no new points)."""
    state = (await verifications(db, [response.id])).get(response.id)
    return state is not None and state.finalised


def find(found: Scoring, code: str, unit: Unit) -> Criterion | str:
    """The scored criterion with this code, or what to tell the admin."""
    criterion = next((c for c in found.result.criteria if fold(c.question.code or c.question.id) == fold(code)), None)
    if criterion is not None:
        return criterion
    codes = ", ".join(sorted((c.question.code or c.question.id for c in found.result.criteria), key=vi_sort_key))
    return NO_CRITERION.format(code=code, unit=unit.name, codes=codes)


def read_points(criterion: Criterion, text: str) -> float | str:
    """Points typed for a criterion (0 to its maximum, a decimal comma allowed), or what is wrong with them."""
    points = read_number(text)
    if points is None or not 0 <= points <= criterion.maximum:
        code = criterion.question.code or criterion.question.id
        return BAD_POINTS.format(text=text, code=code, maximum=number_text(criterion.maximum))
    return points


def needs_reason(criterion: Criterion, points: float, reason: str, unit_code: str) -> str | None:
    """What to tell the admin when points differing from the self-score come without a reason."""
    if reason or abs(points - criterion.self_points) < 1e-9:
        return None
    code = criterion.question.code or criterion.question.id
    shown = number_text(points)
    return REASON_NEEDED.format(points=shown, own=number_text(criterion.self_points), code=code, unit=unit_code)


async def set_points(
    db: AsyncSession,
    found: Scoring,
    response: Response,
    question_id: str,
    points: float,
    reason: str | None,
    account: Account,
    now: datetime,
) -> None:
    """Keep the verified points of one criterion (the scoring begins with the first)."""
    if found.state is None:
        state = Verification(response_id=response.id, started_at=now, finalised=False)
        db.add(state)
        found.state = state
    row = found.rows.get(question_id)
    if row is None:
        row = VerifiedPoints(response_id=response.id, question_id=question_id)
        db.add(row)
        found.rows[question_id] = row
    row.points, row.reason, row.by_account, row.at = points, reason or None, account.id, now
    await db.flush()


def accepted(criterion: Criterion) -> tuple[float, str | None]:
    """What accepting a criterion gives: the survey's points where it is measured by the survey (with that as the
    reason when they differ from the self-score), else the self-score."""
    points = criterion.proposed
    if abs(points - criterion.self_points) < 1e-9:
        return points, None
    return points, SURVEY_REASON.format(points=number_text(points))


def level_line(qn: Questionnaire, found: Scoring) -> list[str]:
    """The level the verified total reaches ("Xếp loại: Tốt"), when the questionnaire has levels."""
    if not qn.classification:
        return []
    return [m.LEVEL.format(level=level(qn, found.result.verified_total) or "—")]


async def rank_line(db: AsyncSession, found: Scoring, response: Response) -> list[str]:
    """Once finalised, the unit's rank among the period's finalised results on their verified totals ("Hạng 2/5 theo
    điểm thẩm định"), ranked as the exports rank them (conversations.scoring.places)."""
    if not found.finalised:
        return []
    ranks = places(await finalised_totals(db, response.questionnaire_id, response.period_code))
    rank = ranks.get(response.id)
    return [m.RANK.format(rank=rank, of=len(ranks), period=response.period_code)] if rank is not None else []


async def finalise(
    db: AsyncSession,
    found: Scoring,
    qn: Questionnaire,
    unit: Unit,
    response: Response,
    account: Account,
    now: datetime,
    named: str = "",
) -> int:
    """Lock the verified result and tell the unit's officers (how many): the totals, the level and each changed
    criterion, the questionnaire `named` (bot.review.naming) when the unit has several."""
    assert found.state is not None
    result = found.result
    state = found.state
    state.finalised, state.finalised_by, state.finalised_at = True, account.id, now
    state.total = result.verified_total
    await db.flush()
    lines = [
        FINAL_NOTICE.format(
            named=named,
            period=response.period_code,
            unit=unit.name,
            verified=number_text(result.verified_total),
            maximum=number_text(result.maximum),
            own=number_text(result.self_total),
        ),
        *level_line(qn, found),
        *await rank_line(db, found, response),
    ]
    changed = changed_lines(found)
    lines += [CHANGED_LINES, *changed] if changed else [NO_CHANGE]
    return await notify(db, recipients(await repo.officers_of(db, unit.code)), "verified", "\n".join(lines), now)


async def reopen(
    db: AsyncSession,
    found: Scoring,
    unit: Unit,
    response: Response,
    reason: str,
    account: Account,
    now: datetime,
    named: str = "",
) -> int:
    """Open a finalised result again (the reason kept) and tell the unit's officers (how many), the questionnaire
    `named` (bot.review.naming) when the unit has several."""
    assert found.state is not None
    state = found.state
    state.finalised, state.reopened_by, state.reopened_at, state.reopen_reason = False, account.id, now, reason
    await db.flush()
    notice = REOPENED_NOTICE.format(named=named, period=response.period_code, unit=unit.name, reason=reason)
    return await notify(db, recipients(await repo.officers_of(db, unit.code)), "reopened", notice, now)


async def add_explanation(
    db: AsyncSession, response: Response, question_id: str, text: str, account: Account, now: datetime
) -> Explanation:
    """Keep an officer's explanation of a lowered criterion (once: the table's key refuses a second)."""
    row = Explanation(response_id=response.id, question_id=question_id, text=text, by_account=account.id, at=now)
    db.add(row)
    await db.flush()
    return row


async def explanation(db: AsyncSession, explanation_id: int) -> Explanation | None:
    return await db.get(Explanation, explanation_id)


async def explanation_files(db: AsyncSession, response_id: int) -> list[Evidence]:
    """The files backing the officers' explanations, shaped as evidence of their criterion so /minhchung sends them
    beside the unit's evidence (never stored as evidence rows)."""
    rows = (await explanations(db, [response_id])).get(response_id, {})
    return [
        Evidence(
            id=row.id,
            response_id=response_id,
            question_id=row.question_id,
            channel=row.channel or "",
            file_id=row.file_id or "",
            kind=row.kind or "document",
            name=f"giai-trinh-{row.name or row.id}",
            mime=row.mime,
            size=row.size,
            sha256=row.sha256,
        )
        for row in rows.values()
        if row.sha256 is not None
    ]


async def attach(db: AsyncSession, row: Explanation, ref: FileRef, now: datetime) -> Explanation:
    """Keep the file (already kept by SHA-256, bot.evidence) backing an explanation."""
    row.channel, row.file_id, row.kind, row.name = ref.channel, ref.file_id, ref.kind, ref.name
    row.mime, row.size, row.sha256, row.file_at = ref.mime, ref.size, ref.sha256, now
    await db.flush()
    return row


def change_line(found: Scoring, c: Criterion) -> str:
    """A criterion's self → verified points, with the reason."""
    row = found.rows.get(c.question.id)
    reason = row.reason if row is not None else None
    code = c.question.code or c.question.id
    change = f"{number_text(c.self_points)} → {number_text(c.counted)}/{number_text(c.maximum)}"
    return f"• {code}: {change}" + (f" – {reason}" if reason else "")


def changed_lines(found: Scoring) -> list[str]:
    """Each lowered or raised criterion: self → verified, with the reason."""
    return [change_line(found, c) for c in found.result.criteria if c.lowered or c.raised]


def summary(found: Scoring, qn: Questionnaire, rank: Sequence[str] = ()) -> list[str]:
    """The scoring as /xem shows it: status, the three totals, the level and (for an admin, `rank_line`) the rank
    once finalised, each group, what is left to verify."""
    result = found.result
    label = scoring_label(found.state is not None, found.finalised)
    if found.state is not None and found.state.finalised and found.state.finalised_at is not None:
        label += f" lúc {local_time(found.state.finalised_at)}"
    elif found.state is not None and found.state.reopened_at is not None:
        label += f" (mở lại lúc {local_time(found.state.reopened_at)}: {found.state.reopen_reason})"
    survey = f" · theo khảo sát {number_text(result.survey_total)}" if result.survey_total is not None else ""
    lines = [
        f"Thẩm định: {label}",
        f"Tổng: tự chấm {number_text(result.self_total)}{survey} · thẩm định "
        f"{number_text(result.verified_total)}/{number_text(result.maximum)}",
    ]
    lines += [*level_line(qn, found), *rank] if found.finalised else []
    for g in result.groups:
        by_survey = f" · khảo sát {number_text(g.survey_points)}" if g.survey_points is not None else ""
        lines.append(
            f"• {g.code}: tự chấm {number_text(g.self_points)}{by_survey} · thẩm định {number_text(g.verified)}"
            f"/{number_text(g.maximum)}"
        )
    left = result.unverified
    if left:
        lines.append(f"Còn {len(left)} tiêu chí chưa thẩm định: {codes(left)}.")
    return lines


def criterion_note(found: Scoring, question_id: str) -> str:
    """(" | …", or nothing) A criterion's verified points, the reason and the unit's explanation, beside it in /xem
    (the survey's points are there already, bot.review.survey_now)."""
    c = found.result.criterion(question_id)
    if c is None:
        return ""
    parts = []
    if c.verified is not None:
        row = found.rows.get(question_id)
        reason = f" ({row.reason})" if row is not None and row.reason else ""
        parts.append(f"thẩm định {number_text(c.verified)}/{number_text(c.maximum)}{reason}")
    explained = found.explained.get(question_id)
    if explained is not None:
        attached = f" [kèm tệp {explained.name or 'minh chứng'}]" if explained.sha256 else ""
        parts.append(f"giải trình: {explained.text}{attached}")
    return "".join(f" | {p}" for p in parts)


def codes(criteria: Sequence[Criterion]) -> str:
    return ", ".join(c.question.code or c.question.id for c in criteria)


def headers(qn: Questionnaire, criteria: Sequence[Criterion]) -> list[str]:
    return [f"• {question_header(qn, c.question.id)}" for c in criteria]
