"""What a questionnaire holds and what changed between two of its versions, in Vietnamese: what an admin reads
before putting an uploaded version into use."""

from __future__ import annotations

from typing import Any

from conversations.answers import number_text
from conversations.definition import Question, Questionnaire

FIELD_NAMES = {
    "type": "loại câu",
    "text": "nội dung",
    "code": "mã tiêu chí",
    "help": "gợi ý",
    "required": "bắt buộc hay không",
    "required_message": "lời nhắc khi bỏ trống",
    "show_if": "điều kiện hiển thị",
    "choices": "phương án hoặc điểm",
    "points_yes": "điểm",
    "points_no": "điểm",
    "bands": "khoảng điểm",
    "min": "giới hạn",
    "max": "giới hạn",
    "max_length": "độ dài tối đa",
    "min_date": "khoảng ngày",
    "max_date": "khoảng ngày",
    "not_in_future": "khoảng ngày",
    "max_files": "số tệp tối đa",
    "accept": "loại tệp",
    "constraint": "ràng buộc",
    "constraint_message": "lời nhắc khi sai ràng buộc",
    "calculation": "cách tính",
    "choice_filter": "lọc phương án",
    "export_label": "tên cột khi xuất",
    "measured_by": "đối chiếu khảo sát",
    "consent": "câu đồng ý tham gia",
    "group": "nhóm",
}
SETTING_NAMES = {
    "title": "tên bảng hỏi",
    "short_title": "tên ngắn",
    "source": "nguồn",
    "status": "tình trạng",
    "notice": "lưu ý",
    "intro": "lời chào",
    "outro": "lời cảm ơn",
    "anonymous": "ẩn danh",
    "classification": "mức xếp loại",
    "kind": "loại bảng hỏi",
}


def question_name(q: Question) -> str:
    text = q.text if len(q.text) <= 60 else q.text[:59].rstrip() + "…"
    return f"{q.code or q.id} «{text}»"


def summary(qn: Questionnaire) -> list[str]:
    asked = [q for q in qn.questions if q.answerable]
    calculated = [q for q in qn.questions if q.kind.calculated]
    counts = f"{len(asked)} câu hỏi trong {len(qn.groups)} nhóm"
    if calculated:
        counts += f", {len(calculated)} giá trị tính"
    counts += f"; tối đa {number_text(qn.max_points)} điểm" if qn.scored else "; không chấm điểm"
    lines = [f"«{qn.title}» – mã {qn.id}, phiên bản {qn.version}", counts]
    for g in qn.groups:
        line = f"• {g.code}: {g.title} – {sum(1 for q in g.questions if q.answerable)} câu"
        if g.max_points is not None:
            line += f", tối đa {number_text(g.max_points)} điểm"
        lines.append(line)
    return lines


def _differing(old: dict[str, Any], new: dict[str, Any], names: dict[str, str]) -> list[str]:
    return list(dict.fromkeys(names.get(k, k) for k in {**old, **new} if old.get(k) != new.get(k)))


def changes(old: Questionnaire, new: Questionnaire) -> list[str]:
    """What `new` changes against `old`, one line each; empty when they are the same apart from the version."""
    lines = []
    before, after = {g.code: g for g in old.groups}, {g.code: g for g in new.groups}
    lines += [f"Thêm nhóm {g.code}: {g.title}" for code, g in after.items() if code not in before]
    lines += [f"Bỏ nhóm {g.code}: {g.title}" for code, g in before.items() if code not in after]
    for code in after.keys() & before.keys():
        if after[code].max_points != before[code].max_points:
            maxima = [
                number_text(g.max_points) if g.max_points is not None else "—" for g in (before[code], after[code])
            ]
            lines.append(f"Nhóm {code}: điểm tối đa {maxima[0]} → {maxima[1]}")
        if after[code].title != before[code].title or after[code].note != before[code].note:
            lines.append(f"Nhóm {code}: sửa tên hoặc ghi chú")
    old_questions = {q.id: q for q in old.questions}
    new_questions = {q.id: q for q in new.questions}
    for q in new.questions:
        if q.id not in old_questions:
            line = f"Thêm câu {question_name(q)} (nhóm {q.group})"
            if q.scored:
                line += f", tối đa {number_text(q.max_points)} điểm"
            if q.show_if is not None:
                line += ", có điều kiện hiển thị"
            lines.append(line)
    lines += [f"Bỏ câu {question_name(q)}" for q in old.questions if q.id not in new_questions]
    for q in new.questions:
        if q.id in old_questions:
            differing = _differing(old_questions[q.id].model_dump(), q.model_dump(), FIELD_NAMES)
            if differing:
                lines.append(f"Sửa câu {question_name(q)}: {', '.join(differing)}")
    general = set(SETTING_NAMES)
    differing = _differing(old.model_dump(include=general), new.model_dump(include=general), SETTING_NAMES)
    if differing:
        lines.append(f"Sửa phần chung: {', '.join(differing)}")
    if old.max_points != new.max_points:
        lines.append(f"Tổng điểm tối đa: {number_text(old.max_points)} → {number_text(new.max_points)}")
    return lines
