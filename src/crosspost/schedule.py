"""When an announcement goes out: which files a folder holds, and where each stands in time.

``crosspost run`` and ``crosspost queue`` share these rules (docs/state.md,
"Schedules, drafts and the queue"), so the agenda a person reads is the one
cron follows. Everything here is a pure function of its arguments except
``scan``, which lists a folder.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from crosspost.config import Configuration
from crosspost.duration import parse_duration
from crosspost.errors import AnnouncementError, ConfigError, InputError, Problem
from crosspost.models import Blackout, Loaded

#: Where an announcement stands at a given moment. ``draft``: never published by
#: ``run``; ``unscheduled``: no ``publish_at``, so ``run`` leaves it alone (a
#: half-written file must not go out on the next cron run; ``crosspost publish
#: FILE`` still can); ``scheduled``: its time is ahead; ``due``: its time has
#: come and is at most ``max_late`` ago; ``late``: longer ago than that.
Timing = Literal["draft", "unscheduled", "scheduled", "due", "late"]

#: The config file's name: it sits among the announcements but is not one.
CONFIG_NAME = "crosspost.toml"
#: The longest wait between two tries of a failing platform, however many failed.
MAX_BACKOFF = timedelta(hours=24)

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def scan(directory: Path) -> list[Path]:
    """Every announcement file under ``directory``, recursively, sorted.

    An announcement is a ``*.toml`` file other than ``crosspost.toml``; a file
    or folder whose name starts with ``_`` or ``.`` is skipped with everything
    in it (``_drafts/``, ``.git/``, an editor's ``.swp``), so people can park
    files beside the live ones. Raises ``InputError`` when ``directory`` is
    missing, is not a folder, or has a folder that cannot be read (skipping it
    silently would silently never publish what it holds).
    """
    if not directory.exists():
        raise InputError(Problem(str(directory), "no such folder"))
    if not directory.is_dir():
        raise InputError(
            Problem(str(directory), "is a file, not a folder; give the folder of announcements")
        )

    def refuse(exc: OSError) -> None:
        where = exc.filename if exc.filename is not None else directory
        raise InputError(Problem(str(where), f"cannot read this folder: {exc.strerror}"))

    found: list[Path] = []
    for folder, subfolders, files in os.walk(directory, onerror=refuse):
        subfolders[:] = [name for name in subfolders if not _hidden(name)]
        found += [
            Path(folder, name)
            for name in files
            if name.endswith(".toml") and name != CONFIG_NAME and not _hidden(name)
        ]
    return sorted(found)


def _hidden(name: str) -> bool:
    return name.startswith(("_", "."))


def max_late(loaded: Loaded, config: Configuration) -> timedelta:
    """How long after ``publish_at`` the announcement may still go out.

    The announcement's own ``max_late`` wins over ``[schedule] max_late``.
    """
    return parse_duration(loaded.announcement.max_late or config.config.schedule.max_late)


def timing(loaded: Loaded, config: Configuration, now: datetime) -> Timing:
    """Where ``loaded`` stands at ``now`` (timezone-aware); see ``Timing``.

    Exactly at ``publish_at`` it is due, and still due exactly ``max_late`` after.
    """
    if loaded.announcement.draft:
        return "draft"
    if loaded.publish_at is None:
        return "unscheduled"
    if loaded.publish_at > now:
        return "scheduled"
    if now - loaded.publish_at > max_late(loaded, config):
        return "late"
    return "due"


def next_try(attempts: int, backoff: timedelta, now: datetime) -> datetime:
    """When a platform that failed ``attempts`` times in a row may be tried again.

    ``backoff`` after the first failure, then twice that, four times, and so
    on, never more than ``MAX_BACKOFF`` (a day): a platform that is down for a
    while is not hammered every cron run, and not forgotten either.
    """
    exponent = min(max(attempts, 1) - 1, 64)  # 2**64 backoffs exceed any cap; avoid overflow
    seconds = min(backoff.total_seconds() * 2.0**exponent, MAX_BACKOFF.total_seconds())
    return now + timedelta(seconds=seconds)


def duplicate_ids(found: Mapping[Path, str]) -> dict[str, list[Path]]:
    """The ids (from ``{file: id}``) used by more than one file, each with its files, sorted."""
    files: dict[str, list[Path]] = {}
    for path, announcement in found.items():
        files.setdefault(announcement, []).append(path)
    return {key: sorted(paths) for key, paths in sorted(files.items()) if len(paths) > 1}


def local(dt: datetime, config: Configuration) -> str:
    """``dt`` in the profile's timezone (UTC without one), e.g. ``Sat 2 Dec 2023 10:00 WIB``.

    The zone's abbreviation (``WIB``, ``CEST``; ``+07`` for zones without a
    letter one) always follows, so the time is never ambiguous to the reader,
    including the repeated hour when summer time ends. Day and month names are
    English whatever the locale, so cron mail reads the same on every host.
    """
    zone = config.timezone or UTC
    shown = dt.astimezone(zone)
    name = shown.tzname() or shown.strftime("%z")
    return (
        f"{_DAYS[shown.weekday()]} {shown.day} {_MONTHS[shown.month - 1]} {shown.year} "
        f"{shown.hour:02d}:{shown.minute:02d} {name}"
    )


# -- blackout windows (docs/state.md, "Blackout windows") ------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    """A resolved ``[[blackout]]`` table: from ``start`` up to (not including) ``end``.

    Both are timezone-aware. ``platforms`` is None when it holds back every
    platform. ``place`` says where it is written (``crosspost.toml: blackout[0]``).
    """

    start: datetime
    end: datetime
    reason: str
    platforms: tuple[str, ...] | None
    place: str

    def holds(self, when: datetime, platform: str) -> bool:
        """Whether ``platform`` may not publish at ``when`` because of this window."""
        inside = self.start <= when < self.end
        return inside and (self.platforms is None or platform in self.platforms)

    def to_json(self) -> dict[str, Any]:
        """The window in ``--json`` documents and in the state's flags."""
        return {
            "reason": self.reason,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "platforms": list(self.platforms) if self.platforms is not None else None,
            "place": self.place,
        }


