"""Floor 1: an echo bot on python-telegram-bot at its fastest (the project's AiohttpRequest, concurrent updates, a
batch fetched by getUpdates handled at once before the next poll), as a Telegram bot on PTB would be built.
The survey bot's channel reads updates and makes its frequent calls as plain JSON (bot/channels/telegram.py), so what
it costs above this floor is its own work: the engine, the database, the rendering."""

from __future__ import annotations

import asyncio
import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.channels.telegram_request import AiohttpRequest


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.message is not None and update.message.text is not None:
        await update.message.reply_text(update.message.text)


async def main() -> None:
    app = (
        Application.builder()
        .token("42:bench")
        .base_url(os.environ["PBGDPL_TELEGRAM_BASE_URL"])
        .request(AiohttpRequest())
        .get_updates_request(AiohttpRequest(pool_size=2, read_timeout=40))
        .concurrent_updates(True)
        .updater(None)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        await app.start()
        offset: int | None = None
        while True:
            updates = await app.bot.get_updates(offset=offset, timeout=30)
            if updates:
                await asyncio.gather(*(app.process_update(update) for update in updates))
                offset = updates[-1].update_id + 1


if __name__ == "__main__":
    asyncio.run(main())
