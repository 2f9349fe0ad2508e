"""Disclosure control survives subtraction: random small-cell survey data (the shipped citizen survey, a few units of
a few respondents each) is exported, the workbook, its CSV and the report are opened again, and every hidden ("ẩn")
figure is tried for recovery from the shown ones by what the tables add up to: units to "Tất cả đơn vị", the
groups of each breakdown to everyone, the options of a single choice to the number who answered it, a question
asked after an answer to that answer's count, an indicator to the counts it is made of. A hidden figure is
recoverable exactly when it is a linear combination of the shown ones under those sums (worked out with exact
fractions); none may be."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any

import docx
import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations import disclosure
from conversations.conditions import visible
from conversations.definition import QuestionType, load_directory, of_kind, question_label
from conversations.measures import SurveyTally, earned, measure, share
from conversations.scoring import question_points
from exports.jobs import survey_measures
from exports.queries import Selection
from exports.report import ReportData, build_docx
from exports.survey import (
    ALL_UNITS,
    ANSWERED,
    Indicator,
    SurveyResults,
    group_sheet,
    indicators,
    question_sheet,
    summary_sheet,
)
from exports.workbook import HIDDEN, write_csv, write_xlsx
from storage.models import Unit

ROOT = Path(__file__).resolve().parents[1]
QUESTIONNAIRES = load_directory(ROOT / "presets" / "questionnaires")
SURVEY = of_kind(QUESTIONNAIRES, "citizen_survey")
assert SURVEY is not None
MEASURES = survey_measures(QUESTIONNAIRES, SURVEY.id)
FIGURES = indicators(SURVEY, MEASURES)
CHOICES = [q for q in SURVEY.questions if q.kind.choices]
DIMENSIONS = [SURVEY.question(i) for i in ("tuoi", "gioi_tinh", "nghe_nghiep")]
CONDITIONAL = {"hinh_thuc": ("nhan_thong_tin", "co")}
"""The questions asked only after an answer (besides consent), and that answer: the test fails if this changes."""
ALL = "*"

Answers = dict[str, Any]


def test_the_survey_is_as_this_test_knows_it() -> None:
    conditional = {q.id for q in SURVEY.questions if disclosure.conditions(SURVEY, q.id)}
    assert conditional == set(CONDITIONAL) and all(q.options for q in CHOICES)
    # a tally deciding what is hidden of "hinh_thuc" counts the answer it is asked after (not consent: all said yes)
    assert disclosure.read_over(SURVEY, ["hinh_thuc", "hai_long"]) == ["hai_long", "hinh_thuc", "nhan_thong_tin"]


def test_complementary_suppression_by_hand() -> None:
    assert disclosure.hidden({"a": 2, "b": 6, "c": 5, "d": 0}, 5) == {"a", "c"}  # c: the fewest of the others
    assert disclosure.hidden({"a": 2, "b": 3, "c": 9}, 5) == {"a", "b"}  # two already: nothing to add
    assert disclosure.hidden({"a": 9, "b": 6}, 5) == frozenset()
    assert disclosure.hidden({"a": 3, "b": 0}, 5) == {"a"}  # alone: the total rests on three, hidden too
    assert disclosure.hidden({"b": 6, "a": 6, "c": 1}, 5) == {"a", "c"}  # ties: the first code


def test_more_hidden_where_the_joint_figure_says_each_ones_by_hand() -> None:
    bases = {"a": 2, "b": 6, "c": 5, "d": 7}
    # a and c hidden; their joint count of one option is 0 (then of all of it): b, the next fewest, is hidden too
    assert disclosure.hidden(bases, 5, {"a": [(0, 2)], "b": [(1, 6)], "c": [(0, 5)], "d": [(3, 7)]}) == {"a", "b", "c"}
    assert disclosure.hidden(bases, 5, {"a": [(2, 2)], "b": [(6, 6)], "c": [(5, 5)], "d": [(3, 7)]}) == {
        "a",
        "b",
        "c",
        "d",
    }
    # neither: two are enough; one figure of two that fails is enough to hide more
    assert disclosure.hidden(bases, 5, {"a": [(1, 2)], "b": [(1, 6)], "c": [(0, 5)], "d": [(0, 7)]}) == {"a", "c"}
    two = {"a": [(1, 2), (0, 2)], "b": [(1, 6), (2, 6)], "c": [(0, 5), (0, 5)], "d": [(0, 7), (0, 7)]}
    assert disclosure.hidden(bases, 5, two) == {"a", "b", "c"}
    # the total's figure is itself 0 (or all of its base): it says every member's already, nothing more for it
    assert disclosure.hidden(bases, 5, {m: [(0, b)] for m, b in bases.items()}) == {"a", "c"}
    assert disclosure.hidden(bases, 5, {m: [(b, b)] for m, b in bases.items()}) == {"a", "c"}
    # nothing hidden by too few: nothing hidden, whatever the figures
    assert disclosure.hidden({"b": 6, "d": 7}, 5, {"b": [(0, 6)], "d": [(7, 7)]}) == frozenset()
    # points count too: the hidden ones earned every point they could
    points = disclosure.figures(SURVEY, ["kt_ruou_bia"], tally_of([{"kt_ruou_bia": "bi_cam"}] * 2))
    assert points[-1] == (2.0, 2.0) and points[0] == (2, 2)


@st.composite
def respondent(draw: st.DrawFn) -> Answers:
    answers: Answers = {"dong_y": "co"}
    for q in CHOICES:
        if q.id in answers or q.id not in {v.id for v in visible(SURVEY, answers)}:
            continue
        values = [c.value for c in q.options]
        if q.type is QuestionType.MULTIPLE_CHOICE:
            answers[q.id] = draw(st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True))
        else:
            answers[q.id] = draw(st.sampled_from(values[:3]))  # few options: more small and empty cells
    return answers


def tally_of(people: Sequence[Answers]) -> SurveyTally:
    tally = SurveyTally(responses=len(people))
    for answers in people:
        for qid, value in answers.items():
            q = SURVEY.question(qid)
            tally.add(qid, value, 1, question_points(q, value) if q.scored else None)
    return tally


def results(minimum: int, people_by_unit: Sequence[Sequence[Answers]], only: int | None = None) -> SurveyResults:
    """As exports.survey.gather would find them; `only`: the export of that unit."""
    units = [Unit(code=f"9{n:04d}", name=f"Xã Thử {chr(65 + n)}", kind="commune") for n in range(len(people_by_unit))]
    tallies = {u.code: tally_of(people) for u, people in zip(units, people_by_unit, strict=True) if people}
    if only is not None:
        units, people_by_unit = [units[only]], [people_by_unit[only]]
    by_unit = {u.code: tallies[u.code] for u in units if u.code in tallies}
    everyone = [a for people in people_by_unit for a in people]
    groups = [(d.id, c.value) for d in DIMENSIONS for c in d.options]
    by_group = {(d, g): tally_of([a for a in everyone if a.get(d) == g]) for d, g in groups}
    return SurveyResults(
        SURVEY,
        Selection(SURVEY.id, "2026", units[0].code if only is not None else None),
        units,
        by_unit,
        tally_of(everyone),
        DIMENSIONS,
        by_group,
        FIGURES,
        MEASURES,
        [],
        minimum,
        tallies,
    )


# ---------------------------------------------------------------- what the tables add up to


class Span:
    """Linear combinations of rows (sparse, exact), kept in echelon form in order of arrival."""

    def __init__(self) -> None:
        self.pivots: dict[int, dict[int, Fraction]] = {}
        self.order: dict[int, int] = {}

    def reduce(self, row: Mapping[int, Fraction]) -> dict[int, Fraction]:
        left = {k: Fraction(v) for k, v in row.items() if v}
        while pivots := [c for c in left if c in self.pivots]:
            c = min(pivots, key=self.order.__getitem__)  # later pivot rows never hold earlier pivots
            factor = left[c]
            for k, v in self.pivots[c].items():
                value = left.get(k, Fraction(0)) - factor * v
                if value:
                    left[k] = value
                else:
                    left.pop(k, None)
        return left

    def add(self, row: Mapping[int, Fraction]) -> None:
        left = self.reduce(row)
        if left:
            c = next(iter(left))
            self.pivots[c] = {k: v / left[c] for k, v in left.items()}
            self.order[c] = len(self.order)

    def holds(self, row: Mapping[int, Fraction]) -> bool:
        return not self.reduce(row)


class System:
    """Unknowns named by what they count: ("c", set, question, option), ("a", set, question) who answered,
    ("n", set, figure) an indicator's numerator, ("r", set) responses."""

    def __init__(self) -> None:
        self.index: dict[Hashable, int] = {}
        self.span = Span()

    def var(self, name: Hashable) -> int:
        return self.index.setdefault(name, len(self.index))

    def equation(self, terms: Mapping[Hashable, int | Fraction]) -> None:
        row: dict[int, Fraction] = {}
        for name, coefficient in terms.items():
            key = self.var(name)
            row[key] = row.get(key, Fraction(0)) + Fraction(coefficient)
        self.span.add(row)

    def known(self, name: Hashable) -> None:
        self.equation({name: 1})

    def recoverable(self, name: Hashable) -> bool:
        return self.span.holds({self.var(name): Fraction(1)})


