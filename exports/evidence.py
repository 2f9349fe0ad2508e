"""The evidence zip (/xuat minhchung): every kept file of the units' counted self-assessments, one folder per unit and
criterion, with the "Minh chứng" sheet as its manifest (unit, criterion, file name, size, SHA-256, place in the zip).
The same sheet in the self-assessment workbook names each file's place in this zip (`places`)."""

from __future__ import annotations

import zipfile
from io import BytesIO

from conversations.definition import supporting
from exports.assessment import Assessment, evidence_sheet
from exports.workbook import write_csv
from storage.files import FileStore, file_name

MANIFEST = "danh-sach-minh-chung.csv"


def places(a: Assessment, store: FileStore) -> dict[int, str]:
    """Each kept file's path in the zip, by Evidence id: <unit code>/<criterion code, or question id>/<id>-<name>."""
    support, found = supporting(a.qn), {}
    for r in a.units:
        for f in r.evidence:
            if not store.has(f.sha256):
                continue  # sent before the bot kept evidence bytes: only the platform's file id is known
            target = support.get(f.question_id, f.question_id)
            code = a.qn.question(target).code if a.qn.has(target) else None
            found[f.id] = f"{r.unit.code}/{code or f.question_id}/{f.id}-{file_name(f)}"
    return found


class TooLarge(Exception):
    """The files come to more than a chat can carry; args: their size in bytes."""


async def build_zip(a: Assessment, store: FileStore, max_bytes: int | None = None) -> bytes:
    """The manifest, then each kept file at its place. Files are stored as they are (images, PDF and Office
    documents are compressed already); the manifest is deflated. TooLarge past `max_bytes` (nothing is read)."""
    where = places(a, store)
    total = sum(store.path(f.sha256).stat().st_size for r in a.units for f in r.evidence if f.id in where and f.sha256)
    if max_bytes is not None and total > max_bytes:
        raise TooLarge(total)
    manifest = await write_csv(evidence_sheet(a, places=where))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(MANIFEST, manifest, compress_type=zipfile.ZIP_DEFLATED)
        for r in a.units:
            for f in r.evidence:
                if f.id in where and f.sha256 is not None:
                    archive.write(store.path(f.sha256), where[f.id])
    return out.getvalue()
