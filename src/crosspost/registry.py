"""Which platforms exist: the built-in adapters, plus third-party ones from entry points.

The built-ins are listed here explicitly (pytest's ``default_plugins``, llm's
``DEFAULT_PLUGINS``) rather than discovered, so a new built-in module can never
be silently missing after an editable install. Third-party adapters register in
the entry-point group ``crosspost.adapters`` (name = platform, value =
``module:Class``) and use the same API.
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from crosspost.errors import ConfigError

if TYPE_CHECKING:
    from crosspost.adapter import Adapter
    from crosspost.config import PlatformSettings

#: The built-in adapters, in the order posts are shown and published.
BUILTIN: tuple[tuple[str, str], ...] = (
    ("facebook", "crosspost_adapters.facebook:FacebookAdapter"),
    ("instagram", "crosspost_adapters.instagram:InstagramAdapter"),
    ("tiktok", "crosspost_adapters.tiktok:TikTokAdapter"),
    ("youtube", "crosspost_adapters.youtube:YouTubeAdapter"),
    ("twitter", "crosspost_adapters.twitter:TwitterAdapter"),
)

#: Other names users write for a platform.
ALIASES = {"x": "twitter"}

ENTRY_POINT_GROUP = "crosspost.adapters"


@cache
def _known() -> dict[str, str]:
    known = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        known.setdefault(ep.name, ep.value)  # a plugin cannot replace a built-in
    return known


def names() -> tuple[str, ...]:
    """Every known platform name, built-ins first."""
    return tuple(_known())


def canonical(name: str) -> str:
    """The platform's canonical name (``x`` → ``twitter``); ConfigError lists the known ones."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in _known():
        raise ConfigError(
            f"unknown platform '{name}'; known platforms: {', '.join(names())} (x = twitter)"
        )
    return key


@cache
def adapter_class(name: str) -> type[Adapter]:
    """The adapter class for a platform, imported on first use."""
    module_name, _, class_name = _known()[canonical(name)].partition(":")
    cls: type[Adapter] = getattr(importlib.import_module(module_name), class_name)
    return cls


def get_adapter(name: str, settings: PlatformSettings | None = None) -> Adapter:
    """An adapter for ``name`` with the given settings (the defaults when None)."""
    return adapter_class(name)(settings)
