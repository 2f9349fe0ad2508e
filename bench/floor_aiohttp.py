"""Floor 2: the least a Telegram bot can do per message, a plain aiohttp getUpdates/sendMessage long-poll loop
(no framework, no objects: JSON in, JSON out)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import aiohttp


async def reply(http: aiohttp.ClientSession, base: str, message: dict[str, Any]) -> None:
    payload = {"chat_id": message["chat"]["id"], "text": message["text"]}
    async with http.post(f"{base}/sendMessage", json=payload) as response:
        await response.read()


async def main() -> None:
    base = os.environ["PBGDPL_TELEGRAM_BASE_URL"] + "42:bench"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as http:
        offset = 0
        while True:
            async with http.post(f"{base}/getUpdates", json={"offset": offset, "timeout": 30}) as response:
                updates = (await response.json())["result"]
            messages = [u["message"] for u in updates if "text" in u.get("message", {})]
            await asyncio.gather(*(reply(http, base, message) for message in messages))
            if updates:
                offset = updates[-1]["update_id"] + 1


if __name__ == "__main__":
    asyncio.run(main())
