"""pyxform's verdict on a workbook, in Vietnamese and at its row.

pyxform raises most of its refusals from an `ErrorCode` template, some with the code and its context, others as the
formatted English sentence: both are read back to the code and its fields (the template turned into a pattern), and
translated by the code. The few sentences with no code have their own patterns; anything else gets a Vietnamese
sentence that quotes pyxform. The row comes from the context, else from the names the message quotes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from string import Formatter
from typing import Any

from pyxform.errors import ErrorCode, PyXFormError
from pyxform.xls2xform import convert

from conversations.xlsform.layout import SURVEY
from conversations.xlsform.problems import FormCode, Problem
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
_UNCODED: list[tuple[re.Pattern[str], str, *tuple[str, ...]]] = [
    (re.compile(r"Question or group with no name"), "dòng này thiếu tên ở cột “name”"),
    (re.compile(r"Question with no type"), "dòng này thiếu loại câu ở cột “type”"),
    (re.compile(r"Unknown question type '(?P<x>.*)'\.$"), "loại câu “{x}” không có trong XLSForm"),
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
    (re.compile(r"Duplicate column header: (?P<x>\S+)"), "có hai cột cùng tên “{x}”: bỏ một cột"),
    (re.compile(r"This section has not been included"), "loại câu “include” (ghép biểu mẫu khác) chưa có", "include"),
    (re.compile(r"You must have a sheet named 'survey'"), "trang “survey” chưa có câu hỏi nào"),
    (re.compile(r"Invalid value for quality"), "cột “parameters”: giá trị “quality” không hợp lệ", "quality"),
    (re.compile(r"does not appear to be a valid XLSForm"), "tệp không phải một bảng hỏi XLSForm"),
]
"""pyxform's sentences that have no ErrorCode: a pattern, its Vietnamese, and words that find its row."""
FALLBACK = "pyxform (công cụ kiểm tra XLSForm) không nhận dòng này, có thể vì một tính năng bot chưa hỗ trợ: “{said}”"
_ABOUT_HEADERS = ("Duplicate column header", "You must have a sheet named")
"""Sentences about the header row."""
_FORMAT = Formatter()


def _pattern(template: str) -> re.Pattern[str]:
    """An ErrorCode template as a pattern that reads its fields back out of the formatted message."""
    parts, seen = [], set()
    for literal, name, _, _ in _FORMAT.parse(template):
        parts.append(re.escape(literal))
        if name:
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.*?)")
            seen.add(name)
    return re.compile("".join(parts), re.DOTALL)


_TEMPLATES = [(code, _pattern(code.value.msg)) for code in ErrorCode]


def coded_message(code: ErrorCode, context: Mapping[str, Any]) -> str | None:
    """pyxform's coded error in Vietnamese, its {fields} filled from the error's context."""
    template = _BY_CODE.get(code) or next(
        (said for prefix, said in _BY_PREFIX.items() if code.name.startswith(prefix)), None
    )
    if template is None:
        return None
    fields = {name for _, name, _, _ in _FORMAT.parse(template) if name}
    return template.format(**{name: context.get(name, "?") for name in fields})


def _code_of(text: str) -> tuple[ErrorCode, dict[str, Any]] | None:
    """The ErrorCode whose template formats to this message, and the fields it was formatted with."""
    for code, pattern in _TEMPLATES:
        found = pattern.fullmatch(text.strip())
        if found:
            return code, found.groupdict()
    return None


def _row_naming(sheet: Sheet | None, words: Iterable[str]) -> int | None:
    """The first row whose name or type is one of `words`, else whose cells hold one of them, for messages that
    give no row."""
    wanted = {w for w in words if w}
    rows = sheet.rows if sheet else []
    for row in rows:
        if wanted & {row.text("name"), row.text("list_name"), *(row.text("type") or "").split()}:
            return row.number
    for row in rows:
        if any(w in str(value) for value in row.cells.values() for w in wanted if len(w) > 2):
            return row.number
    return None


