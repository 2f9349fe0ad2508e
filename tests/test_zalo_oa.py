"""The Zalo Official Account channel against the fake Open API: signatures and replays, events, numbered choices and
optional buttons, the rotating token pair, and the reply window."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bot.app import open_service, serve
from bot.channels.zalo_oa import REPLY_WINDOW, ZaloOaChannel, inbound_of
from bot.channels.zalo_oa_tokens import OaTokens
from bot.config import ConfigError
from bot.outbox import Recipient, notify
from bot.service import BotService
from conversations.engine import FileRef, Inbound, Outgoing
from storage import repo
from storage.models import OutboxMessage
from tests.client import Clock, settings_for
from tests.fakes.local import free_port
from tests.fakes.zalo_oa_server import FakeZaloOA
from tests.helpers import eventually

ADMIN = "5126318745061358240"
PNG = b"\x89PNG\r\n\x1a\n fake image"


@dataclass
class Bot:
    fake: FakeZaloOA
    service: BotService
    channel: ZaloOaChannel

    async def say(self, user_id: str, text: str) -> list[str]:
        """The user writes; returns what the OA sent them back."""
        mark = len(self.fake.texts(user_id))
        assert await self.fake.send_text(user_id, text) == 200
        await self.channel.inbox.join()
        return self.fake.texts(user_id)[mark:]

    async def outbox(self) -> list[tuple[str, str, str]]:
        """What the outbox has for Zalo OA users, oldest first: (user, status, text)."""
        async with self.service.db.read() as db:
            query = select(OutboxMessage).where(OutboxMessage.channel == "zalo_oa").order_by(OutboxMessage.id)
            rows = (await db.scalars(query)).all()
        return [(row.recipient, row.status, row.text) for row in rows]

    async def notify(self, user_id: str, text: str) -> str:
        """A notification through the outbox, as a reminder goes: what the outbox's worker recorded for it."""
        async with self.service.db.write() as db:
            await notify(db, [Recipient("zalo_oa", user_id)], "test", text, self.service.clock())

        async def settled() -> bool:
            return any(t == text and s not in ("pending", "sending") for _, s, t in await self.outbox())

        await eventually(settled, what="the outbox worker sent or held it")
        return next(s for _, s, t in reversed(await self.outbox()) if t == text)


@asynccontextmanager
async def zalo_oa_bot(
    fake: FakeZaloOA, data_dir: Path, database_url: str | None = None, **overrides: object
) -> AsyncIterator[Bot]:
    port = free_port()
    settings = settings_for(
        data_dir,
        admins=f"zalo_oa:{ADMIN}",
        http_port=port,
        **fake.settings(),
        database_url=database_url,
        **overrides,
    )
    fake.webhook_url = f"http://127.0.0.1:{port}/webhooks/zalo-oa"
    async with open_service(settings) as service, serve(settings, service) as server:
        assert server is not None
        channel = server.channel("zalo_oa")
        assert isinstance(channel, ZaloOaChannel)
        yield Bot(fake, service, channel)


# ---------------------------------------------------------------- signatures and replays


