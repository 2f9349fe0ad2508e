"""The self-assessment workbook: Tổng hợp (scores by group: the unit's own, the survey's, the Justice Office's
verified; classification, rank), Chi tiết (unit × criterion), Minh chứng (every evidence file) and Tiến độ (not
started, in progress, submitted).

Criteria measured by the citizen survey (`measured_by`) are shown twice: the officer's own figure and points,
and the figure and points the unit's survey results give under the same bands.

The result of a unit (its level and rank) is the Justice Office's: on its verified total once finalised (`/chot`),
ranked among the finalised units of the period; until then only its own total's rank (`self_rank`) is known."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conversations import disclosure, engine
from conversations import messages as m
from conversations.answers import display, number_text
from conversations.conditions import visible
from conversations.definition import (
    Question,
    Questionnaire,
    SurveyMeasure,
    answer_line,
    question_label,
    supporting,
)
from conversations.localtime import local_cell
from conversations.measures import (
    Rate,
    SurveyFigures,
    SurveyTally,
    measure,
    measure_questions,
    measured_criteria,
)
from conversations.scoring import ScoreCard, level, places, question_points, score
from conversations.status import COUNTED, LABELS, ORDER, Status, scoring_label
from conversations.verification import Criterion, Verified, verify
from exports import queries
from exports.results import units_for
from exports.workbook import HIDDEN, Column, Sheet
from storage.models import Evidence, Response, Unit, Verification
from storage.queries import Selection, evidence_files, explanations, unit_tallies, verifications, verified_points

NO_THRESHOLDS = "Chưa có ngưỡng chính thức"
CHANNELS = {"telegram": "Telegram", "zalo_oa": "Zalo OA", "zalo_bot": "Zalo Bot", "console": "Dòng lệnh"}
NOT_KEPT = "(tệp không lưu trên máy chủ)"
"""A file sent before the bot kept evidence bytes: only the platform's file id is known."""


@dataclass(frozen=True)
class UnitResult:
    unit: Unit
    response: Response | None
    card: ScoreCard | None
    """The officer's own scores; None when the unit has not started."""
    survey_responses: int
    survey_rates: dict[str, Rate]
    survey_card: ScoreCard | None
    """Scores with the survey's figures for the survey-measured criteria, when none of them is hidden."""
    hidden_rates: frozenset[str]
    """The survey-measured criteria whose survey figure is hidden for this unit (conversations.disclosure)."""
    evidence: list[Evidence]
    verified: Verified | None = None
    """The Justice Office's scoring worked out (conversations.verification) for a submitted unit, else None."""
    verification: Verification | None = None
    """Where that scoring stands; None while not begun."""
    reasons: Mapping[str, str] = field(default_factory=dict)
    """The reasons given with verified points, by question id."""
    explained: Mapping[str, str] = field(default_factory=dict)
    """The unit's explanations (giải trình) of lowered criteria, by question id."""
    self_rank: int | None = None
    """Among the submitted units, by their own totals."""
    rank: int | None = None
    """The result's: among the finalised units, by their verified totals."""

    @property
    def status(self) -> Status | None:
        return self.response.status if self.response else None

    @property
    def answers(self) -> dict[str, Any]:
        return self.response.state["answers"] if self.response else {}

    @property
    def scoring(self) -> str | None:
        """ "Chưa thẩm định", "Đang thẩm định", "Đã chốt" for a submitted unit, else None."""
        if self.verified is None:
            return None
        return scoring_label(self.verification is not None, self.finalised)

    @property
    def finalised(self) -> bool:
        return self.verified is not None and self.verification is not None and self.verification.finalised

    @property
    def final_total(self) -> float | None:
        """The verified total once finalised: the one a level and a rank are given on."""
        return self.verified.verified_total if self.finalised and self.verified is not None else None


@dataclass(frozen=True)
class Assessment:
    qn: Questionnaire
    survey: Questionnaire | None
    period: str
    units: list[UnitResult]
    minimum: int

    @property
    def measured(self) -> list[Question]:
        return measured_criteria(self.qn) if self.survey is not None else []

    @property
    def submitted(self) -> list[UnitResult]:
        return [r for r in self.units if r.status in COUNTED]


