"""The one web app: /healthz, signed download links, and Telegram in webhook mode behind its secret token."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.app import open_service, serve
from bot.config import ConfigError
from bot.links import DownloadLinks
from bot.messages import Document
from bot.web import WebServer
from tests.client import Clock, settings_for
from tests.fakes.local import free_port
from tests.fakes.telegram import FakeTelegram

XLSX = b"PK\x03\x04 a workbook"


async def fetch(url: str, **headers: str) -> tuple[int, bytes, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, await response.read(), dict(response.headers)


async def test_health_lists_the_running_channels(tmp_path: Path) -> None:
    port = free_port()
    async with FakeTelegram() as tg:
        settings = settings_for(
            tmp_path, telegram_token=tg.token, telegram_base_url=tg.base_url, http_port=port, admins="telegram:1"
        )
        async with open_service(settings) as service, serve(settings, service) as server:
            assert server is not None
            status, body, _ = await fetch(f"http://127.0.0.1:{port}/healthz")
            assert (status, body) == (200, b'{"status": "ok", "channels": ["telegram"]}')
            assert tg.calls_to("getUpdates"), "Telegram long polling is the default"
    assert not settings.run_console


async def test_nothing_is_served_for_the_console_alone_with_the_dashboard_off(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, web_dashboard=False)
    assert settings.run_console
    async with open_service(settings) as service, serve(settings, service) as server:
        assert server is None


async def test_zalo_oa_needs_both_keys(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, zalo_oa_app_id="123", zalo_oa_secret_key="k")
    with pytest.raises(ConfigError, match="PBGDPL_ZALO_OA_APP_SECRET"):
        async with open_service(settings) as service, serve(settings, service):
            pass


async def test_a_download_link_works_until_it_expires_and_not_once_altered(tmp_path: Path) -> None:
    clock = Clock(datetime.now(UTC))
    port = free_port()
    links = DownloadLinks(tmp_path / "downloads", b"secret", f"http://127.0.0.1:{port}", timedelta(hours=1), clock)
    server = WebServer("127.0.0.1", port, [], links)
    await server.start()
    try:
        offer = links.publish(Document("ket-qua-2026.xlsx", XLSX, "Kết quả kỳ 2026."))
        assert offer.startswith("Kết quả kỳ 2026.\nTải tệp ket-qua-2026.xlsx tại:\n")
        assert re.search(r"\(Đường dẫn dùng được đến \d\d:\d\d \d\d/\d\d/\d{4}\.\)$", offer)
        found = re.search(r"http://\S+", offer)
        assert found
        url = found[0]
        status, body, headers = await fetch(url)
        assert (status, body) == (200, XLSX)
        assert headers["Content-Disposition"] == "attachment; filename*=UTF-8''ket-qua-2026.xlsx"

        file_id = re.search(r"/exports/([^?]+)", url)
        exp = re.search(r"exp=(\d+)", url)
        assert file_id and exp
        altered = [
            url.replace(file_id[1], file_id[1][:-1] + ("A" if file_id[1][-1] != "A" else "B")),
            url.replace(f"exp={exp[1]}", f"exp={int(exp[1]) + 3600}"),
            url[:-1] + ("0" if url[-1] != "0" else "1"),
            url.split("&sig=")[0],
            url.replace(f"exp={exp[1]}", "exp=" + "9" * 5000),  # past int()'s digit limit
            url.replace(f"exp={exp[1]}", "exp=" + "9" * 40),
            url.replace(f"exp={exp[1]}", "exp=-1"),
            url.replace(f"exp={exp[1]}", "exp=1e10"),
            url.replace(f"exp={exp[1]}", "exp=%D9%A1%D9%A2"),  # Arabic-Indic digits
            url.replace(f"exp={exp[1]}", "exp=%FF%FE"),
            url.replace(f"exp={exp[1]}", "exp="),
            url.replace(f"exp={exp[1]}", f"exp= {exp[1]}"),
        ]
        for wrong in altered:
            status, body, _ = await fetch(wrong)
            assert status == 403, wrong
            assert "không đúng" in body.decode()

        clock.advance(minutes=61)
        status, body, _ = await fetch(url)
        assert status == 410
        assert "đã hết hạn" in body.decode()
    finally:
        await server.stop()


async def test_telegram_webhook_mode_refuses_requests_without_the_secret(tmp_path: Path) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/webhooks/telegram"
    async with FakeTelegram() as tg:
        settings = settings_for(
            tmp_path,
            telegram_token=tg.token,
            telegram_base_url=tg.base_url,
            telegram_webhook_url=hook,
            telegram_webhook_secret="s3cret-Token_1",
            http_port=port,
        )
        async with open_service(settings) as service, serve(settings, service):
            assert tg.webhook is not None
            assert (tg.webhook["url"], tg.webhook["secret_token"]) == (hook, "s3cret-Token_1")
            assert tg.webhook["allowed_updates"] == ["message", "callback_query"]

            tg.send_text(4242, "/start ks_16012")
            await tg.wait_for_messages(4242, 2)
            assert "Khảo sát cho Xã Hậu Lộc" in (tg.messages(4242)[0].plain_text or "")
            assert all(d.status == 200 for d in tg.webhook_deliveries)

            update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 7, "type": "private"}}}
            async with aiohttp.ClientSession() as session:
                for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                    async with session.post(hook, json=update, headers=headers) as response:
                        assert response.status == 401
            assert not tg.calls_to("getUpdates"), "no polling while the webhook is set"
        tg.assert_no_violations()
