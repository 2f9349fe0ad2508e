"""The Justice Office's pages, at /web behind a session (dashboard.site): progress (and the period's events, with
their posters), a unit's submission with its evidence and the review actions, exports, the audit log,
questionnaires, and the admin's sessions.

Reads come from the rules in bot/ (bot.progress, bot.review); every action goes through the command table as the chat
command would (`BotService.run_command`: /duyet, /tralai, /xuat, /banghoi, /sukien qr), so its checks, audit and
notices are the chat's own."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from bot import audit, evidence, review, verification, versions, web_sessions
from bot.assignments import Audience
from bot.messages import Document, Reply
from bot.progress import (
    QuestionnaireProgress,
    assessment_counts,
    chart_figures,
    days_left_text,
    period_events,
    period_overview,
    unit_status,
)
from bot.render import plain
from bot.service import BotService
from conversations import engine
from conversations.answers import display, number_text
from conversations.definition import Questionnaire, question_header
from conversations.engine import Outgoing
from conversations.localtime import local_date, parse_day
from conversations.scoring import question_points
from conversations.status import LABELS, Status
from conversations.text import fold
from conversations.versions import changes, summary
from dashboard.site import EVIDENCE_CSP, NOT_ADMIN, SIGNED, Site, me, sender_of, signed
from exports.audit import ACTIONS, details_text
from exports.charts import progress_chart
from storage import repo
from storage.files import file_name
from storage.models import Evidence, Period, Unit
from storage.queries import evidence_files

SHOWN_INLINE = {"image/jpeg", "image/png", "image/webp", "application/pdf"}
"""Evidence a browser shows itself; any other kind (HEIC, Office documents) is downloaded."""
EXPORTS = [
    ("tonghop", "xlsx", "Kết quả chung của kỳ (Excel)"),
    ("danhgia", "xlsx", "Tự đánh giá: tổng hợp, chi tiết, minh chứng, tiến độ (Excel)"),
    ("danhgia", "csv", "Tự đánh giá: dữ liệu (CSV)"),
    (
        "khaosat",
        "xlsx",
        "Khảo sát người dân: tổng hợp, theo câu hỏi, theo nhóm, theo sự kiện, nhóm ý kiến (Excel, gửi đi được)",
    ),
    ("khaosat", "csv", "Khảo sát người dân: tổng hợp (CSV, gửi đi được)"),
    ("dulieu", "xlsx", "Dữ liệu gốc khảo sát, mỗi người một dòng – KHÔNG chuyển tiếp (Excel)"),
    ("dulieu", "csv", "Dữ liệu gốc khảo sát, mỗi câu trả lời một dòng – KHÔNG chuyển tiếp (CSV)"),
    ("baocao", "docx", "Dự thảo báo cáo (Word)"),
    ("nhatky", "xlsx", "Nhật ký sửa phiếu và thao tác quản trị (Excel)"),
    ("minhchung", "zip", "Minh chứng các đơn vị đã nộp (zip)"),
]
MICRODATA = "dulieu"
"""The export of respondent-level rows: the page asks for the admin's yes (a ticked box), as the chat does."""
CONFIRM_MICRODATA = "Dữ liệu gốc chỉ xuất khi bạn đánh dấu ô xác nhận không chuyển tiếp tệp."
KEPT_EXPORTS = 50
"""Finished exports kept in memory for their requester to download."""
NO_PERIOD = "Chưa có kỳ đánh giá nào đang mở."
NO_UNIT = "Không tìm thấy đơn vị có mã “{code}”."
NOT_SENT = "{unit} chưa nộp phiếu này kỳ {period} (tình trạng: {status})."
NOT_ASSIGNED = "Kỳ {period} không giao phiếu tự đánh giá nào cho {unit}."
NO_FILE = "Không có tệp này, hoặc tệp chưa được lưu trên máy chủ."
NO_EXPORT = "Không có tệp xuất này (máy chủ đã khởi động lại, hoặc tệp của người khác). Hãy xuất lại."
PICK_CRITERION = "Hãy đánh dấu ít nhất một tiêu chí và ghi lý do trả lại."
CONFIRM_APPROVED = "Phiếu đã được duyệt: hãy đánh dấu ô xác nhận nếu vẫn muốn trả lại."
SIGNED_OUT = "Đã đăng xuất. Gõ /web trong chat để đăng nhập lại."
PICK_FILE = "Hãy chọn tệp XLSForm (.xlsx) để tải lên."
NOT_XLSX = "Tệp “{name}” không phải tệp Excel .xlsx: bảng hỏi tải lên phải là tệp XLSForm .xlsx."
NONE_WAITING = "Bảng hỏi “{id}” không có phiên bản nào đang chờ áp dụng."
LINK_SPENT = "Đường dẫn đăng nhập này đã dùng hoặc đã hết hạn. Gõ /web trong chat để nhận đường dẫn mới."


