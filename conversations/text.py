"""Vietnamese text handling: normalisation, accent-insensitive matching, collation."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}  # huyền hỏi ngã sắc nặng
_RANK = {c: i for i, c in enumerate("aăâbcdđeêfghijklmnoôơpqrstuưvwxyz")}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"\s+")
_DASHES = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")
_AROUND_HYPHEN = re.compile(r"\s*-\s*")
_KEYS = 16384
"""How many texts each matching key is kept for: every label of the questionnaires loaded, and recent answers."""


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def clean_input(text: str) -> str:
    """NFC, without control or bidi characters, trimmed: what we store of anything a user types."""
    return nfc(_CONTROL.sub("", text)).strip()


@lru_cache(maxsize=_KEYS)
def fold(text: str) -> str:
    """Matching key: case, diacritics, đ and spacing do not matter ("Hài  lòng" == "hai long")."""
    stripped = "".join(c for c in unicodedata.normalize("NFD", text) if unicodedata.category(c) != "Mn")
    return _SPACES.sub(" ", stripped.replace("đ", "d").replace("Đ", "D").casefold()).strip()


def _tidy(text: str) -> str:
    """Any dash a plain hyphen with no spaces around it, other punctuation (not symbols: "3+", "2️⃣" stay) as
    spaces, spacing collapsed."""
    words = "".join(" " if c != "-" and unicodedata.category(c)[0] == "P" else c for c in _DASHES.sub("-", text))
    return _AROUND_HYPHEN.sub("-", _SPACES.sub(" ", words)).strip(" -")


@lru_cache(maxsize=_KEYS)
def match_key(text: str) -> str:
    """The key a typed answer and an option's label are compared by: fold(), any dash a hyphen, punctuation as
    spaces ("18 - 30 tuoi!" == "18–30 tuổi", "Nam." == "nam")."""
    return _tidy(fold(text))


@lru_cache(maxsize=_KEYS)
def marked_key(text: str) -> str:
    """match_key() keeping the diacritics, each word's tone mark moved to its end: old and new tone placement
    ("hoà", "hòa"), NFD and case do not matter, but "Hoa" and "Hòa" differ."""
    words = []
    for word in _tidy(nfc(text).casefold()).split(" "):
        decomposed = unicodedata.normalize("NFD", word)
        tones = "".join(c for c in decomposed if c in _TONES)
        words.append(nfc("".join(c for c in decomposed if c not in _TONES)) + tones)
    return " ".join(words)


@lru_cache(maxsize=_KEYS)
def vi_sort_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...], str]:
    """Approximates CLDR Vietnamese collation: letters first, then tones, then code points. Kept per text (the same
    unit names are sorted for every citizen who picks a unit)."""
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
    return (tuple(primary), tuple(secondary), text)
