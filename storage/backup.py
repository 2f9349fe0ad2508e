"""A consistent copy of a live SQLite database, through SQLite's online backup API (never a file copy)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.db import is_sqlite


def backup_sqlite(url: str, target: Path) -> int:
    """Copy the database at `url` to `target`; returns the number of pages copied."""
    if not is_sqlite(url):
        raise ValueError("PostgreSQL: dùng pg_dump (xem README)")
    source_path = make_url(url).database
    if not source_path or not Path(source_path).exists():
        raise FileNotFoundError(source_path or url)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
        return int(destination.execute("PRAGMA page_count").fetchone()[0])
    finally:
        destination.close()
        source.close()
