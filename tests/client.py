"""A user-like test client for the channel-neutral service: type, press, send files, read the replies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from bot.app import open_service
from bot.config import Settings
from bot.messages import Document, Reply, Sender
from bot.render import plain
from bot.service import BotService
from conversations.engine import FileRef, Inbound, Outgoing
from tests.fakes.local import free_port


class Clock:
    def __init__(self, start: datetime = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


ROOT = Path(__file__).resolve().parents[1]
SHIPPED_UNITS = ROOT / "presets" / "units"
ONE_OF_EACH = [
    {"questionnaire": "tu-danh-gia", "units": "all"},
    {"questionnaire": "khao-sat-nguoi-dan", "kind": "commune"},
]
"""What a test's period runs unless it says otherwise (units_dir=SHIPPED_UNITS for the shipped preset's): one
self-assessment for every unit and the citizen survey for the communes, as the bot ran before assignments."""


OFFICES = "hau-loc-2025-co-quan-xa.yaml"
"""The shipped preset's template of the communes' specialised offices (15 departments)."""


def one_of_each(data_dir: Path) -> Path:
    """The shipped unit presets without the communes' offices (OFFICES: the tests on them were written for five
    communes), with the period's assignments ONE_OF_EACH."""
    folder = data_dir / "units-one-of-each"
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(p for p in SHIPPED_UNITS.glob("*.yaml") if p.name != OFFICES):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "assignments" in data:
            data["assignments"] = ONE_OF_EACH
        (folder / path.name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def settings_for(data_dir: Path, **overrides: object) -> Settings:
    overrides.setdefault("units_dir", one_of_each(data_dir))
    return Settings(
        data_dir=data_dir,
        period="2026",
        secret="test-secret",
        _env_file=None,
        **overrides,  # type: ignore[call-arg]
    )


def public_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for a web app on a free loopback port that is also its public address (PBGDPL_PUBLIC_URL, what the
    posters print)."""
    port = free_port()
    return settings_for(data_dir, http_port=port, public_url=f"http://127.0.0.1:{port}", **overrides)


@asynccontextmanager
async def running_service(
    data_dir: Path, clock: Callable[[], datetime] | None = None, database_url: str | None = None
) -> AsyncIterator[BotService]:
    async with open_service(settings_for(data_dir, database_url=database_url)) as service:
        service.admins = frozenset({"test:admin"})
        if clock is not None:
            service.clock = clock
        yield service


class SentFiles:
    """A test channel in the service's registry, fetching the files "sent" there: by `fetch` when given, else by id
    from `files`; any other id is a JPEG's first bytes, then the id (one file id, one digest)."""

    def __init__(
        self,
        service: BotService,
        files: dict[str, bytes] | None = None,
        channel: str = "test",
        fetch: Callable[[FileRef], Awaitable[bytes]] | None = None,
    ) -> None:
        self.name = channel
        self.files = dict(files or {})
        self.fetch = fetch
        service.channels.add(self)

    async def fetch_file(self, ref: FileRef) -> bytes:
        if self.fetch is not None:
            return await self.fetch(ref)
        return self.files.get(ref.file_id) or b"\xff\xd8\xff\xe0" + ref.file_id.encode()

    def deep_link(self, payload: str) -> str | None:
        return None


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

    async def tap(self, label: str) -> str:
        """Press a button by the label a user sees on the latest replies, as aiogram_dialog's test client does: a
        choice (with or without the number shown before it) or an action such as "Bỏ qua"."""
        shown: list[str] = []
        for reply in reversed(self.last):
            if not isinstance(reply, Outgoing):
                continue
            for n, choice in enumerate(reply.choices, start=1):
                if label in (choice.label, f"{n}. {choice.label}"):
                    return await self.press(choice.token)
            for action in reply.actions:
                if action.label == label:
                    return await self.press(action.token)
            shown += [c.label for c in reply.choices] + [a.label for a in reply.actions]
        raise AssertionError(f"no button {label!r} on the latest replies; buttons: {shown}")

    async def send_file(self, file_id: str, name: str = "minh-chung.jpg") -> str:
        """A photo; unless the test gave the channel its files, its bytes are a JPEG's made from the file id."""
        if self.sender.channel not in self.service.channels:
            SentFiles(self.service, channel=self.sender.channel)
        return await self._do(Inbound(files=(FileRef(file_id, "photo", name, "image/jpeg", 2048),)))

    async def answer_all(self, answers: list[str]) -> str:
        for answer in answers:
            await self.send(answer)
        return self.text
