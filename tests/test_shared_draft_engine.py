"""Property-based: two or three officers fill one draft in random interleavings; every answer stored was sent by
someone who was shown that question, with the answer it had then, and a submission holds what its sender saw."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations import engine
from conversations import messages as m
from conversations.definition import Question, Questionnaire
from conversations.engine import Inbound, Outgoing, Participant
from tests.test_engine_properties import NOW, QUESTIONNAIRES, inbounds

OFFICERS = [Participant("a", "Chị An"), Participant("b", "Anh Bình"), Participant("c", "Chị Cúc")]
MISSING = object()
LIKELY = ["1", "2", "3", "1, 2", "có", "không", "5", "bỏ qua", "xong", "giữ nguyên", "nộp", "sửa 1", "sửa 3"]
"""Answers that fit most questions, so officers often answer the same question in turn."""


@dataclass
class Seen:
    """What the harness saw an officer shown last: a question and its answer then, or the review and all answers."""

    question: str | None
    answers: dict[str, Any]


def shown_question(qn: Questionnaire, message: Outgoing) -> Question | None:
    if not (message.header or "").startswith("Câu "):
        return None
    first = message.text.split("\n", 1)[0]
    found = [q for q in qn.questions if q.answerable and first in (q.text, f"{q.text} {m.OPTIONAL}")]
    assert len(found) == 1, first
    return found[0]


def last_seen(qn: Questionnaire, step: engine.Step, before: Seen | None) -> Seen | None:
    """After the officer's own step: what they were shown in it, else where they were, with what they did there
    (files they sent stay on the same question)."""
    seen = before
    if seen is not None and seen.question is not None:
        seen = Seen(seen.question, {**seen.answers})
        seen.answers.pop(seen.question, None)
        if seen.question in step.state["answers"]:
            seen.answers[seen.question] = step.state["answers"][seen.question]
    for message in step.outgoing:
        q = shown_question(qn, message)
        if q is not None:
            seen = Seen(q.id, dict(step.state["answers"]))
        elif message.header == m.REVIEW_TITLE:
            seen = Seen(None, dict(step.state["answers"]))
    return seen


def check_changes(qn: Questionnaire, before: dict[str, Any], step: engine.Step, seen: Seen | None) -> None:
    after = step.state["answers"]
    if step.submitted:
        assert seen is not None and seen.question is None, "submitted from somewhere other than the review"
        kept = {qid: v for qid, v in after.items() if qn.question(qid).answerable}
        assert kept == {qid: v for qid, v in seen.answers.items() if qid in kept}, "submitted what was not shown"
        assert set(seen.answers) <= set(after)
        return
    changed = {qid for qid in set(before) | set(after) if before.get(qid, MISSING) != after.get(qid, MISSING)}
    if not changed:
        return
    assert seen is not None and seen.question is not None, f"{changed} changed by someone on no question"
    target = seen.question
    assert target in changed or all(qid not in after for qid in changed), (target, changed)
    assert before.get(target, MISSING) == seen.answers.get(target, MISSING), "changed after someone else did"
    for qid in changed - {target}:
        assert qid not in after, f"{qid} was given an answer nobody was shown it for"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), index=st.integers(min_value=0, max_value=len(QUESTIONNAIRES) - 1), crowd=st.integers(2, 3))
def test_officers_interleaving_store_only_what_each_was_shown(data: st.DataObject, index: int, crowd: int) -> None:
    qn = QUESTIONNAIRES[index]
    step = engine.start(qn, NOW, OFFICERS[0])
    seen: dict[str, Seen | None] = {p.key: None for p in OFFICERS}
    seen["a"] = last_seen(qn, step, None)
    answers = st.sampled_from(LIKELY).map(lambda text: Inbound(text=text))
    moves = st.tuples(st.integers(0, crowd - 1), st.one_of(answers, answers, inbounds(qn), st.just(None)))
    for who, inbound in data.draw(st.lists(moves, max_size=80)):
        officer = OFFICERS[who]
        if step.state["phase"] == "submitted":
            assert engine.handle(qn, step.state, Inbound(text="1"), NOW, officer).outgoing[0].text == m.ERR_LOCKED
            return
        before = dict(step.state["answers"])
        if inbound is None:  # opening the draft again (/danhgia)
            step = engine.resume(qn, step.state, officer)
            assert step.state["answers"] == before
        else:
            step = engine.handle(qn, step.state, inbound, NOW, officer)
            check_changes(qn, before, step, seen[officer.key])
        seen[officer.key] = last_seen(qn, step, seen[officer.key])


MINI = QUESTIONNAIRES[0]
A, B = OFFICERS[0], OFFICERS[1]
ALL_ANSWERS = ["không", "1", "5", "50", "1, 2", "bỏ qua", "1/3/2026", "bỏ qua"]


def said(step: engine.Step) -> str:
    return "\n".join(o.text for o in step.outgoing)


def filled_by_a() -> engine.Step:
    step = engine.start(MINI, NOW, A)
    for text in ALL_ANSWERS:
        step = engine.handle(MINI, step.state, Inbound(text=text), NOW, A)
    assert engine.phase(step.state, A) == "review"
    return step


def test_a_submit_after_another_officer_changed_an_answer_shows_the_review_again() -> None:
    step = engine.resume(MINI, filled_by_a().state, B)
    assert engine.phase(step.state, B) == "review"
    step = engine.handle(MINI, step.state, Inbound(text="sửa 1"), NOW, B)
    step = engine.handle(MINI, step.state, Inbound(text="có"), NOW, B)
    refused = engine.handle(MINI, step.state, Inbound(text="nộp"), NOW, A)
    assert not refused.submitted
    assert "Anh Bình đã sửa câu 1 (A.1)" in said(refused) and refused.outgoing[-1].header == m.REVIEW_TITLE
    done = engine.handle(MINI, refused.state, Inbound(text="nộp"), NOW, A)
    assert done.submitted and done.state["answers"]["ke_hoach"] == "co"


def test_numbers_on_an_old_review_screen_are_not_used_after_another_officer_changed_answers() -> None:
    step = engine.resume(MINI, filled_by_a().state, B)
    step = engine.handle(MINI, step.state, Inbound(text="sửa 1"), NOW, B)
    step = engine.handle(MINI, step.state, Inbound(text="có"), NOW, B)  # brings up the evidence question: 2 moves
    refused = engine.handle(MINI, step.state, Inbound(text="sửa 2"), NOW, A)
    assert "Anh Bình đã sửa câu 1" in said(refused)
    assert engine.phase(refused.state, A) == "review"


def test_review_words_typed_on_a_text_question_are_never_stored() -> None:
    step = engine.start(MINI, NOW, A)
    for text in ALL_ANSWERS[:-1]:
        step = engine.handle(MINI, step.state, Inbound(text=text), NOW, A)
    assert engine.current_question(MINI, step.state, A).id == "y_kien"
    for word in ("nộp", "Nộp phiếu", "sửa 3", "sửa"):
        refused = engine.handle(MINI, step.state, Inbound(text=word), NOW, A)
        assert "y_kien" not in refused.state["answers"] and "lệnh của màn hình xem lại" in said(refused)


def test_an_old_single_position_state_still_loads_and_is_taken_over() -> None:
    old = {
        "questionnaire": "mini",
        "version": MINI.version,
        "phase": "question",
        "current": "muc_do",
        "trail": ["ke_hoach"],
        "answers": {"ke_hoach": "khong"},
        "skipped": [],
        "selection": [],
        "editing": False,
        "started_at": NOW.isoformat(),
        "updated_at": NOW.isoformat(),
        "submitted_at": None,
    }
    assert engine.phase(old) == "question" and engine.current_question(MINI, old).id == "muc_do"
    step = engine.handle(MINI, old, Inbound(text="1"), NOW, A)
    assert step.state["schema"] == engine.STATE_SCHEMA and step.state["answers"]["muc_do"]
    assert set(step.state["positions"]) == {"a"} and step.state["positions"]["a"]["trail"] == ["ke_hoach", "muc_do"]
    submitted = {**old, "phase": "submitted", "current": None}
    assert engine.handle(MINI, submitted, Inbound(text="1"), NOW, A).outgoing[0].text == m.ERR_LOCKED
