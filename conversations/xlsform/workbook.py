"""A workbook's sheets as rows of cells keyed by column and language, read in streaming mode."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import openpyxl

from conversations.text import nfc
from conversations.xlsform.layout import TRANSLATED


@dataclass
class Row:
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
class Sheet:
    name: str
    columns: set[tuple[str, str | None]]
    rows: list[Row]

    def has(self, column: str) -> bool:
        return any(name == column for name, _ in self.columns)


_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_LOOKS_ESCAPED = re.compile(r"_(?=x[0-9A-Fa-f]{1,4}_)")


def _unescape(value: Any) -> Any:
    """Cell text as written: OOXML escapes characters as `_xHHHH_` (Excel writes a literal "_x" as "_x005F_x")."""
    return _ESCAPED.sub(lambda m: chr(int(m[1], 16)), value) if isinstance(value, str) and "_x" in value else value


def escape(value: Any) -> Any:
    """The reverse, for text that would read as an escape: LibreOffice reads "n2_mang_xa_hoi" as "n2_mang" + a
    line break + "hoi" unless the "_" before "x" is written "_x005F_"."""
    return _LOOKS_ESCAPED.sub("_x005F_", value) if isinstance(value, str) else value


def _header(cell: Any) -> tuple[str, str | None] | None:
    """`label::Vietnamese (vi)` → ("label", "Vietnamese (vi)"); `Constraint message` → ("constraint_message", None)."""
    if cell is None or not str(cell).strip():
        return None
    name, _, language = str(cell).strip().partition("::")
    return name.strip().lower().replace(" ", "_"), (language.strip() or None)


def read_sheets(content: bytes) -> dict[str, Sheet]:
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
                    data.append(Row(number, cells))
            found[sheet.title.strip().lower()] = Sheet(sheet.title, {h for h in headers if h}, data)
        return found
    finally:
        book.close()


def label_language(sheets: Mapping[str, Sheet], default: str | None) -> str | None:
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