def numerator(f: Indicator) -> dict[tuple[str, str], Fraction]:
    """The counts an indicator's numerator is made of: (question, option) → weight."""
    rate = f.rate
    assert isinstance(rate, partial)
    func, args, keywords = rate.func, rate.args, rate.keywords
    if func is share:
        return {(keywords["question_id"], v): Fraction(1) for v in keywords["values"]}
    how = args[1] if func is measure else None
    group = how.group if how is not None else args[1]
    if func is earned or group is not None:
        scored = [q for q in SURVEY.group(group).questions if q.scored]
        return {(q.id, c.value): Fraction(str(question_points(q, c.value))) for q in scored for c in q.options}
    return {(how.question, v): Fraction(1) for v in how.values}


def structure(system: System, sets: Sequence[Hashable], partitions: Sequence[Sequence[Hashable]]) -> None:
    for parts in partitions:  # each partition of everyone adds up to ALL
        for q in CHOICES:
            for c in q.options:
                system.equation({("c", ALL, q.id, c.value): 1, **{("c", p, q.id, c.value): -1 for p in parts}})
            system.equation({("a", ALL, q.id): 1, **{("a", p, q.id): -1 for p in parts}})
        for f in FIGURES:
            system.equation({("n", ALL, f.label): 1, **{("n", p, f.label): -1 for p in parts}})
    for s in sets:
        for q in CHOICES:
            if q.type is not QuestionType.MULTIPLE_CHOICE:
                system.equation({("a", s, q.id): -1, **{("c", s, q.id, c.value): 1 for c in q.options}})
            if q.id in CONDITIONAL:
                ref, value = CONDITIONAL[q.id]
                system.equation({("a", s, q.id): 1, ("c", s, ref, value): -1})
            else:  # everyone who consented was asked: the number of responses
                system.equation({("a", s, q.id): 1, ("r", s): -1})
        for f in FIGURES:
            system.equation({("n", s, f.label): 1, **{("c", s, *k): -w for k, w in numerator(f).items()}})


