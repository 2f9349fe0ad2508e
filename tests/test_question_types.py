"""The question-type table covers every type, and what it says is what the rest of the code does."""

from __future__ import annotations

from conversations.question_types import KINDS, QuestionType
from conversations.xlsform.layout import TYPES
from tests.test_engine_properties import QUESTIONNAIRES


def test_every_question_type_has_one_row() -> None:
    assert set(KINDS) == set(QuestionType)


def test_the_xlsform_type_written_is_read_back_as_the_same_kind() -> None:
    for qn in QUESTIONNAIRES:
        for q in qn.questions:
            written = q.kind.xlsform(q).split(" ")[0]
            read = TYPES[written]
            assert read is q.type or (q.kind.percentage and read is QuestionType.DECIMAL) or q.kind.yes_no, q.id


def test_only_what_is_asked_is_answerable() -> None:
    asked = {t for t, kind in KINDS.items() if kind.answerable}
    assert asked == set(QuestionType) - {QuestionType.NOTE, QuestionType.CALCULATE}
    assert {t for t, kind in KINDS.items() if kind.gathers} == {QuestionType.MULTIPLE_CHOICE, QuestionType.EVIDENCE}
