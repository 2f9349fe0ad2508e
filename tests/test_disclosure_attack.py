"""Disclosure control survives an attacker who knows that counts are never negative nor more than their base: random
small-cell survey data (the shipped citizen survey) goes through the real aggregation and writers (the survey
workbook, its question and group sheets, the report's table), the files are read back, and for every table the
attacker takes every shown cell, the shown bases, what the table adds up to (its members to the total, the options
of a single choice to the number who answered it) and 0 <= cell <= base, and searches exhaustively (narrowing each
cell's integer bounds by all of that at every step) for the values each hidden cell can take. No hidden cell may be
left with one value, unless the table's total figure is itself 0 or all of its base (the documented exception: the
area-wide figure says every member's). The attacker is not blind: without hiding more than the one complement, it
pins cells (the last test)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import docx
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations import disclosure
from conversations.definition import QuestionType, question_label
from conversations.measures import SurveyTally
from exports.report import ReportData, build_docx
from exports.survey import ALL_UNITS, ANSWERED, Indicator, SurveyResults, group_sheet, question_sheet, summary_sheet
from exports.workbook import HIDDEN, write_xlsx
from tests.test_disclosure import CHOICES, CONDITIONAL, FIGURES, Answers, numerator, people, results, rows_of

Cell = Hashable


@dataclass
class Table:
    """What the attacker knows of one table: each hidden cell's upper bound (its lower one is 0), sums of
    hidden cells (cell → +1 or -1) equal to a known number, cells no larger than another (a count within its
    hidden base), and for each hidden cell whether the exception covers it."""

    name: str
    upper: dict[Cell, int] = field(default_factory=dict)
    sums: list[tuple[dict[Cell, int], int]] = field(default_factory=list)
    within: list[tuple[Cell, Cell]] = field(default_factory=list)
    excused: set[Cell] = field(default_factory=set)

    def equation(self, terms: Mapping[Cell, int], shown: Mapping[Cell, int]) -> None:
        """sum(k * cell) = 0 over shown and hidden cells: the shown ones are moved to the right. A cell neither
        shown nor hidden is empty (nobody to count): 0."""
        hidden = {c: k for c, k in terms.items() if c in self.upper}
        if hidden:
            self.sums.append((hidden, -sum(k * shown.get(c, 0) for c, k in terms.items() if c not in hidden)))


Bounds = dict[Cell, list[int]]
"""Each hidden cell's least and most value still possible: [low, high]."""


def narrow(t: Table, bounds: Bounds) -> bool:
    """Tighten the bounds by what is known until nothing changes; False if some cell has no value left."""
    changed = True
    while changed:
        changed = False
        for terms, known in t.sums:
            low = sum(bounds[c][0] if k > 0 else -bounds[c][1] for c, k in terms.items())
            high = sum(bounds[c][1] if k > 0 else -bounds[c][0] for c, k in terms.items())
            if not low <= known <= high:
                return False
            for c, k in terms.items():  # k * c = known - the others, which lie in [low, high] less c's share
                own_low, own_high = (bounds[c][0], bounds[c][1]) if k > 0 else (-bounds[c][1], -bounds[c][0])
                least, most = known - (high - own_high), known - (low - own_low)
                new = [max(bounds[c][0], least if k > 0 else -most), min(bounds[c][1], most if k > 0 else -least)]
                if new != bounds[c]:
                    bounds[c], changed = new, True
        for a, b in t.within:
            if bounds[a][1] > bounds[b][1] or bounds[b][0] < bounds[a][0]:
                bounds[a][1], bounds[b][0], changed = (
                    min(bounds[a][1], bounds[b][1]),
                    max(bounds[b][0], bounds[a][0]),
                    True,
                )
        if any(low > high for low, high in bounds.values()):
            return False
    return True


def solve(t: Table, bounds: Bounds) -> dict[Cell, int] | None:
    """Integer values of the hidden cells within the bounds that meet everything known, if there are any
    (exhaustive: a search over each undecided cell's values, the bounds narrowed at each step)."""
    bounds = {c: list(b) for c, b in bounds.items()}
    if not narrow(t, bounds):
        return None
    open_ = [c for c, (low, high) in bounds.items() if low < high]
    if not open_:
        return {c: low for c, (low, _) in bounds.items()}
    cell = min(open_, key=lambda c: (bounds[c][1] - bounds[c][0], str(c)))
    for v in range(bounds[cell][0], bounds[cell][1] + 1):
        found = solve(t, {**bounds, cell: [v, v]})
        if found is not None:
            return found
    return None


