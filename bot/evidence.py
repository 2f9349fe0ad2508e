"""Evidence files: which kinds are kept, how large, and where.

A file an officer sends on an evidence question is fetched from its platform by the channel's file fetcher (Telegram
getFile, the Zalo attachment URL, the console path) before the message's transaction, checked here, and kept under
the data directory named by its SHA-256 (storage.files). What is kept is known by its content (magic bytes), never by
its name: images (JPEG, PNG, WebP, HEIC), PDF and Office documents (docx, xlsx, pptx, doc, xls) up to
PBGDPL_EVIDENCE_MAX_MB. Anything else is refused in Vietnamese and nothing is stored. The draft then records the
file's digest, size, real type and channel, so the Justice Office can open it later (/minhchung, /xuat minhchung).
A file no row refers to any more (removed from a draft, "xóa 2"; its response deleted) is removed once UNUSED_KEPT
has passed since it was last sent (`sweep`, from the scheduler); the same bytes still held elsewhere are kept.
"""

from __future__ import annotations

import asyncio
import io
import logging
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from bot import waits
from bot.messages import Document, Reply, Sender
from conversations import engine
from conversations.answers import number_text
from conversations.engine import FileRef, Inbound, Outgoing
from storage import repo
from storage.files import FileStore, file_name
from storage.models import Evidence

if TYPE_CHECKING:
    from bot.service import BotService

log = logging.getLogger(__name__)

MB = 1024 * 1024
UNUSED_KEPT = timedelta(days=7)
"""How long a file no row refers to stays: a file sent and then removed, or whose draft was abandoned before the
message that refers to it committed, is gone a week after it was last sent."""
SENT_AT_ONCE = 10
"""Files /minhchung sends in one go; the zip export has them all."""
ALLOWED = "ảnh (JPEG, PNG, WebP, HEIC), tệp PDF, tệp Word, Excel, PowerPoint (docx, xlsx, pptx, doc, xls)"
REFUSED_KIND = (
    "Không nhận tệp “{name}”: bot chỉ nhận {allowed}. Bot xem nội dung tệp chứ không xem tên tệp, và tệp này "
    "không phải loại đó. Chưa lưu gì; hãy gửi lại đúng loại tệp."
)
REFUSED_MACRO = (
    "Không nhận tệp “{name}”: tệp Office có macro (docm, xlsm, pptm) có thể chứa mã chạy được. Chưa lưu gì; hãy lưu "
    "lại thành docx, xlsx, pptx hoặc PDF rồi gửi."
)
REFUSED_SIZE = (
    "Không nhận tệp “{name}”: tệp nặng {size} MB, quá giới hạn {limit} MB. Chưa lưu gì; hãy gửi tệp nhỏ hơn "
    "(chụp ảnh với độ phân giải thấp hơn, hoặc tách tệp PDF)."
)
FETCH_FAILED = "Chưa tải được tệp “{name}” từ kênh chat. Chưa lưu gì; hãy gửi lại tệp sau ít phút."
NOT_KEPT = "Các tệp sau gửi trước khi bot lưu tệp minh chứng nên không gửi lại được:\n{lines}"
NO_FETCH = "Kênh chat này chưa nhận được tệp minh chứng. Hãy gửi minh chứng qua Telegram hoặc Zalo."


@dataclass(frozen=True)
class Kind:
    mime: str
    extension: str


JPEG = Kind("image/jpeg", "jpg")
PNG = Kind("image/png", "png")
WEBP = Kind("image/webp", "webp")
HEIC = Kind("image/heic", "heic")
PDF = Kind("application/pdf", "pdf")
DOCX = Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
XLSX = Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
PPTX = Kind("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx")
DOC = Kind("application/msword", "doc")
XLS = Kind("application/vnd.ms-excel", "xls")
KINDS = (JPEG, PNG, WEBP, HEIC, PDF, DOCX, XLSX, PPTX, DOC, XLS)
BY_MIME = {k.mime: k for k in KINDS}

_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OOXML = {"word/": DOCX, "xl/": XLSX, "ppt/": PPTX}


class Macro(Exception):
    """An Office document carrying a macro project."""


def detect(content: bytes) -> Kind | None:
    """The kind of a file by its first bytes (and, for Office documents, the parts inside); None: not allowed.
    Raises Macro for an Office Open XML document with macros."""
    if content.startswith(b"\xff\xd8\xff"):
        return JPEG
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return WEBP
    if content[4:8] == b"ftyp" and content[8:12] in _HEIF_BRANDS:
        return HEIC
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"PK\x03\x04"):
        return _ooxml(content)
    if content.startswith(_OLE):  # a compound file: Word 97 or Excel 97 by its main stream, not an installer
        if "WordDocument".encode("utf-16-le") in content:
            return DOC
        if any(name.encode("utf-16-le") + b"\0\0" in content for name in ("Workbook", "Book")):
            return XLS
    return None


def _ooxml(content: bytes) -> Kind | None:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()  # the central directory only: nothing is decompressed
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    if "[Content_Types].xml" not in names:
        return None  # a plain zip archive
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise Macro
    return next((kind for folder, kind in _OOXML.items() if any(n.startswith(folder) for n in names)), None)


def store(service: BotService) -> FileStore:
    return FileStore(service.settings.evidence_dir)


