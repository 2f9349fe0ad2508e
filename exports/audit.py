"""The audit workbook of a period: every change to a submitted self-assessment (who, when, old → new) and every
admin action (invites, exports, returns, approvals, uploads, period and unit changes)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from conversations.answers import number_text
from conversations.definition import Questionnaire, question_header
from conversations.localtime import day_text, local_cell
from exports.workbook import Column, Sheet
from storage import repo
from storage.models import Account

ACTIONS = {
    "invite": "Tạo mã mời cán bộ",
    "export": "Xuất dữ liệu",
    "evidence": "Xem tệp minh chứng",
    "return": "Trả lại phiếu để sửa",
    "approve": "Duyệt phiếu",
    "verify": "Thẩm định: chấm điểm tiêu chí",
    "verify_accept": "Thẩm định: đồng ý điểm tự chấm",
    "verify_finalise": "Chốt kết quả thẩm định",
    "verify_reopen": "Mở lại kết quả thẩm định",
    "verify_explain": "Giải trình tiêu chí bị hạ điểm",
    "verify_explain_file": "Gửi tệp kèm giải trình",
    "remind": "Gửi nhắc việc",
    "poster": "Tạo áp phích khảo sát",
    "event_create": "Tạo sự kiện",
    "event_remove": "Bỏ sự kiện",
    "units_upload": "Tải lên danh sách đơn vị",
    "unit_rename": "Đổi tên đơn vị",
    "unit_deactivate": "Ngừng áp dụng đơn vị",
    "unit_merge": "Gộp đơn vị",
    "period_create": "Tạo kỳ đánh giá",
    "period_open": "Mở kỳ đánh giá",
    "period_close": "Đóng kỳ đánh giá",
    "period_deadline": "Đổi hạn nộp",
    "assignment_add": "Giao bảng hỏi",
    "assignment_remove": "Bỏ bảng hỏi đã giao",
    "web_link": "Xin đường dẫn đăng nhập trang web",
    "web_sign_in": "Đăng nhập trang web",
    "web_sign_out": "Đăng xuất trang web",
    "web_session_end": "Kết thúc một phiên đăng nhập trang web",
}


DETAILS = {
    "kind": "Loại",
    "format": "Dạng tệp",
    "period": "Kỳ",
    "unit": "Đơn vị",
    "points": "Tổng điểm",
    "items": "Tiêu chí trả lại",
    "files": "Số tệp",
    "link": "Đường dẫn",
    "file": "Tệp",
    "added": "Số đơn vị thêm",
    "updated": "Số đơn vị cập nhật",
    "old": "Trước",
    "new": "Sau",
    "old_valid_to": "Áp dụng đến (trước)",
    "from": "Từ",
    "name": "Tên",
    "officers_moved": "Số cán bộ chuyển sang",
    "valid_from": "Áp dụng từ",
    "deadline": "Hạn nộp",
    "units": "Đơn vị được nhắc",
    "messages": "Số tin nhắn",
    "without_officers": "Đơn vị chưa có cán bộ",
    "browser": "Trình duyệt",
    "session": "Phiên",
    "scope": "Phạm vi (all: mọi đơn vị, kind: một loại, unit: một đơn vị)",
    "target": "Loại hoặc mã đơn vị",
    "responses": "Số phiếu đã có",
}
"""What each detail an admin action records (bot.audit) is called in the sheet."""
DETAIL_OVERRIDES = {
    ("verify", "points"): "Điểm thẩm định",
    ("verify_accept", "items"): "Tiêu chí đồng ý",
    ("verify_finalise", "self"): "Tổng điểm tự chấm",
    ("unit_merge", "from"): "Gộp từ",
    ("unit_deactivate", "from"): "Ngừng áp dụng từ",
}


def _value(value: object) -> str:
    """A recorded value as a person reads it: dates dd/mm/yyyy, numbers with a decimal comma, lists joined, a
    returned criterion as "code: note"."""
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, int | float):
        return number_text(value)
    if isinstance(value, str):
        try:
            return day_text(date.fromisoformat(value)) if len(value) == 10 else value
        except ValueError:
            return value
    if isinstance(value, Mapping):
        if "code" in value and "note" in value:
            return f"{value['code']}: {value['note']}"
        return ", ".join(f"{k}: {_value(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(_value(v) for v in value)
    return str(value)


def details_text(action: str, detail: Mapping[str, object] | None) -> str:
    """An action's details in Vietnamese, one "Tên: giá trị" per line."""
    lines = []
    for key, value in (detail or {}).items():
        if value in (None, "", []):
            continue
        label = DETAIL_OVERRIDES.get((action, key)) or DETAILS.get(key, key)
        lines.append(f"{label}: {_value(value)}")
    return "\n".join(lines)


def person(account: Account, unit_name: str | None) -> str:
    """Who acted, by name: "Nguyễn Văn A – cán bộ Xã Hậu Lộc (telegram:123)"."""
    name = account.display_name or "Người không rõ tên"
    role = f" – cán bộ {unit_name}" if unit_name else " – quản trị viên" if account.is_admin else ""
    return f"{name}{role} ({account.channel}:{account.platform_id})"


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
        unit_of_who = await repo.get_unit(db, who.unit_code) if who and who.unit_code else None
        rows.append(
            [
                local_cell(change.changed_at),
                response.unit_code,
                unit.name if unit else "",
                question,
                change.old_text,
                change.new_text,
                person(who, unit_of_who.name if unit_of_who else None) if who else "",
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
        [local_cell(e.at), e.actor, ACTIONS.get(e.action, e.action), e.target, details_text(e.action, e.detail)]
        for e in await repo.audit_entries(db, period)
    ]
    return Sheet("Nhật ký quản trị", columns, rows)
