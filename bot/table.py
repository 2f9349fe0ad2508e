"""The command table: every command, word, file handler and wait, with who may use it and what it is for.

Built once in bot.app and handed to the service (which dispatches through it) and to the channels (the Telegram menu).
The help texts are written from it too, so a command is named in one place. A command can be typed as "/danhgia" on
any channel, or as plain words ("danh gia", "đánh giá") where users rarely type a slash (Zalo); `words` lists those,
compared after fold().
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from bot import texts as t
from bot.messages import Reply, Sender
from bot.waits import KINDS, Waiting
from conversations.engine import Inbound
from conversations.text import fold
from storage.models import Account

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.service import BotService


class Permission(StrEnum):
    ANYONE = "anyone"
    CITIZEN = "citizen"
    """Someone who is neither an officer of a unit nor an admin."""
    OFFICER = "officer"
    """Bound to a unit (an invite redeemed)."""
    STAFF = "staff"
    """An officer or an admin."""
    ADMIN = "admin"
    """The Justice Office: named in PBGDPL_ADMINS, or an admin account."""


@dataclass(frozen=True)
class Role:
    account: Account | None
    is_admin: bool

    @property
    def unit_code(self) -> str | None:
        return self.account.unit_code if self.account else None

    def pick(self, citizen: str, officer: str | None = None, admin: str | None = None) -> str:
        """What to tell this person where the roles are told different things: the Justice Office is never told
        to contact itself, nor staff to answer the citizens' survey."""
        if self.is_admin and admin is not None:
            return admin
        if self.unit_code is not None and officer is not None:
            return officer
        return citizen

    def may(self, permission: Permission) -> bool:
        officer = self.unit_code is not None
        return {
            Permission.ANYONE: True,
            Permission.CITIZEN: not officer and not self.is_admin,
            Permission.OFFICER: officer,
            Permission.STAFF: officer or self.is_admin,
            Permission.ADMIN: self.is_admin,
        }[permission]


REFUSALS = {
    Permission.CITIZEN: t.CITIZEN_ONLY,
    Permission.OFFICER: t.OFFICER_ONLY,
    Permission.STAFF: t.STAFF_ONLY,
    Permission.ADMIN: t.ADMIN_ONLY,
}
"""What a person is told when the command is not theirs."""


def refusal(permission: Permission, role: Role) -> str:
    """What this person is told when the command is not theirs (an admin is not sent to ask for an invite)."""
    return role.pick(REFUSALS[permission], admin=t.OFFICER_ONLY_ADMIN if permission is Permission.OFFICER else None)


Interim = Callable[[list[Reply]], Awaitable[object]]
Later = Callable[[], Awaitable[list[Reply]]]


@dataclass
class Call:
    """One message handed to a handler: inside the message's write transaction `db`, with the sender's `role`
    resolved once and already checked against the handler's permission."""

    service: BotService
    sender: Sender
    actor: str
    db: AsyncSession
    role: Role
    args: list[str] = field(default_factory=list)
    inbound: Inbound | None = None
    """The message itself, for handlers of files and of what a session waits for."""
    later: list[Later] = field(default_factory=list)
    """Work without the database, run once the transaction has committed (a chart, a poster): its replies follow."""
    jobs: list[int] = field(default_factory=list)
    """Long jobs recorded in this transaction (bot.jobs), run after it commits."""
    confirmed: dict[str, Any] | None = None
    """Set when the admin has said yes to what the command asked (bot.confirm): the data it asked with."""

    def after(self, work: Later) -> None:
        self.later.append(work)

    def once_committed(self, effect: Callable[[], object]) -> None:
        """Change what the service holds in memory only once the transaction that stores the change commits."""

        async def run() -> list[Reply]:
            effect()
            return []

        self.after(run)


Handler = Callable[[Call], Awaitable[list[Reply]]]
W = TypeVar("W", bound=Waiting)


@dataclass(frozen=True)
class Command:
    names: tuple[str, ...]
    handler: Handler
    permission: Permission
    description: str
    """One line for the menu and the help."""
    usage: str = ""
    """The arguments, as the help shows them ("<mã đơn vị>")."""
    words: tuple[str, ...] = ()
    listed: bool = True
    """False for a command users reach otherwise (/start, through a link or the platform's button)."""
    shown_to: Permission | None = None
    """Who the help lists it for, when fewer than may use it (the survey: citizens, not staff)."""
    link: Callable[[Sequence[str], Collection[str]], bool] | None = None
    """Whether arguments are what a poster gives to type (an event's `sk1`, a unit's code and a questionnaire in
    use, given the ids in use): its words with them, a link followed on a platform without deep links (Zalo OA), are
    the command also inside a questionnaire."""

    @property
    def name(self) -> str:
        return self.names[0]


@dataclass(frozen=True)
class FileHandler:
    suffix: str
    """A file whose name ends so (".xlsx"), sent outside any questionnaire."""
    handler: Handler
    permission: Permission
    description: str


@dataclass(frozen=True)
class Wait(Generic[W]):
    """What a session can wait for besides answers (a kind of bot.waits): the handler of the next message that is
    not a command, given the wait as stored."""

    kind: str
    handler: Callable[[Call, W], Awaitable[list[Reply]]]
    permission: Permission
    description: str
    answers_words_of: str | None = None
    """The command that asked (by name): its own words typed here are an answer, not the command again (a
    questionnaire named "Tự đánh giá" picked after /danhgia, whose words those are)."""
    stopped: Callable[[W], str] | None = None
    """What /huy says when it ends this wait, where something is kept (the points of a guided pass) or nothing was
    ever to be kept (a preview); otherwise t.NOTHING_CHANGED."""


