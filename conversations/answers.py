"""Reading a typed answer for one question, and showing a stored answer back.

An answer value is JSON: a choice value (str), a list of choice values, an int, a float, a text, an ISO date,
or a list of evidence file records. parse_* return the value or raise InvalidAnswer with the message to show.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from conversations import messages as m
from conversations.text import fold, marked_key, match_key, nfc

if TYPE_CHECKING:
    from conversations.definition import Choice, Question

Value = Any


class InvalidAnswer(ValueError):
    """The user's input does not answer the question; the message says why, in Vietnamese."""


def number_text(number: float) -> str:
    """12 → "12", 12.5 → "12,5": the Vietnamese decimal comma."""
    rounded = round(float(number), 2)
    if rounded.is_integer():
        # 0.999 and -0.001 round to whole numbers: "1" and "0", never "1," or "-0"
        return str(int(rounded))
    return f"{rounded:.2f}".rstrip("0").replace(".", ",")


def count_text(count: int) -> str:
    """10000 → "10.000": a count of people or things, thousands set apart by the Vietnamese dot."""
    return f"{count:,}".replace(",", ".")


def bounds_text(q: Question) -> str:
    low, high = q.min, q.max
    if low is not None and high is not None:
        return m.BOUNDS_BETWEEN.format(low=number_text(low), high=number_text(high))
    if low is not None:
        return m.BOUNDS_AT_LEAST.format(low=number_text(low))
    if high is not None:
        return m.BOUNDS_AT_MOST.format(high=number_text(high))
    return ""


def percentage_range(q: Question) -> tuple[float, float]:
    return (q.min if q.min is not None else 0.0, q.max if q.max is not None else 100.0)


def hint(q: Question) -> str | None:
    """How to answer the question (conversations.question_types has one for each type)."""
    return q.kind.hint(q)


_NUMBERED = re.compile(r"^(\d+)(?:\s*[-\u2010-\u2015\u2212]\s*(\d+)|\s*(\+))?(?![\d,.])")


def _numbered(label: str) -> tuple[float, float, bool] | None:
    """(first, last, is a range) when the label begins with a number: "5", "5 - Rất tốt" → (5, 5, False);
    "1–2", "18–30 tuổi" → (1, 2, True), (18, 30, True); "3+" → (3, inf, True)."""
    found = _NUMBERED.match(fold(label))
    if found is None:
        return None
    first = int(found[1])
    if found[2] is not None:
        return first, int(found[2]), True
    return (first, float("inf"), True) if found[3] else (first, first, False)


def numbered_labels(labels: Sequence[str]) -> bool:
    """Some label is a number ("0"…"10", "5 - Rất tốt"): a typed number means that label, not a position."""
    return any((n := _numbered(label)) is not None and not n[2] for label in labels)


def _one(found: Sequence[int], text: str, labels: Sequence[str]) -> int | None:
    """The one index found, None for none; more than one different index is ambiguous, and said so."""
    distinct = sorted(set(found))
    if len(distinct) > 1:
        first, second = (labels[i] for i in distinct[:2])
        raise InvalidAnswer(m.ERR_CHOICE_AMBIGUOUS.format(text=nfc(text).strip(), first=first, second=second))
    return distinct[0] if distinct else None


def _unclear(labels: Sequence[str]) -> InvalidAnswer:
    return InvalidAnswer(m.ERR_CHOICE_NUMBERED if numbered_labels(labels) else m.ERR_CHOICE.format(count=len(labels)))


def _starts_word(label: str, key: str) -> bool:
    return label.startswith(key) or f" {key}" in label or f"-{key}" in label


