"""Consent and one response per person (both databases): a "no" to the consent question ends the survey at once
and counts in no figure; a person answers the citizen survey once per period whatever the unit, and the staff
who serve a unit never answer its survey."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from conversations import engine
from conversations import messages as m
from conversations.definition import DefinitionError, Questionnaire, parse_questionnaire
from conversations.engine import Inbound
from conversations.status import Status
from storage.models import Answer, Response
from tests.client import Chat, running_service
from tests.test_engine_properties import NOW, QUESTIONNAIRES
from tests.test_service import SURVEY_ANSWERS, invite_code
from tests.test_xlsform import VI, YES_NO, read, workbook


def with_consent(qn: Questionnaire) -> Questionnaire:
    """The shipped citizen survey with its first question marked as the consent question."""
    data = qn.model_dump(mode="json")
    data["groups"][0]["questions"][0]["consent"] = True
    return parse_questionnaire(data, "thu.yaml")


SURVEY = with_consent(QUESTIONNAIRES[2])


def test_a_no_to_the_consent_question_ends_the_survey_at_once() -> None:
    assert SURVEY.question("dong_y").consent
    step = engine.handle(SURVEY, engine.start(SURVEY, NOW).state, Inbound(text="không"), NOW)
    assert step.declined and not step.submitted and engine.phase(step.state) == "declined"
    assert [o.text for o in step.outgoing] == [m.DECLINED]
    assert not any(b.label == m.SUBMIT for o in step.outgoing for b in o.actions)
    assert step.state["answers"] == {"dong_y": "khong"}
    assert engine.handle(SURVEY, step.state, Inbound(text="có"), NOW).state["answers"] == {"dong_y": "khong"}


def test_consent_is_a_yes_no_question_in_yaml_and_a_column_in_xlsform() -> None:
    data = SURVEY.model_dump(mode="json")
    data["groups"][0]["questions"][1]["consent"] = True  # the age question, a single choice
    with pytest.raises(DefinitionError, match="consent"):
        parse_questionnaire(data, "thu.yaml")
    survey = [
        {"type": "select_one cokhong", "name": "dong_y", VI: "Đồng ý?", "required": "yes", "consent": "yes"},
        {"type": "integer", "name": "tuoi", VI: "Tuổi?"},
    ]
    plain = [{k: v for k, v in c.items() if k != "points"} for c in YES_NO]
    qn = read(workbook(survey, plain))
    assert qn.question("dong_y").consent and not qn.question("tuoi").consent


async def test_a_decline_is_counted_apart_from_the_surveys(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        service.use(SURVEY)
        service.versions[(SURVEY.id, SURVEY.version)] = SURVEY
        admin, declining, answering = Chat(service, "admin"), Chat(service, "901"), Chat(service, "902")
        assert "Khảo sát cho Xã Hậu Lộc" in await declining.send("/start ks_16012")
        reply = await declining.send("không")
        assert "không tham gia" in reply and "Nộp phiếu" not in reply and "Xem lại" not in reply
        assert "Bạn chưa mở phiếu nào" in await declining.send("1")
        declined = "Bạn đã chọn không tham gia khảo sát này cho Xã Hậu Lộc trong kỳ 2026"
        again = await declining.send("/start ks_16012")
        assert declined in again and "đã trả lời" not in again
        assert "xã/phường nào" in await declining.send("/khaosat")
        assert declined in await declining.send("hau loc")
        assert declined in await declining.send("/start ks_16072"), "one response per person, whatever the unit"
        await answering.send("/start ks_16012")
        await answering.answer_all(SURVEY_ANSWERS)
        assert "Đã nộp phiếu" in await answering.send("nộp")
        async with service.db.read() as db:
            statuses = sorted((await db.scalars(select(Response.status))).all())
            answered = {r for r in (await db.scalars(select(Answer.response_id))).all()}
        assert statuses == [Status.DECLINED, Status.SUBMITTED] and len(answered) == 1
        progress = await admin.send("/tiendo")
        assert "Khảo sát người dân (mã khao-sat-nguoi-dan) – phiếu ẩn danh\n1 phiếu đã nộp" in progress


async def test_one_response_per_person_and_none_from_the_units_own_staff(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        admin, citizen, officer = Chat(service, "admin"), Chat(service, "903"), Chat(service, "904")
        await citizen.send("/start ks_16012")
        await citizen.send("có")
        elsewhere = await citizen.send("/start ks_16072")
        assert "đang trả lời dở khảo sát này cho Xã Hậu Lộc" in elsewhere
        await officer.send(f"/start dk_{invite_code(await admin.send('/moi 16078'))}")
        own = await officer.send("/start ks_16078")
        assert "Bạn là cán bộ của Xã Vạn Lộc nên không trả lời khảo sát người dân của đơn vị mình" in own
        assert "Khảo sát cho Xã Hậu Lộc" in await officer.send("/start ks_16012")  # not the unit they serve
        assert "Quản trị viên không trả lời khảo sát người dân" in await admin.send("/start ks_16012")
        async with service.db.read() as db:
            units = sorted((await db.scalars(select(Response.unit_code))).all())
        assert units == ["16012", "16012"]


def test_a_definition_stored_in_an_older_schema_is_upgraded_on_load(monkeypatch: pytest.MonkeyPatch) -> None:
    from conversations import definition

    stored = QUESTIONNAIRES[0].model_dump(mode="json")
    stored["heading"] = stored.pop("title")  # as an older schema might have named it

    def rename(data: dict[str, object]) -> dict[str, object]:
        return {("title" if k == "heading" else k): v for k, v in data.items()}

    monkeypatch.setattr(definition, "DEFINITION_SCHEMA", 2)
    monkeypatch.setitem(definition.UPGRADES, 1, rename)
    upgraded = definition.upgrade_definition(stored, 1)
    assert parse_questionnaire(upgraded, "thu").title == QUESTIONNAIRES[0].title
    assert definition.upgrade_definition(upgraded, 2) == upgraded
