"""Reopening a submitted questionnaire on some questions (a return for corrections): pure engine behaviour."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from bot.render import plain
from conversations import engine
from conversations.definition import Questionnaire, load_questionnaire
from conversations.engine import FileRef, Inbound, State
from conversations.scoring import score

MINI = Path(__file__).parent / "golden" / "mini.yaml"
NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def submitted(qn: Questionnaire) -> State:
    step = engine.start(qn, NOW)
    for inbound in [
        Inbound(text="có"),
        Inbound(files=(FileRef("ảnh-1", "photo"),)),
        Inbound(text="xong"),
        Inbound(text="1"),
        Inbound(text="12"),
        Inbound(text="90"),
        Inbound(text="1"),
        Inbound(text="xong"),
        Inbound(text="bỏ qua"),
        Inbound(text="1/2/2026"),
        Inbound(text="bỏ qua"),
        Inbound(text="nộp"),
    ]:
        step = engine.handle(qn, step.state, inbound, NOW)
    assert step.submitted
    return json.loads(json.dumps(step.state))


def said(step: engine.Step) -> str:
    return "\n".join(plain(m) for m in step.outgoing)


def test_reopen_goes_through_only_the_flagged_questions_then_the_review() -> None:
    qn = load_questionnaire(MINI)
    state = submitted(qn)
    before = json.dumps(state, sort_keys=True)
    step = engine.reopen(qn, state, {"ke_hoach", "ke_hoach_mc", "so_buoi"}, {"so_buoi": "Số buổi chưa khớp"}, NOW)
    assert json.dumps(state, sort_keys=True) == before, "reopen() must not change the state it was given"
    assert "Phiếu được mở lại để sửa 3 câu" in said(step)
    assert "Có kế hoạch không?" in said(step)
    assert "Trả lời hiện tại: Có" in said(step)
    assert engine.phase(step.state) == "question" and step.state["submitted_at"] is None

    step = engine.handle(qn, step.state, Inbound(text="giữ nguyên"), NOW)
    assert "Gửi ảnh kế hoạch." in said(step)
    step = engine.handle(qn, step.state, Inbound(files=(FileRef("ảnh-2", "photo"),)), NOW)
    step = engine.handle(qn, step.state, Inbound(text="xong"), NOW)
    assert "Số buổi tuyên truyền?" in said(step)
    assert "Ghi chú của Phòng Tư pháp: Số buổi chưa khớp" in said(step)
    assert "Mức độ hoàn thành?" not in said(step), "a question not flagged is not asked again"

    back = engine.handle(qn, step.state, Inbound(text="quay lại"), NOW)
    assert "Gửi ảnh kế hoạch." in said(back), "back goes to the previous reopened question"

    step = engine.handle(qn, step.state, Inbound(text="3"), NOW)
    assert engine.phase(step.state) == "review"
    assert "Xem lại trước khi nộp" in said(step)
    step = engine.handle(qn, step.state, Inbound(text="nộp"), NOW)
    assert step.submitted
    answers = step.state["answers"]
    assert answers["so_buoi"] == 3 and len(answers["ke_hoach_mc"]) == 2 and answers["muc_do"] == "tot"
    assert "revisit" not in step.state and "notes" not in step.state
    assert score(qn, answers).total == score(qn, state["answers"]).total - 1  # 12 → 3 sessions: band 2 → 1


def test_a_changed_answer_brings_up_the_questions_it_shows() -> None:
    qn = load_questionnaire(MINI)
    state = submitted(qn)
    step = engine.handle(qn, state, Inbound(text="nộp"), NOW)
    assert "đã nộp và được khóa" in said(step)
    no_plan = engine.handle(qn, engine.reopen(qn, state, {"ke_hoach"}, {}, NOW).state, Inbound(text="không"), NOW)
    assert engine.phase(no_plan.state) == "review", "the evidence question is hidden now: straight to the review"
    assert "ke_hoach_mc" not in engine.handle(qn, no_plan.state, Inbound(text="nộp"), NOW).state["answers"]

    without_plan = engine.handle(qn, engine.reopen(qn, state, {"ke_hoach"}, {}, NOW).state, Inbound(text="2"), NOW)
    resubmitted = engine.handle(qn, without_plan.state, Inbound(text="nộp"), NOW).state
    again = engine.reopen(qn, resubmitted, {"ke_hoach"}, {}, NOW)
    step = engine.handle(qn, again.state, Inbound(text="có"), NOW)
    assert "Gửi ảnh kế hoạch." in said(step), "a question the new answer shows is asked"