def resolve_windows(
    tables: Sequence[Blackout],
    zone: ZoneInfo | None,
    where: str,
    problems: list[Problem],
) -> list[Window]:
    """``[[blackout]]`` tables as windows; each problem (naming the field) goes to ``problems``.

    A time without an offset is in ``zone``, the profile's timezone: without
    one it is refused, and a local time the clocks skip or repeat is refused as
    ``publish_at`` is (``crosspost.loader``). ``end`` must be after ``start``.
    """
    from crosspost.loader import _local_time  # the same rules as publish_at, not a copy

    found: list[Window] = []
    for i, table in enumerate(tables):
        place = f"{where}: blackout[{i}]"
        ends: list[datetime | None] = []
        for key, value in (("start", table.start), ("end", table.end)):
            if value.tzinfo is not None:
                ends.append(value)
            elif zone is None:
                problems.append(
                    Problem(
                        f"{place}.{key}",
                        "has no UTC offset and the config has no [profile] timezone; write it "
                        'like 2023-11-30T10:00:00+07:00, or set timezone = "Asia/Jakarta"',
                    )
                )
                ends.append(None)
            else:
                ends.append(_local_time(value, zone, str(zone), f"{place}.{key}", problems))
        start, end = ends
        if start is None or end is None:
            continue
        if end <= start:
            problems.append(
                Problem(
                    f"{place}.end",
                    f"{end.isoformat()} is not after start {start.isoformat()}; "
                    "the window ends when publishing may resume",
                )
            )
            continue
        platforms = tuple(table.platforms) if table.platforms is not None else None
        found.append(Window(start, end, table.reason, platforms, place))
    return found


