"""Telegram's HTML (parse_mode=HTML) parsed as Telegram does: the visible text, its entities, the problems."""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.fakes.telegram.constants import JSONDict

# --------------------------------------------------------------------------------------------------
# Telegram HTML
# ----------------------------------------------------------------------------------------------------

_TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*)"
    r"\s*(/?)>"
)
_ATTR_RE = re.compile(r"([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'=<>`]+)))?")
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
#: Tags Telegram accepts (https://core.telegram.org/bots/api#html-style), mapped to entity types.
_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}


@dataclass
class ParsedText:
    """Result of :func:`parse_telegram_html`: what the user sees, its entities and any markup problems."""

    text: str
    entities: list[JSONDict]
    problems: list[str]


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int
    language: str | None = None


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode_entities(value: str) -> str:
    def repl(m: re.Match[str]) -> str:
        return _entity_char(m) or m.group(0)

    return _ENTITY_RE.sub(repl, value)


def _entity_char(m: re.Match[str]) -> str | None:
    named, dec, hexa = m.groups()
    if named:
        return _NAMED_ENTITIES[named]
    code = int(dec) if dec else int(hexa, 16)
    return chr(code) if 0 < code <= 0x10FFFF else None


def _snippet(text: str, pos: int) -> str:
    return text[max(0, pos - 12) : pos + 12].replace("\n", "\\n")


def parse_telegram_html(source: str) -> ParsedText:
    """Parse ``source`` like Telegram does for ``parse_mode=HTML``.

    Returns the visible text with its entities (offsets and lengths in UTF-16 code units) and a list
    of problems: unsupported or unbalanced tags, a bare ``<`` that starts no tag, a bare ``&`` that
    starts no entity.
    """
    out: list[str] = []
    entities: list[JSONDict] = []
    problems: list[str] = []
    stack: list[_OpenTag] = []
    pos16 = 0
    i = 0
    while i < len(source):
        char = source[i]
        if char == "<":
            m = _TAG_RE.match(source, i)
            if m is None:
                problems.append(f"bare '<' at position {i} (escape it as &lt;) near {_snippet(source, i)!r}")
                out.append(char)
                pos16 += 1
                i += 1
                continue
            closing, name, attr_text, self_closing = m.group(1), m.group(2).lower(), m.group(3), m.group(4)
            i = m.end()
            if name not in _TAG_ENTITY:
                problems.append(f"unsupported tag <{closing}{name}> at position {m.start()}")
                continue
            if closing:
                _close_tag(name, m.start(), stack, entities, problems, pos16)
                continue
            attrs = {
                a.group(1).lower(): _decode_entities(a.group(2) or a.group(3) or a.group(4) or "")
                for a in _ATTR_RE.finditer(attr_text)
            }
            problems.extend(_open_tag_problems(name, attrs, stack, m.start()))
            if self_closing:
                problems.append(f"self-closing tag <{name}/> at position {m.start()} is not supported")
                continue
            stack.append(_OpenTag(name, attrs, pos16))
            continue
        if char == "&":
            em = _ENTITY_RE.match(source, i)
            decoded = _entity_char(em) if em else None
            if em is None or decoded is None:
                problems.append(f"bare '&' at position {i} (escape it as &amp;) near {_snippet(source, i)!r}")
                out.append(char)
                pos16 += 1
                i += 1
                continue
            out.append(decoded)
            pos16 += _utf16_len(decoded)
            i = em.end()
            continue
        out.append(char)
        pos16 += 2 if ord(char) > 0xFFFF else 1
        i += 1
    for tag in reversed(stack):
        problems.append(f"unclosed tag <{tag.name}>")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return ParsedText("".join(out), entities, problems)


def _open_tag_problems(name: str, attrs: dict[str, str], stack: list[_OpenTag], pos: int) -> list[str]:
    problems: list[str] = []
    if name == "a" and not attrs.get("href"):
        problems.append(f"<a> without href at position {pos}")
    if name == "span" and attrs.get("class") != "tg-spoiler":
        problems.append(f'<span> at position {pos} must have class="tg-spoiler"')
    if name == "tg-emoji" and not attrs.get("emoji-id"):
        problems.append(f"<tg-emoji> without emoji-id at position {pos}")
    inside = [t.name for t in stack]
    if "code" in inside or ("pre" in inside and name != "code"):
        problems.append(f"<{name}> at position {pos} cannot be nested inside <{inside[-1]}>")
    if name == "blockquote" and "blockquote" in inside:
        problems.append(f"nested <blockquote> at position {pos}")
    return problems


def _close_tag(
    name: str, pos: int, stack: list[_OpenTag], entities: list[JSONDict], problems: list[str], pos16: int
) -> None:
    if not stack or stack[-1].name != name:
        expected = f"</{stack[-1].name}>" if stack else "no end tag"
        problems.append(f"unexpected end tag </{name}> at position {pos} (expected {expected})")
        if not any(t.name == name for t in stack):
            return
        while stack[-1].name != name:
            stack.pop()
    tag = stack.pop()
    length = pos16 - tag.start
    if name == "code" and stack and stack[-1].name == "pre":
        language = tag.attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1].language = language.removeprefix("language-")
            return
    if length <= 0:
        return
    entity: JSONDict = {"type": _TAG_ENTITY[name], "offset": tag.start, "length": length}
    if name == "a":
        entity["url"] = tag.attrs.get("href", "")
    elif name == "pre" and tag.language:
        entity["language"] = tag.language
    elif name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
    entities.append(entity)
