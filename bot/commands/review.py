"""/xem, /duyet, /tralai: an admin reads a unit's self-assessment, approves it, or returns it on some criteria.

An officer may read their own unit's; approving and returning are the Justice Office's."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, confirm, evidence, review, verification
from bot import texts as t
from bot.messages import Reply
from bot.progress import period_questionnaires
from bot.review import RETURN_USAGE, criteria, flagged_lines, parse_return, submission_text
from bot.service import BotService
from bot.table import Call
from conversations import engine
from conversations.definition import Questionnaire, supporting
from conversations.engine import Outgoing
from conversations.localtime import local_time
from conversations.status import LABELS, Status
from conversations.text import fold, vi_sort_key
from storage import repo
from storage.models import Period, Response, Unit
from storage.queries import evidence_files, get_period

SHOW_USAGE = "Gõ /xem kèm mã đơn vị, ví dụ: /xem 16012 (thêm mã kỳ để xem kỳ trước: /xem 16012 2025)."
APPROVE_USAGE = "Gõ /duyet kèm mã đơn vị, ví dụ: /duyet 16012."
OWN_UNIT_ONLY = "Bạn chỉ xem được phiếu của đơn vị mình ({unit}). Gõ /xem để xem phiếu đó."
NOT_ASSIGNED = "Kỳ {period} không giao bảng hỏi tự đánh giá nào cho {unit}."
SEVERAL = (
    "Kỳ {period}, {unit} làm {count} phiếu tự đánh giá: {listed}. Ghi mã bảng hỏi sau mã đơn vị, ví dụ: "
    "/{command} {code} {first}."
)
NOT_THIS_ONE = "Kỳ {period} không giao bảng hỏi “{named}” cho {unit}; các phiếu tự đánh giá của đơn vị: {listed}."
UNIT_NOT_FOUND = "Không tìm thấy đơn vị có mã “{code}”. Gõ /donvi để xem mã các đơn vị."
NOT_SUBMITTED = "{unit} chưa nộp phiếu tự đánh giá kỳ {period} (tình trạng: {status})."
BEING_CORRECTED = "Phiếu của {unit} đang được trả lại để sửa; chờ đơn vị nộp lại."
ALREADY_APPROVED = "Phiếu của {unit} đã được duyệt lúc {time}."
APPROVED = "Đã duyệt phiếu tự đánh giá{named} kỳ {period} của {unit}{points}. {told}"
RETURN_APPROVED = (
    "Phiếu kỳ {period} của {unit} đã được duyệt. Trả lại thì phiếu mất trạng thái đã duyệt, cán bộ phải sửa và nộp "
    "lại, và phải duyệt lại từ đầu."
)
FINALISED_NO_RETURN = (
    "Kết quả thẩm định của {unit} đã chốt nên không trả lại được; mở lại trước: /chot {code} mo lai <lý do>."
)
RETURNED = "Đã trả lại phiếu{named} của {unit} để sửa:\n{items}\n{told}"
TOLD = "Đã báo cho {count} cán bộ của đơn vị."
EVIDENCE_USAGE = "Gõ /minhchung kèm mã đơn vị, thêm mã tiêu chí nếu chỉ cần một tiêu chí, ví dụ: /minhchung 16012 N1.1."
NO_SUCH_CRITERION = "Không có tiêu chí “{code}”. Các tiêu chí: {codes}."
NO_EVIDENCE = "{where}: đơn vị không gửi tệp minh chứng nào."
EVIDENCE_HEADING = "Minh chứng của {where}: {count} tệp."
EVIDENCE_MORE = (
    "Bot gửi {sent} tệp đầu. Gõ thêm mã tiêu chí (ví dụ /minhchung {code} N1.1), hoặc /xuat minhchung {code} để nhận "
    "mọi tệp trong một tệp zip."
)
NO_OFFICER = "Đơn vị chưa có cán bộ nào dùng bot: hãy gửi mã mời (/moi {code}) hoặc báo cho đơn vị."


@dataclass(frozen=True)
class Target:
    period: Period
    unit: Unit
    qn: Questionnaire
    response: Response | None
    several: bool = False
    """The unit has several self-assessments in the period: what is said names this one."""

    @property
    def named(self) -> str:
        return review.naming(self.qn, self.several)


async def target_of(
    call: Call, code: str, period: Period, named: str | None = None, command: str = "xem"
) -> Target | str:
    """The unit's self-assessment in the period (the one named, by its code, when the unit has several), or what to
    tell the user."""
    service, db, role = call.service, call.db, call.role
    unit = await repo.get_unit(db, code)
    if not [q for q in await period_questionnaires(service, db, period) if q.kind == "self_assessment"]:
        return role.pick(t.NO_QUESTIONNAIRE, admin=t.NO_QUESTIONNAIRE_ADMIN)
    if unit is None:
        return UNIT_NOT_FOUND.format(code=code)
    shared = await review.assessments_of(db, service.questionnaires, period.code, unit)
    if not shared:
        return NOT_ASSIGNED.format(unit=unit.name, period=period.code)
    listed = ", ".join(f"{qn.short_title} ({qn.id})" for qn in shared)
    chosen = shared
    if named is not None:
        chosen = [qn for qn in shared if qn.id == named]
        if not chosen:
            return NOT_THIS_ONE.format(period=period.code, named=named, unit=unit.name, listed=listed)
    elif len(shared) > 1:
        said = {"period": period.code, "unit": unit.name, "count": len(shared), "listed": listed}
        return SEVERAL.format(command=command, code=unit.code, first=shared[0].id, **said)
    target = await _response(service, db, period, chosen[0], unit)
    return replace(target, several=len(shared) > 1)


def questionnaire_arg(call: Call, at: int) -> tuple[str | None, list[str]]:
    """The questionnaire code typed at position `at` of the arguments (when it names a loaded questionnaire), and
    the arguments without it."""
    args = list(call.args)
    if len(args) > at and args[at] in call.service.questionnaires:
        return args.pop(at), args
    return None, args


async def _response(service: BotService, db: AsyncSession, period: Period, qn: Questionnaire, unit: Unit) -> Target:
    """The unit's response to the self-assessment in the period, with the version it was started on."""
    response = await repo.find_response(db, repo.response_key(qn.id, period.code, unit.code))
    if response is not None:
        qn = await service.definition_of(db, response) or qn
    return Target(period, unit, qn, response)