def _measure(q: Question) -> SurveyMeasure:
    assert q.measured_by is not None
    return q.measured_by


def ranked(results: list[UnitResult]) -> list[UnitResult]:
    """Two ranks: `self_rank` among the submitted units by their own totals; `rank`, the result's, among the units
    whose verified result is finalised, by their verified totals (a unit still being scored has none: its total
    may change)."""
    own = places({i: r.card.total for i, r in enumerate(results) if r.status in COUNTED and r.card})
    final = places({i: total for i, r in enumerate(results) if (total := r.final_total) is not None})
    return [replace(r, self_rank=own.get(i), rank=final.get(i)) for i, r in enumerate(results)]


async def gather(
    db: AsyncSession,
    qn: Questionnaire,
    surveys: Sequence[Questionnaire],
    selection: Selection,
    unit_surveys: Mapping[str, Collection[str]],
    in_force: list[Unit],
    minimum: int,
) -> Assessment:
    """The units' responses, scores and evidence; the survey-measured criteria re-scored from the survey each unit
    reads (`SurveyMeasure.survey_for` over `unit_surveys`, the public surveys assigned to each unit) among
    `surveys` (the public surveys the export covers; the first is the assessment's `survey`)."""
    survey = surveys[0] if surveys else None
    rows = await queries.responses(db, selection)
    by_unit = {r.unit_code: r for r in rows}
    units = await units_for(db, in_force, by_unit, selection)
    counted = [r.id for r in rows if r.status in COUNTED]
    files: dict[int, list[Evidence]] = {}
    for found in await evidence_files(db, counted):
        files.setdefault(found.response_id, []).append(found)
    points, states = await verified_points(db, counted), await verifications(db, counted)
    explained = await explanations(db, counted)
    measured = measured_criteria(qn) if survey is not None else []
    by_id = {s.id: s for s in surveys}
    tallies: dict[str, dict[str, SurveyTally]] = {}
    hidden: dict[tuple[str, str], frozenset[str]] = {}
    for s in surveys:  # each survey's counts by unit, and the answers its criteria read
        reading = [q for q in measured if s.id in _measure(q).surveys]
        needed = disclosure.read_over(s, [qid for q in reading for qid in measure_questions(s, _measure(q))])
        tallies[s.id] = await unit_tallies(db, Selection(s.id, selection.period_code), needed)
        for q in reading:  # over every unit, as the survey workbook decides it
            hidden[(s.id, q.id)] = disclosure.measure_hidden(s, _measure(q), tallies[s.id], minimum)
    results = []
    for unit in units:
        response = by_unit.get(unit.code)
        read = {q.id: _measure(q).survey_for(unit_surveys.get(unit.code, ())) for q in measured}
        read = {qid: sid for qid, sid in read.items() if sid in tallies}
        own = next((s.id for s in surveys if s.id in unit_surveys.get(unit.code, ())), survey.id if survey else None)
        tally = tallies[own].get(unit.code, SurveyTally()) if own is not None else SurveyTally()
        rates = {  # a criterion whose survey the export does not cover: nobody answered
            q.id: measure(by_id[read[q.id]], _measure(q), tallies[read[q.id]].get(unit.code, SurveyTally()))
            if q.id in read
            else Rate(None, 0)
            for q in measured
        }
        hidden_rates = frozenset(q.id for q in measured if q.id in read and unit.code in hidden[(read[q.id], q.id)])
        answers = response.state["answers"] if response else {}
        figures = SurveyFigures(rates, minimum, hidden_rates) if measured else None
        replaced = figures.answers(qn, answers) if response and figures is not None else None
        given = points.get(response.id, {}) if response and response.status in COUNTED else None
        verified = verify(qn, answers, {q: v.points for q, v in given.items()}, figures) if given is not None else None
        results.append(
            UnitResult(
                unit=unit,
                response=response,
                card=score(qn, answers) if response else None,
                survey_responses=tally.responses,
                survey_rates=rates,
                survey_card=score(qn, replaced) if replaced is not None else None,
                hidden_rates=hidden_rates,
                evidence=files.get(response.id, []) if response else [],
                verified=verified,
                verification=states.get(response.id) if response else None,
                reasons={q: v.reason for q, v in (given or {}).items() if v.reason},
                explained={q: e.text for q, e in explained.get(response.id, {}).items()} if response else {},
            )
        )
    return Assessment(qn, survey, selection.period_code, ranked(results), minimum)


