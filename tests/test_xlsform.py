"""XLSForm workbooks written for the tests: each supported feature is read into the definition model and behaves
in the engine; each refusal names the sheet, the row and the column, in Vietnamese."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyxform.errors import ErrorCode

from conversations import engine
from conversations.conditions import visible
from conversations.definition import Questionnaire, QuestionType, load_directory
from conversations.engine import FileRef, Inbound
from conversations.scoring import score
from conversations.xlsform import FormCode, FormError, Problem, read_xlsform
from conversations.xlsform.pyxform_errors import FALLBACK, coded_message
from tests.test_engine_properties import check

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)
VI = "label::Vietnamese (vi)"
SETTINGS: dict[str, Any] = {
    "form_title": "Phiếu thử",
    "form_id": "phieu-thu",
    "version": "1",
    "kind": "self_assessment",
    "intro": "Chào anh/chị.",
    "outro": "Cảm ơn.",
}


def workbook(
    survey: Sequence[Mapping[str, Any]],
    choices: Sequence[Mapping[str, Any]] = (),
    settings: Mapping[str, Any] | None = None,
) -> bytes:
    """An .xlsx with the given rows; each sheet's columns are the keys of its rows, in first-seen order."""
    book = openpyxl.Workbook()
    sheets: list[tuple[str, Sequence[Mapping[str, Any]]]] = [("survey", survey)]
    if choices:
        sheets.append(("choices", choices))
    sheets.append(("settings", [SETTINGS if settings is None else settings]))
    for index, (title, rows) in enumerate(sheets):
        sheet = book.active if index == 0 else book.create_sheet()
        sheet.title = title
        columns = list(dict.fromkeys(key for row in rows for key in row))
        sheet.append(columns)
        for row in rows:
            sheet.append([row.get(c) for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def group(name: str, label: str, **more: Any) -> list[dict[str, Any]]:
    return [{"type": "begin_group", "name": name, VI: label, **more}]


END = [{"type": "end_group"}]
YES_NO = [
    {"list_name": "cokhong", "name": "co", VI: "Có", "points": 2},
    {"list_name": "cokhong", "name": "khong", VI: "Không", "points": 0},
]


def read(data: bytes, installed: Mapping[str, Questionnaire] | None = None) -> Questionnaire:
    return read_xlsform(data, "thu.xlsx", installed).questionnaire


def refused(data: bytes, installed: Mapping[str, Questionnaire] | None = None) -> list[Problem]:
    with pytest.raises(FormError) as caught:
        read(data, installed)
    return caught.value.problems


def run(qn: Questionnaire, *inputs: str | Inbound) -> engine.Step:
    step = engine.start(qn, NOW)
    for one in inputs:
        step = engine.handle(qn, step.state, one if isinstance(one, Inbound) else Inbound(text=one), NOW)
    return step


def said(step: engine.Step) -> str:
    return "\n".join(f"{m.text} {m.hint or ''} {' '.join(c.label for c in m.choices)}" for m in step.outgoing)


# ---------------------------------------------------------------- features


def test_choices_points_groups_and_vietnamese_labels() -> None:
    survey = [
        *group("N1", "Nhóm một", max_points=10, **{"hint::Vietnamese (vi)": "Ghi chú nhóm"}),
        {
            "type": "select_one muc",
            "name": "muc_do",
            "label::English (en)": "Level",
            VI: "Mức độ hoàn thành?",
            "hint::Vietnamese (vi)": "Chọn một",
            "required": "yes",
            "code": "N1.1",
        },
        {"type": "select_one cokhong", "name": "ke_hoach", VI: "Có kế hoạch không?", "required": "yes"},
        {"type": "select_multiple hinh", "name": "hinh_thuc", VI: "Hình thức?", "max": 3},
        *END,
    ]
    choices = [
        {"list_name": "muc", "name": "tot", VI: "Tốt", "label::English (en)": "Good", "points": 5},
        {"list_name": "muc", "name": "chua", VI: "Chưa", "label::English (en)": "Not yet", "points": 0},
        *YES_NO,
        *({"list_name": "hinh", "name": n, VI: n.title(), "points": 2} for n in ("loa", "zalo", "hop")),
    ]
    qn = read(workbook(survey, choices))
    g = qn.group("N1")
    assert (g.title, g.max_points, g.note) == ("Nhóm một", 10, "Ghi chú nhóm")
    muc = qn.question("muc_do")
    assert (muc.type, muc.text, muc.help, muc.code, muc.required) == (
        QuestionType.SINGLE_CHOICE,
        "Mức độ hoàn thành?",
        "Chọn một",
        "N1.1",
        True,
    )
    assert [(c.value, c.label, c.points) for c in muc.choices] == [("tot", "Tốt", 5), ("chua", "Chưa", 0)]
    yes_no = qn.question("ke_hoach")
    assert (yes_no.type, yes_no.points_yes, yes_no.points_no) == (QuestionType.YES_NO, 2, 0)
    multiple = qn.question("hinh_thuc")
    assert (multiple.type, multiple.max_points, multiple.required) == (QuestionType.MULTIPLE_CHOICE, 3, False)
    step = run(qn, "tốt", "có", "1, 2", "nộp")
    assert step.state["phase"] == "submitted"
    assert score(qn, step.state["answers"]).total == 10  # 5 + 2 + min(4, 3)


def test_numbers_text_dates_files_and_notes() -> None:
    survey = [
        {"type": "note", "name": "luu_y", "label": "Phần số liệu."},
        {
            "type": "integer",
            "name": "so_buoi",
            "label": "Số buổi?",
            "min": 0,
            "max": 50,
            "required": "yes",
        },
        {"type": "decimal", "name": "ty_le", "label": "Tỉ lệ?", "percentage": "yes", "required": "yes"},
        {"type": "decimal", "name": "kinh_phi", "label": "Kinh phí?", "min": "0,5"},
        {"type": "text", "name": "y_kien", "label": "Ý kiến?"},
        {"type": "text", "name": "ten", "label": "Tên?", "max_length": 5},
        {"type": "date", "name": "ngay", "label": "Ngày?", "not_in_future": "yes", "min_date": datetime(2026, 1, 1)},
        {"type": "image", "name": "anh", "label": "Ảnh?", "max_files": 2},
        {"type": "file", "name": "tep", "label": "Tệp?"},
        {"type": "start", "name": "start"},
    ]
    qn = read(workbook(survey, settings={**SETTINGS, "kind": "citizen_survey"}))
    assert [g.title for g in qn.groups] == ["Câu hỏi chung"]  # rows outside any group
    assert qn.anonymous  # a citizen survey is anonymous unless the settings say otherwise
    types = {q.id: q.type for q in qn.questions}
    assert types == {
        "luu_y": QuestionType.NOTE,
        "so_buoi": QuestionType.INTEGER,
        "ty_le": QuestionType.PERCENTAGE,
        "kinh_phi": QuestionType.DECIMAL,
        "y_kien": QuestionType.TEXT,
        "ten": QuestionType.TEXT,
        "ngay": QuestionType.DATE,
        "anh": QuestionType.EVIDENCE,
        "tep": QuestionType.EVIDENCE,
    }
    assert qn.question("kinh_phi").min == 0.5
    assert (qn.question("y_kien").max_length, qn.question("ten").max_length) == (1000, 5)
    assert str(qn.question("ngay").min_date) == "2026-01-01"
    assert (qn.question("anh").accept, qn.question("anh").max_files, qn.question("tep").accept) == ("image", 2, "any")
    document = Inbound(files=(FileRef("d1", "document", "a.pdf", "application/pdf"),))
    photo = Inbound(files=(FileRef("p1", "photo", None, "image/jpeg"),))
    step = run(qn, "60", "12", "85", "bỏ qua", "bỏ qua", "Nguyễn Văn A", "Ngắn", "1/2/2026", document)
    assert "Câu này cần ảnh chụp" in said(step)  # `image` takes photos only
    step = run(qn, "12", "85", "bỏ qua", "bỏ qua", "Ngắn", "1/2/2026", photo, "xong", document, "xong", "nộp")
    assert step.state["phase"] == "submitted"
    assert step.state["answers"]["tep"] == [
        {"file_id": "d1", "kind": "document", "name": "a.pdf", "mime": "application/pdf"}
    ]


def test_relevant_becomes_show_if_when_it_can_and_stays_an_expression_otherwise() -> None:
    survey = [
        *group("A", "Nhóm A", max_points=10),
        {"type": "select_one cokhong", "name": "ke_hoach", VI: "Có kế hoạch?", "required": "yes"},
        {"type": "select_multiple hinh", "name": "hinh", VI: "Hình thức?", "required": "yes"},
        {"type": "integer", "name": "so", VI: "Số buổi?", "required": "yes"},
        {"type": "text", "name": "t1", VI: "T1", "relevant": "${ke_hoach} = 'co'"},
        {"type": "text", "name": "t2", VI: "T2", "relevant": "${ke_hoach} != '' and ${ke_hoach} != 'khong'"},
        {"type": "text", "name": "t3", VI: "T3", "relevant": "selected(${hinh}, 'loa') or ${so} >= 3"},
        {"type": "text", "name": "t4", VI: "T4", "relevant": "${so} > 3"},
        {"type": "text", "name": "t5", VI: "T5", "relevant": "not(${ke_hoach} = ‘co’)"},
        *END,
        *group("B", "Nhóm B", relevant="${ke_hoach} = 'co'"),
        {"type": "text", "name": "t6", VI: "T6", "relevant": "${so} <= 2"},
        *END,
    ]
    choices = [*YES_NO, *({"list_name": "hinh", "name": n, VI: n} for n in ("loa", "zalo"))]
    qn = read(workbook(survey, choices))
    shown = {q.id: q.show_if.model_dump(by_alias=True, exclude_none=True) for q in qn.questions if q.show_if}
    assert shown == {
        "t1": {"question": "ke_hoach", "equals": "co"},
        "t2": {"question": "ke_hoach", "not_equals": "khong"},
        "t3": {"any": [{"question": "hinh", "includes": "loa"}, {"question": "so", "gte": 3}]},
        "t4": {"expression": "${so} > 3"},
        "t5": {"not": {"question": "ke_hoach", "equals": "co"}},
        "t6": {"all": [{"question": "ke_hoach", "equals": "co"}, {"question": "so", "lte": 2}]},
    }
    assert run(qn, "co", "2", "4").outgoing[-1].text == "T1 (không bắt buộc)"
    assert run(qn, "co", "2", "4", "a", "b").outgoing[-1].text.startswith("T3")  # 4 >= 3
    assert run(qn, "co", "2", "4", "a", "b", "c").outgoing[-1].text.startswith("T4")  # 4 > 3
    step = run(qn, "co", "2", "4", "a", "b", "c", "d")
    assert engine.phase(step.state) == "review"  # t5 (not co) and t6 (group B needs co, and so <= 2) hidden
    step = run(qn, "khong", "1", "2")
    assert step.outgoing[-1].text.startswith("T3")  # loa chosen; t1, t2 hidden
    assert run(qn, "khong", "1", "2", "c").outgoing[-1].text.startswith("T5")


def test_required_message_constraint_and_its_message() -> None:
    survey = [
        {"type": "integer", "name": "so_xa", "label": "Số xã?", "required": "yes"},
        {
            "type": "integer",
            "name": "so_xa_dat",
            "label": "Số xã đạt?",
            "required": "yes",
            "required_message::Vietnamese (vi)": "Cần số xã đạt để chấm điểm.",
            "constraint": ". >= 0 and . <= ${so_xa}",
            "constraint_message::Vietnamese (vi)": "Số xã đạt không thể lớn hơn số xã.",
        },
        {"type": "text", "name": "ma", "label": "Mã hồ sơ?", "constraint": "string-length(.) = 4"},
        {
            "type": "select_multiple hinh",
            "name": "hinh",
            "label": "Chọn tối đa 2",
            "constraint": "count-selected(.) <= 2",
        },
    ]
    choices = [{"list_name": "hinh", "name": n, "label": n} for n in ("a", "b", "c")]
    qn = read(workbook(survey, choices))
    assert qn.question("so_xa_dat").constraint_message == "Số xã đạt không thể lớn hơn số xã."
    assert "Cần số xã đạt để chấm điểm." in said(run(qn, "10", "bỏ qua"))
    too_many = run(qn, "10", "11")
    assert "Số xã đạt không thể lớn hơn số xã." in said(too_many)
    assert engine.current_question(qn, too_many.state).id == "so_xa_dat"
    assert "so_xa_dat" not in too_many.state["answers"]
    assert "chưa đúng yêu cầu" in said(run(qn, "10", "7", "12345"))  # no message given: the bot's own
    step = run(qn, "10", "7", "AB12", "1, 2, 3")
    assert "chưa đúng yêu cầu" in said(step) and engine.current_question(qn, step.state).id == "hinh"
    step = run(qn, "10", "7", "AB12", "1, 3")
    assert engine.phase(step.state) == "review" and step.state["answers"]["hinh"] == ["a", "c"]
    step = run(qn, "10", "7", "AB12", "1, 3", "sửa 1", "5", "nộp")  # 7 > 5 now: asked again before submitting
    assert "Số xã đạt không thể lớn hơn số xã." in said(step)
    assert engine.current_question(qn, step.state).id == "so_xa_dat"
    assert run(qn, "10", "7", "AB12", "1, 3", "sửa 1", "5", "nộp", "5", "nộp").state["phase"] == "submitted"


def test_calculate_is_used_by_later_questions_scored_and_stored() -> None:
    survey = [
        *group("N4", "Hiệu quả", max_points=4),
        {"type": "integer", "name": "so_dan", "label": "Số người được hỏi?", "required": "yes", "min": 1},
        {
            "type": "integer",
            "name": "so_tu_hoc",
            "label": "Số người tự học?",
            "required": "yes",
            "constraint": ". <= ${so_dan}",
        },
        {
            "type": "calculate",
            "name": "ty_le",
            "calculation": "round(${so_tu_hoc} div ${so_dan} * 100, 1)",
            "bands": "[{min: 85, max: 100, points: 4}, {min: 70, below: 85, points: 3}]",
        },
        {"type": "text", "name": "ly_do", "label": "Vì sao tỉ lệ thấp?", "relevant": "${ty_le} < 70"},
        *END,
    ]
    qn = read(workbook(survey))
    assert qn.question("ty_le").type is QuestionType.CALCULATE and qn.question("ty_le").max_points == 4
    high = run(qn, "40", "35", "nộp")
    assert high.state["answers"] == {"so_dan": 40, "so_tu_hoc": 35, "ty_le": 87.5}  # stored for exports
    assert score(qn, high.state["answers"]).total == 4
    low = run(qn, "40", "20")
    assert low.outgoing[-1].text.startswith("Vì sao tỉ lệ thấp?")


def test_choice_filter_offers_the_matching_choices() -> None:
    survey = [
        {"type": "select_one huyen", "name": "huyen", "label": "Huyện?", "required": "yes"},
        {"type": "select_one xa", "name": "xa", "label": "Xã?", "required": "yes", "choice_filter": "huyen = ${huyen}"},
    ]
    choices = [
        {"list_name": "huyen", "name": "hau_loc", "label": "Hậu Lộc"},
        {"list_name": "huyen", "name": "nga_son", "label": "Nga Sơn"},
        {"list_name": "xa", "name": "hoa_loc", "label": "Hòa Lộc", "huyen": "hau_loc"},
        {"list_name": "xa", "name": "da_loc", "label": "Đa Lộc", "huyen": "hau_loc"},
        {"list_name": "xa", "name": "nga_an", "label": "Nga An", "huyen": "nga_son"},
    ]
    qn = read(workbook(survey, choices))
    assert qn.question("xa").choices[2].attributes == {"huyen": "nga_son"}
    asked = run(qn, "nga son").outgoing[-1]
    assert [c.label for c in asked.choices] == ["Nga An"]
    assert "Chưa rõ" in said(run(qn, "nga son", "Hòa Lộc"))  # not offered, so not accepted
    step = run(qn, "hau loc", "2")
    assert step.state["answers"]["xa"] == "da_loc"


def test_settings_are_taken_from_the_version_replaced_when_missing() -> None:
    installed = load_directory(ROOT / "presets/questionnaires")
    survey = [*group("N1", "Nhóm", max_points=2), {"type": "select_one cokhong", "name": "a", "label": "A?"}, *END]
    qn = read(workbook(survey, YES_NO, {"form_id": "tu-danh-gia", "version": "2026.2"}), installed)
    base = installed["tu-danh-gia"]
    assert (qn.title, qn.kind, qn.intro, qn.notice, qn.version) == (
        base.title,
        base.kind,
        base.intro,
        base.notice,
        "2026.2",
    )
    fresh = read(workbook(survey, YES_NO, {**SETTINGS, "classification": "[{name: Đạt, min_points: 1}]"}))
    assert fresh.classification is not None and fresh.classification[0].name == "Đạt"
    assert (fresh.short_title, fresh.anonymous) == ("Phiếu thử", False)


# ---------------------------------------------------------------- forms made elsewhere


def test_single_colon_language_headers_are_read_as_pyxform_reads_them() -> None:
    survey = [
        {
            "type": "integer",
            "name": "a",
            "label:English": "How many?",
            "label:Vietnamese": "Bao nhiêu?",
            "hint:English": "A number",
            "hint:Vietnamese": "Một số",
            "jr:constraintMsg": "x",
        },
        {"type": "text", "name": "b", "label:English": "Only in English"},
    ]
    qn = read(workbook(survey))
    a, b = qn.questions
    assert (a.text, a.help, b.text) == ("Bao nhiêu?", "Một số", "Only in English")
    english = read(workbook([{"type": "integer", "name": "a", "label:English": "How many?", "hint:English": "N"}]))
    assert (english.questions[0].text, english.questions[0].help) == ("How many?", "N")


def test_pyxforms_older_select_spellings_are_read() -> None:
    survey = [
        {"type": "select one from l", "name": "a", "label": "A"},
        {"type": "select all that apply from l", "name": "b", "label": "B"},
    ]
    choices = [{"list_name": "l", "name": "x", "label": "X"}, {"list_name": "l", "name": "y", "label": "Y"}]
    a, b = read(workbook(survey, choices)).questions
    assert (a.type, b.type) == (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE)
    problems = refused(workbook([{"type": "select_one l or_other", "name": "a", "label": "A"}], choices))
    assert problems[0].message == "cần đúng một tên danh sách sau “select_one” (không hỗ trợ or_other)"


def test_names_in_labels_and_hints_are_filled_in_with_the_answers() -> None:
    survey = [
        {"type": "text", "name": "ten", VI: "Tên xã?"},
        {"type": "select_one cokhong", "name": "co", VI: "Có nhà văn hoá?"},
        {"type": "note", "name": "n", VI: "Cảm ơn ${ten}."},
        {"type": "integer", "name": "so", VI: "Xã ${ten} (${co}) có bao nhiêu thôn?", "hint": "${khong_tra_loi}."},
        {"type": "integer", "name": "khong_tra_loi", VI: "Bỏ qua"},
    ]
    qn = read(workbook(survey, [{k: v for k, v in c.items() if k != "points"} for c in YES_NO]))
    step = run(qn, "Hoà Bình", "1")
    assert "Cảm ơn Hoà Bình." in said(step)
    assert "Xã Hoà Bình (Có) có bao nhiêu thôn?" in said(step)
    assert "${" not in said(step)


def test_a_form_that_asks_nothing_is_refused() -> None:
    survey = [{"type": "note", "name": "n", VI: "Chỉ là ghi chú"}, {"type": "geopoint", "name": "g", VI: "Vị trí"}]
    problems = refused(workbook(survey))
    assert [(p.code, p.row) for p in problems] == [(FormCode.NO_QUESTION, None), (FormCode.TYPE_UNSUPPORTED, 3)]
    assert "không có câu nào để trả lời" in problems[0].message


def test_a_form_without_kind_or_form_id_is_read_as_a_citizen_survey_with_notices() -> None:
    survey = [{"type": "integer", "name": "a", "label": "A"}]
    reading = read_xlsform(workbook(survey, settings={"form_title": "Phiếu KoBo"}), "Phiếu KoBo 2026.xlsx")
    qn = reading.questionnaire
    assert (qn.id, qn.kind, qn.anonymous, qn.title) == ("phieu-kobo-2026", "citizen_survey", True, "Phiếu KoBo")
    assert [(n.sheet, n.column, n.code) for n in reading.notices] == [
        ("settings", "form_id", FormCode.SETTINGS_NO_ID),
        ("settings", "kind", FormCode.SETTINGS_NO_KIND),
    ]
    assert read_xlsform(workbook(survey), "x.xlsx").notices == []
    survey_in_use = load_directory(ROOT / "presets/questionnaires")["khao-sat-nguoi-dan"]
    installed = {survey_in_use.id: survey_in_use}
    renewed = read_xlsform(workbook(survey, settings={"version": "9"}), "khao-sat-nguoi-dan.xlsx", installed)
    assert (renewed.questionnaire.title, renewed.questionnaire.intro) == (survey_in_use.title, survey_in_use.intro)
    assert [n.code for n in renewed.notices] == [FormCode.SETTINGS_NO_ID]  # the kind of the version it replaces


def test_a_select_naming_a_missing_choice_list_is_refused_at_its_row() -> None:
    survey = [
        {"type": "integer", "name": "a", "label": "A"},
        {"type": "select_one khong_co", "name": "b", "label": "B"},
    ]
    [problem] = refused(workbook(survey, YES_NO))
    assert (problem.sheet, problem.row, problem.message) == (
        "survey",
        3,
        "trang “choices” không có danh sách “khong_co”",
    )


def test_an_expression_nested_too_deeply_is_refused_with_a_message_not_a_crash() -> None:
    deep = "not(" * 40 + "${a} = 1" + ")" * 40
    long_sum = " + ".join(["${a}"] * 300)
    survey = [
        {"type": "integer", "name": "a", "label": "A"},
        {"type": "integer", "name": "b", "label": "B", "relevant": deep},
        {"type": "calculate", "name": "c", "calculation": long_sum},
    ]
    problems = refused(workbook(survey))
    assert [(p.row, p.column) for p in problems] == [(3, "relevant"), (4, "calculation")]
    assert all("biểu thức lồng quá sâu" in p.message for p in problems)


# ---------------------------------------------------------------- refusals


def where(problems: list[Problem]) -> list[tuple[str, int | None, str | None]]:
    return [(p.sheet, p.row, p.column) for p in problems]


def test_not_a_workbook_or_no_survey_sheet() -> None:
    assert "không mở được tệp Excel" in refused(b"%PDF-1.4 not a workbook")[0].message
    book = openpyxl.Workbook()
    book.active.title = "Sheet1"
    out = io.BytesIO()
    book.save(out)
    assert "không có trang “survey”" in refused(out.getvalue())[0].message


@pytest.mark.parametrize(
    ("survey", "choices", "expected", "message"),
    [
        (
            [
                {"type": "integer", "name": "a", "label": "A"},
                {"type": "integer", "name": "b", "label": "B", "relevant": "${khong_co} = 1"},
            ],
            [],
            ("survey", 3, "relevant"),
            "biểu thức nhắc tới ${khong_co}, nhưng không có câu hỏi nào tên “khong_co”",
        ),
        (
            [{"type": "select_one thieu", "name": "a", "label": "A"}],
            [{"list_name": "khac", "name": "x", "label": "X"}],
            ("survey", 2, None),
            "trang “choices” không có danh sách “thieu”",
        ),
        (
            [{"type": "integer", "name": "a", "label": "A"}, {"type": "integer", "name": "a", "label": "B"}],
            [],
            ("survey", 3, "name"),
            "tên “a” bị trùng với một câu hoặc nhóm khác",
        ),
        (
            [*group("g", "G"), {"type": "integer", "name": "a", "label": "A"}],
            [],
            ("survey", 2, None),
            "nhóm “g” mở bằng begin_group nhưng không có end_group",
        ),
        (
            [{"type": "integr", "name": "a", "label": "A"}],
            [],
            ("survey", 2, None),
            "loại câu “integr” không có trong XLSForm",
        ),
        (
            [{"type": "calculate", "name": "c"}],
            [],
            ("survey", 2, None),
            "câu “calculate” thiếu biểu thức ở cột “calculation”",
        ),
    ],
)
def test_pyxform_refusals_are_translated_to_the_row(
    survey: list[dict[str, Any]], choices: list[dict[str, Any]], expected: tuple[str, int, str | None], message: str
) -> None:
    problems = refused(workbook([*survey, {"type": "integer", "name": "z", "label": "Z"}], choices))
    assert where(problems) == [expected]
    assert problems[0].message == message
    assert problems[0].code.startswith("pyxform.") or problems[0].code == FormCode.PYXFORM


def test_a_message_pyxform_gives_that_is_not_translated_is_shown_with_its_row() -> None:
    survey = [{"type": "select_one l", "name": "a", "label": "A"}]
    choices = [{"list_name": "l", "name": "x", "label": "X"}, {"list_name": "l", "name": "x", "label": "Y"}]
    [problem] = refused(workbook(survey, choices))
    assert (problem.sheet, problem.row) == ("choices", 3)
    assert problem.message == "hai phương án trùng mã “name” trong cùng một danh sách"
    survey = [
        {"type": "integer", "name": "a", "label": "A"},
        {"type": "select_one l", "name": "b", "label": "B", "parameters": "randomize=ukanga"},
    ]
    problems = refused(workbook(survey, choices[:1]))
    assert [(p.sheet, p.row, p.code) for p in problems] == [("survey", 3, FormCode.PYXFORM)]
    said = "randomize must be set to true or false: 'ukanga' is an invalid value"
    assert problems[0].message == FALLBACK.format(said=said)


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_pyxform_error_code_has_a_vietnamese_message(code: ErrorCode) -> None:
    context = {"row": 4, "sheet": "survey", "value": "ten", "q": "ten", "name": "ten", "type": "group"}
    message = coded_message(code, context)
    assert message is not None
    assert re.search("[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", message), message


@pytest.mark.parametrize(
    ("row", "expected", "message"),
    [
        ({"type": "geopoint", "name": "b", "label": "B"}, ("survey", 3, "type"), "loại “geopoint” chưa được hỗ trợ"),
        (
            {"type": "integer", "name": "b", "label": "B", "relevant": "${a} > today()"},
            ("survey", 3, "relevant"),
            "hàm “today()” chưa được hỗ trợ",
        ),
        (
            {"type": "integer", "name": "b", "label": "B", "constraint": "/data/a > 1"},
            ("survey", 3, "constraint"),
            "đường dẫn “/”",
        ),
        (
            {"type": "calculate", "name": "b", "calculation": "${a} + "},
            ("survey", 3, "calculation"),
            "thiếu một giá trị",
        ),
        (
            {"type": "integer", "name": "b", "label": "B", "required": "có lẽ"},
            ("survey", 3, "required"),
            "không phải yes hoặc no",
        ),
        (
            {"type": "integer", "name": "b", "label": "B", "bands": "[{min: 1, points: 2"},
            ("survey", 3, "bands"),
            "viết như trong tệp YAML",
        ),
        ({"type": "integer", "name": "b", "label": "B", "min": "nhiều"}, ("survey", 3, "min"), "không phải một số"),
        ({"type": "integer", "name": "Cau_B", "label": "B"}, ("survey", 3, "name"), "mã “Cau_B” không hợp lệ"),
        (
            {"type": "integer", "name": "b", "label": "B", "bands": "[{min: 1, points: 2}]"},
            ("survey", 3, "bands"),
            "cần đúng một trong hai",
        ),
        (
            {"type": "integer", "name": "b", "label": "B", "relevant": "${c} = 1"},
            ("survey", 3, "relevant"),
            "không phải một câu đứng trước",
        ),
        (
            {"type": "text", "name": "b", "label": "B", "choice_filter": "x = 1"},
            ("survey", 3, "choice_filter"),
            "chỉ dùng cho câu chọn",
        ),
        (
            {"type": "integer", "name": "b", "label": "B", "max_points": 3},
            ("survey", 3, "max_points"),
            "đặt ở dòng begin_group",
        ),
    ],
)
def test_project_refusals_name_the_row_and_column(
    row: dict[str, Any], expected: tuple[str, int, str], message: str
) -> None:
    survey = [{"type": "integer", "name": "a", "label": "A"}, row, {"type": "integer", "name": "c", "label": "C"}]
    problems = refused(workbook(survey))
    assert where(problems)[0] == expected
    assert message in problems[0].message


def test_every_problem_of_the_rows_is_listed_at_once() -> None:
    """pyxform's refusal, the reader's problems and the model's checks, all in one answer, by row."""
    survey = [
        {"type": "begin_repeat", "name": "r", "label": "R"},
        {"type": "integer", "name": "a", "label": "A", "required": "maybe"},
        {"type": "end_repeat"},
        {"type": "integer", "name": "b", "label": "B", "relevant": "${a} >> 1"},
        {"type": "integer", "name": "c", "label": "C ${khong_co}"},
        {"type": "integer", "name": "d", "label": "D", "min": 5, "max": 2},
    ]
    problems = refused(workbook(survey, settings={"form_title": "Thiếu mã"}))
    assert [(*place, p.code) for place, p in zip(where(problems), problems, strict=True)] == [
        ("survey", 2, "type", FormCode.TYPE_UNSUPPORTED),
        ("survey", 3, "required", FormCode.CELL_NOT_BOOLEAN),
        ("survey", 4, "type", FormCode.TYPE_UNSUPPORTED),
        ("survey", 5, "relevant", "expression.invalid"),
        ("survey", 6, "label", "pyxform.PYREF_003"),
        ("survey", 7, "min", "number.min_above_max"),
    ]
    assert str(problems[1]) == "trang “survey”, dòng 3, cột “required”: “maybe” không phải yes hoặc no"


def test_the_model_checks_are_all_listed_at_their_rows_and_columns_from_their_fields() -> None:
    survey = [
        *group("N1", "Nhóm", max_points=1),
        {"type": "select_one cokhong", "name": "a", "label": "A"},
        {"type": "integer", "name": "b", "label": "B", "relevant": "${d} = 1", "min": 5, "max": 2},
        {"type": "text", "name": "c", "label": "C", "choice_filter": "x = 1", "bands": "[{min: 1, max: 5, points: 2}]"},
        {"type": "integer", "name": "d", "label": "D"},
        *END,
    ]
    problems = refused(workbook(survey, YES_NO))
    assert where(problems) == [
        ("survey", 2, "max_points"),
        ("survey", 4, "min"),
        ("survey", 4, "relevant"),
        ("survey", 5, "bands"),
        ("survey", 5, "choice_filter"),
        ("survey", 5, "choice_filter"),
    ]
    assert "không phải một câu đứng trước" in problems[2].message


def test_nested_groups_and_bad_choice_names_and_group_points() -> None:
    nested = [*group("g", "G"), *group("h", "H"), {"type": "integer", "name": "a", "label": "A"}, *END, *END]
    assert where(refused(workbook(nested))) == [("survey", 3, "type")]
    survey = [{"type": "select_one l", "name": "a", "label": "A"}]
    choices = [{"list_name": "l", "name": 1, "label": "Một"}, {"list_name": "l", "name": "hai", "label": "Hai"}]
    [problem] = refused(workbook(survey, choices))
    assert (problem.sheet, problem.row, problem.column) == ("choices", 2, "name")
    assert "mã “1” không hợp lệ" in problem.message
    over = [*group("N1", "Nhóm", max_points=1), {"type": "select_one cokhong", "name": "a", "label": "A"}, *END]
    [problem] = refused(workbook(over, YES_NO))
    assert (problem.row, problem.column) == (2, "max_points")
    assert "vượt điểm nhóm" in problem.message


def test_survey_references_are_checked_across_questionnaires() -> None:
    installed = load_directory(ROOT / "presets/questionnaires")
    survey = [{"type": "select_one cokhong", "name": "dong_y", "label": "Đồng ý?"}]
    unscored = [{k: v for k, v in c.items() if k != "points"} for c in YES_NO]
    problems = refused(workbook(survey, unscored, {"form_id": "khao-sat-nguoi-dan", "version": "2"}), installed)
    assert problems and all(p.sheet == "survey" for p in problems)
    assert "bảng hỏi “tu-danh-gia”, câu “n4_tu_hoc” cần bảng này" in problems[0].message


# ---------------------------------------------------------------- random input on a form using every feature

FEATURES = read(
    workbook(
        [
            *group("A", "Nhóm A", max_points=10),
            {"type": "select_one huyen", "name": "huyen", "label": "Huyện?", "required": "yes"},
            {"type": "select_one xa", "name": "xa", "label": "Xã?", "choice_filter": "huyen = ${huyen}"},
            {"type": "integer", "name": "tong", "label": "Tổng?", "required": "yes", "constraint": ". >= 1"},
            {
                "type": "integer",
                "name": "dat",
                "label": "Đạt?",
                "required": "yes",
                "constraint": ". <= ${tong}",
                "constraint_message": "Không quá tổng.",
            },
            {
                "type": "calculate",
                "name": "ty_le",
                "calculation": "${dat} div ${tong} * 100",
                "bands": "[{min: 50, max: 100, points: 4}]",
            },
            {
                "type": "select_multiple hinh",
                "name": "hinh",
                "label": "Hình thức?",
                "relevant": "${ty_le} >= 50",
                "constraint": "count-selected(.) <= 2",
            },
            {"type": "image", "name": "anh", "label": "Ảnh?", "relevant": "selected(${hinh}, 'loa')"},
            *END,
        ],
        [
            {"list_name": "huyen", "name": "hau_loc", "label": "Hậu Lộc"},
            {"list_name": "huyen", "name": "nga_son", "label": "Nga Sơn"},
            {"list_name": "xa", "name": "hoa_loc", "label": "Hòa Lộc", "huyen": "hau_loc"},
            {"list_name": "xa", "name": "nga_an", "label": "Nga An", "huyen": "nga_son"},
            *({"list_name": "hinh", "name": n, "label": n, "points": 2} for n in ("loa", "zalo", "hop")),
        ],
    )
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_input_keeps_constraints_filters_and_calculations(data: st.DataObject) -> None:
    qn, step = FEATURES, engine.start(FEATURES, NOW)
    texts = st.sampled_from(["1", "2", "3", "0", "5", "10", "1, 2", "1, 2, 3", "xong", "bỏ qua", "quay lại", "nộp"])
    photo = Inbound(files=(FileRef("p", "photo", None, "image/jpeg"),))
    for inbound in data.draw(st.lists(st.one_of(texts.map(lambda t: Inbound(text=t)), st.just(photo)), max_size=40)):
        step = engine.handle(qn, step.state, inbound, NOW)
        answers = step.state["answers"]
        if step.state["phase"] != "submitted":
            check(qn, step)  # the engine's own promises; a submission also stores the calculated values
        else:
            assert set(answers) <= {q.id for q in visible(qn, answers)} | {"ty_le"}
        if "xa" in answers:
            assert {"hau_loc": "hoa_loc", "nga_son": "nga_an"}[answers["huyen"]] == answers["xa"]
        assert len(answers.get("hinh", [])) <= 2
        if step.state["phase"] == "submitted":  # constraints hold for what is submitted, even after edits
            assert answers["tong"] >= 1 and answers["dat"] <= answers["tong"]
            assert answers["ty_le"] == pytest.approx(answers["dat"] / answers["tong"] * 100)
        assert score(qn, answers).total <= 10
