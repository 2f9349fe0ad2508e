"""A user-like test client for the channel-neutral service: type, press, send files, read the replies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.app import open_service
from bot.config import Settings
from bot.messages import Document, Reply, Sender
from bot.render import plain
from bot.service import BotService
from conversations.engine import FileRef, Inbound, Outgoing


class Clock:
    def __init__(self, start: datetime = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def settings_for(data_dir: Path, **overrides: object) -> Settings:
    return Settings(
        data_dir=data_dir, period="2026", secret="test-secret", _env_file=None, **overrides  # type: ignore[call-arg]
    )


@asynccontextmanager
async def running_service(
    data_dir: Path, clock: Callable[[], datetime] | None = None, database_url: str | None = None
) -> AsyncIterator[BotService]:
    async with open_service(settings_for(data_dir, database_url=database_url)) as service:
        service.admins = frozenset({"test:admin"})
        if clock is not None:
            service.clock = clock
        yield service


async def jpeg_of(ref: FileRef) -> bytes:
    """The test channel's file fetcher: a JPEG's first bytes, then the file id (one file id, one digest)."""
    return b"\xff\xd8\xff\xe0" + ref.file_id.encode()


class Chat:
    def __init__(self, service: BotService, user_id: str, channel: str = "test") -> None:
        self.service = service
        self.sender = Sender(channel, user_id, "Người thử")
        self.last: list[Reply] = []

    async def _do(self, inbound: Inbound) -> str:
        self.last = await self.service.handle(self.sender, inbound)
        return self.text

    @property
    def text(self) -> str:
        return "\n\n".join(plain(r) if isinstance(r, Outgoing) else f"[tệp {r.filename}]" for r in self.last)

    @property
    def documents(self) -> list[Document]:
        return [r for r in self.last if isinstance(r, Document)]

    async def send(self, text: str) -> str:
        return await self._do(Inbound(text=text))

    async def press(self, token: str) -> str:
        return await self._do(Inbound(button=token))

    async def send_file(self, file_id: str, name: str = "minh-chung.jpg") -> str:
        """A photo; unless the test gave the channel a fetcher, its bytes are a JPEG's made from the file id."""
        self.service.file_fetchers.setdefault(self.sender.channel, jpeg_of)
        return await self._do(Inbound(files=(FileRef(file_id, "photo", name, "image/jpeg", 2048),)))

    async def answer_all(self, answers: list[str]) -> str:
        for answer in answers:
            await self.send(answer)
        return self.text
