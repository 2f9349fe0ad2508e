"""What every export shares: local time, unit lists in order (storage.repo.in_unit_order), question headers, notes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.definition import Questionnaire
from conversations.localtime import local_time
from exports.workbook import HIDDEN, Column, Sheet
from storage import repo
from storage.models import Unit
from storage.queries import Selection, get_period


async def units_for(
    db: AsyncSession, in_force: Sequence[Unit], with_responses: Iterable[str], selection: Selection
) -> list[Unit]:
    """The units an export lists, each commune followed by its offices, under the names they had at the period's
    deadline: those in force, and any other unit that has responses (a unit merged away since); only one when the
    export is for one unit."""
    known = {u.code: u for u in in_force}
    for code in set(with_responses) - known.keys():
        unit = await repo.get_unit(db, code)
        if unit is not None:
            known[code] = unit
    only = selection.unit_code
    if only is not None:
        unit = known.get(only) or await repo.get_unit(db, only)
        known = {only: unit} if unit is not None else {}
    period = await get_period(db, selection.period_code)
    units = list(known.values())
    return repo.in_unit_order(await repo.named_on(db, units, period.deadline) if period is not None else units)


def notes_sheet(
    questionnaires: Sequence[Questionnaire], period: str, made_at: datetime, extra: Sequence[tuple[str, str]] = ()
) -> Sheet:
    rows = [("Kỳ đánh giá", period), ("Thời điểm xuất", local_time(made_at))]
    for qn in questionnaires:
        rows.append((f"{qn.title} (phiên bản {qn.version})", f"Nguồn: {qn.source}"))
        if qn.notice:
            rows.append(("", qn.notice))
    rows += list(extra)
    return Sheet("Ghi chú", [Column("Mục", width=40), Column("Nội dung", "long_text", width=100)], rows)


HIDDEN_NOTE = (
    "đơn vị, nhóm có dưới {minimum} người trả lời bị ẩn; khi chỉ một đơn vị hoặc một nhóm bị ẩn, đơn vị hoặc nhóm "
    "ít người trả lời nhất còn lại cũng bị ẩn, để không ai tính ngược ra được bằng phép trừ từ số chung"
)


def suppression_note(minimum: int) -> tuple[str, str]:
    return (
        f"Ô “{HIDDEN}”",
        f"Tỷ lệ tính trên dưới {minimum} người trả lời không được hiển thị, để không ai bị nhận ra qua câu trả lời "
        f"(ngưỡng đặt bằng PBGDPL_SUPPRESS_BELOW): {HIDDEN_NOTE.format(minimum=minimum)}.",
    )
