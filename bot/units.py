"""Units as admins manage them: a CSV or .xlsx list (code, name, kind, parent) uploaded in chat or with
`pbgdpl units import FILE`, renaming, ending and merging into a new unit (as in the 2025 reform).

History is kept: nothing is deleted. An ended or merged unit keeps its code and gets an end date (valid_to), so its
responses of earlier periods still export under it; a merged unit's successor names it in formed_from; every change
is in the audit log with the old value. Codes are text (leading zeros stay)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.localtime import local_date
from conversations.text import clean_input, fold
from conversations.xlsform.workbook import WorkbookError, bounded_rows, open_workbook
from storage import repo
from storage.models import ADMIN_UNITS, Unit

HEADERS = {
    "code": ("code", "ma", "ma don vi"),
    "name": ("name", "ten", "ten don vi"),
    "kind": ("kind", "loai", "loai don vi"),
    "parent": ("parent", "cap tren", "ma cap tren", "don vi cap tren"),
}
KINDS = {"commune": "commune", "xa": "commune", "phuong": "commune", "thi tran": "commune", "department": "department"}
KINDS |= {"phong": "department", "phong ban": "department", "co quan": "department"}
COMMUNE = "commune"
"""The kind of unit a citizen picks after /khaosat (“xã/phường nào?”); other units' surveys open by their own link."""
MAX_ROWS = 2000
MAX_BYTES = 2 * 1024 * 1024
MAX_COLUMNS = 50


class UnitFileError(ValueError):
    """What is wrong with an uploaded list of units, in Vietnamese."""


def _delimiter(header: str) -> str:
    """The separator the header line uses most (Excel writes ";" where the decimal mark is a comma)."""
    return max(",;\t", key=header.count) if header else ","


def _rows(filename: str, content: bytes) -> list[list[str]]:
    if filename.lower().endswith(".csv"):
        text = content.decode("utf-8-sig")
        # the csv module's own quoting ("" inside quotes is one "), with only the separator taken from the file
        reader = csv.reader(io.StringIO(text), delimiter=_delimiter(text.partition("\n")[0]), strict=True)
        rows: list[list[str]] = []
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
            if len(rows) > MAX_ROWS + 1:  # enough to refuse the file
                break
        return rows
    book = open_workbook(content)
    try:
        return [
            ["" if cell is None else str(cell) for cell in row]
            for row in bounded_rows(book.worksheets[0], max_rows=MAX_ROWS + 1, max_columns=MAX_COLUMNS)
            if any(cell not in (None, "") for cell in row)
        ]
    finally:
        book.close()


def parse_units(filename: str, content: bytes) -> list[dict[str, Any]]:
    """The unit records of a CSV or .xlsx file whose first row names the columns (code, name, kind, parent, in
    English or Vietnamese); UnitFileError with the row and what is wrong."""
    if len(content) > MAX_BYTES:
        size, limit = len(content) // 1024, MAX_BYTES // 1024
        raise UnitFileError(f"Tệp {filename} quá lớn ({size} KB, tối đa {limit} KB cho {MAX_ROWS} đơn vị).")
    try:
        rows = _rows(filename, content)
    except WorkbookError as exc:
        raise UnitFileError(f"Tệp {filename}: {exc}. Gửi tệp CSV (UTF-8) hoặc .xlsx.") from None
    except (UnicodeDecodeError, csv.Error, OSError, ValueError, KeyError) as exc:
        problem = f"Không đọc được tệp {filename} ({type(exc).__name__}). Gửi tệp CSV (UTF-8) hoặc .xlsx."
        raise UnitFileError(problem) from None
    if len(rows) < 2:
        raise UnitFileError(f"Tệp {filename} cần một dòng tiêu đề (code, name, kind, parent) và ít nhất một đơn vị.")
    if len(rows) > MAX_ROWS + 1:
        raise UnitFileError(f"Tệp {filename} có quá nhiều dòng (tối đa {MAX_ROWS} đơn vị).")
    header = [fold(cell) for cell in rows[0]]
    columns = {key: next((i for i, h in enumerate(header) if h in names), None) for key, names in HEADERS.items()}
    missing = [key for key in ("code", "name", "kind") if columns[key] is None]
    if missing:
        raise UnitFileError(f"Thiếu cột {', '.join(missing)} ở dòng tiêu đề (cần: code, name, kind, parent).")
    records, seen = [], set()

    def cell(row: Sequence[str], key: str) -> str:
        index = columns[key]
        return clean_input(row[index]) if index is not None and index < len(row) else ""

    for number, row in enumerate(rows[1:], start=2):
        code, name, kind = cell(row, "code"), cell(row, "name"), KINDS.get(fold(cell(row, "kind")))
        if not code or not name:
            raise UnitFileError(f"Dòng {number}: thiếu mã hoặc tên đơn vị.")
        if len(code) > 40 or not code.isascii() or " " in code:
            raise UnitFileError(f"Dòng {number}: mã “{code}” chỉ gồm chữ không dấu, số, dấu gạch (tối đa 40 ký tự).")
        if kind is None:
            given = cell(row, "kind")
            raise UnitFileError(f"Dòng {number}: loại “{given}” không rõ; dùng commune (xã) hoặc department.")
        if code in seen:
            raise UnitFileError(f"Dòng {number}: mã “{code}” lặp lại.")
        seen.add(code)
        records.append({"code": code, "name": name, "kind": kind, "parent_code": cell(row, "parent") or None})
    return records


