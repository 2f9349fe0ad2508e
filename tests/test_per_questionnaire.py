"""A period that runs two self-assessments: /xem reads the one assigned to the unit; the results workbook and the
report show each on its own, a
self-assessment workbook is of the one named (/xuat danhgia <mã bảng hỏi>), with the totals the officers were
shown. Seeded through the chat, on both databases."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
import sqlalchemy as sa
import yaml

from bot import assignments
from bot.app import open_service
from bot.progress import chart_figures, period_overview
from storage import repo
from storage.models import Assignment
from tests.client import Chat, Clock, settings_for
from tests.helpers import complete_assessment, open_questionnaire, outbox, sheet_rows

ROOT = Path(__file__).resolve().parents[1]
HAU_LOC, HOA_LOC = "16012", "16072"
SECOND = "tt03-mau"
SECOND_TITLE = "Bộ tiêu chí TT 03 (mẫu thử)"


def _questionnaires(tmp_path: Path) -> Path:
    """The shipped questionnaires, and a second self-assessment made from the first (another id and title)."""
    directory = tmp_path / "questionnaires"
    shutil.copytree(ROOT / "presets" / "questionnaires", directory)
    data = yaml.safe_load((directory / "tu-danh-gia.yaml").read_text(encoding="utf-8"))
    data.update(id=SECOND, short_title=SECOND_TITLE, title=f"{data['title']} – bản thử")
    (directory / f"{SECOND}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return directory


async def _officer(admin: Chat, unit: str) -> Chat:
    officer = Chat(admin.service, f"officer-{unit}")
    code = re.search(r"dk_([A-Z0-9]+)", await admin.send(f"/moi {unit}"))
    assert code
    await officer.send(f"/start dk_{code[1]}")
    return officer


def _total(row: dict[str, Any]) -> Any:
    return next(v for k, v in row.items() if str(k).startswith("Tổng điểm tự chấm (tối đa"))


async def test_two_self_assessments_each_on_its_own(tmp_path: Path, database_url: str) -> None:
    settings = settings_for(tmp_path, database_url=database_url, questionnaires_dir=_questionnaires(tmp_path))
    async with open_service(settings) as service:
        service.admins = frozenset({"test:admin"})
        service.clock = Clock()
        first = service.questionnaires["tu-danh-gia"]
        async with service.db.write() as db:  # Hậu Lộc answers the shipped one, Hoa Lộc the second
            await db.execute(sa.delete(Assignment).where(Assignment.period_code == "2026"))
            now = service.clock()
            for rule in (
                assignments.Rule(first.id, assignments.Scope.UNIT, HAU_LOC),
                assignments.Rule(SECOND, assignments.Scope.UNIT, HOA_LOC),
                assignments.Rule("khao-sat-nguoi-dan", assignments.Scope.KIND, "commune"),
            ):
                await assignments.assign(db, "2026", rule, now)
        admin = Chat(service, "admin")
        totals = {}
        for unit, choice, percent in ((HAU_LOC, "1", "90"), (HOA_LOC, "2", "60")):
            totals[unit], _ = await complete_assessment(await _officer(admin, unit), choice, percent)
        assert totals[HAU_LOC] != totals[HOA_LOC]

        for unit in (HAU_LOC, HOA_LOC):  # each unit's own self-assessment
            assert "Trạng thái: Đã nộp" in await admin.send(f"/xem {unit}")

        several = await admin.send("/xuat danhgia")
        assert "nhiều bảng hỏi" in several and first.id in several and SECOND in several, several
        assert "Đang chuẩn bị" not in several and admin.documents == [], "refused before it is prepared"
        assert "Không hiểu “khong-co”" in await admin.send("/xuat danhgia khong-co")

        await admin.send(f"/xuat danhgia {SECOND}")
        [workbook] = admin.documents
        summary = sheet_rows(openpyxl.load_workbook(io.BytesIO(workbook.content)), "Tổng hợp")
        assert summary[HOA_LOC]["Trạng thái"] == "Đã nộp" and _total(summary[HOA_LOC]) == totals[HOA_LOC]
        assert list(summary) == [HOA_LOC], "assigned to Hoa Lộc only: no empty rows for the units it does not apply to"
        progress = sheet_rows(openpyxl.load_workbook(io.BytesIO(workbook.content)), "Tiến độ")
        assert list(progress) == [HOA_LOC] and progress[HOA_LOC]["Trạng thái"] == "Đã nộp"
        files = list(openpyxl.load_workbook(io.BytesIO(workbook.content))["Minh chứng"].iter_rows(values_only=True))
        column = files[0].index("Trong tệp zip (/xuat minhchung)")
        named = {row[column] for row in files[1:]}
        assert named and all(str(p).startswith(f"{SECOND}/{HOA_LOC}/") for p in named), named

        await admin.send("/xuat minhchung")  # several frameworks: a folder each, named by its code
        [bundle] = admin.documents
        with zipfile.ZipFile(io.BytesIO(bundle.content)) as archive:
            inside = archive.namelist()
        assert f"{first.id}/danh-sach-minh-chung.csv" in inside and f"{SECOND}/danh-sach-minh-chung.csv" in inside
        assert named <= set(inside), "the workbook names each file's place in the zip"
        kept = [n for n in inside if not n.endswith(".csv")]
        assert any(n.startswith(f"{first.id}/{HAU_LOC}/") for n in kept)
        assert all(n.startswith((f"{first.id}/{HAU_LOC}/", f"{SECOND}/{HOA_LOC}/")) for n in kept), kept

        await admin.send("/xuat")
        book = openpyxl.load_workbook(io.BytesIO(next(d for d in admin.documents).content))
        assert first.short_title in book.sheetnames and SECOND_TITLE in book.sheetnames, book.sheetnames
        assert list(sheet_rows(book, first.short_title)) == [HAU_LOC]
        assert list(sheet_rows(book, SECOND_TITLE)) == [HOA_LOC]
        assert _total(sheet_rows(book, first.short_title)[HAU_LOC]) == totals[HAU_LOC]
        assert _total(sheet_rows(book, SECOND_TITLE)[HOA_LOC]) == totals[HOA_LOC]
        for title, unit in ((first.short_title, HAU_LOC), (SECOND_TITLE, HOA_LOC)):  # a progress sheet each
            name = f"Tiến độ {title}"[:31].rstrip()  # Excel's limit on a sheet's name
            assert {k: r["Trạng thái"] for k, r in sheet_rows(book, name).items()} == {unit: "Đã nộp"}, book.sheetnames
            assert f"Hạ điểm {title}"[:31].rstrip() in book.sheetnames, book.sheetnames  # its lowered criteria

        await admin.send("/xuat baocao")
        [report] = admin.documents
        document = docx.Document(io.BytesIO(report.content))
        headings = [p.text for p in document.paragraphs if p.style is not None and p.style.name == "Heading 2"]
        for title in (first.short_title, SECOND_TITLE):
            assert f"Điểm tự đánh giá và thẩm định theo đơn vị – {title}" in " ".join(headings), headings
        scores = [t for t in document.tables if t.rows[0].cells[0].text == "STT"]
        assert len(scores) == 2
        shown = [{row.cells[1].text: row.cells[2].text for row in t.rows[1:]} for t in scores]  # the self totals

        def said(points: float) -> str:
            return f"{points:g}".replace(".", ",")

        assert shown == [{"Xã Hậu Lộc": said(totals[HAU_LOC])}, {"Xã Hoa Lộc": said(totals[HOA_LOC])}]


PILOT, PRACTICE, CITIZENS = "tu-danh-gia-thi-diem", "khao-sat-thuc-trang", "khao-sat-nguoi-dan"


def _block(text: str, code: str) -> str:
    """The /tiendo block of one questionnaire."""
    return next(b for b in text.split("\n\n") if f"(mã {code})" in b.split("\n")[0])


async def _answer_individually(service: Any, officer: Chat, questionnaire: str) -> None:
    """An officer's own submitted response to an individual survey, as bot.assignments keys it (the chat that opens
    one is another step's)."""
    from bot.assignments import Audience, respondent
    from conversations import engine
    from conversations.status import Status
    from storage import repo
    from storage.models import Account, Response

    async with service.db.write() as db:
        account = (await db.scalars(sa.select(Account).where(Account.platform_id == officer.sender.user_id))).one()
        now = service.clock()
        qn = service.questionnaires[questionnaire]
        who = respondent(Audience.INDIVIDUAL, "", account.id)
        assert account.unit_code is not None
        db.add(
            Response(
                dedupe_key=repo.response_key(qn.id, "2026", account.unit_code, who),
                questionnaire_id=qn.id,
                questionnaire_version=qn.version,
                period_code="2026",
                unit_code=account.unit_code,
                respondent=who,
                status=Status.SUBMITTED,
                state=engine.as_stored(engine.start(qn, now).state),
                created_at=now,
                updated_at=now,
                submitted_at=now,
            )
        )


