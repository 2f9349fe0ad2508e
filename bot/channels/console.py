"""A terminal chat for trying the bot with no account: the same service, typed in and printed out."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import mimetypes
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bot import texts
from bot.messages import Document, Reply, Sender
from bot.outbox import SENT, Delivery
from bot.render import plain
from bot.service import BotService
from conversations.engine import FileRef, Inbound, Outgoing

CHANNEL = "console"
BANNER = (
    "pbgdpl-bot – trò chuyện thử trên dòng lệnh.\n"
    "Đổi vai: /as admin · /as officer <mã đơn vị> · /as citizen <mã đơn vị>  (/donvi xem mã)\n"
    "Gửi tệp minh chứng: /file <đường dẫn>  ·  Thoát: /thoat hoặc Ctrl-D\n"
)


class ConsoleChat:
    name = CHANNEL

    def __init__(self, service: BotService, export_dir: Path, output: TextIO = sys.stdout) -> None:
        self.service = service
        self.export_dir = export_dir
        self.output = output
        self.sender = Sender(CHANNEL, "admin", "Quản trị")
        self._citizens = itertools.count(1)
        service.file_fetchers[CHANNEL] = read_file

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
        print(BANNER, file=self.output)
        self.show(await self.service.handle(self.sender, Inbound(text="/start")))
        while True:
            try:
                text = await asyncio.to_thread(read_line)
            except EOFError:
                return
            if not await self.line(text):
                return


async def read_file(ref: FileRef) -> bytes:
    """A file sent with `/file <đường dẫn>`: its id is the path on this machine."""
    return await asyncio.to_thread(Path(ref.file_id).read_bytes)


def _file_ref(path: Path) -> FileRef:
    data = path.read_bytes()
    return FileRef(
        file_id=str(path.resolve()),
        kind="document",
        name=path.name,
        mime=mimetypes.guess_type(path.name)[0],
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )
