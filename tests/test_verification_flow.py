"""The Justice Office's own scoring over the chat (both databases): /chamdiem with its refusals, /chamdiem dongy,
/giaitrinh, /xem beside each criterion, /chot with its confirmation, the lock and the re-opening, the audit."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from storage.models import AuditEntry
from tests.client import Chat, running_service
from tests.helpers import complete_assessment
from tests.test_service import invite_code


async def test_scoring_explaining_finalising_and_reopening(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        admin, officer = Chat(service, "admin"), Chat(service, "901")
        await officer.send(f"/start dk_{invite_code(await admin.send('/moi 16012'))}")
        assert "chưa nộp phiếu tự đánh giá" in await admin.send("/chamdiem 16012 N1.1 3 x")
        own, _ = await complete_assessment(officer, "1", "90")
        assert "Gõ /chamdiem" in await admin.send("/chamdiem 16012")
        assert "Không tìm thấy đơn vị" in await admin.send("/chamdiem 99999 N1.1 3")
        assert "Không có tiêu chí chấm điểm “N9.9”" in await admin.send("/chamdiem 16012 N9.9 3")
        assert "từ 0 đến 6 điểm" in await admin.send("/chamdiem 16012 N1.1 7")
        assert "từ 0 đến 6 điểm" in await admin.send("/chamdiem 16012 N1.1 ba")
        assert "hãy ghi lý do" in await admin.send("/chamdiem 16012 N1.1 3")
        scored = await admin.send("/chamdiem 16012 N1.1 3 Kế hoạch ban hành muộn")
        assert "Đã chấm N1.1 của" in scored and "3/6 điểm (tự chấm 6)" in scored
        assert "chưa thẩm định" in scored
        progress = await admin.send("/tiendo")
        assert "Xã Hậu Lộc: đã nộp" in progress and ", đang thẩm định" in progress, progress
        assert "Thẩm định: 1 đang thẩm định, 0 đã chốt." in progress
        refused = await admin.send("/chot 16012")
        assert "Chưa chốt được" in refused
        assert "chỉ dành cho" in await officer.send("/chot 16012")
        assert "không bị hạ điểm" in await officer.send("/giaitrinh N1.2 thử")
        assert "gửi ngay một ảnh hoặc tệp" in await officer.send("/giaitrinh N1.1 Kế hoạch ký ngày 5/1, kèm bản chụp")
        assert "Đã lưu tệp “ke-hoach.jpg” kèm giải trình tiêu chí N1.1" in await officer.send_file("kh", "ke-hoach.jpg")
        assert "chỉ giải trình một lần" in await officer.send("/giaitrinh N1.1 lần nữa")
        accepted = await admin.send("/chamdiem 16012 dongy")
        assert "Đã thẩm định đủ" in accepted
        xem = await admin.send("/xem 16012")
        assert "thẩm định 3/6 (Kế hoạch ban hành muộn) | giải trình: Kế hoạch ký ngày 5/1" in xem
        assert "kèm bản chụp [kèm tệp ke-hoach.jpg]" in xem
        await admin.send("/minhchung 16012 N1.1")
        assert [d.filename for d in admin.documents] == ["minh-chung-1.jpg", "giai-trinh-ke-hoach.jpg"]
        asked = await admin.send("/chot 16012")
        assert "Hạ điểm:" in asked and "• N1.1: 6 → 3/6 – Kế hoạch ban hành muộn" in asked
        done = await admin.send("đồng ý")
        assert "Đã chốt kết quả thẩm định" in done and f"{own - 3:g}".replace(".", ",") in done
        shown = f"{own - 3:g}".replace(".", ",")
        progress = await admin.send("/tiendo")
        assert f"Xã Hậu Lộc: đã chốt ({shown} điểm thẩm định, tự chấm {own:g}" in progress, progress
        assert "Thẩm định: 0 đang thẩm định, 1 đã chốt." in progress
        assert "đã chốt" in await admin.send("/chamdiem 16012 N1.2 0 thử")
        assert "đã chốt nên không trả lại được" in await admin.send("/tralai 16012 N1.1 thiếu")
        assert "đã chốt; không gửi giải trình" in await officer.send("/giaitrinh N1.1 muộn")
        assert "Hãy ghi lý do mở lại" in await admin.send("/chot 16012 mo lai")
        assert "Mở lại kết quả đã chốt" in await admin.send("/chot 16012 mo lai Đơn vị bổ sung minh chứng")
        assert "Đã mở lại" in await admin.send("đồng ý")
        assert "Đã chấm N1.1" in await admin.send("/chamdiem 16012 N1.1 6")
        async with service.db.read() as db:
            actions = [e.action for e in (await db.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()]
        assert [a for a in actions if a.startswith("verify")] == [
            "verify",
            "verify_explain",
            "verify_explain_file",
            "verify_accept",
            "verify_finalise",
            "verify_reopen",
            "verify",
        ]


async def test_the_guided_pass_walks_the_criteria_with_buttons(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        admin, officer = Chat(service, "admin"), Chat(service, "902")
        await officer.send(f"/start dk_{invite_code(await admin.send('/moi 16012'))}")
        await complete_assessment(officer, "1", "90")
        first = await admin.send("/chamdiem 16012 tung")
        assert "N1.1" in first and "Tự chấm: 6/6" in first and "Đồng ý" in first and "Hạ điểm" in first, first
        second = await admin.press("vp:ok")
        assert "Đã chấm N1.1 của Xã Hậu Lộc: 6/6 điểm" in second and "N1.2" in second, second
        assert "Gõ số điểm hạ (tự chấm 4)" in await admin.press("vp:down")
        assert "từ 0 đến 4 điểm" in await admin.send("9 x")
        assert "Hãy ghi lý do" in await admin.send("2")
        lowered = await admin.send("2 Thiếu minh chứng")
        assert "Đã chấm N1.2 của Xã Hậu Lộc: 2/4 điểm (tự chấm 4) – Thiếu minh chứng" in lowered and "N1.3" in lowered
        await admin.press("vp:up")
        assert "Điểm phải cao hơn điểm tự chấm (6)" in await admin.send("5 thử")
        assert "Đã dừng thẩm định từng tiêu chí" in await admin.press("vp:stop")
        xem = await admin.send("/xem 16012")
        assert "thẩm định 2/4 (Thiếu minh chứng)" in xem and "Còn 23 tiêu chí chưa thẩm định" in xem, xem
