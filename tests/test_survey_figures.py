"""Criteria measured by the citizen survey (`measured_by`, both databases): the officer is shown the survey's
current figure for the unit instead of typing it, and may explain it; with fewer than K survey responses the
officer is told so and types the figure; the review, /xem and the workbook show the self-score and the
survey-based score side by side. The service works the figures out; the engine is given them as data."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl

from bot.service import BotService
from conversations import engine
from conversations import messages as m
from conversations.measures import Rate, SurveyFigures
from tests.client import Chat, running_service
from tests.test_engine_properties import NOW, QUESTIONNAIRES
from tests.test_service import SURVEY_ANSWERS, invite_code

EXPLANATION = "Khớp với sổ theo dõi của xã"


async def surveys(service: BotService, unit: str, count: int, first: int) -> None:
    for number in range(first, first + count):
        citizen = Chat(service, str(number))
        await citizen.send(f"/start ks_{unit}")
        assert "Đã nộp phiếu" in await citizen.answer_all([*SURVEY_ANSWERS, "nộp"])


async def fill(officer: Chat, explain: bool) -> list[str]:
    """Answer the whole self-assessment; the texts of the survey-measured criteria as they were shown."""
    measured: list[str] = []
    for _ in range(90):
        text = officer.text
        if "Xem lại trước khi nộp" in text:
            return measured
        if "hảo sát" in text and any(f"· {code}" in text for code in ("N4.1", "N4.2", "N4.3")):
            measured.append(text)
        if m.USE_SURVEY in text and "Theo " in text:
            await officer.send(EXPLANATION if explain and "N4.1" in text else "dùng số liệu khảo sát")
        elif "Gửi ảnh hoặc tệp minh chứng" in text:
            await officer.send_file("ảnh-kế-hoạch")
            await officer.send("xong")
        elif "  1. " in text:
            await officer.send("1")
        elif "tỉ lệ phần trăm" in text:
            await officer.send("90")
        elif "ngày/tháng/năm" in text:
            await officer.send("1/1/2026")
        elif "Bỏ qua" in text:
            await officer.send("bỏ qua")
        else:
            await officer.send("5")
    raise AssertionError(officer.text)


async def test_the_officer_is_shown_the_survey_figure_and_both_scores(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        minimum = service.settings.suppress_below
        await surveys(service, "16012", minimum, 700)
        admin, officer = Chat(service, "admin"), Chat(service, "801")
        await officer.send(f"/start dk_{invite_code(await admin.send('/moi 16012'))}")
        await officer.send("/danhgia")
        shown = await fill(officer, explain=True)
        assert len(shown) == 3
        assert all(f"Theo {minimum} phiếu khảo sát: 100 %" in text for text in shown)
        assert all("tỉ lệ phần trăm" not in text for text in shown)  # nothing to type
        review = officer.text
        assert f"100 % (theo {minimum} phiếu khảo sát); Giải thích: {EXPLANATION}" in review
        assert "Tổng: " in review and "Theo khảo sát người dân: " in review
        assert "Đã nộp phiếu" in await officer.send("nộp")
        xem = await admin.send("/xem 16012")
        assert "(tự chấm) · theo khảo sát người dân: " in xem
        assert f"100 % (theo {minimum} phiếu khảo sát); Giải thích: {EXPLANATION}" in xem
        await admin.send("/xuat danhgia")
        [document] = admin.documents
    detail = openpyxl.load_workbook(io.BytesIO(document.content))["Chi tiết"]
    header = [c.value for c in detail[1]]
    rows = [dict(zip(header, row, strict=True)) for row in detail.iter_rows(min_row=2, values_only=True)]
    [criterion] = [r for r in rows if r["Tiêu chí"] == "N4.1"]
    assert f"Giải thích: {EXPLANATION}" in criterion["Ghi chú của cán bộ"]
    assert criterion["Tỷ lệ theo khảo sát (%)"] == 100 and criterion["Số người trả lời khảo sát"] == minimum


async def test_with_too_few_survey_responses_the_officer_is_told_and_types_it(
    tmp_path: Path, database_url: str
) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        minimum = service.settings.suppress_below
        await surveys(service, "16078", minimum - 1, 720)
        admin, officer = Chat(service, "admin"), Chat(service, "802")
        await officer.send(f"/start dk_{invite_code(await admin.send('/moi 16078'))}")
        await officer.send("/danhgia")
        shown = await fill(officer, explain=False)
        assert len(shown) == 3
        said = f"Khảo sát người dân của đơn vị mới có {minimum - 1} phiếu, chưa đủ {minimum} phiếu để tính tỉ lệ này"
        assert all(said in text and "tỉ lệ phần trăm" in text for text in shown)
        assert f"Theo khảo sát người dân: chưa tính được (cần ít nhất {minimum} phiếu khảo sát)" in officer.text
        assert "90 %" in officer.text and "theo 4 phiếu" not in officer.text
        assert "Đã nộp phiếu" in await officer.send("nộp")
        xem = await admin.send("/xem 16078")
        assert f"(tự chấm) · theo khảo sát người dân: chưa đủ {minimum} phiếu" in xem
        assert xem.count(f"90 % – 4/4 điểm | khảo sát hiện có {minimum - 1} phiếu, chưa đủ {minimum}") == 1


def test_the_engine_takes_the_figures_as_data() -> None:
    qn = QUESTIONNAIRES[1]
    criterion = qn.question("n4_hai_long")
    figures = SurveyFigures({criterion.id: Rate(80.0, 27)}, 5)
    started = engine.start(qn, NOW).state
    started["positions"][""]["current"] = criterion.id
    resumed = engine.resume(qn, started, figures=figures)
    shown, state = resumed.outgoing[-1], resumed.state
    assert "Theo 27 phiếu khảo sát: 80 %" in shown.text and shown.hint is None
    assert shown.actions[0] == engine.Button(m.USE_SURVEY, f"f:{criterion.id}")
    step = engine.handle(qn, state, engine.Inbound(text="?"), NOW, figures=figures)
    assert step.state["answers"][criterion.id] == 80.0
    assert step.state.get("from_survey", {})[criterion.id] == {"base": 27, "note": "?"}
    pressed = engine.handle(qn, state, engine.Inbound(button=f"f:{criterion.id}"), NOW, figures=figures)
    assert pressed.state.get("from_survey", {})[criterion.id] == {"base": 27, "note": None}
    long = engine.handle(qn, state, engine.Inbound(text="x" * 1001), NOW, figures=figures)
    assert criterion.id not in long.state["answers"] and "quá giới hạn 1000 ký tự" in long.outgoing[0].text
    plain = engine.resume(qn, started).state  # no figures given: typed as before
    typed = engine.handle(qn, plain, engine.Inbound(text="85"), NOW)
    assert typed.state["answers"][criterion.id] == 85 and "from_survey" not in typed.state


async def test_a_figure_the_exports_hide_beside_a_smaller_unit_is_not_shown_to_the_officer(
    tmp_path: Path, database_url: str
) -> None:
    """16012 has enough responses, 16078 one: the exports hide 16012's figure too, or the total minus 16012 would
    give 16078's lone respondent; the officer of 16012 must not be shown it either."""
    async with running_service(tmp_path, database_url=database_url) as service:
        minimum = service.settings.suppress_below
        await surveys(service, "16012", minimum, 740)
        await surveys(service, "16078", 1, 760)
        admin, officer = Chat(service, "admin"), Chat(service, "803")
        await officer.send(f"/start dk_{invite_code(await admin.send('/moi 16012'))}")
        await officer.send("/danhgia")
        shown = await fill(officer, explain=False)
        assert len(shown) == 3
        assert all(m.SURVEY_HIDDEN in text and "phiếu khảo sát:" not in text for text in shown)
        assert m.SCORE_SURVEY_HIDDEN in officer.text and "theo 5 phiếu" not in officer.text
        assert "Đã nộp phiếu" in await officer.send("nộp")
        xem = await admin.send("/xem 16012")
        assert "(tự chấm) · theo khảo sát người dân: đang được ẩn" in xem
        assert xem.count("| số liệu khảo sát đang được ẩn") == 3
