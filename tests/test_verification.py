"""The Justice Office's own scoring, worked out (conversations.verification): self, survey-based and verified points
per criterion, per group (capped) and overall; lowered and raised criteria; what is left to verify."""

from __future__ import annotations

import yaml

from conversations.definition import parse_questionnaire
from conversations.measures import Rate, SurveyFigures
from conversations.scoring import score
from conversations.verification import verify

DEFINITION = """
id: tham-dinh
version: "1"
kind: self_assessment
title: Phiếu thử thẩm định
short_title: Thẩm định
source: thử
status: template
intro: Chào
outro: Cảm ơn
groups:
  - code: A
    title: Nhóm A
    max_points: 12
    questions:
      - {id: ke_hoach, code: A1, type: yes_no, text: "Có kế hoạch?", points_yes: 6, points_no: 0}
      - {id: so_buoi, code: A2, type: yes_no, text: "Tổ chức đủ buổi?", points_yes: 4, points_no: 0}
      - id: chi_tiet
        code: A3
        type: yes_no
        text: "Có báo cáo chi tiết?"
        points_yes: 2
        points_no: 0
        show_if: {question: ke_hoach, equals: co}
  - code: B
    title: Nhóm B
    max_points: 5
    questions:
      - id: ty_le
        code: B1
        type: percentage
        text: "Tỷ lệ hài lòng (%)?"
        min: 0
        max: 100
        measured_by: {indicator: satisfaction, survey: khao-sat, question: hai_long, values: [co]}
        bands:
          - {min: 80, max: 100, points: 5}
          - {min: 50, below: 80, points: 2}
          - {min: 0, below: 50, points: 0}
      - {id: ghi_chu, type: text, text: "Ghi chú?", required: false, max_length: 200}
"""
QN = parse_questionnaire(yaml.safe_load(DEFINITION), "test")
ANSWERS = {"ke_hoach": "khong", "so_buoi": "co", "ty_le": 90, "ghi_chu": "x"}


def test_nothing_verified_yet_counts_the_self_score_and_is_incomplete() -> None:
    result = verify(QN, ANSWERS, {})
    assert [c.question.id for c in result.criteria] == ["ke_hoach", "so_buoi", "ty_le"]  # A3 hidden, the note unscored
    assert [c.self_points for c in result.criteria] == [0, 4, 5]
    assert result.self_total == score(QN, ANSWERS).total == 9
    assert result.verified_total == 9 and result.survey_total is None
    assert not result.complete and len(result.unverified) == 3
    assert not result.lowered and not result.raised


def test_lowered_and_raised_criteria_and_capped_group_totals() -> None:
    result = verify(QN, ANSWERS, {"ke_hoach": 6, "so_buoi": 4, "ty_le": 2})
    assert result.complete
    assert [c.question.code for c in result.lowered] == ["B1"]
    assert [c.question.code for c in result.raised] == ["A1"]
    a, b = result.groups
    assert (a.self_points, a.verified, a.maximum) == (4, 10, 12)
    assert (b.self_points, b.verified) == (5, 2)
    assert result.verified_total == 12 and result.self_total == 9
    capped = verify(QN, {**ANSWERS, "ke_hoach": "co", "chi_tiet": "co"}, {"ke_hoach": 6, "so_buoi": 4, "chi_tiet": 9})
    assert capped.groups[0].verified == 12  # the group's maximum, as the self-score is capped
    partial = verify(QN, ANSWERS, {"so_buoi": 0, "gone": 3})  # a row for a question not scored is ignored
    assert partial.verified_total == 5 and [c.question.id for c in partial.unverified] == ["ke_hoach", "ty_le"]


def test_survey_measured_criteria_propose_the_survey_score() -> None:
    figures = SurveyFigures({"ty_le": Rate(60.0, 12)}, 5)
    result = verify(QN, ANSWERS, {}, figures)
    b1 = result.criterion("ty_le")
    assert b1 is not None and (b1.self_points, b1.survey_points, b1.proposed) == (5, 2, 2)
    assert result.survey_total == 6 and result.groups[1].survey_points == 2
    a2 = result.criterion("so_buoi")
    assert a2 is not None and a2.survey_points is None and a2.proposed == 4
    few = verify(QN, ANSWERS, {}, SurveyFigures({"ty_le": Rate(60.0, 3)}, 5))
    assert few.survey_total is None and few.criteria[2].proposed == 5  # too few respondents: the unit's own
    hidden = verify(QN, ANSWERS, {}, SurveyFigures({"ty_le": Rate(60.0, 12)}, 5, frozenset({"ty_le"})))
    assert hidden.survey_total is None and hidden.criteria[2].survey_points is None
