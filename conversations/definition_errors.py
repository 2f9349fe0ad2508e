"""What can be wrong with a questionnaire definition, each with a code and its place (the field, the question, the
group), as pyxform's `ErrorCode` does: a reader of another format (XLSForm) puts a problem on its row and column
from the field, and nothing parses the Vietnamese messages to find where they belong."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class DefinitionCode(StrEnum):
    GROUP_DUPLICATE = "group.duplicate"
    GROUP_POINTS_EXCEEDED = "group.points_exceeded"
    GROUP_POINTS_MISSING = "group.points_missing"
    QUESTION_DUPLICATE = "question.duplicate"
    CHOICES_TOO_FEW = "choices.too_few"
    CHOICES_DUPLICATE = "choices.duplicate"
    CHOICES_NOT_ALLOWED = "choices.not_allowed"
    FIELD_NOT_ALLOWED = "field.not_allowed"
    """A field the question's type does not have (bands, accept, points_yes, measured_by, constraint…)."""
    PERCENTAGE_RANGE = "number.percentage_range"
    MIN_ABOVE_MAX = "number.min_above_max"
    MAX_LENGTH_MISSING = "text.max_length_missing"
    CALCULATION_MISMATCH = "calculation.mismatch"
    EXPRESSION_INVALID = "expression.invalid"
    REFERENCE_NOT_EARLIER = "reference.not_earlier"
    REFERENCE_NO_VALUE = "reference.no_value"
    REFERENCE_UNKNOWN_COLUMN = "reference.unknown_column"
    REFERENCE_UNKNOWN_CHOICE = "reference.unknown_choice"
    CLASSIFICATION_ORDER = "classification.order"
    MEASURE_REFERENCE = "measure.reference"
    """A criterion's `measured_by` that does not fit the citizen survey."""


@dataclass(frozen=True)
class DefinitionProblem:
    code: DefinitionCode
    message: str
    field: str | None = None
    """The model field at fault (`show_if`, `max_points`…); None when the questionnaire as a whole is."""
    question: str | None = None
    group: str | None = None


class DefinitionError(ValueError):
    """A questionnaire file that cannot be used; says where and what. `coded` holds every coded problem found
    (the message names the first); it is empty for problems found before the model (a file that does not read)."""

    def __init__(
        self,
        source: str,
        problem: str,
        question_id: str | None = None,
        problems: Sequence[DefinitionProblem] = (),
    ) -> None:
        self.source, self.problem, self.question_id = source, problem, question_id
        self.coded = list(problems)
        where = f"{source}" + (f", câu '{question_id}'" if question_id else "")
        super().__init__(f"{where}: {problem}")

    @classmethod
    def of(cls, source: str, problems: Sequence[DefinitionProblem]) -> DefinitionError:
        first = problems[0]
        return cls(source, first.message, first.question, problems)
