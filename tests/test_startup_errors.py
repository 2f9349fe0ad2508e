"""Issue 12.7: a wrong PBGDPL_DATABASE_URL or an unreachable PostgreSQL at start is one clear Vietnamese line and a
non-zero exit, never a traceback, for `pbgdpl run` and `pbgdpl migrate`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.local import free_port

WRONG = {
    "not a URL": ("nonsense", "Cấu hình chưa đúng: PBGDPL_DATABASE_URL: không đọc được địa chỉ cơ sở dữ liệu"),
    "a database the bot does not run on": ("mysql://u@h/db", "PBGDPL_DATABASE_URL: không đọc được địa chỉ"),
    "nobody listening": ("postgresql+asyncpg://postgres@127.0.0.1:{port}/x", "Không kết nối được cơ sở dữ liệu"),
}


@pytest.mark.parametrize("command", ["run", "migrate"])
@pytest.mark.parametrize("case", list(WRONG))
def test_a_wrong_database_is_one_line_and_a_failing_exit(tmp_path: Path, command: str, case: str) -> None:
    url, expected = WRONG[case]
    env = {**os.environ, "PBGDPL_DATA_DIR": str(tmp_path), "PBGDPL_DATABASE_URL": url.format(port=free_port())}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", command], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode != 0
    assert len(lines) == 1 and expected in lines[0], lines
    assert "Traceback" not in done.stderr
