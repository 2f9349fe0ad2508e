"""Local time: the project runs in Vietnam, and everything a user reads shows Vietnamese wall-clock time."""

from __future__ import annotations

from datetime import date, datetime
from typing import overload
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


@overload
def local_date(moment: datetime) -> date: ...
@overload
def local_date(moment: None) -> None: ...
def local_date(moment: datetime | None) -> date | None:
    """The day it is in Vietnam at that moment."""
    return moment.astimezone(VIETNAM).date() if moment else None


def local_time(moment: datetime | None) -> str:
    """ "dd/mm/yyyy hh:mm" in Vietnam; empty for no moment."""
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M") if moment else ""


def clock_then_day(moment: datetime) -> str:
    """ "hh:mm dd/mm/yyyy" in Vietnam (the time first, as in a receipt)."""
    return moment.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y")


def day_text(day: date | datetime) -> str:
    """ "dd/mm/yyyy"; a moment is taken in Vietnam."""
    return (day.astimezone(VIETNAM) if isinstance(day, datetime) else day).strftime("%d/%m/%Y")


def local_cell(moment: datetime | None) -> datetime | None:
    """A moment as Vietnamese wall-clock time, for a date cell."""
    return moment.astimezone(VIETNAM).replace(tzinfo=None) if moment else None


def file_stamp(moment: datetime) -> str:
    """ "yyyymmdd-hhmm" in Vietnam, for file names."""
    return moment.astimezone(VIETNAM).strftime("%Y%m%d-%H%M")


def parse_day(text: str) -> date | None:
    """A day typed as dd/mm/yyyy (or with - or ., or a two-digit year), as admins type deadlines and end dates."""
    parts = text.replace("-", "/").replace(".", "/").split("/")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() for p in parts):
        return None
    day, month, year = (int(p) for p in parts)
    try:
        return date(year if year > 99 else 2000 + year, month, day)
    except ValueError:
        return None
