"""Workbook rows mapped onto the definition data the YAML files hold, and the model's verdict put back on rows."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml
from pydantic import ValidationError

from conversations.definition import Questionnaire, QuestionType, definition_problems, measure_problems
from conversations.definition_errors import DefinitionCode, DefinitionProblem
from conversations.expressions import ExpressionError, Where, parse
from conversations.question_types import KINDS
from conversations.text import fold
from conversations.xlsform.layout import (
    CHOICES,
    COLUMN_OF_FIELD,
    DEFAULT_INTRO,
    DEFAULT_OUTRO,
    DEFAULT_TEXT_LENGTH,
    FALSE_WORDS,
    GROUP_COLUMN_OF_FIELD,
    IMPLICIT_GROUP,
    INHERITED,
    METADATA_TYPES,
    SETTING_OF_FIELD,
    SETTINGS,
    SUPPORTED,
    SURVEY,
    TRUE_WORDS,
    TYPES,
)
from conversations.xlsform.problems import FormCode, FormError, Problem, Reading
from conversations.xlsform.pyxform_errors import check_with_pyxform
from conversations.xlsform.relevant import relevant_condition
from conversations.xlsform.workbook import Row, Sheet, WorkbookError, label_language, read_sheets


def _choice_key(column: str) -> bool:
    return column not in {"list_name", "name", "label", "points", "exclusive", "image", "audio", "video", "media"}


@dataclass
class _Reader:
    sheets: dict[str, Sheet]
    language: str | None
    problems: list[Problem] = field(default_factory=list)
    notices: list[Problem] = field(default_factory=list)
    question_rows: dict[str, int] = field(default_factory=dict)
    group_rows: dict[str, int] = field(default_factory=dict)
    choice_rows: dict[tuple[str, int], int] = field(default_factory=dict)
    kinds: dict[str, QuestionType] = field(default_factory=dict)

    def problem(self, sheet: str, row: Row | None, column: str | None, message: str, code: str) -> None:
        self.problems.append(Problem(sheet, row.number if row else None, column, message, code))

    # cells

    def boolean(self, sheet: str, row: Row, column: str) -> bool | None:
        text = row.text(column)
        if text is None:
            return None
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in FALSE_WORDS:
            return False
        self.problem(sheet, row, column, f"“{text}” không phải yes hoặc no", FormCode.CELL_NOT_BOOLEAN)
        return None

    def number(self, sheet: str, row: Row, column: str, whole: bool = False) -> float | int | None:
        value = row.raw(column)
        if value is None:
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
        else:
            text = str(value).strip().replace(",", ".")
            number = float(text) if re.fullmatch(r"-?\d+(\.\d+)?", text) else math.nan
        if math.isnan(number) or (whole and not number.is_integer()):
            kind = "số nguyên" if whole else "số"
            self.problem(sheet, row, column, f"“{value}” không phải một {kind}", FormCode.CELL_NOT_NUMBER)
            return None
        return int(number) if whole else number

    def day(self, sheet: str, row: Row, column: str) -> str | None:
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
            said = f"“{text}” không phải một ngày (dạng 2026-12-31 hoặc 31/12/2026)"
            self.problem(sheet, row, column, said, FormCode.CELL_NOT_DATE)
            return None
        return day.isoformat()

    def flow(self, sheet: str, row: Row, column: str) -> Any:
        """A cell holding YAML flow data, as in the YAML files: `[{min: 85, max: 100, points: 4}]`."""
        text = row.text(column)
        if text is None:
            return None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError:
            example = _EXAMPLES[column]
            said = f"không đọc được “{text}”; viết như trong tệp YAML, ví dụ {example}"
            self.problem(sheet, row, column, said, FormCode.CELL_NOT_DATA)
            return None

    def expression(self, row: Row, column: str, where: Where, text: str | None = None) -> str | None:
        text = text if text is not None else row.text(column)
        if text is not None:
            try:
                parse(text, where)
            except ExpressionError as problem:
                self.problem(SURVEY, row, column, str(problem), DefinitionCode.EXPRESSION_INVALID)
                return None
        return text

    # choices

    def choice_lists(self) -> dict[str, list[tuple[Row, dict[str, Any]]]]:
        lists: dict[str, list[tuple[Row, dict[str, Any]]]] = {}
        sheet = self.sheets.get(CHOICES)
        for row in sheet.rows if sheet else []:
            list_name, name, label = row.text("list_name"), row.text("name"), row.text("label", self.language)
            if list_name is None or name is None:
                column = "list_name" if list_name is None else "name"
                self.problem(CHOICES, row, column, "thiếu giá trị", FormCode.CELL_MISSING)
                continue
            if label is None:
                self.problem(CHOICES, row, "label", f"phương án “{name}” chưa có nhãn", FormCode.CHOICE_NO_LABEL)
                continue
            choice: dict[str, Any] = {"value": name, "label": label}
            points = self.number(CHOICES, row, "points")
            if points is not None:
                choice["points"] = points
            if self.boolean(CHOICES, row, "exclusive"):
                choice["exclusive"] = True
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

    def questions(self, lists: Mapping[str, list[tuple[Row, dict[str, Any]]]]) -> list[dict[str, Any]]:
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
            typed = re.sub(r"^select all that apply\b", "select_multiple", typed)  # pyxform's older spellings
            typed = re.sub(r"^(select_one|select_multiple) from\b", r"\1", typed)
            kind, *args = typed.split() or [""]
            if kind == "begin_group":
                if explicit is not None:
                    nested = "nhóm lồng trong nhóm chưa được hỗ trợ: hãy tách thành các nhóm liền nhau"
                    self.problem(SURVEY, row, "type", nested, FormCode.GROUP_NESTED)
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
                self.problem(SURVEY, row, "type", unsupported, FormCode.TYPE_UNSUPPORTED)
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

    def group(self, row: Row) -> dict[str, Any]:
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
        row: Row,
        kind: str,
        args: list[str],
        lists: Mapping[str, list[tuple[Row, dict[str, Any]]]],
        group_relevant: str | None,
    ) -> dict[str, Any] | None:
        name = row.text("name")
        if name is None:
            self.problem(SURVEY, row, "name", "thiếu tên câu hỏi", FormCode.QUESTION_NO_NAME)
            return None
        qtype = TYPES[kind]
        label = row.text("label", self.language)
        if label is None and not KINDS[qtype].calculated:
            self.problem(SURVEY, row, "label", "thiếu nội dung câu hỏi", FormCode.QUESTION_NO_LABEL)
        q: dict[str, Any] = {"id": name, "type": qtype.value, "text": label or name}
        self.question_rows.setdefault(name, row.number)
        self.texts(row, q)
        if KINDS[qtype].answerable:
            q["required"] = bool(self.boolean(SURVEY, row, "required"))
        if kind == "image":
            q["accept"] = "image"
        if self.boolean(SURVEY, row, "percentage"):
            if qtype is not QuestionType.DECIMAL:
                said = "chỉ câu “decimal” mới là tỉ lệ phần trăm"
                self.problem(SURVEY, row, "percentage", said, FormCode.PERCENTAGE_TYPE)
            q["type"] = QuestionType.PERCENTAGE.value
        if kind in ("select_one", "select_multiple"):
            self.choices(row, kind, q, args, lists)
        elif args:
            self.problem(SURVEY, row, "type", f"loại “{kind}” không kèm tên danh sách", FormCode.TYPE_LIST)
        own = row.text("relevant")
        relevant = f"({group_relevant}) and ({own})" if group_relevant and own else group_relevant or own
        if relevant:
            try:
                q["show_if"] = relevant_condition(relevant, self.kinds)
            except ExpressionError as problem:
                self.problem(SURVEY, row, "relevant", str(problem), DefinitionCode.EXPRESSION_INVALID)
        for column, where in (
            ("constraint", Where.CONSTRAINT),
            ("calculation", Where.CALCULATION),
            ("choice_filter", Where.CHOICE_FILTER),
        ):
            text = self.expression(row, column, where)
            if text is not None:
                q[column] = text
        self.extras(row, q)
        if KINDS[QuestionType(q["type"])].text:
            q.setdefault("max_length", DEFAULT_TEXT_LENGTH)
        self.kinds[name] = QuestionType(q["type"])
        return q

    def texts(self, row: Row, q: dict[str, Any]) -> None:
        for column, key in (
            ("hint", "help"),
            ("required_message", "required_message"),
            ("constraint_message", "constraint_message"),
        ):
            text = row.text(column, self.language)
            if text is not None:
                q[key] = text

    def choices(
        self,
        row: Row,
        kind: str,
        q: dict[str, Any],
        args: list[str],
        lists: Mapping[str, list[tuple[Row, dict[str, Any]]]],
    ) -> None:
        if len(args) != 1:
            said = f"cần đúng một tên danh sách sau “{kind}” (không hỗ trợ or_other)"
            self.problem(SURVEY, row, "type", said, FormCode.TYPE_LIST)
            return
        found = lists.get(args[0])
        if not found:
            said = f"trang “choices” không có danh sách “{args[0]}”"
            self.problem(SURVEY, row, "type", said, FormCode.LIST_MISSING)
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

    def extras(self, row: Row, q: dict[str, Any]) -> None:
        """The project's own columns."""
        cell_readers: tuple[tuple[tuple[str, ...], Callable[[str], Any]], ...] = (
            (("code", "export_label"), lambda column: row.text(column, self.language)),
            (("min", "max"), lambda column: self.number(SURVEY, row, column)),
            (("max_length", "max_files"), lambda column: self.number(SURVEY, row, column, whole=True)),
            (("min_date", "max_date"), lambda column: self.day(SURVEY, row, column)),
            (("not_in_future", "consent"), lambda column: self.boolean(SURVEY, row, column) or None),
            (("bands", "measured_by"), lambda column: self.flow(SURVEY, row, column)),
        )
        for columns, read in cell_readers:
            for column in columns:
                value = read(column)
                if value is not None:
                    q[column] = value
        if row.raw("max_points") is not None:
            said = "điểm tối đa “max_points” đặt ở dòng begin_group của nhóm"
            self.problem(SURVEY, row, "max_points", said, FormCode.GROUP_POINTS_PLACE)

    # settings

    def notice(self, column: str, message: str, code: FormCode) -> None:
        self.notices.append(Problem(SETTINGS, 2, column, message, code))

    def settings(self, installed: Mapping[str, Questionnaire], source: str) -> dict[str, Any]:
        """The settings row; the questionnaire in use with the same id (the version this one replaces) fills in
        the columns it does not have."""
        sheet = self.sheets.get(SETTINGS)
        row = sheet.rows[0] if sheet and sheet.rows else Row(2, {})
        has = sheet.has if sheet else (lambda column: False)
        form_id = row.text("form_id")
        if form_id is None:  # as pyxform does: the file's name
            form_id = _id_from(source)
            self.notice("form_id", NO_FORM_ID.format(id=form_id), FormCode.SETTINGS_NO_ID)
        base = installed.get(form_id)
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
                    data[column] = "citizen_survey"
                    self.notice("kind", NO_KIND, FormCode.SETTINGS_NO_KIND)
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