async def test_only_correctly_signed_fresh_events_are_handled(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    user = "6142494823000000001"
    async with FakeZaloOA() as fake, zalo_oa_bot(fake, tmp_path) as bot:
        event = fake.event("user_send_text", user, {"text": "trợ giúp bí mật"})
        body = json.dumps(event, ensure_ascii=False).encode()
        signature = fake.sign(body, event["timestamp"])
        fake.user(user).last_message_at, fake.user(user).replies_left = fake.now(), 8

        tampered_body = body.replace("trợ giúp".encode(), "xuất".encode())
        later = dict(event, timestamp=str(int(event["timestamp"]) + 1))
        tampered_time = json.dumps(later, ensure_ascii=False).encode()
        with caplog.at_level(logging.INFO):
            assert await fake.post(tampered_body, signature) == 401
            assert await fake.post(tampered_time, signature) == 401
            assert await fake.post(body, None) == 401
            assert await fake.post(body, "mac=" + "0" * 64) == 401
            assert await fake.post(b"not json", signature) == 401
        assert caplog.text.count("bad or missing signature") == 5
        assert "bí mật" not in caplog.text, "a refused body is never logged"
        await bot.channel.inbox.join()
        assert fake.texts(user) == []

        assert await fake.post(body, signature.removeprefix("mac=")) == 200, "the header may come without mac="
        await bot.channel.inbox.join()
        assert len(fake.texts(user)) == 1
        assert fake.texts(user)[0].startswith("Các lệnh:")

        assert await fake.post(body, signature) == 200, "a redelivery is acknowledged..."
        await bot.channel.inbox.join()
        assert len(fake.texts(user)) == 1, "...and applied once (msg_id)"

        old = fake.event("user_send_text", user, {"text": "/trogiup"})
        old["timestamp"] = str(int(time.time() * 1000) - 11 * 60 * 1000)
        old_body = json.dumps(old).encode()
        assert await fake.post(old_body, fake.sign(old_body, old["timestamp"])) == 200
        await bot.channel.inbox.join()
        assert len(fake.texts(user)) == 1, "an event older than the replay window is ignored"


# ---------------------------------------------------------------- events


def test_events_become_inbound_messages() -> None:
    file_event = {
        "event_name": "user_send_file",
        "message": {
            "msg_id": "cb31dff1c39642cc1b83",
            "attachments": [
                {
                    "type": "file",
                    "payload": {"url": "https://f.zdn.vn/k/bao-cao.pdf", "name": "bao-cao.pdf", "size": "2048"},
                }
            ],
        },
    }
    image_event = {
        "event_name": "user_send_image",
        "message": {
            "msg_id": "a1",
            "text": "ảnh hội nghị",
            "attachments": [{"type": "image", "payload": {"url": "https://p.zdn.vn/a/hn.jpg", "thumbnail": "t"}}],
        },
    }
    assert inbound_of(file_event) == Inbound(
        files=(FileRef("https://f.zdn.vn/k/bao-cao.pdf", "document", "bao-cao.pdf", "application/pdf", 2048),)
    )
    assert inbound_of(image_event) == Inbound(
        files=(FileRef("https://p.zdn.vn/a/hn.jpg", "photo", None, "image/jpeg", None),), text="ảnh hội nghị"
    )
    assert inbound_of({"event_name": "user_send_text", "message": {"text": "#a:dong_y:co"}}) == Inbound(
        button="a:dong_y:co"
    )
    assert inbound_of({"event_name": "user_send_text", "message": {"text": "#hashtag thôi"}}) == Inbound(
        text="#hashtag thôi"
    )
    assert inbound_of({"event_name": "user_send_sticker", "message": {}}) == Inbound(unsupported="sticker")


async def test_follow_greets_and_files_are_evidence(tmp_path: Path) -> None:
    citizen = "6142494823000000002"
    async with FakeZaloOA() as fake, zalo_oa_bot(fake, tmp_path) as bot:
        assert await fake.follow(citizen) == 200
        await bot.channel.inbox.join()
        assert "Xin chào!" in fake.texts(citizen)[0]

        await bot.say(citizen, "khảo sát")
        assert "Khảo sát cho Xã Hậu Lộc" in "\n".join(await bot.say(citizen, "hậu lộc"))
        mark = len(fake.texts(citizen))
        assert await fake.send_image(citizen, PNG) == 200
        await bot.channel.inbox.join()
        assert "Câu này không cần tệp" in fake.texts(citizen)[mark]

        mark = len(fake.texts(citizen))
        assert await fake.send_sticker(citizen) == 200
        await bot.channel.inbox.join()
        assert "chưa đọc được loại tin này" in fake.texts(citizen)[mark]
        assert await fake.submit_info(citizen, "Lê Văn B", "84912345678") == 200, "other events are acknowledged"
        fake.assert_no_violations()


# ---------------------------------------------------------------- rendering


async def test_choices_are_numbered_and_buttons_only_when_configured(tmp_path: Path) -> None:
    citizen = "6142494823000000003"
    async with FakeZaloOA() as fake:
        async with zalo_oa_bot(fake, tmp_path) as bot:
            question = (await bot.say(citizen, "/start ks_16012"))[-1]
            assert "  1. Có\n  2. Không" in question
            assert question.endswith("Trả lời 1 hoặc 2.")
            assert fake.messages(citizen)[-1].buttons == []
            assert "Câu 2/" in (await bot.say(citizen, "1"))[-1]

        async with zalo_oa_bot(fake, tmp_path, zalo_oa_buttons=True) as bot:
            other = "6142494823000000004"
            await bot.say(other, "/start ks_16012")
            buttons = fake.messages(other)[-1].buttons
            assert [b["title"] for b in buttons] == ["1. Có", "2. Không"]
            assert {b["type"] for b in buttons} == {"oa.query.hide"}
            assert fake.messages(other)[-1].text.endswith("Trả lời 1 hoặc 2."), "the numbered list stays"
            mark = len(fake.texts(other))
            assert await fake.tap(other, buttons[0]) == 200
            await bot.channel.inbox.join()
            age = fake.messages(other)[-1]
            assert "Câu 2/" in age.text
            assert [b["title"] for b in age.buttons] == [
                "1. 18–30 tuổi",
                "2. 31–45 tuổi",
                "3. 46–60 tuổi",
                "4. Trên 60 tuổi",
                "Quay lại",
            ]
            await fake.tap(other, age.buttons[1])
            await bot.channel.inbox.join()
            await bot.say(other, "2")
            occupation = fake.messages(other)[-1]
            assert "Công việc chính" in occupation.text
            assert occupation.buttons == [], "nine choices do not fit on one card: the numbered list alone"
            assert len(fake.texts(other)) > mark
        fake.assert_no_violations()


async def test_long_texts_are_split_under_the_limit(tmp_path: Path) -> None:
    user = "6142494823000000005"
    lines = [f"{n}. Tiêu chí số {n}: đơn vị đã tổ chức phổ biến pháp luật cho người dân" for n in range(1, 120)]
    async with FakeZaloOA() as fake, zalo_oa_bot(fake, tmp_path) as bot:
        await bot.say(user, "/trogiup")
        await bot.channel.send(user, [Outgoing("\n".join(lines))])
        texts = fake.texts(user)[1:]
        assert len(texts) > 2
        assert all(len(t) <= 2000 for t in texts)
        assert "\n".join(texts) == "\n".join(lines), "cut at line ends, nothing lost"
        fake.assert_no_violations()


# ---------------------------------------------------------------- tokens


async def test_tokens_refresh_before_expiry_and_once_for_many_callers(tmp_path: Path, database_url: str) -> None:
    clock = Clock(datetime.now(UTC))
    async with (
        FakeZaloOA(expires_in=90000) as fake,
        open_service(settings_for(tmp_path, database_url=database_url)) as service,
        aiohttp.ClientSession() as http,
    ):

        def tokens() -> OaTokens:
            return OaTokens(
                service.db, http, fake.oauth_url, fake.app_id, fake.app_secret, fake.bootstrap_refresh_token, clock
            )

        first = tokens()
        got = await asyncio.gather(*(first.access_token() for _ in range(20)))
        assert set(got) == {fake.issued_access_tokens[0]}
        assert fake.refreshes == 1

        clock.advance(hours=24, minutes=45)  # 25 hours minus 15 minutes: still fresh
        assert await first.access_token() == fake.issued_access_tokens[0]
        clock.advance(minutes=10)  # inside the last 10 minutes: refreshed before it expires
        got = await asyncio.gather(*(first.access_token() for _ in range(20)))
        assert set(got) == {fake.issued_access_tokens[1]}
        assert fake.refreshes == 2

        refused = fake.issued_access_tokens[1]
        got = await asyncio.gather(*(first.refused(refused) for _ in range(20)))
        assert set(got) == {fake.issued_access_tokens[2]}
        assert fake.refreshes == 3

        restarted = tokens()  # same configuration, its bootstrap token long used: the stored pair is used
        assert await restarted.access_token() == fake.issued_access_tokens[2]
        assert fake.refreshes == 3
        fake.assert_no_violations()


async def test_expired_token_under_concurrent_sends_refreshes_once_and_survives_a_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    users = [f"61424948230000001{n:02d}" for n in range(8)]
    async with FakeZaloOA() as fake:
        with caplog.at_level(logging.DEBUG):
            async with zalo_oa_bot(fake, tmp_path) as bot:
                assert fake.refreshes == 1, "the bootstrap refresh token is exchanged at start"
                fake.expire_access_tokens()
                statuses = await asyncio.gather(*(fake.send_text(user, "trợ giúp") for user in users))
                assert statuses == [200] * len(users)
                await bot.channel.inbox.join()
                assert fake.refreshes == 2, "one refresh for all the -216s"
                assert all(fake.texts(user) for user in users)
            async with zalo_oa_bot(fake, tmp_path) as bot:
                assert "Các lệnh" in (await bot.say(users[0], "trợ giúp"))[0]
                assert fake.refreshes == 2, "after a restart the stored pair is used; the old bootstrap is not"
        fake.assert_no_violations()
    secrets = [*fake.issued_access_tokens, *fake.issued_refresh_tokens, fake.app_secret, fake.secret_key]
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("aiosqlite"))
    assert "Zalo OA access token refreshed" in ours
    assert not [s for s in secrets if s in ours], "no token or key in any log line (bot.logs quiets aiosqlite)"


