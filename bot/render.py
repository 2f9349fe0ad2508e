"""Rendering the engine's messages for channels: plain text (console, Zalo) and size limits."""

from __future__ import annotations

import re

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


_HTML_TOKEN = re.compile(r"<[^<>]*>|&#?\w+;|.", re.S)
_TAG_NAME = re.compile(r"</?\s*([A-Za-z][\w-]*)")


def split_text(text: str, limit: int, *, html: bool = False) -> list[str]:
    """Pieces under the platform limit, cut at line ends (or spaces) where possible.

    With `html` (Telegram's parse_mode=HTML), a tag or an entity such as `&amp;` is never cut, and each piece is
    valid on its own: the tags open at a cut are closed at the end of the piece and opened again at the start of
    the next, within the limit."""
    if _fits_whole(text, limit, html):
        return [text] if text else []
    return _cut(text, limit, html)


def _cut(text: str, limit: int, html: bool) -> list[str]:
    """`split_text` walking the text token by token."""
    tokens = _HTML_TOKEN.findall(text) if html else list(text)
    pieces: list[str] = []
    reopened: list[tuple[str, str]] = []
    start = 0
    while start < len(tokens):
        piece, start, reopened = _piece(tokens, start, reopened, limit)
        if piece:
            pieces.append(piece)
        while start < len(tokens) and tokens[start] in ("\n", " "):
            start += 1
    return pieces


_TAG = re.compile(r"<[^<>]*>")


def _fits_whole(text: str, limit: int, html: bool) -> bool:
    """Whether the text is its own one piece, as `split_text` would cut it, found without walking it token by
    token (most messages): under the limit even with every tag it opens closed at once, and no tag left open."""
    if not html or "<" not in text:
        return len(text) <= limit
    stack: list[tuple[str, str]] = []
    closing = 0
    for tag in _TAG.findall(text):
        after = _tags_after(stack, tag)
        if len(after) > len(stack):
            closing += _closing(after[-1][0])
        stack = after
    return not stack and len(text) + closing <= limit


def _piece(
    tokens: list[str], start: int, opened: list[tuple[str, str]], limit: int
) -> tuple[str, int, list[tuple[str, str]]]:
    """The longest piece from `start`, the tags in `opened` opened first: its text, where it ends, and the tags
    (name, opening tag) open there. It ends after its last line end, else its last space, else where it is full."""
    open_at = {start: opened}
    size = sum(len(tag) + _closing(name) for name, tag in opened)
    end, line_end, space = start, 0, 0
    while end < len(tokens):
        before, after = open_at[end], _tags_after(open_at[end], tokens[end])
        size += len(tokens[end]) + sum(map(_closing, (n for n, _ in after))) - sum(_closing(n) for n, _ in before)
        if size > limit and end > start:
            break
        end += 1
        open_at[end] = after
        if tokens[end - 1] == "\n" and end - 1 > start:
            line_end = end
        elif tokens[end - 1] == " " and end - 1 > start:
            space = end
    if end == len(tokens):  # the rest fits, as it is
        cut, body = end, "".join(tokens[start:])
    else:
        cut = line_end or space or end
        body = "".join(tokens[start:cut]).rstrip("\n ")
        if not body.strip():
            return "", cut, open_at[cut]
    head = "".join(tag for _, tag in opened)
    return head + body + "".join(f"</{name}>" for name, _ in reversed(open_at[cut])), cut, open_at[cut]


def _closing(name: str) -> int:
    return len(name) + 3


def _tags_after(stack: list[tuple[str, str]], token: str) -> list[tuple[str, str]]:
    """The open tags after one token: an opening tag is pushed, a closing one pops its own."""
    if len(token) < 3 or token[0] != "<":
        return stack
    found = _TAG_NAME.match(token)
    if found is None:
        return stack
    name = found[1].lower()
    if token.startswith("</"):
        for index in range(len(stack) - 1, -1, -1):
            if stack[index][0] == name:
                return stack[:index]
        return stack
    return [*stack, (name, token)]
