"""/chamdiem, /chot, /giaitrinh: the Justice Office scores a unit's submitted self-assessment criterion by criterion
(or accepts the remaining self-scores), finalises it (or re-opens it); an officer explains a lowered criterion."""

from __future__ import annotations

from bot import audit, confirm, verification, waits
from bot import texts as t
from bot.commands.review import Target, questionnaire_arg, submitted, target_of
from bot.messages import Reply
from bot.table import Call
from bot.verification import Scoring
from bot.waits import ExplanationFile, VerifyPass
from conversations import engine
from conversations.answers import number_text
from conversations.definition import question_header
from conversations.engine import Button, Outgoing
from conversations.localtime import local_time
from conversations.measures import SurveyFigures
from conversations.text import fold
from conversations.verification import Criterion
from storage import repo
from storage.models import Response, Unit

SCORE_USAGE = (
    "Gõ /chamdiem <mã đơn vị> <tiêu chí> <điểm> [lý do], ví dụ:\n"
    "/chamdiem 16012 N1.2 2 Kế hoạch thiếu minh chứng\n"
    "hoặc /chamdiem 16012 dongy để đồng ý mọi điểm tự chấm còn lại (tiêu chí đo bằng khảo sát: điểm theo khảo sát);\n"
    "hoặc /chamdiem 16012 tung để đi qua từng tiêu chí với các nút Đồng ý, Hạ điểm, Nâng điểm."
)
FINALISE_USAGE = "Gõ /chot <mã đơn vị> để chốt kết quả thẩm định, hoặc /chot <mã đơn vị> mo lai <lý do> để mở lại."
SCORED = "Đã chấm {code} của {unit}: {points}/{maximum} điểm (tự chấm {own}){reason}."
ACCEPTED = "Đã đồng ý {count} tiêu chí của {unit}:\n{lines}"
NOTHING_LEFT = "Mọi tiêu chí của {unit} đã được thẩm định."
TOTALS = "Tổng thẩm định: {verified}/{maximum} (tự chấm {own})."
LEFT = "Còn {count} tiêu chí chưa thẩm định: {codes}."
ALL_DONE = "Đã thẩm định đủ mọi tiêu chí; gõ /chot {code} để chốt."
LOCKED = "Kết quả thẩm định của {unit} đã chốt lúc {time}. Gõ /chot {code} mo lai <lý do> để mở lại trước khi chấm."
NOT_ALL = (
    "Chưa chốt được: còn {count} tiêu chí của {unit} chưa thẩm định:\n{lines}\nGõ /chamdiem {code} dongy để đồng ý."
)
ASK_FINALISE = (
    "Chốt kết quả thẩm định kỳ {period} của {unit}: {verified}/{maximum} điểm (tự chấm {own})?\n{changes}\n"
    "Sau khi chốt, kết quả bị khóa và cán bộ đơn vị được báo."
)
LOWERED = "Hạ điểm:"
RAISED = "Nâng điểm:"
UNCHANGED = "Không tiêu chí nào khác điểm tự chấm."
FINALISED = "Đã chốt kết quả thẩm định của {unit}: {verified}/{maximum} điểm. {told}"
NOT_FINALISED = "Kết quả thẩm định của {unit} chưa chốt, không cần mở lại."
ALREADY_FINALISED = "Kết quả thẩm định của {unit} đã chốt lúc {time}."
REOPEN_REASON = "Hãy ghi lý do mở lại, ví dụ: /chot {code} mo lai Đơn vị bổ sung minh chứng."
ASK_REOPEN = "Mở lại kết quả đã chốt của {unit} ({reason})? Cán bộ đơn vị được báo; phải chốt lại sau khi chấm."
REOPENED = "Đã mở lại kết quả thẩm định của {unit}. {told}"
TOLD = "Đã báo cho {count} cán bộ của đơn vị."
NO_OFFICER = "Đơn vị chưa có cán bộ nào dùng bot để nhận kết quả."
EXPLAIN_USAGE = (
    "Gõ /giaitrinh [mã bảng hỏi] <tiêu chí> <nội dung>, ví dụ: /giaitrinh N1.2 Kế hoạch đã ban hành, gửi kèm bản chụp."
)
NOT_LOWERED = "Tiêu chí {code} không bị hạ điểm nên không cần giải trình."
EXPLAIN_LOCKED = "Kết quả thẩm định đã chốt; không gửi giải trình được nữa."
EXPLAINED_ALREADY = "Đơn vị đã giải trình tiêu chí {code} lúc {time}; mỗi tiêu chí chỉ giải trình một lần."
EXPLAINED = (
    "Đã gửi giải trình tiêu chí {code} tới Phòng Tư pháp. Có tệp minh chứng kèm theo thì gửi ngay một ảnh hoặc tệp "
    "(PDF, Word, Excel); không có thì gõ “xong”."
)
FILE_KEPT = "Đã lưu tệp “{name}” kèm giải trình tiêu chí {code}."
ONE_FILE = "Giải trình chỉ kèm được một tệp; hãy gửi một tệp, hoặc gõ “xong”."
NO_FILE = "Đã gửi giải trình, không kèm tệp."
PASS_CRITERION = (
    "Còn {left} tiêu chí. {header}\nTự chấm: {own}/{maximum}{survey}. “Đồng ý” cho {proposed} điểm; hoặc hạ, nâng điểm."
)
PASS_POINTS = "Gõ số điểm {verb} (tự chấm {own}) và lý do, ví dụ: 2 Thiếu minh chứng."
PASS_WRONG_WAY = "Điểm phải {verb} hơn điểm tự chấm ({own}); gõ lại số điểm và lý do."
PASS_REASON = "Hãy ghi lý do sau số điểm, ví dụ: 2 Thiếu minh chứng."
PASS_PRESS = "Bấm “Đồng ý”, “Hạ điểm”, “Nâng điểm” hoặc “Dừng”."
PASS_STOPPED = "Đã dừng thẩm định từng tiêu chí; các điểm đã chấm được giữ. Gõ /chamdiem {code} tung để làm tiếp."
UNSCORED = (
    "“{title}” không chấm điểm nên không có thẩm định điểm; duyệt phiếu bằng /duyet {code} {qn} hoặc trả lại bằng "
    "/tralai {code} {qn} <tiêu chí…>."
)
NOT_BEGUN = "Phiếu của đơn vị chưa được Phòng Tư pháp thẩm định, chưa có tiêu chí nào bị hạ điểm."


