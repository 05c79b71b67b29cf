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
def _plugins() -> dict[str, str]:
    """Third-party adapters from entry points; read only when a name is not built in
    (scanning installed distributions costs start-up time on every run)."""
    from importlib.metadata import entry_points

    builtin = dict(BUILTIN)
    return {
        ep.name: ep.value
        for ep in entry_points(group=ENTRY_POINT_GROUP)
        if ep.name not in builtin  # a plugin cannot replace a built-in
    }


def _target(name: str) -> str | None:
    return dict(BUILTIN).get(name) or _plugins().get(name)


def builtin_names() -> tuple[str, ...]:
    """The built-in platform names, in publishing order."""
    return tuple(name for name, _ in BUILTIN)


def names() -> tuple[str, ...]:
    """Every known platform name: the built-ins, then installed plugins."""
    return builtin_names() + tuple(_plugins())


def canonical(name: str) -> str:
    """The platform's canonical name (``x`` → ``twitter``); ConfigError lists the known ones."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if _target(key) is None:
        raise ConfigError(
            f"unknown platform '{name}'; known platforms: {', '.join(names())} (x = twitter)"
        )
    return key


@cache
def adapter_class(name: str) -> type[Adapter]:
    """The adapter class for a platform, imported on first use."""
    target = _target(canonical(name))
    assert target is not None  # canonical() raised for unknown names
    module_name, _, class_name = target.partition(":")
    cls: type[Adapter] = getattr(importlib.import_module(module_name), class_name)
    return cls


def get_adapter(name: str, settings: PlatformSettings | None = None) -> Adapter:
    """An adapter for ``name`` with the given settings (the defaults when None)."""
    return adapter_class(name)(settings)
