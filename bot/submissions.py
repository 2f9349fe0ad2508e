"""A submission: the response marked submitted with its points, one answer row per answer (its value, its text as
shown, its points) and one evidence row per file sent; a returned self-assessment submitted again keeps the history
of what changed (bot.review)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import review
from conversations.answers import display
from conversations.definition import Questionnaire
from conversations.scoring import question_points, score
from conversations.status import Status
from storage import repo
from storage.models import Account, Answer, Evidence, Response


def rows(qn: Questionnaire, response: Response) -> tuple[list[Answer], list[Evidence]]:
    """The answer and evidence rows of a response's answers."""
    answers, files = [], []
    for question_id, value in response.state["answers"].items():
        q = qn.question(question_id)
        points = question_points(q, value) if q.scored else None
        answers.append(
            Answer(
                response_id=response.id,
                question_id=question_id,
                value=value,
                value_text=display(q, value),
                points=points,
            )
        )
        if q.kind.files:
            files += [
                Evidence(
                    response_id=response.id,
                    question_id=question_id,
                    channel=f.get("channel", ""),
                    file_id=f["file_id"],
                    kind=f.get("kind", "document"),
                    name=f.get("name"),
                    mime=f.get("mime"),
                    size=f.get("size"),
                    sha256=f.get("sha256"),
                )
                for f in value
            ]
    return answers, files


async def store(
    db: AsyncSession,
    questionnaires: Mapping[str, Questionnaire],
    qn: Questionnaire,
    response: Response,
    account: Account | None,
    now: datetime,
) -> None:
    """Submit a response (by `account`, unless the questionnaire is anonymous); `questionnaires`, the versions in
    use, name the questionnaire to the admin told of a resubmission when the unit has several."""
    resubmitted = response.status is Status.RETURNED
    response.status, response.submitted_at = Status.SUBMITTED, now
    response.total_points = score(qn, response.state["answers"]).total if qn.scored else None
    response.submitted_by = account.id if account and not qn.anonymous else None
    answers, files = rows(qn, response)
    if resubmitted:  # the history of what changed is kept, and the admin who returned it is told
        await review.resubmitted(db, questionnaires, qn, response, answers, files, account, now)
    else:
        await repo.store_submission(db, answers, files)
