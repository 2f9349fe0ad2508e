"""Issue 12.6: at PBGDPL_LOG_LEVEL=DEBUG a real `pbgdpl run` logs no citizen's platform id, name or answer, the
libraries' own DEBUG lines (python-telegram-bot, aiohttp, SQLAlchemy, aiosqlite/asyncpg) included; /toi tells each
person their id instead."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from pathlib import Path

from tests.fakes.local import free_port
from tests.fakes.telegram import FakeTelegram
from tests.fakes.zalo_oa_server import FakeZaloOA
from tests.helpers import captured_log, eventually, start_bot
from tests.test_crash import answers_http, telegram_settings
from tests.test_service import SURVEY_ANSWERS

TELEGRAM_ID = 7741852963
ZALO_ID = "6142494823000098765"
NAME = "Xuyến"
PHONE = "0912 345 678"
REMARK = f"Tôi là Lương Thị Xuyến, số {PHONE}, nhà cạnh chợ Cầu Lộc"
ANSWERS = [*SURVEY_ANSWERS[:-1], REMARK, "nộp"]  # the free-text remark instead of "bỏ qua"
SECRETS = [str(TELEGRAM_ID), ZALO_ID, NAME, PHONE, PHONE.replace(" ", ""), "Lương Thị", "chợ Cầu Lộc", "rất hài lòng"]


def assert_private(log: str) -> None:
    escaped = json.dumps(log)  # a library line may print its JSON with \\u escapes
    for secret in SECRETS:
        assert secret not in log and json.dumps(secret)[1:-1] not in escaped, secret


async def test_a_survey_at_debug_over_telegram_logs_nothing_of_the_citizen(tmp_path: Path, database_url: str) -> None:
    log = tmp_path / "bot.log"
    async with FakeTelegram() as tg:
        bot = await start_bot(tmp_path, database_url, log, {**telegram_settings(tg), "log_level": "DEBUG"})
        try:
            await tg.wait_for_calls("setMyCommands", timeout=60)
            for text in ["/toi", "/start ks_16012", *ANSWERS]:
                tg.send_text(TELEGRAM_ID, text, first_name=NAME)
            await tg.wait_until(
                lambda: any("Cảm ơn bạn đã tham gia" in m.text for m in tg.messages(TELEGRAM_ID)), timeout=60
            )
        finally:
            bot.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(bot.wait(), 30) == 0, log.read_text()
    told = tg.messages(TELEGRAM_ID)[0].text
    assert f"telegram:{TELEGRAM_ID}" in told and "PBGDPL_ADMINS" in told
    text = log.read_text()
    assert "DEBUG telegram" in text, "the libraries' DEBUG lines were not written at all"
    assert_private(text)


async def test_a_survey_at_debug_over_zalo_oa_logs_nothing_of_the_citizen(tmp_path: Path, database_url: str) -> None:
    log, port = tmp_path / "bot.log", free_port()
    async with FakeZaloOA() as oa:
        oa.webhook_url = f"http://127.0.0.1:{port}/webhooks/zalo-oa"
        settings = {**oa.settings(), "http_port": str(port), "log_level": "DEBUG"}
        bot = await start_bot(tmp_path, database_url, log, settings)
        try:
            await eventually(lambda: answers_http(port), what="the bot's web app")
            assert await oa.submit_info(ZALO_ID, f"Lương Thị {NAME}", PHONE) == 200
            for text in ["tôi là ai", "/start ks_16012", *ANSWERS]:  # one at a time: Zalo's quota per message
                before = len(oa.texts(ZALO_ID))
                assert await oa.send_text(ZALO_ID, text) == 200

                async def answered(before: int = before) -> bool:
                    return len(oa.texts(ZALO_ID)) > before

                await eventually(answered, what=f"an answer to {text}")

            async def thanked() -> bool:
                return any("Cảm ơn bạn đã tham gia" in t for t in oa.texts(ZALO_ID))

            await eventually(thanked, what="the end of the survey")
        finally:
            bot.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(bot.wait(), 30) == 0, log.read_text()
    assert f"zalo_oa:{ZALO_ID}" in oa.texts(ZALO_ID)[0]
    text = log.read_text()
    assert "DEBUG aiohttp" in text or "DEBUG sqlalchemy" in text or "DEBUG asyncio" in text, text[-3000:]
    assert_private(text)


def test_library_lines_keep_their_wording_not_their_values() -> None:
    with captured_log("DEBUG") as stream:
        library = logging.getLogger("telegram.ext.ExtBot")
        library.debug("Calling Bot API endpoint `%s` with parameters `%s`", "sendMessage", {"text": REMARK})
        library.debug("%(who)s wrote %(n)d words, 100%% sure", {"who": NAME, "n": 7})
        library.debug(f"pre-formatted: {REMARK}")
        library.warning("retrying chat %s", TELEGRAM_ID)
        logging.getLogger("bot.channels.telegram").debug("phone +84 912 345 678 and user %s", TELEGRAM_ID)
    lines = stream.getvalue().splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [
        "Calling Bot API endpoint `…` with parameters `…`",
        "… wrote … words, 100% sure",
        "retrying chat <number>",
        "phone <number> and user <number>",
    ]