async def _assign_four(service: Any) -> None:
    """The self-assessment and the survey of practice for every unit, the pilot framework for Hoa Lộc only, the
    citizen survey for the communes."""
    async with service.db.write() as db:
        await db.execute(sa.delete(Assignment).where(Assignment.period_code == "2026"))
        for rule in (
            assignments.Rule("tu-danh-gia", assignments.Scope.ALL),
            assignments.Rule(PILOT, assignments.Scope.UNIT, HOA_LOC),
            assignments.Rule(PRACTICE, assignments.Scope.ALL),
            assignments.Rule(CITIZENS, assignments.Scope.KIND, "commune"),
        ):
            await assignments.assign(db, "2026", rule, service.clock())


async def test_progress_by_questionnaire_and_in_all(tmp_path: Path, database_url: str) -> None:
    """/tiendo: a block per questionnaire over the units it is assigned to (a pilot framework assigned to Hoa Lộc
    only lists Hoa Lộc), the officers who answered an individual survey per unit, the survey against its target,
    and the total; /tiendo <mã bảng hỏi> shows that one; an officer sees their unit's questionnaires only."""
    settings = settings_for(tmp_path, database_url=database_url)
    async with open_service(settings) as service:
        service.admins = frozenset({"test:admin"})
        service.clock = Clock()
        await _assign_four(service)
        admin = Chat(service, "admin")
        hau_loc, hoa_loc = await _officer(admin, HAU_LOC), await _officer(admin, HOA_LOC)
        total, _ = await complete_assessment(hau_loc, "1", "90")
        await _answer_individually(service, hau_loc, PRACTICE)

        shown = await admin.send("/tiendo")
        assessment = _block(shown, "tu-danh-gia")
        assert "1/5 đơn vị đã nộp, 0 đang làm, 4 chưa bắt đầu" in assessment, shown
        assert f"• Xã Hậu Lộc: đã nộp ({str(total).removesuffix('.0').replace('.', ',')} điểm)" in assessment
        pilot = _block(shown, PILOT)
        assert pilot.startswith("■ Khung tiêu chí thí điểm (mã tu-danh-gia-thi-diem) – mỗi đơn vị một phiếu\n")
        assert "0/1 đơn vị đã nộp" in pilot and "• Xã Hoa Lộc: chưa bắt đầu" in pilot and "Hậu Lộc" not in pilot
        practice = _block(shown, PRACTICE)
        assert "1/2 cán bộ đã trả lời; 1/5 đơn vị đủ cán bộ trả lời." in practice, practice
        assert "• Xã Hậu Lộc: 1/1 cán bộ đã trả lời" in practice and "• Xã Hoa Lộc: 0/1 cán bộ đã trả lời" in practice
        assert "• Xã Triệu Lộc: chưa có cán bộ dùng bot" in practice
        citizens = _block(shown, CITIZENS)
        assert "0 phiếu đã nộp; mục tiêu 30 phiếu mỗi đơn vị, 0/5 đơn vị đạt." in citizens
        assert "• Xã Hậu Lộc: 0/30 phiếu" in citizens
        assert shown.split("\n\n")[-2] == (
            "Tổng cộng 4 bảng hỏi: tự đánh giá 1/6 phiếu đơn vị đã nộp; 1/2 phiếu cán bộ; 0 phiếu ẩn danh."
        ), shown
        assert admin.documents and admin.documents[0].mime == "image/png"
        async with service.db.read() as db:  # the chart draws both frameworks, each by its own name
            period = await repo.current_period(db)
            assert period is not None
            figures = chart_figures(await period_overview(service, db, period))
        assert figures is not None
        statuses, surveyed = figures
        assert statuses == [
            ("Tự đánh giá", {"Đã nộp": 1, "Đang làm": 0, "Chưa bắt đầu": 4, "Bị trả lại": 0, "Đã duyệt": 0}),
            (
                "Khung tiêu chí thí điểm",
                {"Đã nộp": 0, "Đang làm": 0, "Chưa bắt đầu": 1, "Bị trả lại": 0, "Đã duyệt": 0},
            ),
        ]
        assert surveyed is not None and surveyed[0] == "Khảo sát người dân" and len(surveyed[1]) == 5

        one = await admin.send(f"/tiendo {PILOT}")
        assert "(mã tu-danh-gia-thi-diem)" in one and "(mã tu-danh-gia)" not in one and "Tổng cộng" not in one
        assert "Tiến độ kỳ 2026" in await admin.send(f"/tiendo 2026 {PRACTICE}")
        refused = await admin.send("/tiendo y-kien-hoi-thao")
        assert "Kỳ 2026 không có bảng hỏi “y-kien-hoi-thao”" in refused and PILOT in refused

        own = await hoa_loc.send("/tiendo")
        assert "(mã tu-danh-gia-thi-diem)" in own and "Hậu Lộc" not in own and "Tổng cộng 4 bảng hỏi" in own
        theirs = await hau_loc.send("/tiendo")
        assert "(mã tu-danh-gia-thi-diem)" not in theirs and "Tổng cộng 3 bảng hỏi" in theirs