def final_level(a: Assessment, r: UnitResult) -> str:
    """The unit's level on its finalised verified total ("" before), or that the questionnaire has no levels."""
    if not a.qn.classification:
        return NO_THRESHOLDS
    total = r.final_total
    return (level(a.qn, total) or "") if total is not None else ""


def summary_sheet(a: Assessment, name: str = "Tổng hợp") -> Sheet:
    groups = [g for g in a.qn.groups if g.max_points is not None]
    survey_groups = [g for g in groups if any(q.group == g.code for q in a.measured)]
    most = f"tối đa {a.qn.max_points:g}"
    scored = a.qn.scored  # a framework without points (the pilot's template): no totals, ranks or verification
    totals = [Column(f"Tổng điểm tự chấm ({most})", "number"), Column("Hạng theo điểm tự chấm", "integer")]
    columns = [
        Column("Mã đơn vị", "code"),
        Column("Đơn vị", width=28),
        Column("Trạng thái", width=13),
        Column("Nộp lúc", "datetime"),
        *[Column(f"{g.code} tự chấm (tối đa {g.max_points:g})", "number") for g in groups],
        *(totals if scored else []),
        Column("Số minh chứng", "integer"),
    ]
    if a.measured:
        columns += [
            Column("Số phiếu khảo sát", "integer"),
            *[Column(f"{g.code} theo khảo sát (tối đa {g.max_points:g})", "number") for g in survey_groups],
            Column(f"Tổng điểm theo khảo sát ({most})", "number"),
        ]
    columns += (
        [
            Column("Thẩm định", width=15),
            *[Column(f"{g.code} thẩm định (tối đa {g.max_points:g})", "number") for g in groups],
            Column(f"Tổng điểm thẩm định ({most})", "number"),
            Column("Xếp loại", width=16),
            Column("Hạng", "integer"),
        ]
        if scored
        else []
    )
    rows = []
    for r in a.units:
        points = {g.code: g.points for g in r.card.groups} if r.card else {}
        row: list[Any] = [
            r.unit.code,
            r.unit.name,
            LABELS[r.status],
            local_cell(r.response.submitted_at if r.response else None),
            *[points.get(g.code) for g in groups],
            *([r.card.total if r.card else None, r.self_rank] if scored else []),
            len(r.evidence),
        ]
        if a.measured:
            row.append(r.survey_responses)
            if r.card is None:
                row += [None] * (len(survey_groups) + 1)
            elif r.survey_card is None:
                row += [HIDDEN] * (len(survey_groups) + 1)
            else:
                survey_points = {g.code: g.points for g in r.survey_card.groups}
                row += [survey_points[g.code] for g in survey_groups] + [r.survey_card.total]
        if scored:
            begun = r.verified if r.verification is not None else None  # the self-scores are no verified points
            verified = {g.code: g.verified for g in begun.groups} if begun else {}
            row += [r.scoring, *[verified.get(g.code) for g in groups], begun.verified_total if begun else None]
            row += [final_level(a, r), r.rank]
        rows.append(row)
    return Sheet(name, columns, rows)


def _survey_cells(a: Assessment, r: UnitResult, q: Question) -> list[Any]:
    rate = r.survey_rates.get(q.id, Rate(None, 0))
    if rate.percent is None or q.id in r.hidden_rates:
        return [HIDDEN, HIDDEN, rate.base]
    return [rate.percent, question_points(q, rate.percent), rate.base]


