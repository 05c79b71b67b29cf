"""Hashtags: normalised, validated by twitter-text's rules, de-duplicated, in priority order.

The same tag written ``#KPUMelayani``, ``KPUMelayani`` or ``#kpumelayani`` is one
tag. Priority: the profile's hashtags, then the announcement's, then the ones
written inline; ``crosspost.fitting`` adds the listed ones the post does not
already show (``#TemanPemilih, KPU ...`` is not added again) and applies caps
to what is actually in the post, keeping the highest-priority tags.
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


def prioritised(*groups: Iterable[str]) -> list[str]:
    """The tags of ``groups``, normalised, highest priority (earliest group) first.

    The same tag in two groups, or twice in one, keeps its first place and
    spelling. Tags also written inline in the body stay listed: if trimming cuts
    the inline copy away, the listed one comes back at the end of the post.
    """
    seen: set[str] = set()
    kept: list[str] = []
    for group in groups:
        for tag in group:
            bare = normalise(tag)
            if bare.casefold() not in seen:
                seen.add(bare.casefold())
                kept.append(bare)
    return kept
