"""Questionnaires changed in chat, as a new admin would: download the self-assessment as XLSForm, add a criterion
with points and a show-if condition, upload it, read the problems or the summary, run through it, put it into use;
an officer's next self-assessment asks the criterion and scores it, a draft started before keeps its version."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import sqlalchemy as sa
from sqlalchemy import select

from bot.service import BotService
from conversations import messages as m
from conversations.engine import FileRef, Inbound, Outgoing
from storage.models import Answer, QuestionnaireVersion, Response
from tests.client import Chat, Clock, SentFiles, running_service

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NEW_QUESTION = "Đơn vị có tổ chức đối thoại chính sách, pháp luật với người dân không?"


def serve_files(service: BotService) -> dict[str, bytes]:
    """Files "sent" in the test channel, fetched by id as a channel's fetcher would."""
    return SentFiles(service).files


async def upload(chat: Chat, files: dict[str, bytes], content: bytes, name: str = "tu-danh-gia.xlsx") -> str:
    file_id = f"tep-{len(files) + 1}"
    files[file_id] = content
    chat.last = await chat.service.handle(chat.sender, Inbound(files=(FileRef(file_id, "document", name, XLSX),)))
    return chat.text


def add_criterion(content: bytes, relevant: str = "${n5_sang_kien} = 'co'") -> bytes:
    """What the admin does in LibreOffice: a yes/no criterion N5.5 worth 2 points, asked when N5.1 is "có", and
    group N5 raised from 10 to 12 points."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    survey, choices = book["survey"], book["choices"]
    header = [c.value for c in survey[1]]
    column = {name: index + 1 for index, name in enumerate(header)}
    rows = list(survey.iter_rows(min_row=2, values_only=True))
    begin = next(i for i, r in enumerate(rows, start=2) if r[0] == "begin_group" and r[1] == "N5")
    survey.cell(begin, column["max_points"], 12)
    end = next(i for i, r in enumerate(rows, start=2) if i > begin and r[0] == "end_group")
    survey.insert_rows(end)
    cells = {
        "type": "select_one doi_thoai",
        "name": "n5_doi_thoai",
        "label::Vietnamese (vi)": NEW_QUESTION,
        "required": "yes",
        "relevant": relevant,
        "code": "N5.5",
    }
    for name, value in cells.items():
        survey.cell(end, column[name], value)
    choices.append(["doi_thoai", "co", "Có", 2])
    choices.append(["doi_thoai", "khong", "Không", 0])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def with_form_id(content: bytes, form_id: str) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(content))
    settings = book["settings"]
    column = [c.value for c in settings[1]].index("form_id") + 1
    settings.cell(2, column, form_id)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def without_settings(content: bytes, *columns: str) -> bytes:
    """The workbook with those columns of its settings sheet left out, as a form made elsewhere has them."""
    book = openpyxl.load_workbook(io.BytesIO(content))
    settings = book["settings"]
    for column in columns:
        settings.delete_cols([c.value for c in settings[1]].index(column) + 1)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def answer_for(message: Outgoing) -> Inbound:
    """A plausible answer to whatever the engine asks: the first choice ("Có" on yes/no), a number, a date."""
    if any(a.token == "r:submit" for a in message.actions):
        return Inbound(button="r:submit")
    if message.choices:
        return Inbound(text="1")
    answers = {m.HINT_EVIDENCE: "xong", m.HINT_DATE: "1/2/2026"}
    if message.hint in answers:
        return Inbound(text=answers[message.hint])
    if message.hint and message.hint.startswith("Gõ câu trả lời"):
        return Inbound(text="Ổn")
    return Inbound(text="90")


async def complete(chat: Chat, until: str) -> str:
    """Answer question after question until a reply says `until`; everything the bot said."""
    said = [chat.text]
    for _ in range(120):
        if until in chat.text:
            return "\n".join(said)
        prompts = [r for r in chat.last if isinstance(r, Outgoing) and (r.choices or r.hint or r.actions)]
        chat.last = await chat.service.handle(chat.sender, answer_for(prompts[-1]))
        said.append(chat.text)
    raise AssertionError(f"never saw {until!r}:\n{chat.text}")


async def test_upload_preview_activate_and_the_next_assessment_asks_and_scores_it(
    tmp_path: Path, database_url: str
) -> None:
    clock = Clock()
    async with running_service(tmp_path, clock, database_url) as service:
        files = serve_files(service)
        admin, early, late = Chat(service, "admin"), Chat(service, "701"), Chat(service, "702")
        assert await service.bind_officer(early.sender, "16012") is not None
        assert await service.bind_officer(late.sender, "16021") is not None
        assert "Câu 1/" in await early.send("/danhgia")  # a draft on the version in use

        listed = await admin.send("/banghoi")
        assert "• tu-danh-gia – Phiếu tự đánh giá" in listed and "phiên bản 2026.1" in listed
        await admin.send("/banghoi tu-danh-gia")
        [document] = admin.documents
        assert document.filename == "tu-danh-gia-2026.1.xlsx"
        assert "chỉ dành cho quản trị viên" in await early.send("/banghoi tu-danh-gia")

        same = await upload(admin, files, document.content)
        assert "giống hệt phiên bản đang dùng (2026.1)" in same

        broken = add_criterion(document.content, "${n5_sang_kienn} = 'co'")
        refused = await upload(admin, files, broken)
        assert "chưa dùng được" in refused
        assert "cột “relevant”" in refused and "không có câu hỏi nào tên “n5_sang_kienn”" in refused

        edited = add_criterion(document.content)
        reply = await upload(admin, files, edited)
        assert "36 câu hỏi" not in reply and "37 câu hỏi trong 5 nhóm; tối đa 102 điểm" in reply
        assert f"• Thêm câu N5.5 «{NEW_QUESTION[:59]}" in reply and "tối đa 2 điểm, có điều kiện hiển thị" in reply
        assert "• Nhóm N5: điểm tối đa 10 → 12" in reply and "• Tổng điểm tối đa: 100 → 102" in reply
        assert "được lưu là phiên bản “2026.1-2”" in reply  # the file still says 2026.1
        assert "phiên bản 2026.1-2 đang chờ áp dụng" in await admin.send("/banghoi")

        assert "XEM THỬ" in await admin.send("/xemthu")
        assert "Câu 2/" in await admin.send("có")
        assert "Đã dừng xem thử" in await admin.send("huỷ")
        assert "XEM THỬ" in await admin.send("/xemthu tu-danh-gia")
        previewed = await complete(admin, "Hết phần xem thử")
        # the first choice everywhere: everything but N2.3 (1 of its 4 points) and N5.5 is at its maximum
        assert NEW_QUESTION in previewed and "• N5: 12/12\nTổng: 99/102 điểm" in previewed
        assert "Không có việc nào đang chờ" in await admin.send("90")  # the preview is over
        async with service.db.read() as db:
            assert (await db.scalars(select(Response))).all()[0].questionnaire_id == "tu-danh-gia"
            assert len((await db.scalars(select(Response))).all()) == 1  # the preview stored nothing

        activated = await admin.send("/kichhoat")
        assert "Đã áp dụng «Phiếu tự đánh giá" in activated and "phiên bản 2026.1-2 cho kỳ 2026" in activated
        assert "Chưa có phiên bản nào chờ áp dụng" in await admin.send("/kichhoat")

        assert "Tiếp tục phiếu đang làm dở" in await early.send("/danhgia")
        finished_early = await complete(early, "Đã nộp phiếu")
        assert NEW_QUESTION not in finished_early and "• N5: 10/10\nTổng: 97/100 điểm" in finished_early

    async with running_service(tmp_path, clock, database_url) as service:  # after a restart
        late = Chat(service, "702")
        assert "Câu 1/" in await late.send("/danhgia")
        finished_late = await complete(late, "Đã nộp phiếu")
        assert NEW_QUESTION in finished_late and "• N5: 12/12\nTổng: 99/102 điểm" in finished_late
        async with service.db.read() as db:
            responses = {r.unit_code: r for r in (await db.scalars(select(Response))).all()}
            assert responses["16012"].questionnaire_version == "2026.1"
            assert responses["16021"].questionnaire_version == "2026.1-2"
            assert (responses["16012"].total_points, responses["16021"].total_points) == (97, 99)
            answer = (
                await db.scalars(
                    select(Answer).where(
                        Answer.response_id == responses["16021"].id, Answer.question_id == "n5_doi_thoai"
                    )
                )
            ).one()
            assert (answer.value, answer.value_text, answer.points) == ("co", "Có", 2)
            [stored] = (await db.scalars(select(QuestionnaireVersion))).all()
            assert (stored.version, stored.period_code, stored.uploaded_by) == ("2026.1-2", "2026", "test:admin")


async def test_uploads_that_cannot_be_used(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        admin, officer = Chat(service, "admin"), Chat(service, "801")
        assert "Kênh này chưa nhận được tệp tải lên" in await upload(admin, {}, b"")  # no fetcher on this channel
        files = serve_files(service)
        assert "Bạn chưa mở phiếu nào" in await upload(officer, files, b"x")  # only admins upload
        assert "không mở được tệp Excel" in await upload(admin, files, b"not a workbook")
        await admin.send("/banghoi khao-sat-nguoi-dan")
        survey = admin.documents[0].content
        big = FileRef("lon", "document", "lon.xlsx", XLSX, 5 * 1024 * 1024)
        admin.last = await service.handle(admin.sender, Inbound(files=(big,)))
        assert "quá lớn (5120 KB)" in admin.text
        assert "Chưa có phiên bản nào chờ áp dụng" in await admin.send("/xemthu")
        other = with_form_id(survey, "khao-sat-moi")  # a new questionnaire: kept waiting, said to be new
        assert "đây là bảng hỏi MỚI, mã “khao-sat-moi”" in await upload(admin, files, other, "moi.xlsx")
        said = await upload(admin, files, without_settings(survey, "form_id", "kind"), "Khảo sát mới.xlsx")
        assert "mã “khao-sat-moi” (ô form_id, trang settings), không phải bảng hỏi nào đang dùng" in said
        assert "Lưu ý, tệp thiếu vài thông tin nên bot tự điền:" in said
        assert "bot dùng mã “khao-sat-moi” lấy từ tên tệp" in said
        assert "bot đọc đây là phiếu khảo sát người dân (citizen_survey)" in said
        assert "Không có bảng hỏi mã “x”" in await admin.send("/banghoi x")


async def test_a_new_questionnaire_uploaded_is_put_into_use_and_assigned_to_one_unit(
    tmp_path: Path, database_url: str
) -> None:
    """An XLSForm with a new form_id is kept waiting as a new questionnaire; once put into use (/kichhoat <mã>) it is
    assigned to one unit (/giao <mã> <mã đơn vị>) and a link naming it opens it there, and nowhere else."""
    async with running_service(tmp_path, database_url=database_url) as service:
        admin = Chat(service, "admin")
        files = serve_files(service)
        await admin.send("/banghoi khao-sat-nguoi-dan")
        own = with_form_id(admin.documents[0].content, "khao-sat-hau-loc")
        said = await upload(admin, files, own, "khao-sat-hau-loc.xlsx")
        assert "/kichhoat khao-sat-hau-loc" in said and "/giao khao-sat-hau-loc <mã đơn vị>" in said, said
        assert "Không có bảng hỏi mã “khao-sat-hau-loc”" in await admin.send("/giao khao-sat-hau-loc 16012")
        assert "Đã áp dụng" in await admin.send("/kichhoat khao-sat-hau-loc")
        assigned = await admin.send("/giao khao-sat-hau-loc 16012")
        assert "Đã giao bảng hỏi khao-sat-hau-loc" in assigned and "cho Xã Hậu Lộc" in assigned, assigned

        citizen, other = Chat(service, "citizen-1"), Chat(service, "citizen-2")
        assert "Khảo sát cho Xã Hậu Lộc." in await citizen.send("/start ks_16012__khao-sat-hau-loc")
        assert "không mở cho Xã Hoa Lộc" in await other.send("/start ks_16072__khao-sat-hau-loc")
        async with service.db.read() as db:
            opened = (await db.scalars(sa.select(Response.questionnaire_id))).all()
        assert opened == ["khao-sat-hau-loc"]