def pinned(t: Table) -> set[Cell]:
    """The hidden cells that only one value fits: for each, a search for values meeting everything known with the
    cell at any other value of its bounds."""
    start = {c: [0, upper] for c, upper in t.upper.items()}
    first = solve(t, start)
    assert first is not None, f"{t.name}: what is shown is impossible"
    seen = {c: {v} for c, v in first.items()}
    for cell in t.upper:
        for v in range(t.upper[cell] + 1):
            if len(seen[cell]) > 1:
                break
            other = solve(t, {**start, cell: [v, v]}) if v not in seen[cell] else None
            for c, value in (other or {}).items():
                seen[c].add(value)
    return {c for c, values in seen.items() if len(values) == 1}


def attack(t: Table) -> int:
    """Every hidden cell of the table keeps at least two values (but the excused); how many were tried."""
    for cell in pinned(t) - t.excused:
        raise AssertionError(f"{t.name}: {cell} is pinned to one value by the shown cells")
    return len(t.upper)


# ---------------------------------------------------------------- the tables, as the attacker reads them


def whole(f: Indicator, tally: SurveyTally) -> int:
    """What an indicator's numerator could be at most: those who answered its questions (for points, times the
    points available), which the shown bases give."""
    weights: dict[str, int] = {}
    for (question_id, _), w in numerator(f).items():
        weights[question_id] = max(weights.get(question_id, 0), int(w))
    return sum(tally.answered[q] * w for q, w in weights.items())


def part(shown: Any, base: int) -> int:
    """The numerator a shown percentage gives (rounded to a tenth, exact on these bases)."""
    value = float(shown.replace(",", ".")) if isinstance(shown, str) else float(shown)
    found = round(value * base / 100)
    assert abs(100 * found / base - value) < 0.06
    return found


def indicator_tables(
    name: str, s: SurveyResults, shown: Mapping[str | None, Mapping[str, Any]], tallies: Mapping[str, SurveyTally]
) -> Iterator[Table]:
    """Tổng hợp, the report's table, Theo nhóm: one table per percentage shown; `shown`: each member's row (None:
    the total's, everyone's), `tallies`: each member's (the attacker knows their bases: Số phiếu)."""
    everyone = {**tallies, None: s.overall}
    for f in FIGURES:
        if f.scale != 100 or f.label not in shown[None]:
            continue
        t = Table(f"{name}: {f.label}")
        known: dict[Cell, int] = {}
        for member, tally in everyone.items():
            cell = shown[member][f.label]
            if cell == HIDDEN:  # at most its base, where that is shown; else at most everyone's
                t.upper[member] = whole(f, tally if shown[member]["Số phiếu"] != HIDDEN else s.overall)
            elif cell not in (None, ""):
                known[member] = part(cell, whole(f, tally))
        t.equation({**dict.fromkeys(tallies, 1), None: -1}, known)
        if known.get(None, -1) in (0, whole(f, s.overall)):
            t.excused |= set(t.upper)
        yield t


def question_tables(s: SurveyResults, book: Any) -> Iterator[Table]:
    """Theo câu hỏi: one table per question, its units (None: all of them) by its options and the number who
    answered (None)."""
    units = [u for u in s.units if u.code in s.by_unit]
    sets: dict[str | None, SurveyTally] = {None: s.overall, **{u.code: s.by_unit[u.code] for u in units}}
    labels = {question_label(q): q for q in CHOICES}
    rows = rows_of(book, "Theo câu hỏi")
    for q in CHOICES:
        t = Table(f"Theo câu hỏi: {q.id}")
        options = {c.label: c.value for c in q.options}
        known: dict[Cell, int] = {}
        for row in (r for r in rows if labels[r["Câu hỏi"]] is q):
            value = None if row["Phương án"] == ANSWERED else options[row["Phương án"]]
            for where in sets:
                cell = row[f"{ALL_UNITS if where is None else s.name_of(where)}: số"]
                if cell == HIDDEN:
                    t.upper[(where, value)] = sets[where].responses  # the shown Số phiếu
                else:
                    known[(where, value)] = cell
        values = [None, *(c.value for c in q.options)]
        for where in sets:
            if q.id not in CONDITIONAL:  # asked of every respondent: the number who answered is Số phiếu
                t.equation({(where, None): 1, "responses": -1}, {"responses": sets[where].responses})
            if q.type is not QuestionType.MULTIPLE_CHOICE:  # the options add up to the number who answered
                t.equation({**{(where, v): 1 for v in values[1:]}, (where, None): -1}, known)
            if (where, None) in t.upper:  # no option counted more often than the question answered
                t.within += [((where, v), (where, None)) for v in values[1:] if (where, v) in t.upper]
        for value in values:  # the units add up to the total
            t.equation({**{(u.code, value): 1 for u in units}, (None, value): -1}, known)
            total = known.get((None, value), -1)
            if total in (0, known.get((None, None)) if value is not None else s.overall.responses):
                t.excused |= {(u.code, value) for u in units}
        yield t


