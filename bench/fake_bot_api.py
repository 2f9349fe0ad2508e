"""A lean Bot API server that is also the load generator: simulated citizens answer the survey as the bot replies.
It runs in its own process so that it does not share a CPU budget with the bot's event loop.

Each citizen sends "/start ks_<unit>" (half of them "/khaosat", then the unit's code at the picker), then "1" to every
question, then "nộp" at the review, waiting a random think time between MIN and MAX seconds after each reply (none
by default: a closed loop at full speed); in echo mode each citizen sends `rounds` messages and waits for each echo.
Latency is what the citizen sees: from the moment they send an answer (the update is queued for getUpdates) to
the bot's sendMessage that asks the next question. With --export-after, an admin (--admin) sends the export words
that many seconds after the start and the time until the bot sends them the file is measured.

With --webhooks, updates are not queued for getUpdates but posted, as Telegram does in webhook mode, to the given
bot processes' webhook URLs in turn (a round-robin in front of several processes), with the secret token each
registered by setWebhook, again until one answers 200; the run begins once every process has registered.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientError, ClientSession, TCPConnector, web

BOT = {"id": 42, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}


@dataclass
class Citizen:
    user_id: int
    sent: int = 0
    done: bool = False
    sent_at: float | None = None
    latencies: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class ExportAsk:
    admin: int
    words: str
    after: float
    """Seconds after the start."""


class LoadGenerator:
    def __init__(
        self, citizens: int, mode: str, unit: str, rounds: int, think: tuple[float, float], export: ExportAsk | None
    ) -> None:
        self.mode, self.unit, self.rounds, self.think, self.export = mode, unit, rounds, think, export
        self.export_asked = self.export_done = 0.0
        self.export_reply = ""
        self.exported = asyncio.Event()
        self.webhooks: list[str] = []
        self.registered = 0
        self.secret = ""
        self.turn = 0
        self.redeliveries = 0
        self.http: ClientSession | None = None
        self.deliveries: set[asyncio.Task[None]] = set()
        self.calls: Counter[str] = Counter()
        """Bot API calls by method, from the start."""
        self.fetched = 0
        """Updates returned by getUpdates from the start, those returned again included."""
        self.random = random.Random(979)
        self.citizens = {1_000_000 + n: Citizen(1_000_000 + n) for n in range(citizens)}
        self.queue: list[dict[str, Any]] = []
        self.update_id = 0
        self.message_id = 0
        self.arrived = asyncio.Event()
        self.started = 0.0
        self.finished = 0.0
        self.answers = 0
        self.all_done = asyncio.Event()
        self.polled = asyncio.Event()

    def push(self, citizen: Citizen, text: str) -> None:
        self.update_id += 1
        self.message_id += 1
        chat = {"id": citizen.user_id, "type": "private", "first_name": "Dân"}
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": citizen.user_id, "is_bot": False, "first_name": "Dân"},
            "text": text,
        }
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        update = {"update_id": self.update_id, "message": message}
        citizen.sent += 1
        citizen.sent_at = time.perf_counter()
        if self.webhooks:
            target = self.webhooks[self.turn % len(self.webhooks)]
            self.turn += 1
            task = asyncio.get_running_loop().create_task(self.deliver(target, update))
            self.deliveries.add(task)
            task.add_done_callback(self.deliveries.discard)
            return
        self.queue.append(update)
        self.arrived.set()

    async def deliver(self, target: str, update: dict[str, Any]) -> None:
        """Post an update to one process's webhook until it answers 200 (Telegram retries too)."""
        if self.http is None:
            self.http = ClientSession(connector=TCPConnector(limit=40))  # Telegram's default max_connections
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.secret}
        while True:
            try:
                async with self.http.post(target, json=update, headers=headers) as response:
                    if response.status == 200:
                        return
            except ClientError:
                pass
            self.redeliveries += 1
            await asyncio.sleep(0.2)

    def begin(self) -> None:
        """Everyone at once in a closed loop; with think time, people scan the QR code over the first interval."""
        self.started = time.perf_counter()
        loop = asyncio.get_running_loop()
        for citizen in self.citizens.values():
            first = "xin chào 0"
            if self.mode == "survey":  # half scan the unit's QR code, half type the command and pick the unit
                first = "/khaosat" if citizen.user_id % 2 else f"/start ks_{self.unit}"
            if self.think[1] > 0:
                loop.call_later(self.random.uniform(0, self.think[1]), self.push, citizen, first)
            else:
                self.push(citizen, first)
        if self.export is not None:
            loop.call_later(self.export.after, self.ask_export, self.export)

    def ask_export(self, export: ExportAsk) -> None:
        self.export_asked = time.perf_counter()
        self.push(Citizen(export.admin), export.words)

    def on_bot_message(self, chat_id: int, text: str) -> None:
        citizen = self.citizens.get(chat_id)
        if citizen is None or citizen.done:
            return
        if self.mode == "echo":
            next_text = f"xin chào {citizen.sent}" if citizen.sent < self.rounds else None
        elif "Đã nộp phiếu" in text:
            next_text = None
        elif text.startswith("Bạn đang sống hoặc tham gia hoạt động ở xã/phường nào?"):
            next_text = self.unit  # its code: the list's first unit may be one with another survey (a department)
        elif "Xem lại trước khi nộp" in text:
            next_text = "nộp"
        elif text.startswith("<b>Câu ") or text.startswith("Câu "):
            next_text = "1"
        else:
            return  # an intro or heading: the question follows
        if citizen.sent_at is not None:
            citizen.latencies.append(time.perf_counter() - citizen.sent_at)
        self.answers += 1
        if next_text is None:
            citizen.done = True
            if all(c.done for c in self.citizens.values()):
                self.finished = time.perf_counter()
                self.all_done.set()
            return
        if self.think[1] > 0:
            delay = self.random.uniform(*self.think)
            asyncio.get_running_loop().call_later(delay, self.push, citizen, next_text)
        else:
            self.push(citizen, next_text)

    async def get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.polled.set()
        offset = int(params.get("offset") or 0)  # as Telegram: confirms every update below it, returns the rest
        if offset > 0:
            self.queue = [u for u in self.queue if u["update_id"] >= offset]
        elif offset < 0:  # the last -offset updates; the ones before are forgotten
            self.queue = self.queue[offset:]
        if not self.queue:
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), float(params.get("timeout") or 0))
            except TimeoutError:
                return []
        batch = self.queue[: int(params.get("limit") or 100)]
        if self.started:
            self.fetched += len(batch)
        return batch

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if self.started:
            self.calls[method] += 1
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                params.update(await request.post())
        result: Any = True
        if method == "getMe":
            result = BOT
        elif method == "setWebhook":
            self.secret = str(params.get("secret_token", ""))  # the processes share one secret
            self.registered += 1
            if self.registered >= len(self.webhooks):
                self.polled.set()
        elif method == "getUpdates":
            result = await self.get_updates(params)
        elif method == "sendDocument" and self.export is not None and int(params["chat_id"]) == self.export.admin:
            self.export_done = time.perf_counter()
            self.exported.set()
            result = {"message_id": 0, "date": int(time.time()), "chat": {"id": self.export.admin, "type": "private"}}
            result["document"] = {"file_id": "export", "file_unique_id": "export"}
        elif method in {"sendMessage", "editMessageText"}:
            chat_id, text = int(params["chat_id"]), str(params.get("text", ""))
            if self.export is not None and chat_id == self.export.admin:
                self.export_reply = text  # what the admin read instead, when no workbook comes
            self.message_id += 1
            result = {
                "message_id": self.message_id,
                "date": int(time.time()),
                "text": text,
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT,
            }
            self.on_bot_message(chat_id, text)
        return web.json_response({"ok": True, "result": result})

    async def control(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        if action == "up":
            return web.json_response({"ok": True})
        if action == "ready":
            await asyncio.wait_for(self.polled.wait(), 120)
            return web.json_response({"ok": True})
        if action == "registered":  # this many webhooks set (the processes are started one after another)
            for _ in range(1200):
                if self.registered >= int(request.query["count"]):
                    break
                await asyncio.sleep(0.1)
            return web.json_response({"ok": True, "registered": self.registered})
        if action == "begin":
            self.begin()
            return web.json_response({"ok": True})
        if action == "wait":
            with suppress(TimeoutError):
                await asyncio.wait_for(self.all_done.wait(), float(request.query.get("timeout", "600")))
            if self.export is not None:  # the file too, before the bot is stopped
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.exported.wait(), float(request.query.get("timeout", "600")))
            exported = self.export_done - self.export_asked if self.export_done else None
            latencies = sorted(x for c in self.citizens.values() for x in c.latencies)
            return web.json_response(
                {
                    "done": sum(c.done for c in self.citizens.values()),
                    "citizens": len(self.citizens),
                    "answers": self.answers,
                    "seconds": (self.finished or time.perf_counter()) - self.started,
                    "latencies": latencies,
                    "export_seconds": exported,
                    "export_reply": self.export_reply,
                    "export_during": bool(self.export_done and self.export_done < (self.finished or 1e18)),
                    "redeliveries": self.redeliveries,
                    "calls": dict(self.calls),
                    "fetched": self.fetched,
                }
            )
        raise web.HTTPNotFound()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--citizens", type=int, default=100)
    parser.add_argument("--mode", choices=["survey", "echo"], default="survey")
    parser.add_argument("--unit", default="16012")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--think", type=float, nargs=2, default=(0.0, 0.0), metavar=("MIN", "MAX"))
    parser.add_argument("--admin", type=int, default=900)
    parser.add_argument("--export-words", default="/xuat khaosat khao-sat-nguoi-dan")  # the presets run several
    parser.add_argument("--export-after", type=float, default=None, help="seconds; none: no export")
    parser.add_argument("--webhooks", nargs="*", default=[], help="the bot processes' webhook URLs, in turn")
    args = parser.parse_args()
    export = ExportAsk(args.admin, args.export_words, args.export_after) if args.export_after is not None else None
    generator = LoadGenerator(args.citizens, args.mode, args.unit, args.rounds, tuple(args.think), export)
    generator.webhooks = args.webhooks
    app = web.Application(client_max_size=64 << 20)  # a workbook sent with sendDocument is megabytes
    app.router.add_route("*", "/bot{token}/{method}", generator.api)
    app.router.add_get("/control/{action}", generator.control)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
