"""Load benchmark: N simulated citizens take the survey at once through the real Telegram channel.

    python -m bench.load --citizens 500 [--database-url postgresql+asyncpg://postgres@127.0.0.1/bench]

Reports answers per second, p50/p99 reply latency, the bot's peak memory, lost and doubled answers, and the
throughput of a bare python-telegram-bot echo bot against the same fake server in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from conversations.status import Status
from storage.models import Response

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def start(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def control(port: int, action: str, timeout: float = 900) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(f"http://127.0.0.1:{port}/control/{action}", timeout=timeout) as response:
                    result: dict[str, Any] = await response.json()
                    return result
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    raise RuntimeError("the fake Bot API server did not start")


async def run_load(
    mode: str, citizens: int, bot_command: list[str], env: dict[str, str], rounds: int, think: tuple[float, float]
) -> dict[str, Any]:
    port = free_port()
    options = {"--port": port, "--citizens": citizens, "--mode": mode, "--rounds": rounds}
    arguments = [str(part) for option in options.items() for part in option]
    api = await start("bench/fake_bot_api.py", *arguments, "--think", str(think[0]), str(think[1]))
    bot = None
    try:
        await control(port, "up")  # the bot must find the server listening, or it gives up at its first call
        bot = await start(*bot_command, env={**env, "PBGDPL_TELEGRAM_BASE_URL": f"http://127.0.0.1:{port}/bot"})
        await control(port, "ready")
        await asyncio.sleep(0.5)  # let the first long poll settle
        await control(port, "begin")
        result = await control(port, "wait")
        result["peak_rss_mb"] = peak_rss_mb(bot.pid)
        result["bot_cpu_seconds"] = cpu_seconds(bot.pid)
        return result
    finally:
        for process in (bot, api):
            if process is not None and process.returncode is None:
                process.terminate()
                await process.wait()


async def check_answers(url: str, citizens: int) -> tuple[int, int]:
    """(lost, doubled): responses not submitted, and submitted responses whose answers differ from the rest."""
    engine = create_async_engine(url)
    async with engine.connect() as connection:
        rows = (await connection.execute(select(Response.status, Response.state))).all()
    await engine.dispose()
    submitted = [json.dumps(state["answers"], sort_keys=True) for status, state in rows if status is Status.SUBMITTED]
    usual = Counter(submitted).most_common(1)[0][1] if submitted else 0
    return citizens - len(submitted), len(submitted) - usual


def summary(result: dict[str, Any]) -> dict[str, float]:
    latencies = result["latencies"] or [float("nan")]
    return {
        "per_second": result["answers"] / result["seconds"],
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "seconds": result["seconds"],
        "done": result["done"],
        "peak_rss_mb": result["peak_rss_mb"],
        "cpu_share": result["bot_cpu_seconds"] / result["seconds"],
    }


async def fresh_database(base_url: str | None, data_dir: Path, name: str) -> str:
    """A new empty database for one scenario: a SQLite file, or a new PostgreSQL database beside `base_url`."""
    if base_url is None:
        return f"sqlite+aiosqlite:///{data_dir / 'pbgdpl.sqlite3'}"
    server = base_url.rsplit("/", 1)[0]
    admin = await asyncpg.connect(server.replace("postgresql+asyncpg://", "postgresql://") + "/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"{server}/{name}"


async def survey_run(n: int, think: tuple[float, float], args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    label = f"{n}-{int(think[1])}"
    data_dir = tmp / f"run-{label}"
    url = await fresh_database(args.database_url, data_dir, f"pbgdpl_bench_{label.replace('-', '_')}")
    env = {
        "PBGDPL_TELEGRAM_TOKEN": "42:bench",
        "PBGDPL_DATA_DIR": str(data_dir),
        "PBGDPL_DATABASE_URL": url,
        "PBGDPL_SECRET": "bench",
        "PBGDPL_CONSOLE": "false",
        "PBGDPL_HTTP_PORT": str(free_port()),
        "PBGDPL_LOG_LEVEL": "WARNING",
    }
    command = os.environ.get("BENCH_BOT", "-m bot.cli run").split()
    result = summary(await run_load("survey", n, command, env, 0, think))
    result["lost"], result["doubled"] = await check_answers(url, n)
    return result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--citizens", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--think", type=float, nargs=2, default=(5.0, 15.0), metavar=("MIN", "MAX"))
    parser.add_argument("--database-url", default=None, help="a PostgreSQL URL; SQLite when not given")
    parser.add_argument("--echo-rounds", type=int, default=15)
    args = parser.parse_args()
    backend = "PostgreSQL" if args.database_url else "SQLite"

    echo = summary(await run_load("echo", 200, ["bench/echo_bot.py"], {}, args.echo_rounds, (0.0, 0.0)))
    print(f"floor: bare python-telegram-bot echo bot, 200 users: {echo['per_second']:.0f} replies/s")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.citizens:
            for think in dict.fromkeys([(0.0, 0.0), tuple(args.think)]):  # each pace once (--think 0 0)
                result = await survey_run(n, think, args, Path(tmp))
                pace = "no pause (closed loop)" if think[1] == 0 else f"{think[0]:g}–{think[1]:g} s to answer"
                print(
                    f"{backend}, {n} citizens, {pace}: {result['per_second']:.0f} answers/s "
                    f"({result['per_second'] / echo['per_second']:.0%} of the echo bot), "
                    f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, "
                    f"peak memory {result['peak_rss_mb']:.0f} MB, bot CPU {result['cpu_share']:.0%}, "
                    f"finished {result['done']}/{n}, lost {result['lost']}, doubled {result['doubled']}",
                    flush=True,
                )


if __name__ == "__main__":
    asyncio.run(main())
