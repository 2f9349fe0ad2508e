"""The citizen survey workbook, aggregated only, to be forwarded as it is: Tổng hợp (indicators per unit), Theo câu hỏi
(every choice question, overall and per unit), Theo nhóm (indicators by age band, gender, occupation), Theo sự kiện
(indicators per event of a unit and for the rest of its respondents, when the period has events), Sự kiện theo nhóm
(who each event reached: its respondents by the groups of each breakdown), Ý kiến (the
free-text opinions as themes and counts). The microdata, one row per response (Dữ liệu, the long form) and every
free-text answer (Ý kiến), are sheets of /xuat dulieu only, never of a file meant to be forwarded.

Small cells are suppressed as conversations.disclosure says: a figure computed from fewer than `minimum` respondents (in
the distributions, the counts behind it too) is shown as "ẩn", and so is a second unit or group where only one
would be, and more while the hidden ones' joint figure would say each one's (0, or all of them), so that nobody
can be picked out by their answers, also by subtracting shown figures from the total."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conversations import disclosure
from conversations.definition import (
    Question,
    Questionnaire,
    SurveyMeasure,
    question_header,
    question_label,
)
from conversations.localtime import local_date
from conversations.measures import Rate, SurveyTally, earned, measure, measure_questions, response_rate, share
from exports import queries
from exports.opinions import themes
from exports.results import units_for
from exports.workbook import HIDDEN, Column, ColumnKind, Sheet
from storage.models import Event, Unit
from storage.queries import Selection, event_tallies, events, unit_tallies

INDICATOR_LABELS = {
    "self_study": "Tỷ lệ tự tìm hiểu pháp luật (%)",
    "satisfaction": "Chỉ số hài lòng: tỷ lệ hài lòng (%)",
    "knowledge": "Tỷ lệ trả lời đúng câu hỏi kiến thức (%)",
}
ALL_UNITS = "Tất cả đơn vị"
ANSWERED = "Số người trả lời"
DECLINED = "Số người từ chối tham gia"
RESPONSE_RATE = "Tỷ lệ trả lời (%)"
YES = "co"
EVENT_CODE = "sk{id}"
OWN_LINK = "Không qua sự kiện (mã QR, đường dẫn của đơn vị)"
WHOLE_UNIT = "Cả đơn vị"


@dataclass(frozen=True)
class Indicator:
    """A figure per set of respondents: a percentage, or mean points when `scale` is the points available."""

    label: str
    rate: Callable[[SurveyTally], Rate]
    questions: tuple[str, ...]
    scale: float = 100.0
    headline: bool = False
    """One of the figures the report's table shows: those the self-assessment uses, and knowledge."""

    def base(self, tally: SurveyTally) -> int:
        return self.rate(tally).base

    def value(self, tally: SurveyTally, hide: bool) -> float | str | None:
        """The figure, or "ẩn" when hidden, also where nobody answered: an empty cell would tell that."""
        rate = self.rate(tally)
        if hide:
            return HIDDEN
        return round(rate.percent * self.scale / 100, 2) if rate.percent is not None else None


def indicators(qn: Questionnaire, measures: Sequence[SurveyMeasure]) -> list[Indicator]:
    """The figures the self-assessment takes from this survey, the knowledge score of each scored group, and the
    share answering "Có" to each yes/no question but the consent question."""
    found: list[Indicator] = []
    seen: set[tuple[Any, ...]] = set()
    for how in measures:
        key = (how.question, tuple(how.values), how.group)
        if key not in seen:
            seen.add(key)
            questions = tuple(measure_questions(qn, how))
            found.append(
                Indicator(INDICATOR_LABELS[how.indicator], partial(measure, qn, how), questions, headline=True)
            )
    for g in qn.groups:
        if not g.max_points:
            continue
        scored = tuple(q.id for q in g.questions if q.scored)
        if (None, (), g.code) not in seen:
            found.append(
                Indicator(f"Tỷ lệ điểm đạt: {g.title} (%)", partial(earned, qn, g.code), scored, headline=True)
            )
        found.append(
            Indicator(
                f"Điểm trung bình: {g.title} (tối đa {g.max_points:g})",
                partial(earned, qn, g.code),
                scored,
                g.max_points,
            )
        )
    for q in qn.questions:
        if q.kind.yes_no and not q.consent:  # every counted respondent said yes to consent
            rate = partial(share, question_id=q.id, values=[YES])
            found.append(Indicator(f"Tỷ lệ trả lời “Có”: {question_label(q)} (%)", rate, (q.id,)))
    return found


