"""python-telegram-bot's HTTP seam on aiohttp: several times faster than its httpx default under load. It also makes
the channel's plain Bot API calls (`AiohttpRequest.call`: a JSON body in, the result's JSON out, no RequestData and
no PTB object of the result), which fail with the errors PTB raises for the same answer (`api_error`)."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import aiohttp
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.request import BaseRequest, RequestData


def _timeout(value: Any, default: float | None) -> float | None:
    """PTB passes DEFAULT_NONE for "not given"; numbers and None are real choices."""
    return value if value is None or isinstance(value, int | float) else default


JSON = {"Content-Type": "application/json"}


def api_error(status: int, payload: bytes) -> TelegramError:
    """The error of a Bot API answer that is not a success, as PTB's BaseRequest makes it: the answer's
    description (`{"ok": false, "error_code": …, "description": …, "parameters": {"retry_after": …}}`), a rate
    limit or a moved group by its parameters, the rest by the HTTP status."""
    try:
        message = f"{HTTPStatus(status).phrase} ({status})"
    except ValueError:
        message = f"Unknown HTTPError ({status})"
    try:
        answer = json.loads(payload)
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        message = answer.get("description") or message
        parameters = answer.get("parameters") or {}
        if parameters.get("migrate_to_chat_id"):
            return ChatMigrated(parameters["migrate_to_chat_id"])
        if parameters.get("retry_after"):
            return RetryAfter(parameters["retry_after"])
    if status == HTTPStatus.FORBIDDEN:
        return Forbidden(message)
    if status in (HTTPStatus.NOT_FOUND, HTTPStatus.UNAUTHORIZED):
        return InvalidToken(message)
    if status == HTTPStatus.BAD_REQUEST:
        return BadRequest(message)
    if status == HTTPStatus.CONFLICT:
        return Conflict(message)
    return NetworkError(message)


class AiohttpRequest(BaseRequest):
    def __init__(self, pool_size: int = 256, read_timeout: float | None = 10.0, connect_timeout: float | None = 10.0):
        self._pool_size = pool_size
        self._read = read_timeout
        self._connect = connect_timeout
        self._client: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._client is None or self._client.closed:
            self._client = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=self._pool_size))

    async def shutdown(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        data: Any = None
        headers: dict[str, str] | None = None
        if request_data is not None and request_data.contains_files:
            data = aiohttp.FormData()
            for key, value in request_data.json_parameters.items():
                data.add_field(key, value)
            for key, (filename, content, mime) in request_data.multipart_data.items():
                data.add_field(key, content, filename=filename, content_type=mime)
        elif request_data is not None:  # a JSON body: no form to build, no boundary to draw, no field to quote
            data, headers = json.dumps(request_data.parameters, ensure_ascii=False).encode(), JSON
        return await self._request(url, method, data, headers, read_timeout, connect_timeout)

    async def call(self, url: str, params: dict[str, Any]) -> bytes:
        """One Bot API call with these parameters as its JSON body: the answer's bytes (`{"ok": true, "result": …}`,
        left unread by a caller that does not need the result), or the error PTB would raise for it."""
        body = json.dumps(params, ensure_ascii=False).encode()
        status, payload = await self._request(url, "POST", body, JSON)
        if HTTPStatus.OK <= status <= 299:
            return payload
        raise api_error(status, payload)

    async def _request(
        self,
        url: str,
        method: str,
        data: Any,
        headers: dict[str, str] | None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._client is None:
            await self.initialize()
        assert self._client is not None
        read = _timeout(read_timeout, self._read)
        timeout = aiohttp.ClientTimeout(
            sock_connect=_timeout(connect_timeout, self._connect), sock_read=read + 5 if read is not None else None
        )
        try:
            async with self._client.request(method, url, data=data, headers=headers, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp: {exc!r}") from exc
