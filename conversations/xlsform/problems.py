"""What is wrong with a workbook, and where."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from conversations.definition_errors import DefinitionError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a workbook, where it is."""

    sheet: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [f"trang “{self.sheet}”"]
        if self.row is not None:
            where.append(f"dòng {self.row}")
        if self.column is not None:
            where.append(f"cột “{self.column}”")
        return ", ".join(where) + ": " + self.message


class FormError(DefinitionError):
    """A workbook that cannot be used, with every problem found."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(source, "; ".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type[FormError], tuple[str, list[Problem]]]:
        """Pickled with its problems, to come back from the worker process that read the upload."""
        return FormError, (self.source, self.problems)