@dataclass(frozen=True)
class SurveyResults:
    qn: Questionnaire
    selection: Selection
    units: list[Unit]
    by_unit: dict[str, SurveyTally]
    overall: SurveyTally
    dimensions: list[Question]
    by_group: dict[tuple[str, str], SurveyTally]
    indicators: list[Indicator]
    measures: list[SurveyMeasure]
    texts: list[tuple[int, str, str, str]]
    minimum: int
    everyone: dict[str, SurveyTally]
    """Every unit's tally, also when the export shows one: what is hidden is decided over all of them."""
    events: list[Event] = field(default_factory=list)
    """The period's events on this survey, of the units the export covers."""
    by_event: dict[tuple[str, int | None], SurveyTally] = field(default_factory=dict)
    """Each unit's tally per event (None: those who came by the unit's own link)."""
    _hidden: dict[str, frozenset[str]] = field(default_factory=dict, init=False, compare=False, repr=False)

    def hidden_units(
        self, key: str, base: Callable[[SurveyTally], int] | None, questions: Sequence[str]
    ) -> frozenset[str]:
        """The units whose figure `key` (resting on `base` respondents, computed from `questions`) is hidden."""
        if key not in self._hidden:
            found = disclosure.hidden_figure(self.qn, self.everyone, base, questions, self.minimum)
            self._hidden[key] = found
        return self._hidden[key]

    def overall_hidden(self, key: str, base: Callable[[SurveyTally], int] | None, questions: Sequence[str]) -> bool:
        """Whether the figure of everyone the export covers is hidden: all the units, or the one it is for (hidden
        as in the export of all units; its groups then too, or they would add up to it)."""
        if self.selection.unit_code is not None:
            return self.selection.unit_code in self.hidden_units(key, base, questions)
        return disclosure.total_hidden(self.qn, self.overall, base, questions, self.minimum)

    def value(self, f: Indicator, unit: str | None) -> float | str | None:
        """An indicator of one unit (None: of everyone the export covers), hidden as disclosure control says."""
        key = f"indicator:{f.label}"
        if unit is None:
            return f.value(self.overall, self.overall_hidden(key, f.base, f.questions))
        return f.value(self.by_unit.get(unit, SurveyTally()), unit in self.hidden_units(key, f.base, f.questions))

    def shown_units(self) -> list[Unit]:
        """The units with responses whose figures are published (not hidden)."""
        hidden = self.hidden_units("responses", _responses, ())
        return [u for u in self.units if self.by_unit.get(u.code, SurveyTally()).responses and u.code not in hidden]

    @property
    def choice_questions(self) -> list[Question]:
        return [q for q in self.qn.questions if q.kind.choices]

    @property
    def satisfaction(self) -> Question | None:
        """The question the satisfaction measure counts, for the report's chart."""
        how = next((m for m in self.measures if m.indicator == "satisfaction" and m.question), None)
        return self.qn.question(how.question) if how is not None and how.question is not None else None

    def name_of(self, code: str) -> str:
        return next((u.name for u in self.units if u.code == code), code)


