"""Vietnamese text handling: normalisation, accent-insensitive matching, collation."""

from __future__ import annotations

import re
import unicodedata

_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}  # huyền hỏi ngã sắc nặng
_RANK = {c: i for i, c in enumerate("aăâbcdđeêfghijklmnoôơpqrstuưvwxyz")}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def clean_input(text: str) -> str:
    """NFC, without control or bidi characters, trimmed: what we store of anything a user types."""
    return nfc(_CONTROL.sub("", text)).strip()


def fold(text: str) -> str:
    """Matching key: case, diacritics, đ and spacing do not matter ("Hài  lòng" == "hai long")."""
    stripped = "".join(
        c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn"
    )
    return _SPACES.sub(" ", stripped.replace("đ", "d").replace("Đ", "D").casefold()).strip()


def vi_sort_key(text: str) -> tuple[list[int], list[int], str]:
    """Approximates CLDR Vietnamese collation: letters first, then tones, then code points."""
    primary: list[int] = []
    secondary: list[int] = []
    for ch in nfc(text):
        decomposed = unicodedata.normalize("NFD", ch)
        secondary.append(next((_TONES[c] for c in decomposed if c in _TONES), 0))
        base = nfc("".join(c for c in decomposed if c not in _TONES)).lower()[:1]
        if base:
            if base in _RANK:
                primary.append(_RANK[base])
            elif base.isalpha():
                primary.append(100 + ord(base))
            else:
                primary.append(ord(base) - 0x110000)
    return (primary, secondary, text)