# ---------------------------------------------------------------- reading the files back


def rows_of(book: Any, name: str) -> list[dict[str, Any]]:
    rows = list(book[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def shown_cells(s: SurveyResults, book: Any) -> Iterator[tuple[Hashable, Any]]:
    """Every figure cell of the three tables: (its unknown, what it shows)."""
    code = {u.name: u.code for u in s.units} | {ALL_UNITS: ALL}
    for row in rows_of(book, "Tổng hợp"):
        for f in FIGURES:
            yield ("n", code[row["Đơn vị"]], f.label), row[f.label]
    questions = {question_label(q): q for q in CHOICES}
    for row in rows_of(book, "Theo câu hỏi"):
        q = questions[row["Câu hỏi"]]
        option = next((c.value for c in q.options if c.label == row["Phương án"]), None)
        for name, where in code.items():
            if f"{name}: số" in row:
                cell = row[f"{name}: số"]
                yield (("a", where, q.id) if row["Phương án"] == ANSWERED else ("c", where, q.id, option)), cell
    dims = {question_label(d): d for d in DIMENSIONS}
    for row in rows_of(book, "Theo nhóm"):
        d = dims[row["Chia theo"]]
        group = (d.id, next(c.value for c in d.options if c.label == row["Nhóm người trả lời"]))
        yield ("r", group), row["Số phiếu"]
        for f in FIGURES:
            yield ("n", group, f.label), row[f.label]


def check(s: SurveyResults, book: Any, more: Callable[[System], list[Hashable]] | None = None) -> list[Hashable]:
    """Build the system from the shown cells (and those `more` adds, returning its hidden ones); the hidden ones,
    each unrecoverable."""
    system = System()
    units = [u.code for u in s.units if u.code in s.by_unit]
    groups = {d.id: [(d.id, c.value) for c in d.options] for d in DIMENSIONS}
    structure(system, [ALL, *units, *(g for gs in groups.values() for g in gs)], [units, *groups.values()])
    for unit in [ALL, *units]:
        system.known(("r", unit))  # Số phiếu
    for d in DIMENSIONS:  # a group is those who gave one answer: its size is that answer's count
        for group in groups[d.id]:
            system.equation({("r", group): 1, ("c", ALL, *group): -1})
            for c in d.options:
                if c.value == group[1]:
                    system.equation({("c", group, d.id, c.value): 1, ("r", group): -1})
                else:
                    system.known(("c", group, d.id, c.value))  # zero
    hidden = []
    for name, cell in shown_cells(s, book):
        if cell == HIDDEN:
            hidden.append(name)
        elif isinstance(name, tuple) and name[1] in (ALL, *units, *(g for gs in groups.values() for g in gs)):
            system.known(name)
    hidden += more(system) if more is not None else []
    for name in hidden:
        assert not system.recoverable(name), f"{name} can be worked out from the shown cells"
    return hidden


def primary(s: SurveyResults, book: Any) -> None:
    """Every figure resting on too few respondents is hidden (else hiding nothing would pass)."""
    summary = {row["Đơn vị"]: row for row in rows_of(book, "Tổng hợp")}
    for u in s.units:
        tally = s.by_unit.get(u.code)
        for f in FIGURES:
            if tally is not None and disclosure.too_few(f.base(tally), s.minimum):
                assert summary[u.name][f.label] == HIDDEN, (u.name, f.label)


people = st.lists(st.lists(respondent(), max_size=7), min_size=2, max_size=5)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(minimum=st.integers(2, 5), people_by_unit=people)
def test_no_hidden_figure_can_be_worked_out(minimum: int, people_by_unit: list[list[Answers]]) -> None:
    s = results(minimum, people_by_unit)
    sheets = [summary_sheet(s), question_sheet(s), group_sheet(s)]
    book = openpyxl.load_workbook(io.BytesIO(asyncio.run(write_xlsx(sheets))))
    primary(s, book)
    check(s, book)
    # The export of one unit hides what the export of all units hides of it, and all of its groups' figures where
    # its own are hidden (they would add up to them).
    summary = {row["Đơn vị"]: row for row in rows_of(book, "Tổng hợp")}
    for n, unit in enumerate(s.units):
        alone = results(minimum, people_by_unit, only=n)
        own = openpyxl.load_workbook(io.BytesIO(asyncio.run(write_xlsx([summary_sheet(alone), group_sheet(alone)]))))
        [row] = rows_of(own, "Tổng hợp")
        assert [row[f.label] == HIDDEN for f in FIGURES] == [summary[unit.name][f.label] == HIDDEN for f in FIGURES]
        for group in rows_of(own, "Theo nhóm"):
            assert all(group[f.label] in (HIDDEN, None) for f in FIGURES if row[f.label] == HIDDEN)
    # The CSV of a table hides what the workbook hides.
    text = asyncio.run(write_csv(summary_sheet(s))).decode("utf-8-sig")
    assert [[c == HIDDEN for c in row] for row in list(csv.reader(io.StringIO(text)))[1:]] == [
        [c == HIDDEN for c in row] for row in list(book["Tổng hợp"].iter_rows(values_only=True))[1:]
    ]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(minimum=st.integers(2, 5), people_by_unit=people)
def test_the_report_hides_what_the_workbook_hides(minimum: int, people_by_unit: list[list[Answers]]) -> None:
    s = results(minimum, people_by_unit)
    book = openpyxl.load_workbook(io.BytesIO(asyncio.run(write_xlsx([summary_sheet(s)]))))
    summary = {row["Đơn vị"]: row for row in rows_of(book, "Tổng hợp")}
    data = ReportData("2026", "31/03/2026", [], [s], datetime(2026, 3, 2, tzinfo=UTC))
    report = docx.Document(io.BytesIO(build_docx(data)))
    [table] = [t for t in report.tables if [c.text for c in t.rows[0].cells][:2] == ["Đơn vị", "Số phiếu"]]
    header = [c.text for c in table.rows[0].cells]
    for row in table.rows[1:]:
        cells = [c.text for c in row.cells]
        workbook_row = summary.get(cells[0])
        if workbook_row is None:  # one unit: the workbook has no total row, the report does
            assert cells[0] == ALL_UNITS and len(s.units) == 1
            continue
        assert [cells[header.index(f.label)] == HIDDEN for f in FIGURES if f.headline] == [
            workbook_row[f.label] == HIDDEN for f in FIGURES if f.headline
        ]
    satisfaction = s.satisfaction
    assert satisfaction is not None
    base = s.overall.answered[satisfaction.id]
    charted = bool(base) and not disclosure.too_few(base, minimum)
    assert len(report.inline_shapes) == int(charted)  # the chart shows the figures of everyone only when they are
