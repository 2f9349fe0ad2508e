"""The public results, at /ketqua without sign-in (PBGDPL_WEB_PUBLIC_RESULTS): a public survey of the current period
(`?bang=<questionnaire>`, by default the first the period runs, or for a unit the first it is assigned) for every
unit it is assigned to and for each of them, as the survey workbook's Tổng hợp and Theo nhóm sheets give it
(exports.survey), so a figure hidden there ("ẩn": too few respondents, or a complement that would give one away) is
hidden here too. The page lists the period's other public surveys (a unit's: those assigned to it). No free-text
opinion and no row of anyone's answers is shown. A survey's poster links to its unit's page (bot.posters)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot import assignments
from bot.links import SURVEY, results_path
from bot.progress import period_questionnaires
from bot.units import COMMUNE
from conversations.answers import count_text, number_text
from conversations.definition import Questionnaire
from conversations.localtime import local_date
from dashboard.site import Site
from exports import survey
from exports.jobs import survey_measures
from exports.workbook import HIDDEN, Sheet
from storage import repo
from storage.models import Unit
from storage.queries import Selection

FRESH = timedelta(minutes=1)
"""How long a page's figures are served as counted: anyone may open the public pages, so however often they are
asked for, a survey's figures over its units (or one unit) are counted at most once a minute."""
TITLE = "Kết quả khảo sát"
OFF = "Trang kết quả công khai đang tắt."
NOTHING = "Chưa có kỳ khảo sát nào đang mở."
NO_UNIT = "Không có xã, phường hay đơn vị mã “{code}”."
NO_SURVEY = "Kỳ {period} không có khảo sát công khai mã “{code}”."
NO_SURVEY_HERE = "Kỳ {period} không có khảo sát công khai mã “{code}” ở {unit}."
EACH_COMMUNE, EACH_UNIT = "Từng xã, phường", "Từng đơn vị"
NONE = "Kỳ {period} không có khảo sát công khai nào."
NONE_HERE = "Kỳ {period} không có khảo sát công khai nào ở {unit}."


@dataclass
class Public:
    site: Site
    _counted: dict[Selection, tuple[datetime, asyncio.Task[Figures]]] = field(default_factory=dict)
    """Each page's figures, as counted since FRESH ago (or being counted), by what they were counted over."""

    def app(self) -> web.Application:
        app = web.Application()
        app.on_response_prepare.append(self.site.headers)
        app.router.add_get("/", self.results)
        app.router.add_get("/{code}", self.results)
        return app

    async def results(self, request: web.Request) -> web.Response:
        site, service = self.site, self.site.service
        settings = service.settings
        if not settings.web_public_results:
            return site.message(request, TITLE, OFF, 404)
        code, wanted = request.match_info.get("code"), request.query.get(SURVEY)
        async with service.db.read() as db:
            period = await repo.current_period(db)
            if period is None:
                return site.message(request, TITLE, NOTHING, 404)
            today = min(local_date(service.clock()), period.deadline)
            unit = None
            if code is not None:
                unit = next((u for u in await repo.units_in_force(db, today) if u.code == code), None)
                if unit is None:
                    return site.message(request, TITLE, NO_UNIT.format(code=code), 404)
                public = assignments.Audience.PUBLIC
                offered = await assignments.for_unit(db, service.questionnaires, period.code, unit, public)
            else:
                offered = await period_questionnaires(service, db, period, (assignments.Audience.PUBLIC,))
            qn = next((q for q in offered if q.id == wanted), None) if wanted is not None else next(iter(offered), None)
            if qn is None:
                return site.message(request, TITLE, _missing(period.code, unit, wanted), 404)
            units = await assignments.units_of(db, service.questionnaires, period.code, qn.id, today)
        shown = await self._figures(qn, Selection(qn.id, period.code, code), units)
        return site.page(
            request,
            "public.html",
            period=period,
            qn=qn,
            offered=offered,
            unit=unit,
            units=units,
            each=EACH_COMMUNE if all(u.kind == COMMUNE for u in units) else EACH_UNIT,
            summary=shown.summary,
            groups=shown.groups,
            minimum=settings.suppress_below,
            responses=shown.responses,
            results=results_path,
        )

    async def _figures(self, qn: Questionnaire, selection: Selection, units: list[Unit]) -> Figures:
        """The figures of a survey over its units (or one of them): counted once, then served as counted for FRESH,
        however many ask at once; a count that failed is not kept."""
        now = self.site.service.clock()
        counted = self._counted.get(selection)
        if counted is None or now - counted[0] >= FRESH:
            task = asyncio.create_task(self._count(qn, selection, units))
            task.add_done_callback(lambda done: self._forget(selection, done))
            self._counted[selection] = counted = (now, task)
        return await asyncio.shield(counted[1])  # a visitor leaving does not stop the count the others wait for

    def _forget(self, selection: Selection, done: asyncio.Task[Figures]) -> None:
        if (done.cancelled() or done.exception() is not None) and self._counted.get(selection, (None, None))[1] is done:
            del self._counted[selection]

    async def _count(self, qn: Questionnaire, selection: Selection, units: list[Unit]) -> Figures:
        service, settings = self.site.service, self.site.service.settings
        measures = survey_measures(service.questionnaires, qn.id)
        async with service.db.read() as db:
            found = await survey.gather(
                db, qn, measures, selection, units, settings.suppress_below, settings.survey_breakdowns
            )
        summary = _shown(survey.summary_sheet(found))
        if selection.unit_code is not None:  # one unit: its one row read down, without its code and name (the heading)
            figures = zip(summary.columns[2:], summary.rows[0][2:], strict=True)
            summary = Table(["", ""], [False, True], [[name, value] for name, value in figures])
        groups = _by_breakdown(_shown(survey.group_sheet(found)))
        return Figures(summary, groups, count_text(found.overall.responses))