@dataclass
class ExportRun:
    account_id: int
    label: str
    task: asyncio.Task[list[Reply]]


@dataclass
class Office:
    site: Site
    exports: dict[str, ExportRun] = field(default_factory=dict)

    @property
    def service(self) -> BotService:
        return self.site.service

    def app(self) -> web.Application:
        site = self.site
        app = web.Application(
            middlewares=[site.signed_in({"sign_in", "sign_in_page", "static"})], client_max_size=3 * 1024 * 1024
        )
        app.on_response_prepare.append(site.headers)
        r = app.router
        r.add_get("/vao/{token}", self.sign_in_page, name="sign_in_page")
        r.add_post("/vao/{token}", self.sign_in, name="sign_in")
        r.add_static("/static", site.static, name="static")
        r.add_get("/", self.progress)
        r.add_get("/tiendo", self.progress_table)
        r.add_get("/tiendo.png", self.progress_png)
        r.add_get("/sukien/{id}/ap-phich.{ext:png|pdf}", self.event_poster)
        r.add_get("/donvi/{code}", self.unit)
        r.add_post("/donvi/{code}/duyet", self.approve)
        r.add_post("/donvi/{code}/tralai", self.send_back)
        r.add_get("/minhchung/{id}", self.evidence_file)
        r.add_get("/giaitrinh/{id}", self.explanation_file)
        r.add_get("/xuat", self.export_list)
        r.add_post("/xuat", self.export_start)
        r.add_get("/xuat/{key}", self.export_status)
        r.add_get("/xuat/{key}/{n}", self.export_file)
        r.add_get("/nhatky", self.audit_log)
        r.add_get("/banghoi", self.questionnaires)
        r.add_post("/banghoi", self.upload)
        r.add_get("/banghoi/{id}.xlsx", self.xlsform)
        r.add_get("/banghoi/{id}/cho", self.waiting_version)
        r.add_post("/banghoi/{id}/kichhoat", self.activate)
        r.add_get("/phien", self.sessions)
        r.add_post("/phien/{id}/ketthuc", self.end_session)
        r.add_post("/ra", self.sign_out)
        return app

    # ------------------------------------------------------------ signing in and out

    async def sign_in_page(self, request: web.Request) -> web.Response:
        """The link from chat opens a page with a button: a chat's link preview fetching it spends nothing."""
        return self.site.page(request, "sign_in.html", token=request.match_info["token"])

    async def sign_in(self, request: web.Request) -> web.StreamResponse:
        service, site = self.service, self.site
        now = service.clock()
        ttl = timedelta(hours=service.settings.web_session_hours)
        agent = request.headers.get("User-Agent", "")
        cookie = None
        async with service.db.write() as db:
            account = await web_sessions.spend(db, request.match_info["token"], now)
            admin = account is not None and (await service.role(db, sender_of(account))).is_admin
            if account is not None and admin:
                cookie = await web_sessions.start(db, service.secret, account, agent, now, ttl)
                await audit.record(db, sender_of(account), now, "web_sign_in", "web", {"browser": agent[:120]})
        if account is not None and not admin:
            return site.message(request, "Không đăng nhập được", NOT_ADMIN, 403)
        if cookie is None:
            return site.message(request, "Không đăng nhập được", LINK_SPENT, 410)
        moved = web.HTTPSeeOther("/web/")
        site.cookie(moved, cookie)
        raise moved

    async def sign_out(self, request: web.Request) -> web.StreamResponse:
        service, who = self.service, signed(request)
        now = service.clock()
        async with service.db.write() as db:
            await web_sessions.end(db, who.account, who.session.id, now)
            await audit.record(db, sender_of(who.account), now, "web_sign_out", "web")
        request.pop(SIGNED)
        response = self.site.message(request, "Đã đăng xuất", SIGNED_OUT)
        self.site.cookie(response, None)
        return response

    async def sessions(self, request: web.Request) -> web.Response:
        service, who = self.service, signed(request)
        async with service.db.read() as db:
            rows = await web_sessions.sessions_of(db, who.account, service.clock())
        return self.site.page(request, "sessions.html", sessions=rows, current=who.session.id)

    async def end_session(self, request: web.Request) -> web.StreamResponse:
        service, who = self.service, signed(request)
        now = service.clock()
        session_id = _number(request.match_info["id"])
        async with service.db.write() as db:
            ended = session_id is not None and await web_sessions.end(db, who.account, session_id, now)
            if ended:
                await audit.record(db, sender_of(who.account), now, "web_session_end", "web", {"session": session_id})
        if session_id == who.session.id:
            response = self.site.message(request, "Đã đăng xuất", SIGNED_OUT)
            self.site.cookie(response, None)
            return response
        raise web.HTTPSeeOther("/web/phien")

    # ------------------------------------------------------------ progress

    async def _progress(self) -> tuple[Period, list[QuestionnaireProgress], date] | None:
        service = self.service
        async with service.db.read() as db:
            period = await repo.current_period(db)
            if period is None:
                return None
            found = await period_overview(service, db, period)
        return period, found, local_date(service.clock())

    def _progress_values(self, found: tuple[Period, list[QuestionnaireProgress], date]) -> dict[str, Any]:
        """Each questionnaire of the period over the units it is assigned to, as /tiendo gives them."""
        period, overview, today = found
        target = self.service.settings.survey_target
        late_day = today > period.deadline
        sections = []
        for p in overview:
            section: dict[str, Any] = {"qn": p.qn, "audience": p.audience.value, "units": p.units}
            if p.audience is Audience.UNIT:
                section["rows"] = [
                    {
                        "p": u,
                        "status": unit_status(u),
                        "share": round(100 * u.answered / u.asked) if u.asked else (100 if u.counted else 0),
                        "late": late_day and not u.counted,
                        "sent": u.response is not None and u.status is not Status.DRAFT,
                    }
                    for u in p.assessment
                ]
                section["summary"] = assessment_counts(p.assessment)
                section["late"] = [r for r in section["rows"] if r["late"]]
            elif p.survey is not None:
                rows = [(u, *p.survey.of(u.code)) for u in p.units]
                section["rows"] = [{"unit": u, "n": n, "declined": d} for u, n, d in rows]
                section["surveys"] = sum(n for _, n, _ in rows)
                section["reached"] = sum(n >= target for _, n, _ in rows)
            else:
                section["rows"] = [{"unit": u, "counts": p.officers(u.code)} for u in p.units]
            sections.append(section)
        return {
            "period": period,
            "sections": sections,
            "target": target,
            "days_left": days_left_text(period.deadline, today),
        }

    async def progress(self, request: web.Request) -> web.Response:
        found = await self._progress()
        if found is None:
            return self.site.message(request, "Tiến độ", NO_PERIOD)
        events = await self._events(found[0])
        return self.site.page(request, "progress.html", events=events, **self._progress_values(found))

    async def _events(self, period: Period) -> list[dict[str, Any]]:
        """The period's events with the responses through each one's link, as /tiendo counts them (bot.progress)."""
        service, rows = self.service, []
        async with service.db.read() as db:
            for event, count in await period_events(service, db, period):
                unit = await repo.get_unit(db, event.unit_code)
                qn = service.questionnaires.get(event.questionnaire_id)
                title = qn.short_title if qn is not None else event.questionnaire_id
                rows.append(
                    {"event": event, "unit": unit.name if unit else event.unit_code, "title": title, "n": count}
                )
        return rows

    async def event_poster(self, request: web.Request) -> web.StreamResponse:
        """An event's poster, PNG or PDF, as /sukien qr sends it (audited there)."""
        found, ext = _number(request.match_info["id"]), request.match_info["ext"]
        if found is None:
            raise web.HTTPNotFound()
        replies = await self.service.run_command(me(request), "sukien", ["qr", f"sk{found}"])
        document = next((r for r in replies if isinstance(r, Document) and r.filename.endswith(f".{ext}")), None)
        if document is None:
            return self.site.message(request, "Áp phích", _texts(replies), 404)
        return _download(document)

    async def progress_table(self, request: web.Request) -> web.Response:
        """The table alone, which the page fetches every 20 seconds to stay current."""
        found = await self._progress()
        if found is None:
            return self.site.message(request, "Tiến độ", NO_PERIOD)
        return self.site.page(request, "progress_table.html", **self._progress_values(found))

    async def progress_png(self, request: web.Request) -> web.Response:
        """The chart /tiendo sends admins in chat, drawn from the same progress."""
        found = await self._progress()
        figures = chart_figures(found[1]) if found is not None else None
        if found is None or figures is None:
            raise web.HTTPNotFound()
        counts, surveyed = figures
        target = self.service.settings.survey_target
        drawn = await asyncio.to_thread(progress_chart, counts, surveyed, f"Tiến độ kỳ {found[0].code}", target)
        return web.Response(body=drawn, content_type="image/png")

    # ------------------------------------------------------------ a unit's submission and the review

    async def unit(self, request: web.Request, notice: str | None = None) -> web.Response:
        """Every self-assessment the period assigns the unit, each with its criteria, answers, the self, survey-based
        and verified points, its evidence and its review actions."""
        service, site = self.service, self.site
        code = request.match_info["code"]
        async with service.db.read() as db:
            period = await repo.current_period(db)
            unit = await repo.get_unit(db, code)
            if period is None:
                return site.message(request, "Phiếu tự đánh giá", NO_PERIOD, 404)
            if unit is None:
                return site.message(request, "Phiếu tự đánh giá", NO_UNIT.format(code=code), 404)
            shared = await review.assessments_of(db, service.questionnaires, period.code, unit)
            sections = [await self._section(db, period, unit, qn) for qn in shared]
        if not sections:
            return site.message(request, unit.name, NOT_ASSIGNED.format(unit=unit.name, period=period.code), 404)
        return site.page(request, "unit.html", unit=unit, period=period, sections=sections, notice=notice)

    async def _section(self, db: AsyncSession, period: Period, unit: Unit, qn: Questionnaire) -> dict[str, Any]:
        """One self-assessment of the unit as the page shows it (what /xem tells in chat)."""
        service = self.service
        response = await repo.find_response(db, repo.response_key(qn.id, period.code, unit.code))
        if response is None or response.status is Status.DRAFT:
            status = LABELS[response.status if response else None].lower()
            said = NOT_SENT.format(unit=unit.name, period=period.code, status=status)
            return {"qn": qn, "response": None, "not_sent": said}
        qn = await service.definition_of(db, response) or qn
        files = await evidence_files(db, [response.id])
        explained = {f.question_id: f for f in await verification.explanation_files(db, response.id)}
        reviews = await repo.reviews_of(db, response.id)
        figures = await service.figures(db, qn, period.code, unit.code)
        scoring = await verification.scoring(db, qn, response, figures)
        answers = response.state["answers"]
        by_question: dict[str, list[Evidence]] = {}
        for f in files:
            by_question.setdefault(f.question_id, []).append(f)
        items = []
        for q in engine.review_items(qn, response.state):
            value = answers.get(q.id)
            shown = ""
            if not q.kind.files:
                shown = engine.survey_answer_text(response.state, q, display(q, value)) if value is not None else ""
            points = None
            if q.scored and value is not None:
                points = f"{number_text(question_points(q, value) or 0)}/{number_text(q.max_points)}"
            items.append(
                {
                    "q": q,
                    "header": question_header(qn, q.id),
                    "shown": shown or ("(bỏ qua)" if not q.kind.files else ""),
                    "points": points,
                    "survey": review.survey_now(q, value, figures).removeprefix(" | "),
                    "verified": _verified(scoring, q.id),
                    "explanation": scoring.explained.get(q.id),
                    "explanation_file": _file(explained[q.id], "giaitrinh") if q.id in explained else None,
                    "files": [_file(f) for f in by_question.get(q.id, [])],
                    "criterion": bool(q.code),
                }
            )
        last = reviews[-1] if reviews else None
        return {
            "qn": qn,
            "response": response,
            "status": LABELS[response.status],
            "total": review.total_text(qn, answers, figures),
            "scoring": verification.summary(scoring, qn) if scoring.state is not None else [],
            "criteria": items,
            "last": last,
            "returned": review.flagged_lines(qn, last.items) if last is not None and last.action == "returned" else [],
            "can_approve": response.status is Status.SUBMITTED,
            "can_return": response.status in (Status.SUBMITTED, Status.APPROVED),
            "approved": response.status is Status.APPROVED,
        }

    def _named(self, named: object) -> list[str]:
        """The self-assessment a form names (its field "bang", which the unit page sends), as /duyet and /tralai
        take it."""
        return [named] if isinstance(named, str) and named in self.service.questionnaires else []

    async def approve(self, request: web.Request) -> web.Response:
        code = request.match_info["code"]
        named = self._named((await request.post()).get("bang"))
        replies = await self.service.run_command(me(request), "duyet", [code, *named])
        return await self.unit(request, _texts(replies))

    async def send_back(self, request: web.Request) -> web.Response:
        code = request.match_info["code"]
        form = await request.post()
        picked = [str(v) for v in form.getall("tc", [])]
        notes = [(c, _one_line(str(form.get(f"note:{c}", "")))) for c in picked]
        if not notes or any(not note for _, note in notes):
            return await self.unit(request, PICK_CRITERION)
        confirmed: dict[str, Any] | None = {} if form.get("dongy") else None
        # "N1.2: – note": the dash ends the codes, so a note that starts with another code never flags it too
        words = " ; ".join(f"{c}: – {note}" for c, note in notes).split()
        named = self._named(form.get("bang"))
        async with self.service.db.read() as db:
            period = await repo.current_period(db)
            key = repo.response_key(named[0], period.code, code) if period and named else None
            found = await repo.find_response(db, key) if key is not None else None
        if found is not None and found.status is Status.APPROVED and confirmed is None:
            return await self.unit(request, CONFIRM_APPROVED)
        replies = await self.service.run_command(me(request), "tralai", [code, *named, *words], confirmed)
        return await self.unit(request, _texts(replies))

    async def evidence_file(self, request: web.Request) -> web.StreamResponse:
        """One evidence file, behind the session."""
        file_id = _number(request.match_info["id"])
        async with self.service.db.read() as db:
            row = await db.get(Evidence, file_id) if file_id is not None else None
        return await self._send_file(request, row)

    async def explanation_file(self, request: web.Request) -> web.StreamResponse:
        """The file backing an officer's explanation of a lowered criterion (/giaitrinh), as /minhchung sends it."""
        file_id = _number(request.match_info["id"])
        async with self.service.db.read() as db:
            found = await verification.explanation(db, file_id) if file_id is not None else None
            files = await verification.explanation_files(db, found.response_id) if found is not None else []
        return await self._send_file(request, next((f for f in files if f.id == file_id), None))

    async def _send_file(self, request: web.Request, row: Evidence | None) -> web.StreamResponse:
        """Shown inline when a browser shows it itself, else downloaded; nothing in it runs; audited."""
        service, who = self.service, signed(request)
        async with service.db.read() as db:
            response = await repo.get_response(db, row.response_id) if row is not None else None
        content = await asyncio.to_thread(evidence.store(service).read, row.sha256) if row is not None else None
        if row is None or response is None or content is None:
            return self.site.message(request, "Minh chứng", NO_FILE, 404)
        async with service.db.write() as db:
            detail = {"files": 1, "file": file_name(row)}
            await audit.record(db, sender_of(who.account), service.clock(), "evidence", response.unit_code, detail)
        mime = row.mime or "application/octet-stream"
        how = "inline" if mime in SHOWN_INLINE else "attachment"
        headers = {
            "Content-Disposition": f"{how}; filename*=UTF-8''{quote(file_name(row))}",
            "Content-Security-Policy": EVIDENCE_CSP,
            "X-Frame-Options": "SAMEORIGIN",
            "Cache-Control": "private, no-store",
        }
        return web.Response(body=content, content_type=mime, headers=headers)

    # ------------------------------------------------------------ exports

    async def export_list(self, request: web.Request) -> web.Response:
        who = signed(request)
        mine = [(key, run) for key, run in self.exports.items() if run.account_id == who.account.id]
        return self.site.page(request, "exports.html", exports=EXPORTS, microdata=MICRODATA, runs=list(reversed(mine)))

    async def export_start(self, request: web.Request) -> web.StreamResponse:
        """/xuat as a job (bot.jobs: built in a worker process, its crash told), its files kept here to download."""
        form = await request.post()
        chosen = next((e for e in EXPORTS if f"{e[0]}:{e[1]}" == form.get("tep")), None)
        if chosen is None:
            raise web.HTTPSeeOther("/web/xuat")
        kind, fmt, label = chosen
        confirmed: dict[str, Any] | None = {} if form.get("dongy") else None
        if kind == MICRODATA and confirmed is None:
            return self.site.message(request, "Xuất tệp", CONFIRM_MICRODATA, 400)
        who = signed(request)
        args = [] if kind == "tonghop" else [kind, fmt]
        made = self.service.run_command(sender_of(who.account), "xuat", args, confirmed)
        task = asyncio.create_task(made, name=f"web-export-{kind}")
        key = secrets.token_urlsafe(16)
        self.exports[key] = ExportRun(who.account.id, label, task)
        while len(self.exports) > KEPT_EXPORTS:
            self.exports.pop(next(iter(self.exports)))
        raise web.HTTPSeeOther(f"/web/xuat/{key}")

    def _run(self, request: web.Request) -> ExportRun | None:
        run = self.exports.get(request.match_info["key"])
        return run if run is not None and run.account_id == signed(request).account.id else None

    async def export_status(self, request: web.Request) -> web.Response:
        run = self._run(request)
        if run is None:
            return self.site.message(request, "Tệp xuất", NO_EXPORT, 404)
        replies = run.task.result() if run.task.done() else []
        documents = [(n, r) for n, r in enumerate(replies) if isinstance(r, Document)]
        texts = [plain(r) for r in replies if isinstance(r, Outgoing)]
        key = request.match_info["key"]
        return self.site.page(
            request, "export_job.html", run=run, key=key, done=run.task.done(), documents=documents, texts=texts
        )

    async def export_file(self, request: web.Request) -> web.StreamResponse:
        run = self._run(request)
        n = _number(request.match_info["n"])
        replies = run.task.result() if run is not None and run.task.done() else []
        document = replies[n] if n is not None and n < len(replies) else None
        if not isinstance(document, Document):
            return self.site.message(request, "Tệp xuất", NO_EXPORT, 404)
        return _download(document)

    # ------------------------------------------------------------ the audit log

    async def audit_log(self, request: web.Request) -> web.Response:
        q = request.query
        unit, person = q.get("donvi", "").strip(), q.get("nguoi", "").strip()
        since, until = parse_day(q.get("tu", "").strip() or "-"), parse_day(q.get("den", "").strip() or "-")
        async with self.service.db.read() as db:
            entries = await repo.audit_entries(db)
        shown = []
        for e in reversed(entries):
            day = local_date(e.at)
            detail = e.detail or {}
            if unit and fold(unit) not in (fold(e.target), fold(str(detail.get("unit") or ""))):
                continue
            if person and fold(person) not in fold(e.actor):
                continue
            if (isinstance(since, date) and day < since) or (isinstance(until, date) and day > until):
                continue
            shown.append((e, ACTIONS.get(e.action, e.action), details_text(e.action, e.detail)))
        filters = {"donvi": unit, "nguoi": person, "tu": q.get("tu", ""), "den": q.get("den", "")}
        return self.site.page(request, "audit.html", entries=shown[:500], more=len(shown) > 500, filters=filters)

    # ------------------------------------------------------------ questionnaires

    async def questionnaires(self, request: web.Request, notice: str | None = None) -> web.Response:
        service = self.service
        rows = []
        async with service.db.read() as db:
            for qn_id, qn in sorted(service.questionnaires.items()):
                rows.append((qn, await repo.latest_unused_version(db, qn_id)))
            waiting = await repo.latest_unused_version(db, None)
        new = waiting if waiting is not None and waiting.questionnaire_id not in service.questionnaires else None
        return self.site.page(request, "questionnaires.html", rows=rows, new=new, notice=notice)

    async def upload(self, request: web.Request) -> web.Response:
        """A new XLSForm version, given to the entry a workbook sent in chat goes to (the same checks and summary of
        what changed); kept waiting, to be previewed and put into use."""
        sent = (await request.post()).get("tep")
        if not isinstance(sent, web.FileField) or not sent.filename:
            return await self.questionnaires(request, PICK_FILE)
        if not sent.filename.lower().endswith(".xlsx"):
            return await self.questionnaires(request, NOT_XLSX.format(name=sent.filename))
        content = await asyncio.to_thread(sent.file.read)
        replies = await self.service.run_file(me(request), sent.filename, content)
        return await self.questionnaires(request, _texts(replies))

    async def waiting_version(self, request: web.Request) -> web.Response:
        """The version waiting of one questionnaire, read through: what it holds, what it changes, every question
        with its choices; and the button putting it into use (/kichhoat)."""
        service, qn_id = self.service, request.match_info["id"]
        async with service.db.read() as db:
            found = await versions.waiting(service, db, qn_id)
        if found is None:
            return await self.questionnaires(request, NONE_WAITING.format(id=qn_id))
        row, qn = found
        active = service.questionnaires.get(qn.id)
        questions = [
            (question_header(qn, q.id), [c.label for c in q.choices], q.required) for q in qn.questions if q.answerable
        ]
        return self.site.page(
            request,
            "version.html",
            qn=qn,
            row=row,
            active=active,
            summary=summary(qn),
            changes=changes(active, qn) if active is not None else [],
            questions=questions,
        )

    async def activate(self, request: web.Request) -> web.Response:
        replies = await self.service.run_command(me(request), "kichhoat", [request.match_info["id"]])
        return await self.questionnaires(request, _texts(replies))

    async def xlsform(self, request: web.Request) -> web.StreamResponse:
        """The version in use as XLSForm, by /banghoi <mã>."""
        qn_id = request.match_info["id"]
        if qn_id not in self.service.questionnaires:
            raise web.HTTPNotFound()
        replies = await self.service.run_command(me(request), "banghoi", [qn_id])
        document = next((r for r in replies if isinstance(r, Document)), None)
        if document is None:
            return self.site.message(request, "Bảng hỏi", _texts(replies), 404)
        return _download(document)


