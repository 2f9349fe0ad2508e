"""The Bot API methods the fake implements."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json

from tests.fakes.telegram.constants import (
    _CONFLICT_POLL,
    _CONFLICT_WEBHOOK,
    _NOT_MODIFIED,
    _QUERY_TOO_OLD,
    JSONDict,
    _Handler,
)
from tests.fakes.telegram.records import UploadedFile, _ApiError
from tests.fakes.telegram.validation import Validation


class Methods(Validation):
    """The Bot API methods the bot uses, as Telegram answers them."""

    @functools.cached_property
    def _handlers(self) -> dict[str, _Handler]:
        return {
            "getMe": self._get_me,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
            "deleteMessage": self._delete_message,
        }

    # -----------------------------------------------------------------------------------------------
    # Method implementations
    # ------------------------------------------------------------------------------------------------

    async def _get_me(self, params: JSONDict) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _delete_webhook(self, params: JSONDict) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _set_webhook(self, params: JSONDict) -> bool:
        url = params.get("url")
        if not url:
            return await self._delete_webhook(params)
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "max_connections": params.get("max_connections", 40),
            "allowed_updates": params.get("allowed_updates"),
            "last_error_date": None,
            "last_error_message": None,
        }
        if "allowed_updates" in params:
            self._allowed_updates = params["allowed_updates"] or None
        self._notify()  # terminates pending long polls
        self._schedule_webhook()
        return True

    async def _get_webhook_info(self, params: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook["url"] if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info["max_connections"] = self.webhook["max_connections"]
            if self.webhook["allowed_updates"] is not None:
                info["allowed_updates"] = self.webhook["allowed_updates"]
            if self.webhook["last_error_date"] is not None:
                info["last_error_date"] = self.webhook["last_error_date"]
                info["last_error_message"] = self.webhook["last_error_message"]
        return info

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook is not None:
            raise _ApiError(409, _CONFLICT_WEBHOOK)
        if "allowed_updates" in params and isinstance(params["allowed_updates"], list):
            self._allowed_updates = params["allowed_updates"] or None
        offset = params.get("offset")
        if isinstance(offset, int):
            self._confirm(offset)
        limit = params.get("limit", 100)
        limit = max(1, min(100, limit)) if isinstance(limit, int) else 100
        timeout = params.get("timeout", 0)
        timeout = max(0.0, float(timeout)) if isinstance(timeout, int | float) else 0.0

        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()  # wakes (and thereby terminates) an older pending poll
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            event = self._changed
            if generation != self._poll_generation:
                raise _ApiError(409, _CONFLICT_POLL)
            if self.webhook is not None:
                raise _ApiError(409, _CONFLICT_WEBHOOK)
            batch = self._select_updates(limit)
            if batch or self._closing:
                return batch
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def _send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        content = self._render("text", params["text"], params.get("parse_mode"), params.get("entities"))
        msg = self._new_bot_message(chat_id, params, content)
        msg.text = params["text"]
        return msg.raw

    async def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        if "inline_message_id" in params:
            return True
        msg = self._editable_message(params)
        content = self._render("text", params["text"], params.get("parse_mode"), params.get("entities"))
        if "text" not in msg.raw:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        markup = params.get("reply_markup")
        if msg.text == params["text"] and msg.parse_mode == params.get("parse_mode") and msg.reply_markup == markup:
            raise _ApiError(400, _NOT_MODIFIED)
        msg.text = params["text"]
        msg.parse_mode = params.get("parse_mode")
        msg.raw.pop("entities", None)
        msg.raw.update(content)
        self._apply_edit(msg, markup)
        return msg.raw

    async def _edit_message_reply_markup(self, params: JSONDict) -> JSONDict | bool:
        if "inline_message_id" in params:
            return True
        msg = self._editable_message(params)
        markup = params.get("reply_markup")
        if msg.reply_markup == markup:
            raise _ApiError(400, _NOT_MODIFIED)
        self._apply_edit(msg, markup)
        return msg.raw

    async def _delete_message(self, params: JSONDict) -> bool:
        chat_id = self._target_chat(params)
        for msg in self._bot_messages.get(chat_id, []):
            if msg.message_id == params.get("message_id") and not msg.deleted:
                msg.deleted = True
                self._notify()
                return True
        if self._user_messages.pop((chat_id, params.get("message_id", 0)), None) is not None:
            return True
        raise _ApiError(400, "Bad Request: message to delete not found")

    async def _answer_callback_query(self, params: JSONDict) -> bool:
        query_id = str(params["callback_query_id"])
        if self._callbacks.get(query_id, True):
            raise _ApiError(400, _QUERY_TOO_OLD)
        self._callbacks[query_id] = True
        self.answered_callbacks.append(dict(params))
        self._notify()
        return True

    async def _send_document(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        stored = self._stored_from_param(params["document"], "documents")
        content: JSONDict = {"document": self._document_dict(stored)}
        content.update(self._caption_content(params))
        msg = self._new_bot_message(chat_id, params, content)
        msg.document = UploadedFile(stored.file_name or "document", stored.data, stored.mime_type)
        msg.caption = params.get("caption")
        return msg.raw

    async def _send_photo(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        value = params["photo"]
        if isinstance(value, UploadedFile):
            sizes = self._photo_sizes(value.data, value.mime_type)
            data = value.data
        else:
            stored = self._stored_from_param(value, "photos")
            sizes, data = self._photo_sizes(stored.data, stored.mime_type), stored.data
        content: JSONDict = {"photo": sizes}
        content.update(self._caption_content(params))
        msg = self._new_bot_message(chat_id, params, content)
        msg.photo = data
        msg.caption = params.get("caption")
        return msg.raw

    async def _get_file(self, params: JSONDict) -> JSONDict:
        stored = self._files.get(str(params["file_id"]))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    @staticmethod
    def _commands_key(params: JSONDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _set_my_commands(self, params: JSONDict) -> bool:
        self.commands[self._commands_key(params)] = list(params["commands"])
        return True

    async def _get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: JSONDict) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _send_chat_action(self, params: JSONDict) -> bool:
        self._target_chat(params)
        return True
