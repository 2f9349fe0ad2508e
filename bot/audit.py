"""The audit log of admin actions: who did what to what, when, and in which period (labels: exports.audit)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Account, AuditEntry

if TYPE_CHECKING:
    from bot.messages import Sender


def actor_of(sender: Sender) -> str:
    name = f" ({sender.display_name})" if sender.display_name else ""
    return f"{sender.channel}:{sender.user_id}{name}"[:140]


async def record(
    db: AsyncSession, sender: Sender, now: datetime, action: str, target: str, detail: dict[str, Any] | None = None
) -> Account:
    """Log an admin action in the caller's transaction, under the period open now; the admin's account (made on
    first use, as for invites) is returned for the records that name who acted."""
    account = await repo.ensure_account(db, sender.channel, sender.user_id, now, sender.display_name)
    period = await repo.current_period(db)
    entry = AuditEntry(
        at=now,
        actor=actor_of(sender),
        account_id=account.id,
        action=action,
        target=target[:200],
        detail=detail,
        period_code=period.code if period else None,
    )
    await repo.add_audit(db, entry)
    return account
