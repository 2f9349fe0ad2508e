"""Reviewing a unit's self-assessment: what an admin sees, approving it or returning it on some criteria (the review
kept, the officers told), and the unit's new submission (kept as history, old → new, and told to the admin who
returned it). /xem, /duyet and /tralai (bot/commands/review.py) read the words and call these."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import assignments
from bot.outbox import Recipient, notify, recipients
from conversations import engine
from conversations.answers import display, number_text
from conversations.definition import Question, Questionnaire, answer_line, question_header, supporting
from conversations.localtime import local_time
from conversations.measures import Rate, SurveyFigures
from conversations.scoring import question_points, score
from conversations.status import LABELS, Status
from conversations.text import fold
from storage import repo
from storage.models import Account, Answer, Evidence, Response, Review, Unit

RETURN_USAGE = (
    "Gõ /tralai <mã đơn vị> <mã tiêu chí…> <ghi chú>, ví dụ:\n"
    "/tralai 16012 N1.2 Thiếu minh chứng kế hoạch\n"
    "Nhiều tiêu chí, mỗi tiêu chí một ghi chú, ngăn cách bằng dấu chấm phẩy:\n"
    "/tralai 16012 N1.2: thiếu kế hoạch; N4.1: tỉ lệ chưa khớp báo cáo"
)
NO_CRITERION = "Không thấy mã tiêu chí ở đầu “{part}”. Các mã tiêu chí: {codes}."
NO_NOTE = "Hãy ghi lý do trả lại cho {codes}, để đơn vị biết cần sửa gì."
HIDDEN_CRITERION = "Tiêu chí {code} không có trong phiếu của đơn vị (câu này không được hỏi theo các câu trả lời)."
RETURNED_NOTICE = (
    "Phòng Tư pháp trả lại phiếu tự đánh giá{named} kỳ {period} của {unit} để sửa {count} tiêu chí:\n{items}\n"
    "Gõ /danhgia để sửa ngay các câu này (các câu khác giữ nguyên), rồi nộp lại."
)
APPROVED_NOTICE = "Phiếu tự đánh giá{named} kỳ {period} của {unit} đã được Phòng Tư pháp duyệt.{points}"
TOTAL = " Tổng điểm: {points}."
RESUBMITTED_NOTICE = (
    "{unit} đã nộp lại phiếu tự đánh giá{named} kỳ {period} (bạn trả lại lúc {returned}).{points}\n"
    "{changes}\nGõ /xem {code} để xem, /duyet {code} để duyệt."
)
NO_CHANGES = "Không có câu trả lời nào thay đổi."
CHANGES = "Đã sửa {count} câu:"


def naming(qn: Questionnaire, several: bool) -> str:
    """(' “Khung tiêu chí thí điểm” (tu-danh-gia-thi-diem)', or nothing) The self-assessment named in what is said
    about it, to the admin or the officers, when its unit has several in the period."""
    return f" “{qn.shown_title}” ({qn.id})" if several else ""


async def assessments_of(
    db: AsyncSession, questionnaires: Mapping[str, Questionnaire], period: str, unit: Unit
) -> list[Questionnaire]:
    """The unit's self-assessments in the period (one shared draft each)."""
    return await assignments.for_unit(db, questionnaires, period, unit, assignments.Audience.UNIT)


async def has_several(db: AsyncSession, questionnaires: Mapping[str, Questionnaire], period: str, unit: Unit) -> bool:
    """Whether what is said about one of the unit's self-assessments must name it (`naming`)."""
    return len(await assessments_of(db, questionnaires, period, unit)) > 1


def total_said(response: Response, said: str = TOTAL) -> str:
    """`said` with the response's total points, or nothing for a framework without points (the pilot's template)."""
    return said.format(points=number_text(response.total_points)) if response.total_points is not None else ""


def criteria(qn: Questionnaire) -> list[Question]:
    """The questions a return can name: those with a criterion code."""
    return [q for q in qn.questions if q.answerable and q.code]


def parse_return(qn: Questionnaire, asked: Collection[str], words: Sequence[str]) -> dict[str, str] | str:
    """The criteria flagged and the note on each, from "N1.2 N4.1 note" or "N1.2: note; N4.1: note"; or what is
    wrong with the words, in Vietnamese. `asked` are the questions the unit's answers showed."""
    by_code = {fold(q.code or ""): q for q in criteria(qn)}
    codes = ", ".join(q.code or "" for q in criteria(qn) if q.id in asked)
    flagged: dict[str, str] = {}
    for part in (p.strip() for p in re.split(r"[;\n]", " ".join(words))):
        if not part:
            continue
        tokens, found = part.split(), []
        while tokens and fold(tokens[0].strip(",:")) in by_code:
            found.append(by_code[fold(tokens.pop(0).strip(",:"))])
        note = " ".join(tokens).lstrip(":-– ").strip()
        if not found:
            return NO_CRITERION.format(part=part, codes=codes)
        if not note:
            return NO_NOTE.format(codes=", ".join(q.code or "" for q in found))
        for q in found:
            if q.id not in asked:
                return HIDDEN_CRITERION.format(code=q.code)
            flagged[q.id] = note
    return flagged or RETURN_USAGE