async def submitted(call: Call, code: str, named: str | None, command: str) -> tuple[Target, Response] | str:
    """The unit's submitted self-assessment in the current period, to approve or return; or what to tell the admin."""
    found = await _sent(call, code, named, command)
    if isinstance(found, str):
        return found
    refused = _not_counted(found[0])
    return refused if refused is not None else found


async def _sent(call: Call, code: str, named: str | None, command: str) -> tuple[Target, Response] | str:
    """The unit's self-assessment in the current period once sent (submitted, returned or approved)."""
    period = await repo.current_period(call.db)
    if period is None:
        return t.NO_PERIOD_ADMIN
    target = await target_of(call, code, period, named, command)
    if isinstance(target, str):
        return target
    if target.response is None or target.response.status is Status.DRAFT:
        return _not_counted(target) or ""
    return target, target.response


def _not_counted(target: Target) -> str | None:
    """Why the unit's response cannot be approved or returned now; None when it can."""
    response, unit = target.response, target.unit
    if response is None or response.status is Status.DRAFT:
        status = LABELS[response.status if response else None].lower()
        if response is not None:
            answered, asked = engine.answered(target.qn, response.state)
            status += f" {answered}/{asked} câu"
        return NOT_SUBMITTED.format(unit=unit.name, period=target.period.code, status=status)
    if response.status is Status.RETURNED:
        return BEING_CORRECTED.format(unit=unit.name)
    return None


def _told(count: int, code: str) -> str:
    return TOLD.format(count=count) if count else NO_OFFICER.format(code=code)


async def show(call: Call) -> list[Reply]:
    service = call.service
    db = call.db
    role = call.role
    named, args = None, list(call.args)
    for at in (0, 1, 2):  # "/xem <mã bảng hỏi>" (an officer, their own unit's), or after the unit or the period
        if named is None:
            named, args = questionnaire_arg(call, at)
    code = args[0] if args else role.unit_code
    if code is None or (role.is_admin and not args):
        return [Outgoing(SHOW_USAGE)]
    if not role.is_admin and code != role.unit_code:
        own = await repo.get_unit(db, role.unit_code or "")
        return [Outgoing(OWN_UNIT_ONLY.format(unit=own.name if own else role.unit_code))]
    period = await get_period(db, args[1]) if len(args) > 1 else await repo.current_period(db)
    if period is None:
        return [Outgoing(role.pick(t.NO_PERIOD, admin=t.NO_PERIOD_ADMIN))]
    target = await target_of(call, code, period, named)
    if isinstance(target, str):
        return [Outgoing(target)]
    response = target.response
    if response is None or response.status is Status.DRAFT:
        return [Outgoing(_not_counted(target) or "")]
    files = await evidence_files(db, [response.id])
    reviews = await repo.reviews_of(db, response.id)
    changed = sum(1 for c, _ in await repo.answer_changes(db, period.code) if c.response_id == response.id)
    figures = await service.figures(db, target.qn, response.period_code, response.unit_code)
    scoring = await verification.scoring(db, target.qn, response, figures)
    notes = {c.question.id: verification.criterion_note(scoring, c.question.id) for c in scoring.result.criteria}
    rank = await verification.rank_line(db, scoring, response) if role.is_admin else []
    summary = verification.summary(scoring, target.qn, rank) if scoring.state is not None else []
    text = submission_text(
        target.qn, target.unit, period.code, response, files, reviews, changed, figures, summary, notes
    )
    return [Outgoing(f"{target.qn.short_title} ({target.qn.id})\n{text}" if target.several else text)]


