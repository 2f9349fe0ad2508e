"""Which polled Telegram updates may be confirmed: the bookkeeping of pipelined long polling.

The poller keeps fetching while updates are applied, and the offset it sends (which confirms every update below it)
is the first update not finished yet, so an update is confirmed only once it is applied. Telegram then returns again
the updates at or above that offset, in flight or finished: they are skipped here by id. Update ids come in
increasing order, so every id below the highest one seen was seen: "new" is "above the highest seen", and the ids
kept are only those from the offset up (in flight, or finished above one still in flight).

The window is bounded by getUpdates itself: Telegram returns at most 100 updates from the offset, and the offset is
the oldest unfinished one, so at most 100 are ever in flight, and memory stays flat. When those 100 are all in flight
or finished, polling again brings nothing new until the oldest finishes, so the poller waits for that."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

PAGE = 100
"""The most updates getUpdates returns (its default limit)."""


class PollWindow:
    def __init__(self) -> None:
        self._open: deque[int] = deque()
        """The ids from the offset up that have been handed out, in order; finished ones leave from the left."""
        self._done: set[int] = set()
        """Ids in `_open` that are finished but wait behind an unfinished one."""
        self._next: int | None = None
        """One past the highest id seen (None before the first update)."""
        self.progress = asyncio.Event()
        """Set whenever an update finishes: the poller's cue that a poll may bring something new."""
        self.advanced = asyncio.Event()
        """Set whenever the offset moves on: a full page (PAGE updates from the offset) can bring nothing new before."""

    @property
    def offset(self) -> int | None:
        """The offset for getUpdates: the first update not finished (None: nothing seen yet, Telegram's default)."""
        return self._open[0] if self._open else self._next

    @property
    def busy(self) -> bool:
        return bool(self._open)

    def fresh(self, updates: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The updates of a poll not seen before, now counted in flight until `finish`."""
        new = [update for update in updates if self._next is None or update["update_id"] >= self._next]
        if new:
            self._open.extend(update["update_id"] for update in new)
            self._next = max(update["update_id"] for update in new) + 1
        return new

    def finish(self, update_id: int) -> None:
        """The update is applied (or left out): the offset passes it once everything before it is finished too."""
        self._done.add(update_id)
        while self._open and self._open[0] in self._done:
            self._done.remove(self._open.popleft())
            self.advanced.set()
        self.progress.set()

    def cue(self, page: list[dict[str, Any]]) -> asyncio.Event:
        """What to wait for after a poll that brought nothing new while updates are in flight (Telegram answers at
        once then): a full page is the same updates again until the offset moves; a shorter one may gain a new
        update at any time, most likely once one finishes (closed loop, its reply brings the sender's next)."""
        return self.advanced if len(page) >= PAGE else self.progress

    def clear(self) -> None:
        """Before a poll: what happens from now on is news to it."""
        self.progress.clear()
        self.advanced.clear()
