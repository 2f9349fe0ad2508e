"""The fake Bot API server: its lifecycle and HTTP handlers, over the methods, validation and state."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import aiohttp
from aiohttp import web

from tests.fakes.telegram.constants import _INT_RE, JSONDict
from tests.fakes.telegram.records import ApiCall, UploadedFile, _ApiError
from tests.fakes.telegram.testing import TestApi
from tests.fakes.telegram.wire import _error_body, _json_response


class FakeTelegram(TestApi):
    """Fake Bot API server on ``127.0.0.1`` (free port) with a test API; see the package docstring."""

    client_max_size = 64 * 1024 * 1024

    # -----------------------------------------------------------------------------------------------
    # Lifecycle
    # ------------------------------------------------------------------------------------------------

    def setup(self, app: web.Application) -> None:
        for verb in ("GET", "POST"):
            app.router.add_route(verb, "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)

    async def start(self) -> None:
        """Start listening on 127.0.0.1 on a free port."""
        if self._runner is not None:
            raise RuntimeError("FakeTelegram is already running")
        self._closing = False
        await super().start()

    async def stop(self) -> None:
        """Stop the server; pending long polls return at once."""
        self._closing = True
        self._notify()
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await super().stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/bot`` (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """``http://127.0.0.1:PORT/file/bot`` (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -----------------------------------------------------------------------------------------------
    # HTTP handlers
    # ------------------------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _json_response(_error_body(401, "Unauthorized"), 401)
        requested = request.match_info["method"]
        method = self._method_names.get(requested.lower(), requested)
        problems: list[str] = []
        try:
            raw = await self._read_params(request, problems)
        except ValueError as exc:
            self.violations.append(f"{method}: {exc}")
            self.calls.append(ApiCall(method, {}, time.monotonic()))
            self._notify()
            return _json_response(_error_body(400, f"Bad Request: {exc}"), 400)

        spec = self._spec_methods.get(method)
        params = self._decode_params(method, raw, spec, problems)
        self.calls.append(ApiCall(method, params, time.monotonic()))
        self._notify()
        if spec is None:
            self.violations.append(f"{requested}: unknown Bot API method")
            return _json_response(_error_body(404, "Not Found"), 404)

        ignored: list[str] = []  # problems Telegram itself ignores (unknown parameters)
        missing: list[str] = []
        blocking = problems + self._check_fields(spec, params, ignored, missing) + self._check_semantics(method, params)
        self.violations.extend(f"{method}: {p}" for p in ignored + missing + blocking)

        network = self._network_faults.get(method)
        if network:
            kind, seconds = network.popleft()
            if kind == "drop":
                if request.transport is not None:
                    request.transport.close()
                raise asyncio.CancelledError
            await asyncio.sleep(seconds)
        fault = self._take_fault(method)
        if fault is not None:
            return _json_response(_error_body(*fault), fault[0])
        if missing or (self.reject_invalid and blocking):
            return _json_response(_error_body(400, f"Bad Request: {(missing + blocking)[0]}"), 400)

        handler = self._handlers.get(method)
        try:
            if handler is not None:
                result = await handler(params)
            elif spec.get("returns") == ["Boolean"]:
                result = True
            else:
                self.violations.append(f"{method}: not implemented by FakeTelegram")
                raise _ApiError(400, f"Bad Request: method {method} is not implemented by FakeTelegram")
        except _ApiError as err:
            return _json_response(_error_body(err.status, err.description, err.parameters), err.status)
        except Exception as exc:  # malformed input the validation let through; never a 500
            self.violations.append(f"{method}: FakeTelegram could not handle the request: {exc!r}")
            return _json_response(_error_body(400, f"Bad Request: {exc}"), 400)
        return _json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _json_response(_error_body(401, "Unauthorized"), 401)
        stored = self._files_by_path.get(request.match_info["path"])
        if stored is None:
            return _json_response(_error_body(404, "Not Found"), 404)
        return web.Response(body=stored.data, content_type=stored.mime_type)

    async def _read_params(self, request: web.Request, problems: list[str]) -> JSONDict:
        """Raw parameters: strings (query, form, multipart), typed values (JSON body), UploadedFile parts."""
        params: JSONDict = dict(request.query)
        if not request.body_exists:
            return params
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = json.loads(await request.text())
            except ValueError as exc:
                raise ValueError(f"request body is not valid JSON: {exc}") from None
            if not isinstance(body, dict):
                raise ValueError("JSON request body must be an object")
            params.update(body)
        elif ctype == "application/x-www-form-urlencoded":
            params.update(await request.post())
        elif ctype == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    problems.append("unexpected nested or unnamed multipart part")
                    continue
                data = bytes(await part.read(decode=True))
                if part.filename is not None:
                    mime = part.headers.get(aiohttp.hdrs.CONTENT_TYPE, "application/octet-stream")
                    params[part.name] = UploadedFile(part.filename, data, mime)
                else:
                    params[part.name] = data.decode(part.get_charset(default="utf-8"))
        else:
            problems.append(f"unsupported Content-Type {ctype!r}")
        return params

    def _decode_params(self, method: str, raw: JSONDict, spec: JSONDict | None, problems: list[str]) -> JSONDict:
        """Decode JSON-encoded form values where the spec type is not String (``chat_id=123`` -> 123)."""
        types_by_name = {f["name"]: f["types"] for f in (spec or {}).get("fields", [])}
        params: JSONDict = {}
        for name, value in raw.items():
            types: list[str] | None = types_by_name.get(name)
            if not isinstance(value, str) or types is None:
                params[name] = value
            elif "String" in types:
                params[name] = int(value) if "Integer" in types and _INT_RE.fullmatch(value) else value
            else:
                try:
                    params[name] = json.loads(value)
                except ValueError:
                    problems.append(f"parameter {name!r} is not valid JSON for type {' or '.join(types)}: {value!r}")
                    params[name] = value
        return params
