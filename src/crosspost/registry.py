"""Which platforms exist: the built-in adapters, plus third-party ones from entry points.

The built-ins are listed here explicitly (pytest's ``default_plugins``, llm's
``DEFAULT_PLUGINS``) rather than discovered, so a new built-in module can never
be silently missing after an editable install. Third-party adapters register in
the entry-point group ``crosspost.adapters`` (name = platform, value =
``module:Class``) and use the same API (docs/plugins.md).

Installed plugins are looked at only when a name is not a built-in one: reading
the installed distributions' metadata costs start-up time on every run. A plugin
is imported only when its platform is used, or when an unknown name might be one
of its ``aliases``. A plugin that cannot be used is a ``ConfigError`` naming it
and its package; one whose name is a built-in's is ignored with a
``PluginWarning`` naming both.
"""

from __future__ import annotations

import importlib
import warnings
from functools import cache
from typing import TYPE_CHECKING, cast

from crosspost.errors import ConfigError, Problem

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

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

#: Built-in adapters that are used only when the config has their table or an
#: announcement targets them (as plugins are): no office posts to Threads,
#: Bluesky, Mastodon or Telegram without saying so. docs/platforms/<name>.md.
OPT_IN: tuple[tuple[str, str], ...] = (
    ("threads", "crosspost_adapters.threads:ThreadsAdapter"),
    ("bluesky", "crosspost_adapters.bluesky:BlueskyAdapter"),
    ("mastodon", "crosspost_adapters.mastodon:MastodonAdapter"),
    ("telegram", "crosspost_adapters.telegram:TelegramAdapter"),
)

#: Other names users write for a built-in platform (plugins declare theirs on the
#: adapter class: ``Adapter.aliases``).
ALIASES = {"x": "twitter"}

ENTRY_POINT_GROUP = "crosspost.adapters"


class PluginWarning(UserWarning):
    """An installed plugin is ignored (its name is taken); crosspost goes on without it."""


@cache
def _plugins() -> dict[str, EntryPoint | str]:
    """Third-party adapters by platform name, from the installed entry points.

    Read once per process, so each warning is shown once. A value may also be a
    ``module:Class`` string (tests register adapters that way).
    """
    from importlib.metadata import entry_points

    builtin = _ours()
    found: dict[str, EntryPoint | str] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        taken = builtin.get(ALIASES.get(ep.name, ep.name))
        if taken is not None:
            _warn(
                f"{_plugin(ep.name, ep)} is ignored: '{ep.name}' names the built-in adapter {taken}"
            )
        elif ep.name in found:
            _warn(
                f"{_plugin(ep.name, ep)} is ignored: {_plugin(ep.name, found[ep.name])} came first"
            )
        else:
            found[ep.name] = ep
    return found


def _warn(message: str, fix: str = "the plugin's package must register another name") -> None:
    warnings.warn(f"{message}; {fix}", PluginWarning, stacklevel=2)


def _package(target: EntryPoint | str) -> str:
    """The distribution that registered an entry point, for messages."""
    dist = None if isinstance(target, str) else target.dist
    return f"package {dist.name}" if dist is not None else "no package"


def _plugin(name: str, target: EntryPoint | str) -> str:
    """``plugin "mastodon" (package crosspost-mastodon)``: how messages name a plugin."""
    return f'plugin "{name}" ({_package(target)})'


def _load(target: EntryPoint | str) -> object:
    """What an entry point names; a ``module:Class`` string (the built-ins) is imported as
    one (importlib.metadata is not imported for them: it costs start-up time)."""
    if not isinstance(target, str):
        return target.load()
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)


def _ours() -> dict[str, str]:
    """Every adapter crosspost ships: the default ones and the opt-in ones."""
    return dict(BUILTIN) | dict(OPT_IN)


def _target(name: str) -> EntryPoint | str | None:
    return _ours().get(name) or _plugins().get(name)


