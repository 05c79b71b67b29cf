"""Ways of counting text length, one per platform rule.

Each platform counts differently, and counting wrongly is the bug its users
hate most (a post the editor said fits, refused by the platform):

* ``weighted``: X's twitter-text v3 weighted length (most scripts 1, CJK and
  emoji 2, any URL 23, after NFC).
* ``utf16``: UTF-16 code units; TikTok's "UTF-16 runes".
* ``bytes``: UTF-8 bytes; YouTube's description limit is 5,000 *bytes*.
* ``chars``: Unicode code points; Facebook, Instagram, YouTube titles.
* ``graphemes``: user-perceived characters (for future Bluesky-like platforms).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import cache
from typing import Any


class Unit(StrEnum):
    """A unit a platform measures text in; its value is what preview and JSON show."""

    WEIGHTED = "weighted"
    UTF16 = "utf16"
    BYTES = "bytes"
    CHARS = "chars"
    GRAPHEMES = "graphemes"


def utf16_length(text: str) -> int:
    """UTF-16 code units: astral characters (most emoji) count 2."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def utf8_length(text: str) -> int:
    """UTF-8 bytes."""
    return len(text.encode("utf-8"))


@cache
def grapheme_pattern() -> Any:
    """The `regex` module's grapheme-cluster pattern (``\\X``), compiled when first needed:
    the one pattern both counting and cutting (crosspost.fitting) use."""
    import regex

    return regex.compile(r"\X")


def grapheme_length(text: str) -> int:
    """Extended grapheme clusters, as a person counts characters."""
    return sum(1 for _ in grapheme_pattern().finditer(text))


def weighted_length(text: str) -> int:
    """X's weighted length per twitter-text v3."""
    from crosspost import twittertext  # deferred: loads the TLD table

    return twittertext.weighted_length(text)


def counter(unit: Unit) -> Callable[[str], int]:
    """The function that measures text in ``unit``."""
    return _COUNTERS[unit]


_COUNTERS: dict[Unit, Callable[[str], int]] = {
    Unit.WEIGHTED: weighted_length,
    Unit.UTF16: utf16_length,
    Unit.BYTES: utf8_length,
    Unit.CHARS: len,
    Unit.GRAPHEMES: grapheme_length,
}