def _missing(period: str, unit: Unit | None, wanted: str | None) -> str:
    """Why there is no survey to show: none named, or not the one named (at the unit asked about)."""
    if unit is None:
        return NO_SURVEY.format(period=period, code=wanted) if wanted is not None else NONE.format(period=period)
    if wanted is None:
        return NONE_HERE.format(period=period, unit=unit.name)
    return NO_SURVEY_HERE.format(period=period, code=wanted, unit=unit.name)


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if value == HIDDEN:
        return HIDDEN
    if isinstance(value, int) and not isinstance(value, bool):
        return count_text(value)
    if isinstance(value, float):
        return number_text(value)
    return str(value)


NUMBERS = frozenset({"integer", "number", "percent"})


@dataclass(frozen=True)
class Table:
    columns: list[str]
    numeric: list[bool]
    """Which columns hold figures (set to the right, to be read down)."""
    rows: list[list[str]]


@dataclass(frozen=True)
class Breakdown:
    """The groups of one breakdown (a question such as age): their rows without the question."""

    title: str
    rows: list[list[str]]


@dataclass(frozen=True)
class Groups:
    columns: list[str]
    numeric: list[bool]
    breakdowns: list[Breakdown]


@dataclass(frozen=True)
class Figures:
    """What a page shows of a survey: its summary, its groups and how many responded (as text)."""

    summary: Table
    groups: Groups
    responses: str


def _shown(sheet: Sheet) -> Table:
    """A sheet's cells as text ("ẩn" stays "ẩn")."""
    assert isinstance(sheet.rows, list)  # the summary and group sheets are lists, never a stream of rows
    numeric = [c.kind in NUMBERS for c in sheet.columns]
    return Table(sheet.header, numeric, [[_cell(v) for v in row] for row in sheet.rows])


def _by_breakdown(table: Table) -> Groups:
    """Theo nhóm's rows under a heading per breakdown (its first column), instead of the question on every row."""
    found: dict[str, list[list[str]]] = {}
    for title, *cells in table.rows:
        found.setdefault(title, []).append(cells)
    breakdowns = [Breakdown(title, rows) for title, rows in found.items()]
    return Groups(table.columns[1:], table.numeric[1:], breakdowns)