def _words(text: str) -> list[str]:
    """What a message names: 'quoted' words, ${references}, parameter-like keys (max-pixels), its first word."""
    quoted = re.findall(r"'([^'\s]+?)\.?'", text) + re.findall(r"\$\{(\w+)\}", text)
    quoted += re.findall(r"named '?(\w+)", text)
    keys = re.findall(r"\b[a-z]+(?:[-_][a-z]+)+\b", text)
    first = re.match(r"(?:Parameters? (?:must include )?)?([a-z][\w-]*)", text)
    return [*quoted, *keys, *([first[1]] if first else [])]


def pyxform_problems(error: Exception, sheets: Mapping[str, Sheet]) -> list[Problem]:
    """pyxform's refusal, one problem for each row it names (it joins the messages of several rows by lines)."""
    lines = str(error).splitlines()
    if len(lines) > 1 and all(line.startswith("[row : ") for line in lines):
        return [_problem(line, None, {}, sheets) for line in lines]
    if isinstance(error, PyXFormError):
        return [_problem(str(error), error.code, dict(error.context or {}), sheets)]
    return [_problem(str(error) or type(error).__name__, None, {}, sheets)]


def _problem(text: str, code: ErrorCode | None, context: dict[str, Any], sheets: Mapping[str, Sheet]) -> Problem:
    """pyxform's refusal in Vietnamese at its row: by its code when it has one or its message is one formatted
    from a code, else by its English sentence, else a Vietnamese sentence quoting it."""
    if code is None and (recognised := _code_of(text)) is not None:
        code, context = recognised
    message = coded_message(code, context) if code is not None else None
    named = [str(context.get(key) or "") for key in ("q", "name", "value", "list_name")]
    if message is None:
        for pattern, template, *hints in _UNCODED:
            found = pattern.search(text)
            if found:
                message = template.format(**found.groupdict())
                named += [found.groupdict().get("x") or "", *hints]
                break
        else:
            said = re.sub(r"^\[row : \d+\] ", "", text).strip()
            message = FALLBACK.format(said=said[:300])
    sheet_said = re.search(r"On the '(\w+)' sheet|for sheet: '(\w+)'", text)
    sheet = str(context.get("sheet") or context.get("sheet_name") or (sheet_said and (sheet_said[1] or sheet_said[2])))
    sheet = sheet if sheet in sheets or sheet_said else SURVEY
    row_said = re.search(r"\[row : (\d+)\]", text)
    row = context.get("row") or (row_said[1] if row_said else None)
    if (code is not None and code.name.startswith("HEADER")) or text.startswith(_ABOUT_HEADERS):
        row = 1  # the header row
    if row is None or not str(row).isdigit():
        row = _row_naming(sheets.get(sheet), [*named, *_words(text)])
    if row is None and ("select" in text.lower() or "choices sheet" in text):
        row = _row_naming(sheets.get(SURVEY), ["select_one", "select_multiple", "select_one_external"])
    if row is None and "arameter" in text:
        survey = sheets.get(SURVEY)
        row = next((r.number for r in survey.rows if r.text("parameters")), None) if survey else None
    column_said = re.search(r"the '(\w+)' value", text)
    column = context.get("column") or (column_said[1] if column_said else None)
    return Problem(
        sheet,
        int(row) if row is not None else None,
        str(column) if column else None,
        message,
        f"{FormCode.PYXFORM}.{code.name}" if code is not None else FormCode.PYXFORM,
    )


def check_with_pyxform(content: bytes, sheets: Mapping[str, Sheet]) -> list[Problem]:
    """pyxform's refusal of the workbook, if any. pyxform stops at the first; anything it raises is a refusal,
    not a crash (it raises more than PyXFormError on odd workbooks)."""
    try:
        convert(content, warnings=[])
    except Exception as error:  # every failure of pyxform is the workbook's problem to report, never a crash
        return pyxform_problems(error, sheets)
    return []
