"""/xuat: the results workbook for admins. Reading happens in one read transaction, writing off the event loop."""

from __future__ import annotations

import asyncio
import logging

from bot import texts as t
from bot.commands import Call, command
from bot.service import Document, Reply
from conversations.engine import Outgoing
from exports.results import results_sheets, write_xlsx
from storage import repo

log = logging.getLogger(__name__)


@command("xuat", words=("xuat", "xuat ket qua"))
async def export(call: Call) -> list[Reply]:
    service = call.service
    async with service.db.read() as db:
        role = await service.role(db, call.sender)
        if not role.is_admin:
            return [Outgoing(t.ADMIN_ONLY)]
        period = await repo.current_period(db)
        if period is None:
            return [Outgoing(t.NO_PERIOD)]
        units = await repo.units_in_force(db, service.clock().date())
        ordered = sorted(service.questionnaires.values(), key=lambda q: q.kind != "self_assessment")
        sheets = await results_sheets(db, ordered, period.code, units, service.clock())
    content = await asyncio.to_thread(write_xlsx, sheets)
    log.info("export of period %s by an admin on %s", period.code, call.sender.channel)
    filename = f"ket-qua-{period.code}-{service.clock():%Y%m%d-%H%M}.xlsx"
    return [Document(filename, content, t.EXPORT_CAPTION.format(period=period.code))]