KIND_NAMES = {"commune": "xã", "department": "phòng ban"}
SHOWN = 50
"""At most this many changed units are listed one by one before the admin confirms; warnings are always shown."""


def kind_name(kind: str) -> str:
    return KIND_NAMES.get(kind, kind)


@dataclass(frozen=True)
class UnitChange:
    """What a file would change in a unit that exists: old and new name, kind and parent."""

    unit: Unit
    record: dict[str, Any]
    responses: int

    def line(self) -> str:
        parts = []
        if self.record["name"] != self.unit.name:
            parts.append(f"tên {self.unit.name} → {self.record['name']}")
        if self.record["kind"] != self.unit.kind:
            parts.append(f"loại {kind_name(self.unit.kind)} → {kind_name(self.record['kind'])}")
        if self.record["parent_code"] != self.unit.parent_code:
            parts.append(f"cấp trên {self.unit.parent_code or '–'} → {self.record['parent_code'] or '–'}")
        return f"• {self.unit.code}: " + "; ".join(parts)

    @property
    def leaves_the_survey(self) -> bool:
        """A commune with responses that would no longer be offered in the citizens' survey list."""
        return self.unit.kind == COMMUNE and self.record["kind"] != COMMUNE and self.responses > 0


async def changes_of(db: AsyncSession, records: Sequence[dict[str, Any]]) -> list[UnitChange]:
    """The units the records would change (name, kind or parent), with how many responses each has."""
    changed = []
    for record in records:
        unit = await repo.get_unit(db, record["code"])
        if unit is not None and (unit.name, unit.kind, unit.parent_code) != (
            record["name"],
            record["kind"],
            record["parent_code"],
        ):
            changed.append((unit, record))
    counts = await repo.response_counts(db, [unit.code for unit, _ in changed])
    return [UnitChange(unit, record, counts.get(unit.code, 0)) for unit, record in changed]


def describe(filename: str, records: Sequence[dict[str, Any]], changes: Sequence[UnitChange]) -> str:
    """The changes a file makes to existing units, for the admin to confirm."""
    lines = [f"Tệp {filename} thay đổi {len(changes)} đơn vị đang có:"]
    lines += [change.line() for change in changes[:SHOWN]]
    if len(changes) > SHOWN:
        lines.append(f"… và {len(changes) - SHOWN} đơn vị khác.")
    for change in changes:
        if change.leaves_the_survey:
            lines.append(
                f"⚠ {change.unit.name} ({change.unit.code}) đã có {change.responses} phiếu: đổi loại thành "
                f"{kind_name(change.record['kind'])} thì đơn vị này không còn trong danh sách khảo sát người dân."
            )
    known = {change.unit.code for change in changes}
    added = sum(1 for r in records if r["code"] not in known)
    lines.append(
        f"Cùng tệp: {added} đơn vị mới hoặc không đổi. Tên cũ được giữ lại, các kỳ trước vẫn xuất theo tên lúc đó."
    )
    return "\n".join(lines)


async def import_units(db: AsyncSession, records: Sequence[dict[str, Any]], now: datetime) -> tuple[int, int]:
    """Add or update the units; (added, updated). An existing unit keeps its validity dates and what it was formed
    from (a file has no such columns), and its earlier name."""
    full, known = [], 0
    for record in records:
        unit = await repo.get_unit(db, record["code"])
        if unit is not None:
            known += 1
            record = {**record, "valid_from": unit.valid_from, "valid_to": unit.valid_to}
            record["formed_from"] = unit.formed_from
        full.append(record)
    await repo.upsert_units(db, ADMIN_UNITS, full, now, local_date(now))
    return len(records) - known, known


def end_on(unit: Unit, day: date) -> None:
    """The unit no longer applies from `day` on (it stays, with its history)."""
    unit.valid_to, unit.unit_set = day - timedelta(days=1), ADMIN_UNITS


async def merge(db: AsyncSession, old: Sequence[Unit], code: str, name: str, day: date) -> tuple[Unit, int]:
    """A new unit formed from `old` from `day` on; the old ones end the day before and their officers move to the
    new unit. Returns it and how many officers moved."""
    new = Unit(
        code=code,
        name=name,
        kind=old[0].kind,
        unit_set=ADMIN_UNITS,
        valid_from=day,
        valid_to=None,
        formed_from=[u.code for u in old],
        parent_code=old[0].parent_code,
    )
    db.add(new)
    await db.flush()
    moved = 0
    for unit in old:
        end_on(unit, day)
        for officer in await repo.officers_of(db, unit.code):
            officer.unit_code, moved = new.code, moved + 1
    await db.flush()
    return new, moved
