"""Reading a typed answer for one question, and showing a stored answer back.

An answer value is JSON: a choice value (str), a list of choice values, an int, a float, a text, an ISO date,
or a list of evidence file records. parse_* return the value or raise InvalidAnswer with the message to show.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any

from conversations import messages as m
from conversations.definition import Choice, Question, QuestionType
from conversations.text import fold

Value = Any


class InvalidAnswer(ValueError):
    """The user's input does not answer the question; the message says why, in Vietnamese."""


def number_text(number: float) -> str:
    """12 → "12", 12.5 → "12,5": the Vietnamese decimal comma."""
    if float(number).is_integer():
        return str(int(number))
    return f"{number:.2f}".rstrip("0").replace(".", ",")


def _bounds(q: Question) -> str:
    low, high = q.min, q.max
    if low is not None and high is not None:
        return m.BOUNDS_BETWEEN.format(low=number_text(low), high=number_text(high))
    if low is not None:
        return m.BOUNDS_AT_LEAST.format(low=number_text(low))
    if high is not None:
        return m.BOUNDS_AT_MOST.format(high=number_text(high))
    return ""


def _percentage_range(q: Question) -> tuple[float, float]:
    return (q.min if q.min is not None else 0.0, q.max if q.max is not None else 100.0)


def hint(q: Question) -> str | None:
    t = q.type
    if t in (QuestionType.SINGLE_CHOICE, QuestionType.YES_NO):
        return m.HINT_SINGLE
    if t is QuestionType.MULTIPLE_CHOICE:
        return m.HINT_MULTIPLE
    if t is QuestionType.INTEGER:
        return m.HINT_INTEGER.format(bounds=_bounds(q))
    if t is QuestionType.DECIMAL:
        return m.HINT_DECIMAL.format(bounds=_bounds(q))
    if t is QuestionType.PERCENTAGE:
        low, high = _percentage_range(q)
        return m.HINT_PERCENTAGE.format(low=number_text(low), high=number_text(high))
    if t is QuestionType.TEXT:
        return m.HINT_TEXT.format(limit=q.max_length)
    if t is QuestionType.DATE:
        return m.HINT_DATE
    if t is QuestionType.EVIDENCE:
        return m.HINT_IMAGE if q.accept == "image" else m.HINT_EVIDENCE
    return None


def pick(labels: Sequence[str], text: str, codes: Sequence[str] = ()) -> int:
    """The index of the option a typed text means: its number, its label with or without diacritics,
    its code, or an unambiguous start of its label."""
    key = fold(text).rstrip(".)")
    if key.isascii() and key.isdigit():
        index = int(key)
        if 1 <= index <= len(labels):
            return index - 1
        raise InvalidAnswer(m.ERR_CHOICE.format(count=len(labels)))
    folded = [fold(label) for label in labels]
    exact = [i for i, label in enumerate(folded) if label == key]
    exact += [i for i, code in enumerate(codes) if fold(code) == key and i not in exact]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        raise InvalidAnswer(m.ERR_CHOICE_AMBIGUOUS.format(text=text))
    if len(key) >= 3:
        prefixed = [i for i, label in enumerate(folded) if label.startswith(key) or f" {key}" in label]
        if len(prefixed) == 1:
            return prefixed[0]
        if len(prefixed) > 1:
            raise InvalidAnswer(m.ERR_CHOICE_AMBIGUOUS.format(text=text))
    raise InvalidAnswer(m.ERR_CHOICE.format(count=len(labels)))


def match_choice(q: Question, text: str) -> Choice:
    options = q.options
    return options[pick([c.label for c in options], text, [c.value for c in options])]


def parse_multiple(q: Question, text: str) -> list[str]:
    parts = [p for p in re.split(r"[,;]|\s+(?=\d)", text) if p.strip()]
    if not parts:
        raise InvalidAnswer(m.ERR_MULTIPLE_EMPTY)
    chosen = {match_choice(q, part.strip()).value for part in parts}
    return [c.value for c in q.options if c.value in chosen]


_THOUSANDS = re.compile(r"^-?\d{1,3}([. ]\d{3})+$")