def builtin_names() -> tuple[str, ...]:
    """The built-in platform names used by default, in publishing order."""
    return tuple(name for name, _ in BUILTIN)


def opt_in_names() -> tuple[str, ...]:
    """The built-in platforms used only when configured or targeted, in publishing order."""
    return tuple(name for name, _ in OPT_IN)


def names() -> tuple[str, ...]:
    """Every known platform name: the built-ins (default, then opt-in), then plugins."""
    return builtin_names() + opt_in_names() + tuple(_plugins())


@cache
def _plugin_aliases() -> tuple[dict[str, str], tuple[Problem, ...]]:
    """The aliases the plugins declare, and the plugins that could not be loaded to read them.

    Every plugin is imported here; only a name that is neither built in nor a
    plugin's own name gets this far. Read once per process, like ``_plugins``.
    """
    aliases: dict[str, str] = {}
    failed: list[Problem] = []
    for name in _plugins():
        try:
            cls = adapter_class(name)
        except ConfigError as exc:
            failed += exc.problems
            continue
        for alias in cls.aliases:
            key = alias.strip().lower()
            owner = ALIASES.get(key, key)
            if owner in _ours() or owner in _plugins() or key in aliases:
                other = aliases.get(key, owner)
                _warn(
                    f"alias '{alias}' of {_plugin(name, _plugins()[name])} is ignored: "
                    f"'{key}' already names {other}",
                    "the plugin's package must declare another alias",
                )
            else:
                aliases[key] = name
    return aliases, tuple(failed)


def canonical(name: str) -> str:
    """The platform's canonical name (``x`` → ``twitter``); ConfigError lists the known ones."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if _target(key) is not None:
        return key
    aliases, failed = _plugin_aliases()
    if key in aliases:
        return aliases[key]
    known = ", ".join(names())
    unknown = Problem("", f"unknown platform '{name}'; known platforms: {known} (x = twitter)")
    # A plugin that failed to load may be the one this name is an alias of: say so too.
    raise ConfigError([unknown, *failed])


@cache
def adapter_class(name: str) -> type[Adapter]:
    """The adapter class for a platform, imported on first use.

    A built-in's import error is a bug in crosspost and propagates; a plugin's
    is the user's to fix (update or uninstall the package): a ``ConfigError``.
    """
    key = canonical(name)
    target = _target(key)
    assert target is not None  # canonical() raised for unknown names
    if key in _ours():
        return cast("type[Adapter]", _load(target))  # ours: known to be an Adapter
    return _checked(key, target)


def _checked(name: str, target: EntryPoint | str) -> type[Adapter]:
    """A plugin's adapter class, loaded and checked; ConfigError names what is wrong."""
    from inspect import isabstract

    from crosspost.adapter import Adapter

    plugin = _plugin(name, target)
    value = target if isinstance(target, str) else target.value
    try:
        loaded = _load(target)
    except Exception as exc:  # whatever the plugin's import raises is the plugin's fault
        why = (str(exc).splitlines() or [""])[0]
        raise ConfigError(
            f"{plugin} failed to load: {type(exc).__name__}: {why} "
            "(update or uninstall the package)"
        ) from None
    if not (isinstance(loaded, type) and issubclass(loaded, Adapter)):
        raise ConfigError(
            f"{plugin}: {value} is not an Adapter subclass (crosspost.adapter.Adapter); "
            "the entry point must name the adapter class"
        )
    declared = getattr(loaded, "name", None)
    if declared != name:
        raise ConfigError(
            f"{plugin}: {value} declares name = {declared!r}; the adapter's name and its "
            "entry point's name must be the same"
        )
    if isabstract(loaded):
        missing = ", ".join(sorted(loaded.__abstractmethods__))
        raise ConfigError(f"{plugin}: {value} does not implement {missing}")
    return loaded


def get_adapter(name: str, settings: PlatformSettings | None = None) -> Adapter:
    """An adapter for ``name`` with the given settings (the defaults when None)."""
    return adapter_class(name)(settings)
