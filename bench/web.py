"""Dashboard benchmark (`make bench-web`): how long the progress page and a unit's page take to load, signed in,
and the public results of the area and of a commune, with 22 units and 10,000 citizen responses (seeded as
bench.export seeds them), against a floor measured in the same run: a static aiohttp handler serving HTML of the same
size, with the same client and concurrency.

The web app runs as `pbgdpl run` serves it (bot.app.serve, the dashboard beside the console), in this process; the
client is aiohttp with keep-alive, `--concurrency` requests in flight, each page `--requests` times after a warm-up.

    python -m bench.web [--responses 10000] [--requests 200] [--concurrency 4] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from pydantic import SecretStr

from bench.export import PERIOD, PRESETS, bench_questionnaires, seed

WARM_UP = 10
NOW = datetime(2025, 6, 20, 2, 0, tzinfo=UTC)
"""The service's clock: inside the period and while the seeded units (hau-loc-2023) are in force."""


PUBLIC_UNIT = "hl23-tt-hau-loc"
"""A seeded commune, for its public results page."""
PAGES = (
    ("progress", "progress (/web/)"),
    ("unit", "a unit's submission (/web/donvi/…)"),
    ("public", "public results (/ketqua/)"),
    ("public_unit", "a commune's results (/ketqua/…)"),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def timed(fetch: Callable[[], Awaitable[int]], requests: int, concurrency: int, warm_up: int) -> dict[str, float]:
    """Each request's time, `concurrency` at once, after `warm_up` alone; in milliseconds and pages per second."""
    for _ in range(warm_up):
        await fetch()
    times: list[float] = []
    queue = iter(range(requests))

    async def worker() -> None:
        for _ in queue:
            started = time.perf_counter()
            await fetch()
            times.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    times.sort()
    return {
        "median_ms": 1000 * statistics.median(times),
        "p95_ms": 1000 * times[int(0.95 * (len(times) - 1))],
        "per_second": len(times) / wall,
    }


async def measure(
    workdir: Path, responses: int, requests: int, concurrency: int, warm_up: int = WARM_UP
) -> dict[str, dict[str, Any]]:
    from bot import assignments
    from bot.app import open_service, serve
    from bot.config import Settings
    from bot.messages import Sender
    from conversations.engine import Inbound
    from storage.migrate import migrate

    db_path, questionnaires = workdir / "bench.sqlite3", workdir / "questionnaires"
    for old in workdir.glob("bench.sqlite3*"):
        old.unlink()
    bench_questionnaires(questionnaires)
    url = f"sqlite+aiosqlite:///{db_path}"
    await migrate(url)
    started = time.perf_counter()
    counts = await asyncio.to_thread(seed, db_path, questionnaires, responses)
    seconds = time.perf_counter() - started
    print(f"Seeded {counts['responses']:,} responses ({counts['units']} units) in {seconds:.1f} s", flush=True)

    units = workdir / "units"  # the seeded units' preset alone (the others assign questionnaires not loaded here)
    units.mkdir(exist_ok=True)
    (units / "hau-loc-2023.yaml").write_bytes((PRESETS / "units" / "hau-loc-2023.yaml").read_bytes())
    port = free_port()
    settings = Settings(
        data_dir=workdir,
        database_url=url,
        questionnaires_dir=questionnaires,
        units_dir=units,
        period=PERIOD,
        secret=SecretStr("bench-secret"),
        http_host="127.0.0.1",
        http_port=port,
        _env_file=None,  # type: ignore[call-arg]
    )
    async with open_service(settings) as service:
        service.clock = lambda: NOW
        service.admins = frozenset({"bench:admin"})
        async with service.db.write() as db:  # the period was seeded directly: what the bot runs by default
            await assignments.start_period(db, service.questionnaires, PERIOD, NOW, ())
        admin = Sender("bench", "admin", "Quản trị viên")
        replies = await service.handle(admin, Inbound(text="/web"))
        link = re.search(r"http://\S+/web/vao/\S+", str(getattr(replies[0], "text", "")))
        assert link, replies
        async with serve(settings, service), aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as c:
            async with c.post(link[0]) as signed:
                assert signed.status == 200 and str(signed.url).endswith("/web/"), signed.status
            base = f"http://127.0.0.1:{port}"
            pages = {"progress": f"{base}/web/", "unit": f"{base}/web/donvi/{(await first_unit(c, base))}"}
            pages |= {"public": f"{base}/ketqua/", "public_unit": f"{base}/ketqua/{PUBLIC_UNIT}"}
            bodies = {}
            for name, page in pages.items():
                async with c.get(page) as response:
                    assert response.status == 200, (name, response.status)
                    bodies[name] = await response.read()
            results: dict[str, dict[str, Any]] = {}
            for name, page in pages.items():
                timing = await timed(getter(c, page), requests, concurrency, warm_up)
                results[name] = {"bytes": len(bodies[name]), **timing}
            floor_port = free_port()
            runner = await static_floor(floor_port, bodies)
            try:
                for name in pages:
                    page = f"http://127.0.0.1:{floor_port}/{name}"
                    results[f"floor_{name}"] = await timed(getter(c, page), requests, concurrency, warm_up)
            finally:
                await runner.cleanup()
    return results


async def first_unit(client: aiohttp.ClientSession, base: str) -> str:
    """The first unit the progress page links (one that has submitted)."""
    async with client.get(f"{base}/web/") as response:
        found = re.search(r'href="/web/donvi/([^"]+)"', await response.text())
    assert found, "no unit has submitted"
    return found[1]


def getter(client: aiohttp.ClientSession, url: str) -> Callable[[], Awaitable[int]]:
    async def fetch() -> int:
        async with client.get(url) as response:
            await response.read()
            assert response.status == 200, response.status
            return response.status

    return fetch


async def static_floor(port: int, bodies: dict[str, bytes]) -> web.AppRunner:
    """The least a page can cost: the same bytes, from memory, as text/html."""
    app = web.Application()
    for name, body in bodies.items():

        async def handler(request: web.Request, body: bytes = body) -> web.Response:
            return web.Response(body=body, content_type="text/html", charset="utf-8")

        app.router.add_get(f"/{name}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


def report(results: dict[str, dict[str, Any]], concurrency: int) -> None:
    print()
    print(f"concurrency {concurrency}; milliseconds per page load")
    print(f"{'page':<34}{'KB':>7}{'median':>9}{'p95':>9}{'pages/s':>9}{'× floor':>9}")
    for name, label in PAGES:
        r, floor = results[name], results[f"floor_{name}"]
        ratio = r["median_ms"] / floor["median_ms"]
        print(
            f"{label:<34}{r['bytes'] / 1024:>7.0f}{r['median_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['per_second']:>9.0f}"
            f"{ratio:>9.1f}"
        )
        print(
            f"{'  floor: static, same size':<34}{'':>7}{floor['median_ms']:>9.1f}{floor['p95_ms']:>9.1f}"
            f"{floor['per_second']:>9.0f}{1:>9.1f}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workdir", type=Path, help="keep the database here (default: a temporary folder)")
    options = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if options.workdir is not None:
        options.workdir.mkdir(parents=True, exist_ok=True)
        results = asyncio.run(measure(options.workdir, options.responses, options.requests, options.concurrency))
    else:
        with tempfile.TemporaryDirectory() as folder:
            args = (Path(folder), options.responses, options.requests, options.concurrency)
            results = asyncio.run(measure(*args))
    report(results, options.concurrency)


if __name__ == "__main__":
    main()