async def gather(
    db: AsyncSession,
    qn: Questionnaire,
    measures: Sequence[SurveyMeasure],
    selection: Selection,
    in_force: Sequence[Unit],
    minimum: int,
    breakdowns: Sequence[str],
    groups: bool = True,
) -> SurveyResults:
    """Everything but the rows of Dữ liệu, counted by the database, over the units given (those the survey is
    assigned to) and any other unit with responses; everyone's figures by group (Theo nhóm) only if `groups`."""
    figures = indicators(qn, measures)
    counted = {q.id for q in qn.questions if q.kind.choices or q.scored}
    everyone = await unit_tallies(db, replace(selection, unit_code=None), sorted(counted))
    by_unit = {code: t for code, t in everyone.items() if selection.unit_code in (None, code)}
    units = await units_for(db, in_force, by_unit, selection)
    overall = SurveyTally()
    for tally in by_unit.values():
        overall.merge(tally)
    dimensions = [
        qn.question(i)
        for i in breakdowns
        if qn.has(i) and qn.question(i).kind.choices and not qn.question(i).kind.multiple
    ]
    needed = sorted({qid for f in figures for qid in f.questions})
    by_group = (
        await queries.breakdown_tallies(db, selection, [d.id for d in dimensions], needed)
        if dimensions and groups
        else {}
    )
    text_ids = [q.id for q in qn.questions if q.kind.text]
    texts = await queries.text_answers(db, selection, text_ids) if text_ids else []
    held = [e for e in await events(db, selection.period_code, qn.id) if selection.unit_code in (None, e.unit_code)]
    by_event = await event_tallies(db, selection, sorted(counted)) if held else {}
    return SurveyResults(
        qn,
        selection,
        units,
        by_unit,
        overall,
        dimensions,
        by_group,
        figures,
        list(measures),
        texts,
        minimum,
        everyone,
        held,
        by_event,
    )


def _counts(tally: SurveyTally) -> list[Any]:
    """Responses, declines and the response rate: counts of people, not of answers, so never hidden."""
    return [tally.responses, tally.declined, response_rate(tally.responses, tally.declined).percent]


def summary_sheet(s: SurveyResults, name: str = "Tổng hợp") -> Sheet:
    columns = [Column("Mã đơn vị", "code"), Column("Đơn vị", width=24), Column("Số phiếu", "integer")]
    columns += [Column(DECLINED, "integer", width=12), Column(RESPONSE_RATE, "percent", width=12)]
    columns += [Column(f.label, "number" if f.scale != 100 else "percent", width=14) for f in s.indicators]
    rows: list[list[Any]] = []
    for unit in s.units:
        tally = s.by_unit.get(unit.code, SurveyTally())
        rows.append([unit.code, unit.name, *_counts(tally), *[s.value(f, unit.code) for f in s.indicators]])
    if len(s.units) > 1:
        rows.append(["", ALL_UNITS, *_counts(s.overall), *[s.value(f, None) for f in s.indicators]])
    return Sheet(name, columns, rows)


@dataclass(frozen=True)
class EventRow:
    """A line of a unit's table of events: an event (`code` its sk<id>), the rest of the unit's respondents or the
    unit itself, with its figures (one per indicator, hidden as disclosure control says)."""

    unit: Unit
    code: str | None
    name: str
    day: date | None
    tally: SurveyTally
    values: list[float | str | None]


def _members(s: SurveyResults, unit: Unit) -> list[tuple[str, str, date | None, SurveyTally]]:
    """A unit's events (sk<id>, name, day) and those who came by its own link (OWN_LINK), with their tallies: they
    add up to the unit. Empty for a unit without events."""
    held = [e for e in s.events if e.unit_code == unit.code]
    if not held:
        return []
    found = [
        (EVENT_CODE.format(id=e.id), e.name, e.held_on, s.by_event.get((unit.code, e.id), SurveyTally())) for e in held
    ]
    return [*found, (OWN_LINK, OWN_LINK, None, s.by_event.get((unit.code, None), SurveyTally()))]


def event_rows(s: SurveyResults) -> list[EventRow]:
    """Each unit with events: a row per event (its participants, how satisfied), one for those who came by the
    unit's own link, and the unit's. The events and the rest add up to the unit, so they are one table of
    conversations.disclosure: a second member is hidden where only one would be, and all of them where the unit's
    figure is hidden. The workbook's Theo sự kiện and the report's table both show these."""
    rows: list[EventRow] = []
    for unit in s.units:
        named = _members(s, unit)
        if not named:
            continue
        members = {key: tally for key, _, _, tally in named}
        hidden = [
            frozenset(members)
            if unit.code in s.hidden_units(f"indicator:{f.label}", f.base, f.questions)
            else disclosure.hidden_figure(s.qn, members, f.base, f.questions, s.minimum)
            for f in s.indicators
        ]
        for key, name, day, tally in named:
            values = [f.value(tally, key in h) for f, h in zip(s.indicators, hidden, strict=True)]
            rows.append(EventRow(unit, key if key != OWN_LINK else None, name, day, tally, values))
        whole = s.by_unit.get(unit.code, SurveyTally())
        rows.append(EventRow(unit, None, WHOLE_UNIT, None, whole, [s.value(f, unit.code) for f in s.indicators]))
    return rows