def _file(f: Evidence, route: str = "minhchung") -> dict[str, Any]:
    """An evidence file as the page links it (`route`: "giaitrinh" for the file backing an explanation)."""
    mime = f.mime or ""
    return {
        "url": f"/web/{route}/{f.id}",
        "name": engine.file_label(f.name, f.kind),
        "image": mime in SHOWN_INLINE and mime.startswith("image/"),
        "pdf": mime == "application/pdf",
        "kept": f.sha256 is not None,
    }


def _verified(found: verification.Scoring, question_id: str) -> str:
    """A criterion's verified points and the reason given ("" while not verified)."""
    c = found.result.criterion(question_id)
    if c is None or c.verified is None:
        return ""
    row = found.rows.get(question_id)
    reason = f" – {row.reason}" if row is not None and row.reason else ""
    return f"{number_text(c.verified)}/{number_text(c.maximum)} điểm{reason}"


def _download(document: Document) -> web.Response:
    disposition = f"attachment; filename*=UTF-8''{quote(document.filename)}"
    return web.Response(body=document.content, content_type=document.mime, headers={"Content-Disposition": disposition})


def _texts(replies: Sequence[Reply]) -> str:
    return "\n\n".join(plain(r) for r in replies if isinstance(r, Outgoing))


def _one_line(note: str) -> str:
    """A note as one return item: its own semicolons and line breaks would start another."""
    return " ".join(note.replace(";", ",").split())


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 12 else None