async def _scorable(call: Call, code: str, named: str | None, command: str) -> tuple[Target, Response] | str:
    """The unit's submitted self-assessment when its questionnaire has points to verify; or what to tell."""
    found = await submitted(call, code, named, command)
    if isinstance(found, str) or found[0].qn.scored:
        return found
    qn = found[0].qn
    return UNSCORED.format(title=qn.shown_title, code=found[0].unit.code, qn=qn.id)


async def _open(
    call: Call, code: str, named: str | None
) -> tuple[Target, Response, SurveyFigures | None, Scoring] | str:
    """The unit's submitted self-assessment and its scoring, while it may still be scored; or what to tell."""
    found = await _scorable(call, code, named, "chamdiem")
    if isinstance(found, str):
        return found
    target, response = found
    figures = await call.service.figures(call.db, target.qn, response.period_code, response.unit_code)
    scoring = await verification.scoring(call.db, target.qn, response, figures)
    if scoring.finalised and scoring.state is not None and scoring.state.finalised_at is not None:
        at = local_time(scoring.state.finalised_at)
        return LOCKED.format(unit=target.unit.name, time=at, code=target.unit.code)
    return target, response, figures, scoring


async def _set_one(
    call: Call, scoring: Scoring, response: Response, unit: Unit, criterion: Criterion, points: float, reason: str
) -> str:
    """Keep one criterion's verified points, audited; what was done."""
    now = call.service.clock()
    code = criterion.question.code or criterion.question.id
    previous = scoring.rows.get(criterion.question.id)
    detail = {
        "code": code,
        "points": points,
        "self": criterion.self_points,
        "before": previous.points if previous is not None else None,
        "reason": reason or None,
    }
    account = await audit.record(call.db, call.sender, now, "verify", unit.code, detail)
    await verification.set_points(call.db, scoring, response, criterion.question.id, points, reason, account, now)
    return SCORED.format(
        code=code,
        unit=unit.name,
        points=number_text(points),
        maximum=number_text(criterion.maximum),
        own=number_text(criterion.self_points),
        reason=f" – {reason}" if reason else "",
    )