@dataclass(frozen=True)
class GroupRow:
    """A line of a unit's table of one breakdown: an event (`code` its sk<id>), the rest of the unit's respondents
    or the unit itself, with its count of each option (or HIDDEN) and how many of them answered (or HIDDEN)."""

    code: str | None
    name: str
    day: date | None
    counts: list[int | str]
    total: int | str


@dataclass(frozen=True)
class EventGroups:
    """Who one unit's events reached (issue 14): their respondents by the groups of one breakdown."""

    unit: Unit
    dimension: Question
    rows: list[GroupRow]


def event_groups(s: SurveyResults) -> list[EventGroups]:
    """Each unit with events, by each breakdown: a row per event, one for the unit's own link and the unit's. Its
    rows add up to the unit's, which Theo câu hỏi shows, and each row's total is its respondents (Theo sự kiện), so
    its cells are hidden as conversations.disclosure `cross_hidden` says, and all of them wherever Theo câu hỏi hides
    the unit's counts of that question, or the question is asked only after some answer (and then each event's
    total too: it would be the event's count of that answer; the unit's is hidden as on Theo câu hỏi)."""
    found: list[EventGroups] = []
    for unit in s.units:
        named = _members(s, unit)
        if not named:
            continue
        whole = s.by_unit.get(unit.code, SurveyTally())
        for d in s.dimensions:
            # asked after an answer: each event's total would be its count of that answer (hidden on Theo sự kiện)
            conditional = bool(disclosure.conditions(s.qn, d.id))
            asked = unit.code in s.hidden_units(f"asked:{d.id}", None, [d.id])
            block = conditional or unit.code in s.hidden_units(f"question:{d.id}", disclosure.answered(d.id), [d.id])
            counts = [[tally.chosen[(d.id, c.value)] for c in d.options] for *_, tally in named]
            hidden = set() if block else disclosure.cross_hidden(counts, s.minimum)
            rows: list[GroupRow] = []
            for r, (key, name, day, tally) in enumerate(named):
                shown = [HIDDEN if block or (r, c) in hidden else n for c, n in enumerate(counts[r])]
                code = key if key != OWN_LINK else None
                total = HIDDEN if conditional else tally.answered[d.id]  # else its Số phiếu on Theo sự kiện
                rows.append(GroupRow(code, name, day, shown, total))
            unit_counts: list[int | str] = [HIDDEN if block else whole.chosen[(d.id, c.value)] for c in d.options]
            rows.append(GroupRow(None, WHOLE_UNIT, None, unit_counts, HIDDEN if asked else whole.answered[d.id]))
            found.append(EventGroups(unit, d, rows))
    return found


def option_headers(dimensions: Sequence[Question]) -> list[list[str]]:
    """The header of each breakdown's options: the option's label, with its question's where two breakdowns share
    a label."""
    labels = [c.label for d in dimensions for c in d.options]
    return [
        [c.label if labels.count(c.label) == 1 else f"{question_label(d)} {c.label}" for c in d.options]
        for d in dimensions
    ]


def event_groups_sheet(s: SurveyResults) -> Sheet:
    """Sự kiện theo nhóm: a column per option of every breakdown, each row filling its own breakdown's."""
    headers = option_headers(s.dimensions)
    columns = [Column("Mã đơn vị", "code"), Column("Đơn vị", width=24), Column("Mã sự kiện", width=10)]
    columns += [Column("Sự kiện", "long_text", width=36), Column("Chia theo", width=22)]
    columns += [Column(h, "integer", width=11) for hs in headers for h in hs]
    columns.append(Column("Tổng", "integer", width=9))
    where = {d.id: sum(len(before.options) for before in s.dimensions[:n]) for n, d in enumerate(s.dimensions)}
    width = sum(len(hs) for hs in headers)
    rows: list[list[Any]] = []
    for t in event_groups(s):
        for r in t.rows:
            cells: list[Any] = [None] * width
            cells[where[t.dimension.id] : where[t.dimension.id] + len(r.counts)] = r.counts
            rows.append([t.unit.code, t.unit.name, r.code, r.name, question_label(t.dimension), *cells, r.total])
    return Sheet("Sự kiện theo nhóm", columns, rows)


