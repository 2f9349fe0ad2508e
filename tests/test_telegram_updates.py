"""Bot API updates read straight from their JSON (bot/channels/telegram_updates.py), and the errors of plain Bot API
calls (bot/channels/telegram_request.py), on the shapes Telegram sends."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter

from bot.channels.telegram_request import AiohttpRequest, api_error
from bot.channels.telegram_updates import Pressed, TelegramUpdate, update_of
from bot.messages import Sender
from conversations.engine import FileRef, Inbound
from tests.fakes.telegram import FakeTelegram

USER = 7356918204
PRIVATE = {"id": USER, "first_name": "Lan", "last_name": "Nguyễn Thị", "type": "private"}
FROM = {"id": USER, "is_bot": False, "first_name": "Lan", "last_name": "Nguyễn Thị", "language_code": "vi"}
LAN = Sender("telegram", str(USER), "Lan Nguyễn Thị")
BOT = {"id": 42, "is_bot": True, "first_name": "PBGDPL", "username": "pbgdpl_bot"}
KEYBOARD = {"inline_keyboard": [[{"text": "1. Có", "callback_data": "a:dong_y:co"}]]}


def message(**content: Any) -> dict[str, Any]:
    return {"message_id": 77, "from": FROM, "chat": PRIVATE, "date": 1764800000, **content}


def pressed(**changes: Any) -> dict[str, Any]:
    """A bot's question with its keyboard, as a callback query carries it."""
    return {"message_id": 78, "from": BOT, "chat": PRIVATE, "date": 1764800001, "text": "Câu 1/6", **changes}


def tap(data: str | None = "a:dong_y:co", message: dict[str, Any] | None = None) -> dict[str, Any]:
    query: dict[str, Any] = {"id": "4382bfdwdsb323b2d9", "from": FROM, "chat_instance": "-9012", "data": data}
    if message is not None:
        query["message"] = message
    return {"update_id": 10004, "callback_query": query}


def test_a_text_message_is_its_sender_chat_and_text() -> None:
    entities = [{"type": "bot_command", "offset": 0, "length": 6}]
    update = update_of({"update_id": 10001, "message": message(text="/start ks_16012", entities=entities)})
    assert update == TelegramUpdate(10001, USER, LAN, Inbound(text="/start ks_16012"))


def test_without_a_last_name_the_name_is_the_first_name() -> None:
    only_first = {"id": USER, "is_bot": False, "first_name": "Lan"}
    update = update_of({"update_id": 1, "message": message(**{"from": only_first, "text": "chào"})})
    assert update is not None and update.sender.display_name == "Lan"


def test_a_photo_is_its_largest_size_with_its_caption() -> None:
    sizes = [
        {"file_id": "AgAD-small", "file_unique_id": "s", "width": 90, "height": 67, "file_size": 1200},
        {"file_id": "AgAD-large", "file_unique_id": "l", "width": 1280, "height": 960, "file_size": 98765},
    ]
    update = update_of({"update_id": 10002, "message": message(photo=sizes, caption="Biên bản hội nghị")})
    ref = FileRef("AgAD-large", "photo", None, "image/jpeg", 98765)
    assert update is not None and update.inbound == Inbound(files=(ref,), text="Biên bản hội nghị")


def test_a_document_keeps_its_name_type_and_size() -> None:
    doc = {"file_id": "BQAD", "file_unique_id": "d", "file_name": "bao-cao.pdf", "mime_type": "application/pdf"}
    update = update_of({"update_id": 10003, "message": message(document={**doc, "file_size": 2048})})
    ref = FileRef("BQAD", "document", "bao-cao.pdf", "application/pdf", 2048)
    assert update is not None and update.inbound == Inbound(files=(ref,))


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (
            {"sticker": {"file_id": "CAAD", "file_unique_id": "c", "type": "regular", "width": 512, "height": 512}},
            "sticker",
        ),
        ({"voice": {"file_id": "AwAD", "file_unique_id": "v", "duration": 3}}, "voice"),
        ({"location": {"latitude": 19.8, "longitude": 105.8}}, "location"),
        ({"contact": {"phone_number": "+84912345678", "first_name": "Lan"}}, "other"),
    ],
)
def test_other_kinds_of_message_are_named(content: dict[str, Any], kind: str) -> None:
    update = update_of({"update_id": 1, "message": message(**content)})
    assert update is not None and update.inbound == Inbound(unsupported=kind)


def test_a_button_press_is_its_data_the_query_to_answer_and_the_pressed_message() -> None:
    update = update_of(tap(message=pressed(reply_markup=KEYBOARD)))
    assert update == TelegramUpdate(
        10004,
        USER,
        LAN,
        Inbound(button="a:dong_y:co"),
        callback_id="4382bfdwdsb323b2d9",
        pressed=Pressed(USER, 78, has_keyboard=True),
    )
    without = update_of(tap(message=pressed()))
    assert without is not None and without.pressed == Pressed(USER, 78, has_keyboard=False)