async def test_reminders_say_what_is_missing_per_questionnaire(tmp_path: Path, database_url: str) -> None:
    """/nhacnho, the scheduler's reminders and the digest name each questionnaire a unit has left: its
    self-assessments not submitted (not started, or drafting with the share answered) to every officer of the unit,
    an individual survey only to the officers who have not answered it."""
    from bot.reminders import queue_digest
    from storage import repo

    settings = settings_for(tmp_path, database_url=database_url)
    async with open_service(settings) as service:
        service.admins = frozenset({"test:admin"})
        service.clock = Clock()
        await _assign_four(service)
        admin = Chat(service, "admin")
        hau_loc, hoa_loc = await _officer(admin, HAU_LOC), await _officer(admin, HOA_LOC)
        await complete_assessment(hau_loc, "1", "90")
        await _answer_individually(service, hau_loc, PRACTICE)
        await open_questionnaire(hoa_loc)  # the first question of the first self-assessment assigned
        await hoa_loc.send("1")

        done = await admin.send(f"/nhacnho {HAU_LOC}")
        assert done.startswith("Xã Hậu Lộc đã nộp đủ các phiếu kỳ 2026: Tự đánh giá lúc"), done
        assert "Khảo sát thực trạng: mọi cán bộ đã trả lời; không cần nhắc." in done

        one = await admin.send(f"/nhacnho {HOA_LOC}")
        assert one.startswith("Đã nhắc 1 cán bộ của Xã Hoa Lộc, kỳ 2026: Tự đánh giá đang làm, đã trả lời 1/"), one
        assert "; chưa nộp Khung tiêu chí thí điểm; Khảo sát thực trạng: 1 cán bộ chưa trả lời." in one
        [told] = (await outbox(service, "reminder"))[f"officer-{HOA_LOC}"]
        assert told.startswith("Nhắc việc kỳ 2026 – Xã Hoa Lộc: Tự đánh giá đang làm, đã trả lời 1/"), told
        assert "; chưa nộp Khung tiêu chí thí điểm; Khảo sát thực trạng: phiếu của riêng anh/chị chưa nộp." in told

        second = Chat(service, "second-officer")  # Hậu Lộc's second officer has not answered the survey of practice
        code = re.search(r"dk_([A-Z0-9]+)", await admin.send(f"/moi {HAU_LOC}"))
        assert code
        await second.send(f"/start dk_{code[1]}")
        everyone = await admin.send("/nhacnho")
        assert "Đã nhắc 2 cán bộ của 2 đơn vị chưa nộp đủ: Xã Hậu Lộc, Xã Hoa Lộc." in everyone, everyone
        sent = await outbox(service, "reminder")
        assert f"officer-{HAU_LOC}" not in sent, "nothing is missing of what Hậu Lộc's first officer has to do"
        [own] = sent["second-officer"]
        assert "Xã Hậu Lộc: Khảo sát thực trạng: phiếu của riêng anh/chị chưa nộp." in own and "Tự đánh giá" not in own

        async with service.db.write() as db:
            period = await repo.current_period(db)
            assert period is not None
            assert await queue_digest(service, db, period, "tomtat:thu") == 1
        [digest] = (await outbox(service, "digest"))["admin"]
        assert "Tự đánh giá: 1/5 đơn vị đã nộp, 1 đang làm" in digest
        assert "Khung tiêu chí thí điểm: 0/1 đơn vị đã nộp, 0 đang làm, 1 chưa bắt đầu" in digest
        assert "Khảo sát thực trạng: 1/3 cán bộ đã trả lời." in digest and "Khảo sát người dân: 0 phiếu." in digest
        assert "• Xã Hậu Lộc: Khảo sát thực trạng: 1 cán bộ chưa trả lời" in digest
        assert "• Xã Hoa Lộc: Tự đánh giá đang làm, đã trả lời 1/" in digest
        assert "• Xã Vạn Lộc: chưa nộp Tự đánh giá" in digest


