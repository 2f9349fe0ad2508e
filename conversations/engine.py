"""The questionnaire engine: (definition, state, inbound) → (state, outgoing). It never sends anything.

State is a JSON-serialisable dict, persisted by the host between steps:
    questionnaire, version   what the answers were given on
    phase                    "question" | "review" | "submitted"
    current                  id of the question being asked (phase "question")
    trail                    ids of the answerable questions shown before the current one, for "Quay lại"
    answers                  {question id: value}
    skipped                  ids of optional questions skipped
    selection                choices ticked so far on the current multiple-choice question
    editing                  True after "sửa N" from the review: answered questions are not asked again
    revisit, notes           only on a submitted response reopened by reopen(): the questions to go through again
                             (and any new ones they bring up), and the reviewer's note on some of them
    started_at, updated_at, submitted_at   ISO timestamps from the injected clock

Button tokens ("a:<question>:<choice>", "d:<question>", …) name the question they belong to, so a tap on an
old message is recognised and never applied to another question.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from conversations import messages as m
from conversations.answers import InvalidAnswer, display, hint, number_text, parse_typed
from conversations.conditions import as_asked, effective_answers, expected_count, unoffered, visible
from conversations.definition import Question, Questionnaire, QuestionType
from conversations.expressions import Where
from conversations.localtime import clock_then_day
from conversations.scoring import ScoreCard, score
from conversations.text import clean_input, fold

State = dict[str, Any]


@dataclass(frozen=True)
class FileRef:
    """A file the user sent, as the channel knows it; the host may add a digest and a stored path."""

    file_id: str
    kind: str = "document"
    name: str | None = None
    mime: str | None = None
    size: int | None = None
    sha256: str | None = None

    def record(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Inbound:
    """One thing the user did: typed text, pressed a button, sent files, or sent something we cannot read."""

    text: str | None = None
    button: str | None = None
    files: tuple[FileRef, ...] = ()
    unsupported: str | None = None


@dataclass(frozen=True)
class Button:
    label: str
    token: str


@dataclass(frozen=True)
class Outgoing:
    """A message to show. `choices` are numbered answers; `actions` are navigation buttons.
    `replaces_prompt` asks channels that can edit to update the message whose button was pressed."""

    text: str
    header: str | None = None
    hint: str | None = None
    choices: tuple[Button, ...] = ()
    actions: tuple[Button, ...] = ()
    replaces_prompt: bool = False


@dataclass(frozen=True)
class Step:
    state: State
    outgoing: list[Outgoing] = field(default_factory=list)
    submitted: bool = False


# ---------------------------------------------------------------- starting and showing


def start(qn: Questionnaire, now: datetime) -> Step:
    state: State = {
        "questionnaire": qn.id,
        "version": qn.version,
        "phase": "question",
        "current": None,
        "trail": [],
        "answers": {},
        "skipped": [],
        "selection": [],
        "editing": False,
        "started_at": now.isoformat(),
        "updated_at": now.isoformat(),
        "submitted_at": None,
    }
    intro = [Outgoing(qn.intro, header=qn.title)]
    if qn.notice:
        intro.append(Outgoing(qn.notice))
    step = _advance(qn, state, after=None)
    return Step(step.state, intro + step.outgoing)


def resume(qn: Questionnaire, state: State) -> Step:
    """Show again where the user is, after a pause or a restart."""
    if state["phase"] == "submitted":
        return Step(state, [Outgoing(m.ERR_LOCKED)])
    return Step(state, [Outgoing(m.RESUME), *_prompt(qn, state)])


def reopen(
    qn: Questionnaire, state: State, question_ids: Collection[str], notes: Mapping[str, str], now: datetime
) -> Step:
    """Open a submitted state again on some questions (a self-assessment returned for corrections): each is asked
    again in questionnaire order with its current answer and the reviewer's note, then the review; the other
    answers stay as they were. The given state is not modified."""
    state = copy.deepcopy(state)
    state["phase"], state["current"], state["trail"], state["selection"] = "question", None, [], []
    state["editing"], state["submitted_at"], state["updated_at"] = False, None, now.isoformat()
    state["revisit"] = [q.id for q in qn.questions if q.id in question_ids]
    state["notes"] = {qid: note for qid, note in notes.items() if note}
    step = _advance(qn, state, after=None)
    opening = m.REOPENED.format(count=len([q for q in review_items(qn, state) if q.id in question_ids]))
    return Step(step.state, [Outgoing(opening), *step.outgoing])


def current_question(qn: Questionnaire, state: State) -> Question | None:
    current = state.get("current")
    return qn.question(current) if state["phase"] == "question" and current and qn.has(current) else None


def _progress(qn: Questionnaire, state: State, q: Question) -> str:
    shown = visible(qn, state["answers"])
    asked = [x.id for x in shown if x.answerable]
    index = asked.index(q.id) + 1 if q.id in asked else len(asked)
    header = m.PROGRESS.format(index=index, total=max(index, expected_count(qn, state["answers"], shown)))
    return f"{header} · {q.code}" if q.code else header


def _question_message(qn: Questionnaire, state: State, q: Question, *, replaces: bool = False) -> Outgoing:
    q = as_asked(qn, q, state["answers"])
    lines = [q.text + ("" if q.required else f" {m.OPTIONAL}")]
    if q.help:
        lines.append(q.help)
    if q.id in state.get("notes", {}):
        lines.append(m.REVIEWER_NOTE.format(note=state["notes"][q.id]))
    answers = state["answers"]
    if q.type is QuestionType.MULTIPLE_CHOICE and state["selection"]:
        chosen = [c.label for c in q.options if c.value in state["selection"]]
        lines.append(m.SELECTED.format(labels="; ".join(chosen)))
    elif q.id in answers:
        lines.append(m.CURRENT_ANSWER.format(answer=display(q, answers[q.id])))
    choices: tuple[Button, ...] = ()
    if q.options:
        ticked = set(state["selection"])
        choices = tuple(
            Button(("✓ " if c.value in ticked else "") + c.label, f"a:{q.id}:{c.value}") for c in q.options
        )
    actions = []
    if q.type in (QuestionType.MULTIPLE_CHOICE, QuestionType.EVIDENCE):
        actions.append(Button(m.DONE, f"d:{q.id}"))
    if q.id in answers and q.type is not QuestionType.EVIDENCE:
        actions.append(Button(m.KEEP, f"k:{q.id}"))
    if q.type is QuestionType.EVIDENCE and answers.get(q.id):
        actions.append(Button(m.CLEAR_FILES, f"c:{q.id}"))
    if not q.required:
        actions.append(Button(m.SKIP, f"s:{q.id}"))
    if state["trail"]:
        actions.append(Button(m.BACK, f"b:{q.id}"))
    return Outgoing(
        "\n".join(lines),
        header=_progress(qn, state, q),
        hint=hint(q),
        choices=choices,
        actions=tuple(actions),
        replaces_prompt=replaces,
    )


def _prompt(qn: Questionnaire, state: State) -> list[Outgoing]:
    q = current_question(qn, state)
    if q is not None:
        return [_question_message(qn, state, q)]
    return [_review(qn, state)]


# ---------------------------------------------------------------- review


def _score_lines(card: ScoreCard) -> list[str]:
    lines = [m.SCORE_TITLE + ":"]
    lines += [
        "• " + m.SCORE_GROUP.format(code=g.code, points=number_text(g.points), maximum=number_text(g.maximum))
        for g in card.groups
    ]
    lines.append(m.SCORE_TOTAL.format(points=number_text(card.total), maximum=number_text(card.maximum)))
    if card.levels_configured:
        lines.append(m.LEVEL.format(level=card.level or "—"))
    else:
        lines.append(m.LEVEL_UNSET)
    return lines


def shows_score(qn: Questionnaire) -> bool:
    """A unit sees its self-score; a citizen's knowledge points are for the analysis, not a grade to show."""
    return qn.scored and qn.kind == "self_assessment"