def _mb(size: float) -> str:
    return number_text(round(size / MB, 2) or 0.01)


async def receive(service: BotService, sender: Sender, actor: str, inbound: Inbound) -> Inbound | str:
    """Files sent on an evidence question (or backing an explanation), fetched, checked and kept (the refs now
    carry digest, size, real type and channel); or, when one of them cannot be taken, why in Vietnamese (and
    nothing is kept). Files sent anywhere else are passed on untouched (an upload, or a file where none is asked
    for)."""
    async with service.db.read() as db:
        asked = await _asked(service, db, sender, actor)
    if asked is None:
        return inbound
    if len(inbound.files) > asked.room:
        return inbound  # the engine (or the wait) says how many it takes; nothing is fetched
    limit = service.settings.evidence_max_mb * MB
    limit_text = number_text(service.settings.evidence_max_mb)
    taken: list[tuple[FileRef, bytes, Kind]] = []
    for ref in inbound.files:
        name = engine.file_label(ref.name, ref.kind)
        if ref.size is not None and ref.size > limit:
            return REFUSED_SIZE.format(name=name, size=_mb(ref.size), limit=limit_text)
        try:
            content = await service.fetch_file(sender, ref)
        except Exception:
            log.warning("could not fetch an evidence file on %s", sender.channel, exc_info=True)
            return FETCH_FAILED.format(name=name)
        if content is None:
            return NO_FETCH  # a channel whose files the bot cannot fetch
        if len(content) > limit:
            return REFUSED_SIZE.format(name=name, size=_mb(len(content)), limit=limit_text)
        try:
            kind = detect(content)
        except Macro:
            return REFUSED_MACRO.format(name=name)
        if kind is None:
            log.info("refused an evidence file on %s: not an allowed kind", sender.channel)
            return REFUSED_KIND.format(name=name, allowed=ALLOWED)
        taken.append((ref, content, kind))
    if asked.accept == "image" and any(not kind.mime.startswith("image/") for _, _, kind in taken):
        return replace(inbound, files=tuple(replace(ref, mime=kind.mime) for ref, _, kind in taken))  # the engine
        # refuses them by their real type, and nothing is kept
    kept, files = [], store(service)
    for ref, content, kind in taken:
        digest = await asyncio.to_thread(files.put, content)
        kept.append(replace(ref, channel=sender.channel, sha256=digest, size=len(content), mime=kind.mime))
    return replace(inbound, files=tuple(kept))


async def sweep(service: BotService) -> int:
    """Remove the files no row refers to that were last sent before UNUSED_KEPT; how many were removed. The files
    are listed before the rows are read: a file referred to since was sent since, so it is not among them."""
    files, before = store(service), service.clock() - UNUSED_KEPT
    old = await asyncio.to_thread(files.older, before)
    if not old:
        return 0
    async with service.db.read() as db:
        used = await repo.file_digests(db)
    removed = [d for d in old if d not in used and await asyncio.to_thread(files.remove, d, before)]
    if removed:
        log.info("removed %d evidence file(s) no answer refers to", len(removed))
    return len(removed)


@dataclass(frozen=True)
class Asked:
    """Files the sender is asked for now: of any kind or images only, and how many more are taken."""

    accept: str
    room: int


async def _asked(service: BotService, db: AsyncSession, sender: Sender, actor: str) -> Asked | None:
    """What files the sender is asked for right now: the evidence question being answered (how many more it takes),
    or the one file backing an explanation (/giaitrinh, bot.verification); None when none are."""
    session = await repo.get_session(db, actor)
    if session is not None and session.waiting_for is not None:
        wait = waits.read(session.waiting_for)
        return Asked("any", 1) if wait is not None and wait["kind"] == "explanation_file" else None
    if session is None or session.response_id is None:
        return None
    response = await repo.get_response(db, session.response_id)
    if response is None or not response.status.editable:
        return None
    qn = await service.definition_of(db, response)
    if qn is None:
        return None
    q = engine.current_question(qn, response.state, service.participant(sender, actor, response))
    if q is None or not q.kind.files:
        return None
    return Asked(q.accept, q.max_files - len(response.state["answers"].get(q.id) or []))


async def documents(service: BotService, files: Sequence[Evidence], heading: str, more: str) -> list[Reply]:
    """The kept files as documents to send (Telegram sends them as files; Zalo as signed download links), at most
    SENT_AT_ONCE of them (`more` says how to get the rest), after the heading and the files sent before the bot kept
    evidence (only their file id is known)."""
    kept, missing = [], []
    for n, f in enumerate(files[:SENT_AT_ONCE], 1):
        content = await asyncio.to_thread(store(service).read, f.sha256)
        if content is None:
            missing.append(f"{n}. {engine.file_label(f.name, f.kind)}")
            continue
        caption = f"{n}/{len(files)} · {engine.file_label(f.name, f.kind)}"
        kept.append(Document(file_name(f), content, caption, f.mime or "application/octet-stream", original=True))
    lines = [heading]
    if missing:
        lines.append(NOT_KEPT.format(lines="\n".join(missing)))
    if len(files) > SENT_AT_ONCE:
        lines.append(more.format(sent=SENT_AT_ONCE))
    return [Outgoing("\n".join(lines)), *kept]