async def _ask_next(call: Call, target: Target, scoring: Scoring, named: str | None, done: str = "") -> list[Reply]:
    """The guided pass: the next criterion left to verify, with its self (and survey) points and three buttons; or,
    when none is left, how to finalise."""
    left = scoring.result.unverified
    head = [done] if done else []
    if not left:
        await repo.save_session(call.db, call.actor, call.service.clock(), None, None)
        return [Outgoing("\n".join([*head, ALL_DONE.format(code=target.unit.code)]))]
    c = left[0]
    survey = f"; theo khảo sát {number_text(c.survey_points)}" if c.survey_points is not None else ""
    question = PASS_CRITERION.format(
        left=len(left),
        header=question_header(target.qn, c.question.id),
        own=number_text(c.self_points),
        maximum=number_text(c.maximum),
        survey=survey,
        proposed=number_text(c.proposed),
    )
    wait: VerifyPass = {
        "kind": "verify_pass",
        "unit": target.unit.code,
        "questionnaire": named,
        "question": c.question.id,
        "asked": None,
    }
    await waits.wait_for(call.db, call.actor, call.service.clock(), wait)
    buttons = (Button("Đồng ý", "vp:ok"), Button("Hạ điểm", "vp:down"), Button("Nâng điểm", "vp:up"))
    return [Outgoing("\n".join([*head, question]), actions=(*buttons, Button("Dừng", "vp:stop")))]


def pass_stopped(wait: VerifyPass) -> str:
    """What "Dừng" or /huy says during the guided pass: the points given so far are kept."""
    return PASS_STOPPED.format(code=wait["unit"])


async def guided(call: Call, wait: VerifyPass) -> list[Reply]:
    """A message during the guided pass: a button (accept, lower, raise, stop), or the points and reason typed."""
    inbound = call.inbound
    said = (inbound.button or "") if inbound is not None else ""
    now = call.service.clock()
    if said == "vp:stop":
        await repo.save_session(call.db, call.actor, now, None, None)
        return [Outgoing(pass_stopped(wait))]
    opened = await _open(call, wait["unit"], wait["questionnaire"])
    if isinstance(opened, str):
        await repo.save_session(call.db, call.actor, now, None, None)
        return [Outgoing(opened)]
    target, response, figures, scoring = opened
    criterion = scoring.result.criterion(wait["question"])
    if criterion is None or criterion.verified is not None:
        return await _ask_next(call, target, scoring, wait["questionnaire"])
    if said == "vp:ok":
        points, reason = verification.accepted(criterion)
        done = await _set_one(call, scoring, response, target.unit, criterion, points, reason or "")
        scoring = await verification.scoring(call.db, target.qn, response, figures)
        return await _ask_next(call, target, scoring, wait["questionnaire"], done)
    if said in {"vp:down", "vp:up"}:
        asked: VerifyPass = {**wait, "asked": said[3:]}
        await waits.wait_for(call.db, call.actor, now, asked)
        verb = "hạ" if said == "vp:down" else "nâng"
        return [Outgoing(PASS_POINTS.format(verb=verb, own=number_text(criterion.self_points)))]
    words = ((inbound.text or "") if inbound is not None else "").split()
    if wait["asked"] is None or not words:
        return [Outgoing(PASS_PRESS)]
    typed = verification.read_points(criterion, words[0])
    if isinstance(typed, str):
        return [Outgoing(typed)]
    lower = wait["asked"] == "down"
    if (lower and typed >= criterion.self_points) or (not lower and typed <= criterion.self_points):
        verb = "thấp" if lower else "cao"
        return [Outgoing(PASS_WRONG_WAY.format(verb=verb, own=number_text(criterion.self_points)))]
    reason = " ".join(words[1:]).strip()
    if not reason:
        return [Outgoing(PASS_REASON)]
    done = await _set_one(call, scoring, response, target.unit, criterion, typed, reason)
    scoring = await verification.scoring(call.db, target.qn, response, figures)
    return await _ask_next(call, target, scoring, wait["questionnaire"], done)


def _told(count: int) -> str:
    return TOLD.format(count=count) if count else NO_OFFICER


