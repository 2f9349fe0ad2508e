"""Load benchmark: N simulated citizens take the survey at once through the real Telegram channel, beside two
floors measured in the same run against the same fake Bot API (bench/fake_bot_api.py, its own process):

- the PTB floor (bench/floor_ptb.py): a python-telegram-bot echo at its fastest (the project's AiohttpRequest,
  concurrent updates, a polled batch handled at once);
- the aiohttp floor (bench/floor_aiohttp.py): a plain aiohttp getUpdates/sendMessage long-poll loop.

    python -m bench.load [--citizens 100 500] [--database-url postgresql+asyncpg://postgres@127.0.0.1/bench]

For each number of citizens, in closed loop (each answers as soon as the bot replies): answers per second, p50/p99
reply latency and the bot's CPU time per answer (process CPU from the first message to the last reply, / answers),
for the survey and both floors, and the survey's figures as ratios to each floor. Then the survey paced as people
answer (--think seconds per answer), and the survey on a database that already holds --stored responses against
the same run on an empty one. Lost and doubled answers are counted in the database after every survey run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.export import answer_rows, answers_of
from conversations.definition import load_directory
from conversations.status import Status
from storage.models import Answer, InboxEvent, Period, Response, Unit

ROOT = Path(__file__).resolve().parents[1]
SURVEY = "khao-sat-nguoi-dan"
SEEDED = "bench-seed"
"""The questionnaire version of the responses seeded for the stored-data run (left out of the lost/doubled count)."""
SEEDED_IDS = 1_000_000
"""The seeded responses' ids start here, far above the run's own."""
ANSWER_FIELDS = ("response_id", "question_id", "value", "value_text", "points")
ADMIN = 900
"""The Telegram user id of the admin who asks for the export."""

Prepare = Callable[[], Awaitable[None]]


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


async def database_cpu(url: str | None) -> dict[int, float]:
    """PostgreSQL on this machine: the CPU seconds so far of each server process serving the run's database (the
    bots' pooled connections), to count the database's work per answer beside the bot's, as SQLite's is counted in
    the bot's own CPU; nothing for SQLite or a server elsewhere."""
    if url is None or not url.startswith("postgresql"):
        return {}
    connection = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        query = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        pids = [row["pid"] for row in await connection.fetch(query)]
    finally:
        await connection.close()
    return {pid: cpu_seconds(pid) for pid in pids if Path(f"/proc/{pid}/stat").exists()}


def spent(before: dict[int, float], after: dict[int, float]) -> float | None:
    """The CPU the database's processes spent between two readings (a connection opened between them counts whole)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items()) if after else None


async def start(*args: str, env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    """A process of the run; its output is dropped, or appended to the file BENCH_LOG names (to see a bot's log)."""
    log = os.environ.get("BENCH_LOG")
    with open(log, "ab") if log else open(os.devnull, "wb") as output:
        return await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=output, stderr=output
        )


async def control(port: int, action: str, timeout: float = 900) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(
                    f"http://127.0.0.1:{port}/control/{action}", timeout=aiohttp.ClientTimeout(total=timeout)
                ) as response:
                    result: dict[str, Any] = await response.json()
                    return result
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    raise RuntimeError("the fake Bot API server did not start")


async def run_load(
    mode: str,
    citizens: int,
    bot_command: list[str],
    env: dict[str, str],
    rounds: int,
    think: tuple[float, float],
    prepare: Prepare | None = None,
    export_after: float | None = None,
) -> dict[str, Any]:
    port = free_port()
    options = {"--port": port, "--citizens": citizens, "--mode": mode, "--rounds": rounds, "--admin": ADMIN}
    if export_after is not None:
        options["--export-after"] = export_after
    arguments = [str(part) for option in options.items() for part in option]
    api = await start("bench/fake_bot_api.py", *arguments, "--think", str(think[0]), str(think[1]))
    bot = None
    try:
        await control(port, "up")  # the bot must find the server listening, or it gives up at its first call
        bot = await start(*bot_command, env={**env, "PBGDPL_TELEGRAM_BASE_URL": f"http://127.0.0.1:{port}/bot"})
        await control(port, "ready")
        if prepare is not None:
            await prepare()
        await asyncio.sleep(0.5)  # let the first long poll settle
        cpu_before = cpu_seconds(bot.pid)  # start-up (imports, migrations, seeding) is not the answers' cost
        database_before = await database_cpu(env.get("PBGDPL_DATABASE_URL"))
        await control(port, "begin")
        result = await control(port, "wait")
        result["bot_cpu_seconds"] = cpu_seconds(bot.pid) - cpu_before
        result["database_cpu_seconds"] = spent(database_before, await database_cpu(env.get("PBGDPL_DATABASE_URL")))
        result["peak_rss_mb"] = peak_rss_mb(bot.pid)
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
        query = select(Response.status, Response.state).where(Response.questionnaire_version != SEEDED)
        rows = (await connection.execute(query)).all()
    await engine.dispose()
    submitted = [json.dumps(state["answers"], sort_keys=True) for status, state in rows if status is Status.SUBMITTED]
    usual = Counter(submitted).most_common(1)[0][1] if submitted else 0
    return citizens - len(submitted), len(submitted) - usual


