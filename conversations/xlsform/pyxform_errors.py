"""pyxform's verdict on a workbook, in Vietnamese and at its row."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pyxform.errors import PyXFormError
from pyxform.xls2xform import convert

from conversations.xlsform.layout import SURVEY
from conversations.xlsform.problems import Problem
from conversations.xlsform.workbook import Sheet

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


def _pyxform_problem(error: PyXFormError, sheets: Mapping[str, Sheet]) -> Problem:
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


def _row_naming(sheets: Mapping[str, Sheet], word: str) -> int | None:
    """The survey row whose name or type is `word`, for pyxform messages that give no row."""
    survey = sheets.get(SURVEY)
    for row in survey.rows if survey else []:
        if word in (row.text("name"), row.text("type")):
            return row.number
    return None


def check_with_pyxform(content: bytes, sheets: Mapping[str, Sheet]) -> list[Problem]:
    try:
        convert(content, warnings=[])
    except PyXFormError as error:
        return [_pyxform_problem(error, sheets)]
    return []
