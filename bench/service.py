"""The service alone: N citizens take the citizen survey at once through `BotService.handle`, in one process, with no
channel and no Bot API (what a channel hands over and what comes back), on SQLite in a temporary folder.

    python -m bench.service [--citizens 100] [--rounds 8] [--profile out.prof]

Each citizen does what bench/fake_bot_api.py's do (half scan the unit's QR code, half type /khaosat and pick the
unit, then "1" to every question and "nộp" at the review). One warm-up round, then `--rounds` rounds of fresh
citizens; the CPU time per message of each round is printed as the least and the median of the rounds, which on a
shared machine says more than one long run: compare builds run one after another, never figures of different days.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import re
import statistics
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

from bot.app import open_service
from bot.config import Settings
from bot.messages import Sender
from bot.render import plain
from bot.service import BotService
from conversations.engine import Inbound, Outgoing

UNIT = "16012"
"""The commune whose survey the citizens answer (as bench/fake_bot_api.py's --unit)."""
QUESTION = re.compile(r"(^|\n)【?Câu \d")


def _next(replies: list[str]) -> str | None:
    """What the citizen sends next, from the bot's replies (the last that asks something); None when submitted."""
    for said in reversed(replies):
        if "Đã nộp phiếu" in said:
            return None
        if said.startswith("Bạn đang sống hoặc tham gia hoạt động ở xã/phường nào?"):
            return UNIT
        if "Xem lại trước khi nộp" in said:
            return "nộp"
        if QUESTION.search(said):
            return "1"
    raise AssertionError(f"the bot asked nothing: {replies}")


async def _citizen(service: BotService, user_id: int) -> int:
    """One citizen's whole survey; the number of messages sent."""
    sender = Sender("telegram", str(user_id), "Người thử")
    text: str | None = "/khaosat" if user_id % 2 else f"/start ks_{UNIT}"
    sent = 0
    while text is not None:
        replies = await service.handle(sender, Inbound(text=text))
        sent += 1
        text = _next([plain(r) for r in replies if isinstance(r, Outgoing)])
    return sent


async def _round(service: BotService, first: int, citizens: int) -> int:
    return sum(await asyncio.gather(*(_citizen(service, first + n) for n in range(citizens))))


async def run(citizens: int, rounds: int, profile: Path | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder), period="2026", secret=SecretStr("bench"), _env_file=None)  # type: ignore[call-arg]
        async with open_service(settings) as service:
            await _round(service, 10**9, citizens)  # warm-up: caches, the writer's connection, first statements
            profiler = cProfile.Profile() if profile is not None else None
            per_message: list[float] = []
            started = time.perf_counter()
            messages = 0
            for number in range(rounds):
                cpu = time.process_time()
                if profiler is not None:
                    profiler.enable()
                sent = await _round(service, number * citizens, citizens)
                if profiler is not None:
                    profiler.disable()
                per_message.append((time.process_time() - cpu) * 1000 / sent)
                messages += sent
            seconds = time.perf_counter() - started
    print(
        f"{citizens} citizens × {rounds} rounds, {messages // rounds} messages a round: CPU per message "
        f"least {min(per_message):.3f} ms, median {statistics.median(per_message):.3f} ms; {messages / seconds:.0f} "
        "messages/s"
    )
    if profiler is not None and profile is not None:
        profiler.dump_stats(profile)
        print(f"profile (cProfile, the rounds only): {profile}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citizens", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--profile", type=Path, default=None, help="write a cProfile of the rounds here")
    args = parser.parse_args()
    asyncio.run(run(args.citizens, args.rounds, args.profile))


if __name__ == "__main__":
    main()
