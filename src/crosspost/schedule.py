"""When an announcement goes out: which files a folder holds, and where each stands in time.

``crosspost run`` and ``crosspost queue`` share these rules (docs/state.md,
"Schedules, drafts and the queue"), so the agenda a person reads is the one
cron follows. Everything here is a pure function of its arguments except
``scan``, which lists a folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from crosspost.config import Configuration
from crosspost.duration import parse_duration
from crosspost.errors import InputError, Problem
from crosspost.models import Loaded

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
