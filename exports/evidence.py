"""The evidence zip (/xuat minhchung): every kept file of the units' counted self-assessments, one folder per unit and
criterion, with the "Minh chứng" sheet as its manifest (unit, criterion, file name, size, SHA-256, place in the zip).
When the period runs several self-assessments (frameworks), each has its own folder named by its questionnaire code,
holding its manifest and its units' folders. The same sheet in the self-assessment workbook names each file's place
in this zip (`places`)."""

from __future__ import annotations

import zipfile
from io import BytesIO

from conversations.definition import supporting
from exports.assessment import Assessment, evidence_sheet
from exports.workbook import write_csv
from storage.files import FileStore, file_name

MANIFEST = "danh-sach-minh-chung.csv"


def places(a: Assessment, store: FileStore, folder: str = "") -> dict[int, str]:
    """Each kept file's path in the zip, by Evidence id: [<framework folder>/]<unit code>/<criterion code, or question
    id>/<id>-<name>."""
    support, found = supporting(a.qn), {}
    for r in a.units:
        for f in r.evidence:
            if not store.has(f.sha256):
                continue  # sent before the bot kept evidence bytes: only the platform's file id is known
            target = support.get(f.question_id, f.question_id)
            code = a.qn.question(target).code if a.qn.has(target) else None
            found[f.id] = f"{folder}{r.unit.code}/{code or f.question_id}/{f.id}-{file_name(f)}"
    return found


class TooLarge(Exception):
    """The files come to more than a chat can carry; args: their size in bytes."""


def folder(a: Assessment, several: bool) -> str:
    """The framework's folder in the zip: its questionnaire code when the period runs several, else none."""
    return f"{a.qn.id}/" if several else ""


async def build_zip(
    assessments: list[Assessment], store: FileStore, max_bytes: int | None = None, several: bool = False
) -> bytes:
    """For each self-assessment, its manifest, then each kept file at its place (when the period runs `several`,
    each in its framework's folder). Files are stored as they are (images, PDF and Office documents are compressed
    already); the manifests are deflated. TooLarge past `max_bytes` (nothing is read)."""
    wheres = [(a, places(a, store, folder(a, several))) for a in assessments]
    total = sum(
        store.path(f.sha256).stat().st_size
        for a, where in wheres
        for r in a.units
        for f in r.evidence
        if f.id in where and f.sha256
    )
    if max_bytes is not None and total > max_bytes:
        raise TooLarge(total)
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for a, where in wheres:
            manifest = await write_csv(evidence_sheet(a, places=where))
            archive.writestr(folder(a, several) + MANIFEST, manifest, compress_type=zipfile.ZIP_DEFLATED)
            for r in a.units:
                for f in r.evidence:
                    if f.id in where and f.sha256 is not None:
                        archive.write(store.path(f.sha256), where[f.id])
    return out.getvalue()
