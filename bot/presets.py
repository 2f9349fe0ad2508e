"""The unit presets: the unit sets shipped as YAML files (presets/units/*.yaml, PBGDPL_UNITS_DIR), each with the
dates it is valid between, seeded into the units table at start (`BotService.seed`), and what the period made at
start runs (`assignments:`, bot.assignments)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.assignments import Rule, Scope
from bot.config import ConfigError
from conversations.text import clean_input


def load_unit_presets(directory: Path) -> list[tuple[str, list[dict[str, Any]]]]:
    """Unit sets from the preset files: (set id, unit records with validity dates)."""
    found = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        records = [
            {
                "code": str(u["code"]),
                "name": clean_input(u["name"]),
                "kind": u["kind"],
                "valid_from": data.get("valid_from"),
                "valid_to": data.get("valid_to"),
                "formed_from": u.get("formed_from"),
                "parent_code": str(u["parent"]) if u.get("parent") else None,
            }
            for u in data["units"]
        ]
        found.append((str(data["id"]), records))
    return found


def _rule(entry: Any, where: str) -> Rule:
    """One entry of `assignments:`: {questionnaire: <id>} with `units: all`, `kind: <unit kind>` or `unit: <code>`."""
    if not isinstance(entry, dict) or not entry.get("questionnaire"):
        raise ConfigError(f"{where}: mỗi dòng cần mã bảng hỏi (questionnaire: …)")
    questionnaire = str(entry["questionnaire"])
    if entry.get("units") == "all":
        return Rule(questionnaire, Scope.ALL)
    if entry.get("kind"):
        return Rule(questionnaire, Scope.KIND, str(entry["kind"]))
    if entry.get("unit"):
        return Rule(questionnaire, Scope.UNIT, str(entry["unit"]))
    raise ConfigError(f"{where}: bảng hỏi “{questionnaire}” cần units: all, kind: <loại đơn vị> hoặc unit: <mã>")


def load_period_preset(directory: Path) -> list[Rule]:
    """The assignments a period made at start gets, from every preset file's `assignments:` in file order."""
    rules = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for n, entry in enumerate(data.get("assignments") or (), start=1):
            rules.append(_rule(entry, f"{path.name}, assignments dòng {n}"))
    return rules
