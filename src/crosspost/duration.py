"""Durations as people write them in config and announcements: ``"90s"``, ``"15m"``, ``"6h"``.

Settings such as ``max_late`` are read by communication officers, not
programmers, so they are written with a unit (``"6h"``, ``"1d12h"``) rather
than as a bare number of seconds.
"""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)\s*([smhd])")
_WHOLE = re.compile(r"\s*(\d+\s*[smhd]\s*)+")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> timedelta:
    """``"1d12h"`` as a timedelta; ValueError with a readable message when malformed."""
    if not _WHOLE.fullmatch(text):
        raise ValueError(
            f"'{text}' is not a duration; write a number and a unit: '90s', '15m', '6h' or '2d'"
        )
    return timedelta(seconds=sum(int(n) * _SECONDS[u] for n, u in _PART.findall(text)))


def describe(delta: timedelta) -> str:
    """A short human form: ``2d 3h``, ``45m``, ``30s`` (largest two units)."""
    seconds = int(abs(delta).total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts[:2]) or "0s"
