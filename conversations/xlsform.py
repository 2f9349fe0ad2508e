"""Questionnaires as XLSForm workbooks (sheets `survey`, `choices`, `settings`), so staff write and change them
in Excel or LibreOffice.

Reading: pyxform, the reference XLSForm library, must accept the workbook (its refusals are translated to the
row); then the rows are mapped onto the same data the YAML files hold and go through the same model and checks
(conversations.definition), so the engine does not care where a questionnaire came from. `relevant` is turned
into the structured show-if when it says exactly what one says, and kept as an XLSForm expression otherwise.
Every problem names the sheet, the row and the column.

Writing: any questionnaire, as a workbook pyxform accepts and this module reads back to the same definition.
The project's own fields (points, bands, group maxima…) are extra columns; the README lists them.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import openpyxl
import yaml
from openpyxl.styles import Alignment, Font
from pydantic import ValidationError
from pyxform.errors import PyXFormError
from pyxform.xls2xform import convert

from conversations.definition import (
    NUMBER_TYPES,
    Condition,
    DefinitionError,
    Question,
    Questionnaire,
    QuestionType,
    measure_problems,
    validate,
)
from conversations.expressions import Binary, Call, ExpressionError, Literal, Node, Ref, Where, parse
from conversations.text import nfc

SURVEY, CHOICES, SETTINGS = "survey", "choices", "settings"
LANGUAGE = "Vietnamese (vi)"
DEFAULT_TEXT_LENGTH = 1000
"""The answer length of an XLSForm `text` question without a `max_length` column."""
DEFAULT_INTRO = "Xin chào! Mời anh/chị trả lời các câu hỏi sau. Câu trả lời được lưu sau mỗi câu."
DEFAULT_OUTRO = "Cảm ơn anh/chị đã trả lời."
IMPLICIT_GROUP = "Câu hỏi chung"
TRANSLATED = ("label", "hint", "required_message", "constraint_message")
SURVEY_COLUMNS = (
    "type",
    "name",
    "label",
    "hint",
    "required",
    "required_message",
    "relevant",
    "constraint",
    "constraint_message",
    "calculation",
    "choice_filter",
    "code",
    "min",
    "max",
    "max_length",
    "min_date",
    "max_date",
    "not_in_future",
    "max_files",
    "percentage",
    "bands",
    "max_points",
    "export_label",
    "measured_by",
)
SETTINGS_COLUMNS = (
    "form_title",
    "form_id",
    "version",
    "default_language",
    "kind",
    "short_title",
    "source",
    "status",
    "notice",
    "intro",
    "outro",
    "anonymous",
    "classification",
)
INHERITED = ("kind", "short_title", "source", "status", "notice", "intro", "outro", "anonymous", "classification")
"""Settings a new version takes from the version it replaces when its workbook has no such column."""
METADATA_TYPES = frozenset(
    {"start", "end", "today", "deviceid", "username", "phonenumber", "simserial", "subscriberid", "email", "audit"}
)
"""ODK metadata rows (KoboToolbox adds `start` and `end`): they ask nothing, so they are passed over."""
TYPES = {
    "integer": QuestionType.INTEGER,
    "decimal": QuestionType.DECIMAL,
    "text": QuestionType.TEXT,
    "date": QuestionType.DATE,
    "image": QuestionType.EVIDENCE,
    "file": QuestionType.EVIDENCE,
    "note": QuestionType.NOTE,
    "calculate": QuestionType.CALCULATE,
    "select_one": QuestionType.SINGLE_CHOICE,
    "select_multiple": QuestionType.MULTIPLE_CHOICE,
}
SUPPORTED = (
    "select_one, select_multiple, integer, decimal, text, date, image, file, note, calculate, begin_group, end_group"
)
TRUE_WORDS = frozenset({"yes", "true", "true()", "1", "có", "co", "x"})
FALSE_WORDS = frozenset({"no", "false", "false()", "0", "không", "khong"})
COLUMN_OF_FIELD = {
    "id": "name",
    "text": "label",
    "help": "hint",
    "show_if": "relevant",
    "choices": "type",
    "accept": "type",
    "type": "type",
    "points_yes": "type",
    "points_no": "type",
}
SETTING_OF_FIELD = {"id": "form_id", "title": "form_title"}


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


# ---------------------------------------------------------------- reading the workbook


@dataclass
class _Row:
    number: int
    cells: dict[tuple[str, str | None], Any]

    def raw(self, column: str, language: str | None = None) -> Any:
        value = self.cells.get((column, language))
        if value is None and language is not None:
            value = self.cells.get((column, None))
        return value

    def text(self, column: str, language: str | None = None) -> str | None:
        value = self.raw(column, language)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = nfc(str(value)).strip()
        return text or None


@dataclass
class _Sheet:
    name: str
    columns: set[tuple[str, str | None]]
    rows: list[_Row]

    def has(self, column: str) -> bool:
        return any(name == column for name, _ in self.columns)


_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_LOOKS_ESCAPED = re.compile(r"_(?=x[0-9A-Fa-f]{1,4}_)")


def _unescape(value: Any) -> Any:
    """Cell text as written: OOXML escapes characters as `_xHHHH_` (Excel writes a literal "_x" as "_x005F_x")."""
    return _ESCAPED.sub(lambda m: chr(int(m[1], 16)), value) if isinstance(value, str) and "_x" in value else value


def _escape(value: Any) -> Any:
    """The reverse, for text that would read as an escape: LibreOffice reads "n2_mang_xa_hoi" as "n2_mang" + a
    line break + "hoi" unless the "_" before "x" is written "_x005F_"."""
    return _LOOKS_ESCAPED.sub("_x005F_", value) if isinstance(value, str) else value


def _header(cell: Any) -> tuple[str, str | None] | None:
    """`label::Vietnamese (vi)` → ("label", "Vietnamese (vi)"); `Constraint message` → ("constraint_message", None)."""
    if cell is None or not str(cell).strip():
        return None
    name, _, language = str(cell).strip().partition("::")
    return name.strip().lower().replace(" ", "_"), (language.strip() or None)


def _sheets(content: bytes) -> dict[str, _Sheet]:
    book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        found = {}
        for sheet in book.worksheets:
            rows = sheet.iter_rows(values_only=True)
            headers = [_header(_unescape(cell)) for cell in next(rows, ())]
            data = []
            for number, values in enumerate(rows, start=2):
                cells = {
                    key: _unescape(value)
                    for key, value in zip(headers, values, strict=False)
                    if key is not None and value is not None and str(value).strip() != ""
                }
                if cells:
                    data.append(_Row(number, cells))
            found[sheet.title.strip().lower()] = _Sheet(sheet.title, {h for h in headers if h}, data)
        return found
    finally:
        book.close()


def _language(sheets: Mapping[str, _Sheet], default: str | None) -> str | None:
    """The label language to read: Vietnamese when there is one, else the form's default, else the first."""
    languages = sorted(
        {lang for s in sheets.values() for name, lang in s.columns if name in TRANSLATED and lang is not None}
    )
    for lang in languages:
        if re.search(r"\(vi\)$", lang) or lang.lower() in {"vi", "vietnamese", "tiếng việt"}:
            return lang
    if default in languages:
        return default
    untranslated = any(name == "label" and lang is None for s in sheets.values() for name, lang in s.columns)
    return None if untranslated or not languages else languages[0]


