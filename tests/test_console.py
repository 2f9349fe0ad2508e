"""The console chat on a real terminal (a pseudo-terminal): Ctrl-C leaves at once and cleanly, as Ctrl-D does."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import sys
import termios
from pathlib import Path

import pytest

from tests.helpers import SECRET

READY = "Lệnh quản trị:"  # in the admin's /start reply, printed before the first prompt


def _controlling_terminal() -> None:
    """In the child: a session of its own with the pseudo-terminal (its stdin) as controlling terminal, so a ^C
    typed there is a SIGINT to it, as in a shell."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    def __init__(self, master: int) -> None:
        self.master, self.output = master, b""

    async def read_until(self, text: str, timeout: float = 60) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while text.encode() not in self.output:
            if loop.time() > deadline:
                raise AssertionError(f"{text!r} not shown; the terminal shows:\n{self.text}")
            await asyncio.sleep(0.05)
            self.drain()

    def drain(self) -> None:
        try:
            while chunk := os.read(self.master, 65536):
                self.output += chunk
        except (BlockingIOError, OSError):  # nothing more now / the child closed the terminal
            pass

    @property
    def text(self) -> str:
        return self.output.decode(errors="replace")


@pytest.mark.parametrize("key", ["\x03", "\x04", "/kha\x03"], ids=["ctrl-c", "ctrl-d", "ctrl-c-mid-line"])
async def test_the_console_chat_leaves_at_once_and_cleanly(tmp_path: Path, key: str) -> None:
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    env = {
        **{name: value for name, value in os.environ.items() if not name.startswith("PBGDPL_")},
        "PBGDPL_DATA_DIR": str(tmp_path),
        "PBGDPL_SECRET": SECRET,
        "PBGDPL_PERIOD": "2026",
        "PBGDPL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        preexec_fn=_controlling_terminal,
    )
    os.close(slave)
    terminal = Terminal(master)
    try:
        await terminal.read_until(READY)
        await asyncio.sleep(0.3)  # the prompt is waiting for a line
        os.write(master, key.encode())
        loop = asyncio.get_running_loop()
        pressed = loop.time()
        code = await asyncio.wait_for(child.wait(), 60)
        took = loop.time() - pressed
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()
        terminal.drain()
        os.close(master)
    assert code == 0, terminal.text
    assert "Traceback" not in terminal.text and "Error" not in terminal.text, terminal.text
    assert took < 20, f"{took:.1f} s after the key"  # closing down only (a loaded machine); it used to wait for Enter
