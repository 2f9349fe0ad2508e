"""The workbook's layout: its sheets, the columns this project reads and writes, and the XLSForm types it knows."""

from __future__ import annotations

from conversations.question_types import KINDS

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
    "consent",
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
TYPES = {name: question_type for question_type, kind in KINDS.items() for name in kind.xlsform_names}
"""The XLSForm types read, from the question-type table."""
SUPPORTED = ", ".join([*TYPES, "begin_group", "end_group"])
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
GROUP_COLUMN_OF_FIELD = {"code": "name", "title": "label", "note": "hint"}
SETTING_OF_FIELD = {"id": "form_id", "title": "form_title"}