# ---------------------------------------------------------------- pyxform's verdict


_PYXFORM_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Question or group with no name"), "dòng này thiếu tên ở cột “name”"),
    (re.compile(r"Question with no type"), "dòng này thiếu loại câu ở cột “type”"),
    (re.compile(r"Unknown question type '(?P<x>[^']*)'"), "loại câu “{x}” không có trong XLSForm"),
    (
        re.compile(r"Could not find the name '(?P<x>[^']*)'"),
        "biểu thức nhắc tới ${{{x}}}, nhưng không có câu hỏi nào tên “{x}”",
    ),
    (
        re.compile(r"'name' value '(?P<x>[^']*)' is invalid\. Questions, groups, and repeats must be unique"),
        "tên “{x}” bị trùng với một câu hoặc nhóm khác",
    ),
    (
        re.compile(r"Unmatched 'begin_group'\. No matching 'end_group' was found for the name '(?P<x>[^']*)'"),
        "nhóm “{x}” mở bằng begin_group nhưng không có end_group",
    ),
    (re.compile(r"Unmatched 'end_group'"), "end_group không có begin_group tương ứng"),
    (
        re.compile(r"Names must begin with a letter or underscore"),
        "tên không hợp lệ: bắt đầu bằng chữ cái, chỉ gồm chữ không dấu, số và dấu gạch dưới",
    ),
    (
        re.compile(r"The survey element named '(?P<x>[^']*)' has no label or hint"),
        "câu “{x}” chưa có nội dung ở cột “label”",
    ),
    (re.compile(r"Missing calculation"), "câu “calculate” thiếu biểu thức ở cột “calculation”"),
    (
        re.compile(r"There should be a choices sheet"),
        "cần trang “choices” với các cột list_name, name, label cho câu chọn phương án",
    ),
    (re.compile(r"List name not in choices sheet: (?P<x>\S+)"), "trang “choices” không có danh sách “{x}”"),
    (re.compile(r"Choices must have a name"), "phương án thiếu mã ở cột “name”"),
    (
        re.compile(r"Choice names must be unique for each choice list"),
        "hai phương án trùng mã “name” trong cùng một danh sách",
    ),
    (
        re.compile(r"required column headers were not found: (?P<x>[^.]*)\."),
        "thiếu cột bắt buộc {x}",
    ),
    (re.compile(r"does not appear to be a valid XLSForm"), "tệp không phải một bảng hỏi XLSForm"),
]


