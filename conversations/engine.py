"""The questionnaire engine: (definition, state, inbound, who) → (state, outgoing). It never sends anything.

One state is one draft, which several participants (the officers of a unit) may fill together: the answers are
shared, but each participant has a position of their own (the question or review screen they were last shown),
and an answer applies only to what its sender was shown. The host passes who is writing; the engine keeps no
identity beyond the key it is given (and, for shared drafts, a name to say who changed what).

State (see `State`) is JSON, persisted by the host between steps; `load_state` upgrades a state stored by an
older version of the engine (one position for everyone) on read.

Button tokens ("a:<question>:<choice>", "d:<question>", …) name the question they belong to, so a tap on an
old message is recognised and never applied to another question.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NotRequired, TypedDict, cast

from conversations import messages as m
from conversations.answers import InvalidAnswer, check_exclusive, display, hint, number_text, parse_typed
from conversations.conditions import as_asked, effective_answers, expected_count, unoffered, visible
from conversations.definition import Question, Questionnaire, answer_line, question_label
from conversations.expressions import Where
from conversations.localtime import clock_then_day
from conversations.measures import Rate, SurveyFigures, measured_criteria
from conversations.scoring import ScoreCard, score
from conversations.text import clean_input, fold

EXPLANATION_LIMIT = 1000
"""The longest explanation an officer may give beside a survey figure."""
STATE_SCHEMA = 2
"""1: one position for everyone (phase, current, trail, … at the top level); 2: a position per participant."""

Phase = Literal["question", "review", "submitted", "declined"]
"""Where a participant is: answering a question, on the review screen, or the draft is submitted or declined."""


class Position(TypedDict):
    """One participant's place in a draft."""

    phase: Literal["question", "review"]
    current: str | None
    """The question being asked (phase "question")."""
    trail: list[str]
    """The answerable questions shown before the current one, for "Quay lại"."""
    selection: list[str]
    """Choices ticked so far on the current multiple-choice question."""
    editing: bool
    """After "sửa N" from the review: answered questions are not asked again."""
    seen: int
    """The draft's revision when this participant was last shown their question or the review."""
    offered: list[str] | None
    """The choices the current question offered when shown (a choice filter may change them); None: not known."""


class Change(TypedDict):
    """Who last changed a question's answer in this draft, and at which revision."""

    by: str
    name: str | None
    revision: int


class FromSurvey(TypedDict):
    """A survey-measured criterion answered with the survey's figure: how many respondents it rested on then, and
    the officer's explanation, if any."""

    base: int
    note: str | None


class State(TypedDict):
    schema: int
    questionnaire: str
    version: str
    """What the answers were given on."""
    phase: Literal["open", "submitted", "declined"]
    """"declined": the respondent said no to the consent question; the survey ended there."""
    answers: dict[str, Any]
    """{question id: value}"""
    skipped: list[str]
    """Ids of optional questions skipped."""
    positions: dict[str, Position]
    """{participant key: position}; ANYONE holds a position stored before positions were per participant."""
    changes: dict[str, Change]
    revision: int
    """Counts the changes to answers, so a position knows whether what it was shown is still so."""
    started_at: str
    updated_at: str
    submitted_at: str | None
    revisit: NotRequired[list[str]]
    """Only on a submitted response reopened by reopen(): the questions to go through again."""
    notes: NotRequired[dict[str, str]]
    """The reviewer's notes on some of those."""
    from_survey: NotRequired[dict[str, FromSurvey]]
    """{criterion id: …} for the survey-measured criteria whose answer is the survey's figure."""


@dataclass(frozen=True)
class Participant:
    """Who is writing: a stable key (the host's keyed hash of the person) and, in shared drafts, the name shown
    to the others when this person changes an answer they were looking at."""

    key: str
    name: str | None = None


ALONE = Participant("")
"""The one participant of a draft nobody shares (a citizen's survey, a preview, tests)."""
ANYONE = "*"
"""The position of a state stored with one position for everyone: taken over by the first to write."""


@dataclass(frozen=True)
class FileRef:
    """A file the user sent, as the channel knows it; the host may add a digest and a stored path."""

    file_id: str
    kind: str = "document"
    name: str | None = None
    mime: str | None = None
    size: int | None = None
    sha256: str | None = None
    channel: str | None = None
    """Where it came from (telegram, zalo_oa…), once its bytes are kept."""

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
    declined: bool = False
    """The respondent said no to the consent question: the response ends here and counts in no figure."""


@dataclass
class _Turn:
    """One participant's message being applied to a draft."""

    qn: Questionnaire
    state: State
    who: Participant
    figures: SurveyFigures | None = None
    """The survey's current figures for the unit's survey-measured criteria, when the host gives them."""

    def survey_rate(self, q: Question) -> Rate | None:
        """The figure a survey-measured criterion is answered with, when it rests on enough respondents."""
        return self.figures.usable(q.id) if self.figures is not None and q.measured_by is not None else None

    @property
    def pos(self) -> Position:
        return self.state["positions"][self.who.key]


