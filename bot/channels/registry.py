"""The channels running in this process, by name: what the service asks of a platform (the bytes of a file a person
sent, a link that opens a chat with the bot). bot.app fills it; channels never write into the service."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from typing import Protocol

from conversations.engine import FileRef

SURVEY_PAYLOAD = "ks_{code}"
"""A deep link's payload that opens a unit's survey (bot.commands.conversation reads it); see survey_payload."""
NAMED = "__"
"""Between the unit and the questionnaire in a payload that names one (questionnaire ids have no underscore)."""


def survey_payload(unit: str, questionnaire: str | None = None) -> str:
    """`ks_<unit>`: the unit's first public survey of the period (what links printed before did, and still do);
    `ks_<unit>__<questionnaire>`: that public survey (a department's staff survey, a seminar's form)."""
    return SURVEY_PAYLOAD.format(code=unit) + (f"{NAMED}{questionnaire}" if questionnaire else "")


def read_survey_payload(rest: str) -> tuple[str, str | None]:
    """The unit and the questionnaire (None: not named) of a payload after its `ks_`."""
    unit, sep, questionnaire = rest.rpartition(NAMED)
    return (unit, questionnaire) if sep and unit and questionnaire else (rest, None)


EVENT_PAYLOAD = "sk_{id}"
"""A deep link's payload that opens an event's survey (bot.events): its poster."""
EVENT_CODE = re.compile(r"sk_?(\d{1,9})", re.IGNORECASE)


def event_payload(event_id: int) -> str:
    return EVENT_PAYLOAD.format(id=event_id)


def read_event_code(text: str) -> int | None:
    """The event an `sk_<id>` payload (or `sk<id>`, as typed on Zalo) names; None for other text."""
    found = EVENT_CODE.fullmatch(text.strip())
    return int(found[1]) if found else None


def is_poster_code(args: Sequence[str], questionnaires: Collection[str]) -> bool:
    """Whether the arguments are what a poster gives to type after /khaosat (bot.posters): an event's code alone
    (`sk1`), or a unit's code and a questionnaire in use (`16012 khao-sat-nguoi-dan`)."""
    if len(args) == 1:
        return read_event_code(args[0]) is not None
    return len(args) == 2 and args[1] in questionnaires


class DeepLinks(Protocol):
    def deep_link(self, payload: str) -> str | None:
        """A link that opens a chat with the bot and starts it with `payload`; None on a platform without them."""
        ...


class Platform(DeepLinks, Protocol):
    name: str

    async def fetch_file(self, ref: FileRef) -> bytes | None:
        """The bytes of a file a person sent on this platform; None when it cannot fetch files."""
        ...


class Channels:
    def __init__(self) -> None:
        self._by_name: dict[str, Platform] = {}
        self._links: list[DeepLinks] = []

    def add(self, channel: Platform) -> None:
        self._by_name[channel.name] = channel

    def add_links(self, links: DeepLinks) -> None:
        """Deep links for a platform that does not run in this process (the bot's name is configured)."""
        self._links.append(links)

    def __contains__(self, channel: str) -> bool:
        return channel in self._by_name

    def __iter__(self) -> Iterator[Platform]:
        return iter(self._by_name.values())

    async def fetch_file(self, channel: str, ref: FileRef) -> bytes | None:
        found = self._by_name.get(channel)
        return await found.fetch_file(ref) if found is not None else None

    def deep_link(self, payload: str) -> str | None:
        """From a running channel that has deep links, else from one known from the settings."""
        sources: list[DeepLinks] = [*self._by_name.values(), *self._links]
        return next((link for source in sources if (link := source.deep_link(payload)) is not None), None)
