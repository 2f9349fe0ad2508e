"""Checking each call against the machine-readable Bot API description."""

from __future__ import annotations

from typing import Any

from tests.fakes.telegram.constants import (
    _CHAT_ACTIONS,
    _COMMAND_RE,
    _INLINE_BUTTON_ACTIONS,
    _PARSE_MODES,
    _SECRET_TOKEN_RE,
    MAX_CALLBACK_ANSWER_LENGTH,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    JSONDict,
)
from tests.fakes.telegram.formatting import parse_telegram_html
from tests.fakes.telegram.records import UploadedFile
from tests.fakes.telegram.state import State
from tests.fakes.telegram.wire import _iter_strings, _type_name


class Validation(State):
    """Every call checked against the Bot API description (types, limits, markup, commands)."""

    # -----------------------------------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------------------------------------

    def _check_fields(self, spec: JSONDict, params: JSONDict, ignored: list[str], missing: list[str]) -> list[str]:
        """Unknown parameters go to ``ignored``, missing required ones to ``missing``; returns type errors."""
        fields = {f["name"]: f for f in spec.get("fields", [])}
        attached = {s.removeprefix("attach://") for s in _iter_strings(params) if s.startswith("attach://")}
        blocking: list[str] = []
        for name, value in params.items():
            if name in attached and isinstance(value, UploadedFile):
                continue
            if name not in fields:
                ignored.append(f"unknown parameter {name!r}")
                continue
            blocking.extend(self._type_errors(value, fields[name]["types"], name, 0))
        for name, fdef in fields.items():
            if fdef["required"] and name not in params:
                missing.append(f"missing required parameter {name!r}")
        return blocking

    def _type_errors(self, value: Any, types: list[str], path: str, depth: int) -> list[str]:
        best: list[str] | None = None
        for type_name in types:
            errors = self._type_errors_one(value, type_name, path, depth)
            if not errors:
                return []
            if best is None or len(errors) < len(best):
                best = errors
        return best or []

    def _type_errors_one(self, value: Any, type_name: str, path: str, depth: int) -> list[str]:
        def wrong() -> list[str]:
            return [f"{path}: expected {type_name}, got {_type_name(value)} {value!r:.60}"]

        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                return wrong()
            inner = type_name.removeprefix("Array of ")
            errors: list[str] = []
            for index, item in enumerate(value):
                errors.extend(self._type_errors_one(item, inner, f"{path}[{index}]", depth))
            return errors
        if type_name == "Integer":
            return [] if isinstance(value, int) and not isinstance(value, bool) else wrong()
        if type_name == "Float":
            return [] if isinstance(value, int | float) and not isinstance(value, bool) else wrong()
        if type_name == "Boolean":
            return [] if isinstance(value, bool) else wrong()
        if type_name == "String":
            return [] if isinstance(value, str) else wrong()
        if type_name == "InputFile":
            return [] if isinstance(value, UploadedFile) else wrong()
        if not isinstance(value, dict):
            return wrong()
        tdef = self._spec_types.get(type_name)
        if tdef is None or depth > 12:
            return []
        if "subtypes" in tdef:
            return self._type_errors(value, list(tdef["subtypes"]), path, depth + 1)
        fields = {f["name"]: f for f in tdef.get("fields", [])}
        if not fields:
            return []
        errors = [f"{path}: unknown field {name!r} for {type_name}" for name in value if name not in fields]
        for name, fdef in fields.items():
            if name in value:
                errors.extend(self._type_errors(value[name], fdef["types"], f"{path}.{name}", depth + 1))
            elif fdef["required"]:
                errors.append(f"{path}: missing required field {name!r} of {type_name}")
        return errors

    def _check_semantics(self, method: str, params: JSONDict) -> list[str]:
        problems: list[str] = []
        parse_mode = params.get("parse_mode")
        if isinstance(parse_mode, str) and parse_mode.lower() not in _PARSE_MODES:
            problems.append(f"unknown parse_mode {parse_mode!r}")
        if method in ("sendMessage", "editMessageText") and isinstance(params.get("text"), str):
            problems.extend(self._check_text(params["text"], parse_mode, "text", MAX_TEXT_LENGTH, required=True))
        if isinstance(params.get("caption"), str):
            problems.extend(self._check_text(params["caption"], parse_mode, "caption", MAX_CAPTION_LENGTH))
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            problems.extend(self._check_markup(markup))
        if method == "answerCallbackQuery":
            text = params.get("text")
            if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
                problems.append(f"callback answer text is {len(text)} characters (max {MAX_CALLBACK_ANSWER_LENGTH})")
        if method == "setMyCommands" and isinstance(params.get("commands"), list):
            problems.extend(self._check_commands(params["commands"]))
        if method == "setWebhook":
            secret = params.get("secret_token")
            if isinstance(secret, str) and not _SECRET_TOKEN_RE.fullmatch(secret):
                problems.append("secret_token must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        if method == "sendChatAction" and "action" in params and params["action"] not in _CHAT_ACTIONS:
            problems.append(f"unknown chat action {params.get('action')!r}")
        return problems

    @staticmethod
    def _check_text(text: str, parse_mode: Any, what: str, limit: int, *, required: bool = False) -> list[str]:
        problems: list[str] = []
        plain = text
        if isinstance(parse_mode, str) and parse_mode.lower() == "html":
            parsed = parse_telegram_html(text)
            plain = parsed.text
            problems.extend(f"{what} HTML: {p}" for p in parsed.problems)
        if required and not plain.strip():
            problems.append(f"{what} is empty after entity parsing")
        if len(plain) > limit:
            problems.append(f"{what} is {len(plain)} characters after entity parsing (max {limit})")
        return problems

    @staticmethod
    def _check_markup(markup: JSONDict) -> list[str]:
        problems: list[str] = []
        for kind in ("inline_keyboard", "keyboard"):
            rows = markup.get(kind)
            if not isinstance(rows, list):
                continue
            for r, row in enumerate(rows):
                for c, button in enumerate(row if isinstance(row, list) else []):
                    where = f"{kind}[{r}][{c}]"
                    if isinstance(button, str):  # plain-string reply keyboard buttons are allowed
                        button = {"text": button}
                    if not isinstance(button, dict):
                        continue
                    text = button.get("text")
                    if not isinstance(text, str) or not text.strip():
                        problems.append(f"{where}: button text must be non-empty")
                    if kind == "keyboard":
                        continue
                    data = button.get("callback_data")
                    if isinstance(data, str):
                        size = len(data.encode("utf-8"))
                        if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                            problems.append(
                                f"{where}: callback_data {data!r} is {size} bytes UTF-8 "
                                f"(allowed 1-{MAX_CALLBACK_DATA_BYTES})"
                            )
                    actions = [a for a in _INLINE_BUTTON_ACTIONS if a in button]
                    if len(actions) != 1:
                        problems.append(f"{where}: an inline button needs exactly one action field, has {actions}")
        return problems

    @staticmethod
    def _check_commands(commands: list[Any]) -> list[str]:
        problems: list[str] = []
        if len(commands) > 100:
            problems.append(f"{len(commands)} commands (max 100)")
        for index, cmd in enumerate(commands):
            if not isinstance(cmd, dict):
                continue
            name, description = cmd.get("command"), cmd.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.fullmatch(name):
                problems.append(f"commands[{index}]: command {name!r} must be 1-32 of a-z, 0-9 and _")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                problems.append(f"commands[{index}]: description must be 1-256 characters")
        return problems

    def _take_fault(self, method: str) -> tuple[int, str, JSONDict | None] | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.popleft()
        parameters = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
        return fault.status, fault.description, parameters
