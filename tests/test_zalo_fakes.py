"""The fake Zalo servers behave like the real APIs where the bot's tests rely on them (channels.md §5)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from tests.fakes import zalo_bot_server
from tests.fakes.zalo_bot_server import FakeZaloBot
from tests.fakes.zalo_oa_server import FakeZaloOA


async def post(url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(url, **kwargs) as response:
        return response.status, json.loads(await response.read())


async def get(url: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(url, **kwargs) as response:
        return response.status, json.loads(await response.read())


async def test_zalo_oa_refresh_tokens_are_single_use() -> None:
    async with FakeZaloOA() as fake:
        form = {"refresh_token": fake.bootstrap_refresh_token, "app_id": fake.app_id, "grant_type": "refresh_token"}
        assert (await post(fake.oauth_url, data=form, headers={"secret_key": "wrong"}))[1]["error"] == -14002
        status, first = await post(fake.oauth_url, data=form, headers={"secret_key": fake.app_secret})
        assert status == 200 and first["expires_in"] == 90000 and first["refresh_token"] != form["refresh_token"]
        again = (await post(fake.oauth_url, data=form, headers={"secret_key": fake.app_secret}))[1]
        assert again == {"error": -14014, "error_description": "Invalid refresh token"}
        assert fake.violations == ["a refresh token was used twice"]
        form["refresh_token"] = first["refresh_token"]
        second = (await post(fake.oauth_url, data=form, headers={"secret_key": fake.app_secret}))[1]
        assert second["expires_in"] == "90000", "expires_in comes as a number or a string"


async def test_zalo_oa_messages_tokens_window_and_limits() -> None:
    async with FakeZaloOA(expires_in=60 * 3600) as fake:
        form = {"refresh_token": fake.bootstrap_refresh_token, "app_id": fake.app_id, "grant_type": "refresh_token"}
        token = (await post(fake.oauth_url, data=form, headers={"secret_key": fake.app_secret}))[1]["access_token"]
        send = f"{fake.url}/v3.0/oa/message/cs"
        user = "6142494823000000009"

        def body(**message: Any) -> dict[str, Any]:
            return {"recipient": {"user_id": user}, "message": message}

        assert (await post(send, json=body(text="x"), headers={"access_token": "nope"}))[1]["error"] == -216
        assert (await post(send, json=body(text="x"), headers={"access_token": token}))[1]["error"] == -213
        fake.user(user).last_message_at, fake.user(user).replies_left = fake.now(), 2
        ok = (await post(send, json=body(text="Xin chào"), headers={"access_token": token}))[1]
        assert ok["error"] == 0 and ok["data"]["user_id"] == user
        assert (await post(send, json=body(text="x" * 2001), headers={"access_token": token}))[1]["error"] == -201
        buttons = [{"title": str(n), "type": "oa.query.hide", "payload": "#x"} for n in range(6)]
        too_many = body(text="Chọn", attachment={"type": "template", "payload": {"buttons": buttons}})
        assert (await post(send, json=too_many, headers={"access_token": token}))[1]["error"] == -201
        assert (await post(send, json=body(text="2"), headers={"access_token": token}))[1]["error"] == 0
        used_up = (await post(send, json=body(text="3"), headers={"access_token": token}))[1]
        assert used_up["error"] == -230, "the free replies of one interaction are used up"
        fake.user(user).replies_left = 8
        fake.advance(hours=49)
        assert (await post(send, json=body(text="4"), headers={"access_token": token}))[1]["error"] == -230
        fake.advance(hours=30)
        assert (await post(send, json=body(text="x"), headers={"access_token": token}))[1]["error"] == -216
        assert fake.texts(user) == ["Xin chào", "2"]
        assert len(fake.violations) == 2

        fake.expire_access_tokens()
        form["refresh_token"] = fake.issued_refresh_tokens[-1]
        token = (await post(fake.oauth_url, data=form, headers={"secret_key": fake.app_secret}))[1]["access_token"]
        upload = aiohttp.FormData()
        upload.add_field("file", b"%PDF-1.4", filename="ke-hoach.pdf", content_type="application/pdf")
        uploaded = (await post(f"{fake.url}/v2.0/oa/upload/file", data=upload, headers={"access_token": token}))[1]
        assert uploaded["error"] == 0 and uploaded["data"]["token"]
        quota = (await post(f"{fake.url}/v2.0/oa/quota/message", headers={"access_token": token}))[1]
        assert quota["data"]["remain"] == 1000
        detail_url = f"{fake.url}/v3.0/oa/user/detail?data=" + json.dumps({"user_id": user})
        detail = (await get(detail_url, headers={"access_token": token}))[1]
        assert detail["data"]["user_is_follower"] is True


async def test_zalo_bot_methods_and_limits() -> None:
    async with FakeZaloBot() as fake:
        api = f"{fake.base_url}/bot{fake.token}/"
        assert (await post(f"{fake.base_url}/bot1:wrong/getMe"))[0] == 401
        assert (await post(api + "getMe", data={}))[1]["result"]["account_type"] == "BASIC", "form bodies too"
        assert (await post(api + "sendDocument", json={"chat_id": "a", "document": "x"}))[0] == 404
        assert (await post(api + "getWebhookInfo", json={}))[0] == 404
        assert (await post(api + "setWebhook", json={"url": "http://example.org/h", "secret_token": "12345678"}))[
            0
        ] == 400
        assert (await post(api + "setWebhook", json={"url": "https://example.org/h", "secret_token": "short"}))[
            0
        ] == 400
        status, hook = await post(api + "setWebhook", json={"url": "https://example.org/h", "secret_token": "12345678"})
        assert status == 200 and hook["result"]["url"] == "https://example.org/h"
        assert (await post(api + "getUpdates", json={"timeout": "1"}))[0] == 409
        assert (await post(api + "deleteWebhook", json={}))[1]["result"]["url"] == ""

        idle = await post(api + "getUpdates", json={"timeout": "0"})
        assert idle == (408, {"ok": False, "error_code": 408, "description": "Request timeout"})
        await fake.send_text("c1", "xin chào")
        status, update = await post(api + "getUpdates", json={"timeout": "1"})
        assert status == 200 and update["result"]["message"]["text"] == "xin chào", "one update, not a list"
        assert len(update["result"]["message"]["message_id"]) == 20

        assert (await post(api + "sendMessage", json={"chat_id": "c1", "text": "x" * 2001}))[0] == 400
        assert (await post(api + "sendMessage", json={"chat_id": "nobody", "text": "x"}))[0] == 400
        assert (await post(api + "sendMessage", json={"chat_id": "c1", "text": "Chào bạn"}))[0] == 200
        assert (await post(api + "sendPhoto", json={"chat_id": "c1", "photo": "https://p.zdn.vn/a.png"}))[0] == 200
        assert fake.texts("c1") == ["Chào bạn"]

        for n in range(zalo_bot_server.MAX_USERS + 5):
            await fake.send_text(f"u{n}", "hi")
        assert fake.pending == zalo_bot_server.MAX_USERS - 1, "the free plan serves 50 users"
        fake.messages_this_month = zalo_bot_server.MONTHLY_MESSAGES
        assert (await post(api + "sendMessage", json={"chat_id": "c1", "text": "x"}))[0] == 429
