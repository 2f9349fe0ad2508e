"""What is wrong with a workbook, and where; and what the reader assumed for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from conversations.definition import Questionnaire
from conversations.definition_errors import DefinitionError


class FormCode(StrEnum):
    """What the reader finds wrong with a workbook; pyxform's refusals carry `pyxform.<its ErrorCode>` and the
    model's checks their DefinitionCode."""

    FILE = "file.unreadable"
    SHEET_MISSING = "sheet.missing"
    CELL_NOT_BOOLEAN = "cell.not_boolean"
    CELL_NOT_NUMBER = "cell.not_number"
    CELL_NOT_DATE = "cell.not_date"
    CELL_NOT_DATA = "cell.not_data"
    CELL_MISSING = "cell.missing"
    VALUE_INVALID = "value.invalid"
    CHOICE_NO_LABEL = "choice.no_label"
    GROUP_NESTED = "group.nested"
    GROUP_POINTS_PLACE = "group.points_place"
    TYPE_UNSUPPORTED = "type.unsupported"
    TYPE_LIST = "type.list"
    LIST_MISSING = "type.list_missing"
    PERCENTAGE_TYPE = "type.percentage"
    QUESTION_NO_NAME = "question.no_name"
    QUESTION_NO_LABEL = "question.no_label"
    NO_QUESTION = "survey.no_question"
    SETTINGS_NO_ID = "settings.no_form_id"
    SETTINGS_NO_KIND = "settings.no_kind"
    PYXFORM = "pyxform"
    """A pyxform refusal with no ErrorCode of its own."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a workbook (or, as a notice, assumed for it), where it is."""

    sheet: str
    row: int | None
    column: str | None
    message: str
    code: str

    def __str__(self) -> str:
        where = [f"trang “{self.sheet}”"]
        if self.row is not None:
            where.append(f"dòng {self.row}")
        if self.column is not None:
            where.append(f"cột “{self.column}”")
        return ", ".join(where) + ": " + self.message


@dataclass(frozen=True)
class Reading:
    """A workbook read: its questionnaire, and what the reader assumed where the workbook said nothing."""

    questionnaire: Questionnaire
    notices: list[Problem] = field(default_factory=list)

    @property
    def noticed(self) -> str:
        """The notices for the person who sent the workbook."""
        return "Lưu ý, tệp thiếu vài thông tin nên bot tự điền:\n" + "\n".join(f"• {p}" for p in self.notices)


class FormError(DefinitionError):
    """A workbook that cannot be used, with every problem found."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(source, "; ".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type[FormError], tuple[str, list[Problem]]]:
        """Pickled with its problems, to come back from the worker process that read the upload."""
        return FormError, (self.source, self.problems)
