"""Questionnaire versions: which version of each questionnaire applies to a period (one put into use for it with
/kichhoat, or the preset file), an uploaded workbook kept as a version waiting to be put into use (under a version
no other has), and putting the waiting version into use. The versions loaded so far are held by the service
(`BotService.definition`, `use`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.definition import DEFINITION_SCHEMA, Questionnaire, load_directory, measure_problems
from storage import repo
from storage.models import Period, QuestionnaireVersion

if TYPE_CHECKING:
    from bot.service import BotService

PRESET, UPLOADED = "tệp có sẵn", "tải lên"
"""Where the version that applies comes from."""


async def versions_for(db: AsyncSession, period: str, presets: Path) -> dict[str, tuple[str, str]]:
    """For each questionnaire, the version that applies to the period and where it comes from: the one put into use
    for it (/kichhoat), or the preset file."""
    found = {qid: (qn.version, PRESET) for qid, qn in load_directory(presets).items()}
    for row in await repo.active_versions(db, period):
        found[row.questionnaire_id] = (row.version, UPLOADED)
    return found


async def use_period_versions(service: BotService, db: AsyncSession, period: str) -> dict[str, tuple[str, str]]:
    """Start new responses on the versions that apply to the period; which they are."""
    versions = await versions_for(db, period, service.settings.questionnaires_dir)
    for qid, (version, _) in versions.items():
        qn = await service.definition(db, qid, version)
        if qn is not None:
            service.use(qn)
    return versions


def stored(qn: Questionnaire) -> dict[str, Any]:
    """A version's definition as the database keeps it."""
    return qn.model_dump(mode="json", by_alias=True)


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two stored definitions alike but perhaps for their version."""
    return {**a, "version": ""} == {**b, "version": ""}


def free_version(wanted: str, taken: set[str]) -> str:
    """The version to store an upload as: the one its settings give, or that with a number added when taken."""
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted[:36]}-{n}" in taken:
        n += 1
    return f"{wanted[:36]}-{n}"


async def keep_upload(
    service: BotService, db: AsyncSession, qn: Questionnaire, filename: str, uploaded_by: str, now: datetime
) -> Questionnaire:
    """Keep a checked workbook as the version waiting to be put into use: the same file again becomes the latest
    upload; otherwise it is stored under its version, or that with a number added when the version is taken. Returns
    the version as kept."""
    row = await repo.questionnaire_version(db, qn.id, qn.version)
    if row is not None and row.activated_at is None and same(row.definition, stored(qn)):
        row.uploaded_at = now
        return qn
    taken = set(await repo.stored_versions(db, qn.id)) | {v for i, v in service.versions if i == qn.id}
    qn = Questionnaire.model_validate({**stored(qn), "version": free_version(qn.version, taken)})
    row = QuestionnaireVersion(
        questionnaire_id=qn.id,
        version=qn.version,
        definition=stored(qn),
        schema_version=DEFINITION_SCHEMA,
        filename=filename[:300],
        uploaded_by=uploaded_by,
        uploaded_at=now,
    )
    await repo.add_questionnaire_version(db, row)
    return qn


async def waiting(
    service: BotService, db: AsyncSession, questionnaire_id: str | None
) -> tuple[QuestionnaireVersion, Questionnaire] | None:
    """The latest version uploaded and not yet put into use (of one questionnaire, or of any)."""
    row = await repo.latest_unused_version(db, questionnaire_id)
    qn = await service.definition(db, row.questionnaire_id, row.version) if row is not None else None
    return (row, qn) if row is not None and qn is not None else None


def reference_problem(service: BotService, qn: Questionnaire) -> str | None:
    """What the version would break among the measures that name another questionnaire's questions, in Vietnamese."""
    broken = next(measure_problems({**service.questionnaires, qn.id: qn}), None)
    if broken is None:
        return None
    qn_id, wrong = broken
    return f"bảng hỏi “{qn_id}”, câu “{wrong.question}”: {wrong.message}"


def put_into_use(row: QuestionnaireVersion, period: Period, now: datetime) -> None:
    """The waiting version applies to the period from now on (the service starts new responses on it once this is
    committed: `BotService.use`)."""
    row.period_code, row.activated_at = period.code, now
