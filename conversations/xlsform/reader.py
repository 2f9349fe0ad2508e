"""Workbook rows mapped onto the definition data the YAML files hold, and the model's verdict put back on rows."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import yaml
from pydantic import ValidationError

from conversations.definition import Questionnaire, QuestionType, definition_problems, measure_problems
from conversations.definition_errors import DefinitionProblem
from conversations.expressions import ExpressionError, Where, parse
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
from conversations.xlsform.problems import FormError, Problem
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
    question_rows: dict[str, int] = field(default_factory=dict)
    group_rows: dict[str, int] = field(default_factory=dict)
    choice_rows: dict[tuple[str, int], int] = field(default_factory=dict)
    kinds: dict[str, QuestionType] = field(default_factory=dict)

    def problem(self, sheet: str, row: Row | None, column: str | None, message: str) -> None:
        self.problems.append(Problem(sheet, row.number if row else None, column, message))

    # cells

    def boolean(self, sheet: str, row: Row, column: str) -> bool | None:
        text = row.text(column)
        if text is None:
            return None
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in FALSE_WORDS:
            return False
        self.problem(sheet, row, column, f"“{text}” không phải yes hoặc no")
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
            self.problem(sheet, row, column, f"“{value}” không phải một {'số nguyên' if whole else 'số'}")
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
            self.problem(sheet, row, column, f"“{text}” không phải một ngày (dạng 2026-12-31 hoặc 31/12/2026)")
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
            self.problem(sheet, row, column, f"không đọc được “{text}”; viết như trong tệp YAML, ví dụ {example}")
            return None

    def expression(self, row: Row, column: str, where: Where, text: str | None = None) -> str | None:
        text = text if text is not None else row.text(column)
        if text is not None:
            try:
                parse(text, where)
            except ExpressionError as problem:
                self.problem(SURVEY, row, column, str(problem))
                return None
        return text

    # choices

    def choice_lists(self) -> dict[str, list[tuple[Row, dict[str, Any]]]]:
        lists: dict[str, list[tuple[Row, dict[str, Any]]]] = {}
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
        self, row: Row, q: dict[str, Any], args: list[str], lists: Mapping[str, list[tuple[Row, dict[str, Any]]]]
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

    def extras(self, row: Row, q: dict[str, Any]) -> None:
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
        for column in ("not_in_future", "consent"):
            if self.boolean(SURVEY, row, column):
                q[column] = True
        for column in ("bands", "measured_by"):
            data = self.flow(SURVEY, row, column)
            if data is not None:
                q[column] = data
        if row.raw("max_points") is not None:
            self.problem(SURVEY, row, "max_points", "điểm tối đa “max_points” đặt ở dòng begin_group của nhóm")

    # settings

    def settings(self, base: Questionnaire | None) -> dict[str, Any]:
        sheet = self.sheets.get(SETTINGS)
        row = sheet.rows[0] if sheet and sheet.rows else Row(2, {})
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
            column = GROUP_COLUMN_OF_FIELD.get(str(loc[2]), str(loc[2]))
            return Problem(SURVEY, rows.group_rows.get(code), column, message)
        setting = str(loc[0]) if loc else None
        return Problem(SETTINGS, 2, SETTING_OF_FIELD.get(setting or "", setting), message)

    def coded(self, problem: DefinitionProblem) -> Problem:
        """A problem of the model's checks at the row and column its field came from."""
        field_name = problem.field
        if problem.question is not None:
            column = COLUMN_OF_FIELD.get(field_name or "", field_name)
            return Problem(SURVEY, self.reader.question_rows.get(problem.question), column, problem.message)
        if problem.group is not None:
            column = GROUP_COLUMN_OF_FIELD.get(field_name or "", field_name)
            return Problem(SURVEY, self.reader.group_rows.get(problem.group), column, problem.message)
        return Problem(SETTINGS, 2, SETTING_OF_FIELD.get(field_name or "", field_name), problem.message)


def read_xlsform(content: bytes, source: str, installed: Mapping[str, Questionnaire] | None = None) -> Questionnaire:
    """The questionnaire an XLSForm workbook describes, or FormError listing every problem found.

    `installed` are the questionnaires in use: the one with the same id is the version this one replaces (its
    settings fill in columns the workbook does not have), and survey references (`measured_by`) are checked
    across all of them."""
    installed = installed or {}
    try:
        sheets = read_sheets(content)
    except WorkbookError as exc:
        raise FormError(source, [Problem("tệp", None, None, str(exc))]) from None
    if SURVEY not in sheets:
        raise FormError(source, [Problem(SURVEY, None, None, "không có trang “survey” (tên trang viết thường)")])
    refused = check_with_pyxform(content, sheets)
    if refused:
        raise FormError(source, refused)
    settings_sheet = sheets.get(SETTINGS)
    default = settings_sheet.rows[0].text("default_language") if settings_sheet and settings_sheet.rows else None
    reader = _Reader(sheets, label_language(sheets, default))
    lists = reader.choice_lists()
    data = {"groups": reader.questions(lists)}
    form_id = settings_sheet.rows[0].text("form_id") if settings_sheet and settings_sheet.rows else None
    data.update(reader.settings(installed.get(form_id or "")))
    if reader.problems:
        raise FormError(source, reader.problems)
    located = _Located(reader, data)
    try:
        qn = Questionnaire.model_validate(data)
    except ValidationError as exc:
        raise FormError(source, [located.pydantic(e) for e in exc.errors()]) from exc
    problems = [located.coded(p) for p in definition_problems(qn)]
    for qn_id, broken in measure_problems({**installed, qn.id: qn}):
        if qn_id == qn.id:
            problems.append(located.coded(broken))
        else:
            needed = f"bảng hỏi “{qn_id}”, câu “{broken.question}” cần bảng này: {broken.message}"
            problems.append(Problem(SURVEY, None, None, needed))
    if problems:
        raise FormError(source, problems)
    return qn