def review_items(qn: Questionnaire, state: State) -> list[Question]:
    """The questions listed on the review screen, numbered from 1 in this order."""
    return [q for q in visible(qn, state["answers"]) if q.answerable]


def _review(qn: Questionnaire, state: State) -> Outgoing:
    answers = state["answers"]
    lines = []
    for number, q in enumerate(review_items(qn, state), start=1):
        label = q.export_label or q.text
        shown = display(q, answers[q.id]) if q.id in answers else m.REVIEW_SKIPPED
        prefix = f"{q.code} " if q.code else ""
        lines.append(f"{number}. {prefix}{label}: {shown}")
    if shows_score(qn):
        lines += ["", *_score_lines(score(qn, answers))]
    actions = (Button(m.SUBMIT, "r:submit"), Button(m.EDIT, "r:edit"), Button(m.BACK, "r:back"))
    return Outgoing("\n".join(lines), header=m.REVIEW_TITLE, hint=m.REVIEW_FOOTER, actions=actions)


def _edit_picker(qn: Questionnaire, state: State) -> Outgoing:
    items = review_items(qn, state)
    buttons = tuple(Button(str(n), f"e:{q.id}") for n, q in enumerate(items, start=1))
    return Outgoing(m.REVIEW_PICK, actions=buttons)