def _pyxform_problem(error: PyXFormError, sheets: Mapping[str, _Sheet]) -> Problem:
    """pyxform's refusal in Vietnamese, at its row."""
    text = str(error)
    context = error.context or {}
    row_match = re.search(r"\[row : (\d+)\]", text)
    row = int(row_match[1]) if row_match else context.get("row")
    sheet_match = re.search(r"On the '(\w+)' sheet|for sheet: '(\w+)'", text)
    sheet = (sheet_match[1] or sheet_match[2]) if sheet_match else context.get("sheet", SURVEY)
    column_match = re.search(r"the '(\w+)' value", text)
    column = column_match[1] if column_match else context.get("column")
    for pattern, template in _PYXFORM_MESSAGES:
        found = pattern.search(text)
        if found:
            message = template.format(**found.groupdict())
            if row is None and "x" in found.groupdict():
                row = _row_naming(sheets, found["x"])
            break
    else:
        said = re.sub(r"^\[row : \d+\] ", "", text)
        message = f"pyxform (công cụ kiểm tra XLSForm) không nhận tệp: {said}"
    return Problem(str(sheet), int(row) if row is not None else None, column, message)


def _row_naming(sheets: Mapping[str, _Sheet], word: str) -> int | None:
    """The survey row whose name or type is `word`, for pyxform messages that give no row."""
    survey = sheets.get(SURVEY)
    for row in survey.rows if survey else []:
        if word in (row.text("name"), row.text("type")):
            return row.number
    return None


def check_with_pyxform(content: bytes, sheets: Mapping[str, _Sheet]) -> list[Problem]:
    try:
        convert(content, warnings=[])
    except PyXFormError as error:
        return [_pyxform_problem(error, sheets)]
    return []


# ---------------------------------------------------------------- relevant → show-if


def _textual(kind: QuestionType) -> bool:
    return kind in (QuestionType.SINGLE_CHOICE, QuestionType.YES_NO, QuestionType.TEXT, QuestionType.DATE)


def _test(node: Node, kinds: Mapping[str, QuestionType]) -> dict[str, Any] | None:
    """A comparison of one earlier answer with a literal, as a show-if test with the same meaning; or None."""
    if isinstance(node, Call) and node.name == "selected":
        target, chosen = node.args
        if (
            isinstance(target, Ref)
            and kinds.get(target.name) is QuestionType.MULTIPLE_CHOICE
            and isinstance(chosen, Literal)
            and isinstance(chosen.value, str)
        ):
            return {"question": target.name, "includes": chosen.value}
        return None
    if not (isinstance(node, Binary) and isinstance(node.left, Ref) and isinstance(node.right, Literal)):
        return None
    question, value, kind = node.left.name, node.right.value, kinds.get(node.left.name)
    if kind is None:
        return None
    if value == "" and node.op in {"=", "!="}:
        return {"question": question, "answered": node.op == "!="}
    same_kind = _textual(kind) if isinstance(value, str) else kind in NUMBER_TYPES
    if not same_kind:
        return None
    if node.op == "=":
        return {"question": question, "equals": value}
    if node.op == "!=":
        return {"not": {"question": question, "equals": value}}
    if node.op in {">=", "<="} and not isinstance(value, str):
        return {"question": question, "gte" if node.op == ">=" else "lte": value}
    return None


def _operands(node: Node, op: str) -> list[Node]:
    if isinstance(node, Binary) and node.op == op:
        return _operands(node.left, op) + _operands(node.right, op)
    return [node]