def reopened(qn: Questionnaire, flagged: Collection[str]) -> list[str]:
    """The questions to go through again: the flagged criteria and the questions backing them (date, evidence)."""
    backing = supporting(qn)
    return [q.id for q in qn.questions if q.id in flagged or backing.get(q.id) in flagged]


def flagged_lines(qn: Questionnaire, items: Sequence[dict[str, str]]) -> list[str]:
    return [
        f"• {question_header(qn, i['question_id']) if qn.has(i['question_id']) else i['code']}: {i['note']}"
        for i in items
    ]


def submission_text(
    qn: Questionnaire,
    unit: Unit,
    period: str,
    response: Response,
    files: Sequence[Evidence],
    reviews: Sequence[Review],
    changed: int,
    figures: SurveyFigures | None = None,
    verified: Sequence[str] = (),
    notes: Mapping[str, str] | None = None,
) -> str:
    """A unit's self-assessment as an admin reads it: status, points by group, each answer with its points, and the
    evidence sent for it; beside the self-score, the score and figures the citizen survey gives now; the Justice
    Office's scoring (`verified`: its lines, bot.verification.summary) and, beside each criterion, `notes`."""
    answers = response.state["answers"]
    card = score(qn, answers)
    status = LABELS[response.status]
    lines = [f"Phiếu tự đánh giá kỳ {period} – {unit.name} ({unit.code})", f"Trạng thái: {status}"]
    if response.submitted_at is not None:
        lines.append(f"Nộp lúc: {local_time(response.submitted_at)}")
    if reviews:
        last = reviews[-1]
        verb = "Trả lại" if last.action == "returned" else "Duyệt"
        lines.append(f"{verb} lúc {local_time(last.at)}" + ("; các tiêu chí:" if last.action == "returned" else ""))
        if last.action == "returned":
            lines += flagged_lines(qn, last.items)
    if changed:
        lines.append(f"Số lần sửa câu trả lời sau lần nộp đầu: {changed} (xem /xuat nhatky).")
    if qn.scored:  # a framework without points (the pilot's template) has no total
        lines += ["", total_text(qn, answers, figures)]
        lines += [f"• {g.code}: {number_text(g.points)}/{number_text(g.maximum)}" for g in card.groups]
    if verified:
        lines += ["", *verified]
    lines.append("")
    by_question: dict[str, list[Evidence]] = {}
    for f in files:
        by_question.setdefault(f.question_id, []).append(f)
    for number, q in enumerate(engine.review_items(qn, response.state), start=1):
        value = answers.get(q.id)
        if q.kind.files:
            sent = by_question.get(q.id, [])
            names = ", ".join(f.name or ("ảnh" if f.kind == "photo" else "tệp") for f in sent)
            shown = f"{len(sent)} tệp minh chứng" + (f" ({names})" if names else "") if sent else "(không có tệp)"
        else:
            shown = engine.survey_answer_text(response.state, q, display(q, value)) if value is not None else "(bỏ qua)"
        points = ""
        if q.scored and value is not None:
            points = f" – {number_text(question_points(q, value) or 0)}/{number_text(q.max_points)} điểm"
        beside = survey_now(q, value, figures) + (notes or {}).get(q.id, "")
        lines.append(f"{number}. {answer_line(question_header(qn, q.id), shown)}{points}{beside}")
    return "\n".join(lines)


def total_text(qn: Questionnaire, answers: Mapping[str, object], figures: SurveyFigures | None) -> str:
    """The self-score's total and, beside it, the total by the citizen survey's figures today (or why there is none)."""
    card = score(qn, answers)
    total = f"Tổng điểm: {number_text(card.total)}/{number_text(card.maximum)} (tự chấm)"
    if figures is not None:
        replaced = figures.answers(qn, answers)
        survey_total = number_text(score(qn, replaced).total) if replaced is not None else None
        total += f" · theo khảo sát người dân: {survey_total}/{number_text(card.maximum)}" if survey_total else ""
        missing = "đang được ẩn" if figures.hidden else f"chưa đủ {figures.minimum} phiếu"
        total += "" if survey_total else f" · theo khảo sát người dân: {missing}"
    return total


def return_items(qn: Questionnaire, flagged: Mapping[str, str]) -> list[dict[str, str]]:
    """The criteria a return names, as the review keeps them: question, criterion code, note."""
    return [{"question_id": q, "code": qn.question(q).code or q, "note": note} for q, note in flagged.items()]