def detail_sheet(a: Assessment, name: str = "Chi tiết") -> Sheet:
    support = supporting(a.qn)
    columns = [
        Column("Mã đơn vị", "code"),
        Column("Đơn vị", width=24),
        Column("Nhóm", width=8),
        Column("Tiêu chí", width=9),
        Column("Câu hỏi", "long_text", width=50),
        Column("Trả lời", "long_text", width=30),
        Column("Số liệu", "number"),
        Column("Điểm tự chấm", "number"),
        Column("Điểm tối đa", "number"),
        Column("Số minh chứng", "integer"),
        Column("Ghi chú của cán bộ", "long_text", width=40),
    ]
    if a.measured:
        columns += [
            Column("Tỷ lệ theo khảo sát (%)", "percent"),
            Column("Điểm theo khảo sát", "number"),
            Column("Số người trả lời khảo sát", "integer"),
        ]
    columns += [
        Column("Điểm thẩm định", "number"),
        Column("Lý do thẩm định", "long_text", width=40),
        Column("Giải trình của đơn vị", "long_text", width=40),
    ]
    rows = []
    for r in a.units:
        if r.response is None:
            continue
        answers, files = r.answers, Counter(f.question_id for f in r.evidence)
        shown = [q for q in visible(a.qn, answers) if q.answerable]
        for q in shown:
            if q.id in support or q.kind.files:
                continue
            backing = [s for s in shown if support.get(s.id) == q.id]
            evidence = [s for s in backing if s.kind.files]
            notes = [
                answer_line(question_label(s), display(s, answers[s.id]))
                for s in backing
                if not s.kind.files and s.id in answers
            ]
            used = r.response.state.get("from_survey", {}).get(q.id)
            if used is not None and used["note"]:  # the officer's explanation beside the survey's figure
                notes.append(m.SURVEY_EXPLANATION.format(text=used["note"]))
            value = answers.get(q.id)
            row: list[Any] = [
                r.unit.code,
                r.unit.name,
                q.group,
                q.code or "",
                q.text,
                display(q, value) if value is not None else "",
                value if q.kind.number and isinstance(value, int | float) else None,
                question_points(q, value) if q.scored and value is not None else None,
                q.max_points if q.scored else None,
                sum(files[s.id] for s in evidence) if evidence else None,
                "; ".join(notes) or None,
            ]
            if a.measured:
                row += _survey_cells(a, r, q) if q.measured_by is not None else [None, None, None]
            criterion = r.verified.criterion(q.id) if r.verified is not None else None
            verified = criterion.verified if criterion is not None else None
            rows.append([*row, verified, r.reasons.get(q.id), r.explained.get(q.id)])
    return Sheet(name, columns, rows)


def evidence_sheet(a: Assessment, name: str = "Minh chứng", places: Mapping[int, str] | None = None) -> Sheet:
    """Every file; `places` are the kept files' paths in the evidence zip (exports.evidence), by Evidence id."""
    support, places = supporting(a.qn), places or {}
    columns = [
        Column("Mã đơn vị", "code"),
        Column("Đơn vị", width=24),
        Column("Nhóm", width=8),
        Column("Tiêu chí", width=9),
        Column("Câu hỏi", "long_text", width=40),
        Column("Tên tệp", width=28),
        Column("Loại", width=10),
        Column("Kích thước (byte)", "integer"),
        Column("SHA-256", width=66),
        Column("Kênh", width=12),
        Column("Trong tệp zip (/xuat minhchung)", "long_text", width=50),
        Column("Mã tệp trên kênh chat", "long_text", width=50),
    ]
    rows = []
    for r in a.units:
        for f in r.evidence:
            q = a.qn.question(f.question_id) if a.qn.has(f.question_id) else None
            criterion = a.qn.question(support[f.question_id]) if f.question_id in support else None
            rows.append(
                [
                    r.unit.code,
                    r.unit.name,
                    q.group if q else "",
                    criterion.code if criterion and criterion.code else "",
                    q.text if q else f.question_id,
                    f.name or ("Ảnh" if f.kind == "photo" else ""),
                    f.mime or f.kind,
                    f.size,
                    f.sha256,
                    CHANNELS.get(f.channel, f.channel),
                    places.get(f.id, NOT_KEPT),
                    f.file_id,
                ]
            )
    return Sheet(name, columns, rows)


