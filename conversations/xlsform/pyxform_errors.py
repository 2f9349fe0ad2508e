"""pyxform's verdict on a workbook, in Vietnamese and at its row."""

from __future__ import annotations

import re
from collections.abc import Mapping
from string import Formatter
from typing import Any

from pyxform.errors import ErrorCode, PyXFormError
from pyxform.xls2xform import convert

from conversations.xlsform.layout import SURVEY
from conversations.xlsform.problems import Problem
from conversations.xlsform.workbook import Sheet

_NAME_RULE = "tên không hợp lệ: bắt đầu bằng chữ cái, chỉ gồm chữ không dấu, số và dấu gạch dưới"
_ENTITIES = "bảng hỏi dùng danh sách thực thể (trang “entities”, cột “save_to”) của ODK; bot không dùng tính năng này"
_BY_CODE: dict[ErrorCode, str] = {
    ErrorCode.HEADER_001: "trang “{sheet_name}” thiếu dòng tiêu đề cột (type, name, label…) ở dòng 1",
    ErrorCode.HEADER_002: "trang “{sheet_name}” có hai cột cùng nghĩa, “{other}” và “{header}”: bỏ một cột",
    ErrorCode.HEADER_003: "trang “{sheet_name}” thiếu cột bắt buộc {missing}",
    ErrorCode.HEADER_004: "tiêu đề cột “{column}” để trống hoặc có dấu cách",
    ErrorCode.LABEL_001: "phương án chưa có nhãn ở cột “label”",
    ErrorCode.NAMES_001: "tên “{value}” bị trùng với một câu hoặc nhóm khác",
    ErrorCode.NAMES_002: "tên “{value}” chỉ khác một tên khác ở chữ hoa, chữ thường: hãy đặt tên khác hẳn",
    ErrorCode.NAMES_003: "nhóm lặp không được đặt tên “{value}” (tên gốc của biểu mẫu)",
    ErrorCode.NAMES_004: "tên nhóm lặp “{value}” bị trùng",
    ErrorCode.NAMES_005: "tên “meta” dành cho thông tin của biểu mẫu: hãy đặt tên khác",
    ErrorCode.NAMES_006: "phương án thiếu mã ở cột “name”",
    ErrorCode.NAMES_007: "hai phương án trùng mã “name” trong cùng một danh sách",
    ErrorCode.NAMES_008: _NAME_RULE,
    ErrorCode.NAMES_009: "“{name}”: " + _NAME_RULE,
    ErrorCode.NAMES_010: "tên ở đây không được bắt đầu bằng hai dấu “_”",
    ErrorCode.NAMES_011: "tên ở đây không được có dấu chấm",
    ErrorCode.NAMES_012: "tên ở đây không được là “name” hay “label”",
    ErrorCode.NAMES_013: "không thấy trang “{sheet}”, chỉ có trang tên gần giống: {candidates} (tên trang viết thường)",
    ErrorCode.PYREF_001: "tham chiếu viết sai: viết ${{tên_câu}}, bắt đầu bằng “${{” và kết thúc bằng “}}”",
    ErrorCode.PYREF_002: "các tham chiếu ${{…}} phải cách nhau bằng dấu phẩy",
    ErrorCode.PYREF_003: "biểu thức nhắc tới ${{{q}}}, nhưng không có câu hỏi nào tên “{q}”",
    ErrorCode.PYREF_004: "biểu thức nhắc tới ${{{q}}}, nhưng có nhiều câu hỏi tên “{q}”",
    ErrorCode.SURVEY_001: "end_{type} không có begin_{type} tương ứng",
    ErrorCode.SURVEY_002: "nhóm “{name}” mở bằng begin_{type} nhưng không có end_{type}",
    ErrorCode.SURVEY_004: "cột “parameters” phải viết dạng khoa1=giatri1 khoa2=giatri2",
    ErrorCode.SURVEY_005: "cột “parameters” có khóa “{rejected}” không dùng được (dùng được: {accepted})",
}
"""pyxform's coded errors in Vietnamese, with the same {fields} as its own messages."""
_BY_PREFIX = {
    "ENTITY": _ENTITIES,
    "NAMES_014": _ENTITIES,
    "NAMES_015": _ENTITIES,
    "HEADER_005": _ENTITIES,
    "RANGE": "cột “parameters” của câu “range” không hợp lệ (bot chưa hỗ trợ loại câu range)",
    "SURVEY": "cột “parameters” của câu vị trí, đường đi hoặc vùng bản đồ không hợp lệ",
    "INTERNAL": "pyxform gặp lỗi nội bộ khi đọc tệp: hãy kiểm tra lại các dòng vừa sửa",
}
"""Whole families of codes this project has no use for, in one sentence each."""
_FORMAT = Formatter()
_UNCODED: list[tuple[re.Pattern[str], str]] = [
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


def coded_message(code: ErrorCode, context: Mapping[str, Any]) -> str | None:
    """pyxform's coded error in Vietnamese, its {fields} filled from the error's context."""
    template = _BY_CODE.get(code) or next(
        (said for prefix, said in _BY_PREFIX.items() if code.name.startswith(prefix)), None
    )
    if template is None:
        return None
    fields = {name for _, name, _, _ in _FORMAT.parse(template) if name}
    return template.format(**{name: context.get(name, "?") for name in fields})


def _pyxform_problem(error: PyXFormError, sheets: Mapping[str, Sheet]) -> Problem:
    """pyxform's refusal in Vietnamese, at its row: by its code when it has one, else by its English message."""
    text = str(error)
    context = error.context or {}
    row_match = re.search(r"\[row : (\d+)\]", text)
    row = int(row_match[1]) if row_match else context.get("row")
    sheet_match = re.search(r"On the '(\w+)' sheet|for sheet: '(\w+)'", text)
    sheet = (sheet_match[1] or sheet_match[2]) if sheet_match else context.get("sheet", SURVEY)
    column_match = re.search(r"the '(\w+)' value", text)
    column = column_match[1] if column_match else context.get("column")
    message = coded_message(error.code, context) if error.code is not None else None
    named = context.get("q") or context.get("name") or context.get("value")
    if message is None:
        for pattern, template in _UNCODED:
            found = pattern.search(text)
            if found:
                message = template.format(**found.groupdict())
                named = found.groupdict().get("x")
                break
        else:
            said = re.sub(r"^\[row : \d+\] ", "", text)
            message = f"pyxform (công cụ kiểm tra XLSForm) không nhận tệp: {said}"
    if row is None and isinstance(named, str):
        row = _row_naming(sheets, named)
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
