"""Golden conversations: each script's inputs, the engine's rendered replies, compared with a stored transcript.

Run with UPDATE_GOLDEN=1 to rewrite the transcripts after an intended change, then read the diff.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.render import plain
from conversations import engine
from conversations.definition import load_questionnaire
from conversations.engine import FileRef, Inbound
from conversations.scoring import score

GOLDEN = Path(__file__).parent / "golden"
SCRIPTS = sorted(p for p in GOLDEN.glob("*.yaml") if "steps" in (yaml.safe_load(p.read_text(encoding="utf-8")) or {}))


def _inbound(step: dict[str, Any]) -> tuple[str, Inbound]:
    if "send" in step:
        return f">> {step['send']}", Inbound(text=step["send"])
    if "press" in step:
        return f">> [nút {step['press']}]", Inbound(button=step["press"])
    if "file" in step:
        return f">> [tệp {step['file']['file_id']}]", Inbound(files=(FileRef(**step["file"]),))
    raise AssertionError(f"unknown step {step}")


def _render(step: engine.Step) -> list[str]:
    lines = []
    for message in step.outgoing:
        lines.append(plain(message))
        buttons = [b.token for b in (*message.choices, *message.actions)]
        if buttons:
            lines.append("   nút: " + " ".join(buttons))
        if message.replaces_prompt:
            lines.append("   (sửa tin nhắn cũ)")
    return lines


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_golden_conversation(script: Path) -> None:
    spec = yaml.safe_load(script.read_text(encoding="utf-8"))
    qn = load_questionnaire((GOLDEN / spec["questionnaire"]).resolve())
    now = datetime.fromisoformat(spec["now"])
    step = engine.start(qn, now)
    transcript = _render(step)
    state = step.state
    for raw in spec["steps"]:
        label, inbound = _inbound(raw)
        before = json.dumps(state, sort_keys=True)
        step = engine.handle(qn, state, inbound, now)
        assert json.dumps(state, sort_keys=True) == before, "handle() must not change the state it was given"
        state = json.loads(json.dumps(step.state))  # what the database gives back
        transcript += ["", label, *_render(step)]
    expected_file = script.with_suffix(".txt")
    actual = "\n".join(transcript) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        expected_file.write_text(actual, encoding="utf-8")
    assert actual == expected_file.read_text(encoding="utf-8")

    expect = spec["expect"]
    assert engine.phase(state) == expect["phase"]
    card = score(qn, state["answers"])
    assert card.total == expect["total"]
    if "level" in expect:
        assert card.level == expect["level"]
    if "answers" in expect:
        assert state["answers"] == expect["answers"]
    for question_id, value in expect.get("answers_include", {}).items():
        assert state["answers"][question_id] == value
