"""The layers of ARCHITECTURE.md, read from the imports: the engine is pure, only the command table's builder imports
commands, and the bot reaches the exports only to build a file."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILE_BUILDERS = {"exports.jobs", "exports.charts", "exports.poster"}
"""What the bot may import from exports/: running an export, drawing the progress chart, a poster."""


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(package: str) -> dict[str, set[str]]:
    """Each module of a package (as a path) → the modules it imports, at any depth in the file."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names |= {f"{node.module}.{a.name}" for a in node.names if is_module(f"{node.module}.{a.name}")}
        found[str(path.relative_to(ROOT))] = names
    return found


def under(names: set[str], *prefixes: str) -> set[str]:
    return {n for n in names if any(n == p or n.startswith(p + ".") for p in prefixes)}


def test_the_engine_imports_no_other_layer() -> None:
    wrong = {
        path: under(names, "bot", "storage", "exports", "telegram", "aiohttp", "sqlalchemy")
        for path, names in imports("conversations").items()
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_only_the_command_table_imports_commands() -> None:
    wrong = {
        path: under(names, "bot.commands")
        for path, names in imports("bot").items()
        if not path.startswith("bot/commands/") and path != "bot/app.py"
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_the_bot_imports_exports_only_to_build_a_file() -> None:
    wrong = {path: under(names, "exports") - FILE_BUILDERS - {"exports"} for path, names in imports("bot").items()}
    assert {path: names for path, names in wrong.items() if names} == {}


def test_only_the_app_mounts_the_dashboard() -> None:
    wrong = {path: under(names, "dashboard") for path, names in imports("bot").items() if path != "bot/app.py"}
    assert {path: names for path, names in wrong.items() if names} == {}


def test_the_dashboard_acts_through_the_command_table() -> None:
    """A page is like a command handler: it never imports a command (it runs one by name) nor a channel."""
    wrong = {
        path: under(names, "bot.commands", "bot.channels", "telegram") for path, names in imports("dashboard").items()
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_storage_imports_neither_the_bot_nor_the_exports() -> None:
    wrong = {path: under(names, "bot", "exports", "dashboard") for path, names in imports("storage").items()}
    assert {path: names for path, names in wrong.items() if names} == {}
