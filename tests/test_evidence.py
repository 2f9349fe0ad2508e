"""Evidence kept and openable: the bytes of a file an officer sends are fetched from the platform (the fake Bot API's
getFile and file download, the fake Zalo file server) and kept by SHA-256 with the channel; only allowed kinds, by
content; "bỏ qua" keeps files sent (also during a return); one file can be removed; an admin gets them back with
/minhchung and as a zip whose manifest matches the stored files, and the workbook names each file's place in it."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import zipfile
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
import yaml
from sqlalchemy import select

import bot.commands.export
import bot.evidence
from bot.app import open_service, serve
from bot.channels.zalo_oa import ZaloOaChannel
from bot.config import REPO_ROOT
from bot.evidence import DOC, DOCX, HEIC, JPEG, PDF, PNG, UNUSED_KEPT, WEBP, XLS, XLSX, Macro, detect
from bot.scheduler import Scheduler
from conversations.definition import parse_questionnaire
from conversations.engine import FileRef
from storage.db import Database
from storage.files import FileStore
from storage.models import Evidence
from tests.client import Chat, Clock, SentFiles, running_service, settings_for
from tests.fakes.local import free_port
from tests.fakes.telegram import BotMessage, FakeTelegram
from tests.fakes.zalo_oa_server import FakeZaloOA
from tests.helpers import answer_everything, complete_assessment
from tests.test_channels_e2e import ZaloOaPerson, fetch_link
from tests.test_exports import officer_of
from tests.test_telegram_e2e import ADMIN, OFFICER, User, complete, telegram_bot
from tests.test_telegram_e2e import PNG as PNG_BYTES

PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PLACE = "Trong tệp zip (/xuat minhchung)"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(240) + b"PE\x00\x00"


def _office(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


def kept(data_dir: Path) -> dict[str, bytes]:
    """Every file in the evidence store, by the name it is kept under."""
    return {p.name: p.read_bytes() for p in (data_dir / "evidence").glob("*/*")}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_kinds_are_known_by_content_not_name() -> None:
    assert detect(PNG_BYTES) is PNG
    assert detect(b"\xff\xd8\xff\xe0\x00\x10JFIF") is JPEG
    assert detect(b"RIFF\x10\x00\x00\x00WEBPVP8 ") is WEBP
    assert detect(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00") is HEIC
    assert detect(PDF_BYTES) is PDF
    assert detect(_office({"word/document.xml": b"<w/>"})) is DOCX
    assert detect(_office({"xl/workbook.xml": b"<x/>"})) is XLSX
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)
    assert detect(ole + "WordDocument".encode("utf-16-le")) is DOC
    assert detect(ole + "Workbook".encode("utf-16-le") + b"\0\0") is XLS
    assert detect(ole) is None  # a compound file that is neither (an .msi installer is one)
    assert detect(EXE) is None
    assert detect(b"PK\x03\x04 not a zip") is None
    plain_zip = io.BytesIO()
    with zipfile.ZipFile(plain_zip, "w") as archive:
        archive.writestr("virus.exe", EXE)
    assert detect(plain_zip.getvalue()) is None
    assert detect(b"<html><script>") is None
    with pytest.raises(Macro):
        detect(_office({"word/document.xml": b"<w/>", "word/vbaProject.bin": b"\0"}))


async def _send_document(user: User, data: bytes, name: str, mime: str) -> str:
    await user._act(lambda: user.tg.send_document(user.id, data, name, mime))
    return user.text


async def _evidence_rows(database_url: str) -> list[Evidence]:
    db = Database(database_url)
    try:
        async with db.read() as session:
            return list((await session.scalars(select(Evidence).order_by(Evidence.id))).all())
    finally:
        await db.dispose()


async def test_telegram_evidence_kept_refused_skipped_sent_and_zipped(tmp_path: Path, database_url: str) -> None:
    async with FakeTelegram() as tg, telegram_bot(tg, tmp_path, database_url):
        admin, officer = User(tg, ADMIN), User(tg, OFFICER)
        code = re.search(r"start=dk_([A-Z0-9]+)", await admin.say("/moi 16012"))
        assert code
        await officer.say(f"/start dk_{code[1]}")
        await officer.say("/danhgia")
        await officer.say("1")  # N1.1: a plan was issued
        assert "Gửi minh chứng kế hoạch" in await officer.say("15/1/2026")

        assert "Đã lưu 1 tệp" in await officer.photo(PNG_BYTES)
        assert kept(tmp_path) == {sha(PNG_BYTES): PNG_BYTES}, "the photo's bytes are kept, named by their SHA-256"

        refused = await _send_document(officer, EXE, "ke-hoach.pdf", "application/pdf")
        assert "Không nhận tệp “ke-hoach.pdf”" in refused and "nội dung tệp" in refused
        assert kept(tmp_path) == {sha(PNG_BYTES): PNG_BYTES}, "nothing of a refused file is stored"

        assert "Đã lưu 2 tệp" in await _send_document(officer, PDF_BYTES, "ke-hoach.pdf", "application/pdf")
        removed = await officer.say("xóa 1")
        assert "Đã xóa tệp 1 (Ảnh). Còn 1 tệp" in "\n".join(m.plain_text or "" for m in tg.messages(OFFICER)[-2:])
        assert "1. ke-hoach.pdf" in removed and "2." not in removed
        assert "Đã lưu 2 tệp" in await officer.photo(PNG_BYTES)
        await officer.say("bỏ qua")  # keeps both files
        back = await officer.say("quay lại")
        assert "1. ke-hoach.pdf\n2. Ảnh" in back
        assert any(d == "k:n1_kh_minh_chung" for _, d in tg.buttons(tg.last_message(OFFICER))), "Giữ nguyên offered"
        await officer.press("k:")
        assert "Đã nộp phiếu" in await complete(officer)

        rows = await _evidence_rows(database_url)
        assert [(r.question_id, r.channel, r.sha256, r.size) for r in rows] == [
            ("n1_kh_minh_chung", "telegram", sha(PDF_BYTES), len(PDF_BYTES)),
            ("n1_kh_minh_chung", "telegram", sha(PNG_BYTES), len(PNG_BYTES)),
        ]
        assert [r.mime for r in rows] == ["application/pdf", "image/png"]

        # A return on N1.1: "bỏ qua" on its evidence question keeps the files already sent.
        assert "Đã trả lại" in await admin.say("/tralai 16012 N1.1 Thiếu trang có chữ ký")
        await officer.say("/danhgia")
        await officer.say("giữ nguyên")  # N1.1
        assert "Tệp đã gửi" in await officer.say("giữ nguyên")  # its date; now its evidence, with the files listed
        assert "Xem lại trước khi nộp" in await officer.say("bỏ qua")
        await officer.say("nộp")
        assert [(r.sha256, r.channel) for r in await _evidence_rows(database_url)] == [
            (sha(PDF_BYTES), "telegram"),
            (sha(PNG_BYTES), "telegram"),
        ]

        # /minhchung: the files themselves, as documents.
        mark = len(tg.messages(ADMIN))
        assert "Minh chứng của Xã Hậu Lộc kỳ 2026, tiêu chí N1.1: 2 tệp." in "\n".join(
            m.plain_text or "" for m in (await _said(admin, "/minhchung 16012 N1.1"))
        )
        sent = [m.document for m in tg.messages(ADMIN)[mark:] if m.document is not None]
        assert [d.data for d in sent] == [PDF_BYTES, PNG_BYTES]
        assert sent[0].file_name == "ke-hoach.pdf"
        assert "Không có tiêu chí “N9.9”" in await admin.say("/minhchung 16012 N9.9")
        assert "không gửi tệp minh chứng nào" in await admin.say("/minhchung 16012 N2.1")
        assert "chưa nộp" in await admin.say("/minhchung 16021")

        # /xuat minhchung: a zip whose manifest matches what is stored; the workbook names each file's place.
        archive = zipfile.ZipFile(io.BytesIO((await admin.export("/xuat minhchung 16012")).data))
        manifest = list(csv.DictReader(io.StringIO(archive.read("danh-sach-minh-chung.csv").decode("utf-8-sig"))))
        assert len(manifest) == 2
        for row, stored in zip(manifest, rows, strict=True):
            inside = archive.read(row[PLACE])
            assert row["SHA-256"] == sha(inside) == stored.sha256
            assert int(row["Kích thước (byte)"]) == len(inside) == stored.size
            assert (row["Mã đơn vị"], row["Tiêu chí"]) == ("16012", "N1.1")
            assert row[PLACE].startswith("16012/N1.1/")
        assert manifest[0]["Tên tệp"] == "ke-hoach.pdf"
        assert set(archive.namelist()) == {"danh-sach-minh-chung.csv", *(r[PLACE] for r in manifest)}

        book = openpyxl.load_workbook(io.BytesIO((await admin.export("/xuat danhgia 16012")).data))
        sheet = book["Minh chứng"]
        header = [c.value for c in sheet[1]]
        places = [r[header.index(PLACE)] for r in sheet.iter_rows(min_row=2, values_only=True)]
        assert places == [r[PLACE] for r in manifest]


async def _said(user: User, text: str) -> list[BotMessage]:
    mark = len(user.tg.messages(user.id))
    await user.say(text)
    return user.tg.messages(user.id)[mark:]


async def test_zalo_evidence_fetched_from_the_attachment_url_and_sent_as_signed_links(
    tmp_path: Path, database_url: str
) -> None:
    async with AsyncExitStack() as stack:
        fake = await stack.enter_async_context(FakeZaloOA())
        admin_id, officer_id = "5126318745061358240", "3187740238841021112"
        port = free_port()
        fake.webhook_url = f"http://127.0.0.1:{port}/webhooks/zalo-oa"
        settings = settings_for(
            tmp_path, admins=f"zalo_oa:{admin_id}", http_port=port, database_url=database_url, **fake.settings()
        )
        service = await stack.enter_async_context(open_service(settings))
        server = await stack.enter_async_context(serve(settings, service))
        assert server is not None
        channel = server.channel("zalo_oa")
        assert isinstance(channel, ZaloOaChannel)
        admin, officer = ZaloOaPerson(fake, channel, admin_id), ZaloOaPerson(fake, channel, officer_id)
        code = re.search(r"dk_([A-Z0-9]+)", "\n".join(await admin.say("mời cán bộ 16012")))
        assert code
        await officer.say(f"/start dk_{code[1]}")
        await officer.say("/danhgia")
        await officer.say("1")
        assert "Gửi minh chứng kế hoạch" in "\n".join(await officer.say("15/1/2026"))

        refused = "\n".join(await officer._act(fake.send_file(officer_id, EXE, "bao-cao.pdf")))
        assert "Không nhận tệp “bao-cao.pdf”" in refused
        assert kept(tmp_path) == {}
        assert "Đã lưu 1 tệp" in "\n".join(await officer.photo())
        assert kept(tmp_path) == {sha(PNG_BYTES): PNG_BYTES}, "fetched from the attachment URL while it works"
        await officer.say("xong")
        for _ in range(80):
            last = "\n".join(fake.texts(officer_id)[-3:])
            if "Xem lại trước khi nộp" in last:
                break
            word = "90" if "tỉ lệ phần trăm" in last else "xong" if "minh chứng" in last else "1"
            await officer.say("bỏ qua" if "không bắt buộc" in last and word == "1" else word)
        assert "Đã nộp phiếu" in "\n".join(await officer.say("nộp"))
        rows = await _evidence_rows(database_url)
        assert [(r.channel, r.sha256, r.kind) for r in rows] == [("zalo_oa", sha(PNG_BYTES), "photo")]

        offer = await admin.say("/minhchung 16012")
        assert "Minh chứng của Xã Hậu Lộc kỳ 2026: 1 tệp." in "\n".join(offer)
        assert await fetch_link(offer) == PNG_BYTES, "on Zalo a file is a signed download link to the same bytes"


async def test_size_limit_one_file_removed_and_no_fetch_where_no_file_is_asked(
    tmp_path: Path, database_url: str
) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        data = yaml.safe_load((REPO_ROOT / "presets" / "questionnaires" / "tu-danh-gia.yaml").read_text("utf-8"))
        plan = next(q for g in data["groups"] for q in g["questions"] if q["id"] == "n1_kh_minh_chung")
        plan["accept"] = "image"  # this question takes photos only
        images_only = parse_questionnaire(data, "tu-danh-gia.yaml")
        service.versions[(images_only.id, images_only.version)] = images_only
        service.use(images_only)
        fetched: list[str] = []

        async def fetch(ref: FileRef) -> bytes:
            fetched.append(ref.file_id)
            return b"\xff\xd8\xff\xe0" + bytes(30000) + ref.file_id.encode()

        SentFiles(service, fetch=fetch)
        officer = await officer_of(Chat(service, "admin"), service, "16012")
        await officer.send("/danhgia")
        assert "Câu này không cần tệp" in await officer.send_file("not-asked")
        assert fetched == [], "a file where none is asked for is not fetched"
        await officer.send("1")
        await officer.send("15/1/2026")
        service.settings = service.settings.model_copy(update={"evidence_max_mb": 0.02})
        big = await officer.send_file("big")  # says 2048 bytes, fits; its content is larger
        assert "Không nhận tệp “minh-chung.jpg”: tệp nặng 0,03 MB, quá giới hạn 0,02 MB" in big
        assert kept(tmp_path) == {}
        service.settings = service.settings.model_copy(update={"evidence_max_mb": 10})
        for name in ("a", "b", "c"):
            await officer.send_file(name, f"{name}.jpg")
        assert len(kept(tmp_path)) == 3
        assert "Không có tệp số 4. Câu này đang có 3 tệp." in await officer.send("xoá 4")
        removed = await officer.send("xóa tệp 2")
        assert "Đã xóa tệp 2 (b.jpg). Còn 2 tệp" in removed and "1. a.jpg\n2. c.jpg" in removed
        assert "Tệp đã gửi" not in await officer.send("bỏ qua")  # kept, and on to the next question
        assert "1. a.jpg\n2. c.jpg" in await officer.send("quay lại")
        for name in ("d", "e", "f"):
            await officer.send_file(name, f"{name}.jpg")
        fetched.clear()
        assert "Câu này nhận tối đa 5 tệp" in await officer.send_file("g")
        assert fetched == [], "a file past the question's number is not fetched"

        await officer.send("xóa 5")
        before = kept(tmp_path)

        async def pdf(ref: FileRef) -> bytes:
            return PDF_BYTES

        SentFiles(service, fetch=pdf)
        assert "Câu này cần ảnh chụp" in await officer.send_file("h", "h.jpg")  # a PDF named .jpg sent as a photo
        assert kept(tmp_path) == before, "a file the question does not take is not kept"


async def test_many_files_sent_a_few_at_once_and_a_zip_too_large_for_chat_refused(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:

        async def fetch(ref: FileRef) -> bytes:  # 600 kB photos
            return b"\xff\xd8\xff\xe0" + ref.file_id.encode() + bytes(600 * 1024)

        SentFiles(service, fetch=fetch)
        admin = Chat(service, "admin")
        _, sent = await complete_assessment(await officer_of(admin, service, "16012"), "1", "90")
        assert sent >= 3
        monkeypatch.setattr(bot.evidence, "SENT_AT_ONCE", 2)
        reply = await admin.send("/minhchung 16012")
        assert f"Minh chứng của Xã Hậu Lộc kỳ 2026: {sent} tệp." in reply
        assert "Bot gửi 2 tệp đầu" in reply and "/xuat minhchung 16012" in reply
        assert [d.content[:9] for d in admin.documents] == [b"\xff\xd8\xff\xe0tep-1", b"\xff\xd8\xff\xe0tep-2"]

        monkeypatch.setattr(bot.commands.export, "CHAT_FILE_MB", 1)
        refused = await admin.send("/xuat minhchung 16012")
        size = str(round(sent * (600 * 1024 + 9) / 1024 / 1024, 1)).replace(".", ",")
        assert f"Các tệp minh chứng nặng {size} MB, quá 1 MB gửi được qua chat." in refused
        assert "Hãy lấy từng tiêu chí: /minhchung 16012 <tiêu chí>" in refused
        assert admin.documents == []
        monkeypatch.setattr(bot.commands.export, "CHAT_FILE_MB", 45)
        await admin.send("/xuat minhchung")
        [archive] = admin.documents
        with zipfile.ZipFile(io.BytesIO(archive.content)) as opened:
            assert len(opened.namelist()) == sent + 1


def test_a_file_sent_again_is_new_again_and_not_removed(tmp_path: Path) -> None:
    files = FileStore(tmp_path)
    digest = files.put(b"%PDF-1.4 ke hoach")
    before = datetime(2026, 2, 1, tzinfo=UTC)
    _age(files.path(digest), before - timedelta(days=1))
    assert files.older(before) == [digest]
    assert files.put(b"%PDF-1.4 ke hoach") == digest  # the same bytes sent again
    assert files.older(before) == []
    assert not files.remove(digest, before), "sent again while the sweep ran: put back"
    assert files.read(digest) == b"%PDF-1.4 ke hoach"
    _age(files.path(digest), before - timedelta(days=1))
    assert files.remove(digest, before) and not files.has(digest)
    assert not files.remove(digest, before)  # gone already (another process's sweep)
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [], "nothing is left aside"


def _age(path: Path, when: datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


async def test_files_no_row_refers_to_are_removed_and_the_rest_kept(tmp_path: Path, database_url: str) -> None:
    """A file removed from a draft ("xóa 2") is removed from the data directory a week after it was last sent; the
    same bytes still in another unit's draft, the files of the answer submitted and what a resubmission replaced
    (in the history of the submitted answer) are kept."""
    clock = Clock()
    async with running_service(tmp_path, clock, database_url) as service:
        SentFiles(service)
        scheduler = Scheduler(service)
        admin = Chat(service, "admin")
        first, second = await officer_of(admin, service, "16012"), await officer_of(admin, service, "16021")
        for officer in (first, second):
            await officer.send("/danhgia")
            await officer.send("1")
            assert "Gửi minh chứng kế hoạch" in await officer.send("15/1/2026")
        for name in ("a", "b", "chung"):
            await first.send_file(name, f"{name}.jpg")
        await second.send_file("chung", "chung.jpg")  # the same bytes in another unit's draft
        assert "Đã xóa tệp 3 (chung.jpg)" in await first.send("xóa 3")
        assert "Đã xóa tệp 2 (b.jpg). Còn 1 tệp" in await first.send("xóa 2")
        digest = {name: sha(b"\xff\xd8\xff\xe0" + name.encode()) for name in ("a", "b", "chung", "moi")}

        async def swept() -> set[str]:
            clock.advance(hours=6)  # the next sweep is due
            await scheduler.tick()
            return set(kept(tmp_path))

        assert await swept() == {digest["a"], digest["b"], digest["chung"]}, "sent less than a week ago"
        week_ago = clock.now - UNUSED_KEPT - timedelta(hours=7)
        for path in (tmp_path / "evidence").glob("*/*"):
            _age(path, week_ago)
        assert await swept() == {digest["a"], digest["chung"]}

        await first.send("xong")
        await answer_everything(first, "1", "90")
        assert "Đã nộp phiếu" in await first.tap("Nộp phiếu")
        assert "Đã trả lại" in await admin.send("/tralai 16012 N1.1 Thiếu trang có chữ ký")
        await first.send("/danhgia")
        await first.send("giữ nguyên")
        assert "1. a.jpg" in await first.send("giữ nguyên")  # N1.1's evidence, with its file
        await first.send("xóa 1")
        assert "Đã lưu 1 tệp" in await first.send_file("moi", "moi.jpg")
        await first.send("xong")
        assert "Đã nộp" in await first.send("nộp")
        for path in (tmp_path / "evidence").glob("*/*"):
            _age(path, week_ago)
        after = await swept()
        assert {digest["a"], digest["chung"], digest["moi"]} <= after, "replaced on resubmission: in the history"
        async with service.db.read() as db:
            rows = (await db.scalars(select(Evidence).where(Evidence.question_id == "n1_kh_minh_chung"))).all()
        assert [r.sha256 for r in rows] == [digest["moi"]]
        assert all(r.sha256 in after for r in (await _evidence_rows(database_url)))
