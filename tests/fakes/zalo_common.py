"""What the fake Zalo servers share: request parameters from JSON or a form, Zalo-style ids and times."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from aiohttp import web


def hex_id(length: int = 20) -> str:
    """An opaque id in Zalo's style, e.g. "2d758cb5e222177a4e35"."""
    return secrets.token_hex(length // 2)


def now_ms() -> int:
    return int(time.time() * 1000)


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))


async def read_params(request: web.Request) -> dict[str, Any]:
    """Query parameters plus a JSON object or form body; ValueError when the body is neither."""
    params: dict[str, Any] = dict(request.query)
    if not request.body_exists:
        return params
    if request.content_type == "application/json":
        body = json.loads(await request.text())
        if not isinstance(body, dict):
            raise ValueError("the JSON body must be an object")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        params.update(await request.post())
    else:
        raise ValueError(f"unsupported Content-Type {request.content_type!r}")
    return params