# ---------------------------------------------------------------- the reply window


async def test_messages_outside_the_reply_window_are_held_until_the_person_writes(
    tmp_path: Path, database_url: str
) -> None:
    officer, stranger = "6142494823000000201", "6142494823000000202"
    async with FakeZaloOA() as fake, zalo_oa_bot(fake, tmp_path, database_url) as bot:
        assert await bot.notify(stranger, "Nhắc nhở: còn 3 ngày đến hạn nộp.") == "held", "not recorded as sent"
        assert fake.texts(stranger) == [] and fake.refusals == [], "never wrote: held without trying"

        await bot.say(officer, "trợ giúp")
        assert await bot.notify(officer, "Nhắc nhở: còn 2 ngày.") == "sent"
        fake.advance(hours=49)  # Zalo closes the window; the bot still thinks it is open
        assert await bot.notify(officer, "Nhắc nhở: còn 1 ngày đến hạn nộp.") == "held"
        assert fake.refusals == [(officer, -230)]
        bot.channel.clock = lambda: datetime.now(UTC).replace(year=datetime.now(UTC).year + 1)
        delivery = await bot.channel.send(officer, [Outgoing("Nhắc nhở: hôm nay là hạn nộp.")])
        assert len(fake.refusals) == 1 and delivery.status == "held", "outside the window by the bot's own clock"
        bot.channel.clock = lambda: datetime.now(UTC)
        statuses = [(u, s) for u, s, _ in await bot.outbox()]
        assert statuses == [(stranger, "held"), (officer, "sent"), (officer, "held"), (officer, "held")]

        replies = await bot.say(officer, "tro giup")
        assert replies[0] == "Nhắc nhở: còn 1 ngày đến hạn nộp."
        assert replies[1] == "Nhắc nhở: hôm nay là hạn nộp."
        assert "Các lệnh" in replies[2], "held messages first, then the answer"
        assert [s for u, s, _ in await bot.outbox() if u == officer] == ["sent", "sent", "sent"]

        fake.fail_next_send(-230, "Reply quota for this interaction is used up")
        assert await bot.say(officer, "trợ giúp") == [], "a refused reply is held too..."
        assert "Các lệnh" in (await bot.say(officer, "trợ giúp"))[0], "...and delivered at the next message"

        fake.fail_next_send(-201, "Invalid message")
        await bot.say(officer, "trợ giúp")
        assert (await bot.outbox())[-1][:2] == (officer, "failed"), "another refusal is recorded, not dropped"
        fake.fail_next_send(-201, "Invalid message")
        assert await bot.notify(officer, "Nhắc nhở.") == "failed"

        assert await fake.unfollow(stranger) == 200
        await bot.channel.inbox.join()
        assert (await bot.outbox())[0][:2] == (stranger, "failed")
        assert fake.texts(stranger) == []


