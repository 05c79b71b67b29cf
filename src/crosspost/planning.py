"""From an announcement and a config to a plan: one fitted post per platform.

The plan is what ``preview`` shows and what ``publish`` sends: the same objects,
built by the same code, so the two can never drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crosspost import registry
from crosspost.adapter import Adapter, Post
from crosspost.config import Configuration, find_config, load_config
from crosspost.errors import ConfigError
from crosspost.loader import load_announcement
from crosspost.models import Loaded


@dataclass(frozen=True, slots=True)
class Plan:
    """The posts for one announcement, in platform order, and the adapters that made them."""

    loaded: Loaded
    config: Configuration
    posts: tuple[Post, ...]
    adapters: dict[str, Adapter]
    #: Platforms left out because they cannot take this announcement (no video
    #: for YouTube), with the reason; only when the announcement has no ``targets``.
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def problems(self) -> dict[str, tuple[str, ...]]:
        """Each platform's problems, for platforms that have any."""
        return {p.platform: p.problems for p in self.posts if p.problems}

    def problem_lines(self, file: object | None = None) -> list[str]:
        """``FILE: platform: problem``, one line per problem (``file``: as the user named it)."""
        where = self.loaded.source if file is None else file
        return [f"{where}: {name}: {p}" for name, found in self.problems.items() for p in found]

    def to_json(self) -> dict[str, Any]:
        """The preview JSON document (docs/json.md, "preview")."""
        return {
            "announcement": self.loaded.id,
            "publish_at": self.loaded.publish_at.isoformat() if self.loaded.publish_at else None,
            "draft": self.loaded.announcement.draft,
            "warnings": list(self.loaded.warnings),
            "posts": [post.to_json() for post in self.posts],
            "skipped": [
                {"platform": name, "reason": reason} for name, reason in self.skipped.items()
            ],
        }


def platforms_for(
    loaded: Loaded, config: Configuration, only: Sequence[str] = ()
) -> tuple[str, ...]:
    """The platforms this run publishes to: targets, enabled ones, ``--platform`` choices.

    A platform is enabled unless its ``[platforms.<name>]`` table says
    ``enabled = false``. Without ``targets``: every enabled built-in, and each
    plugin that has a table in the config; a plugin without one is used only
    when the announcement targets it, so installing a package never starts
    posting to a new network (docs/plugins.md).
    """
    chosen = [registry.canonical(name) for name in only]
    builtin = registry.builtin_names()

    def enabled(name: str) -> bool:
        settings = config.for_platform(name)
        return settings is None or settings.enabled

    if loaded.targets is not None:
        base = list(loaded.targets)
    else:
        tabled = [name for name in config.platforms if name not in builtin]
        base = [name for name in [*builtin, *tabled] if enabled(name)]
    disabled = [name for name in base if not enabled(name)]
    if disabled:
        raise ConfigError(
            f"{loaded.source}: targets {', '.join(disabled)}, which the config disables "
            "(enabled = false)"
        )
    if chosen:
        outside = [name for name in chosen if name not in base]
        if outside:
            raise ConfigError(
                f"--platform {', '.join(outside)}: not a target of this announcement "
                f"(targets: {', '.join(base) or 'none'})"
            )
        base = [name for name in base if name in chosen]
    ours = [*builtin, *registry.opt_in_names()]
    order = ours + sorted(set(base) - set(ours))
    return tuple(name for name in order if name in base)


def build(loaded: Loaded, config: Configuration, only: Sequence[str] = ()) -> Plan:
    """Render every chosen platform's post (pure: no network, no clock).

    Without ``targets`` (and without ``--platform``), a platform that cannot take
    the announcement (``Adapter.unsuitable``: no video for YouTube) is skipped
    with its reason instead of failing the whole announcement; named ones are
    kept, and their problem is reported.
    """
    adapters = {
        name: registry.get_adapter(name, config.for_platform(name))
        for name in platforms_for(loaded, config, only)
    }
    skipped: dict[str, str] = {}
    if loaded.targets is None and not only:
        for name, adapter in list(adapters.items()):
            reason = adapter.unsuitable(loaded.platform_media.get(name, loaded.media))
            if reason is not None:
                skipped[name] = reason
                del adapters[name]
    posts = tuple(adapter.render(loaded, config) for adapter in adapters.values())
    return Plan(loaded=loaded, config=config, posts=posts, adapters=adapters, skipped=skipped)


def plan_file(path: Path, *, config_path: Path | None = None, only: Sequence[str] = ()) -> Plan:
    """Load the config and the announcement at ``path``, and build its plan."""
    config = load_config(find_config(config_path, path))
    loaded = load_announcement(path, config)
    return build(loaded, config, only)
