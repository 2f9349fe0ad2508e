"""The audit log of admin actions: who did what to what, when, and in which period."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from storage import repo
from storage.models import Account, AuditEntry

if TYPE_CHECKING:
    from bot.service import Sender

ACTIONS = {
    "invite": "Tạo mã mời cán bộ",
    "export": "Xuất dữ liệu",
    "return": "Trả lại phiếu để sửa",
    "approve": "Duyệt phiếu",
    "remind": "Gửi nhắc việc",
    "poster": "Tạo áp phích khảo sát",
    "units_upload": "Tải lên danh sách đơn vị",
    "unit_rename": "Đổi tên đơn vị",
    "unit_deactivate": "Ngừng áp dụng đơn vị",
    "unit_merge": "Gộp đơn vị",
    "period_create": "Tạo kỳ đánh giá",
    "period_open": "Mở kỳ đánh giá",
    "period_close": "Đóng kỳ đánh giá",
    "period_deadline": "Đổi hạn nộp",
}


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