async def approve(call: Call) -> list[Reply]:
    service = call.service
    db = call.db
    if not call.args:
        return [Outgoing(APPROVE_USAGE)]
    named, _ = questionnaire_arg(call, 1)
    found = await submitted(call, call.args[0], named, "duyet")
    if isinstance(found, str):
        return [Outgoing(found)]
    target, response = found
    period, unit = target.period, target.unit
    if response.status is Status.APPROVED:
        reviews = await repo.reviews_of(db, response.id)
        return [Outgoing(ALREADY_APPROVED.format(unit=unit.name, time=local_time(reviews[-1].at)))]
    now = service.clock()
    account = await audit.record(db, call.sender, now, "approve", unit.code, {"points": response.total_points})
    told = await review.approve(db, unit, response, account, now, target.named)
    points = review.total_said(response, " ({points} điểm)")
    said = {"period": period.code, "unit": unit.name, "points": points, "told": _told(told, unit.code)}
    return [Outgoing(APPROVED.format(named=target.named, **said))]


async def send_back(call: Call) -> list[Reply]:
    service = call.service
    db = call.db
    named, args = questionnaire_arg(call, 1)
    if len(args) < 2:
        return [Outgoing(RETURN_USAGE)]
    found = await submitted(call, args[0], named, "tralai")
    if isinstance(found, str):
        return [Outgoing(found)]
    target, response = found
    unit, qn = target.unit, target.qn
    if await verification.is_finalised(db, response):
        return [Outgoing(FINALISED_NO_RETURN.format(unit=unit.name, code=unit.code))]
    asked = {q.id for q in engine.review_items(qn, response.state)}
    flagged = parse_return(qn, asked, args[1:])
    if isinstance(flagged, str):
        return [Outgoing(flagged)]
    if response.status is Status.APPROVED and call.confirmed is None:
        return await confirm.ask(call, "tralai", RETURN_APPROVED.format(unit=unit.name, period=target.period.code))
    now = service.clock()
    items = review.return_items(qn, flagged)
    account = await audit.record(db, call.sender, now, "return", unit.code, {"items": items})
    told = await review.send_back(db, qn, unit, response, items, account, now, target.named)
    lines = "\n".join(flagged_lines(qn, items))
    return [Outgoing(RETURNED.format(named=target.named, unit=unit.name, items=lines, told=_told(told, unit.code)))]


async def send_evidence(call: Call) -> list[Reply]:
    """/minhchung <mã đơn vị> [tiêu chí]: the files a unit sent with its self-assessment of the current period (or
    with one criterion), as documents; on Zalo they become signed download links."""
    service, db = call.service, call.db
    named, args = questionnaire_arg(call, 1)
    if not args or len(args) > 2:
        return [Outgoing(EVIDENCE_USAGE)]
    found = await _sent(call, args[0], named, "minhchung")
    if isinstance(found, str):
        return [Outgoing(found)]
    target, response = found
    files = [*await evidence_files(db, [response.id]), *await verification.explanation_files(db, response.id)]
    where = f"{target.unit.name} kỳ {target.period.code}{target.named}"
    if len(args) == 2:
        by_code = {fold(q.code or ""): q for q in criteria(target.qn)}
        criterion = by_code.get(fold(args[1]))
        if criterion is None:
            codes = ", ".join(sorted({q.code or "" for q in criteria(target.qn)}, key=vi_sort_key))
            return [Outgoing(NO_SUCH_CRITERION.format(code=args[1], codes=codes))]
        backing = supporting(target.qn)
        files = [f for f in files if f.question_id == criterion.id or backing.get(f.question_id) == criterion.id]
        where += f", tiêu chí {criterion.code}"
    if not files:
        return [Outgoing(NO_EVIDENCE.format(where=where))]
    await audit.record(db, call.sender, service.clock(), "evidence", target.unit.code, {"files": len(files)})
    heading = EVIDENCE_HEADING.format(where=where, count=len(files))
    more = EVIDENCE_MORE.replace("{code}", target.unit.code)
    return await evidence.documents(service, files, heading, more)
