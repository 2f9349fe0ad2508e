"""A unit's result on the Justice Office's verified total: its level and rank once finalised (/chot), ranked among
the finalised units (equal totals share a rank), beside the rank of its own total; in the workbook over the chat
on both databases."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import openpyxl

from conversations.definition import Level, load_directory
from conversations.scoring import ScoreCard
from conversations.status import Status
from conversations.verification import Verified
from exports.assessment import NO_THRESHOLDS, Assessment, UnitResult, final_level, ranked
from exports.charts import bar_chart
from exports.report import TOTALS_PAIRED, totals_chart
from storage.models import Response, Unit, Verification
from tests.client import Chat
from tests.test_exports import (
    HAU_LOC,
    HOA_LOC,
    N4_BANDS,
    Seeded,
    banded,
    consenting,
    export,
    satisfied,
    seeded,  # noqa: F401  (the fixture)
    self_study,
    table,
)

ROOT = Path(__file__).resolve().parents[1]


def said(points: float) -> str:
    return f"{points:g}".replace(".", ",")


def result(code: str, own: float | None, verified: float | None = None, finalised: bool = False) -> UnitResult:
    """A unit with its own total (None: a draft) and, when scored, its verified total."""
    submitted = own is not None
    response = Response(status=Status.SUBMITTED if submitted else Status.DRAFT, state={"answers": {}})
    return UnitResult(
        unit=Unit(code=code, name=f"Xã {code}"),
        response=response,
        card=ScoreCard((), own or 0.0, 100, None, False),
        survey_responses=0,
        survey_rates={},
        survey_card=None,
        hidden_rates=frozenset(),
        evidence=[],
        verified=Verified((), (), 100, own, None, verified if verified is not None else own) if submitted else None,
        verification=Verification(finalised=finalised) if verified is not None else None,
    )


def test_ranks_on_finalised_verified_totals_and_on_own_totals() -> None:
    units = ranked(
        [
            result("a", 90, 70, finalised=True),
            result("b", 80, 80, finalised=True),
            result("c", 80, 80, finalised=True),
            result("d", 95, 60),  # being scored: no result yet
            result("e", 85),  # not scored yet
            result("f", None),  # a draft
        ]
    )
    assert {r.unit.code: r.rank for r in units} == {"a": 3, "b": 1, "c": 1, "d": None, "e": None, "f": None}
    assert {r.unit.code: r.self_rank for r in units} == {"a": 2, "b": 4, "c": 4, "d": 1, "e": 3, "f": None}
    assert [r.scoring for r in units] == ["Đã chốt"] * 3 + ["Đang thẩm định", "Chưa thẩm định", None]


def test_level_on_the_finalised_verified_total() -> None:
    shipped = load_directory(ROOT / "presets/questionnaires")["tu-danh-gia"]
    levels = [Level(name="Tốt", min_points=80), Level(name="Khá", min_points=65), Level(name="Đạt", min_points=50)]
    graded = shipped.model_copy(update={"classification": levels})
    units = [result("a", 90, 70, True), result("b", 79, 80, True), result("c", 95, 40, True), result("d", 90, 85)]
    by_level = Assessment(graded, None, "2026", units, 5)
    assert [final_level(by_level, r) for r in units] == ["Khá", "Tốt", "", ""]  # below every level; not finalised
    assert {final_level(Assessment(shipped, None, "2026", units, 5), r) for r in units} == {NO_THRESHOLDS}


def test_totals_chart_sets_the_verified_totals_of_finalised_units_beside_their_own() -> None:
    shipped = load_directory(ROOT / "presets/questionnaires")["tu-danh-gia"]
    units = [
        result("a", 90, 70, True),
        result("b", 80),
        result("c", 85, 60),
        result("d", None),
        result("e", 75, 75, True),
    ]
    chart = totals_chart(Assessment(shipped, None, "2026", ranked(units), 5))
    assert chart.labels == ["Xã a", "Xã b", "Xã c", "Xã e"]  # the submitted units
    own, verified = chart.series
    assert (own.name, list(own.values)) == ("Tự chấm", [90, 80, 85, 75])
    assert (verified.name, list(verified.values)) == ("Thẩm định (đơn vị đã chốt)", [70, None, None, 75])
    assert bar_chart(chart).startswith(b"\x89PNG")
    scoring = totals_chart(Assessment(shipped, None, "2026", ranked([result("b", 80), result("c", 85, 60)]), 5))
    assert [(s.name, list(s.values)) for s in scoring.series] == [("Tự chấm", [80, 85])]  # none finalised: one bar


async def test_workbook_ranks_finalised_units_on_verified_totals(seeded: Seeded) -> None:  # noqa: F811
    admin = seeded.admin
    before = openpyxl.load_workbook(io.BytesIO((await export(seeded, "/xuat danhgia")).content))
    detail = [r for r in table(before, "Chi tiết") if r["Mã đơn vị"] == HAU_LOC and r["Điểm tự chấm"] is not None]
    own: dict[str, float] = {r["Tiêu chí"]: r["Điểm tự chấm"] for r in detail}
    # what approving takes for Hậu Lộc: the survey's points where its figure is shown (its knowledge figure, N4.2,
    # is hidden: tests/test_exports.py), else the self-score
    survey = [r for r in detail if isinstance(r["Điểm theo khảo sát"], float | int)]
    survey_total = seeded.totals[HAU_LOC] + sum(r["Điểm theo khảo sát"] - r["Điểm tự chấm"] for r in survey)
    hoa_own = {r["Tiêu chí"]: r["Điểm tự chấm"] for r in table(before, "Chi tiết") if r["Mã đơn vị"] == HOA_LOC}
    best = sorted((c for c, points in own.items() if points and not c.startswith("N4")), key=lambda c: -own[c])
    shared = next(code for code in best if hoa_own[code])  # lowered for both units
    assert "Đã chấm" in await admin.send(f"/chamdiem {HOA_LOC} {shared} 0 Thiếu văn bản")
    lowered: list[str] = []  # Hậu Lộc's best criteria outside N4 to 0, until it falls below Hoa Lộc
    for code in [shared, *(c for c in best if c != shared)]:
        if survey_total - sum(own[c] for c in lowered) < seeded.totals[HOA_LOC] - hoa_own[shared]:
            break
        assert "Đã chấm" in await admin.send(f"/chamdiem {HAU_LOC} {code} 0 Không có minh chứng {code}")
        lowered.append(code)
    explaining = Chat(seeded.service, f"officer-{HAU_LOC}")
    assert "Đã gửi giải trình" in await explaining.send(f"/giaitrinh {shared} Văn bản lưu ở xã")
    verified = {
        HAU_LOC: survey_total - sum(own[c] for c in lowered),
        HOA_LOC: seeded.totals[HOA_LOC] - hoa_own[shared],
    }
    assert verified[HAU_LOC] < verified[HOA_LOC] and seeded.totals[HAU_LOC] > seeded.totals[HOA_LOC]
    for unit in (HAU_LOC, HOA_LOC):
        assert "Đã thẩm định đủ" in await admin.send(f"/chamdiem {unit} dongy")
    scoring = openpyxl.load_workbook(io.BytesIO((await export(seeded, "/xuat danhgia")).content))
    middle = {r["Mã đơn vị"]: r for r in table(scoring, "Tổng hợp")}
    assert middle[HAU_LOC]["Thẩm định"] == "Đang thẩm định" and middle[HAU_LOC]["Hạng"] is None
    assert middle[HAU_LOC]["Tổng điểm thẩm định (tối đa 100)"] == verified[HAU_LOC]
    for unit in (HAU_LOC, HOA_LOC):
        await admin.send(f"/chot {unit}")
        assert "Đã chốt kết quả thẩm định" in await admin.send("đồng ý")
    book = openpyxl.load_workbook(io.BytesIO((await export(seeded, "/xuat danhgia")).content))
    summary = {r["Mã đơn vị"]: r for r in table(book, "Tổng hợp")}
    for unit, rank, own_rank in ((HAU_LOC, 2, 1), (HOA_LOC, 1, 2)):
        row = summary[unit]
        assert row["Thẩm định"] == "Đã chốt" and row["Tổng điểm thẩm định (tối đa 100)"] == verified[unit]
        assert (row["Hạng"], row["Hạng theo điểm tự chấm"], row["Xếp loại"]) == (rank, own_rank, NO_THRESHOLDS)
        assert row["Tổng điểm tự chấm (tối đa 100)"] == seeded.totals[unit]
    drafting = next(r for r in summary.values() if r["Trạng thái"] == "Đang làm")
    assert (drafting["Thẩm định"], drafting["Hạng"], drafting["Hạng theo điểm tự chấm"]) == (None, None, None)
    detail = {(r["Mã đơn vị"], r["Tiêu chí"]): r for r in table(book, "Chi tiết")}
    first = detail[(HAU_LOC, shared)]
    assert (first["Điểm tự chấm"], first["Điểm thẩm định"]) == (own[shared], 0)
    assert first["Lý do thẩm định"] == f"Không có minh chứng {shared}"
    assert first["Giải trình của đơn vị"] == "Văn bản lưu ở xã"
    n4 = detail[(HAU_LOC, "N4.1")]  # accepted: the survey's points
    assert n4["Điểm thẩm định"] == n4["Điểm theo khảo sát"] and n4["Lý do thẩm định"].startswith("Theo khảo sát")
    most = table(book, "Tiêu chí bị hạ điểm")
    six = consenting(HAU_LOC)  # accepting N4 takes the survey's points: lowered where they are below the 90 % typed
    surveyed = {"N4.1": self_study(six), "N4.3": satisfied(six)}  # N4.2's is hidden: the self-score stays
    by_survey = [code for code, rate in surveyed.items() if banded(rate, N4_BANDS[code]) < own[code]]
    once = [code for code in own if code in lowered + by_survey and code != shared]  # in the questionnaire's order
    assert [r["Tiêu chí"] for r in most] == [shared, *once]  # lowered for both units first
    assert most[0]["Số đơn vị bị hạ điểm"] == 2 and all(r["Số đơn vị bị hạ điểm"] == 1 for r in most[1:])
    quoted = most[0]["Đơn vị (tự chấm → thẩm định): lý do"].split("\n")
    assert quoted == [
        f"Xã Hậu Lộc ({said(own[shared])} → 0): “Không có minh chứng {shared}”",
        f"Xã Hoa Lộc ({said(hoa_own[shared])} → 0): “Thiếu văn bản”",
    ]
    combined = openpyxl.load_workbook(io.BytesIO((await export(seeded, "/xuat")).content))
    assert table(combined, "Tiêu chí bị hạ điểm") == most  # the combined results workbook's, by the same writer

    report = docx.Document(io.BytesIO((await export(seeded, "/xuat baocao")).content))
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in report.tables]
    header, *units = next(t for t in tables if t[0][0] == "STT")
    scores = {row[1]: row for row in units}
    for unit, name, rank in ((HAU_LOC, "Xã Hậu Lộc", "2"), (HOA_LOC, "Xã Hoa Lộc", "1")):
        assert scores[name][header.index("Thẩm định")] == said(verified[unit])
        assert scores[name][-1] == rank
    groups = {row[0].split(".")[0]: row for row in next(t for t in tables if t[0][0] == "Nhóm tiêu chí")[1:]}

    def n1(points: dict[str, float], gone: list[str]) -> float:
        return sum(p for c, p in points.items() if c.startswith("N1.") and c not in gone)

    own_n1, verified_n1 = n1(own, []) + n1(hoa_own, []), n1(own, lowered) + n1(hoa_own, [shared])
    assert groups["N1"][2:] == [said(own_n1 / 2), "", said(verified_n1 / 2)]  # no survey-measured criterion in N1
    assert groups["N4"][3] == ""  # no unit's survey-based N4 is shown: Hậu Lộc's knowledge figure is hidden too
    lowered_table = next(t for t in tables if t[0][-1] == "Đơn vị (tự chấm → thẩm định): lý do")
    assert lowered_table[1][1] == "2" and lowered_table[1][2].split("\n") == quoted
    text = "\n".join(p.text for p in report.paragraphs)
    assert f"{len(most)} tiêu chí được Phòng Tư pháp chấm thấp hơn điểm tự chấm" in text
    assert "thẩm định trên 2 đơn vị đã chốt kết quả" in text
    assert TOTALS_PAIRED in text  # the caption of the chart of totals, tested above on its data
