"""Hostile uploads (a zip bomb, a million-row sheet, a huge CSV, a file that never ends) are refused quickly, in
Vietnamese, read in a worker process while the event loop keeps serving others (issue 12, item 4)."""

from __future__ import annotations

import asyncio
import io
import os
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from bot.units import UnitFileError, parse_units
from bot.worker import NICENESS, WorkerError, in_worker
from conversations.xlsform import FormError, read_xlsform

_NS = "http://schemas.openxmlformats.org/"
_PARTS = {
    "[Content_Types].xml": f'<Types xmlns="{_NS}package/2006/content-types">'
    f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
    "_rels/.rels": f'<Relationships xmlns="{_NS}package/2006/relationships"><Relationship Id="rId1" '
    f'Type="{_NS}officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'<workbook xmlns="{_NS}spreadsheetml/2006/main" '
    f'xmlns:r="{_NS}officeDocument/2006/relationships"><sheets>'
    '<sheet name="survey" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{_NS}package/2006/relationships"><Relationship Id="rId1" '
    f'Type="{_NS}officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
}


def _book(sheet_data: Iterable[bytes]) -> bytes:
    """An .xlsx of one sheet whose <sheetData> is streamed from `sheet_data`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(f'<worksheet xmlns="{_NS}spreadsheetml/2006/main"><sheetData>'.encode())
            for chunk in sheet_data:
                part.write(chunk)
            part.write(b"</sheetData></worksheet>")
    return out.getvalue()


def _bomb() -> Iterator[bytes]:
    """One cell of 620 MB of "x"."""
    yield b'<row><c t="inlineStr"><is><t>'
    block = b"x" * (1 << 20)
    for _ in range(620):
        yield block
    yield b"</t></is></c></row>"


def _million_rows(row: bytes) -> Iterator[bytes]:
    block = row * 10_000
    for _ in range(100):
        yield block


BOMB = _book(_bomb())
MILLION = _book(_million_rows(b'<row><c t="inlineStr"><is><t>ma-don-vi</t></is></c><c><v>1</v></c></row>'))
MILLION_EMPTY = _book(_million_rows(b"<row/>"))
"""A million empty rows: small enough uncompressed to pass the size check, so the row limit must stop it."""


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


async def _refused_while_probing(reading: Callable[[], Any]) -> tuple[Exception, float, int, int]:
    """(what reading raised, this process's CPU seconds meanwhile, how often a 10 ms probe ran on the loop, RSS growth).

    CPU time rather than wall-clock time or loop lag: on a loaded machine the scheduler alone can delay the probe by
    hundreds of milliseconds, while the parsing happening in this process would show in its CPU time whatever the load.
    """
    ticks = 0
    done = asyncio.Event()

    async def probe() -> None:
        nonlocal ticks
        while not done.is_set():
            await asyncio.sleep(0.01)
            ticks += 1

    prober = asyncio.create_task(probe())
    rss, start = _rss(), time.process_time()
    try:
        await reading()
    except Exception as exc:
        caught = exc
    else:
        raise AssertionError("the file was not refused")
    finally:
        done.set()
        await prober
    return caught, time.process_time() - start, ticks, _rss() - rss


@pytest.mark.parametrize(
    ("name", "content"), [("bom.xlsx", BOMB), ("trieu-dong.xlsx", MILLION), ("dong-trong.xlsx", MILLION_EMPTY)]
)
async def test_hostile_workbooks_are_refused_quickly_without_stalling_the_loop(name: str, content: bytes) -> None:
    uploads: list[tuple[Callable[[], Any], type[Exception]]] = [
        (lambda: in_worker(read_xlsform, content, name, {}), FormError),
        (lambda: in_worker(parse_units, name, content), UnitFileError),
    ]
    for reading, kind in uploads:
        caught, cpu, ticks, grown = await _refused_while_probing(reading)
        size = f"{name} ({len(content) // 1024} KB)"
        print(f"{size} {kind.__name__}: CPU here {cpu:.2f} s, {ticks} probes, RSS +{grown / 1e6:.1f} MB")
        assert isinstance(caught, kind), caught
        assert "quá" in str(caught), str(caught)
        assert cpu < 0.2  # the reading ran in the worker, not in this process
        assert ticks >= 1  # and the loop kept running meanwhile
        assert grown < 100e6


@pytest.mark.parametrize("content", [BOMB, MILLION, MILLION_EMPTY])
def test_reading_a_hostile_workbook_needs_little_memory(content: bytes) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(FormError):
            read_xlsform(content, "x.xlsx", {})
        with pytest.raises(UnitFileError):
            parse_units("x.xlsx", content)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    print(f"peak {peak / 1e6:.1f} MB")
    assert peak < 100e6


def test_a_large_csv_is_refused_before_reading_and_quotes_follow_the_csv_rules() -> None:
    huge = b"code,name,kind\n" + b"x,Xa,xa\n" * 9_000_000
    started = time.process_time()
    with pytest.raises(UnitFileError, match="quá lớn"):
        parse_units("don-vi.csv", huge)
    assert time.process_time() - started < 0.2  # refused by its size, before a line is parsed
    [unit] = parse_units("don-vi.csv", 'code;name;kind\nx1;"Xã ""Mới""; một";xa\n'.encode())
    assert unit["name"] == 'Xã "Mới"; một'


async def test_a_reading_that_does_not_end_is_stopped_at_the_time_limit() -> None:
    started = time.monotonic()
    with pytest.raises(WorkerError, match="quá lâu"):
        await in_worker(time.sleep, 30, time_limit=0.5)
    assert time.monotonic() - started < 2.0


async def test_a_worker_runs_below_the_bot_s_cpu_priority() -> None:
    """An export or a file's reading takes only the CPU the conversations leave."""
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    assert await in_worker(os.getpriority, os.PRIO_PROCESS, 0) == min(mine + NICENESS, 19)
