"""Which questionnaires apply to a unit, an officer or the public in a period: the one place that says so.

A period's assignments (storage `Assignment`) each name a questionnaire and the units it applies to: every unit,
the units of one kind, or one unit (a unit's own criteria, "tiêu chí riêng"). Who answers follows the
questionnaire's kind, its audience:
- unit (`self_assessment`): one draft per unit and period, shared by the unit's officers;
- individual (`individual_survey`): one named response per officer and period;
- public (`citizen_survey`): anonymous, one response per person per questionnaire and period, for the people a
  unit reaches (a commune's citizens, a department's staff), never by the unit's own officers.
An assignment may name a questionnaire that is not loaded (a preset file not shipped yet, an upload not put into
use): it is kept and listed as missing, and opens nothing.

A period gets its assignments when it is made: those of the period before it (/ky tao), or at start those of the
unit presets (`assignments:` in presets/units/*.yaml), or else what the bot ran before assignments existed (the
first self-assessment for every unit, the first citizen survey for the communes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.definition import Questionnaire
from storage import queries, repo
from storage.models import Assignment, Response, Unit


class Audience(StrEnum):
    UNIT = "unit"
    INDIVIDUAL = "individual"
    PUBLIC = "public"


AUDIENCES: Mapping[str, Audience] = {
    "self_assessment": Audience.UNIT,
    "individual_survey": Audience.INDIVIDUAL,
    "citizen_survey": Audience.PUBLIC,
}
"""A questionnaire's audience, by its kind."""


def audience(qn: Questionnaire) -> Audience:
    return AUDIENCES[qn.kind]


class Scope(StrEnum):
    """The units an assignment applies to: every unit, those of one kind (its target), one unit (its target)."""

    ALL = "all"
    KIND = "kind"
    UNIT = "unit"


@dataclass(frozen=True)
class Rule:
    """An assignment to make: a questionnaire, for the units of a scope."""

    questionnaire_id: str
    scope: Scope
    target: str = ""


LEGACY: Mapping[str, Rule] = {
    "self_assessment": Rule("", Scope.ALL),
    "citizen_survey": Rule("", Scope.KIND, "commune"),
}
"""What the bot ran before assignments, by kind (the first questionnaire of the kind by id): migration 0016 gave
every existing period the same."""


@dataclass(frozen=True)
class Assigned:
    """An assignment of a period, with the questionnaire version in use for it (None: no questionnaire of that id
    is loaded)."""

    row: Assignment
    questionnaire: Questionnaire | None

    @property
    def questionnaire_id(self) -> str:
        return self.row.questionnaire_id

    @property
    def audience(self) -> Audience | None:
        return audience(self.questionnaire) if self.questionnaire is not None else None

    def applies_to(self, unit: Unit) -> bool:
        scope, target = self.row.scope, self.row.target
        return scope == Scope.ALL or (scope == Scope.KIND and unit.kind == target) or unit.code == target


async def of_period(db: AsyncSession, questionnaires: Mapping[str, Questionnaire], period: str) -> list[Assigned]:
    """The period's assignments, in the order they were made."""
    return [Assigned(row, questionnaires.get(row.questionnaire_id)) for row in await queries.assignments(db, period)]


def _distinct(found: Sequence[Assigned], wanted: Audience | None) -> list[Questionnaire]:
    seen: dict[str, Questionnaire] = {}
    for a in found:
        if a.questionnaire is not None and (wanted is None or a.audience is wanted):
            seen.setdefault(a.questionnaire.id, a.questionnaire)
    return list(seen.values())


async def for_unit(
    db: AsyncSession,
    questionnaires: Mapping[str, Questionnaire],
    period: str,
    unit: Unit,
    wanted: Audience | None = None,
) -> list[Questionnaire]:
    """The questionnaires (of one audience, or all) that apply to the unit in the period, each once, in the order
    they were assigned: for an officer, what they and their unit have to fill; for the public, what they may
    answer about the unit."""
    found = [a for a in await of_period(db, questionnaires, period) if a.applies_to(unit)]
    return _distinct(found, wanted)