async def score(call: Call) -> list[Reply]:
    service, db = call.service, call.db
    named, args = questionnaire_arg(call, 1)
    if len(args) < 2:
        return [Outgoing(SCORE_USAGE)]
    opened = await _open(call, args[0], named)
    if isinstance(opened, str):
        return [Outgoing(opened)]
    target, response, figures, scoring = opened
    unit, qn = target.unit, target.qn
    now = service.clock()
    if fold(args[1]) in {"tung", "tungtieuchi"}:
        return await _ask_next(call, target, scoring, named)
    if fold(" ".join(args[1:])) in {"dongy", "dong y"}:
        left = scoring.result.unverified
        if not left:
            return [Outgoing(NOTHING_LEFT.format(unit=unit.name))]
        chosen = [(c, *verification.accepted(c)) for c in left]
        items = [
            {"code": c.question.code or c.question.id, "points": points, "self": c.self_points, "reason": reason}
            for c, points, reason in chosen
        ]
        account = await audit.record(db, call.sender, now, "verify_accept", unit.code, {"items": items})
        lines = []
        for c, points, reason in chosen:
            await verification.set_points(db, scoring, response, c.question.id, points, reason, account, now)
            shown = f"• {c.question.code or c.question.id}: {number_text(points)}/{number_text(c.maximum)}"
            lines.append(shown + (f" ({reason})" if reason else ""))
        text = ACCEPTED.format(count=len(left), unit=unit.name, lines="\n".join(lines))
    else:
        if len(args) < 3:
            return [Outgoing(SCORE_USAGE)]
        criterion = verification.find(scoring, args[1], unit)
        if isinstance(criterion, str):
            return [Outgoing(criterion)]
        typed = verification.read_points(criterion, args[2])
        if isinstance(typed, str):
            return [Outgoing(typed)]
        points = typed
        reason = " ".join(args[3:]).strip()
        missing = verification.needs_reason(criterion, points, reason, unit.code)
        if missing is not None:
            return [Outgoing(missing)]
        text = await _set_one(call, scoring, response, unit, criterion, points, reason)
    after = await verification.scoring(db, qn, response, figures)
    result = after.result
    lines = [
        text,
        TOTALS.format(
            verified=number_text(result.verified_total),
            maximum=number_text(result.maximum),
            own=number_text(result.self_total),
        ),
    ]
    left = result.unverified
    lines.append(
        LEFT.format(count=len(left), codes=verification.codes(left)) if left else ALL_DONE.format(code=unit.code)
    )
    return [Outgoing("\n".join(lines))]


async def finalise(call: Call) -> list[Reply]:
    """/chot <mã đơn vị>: lock the verified result once every criterion is verified (after a yes listing the
    changed criteria); /chot <mã đơn vị> mo lai <lý do>: open it again (after a yes)."""
    service, db = call.service, call.db
    named, args = questionnaire_arg(call, 1)
    if not args:
        return [Outgoing(FINALISE_USAGE)]
    found = await _scorable(call, args[0], named, "chot")
    if isinstance(found, str):
        return [Outgoing(found)]
    target, response = found
    unit, qn = target.unit, target.qn
    figures = await service.figures(db, qn, response.period_code, response.unit_code)
    scoring = await verification.scoring(db, qn, response, figures)
    result, state = scoring.result, scoring.state
    rest = fold(" ".join(args[1:]))
    if rest.startswith("mo lai") or rest.startswith("molai"):
        words = args[1:]
        reason = " ".join(words[2:] if rest.startswith("mo lai") else words[1:]).strip()
        if not scoring.finalised or state is None:
            return [Outgoing(NOT_FINALISED.format(unit=unit.name))]
        if not reason:
            return [Outgoing(REOPEN_REASON.format(code=unit.code))]
        if call.confirmed is None:
            return await confirm.ask(call, "chot", ASK_REOPEN.format(unit=unit.name, reason=reason))
        now = service.clock()
        account = await audit.record(db, call.sender, now, "verify_reopen", unit.code, {"reason": reason})
        told = await verification.reopen(db, scoring, unit, response, reason, account, now, target.named)
        return [Outgoing(REOPENED.format(unit=unit.name, told=_told(told)))]
    if rest:
        return [Outgoing(FINALISE_USAGE)]
    if scoring.finalised and state is not None and state.finalised_at is not None:
        return [Outgoing(ALREADY_FINALISED.format(unit=unit.name, time=local_time(state.finalised_at)))]
    if not result.complete or state is None:
        left = result.unverified
        lines = "\n".join(verification.headers(qn, left))
        return [Outgoing(NOT_ALL.format(count=len(left), unit=unit.name, lines=lines, code=unit.code))]
    totals = {
        "verified": number_text(result.verified_total),
        "maximum": number_text(result.maximum),
        "own": number_text(result.self_total),
    }
    if call.confirmed is None:
        changes = []
        if result.lowered:
            changes += [LOWERED, *(verification.change_line(scoring, c) for c in result.lowered)]
        if result.raised:
            changes += [RAISED, *(verification.change_line(scoring, c) for c in result.raised)]
        question = ASK_FINALISE.format(
            period=response.period_code, unit=unit.name, changes="\n".join(changes) or UNCHANGED, **totals
        )
        return await confirm.ask(call, "chot", question)
    now = service.clock()
    detail = {"total": result.verified_total, "self": result.self_total, "changed": verification.changed_lines(scoring)}
    account = await audit.record(db, call.sender, now, "verify_finalise", unit.code, detail)
    told = await verification.finalise(db, scoring, target.qn, unit, response, account, now, target.named)
    return [
        Outgoing(
            FINALISED.format(unit=unit.name, verified=totals["verified"], maximum=totals["maximum"], told=_told(told))
        )
    ]