NO_FORM_ID = "không có mã bảng hỏi (ô form_id): bot dùng mã “{id}” lấy từ tên tệp"
NO_KIND = (
    "không có loại bảng hỏi (cột kind): bot đọc đây là phiếu khảo sát người dân (citizen_survey); "
    "nếu là phiếu tự đánh giá của xã, thêm cột kind ghi self_assessment"
)
NO_QUESTION = "bảng hỏi không có câu nào để trả lời (chỉ có ghi chú, câu tính toán hoặc loại câu bot chưa hỗ trợ)"


def _id_from(source: str) -> str:
    """A questionnaire id made of a file's name: "Khảo sát 2026.xlsx" → "khao-sat-2026"."""
    stem = fold(source.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    words = re.sub(r"[^a-z0-9]+", "-", stem).strip("-")
    words = words if words[:1].isalpha() else f"bang-hoi-{words}".strip("-")
    return words[:40].rstrip("-")


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


@dataclass
class _Located:
    """Where each part of the definition data came from, to put the model's problems back on rows."""

    reader: _Reader
    data: dict[str, Any]

    def question_at(self, group: int, index: int) -> str:
        return str(self.data["groups"][group]["questions"][index]["id"])

    def pydantic(self, error: Mapping[str, Any]) -> Problem:
        loc, message, code = tuple(error["loc"]), _pydantic_message(error), FormCode.VALUE_INVALID
        rows = self.reader
        if len(loc) >= 5 and loc[0] == "groups" and loc[2] == "questions":
            question = self.question_at(int(loc[1]), int(loc[3]))
            if loc[4] == "choices" and len(loc) >= 7:
                column = {"value": "name"}.get(str(loc[6]), str(loc[6]))
                return Problem(CHOICES, rows.choice_rows.get((question, int(loc[5]))), column, message, code)
            return self.place(str(loc[4]), question, None, message, code)
        if len(loc) >= 3 and loc[0] == "groups":
            return self.place(str(loc[2]), None, str(self.data["groups"][int(loc[1])].get("code")), message, code)
        return self.place(str(loc[0]) if loc else None, None, None, message, code)

    def coded(self, problem: DefinitionProblem) -> Problem:
        """A problem of the model's checks at the row and column its field came from."""
        return self.place(problem.field, problem.question, problem.group, problem.message, problem.code)

    def place(
        self, field_name: str | None, question: str | None, group: str | None, message: str, code: str
    ) -> Problem:
        """A problem of a field of a question, of a group, or of the questionnaire, on its row and column."""
        if question is not None:
            column = COLUMN_OF_FIELD.get(field_name or "", field_name)
            return Problem(SURVEY, self.reader.question_rows.get(question), column, message, code)
        if group is not None:
            column = GROUP_COLUMN_OF_FIELD.get(field_name or "", field_name)
            return Problem(SURVEY, self.reader.group_rows.get(group), column, message, code)
        return Problem(SETTINGS, 2, SETTING_OF_FIELD.get(field_name or "", field_name), message, code)


_SHEET_ORDER = {SURVEY: 0, CHOICES: 1, SETTINGS: 2}
_SAID_BY_PYXFORM: dict[str, str] = {
    DefinitionCode.QUESTION_DUPLICATE: f"{FormCode.PYXFORM}.NAMES_001",
    DefinitionCode.CHOICES_DUPLICATE: f"{FormCode.PYXFORM}.NAMES_007",
}
"""The model's checks that pyxform makes too, at a better row (the second of the two)."""


def _all_at_once(*found: list[Problem]) -> list[Problem]:
    """Every finder's problems together, by sheet and row; a problem an earlier finder already spoke of (on the
    same row, or the same check) is left out: pyxform and the reader both miss a choice list."""
    kept: list[Problem] = []
    for problems in found:
        spoken = {(p.sheet, p.row) for p in kept if p.row is not None}
        codes = {p.code for p in kept}
        kept += [p for p in problems if (p.sheet, p.row) not in spoken and _SAID_BY_PYXFORM.get(p.code) not in codes]
    return sorted(kept, key=lambda p: (_SHEET_ORDER.get(p.sheet, 3), p.row or 0))


def read_xlsform(content: bytes, source: str, installed: Mapping[str, Questionnaire] | None = None) -> Reading:
    """The questionnaire an XLSForm workbook describes and what was assumed for it, or FormError listing every
    problem found at once: pyxform's, the reader's and the model's.

    `installed` are the questionnaires in use: the one with the same id is the version this one replaces (its
    settings fill in columns the workbook does not have), and survey references (`measured_by`) are checked
    across all of them."""
    installed = installed or {}
    try:
        sheets = read_sheets(content)
    except WorkbookError as exc:
        raise FormError(source, [Problem("tệp", None, None, str(exc), FormCode.FILE)]) from None
    if SURVEY not in sheets:
        said = "không có trang “survey” (tên trang viết thường)"
        raise FormError(source, [Problem(SURVEY, None, None, said, FormCode.SHEET_MISSING)])
    refused = check_with_pyxform(content, sheets)
    settings_sheet = sheets.get(SETTINGS)
    first = settings_sheet.rows[0] if settings_sheet and settings_sheet.rows else None
    reader = _Reader(sheets, label_language(sheets, first.text("default_language") if first else None))
    lists = reader.choice_lists()
    data = {"groups": reader.questions(lists)}
    data.update(reader.settings(installed, source))
    asks_nothing = (QuestionType.NOTE.value, QuestionType.CALCULATE.value)
    if all(q["type"] in asks_nothing for g in data["groups"] for q in g["questions"]):
        reader.problem(SURVEY, None, None, NO_QUESTION, FormCode.NO_QUESTION)
    located = _Located(reader, data)
    try:
        qn = Questionnaire.model_validate(data)
    except ValidationError as exc:
        model = [located.pydantic(e) for e in exc.errors()]
        raise FormError(source, _all_at_once(refused, reader.problems, model)) from None
    checked = [located.coded(p) for p in definition_problems(qn)]
    for qn_id, broken in measure_problems({**installed, qn.id: qn}):
        if qn_id == qn.id:
            checked.append(located.coded(broken))
        else:
            needed = f"bảng hỏi “{qn_id}”, câu “{broken.question}” cần bảng này: {broken.message}"
            checked.append(Problem(SURVEY, None, None, needed, broken.code))
    problems = _all_at_once(refused, reader.problems, checked)
    if problems:
        raise FormError(source, problems)
    return Reading(qn, reader.notices)
