"""A typed answer never picks the wrong option: thousands of generated ways of typing an option (diacritics or
none, old and new tone placement, NFD, case, spacing, punctuation, numbers, codes) against every shipped
questionnaire and unit list; each is read as the option meant or refused, never as another one."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import texts as t
from bot.app import open_service
from bot.presets import load_unit_presets
from conversations import engine
from conversations import messages as m
from conversations.answers import InvalidAnswer, hint, parse_multiple, parse_typed, pick
from conversations.definition import (
    DefinitionError,
    Questionnaire,
    QuestionType,
    load_directory,
    parse_questionnaire,
)
from conversations.engine import FileRef, Inbound, Outgoing
from conversations.xlsform import read_xlsform, write_xlsform
from tests.client import SHIPPED_UNITS, Chat, SentFiles, running_service, settings_for
from tests.test_engine_properties import NOW
from tests.test_xlsform import VI, workbook

ROOT = Path(__file__).resolve().parents[1]
PRESETS = load_directory(ROOT / "presets" / "questionnaires")


def questionnaire(*questions: dict[str, Any]) -> Questionnaire:
    data = {
        "id": "thu",
        "version": "1",
        "kind": "citizen_survey",
        "title": "Phiếu thử",
        "short_title": "Thử",
        "source": "Kiểm thử",
        "status": "template",
        "intro": "Chào bạn.",
        "outro": "Cảm ơn bạn.",
        "groups": [{"code": "A", "title": "Nhóm A", "questions": list(questions)}],
    }
    return parse_questionnaire(data, "thu.yaml")


def options(*labels: str, exclusive: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    return [
        {"value": f"p{index}", "label": label, **({"exclusive": True} if index in exclusive else {})}
        for index, label in enumerate(labels)
    ]


MADE = questionnaire(
    {"id": "thang", "type": "single_choice", "text": "Chấm từ 0 đến 10?", "choices": options(*map(str, range(11)))},
    {"id": "so_lan", "type": "single_choice", "text": "Mấy lần?", "choices": options("0", "1–2", "3+")},
    {"id": "tuoi", "type": "single_choice", "text": "Tuổi?", "choices": options("18–30 tuổi", "31–45 tuổi", "Trên 45")},
    {
        "id": "muc",
        "type": "single_choice",
        "text": "Mức?",
        "choices": options("1 - Rất kém", "2 - Kém", "3 - Được", "4 - Tốt", "5 - Rất tốt"),
    },
    {
        "id": "kenh",
        "type": "multiple_choice",
        "text": "Kênh nào?",
        "choices": options("Kênh VTV 1", "Kênh VTV 3", "Đài tỉnh", "Không xem", "Không biết", exclusive=(3, 4)),
    },
    {"id": "xa", "type": "single_choice", "text": "Xã nào?", "choices": options("Xã Hoa Lộc", "Xã Hòa Lộc")},
)
CHOICE_QUESTIONS = [
    q for qn in [*PRESETS.values(), MADE] for q in qn.questions if q.options and q.type is not QuestionType.YES_NO
] + [q for q in PRESETS["khao-sat-nguoi-dan"].questions if q.type is QuestionType.YES_NO][:1]
UNIT_LISTS = [[(u["code"], u["name"]) for u in records] for _, records in load_unit_presets(ROOT / "presets" / "units")]

NEW_TO_OLD = {  # tone on the first vowel of oa, oe, uy ("hòa", the new rule) and on the second ("hoà", the old)
    f"{first}{tone}{second}": f"{first}{second}{tone}"
    for first, second in (("o", "a"), ("o", "e"), ("u", "y"), ("O", "A"), ("O", "E"), ("U", "Y"))
    for tone in "\u0300\u0301\u0303\u0309\u0323"
}


def without_diacritics(text: str) -> str:
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return stripped.replace("đ", "d").replace("Đ", "D")


def swap_tone_placement(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    for new, old in NEW_TO_OLD.items():
        decomposed = decomposed.replace(new, "\0").replace(old, new).replace("\0", old)
    return unicodedata.normalize("NFC", decomposed)


@st.composite
def written(draw: st.DrawFn, label: str, keep_marks: bool) -> str:
    """One way a person may type a label: with its diacritics (then it must be understood) or without."""
    text = label if keep_marks else without_diacritics(label)
    if draw(st.booleans()):
        text = swap_tone_placement(text)
    text = draw(st.sampled_from([text, text.lower(), text.upper(), text.title(), text.swapcase()]))
    if draw(st.booleans()):
        text = text.replace("–", draw(st.sampled_from(["-", " - ", "—", "-  "])))
    if draw(st.booleans()):
        text = "  ".join(text.split(" ")) if draw(st.booleans()) else f"  {text}\t"
    if draw(st.booleans()):
        text += draw(st.sampled_from([".", "!", "?", "…", " .", ")", "!!"]))
    return unicodedata.normalize("NFD", text) if draw(st.booleans()) else text


def number_named(labels: list[str], index: int) -> str | None:
    """The number the label at index is ("5", "3 - Được"), or None."""
    head = labels[index].split(" ")[0]
    return head if head.isdigit() else None


def read_as(labels: list[str], text: str, codes: list[str] | None = None) -> int | None:
    try:
        return pick(labels, text, codes or [])
    except InvalidAnswer as problem:
        assert str(problem) and unicodedata.is_normalized("NFC", str(problem))
        return None


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), which=st.integers(min_value=0, max_value=len(CHOICE_QUESTIONS) - 1))
def test_a_typed_label_is_its_option_or_refused(data: st.DataObject, which: int) -> None:
    q = CHOICE_QUESTIONS[which]
    labels, codes = [c.label for c in q.options], [c.value for c in q.options]
    index = data.draw(st.integers(min_value=0, max_value=len(labels) - 1))
    keep_marks = data.draw(st.booleans())
    text = data.draw(written(labels[index], keep_marks))
    found = read_as(labels, text, codes)
    assert found in (index, None), (labels, text)
    if keep_marks:  # the exact label, however spaced, cased, composed or tone-placed, is always understood
        assert found == index, (labels, text)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), which=st.integers(min_value=0, max_value=len(CHOICE_QUESTIONS) - 1))
def test_a_typed_number_or_code_is_its_option_or_refused(data: st.DataObject, which: int) -> None:
    q = CHOICE_QUESTIONS[which]
    labels, codes = [c.label for c in q.options], [c.value for c in q.options]
    index = data.draw(st.integers(min_value=0, max_value=len(labels) - 1))
    decoration = data.draw(st.sampled_from(["{}", " {} ", "{}.", "{})", "{} ."]))
    named = number_named(labels, index)
    if named is not None:  # a label that is a number is chosen by that number, whatever its position
        assert read_as(labels, decoration.format(named), codes) == index
    typed_position = str(index + 1)
    holder = next((i for i in range(len(labels)) if number_named(labels, i) == typed_position), None)
    found = read_as(labels, decoration.format(typed_position), codes)
    assert found in ((index, None) if holder is None else (holder,)), (labels, typed_position)
    code = data.draw(st.sampled_from([codes[index], codes[index].upper(), f" {codes[index]}."]))
    assert read_as(labels, code, codes) in (index, None)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), which=st.integers(min_value=0, max_value=len(UNIT_LISTS) - 1))
def test_a_typed_unit_name_or_code_picks_that_unit(data: st.DataObject, which: int) -> None:
    units = UNIT_LISTS[which]
    codes, names = [code for code, _ in units], [name for _, name in units]
    index = data.draw(st.integers(min_value=0, max_value=len(units) - 1))
    keep_marks = data.draw(st.booleans())
    found = read_as(names, data.draw(written(names[index], keep_marks)), codes)
    assert found == index if keep_marks else found in (index, None)
    assert (
        read_as(names, data.draw(st.sampled_from([codes[index], codes[index].upper(), f"{codes[index]} "])), codes)
        == index
    )


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_typed_list_of_options_is_those_options_or_refused(data: st.DataObject) -> None:
    q = data.draw(
        st.sampled_from(
            [q for qn in [*PRESETS.values(), MADE] for q in qn.questions if q.type is QuestionType.MULTIPLE_CHOICE]
        )
    )
    labels = [c.label for c in q.options]
    chosen = data.draw(st.lists(st.integers(0, len(labels) - 1), min_size=1, max_size=len(labels), unique=True))
    keep_marks = data.draw(st.booleans())
    parts = [data.draw(st.one_of(written(labels[i], keep_marks), st.just(str(i + 1)))) for i in chosen]
    text = data.draw(st.sampled_from([", ", ",", "; ", " ,  "])).join(parts)
    exclusive = len(chosen) > 1 and any(q.options[i].exclusive for i in chosen)
    try:
        found = parse_multiple(q, text)
    except InvalidAnswer as problem:
        assert not keep_marks or exclusive, (labels, text)  # with diacritics, only a forbidden combination fails
        assert not (keep_marks and exclusive) or "không chọn cùng phương án khác" in str(problem), text
        return
    assert not exclusive, text
    assert sorted(found) == sorted(q.options[i].value for i in chosen), (labels, text)


def test_numbers_mean_the_labels_that_are_numbers_and_a_disagreement_is_refused() -> None:
    scale, times, ages, levels = (MADE.question(x) for x in ("thang", "so_lan", "tuoi", "muc"))
    assert [parse_typed(scale, str(n), NOW.date()) for n in (0, 5, 10)] == ["p0", "p5", "p10"]
    for wrong in ("11", "12"):  # a position past the scale is not the label at that position
        with pytest.raises(InvalidAnswer, match="gõ đúng số ghi trên câu trả lời"):
            parse_typed(scale, wrong, NOW.date())
    assert [parse_typed(times, n, NOW.date()) for n in ("0", "2", "3", "7", "1-2", "3+")] == [
        "p0",
        "p1",
        "p2",
        "p2",
        "p1",
        "p2",
    ]
    with pytest.raises(InvalidAnswer) as caught:  # "1": the label "1–2", or the first option "0"?
        parse_typed(times, "1", NOW.date())
    assert "“1” có thể là “0” hoặc “1–2”" in str(caught.value)
    assert [parse_typed(ages, n, NOW.date()) for n in ("1", "2", "25", "31", "18-30 tuoi", "18 - 30 tuổi")] == [
        "p0",
        "p1",
        "p0",
        "p1",
        "p0",
        "p0",
    ]
    assert [parse_typed(levels, n, NOW.date()) for n in ("1", "4", "rat tot", "4 - tốt")] == ["p0", "p3", "p4", "p3"]
    with pytest.raises(InvalidAnswer, match="“tốt” có thể là “4 - Tốt” hoặc “5 - Rất tốt”"):
        parse_typed(levels, "tốt", NOW.date())
    assert hint(scale) == m.HINT_SINGLE_NUMBERED and hint(ages) == m.HINT_SINGLE


def test_a_label_ending_in_a_number_is_never_split_and_exclusive_options_stay_alone() -> None:
    channels = MADE.question("kenh")
    assert parse_multiple(channels, "Kênh VTV 1") == ["p0"]
    assert parse_multiple(channels, "kenh vtv 1, kenh vtv 3") == ["p0", "p1"]
    assert parse_multiple(channels, "1 3") == ["p0", "p2"]
    assert parse_multiple(channels, "Kênh VTV 3, 3") == ["p1", "p2"]
    for combined in ("Không biết, 1", "4, 5", "1, không xem"):
        with pytest.raises(InvalidAnswer, match="không chọn cùng phương án khác"):
            parse_multiple(channels, combined)
    assert parse_multiple(channels, "không biết") == ["p4"]
    groups = PRESETS["tu-danh-gia"].question("n2_doi_tuong")
    assert [c.value for c in groups.options if c.exclusive] == ["chua_co"]
    with pytest.raises(InvalidAnswer, match="“Chưa tổ chức riêng cho nhóm nào” không chọn cùng"):
        parse_multiple(groups, "1, 5")


def test_a_combination_with_an_exclusive_option_is_refused_on_the_buttons() -> None:
    qn = questionnaire(MADE.question("kenh").model_dump(exclude={"group"}))
    step = engine.start(qn, NOW)
    for token in ("a:kenh:p0", "a:kenh:p4", "d:kenh"):
        step = engine.handle(qn, step.state, Inbound(button=token), NOW)
    assert "“Không biết” không chọn cùng phương án khác" in step.outgoing[0].text
    assert "kenh" not in step.state["answers"]
    for token in ("a:kenh:p0", "d:kenh"):  # untick "Kênh VTV 1": "Không biết" alone is taken
        step = engine.handle(qn, step.state, Inbound(button=token), NOW)
    assert step.state["answers"]["kenh"] == ["p4"]


def test_exclusive_is_read_from_and_written_to_the_xlsform_choices_sheet() -> None:
    survey = [{"type": "select_multiple kenh", "name": "kenh", VI: "Kênh nào?"}]
    choices = [
        {"list_name": "kenh", "name": "vtv1", VI: "Kênh VTV 1"},
        {"list_name": "kenh", "name": "khong_biet", VI: "Không biết", "exclusive": "yes"},
    ]
    qn = read_xlsform(workbook(survey, choices), "thu.xlsx").questionnaire
    assert [c.exclusive for c in qn.question("kenh").options] == [False, True]
    assert "exclusive" not in qn.question("kenh").options[1].attributes
    again = read_xlsform(write_xlsform(qn), "thu.xlsx").questionnaire
    assert [c.exclusive for c in again.question("kenh").options] == [False, True]
    with pytest.raises(DefinitionError, match="'exclusive'"):
        questionnaire(
            {"id": "mot", "type": "single_choice", "text": "Một?", "choices": options("A", "B", exclusive=(1,))}
        )


async def test_a_citizen_picks_the_unit_by_its_code_or_its_exact_name(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        citizen, other = Chat(service, "905"), Chat(service, "906")
        assert "xã/phường nào" in await citizen.send("/khaosat")
        assert "Khảo sát cho Xã Hậu Lộc" in await citizen.send("16012")
        assert "xã/phường nào" in await other.send("/khaosat")
        assert "Khảo sát cho Xã Vạn Lộc" in await other.send("xã vạn lộc")
        await other.send("/huy")

        admin = Chat(service, "admin")
        SentFiles(service, {"don-vi": "code;name;kind\n16099;Xã Hòa Lộc;commune\n".encode()})
        imported = await admin._do(Inbound(files=(FileRef("don-vi", "document", "don-vi.csv", "text/csv"),)))
        assert "Đã nhập 1 đơn vị" in imported  # beside Xã Hoa Lộc (16072): the names differ only by a mark
        for n, (typed, unit) in enumerate([("Xã Hòa Lộc", "Xã Hòa Lộc"), ("xã hoa lộc", "Xã Hoa Lộc")]):
            chat = Chat(service, f"91{n}")
            assert "xã/phường nào" in await chat.send("/khaosat")
            assert f"Khảo sát cho {unit}." in await chat.send(typed), typed


async def test_the_citizens_pick_lists_the_communes_and_the_offices_staff_survey_opens_by_its_link(
    tmp_path: Path, database_url: str
) -> None:
    """The shipped presets, as `make run` has them: the period also runs the offices' staff survey (public), but
    “xã/phường nào?” lists the communes only, so “hoa loc” is Xã Hoa Lộc and not Phòng Kinh tế xã Hoa Lộc."""
    settings = settings_for(tmp_path, database_url=database_url, units_dir=SHIPPED_UNITS)
    async with open_service(settings) as service:
        citizen = Chat(service, "907")
        asked = await citizen.send("/khaosat")
        assert "xã/phường nào" in asked and t.STAFF_SURVEY_BY_LINK in asked
        [picker] = [r for r in citizen.last if isinstance(r, Outgoing) and r.choices]
        assert [c.label for c in picker.choices] == [
            "Xã Đông Thành",
            "Xã Hậu Lộc",
            "Xã Hoa Lộc",
            "Xã Triệu Lộc",
            "Xã Vạn Lộc",
        ]
        assert "Khảo sát cho Xã Hoa Lộc." in await citizen.send("hoa loc")
        staff = Chat(service, "908")
        opened = await staff.send("/start ks_16072-kt__khao-sat-phong-ban")
        assert "Khảo sát cho Phòng Kinh tế xã Hoa Lộc." in opened and "cán bộ, công chức" in opened
