"""Publish state: what was sent where, written the moment it changes (docs/state.md).

One SQLite database per state directory (``state.sqlite3``, WAL, one
transaction per change, ``synchronous=FULL`` so a committed change survives a
crash or a power cut). It replaces the JSON ledgers of earlier versions, which
are imported on first use and kept beside it as ``*.json.migrated``.

``Store`` is the whole interface the rest of crosspost uses, so a server
database could stand in for SQLite later (several cron hosts sharing one state).

Per announcement it keeps the file it came from (``Source``), one ``Entry`` per
platform, a small ``meta`` dict (a late skip already reported, say) and an
append-only event history. Locks are files beside the database (filelock): one
per announcement (overlapping publishes of the same announcement wait for each
other) and one for ``crosspost run`` (a second run exits at once).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from crosspost.errors import CrosspostError

#: How a platform's publish stands. ``sending``: the irreversible step was about
#: to go out (or went out) and no answer was recorded; ``unknown``: it went out
#: and nobody can tell yet whether it landed; ``not_published``: a person (or a
#: lookup) established that it did not, so publishing again is safe.
Status = Literal["sending", "published", "failed", "unknown", "not_published"]

#: How long a publish waits for another run of the same announcement to finish.
LOCK_TIMEOUT = 15 * 60
#: The database file inside the state directory.
DB_NAME = "state.sqlite3"


class StateError(CrosspostError):
    """The state cannot be read, written or locked: nothing is sent (exit 1)."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class Entry:
    """One platform's state for one announcement.

    ``at`` is when it last changed, ``sent_at`` when the irreversible step was
    recorded as ``sending`` (both ISO-8601 UTC, seconds). ``handles`` are what
    the adapter recorded to find the post after a lost answer; never secrets.
    ``attempts`` counts failed tries in a row (reset when published);
    ``next_try`` is when ``run`` may try a failed platform again; ``reported``
    says this state was already told to a person (cron stays quiet about it).
    """

    platform: str
    status: Status
    hash: str
    at: str
    remote_id: str | None = None
    url: str | None = None
    code: str | None = None
    message: str | None = None
    handles: Mapping[str, Any] = field(default_factory=dict)
    sent_at: str | None = None
    attempts: int = 0
    next_try: str | None = None
    reported: bool = False


@dataclass(frozen=True, slots=True)
class Source:
    """The file an announcement id was last published from, and a hash of its bytes."""

    path: str
    content: str


class Store(Protocol):
    """Where publish state lives; SQLite today (``SqliteStore``)."""

    #: Shown by ``status`` and ``doctor``: the directory (or server) holding the state.
    location: str

    def check_writable(self) -> None:
        """Raise ``StateError`` unless a change can be written now (permissions, free space)."""

    def source(self, announcement: str) -> Source | None:
        """The file ``announcement`` was last published from, or None."""

    def set_source(self, announcement: str, source: Source) -> None:
        """Record the file ``announcement`` is published from."""

    def entries(self, announcement: str) -> dict[str, Entry]:
        """Every platform's entry for ``announcement``."""

    def put(self, announcement: str, entry: Entry) -> None:
        """Write one platform's entry (one transaction, durable when it returns)."""

    def meta(self, announcement: str) -> dict[str, Any]:
        """The announcement's small JSON dict of flags (``late_reported``, say)."""

    def set_meta(self, announcement: str, **values: Any) -> None:
        """Merge ``values`` into the announcement's flags (None removes a key)."""

    def announcements(self) -> Iterator[str]:
        """Every announcement id the state knows."""

    def locked(
        self, announcement: str, timeout: float = LOCK_TIMEOUT
    ) -> AbstractContextManager[None]:
        """Hold ``announcement``'s lock; raise ``StateError`` after ``timeout`` seconds."""

    def run_lock(self) -> AbstractContextManager[bool]:
        """Try the ``crosspost run`` lock without waiting: True when held, False when taken."""

    def close(self) -> None:
        """Release the database."""


def open_store(directory: Path) -> Store:
    """The state in ``directory`` (created if needed); JSON ledgers found are imported."""
    raise NotImplementedError


def state_dir(config_state_dir: str | None, config_source: Path | None) -> Path:
    """The state directory: ``state_dir`` from config (relative to the config file), else
    ``$CROSSPOST_HOME/state``, else the user state directory (platformdirs)."""
    raise NotImplementedError
