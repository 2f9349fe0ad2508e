"""Tests for the fake Telegram Bot API server, driven by a real python-telegram-bot Bot and Application."""

from __future__ import annotations

import asyncio
import datetime as dtm
import io
import json
import struct
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from tests.fakes.telegram import DEFAULT_SPEC_PATH, FakeTelegram, parse_telegram_html

USER = 987654321
QUESTION = "<b>Câu 1.</b> Ông/bà đánh giá thế nào về công tác phổ biến, giáo dục pháp luật ở địa phương?"


def _png(width: int, height: int) -> bytes:
    """A tiny valid PNG of the given size (one grey pixel row repeated)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in row] for row in rows])


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url) as b:
        yield b


async def test_spec_lives_inside_the_repository() -> None:
    repo_root = Path(__file__).resolve().parents[1]
    assert DEFAULT_SPEC_PATH.name == "telegram-bot-api.min.json"
    assert DEFAULT_SPEC_PATH.is_relative_to(repo_root)
    assert DEFAULT_SPEC_PATH.is_file()
    assert (DEFAULT_SPEC_PATH.parent / "telegram-bot-api.LICENSE").is_file()


async def test_get_me(tg: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "pbgdpl_test_bot"
    assert me.is_bot
    assert me.id == 123456
    assert [c.method for c in tg.calls] == ["getMe", "getMe"]  # the first one is Bot.initialize()
    tg.assert_no_violations()


async def test_send_message_vietnamese_with_keyboard(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(USER, "Bình")
    markup = _keyboard([("Rất tốt 👍", "q1:a1"), ("Tốt", "q1:a2")], [("Chưa tốt", "q1:a3")])
    sent = await bot.send_message(USER, QUESTION, parse_mode=ParseMode.HTML, reply_markup=markup)

    assert sent.message_id == 1
    assert sent.chat.id == USER and sent.chat.first_name == "Bình"
    assert sent.from_user is not None and sent.from_user.is_bot
    assert sent.text is not None and sent.text.startswith("Câu 1. Ông/bà")
    assert sent.entities[0].type == "bold" and sent.entities[0].length == len("Câu 1.")
    assert sent.reply_markup == markup

    call = tg.calls_to("sendMessage")[0]
    assert call.params["chat_id"] == USER  # form value "987654321" decoded to int
    assert call.params["text"] == QUESTION
    assert call.params["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Rất tốt 👍",
        "callback_data": "q1:a1",
    }

    msg = tg.last_message(USER)
    assert msg.text == QUESTION and msg.parse_mode == "HTML"
    assert tg.buttons(msg) == [("Rất tốt 👍", "q1:a1"), ("Tốt", "q1:a2"), ("Chưa tốt", "q1:a3")]
    tg.assert_no_violations()


async def test_callback_data_over_64_bytes_is_a_violation(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(USER)
    await bot.send_message(USER, "ok", reply_markup=_keyboard([("A", "a" * 64)]))
    tg.assert_no_violations()
    await bot.send_message(USER, "65 bytes", reply_markup=_keyboard([("A", "a" * 65)]))
    await bot.send_message(USER, "33 chars", reply_markup=_keyboard([("Đ", "đ" * 33)]))  # 66 bytes UTF-8
    assert len(tg.violations) == 2
    assert "65 bytes" in tg.violations[0] and "callback_data" in tg.violations[0]
    assert "66 bytes" in tg.violations[1]
    with pytest.raises(AssertionError, match="2 violation"):
        tg.assert_no_violations()


async def test_empty_button_text_is_a_violation(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(USER)
    await bot.send_message(USER, "x", reply_markup=_keyboard([(" ", "d")]))
    assert any("button text must be non-empty" in v for v in tg.violations)


async def test_unknown_parameter_is_a_violation(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(USER)
    await bot.send_message(USER, "xin chào", api_kwargs={"bogus_param": 1})
    assert tg.violations == ["sendMessage: unknown parameter 'bogus_param'"]


async def test_missing_required_parameter_is_rejected(tg: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as http:
        url = f"{tg.base_url}{tg.token}/sendMessage"
        async with http.post(url, json={"text": "thiếu chat_id"}) as resp:
            assert resp.status == 400
            body = await resp.json()
    assert body["ok"] is False and "chat_id" in body["description"]
    assert tg.violations == ["sendMessage: missing required parameter 'chat_id'"]


async def test_type_errors_inside_objects_are_violations(tg: FakeTelegram) -> None:
    tg.add_user(USER)
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a", "colour": "red"}]]}
    async with aiohttp.ClientSession() as http:
        url = f"{tg.base_url}{tg.token}/sendMessage"
        # JSON body; chat_id as an int, reply_markup as an object, disable_notification wrongly a string.
        body = {"chat_id": USER, "text": "hi", "reply_markup": markup, "disable_notification": "yes"}
        async with http.post(url, json=body) as resp:
            assert resp.status == 200
    assert any("unknown field 'colour' for InlineKeyboardButton" in v for v in tg.violations)
    assert any("disable_notification: expected Boolean" in v for v in tg.violations)
    assert tg.last_message(USER).reply_markup == markup


async def test_query_string_and_form_parameters(tg: FakeTelegram) -> None:
    tg.add_user(USER)
    async with aiohttp.ClientSession() as http:
        url = f"{tg.base_url}{tg.token}/sendMessage"
        async with http.get(url, params={"chat_id": str(USER), "text": "qua query string"}) as resp:
            assert (await resp.json())["ok"] is True
        form = {"chat_id": str(USER), "text": "[1, 2]", "reply_markup": json.dumps({"remove_keyboard": True})}
        async with http.post(url, data=form) as resp:
            result = (await resp.json())["result"]
    assert result["text"] == "[1, 2]"  # String fields are never JSON-decoded
    assert tg.calls[-1].params["reply_markup"] == {"remove_keyboard": True}
    assert "reply_markup" not in result  # only inline keyboards are echoed back
    assert [m.text for m in tg.messages(USER)] == ["qua query string", "[1, 2]"]
    tg.assert_no_violations()


async def test_wrong_token_and_unknown_method(tg: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{tg.base_url}999:wrong/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        async with http.post(f"{tg.base_url}{tg.token}/sendTelepathy", data={"a": "1"}) as resp:
            assert resp.status == 404
    assert tg.violations == ["sendTelepathy: unknown Bot API method"]


async def test_wrong_token_raises_invalid_token(tg: FakeTelegram) -> None:
    bot = Bot("999:wrong", base_url=tg.base_url, base_file_url=tg.base_file_url)
    with pytest.raises(InvalidToken):
        await bot.initialize()
    await bot.shutdown()


async def test_get_updates_offset_confirms(tg: FakeTelegram, bot: Bot) -> None:
    first = tg.send_text(USER, "/start abc")
    tg.send_text(USER, "/batdau@pbgdpl_test_bot xin chào")
    tg.send_text(USER, "Đồng ý")

    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first["update_id"] + i for i in range(3)]
    assert updates[0].message is not None and updates[0].message.text == "/start abc"
    entity = updates[0].message.entities[0]
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 6)
    assert updates[1].message is not None and updates[1].message.entities[0].length == 23
    assert updates[2].message is not None and updates[2].message.entities == ()

    again = await bot.get_updates(limit=1)  # not confirmed yet: same first update
    assert [u.update_id for u in again] == [updates[0].update_id]
    rest = await bot.get_updates(offset=updates[1].update_id)
    assert [u.update_id for u in rest] == [updates[1].update_id, updates[2].update_id]
    assert await bot.get_updates(offset=updates[2].update_id + 1) == ()
    assert tg.pending_updates == []
    tg.assert_no_violations()


async def test_bot_command_length_is_utf16(tg: FakeTelegram) -> None:
    update = tg.send_text(USER, "/đăng_ký😀 now")
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 10}]


async def test_long_poll_returns_early_on_injection(tg: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await tg.wait_for_calls("getUpdates")
    await asyncio.sleep(0.1)
    assert not poll.done()
    tg.send_text(USER, "xin chào")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1.5
    assert len(updates) == 1 and updates[0].message is not None and updates[0].message.text == "xin chào"
    assert tg.calls_to("getUpdates")[0].params["timeout"] == 5
    tg.assert_no_violations()


async def test_long_poll_times_out_empty(tg: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 1.8


async def test_stop_ends_pending_long_poll() -> None:
    fake = FakeTelegram()
    await fake.start()
    async with aiohttp.ClientSession() as http:
        url = f"{fake.base_url}{fake.token}/getUpdates"
        request = asyncio.create_task(http.post(url, data={"timeout": "30"}))
        await fake.wait_for_calls("getUpdates")
        started = time.monotonic()
        await fake.stop()
        resp = await asyncio.wait_for(request, 2)
        assert await resp.json() == {"ok": True, "result": []}
        resp.release()
    assert time.monotonic() - started < 1.5


async def test_second_poller_terminates_first(tg: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as http:
        url = f"{tg.base_url}{tg.token}/getUpdates"
        first = asyncio.create_task(http.post(url, data={"timeout": "10"}))
        await tg.wait_for_calls("getUpdates")
        async with http.post(url, data={"timeout": "0"}) as resp:
            assert resp.status == 200
        resp1 = await asyncio.wait_for(first, 2)
        assert resp1.status == 409
        assert "terminated by other getUpdates request" in (await resp1.json())["description"]
        resp1.release()


async def test_send_document_bytes_arrive_intact(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(USER)
    data = bytes(range(256)) * 40 + "Báo cáo".encode()
    name = "Báo cáo tổng hợp PBGDPL quý 3.xlsx"
    sent = await bot.send_document(
        USER, InputFile(io.BytesIO(data), filename=name), caption="<i>Kết quả</i> khảo sát", parse_mode="HTML"
    )
    msg = tg.last_message(USER)
    assert msg.document is not None
    file_name, content, mime = msg.document
    assert content == data
    assert file_name == name
    assert mime == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert msg.caption == "<i>Kết quả</i> khảo sát" and msg.plain_text == "Kết quả khảo sát"
    assert sent.document is not None
    assert sent.document.file_name == name and sent.document.file_size == len(data)
    assert sent.caption == "Kết quả khảo sát"
    # The bot can fetch its own upload back and re-send it by file_id.
    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == data
    again = await bot.send_document(USER, sent.document.file_id)
    assert again.document is not None and again.document.file_id == sent.document.file_id
    assert tg.last_message(USER).document == (name, data, mime)
    tg.assert_no_violations()


async def test_injected_photo_downloads_same_bytes(tg: FakeTelegram, bot: Bot) -> None:
    png = _png(1000, 500)
    tg.send_photo(USER, png, caption="Ảnh hiện trường")
    (update,) = await bot.get_updates()
    assert update.message is not None and update.message.caption == "Ảnh hiện trường"
    largest = update.message.photo[-1]
    assert (largest.width, largest.height) == (1000, 500)
    assert update.message.photo[0].width == 90
    file = await largest.get_file()
    buffer = io.BytesIO()
    await file.download_to_memory(buffer)
    assert buffer.getvalue() == png
    tg.assert_no_violations()


async def test_send_photo_and_other_injections(tg: FakeTelegram, bot: Bot) -> None:
    tg.send_document(USER, b"%PDF-1.4 fake", "Tờ trình.pdf", "application/pdf")
    tg.send_sticker(USER)
    tg.send_location(USER, 21.0285, 105.8542)
    doc_update, sticker_update, location_update = await bot.get_updates()
    assert doc_update.message is not None and doc_update.message.document is not None
    assert doc_update.message.document.file_name == "Tờ trình.pdf"
    doc_file = await bot.get_file(doc_update.message.document.file_id)
    assert bytes(await doc_file.download_as_bytearray()) == b"%PDF-1.4 fake"
    assert sticker_update.message is not None and sticker_update.message.sticker is not None
    assert location_update.message is not None and location_update.message.location is not None
    assert location_update.message.location.latitude == pytest.approx(21.0285)
    assert [u.message.message_id for u in (doc_update, sticker_update, location_update) if u.message] == [
        1,
        2,
        3,
    ]

    sent = await bot.send_photo(USER, InputFile(io.BytesIO(_png(40, 30)), filename="bieu_do.png"))
    assert sent.photo[-1].width == 40 and sent.message_id == 4
    assert tg.last_message(USER).photo == _png(40, 30)
    tg.assert_no_violations()


async def test_fail_next_429_raises_retry_after(tg: FakeTelegram, bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without PTB_TIMEDELTA, PTB 22 emits a PTBDeprecationWarning while *constructing* RetryAfter, which
    # filterwarnings=error turns into an exception instead of RetryAfter.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    tg.add_user(USER)
    tg.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(USER, "một")
    assert info.value.retry_after == dtm.timedelta(seconds=1)
    await bot.send_message(USER, "hai")  # the fault was used up
    assert [m.text for m in tg.messages(USER)] == ["hai"]
    assert len(tg.calls_to("sendMessage")) == 2


async def test_fail_next_other_errors(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(USER)
    tg.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", times=2)
    for _ in range(2):
        with pytest.raises(Forbidden):
            await bot.send_message(USER, "x")
    await bot.send_message(USER, "y")
    tg.block(USER)
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_chat_action(USER, "typing")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(111, "không quen")


async def test_bad_html_is_flagged(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(USER)
    await bot.send_message(USER, "a &lt; b &amp;&amp; c &gt; d", parse_mode=ParseMode.HTML)
    tg.assert_no_violations()
    await bot.send_message(USER, "a < b", parse_mode=ParseMode.HTML)
    assert len(tg.violations) == 1 and "bare '<' at position 2" in tg.violations[0]
    tg.violations.clear()
    await bot.send_message(USER, "Hỏi & đáp", parse_mode=ParseMode.HTML)
    assert len(tg.violations) == 1 and "bare '&'" in tg.violations[0]
    tg.violations.clear()
    await bot.send_message(USER, "<div>x</div>", parse_mode=ParseMode.HTML)
    assert "unsupported tag <div>" in tg.violations[0] and "unsupported tag </div>" in tg.violations[1]
    tg.violations.clear()
    await bot.send_message(USER, "<b>x<i>y</b></i>", parse_mode=ParseMode.HTML)
    assert "unexpected end tag </b>" in tg.violations[0]
    tg.violations.clear()
    # Without parse_mode the same text is fine.
    await bot.send_message(USER, "a < b & c <div>")
    tg.assert_no_violations()


async def test_text_length_limits(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(USER)
    await bot.send_message(USER, "<b>" + "ạ" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    tg.assert_no_violations()
    await bot.send_message(USER, "ạ" * 4097)
    await bot.send_message(USER, "<b> </b>", parse_mode=ParseMode.HTML)
    await bot.send_document(USER, InputFile(io.BytesIO(b"x"), filename="a.txt"), caption="c" * 1025)
    assert "4097 characters" in tg.violations[0]
    assert "empty" in tg.violations[1]
    assert "caption is 1025 characters" in tg.violations[2]


def test_parse_telegram_html_entities() -> None:
    parsed = parse_telegram_html(
        '😀 <b>Đậm <i>nghiêng</i></b> <a href="https://x.vn/?a=1&amp;b=2">link</a> '
        '<pre><code class="language-python">x &lt; 1</code></pre> <blockquote expandable>q</blockquote>'
    )
    assert parsed.problems == []
    assert parsed.text == "😀 Đậm nghiêng link x < 1 q"
    assert parsed.entities == [
        {"type": "bold", "offset": 3, "length": 11},
        {"type": "italic", "offset": 7, "length": 7},
        {"type": "text_link", "offset": 15, "length": 4, "url": "https://x.vn/?a=1&b=2"},
        {"type": "pre", "offset": 20, "length": 5, "language": "python"},
        {"type": "expandable_blockquote", "offset": 26, "length": 1},
    ]
    assert parse_telegram_html("<b>x").problems == ["unclosed tag <b>"]
    assert "cannot be nested" in parse_telegram_html("<code><b>x</b></code>").problems[0]


async def test_press_button_edit_and_answer(tg: FakeTelegram, bot: Bot) -> None:
    tg.send_text(USER, "/start")
    (start,) = await bot.get_updates()
    sent = await bot.send_message(
        USER,
        QUESTION,
        parse_mode="HTML",
        reply_markup=_keyboard([("Có", "q1:yes"), ("Không", "q1:no")]),
        reply_parameters=ReplyParameters(message_id=1),
    )
    assert sent.message_id == 2 and sent.reply_to_message is not None
    update = tg.press_button(USER, sent.message_id, "q1:no")
    assert update["callback_query"]["message"]["text"].startswith("Câu 1.")
    with pytest.raises(AssertionError, match="no button"):
        tg.press_button(USER, sent.message_id, "q1:maybe")

    (cb_update,) = await bot.get_updates(offset=start.update_id + 1)
    query = cb_update.callback_query
    assert query is not None and query.data == "q1:no" and query.from_user.id == USER
    assert query.message is not None and query.message.message_id == sent.message_id
    assert query.chat_instance
    await query.answer("Đã ghi nhận")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer()
    assert tg.answered_callbacks == [{"callback_query_id": query.id, "text": "Đã ghi nhận"}]

    edited = await bot.edit_message_text("Câu 1: <i>Không</i>", USER, sent.message_id, parse_mode="HTML")
    assert not isinstance(edited, bool) and edited.edit_date is not None
    msg = tg.messages(USER)[0]
    assert msg.text == "Câu 1: <i>Không</i>" and msg.plain_text == "Câu 1: Không"
    assert msg.reply_markup is None and msg.edit_count == 1  # editing without reply_markup drops the keyboard
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("Câu 1: <i>Không</i>", USER, sent.message_id, parse_mode="HTML")
    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=_keyboard([("Sửa", "q1:edit")]))
    assert tg.buttons(tg.messages(USER)[0]) == [("Sửa", "q1:edit")]
    tg.press_button_text(USER, sent.message_id, "Sửa")
    with pytest.raises(BadRequest, match=r"(?i)can't be edited"):
        await bot.edit_message_text("x", USER, 1)
    tg.assert_no_violations()


async def test_commands_roundtrip(tg: FakeTelegram, bot: Bot) -> None:
    commands = [BotCommand("start", "Bắt đầu khảo sát"), BotCommand("huy", "Huỷ phiếu đang làm")]
    assert await bot.set_my_commands(commands)
    assert await bot.get_my_commands() == tuple(commands)
    assert await bot.get_my_commands(language_code="en") == ()
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    await bot.set_my_commands([BotCommand("Bắt_đầu", "x")])
    assert any("must be 1-32 of a-z" in v for v in tg.violations)


async def test_wait_for_messages_timeout_lists_messages(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_user(USER)
    await bot.send_message(USER, "một")
    assert [m.text for m in await tg.wait_for_messages(USER, 1, timeout=0.5)] == ["một"]
    with pytest.raises(AssertionError, match=r"expected 2 bot message.*got 1: \[\(1, 'một'\)\]"):
        await tg.wait_for_messages(USER, 2, timeout=0.2)
    with pytest.raises(AssertionError, match="no message"):
        tg.last_message(42)


async def test_webhook_mode(tg: FakeTelegram, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return web.Response(status=500 if len(received) == 1 else 200)  # first delivery fails, then retried

    app = web.Application()
    app.router.add_post("/tg", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/tg", secret_token="s3cr3t_Token")
        with pytest.raises(Conflict):
            await bot.get_updates()
        update = tg.send_text(USER, "qua webhook")
        await tg.wait_until(lambda: len(received) >= 2, timeout=2)
        assert received[1] == ("s3cr3t_Token", update)
        assert [d.status for d in tg.webhook_deliveries] == [500, 200]
        info = await bot.get_webhook_info()
        assert info.url.endswith("/tg") and info.pending_update_count == 0
        assert await bot.delete_webhook()
        tg.send_text(USER, "lại polling")
        (polled,) = await bot.get_updates()
        assert polled.message is not None and polled.message.text == "lại polling"
    finally:
        await runner.cleanup()
    tg.assert_no_violations()


async def test_application_polling_echo(tg: FakeTelegram) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text is not None
        await update.effective_message.reply_text(f"Bạn vừa gửi: {update.effective_message.text}")

    app = Application.builder().token(tg.token).base_url(tg.base_url).base_file_url(tg.base_file_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=dtm.timedelta(seconds=5))
        tg.send_text(USER, "Xin chào 🇻🇳")
        (reply,) = await tg.wait_for_messages(USER, 1, timeout=3)
        assert reply.text == "Bạn vừa gửi: Xin chào 🇻🇳"
        started = time.monotonic()
        await app.updater.stop()
        await app.stop()
        assert time.monotonic() - started < 1.5
    methods = [c.method for c in tg.calls]
    assert methods[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    assert methods[-1] == "getUpdates"  # PTB confirms the offset on shutdown
    assert tg.calls[-1].params["timeout"] == 0
    assert tg.pending_updates == []
    tg.assert_no_violations()