async def units_for(
    db: AsyncSession, questionnaires: Mapping[str, Questionnaire], period: str, wanted: Audience, today: date
) -> list[Unit]:
    """The units in force that a questionnaire of the audience applies to, in the order of a unit list (the units a
    citizen picks from)."""
    assigned = [a for a in await of_period(db, questionnaires, period) if a.audience is wanted]
    return await _units(db, assigned, today)


async def units_of(
    db: AsyncSession, questionnaires: Mapping[str, Questionnaire], period: str, questionnaire_id: str, today: date
) -> list[Unit]:
    """The units in force that the period assigns one questionnaire to, in the order of a unit list."""
    assigned = [a for a in await of_period(db, questionnaires, period) if a.questionnaire_id == questionnaire_id]
    return await _units(db, assigned, today)


async def _units(db: AsyncSession, assigned: Sequence[Assigned], today: date) -> list[Unit]:
    units = [u for u in await repo.units_in_force(db, today) if any(a.applies_to(u) for a in assigned)]
    return repo.in_unit_order(units)


OWN = "account:"
"""How an officer's own response's respondent begins (followed by their account's id)."""


def respondent(wanted: Audience, actor: str, account_id: int | None) -> str | None:
    """Whose response it is (storage.repo.response_key keys on it): a unit's shared draft is nobody's; an officer's
    own response is their account's; a public response is the person's keyed hash (no name, no platform id)."""
    if wanted is Audience.UNIT:
        return None
    if wanted is Audience.INDIVIDUAL:
        if account_id is None:
            raise ValueError("an individual response needs the officer's account")
        return f"{OWN}{account_id}"
    return actor


@dataclass(frozen=True)
class Task:
    """A questionnaire an officer fills in a period: their unit's shared draft (`respondent` None) or their own
    response, with the response begun so far (None: not started)."""

    questionnaire: Questionnaire
    audience: Audience
    respondent: str | None
    response: Response | None


async def officer_tasks(
    db: AsyncSession, questionnaires: Mapping[str, Questionnaire], period: str, unit: Unit, account_id: int
) -> list[Task]:
    """What an officer of the unit has to fill in the period, in the order assigned: the unit's self-assessments
    (one shared draft each) and the individual surveys (the officer's own response each)."""
    tasks = []
    for qn in await for_unit(db, questionnaires, period, unit):
        wanted = audience(qn)
        if wanted is Audience.PUBLIC:
            continue
        who = respondent(wanted, "", account_id)
        response = await repo.find_response(db, repo.response_key(qn.id, period, unit.code, who))
        tasks.append(Task(qn, wanted, who, response))
    return tasks


async def assign(db: AsyncSession, period: str, rule: Rule, now: datetime) -> Assignment | None:
    """Assign a questionnaire in a period; None when exactly this assignment exists already."""
    for row in await queries.assignments(db, period):
        if (row.questionnaire_id, row.scope, row.target) == (rule.questionnaire_id, rule.scope, rule.target):
            return None
    row = Assignment(
        period_code=period, questionnaire_id=rule.questionnaire_id, scope=rule.scope, target=rule.target, created_at=now
    )
    await repo.add_assignment(db, row)
    return row


def legacy_rules(questionnaires: Mapping[str, Questionnaire]) -> list[Rule]:
    """What the bot ran before assignments existed, among the questionnaires loaded."""
    rules = []
    for kind, rule in LEGACY.items():
        qn = next((q for _, q in sorted(questionnaires.items()) if q.kind == kind), None)
        if qn is not None:
            rules.append(Rule(qn.id, rule.scope, rule.target))
    return rules


async def start_period(
    db: AsyncSession,
    questionnaires: Mapping[str, Questionnaire],
    period: str,
    now: datetime,
    preset: Sequence[Rule] = (),
) -> None:
    """A new period's assignments: those of the latest period that has some, else the preset's, else what the bot
    ran before assignments existed."""
    rules: Sequence[Rule] = []
    for earlier in sorted(await repo.all_periods(db), key=lambda p: p.created_at, reverse=True):
        rows = await queries.assignments(db, earlier.code) if earlier.code != period else []
        if rows:
            rules = [Rule(r.questionnaire_id, Scope(r.scope), r.target) for r in rows]
            break
    for rule in rules or preset or legacy_rules(questionnaires):
        await assign(db, period, rule, now)
