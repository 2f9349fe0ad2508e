"""The Zalo Bot channel against the fake Bot API: long polling (one update a call, 408 when idle, duplicates applied
once), the webhook behind its secret token, numbered choices without buttons, texts under 2,000 characters."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest

from bot.app import open_service, serve
from bot.channels.zalo_bot import ZaloBotChannel, inbound_of
from bot.config import ConfigError
from bot.links import DownloadLinks
from bot.service import BotService
from bot.web import WebServer
from conversations.engine import FileRef, Inbound, Outgoing
from tests.client import settings_for
from tests.fakes.local import free_port
from tests.fakes.zalo_bot_server import FakeZaloBot

CHAT = "6ede9afa66b88fe6d6a9"


@dataclass
class Bot:
    fake: FakeZaloBot
    service: BotService
    channel: ZaloBotChannel

    async def say(self, chat_id: str, text: str, *, duplicate: bool = False) -> list[str]:
        mark = len(self.fake.texts(chat_id))
        await self.fake.send_text(chat_id, text, duplicate=duplicate)
        if self.fake.webhook is None:
            await self.fake.wait_fetched()
        await self.channel.inbox.join()
        return self.fake.texts(chat_id)[mark:]


@asynccontextmanager
async def zalo_bot(fake: FakeZaloBot, data_dir: Path, **overrides: object) -> AsyncIterator[Bot]:
    port = free_port()
    settings = settings_for(
        data_dir, http_port=port, zalo_bot_token=fake.token, zalo_bot_base_url=fake.base_url, **overrides
    )
    async with open_service(settings) as service, serve(settings, service) as server:
        assert server is not None
        channel = server.channel("zalo_bot")
        assert isinstance(channel, ZaloBotChannel)
        yield Bot(fake, service, channel)


def test_updates_become_inbound_messages() -> None:
    def update(event: str, **message: object) -> dict[str, object]:
        return {"event_name": event, "message": {"message_id": "m1", "chat": {"id": CHAT}, **message}}

    assert inbound_of(update("message.text.received", text="khảo sát")) == Inbound(text="khảo sát")
    assert inbound_of({"message": {"text": "xin chào"}}) == Inbound(text="xin chào"), "event_name is optional"
    photo = update("message.image.received", photo_url="https://p.zdn.vn/x.jpg", caption="hội nghị")
    assert inbound_of(photo) == Inbound(
        files=(FileRef("https://p.zdn.vn/x.jpg", "photo", None, "image/jpeg"),), text="hội nghị"
    )
    assert inbound_of(update("message.sticker.received", sticker="abc")) == Inbound(unsupported="sticker")


async def test_long_polling_with_idle_timeouts_and_duplicates(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with FakeZaloBot() as fake, open_service(settings_for(tmp_path)) as service:
        links = DownloadLinks(tmp_path / "downloads", service.secret, "http://127.0.0.1:1", timedelta(hours=1))
        channel = ZaloBotChannel(service, links, token=fake.token, base_url=fake.base_url, poll_timeout=1)
        service.channels.add(channel)
        bot = Bot(fake, service, channel)
        with caplog.at_level(logging.DEBUG):
            await channel.start()
            try:
                await fake.wait_fetched()
                assert [c.method for c in fake.calls[:3]] == ["getMe", "deleteWebhook", "getUpdates"]
                assert fake.calls[2].params == {"timeout": "1"}
                await asyncio.sleep(2.3)
                idle = len(fake.calls_to("getUpdates"))
                assert idle >= 2, "after a 408 (nothing within the timeout) the bot asks again"

                opened = await bot.say(CHAT, "/start ks_16012", duplicate=True)
                assert "Khảo sát cho Xã Hậu Lộc" in opened[0]
                question = opened[-1]
                assert "Câu 1/" in question and question.endswith("Trả lời 1 hoặc 2.")
                assert "  1. Có\n  2. Không" in question
                assert len(fake.texts(CHAT)) == len(opened), "the duplicate delivery was applied once"

                assert "Câu 2/" in (await bot.say(CHAT, "có"))[-1]
                assert "Câu 3/" in (await bot.say(CHAT, "2"))[-1]

                await fake.send_unsupported()
                await fake.send_sticker(CHAT)
                await fake.wait_fetched()
                await channel.inbox.join()
                assert "chưa đọc được loại tin này" in fake.texts(CHAT)[-2]

                lines = [f"{n}. Xã số {n}: đã nộp phiếu tự đánh giá, 12 phiếu khảo sát" for n in range(1, 100)]
                mark = len(fake.texts(CHAT))
                await channel.send(CHAT, [Outgoing("\n".join(lines))])
                pieces = fake.texts(CHAT)[mark:]
                assert len(pieces) > 1 and all(len(p) <= 2000 for p in pieces)
                assert "\n".join(pieces) == "\n".join(lines)
            finally:
                await channel.stop()
        fake.assert_no_violations()
        assert not fake.calls_to("sendDocument")
    assert fake.token.split(":")[1] not in caplog.text


async def test_webhook_mode_behind_the_secret_token(tmp_path: Path) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/webhooks/zalo-bot"
    async with FakeZaloBot(wrapped=True) as fake:
        settings = settings_for(
            tmp_path,
            http_port=port,
            zalo_bot_token=fake.token,
            zalo_bot_base_url=fake.base_url,
            zalo_bot_webhook_secret="webhook-secret-123",
        )
        async with open_service(settings) as service, serve(settings, service) as server:
            assert server is not None
            channel = server.channel("zalo_bot")
            assert isinstance(channel, ZaloBotChannel)
            bot = Bot(fake, service, channel)
            assert fake.webhook is not None
            assert (fake.webhook["url"], fake.webhook["secret_token"]) == (hook, "webhook-secret-123")

            assert "Các lệnh" in (await bot.say(CHAT, "tro giup", duplicate=True))[0]
            assert len(fake.texts(CHAT)) == 1, "a redelivered update is applied once"
            fake.wrapped = False
            assert "xã/phường nào" in (await bot.say(CHAT, "khao sat"))[0], "flat bodies too"
            await fake.send_unsupported()
            assert fake.webhook_statuses == [200] * 4

            async with aiohttp.ClientSession() as session:
                for headers in ({}, {"X-Bot-Api-Secret-Token": "webhook-secret-124"}):
                    async with session.post(hook, json={"message": {"text": "x"}}, headers=headers) as response:
                        assert response.status == 401
            assert not fake.calls_to("getUpdates")
        fake.assert_no_violations()


async def test_a_webhook_is_refused_when_the_channel_polls(tmp_path: Path) -> None:
    async with FakeZaloBot() as fake, open_service(settings_for(tmp_path)) as service:
        links = DownloadLinks(tmp_path / "downloads", service.secret, "http://127.0.0.1:1", timedelta(hours=1))
        channel = ZaloBotChannel(service, links, token=fake.token, base_url=fake.base_url)
        service.channels.add(channel)
        port = free_port()
        server = WebServer("127.0.0.1", port, [channel], links)
        await server.start()
        try:
            async with aiohttp.ClientSession() as session:
                post = session.post(
                    f"http://127.0.0.1:{port}/webhooks/zalo-bot", json={}, headers={"X-Bot-Api-Secret-Token": ""}
                )
                async with post as response:
                    assert response.status == 401
        finally:
            await server.stop()


async def test_a_wrong_token_stops_the_start(tmp_path: Path) -> None:
    async with FakeZaloBot() as fake:
        wrong = fake.token[:-1] + "x"
        settings = settings_for(tmp_path, http_port=free_port(), zalo_bot_token=wrong, zalo_bot_base_url=fake.base_url)
        with pytest.raises(ConfigError, match="PBGDPL_ZALO_BOT_TOKEN"):
            async with open_service(settings) as service, serve(settings, service):
                pass
        assert [c.method for c in fake.calls] == []