def report_rows(s: SurveyResults) -> dict[str | None, dict[str, str]]:
    data = ReportData("2026", "31/03/2026", [], [s], datetime(2026, 3, 2, tzinfo=UTC))
    report = docx.Document(io.BytesIO(build_docx(data)))
    [table] = [t for t in report.tables if [c.text for c in t.rows[0].cells][:2] == ["Đơn vị", "Số phiếu"]]
    header = [c.text for c in table.rows[0].cells]
    code = {u.name: u.code for u in s.units} | {ALL_UNITS: None}
    return {code[r.cells[0].text]: dict(zip(header, (c.text for c in r.cells), strict=True)) for r in table.rows[1:]}


def tables(s: SurveyResults) -> Iterator[Table]:
    sheets = [summary_sheet(s), question_sheet(s), group_sheet(s)]
    book = openpyxl.load_workbook(io.BytesIO(asyncio.run(write_xlsx(sheets))))
    code = {u.name: u.code for u in s.units} | {ALL_UNITS: None}
    summary: dict[str | None, dict[str, Any]] = {code[r["Đơn vị"]]: r for r in rows_of(book, "Tổng hợp")}
    units = {u.code: s.by_unit[u.code] for u in s.units if u.code in s.by_unit}
    yield from indicator_tables("Tổng hợp", s, summary, units)
    yield from indicator_tables("Báo cáo", s, report_rows(s), units)
    yield from question_tables(s, book)
    groups = rows_of(book, "Theo nhóm")
    for d in s.dimensions:
        rows = {r["Nhóm người trả lời"]: r for r in groups if r["Chia theo"] == question_label(d)}
        shown: dict[str | None, dict[str, Any]] = {c.value: rows[c.label] for c in d.options}
        shown[None] = summary[None]  # the groups add up to everyone: "Tất cả đơn vị"
        members = {c.value: s.by_group.get((d.id, c.value), SurveyTally()) for c in d.options}
        yield from indicator_tables(f"Theo nhóm: {d.id}", s, shown, members)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(minimum=st.integers(2, 5), people_by_unit=people)
def test_no_hidden_cell_is_pinned_by_its_bounds(minimum: int, people_by_unit: list[list[Answers]]) -> None:
    for t in tables(results(minimum, people_by_unit)):
        attack(t)


ALIKE: Answers = {
    "dong_y": "co",
    "tuoi": "tu_18_30",
    "gioi_tinh": "nu",
    "nghe_nghiep": "nong_dan",
    "nhan_thong_tin": "co",
    "hinh_thuc": ["loa"],
    "tu_tim_hieu": "thinh_thoang",
    "kt_ket_hon": "nam20_nu18",
    "kt_ruou_bia": "bi_cam",
    "kt_tro_giup": "khong_biet",
    "hai_long": "hai_long",
    "thay_doi": "mot_phan",
    "kenh_mong_muon": "loa",
}
NOT_TOLD = {**{k: v for k, v in ALIKE.items() if k != "hinh_thuc"}, "nhan_thong_tin": "khong"}
TWO_SIX_FIVE = [[ALIKE] * 2, [ALIKE] * 5 + [NOT_TOLD], [ALIKE] * 5]
"""Three units of 2, 6 and 5 respondents, all answering alike but one of the six, who was not told of the law
(nhan_thong_tin "khong"): with K = 5 the two and the five are hidden, and the total minus the six would say that
all seven hidden were told. Every other figure's total is 0 or all of its base: the exception."""


def test_the_hidden_members_do_not_all_answer_alike() -> None:
    s = results(5, TWO_SIX_FIVE)
    told = disclosure.answered("nhan_thong_tin")
    assert s.hidden_units("question:nhan_thong_tin", told, ["nhan_thong_tin"]) == {"90000", "90001", "90002"}
    assert s.hidden_units("question:hai_long", disclosure.answered("hai_long"), ["hai_long"]) == {"90000", "90002"}
    assert sum(attack(t) for t in tables(s)) > 0


def test_the_attacker_finds_what_the_complement_alone_leaves(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without hiding more where the hidden members' joint figure says each one's, the attacker of this test pins
    the two hidden units' answers to nhan_thong_tin: it is not blind."""
    monkeypatch.setattr(disclosure, "_told", lambda *_: False)
    with pytest.raises(AssertionError, match=r"thông tin pháp luật.*: 9000[02] is pinned"):
        for t in tables(results(5, TWO_SIX_FIVE)):
            attack(t)
