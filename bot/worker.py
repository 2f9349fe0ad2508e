"""Heavy work runs in a worker process with a time and memory limit: parsing a workbook or building an export holds
the GIL (a thread would still stall every conversation), and a hostile file must not take the bot's memory or time.
Uploaded files are read here, and exports built (bot.commands.export)."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

T = TypeVar("T")
TIME_LIMIT = 20.0
MEMORY_LIMIT = 1 << 30
"""The worker's address space: far above what a workbook within the size limits needs."""
WORKERS = 2
"""At most this many files read at once; further uploads wait their turn."""
NICENESS = 10
"""How much lower a worker's CPU priority is than the bot's: on a machine with few cores an export must not take
the CPU the conversations need (it only takes what they leave)."""
TIMED_OUT = "Đọc tệp quá lâu (hơn {seconds:g} giây) nên bot đã dừng. Tệp có thể quá lớn hoặc hỏng."
DIED = "Không đọc được tệp: tệp quá lớn hoặc hỏng."

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(
    ["bot.worker_preload", "openpyxl", "pyxform.xls2xform", "conversations.xlsform", "bot.units", "exports.jobs"]
)
_slots: asyncio.Semaphore | None = None


class WorkerError(Exception):
    """The worker did not finish: the Vietnamese reason."""


def _child(sender: Connection, memory_limit: int, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    os.nice(NICENESS)
    try:
        result: tuple[bool, Any] = (True, function(*args))
    except Exception as exc:  # sent back and raised in the bot, where the caller handles its own kinds
        result = (False, exc)
    try:
        sender.send(result)
    except Exception:  # a result or an error that does not pickle
        sender.send((False, WorkerError(DIED)))


def warm() -> None:
    """Start the fork server and its imports now, so that the first upload does not wait for them."""
    process = _CONTEXT.Process(target=int, daemon=True)
    process.start()
    process.join()


async def in_worker(
    function: Callable[..., T], *args: Any, time_limit: float = TIME_LIMIT, memory_limit: int = MEMORY_LIMIT
) -> T:
    """`function(*args)` run in a worker process with at most `memory_limit` bytes of address space; what it raises
    is raised here, WorkerError if it takes longer than `time_limit` seconds or dies."""
    global _slots
    _slots = _slots or asyncio.Semaphore(WORKERS)
    async with _slots:
        receiver, sender = _CONTEXT.Pipe(duplex=False)
        process = _CONTEXT.Process(target=_child, args=(sender, memory_limit, function, args), daemon=True)
        try:
            await asyncio.to_thread(process.start)  # the first start waits for the fork server to import
            sender.close()
            if not await asyncio.to_thread(receiver.poll, time_limit):
                raise WorkerError(TIMED_OUT.format(seconds=time_limit))
            try:
                done, value = await asyncio.to_thread(receiver.recv)  # a workbook is megabytes
            except (EOFError, OSError):
                raise WorkerError(DIED) from None
        finally:
            if process.is_alive():
                process.kill()
            await asyncio.to_thread(process.join)
            receiver.close()
    if not done:
        raise value
    return value  # type: ignore[no-any-return]