def test_measured_by_names_its_surveys_by_code_the_old_form_still_works() -> None:
    """`measured_by.survey`: one questionnaire code as before, or several, one per audience; a unit reads the first
    the period assigns to it, else the first named."""
    from conversations.definition import SurveyMeasure

    old = SurveyMeasure(indicator="satisfaction", survey=CITIZENS, question="hai_long", values=["hai_long"])
    assert old.surveys == (CITIZENS,) and old.survey_for({STAFF}) == CITIZENS
    both = SurveyMeasure(indicator="knowledge", survey=[CITIZENS, STAFF], group="kien_thuc")
    assert both.survey_for({STAFF, "y-kien-hoi-thao"}) == STAFF and both.survey_for({CITIZENS}) == CITIZENS
    assert both.survey_for(set()) == CITIZENS


STAFF, DEPARTMENT = "khao-sat-phong-ban", "PB-TP"


async def _public_responses(service: Any, survey: str, unit: str, satisfied: list[bool]) -> None:
    """Submitted responses to a public survey for a unit, each answering `hai_long` (the tallies read the answer
    rows)."""
    from conversations import engine
    from conversations.status import Status
    from storage import repo
    from storage.models import Answer, Response

    qn = service.questionnaires[survey]
    now = service.clock()
    async with service.db.write() as db:
        for n, yes in enumerate(satisfied):
            response = Response(
                dedupe_key=repo.response_key(qn.id, "2026", unit, f"{survey}-{unit}-{n}"),
                questionnaire_id=qn.id,
                questionnaire_version=qn.version,
                period_code="2026",
                unit_code=unit,
                respondent=f"{survey}-{unit}-{n}",
                status=Status.SUBMITTED,
                state=engine.as_stored(engine.start(qn, now).state),
                created_at=now,
                updated_at=now,
                submitted_at=now,
            )
            db.add(response)
            await db.flush()
            value = "hai_long" if yes else "khong_hai_long"
            db.add(Answer(response_id=response.id, question_id="hai_long", value=value, value_text=value))


