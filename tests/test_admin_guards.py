"""Issue 12.7: irreversible admin actions ask first (closing a period, a deadline in the past; returning an approved
submission and a merge are in test_review_e2e and test_periods_units), hints go to the right role, and a closed
period's progress can still be read."""

from __future__ import annotations

from pathlib import Path

from tests.client import Chat, Clock, running_service
from tests.test_service import invite_code

SENT_TO_THE_OFFICE = ("liên hệ Phòng Tư pháp", "xin Phòng Tư pháp")


async def test_a_deadline_in_the_past_and_closing_a_period_ask_first(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, Clock(), database_url) as service:  # 02/03/2026
        admin = Chat(service, "admin")
        asked = await admin.send("/ky han 2026 01/01/2026")
        assert "Hạn nộp 01/01/2026 cho kỳ 2026 là một ngày đã qua" in asked and "đồng ý" in asked
        assert "Đã thôi, không có gì thay đổi" in await admin.send("thôi")
        assert "hạn nộp 31/12/2026" in await admin.send("/ky")
        await admin.send("/ky han 2026 01/01/2026")
        assert "Hạn nộp kỳ 2026: 31/12/2026 → 01/01/2026" in await admin.send("đồng ý")
        assert "Hạn nộp kỳ 2026: 01/01/2026 → 15/12/2026" in await admin.send("/ky han 2026 15/12/2026")
        assert "là một ngày đã qua" in await admin.send("/ky tao 2025 31/12/2025")
        assert "Đã tạo kỳ 2025" in await admin.press("confirm:yes")

        assert "Đóng kỳ 2026?" in await admin.send("/ky dong")
        assert "Tiến độ kỳ 2026" in await admin.send("/tiendo"), "not closed before the yes"
        await admin.send("/ky dong")
        assert "Đã đóng kỳ 2026" in await admin.send("đồng ý")
        none_open = await admin.send("/tiendo")
        assert "/ky mo <mã kỳ>" in none_open and "/tiendo <mã kỳ>" in none_open
        closed = await admin.send("/tiendo 2026")
        assert "Tiến độ kỳ 2026 (hạn 15/12/2026)" in closed and "Kỳ đã đóng ngày 02/03/2026" in closed
        assert "Không có kỳ đánh giá “2024”" in await admin.send("/tiendo 2024")


async def test_hints_go_to_the_right_role(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, Clock(), database_url) as service:
        admin, officer, citizen = Chat(service, "admin"), Chat(service, "501"), Chat(service, "9")
        await officer.send(f"/start dk_{invite_code(await admin.send('/moi 16012'))}")
        said = {"admin": [], "officer": []}  # type: dict[str, list[str]]
        for who, chat in (("admin", admin), ("officer", officer)):
            said[who] += [await chat.send("cảm ơn nhé"), *(await chat.send("/trogiup")).split("\n\n")]
            assert "/khaosat" not in "\n".join(said[who]), who
        assert "Gõ /danhgia" in said["officer"][0] and "lệnh quản trị" in said["admin"][0]
        assert "/khaosat" in await citizen.send("cảm ơn nhé") and "/khaosat" in await citizen.send("/trogiup")

        said["admin"] += [await admin.send("/danhgia"), await admin.send("/khaosat"), await admin.send("/khaosat 999")]
        assert "Quản trị viên xem phiếu đã nộp bằng /xem" in said["admin"][-3]
        assert "Quản trị viên không trả lời khảo sát" in said["admin"][-2] and "/donvi" in said["admin"][-1]
        await admin.send("/nhapdonvi")
        said["admin"].append(await admin.send("/huy"))
        assert said["admin"][-1] == "Đã thôi, không có gì thay đổi."
        await admin.send("/ky dong")
        await admin.send("đồng ý")
        said["admin"] += [await admin.send(c) for c in ("/tiendo", "/nhacnho", "/duyet 16012", "/xuat baocao")]
        said["officer"].append(await officer.send("/danhgia"))
        assert "Hãy liên hệ Phòng Tư pháp" in said["officer"][-1], "officers are sent to the Justice Office"
        for text in said["admin"]:
            assert not any(words in text for words in SENT_TO_THE_OFFICE), text