async def seed_stored(url: str, count: int, with_answers: bool = False) -> None:
    """`count` earlier responses (nine in ten submitted) from other people over the units in force, and as many
    recently applied updates in the inbox: what a database holds after a season (PostgreSQL's statistics
    gathered, as autovacuum does after a load this size). `with_answers`: the submitted ones' rows in the answers
    table too, as an export reads them."""
    engine = create_async_engine(url)
    rng = random.Random(17)
    now = datetime.now(UTC)
    qn = load_directory(ROOT / "presets" / "questionnaires")[SURVEY]
    async with engine.begin() as connection:
        period = (await connection.execute(select(Period.code).where(Period.is_open.is_(True)))).scalar_one()
        units = (await connection.execute(select(Unit.code).where(Unit.kind == "commune"))).scalars().all()
        for first in range(0, count, 5000):
            responses, updates, rows = [], [], []
            for n in range(first, min(first + 5000, count)):
                unit, respondent = rng.choice(units), f"{rng.getrandbits(256):064x}"
                at = now - timedelta(hours=rng.uniform(0, 20))
                submitted = n % 10 != 0
                answers = answers_of(qn, rng, skip_text=0.9)
                if submitted and with_answers:
                    rows += [
                        dict(zip(ANSWER_FIELDS, row, strict=True)) for row in answer_rows(qn, SEEDED_IDS + n, answers)
                    ]
                responses.append(
                    {
                        "id": SEEDED_IDS + n,
                        "dedupe_key": f"{SURVEY}|{period}|{unit}|{respondent}",
                        "questionnaire_id": SURVEY,
                        "questionnaire_version": SEEDED,
                        "period_code": period,
                        "unit_code": unit,
                        "respondent": respondent,
                        "status": Status.SUBMITTED if submitted else Status.DRAFT,
                        "state": {"answers": answers, "position": None},
                        "created_at": at,
                        "updated_at": at,
                        "submitted_at": at if submitted else None,
                    }
                )
                updates.append({"channel": "telegram", "update_key": f"seed-{n}", "received_at": at, "done_at": at})
            await connection.execute(insert(Response), responses)
            await connection.execute(insert(InboxEvent), updates)
            if rows:
                await connection.execute(insert(Answer), rows)
        if engine.dialect.name == "postgresql":  # what autovacuum does soon after such a load: planning on the rows
            await connection.execute(text("ANALYZE responses, inbox, answers"))
    await engine.dispose()


def summary(result: dict[str, Any]) -> dict[str, Any]:
    latencies = result["latencies"] or [float("nan")]
    return {
        "per_second": result["answers"] / result["seconds"],
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "cpu_ms": result["bot_cpu_seconds"] / max(result["answers"], 1) * 1000,
        "database_cpu_ms": (
            None
            if result.get("database_cpu_seconds") is None
            else result["database_cpu_seconds"] / max(result["answers"], 1) * 1000
        ),
        "seconds": result["seconds"],
        "done": result["done"],
        "peak_rss_mb": result["peak_rss_mb"],
        "export_seconds": result.get("export_seconds"),
        "export_reply": result.get("export_reply"),
        "calls_per_answer": sum(n for m, n in result["calls"].items() if m != "getUpdates") / max(result["answers"], 1),
        "polls_per_answer": result["calls"].get("getUpdates", 0) / max(result["answers"], 1),
        "fetched_per_answer": result["fetched"] / max(result["answers"], 1),
        "export_during": result.get("export_during"),
    }


