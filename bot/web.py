"""The one web application: every channel's webhook at a fixed path, signed download links, and /healthz.

POST /webhooks/telegram    Telegram webhook mode (X-Telegram-Bot-Api-Secret-Token)
POST /webhooks/zalo-oa     Zalo Official Account events (X-ZEvent-Signature)
POST /webhooks/zalo-bot    Zalo Bot webhook mode (X-Bot-Api-Secret-Token)
GET  /exports/<id>?exp=…&sig=…   a file behind a time-limited signed link
GET  /healthz              which channels run (the process is alive)
GET  /readyz               200 when the database answers, 503 otherwise (the process can serve)
/web/…, /ketqua/…          the Justice Office's dashboard and the public results (dashboard/), mounted by bot.app
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import quote

from aiohttp import web

from bot.channels.base import Channel
from bot.links import ROUTE, DownloadLinks, LinkExpired, LinkRefused

log = logging.getLogger(__name__)

LINK_EXPIRED = "Đường dẫn tải tệp này đã hết hạn. Hãy gõ lại lệnh xuất kết quả trong chat để nhận đường dẫn mới."
LINK_REFUSED = "Đường dẫn tải tệp không đúng. Hãy dùng đúng đường dẫn bot đã gửi, không sửa gì trong đó."


class WebServer:
    def __init__(
        self,
        host: str,
        port: int,
        channels: Sequence[Channel],
        links: DownloadLinks,
        ready: Callable[[], Awaitable[bool]] | None = None,
        mounted: Sequence[tuple[str, web.Application]] = (),
    ) -> None:
        self.host, self.port = host, port
        self.ready = ready
        self.channels = list(channels)
        self.links = links
        self.app = web.Application()
        self.app.router.add_get("/healthz", self.health)
        self.app.router.add_get("/readyz", self.readiness)
        self.app.router.add_get(ROUTE, self.download)
        for channel in self.channels:
            self.app.router.add_routes(channel.routes())
        for prefix, app in mounted:
            self.app.router.add_get(prefix, self.slash)
            self.app.add_subapp(prefix + "/", app)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        names = ", ".join(c.name for c in self.channels) or "no channel"
        log.info("web app on http://%s:%d (%s)", self.host, self.port, names)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def channel(self, name: str) -> Channel:
        return next(c for c in self.channels if c.name == name)

    async def slash(self, request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently(request.path + "/")

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "channels": [c.name for c in self.channels]})

    async def readiness(self, request: web.Request) -> web.Response:
        if self.ready is None or await self.ready():
            return web.json_response({"status": "ready"})
        return web.json_response({"status": "database unavailable"}, status=503)

    async def download(self, request: web.Request) -> web.StreamResponse:
        try:
            path = self.links.open(
                request.match_info["file_id"], request.query.get("exp", ""), request.query.get("sig", "")
            )
        except LinkExpired:
            return web.Response(status=410, text=LINK_EXPIRED)
        except LinkRefused:
            log.warning("refused a download link from %s: altered or unknown", request.remote)
            return web.Response(status=403, text=LINK_REFUSED)
        disposition = f"attachment; filename*=UTF-8''{quote(path.name)}"
        return web.FileResponse(path, headers={"Content-Disposition": disposition})
