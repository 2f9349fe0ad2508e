"""Per-person order, the one primitive for it: one person's work runs one piece at a time, in the order it was
given, while different people go at the same time. The service applies each message in the sender's turn; a
channel's inbox (webhook events and polled updates) and the outbox's sends are queued through it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

log = logging.getLogger(__name__)


class PersonOrder:
    """One asyncio lock per person (dropped when nobody holds or waits for it; asyncio's locks are first come,
    first served), and the tasks queued in people's turns."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def turn(self, person: str) -> AsyncIterator[None]:
        """Wait for the person's earlier work, then hold their turn."""
        lock, users = self._locks.get(person, (asyncio.Lock(), 0))
        self._locks[person] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[person]
            if users == 1:
                del self._locks[person]
            else:
                self._locks[person] = (lock, users - 1)

    def later(self, person: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run `work` in the person's turn, after everything queued for them before; a failure is logged."""
        task = asyncio.create_task(self._run(person, work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, person: str, work: Callable[[], Awaitable[None]]) -> None:
        async with self.turn(person):  # the task's first step: tasks start in the order they were made
            try:
                await work()
            except Exception:
                log.exception("failed to handle a message")

    async def join(self) -> None:
        """Wait until everything queued so far (and anything queued meanwhile) is done."""
        while self._tasks:
            await asyncio.gather(*self._tasks)

    async def cancel(self) -> None:
        """Cut short everything queued (a shutdown), as a crash would, and wait until it has stopped."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def __len__(self) -> int:
        return len(self._locks)