@dataclass(frozen=True)
class Lowered:
    """A criterion the Justice Office lowered, and each unit it lowered it for."""

    question: Question
    units: list[tuple[UnitResult, Criterion]]


def most_lowered(a: Assessment) -> list[Lowered]:
    """The criteria lowered in the scoring so far (finalised or not), most often first, then in the questionnaire's
    order; each with the units (their points and the reason in `UnitResult.reasons`)."""
    found: dict[str, list[tuple[UnitResult, Criterion]]] = {}
    for r in a.units:
        for c in r.verified.lowered if r.verified is not None else []:
            found.setdefault(c.question.id, []).append((r, c))
    order = {q.id: place for place, q in enumerate(a.qn.questions)}
    lowered = [Lowered(units[0][1].question, units) for units in found.values()]
    return sorted(lowered, key=lambda x: (-len(x.units), order.get(x.question.id, len(order))))


def lowered_line(r: UnitResult, c: Criterion) -> str:
    """A unit's lowered criterion as the exports quote it: `Xã Hậu Lộc (6 → 3): “Kế hoạch ban hành muộn”`."""
    reason = r.reasons.get(c.question.id)
    points = f"{number_text(c.self_points)} → {number_text(c.counted)}"
    return f"{r.unit.name} ({points})" + (f": “{reason}”" if reason else "")


def lowered_sheet(a: Assessment, name: str = "Tiêu chí bị hạ điểm") -> Sheet:
    columns = [
        Column("Nhóm", width=8),
        Column("Tiêu chí", width=9),
        Column("Câu hỏi", "long_text", width=50),
        Column("Điểm tối đa", "number"),
        Column("Số đơn vị bị hạ điểm", "integer"),
        Column("Đơn vị (tự chấm → thẩm định): lý do", "long_text", width=70),
    ]
    rows = [
        [
            x.question.group,
            x.question.code or "",
            x.question.text,
            x.question.max_points,
            len(x.units),
            "\n".join(lowered_line(r, c) for r, c in x.units),
        ]
        for x in most_lowered(a)
    ]
    return Sheet(name, columns, rows)


def progress_sheet(a: Assessment, name: str = "Tiến độ") -> Sheet:
    columns = [
        Column("Mã đơn vị", "code"),
        Column("Đơn vị", width=28),
        Column("Trạng thái", width=13),
        Column("Số câu đã trả lời", "integer"),
        Column("Số câu phải trả lời", "integer"),
        Column("Hoạt động gần nhất", "datetime"),
        Column("Nộp lúc", "datetime"),
        Column("Số phiếu khảo sát", "integer"),
    ]
    rows = []
    ordered = sorted(a.units, key=lambda r: ORDER[r.status])  # stable: Vietnamese order within a status
    for r in ordered:
        answered, asked = engine.answered(a.qn, r.response.state) if r.response else (None, None)
        rows.append(
            [
                r.unit.code,
                r.unit.name,
                LABELS[r.status],
                answered,
                asked,
                local_cell(r.response.updated_at if r.response else None),
                local_cell(r.response.submitted_at if r.response else None),
                r.survey_responses,
            ]
        )
    return Sheet(name, columns, rows)


def status_counts(a: Assessment) -> dict[str, int]:
    """Submitted (approved too), in progress (a returned one is being corrected), not started."""
    grouped = {Status.APPROVED: Status.SUBMITTED, Status.RETURNED: Status.DRAFT}
    counts = Counter(grouped.get(r.status, r.status) if r.status else None for r in a.units)
    return {LABELS[s]: counts[s] for s in (Status.SUBMITTED, Status.DRAFT, None)}