async def fresh_database(base_url: str | None, data_dir: Path, label: str) -> str:
    """A new empty database for one scenario: a SQLite file, or a new PostgreSQL database beside `base_url`, named
    after it (`<its name>_<label>`), so runs given different names never drop each other's databases."""
    if base_url is None:
        return f"sqlite+aiosqlite:///{data_dir / 'pbgdpl.sqlite3'}"
    server, given = base_url.rsplit("/", 1)
    name = f"{given}_{label}"
    admin = await asyncpg.connect(server.replace("postgresql+asyncpg://", "postgresql://") + "/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"{server}/{name}"


def bot_env(url: str, data_dir: Path) -> dict[str, str]:
    return {
        "PBGDPL_TELEGRAM_TOKEN": "42:bench",
        "PBGDPL_DATA_DIR": str(data_dir),
        "PBGDPL_DATABASE_URL": url,
        "PBGDPL_SECRET": "bench",
        "PBGDPL_CONSOLE": "false",
        "PBGDPL_HTTP_PORT": str(free_port()),
        "PBGDPL_LOG_LEVEL": "WARNING",
        "PBGDPL_ADMINS": f"telegram:{ADMIN}",
    }


async def scaled_run(processes: int, n: int, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """`processes` bot processes in Telegram webhook mode on one PostgreSQL database, the fake Bot API posting the
    updates to their webhooks in turn (the round-robin a reverse proxy does). Migrations run once before; the
    processes start one after another (the first start also writes the preset units and the period) and share
    the server secret, the webhook secret and the data folder."""
    label = f"scale_{processes}_{n}"
    data_dir = tmp / label
    url = await fresh_database(args.database_url, data_dir, label)
    port = free_port()
    envs = [bot_env(url, data_dir) for _ in range(processes)]
    hooks = [f"http://127.0.0.1:{env['PBGDPL_HTTP_PORT']}/webhooks/telegram" for env in envs]
    arguments = ["--port", port, "--citizens", n, "--mode", "survey", "--admin", ADMIN, "--webhooks", *hooks]
    api = await start("bench/fake_bot_api.py", *[str(a) for a in arguments])
    bots: list[asyncio.subprocess.Process] = []
    shared = {
        "PBGDPL_TELEGRAM_BASE_URL": f"http://127.0.0.1:{port}/bot",
        "PBGDPL_TELEGRAM_WEBHOOK_URL": "https://bench.invalid/webhooks/telegram",  # the proxy's public address
        "PBGDPL_TELEGRAM_WEBHOOK_SECRET": "bench-webhook-secret",
    }
    try:
        await control(port, "up")
        migrate = await start("-m", "bot.cli", "migrate", env=envs[0])
        await migrate.wait()
        for count, env in enumerate(envs, 1):
            bots.append(await start("-m", "bot.cli", "run", env={**env, **shared}))
            await control(port, f"registered?count={count}")
        await asyncio.sleep(0.5)
        cpu_before = [cpu_seconds(bot.pid) for bot in bots]
        database_before = await database_cpu(url)
        await control(port, "begin")
        result = await control(port, "wait")
        result["bot_cpu_seconds"] = sum(cpu_seconds(b.pid) - c for b, c in zip(bots, cpu_before, strict=True))
        result["database_cpu_seconds"] = spent(database_before, await database_cpu(url))
        result["peak_rss_mb"] = max(peak_rss_mb(bot.pid) for bot in bots)
    finally:
        for process in (*bots, api):
            if process.returncode is None:
                process.terminate()
                await process.wait()
    figures = summary(result)
    figures["lost"], figures["doubled"] = await check_answers(url, n)
    figures["redeliveries"] = result["redeliveries"]
    return figures


async def survey_run(
    n: int, think: tuple[float, float], args: argparse.Namespace, tmp: Path, stored: int = 0, export: bool = False
) -> dict[str, Any]:
    """One survey run; `export`: the stored responses come with their answers, and an admin asks for the survey
    workbook of all of them ten seconds after the start."""
    label = f"{n}_{int(think[1])}_{stored}_{int(export)}"
    data_dir = tmp / f"run-{label}"
    url = await fresh_database(args.database_url, data_dir, label)
    env = bot_env(url, data_dir)
    command = os.environ.get("BENCH_BOT", "-m bot.cli run").split()

    async def prepare() -> None:
        await seed_stored(url, stored, with_answers=export)

    export_after = 10.0 if export else None
    result = summary(await run_load("survey", n, command, env, 0, think, prepare if stored else None, export_after))
    result["lost"], result["doubled"] = await check_answers(url, n)
    return result


async def floor_run(script: str, n: int, rounds: int) -> dict[str, Any]:
    return summary(await run_load("echo", n, [script], {}, rounds, (0.0, 0.0)))


def figures(result: dict[str, Any]) -> str:
    return (
        f"{result['per_second']:.0f} answers/s, p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, "
        f"CPU {result['cpu_ms']:.2f} ms/answer, {result['calls_per_answer']:.2f} Bot API calls/answer "
        f"(and {result['polls_per_answer']:.2f} getUpdates returning {result['fetched_per_answer']:.2f} updates)"
    )


def survey_line(result: dict[str, Any]) -> str:
    database = result["database_cpu_ms"]
    return (
        f"{figures(result)}"
        + ("" if database is None else f", PostgreSQL's CPU {database:.2f} ms/answer")
        + f", peak memory {result['peak_rss_mb']:.0f} MB, "
        f"finished {result['done']:.0f}, lost {result['lost']}, doubled {result['doubled']}"
    )


def ratios(survey: dict[str, float], floor: dict[str, float]) -> str:
    """Above 1 is better for answers/s; the latency and CPU ratios are how many times the floor's."""
    return (
        f"answers/s {survey['per_second'] / floor['per_second']:.2f}×, p50 {survey['p50_ms'] / floor['p50_ms']:.1f}×, "
        f"p99 {survey['p99_ms'] / floor['p99_ms']:.1f}×, CPU/answer {survey['cpu_ms'] / floor['cpu_ms']:.1f}×"
    )


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--citizens", type=int, nargs="*", default=[100, 500], help="none: no closed-loop run")
    parser.add_argument("--think", type=float, nargs=2, default=(5.0, 15.0), metavar=("MIN", "MAX"))
    parser.add_argument("--paced-citizens", type=int, default=500, help="0: no paced run")
    parser.add_argument(
        "--paced-export", type=int, default=100_000, help="responses exported during a paced run; 0: none"
    )
    parser.add_argument("--stored", type=int, default=100_000, help="responses already stored; 0: no such run")
    parser.add_argument("--stored-citizens", type=int, default=100, help="one of --citizens")
    parser.add_argument("--echo-rounds", type=int, default=16, help="messages per person for the floors")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL URL; SQLite when not given")
    parser.add_argument("--scale-citizens", type=int, default=500, help="PostgreSQL: 1 and 2 webhook processes; 0: no")
    args = parser.parse_args()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"{backend}: start, {load_note()}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.citizens:  # the floors and the survey side by side, so the machine's load is alike
            ptb = await floor_run("bench/floor_ptb.py", n, args.echo_rounds)
            plain = await floor_run("bench/floor_aiohttp.py", n, args.echo_rounds)
            survey = await survey_run(n, (0.0, 0.0), args, Path(tmp))
            print(f"{backend}, {n} citizens, closed loop ({load_note()}):", flush=True)
            print(f"  PTB floor      {figures(ptb)}", flush=True)
            print(f"  aiohttp floor  {figures(plain)}", flush=True)
            print(f"  survey bot     {survey_line(survey)}", flush=True)
            print(f"  survey / PTB floor      {ratios(survey, ptb)}", flush=True)
            print(f"  survey / aiohttp floor  {ratios(survey, plain)}", flush=True)
            if args.stored and n == args.stored_citizens:  # right after the empty run, under the same load
                full = await survey_run(n, (0.0, 0.0), args, Path(tmp), stored=args.stored)
                print(f"  survey, {args.stored:,} responses stored  {survey_line(full)}", flush=True)
                print(
                    f"  stored / empty          answers/s {full['per_second'] / survey['per_second']:.2f}×, "
                    f"CPU/answer {full['cpu_ms'] / survey['cpu_ms']:.2f}×",
                    flush=True,
                )
        if args.paced_citizens and args.think[1] > 0:
            n, think = args.paced_citizens, tuple(args.think)
            paced = await survey_run(n, think, args, Path(tmp))
            print(f"{backend}, {n} citizens, {think[0]:g}–{think[1]:g} s to answer: {survey_line(paced)}", flush=True)
            if args.paced_export:
                busy = await survey_run(n, think, args, Path(tmp), stored=args.paced_export, export=True)
                took = busy["export_seconds"]
                print(
                    f"  the same while an admin exports {args.paced_export:,} responses: {survey_line(busy)}; "
                    + (
                        f"workbook sent after {took:.0f} s"
                        if took
                        else f"no workbook sent (the bot said: {busy['export_reply']!r})"
                    )
                    + ("" if busy["export_during"] else " (after the last citizen finished)"),
                    flush=True,
                )
                print(
                    f"  with the export / without  p50 {busy['p50_ms'] / paced['p50_ms']:.1f}×, "
                    f"p99 {busy['p99_ms'] / paced['p99_ms']:.1f}×",
                    flush=True,
                )
        if args.database_url and args.scale_citizens:
            n = args.scale_citizens
            ptb = await floor_run("bench/floor_ptb.py", n, args.echo_rounds)
            one = await scaled_run(1, n, args, Path(tmp))
            two = await scaled_run(2, n, args, Path(tmp))
            print(f"{backend}, {n} citizens, closed loop, Telegram webhook mode ({load_note()}):", flush=True)
            print(f"  PTB floor (long polling)  {figures(ptb)}", flush=True)
            for processes, result in ((1, one), (2, two)):
                print(
                    f"  {processes} bot process{'es' if processes > 1 else ''}  {survey_line(result)}, "
                    f"webhook retries {result['redeliveries']}; / PTB floor: {ratios(result, ptb)}",
                    flush=True,
                )
            print(
                f"  2 processes / 1  answers/s {two['per_second'] / one['per_second']:.2f}×, "
                f"CPU/answer {two['cpu_ms'] / one['cpu_ms']:.2f}×",
                flush=True,
            )
    print(f"{backend}: end, {load_note()}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
