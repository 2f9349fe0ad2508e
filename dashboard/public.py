"""The public results, at /ketqua without sign-in (PBGDPL_WEB_PUBLIC_RESULTS): the citizen survey of the current
period for the whole area and for each commune, as the survey workbook's Tổng hợp and Theo nhóm sheets give it
(exports.survey), so a figure hidden there ("ẩn": too few respondents, or a complement that would give one away) is
hidden here too. No free-text opinion and no row of anyone's answers is shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot import assignments
from conversations.answers import number_text
from conversations.localtime import local_date
from conversations.text import vi_sort_key
from dashboard.site import Site
from exports import survey
from exports.jobs import survey_measures
from exports.workbook import HIDDEN, Sheet
from storage import repo
from storage.queries import Selection

OFF = "Trang kết quả công khai đang tắt."
NOTHING = "Chưa có kỳ khảo sát nào đang mở."
NO_COMMUNE = "Không có xã, phường mã “{code}”."
PATH = "/ketqua"


@dataclass
class Public:
    site: Site

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
            return site.message(request, "Kết quả khảo sát", OFF, 404)
        code = request.match_info.get("code")
        async with service.db.read() as db:
            period = await repo.current_period(db)
            public = assignments.Audience.PUBLIC
            qn = await assignments.first(db, service.questionnaires, period.code, public) if period else None
            if period is None or qn is None:
                return site.message(request, "Kết quả khảo sát", NOTHING, 404)
            in_force = await repo.units_in_force(db, min(local_date(service.clock()), period.deadline))
            communes = sorted((u for u in in_force if u.kind == "commune"), key=lambda u: vi_sort_key(u.name))
            unit = next((u for u in communes if u.code == code), None)
            if code is not None and unit is None:
                return site.message(request, "Kết quả khảo sát", NO_COMMUNE.format(code=code), 404)
            selection = Selection(qn.id, period.code, code)
            measures = survey_measures(service.questionnaires, qn.id)
            found = await survey.gather(
                db, qn, measures, selection, communes, settings.suppress_below, settings.survey_breakdowns
            )
        summary = _shown(survey.summary_sheet(found))
        groups = _shown(survey.group_sheet(found))
        if unit is not None:  # one commune: its one row, read down
            summary = Table(
                ["", ""], [[name, value] for name, value in zip(summary.columns, summary.rows[0], strict=True)]
            )
        return site.page(
            request,
            "public.html",
            period=period,
            unit=unit,
            communes=communes,
            summary=summary,
            groups=groups,
            minimum=settings.suppress_below,
            responses=found.overall.responses,
        )


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if value == HIDDEN:
        return HIDDEN
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number_text(value)
    return str(value)


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]


def _shown(sheet: Sheet) -> Table:
    """A sheet's cells as text ("ẩn" stays "ẩn")."""
    assert isinstance(sheet.rows, list)  # the summary and group sheets are lists, never a stream of rows
    return Table(sheet.header, [[_cell(v) for v in row] for row in sheet.rows])
