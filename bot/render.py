"""Rendering the engine's messages for channels: plain text (console, Zalo) and size limits."""

from __future__ import annotations

from conversations.engine import Outgoing


def plain(message: Outgoing, numbered_choices: bool = True) -> str:
    """A message as plain text: numbered choices, and the words that do what the buttons do."""
    lines = []
    if message.header:
        lines.append(f"【{message.header}】")
    lines.append(message.text)
    if numbered_choices:
        lines += [f"  {n}. {choice.label}" for n, choice in enumerate(message.choices, start=1)]
    if message.hint:
        lines.append(f"({message.hint})")
    if message.actions:
        lines.append("Gõ: " + " | ".join(action.label for action in message.actions))
    return "\n".join(lines)


def split_text(text: str, limit: int) -> list[str]:
    """Pieces under the platform limit, cut at line ends (or spaces) where possible."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n ")
    pieces.append(text)
    return [p for p in pieces if p]