async def explain(call: Call) -> list[Reply]:
    """/giaitrinh <tiêu chí> <nội dung>: an officer answers a lowered criterion of their unit's self-assessment,
    once, before the result is finalised."""
    service, db, role = call.service, call.db, call.role
    own = call.args[:1] == [role.unit_code]  # "/giaitrinh 16012 <mã bảng hỏi> …", as the list of several says
    named, args = questionnaire_arg(call, 1 if own else 0)
    args = args[1:] if own else args
    if len(args) < 2 or role.unit_code is None:
        return [Outgoing(EXPLAIN_USAGE)]
    period = await repo.current_period(db)
    if period is None:
        return [Outgoing(t.NO_PERIOD)]
    target = await target_of(call, role.unit_code, period, named, "giaitrinh")
    if isinstance(target, str):
        return [Outgoing(target)]
    response, unit, qn = target.response, target.unit, target.qn
    if response is None or not response.status.counted:
        return [Outgoing(NOT_BEGUN)]
    figures = await service.figures(db, qn, response.period_code, response.unit_code)
    scoring = await verification.scoring(db, qn, response, figures)
    if scoring.state is None:
        return [Outgoing(NOT_BEGUN)]
    criterion = verification.find(scoring, args[0], unit)
    if isinstance(criterion, str):
        return [Outgoing(criterion)]
    code = criterion.question.code or criterion.question.id
    if scoring.finalised:
        return [Outgoing(EXPLAIN_LOCKED)]
    if not criterion.lowered:
        return [Outgoing(NOT_LOWERED.format(code=code))]
    before = scoring.explained.get(criterion.question.id)
    if before is not None:
        return [Outgoing(EXPLAINED_ALREADY.format(code=code, time=local_time(before.at)))]
    now = service.clock()
    text = " ".join(args[1:]).strip()
    account = await audit.record(db, call.sender, now, "verify_explain", unit.code, {"code": code, "text": text})
    row = await verification.add_explanation(db, response, criterion.question.id, text, account, now)
    await waits.wait_for(db, call.actor, now, {"kind": "explanation_file", "explanation": row.id})
    return [Outgoing(EXPLAINED.format(code=code))]


def explanation_sent(wait: ExplanationFile) -> str:
    """What /huy says instead of the file after /giaitrinh: the explanation itself was sent."""
    return NO_FILE


async def explanation_file(call: Call, wait: ExplanationFile) -> list[Reply]:
    """The message after /giaitrinh: one file backing the explanation (checked and kept by bot.evidence before the
    transaction), or anything else to go without."""
    db, now = call.db, call.service.clock()
    files = call.inbound.files if call.inbound is not None else ()
    if len(files) > 1:
        return [Outgoing(ONE_FILE)]
    await repo.save_session(db, call.actor, now, None, None)
    row = await verification.explanation(db, wait["explanation"])
    if not files or row is None or files[0].sha256 is None:
        return [Outgoing(NO_FILE)]
    kept = await verification.attach(db, row, files[0], now)
    response = await repo.get_response(db, kept.response_id)
    qn = await call.service.definition_of(db, response) if response is not None else None
    code = (qn.question(kept.question_id).code if qn is not None and qn.has(kept.question_id) else None) or ""
    unit = response.unit_code if response is not None else ""
    await audit.record(db, call.sender, now, "verify_explain_file", unit, {"code": code, "file": kept.name})
    return [Outgoing(FILE_KEPT.format(name=engine.file_label(kept.name, kept.kind), code=code))]