@dataclass(frozen=True)
class JobKind:
    """A long piece of work a command records (bot.jobs) and the service runs once the message has committed."""

    kind: str
    make: Callable[[BotService, dict[str, Any]], Awaitable[Any]]
    """The long part, outside any transaction (an export reads on its own connections)."""
    finish: Callable[[BotService, AsyncSession, Sender, dict[str, Any], Any], Awaitable[list[Reply]]]
    """In the transaction that marks the job done: what to record, and the replies to the requester."""
    interrupted: Callable[[dict[str, Any]], str]
    """What the requester is told when a crash cut the job short."""


def _beginnings(key: str, spaces: int) -> list[str]:
    """The beginnings of `key` that end before one of its first `spaces` spaces, the longest first (a command's
    words followed by a space begin a message only so: the longer of two that match holds the other)."""
    ends: list[int] = []
    at = key.find(" ")
    while at != -1 and len(ends) < spaces:
        ends.append(at)
        at = key.find(" ", at + 1)
    return [key[:end] for end in reversed(ends)]


class CommandTable:
    def __init__(
        self,
        commands: Iterable[Command],
        files: Iterable[FileHandler] = (),
        waits: Iterable[Wait[Any]] = (),
        jobs: Iterable[JobKind] = (),
    ) -> None:
        self.commands = list(commands)
        self.files = list(files)
        self.waits = {w.kind: w for w in waits}
        self.jobs = {j.kind: j for j in jobs}
        self._by_name = {name: c for c in self.commands for name in c.names}
        words = {fold(word): c.name for c in self.commands for word in c.words}
        self._words = {word: (name, len(word.split())) for word, name in words.items()}
        """Each command's plain words (folded): the command, and how many words they are. A message is looked up
        in it whole, and by the beginnings that end before one of its first spaces (words with arguments): a
        lookup or a few, where matching against every command's words was a few percent of a message."""
        self._spaces = max((word.count(" ") + 1 for word in words), default=0)
        """The most spaces a command's words followed by a space hold: beginnings ending at later ones match none."""
        if len(self._by_name) != sum(len(c.names) for c in self.commands):
            raise ValueError("a command name is given twice")
        if not set(self.waits) <= KINDS:
            raise ValueError(f"a wait of no kind in bot.waits: {sorted(set(self.waits) - KINDS)}")

    def command(self, name: str) -> Command | None:
        return self._by_name.get(name)

    def wait(self, kind: str) -> Wait[Any] | None:
        return self.waits.get(kind)

    def job(self, kind: str) -> JobKind:
        return self.jobs[kind]

    def file_handler(self, inbound: Inbound) -> FileHandler | None:
        names = [(f.name or "").lower() for f in inbound.files]
        return next((f for f in self.files if names and all(n.endswith(f.suffix) for n in names)), None)

    def parse(self, text: str, with_arguments: bool) -> tuple[str, list[str]] | None:
        """(command, arguments) for "/cmd a b", "/cmd@bot a", or a command's plain words; None for other text.
        Without `with_arguments`, plain words must be the whole message, so an answer that merely starts with
        a command word ("mọi người…") stays an answer."""
        if text.startswith("/"):
            word, _, rest = text[1:].partition(" ")
            return word.split("@", 1)[0].lower(), rest.split()
        key = fold(text)
        found = self._words.get(key)
        if found is None and with_arguments:
            found = next((self._words[b] for b in _beginnings(key, self._spaces) if b in self._words), None)
        if found is None:
            return None
        name, count = found
        return name, text.split()[count:]

    def followed_link(self, text: str, questionnaires: Collection[str]) -> tuple[str, list[str]] | None:
        """(command, arguments) for a command's plain words followed by what a poster gives to type ("khảo sát
        sk1"), which open what the poster does even inside a questionnaire; None for other text."""
        parsed = self.parse(text, with_arguments=True) if not text.startswith("/") else None
        command = self.command(parsed[0]) if parsed is not None else None
        link = command.link if command is not None else None
        return parsed if parsed is not None and link is not None and link(parsed[1], questionnaires) else None

    def menu(self, admin: bool) -> list[tuple[str, str]]:
        """(name, description) of the commands a platform's menu shows: an admin's, or everyone else's."""
        shown = [c for c in self.commands if admin or c.permission is not Permission.ADMIN]
        return [(name, c.description) for c in shown for name in c.names]

    def help(self, role: Role) -> list[str]:
        """The help texts for a person: the admin commands for admins, then the commands of their own role."""
        own = [
            c
            for c in self.commands
            if c.listed and c.permission is not Permission.ADMIN and role.may(c.shown_to or c.permission)
        ]
        texts = [_help(t.HELP_TITLE, own, t.HELP_OFFICER_TIP if role.unit_code else t.HELP_CITIZEN_TIP)]
        if role.is_admin:
            admin = [c for c in self.commands if c.permission is Permission.ADMIN]
            texts.insert(0, _help(t.HELP_ADMIN_TITLE, admin, ""))
        return texts


def _help(title: str, commands: Sequence[Command], tip: str) -> str:
    lines = [f"/{c.name}{' ' + c.usage if c.usage else ''} – {c.description}" for c in commands]
    return "\n".join([title, *lines, *([tip] if tip else [])])