# ---------------------------------------------------------------- moving


def _pending(state: State, q: Question) -> bool:
    return q.id not in state["answers"] and q.id not in state["skipped"]


def _advance(qn: Questionnaire, state: State, after: str | None) -> Step:
    """Move to the next question to ask (notes are shown on the way), or to the review."""
    if state["current"] and state["phase"] == "question" and after is not None:
        state["trail"].append(state["current"])
    state["selection"] = []
    notes: list[Outgoing] = []
    shown = visible(qn, state["answers"])
    start_at = qn.position(after) + 1 if after is not None else 0
    order = [q for q in shown if qn.position(q.id) >= start_at]
    if state.get("revisit") is not None:  # reopened: the listed questions, and any new ones they bring up
        order = [q for q in order if q.id in state["revisit"] or (q.answerable and _pending(state, q))]
    if state["editing"]:
        order = [q for q in order if not q.answerable or _pending(state, q)]
        order += [q for q in shown if qn.position(q.id) < start_at and q.answerable and _pending(state, q)]
        order = [q for q in order if q.answerable]
    for q in order:
        if not q.answerable:
            notes.append(Outgoing(q.text, hint=q.help))
            continue
        state["phase"], state["current"] = "question", q.id
        return Step(state, [*notes, _question_message(qn, state, q)])
    missing = next((q for q in shown if q.answerable and q.required and q.id not in state["answers"]), None)
    if missing is not None:
        state["phase"], state["current"], state["editing"] = "question", missing.id, True
        return Step(state, [*notes, _question_message(qn, state, missing)])
    state["phase"], state["current"], state["editing"] = "review", None, False
    return Step(state, [*notes, _review(qn, state)])


def _back(qn: Questionnaire, state: State) -> Step:
    if state["editing"]:  # came from the review to change one answer: back means back to the review
        return _advance(qn, state, after=None)
    shown = {q.id for q in visible(qn, state["answers"])}
    trail = state["trail"]
    while trail and trail[-1] not in shown:
        trail.pop()
    if not trail:
        return Step(state, [Outgoing(m.ERR_FIRST_QUESTION), *_prompt(qn, state)])
    state["phase"], state["current"], state["selection"] = "question", trail.pop(), []
    state["editing"] = False
    return Step(state, _prompt(qn, state))


def _violation(qn: Questionnaire, answers: dict[str, Any], q: Question, value: Any) -> str | None:
    """What to say when the value breaks the question's constraint, given the other answers; None when it holds."""
    constraint = q.expression(Where.CONSTRAINT)
    if constraint is None or constraint.holds(effective_answers(qn, {**answers, q.id: value}), current=value):
        return None
    return q.constraint_message or m.ERR_CONSTRAINT


def _record(qn: Questionnaire, state: State, q: Question, value: Any) -> Step:
    problem = _violation(qn, state["answers"], q, value)
    if problem is not None:
        return _again(qn, state, q, problem)
    state["answers"][q.id] = value
    while (stale := unoffered(qn, state["answers"])) is not None:
        del state["answers"][stale]  # as ODK clears it: asked again
    if q.id in state["skipped"]:
        state["skipped"].remove(q.id)
    return _advance(qn, state, after=q.id)


