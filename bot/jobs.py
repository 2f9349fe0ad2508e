"""Long jobs (exports): recorded in the transaction of the message that asks for one, run once it has committed.

When the channel can send before the message's handling ends (an `interim`), the job runs detached from it
(`detach`): the requester is told at once that it is under way, and the file is sent through the same path when it is
ready. The message's handling, and with it a polled batch and other people's answers, never waits for the job.

A job's row says it is running and, while it runs, its heartbeat moves. A running job whose heartbeat stopped was
cut short by a crash (a process killed mid-export): the sweep, at start and at every scheduler tick, marks it failed
and tells its requester through the outbox, so nobody is left waiting on "đang chuẩn bị". Several processes can
share one database: a job another process is running keeps its heartbeat and is left alone.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot import texts as t
from bot.messages import Reply, Sender
from bot.outbox import Recipient, notify
from bot.table import Call, Interim
from conversations.engine import Outgoing
from storage import repo
from storage.models import Job

if TYPE_CHECKING:
    from bot.service import BotService

HEARTBEAT = timedelta(seconds=20)
STALLED = timedelta(seconds=60)
"""A running job whose heartbeat is older than this has no process running it any more."""

log = logging.getLogger(__name__)


async def record(call: Call, kind: str, payload: dict[str, Any]) -> None:
    """Ask for a job in the message's transaction; the service runs it once that has committed."""
    now = call.service.clock()
    job = Job(
        kind=kind,
        channel=call.sender.channel,
        requester=call.sender.user_id,
        payload=payload,
        status="running",
        created_at=now,
        heartbeat_at=now,
    )
    call.jobs.append(await repo.add_job(call.db, job))


def detach(service: BotService, actor: str, job_ids: list[int], deliver: Interim) -> None:
    """Run the jobs after the message that recorded them, apart from its handling, and send their replies with
    `deliver`; one requester's jobs run in the order asked. A shutdown cuts them short (the sweep tells the
    requester, as after a crash)."""

    async def work() -> None:
        replies: list[Reply] = []
        for job_id in job_ids:
            replies += await run(service, job_id)
        await deliver(replies)

    service.detached.later(actor, work)


async def run(service: BotService, job_id: int) -> list[Reply]:
    """Do the job and mark it done with what it records; the replies for its requester."""
    async with service.db.read() as db:
        job = await db.get(Job, job_id)
    if job is None:
        return []
    kind = service.commands.job(job.kind)
    beating = asyncio.create_task(_beat(service, job_id), name=f"job-{job_id}-heartbeat")
    try:
        made = await kind.make(service, job.payload)
    except Exception:
        log.exception("job %d (%s) failed", job_id, job.kind)
        async with service.db.write() as db:
            await _settle(service, db, job_id, "failed")
        return [Outgoing(t.JOB_FAILED)]
    finally:
        beating.cancel()
        with suppress(asyncio.CancelledError):
            await beating
    async with service.db.write() as db:
        await _settle(service, db, job_id, "done")
        return await kind.finish(service, db, Sender(job.channel, job.requester), job.payload, made)


async def sweep(service: BotService) -> int:
    """Mark failed the jobs a crash cut short, and tell each requester; how many there were."""
    now = service.clock()
    async with service.db.write() as db:
        stalled = await repo.stalled_jobs(db, now - STALLED)
        for job in stalled:
            job.status, job.finished_at = "failed", now
            kind = service.commands.jobs.get(job.kind)
            text = kind.interrupted(job.payload) if kind is not None else t.JOB_FAILED
            await notify(db, [Recipient(job.channel, job.requester)], "job", text, now, f"job:{job.id}")
    if stalled:
        log.warning("%d job(s) cut short by a restart; their requesters are told", len(stalled))
    return len(stalled)


async def _settle(service: BotService, db: Any, job_id: int, status: str) -> None:
    job = await repo.get_job(db, job_id)
    if job is not None:
        job.status, job.finished_at = status, service.clock()


async def _beat(service: BotService, job_id: int) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT.total_seconds())
        try:
            async with service.db.write() as db:
                await repo.beat(db, job_id, service.clock())
        except Exception:  # a missed beat only risks a false alarm after a minute; keep beating
            log.exception("job %d: heartbeat not stored", job_id)
