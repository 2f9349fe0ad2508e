"""A fake Telegram Bot API server for offline end-to-end tests, as a package of small modules.

``FakeTelegram`` is a small aiohttp server that speaks enough of the Bot API for python-telegram-bot
(PTB) to run against it unchanged (``Bot(token, base_url=tg.base_url, base_file_url=tg.base_file_url)``).
Every request is recorded in :attr:`FakeTelegram.calls` and validated against the machine-readable
Bot API spec (``tests/fixtures/telegram-bot-api/``); problems end up in
:attr:`FakeTelegram.violations` so that a test can finish with :meth:`FakeTelegram.assert_no_violations`.

The test side injects user activity with plain (synchronous) methods such as
:meth:`FakeTelegram.send_text` and :meth:`FakeTelegram.press_button`, and inspects what the bot sent with
:meth:`FakeTelegram.messages`.  All of it must be used from the event loop that runs the server and the
bot under test.

Behaviour worth knowing (all modelled on the real Bot API):

* ``editMessageText`` without ``reply_markup`` removes the inline keyboard; an edit that changes
  nothing fails with ``400 Bad Request: message is not modified``.
* Sending to a chat that never talked to the bot fails with ``400 Bad Request: chat not found``;
  register users with :meth:`FakeTelegram.add_user` (or any ``send_*`` injection) first.
  :meth:`FakeTelegram.block` makes sends to a user fail with ``403 Forbidden: bot was blocked by the user``.
* Answering a callback query twice, or an unknown one, fails with ``400`` like Telegram does.
* A second ``getUpdates`` terminates a pending one with ``409 Conflict``; while a webhook is set,
  ``getUpdates`` answers ``409`` and injected updates are POSTed to the webhook URL instead.
* Spec problems are only recorded and the call still succeeds (unless ``reject_invalid=True``), except
  a missing required parameter, which always gives ``400``.  Unknown parameters are ignored by
  Telegram, so they are only recorded, never rejected.

Modules, from the bottom up: ``constants`` (limits, Telegram's error texts), ``records`` (what is recorded),
``formatting`` (Telegram HTML), ``wire`` (small helpers), ``state`` (updates, chats, messages, files), ``validation``
(against the Bot API description), ``methods`` (the Bot API methods), ``testing`` (the test API) and ``server``
(lifecycle and HTTP), each class built on the one before.
"""

from tests.fakes.telegram.constants import DEFAULT_SPEC_PATH, DEFAULT_TOKEN
from tests.fakes.telegram.formatting import ParsedText, parse_telegram_html
from tests.fakes.telegram.records import ApiCall, BotMessage, UploadedFile, WebhookDelivery
from tests.fakes.telegram.server import FakeTelegram

__all__ = [
    "DEFAULT_SPEC_PATH",
    "DEFAULT_TOKEN",
    "ApiCall",
    "BotMessage",
    "FakeTelegram",
    "ParsedText",
    "UploadedFile",
    "WebhookDelivery",
    "parse_telegram_html",
]