def pick(labels: Sequence[str], text: str, codes: Sequence[str] = ()) -> int:
    """The index of the option a typed text means, or InvalidAnswer; never a guess between two options.

    In turn: its exact label with its diacritics (tone placement, case, spacing and punctuation aside: "Xã Hòa
    Lộc" is not "Xã Hoa Lộc"); its label without diacritics, its code, or for a number the label that is that
    number ("5" on a 0–10 scale); for a number, its position, which must agree with a label whose range holds the
    number ("1–2", "3+") and cannot be a label that is another number; an unambiguous start of a word of its
    label (the diacritics typed telling apart labels that differ only by them)."""
    key, marked = match_key(text), marked_key(text)
    if not key:
        raise _unclear(labels)
    found = _one([i for i, label in enumerate(labels) if marked_key(label) == marked], text, labels)
    if found is not None:
        return found
    number = int(key) if key.isascii() and key.isdigit() else None
    keys = [match_key(label) for label in labels]
    named = [i for i, label in enumerate(keys) if label == key]
    named += [i for i, code in enumerate(codes) if match_key(code) == key]
    spans = [_numbered(label) for label in labels] if number is not None else []
    named += [i for i, n in enumerate(spans) if n is not None and not n[2] and n[0] == number]
    found = _one(named, text, labels)
    if found is not None:
        return found
    if number is not None:
        ranges = [i for i, n in enumerate(spans) if n is not None and n[2] and n[0] <= number <= n[1]]
        position = [number - 1] if 1 <= number <= len(labels) else []
        at = spans[number - 1] if position else None
        if at is not None and not at[2] and not ranges:  # the 4th of "0 / 1 / 2 / 3" is not "4"
            position = []
        found = _one(ranges + position, text, labels)
        if found is not None:
            return found
        raise _unclear(labels)
    if len(key) >= 3:
        starts = [i for i, label in enumerate(keys) if _starts_word(label, key)]
        if len(starts) > 1:  # the diacritics typed may tell them apart ("Hòa" among "Hoa Lộc", "Hòa Lộc")
            marked_starts = [i for i in starts if _starts_word(marked_key(labels[i]), marked)]
            starts = marked_starts or starts
        found = _one(starts, text, labels)
        if found is not None:
            return found
    raise _unclear(labels)


def match_choice(q: Question, text: str) -> Choice:
    options = q.options
    return options[pick([c.label for c in options], text, [c.value for c in options])]


def check_exclusive(q: Question, values: Sequence[str]) -> None:
    """An exclusive option ("Không biết", "Chưa tổ chức riêng cho nhóm nào") cannot be chosen with another."""
    if len(values) > 1:
        alone = next((c for c in q.options if c.exclusive and c.value in values), None)
        if alone is not None:
            raise InvalidAnswer(m.ERR_EXCLUSIVE.format(label=alone.label))


def parse_multiple(q: Question, text: str) -> list[str]:
    """The options of a typed list: "1, 3", "1 3", labels separated by commas or semicolons. A label holding a
    comma or ending in a number ("Kênh VTV 1") is read whole."""
    parts = [p.strip() for p in re.split(r"[,;]", text)]
    parts = [p for p in parts if p]
    if not parts:
        raise InvalidAnswer(m.ERR_MULTIPLE_EMPTY)
    labels = {match_key(c.label): c.value for c in q.options}
    chosen: set[str] = set()
    start = 0
    while start < len(parts):
        end = next((e for e in range(len(parts), start + 1, -1) if match_key(",".join(parts[start:e])) in labels), None)
        if end is not None:  # the longest run of parts that is a whole label with commas in it
            chosen.add(labels[match_key(",".join(parts[start:end]))])
            start = end
            continue
        part = parts[start]
        words = part.split()
        try:
            chosen.add(match_choice(q, part).value)
        except InvalidAnswer:
            if len(words) < 2 or not all(w.rstrip(".)").isdigit() for w in words):
                raise
            chosen |= {match_choice(q, w).value for w in words}  # "1 3 5"
        start += 1
    values = [c.value for c in q.options if c.value in chosen]
    check_exclusive(q, values)
    return values


_THOUSANDS = re.compile(r"^-?\d{1,3}([. ]\d{3})+$")


def read_number(text: str) -> float | None:
    raw = text.strip().replace("\u00a0", " ").rstrip("%").strip()
    if _THOUSANDS.match(raw):
        raw = raw.replace(".", "").replace(" ", "")
    raw = raw.replace(",", ".")
    if not re.fullmatch(r"-?\d+(\.\d+)?", raw):
        return None
    return float(raw)


def parse_percentage(q: Question, text: str) -> float:
    number = read_number(text)
    low, high = percentage_range(q)
    if number is None or not low <= number <= high:
        raise InvalidAnswer(m.ERR_PERCENTAGE.format(low=number_text(low), high=number_text(high)))
    return number


def _in_bounds(q: Question, number: float | None) -> bool:
    return number is not None and (q.min is None or number >= q.min) and (q.max is None or number <= q.max)


def parse_integer(q: Question, text: str) -> int:
    number = read_number(text)
    if number is None or not number.is_integer() or not _in_bounds(q, number):
        raise InvalidAnswer(m.ERR_INTEGER.format(bounds=bounds_text(q)))
    return int(number)


def parse_decimal(q: Question, text: str) -> float:
    number = read_number(text)
    if number is None or not _in_bounds(q, number):
        raise InvalidAnswer(m.ERR_NUMBER.format(bounds=bounds_text(q)))
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
    return q.kind.parse(q, text, today)


def display(q: Question, value: Value) -> str:
    """An answer as a person reads it."""
    return q.kind.display(q, value)
