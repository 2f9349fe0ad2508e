"""What the two Zalo channels share: plain-text rendering under Zalo's 2,000-character limit, files as links, and
reading the files people send."""

from __future__ import annotations

import aiohttp

from bot.links import DownloadLinks
from bot.messages import Document, Reply
from bot.render import plain, split_text
from conversations.engine import Outgoing

TEXT_LIMIT = 2000
DOWNLOAD_LIMIT = 20 * 1024 * 1024
"""Zalo itself takes files of up to 25 MB; what the bot reads from a user (a workbook, a unit list) is far smaller."""


def answer_line(count: int) -> str:
    """How to answer a numbered list, for people who cannot tap a button."""
    if count == 1:
        return "Trả lời 1."
    if count <= 3:
        return "Trả lời " + ", ".join(str(n) for n in range(1, count)) + f" hoặc {count}."
    return f"Trả lời bằng một số từ 1 đến {count}."


def text_of(message: Outgoing) -> str:
    text = plain(message)
    return f"{text}\n{answer_line(len(message.choices))}" if message.choices else text


async def download(http: aiohttp.ClientSession | None, url: str) -> bytes:
    """The bytes of a file a person sent: Zalo puts a download link in the (signed) event. At most
    DOWNLOAD_LIMIT + 1 bytes are read, so that a file too large is seen as too large without being held whole."""
    if http is None:
        raise RuntimeError("the Zalo channel is not started")
    async with http.get(url, timeout=aiohttp.ClientTimeout(total=60)) as response:
        response.raise_for_status()
        content = bytearray()
        async for chunk in response.content.iter_chunked(64 * 1024):
            content += chunk
            if len(content) > DOWNLOAD_LIMIT:
                break
        return bytes(content)


def pieces(reply: Reply, links: DownloadLinks) -> list[str]:
    """A reply as the texts to send: files become a signed download link."""
    text = links.publish(reply) if isinstance(reply, Document) else text_of(reply)
    return split_text(text, TEXT_LIMIT)