def events_sheet(s: SurveyResults) -> Sheet:
    columns = [Column("Mã đơn vị", "code"), Column("Đơn vị", width=24), Column("Mã sự kiện", width=10)]
    columns += [Column("Sự kiện", "long_text", width=36), Column("Ngày", "date"), Column("Số phiếu", "integer")]
    columns += [Column(DECLINED, "integer", width=12), Column(RESPONSE_RATE, "percent", width=12)]
    columns += [Column(f.label, "number" if f.scale != 100 else "percent", width=14) for f in s.indicators]
    rows = [[r.unit.code, r.unit.name, r.code, r.name, r.day, *_counts(r.tally), *r.values] for r in event_rows(s)]
    return Sheet("Theo sự kiện", columns, rows)


def _distribution(tally: SurveyTally, q: Question, value: str | None, hide: bool) -> list[Any]:
    """[count, %] of one choice (value None: how many answered, `hide` then saying whether that is a count of an
    answer it is asked after that is hidden) within one set of respondents."""
    base = tally.answered[q.id]
    if value is None:
        return [HIDDEN if hide else base, None]
    if hide:  # also where nobody answered: a zero would tell that
        return [HIDDEN, HIDDEN]
    if not base:
        return [0, None]
    count = tally.chosen[(q.id, value)]
    return [count, round(100 * count / base, 1)]


def _responses(tally: SurveyTally) -> int:
    return tally.responses


def question_sheet(s: SurveyResults) -> Sheet:
    sets: list[tuple[str, str | None]] = [(ALL_UNITS, None)] if len(s.units) > 1 else []
    sets += [(u.name, u.code) for u in s.units]
    columns = [Column("Câu", width=6), Column("Câu hỏi", "long_text", width=45), Column("Phương án", width=28)]
    for name, _ in sets:
        columns += [Column(f"{name}: số", "integer", width=9), Column(f"{name}: %", "percent", width=9)]
    numbers = {q.id: n for n, q in enumerate((q for q in s.qn.questions if q.answerable), start=1)}
    rows: list[list[Any]] = []
    for q in s.choice_questions:
        base = disclosure.answered(q.id)
        cells = s.hidden_units(f"question:{q.id}", base, [q.id])
        asked = s.hidden_units(f"asked:{q.id}", None, [q.id])  # the number who answered, by what it is asked after
        cells_total = s.overall_hidden(f"question:{q.id}", base, [q.id])
        asked_total = s.overall_hidden(f"asked:{q.id}", None, [q.id])
        for value, label in [(None, ANSWERED), *((c.value, c.label) for c in q.options)]:
            row: list[Any] = [f"Câu {numbers[q.id]}", question_label(q), label]
            for _, code in sets:
                tally = s.overall if code is None else s.by_unit.get(code, SurveyTally())
                if code is None:
                    hide = asked_total if value is None else cells_total
                else:
                    hide = code in (asked if value is None else cells)
                row += _distribution(tally, q, value, hide)
            rows.append(row)
    return Sheet("Theo câu hỏi", columns, rows)


def group_sheet(s: SurveyResults) -> Sheet:
    columns = [Column("Chia theo", width=24), Column("Nhóm người trả lời", width=28), Column("Số phiếu", "integer")]
    columns += [Column(f.label, "number" if f.scale != 100 else "percent", width=14) for f in s.indicators]
    rows: list[list[Any]] = []
    for d in s.dimensions:
        tallies = {c.value: s.by_group.get((d.id, c.value), SurveyTally()) for c in d.options}
        every = set(tallies)
        hidden = [
            every
            if s.overall_hidden(f"indicator:{f.label}", f.base, f.questions)
            else disclosure.hidden_in(s.qn, tallies, f.base, f.questions, s.minimum)
            for f in s.indicators
        ]
        # a group's size is the count of its answer in everyone's distribution (Theo câu hỏi): hidden with it
        sizes_hidden = s.overall_hidden(f"question:{d.id}", disclosure.answered(d.id), [d.id])
        for choice in d.options:
            tally = tallies[choice.value]
            values = [f.value(tally, choice.value in h) for f, h in zip(s.indicators, hidden, strict=True)]
            size = HIDDEN if sizes_hidden else tally.responses
            rows.append([question_label(d), choice.label, size, *values])
    return Sheet("Theo nhóm", columns, rows)


