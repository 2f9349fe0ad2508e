"""The shipped presets: questionnaires load and add up, unit lists are complete, broken definitions are refused."""

from __future__ import annotations

import copy
import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from conversations import engine
from conversations.conditions import visible
from conversations.definition import Question, Questionnaire, load_directory, of_kind, parse_questionnaire
from conversations.definition_errors import DefinitionCode, DefinitionError
from conversations.engine import FileRef, Inbound

ROOT = Path(__file__).resolve().parents[1]
QUESTIONNAIRES = ROOT / "presets" / "questionnaires"
UNITS = ROOT / "presets" / "units"

SATISFACTION = ["Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng", "Rất không hài lòng"]
HAU_LOC_2025 = {"16012", "16021", "16033", "16072", "16078"}


def _loaded() -> dict[str, Questionnaire]:
    return load_directory(QUESTIONNAIRES)


def _units(name: str) -> dict[str, Any]:
    data = yaml.safe_load((UNITS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _is_nfc(text: str) -> bool:
    return unicodedata.normalize("NFC", text) == text


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in _strings(key) + _strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return []


SHIPPED = {
    "tu-danh-gia": "self_assessment",
    "tu-danh-gia-thi-diem": "self_assessment",
    "khao-sat-thuc-trang": "individual_survey",
    "khao-sat-nguoi-dan": "citizen_survey",
    "khao-sat-phong-ban": "citizen_survey",
    "y-kien-hoi-thao": "citizen_survey",
}
NOW = datetime(2026, 5, 4, 3, 0, tzinfo=UTC)


def test_every_questionnaire_loads_with_its_kind() -> None:
    assert {qid: qn.kind for qid, qn in _loaded().items()} == SHIPPED


def test_every_questionnaire_is_a_labelled_template() -> None:
    for qn in _loaded().values():
        assert qn.status == "template", qn.id
        assert qn.notice and ("MẪU" in qn.notice or "gợi ý" in qn.notice), qn.id
        assert qn.classification is None, qn.id


def test_the_bot_still_runs_the_first_of_each_kind() -> None:
    # Until periods hold assignments, the bot runs one questionnaire of each kind, the first by id: the new
    # templates sort after the ones in use so that adding them changes nothing an officer or a citizen sees.
    found = _loaded()
    units, citizens = of_kind(found, "self_assessment"), of_kind(found, "citizen_survey")
    assert units is not None and units.id == "tu-danh-gia"
    assert citizens is not None and citizens.id == "khao-sat-nguoi-dan"


def _typed(q: Question) -> Inbound:
    """A valid answer to any question: its first option, its least number, a date, a word or a file."""
    kind = q.kind
    if kind.files:
        return Inbound(files=(FileRef("anh-1", "photo", size=10),))
    if kind.choices:
        return Inbound(text="1")
    if kind.percentage:
        return Inbound(text="50")
    if kind.number:
        return Inbound(text=str(int(q.min or 0)))
    if q.type == "date":
        return Inbound(text="1/2/2026")
    return Inbound(text="Đã thực hiện")


def _complete(qn: Questionnaire) -> dict[str, Any]:
    """The state after answering every question the engine asks, then submitting."""
    step = engine.start(qn, NOW)
    for _ in range(3 * len(qn.questions)):
        q = engine.current_question(qn, step.state)
        if q is None:
            break
        step = engine.handle(qn, step.state, _typed(q), NOW)
        if q.kind.files and engine.current_question(qn, step.state) is q:
            step = engine.handle(qn, step.state, Inbound(text="xong"), NOW)
        assert engine.current_question(qn, step.state) is not q, (qn.id, q.id, step.outgoing[-1].text)
    assert engine.phase(step.state) == "review", qn.id
    step = engine.handle(qn, step.state, Inbound(text="nộp"), NOW)
    assert engine.phase(step.state) == "submitted", qn.id
    return dict(step.state)


@pytest.mark.parametrize("qid", sorted(SHIPPED))
def test_every_questionnaire_can_be_completed(qid: str) -> None:
    qn = _loaded()[qid]
    state = _complete(qn)
    answers = state["answers"]
    shown = [q for q in visible(qn, answers) if q.answerable]
    assert shown and set(answers) == {q.id for q in shown}, qid


def test_pilot_framework_follows_the_published_approach() -> None:
    qn = _loaded()["tu-danh-gia-thi-diem"]
    assert "1666/QĐ-BTP" in qn.source and "1666/QĐ-BTP" in (qn.notice or "")
    assert [g.code for g in qn.groups] == ["pham_vi", "dau_vao", "dau_ra", "rieng"]
    # One legal field, one form of dissemination, one target group, one place.
    scope = [q.id for q in qn.group("pham_vi").questions]
    assert {"tp_linh_vuc", "tp_hinh_thuc", "tp_doi_tuong", "tp_dia_ban"} <= set(scope)
    assert qn.question("tp_hinh_thuc").type == "single_choice"
    # Quantified criteria, each naming its means of verification; no points or thresholds are invented.
    for code in ("dau_vao", "dau_ra"):
        criteria = [q for q in qn.group(code).questions if q.code]
        assert len(criteria) >= 5, code
        for q in criteria:
            assert q.kind.number or q.kind.percentage or q.kind.choices, q.id
            assert q.help and "Công cụ kiểm chứng" in q.help, q.id
    assert not qn.scored and all(not q.bands and not q.scored for q in qn.questions)
    assert [c.value for c in qn.question("dr_cong_cu").options][:2] == ["khao_sat", "kiem_tra"]
    # The unit's own criteria have their place.
    assert "riêng" in qn.group("rieng").title
    assert {"tr1_ten", "tr1_ket_qua", "tr1_minh_chung"} <= {q.id for q in qn.group("rieng").questions}


def test_survey_of_practice_is_named_and_each_officer_answers() -> None:
    qn = _loaded()["khao-sat-thuc-trang"]
    assert qn.anonymous is False
    assert not any(q.consent for q in qn.questions)
    assert "979/QĐ-TTg" in qn.source and "II.1a" in qn.source
    assert "của riêng mình" in qn.intro


@pytest.mark.parametrize("qid", ["khao-sat-phong-ban", "y-kien-hoi-thao"])
def test_public_surveys_are_anonymous_and_gated_by_consent(qid: str) -> None:
    qn = _loaded()[qid]
    assert qn.anonymous is True
    first, *rest = qn.questions
    assert first.consent and first.type == "yes_no"
    assert all(q.show_if is not None and "dong_y" in q.show_if.referenced() for q in rest)
    satisfaction = qn.question("hai_long")
    assert [c.label for c in satisfaction.choices] == SATISFACTION


def test_staff_survey_asks_what_the_citizen_survey_asks_in_the_same_codes() -> None:
    found = _loaded()
    staff, citizens = found["khao-sat-phong-ban"], found["khao-sat-nguoi-dan"]
    for qid in ("tu_tim_hieu", "hai_long"):
        assert [c.value for c in staff.question(qid).options] == [c.value for c in citizens.question(qid).options]
    assert [c.label for c in staff.question("nhom").options][:3] == ["Cán bộ, công chức", "Viên chức", "Người lao động"]
    group = staff.group("kien_thuc")
    assert group.max_points == len(group.questions) == 2


def test_self_assessment_groups_and_maxima() -> None:
    qn = _loaded()["tu-danh-gia"]
    assert qn.kind == "self_assessment"
    assert [g.code for g in qn.groups if g.max_points] == ["N1", "N2", "N3", "N4", "N5"]
    assert [qn.group(c).max_points for c in ("N1", "N2", "N3", "N4", "N5")] == [30, 20, 20, 20, 10]
    for group in qn.groups:
        total = sum(q.max_points for q in group.questions)
        assert total == (group.max_points or 0), group.code
    assert qn.max_points == 100
    assert sum(q.max_points for q in qn.questions) == 100
    assert qn.classification is None
    assert qn.status == "template"
    assert qn.notice


def test_self_assessment_scored_questions_have_codes() -> None:
    qn = _loaded()["tu-danh-gia"]
    scored = [q for q in qn.questions if q.scored]
    assert 22 <= len(scored) <= 26
    codes = [q.code for q in scored]
    assert all(codes) and len(set(codes)) == len(codes)
    assert all(q.code and q.code.startswith(q.group + ".") for q in scored)


def test_self_assessment_has_the_known_banded_criterion() -> None:
    qn = _loaded()["tu-danh-gia"]
    matches = [
        q
        for q in qn.questions
        if any(b.min == 85 and b.points == 4 for b in q.bands) and any(b.min == 70 and b.points == 3 for b in q.bands)
    ]
    assert matches
    n41 = next(q for q in matches if q.code == "N4.1")
    assert n41.group == "N4" and n41.max_points == 4
    band_85 = next(b for b in n41.bands if b.min == 85)
    band_70 = next(b for b in n41.bands if b.min == 70)
    assert band_85.max == 100
    assert band_70.below == 85
    assert band_70.contains(84.9) and not band_70.contains(85)
    assert n41.help and "mẫu" in n41.help


def test_survey_is_anonymous_and_gated_by_consent() -> None:
    qn = _loaded()["khao-sat-nguoi-dan"]
    assert qn.kind == "citizen_survey"
    assert qn.anonymous is True
    assert qn.status == "template"
    first, *rest = qn.questions
    assert first.id == "dong_y" and first.type == "yes_no" and first.consent
    assert rest and all(q.show_if is not None for q in rest)
    assert all("dong_y" in q.show_if.referenced() for q in rest if q.show_if is not None)
    assert 14 <= len(qn.questions) <= 16


def test_survey_satisfaction_scale_in_order() -> None:
    qn = _loaded()["khao-sat-nguoi-dan"]
    scale = [q for q in qn.questions if q.type == "single_choice" and [c.label for c in q.choices] == SATISFACTION]
    assert len(scale) == 1
    assert [c.value for c in scale[0].choices] == [
        "rat_hai_long",
        "hai_long",
        "binh_thuong",
        "khong_hai_long",
        "rat_khong_hai_long",
    ]


def test_survey_knowledge_group_scores_three_points() -> None:
    qn = _loaded()["khao-sat-nguoi-dan"]
    group = qn.group("kien_thuc")
    assert group.max_points == 3
    assert len(group.questions) == 3
    for question in group.questions:
        assert sorted(c.points or 0 for c in question.choices)[-2:] == [0, 1], question.id
    assert [g.code for g in qn.groups if g.max_points] == ["kien_thuc"]


def test_all_preset_texts_are_nfc() -> None:
    for path in [*QUESTIONNAIRES.glob("*.yaml"), *UNITS.glob("*.yaml")]:
        raw = path.read_text(encoding="utf-8")
        assert _is_nfc(raw), path.name
        assert all(_is_nfc(s) for s in _strings(yaml.safe_load(raw))), path.name
    for qn in _loaded().values():
        texts = [qn.title, qn.short_title, qn.source, qn.intro, qn.outro, qn.notice or ""]
        texts += [g.title for g in qn.groups]
        for q in qn.questions:
            texts += [q.text, q.help or ""] + [c.label for c in q.options]
        assert all(_is_nfc(t) for t in texts), qn.id


def test_units_2023() -> None:
    data = _units("hau-loc-2023.yaml")
    assert data["id"] == "hau-loc-2023"
    assert data["province"] == {"code": "38", "name": "Tỉnh Thanh Hóa"}
    assert str(data["valid_from"]) == "2020-01-01" and str(data["valid_to"]) == "2025-06-30"
    codes = [u["code"] for u in data["units"]]
    assert len(set(codes)) == len(codes)
    assert all(isinstance(c, str) for c in codes)
    communes = [u for u in data["units"] if u["kind"] == "commune"]
    assert len(communes) == 22
    names = {u["name"] for u in communes}
    assert {"Thị trấn Hậu Lộc", "Xã Hoa Lộc", "Xã Hòa Lộc"} <= names
    assert sum(1 for n in names if n.startswith("Xã ")) == 21
    departments = [u for u in data["units"] if u["kind"] == "department"]
    assert "Phòng Tư pháp" in {u["name"] for u in departments}


def test_units_2025_cover_2023_exactly_once() -> None:
    old = {u["code"] for u in _units("hau-loc-2023.yaml")["units"] if u["kind"] == "commune"}
    data = _units("hau-loc-2025.yaml")
    assert data["id"] == "hau-loc-2025"
    assert str(data["valid_from"]) == "2025-07-01" and "valid_to" not in data
    units = data["units"]
    assert {u["code"] for u in units} == HAU_LOC_2025
    assert all(isinstance(u["code"], str) and len(u["code"]) == 5 for u in units)
    assert all(u["kind"] == "commune" for u in units)
    merged = [code for u in units for code in u["formed_from"]]
    assert len(merged) == 22
    assert sorted(merged) == sorted(old)
    sizes = {u["code"]: len(u["formed_from"]) for u in units}
    assert sizes == {"16021": 3, "16033": 4, "16012": 4, "16072": 6, "16078": 5}


def test_the_communes_offices_are_template_departments_of_the_2025_communes() -> None:
    """Each 2025 commune's three specialised offices, labelled as template data (generic names, local codes), with
    the commune as their parent; the shipped period gives them the staff survey."""
    from bot.assignments import Rule, Scope
    from bot.presets import load_period_preset, load_unit_presets

    data = _units("hau-loc-2025-co-quan-xa.yaml")
    assert data["status"] == "template" and "MẪU" in data["title"] and str(data["valid_from"]) == "2025-07-01"
    units = data["units"]
    assert all(u["kind"] == "department" for u in units)
    communes = {u["code"]: u["name"] for u in _units("hau-loc-2025.yaml")["units"]}
    assert sorted(u["parent"] for u in units) == sorted(list(communes) * 3)
    for u in units:
        office = u["name"].removesuffix(" " + communes[u["parent"]].replace("Xã", "xã"))
        assert office in {"Văn phòng HĐND và UBND", "Phòng Kinh tế", "Phòng Văn hóa – Xã hội"}, u["name"]
        assert u["code"].startswith(f"{u['parent']}-")
    loaded = dict(load_unit_presets(UNITS))["hau-loc-2025-co-quan-xa"]
    assert {r["parent_code"] for r in loaded} == set(communes)
    assert Rule("khao-sat-phong-ban", Scope.KIND, "department") in load_period_preset(UNITS)


def test_unit_codes_match_pattern() -> None:
    pattern = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
    for name in ("hau-loc-2023.yaml", "hau-loc-2025.yaml", "hau-loc-2025-co-quan-xa.yaml"):
        for unit in _units(name)["units"]:
            assert pattern.match(unit["code"]), unit["code"]


def _valid() -> dict[str, Any]:
    return {
        "id": "thu",
        "version": "1",
        "kind": "self_assessment",
        "title": "Thử",
        "short_title": "Thử",
        "source": "Thử",
        "status": "template",
        "intro": "Chào",
        "outro": "Cảm ơn",
        "groups": [
            {
                "code": "N1",
                "title": "Nhóm 1",
                "max_points": 5,
                "questions": [
                    {"id": "co_ke_hoach", "type": "yes_no", "text": "Có kế hoạch?", "points_yes": 3},
                    {
                        "id": "so_buoi",
                        "type": "integer",
                        "text": "Số buổi?",
                        "show_if": {"question": "co_ke_hoach", "equals": "co"},
                        "bands": [{"min": 0, "below": 1, "points": 0}, {"min": 1, "max": 99, "points": 2}],
                    },
                ],
            }
        ],
    }


def test_valid_small_definition_is_accepted() -> None:
    qn = parse_questionnaire(_valid(), "x.yaml")
    assert qn.max_points == 5


def _broken_show_if_later() -> tuple[dict[str, Any], str]:
    data = _valid()
    data["groups"][0]["questions"][0]["show_if"] = {"question": "so_buoi", "answered": True}
    return data, "co_ke_hoach"


def _broken_duplicate_id() -> tuple[dict[str, Any], str]:
    data = _valid()
    data["groups"][0]["questions"][1]["id"] = "co_ke_hoach"
    data["groups"][0]["questions"][1].pop("show_if")
    return data, "co_ke_hoach"


def _broken_points_over_max() -> tuple[dict[str, Any], str | None]:
    data = _valid()
    data["groups"][0]["questions"][0]["points_yes"] = 4
    return data, None


def _broken_text_without_max_length() -> tuple[dict[str, Any], str]:
    data = _valid()
    extra = copy.deepcopy(data["groups"][0]["questions"][0])
    extra["id"] = "ghi_chu"
    extra["type"] = "text"
    extra.pop("points_yes")
    data["groups"][0]["questions"].append(extra)
    return data, "ghi_chu"


def _broken_id_pattern() -> tuple[dict[str, Any], str]:
    data = _valid()
    data["groups"][0]["questions"][1]["id"] = "So-Buoi"
    return data, "So-Buoi"


@pytest.mark.parametrize(
    "broken",
    [_broken_show_if_later, _broken_duplicate_id, _broken_text_without_max_length, _broken_id_pattern],
    ids=lambda f: f.__name__,
)
def test_broken_definition_names_the_question(broken: Any) -> None:
    data, question_id = broken()
    with pytest.raises(DefinitionError) as info:
        parse_questionnaire(data, "x.yaml")
    assert info.value.question_id == question_id
    assert info.value.source == "x.yaml"
    assert question_id in str(info.value)


def test_group_points_over_max_are_refused() -> None:
    # The group check in validate() reports the group code, not a question: no single question is at fault.
    data, _ = _broken_points_over_max()
    with pytest.raises(DefinitionError) as info:
        parse_questionnaire(data, "x.yaml")
    assert "N1" in info.value.problem
    assert info.value.source == "x.yaml"


def test_a_definition_error_holds_every_problem_with_its_code_and_field() -> None:
    data = yaml.safe_load((ROOT / "presets/questionnaires/tu-danh-gia.yaml").read_text(encoding="utf-8"))
    first, second = data["groups"][0]["questions"][:2]
    first["min"], first["max"] = 5, 1
    second["show_if"] = {"question": "khong_co", "equals": "x"}
    with pytest.raises(DefinitionError) as info:
        parse_questionnaire(data, "tu-danh-gia.yaml")
    coded = [(p.code, p.field, p.question) for p in info.value.coded]
    assert coded[:2] == [
        (DefinitionCode.MIN_ABOVE_MAX, "min", first["id"]),
        (DefinitionCode.REFERENCE_NOT_EARLIER, "show_if", second["id"]),
    ]
    assert info.value.problem == "'min' lớn hơn 'max'"
