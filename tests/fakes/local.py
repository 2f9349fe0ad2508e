"""What every fake platform server is: an aiohttp app on 127.0.0.1 at a free port; and a free port for the web app
under test."""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Self

from aiohttp import web


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now (for a web app that must know its URL up front)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalServer:
    """An aiohttp app on 127.0.0.1 at a free port; subclasses add their routes in `setup`. It also serves the files
    a test hosts (`host_file`) at /files/<name>, as Zalo's file servers serve the attachments users send."""

    client_max_size = 32 * 1024 * 1024

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._files: dict[str, tuple[bytes, str]] = {}

    def host_file(self, data: bytes, extension: str) -> str:
        name = f"{len(self._files) + 1}.{extension}"
        self._files[name] = (data, "image/png" if extension == "png" else "application/octet-stream")
        return f"{self.url}/files/{name}"

    async def _file(self, request: web.Request) -> web.Response:
        found = self._files.get(request.match_info["name"])
        if found is None:
            return web.Response(status=404)
        return web.Response(body=found[0], content_type=found[1])

    def setup(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        app = web.Application(client_max_size=self.client_max_size)
        app.router.add_get("/files/{name}", self._file)
        self.setup(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the fake server is not running")
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
