"""Writing tables to xlsx and CSV with the same rules everywhere.

- Text is NFC and always written as text: a citizen's "=1+1" or "@cmd" never becomes a formula (in CSV, where
  Excel would read it as one, such text gets a leading apostrophe).
- Sheet names fit Excel (≤31 characters, none of []:*?/\\, not starting or ending with an apostrophe) and are
  unique without regard to case, also after shortening.
- Frozen header row, autofilter, widths and number formats by column kind; codes stay text (leading zeros).
- Rows are written one at a time with xlsxwriter in constant-memory mode, so a sheet can stream straight from a
  database cursor: pandas' `to_excel` would need the whole table in memory, and passing `constant_memory`
  through pandas silently drops data (pandas issue #34710).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import xlsxwriter

from conversations.text import nfc

ColumnKind = Literal["text", "long_text", "code", "integer", "number", "percent", "date", "datetime"]
Rows = Iterable[Sequence[Any]] | AsyncIterable[Sequence[Any]]

HIDDEN = "ẩn"
"""What a suppressed cell shows: fewer respondents than the suppression threshold."""
EXCEL_MAX_ROWS = 1_048_576
SHEET_NAME_LIMIT = 31
PRINT_FIT_COLUMNS = 16
"""Sheets this narrow are printed scaled to the page width; wider ones (a column per unit) run over pages."""
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMATS: dict[ColumnKind, dict[str, Any]] = {
    "text": {"valign": "top"},
    "long_text": {"valign": "top", "text_wrap": True},
    "code": {"valign": "top", "num_format": "@"},
    "integer": {"valign": "top", "num_format": "#,##0"},
    "number": {"valign": "top", "num_format": "General"},
    "percent": {"valign": "top", "num_format": "0.0"},
    "date": {"valign": "top", "num_format": "dd/mm/yyyy"},
    "datetime": {"valign": "top", "num_format": "dd/mm/yyyy hh:mm"},
}
_WIDTHS: dict[ColumnKind, tuple[int, int]] = {  # (narrowest, widest) when a column gives no width
    "text": (10, 30),
    "long_text": (40, 60),
    "code": (10, 16),
    "integer": (8, 14),
    "number": (8, 14),
    "percent": (8, 14),
    "date": (11, 11),
    "datetime": (16, 16),
}


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind = "text"
    width: int | None = None

    @property
    def effective_width(self) -> int:
        if self.width is not None:
            return self.width
        low, high = _WIDTHS[self.kind]
        return max(low, min(high, len(self.name) + 2))


@dataclass
class Sheet:
    """A table. `rows` may be a list or an async stream (read once, while the database session is open)."""

    name: str
    columns: list[Column]
    rows: Rows = field(default_factory=list)

    @property
    def header(self) -> list[str]:
        return [c.name for c in self.columns]


async def each_row(rows: Rows) -> AsyncIterator[Sequence[Any]]:
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            yield row
    else:
        for row in rows:
            yield row


class SheetNames:
    """Hands out Excel-safe sheet names, unique without regard to case, also after shortening."""

    def __init__(self) -> None:
        self.taken: set[str] = {"history"}  # reserved by Excel

    def take(self, wanted: str) -> str:
        base = _SHEET_FORBIDDEN.sub("-", nfc(wanted)).strip().strip("'").strip() or "Trang"
        name, n = base[:SHEET_NAME_LIMIT].rstrip("' "), 1
        while name.casefold() in self.taken:
            n += 1
            suffix = f" ({n})"
            name = base[: SHEET_NAME_LIMIT - len(suffix)].rstrip("' ") + suffix
        self.taken.add(name.casefold())
        return name


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


class _SheetWriter:
    """Writes one table into a worksheet (and continuation sheets past Excel's row limit)."""

    def __init__(self, workbook: Any, names: SheetNames, sheet: Sheet, formats: dict[str, Any]) -> None:
        self.workbook, self.sheet, self.formats, self.names = workbook, sheet, formats, names
        self.column_formats = [formats[c.kind] for c in sheet.columns]
        self.codes = [c.kind == "code" for c in sheet.columns]
        self.part = 0
        self._start()

    def _start(self) -> None:
        self.part += 1
        name = self.sheet.name if self.part == 1 else f"{self.sheet.name} ({self.part})"
        self.ws = self.workbook.add_worksheet(self.names.take(name))
        header_lines = 1
        for col, column in enumerate(self.sheet.columns):
            width = column.effective_width
            self.ws.set_column(col, col, width)
            self.ws.write_string(0, col, nfc(column.name), self.formats["header"])
            header_lines = max(header_lines, math.ceil(len(column.name) / max(width - 1, 1)))
        self.ws.set_row(0, 15 * min(header_lines, 10))
        self.ws.freeze_panes(1, 0)
        self.ws.set_paper(9)  # A4, landscape, header repeated on every printed page
        self.ws.set_landscape()
        self.ws.repeat_rows(0)
        if len(self.sheet.columns) <= PRINT_FIT_COLUMNS:
            self.ws.fit_to_pages(1, 0)
        self.row = 0

    def write(self, values: Sequence[Any]) -> None:
        if self.row + 1 >= EXCEL_MAX_ROWS:
            self.finish()
            self._start()
        self.row += 1
        ws, row, formats = self.ws, self.row, self.column_formats
        for col, value in enumerate(values):
            if _missing(value):
                continue
            if isinstance(value, str):
                ws.write_string(row, col, nfc(value), formats[col])
            elif isinstance(value, bool):
                ws.write_boolean(row, col, value, formats[col])
            elif isinstance(value, int | float):
                if self.codes[col]:
                    ws.write_string(row, col, str(value), formats[col])
                else:
                    ws.write_number(row, col, value, formats[col])
            elif isinstance(value, date):
                naive = value.replace(tzinfo=None) if isinstance(value, datetime) else value
                ws.write_datetime(row, col, naive, formats[col])
            else:
                ws.write_string(row, col, nfc(str(value)), formats[col])

    def finish(self) -> None:
        if self.sheet.columns:
            self.ws.autofilter(0, 0, max(self.row, 1), len(self.sheet.columns) - 1)


async def write_xlsx(sheets: Sequence[Sheet]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        buffer,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    formats = {
        "header": workbook.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
        )
    }
    formats.update({kind: workbook.add_format(spec) for kind, spec in _FORMATS.items()})
    names = SheetNames()
    for sheet in sheets:
        writer = _SheetWriter(workbook, names, sheet, formats)
        async for values in each_row(sheet.rows):
            writer.write(values)
        writer.finish()
    workbook.close()
    return buffer.getvalue()


def csv_text(value: Any) -> str:
    if _missing(value):
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = nfc(str(value))
    if isinstance(value, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


async def write_csv(sheet: Sheet) -> bytes:
    """One table as CSV in UTF-8 with a byte-order mark, so Excel shows the diacritics when the file is opened."""
    buffer = io.BytesIO()
    text = io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([nfc(c.name) for c in sheet.columns])
    async for values in each_row(sheet.rows):
        writer.writerow([csv_text(v) for v in values])
    text.flush()
    content = buffer.getvalue()
    text.close()
    return content