def windows(loaded: Loaded, config: Configuration) -> list[Window]:
    """The blackout windows that apply to ``loaded``: the config's, then its own, by start.

    Raises ``ConfigError`` or ``AnnouncementError`` (every problem, each naming
    the field) when a window cannot be resolved.
    """
    problems: list[Problem] = []
    where = str(config.source) if config.source else "config"
    found = resolve_windows(config.config.blackout, config.timezone, where, problems)
    if problems:
        raise ConfigError(problems)
    tables = loaded.announcement.blackout
    found += resolve_windows(tables, config.timezone, str(loaded.source), problems)
    if problems:
        raise AnnouncementError(problems)
    return sorted(found, key=lambda w: (w.start, w.end))


def blackout_at(when: datetime, platform: str, found: Sequence[Window]) -> Window | None:
    """The window that holds ``platform`` back at ``when``, or None.

    Of overlapping windows, the one that ends last: that is when it may go out.
    """
    holding = [w for w in found if w.holds(when, platform)]
    return max(holding, key=lambda w: w.end) if holding else None


def blocked_platforms(
    now: datetime, platforms: Collection[str], found: Sequence[Window]
) -> dict[str, Window]:
    """Each of ``platforms`` that a window holds back at ``now``, with that window."""
    blocked: dict[str, Window] = {}
    for name in platforms:
        window = blackout_at(now, name, found)
        if window is not None:
            blocked[name] = window
    return blocked


def held_back(
    loaded: Loaded,
    config: Configuration,
    now: datetime,
    platforms: Collection[str],
    found: Sequence[Window],
) -> dict[str, Window]:
    """The platforms a window holds back at the moment ``run`` would publish ``loaded``.

    That moment is ``publish_at`` while it is ahead, and ``now`` once it is due.
    Drafts, unscheduled and late announcements are not held back by a window
    (``run`` does not publish them anyway).
    """
    state = timing(loaded, config, now)
    if state not in ("scheduled", "due") or loaded.publish_at is None:
        return {}
    moment = loaded.publish_at if state == "scheduled" else now
    return blocked_platforms(moment, platforms, found)


def blackout_note(window: Window, config: Configuration) -> str:
    """``blackout: <reason> (until <local end>)``, for people."""
    return f"blackout: {window.reason} (until {local(window.end, config)})"


def window_from_json(data: Mapping[str, Any]) -> Window | None:
    """A window as ``Window.to_json`` wrote it (into the state's flags); None if unreadable."""
    try:
        platforms = data.get("platforms")
        return Window(
            datetime.fromisoformat(str(data["start"])),
            datetime.fromisoformat(str(data["end"])),
            str(data["reason"]),
            tuple(str(p) for p in platforms) if isinstance(platforms, list) else None,
            str(data.get("place", "")),
        )
    except (KeyError, TypeError, ValueError):
        return None


def held_while_due(
    loaded: Loaded, config: Configuration, platform: str, found: Sequence[Window]
) -> Window | None:
    """A window that held ``platform`` back for part of the time ``loaded`` was due.

    That time runs from ``publish_at`` to ``max_late`` after it. Of several, the
    one that ends last. None when no window touched it (or there is no ``publish_at``).
    """
    if loaded.publish_at is None:
        return None
    first, last = loaded.publish_at, loaded.publish_at + max_late(loaded, config)
    touching = [
        w
        for w in found
        if w.start <= last and w.end > first and (w.platforms is None or platform in w.platforms)
    ]
    return max(touching, key=lambda w: w.end) if touching else None


def too_late_after(window: Window, loaded: Loaded, config: Configuration) -> bool:
    """Whether ``window`` ends more than ``max_late`` after ``publish_at`` (run then skips it)."""
    if loaded.publish_at is None:
        return False
    return window.end - loaded.publish_at > max_late(loaded, config)