def _read_number(text: str) -> float | None:
    raw = text.strip().replace("\u00a0", " ").rstrip("%").strip()
    if _THOUSANDS.match(raw):
        raw = raw.replace(".", "").replace(" ", "")
    raw = raw.replace(",", ".")
    if not re.fullmatch(r"-?\d+(\.\d+)?", raw):
        return None
    return float(raw)


def parse_number(q: Question, text: str) -> int | float:
    number = _read_number(text)
    if q.type is QuestionType.PERCENTAGE:
        low, high = _percentage_range(q)
        if number is None or not low <= number <= high:
            raise InvalidAnswer(m.ERR_PERCENTAGE.format(low=number_text(low), high=number_text(high)))
        return number
    in_bounds = number is not None and (q.min is None or number >= q.min) and (q.max is None or number <= q.max)
    if q.type is QuestionType.INTEGER:
        if number is None or not number.is_integer() or not in_bounds:
            raise InvalidAnswer(m.ERR_INTEGER.format(bounds=_bounds(q)))
        return int(number)
    if number is None or not in_bounds:
        raise InvalidAnswer(m.ERR_NUMBER.format(bounds=_bounds(q)))
    return number


def parse_text(q: Question, text: str) -> str:
    if not text:
        raise InvalidAnswer(m.ERR_TEXT_EMPTY)
    limit = q.max_length or 0
    if len(text) > limit:
        raise InvalidAnswer(m.ERR_TEXT_LONG.format(length=len(text), limit=limit))
    return text


def date_text(value: date) -> str:
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


def parse_date(q: Question, text: str, today: date) -> str:
    found = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text.strip())
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text.strip())
    try:
        if found:
            value = date(int(found[3]), int(found[2]), int(found[1]))
        elif iso:
            value = date(int(iso[1]), int(iso[2]), int(iso[3]))
        else:
            raise InvalidAnswer(m.ERR_DATE)
    except ValueError as exc:
        raise InvalidAnswer(m.ERR_DATE) from exc
    if q.not_in_future and value > today:
        raise InvalidAnswer(m.ERR_DATE_FUTURE)
    if (q.min_date and value < q.min_date) or (q.max_date and value > q.max_date):
        low = date_text(q.min_date) if q.min_date else "…"
        high = date_text(q.max_date) if q.max_date else "…"
        raise InvalidAnswer(m.ERR_DATE_RANGE.format(low=low, high=high))
    return value.isoformat()


def parse_typed(q: Question, text: str, today: date) -> Value:
    """The value a typed text gives this question (not for evidence or multiple choice toggling)."""
    t = q.type
    if t in (QuestionType.SINGLE_CHOICE, QuestionType.YES_NO):
        return match_choice(q, text).value
    if t is QuestionType.MULTIPLE_CHOICE:
        return parse_multiple(q, text)
    if t in (QuestionType.INTEGER, QuestionType.DECIMAL, QuestionType.PERCENTAGE):
        return parse_number(q, text)
    if t is QuestionType.TEXT:
        return parse_text(q, text)
    if t is QuestionType.DATE:
        return parse_date(q, text, today)
    if t is QuestionType.EVIDENCE:
        raise InvalidAnswer(m.ERR_EVIDENCE_TEXT)
    raise InvalidAnswer(m.ERR_UNSUPPORTED)


def display(q: Question, value: Value) -> str:
    """An answer as a person reads it."""
    labels = {c.value: c.label for c in q.options}
    t = q.type
    if t in (QuestionType.SINGLE_CHOICE, QuestionType.YES_NO):
        return labels.get(value, str(value))
    if t is QuestionType.MULTIPLE_CHOICE:
        return "; ".join(labels.get(v, str(v)) for v in value)
    if t is QuestionType.PERCENTAGE:
        return f"{number_text(value)} %"
    if t in (QuestionType.INTEGER, QuestionType.DECIMAL):
        return number_text(value)
    if t is QuestionType.CALCULATE and not isinstance(value, str):
        return number_text(value)
    if t is QuestionType.DATE:
        return date_text(date.fromisoformat(value))
    if t is QuestionType.EVIDENCE:
        return m.REVIEW_FILES.format(count=len(value))
    return str(value)