# ---------------------------------------------------------------- the stored state


def _new_position() -> Position:
    return {
        "phase": "question",
        "current": None,
        "trail": [],
        "selection": [],
        "editing": False,
        "seen": 0,
        "offered": None,
    }


def _copied(state: State) -> State:
    """A copy of a state to change, sharing nothing with it (a state is JSON: dicts, lists and scalars)."""
    return cast(State, _copy_json(state))


_SCALARS = frozenset({str, int, float, bool, type(None)})
"""JSON's values that are not containers: kept as they are, without a call for each (most of a state's values)."""


def _copy_json(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {key: item if type(item) in _SCALARS else _copy_json(item) for key, item in value.items()}
    if kind is list:
        return [item if type(item) in _SCALARS else _copy_json(item) for item in value]
    if kind in _SCALARS:
        return value
    return copy.deepcopy(value)


def load_state(raw: Mapping[str, Any]) -> State:
    """The state as this engine keeps it; a state of schema 1 (one position for everyone) is upgraded."""
    if raw.get("schema") == STATE_SCHEMA:
        return cast(State, raw)
    old = dict(raw)
    submitted = old.get("phase") == "submitted"
    state: State = {
        "schema": STATE_SCHEMA,
        "questionnaire": old["questionnaire"],
        "version": old["version"],
        "phase": "submitted" if submitted else "open",
        "answers": old.get("answers", {}),
        "skipped": old.get("skipped", []),
        "positions": {},
        "changes": {},
        "revision": 0,
        "started_at": old.get("started_at", ""),
        "updated_at": old.get("updated_at", ""),
        "submitted_at": old.get("submitted_at"),
    }
    if not submitted:
        state["positions"][ANYONE] = {
            "phase": "review" if old.get("phase") == "review" else "question",
            "current": old.get("current"),
            "trail": old.get("trail", []),
            "selection": old.get("selection", []),
            "editing": bool(old.get("editing")),
            "seen": 0,
            "offered": None,
        }
    for key in ("revisit", "notes"):
        if key in old:
            state[key] = old[key]
    return state


def as_stored(state: State) -> dict[str, Any]:
    """The state as the host stores it (JSON)."""
    return cast(dict[str, Any], state)


def phase(state: Mapping[str, Any], who: Participant = ALONE) -> Phase:
    loaded = load_state(state)
    if loaded["phase"] != "open":
        return loaded["phase"]
    pos = loaded["positions"].get(who.key) or loaded["positions"].get(ANYONE)
    return pos["phase"] if pos is not None else "question"


def current_question(qn: Questionnaire, state: Mapping[str, Any], who: Participant = ALONE) -> Question | None:
    """The question this participant is being asked; None on the review screen or when they have no place."""
    loaded = load_state(state)
    pos = loaded["positions"].get(who.key) or loaded["positions"].get(ANYONE)
    if loaded["phase"] != "open" or pos is None or pos["phase"] != "question":
        return None
    current = pos["current"]
    return qn.question(current) if current and qn.has(current) else None


def wants_figures(qn: Questionnaire, state: Mapping[str, Any], who: Participant = ALONE) -> bool:
    """Whether the participant is where the survey's figures are shown: on a criterion measured by the survey, or on
    the review screen of a questionnaire that has such criteria."""
    if not measured_criteria(qn):
        return False
    q = current_question(qn, state, who)
    return (q is not None and q.measured_by is not None) or phase(state, who) == "review"


def participants(state: Mapping[str, Any]) -> set[str]:
    """The keys of those who have a place in the draft."""
    return set(load_state(state)["positions"]) - {ANYONE}


# ---------------------------------------------------------------- starting and showing


def start(qn: Questionnaire, now: datetime, who: Participant = ALONE, figures: SurveyFigures | None = None) -> Step:
    state: State = {
        "schema": STATE_SCHEMA,
        "questionnaire": qn.id,
        "version": qn.version,
        "phase": "open",
        "answers": {},
        "skipped": [],
        "positions": {who.key: _new_position()},
        "changes": {},
        "revision": 0,
        "started_at": now.isoformat(),
        "updated_at": now.isoformat(),
        "submitted_at": None,
    }
    intro = [Outgoing(qn.intro, header=qn.title)]
    if qn.notice:
        intro.append(Outgoing(qn.notice))
    step = _advance(_Turn(qn, state, who, figures), after=None)
    return Step(step.state, intro + step.outgoing)


def resume(
    qn: Questionnaire, state: Mapping[str, Any], who: Participant = ALONE, figures: SurveyFigures | None = None
) -> Step:
    """Show again where the participant is, after a pause or a restart; someone new to a shared draft is given a
    place of their own at the first question nobody has answered. The given state is not modified."""
    loaded = _copied(load_state(state))
    if loaded["phase"] != "open":
        return Step(loaded, [Outgoing(m.ERR_LOCKED)])
    turn = _Turn(qn, loaded, who, figures)
    if not _take_place(turn):
        return _join(turn, [Outgoing(m.RESUME)])
    return Step(loaded, [Outgoing(m.RESUME), *_prompt(turn)])


def reopen(
    qn: Questionnaire,
    state: Mapping[str, Any],
    question_ids: Collection[str],
    notes: Mapping[str, str],
    now: datetime,
    who: Participant = ALONE,
    figures: SurveyFigures | None = None,
) -> Step:
    """Open a submitted state again on some questions (a self-assessment returned for corrections): each is asked
    again in questionnaire order with its current answer and the reviewer's note, then the review; the other
    answers stay as they were. The given state is not modified."""
    loaded = _copied(load_state(state))
    loaded["phase"], loaded["submitted_at"], loaded["updated_at"] = "open", None, now.isoformat()
    loaded["positions"], loaded["changes"] = {who.key: _new_position()}, {}
    loaded["revisit"] = [q.id for q in qn.questions if q.id in question_ids]
    loaded["notes"] = {qid: note for qid, note in notes.items() if note}
    step = _advance(_Turn(qn, loaded, who, figures), after=None)
    opening = m.REOPENED.format(count=len([q for q in review_items(qn, loaded) if q.id in question_ids]))
    return Step(step.state, [Outgoing(opening), *step.outgoing])


def _take_place(turn: _Turn) -> bool:
    """Whether the participant has a place; a place stored for anyone (schema 1) becomes theirs."""
    positions = turn.state["positions"]
    if turn.who.key not in positions and ANYONE in positions:
        positions[turn.who.key] = positions.pop(ANYONE)
    return turn.who.key in positions


def _join(turn: _Turn, opening: list[Outgoing]) -> Step:
    """A new place in a shared draft: the questions to go through again after a return, else the first question
    nobody has answered yet, else the review."""
    turn.state["positions"][turn.who.key] = pos = _new_position()
    if turn.state.get("revisit") is not None or not turn.state["answers"]:
        step = _advance(turn, after=None)
        return Step(step.state, [*opening, *step.outgoing])
    pos["editing"] = True  # for this one move: to the first question still pending, from the start
    step = _advance(turn, after=None)
    pos["editing"] = False  # from there on forward, past what the others have answered
    return Step(step.state, [*opening, *step.outgoing])


def _progress(turn: _Turn, q: Question, shown: Sequence[Question] | None) -> str:
    """ "Câu 3/14": `shown` are the questions visible now when the caller has them (not walked again)."""
    answers = turn.state["answers"]
    shown = visible(turn.qn, answers) if shown is None else shown
    asked = [x.id for x in shown if x.answerable]
    index = asked.index(q.id) + 1 if q.id in asked else len(asked)
    header = m.PROGRESS.format(index=index, total=max(index, expected_count(turn.qn, answers, shown)))
    return f"{header} · {q.code}" if q.code else header


def _show_question(
    turn: _Turn, q: Question, *, replaces: bool = False, shown: Sequence[Question] | None = None
) -> Outgoing:
    """The question as the participant sees it; from now on their answer applies to this. `shown`: the questions
    visible given the answers now, when the caller has them."""
    state, pos = turn.state, turn.pos
    q = as_asked(turn.qn, q, state["answers"])
    pos["seen"], pos["offered"] = state["revision"], [c.value for c in q.options]
    lines = [q.text + ("" if q.required else f" {m.OPTIONAL}")]
    if q.help:
        lines.append(q.help)
    if q.id in state.get("notes", {}):
        lines.append(m.REVIEWER_NOTE.format(note=state.get("notes", {})[q.id]))
    answers = state["answers"]
    if q.kind.multiple and pos["selection"]:
        chosen = [c.label for c in q.options if c.value in pos["selection"]]
        lines.append(m.SELECTED.format(labels="; ".join(chosen)))
    elif q.kind.files and answers.get(q.id):
        listed = (f"{n}. {file_label(f.get('name'), f.get('kind'))}" for n, f in enumerate(answers[q.id], 1))
        lines.append(m.FILES_SENT.format(lines="\n".join(listed)))
    elif q.id in answers:
        lines.append(m.CURRENT_ANSWER.format(answer=_shown(turn, q)))
    rate = turn.survey_rate(q)
    if rate is not None:
        lines.append(m.SURVEY_FIGURE.format(base=rate.base, percent=number_text(rate.percent or 0)))
        lines.append(m.SURVEY_FIGURE_ASK.format(use=m.USE_SURVEY))
    elif turn.figures is not None and q.measured_by is not None and q.id in turn.figures.hidden:
        lines.append(m.SURVEY_HIDDEN)
    elif turn.figures is not None and q.measured_by is not None:
        base = turn.figures.rates.get(q.id, Rate(None, 0)).base
        lines.append(m.SURVEY_TOO_FEW.format(base=base, minimum=turn.figures.minimum))
    choices: tuple[Button, ...] = ()
    if q.options:
        ticked = set(pos["selection"])
        choices = tuple(Button(("✓ " if c.value in ticked else "") + c.label, f"a:{q.id}:{c.value}") for c in q.options)
    actions = [Button(m.USE_SURVEY, f"f:{q.id}")] if rate is not None else []
    if q.kind.gathers:
        actions.append(Button(m.DONE, f"d:{q.id}"))
    if q.id in answers and (not q.kind.files or answers[q.id]):
        actions.append(Button(m.KEEP, f"k:{q.id}"))
    if q.kind.files and answers.get(q.id):
        actions.append(Button(m.CLEAR_FILES, f"c:{q.id}"))
    if not q.required:
        actions.append(Button(m.SKIP, f"s:{q.id}"))
    if pos["trail"]:
        actions.append(Button(m.BACK, f"b:{q.id}"))
    return Outgoing(
        "\n".join(lines),
        header=_progress(turn, q, shown),
        hint=hint(q) if rate is None else None,
        choices=choices,
        actions=tuple(actions),
        replaces_prompt=replaces,
    )


def _prompt(turn: _Turn) -> list[Outgoing]:
    q = current_question(turn.qn, turn.state, turn.who)
    if q is not None:
        return [_show_question(turn, q)]
    return [_show_review(turn)]


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


def _survey_score(turn: _Turn) -> list[str]:
    """The score with the survey's figures for the survey-measured criteria, beside the self-score."""
    if turn.figures is None or not measured_criteria(turn.qn):
        return []
    replaced = turn.figures.answers(turn.qn, turn.state["answers"])
    if replaced is None and turn.figures.hidden:
        return [m.SCORE_SURVEY_HIDDEN]
    if replaced is None:
        return [m.SCORE_SURVEY_TOO_FEW.format(minimum=turn.figures.minimum)]
    card = score(turn.qn, replaced)
    return [m.SCORE_SURVEY.format(points=number_text(card.total), maximum=number_text(card.maximum))]


def survey_answer_text(state: Mapping[str, Any], q: Question, shown: str) -> str:
    """An answer as shown, with "theo 27 phiếu khảo sát" and the officer's explanation when it is the survey's
    figure."""
    used = state.get("from_survey", {}).get(q.id)
    if used is None:
        return shown
    text = f"{shown} ({m.SURVEY_BASE.format(base=used['base'])})"
    return text + (f"; {m.SURVEY_EXPLANATION.format(text=used['note'])}" if used["note"] else "")


def _shown(turn: _Turn, q: Question) -> str:
    return survey_answer_text(turn.state, q, display(q, turn.state["answers"][q.id]))


def shows_score(qn: Questionnaire) -> bool:
    """A unit sees its self-score; a citizen's knowledge points are for the analysis, not a grade to show."""
    return qn.scored and qn.kind == "self_assessment"


def review_items(qn: Questionnaire, state: Mapping[str, Any]) -> list[Question]:
    """The questions listed on the review screen, numbered from 1 in this order."""
    return [q for q in visible(qn, state["answers"]) if q.answerable]


def answered(qn: Questionnaire, state: Mapping[str, Any]) -> tuple[int, int]:
    """(answered, applying): how many of the questions that apply are answered. Those that apply are the questions
    shown by the answers so far and those whose show-if rests on a question not answered (nor skipped) yet, as the
    "Câu 3/28" an officer reads counts them; a question hidden by an answer (show-if) is not among them."""
    answers, asked = state["answers"], review_items(qn, state)
    decided = {**answers, **dict.fromkeys(state.get("skipped", ()))}
    return sum(q.id in answers for q in asked), expected_count(qn, decided, asked)


def _show_review(turn: _Turn) -> Outgoing:
    qn, state = turn.qn, turn.state
    turn.pos["phase"], turn.pos["current"], turn.pos["seen"] = "review", None, state["revision"]
    answers = state["answers"]
    lines = []
    for number, q in enumerate(review_items(qn, state), start=1):
        label = question_label(q)
        shown = _shown(turn, q) if q.id in answers else m.REVIEW_SKIPPED
        prefix = f"{q.code} " if q.code else ""
        lines.append(f"{number}. {answer_line(prefix + label, shown)}")
    if shows_score(qn):
        lines += ["", *_score_lines(score(qn, answers)), *_survey_score(turn)]
    actions = (Button(m.SUBMIT, "r:submit"), Button(m.EDIT, "r:edit"), Button(m.BACK, "r:back"))
    return Outgoing("\n".join(lines), header=m.REVIEW_TITLE, hint=m.REVIEW_FOOTER, actions=actions)


def _edit_picker(turn: _Turn) -> Outgoing:
    items = review_items(turn.qn, turn.state)
    buttons = tuple(Button(str(n), f"e:{q.id}") for n, q in enumerate(items, start=1))
    return Outgoing(m.REVIEW_PICK, actions=buttons)


# ---------------------------------------------------------------- what others changed meanwhile


def _changed_by_others(turn: _Turn, question_ids: Collection[str] | None = None) -> dict[str, Change]:
    """The questions someone else changed since this participant was last shown their screen."""
    seen = turn.pos["seen"]
    return {
        qid: c
        for qid, c in turn.state["changes"].items()
        if c["revision"] > seen and c["by"] != turn.who.key and (question_ids is None or qid in question_ids)
    }


def _who(change: Change) -> str:
    return change["name"] or m.SOMEONE_ELSE


def _conflict(turn: _Turn, q: Question) -> Step | None:
    """Refuse an action on the current question when it is no longer what the participant was shown: someone
    else changed its answer, its choices changed, or it no longer applies. Nothing is stored; the participant is
    shown where things stand now."""
    state, pos = turn.state, turn.pos
    changed = _changed_by_others(turn, {q.id}).get(q.id)
    if q.id not in {x.id for x in visible(turn.qn, state["answers"])}:
        pos["selection"] = []
        step = _advance(turn, after=q.id, remember=False)
        return Step(state, [Outgoing(m.CONFLICT_GONE), *step.outgoing])
    if changed is not None:
        pos["selection"] = []
        asked = as_asked(turn.qn, q, state["answers"])
        if q.id in state["answers"]:
            said = m.CONFLICT_ANSWERED.format(name=_who(changed), answer=display(asked, state["answers"][q.id]))
        else:
            said = m.CONFLICT_CLEARED.format(name=_who(changed))
        return Step(state, [Outgoing(said), _show_question(turn, q)])
    offered = [c.value for c in as_asked(turn.qn, q, state["answers"]).options]
    if pos["offered"] is not None and offered != pos["offered"]:
        pos["selection"] = []
        return Step(state, [Outgoing(m.CONFLICT_CHOICES), _show_question(turn, q)])
    return None


def _review_conflict(turn: _Turn) -> Step | None:
    """Refuse a review action when someone else changed answers since this review screen was shown."""
    changed = _changed_by_others(turn)
    if not changed:
        return None
    numbers = {q.id: n for n, q in enumerate(review_items(turn.qn, turn.state), start=1)}
    names = sorted({_who(c) for c in changed.values()})
    items = [
        f"{numbers[qid]}" + (f" ({turn.qn.question(qid).code})" if turn.qn.question(qid).code else "")
        for qid in sorted(changed, key=turn.qn.position)
        if qid in numbers
    ]
    said = m.CONFLICT_REVIEW.format(names=", ".join(names), items=", ".join(items) or m.CONFLICT_REVIEW_HIDDEN)
    return Step(turn.state, [Outgoing(said), _show_review(turn)])


def _note_change(turn: _Turn, question_id: str) -> None:
    state = turn.state
    state["revision"] += 1
    state["changes"][question_id] = {"by": turn.who.key, "name": turn.who.name, "revision": state["revision"]}


# ---------------------------------------------------------------- moving


def _pending(state: State, q: Question) -> bool:
    return q.id not in state["answers"] and q.id not in state["skipped"]


def _others_did(turn: _Turn, q: Question) -> bool:
    """Someone else answered or skipped the question: going forward, this participant need not see it again."""
    change = turn.state["changes"].get(q.id)
    return change is not None and change["by"] != turn.who.key and not _pending(turn.state, q)


def _advance(turn: _Turn, after: str | None, remember: bool = True) -> Step:
    """Move to the next question to ask (notes are shown on the way), or to the review."""
    qn, state, pos = turn.qn, turn.state, turn.pos
    if remember and pos["current"] and pos["phase"] == "question" and after is not None:
        pos["trail"].append(pos["current"])
    pos["selection"] = []
    notes: list[Outgoing] = []
    shown = visible(qn, state["answers"])
    start_at = qn.position(after) + 1 if after is not None else 0
    order = [q for q in shown if qn.position(q.id) >= start_at and not _others_did(turn, q)]
    if state.get("revisit") is not None:  # reopened: the listed questions, and any new ones they bring up
        revisit = state.get("revisit", [])
        order = [q for q in order if q.id in revisit or (q.answerable and _pending(state, q))]
    if pos["editing"]:
        order = [q for q in order if not q.answerable or _pending(state, q)]
        order += [q for q in shown if qn.position(q.id) < start_at and q.answerable and _pending(state, q)]
        order = [q for q in order if q.answerable]
    for q in order:
        if not q.answerable:
            note = as_asked(qn, q, state["answers"])
            notes.append(Outgoing(note.text, hint=note.help))
            continue
        pos["phase"], pos["current"] = "question", q.id
        return Step(state, [*notes, _show_question(turn, q, shown=shown)])
    missing = next((q for q in shown if q.answerable and q.required and q.id not in state["answers"]), None)
    if missing is not None:
        pos["phase"], pos["current"], pos["editing"] = "question", missing.id, True
        return Step(state, [*notes, _show_question(turn, missing, shown=shown)])
    pos["editing"] = False
    return Step(state, [*notes, _show_review(turn)])


def _back(turn: _Turn) -> Step:
    pos = turn.pos
    if pos["editing"]:  # came from the review to change one answer: back means back to the review
        return _advance(turn, after=None)
    shown = {q.id for q in visible(turn.qn, turn.state["answers"])}
    trail = pos["trail"]
    while trail and trail[-1] not in shown:
        trail.pop()
    if not trail:
        return Step(turn.state, [Outgoing(m.ERR_FIRST_QUESTION), *_prompt(turn)])
    pos["phase"], pos["current"], pos["selection"] = "question", trail.pop(), []
    pos["editing"] = False
    return Step(turn.state, _prompt(turn))


def _violation(qn: Questionnaire, answers: dict[str, Any], q: Question, value: Any) -> str | None:
    """What to say when the value breaks the question's constraint, given the other answers; None when it holds."""
    constraint = q.expression(Where.CONSTRAINT)
    if constraint is None or constraint.holds(effective_answers(qn, {**answers, q.id: value}), current=value):
        return None
    return q.constraint_message or m.ERR_CONSTRAINT


def _record(turn: _Turn, q: Question, value: Any) -> Step:
    state = turn.state
    problem = _violation(turn.qn, state["answers"], q, value)
    if problem is not None:
        return _again(turn, q, problem)
    if q.consent and value == "khong":
        return _decline(turn, q)
    state["answers"][q.id] = value
    state.get("from_survey", {}).pop(q.id, None)
    _note_change(turn, q.id)
    while (stale := unoffered(turn.qn, state["answers"])) is not None:
        del state["answers"][stale]  # as ODK clears it: asked again
        _note_change(turn, stale)
    if q.id in state["skipped"]:
        state["skipped"].remove(q.id)
    return _advance(turn, after=q.id)


def _decline(turn: _Turn, q: Question) -> Step:
    """No consent: the survey ends at once, keeping only that answer (no review, nothing to submit)."""
    state = turn.state
    state["answers"], state["skipped"] = {q.id: "khong"}, []
    state["phase"], state["positions"], state["changes"] = "declined", {}, {}
    return Step(state, [Outgoing(m.DECLINED)], declined=True)


def _submit(turn: _Turn, now: datetime) -> Step:
    qn, state, pos = turn.qn, turn.state, turn.pos
    missing = next(
        (q for q in visible(qn, state["answers"]) if q.answerable and q.required and q.id not in state["answers"]),
        None,
    )
    if missing is not None:
        pos["phase"], pos["current"], pos["editing"] = "question", missing.id, True
        return Step(state, [_show_question(turn, missing)])
    for q in visible(qn, state["answers"]):  # an answer changed since may have broken a later constraint
        problem = _violation(qn, state["answers"], q, state["answers"][q.id]) if q.id in state["answers"] else None
        if problem is not None:
            pos["phase"], pos["current"], pos["editing"] = "question", q.id, True
            return Step(state, [Outgoing(problem), _show_question(turn, q)])
    state["answers"] = effective_answers(qn, state["answers"])
    state["phase"], state["submitted_at"] = "submitted", now.isoformat()
    state["positions"], state["changes"] = {}, {}
    state.pop("revisit", None)
    state.pop("notes", None)
    lines = [qn.outro]
    if shows_score(qn):
        lines += ["", *_score_lines(score(qn, state["answers"])), *_survey_score(turn)]
    lines.append(m.SUBMITTED.format(time=clock_then_day(now)))
    return Step(state, [Outgoing("\n".join(lines))], submitted=True)


# ---------------------------------------------------------------- handling input


def handle(
    qn: Questionnaire,
    state: Mapping[str, Any],
    inbound: Inbound,
    now: datetime,
    who: Participant = ALONE,
    figures: SurveyFigures | None = None,
) -> Step:
    """Apply one inbound message from `who`. The given state is not modified; the step carries the new one.
    `figures`: the survey's current figures for the unit, shown on its survey-measured criteria instead of asking
    for them."""
    loaded = _copied(load_state(state))
    if loaded["phase"] != "open":
        return Step(loaded, [Outgoing(m.ERR_LOCKED)])
    loaded["updated_at"] = now.isoformat()
    turn = _Turn(qn, loaded, who, figures)
    if not _take_place(turn):  # never shown anything: nothing they send can be an answer yet
        return _join(turn, [])
    if turn.pos["phase"] == "review":
        return _handle_review(turn, inbound, now)
    q = current_question(qn, loaded, who)
    if q is None:  # the definition changed under a draft: find the right place again
        return _advance(turn, after=None)
    q = as_asked(qn, q, loaded["answers"])
    if inbound.button is not None:
        return _handle_button(turn, q, inbound.button)
    if inbound.files:
        return _conflict(turn, q) or _handle_files(turn, q, inbound)
    if inbound.text is None:
        return _again(turn, q, m.ERR_UNSUPPORTED)
    return _handle_text(turn, q, clean_input(inbound.text), now)


def _again(turn: _Turn, q: Question, problem: str) -> Step:
    return Step(turn.state, [Outgoing(problem), _show_question(turn, q)])


def _handle_button(turn: _Turn, q: Question, token: str) -> Step:
    state = turn.state
    kind, _, rest = token.partition(":")
    question_id, _, choice = rest.partition(":")
    if question_id != q.id or kind not in {"a", "d", "k", "s", "b", "c", "f"}:
        return Step(state, [Outgoing(m.ERR_STALE_BUTTON), _show_question(turn, q)])
    if kind == "b":
        return _back(turn)
    conflict = _conflict(turn, q)
    if conflict is not None:
        return conflict
    if kind == "s":
        return _skip(turn, q)
    if kind == "k":
        return _advance(turn, after=q.id) if q.id in state["answers"] else _again(turn, q, m.ERR_STALE_BUTTON)
    if kind == "d":
        return _done(turn, q)
    if kind == "c":
        return _clear_files(turn, q)
    if kind == "f":
        return _use_survey(turn, q, None)
    if choice not in {c.value for c in q.options}:
        return Step(state, [Outgoing(m.ERR_STALE_BUTTON), _show_question(turn, q)])
    if q.kind.multiple:
        selection = turn.pos["selection"]
        if choice in selection:
            selection.remove(choice)
        else:
            selection.append(choice)
        return Step(state, [_show_question(turn, q, replaces=True)])
    return _record(turn, q, choice)


def file_label(name: str | None, kind: str | None) -> str:
    """What a sent file is called in a message: its name, or "Ảnh" for a photo."""
    return name or (m.FILE_PHOTO if kind == "photo" else m.FILE_UNNAMED)


def _use_survey(turn: _Turn, q: Question, note: str | None) -> Step:
    """Answer a survey-measured criterion with the survey's current figure, and the officer's explanation."""
    rate = turn.survey_rate(q)
    if rate is None or rate.percent is None:
        return _again(turn, q, m.ERR_STALE_BUTTON)
    if note is not None and len(note) > EXPLANATION_LIMIT:
        return _again(turn, q, m.ERR_EXPLANATION_LONG.format(length=len(note), limit=EXPLANATION_LIMIT))
    step = _record(turn, q, rate.percent)
    if turn.state["answers"].get(q.id) == rate.percent:
        turn.state.setdefault("from_survey", {})[q.id] = {"base": rate.base, "note": note}
    return step


def _skip(turn: _Turn, q: Question) -> Step:
    state = turn.state
    if q.kind.files and state["answers"].get(q.id):  # files already sent are kept
        return _advance(turn, after=q.id)
    if q.required:
        return _again(turn, q, q.required_message or m.ERR_REQUIRED)
    state["answers"].pop(q.id, None)
    state.get("from_survey", {}).pop(q.id, None)
    if q.id not in state["skipped"]:
        state["skipped"].append(q.id)
    _note_change(turn, q.id)
    return _advance(turn, after=q.id)


def _done(turn: _Turn, q: Question) -> Step:
    state, selection = turn.state, turn.pos["selection"]
    if q.kind.multiple:
        if selection:
            chosen = [c.value for c in q.options if c.value in selection]
            try:
                check_exclusive(q, chosen)
            except InvalidAnswer as problem:
                return _again(turn, q, str(problem))
            return _record(turn, q, chosen)
        if q.id in state["answers"]:
            return _advance(turn, after=q.id)
        return _again(turn, q, m.ERR_MULTIPLE_EMPTY)
    if q.kind.files:
        if state["answers"].get(q.id):
            return _advance(turn, after=q.id)
        if q.required:
            return _again(turn, q, q.required_message or m.ERR_EVIDENCE_EMPTY)
        return _skip(turn, q)
    return _again(turn, q, hint(q) or m.ERR_UNSUPPORTED)


def _clear_files(turn: _Turn, q: Question) -> Step:
    if not q.kind.files:
        return _again(turn, q, m.ERR_STALE_BUTTON)
    if turn.state["answers"].pop(q.id, None) is not None:
        _note_change(turn, q.id)
    return Step(turn.state, [Outgoing(m.FILES_CLEARED), _show_question(turn, q)])


def _remove_file(turn: _Turn, q: Question, number: int) -> Step:
    files = turn.state["answers"].get(q.id) or []
    if not 1 <= number <= len(files):
        return _again(turn, q, m.ERR_FILE_NUMBER.format(number=number, count=len(files)))
    removed, rest = files[number - 1], files[: number - 1] + files[number:]
    if rest:
        turn.state["answers"][q.id] = rest
    else:
        turn.state["answers"].pop(q.id)
    _note_change(turn, q.id)
    name = file_label(removed.get("name"), removed.get("kind"))
    said = m.FILE_REMOVED.format(number=number, name=name, count=len(rest))
    return Step(turn.state, [Outgoing(said), _show_question(turn, q)])


def _file_number(word: str) -> int | None:
    """The number in "xoá 2" / "xoá tệp 2" (folded); None when the words are not that."""
    for prefix in m.WORDS_REMOVE_ONE:
        number = word.removeprefix(prefix).strip() if word.startswith(prefix + " ") else ""
        if number.isascii() and number.isdigit():
            return int(number)
    return None


def _is_image(f: FileRef) -> bool:
    """By its type (the host reads it from the content), else by what the platform calls it."""
    return f.mime.startswith("image/") if f.mime else f.kind == "photo"


def _handle_files(turn: _Turn, q: Question, inbound: Inbound) -> Step:
    state = turn.state
    if not q.kind.files:
        return _again(turn, q, m.ERR_FILE_NOT_EXPECTED)
    if q.accept == "image" and not all(_is_image(f) for f in inbound.files):
        return _again(turn, q, m.ERR_IMAGE_ONLY)
    stored = state["answers"].get(q.id, [])
    if len(stored) + len(inbound.files) > q.max_files:
        return Step(state, [Outgoing(m.ERR_EVIDENCE_TOO_MANY.format(limit=q.max_files))])
    state["answers"][q.id] = stored = [*stored, *(f.record() for f in inbound.files)]
    if q.id in state["skipped"]:
        state["skipped"].remove(q.id)
    _note_change(turn, q.id)
    actions = (Button(m.DONE, f"d:{q.id}"), Button(m.CLEAR_FILES, f"c:{q.id}"))
    return Step(state, [Outgoing(m.EVIDENCE_RECEIVED.format(count=len(stored)), actions=actions)])


def _edit_number(word: str) -> str | None:
    """The number in "sửa 3" / "sửa câu 3" (folded), or the bare number; None when there is none."""
    number = word.removeprefix("sua cau").removeprefix("sua").strip()
    return number if number.isascii() and number.isdigit() else None


def _is_review_action(word: str) -> bool:
    return word in m.WORDS_SUBMIT or word in m.WORDS_EDIT or (word.startswith("sua") and _edit_number(word) is not None)


def _handle_text(turn: _Turn, q: Question, text: str, now: datetime) -> Step:
    state = turn.state
    word = fold(text)
    if word in m.WORDS_BACK:
        return _back(turn)
    if _is_review_action(word):  # meant for a review screen (perhaps one another officer left): never an answer
        return _again(turn, q, m.ERR_REVIEW_WORD.format(text=text))
    conflict = _conflict(turn, q)
    if conflict is not None:
        return conflict
    if word in m.WORDS_SKIP:
        return _skip(turn, q)
    if word in m.WORDS_DONE and q.kind.gathers:
        return _done(turn, q)
    if word in m.WORDS_CLEAR and q.kind.files:
        return _clear_files(turn, q)
    number = _file_number(word) if q.kind.files else None
    if number is not None:
        return _remove_file(turn, q, number)
    if word in m.WORDS_KEEP and q.id in state["answers"]:
        return _advance(turn, after=q.id)
    if turn.survey_rate(q) is not None:  # the figure is the survey's: what is typed explains it
        return _use_survey(turn, q, None if word in m.WORDS_USE_SURVEY else text)
    try:
        value = parse_typed(q, text, now.date())
    except InvalidAnswer as problem:
        return _again(turn, q, str(problem))
    return _record(turn, q, value)


def _handle_review(turn: _Turn, inbound: Inbound, now: datetime) -> Step:
    qn, state, pos = turn.qn, turn.state, turn.pos
    token = inbound.button or ""
    word = fold(clean_input(inbound.text or ""))
    if token == "r:back" or word in m.WORDS_BACK:
        return _back(turn)
    if token == "r:submit" or word in m.WORDS_SUBMIT:
        return _review_conflict(turn) or _submit(turn, now)
    if token == "r:edit" or word in m.WORDS_EDIT:
        return Step(state, [_edit_picker(turn)])
    items = review_items(qn, state)
    target: Question | None = None
    if token.startswith("e:") and qn.has(token[2:]):
        target = qn.question(token[2:])
    elif (number := _edit_number(word)) is not None:
        conflict = _review_conflict(turn)  # the numbers may have moved since the screen was shown
        if conflict is not None:
            return conflict
        if not 1 <= int(number) <= len(items):
            return Step(state, [Outgoing(m.ERR_REVIEW_NUMBER.format(number=number, count=len(items)))])
        target = items[int(number) - 1]
    if target is None or target not in items:
        if token:
            return Step(state, [Outgoing(m.ERR_STALE_BUTTON), _show_review(turn)])
        return Step(state, [Outgoing(m.ERR_REVIEW_INPUT)])
    pos["phase"], pos["current"], pos["editing"], pos["selection"] = "question", target.id, True, []
    return Step(state, [_show_question(turn, target)])