def opinions_sheet(s: SurveyResults) -> Sheet:
    """The free-text opinions as themes and counts, as the report gives them: the texts themselves, each with its
    response and unit, are microdata (`texts_sheet`, /xuat dulieu)."""
    columns = [Column("Nhóm ý kiến", width=50), Column("Số ý kiến", "integer")]
    rows: list[list[Any]] = [[name, count] for name, count in themes([text for *_, text in s.texts])]
    return Sheet("Ý kiến", columns, rows)


def texts_sheet(s: SurveyResults) -> Sheet:
    """Every free-text answer, with its response and unit: microdata, only in /xuat dulieu."""
    columns = [
        Column("Mã phiếu", "integer"),
        Column("Mã đơn vị", "code"),
        Column("Đơn vị", width=22),
        Column("Câu hỏi", "long_text", width=40),
        Column("Ý kiến", "long_text", width=80),
    ]
    order = {u.code: n for n, u in enumerate(s.units)}
    ordered = sorted(s.texts, key=lambda t: (order.get(t[1], len(order)), t[0]))
    rows = [[rid, unit, s.name_of(unit), question_label(s.qn.question(qid)), text] for rid, unit, qid, text in ordered]
    return Sheet("Ý kiến", columns, rows)


def _answerable(qn: Questionnaire) -> list[Question]:
    return [q for q in qn.questions if q.answerable]


def _kind(q: Question) -> ColumnKind:
    """How a question's answers are written: numbers as numbers (with a number format), text as text."""
    if q.kind.number:
        return "number"
    return "long_text" if q.kind.text else "text"


def _numeric(asked: list[Question]) -> set[str]:
    """The questions whose answers are written as the number itself."""
    return {q.id for q in asked if _kind(q) == "number"}


def data_sheet(db: AsyncSession, s: SurveyResults) -> Sheet:
    """One row per response, streamed from the database when the workbook is written: microdata (/xuat dulieu)."""
    asked = _answerable(s.qn)
    scored = [q.id for q in asked if q.scored]
    columns = [Column("Mã phiếu", "integer"), Column("Mã đơn vị", "code"), Column("Đơn vị", width=20)]
    columns += [Column("Ngày nộp", "date")]
    columns += [Column(question_header(s.qn, q.id), _kind(q), width=40 if q.kind.text else 18) for q in asked]
    numeric = _numeric(asked)
    if scored:
        columns.append(Column("Điểm kiến thức", "number"))

    async def rows() -> AsyncIterator[list[Any]]:
        names = {u.code: u.name for u in s.units}
        codes = [u.code for u in s.units]
        stream = queries.wide_answers(db, s.selection, [q.id for q in asked], scored, codes, numeric)
        async for response_id, unit, submitted_at, *answers in stream:
            yield [response_id, unit, names.get(unit, unit), local_date(submitted_at), *answers]

    return Sheet("Dữ liệu", columns, rows())


def long_sheet(db: AsyncSession, s: SurveyResults) -> Sheet:
    """One row per answer (response, question, answer): the CSV form of the microdata (/xuat dulieu). A number's
    answer is the number itself ("2.5", never "2,5"), as in the Dữ liệu sheet."""
    columns = [
        Column("Mã phiếu", "integer"),
        Column("Mã đơn vị", "code"),
        Column("Đơn vị"),
        Column("Ngày nộp", "date"),
        Column("Mã câu hỏi"),
        Column("Câu hỏi", "long_text"),
        Column("Trả lời", "long_text"),
        Column("Điểm", "number"),
    ]

    async def rows() -> AsyncIterator[list[Any]]:
        names = {u.code: u.name for u in s.units}
        asked = _answerable(s.qn)
        labels = {q.id: question_header(s.qn, q.id) for q in asked}
        numeric = _numeric(asked)
        async for rid, unit, submitted_at, qid, text, points in queries.long_answers(
            db, s.selection, [u.code for u in s.units], numeric
        ):
            yield [rid, unit, names.get(unit, unit), local_date(submitted_at), qid, labels.get(qid, qid), text, points]

    return Sheet("Dữ liệu dạng dài", columns, rows())