async def test_a_survey_measured_criterion_reads_the_survey_of_the_units_audience(
    tmp_path: Path, database_url: str
) -> None:
    """The shipped self-assessment, assigned to every unit, measures satisfaction by the citizen survey or the staff
    survey: a commune's figure comes from its citizens' survey, a department's from its staff's, each assigned to
    its kind of unit."""
    from storage.models import Unit

    settings = settings_for(tmp_path, database_url=database_url)
    async with open_service(settings) as service:
        service.clock = Clock()
        minimum = service.settings.suppress_below
        async with service.db.write() as db:
            db.add(Unit(code=DEPARTMENT, name="Phòng Tư pháp", kind="department", unit_set="thu"))
            await db.execute(sa.delete(Assignment).where(Assignment.period_code == "2026"))
            for rule in (
                assignments.Rule("tu-danh-gia", assignments.Scope.ALL),
                assignments.Rule(CITIZENS, assignments.Scope.KIND, "commune"),
                assignments.Rule(STAFF, assignments.Scope.KIND, "department"),
            ):
                await assignments.assign(db, "2026", rule, service.clock())
        await _public_responses(service, CITIZENS, HAU_LOC, [True] * minimum)  # every citizen satisfied
        await _public_responses(service, STAFF, DEPARTMENT, [True] + [False] * (minimum - 1))  # one in K
        await _public_responses(service, CITIZENS, DEPARTMENT, [False] * (minimum + 2))  # not the department's audience
        qn = service.questionnaires["tu-danh-gia"]
        async with service.db.read() as db:
            commune = await service.figures(db, qn, "2026", HAU_LOC)
            department = await service.figures(db, qn, "2026", DEPARTMENT)
        assert commune is not None and department is not None
        assert commune.rates["n4_hai_long"].percent == 100 and commune.rates["n4_hai_long"].base == minimum
        assert department.rates["n4_hai_long"].base == minimum
        assert department.rates["n4_hai_long"].percent == pytest.approx(100 / minimum, abs=0.5)

        service.admins = frozenset({"test:admin"})
        admin = Chat(service, "admin")
        await admin.send("/xuat danhgia")  # the workbook counts each unit's own audience's survey
        [workbook] = admin.documents
        progress = sheet_rows(openpyxl.load_workbook(io.BytesIO(workbook.content)), "Tiến độ")
        assert (
            progress[DEPARTMENT]["Số phiếu khảo sát"] == minimum and progress[HAU_LOC]["Số phiếu khảo sát"] == minimum
        )

        await admin.send("/xuat baocao")  # the report: a part per survey, named for whom it asked
        [report] = admin.documents
        document = docx.Document(io.BytesIO(report.content))
        headings = [p.text for p in document.paragraphs if p.style is not None and p.style.name == "Heading 2"]
        assert any(h.endswith(". Kết quả khảo sát người dân") for h in headings), headings
        assert any(h.endswith(". Kết quả khảo sát cán bộ, người lao động") for h in headings), headings
        texts = " ".join(p.text for p in document.paragraphs)
        assert f"Khảo sát cán bộ, người lao động: {minimum} phiếu đã nộp tại 1 đơn vị" in texts
        tables = [
            [row.cells[0].text for row in t.rows[1:]] for t in document.tables if t.rows[0].cells[0].text == "Đơn vị"
        ]
        assert ["Phòng Tư pháp"] in tables, "the staff survey lists the department it is assigned to, alone"
        assert any("Xã Hậu Lộc" in t for t in tables), tables  # (the department has citizens' responses: listed)