def _submit(qn: Questionnaire, state: State, now: datetime) -> Step:
    missing = next(
        (q for q in visible(qn, state["answers"]) if q.answerable and q.required and q.id not in state["answers"]),
        None,
    )
    if missing is not None:
        state["phase"], state["current"], state["editing"] = "question", missing.id, True
        return Step(state, [_question_message(qn, state, missing)])
    for q in visible(qn, state["answers"]):  # an answer changed since may have broken a later constraint
        problem = _violation(qn, state["answers"], q, state["answers"][q.id]) if q.id in state["answers"] else None
        if problem is not None:
            state["phase"], state["current"], state["editing"] = "question", q.id, True
            return Step(state, [Outgoing(problem), _question_message(qn, state, q)])
    state["answers"] = effective_answers(qn, state["answers"])
    state["phase"], state["current"], state["submitted_at"] = "submitted", None, now.isoformat()
    state.pop("revisit", None)
    state.pop("notes", None)
    lines = [qn.outro]
    if shows_score(qn):
        lines += ["", *_score_lines(score(qn, state["answers"]))]
    lines.append(m.SUBMITTED.format(time=clock_then_day(now)))
    return Step(state, [Outgoing("\n".join(lines))], submitted=True)


# ---------------------------------------------------------------- handling input


def handle(qn: Questionnaire, state: State, inbound: Inbound, now: datetime) -> Step:
    """Apply one inbound message. The given state is not modified; the step carries the new one."""
    state = copy.deepcopy(state)
    if state["phase"] == "submitted":
        return Step(state, [Outgoing(m.ERR_LOCKED)])
    state["updated_at"] = now.isoformat()
    if state["phase"] == "review":
        return _handle_review(qn, state, inbound, now)
    q = current_question(qn, state)
    if q is None:  # the definition changed under a draft: find the right place again
        return _advance(qn, state, after=None)
    q = as_asked(qn, q, state["answers"])
    if inbound.button is not None:
        return _handle_button(qn, state, q, inbound.button)
    if inbound.files:
        return _handle_files(qn, state, q, inbound)
    if inbound.text is None:
        return _again(qn, state, q, m.ERR_UNSUPPORTED)
    return _handle_text(qn, state, q, clean_input(inbound.text), now)


def _again(qn: Questionnaire, state: State, q: Question, problem: str) -> Step:
    return Step(state, [Outgoing(problem), _question_message(qn, state, q)])


def _handle_button(qn: Questionnaire, state: State, q: Question, token: str) -> Step:
    kind, _, rest = token.partition(":")
    question_id, _, choice = rest.partition(":")
    if question_id != q.id or kind not in {"a", "d", "k", "s", "b", "c"}:
        return Step(state, [Outgoing(m.ERR_STALE_BUTTON), _question_message(qn, state, q)])
    if kind == "b":
        return _back(qn, state)
    if kind == "s":
        return _skip(qn, state, q)
    if kind == "k":
        return _advance(qn, state, after=q.id) if q.id in state["answers"] else _again(qn, state, q, m.ERR_STALE_BUTTON)
    if kind == "d":
        return _done(qn, state, q)
    if kind == "c":
        return _clear_files(qn, state, q)
    if choice not in {c.value for c in q.options}:
        return Step(state, [Outgoing(m.ERR_STALE_BUTTON), _question_message(qn, state, q)])
    if q.type is QuestionType.MULTIPLE_CHOICE:
        selection = state["selection"]
        if choice in selection:
            selection.remove(choice)
        else:
            selection.append(choice)
        return Step(state, [_question_message(qn, state, q, replaces=True)])
    return _record(qn, state, q, choice)


def _skip(qn: Questionnaire, state: State, q: Question) -> Step:
    if q.required:
        return _again(qn, state, q, q.required_message or m.ERR_REQUIRED)
    state["answers"].pop(q.id, None)
    if q.id not in state["skipped"]:
        state["skipped"].append(q.id)
    return _advance(qn, state, after=q.id)


