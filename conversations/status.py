"""Where a response stands: the statuses, which of them can still be answered, which count, and their labels."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    """Sent back by the Justice Office on some criteria: reopened there, being corrected."""
    APPROVED = "approved"
    DECLINED = "declined"
    """The respondent said no to the consent question: never counted in any figure, counted apart for the rate."""

    @property
    def editable(self) -> bool:
        return self in EDITABLE

    @property
    def counted(self) -> bool:
        return self in COUNTED


EDITABLE = frozenset({Status.DRAFT, Status.RETURNED})
"""The statuses in which a response can still be answered."""
COUNTED = frozenset({Status.SUBMITTED, Status.APPROVED})
"""The statuses whose answers count (exports, ranks, "đã nộp"); a returned one is being corrected."""
LABELS: dict[Status | None, str] = {
    Status.SUBMITTED: "Đã nộp",
    Status.DRAFT: "Đang làm",
    None: "Chưa bắt đầu",
    Status.RETURNED: "Bị trả lại",
    Status.APPROVED: "Đã duyệt",
    Status.DECLINED: "Từ chối tham gia",
}
"""What a user reads for each status; None is a unit that has not started."""
ORDER: dict[Status | None, int] = {
    None: 0,
    Status.DECLINED: 0,
    Status.DRAFT: 1,
    Status.RETURNED: 2,
    Status.SUBMITTED: 3,
    Status.APPROVED: 4,
}
"""How far along each status is, for sorting."""
VERIFYING = "Đang thẩm định"
"""A submitted self-assessment the Justice Office has begun to score (bot.verification)."""
VERIFIED = "Đã chốt"
"""Its verified result finalised (locked)."""
NOT_VERIFIED = "Chưa thẩm định"


def scoring_label(begun: bool, finalised: bool) -> str:
    """Where the Justice Office's scoring of a submitted self-assessment stands, as /xem and the exports say it."""
    return VERIFIED if finalised else VERIFYING if begun else NOT_VERIFIED
