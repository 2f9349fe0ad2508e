"""The question types, in one table: for each, its hint, how a typed answer is read, how an answer is shown, how it
earns points, its XLSForm type, and what it is (asked or not, choices, numbers, files…) for the engine, the
definition's checks, the XLSForm reader and writer, the service and the exports, which ask the table rather than
the type. A new question type is a row here, its sentences in messages.py, and its name in QuestionType."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from conversations import answers as a
from conversations import messages as m

if TYPE_CHECKING:
    from conversations.definition import Question


class QuestionType(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    YES_NO = "yes_no"
    INTEGER = "integer"
    DECIMAL = "decimal"
    PERCENTAGE = "percentage"
    TEXT = "text"
    DATE = "date"
    EVIDENCE = "evidence"
    NOTE = "note"
    CALCULATE = "calculate"


Value = Any


def _refuse(message: str) -> Callable[[Question, str, date], Value]:
    def parse(q: Question, text: str, today: date) -> Value:
        raise a.InvalidAnswer(message)

    return parse


def _said(hint: str | None) -> Callable[[Question], str | None]:
    return lambda q: hint


def _choice_points(q: Question, value: Value) -> float:
    points = {c.value: c.points or 0.0 for c in q.options}
    return points.get(value, 0.0) if isinstance(value, str) else 0.0


def _sum_points(q: Question, value: Value) -> float:
    if not isinstance(value, list):
        return _choice_points(q, value)
    points = {c.value: c.points or 0.0 for c in q.options}
    return min(sum(points.get(v, 0.0) for v in value), q.max_points)


def _band_points(q: Question, value: Value) -> float:
    if not q.bands or isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    return next((b.points for b in q.bands if b.contains(float(value))), 0.0)


def _no_points(q: Question, value: Value) -> float:
    return 0.0


def _hint_single(q: Question) -> str:
    return m.HINT_SINGLE_NUMBERED if a.numbered_labels([c.label for c in q.options]) else m.HINT_SINGLE


def _hint_percentage(q: Question) -> str:
    low, high = a.percentage_range(q)
    return m.HINT_PERCENTAGE.format(low=a.number_text(low), high=a.number_text(high))


def _show_choice(q: Question, value: Value) -> str:
    return {c.value: c.label for c in q.options}.get(value, str(value))


def _show_choices(q: Question, value: Value) -> str:
    labels = {c.value: c.label for c in q.options}
    return "; ".join(labels.get(v, str(v)) for v in value)


def _show_calculated(q: Question, value: Value) -> str:
    return str(value) if isinstance(value, str) else a.number_text(value)


@dataclass(frozen=True)
class Kind:
    """What one question type is and does."""

    hint: Callable[[Question], str | None]
    """The line under the question saying how to answer."""
    parse: Callable[[Question, str, date], Value]
    """A typed text as an answer, or InvalidAnswer saying why not."""
    display: Callable[[Question, Value], str]
    """An answer as a person reads it."""
    points: Callable[[Question, Value], float]
    """The points an answer earns (choice points, their sum, or bands)."""
    xlsform: Callable[[Question], str]
    """The XLSForm `type` cell written for it."""
    xlsform_names: tuple[str, ...] = ()
    """The XLSForm types read as this type (percentage and yes/no are read from decimal and select_one)."""
    xlsform_cells: Mapping[str, str] = field(default_factory=dict)
    """Other survey cells that say the type in XLSForm (`percentage: yes`)."""
    answerable: bool = True
    """Asked (not a note or a calculated value)."""
    has_value: bool = True
    """Answered or calculated: something later conditions and expressions can use."""
    choices: bool = False
    """Answered by choosing among options."""
    yes_no: bool = False
    """The options are Có/Không, built in (their points in points_yes/points_no)."""
    multiple: bool = False
    """Several options are ticked, then "Xong"."""
    number: bool = False
    """A typed number (min and max, compared as a number)."""
    percentage: bool = False
    """A number between 0 and 100 that a criterion may take from the survey (`measured_by`)."""
    banded: bool = False
    """May earn points by bands."""
    text: bool = False
    """Free text: a length limit, a wide column."""
    compared_as_text: bool = False
    """An XLSForm `relevant` compares it with a text literal."""
    files: bool = False
    """Answered by sending files (evidence)."""
    calculated: bool = False
    """Its value is computed from a `calculation`."""

    @property
    def gathers(self) -> bool:
        """Answered in several messages, ended by "Xong" (ticked options, files)."""
        return self.multiple or self.files


def _select(kind: str) -> Callable[[Question], str]:
    return lambda q: f"{kind} {q.id}"


def _named(name: str) -> Callable[[Question], str]:
    return lambda q: name


KINDS: dict[QuestionType, Kind] = {
    QuestionType.SINGLE_CHOICE: Kind(
        _hint_single,
        lambda q, text, today: a.match_choice(q, text).value,
        _show_choice,
        _choice_points,
        _select("select_one"),
        ("select_one",),
        choices=True,
        compared_as_text=True,
    ),
    QuestionType.MULTIPLE_CHOICE: Kind(
        _said(m.HINT_MULTIPLE),
        lambda q, text, today: a.parse_multiple(q, text),
        _show_choices,
        _sum_points,
        _select("select_multiple"),
        ("select_multiple",),
        choices=True,
        multiple=True,
    ),
    QuestionType.YES_NO: Kind(
        _hint_single,
        lambda q, text, today: a.match_choice(q, text).value,
        _show_choice,
        _choice_points,
        _select("select_one"),
        choices=True,
        yes_no=True,
        compared_as_text=True,
    ),
    QuestionType.INTEGER: Kind(
        lambda q: m.HINT_INTEGER.format(bounds=a.bounds_text(q)),
        lambda q, text, today: a.parse_integer(q, text),
        lambda q, value: a.number_text(value),
        _band_points,
        _named("integer"),
        ("integer",),
        number=True,
        banded=True,
    ),
    QuestionType.DECIMAL: Kind(
        lambda q: m.HINT_DECIMAL.format(bounds=a.bounds_text(q)),
        lambda q, text, today: a.parse_decimal(q, text),
        lambda q, value: a.number_text(value),
        _band_points,
        _named("decimal"),
        ("decimal",),
        number=True,
        banded=True,
    ),
    QuestionType.PERCENTAGE: Kind(
        _hint_percentage,
        lambda q, text, today: a.parse_percentage(q, text),
        lambda q, value: f"{a.number_text(value)} %",
        _band_points,
        _named("decimal"),
        xlsform_cells={"percentage": "yes"},
        number=True,
        percentage=True,
        banded=True,
    ),
    QuestionType.TEXT: Kind(
        lambda q: m.HINT_TEXT.format(limit=q.max_length),
        lambda q, text, today: a.parse_text(q, text),
        lambda q, value: str(value),
        _no_points,
        _named("text"),
        ("text",),
        text=True,
        compared_as_text=True,
    ),
    QuestionType.DATE: Kind(
        _said(m.HINT_DATE),
        a.parse_date,
        lambda q, value: a.date_text(date.fromisoformat(value)),
        _no_points,
        _named("date"),
        ("date",),
        compared_as_text=True,
    ),
    QuestionType.EVIDENCE: Kind(
        lambda q: m.HINT_IMAGE if q.accept == "image" else m.HINT_EVIDENCE,
        _refuse(m.ERR_EVIDENCE_TEXT),
        lambda q, value: m.REVIEW_FILES.format(count=len(value)),
        _no_points,
        lambda q: "image" if q.accept == "image" else "file",
        ("image", "file"),
        files=True,
    ),
    QuestionType.NOTE: Kind(
        _said(None),
        _refuse(m.ERR_UNSUPPORTED),
        lambda q, value: str(value),
        _no_points,
        _named("note"),
        ("note",),
        answerable=False,
        has_value=False,
    ),
    QuestionType.CALCULATE: Kind(
        _said(None),
        _refuse(m.ERR_UNSUPPORTED),
        _show_calculated,
        _band_points,
        _named("calculate"),
        ("calculate",),
        answerable=False,
        banded=True,
        calculated=True,
    ),
}
