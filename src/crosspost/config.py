"""The organisation's configuration: profile, the "Find Us On" block, per-platform settings.

Found at ``--config``, ``$CROSSPOST_CONFIG``, a ``crosspost.toml`` beside the
announcement, ``./crosspost.toml``, then ``config.toml`` in the user config
directory (``$CROSSPOST_HOME`` overrides that directory). Secrets never live
here: see ``crosspost.credentials``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, ValidationError, field_validator

from crosspost.documents import read_toml, validation_problems
from crosspost.errors import ConfigError, Problem
from crosspost.models import Blackout, Model

HashtagStyle = Literal["lines", "inline"]


class PlatformSettings(Model):
    """A ``[platforms.<name>]`` table in config.toml; adapters subclass it for their own keys.

    The limit keys override the adapter's declared limits (X Premium's longer
    posts, Instagram's 30 hashtags instead of 5).
    """

    enabled: bool = True
    api_base: str | None = Field(default=None, pattern=r"^https?://[^/?#\s]+$")
    max_length: int | None = Field(default=None, gt=0)
    max_title: int | None = Field(default=None, gt=0)
    max_hashtags: int | None = Field(default=None, ge=0)
    hashtag_style: HashtagStyle | None = None
    find_us: bool = True
    #: Where a trimmed post sends its readers (overrides the config's
    #: ``read_more``), and the words before the link ("Selengkapnya:").
    read_more: str | None = Field(default=None, pattern=r"^https?://\S+$")
    read_more_text: str | None = None
    #: A platform whose post of the same announcement, published first in the
    #: same run, is this platform's read-more link ("facebook": X links to the
    #: full text on Facebook). docs/fitting.md, "Read more".
    continue_on: str | None = None
    #: A thread longer than this is a problem to fix, not a silent 14-post thread.
    max_thread_parts: int = Field(default=6, ge=1)


class Profile(Model):
    """Who is posting: a display name, the timezone of local times, default hashtags."""

    name: str | None = None
    timezone: str | None = None
    hashtags: list[str] = []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(
                    f"'{value}' is not a timezone name; use one like 'Asia/Jakarta'"
                ) from None
        return value


class FindUsLink(Model):
    """One line of the "Find Us On" block: ``{label}: {text}``.

    ``platform`` ties the line to a platform, so a post to that platform can
    leave it out when space is short (the reader is already there). ``handle``
    is the account name there: written as ``@handle`` only in posts on that
    platform (elsewhere the same name may be someone else's account).
    """

    label: str
    text: str | None = None
    url: str | None = None
    handle: str | None = None
    platform: str | None = None
    #: The organisation's website: a trimmed post's default read-more link, and
    #: the last line the block gives up. Without a mark, the first link with a
    #: ``url`` and no ``platform`` is the website.
    website: bool = False

    @property
    def shown(self) -> str:
        """What follows the label: the text, else the URL, else the @handle."""
        return self.text or self.url or (f"@{self.handle}" if self.handle else "")


class FindUs(Model):
    """The organisation's "Find Us On" block, appended to every post that has room."""

    rule: str | None = None
    heading: str = "Find Us On:"
    links: list[FindUsLink] = []
    closing: str | None = None


def _duration(value: str) -> str:
    from crosspost.duration import parse_duration

    parse_duration(value)
    return value


class Schedule(Model):
    """``[schedule]``: how unattended runs treat time (docs/state.md).

    ``max_late``: a post whose ``publish_at`` passed longer ago is skipped and
    reported, not published days late. ``max_attempts`` and ``retry_backoff``:
    a failing platform is retried on later runs, waiting ``retry_backoff``,
    then twice that, and so on (at most a day), up to ``max_attempts`` tries.
    ``settle``: how long after a lost answer a lookup that does not find the
    post counts as proof that it is not there.
    """

    max_late: str = "6h"
    max_attempts: int = Field(default=5, ge=1)
    retry_backoff: str = "15m"
    settle: str = "10m"

    _check = field_validator("max_late", "retry_backoff", "settle")(_duration)


AlertKind = Literal[
    "failed",
    "unknown",
    "late_skipped",
    "blackout_skipped",
    "token_expiring",
    "token_dead",
    "published",
]


class Alerts(Model):
    """``[alerts]``: where failures, skips and expiring tokens are sent (docs/alerts.md).

    ``urls`` are Apprise URLs; they may carry secrets, so they may also live in
    the credentials file or ``$CROSSPOST_ALERTS_URLS``. ``notify_on``: the kinds
    of event worth a message (default: all but "published"). ``remind_after``:
    a problem that persists is alerted again only after this long.
    """

    urls: list[str] = []
    notify_on: list[AlertKind] = [k for k in get_args(AlertKind) if k != "published"]
    remind_after: str = "24h"

    _check = field_validator("remind_after")(_duration)

    @field_validator("urls")
    @classmethod
    def _apprise_urls(cls, value: list[str]) -> list[str]:
        # The message never quotes the URL: it may carry a token or a password.
        for i, url in enumerate(value):
            if "://" not in url:
                raise ValueError(
                    f"entry {i + 1} is not an Apprise URL; write one like 'tgram://…' or 'json://…'"
                )
        return value


class Config(Model):
    """The whole config.toml."""

    #: Where publish state lives; relative to the config file. Default: the
    #: user state directory.
    state_dir: str | None = None
    #: Where a trimmed post sends its readers for the full text (default: the
    #: Find Us block's website), and the words before that link (default: by
    #: the announcement's language, "Selengkapnya:" for "id", "Read more:" for
    #: "en", else none). docs/fitting.md, "Read more".
    read_more: str | None = Field(default=None, pattern=r"^https?://\S+$")
    read_more_text: str | None = None
    profile: Profile = Profile()
    schedule: Schedule = Schedule()
    find_us: FindUs | None = None
    alerts: Alerts = Alerts()
    platforms: dict[str, dict[str, Any]] = {}
    #: ``[[blackout]]``: periods in which nothing goes out (docs/state.md, "Blackout windows").
    blackout: list[Blackout] = []


class Configuration(BaseModel):
    """A loaded configuration: the model, where it came from, each platform's settings."""

    model_config = {"frozen": True, "arbitrary_types_allowed": True}

    config: Config
    source: Path | None
    platforms: dict[str, PlatformSettings]

    @property
    def timezone(self) -> ZoneInfo | None:
        """The profile's timezone, used for ``publish_at`` values without an offset."""
        tz = self.config.profile.timezone
        return ZoneInfo(tz) if tz else None

    def for_platform(self, name: str) -> PlatformSettings | None:
        """This platform's validated settings, or None when the config has no table for it."""
        return self.platforms.get(name)


def user_dir() -> Path:
    """crosspost's directory for config and credentials; ``$CROSSPOST_HOME`` overrides it."""
    home = os.environ.get("CROSSPOST_HOME")
    if home:
        return Path(home)
    import typer  # deferred: only needed when no CROSSPOST_HOME is set

    return Path(typer.get_app_dir("crosspost"))


def find_config(
    explicit: Path | None, announcement: Path | None = None, root: Path | None = None
) -> Path | None:
    """The config file to use, in the documented order; None when there is none.

    With ``root`` (the folder ``crosspost run`` and ``queue`` were given), an
    announcement in a subfolder also finds the ``crosspost.toml`` of any folder
    between it and ``root``: ``announcements/2026/x.toml`` uses
    ``announcements/crosspost.toml``, not a config found elsewhere (whose
    state directory would not know what was published).
    """
    if explicit is not None:
        return explicit
    env = os.environ.get("CROSSPOST_CONFIG")
    if env:
        return Path(env)
    candidates = []
    if announcement is not None:
        candidates.append(announcement.parent / "crosspost.toml")
        if root is not None:
            top = root.resolve()
            folder = announcement.parent.resolve()
            while folder != top and top in folder.parents:
                folder = folder.parent
                candidates.append(folder / "crosspost.toml")
    candidates += [Path("crosspost.toml"), user_dir() / "config.toml"]
    return next((c for c in candidates if c.is_file()), None)


def load_config(path: Path | None) -> Configuration:
    """Read and validate a config file (or the defaults when ``path`` is None)."""
    if path is None:
        return parse_config({}, None)
    return parse_config(read_toml(path, ConfigError), path)


def parse_config(data: dict[str, Any], source: Path | None) -> Configuration:
    """Validate config data, including each platform table against its adapter's settings."""
    from crosspost import registry  # deferred: registry imports adapters lazily

    where = str(source) if source else "config"
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, Config, where)) from None
    problems: list[Problem] = []
    platforms: dict[str, PlatformSettings] = {}
    for key, table in config.platforms.items():
        try:
            name = registry.canonical(key)
        except ConfigError as exc:
            problems.append(Problem(f"{where}: platforms.{key}", str(exc)))
            continue
        model = registry.adapter_class(name).Settings
        try:
            platforms[name] = model.model_validate(table)
        except ValidationError as exc:
            problems += validation_problems(exc, model, where, f"platforms.{key}")
    for name, settings in platforms.items():
        if settings.continue_on is None:
            continue
        where_key = f"{where}: platforms.{name}.continue_on"
        try:
            other = registry.canonical(settings.continue_on)
        except ConfigError as exc:
            problems.append(Problem(where_key, str(exc)))
            continue
        if other == name:
            problems.append(Problem(where_key, "names this platform itself; name another one"))
        elif (target := platforms.get(other)) is not None and target.continue_on is not None:
            # One level only: a platform that waits for another must not be waited for.
            problems.append(
                Problem(
                    where_key,
                    f"{other} itself waits for {target.continue_on} (continue_on); "
                    "link to a platform that publishes on its own",
                )
            )
        else:
            platforms[name] = settings.model_copy(update={"continue_on": other})
    for i, link in enumerate(config.find_us.links if config.find_us else []):
        if link.platform is not None:
            try:
                registry.canonical(link.platform)
            except ConfigError as exc:
                problems.append(Problem(f"{where}: find_us.links[{i}].platform", str(exc)))
    if config.blackout:
        from crosspost.schedule import resolve_windows  # deferred: schedule imports this module

        zone = ZoneInfo(config.profile.timezone) if config.profile.timezone else None
        resolve_windows(config.blackout, zone, where, problems)
    if problems:
        raise ConfigError(problems)
    return Configuration(config=config, source=source, platforms=platforms)
