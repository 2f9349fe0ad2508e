"""A workbook's sheets as rows of cells keyed by column and language, read in streaming mode."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator, Mapping
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
        """The cell in that language, else the one without a language, else the first in any language (a label
        written only in English is better than none)."""
        value = self.cells.get((column, language))
        if value is None and language is not None:
            value = self.cells.get((column, None))
        if value is None:
            value = next((v for (name, _), v in self.cells.items() if name == column), None)
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


def _header(cell: Any, delimiter: str) -> tuple[str, str | None] | None:
    """`label::Vietnamese (vi)` → ("label", "Vietnamese (vi)"); `Constraint message` → ("constraint_message", None).
    As pyxform does, a sheet with no `::` header splits on a single colon: `label:English`, `hint:English`
    (but `jr:count` stays whole)."""
    if cell is None or not str(cell).strip():
        return None
    text = str(cell).strip()
    name, _, language = text.partition(delimiter)
    if name.strip().lower() == "jr":
        name, language = text, ""
    return name.strip().lower().replace(" ", "_"), (language.strip() or None)


MAX_PART_BYTES = 8 * 1024 * 1024
"""The uncompressed size of one part of an .xlsx (a sheet, the shared strings): a workbook of thousands of rows
stays far below, a zip bomb far above."""
MAX_ROWS = 5000
MAX_COLUMNS = 200
MAX_SHEET_ROWS = 20_000
"""Rows in the raw XML of any one sheet (blank rows included), before openpyxl opens it."""
MAX_CELLS = 200_000


class WorkbookError(ValueError):
    """A file that is not a workbook this project reads, or one too large to read, in Vietnamese."""


def _count_cells(xml: bytes) -> None:
    """WorkbookError for a sheet with more rows or cells than any workbook read here has, counted in the raw XML
    (C speed) before openpyxl, which walks a whole sheet that lacks a <dimension> in Python when it opens it."""
    rows = xml.count(b"<row") + xml.count(b":row")  # with or without a namespace prefix
    cells = sum(xml.count(b"<c" + end) + xml.count(b":c" + end) for end in (b" ", b">", b"/"))
    if rows > MAX_SHEET_ROWS or cells > MAX_CELLS:
        raise WorkbookError(
            f"bảng tính có quá nhiều dòng hoặc ô ({rows} dòng, {cells} ô; tối đa {MAX_SHEET_ROWS} dòng)"
        )


def open_workbook(content: bytes) -> Any:
    """The workbook in streaming mode (openpyxl read_only), once its zip directory shows no part that would
    decompress to more than MAX_PART_BYTES (zipfile stops a part at its declared size, so the check holds)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise WorkbookError(f"không mở được tệp Excel .xlsx ({type(exc).__name__})") from None
    for part in parts:
        if part.file_size > MAX_PART_BYTES:
            size, limit = part.file_size // (1024 * 1024), MAX_PART_BYTES // (1024 * 1024)
            raise WorkbookError(f"tệp giải nén ra quá lớn (phần “{part.filename}” {size} MB, tối đa {limit} MB)")
    for part in parts:
        if part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml"):
            _count_cells(archive.read(part))
    try:
        return openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except WorkbookError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on files that are not workbooks
        raise WorkbookError(f"không mở được tệp Excel .xlsx ({type(exc).__name__})") from None


def bounded_rows(sheet: Any, max_rows: int = MAX_ROWS, max_columns: int = MAX_COLUMNS) -> Iterator[tuple[Any, ...]]:
    """A sheet's rows as values, refused with WorkbookError past `max_rows` rows or `max_columns` columns (empty
    rows count: a million of them is as slow to walk as a million full ones)."""
    for number, values in enumerate(sheet.iter_rows(values_only=True, max_col=max_columns + 1), start=1):
        if number > max_rows:
            raise WorkbookError(f"trang “{sheet.title}” có quá nhiều dòng (tối đa {max_rows})")
        if len(values) > max_columns and values[max_columns] is not None:
            raise WorkbookError(f"trang “{sheet.title}”, dòng {number} có quá nhiều cột (tối đa {max_columns})")
        yield values[:max_columns]


def read_sheets(content: bytes) -> dict[str, Sheet]:
    """Every sheet of a workbook; WorkbookError for a file that is not one or is too large."""
    book = open_workbook(content)
    try:
        found = {}
        for sheet in book.worksheets:
            rows = bounded_rows(sheet)
            first = [_unescape(cell) for cell in next(rows, ())]
            delimiter = "::" if any("::" in str(cell) for cell in first if cell is not None) else ":"
            headers = [_header(cell, delimiter) for cell in first]
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
    except WorkbookError:
        raise
    except Exception as exc:  # a malformed part found while streaming
        raise WorkbookError(f"không đọc được tệp Excel .xlsx ({type(exc).__name__})") from None
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
