"""The unit presets: the unit sets shipped as YAML files (presets/units/*.yaml, PBGDPL_UNITS_DIR), each with the
dates it is valid between, seeded into the units table at start (`BotService.seed`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

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
            }
            for u in data["units"]
        ]
        found.append((str(data["id"]), records))
    return found