def _merge_all(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`${q} != '' and not(${q} = 'v')` is the show-if `not_equals` (false when unanswered)."""
    merged: list[dict[str, Any]] = []
    for part in parts:
        previous = merged[-1] if merged else {}
        inner = part.get("not", {})
        if previous.get("answered") is True and "equals" in inner and inner.get("question") == previous["question"]:
            merged[-1] = {"question": previous["question"], "not_equals": inner["equals"]}
        else:
            merged.append(part)
    return merged


def _structured(node: Node, kinds: Mapping[str, QuestionType]) -> dict[str, Any] | None:
    if isinstance(node, Binary) and node.op in {"and", "or"}:
        parts = [_structured(n, kinds) for n in _operands(node, node.op)]
        if any(p is None for p in parts):
            return None
        found = [p for p in parts if p is not None]
        if node.op == "and":
            found = _merge_all(found)
            return found[0] if len(found) == 1 else {"all": found}
        questions = {p.get("question") for p in found}
        values = [p.get("equals") for p in found]
        same = len(questions) == 1 and all(set(p) == {"question", "equals"} for p in found)
        if same and all(isinstance(v, str) for v in values):
            return {"question": found[0]["question"], "in": values}
        return {"any": found}
    if isinstance(node, Call) and node.name == "not":
        inner = _structured(node.args[0], kinds)
        return {"not": inner} if inner is not None else None
    return _test(node, kinds)


def relevant_condition(text: str, kinds: Mapping[str, QuestionType]) -> dict[str, Any]:
    """An XLSForm `relevant` as show-if data: structured when it means exactly what a structured condition
    means, else the expression itself. Raises ExpressionError."""
    structured = _structured(parse(text, Where.RELEVANT).tree, kinds)
    return structured if structured is not None else {"expression": text}


def _literal(value: str | int | float) -> str:
    """A literal that reads back as the same value: 5 stays an int, 5.0 a float."""
    if isinstance(value, str):
        return f'"{value}"' if "'" in value else f"'{value}'"
    return repr(value)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def relevant_text(condition: Condition) -> str:
    """A show-if as an XLSForm `relevant` expression with the same meaning."""
    if condition.expression is not None:
        return condition.expression
    if condition.all is not None:
        return " and ".join(_operand(c) for c in condition.all)
    if condition.any is not None:
        return " or ".join(_operand(c) for c in condition.any)
    if condition.not_ is not None:
        return f"not({relevant_text(condition.not_)})"
    ref = f"${{{condition.question}}}"
    if condition.answered is not None:
        return f"{ref} != ''" if condition.answered else f"{ref} = ''"
    if condition.equals is not None:
        return f"{ref} = {_literal(condition.equals)}"
    if condition.not_equals is not None:
        return f"{ref} != '' and {ref} != {_literal(condition.not_equals)}"
    if condition.in_ is not None:
        return " or ".join(f"{ref} = {_literal(v)}" for v in condition.in_)
    if condition.includes is not None:
        return f"selected({ref}, {_literal(condition.includes)})"
    if condition.gte is not None:
        return f"{ref} >= {_number(condition.gte)}"
    assert condition.lte is not None
    return f"{ref} <= {_number(condition.lte)}"


def _operand(condition: Condition) -> str:
    """A part of an `and`/`or`, in brackets unless it is a single test."""
    simple = condition.question is not None and condition.not_equals is None and len(condition.in_ or []) < 2
    text = relevant_text(condition)
    return text if simple or condition.not_ is not None else f"({text})"


# ---------------------------------------------------------------- rows → definition data


def _choice_key(column: str) -> bool:
    return column not in {"list_name", "name", "label", "points", "image", "audio", "video", "media"}


@dataclass
class _Reader:
    sheets: dict[str, _Sheet]
    language: str | None
    problems: list[Problem] = field(default_factory=list)
    question_rows: dict[str, int] = field(default_factory=dict)
    group_rows: dict[str, int] = field(default_factory=dict)
    choice_rows: dict[tuple[str, int], int] = field(default_factory=dict)
    kinds: dict[str, QuestionType] = field(default_factory=dict)

    def problem(self, sheet: str, row: _Row | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(sheet, row.number if row else None, column, message))

    # cells

    def boolean(self, sheet: str, row: _Row, column: str) -> bool | None:
        text = row.text(column)
        if text is None:
            return None
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in FALSE_WORDS:
            return False
        self.problem(sheet, row, column, f"“{text}” không phải yes hoặc no")
        return None

    def number(self, sheet: str, row: _Row, column: str, whole: bool = False) -> float | int | None:
        value = row.raw(column)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        else:
            text = str(value).strip().replace(",", ".")
            number = float(text) if re.fullmatch(r"-?\d+(\.\d+)?", text) else math.nan
        if math.isnan(number) or (whole and not number.is_integer()):
            self.problem(sheet, row, column, f"“{value}” không phải một {'số nguyên' if whole else 'số'}")
            return None
        return int(number) if whole else number

    def day(self, sheet: str, row: _Row, column: str) -> str | None:
        value = row.raw(column)
        if value is None:
            return None
        if isinstance(value, datetime | date):
            return (value.date() if isinstance(value, datetime) else value).isoformat()
        text = str(value).strip()
        found = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
        try:
            day = date(int(found[3]), int(found[2]), int(found[1])) if found else date.fromisoformat(text)
        except ValueError:
            self.problem(sheet, row, column, f"“{text}” không phải một ngày (dạng 2026-12-31 hoặc 31/12/2026)")
            return None
        return day.isoformat()

    def flow(self, sheet: str, row: _Row, column: str) -> Any:
        """A cell holding YAML flow data, as in the YAML files: `[{min: 85, max: 100, points: 4}]`."""
        text = row.text(column)
        if text is None:
            return None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            example = _EXAMPLES[column]
            self.problem(sheet, row, column, f"không đọc được “{text}”; viết như trong tệp YAML, ví dụ {example}")
            return None

    def expression(self, row: _Row, column: str, where: Where, text: str | None = None) -> str | None:
        text = text if text is not None else row.text(column)
        if text is not None:
            try:
                parse(text, where)
            except ExpressionError as problem:
                self.problem(SURVEY, row, column, str(problem))
                return None
        return text

    # choices

    def choice_lists(self) -> dict[str, list[tuple[_Row, dict[str, Any]]]]:
        lists: dict[str, list[tuple[_Row, dict[str, Any]]]] = {}
        sheet = self.sheets.get(CHOICES)
        for row in sheet.rows if sheet else []:
            list_name, name, label = row.text("list_name"), row.text("name"), row.text("label", self.language)
            if list_name is None or name is None:
                self.problem(CHOICES, row, "list_name" if list_name is None else "name", "thiếu giá trị")
                continue
            if label is None:
                self.problem(CHOICES, row, "label", f"phương án “{name}” chưa có nhãn")
                continue
            choice: dict[str, Any] = {"value": name, "label": label}
            points = self.number(CHOICES, row, "points")
            if points is not None:
                choice["points"] = points
            attributes = {
                column: text
                for column, language in row.cells
                if language is None and _choice_key(column) and (text := row.text(column)) is not None
            }
            if attributes:
                choice["attributes"] = attributes
            lists.setdefault(list_name, []).append((row, choice))
        return lists

    # survey

    def questions(self, lists: Mapping[str, list[tuple[_Row, dict[str, Any]]]]) -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = []
        explicit: dict[str, Any] | None = None
        implicit: dict[str, Any] | None = None
        group_relevant: str | None = None
        for row in self.sheets[SURVEY].rows:
            typed = re.sub(
                r"^(begin|end|select) (group|repeat|one|multiple)\b",
                r"\1_\2",
                " ".join((row.text("type") or "").lower().split()),
            )
            kind, *args = typed.split() or [""]
            if kind == "begin_group":
                if explicit is not None:
                    nested = "nhóm lồng trong nhóm chưa được hỗ trợ: hãy tách thành các nhóm liền nhau"
                    self.problem(SURVEY, row, "type", nested)
                explicit = self.group(row)
                groups.append(explicit)
                group_relevant = self.expression(row, "relevant", Where.RELEVANT)
                implicit = None
            elif kind == "end_group":
                explicit, group_relevant = None, None
            elif kind in METADATA_TYPES:
                continue
            elif kind not in TYPES:
                unsupported = f"loại “{typed or '(trống)'}” chưa được hỗ trợ; dùng được: {SUPPORTED}"
                self.problem(SURVEY, row, "type", unsupported)
            else:
                if explicit is None and implicit is None:
                    implicit = {"code": f"chung_{len(groups) + 1}", "title": IMPLICIT_GROUP, "questions": []}
                    groups.append(implicit)
                target = explicit if explicit is not None else implicit
                assert target is not None
                question = self.question(row, kind, args, lists, group_relevant)
                if question is not None:
                    target["questions"].append(question)
        return groups

    def group(self, row: _Row) -> dict[str, Any]:
        code = row.text("name") or ""
        self.group_rows[code] = row.number
        group: dict[str, Any] = {"code": code, "title": row.text("label", self.language) or code, "questions": []}
        max_points = self.number(SURVEY, row, "max_points")
        if max_points is not None:
            group["max_points"] = max_points
        note = row.text("hint", self.language)
        if note is not None:
            group["note"] = note
        return group

    def question(
        self,
        row: _Row,
        kind: str,
        args: list[str],
        lists: Mapping[str, list[tuple[_Row, dict[str, Any]]]],
        group_relevant: str | None,
    ) -> dict[str, Any] | None:
        name = row.text("name")
        if name is None:
            self.problem(SURVEY, row, "name", "thiếu tên câu hỏi")
            return None
        qtype = TYPES[kind]
        label = row.text("label", self.language)
        if label is None and qtype is not QuestionType.CALCULATE:
            self.problem(SURVEY, row, "label", "thiếu nội dung câu hỏi")
        q: dict[str, Any] = {"id": name, "type": qtype.value, "text": label or name}
        self.question_rows.setdefault(name, row.number)
        self.texts(row, q)
        if qtype not in (QuestionType.NOTE, QuestionType.CALCULATE):
            q["required"] = bool(self.boolean(SURVEY, row, "required"))
        if kind == "image":
            q["accept"] = "image"
        if self.boolean(SURVEY, row, "percentage"):
            if qtype is not QuestionType.DECIMAL:
                self.problem(SURVEY, row, "percentage", "chỉ câu “decimal” mới là tỉ lệ phần trăm")
            q["type"] = QuestionType.PERCENTAGE.value
        if kind in ("select_one", "select_multiple"):
            self.choices(row, q, args, lists)
        elif args:
            self.problem(SURVEY, row, "type", f"loại “{kind}” không kèm tên danh sách")
        own = row.text("relevant")
        relevant = f"({group_relevant}) and ({own})" if group_relevant and own else group_relevant or own
        if relevant:
            try:
                q["show_if"] = relevant_condition(relevant, self.kinds)
            except ExpressionError as problem:
                self.problem(SURVEY, row, "relevant", str(problem))
        for column, where in (
            ("constraint", Where.CONSTRAINT),
            ("calculation", Where.CALCULATION),
            ("choice_filter", Where.CHOICE_FILTER),
        ):
            text = self.expression(row, column, where)
            if text is not None:
                q[column] = text
        self.extras(row, q)
        if q["type"] == QuestionType.TEXT.value:
            q.setdefault("max_length", DEFAULT_TEXT_LENGTH)
        self.kinds[name] = QuestionType(q["type"])
        return q

    def texts(self, row: _Row, q: dict[str, Any]) -> None:
        for column, key in (
            ("hint", "help"),
            ("required_message", "required_message"),
            ("constraint_message", "constraint_message"),
        ):
            text = row.text(column, self.language)
            if text is not None:
                q[key] = text

    def choices(
        self, row: _Row, q: dict[str, Any], args: list[str], lists: Mapping[str, list[tuple[_Row, dict[str, Any]]]]
    ) -> None:
        if len(args) != 1:
            self.problem(SURVEY, row, "type", f"cần đúng một tên danh sách sau “{q['type']}” (không hỗ trợ or_other)")
            return
        found = lists.get(args[0])
        if not found:
            self.problem(SURVEY, row, "type", f"trang “choices” không có danh sách “{args[0]}”")
            return
        choices = [dict(choice) for _, choice in found]
        for index, (choice_row, _) in enumerate(found):
            self.choice_rows[(q["id"], index)] = choice_row.number
        pairs = [(c["value"], c["label"]) for c in choices]
        plain = all(set(c) <= {"value", "label", "points"} for c in choices)
        yes_no = pairs == [("co", "Có"), ("khong", "Không")] and plain and row.text("choice_filter") is None
        if q["type"] == QuestionType.SINGLE_CHOICE.value and yes_no:
            q["type"] = QuestionType.YES_NO.value
            for choice, key in zip(choices, ("points_yes", "points_no"), strict=True):
                if "points" in choice:
                    q[key] = choice["points"]
            return
        q["choices"] = choices

    def extras(self, row: _Row, q: dict[str, Any]) -> None:
        """The project's own columns."""
        for column in ("code", "export_label"):
            text = row.text(column, self.language)
            if text is not None:
                q[column] = text
        for column in ("min", "max"):
            number = self.number(SURVEY, row, column)
            if number is not None:
                q[column] = number
        for column in ("max_length", "max_files"):
            whole = self.number(SURVEY, row, column, whole=True)
            if whole is not None:
                q[column] = whole
        for column in ("min_date", "max_date"):
            day = self.day(SURVEY, row, column)
            if day is not None:
                q[column] = day
        if self.boolean(SURVEY, row, "not_in_future"):
            q["not_in_future"] = True
        for column in ("bands", "measured_by"):
            data = self.flow(SURVEY, row, column)
            if data is not None:
                q[column] = data
        if row.raw("max_points") is not None:
            self.problem(SURVEY, row, "max_points", "điểm tối đa “max_points” đặt ở dòng begin_group của nhóm")

    # settings

    def settings(self, base: Questionnaire | None) -> dict[str, Any]:
        sheet = self.sheets.get(SETTINGS)
        row = sheet.rows[0] if sheet and sheet.rows else _Row(2, {})
        has = sheet.has if sheet else (lambda column: False)
        form_id = row.text("form_id")
        if form_id is None:
            self.problem(SETTINGS, row, "form_id", "thiếu mã bảng hỏi (ví dụ tu-danh-gia)")
        title = row.text("form_title") or (base.title if base else form_id)
        data: dict[str, Any] = {
            "id": form_id,
            "version": row.text("version") or (base.version if base else "1"),
            "title": title,
        }
        defaults: dict[str, Any] = {
            "short_title": title,
            "source": "Bảng hỏi XLSForm",
            "status": "template",
            "notice": None,
            "intro": DEFAULT_INTRO,
            "outro": DEFAULT_OUTRO,
            "classification": None,
        }
        inherited = base.model_dump(include=set(INHERITED)) if base else {}
        for column in INHERITED:
            if not has(column):
                if column in inherited:
                    data[column] = inherited[column]
                elif column == "kind":
                    self.problem(SETTINGS, row, "kind", "thiếu loại bảng hỏi: self_assessment hoặc citizen_survey")
                elif column != "anonymous":
                    data[column] = defaults[column]
            elif column == "anonymous":
                data[column] = bool(self.boolean(SETTINGS, row, column))
            elif column == "classification":
                data[column] = self.flow(SETTINGS, row, column)
            else:
                data[column] = row.text(column) or defaults.get(column)
        data.setdefault("anonymous", data.get("kind") == "citizen_survey")
        return data


_EXAMPLES = {
    "bands": "[{min: 85, max: 100, points: 4}, {min: 70, below: 85, points: 3}]",
    "measured_by": "{indicator: satisfaction, survey: khao-sat-nguoi-dan, question: hai_long, values: [hai_long]}",
    "classification": "[{name: Tốt, min_points: 80}, {name: Đạt, min_points: 50}]",
}


# ---------------------------------------------------------------- the model's verdict, at the row


def _pydantic_message(error: Mapping[str, Any]) -> str:
    kind, loc = error["type"], error["loc"]
    if kind == "string_pattern_mismatch":
        if loc == ("id",):
            return f"mã “{error['input']}” không hợp lệ: chữ thường không dấu, số và dấu “-”, bắt đầu bằng chữ"
        return (
            f"mã “{error['input']}” không hợp lệ: chữ thường không dấu, số và dấu “_”, bắt đầu bằng chữ, "
            "tối đa 24 ký tự"
        )
    if kind == "missing":
        return "thiếu giá trị"
    if kind == "literal_error":
        return f"“{error['input']}” không hợp lệ; dùng một trong: {error['ctx']['expected']}"
    if kind.startswith(("float", "int")):
        return f"“{error['input']}” không phải một số"
    if kind == "extra_forbidden":
        return f"không dùng được khóa “{loc[-1]}”"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return f"giá trị không hợp lệ ({error['msg']})"


def _column_in(problem: str) -> str | None:
    if "điều kiện hiển thị" in problem:
        return "relevant"
    named = [n for n in re.findall(r"'(\w+)'", problem) if n in SURVEY_COLUMNS]
    return named[0] if named else None


@dataclass
class _Located:
    """Where each part of the definition data came from, to put the model's problems back on rows."""

    reader: _Reader
    data: dict[str, Any]

    def question_at(self, group: int, index: int) -> str:
        return str(self.data["groups"][group]["questions"][index]["id"])

    def pydantic(self, error: Mapping[str, Any]) -> Problem:
        loc, message = tuple(error["loc"]), _pydantic_message(error)
        rows = self.reader
        if len(loc) >= 5 and loc[0] == "groups" and loc[2] == "questions":
            question = self.question_at(int(loc[1]), int(loc[3]))
            if loc[4] == "choices" and len(loc) >= 7:
                column = {"value": "name"}.get(str(loc[6]), str(loc[6]))
                return Problem(CHOICES, rows.choice_rows.get((question, int(loc[5]))), column, message)
            field_name = str(loc[4])
            column = COLUMN_OF_FIELD.get(field_name, field_name)
            return Problem(SURVEY, rows.question_rows.get(question), column, message)
        if len(loc) >= 3 and loc[0] == "groups":
            code = str(self.data["groups"][int(loc[1])].get("code"))
            column = {"code": "name", "title": "label", "note": "hint"}.get(str(loc[2]), str(loc[2]))
            return Problem(SURVEY, rows.group_rows.get(code), column, message)
        setting = str(loc[0]) if loc else None
        return Problem(SETTINGS, 2, SETTING_OF_FIELD.get(setting or "", setting), message)

    def definition(self, error: DefinitionError) -> Problem:
        if error.question_id is not None:
            row = self.reader.question_rows.get(error.question_id)
            return Problem(SURVEY, row, _column_in(error.problem), error.problem)
        group = re.match(r"nhóm '([^']*)'", error.problem)
        if group:
            return Problem(SURVEY, self.reader.group_rows.get(group[1]), "max_points", error.problem)
        return Problem(SURVEY if "nhóm" in error.problem else SETTINGS, None, None, error.problem)


def read_xlsform(content: bytes, source: str, installed: Mapping[str, Questionnaire] | None = None) -> Questionnaire:
    """The questionnaire an XLSForm workbook describes, or FormError listing every problem found.

    `installed` are the questionnaires in use: the one with the same id is the version this one replaces (its
    settings fill in columns the workbook does not have), and survey references (`measured_by`) are checked
    across all of them."""
    installed = installed or {}
    try:
        sheets = _sheets(content)
    except Exception as exc:  # openpyxl raises many kinds on files that are not workbooks
        problem = Problem("tệp", None, None, f"không mở được tệp Excel .xlsx ({type(exc).__name__})")
        raise FormError(source, [problem]) from exc
    if SURVEY not in sheets:
        raise FormError(source, [Problem(SURVEY, None, None, "không có trang “survey” (tên trang viết thường)")])
    refused = check_with_pyxform(content, sheets)
    if refused:
        raise FormError(source, refused)
    settings_sheet = sheets.get(SETTINGS)
    default = settings_sheet.rows[0].text("default_language") if settings_sheet and settings_sheet.rows else None
    reader = _Reader(sheets, _language(sheets, default))
    lists = reader.choice_lists()
    data = {"groups": reader.questions(lists)}
    form_id = settings_sheet.rows[0].text("form_id") if settings_sheet and settings_sheet.rows else None
    data.update(reader.settings(installed.get(form_id or "")))
    if reader.problems:
        raise FormError(source, reader.problems)
    located = _Located(reader, data)
    try:
        qn = validate(Questionnaire.model_validate(data), source)
    except ValidationError as exc:
        raise FormError(source, [located.pydantic(e) for e in exc.errors()]) from exc
    except DefinitionError as exc:
        raise FormError(source, [located.definition(exc)]) from exc
    problems = []
    for qn_id, question_id, said in measure_problems({**installed, qn.id: qn}):
        if qn_id == qn.id:
            problems.append(Problem(SURVEY, reader.question_rows.get(question_id), "measured_by", said))
        else:
            needed = f"bảng hỏi “{qn_id}”, câu “{question_id}” cần bảng này: {said}"
            problems.append(Problem(SURVEY, None, None, needed))
    if problems:
        raise FormError(source, problems)
    return qn


# ---------------------------------------------------------------- writing


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
    types = {
        QuestionType.SINGLE_CHOICE: f"select_one {q.id}",
        QuestionType.YES_NO: f"select_one {q.id}",
        QuestionType.MULTIPLE_CHOICE: f"select_multiple {q.id}",
        QuestionType.PERCENTAGE: "decimal",
        QuestionType.EVIDENCE: "image" if q.accept == "image" else "file",
    }
    own = q.model_dump(exclude_defaults=True, exclude={"group"})
    cells: dict[str, Any] = {
        "type": types.get(q.type, q.type.value),
        "name": q.id,
        "label": q.text,
        "hint": q.help,
        "required": _yes(q.required) if q.answerable else None,
        "relevant": relevant_text(q.show_if) if q.show_if is not None else None,
        "percentage": "yes" if q.type is QuestionType.PERCENTAGE else None,
        "not_in_future": "yes" if q.not_in_future else None,
        "bands": _flow(own["bands"]) if q.bands else None,
        "measured_by": _flow(own["measured_by"]) if q.measured_by else None,
    }
    for column in (
        "required_message",
        "constraint",
        "constraint_message",
        "calculation",
        "choice_filter",
        "code",
        "min",
        "max",
        "max_length",
        "min_date",
        "max_date",
        "max_files",
        "export_label",
    ):
        if column in own:
            cells[column] = _tidy(own[column])
    choices = [
        {"list_name": q.id, "name": c.value, "label": c.label, "points": _tidy(c.points), **c.attributes}
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
    return None if value is None or value == "" else _escape(value)


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
