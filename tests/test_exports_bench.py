"""The export benchmark on a small scale: it seeds what it says, and its measurements produce real files."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import openpyxl

from bench.export import bench_questionnaires, measure, seed
from storage.migrate import migrate


def test_benchmark_seeds_and_measures(tmp_path: Path) -> None:
    db_path, questionnaires = tmp_path / "bench.sqlite3", tmp_path / "questionnaires"
    bench_questionnaires(questionnaires)
    asyncio.run(migrate(f"sqlite+aiosqlite:///{db_path}"))
    counts = seed(db_path, questionnaires, 120)
    with sqlite3.connect(db_path) as con:
        stored = con.execute("SELECT count(*) FROM answers").fetchone()[0]
        per_survey = con.execute(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM answers a JOIN responses r ON r.id = a.response_id "
            "WHERE r.questionnaire_id = 'khao-sat-nguoi-dan' GROUP BY r.id)"
        ).fetchone()[0]
    assert counts == {"units": 22, "responses": 142, "answers": stored}
    assert per_survey == 20
    survey = measure("khaosat", db_path, questionnaires, tmp_path / "ks.xlsx")
    assert survey["seconds"] > 0 and survey["peak_mb"] > 0
    book = openpyxl.load_workbook(tmp_path / "ks.xlsx")
    assert book["Tổng hợp"].max_row == 1 + 22 + 1  # header, 22 units, everyone
    assert [c.value for c in book["Tổng hợp"][book["Tổng hợp"].max_row]][1:3] == ["Tất cả đơn vị", 120]
    microdata = measure("dulieu", db_path, questionnaires, tmp_path / "dl.xlsx")
    assert microdata["seconds"] > 0
    assert openpyxl.load_workbook(tmp_path / "dl.xlsx")["Dữ liệu"].max_row == 121
    floor = measure("floor", db_path, questionnaires, tmp_path / "floor.xlsx")
    assert floor["shape"] == [120, 23]
    assert openpyxl.load_workbook(tmp_path / "floor.xlsx").active.max_row == 121


async def test_the_web_benchmark_signs_in_and_times_its_pages_and_their_floors(tmp_path: Path) -> None:
    from bench.web import PAGES
    from bench.web import measure as measure_web

    results = await measure_web(tmp_path, responses=44, requests=3, concurrency=2, warm_up=1)
    pages = [name for name, _ in PAGES]
    assert pages == ["progress", "unit", "public", "public_unit"]
    assert set(results) == {*pages, *(f"floor_{name}" for name in pages)}
    assert results["progress"]["bytes"] > 5000 and results["unit"]["bytes"] > 5000, "the signed-in pages, not a 401"
    assert results["public"]["bytes"] > 5000 and results["public_unit"]["bytes"] > 3000, "the results, not a 404"
    assert all(r["median_ms"] > 0 and r["per_second"] > 0 for r in results.values())