def _done(qn: Questionnaire, state: State, q: Question) -> Step:
    if q.type is QuestionType.MULTIPLE_CHOICE:
        if state["selection"]:
            chosen = [c.value for c in q.options if c.value in state["selection"]]
            return _record(qn, state, q, chosen)
        if q.id in state["answers"]:
            return _advance(qn, state, after=q.id)
        return _again(qn, state, q, m.ERR_MULTIPLE_EMPTY)
    if q.type is QuestionType.EVIDENCE:
        if state["answers"].get(q.id):
            return _advance(qn, state, after=q.id)
        if q.required:
            return _again(qn, state, q, q.required_message or m.ERR_EVIDENCE_EMPTY)
        return _skip(qn, state, q)
    return _again(qn, state, q, hint(q) or m.ERR_UNSUPPORTED)


def _clear_files(qn: Questionnaire, state: State, q: Question) -> Step:
    if q.type is not QuestionType.EVIDENCE:
        return _again(qn, state, q, m.ERR_STALE_BUTTON)
    state["answers"].pop(q.id, None)
    return Step(state, [Outgoing(m.FILES_CLEARED), _question_message(qn, state, q)])


def _handle_files(qn: Questionnaire, state: State, q: Question, inbound: Inbound) -> Step:
    if q.type is not QuestionType.EVIDENCE:
        return _again(qn, state, q, m.ERR_FILE_NOT_EXPECTED)
    if q.accept == "image" and not all(f.kind == "photo" or (f.mime or "").startswith("image/") for f in inbound.files):
        return _again(qn, state, q, m.ERR_IMAGE_ONLY)
    stored = state["answers"].setdefault(q.id, [])
    if len(stored) + len(inbound.files) > q.max_files:
        if not stored:
            state["answers"].pop(q.id)
        return Step(state, [Outgoing(m.ERR_EVIDENCE_TOO_MANY.format(limit=q.max_files))])
    stored.extend(f.record() for f in inbound.files)
    if q.id in state["skipped"]:
        state["skipped"].remove(q.id)
    actions = (Button(m.DONE, f"d:{q.id}"), Button(m.CLEAR_FILES, f"c:{q.id}"))
    return Step(state, [Outgoing(m.EVIDENCE_RECEIVED.format(count=len(stored)), actions=actions)])


def _handle_text(qn: Questionnaire, state: State, q: Question, text: str, now: datetime) -> Step:
    word = fold(text)
    if word in m.WORDS_BACK:
        return _back(qn, state)
    if word in m.WORDS_SKIP:
        return _skip(qn, state, q)
    if word in m.WORDS_DONE and q.type in (QuestionType.MULTIPLE_CHOICE, QuestionType.EVIDENCE):
        return _done(qn, state, q)
    if word in m.WORDS_CLEAR and q.type is QuestionType.EVIDENCE:
        return _clear_files(qn, state, q)
    if word in m.WORDS_KEEP and q.id in state["answers"]:
        return _advance(qn, state, after=q.id)
    try:
        value = parse_typed(q, text, now.date())
    except InvalidAnswer as problem:
        return _again(qn, state, q, str(problem))
    return _record(qn, state, q, value)


def _handle_review(qn: Questionnaire, state: State, inbound: Inbound, now: datetime) -> Step:
    items = review_items(qn, state)
    token = inbound.button or ""
    word = fold(clean_input(inbound.text or ""))
    if token == "r:submit" or word in m.WORDS_SUBMIT:
        return _submit(qn, state, now)
    if token == "r:back" or word in m.WORDS_BACK:
        return _back(qn, state)
    if token == "r:edit" or word in m.WORDS_EDIT:
        return Step(state, [_edit_picker(qn, state)])
    target: Question | None = None
    if token.startswith("e:") and qn.has(token[2:]):
        target = qn.question(token[2:])
    else:
        number = word.removeprefix("sua cau").removeprefix("sua").strip()
        if number.isascii() and number.isdigit():
            if not 1 <= int(number) <= len(items):
                return Step(state, [Outgoing(m.ERR_REVIEW_NUMBER.format(number=number, count=len(items)))])
            target = items[int(number) - 1]
    if target is None or target not in items:
        if token:
            return Step(state, [Outgoing(m.ERR_STALE_BUTTON), _review(qn, state)])
        return Step(state, [Outgoing(m.ERR_REVIEW_INPUT)])
    state["phase"], state["current"], state["editing"], state["selection"] = "question", target.id, True, []
    return Step(state, [_question_message(qn, state, target)])
