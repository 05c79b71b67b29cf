"""Hashtags: normalised, validated by twitter-text's rules, de-duplicated, capped.

The same tag written ``#KPUMelayani``, ``KPUMelayani`` or ``#kpumelayani`` is one
tag; a tag already written inline in the body (``#TemanPemilih, KPU ...``) is not
added again at the end.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from crosspost import twittertext


def normalise(tag: str) -> str:
    """The tag without its leading '#', NFC-normalised, surrounding spaces removed."""
    return unicodedata.normalize("NFC", tag.strip()).removeprefix("#").removeprefix("＃")


def problem(tag: str) -> str | None:
    """Why ``tag`` is not a valid hashtag, or None when it is one."""
    bare = normalise(tag)
    if not bare:
        return "is empty"
    if any(ch.isspace() for ch in bare):
        return f"'{tag}' contains a space; a hashtag is one word (e.g. '{''.join(bare.split())}')"
    if not twittertext.is_valid_hashtag(bare):
        return (
            f"'{tag}' is not a valid hashtag: use letters, digits and '_', and at least one letter"
        )
    return None


def inline(text: str) -> list[str]:
    """The hashtags written inside ``text``, in order, without '#'."""
    return [entity.text for entity in twittertext.extract_hashtags(text)]


def merge(tags: Iterable[str], body: str) -> tuple[list[str], list[str]]:
    """Normalised ``tags`` with case-insensitive duplicates and tags inline in ``body`` removed.

    Returns (kept, removed); the first spelling of a tag wins.
    """
    seen = {t.casefold() for t in inline(body)}
    kept: list[str] = []
    removed: list[str] = []
    for tag in tags:
        bare = normalise(tag)
        if bare.casefold() in seen:
            removed.append(bare)
            continue
        seen.add(bare.casefold())
        kept.append(bare)
    return kept, removed
