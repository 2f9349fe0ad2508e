"""Any questionnaire as a workbook pyxform accepts and the reader reads back to the same definition."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import openpyxl
import yaml
from openpyxl.styles import Alignment, Font

from conversations.definition import Question, Questionnaire
from conversations.xlsform.layout import (
    CHOICES,
    LANGUAGE,
    SETTINGS,
    SETTINGS_COLUMNS,
    SURVEY,
    SURVEY_COLUMNS,
    TRANSLATED,
)
from conversations.xlsform.relevant import relevant_text
from conversations.xlsform.workbook import escape


def _tidy(value: Any) -> Any:
    """Whole floats as ints, so cells read 85, not 85.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    return value


def _flow(value: Any) -> str:
    dumped = yaml.safe_dump(_tidy(value), default_flow_style=True, allow_unicode=True, sort_keys=False, width=1 << 30)
    return str(dumped).strip()


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _question_cells(q: Question) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A question's survey row, and its rows on the choices sheet (one list per question, named after it)."""
    own = q.model_dump(exclude_defaults=True, exclude={"group"})
    cells: dict[str, Any] = {
        **q.kind.xlsform_cells,
        "type": q.kind.xlsform(q),
        "name": q.id,
        "label": q.text,
        "hint": q.help,
        "required": _yes(q.required) if q.answerable else None,
        "relevant": relevant_text(q.show_if) if q.show_if is not None else None,
        "not_in_future": "yes" if q.not_in_future else None,
        "consent": "yes" if q.consent else None,
        "bands": _flow(own["bands"]) if q.bands else None,
        "measured_by": _flow(own["measured_by"]) if q.measured_by else None,
    }
    for column in SURVEY_COLUMNS:  # the rest hold the field of the same name as it is
        if column not in cells and column in own:
            cells[column] = _tidy(own[column])
    choices = [
        {"list_name": q.id, "name": c.value, "label": c.label, "points": _tidy(c.points), **c.attributes}
        | ({"exclusive": _yes(True)} if c.exclusive else {})
        for c in q.options
    ]
    return cells, choices


def _sheet(
    book: Any, title: str, columns: Sequence[str], rows: Sequence[Mapping[str, Any]], first: bool = False
) -> None:
    sheet = book.active if first else book.create_sheet()
    sheet.title = title
    sheet.append([_cell(f"{c}::{LANGUAGE}" if c in TRANSLATED else c) for c in columns])
    for row in rows:
        sheet.append([_cell(row.get(c)) for c in columns])
    for index, column in enumerate(columns, start=1):
        letter = openpyxl.utils.get_column_letter(index)
        wide = column in {"label", "hint", "intro", "outro", "notice", "relevant", "bands", "measured_by"}
        sheet.column_dimensions[letter].width = 60 if wide else 16
        sheet.cell(1, index).font = Font(bold=True)
        if wide:
            for cell in sheet[letter][1:]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"


def _cell(value: Any) -> Any:
    return None if value is None or value == "" else escape(value)


def write_xlsform(qn: Questionnaire) -> bytes:
    """The questionnaire as an XLSForm workbook that pyxform accepts and read_xlsform reads back unchanged."""
    survey: list[dict[str, Any]] = []
    choices: list[dict[str, Any]] = []
    for g in qn.groups:
        begin = {"type": "begin_group", "name": g.code, "label": g.title, "hint": g.note}
        survey.append({**begin, "max_points": _tidy(g.max_points)})
        for q in g.questions:
            cells, rows = _question_cells(q)
            survey.append(cells)
            choices += rows
        survey.append({"type": "end_group"})
    known = {"list_name", "name", "label", "points"}
    attributes = list(dict.fromkeys(k for row in choices for k in row if k not in known))
    settings = {
        "form_title": qn.title,
        "form_id": qn.id,
        "version": qn.version,
        "default_language": LANGUAGE,
        "kind": qn.kind,
        "short_title": qn.short_title,
        "source": qn.source,
        "status": qn.status,
        "notice": qn.notice,
        "intro": qn.intro,
        "outro": qn.outro,
        "anonymous": _yes(qn.anonymous),
        "classification": _flow(qn.model_dump()["classification"]) if qn.classification is not None else None,
    }
    book = openpyxl.Workbook()
    _sheet(book, SURVEY, SURVEY_COLUMNS, survey, first=True)
    _sheet(book, CHOICES, ["list_name", "name", "label", "points", *attributes], choices)
    _sheet(book, SETTINGS, SETTINGS_COLUMNS, [settings])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