def test_a_press_on_a_message_telegram_no_longer_gives_is_applied_without_it() -> None:
    inaccessible = {"chat": PRIVATE, "message_id": 78, "date": 0}  # an InaccessibleMessage (older than 48 hours)
    update = update_of(tap(message=inaccessible))
    assert update is not None and update.callback_id is not None
    assert update.pressed is None
    empty = update_of(tap(data=None, message=pressed()))
    assert empty is not None and empty.inbound == Inbound(button="")


def test_updates_the_bot_does_not_read_are_none() -> None:
    group = {"id": -1001234567890, "title": "Cán bộ xã", "type": "supergroup"}
    assert update_of({"update_id": 1, "message": message(chat=group, text="/khaosat")}) is None
    assert (
        update_of({"update_id": 2, "message": {"message_id": 1, "date": 0, "chat": {"id": 7, "type": "private"}}})
        is None
    )
    assert update_of({"update_id": 3, "edited_message": message(text="sửa")}) is None
    assert update_of(tap(message=None)) is None, "a button of an inline-mode message has no chat"
    assert update_of(tap(message=pressed(chat=group))) is None
    assert update_of({"update_id": 4, "my_chat_member": {"chat": PRIVATE, "from": FROM, "date": 1}}) is None


def test_a_malformed_update_raises() -> None:
    for payload in ({"message": message(text="x")}, {"update_id": 5, "message": {"text": "x", "from": FROM}}):
        with pytest.raises((KeyError, TypeError)):
            update_of(payload)


async def test_the_updates_the_fake_injects_are_read() -> None:
    async with FakeTelegram() as tg:
        text = update_of(tg.send_text(USER, "xin chào", first_name="Lan"))
        assert text is not None and (text.chat_id, text.sender.user_id, text.inbound) == (
            USER,
            str(USER),
            Inbound(text="xin chào"),
        )
        photo = update_of(tg.send_photo(USER, b"\xff\xd8\xff\xe0", caption="ảnh"))
        assert photo is not None and photo.inbound.text == "ảnh" and photo.inbound.files[0].kind == "photo"


def body(**answer: Any) -> bytes:
    return json.dumps({"ok": False, **answer}).encode()


def test_errors_are_those_ptb_raises_for_the_same_answer() -> None:
    limited = api_error(
        429, body(error_code=429, description="Too Many Requests: retry after 3", parameters={"retry_after": 3})
    )
    assert isinstance(limited, RetryAfter) and limited.retry_after == timedelta(seconds=3)
    blocked = api_error(403, body(error_code=403, description="Forbidden: bot was blocked by the user"))
    assert isinstance(blocked, Forbidden) and blocked.message == "Forbidden: bot was blocked by the user"
    refused = api_error(400, body(error_code=400, description="Bad Request: message is not modified"))
    assert isinstance(refused, BadRequest) and "not modified" in refused.message
    assert isinstance(api_error(401, body(error_code=401, description="Unauthorized")), InvalidToken)
    moved = api_error(
        400,
        body(
            error_code=400,
            description="Bad Request: group chat was upgraded",
            parameters={"migrate_to_chat_id": -100123},
        ),
    )
    assert isinstance(moved, ChatMigrated) and moved.new_chat_id == -100123
    gateway = api_error(502, b"<html>Bad Gateway</html>")
    assert isinstance(gateway, NetworkError) and not isinstance(gateway, BadRequest)
    assert gateway.message == "Bad Gateway (502)"


async def test_a_plain_call_returns_the_answer_or_raises_its_error() -> None:
    async with FakeTelegram() as tg:
        request = AiohttpRequest(read_timeout=2)
        url = f"{tg.base_url}{tg.token}/sendMessage"
        tg.add_user(USER, "Lan")  # a chat with the bot
        try:
            answer = json.loads(
                await request.call(url, {"chat_id": USER, "text": "<b>Câu 1</b>", "parse_mode": "HTML"})
            )
            assert answer["ok"] and tg.last_message(USER).plain_text == "Câu 1"
            tg.fail_next("sendMessage", 429, "Too Many Requests: retry after 2", retry_after=2)
            with pytest.raises(RetryAfter):
                await request.call(url, {"chat_id": USER, "text": "lần nữa"})
            tg.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
            with pytest.raises(Forbidden, match="blocked"):
                await request.call(url, {"chat_id": USER, "text": "lần nữa"})
            with pytest.raises(BadRequest, match="Chat not found"):
                await request.call(url, {"chat_id": USER + 1, "text": "ai?"})
        finally:
            await request.shutdown()
        tg.assert_no_violations()
