"""Pipelined long polling: the channel keeps polling while updates are applied, and still confirms an update only
once it is applied; one person's updates are applied in order across polls, an update Telegram returns again while
in flight is applied once, and after a crash mid-batch the unfinished updates come again."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.app import open_service
from bot.channels.telegram import TelegramChannel
from bot.channels.telegram_poll import PAGE, PollWindow
from bot.channels.telegram_updates import TelegramUpdate
from bot.service import BotService
from tests.client import settings_for
from tests.fakes.telegram import FakeTelegram

CITIZEN_A, CITIZEN_B, CITIZEN_C = 3003, 3004, 3005


def test_the_offset_is_the_first_unfinished_update_and_updates_seen_are_skipped() -> None:
    window = PollWindow()
    assert window.offset is None and not window.busy
    first = [{"update_id": n} for n in (7, 8, 9)]
    assert window.fresh(first) == first
    assert window.offset == 7 and window.busy
    window.finish(8)
    assert window.offset == 7, "8 is done, but 7 is not: nothing is confirmed"
    again = [{"update_id": n} for n in (7, 8, 9, 10)]
    assert window.fresh(again) == [{"update_id": 10}], "in flight (7, 9) or done above the offset (8): skipped"
    window.finish(7)
    assert window.offset == 9
    window.finish(10)
    window.finish(9)
    assert window.offset == 11 and not window.busy
    assert window.fresh([{"update_id": 11}]) == [{"update_id": 11}]


def test_after_a_full_page_of_updates_seen_the_poller_waits_for_the_offset_to_move() -> None:
    window = PollWindow()
    page = [{"update_id": n} for n in range(1, PAGE + 1)]
    window.fresh(page)
    window.clear()
    assert window.cue(page) is window.advanced, "the same page again until the offset moves"
    assert window.cue(page[:10]) is window.progress, "a short page: anything finishing may bring a new update"
    window.finish(5)
    assert window.progress.is_set() and not window.advanced.is_set(), "5 is done, 1 is not: the page is the same"
    window.finish(1)
    assert window.advanced.is_set() and window.offset == 2


class Gated:
    """The channel's apply, recorded, with the updates of some keys held until released."""

    def __init__(self, channel: TelegramChannel) -> None:
        self.channel, self.apply = channel, channel.apply
        self.started: list[str] = []
        self.finished: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    def hold(self, update_id: int) -> asyncio.Event:
        return self.gates.setdefault(str(update_id), asyncio.Event())

    async def __call__(self, key: str, event: TelegramUpdate) -> None:
        self.started.append(key)
        if key in self.gates:
            await self.gates[key].wait()
        await self.apply(key, event)
        self.finished.append(key)


@asynccontextmanager
async def polling(tg: FakeTelegram, service: BotService, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Gated]:
    channel = TelegramChannel(service, tg.token, tg.base_url, tg.base_file_url)
    gated = Gated(channel)
    monkeypatch.setattr(channel, "apply", gated)
    await channel.start()
    try:
        yield gated
    finally:
        await channel.stop()


def offsets(tg: FakeTelegram) -> list[object]:
    return [call.params.get("offset") for call in tg.calls_to("getUpdates")]


@asynccontextmanager
async def one_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[FakeTelegram, Gated, int, asyncio.Event]]:
    """A polling channel applying citizen A's first update, held there until the event given is set."""
    async with (
        FakeTelegram() as tg,
        open_service(settings_for(tmp_path)) as service,
        polling(tg, service, monkeypatch) as gated,
    ):
        held = tg.send_text(CITIZEN_A, "/start ks_16012")["update_id"]
        release = gated.hold(held)
        await tg.wait_until(lambda: gated.started == [str(held)])
        yield tg, gated, held, release


async def test_a_persons_message_polled_while_their_previous_one_is_applied_waits_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with one_held(tmp_path, monkeypatch) as (tg, gated, first, release):
        second = tg.send_text(CITIZEN_A, "/khaosat")["update_id"]
        other = tg.send_text(CITIZEN_B, "/start ks_16012")["update_id"]
        await tg.wait_until(lambda: str(other) in gated.finished)
        # polled and applied while the first is held: the next polls went out without waiting for it
        assert str(second) not in gated.started, "a person's next message waits for their previous one"
        polled_again = [offset for offset in offsets(tg) if offset == first]
        assert len(polled_again) >= 2, "polled again (and given the held update again) while it was held"
        assert all(offset is None or offset <= first for offset in offsets(tg)), "never confirmed while held"
        release.set()
        await tg.wait_until(lambda: not tg.pending_updates)
        assert gated.started.index(str(first)) < gated.started.index(str(second))
        assert Counter(gated.started) == {str(first): 1, str(second): 1, str(other): 1}, "each applied once"


async def test_a_crash_mid_batch_leaves_the_unfinished_updates_unconfirmed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with FakeTelegram() as tg, open_service(settings_for(tmp_path)) as service:
        ids = [tg.send_text(citizen, "/start ks_16012")["update_id"] for citizen in (CITIZEN_A, CITIZEN_B, CITIZEN_C)]
        async with polling(tg, service, monkeypatch) as gated:
            gated.hold(ids[1])
            await tg.wait_until(lambda: {str(ids[0]), str(ids[2])} <= set(gated.finished))
            await tg.wait_until(lambda: ids[1] in offsets(tg))
            assert [u["update_id"] for u in tg.pending_updates] == ids[1:], "the first confirmed, the rest not"
            channel = gated.channel
            assert channel._poller is not None
            channel._poller.cancel()  # a crash: the poller and the updates in flight stop where they are
            await channel.inbox.cancel()
            assert [u["update_id"] for u in tg.pending_updates] == ids[1:]
        replies = Counter(call.params["chat_id"] for call in tg.calls_to("sendMessage"))
        async with polling(tg, service, monkeypatch) as restarted:
            await tg.wait_until(lambda: not tg.pending_updates)
            assert restarted.started == [str(ids[1]), str(ids[2])], "delivered again"
        again = Counter(call.params["chat_id"] for call in tg.calls_to("sendMessage")) - replies
        assert set(again) == {CITIZEN_B}, "the finished one was claimed already: applied once"


async def test_at_most_a_polls_limit_of_updates_is_in_flight_however_many_wait(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with one_held(tmp_path, monkeypatch) as (tg, gated, _, release):
        for n in range(150):
            tg.send_text(10_000 + n, "/start ks_16012")
        await tg.wait_until(lambda: len(gated.finished) == 99)
        await asyncio.sleep(0.2)  # polls go on, returning the same 100 updates from the held one
        assert len(gated.started) == 100, "Telegram returns 100 from the offset, the first unfinished update"
        release.set()
        await tg.wait_until(lambda: not tg.pending_updates, timeout=60)
        assert len(gated.finished) == 151
