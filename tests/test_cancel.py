"""/huy mid-way through a flow that waits for the next message (a unit pick, a unit file and the changes it shows, a
questionnaire's preview, a yes to an action that cannot be undone, the guided pass, a file after /giaitrinh): the
wait ends, nothing it was about to do is done, not by a "đồng ý" typed nor by the old button pressed afterwards, and
the reply says in Vietnamese what was and was not kept. Both databases."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bot.service import BotService
from conversations.engine import FileRef, Inbound
from storage import repo
from storage.models import Base, Explanation, Job, Response, Unit
from tests.client import Chat, SentFiles, running_service
from tests.helpers import complete_assessment
from tests.test_periods_units import xlsx
from tests.test_questionnaire_upload import add_criterion, upload
from tests.test_service import invite_code

CANCELLED = "Đã thôi, không có gì thay đổi."
NOTHING_WAITS = "Không có việc nào đang chờ tin nhắn này"


async def count(service: BotService, model: type[Base]) -> int:
    async with service.db.read() as db:
        return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def test_cancel_ends_a_pick_a_file_wait_and_a_confirmation_with_nothing_done(
    tmp_path: Path, database_url: str
) -> None:
    renamed = "code;name;kind\n16012;Xã Hậu Lộc Mới;commune\n".encode()
    files = {"units-xlsx": xlsx([["Mã", "Tên", "Loại"], ["00072", "Xã Mới Lộc", "commune"]]), "units-csv": renamed}
    async with running_service(tmp_path, database_url=database_url) as service:
        SentFiles(service, files)
        admin, citizen = Chat(service, "admin"), Chat(service, "555")

        assert "xã/phường nào" in await citizen.send("/khaosat")
        assert await citizen.send("/huy") == CANCELLED
        assert "Bạn chưa mở phiếu nào" in await citizen.send("hoa loc"), "the pick ended"
        assert await count(service, Response) == 0

        units = await count(service, Unit)
        assert "Gửi tệp danh sách đơn vị" in await admin.send("/nhapdonvi")
        assert await admin.send("/huy") == CANCELLED
        sent = await admin._do(Inbound(files=(FileRef("units-xlsx", "document", "don-vi.xlsx"),)))
        assert "Đã nhập" not in sent, "a unit list is no longer awaited"
        assert await count(service, Unit) == units

        asked = await admin._do(Inbound(files=(FileRef("units-csv", "document", "doi-ten.csv", "text/csv"),)))
        assert "Xã Hậu Lộc Mới" in asked and "đồng ý" in asked
        assert await admin.send("/huy") == CANCELLED
        assert NOTHING_WAITS in await admin.press("confirm:yes"), "the old button does nothing"
        async with service.db.read() as db:
            unit = await repo.get_unit(db, "16012")
        assert unit is not None and unit.name == "Xã Hậu Lộc"

        assert "không được gửi, chuyển tiếp" in await admin.send("/xuat dulieu")
        assert await admin.send("/huy") == CANCELLED
        assert NOTHING_WAITS in await admin.send("đồng ý")
        assert admin.documents == [] and await count(service, Job) == 0, "no microdata was made"

        assert "Đóng kỳ 2026?" in await admin.send("/ky dong")
        assert await admin.send("huỷ") == CANCELLED  # the word alone, as a person types it
        assert NOTHING_WAITS in await admin.press("confirm:yes")
        async with service.db.read() as db:
            period = await repo.current_period(db)
        assert period is not None and period.code == "2026" and period.is_open


async def test_cancel_during_a_preview_the_guided_pass_and_an_explanation_says_what_is_kept(
    tmp_path: Path, database_url: str
) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:
        admin, officer = Chat(service, "admin"), Chat(service, "903")
        files = SentFiles(service).files
        await admin.send("/banghoi tu-danh-gia")
        [form] = admin.documents
        assert "dùng được" in await upload(admin, files, add_criterion(form.content))
        await officer.send(f"/start dk_{invite_code(await admin.send('/moi 16012'))}")
        await complete_assessment(officer, "1", "90")
        responses = await count(service, Response)

        assert "Đã chấm N1.1" in await admin.send("/chamdiem 16012 N1.1 3 Kế hoạch ban hành muộn")
        assert "N1.2" in await admin.send("/chamdiem 16012 tung")
        assert "Đã chấm N1.2" in await admin.press("vp:ok")
        stopped = await admin.send("/huy")
        assert "Đã dừng thẩm định từng tiêu chí; các điểm đã chấm được giữ" in stopped, stopped
        assert "/chamdiem 16012 tung" in stopped
        assert NOTHING_WAITS in await admin.press("vp:ok"), "the pass ended: the old button scores nothing"
        xem = await admin.send("/xem 16012")
        assert "thẩm định 4/4" in xem and "Còn 23 tiêu chí chưa thẩm định" in xem, xem

        assert "gửi ngay một ảnh hoặc tệp" in await officer.send("/giaitrinh N1.1 Kế hoạch ký ngày 5/1")
        said = await officer.send("/huy")
        assert "Đã gửi giải trình, không kèm tệp" in said, said
        assert "Bạn chưa mở phiếu nào" in await officer.send_file("muon", "ke-hoach.jpg")
        async with service.db.read() as db:
            [explanation] = (await db.scalars(select(Explanation))).all()
        assert explanation.text == "Kế hoạch ký ngày 5/1" and explanation.sha256 is None

        assert "XEM THỬ" in await admin.send("/xemthu tu-danh-gia")
        assert "Câu 2/" in await admin.send("có")
        stopped = await admin.send("/huy")
        assert "Đã dừng xem thử, không có gì được lưu" in stopped
        assert NOTHING_WAITS in await admin.send("có")
        assert await count(service, Response) == responses
