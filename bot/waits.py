"""What a session waits for besides answers: a tagged kind, one `TypedDict` per kind with its `kind` as a `Literal`.

A wait is stored in `sessions.waiting_for` with the version of its shape (`"v"`); the handler of each kind is an
entry of the command table (`bot.table.Wait`, built in bot.app). A wait stored in an older shape is upgraded when it
is read (`UPGRADES`): the first shape, before versions, was `{kind: data}` (the first key naming the kind).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Literal, TypedDict, cast, get_args, get_type_hints

from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo

WAITS_VERSION = 1
"""The shape waits are stored in; raise it, and add an upgrade from the one before, when a kind's fields change."""


class UnitPick(TypedDict):
    """A citizen typed /khaosat without a unit: the next message picks it from the list."""

    kind: Literal["unit_pick"]


class QuestionnairePick(TypedDict):
    """An officer with several questionnaires typed /danhgia: the next message picks one from the list."""

    kind: Literal["questionnaire_pick"]


class UnitsUpload(TypedDict):
    """An admin typed /nhapdonvi: the next message is the unit list file."""

    kind: Literal["units_upload"]


class Preview(TypedDict):
    """An admin is trying a questionnaire version out (/xemthu): the engine's state lives here, never in a response."""

    kind: Literal["preview"]
    questionnaire: str
    version: str
    state: dict[str, Any]


class Confirm(TypedDict):
    """An admin was asked to confirm an action that cannot be undone (bot.confirm): the next message is the yes."""

    kind: Literal["confirm"]
    command: str
    args: list[str]
    data: dict[str, Any]
    """What the command showed and will act on (a unit file's records)."""
    at: str
    """When it was asked (ISO 8601): a yes much later does nothing."""


class ExplanationFile(TypedDict):
    """An officer explained a lowered criterion (/giaitrinh): the next message may be one file backing it."""

    kind: Literal["explanation_file"]
    explanation: int
    """The explanation's id (storage Explanation)."""


class VerifyPass(TypedDict):
    """An admin is walking a unit's criteria one by one (/chamdiem <mã> tung): the next message is a button (accept,
    lower, raise, stop) or, after lower or raise, the points and reason."""

    kind: Literal["verify_pass"]
    unit: str
    questionnaire: str | None
    question: str
    asked: str | None
    """"down" or "up" once the admin pressed lower or raise."""


Waiting = UnitPick | QuestionnairePick | UnitsUpload | Preview | Confirm | ExplanationFile | VerifyPass
KINDS: frozenset[str] = frozenset(get_args(get_type_hints(w)["kind"])[0] for w in get_args(Waiting))


def _from_first_key(old: dict[str, Any]) -> dict[str, Any]:
    """Version 0, `{kind: data}`: {"pick": "unit"}, {"units_upload": {}}, {"preview": {...}}."""
    kind, data = next(iter(old.items()), ("", None))
    if kind == "pick":
        return {"kind": "unit_pick"}
    return {"kind": kind, **(data if isinstance(data, Mapping) else {})}


UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _from_first_key}
"""From a stored version to the next one."""


def stored(wait: Waiting) -> dict[str, Any]:
    return {"v": WAITS_VERSION, **wait}


def read(raw: Mapping[str, Any] | None) -> Waiting | None:
    """The wait stored in a session, upgraded to the current shape; None when there is none, or it is of a kind no
    longer known (the wait then ends)."""
    if not raw:
        return None
    data = dict(raw)
    version = data.pop("v", 0)
    if not isinstance(version, int) or version > WAITS_VERSION:
        return None
    while version < WAITS_VERSION:
        data, version = UPGRADES[version](data), version + 1
    return cast(Waiting, data) if data.get("kind") in KINDS else None


async def wait_for(db: AsyncSession, actor: str, now: datetime, wait: Waiting) -> None:
    """The person's next message that is not a command goes to this wait's handler (and ends any open response)."""
    await repo.save_session(db, actor, now, None, stored(wait))