async def test_a_refused_refresh_token_stops_the_start_and_later_holds_messages(tmp_path: Path) -> None:
    user = "6142494823000000301"
    async with FakeZaloOA() as fake:
        fake.revoke_refresh_tokens()
        with pytest.raises(ConfigError, match="PBGDPL_ZALO_OA_REFRESH_TOKEN mới"):
            async with zalo_oa_bot(fake, tmp_path):
                pass
    async with FakeZaloOA() as fake, zalo_oa_bot(fake, tmp_path / "second") as bot:
        fake.expire_access_tokens()
        fake.revoke_refresh_tokens()
        assert await bot.say(user, "trợ giúp") == []
        assert [(u, s) for u, s, _ in await bot.outbox()] == [(user, "held")], "kept for when a token can be had"


async def test_a_signed_but_malformed_event_is_acknowledged_and_ignored(tmp_path: Path) -> None:
    async with FakeZaloOA() as fake, zalo_oa_bot(fake, tmp_path) as bot:
        event = fake.event("user_send_image", "6142494823000000401", {"attachments": ["not an object"]})
        assert await fake.deliver(event) == 200
        event = fake.event("user_send_text", "6142494823000000401")
        event["message"] = "not an object"
        assert await fake.deliver(event) == 200
        await bot.channel.inbox.join()
        assert fake.sent == []


def test_the_inbox_remembers_a_person_for_the_whole_reply_window() -> None:
    """The reply window is read from the inbox (when the person last wrote), which forgets applied events only
    after the redelivery window."""
    assert REPLY_WINDOW <= repo.REDELIVERY_WINDOW
