"""A terminal chat for trying the bot with no account: the same service, typed in and printed out."""

from __future__ import annotations

import asyncio
import itertools
import mimetypes
import signal
import sys
import threading
from collections.abc import Callable, Coroutine
from contextlib import suppress
from pathlib import Path
from typing import TextIO

from bot import texts
from bot.channels.base import Channel
from bot.messages import Document, Reply, Sender
from bot.outbox import SENT, Delivery
from bot.render import plain
from bot.service import BotService
from conversations.engine import FileRef, Inbound, Outgoing

CHANNEL = "console"
BANNER = (
    "pbgdpl-bot – trò chuyện thử trên dòng lệnh.\n"
    "Đổi vai: /as admin · /as officer <mã đơn vị> · /as citizen <mã đơn vị>  (/donvi xem mã)\n"
    "Gửi tệp minh chứng: /file <đường dẫn>  ·  Thoát: /thoat, Ctrl-D hoặc Ctrl-C\n"
)


class ConsoleChat(Channel):
    name = CHANNEL

    def __init__(self, service: BotService, export_dir: Path, output: TextIO = sys.stdout) -> None:
        super().__init__(service)
        self.export_dir = export_dir
        self.output = output
        self.sender = Sender(CHANNEL, "admin", "Quản trị")
        self._citizens = itertools.count(1)

    async def fetch_file(self, ref: FileRef) -> bytes:
        """A file sent with `/file <đường dẫn>`: its id is the path on this machine."""
        return await asyncio.to_thread(Path(ref.file_id).read_bytes)

    def show(self, replies: list[Reply]) -> None:
        for reply in replies:
            if isinstance(reply, Document):
                self.export_dir.mkdir(parents=True, exist_ok=True)
                path = self.export_dir / reply.filename
                path.write_bytes(reply.content)
                print(f"{reply.caption}\n[Tệp đã lưu: {path}]", file=self.output)
            else:
                print(plain(reply), file=self.output)
            print(file=self.output)

    async def notify(self, platform_id: str, message: Outgoing) -> Delivery:
        """A notification for someone on the console (one of the roles tried here): printed with who it is for."""
        print(f"[Tin nhắn bot gửi {platform_id}]\n{plain(message)}\n", file=self.output)
        return SENT

    async def _show_now(self, replies: list[Reply]) -> None:
        self.show(replies)

    async def line(self, text: str) -> bool:
        """Handle one typed line; False when the user wants to leave."""
        text = text.strip()
        if text in {"/thoat", "/exit", "/quit"}:
            return False
        if text.startswith("/as "):
            self.show(await self._switch(text.split()[1:]))
        elif text.startswith("/file "):
            path = Path(text[6:].strip()).expanduser()
            if not path.is_file():
                print(f"Không tìm thấy tệp {path}\n", file=self.output)
            else:
                ref = _file_ref(path)
                self.show(await self.service.handle(self.sender, Inbound(files=(ref,))))
        elif text:
            self.show(await self.service.handle(self.sender, Inbound(text=text), interim=self._show_now))
        return True

    async def _switch(self, words: list[str]) -> list[Reply]:
        role, unit = [*words, "", ""][:2]
        if role == "admin":
            self.sender = Sender(CHANNEL, "admin", "Quản trị")
            return await self.service.handle(self.sender, Inbound(text="/start"))
        if role == "officer" and unit:
            self.sender = Sender(CHANNEL, f"officer-{unit}", "Cán bộ")
            if await self.service.bind_officer(self.sender, unit) is None:
                return [Outgoing(texts.UNIT_UNKNOWN.format(code=unit))]
            return await self.service.handle(self.sender, Inbound(text="/danhgia"))
        if role == "citizen" and unit:
            self.sender = Sender(CHANNEL, f"citizen-{next(self._citizens)}")
            return await self.service.handle(self.sender, Inbound(text=f"/start ks_{unit}"))
        print("Cách dùng: /as admin · /as officer <mã đơn vị> · /as citizen <mã đơn vị>", file=self.output)
        return []

    async def run(self, read_line: Callable[[], str] = input) -> None:
        """Chat until /thoat, Ctrl-D or Ctrl-C: Ctrl-C leaves at once (a message being handled is rolled back, as in
        a crash), with no traceback."""
        print(BANNER, file=self.output)
        interrupted = asyncio.Event()
        with suppress(NotImplementedError, RuntimeError, ValueError):  # no signals off the main thread or on Windows
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, interrupted.set)
        stop = asyncio.create_task(interrupted.wait())
        try:
            if await _unless(stop, self._start()):
                while await _unless(stop, self._turn(read_line)):
                    pass
        finally:
            stop.cancel()
        if interrupted.is_set():
            print(file=self.output)  # the prompt line ^C was typed on

    async def _start(self) -> bool:
        self.show(await self.service.handle(self.sender, Inbound(text="/start")))
        return True

    async def _turn(self, read_line: Callable[[], str]) -> bool:
        try:
            text = await _in_thread(read_line)
        except EOFError:
            return False
        return await self.line(text)


async def _unless(stop: asyncio.Task[object], work: Coroutine[object, object, bool]) -> bool:
    """The work's result, or False (and the work cancelled) when `stop` finishes first."""
    task = asyncio.ensure_future(work)
    await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        return task.result()
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
    return False


def _in_thread(read_line: Callable[[], str]) -> asyncio.Future[str]:
    """A line read in a daemon thread: a reader still waiting at exit does not hold the process (the default
    executor's threads are waited for, so a Ctrl-C would wait for the Enter key)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str] = loop.create_future()

    def settle(result: str | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result or "")

    def read() -> None:
        try:
            result = read_line()
        except BaseException as exc:  # EOFError, or a KeyboardInterrupt raised in the reader
            with suppress(RuntimeError):  # the loop is closed: the chat is over
                loop.call_soon_threadsafe(settle, None, exc if isinstance(exc, Exception) else EOFError())
            return
        with suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, result, None)

    threading.Thread(target=read, name="console-input", daemon=True).start()
    return future


def _file_ref(path: Path) -> FileRef:
    # the bytes are read once, by the file fetcher; bot.evidence hashes what it keeps
    return FileRef(
        file_id=str(path.resolve()),
        kind="document",
        name=path.name,
        mime=mimetypes.guess_type(path.name)[0],
        size=path.stat().st_size,
    )
