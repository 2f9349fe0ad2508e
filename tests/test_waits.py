"""What a session waits for: a tagged kind stored with its version; a wait stored before versions (the first key of a
dict naming it) is upgraded when read, so a session left waiting across an upgrade carries on."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot import waits
from bot.app import command_table
from bot.identity import actor_key
from bot.table import CommandTable, Permission, Wait
from storage import repo
from storage.models import ConversationSession
from tests.client import Chat, running_service


def test_a_wait_is_stored_with_its_version_and_read_back() -> None:
    wait: waits.Preview = {"kind": "preview", "questionnaire": "tu-danh-gia", "version": "2026.1", "state": {"a": 1}}
    assert waits.stored(wait) == {"v": waits.WAITS_VERSION, **wait}
    assert waits.read(waits.stored(wait)) == wait
    assert waits.read(waits.stored({"kind": "unit_pick"})) == {"kind": "unit_pick"}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({"pick": "unit"}, {"kind": "unit_pick"}),
        ({"units_upload": {}}, {"kind": "units_upload"}),
        (
            {"preview": {"questionnaire": "q", "version": "1", "state": {"phase": "asking"}}},
            {"kind": "preview", "questionnaire": "q", "version": "1", "state": {"phase": "asking"}},
        ),
    ],
)
def test_a_wait_stored_before_versions_is_upgraded(old: dict[str, object], new: dict[str, object]) -> None:
    assert waits.read(old) == new


def test_nothing_unknown_is_taken_for_a_wait() -> None:
    assert waits.read(None) is None
    assert waits.read({}) is None
    assert waits.read({"v": waits.WAITS_VERSION, "kind": "gone"}) is None
    assert waits.read({"something": {}}) is None
    assert waits.read({"v": waits.WAITS_VERSION + 1, "kind": "unit_pick"}) is None  # written by a newer bot


def test_every_kind_has_a_handler_and_the_table_takes_no_other() -> None:
    assert set(command_table().waits) == waits.KINDS
    with pytest.raises(ValueError, match="gone"):
        CommandTable([], waits=[Wait("gone", lambda call, wait: None, Permission.ANYONE, "")])  # type: ignore[arg-type,return-value]


async def test_a_session_left_waiting_in_the_old_shape_carries_on(tmp_path: Path, database_url: str) -> None:
    async with running_service(tmp_path, database_url=database_url) as service:

        async def leave(user: str, old: dict[str, object]) -> None:  # as a bot before typed waits left it
            async with service.db.write() as db:
                await repo.save_session(db, actor_key(service.secret, "test", user), service.clock(), None, old)

        citizen = Chat(service, "555")
        assert "xã/phường nào" in await citizen.send("/khaosat")
        async with service.db.read() as db:
            [session] = (await db.scalars(select(ConversationSession))).all()
            assert session.waiting_for == {"v": waits.WAITS_VERSION, "kind": "unit_pick"}
        await leave("555", {"pick": "unit"})
        assert "Khảo sát cho Xã Hoa Lộc" in await citizen.send("hoa loc")

        admin = Chat(service, "admin")
        assert "Không có việc nào đang chờ" in await admin.send("chưa có tệp")  # nothing waits for a file
        await leave("admin", {"units_upload": {}})
        assert "Gửi tệp danh sách đơn vị" in await admin.send("chưa có tệp")  # still waiting for the file
        await leave("admin", {"preview": {"questionnaire": "tu-danh-gia", "version": "2026.1", "state": {}}})
        assert "Đã dừng xem thử" in await admin.send("/huy")
        assert "Bạn không có phiếu nào đang mở" in await admin.send("/huy")
