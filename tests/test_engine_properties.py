"""Property-based: whatever a person sends, the engine's state stays valid and its promises hold."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations import engine
from conversations.conditions import visible
from conversations.definition import Questionnaire, QuestionType, load_questionnaire
from conversations.engine import FileRef, Inbound
from conversations.scoring import score

ROOT = Path(__file__).resolve().parents[1]
QUESTIONNAIRES = [
    load_questionnaire(ROOT / "tests/golden/mini.yaml"),
    load_questionnaire(ROOT / "presets/questionnaires/tu-danh-gia.yaml"),
    load_questionnaire(ROOT / "presets/questionnaires/khao-sat-nguoi-dan.yaml"),
]
NOW = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
WORDS = [
    "1",
    "2",
    "3",
    "9",
    "0",
    "85",
    "84,9",
    "1, 3",
    "1.200",
    "-5",
    "1/2/2026",
    "31/2/2026",
    "có",
    "khong",
    "quay lại",
    "bỏ qua",
    "xong",
    "giữ nguyên",
    "nộp",
    "sửa 2",
    "sửa 99",
    "hai long",
    "=1+1",
    "co\u0301",
    "x" * 2000,
    "😀",
    "\x00\x07",
    "",
    " ",
    "xóa tệp",
]


def inbounds(qn: Questionnaire) -> st.SearchStrategy[Inbound]:
    tokens = [f"{k}:{q.id}:{c.value}" for q in qn.questions for c in q.options for k in "a"]
    tokens += [f"{k}:{q.id}" for q in qn.questions for k in "dksbc"]
    tokens += ["r:submit", "r:edit", "r:back", "e:nope", "a::", "garbage", "u:16012"]
    tokens += [f"e:{q.id}" for q in qn.questions]
    return st.one_of(
        st.sampled_from(WORDS).map(lambda text: Inbound(text=text)),
        st.text(max_size=40).map(lambda text: Inbound(text=text)),
        st.sampled_from(tokens).map(lambda token: Inbound(button=token)),
        st.just(Inbound(files=(FileRef("f", "photo", size=10),))),
        st.just(Inbound(unsupported="sticker")),
    )


def check(qn: Questionnaire, step: engine.Step) -> None:
    state = step.state
    assert json.loads(json.dumps(state)) == state
    where = engine.phase(state)
    assert where in {"question", "review", "submitted", "declined"}  # declined: a "no" to the consent question
    shown = visible(qn, state["answers"])
    if where == "question":
        current = engine.current_question(qn, state)
        assert current is not None and current.answerable and current in shown
    for question_id, value in state["answers"].items():
        q = qn.question(question_id)
        assert q.answerable
        values = {c.value for c in q.options}
        if q.type in (QuestionType.SINGLE_CHOICE, QuestionType.YES_NO):
            assert value in values
        elif q.type is QuestionType.MULTIPLE_CHOICE:
            assert value and set(value) <= values
        elif q.type is QuestionType.PERCENTAGE:
            assert 0 <= value <= 100
        elif q.type in (QuestionType.INTEGER, QuestionType.DECIMAL):
            assert (q.min is None or value >= q.min) and (q.max is None or value <= q.max)
        elif q.type is QuestionType.TEXT:
            assert 0 < len(value) <= (q.max_length or 0) and unicodedata.is_normalized("NFC", value)
        elif q.type is QuestionType.EVIDENCE:
            assert 0 < len(value) <= q.max_files
    if state["phase"] == "submitted":
        assert set(state["answers"]) <= {q.id for q in shown}
    card = score(qn, state["answers"])
    assert all(0 <= g.points <= g.maximum for g in card.groups)
    assert 0 <= card.total <= card.maximum
    assert step.outgoing, "every input gets an answer"
    for message in step.outgoing:
        assert message.text and unicodedata.is_normalized("NFC", message.text)
        assert all(len(b.token.encode()) <= 64 for b in (*message.choices, *message.actions))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), index=st.integers(min_value=0, max_value=len(QUESTIONNAIRES) - 1))
def test_random_conversations_keep_the_state_valid(data: st.DataObject, index: int) -> None:
    qn = QUESTIONNAIRES[index]
    step = engine.start(qn, NOW)
    check(qn, step)
    for inbound in data.draw(st.lists(inbounds(qn), max_size=60)):
        step = engine.handle(qn, step.state, inbound, NOW)
        check(qn, step)
