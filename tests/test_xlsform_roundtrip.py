"""Export → import: every shipped questionnaire (and the golden test one) written as XLSForm is accepted by
pyxform and reads back to the same definition, and the golden conversations give the same transcripts and scores
on the re-imported definitions. Random conversations behave the same on both, for the questionnaires no golden
script covers."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyxform.xls2xform import convert

from conversations import engine
from conversations.definition import Questionnaire, load_directory, load_questionnaire, parse_questionnaire
from conversations.scoring import score
from conversations.xlsform import read_xlsform, write_xlsform
from tests.test_engine_golden import GOLDEN, SCRIPTS, _inbound, _render
from tests.test_engine_properties import NOW, inbounds

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = load_directory(ROOT / "presets/questionnaires")
ORIGINALS = {**SHIPPED, "mini": load_questionnaire(GOLDEN / "mini.yaml")}


def reimported(qn: Questionnaire) -> Questionnaire:
    return read_xlsform(write_xlsform(qn), f"{qn.id}.xlsx", SHIPPED).questionnaire


REIMPORTED = {qid: reimported(qn) for qid, qn in ORIGINALS.items()}


@pytest.mark.parametrize("qid", sorted(ORIGINALS))
def test_export_is_accepted_by_pyxform_and_reads_back_the_same(qid: str) -> None:
    warnings: list[str] = []
    xform = convert(write_xlsform(ORIGINALS[qid]), warnings=warnings).xform
    assert f'id="{qid}"' in xform and warnings == []
    assert REIMPORTED[qid].model_dump() == ORIGINALS[qid].model_dump()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_saved_again_by_libreoffice_it_reads_back_the_same(tmp_path: Path) -> None:
    """LibreOffice reads "_xa_" in "n2_mang_xa_hoi" as an escaped line break unless the export escapes it."""
    for qid in SHIPPED:
        (tmp_path / f"{qid}.xlsx").write_bytes(write_xlsform(SHIPPED[qid]))
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(tmp_path / "lo"),
            *(str(tmp_path / f"{q}.xlsx") for q in SHIPPED),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    for qid, qn in SHIPPED.items():
        saved = (tmp_path / "lo" / f"{qid}.xlsx").read_bytes()
        assert saved != write_xlsform(qn)
        assert read_xlsform(saved, f"{qid}.xlsx", SHIPPED).questionnaire.model_dump() == qn.model_dump()


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_golden_conversations_on_the_reimported_definitions(script: Path) -> None:
    spec = yaml.safe_load(script.read_text(encoding="utf-8"))
    original = load_questionnaire((GOLDEN / spec["questionnaire"]).resolve())
    qn = REIMPORTED[original.id]
    now = datetime.fromisoformat(spec["now"])
    step = engine.start(qn, now)
    transcript = _render(step)
    for raw in spec["steps"]:
        label, inbound = _inbound(raw)
        step = engine.handle(qn, json.loads(json.dumps(step.state)), inbound, now)
        transcript += ["", label, *_render(step)]
    assert "\n".join(transcript) + "\n" == script.with_suffix(".txt").read_text(encoding="utf-8")
    assert engine.phase(step.state) == spec["expect"]["phase"]
    assert score(qn, step.state["answers"]).total == spec["expect"]["total"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), qid=st.sampled_from(sorted(ORIGINALS)))
def test_random_conversations_are_the_same_on_both(data: st.DataObject, qid: str) -> None:
    original, copy = ORIGINALS[qid], REIMPORTED[qid]
    first, second = engine.start(original, NOW), engine.start(copy, NOW)
    assert _render(first) == _render(second)
    for inbound in data.draw(st.lists(inbounds(original), max_size=40)):
        first = engine.handle(original, first.state, inbound, NOW)
        second = engine.handle(copy, second.state, inbound, NOW)
        assert _render(first) == _render(second) and first.state == second.state
    assert score(original, first.state["answers"]) == score(copy, second.state["answers"])


FEATURES_YAML = """
id: dac-diem
version: "3"
kind: self_assessment
title: "Phiếu có mọi tính năng"
short_title: "Tính năng"
source: "Kiểm thử"
status: template
intro: "Chào."
outro: "Cảm ơn."
classification: [{name: "Tốt", min_points: 5}]
groups:
  - code: A
    title: "Nhóm A"
    max_points: 8
    note: "Ghi chú"
    questions:
      - id: huyen
        type: single_choice
        text: "Huyện?"
        choices: [{value: hl, label: "Hậu Lộc"}, {value: ns, label: "Nga Sơn"}]
      - id: xa
        type: multiple_choice
        text: "Xã?"
        required: false
        choice_filter: "huyen = ${huyen} or name = 'khac'"
        choices:
          - {value: hoa_loc, label: "Hòa Lộc", attributes: {huyen: hl}}
          - {value: nga_an, label: "Nga An", attributes: {huyen: ns}}
          - {value: khac, label: "Khác"}
      - {id: tong, type: integer, text: "Tổng?", min: 1, constraint: ". <= 1000", constraint_message: "Quá lớn."}
      - {id: dat, type: integer, text: "Đạt?", constraint: ". <= ${tong}", required_message: "Cần số đạt."}
      - {id: ty_le, type: calculate, text: "Tỉ lệ", calculation: "${dat} div ${tong} * 100",
         bands: [{min: 80, max: 100, points: 5}, {min: 50, below: 80, points: 2.5}]}
      - {id: ly_do, type: text, text: "Vì sao?", max_length: 200, show_if: {expression: "${ty_le} < 50"}}
      - {id: anh, type: evidence, text: "Ảnh?", accept: image, max_files: 3, required: false,
         show_if: {question: huyen, not_equals: ns}}
      - id: co
        type: yes_no
        text: "Có?"
        points_yes: 3
        points_no: 0
        show_if: {any: [{question: tong, gte: 10}, {question: xa, includes: khac}]}
"""


def test_every_new_field_survives_the_round_trip() -> None:
    qn = parse_questionnaire(yaml.safe_load(FEATURES_YAML), "dac-diem.yaml")
    back = read_xlsform(write_xlsform(qn), "dac-diem.xlsx").questionnaire
    assert back.model_dump() == qn.model_dump()
    step = engine.start(back, NOW)
    for text in ["2", "1, 2", "40", "10"]:  # Nga Sơn: Nga An and Khác are offered; 25 % asks why
        step = engine.handle(back, step.state, engine.Inbound(text=text), NOW)
    assert step.state["answers"]["xa"] == ["nga_an", "khac"]
    assert step.outgoing[-1].text.startswith("Vì sao?")
    for text in ["Thiếu người", "có"]:  # the photo is not asked in Nga Sơn; 40 ≥ 10 asks "Có?"
        step = engine.handle(back, step.state, engine.Inbound(text=text), NOW)
    assert score(back, step.state["answers"]).total == 3  # 25 % earns no band
