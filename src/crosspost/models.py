"""The announcement a user writes, as strict pydantic models.

``extra="forbid"`` everywhere: a typo in a key is an error with a "did you
mean", never a setting silently ignored. ``strict=True``: TOML already has
types, so a string where a list belongs is a mistake to report, not coerce.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from crosspost.media import MediaFile

MediaKind = Literal["image", "video"]


class Model(BaseModel):
    """Base of every user-facing model: strict, closed, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Media(Model):
    """One image or video, given by a path relative to the announcement, a URL, or both."""

    path: str | None = None
    url: str | None = None
    alt: str | None = Field(default=None, max_length=1000)  # X's alt-text limit, the lowest
    kind: MediaKind | None = None  # normally sniffed from the file; needed for a URL alone

    @field_validator("url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be a public http(s) URL")
        return value


class Blackout(Model):
    """A ``[[blackout]]`` table: a period in which nothing goes out on a schedule.

    The campaign quiet period before a vote, an embargo on results, a day of
    mourning. In the config it holds back every announcement; in an
    announcement, that announcement alone. ``start`` and ``end`` carry an
    offset or are local times in the profile's timezone; ``end`` is excluded
    (at ``end`` publishing may resume). ``reason`` is shown to people.
    ``platforms``: the only platforms it holds back (default: all).
    Resolved by ``crosspost.schedule.resolve_windows`` (docs/state.md,
    "Blackout windows").
    """

    start: datetime
    end: datetime
    reason: str
    platforms: list[str] | None = None

    @field_validator("reason")
    @classmethod
    def _said(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is empty; say why nothing may go out (it is shown to people)")
        return value.strip()

    @field_validator("platforms")
    @classmethod
    def _known(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("is empty; leave the key out to hold back every platform")
        from crosspost import registry
        from crosspost.errors import ConfigError

        found: list[str] = []
        for name in value:
            try:
                canonical = registry.canonical(name)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
            if canonical not in found:
                found.append(canonical)
        return found


class Overrides(Model):
    """A ``[platforms.<name>]`` table: any shared field, replaced for that platform only.

    Adapters subclass it to add their own options (X's ``thread``, TikTok's
    ``privacy_level``); the subclass is what validates the table.
    """

    title: str | None = None
    body: str | None = None
    hashtags: list[str] | None = None
    link: str | None = None
    media: list[Media] | None = None


class Announcement(Model):
    """One announcement, written once, fitted to every platform it goes to.

    ``platforms`` is either the list of platforms to publish to, or a table of
    per-platform overrides (TOML cannot hold both under one key): with override
    tables, put the list in ``targets``.
    """

    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    title: str | None = None
    body: str
    hashtags: list[str] = []
    link: str | None = None
    language: str | None = Field(default=None, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
    publish_at: datetime | None = None
    #: A draft is validated and previewed but never published (``run`` skips it).
    draft: bool = False
    #: Overrides ``[schedule] max_late`` for this announcement ("12h", "2d").
    max_late: str | None = None
    targets: list[str] | None = None
    platforms: list[str] | dict[str, dict[str, Any]] = {}
    media: list[Media] = []
    #: ``[[blackout]]`` windows for this announcement alone (a one-off embargo),
    #: on top of the config's.
    blackout: list[Blackout] = []

    @field_validator("body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("is empty; write the announcement text here")
        return value

    @field_validator("max_late")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            from crosspost.duration import parse_duration

            parse_duration(value)
        return value

    @field_validator("link")
    @classmethod
    def _link_is_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// or http://")
        return value


@dataclass(frozen=True, slots=True)
class Loaded:
    """An announcement after loading and checking: the model plus what loading resolved.

    ``targets`` is the resolved list of platforms (None: every enabled one);
    ``overrides`` maps canonical platform names to their validated options;
    ``media`` and ``platform_media`` are the resolved, sniffed media files;
    ``publish_at`` is timezone-aware (a local time took the profile's zone).
    """

    announcement: Announcement
    source: Path
    id: str
    targets: tuple[str, ...] | None
    overrides: dict[str, Overrides]
    media: tuple[MediaFile, ...]
    platform_media: dict[str, tuple[MediaFile, ...]]
    publish_at: datetime | None
    #: Things worth a look that do not stop publishing (a publish_at years ahead),
    #: one line each naming the file and the field.
    warnings: tuple[str, ...] = ()
