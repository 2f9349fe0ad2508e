"""The audit workbook of a period: every change to a submitted self-assessment (who, when, old → new) and every
admin action (invites, exports, returns, approvals, uploads, period and unit changes)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.definition import Questionnaire, question_header
from conversations.localtime import local_cell
from exports.workbook import Column, Sheet
from storage import repo
from storage.models import Account

ACTIONS = {
    "invite": "Tạo mã mời cán bộ",
    "export": "Xuất dữ liệu",
    "evidence": "Xem tệp minh chứng",
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


def _detail(detail: Mapping[str, object] | None) -> str:
    return "; ".join(f"{key}: {value}" for key, value in (detail or {}).items() if value not in (None, "", []))


async def changes_sheet(db: AsyncSession, questionnaires: Mapping[str, Questionnaire], period: str) -> Sheet:
    columns = [
        Column("Thời điểm", "datetime"),
        Column("Mã đơn vị", "code"),
        Column("Đơn vị", width=24),
        Column("Câu hỏi", "long_text", width=50),
        Column("Trả lời cũ", "long_text", width=30),
        Column("Trả lời mới", "long_text", width=30),
        Column("Người nộp lại", width=28),
    ]
    rows = []
    for change, response in await repo.answer_changes(db, period):
        unit = await repo.get_unit(db, response.unit_code)
        qn = questionnaires.get(response.questionnaire_id)
        question = question_header(qn, change.question_id) if qn and qn.has(change.question_id) else change.question_id
        who = await db.get(Account, change.changed_by) if change.changed_by else None
        rows.append(
            [
                local_cell(change.changed_at),
                response.unit_code,
                unit.name if unit else "",
                question,
                change.old_text,
                change.new_text,
                f"{who.display_name or ''} ({who.channel}:{who.platform_id})" if who else "",
            ]
        )
    return Sheet("Lịch sử sửa phiếu", columns, rows)


async def actions_sheet(db: AsyncSession, period: str) -> Sheet:
    columns = [
        Column("Thời điểm", "datetime"),
        Column("Người thực hiện", width=30),
        Column("Việc", width=26),
        Column("Đối tượng", width=16),
        Column("Chi tiết", "long_text", width=60),
    ]
    rows = [
        [local_cell(e.at), e.actor, ACTIONS.get(e.action, e.action), e.target, _detail(e.detail)]
        for e in await repo.audit_entries(db, period)
    ]
    return Sheet("Nhật ký quản trị", columns, rows)