async def approve(
    db: AsyncSession, unit: Unit, response: Response, account: Account, now: datetime, named: str = ""
) -> int:
    """Approve a submitted self-assessment: the review is kept and the unit's officers are told (how many), the
    questionnaire `named` (`naming`) when the unit has several."""
    response.status = Status.APPROVED
    await repo.add_review(
        db,
        Review(response_id=response.id, action="approved", by_account=account.id, at=now, items=[], question_ids=[]),
    )
    points = total_said(response)
    notice = APPROVED_NOTICE.format(named=named, period=response.period_code, unit=unit.name, points=points)
    return await notify(db, recipients(await repo.officers_of(db, unit.code)), "approved", notice, now)


async def send_back(
    db: AsyncSession,
    qn: Questionnaire,
    unit: Unit,
    response: Response,
    items: Sequence[dict[str, str]],
    account: Account,
    now: datetime,
    named: str = "",
) -> int:
    """Return a submitted self-assessment on some criteria: it opens again at them and the questions backing them,
    the review is kept and the unit's officers are told, with the notes (how many), the questionnaire `named`
    (`naming`) when the unit has several."""
    response.status = Status.RETURNED
    flagged = [item["question_id"] for item in items]
    await repo.add_review(
        db,
        Review(
            response_id=response.id,
            action="returned",
            by_account=account.id,
            at=now,
            items=list(items),
            question_ids=reopened(qn, flagged),
        ),
    )
    lines = "\n".join(flagged_lines(qn, items))
    said = {"period": response.period_code, "unit": unit.name, "count": len(items), "items": lines}
    notice = RETURNED_NOTICE.format(named=named, **said)
    return await notify(db, recipients(await repo.officers_of(db, unit.code)), "returned", notice, now)


def survey_now(q: Question, value: object, figures: SurveyFigures | None) -> str:
    """(" | …", or nothing) A survey-measured criterion's figure and points by the survey today, beside the unit's
    own when they differ."""
    if figures is None or q.measured_by is None:
        return ""
    rate = figures.usable(q.id)
    if rate is not None and rate.percent == value:
        return ""
    if q.id in figures.hidden:
        return " | số liệu khảo sát đang được ẩn"
    if rate is None or rate.percent is None:
        return f" | khảo sát hiện có {figures.rates.get(q.id, Rate(None, 0)).base} phiếu, chưa đủ {figures.minimum}"
    points = f"{number_text(question_points(q, rate.percent) or 0)}/{number_text(q.max_points)}"
    return f" | theo {rate.base} phiếu khảo sát: {number_text(rate.percent)} % – {points} điểm"


async def resubmitted(
    db: AsyncSession,
    questionnaires: Mapping[str, Questionnaire],
    qn: Questionnaire,
    response: Response,
    answers: Sequence[Answer],
    evidence: Sequence[Evidence],
    account: Account | None,
    now: datetime,
) -> None:
    """A returned self-assessment submitted again: keep what changed (old → new), close the return, and tell the
    admin who returned it (naming the questionnaire, and giving its code in the commands, when the unit has several
    in the period; `questionnaires`: the versions in use)."""
    changes = await repo.replace_submission(db, response, answers, evidence, account.id if account else None, now)
    returned = await repo.open_return(db, response.id)
    if returned is None:
        return
    returned.resolved_at = now
    admin, unit = await db.get(Account, returned.by_account), await repo.get_unit(db, response.unit_code)
    if admin is None or unit is None:
        return
    lines = [CHANGES.format(count=len(changes))] if changes else [NO_CHANGES]
    for change in changes:
        title = question_header(qn, change.question_id) if qn.has(change.question_id) else change.question_id
        lines.append(f"• {title}: {change.old_text or '(trống)'} → {change.new_text or '(trống)'}")
    many = await has_several(db, questionnaires, response.period_code, unit)
    text = RESUBMITTED_NOTICE.format(
        named=naming(qn, many),
        unit=unit.name,
        period=response.period_code,
        returned=local_time(returned.at),
        points=total_said(response),
        changes="\n".join(lines),
        code=f"{unit.code} {qn.id}" if many else unit.code,
    )
    await notify(db, [Recipient.of(admin)], "resubmitted", text, now)


async def reopen_returned(
    db: AsyncSession,
    qn: Questionnaire,
    response: Response,
    now: datetime,
    who: engine.Participant,
    figures: SurveyFigures | None = None,
) -> engine.Step:
    """Where an officer lands on opening a returned self-assessment: straight at the flagged criteria the first time
    (with the reviewer's notes), where they left off afterwards."""
    returned = await repo.open_return(db, response.id)
    if returned is None or engine.phase(response.state) != "submitted":
        step = engine.resume(qn, response.state, who, figures)
    else:
        notes = {item["question_id"]: item["note"] for item in returned.items}
        step = engine.reopen(qn, response.state, returned.question_ids, notes, now, who, figures)
    response.state, response.updated_at = engine.as_stored(step.state), now
    return step
