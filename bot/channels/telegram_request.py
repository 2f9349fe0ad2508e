"""python-telegram-bot's HTTP seam on aiohttp: several times faster than its httpx default under load."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


def _timeout(value: Any, default: float | None) -> float | None:
    """PTB passes DEFAULT_NONE for "not given"; numbers and None are real choices."""
    return value if value is None or isinstance(value, int | float) else default


JSON = {"Content-Type": "application/json"}


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
        if self._client is None:
            await self.initialize()
        assert self._client is not None
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
