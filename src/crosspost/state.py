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

Every failure of the database or the file system surfaces as a ``StateError``
whose message names the file and says what to do; never as a bare
``sqlite3.OperationalError``.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, cast, get_args
from urllib.parse import quote

from crosspost.errors import ConfigError, CrosspostError

#: How a platform's publish stands. ``sending``: the irreversible step was about
#: to go out (or went out) and no answer was recorded; ``unknown``: it went out
#: and nobody can tell yet whether it landed; ``not_published``: a person (or a
#: lookup) established that it did not, so publishing again is safe.
Status = Literal["sending", "published", "failed", "unknown", "not_published"]
#: The statuses, for checking what is read back.
STATUSES: tuple[str, ...] = get_args(Status)

#: How long a publish waits for another run of the same announcement to finish.
LOCK_TIMEOUT = 15 * 60
#: The database file inside the state directory.
DB_NAME = "state.sqlite3"
#: How long SQLite waits for another process's write transaction before giving up.
BUSY_TIMEOUT = 30.0
#: Below this much free space ``check_writable`` refuses: a publish must be able to
#: record each step before it takes it.
MIN_FREE_BYTES = 1024 * 1024
#: Suffix given to an imported JSON ledger (kept, never deleted).
MIGRATED_SUFFIX = ".migrated"

#: The schema, one migration per version, applied in order, each in one
#: transaction; ``PRAGMA user_version`` says how many were applied. Append, never
#: edit: a later version adds a column with ``ALTER TABLE ... ADD COLUMN`` in a
#: new migration. No ``STRICT`` tables (SQLite 3.37+, newer than some Pythons
#: ship): types are checked when rows are read back instead.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: the initial schema
        """CREATE TABLE announcements (
            id TEXT PRIMARY KEY NOT NULL,
            source_path TEXT,
            source_hash TEXT,
            meta TEXT NOT NULL DEFAULT '{}'
        )""",
        """CREATE TABLE entries (
            announcement TEXT NOT NULL REFERENCES announcements (id),
            platform TEXT NOT NULL,
            status TEXT NOT NULL,
            hash TEXT NOT NULL,
            at TEXT NOT NULL,
            remote_id TEXT,
            url TEXT,
            code TEXT,
            message TEXT,
            handles TEXT NOT NULL DEFAULT '{}',
            sent_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_try TEXT,
            reported INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (announcement, platform)
        ) WITHOUT ROWID""",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            announcement TEXT NOT NULL REFERENCES announcements (id),
            platform TEXT NOT NULL,
            status TEXT NOT NULL,
            at TEXT NOT NULL,
            message TEXT
        )""",
        # Per-announcement reads stay as fast with years of history as on day one.
        "CREATE INDEX events_by_announcement ON events (announcement, id)",
        # check_writable writes here: a real transaction, the only proof a write will work.
        "CREATE TABLE heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1), at TEXT NOT NULL)",
    ),
)

_ENTRY_COLUMNS = (
    "platform, status, hash, at, remote_id, url, code, message, handles, sent_at, attempts, "
    "next_try, reported"
)


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


@dataclass(frozen=True, slots=True)
class Event:
    """One line of an announcement's history: a platform's entry as it was written."""

    platform: str
    status: str
    at: str
    message: str | None = None


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


class _Malformed(ValueError):
    """A row or an old ledger holds something crosspost never writes there."""


class SqliteStore:
    """The publish state in ``directory/state.sqlite3`` (see the module docstring).

    One connection per store, shared by the threads of one process under a lock;
    other processes see each change as soon as ``put`` (or ``set_*``) returns.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / DB_NAME
        self.location = str(self.directory)
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateError(
                f"{self.directory}: the state directory cannot be created ({_reason(exc)}); "
                "set state_dir in the config to a directory crosspost can write"
            ) from exc
        try:
            with self._guard():
                self._db = sqlite3.connect(
                    self.path,
                    timeout=BUSY_TIMEOUT,
                    isolation_level=None,  # transactions are explicit: BEGIN IMMEDIATE per change
                    check_same_thread=False,  # guarded by self._lock instead
                )
                # WAL: readers never block the writer and a commit is one append;
                # FULL: each commit is fsynced, so it survives a power cut too.
                # https://www.sqlite.org/wal.html, https://www.sqlite.org/pragma.html#pragma_synchronous
                self._db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = FULL")
                self._db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------------

    def source(self, announcement: str) -> Source | None:
        """The file ``announcement`` was last published from, or None."""
        row = self._one(
            "SELECT source_path, source_hash FROM announcements WHERE id = ?", announcement
        )
        if row is None or row[0] is None:
            return None
        path, content = row
        if not isinstance(path, str) or not isinstance(content, str):
            raise self._unreadable(f"the source of '{announcement}' is not a text")
        return Source(path, content)

    def entries(self, announcement: str) -> dict[str, Entry]:
        """Every platform's entry for ``announcement``, by platform name."""
        rows = self._all(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE announcement = ? ORDER BY platform",
            announcement,
        )
        result = {}
        for row in rows:
            try:
                entry = _entry_from_row(row)
            except _Malformed as exc:
                raise self._unreadable(f"the entry of '{announcement}' on {row[0]} {exc}") from None
            result[entry.platform] = entry
        return result

    def meta(self, announcement: str) -> dict[str, Any]:
        """The announcement's small JSON dict of flags (``late_reported``, say)."""
        row = self._one("SELECT meta FROM announcements WHERE id = ?", announcement)
        if row is None:
            return {}
        try:
            return _json_object(row[0])
        except _Malformed as exc:
            raise self._unreadable(f"the flags of '{announcement}' {exc}") from None

    def announcements(self) -> Iterator[str]:
        """Every announcement id the state knows, in order."""
        rows = self._all("SELECT id FROM announcements ORDER BY id")
        ids = [row[0] for row in rows]
        if not all(isinstance(i, str) for i in ids):
            raise self._unreadable("an announcement id is not a text")
        return iter(ids)

    def history(self, announcement: str) -> list[Event]:
        """Every entry ever written for ``announcement``, oldest first (append-only)."""
        rows = self._all(
            "SELECT platform, status, at, message FROM events WHERE announcement = ? ORDER BY id",
            announcement,
        )
        for platform, status, at, message in rows:
            if not all(isinstance(v, str) for v in (platform, status, at)) or not isinstance(
                message, str | None
            ):
                raise self._unreadable(f"the history of '{announcement}' holds a wrong type")
        return [Event(*row) for row in rows]

    # -- writing -----------------------------------------------------------------

    def put(self, announcement: str, entry: Entry) -> None:
        """Write one platform's entry and its history line (one transaction, durable on return)."""
        row = _row_of(entry)
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO announcements (id) VALUES (?)", (announcement,))
            db.execute(
                f"INSERT OR REPLACE INTO entries (announcement, {_ENTRY_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (announcement, *row),
            )
            db.execute(
                "INSERT INTO events (announcement, platform, status, at, message) "
                "VALUES (?, ?, ?, ?, ?)",
                (announcement, entry.platform, entry.status, entry.at, entry.message),
            )

    def set_source(self, announcement: str, source: Source) -> None:
        """Record the file ``announcement`` is published from (one transaction)."""
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO announcements (id) VALUES (?)", (announcement,))
            db.execute(
                "UPDATE announcements SET source_path = ?, source_hash = ? WHERE id = ?",
                (source.path, source.content, announcement),
            )

    def set_meta(self, announcement: str, **values: Any) -> None:
        """Merge ``values`` into the announcement's flags; None removes a key (one transaction)."""
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO announcements (id) VALUES (?)", (announcement,))
            (raw,) = db.execute(
                "SELECT meta FROM announcements WHERE id = ?", (announcement,)
            ).fetchone()
            try:
                meta = _json_object(raw)
            except _Malformed as exc:
                raise self._unreadable(f"the flags of '{announcement}' {exc}") from None
            for key, value in values.items():
                if value is None:
                    meta.pop(key, None)
                else:
                    meta[key] = value
            db.execute(
                "UPDATE announcements SET meta = ? WHERE id = ?",
                (json.dumps(meta, ensure_ascii=False, allow_nan=False), announcement),
            )

    def check_writable(self) -> None:
        """Raise ``StateError`` unless a change can be written now.

        Checks free space, creates (and removes) a file in the directory as lock
        files and SQLite's ``-wal`` file need to, and commits a real transaction:
        permissions, read-only mounts and full disks all show up here, before
        anything is sent.
        """
        try:
            free = shutil.disk_usage(self.directory).free
        except OSError as exc:
            raise self._error(exc) from exc
        if free < MIN_FREE_BYTES:
            raise StateError(
                f"{self.directory}: only {free // 1024} KiB free on the disk holding the publish "
                "state; crosspost records each step before it takes it, so it sends nothing. "
                "Free some space there or set state_dir in the config"
            )
        try:
            fd, probe = tempfile.mkstemp(dir=self.directory, prefix=".write-check-")
            try:
                os.write(fd, b"ok")
                os.fsync(fd)
            finally:
                os.close(fd)
                os.unlink(probe)
        except OSError as exc:
            raise self._error(exc) from exc
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO heartbeat (id, at) VALUES (1, ?)",
                (datetime.now(UTC).isoformat(timespec="seconds"),),
            )

    def import_ledgers(self, folder: Path) -> list[Path]:
        """Import the JSON ledgers of earlier versions found in ``folder``; the imported files.

        A ledger is imported only when the state has no entry for its
        announcement yet, then renamed to ``*.json.migrated`` (kept, never
        deleted). A ledger that cannot be read stays where it is and is
        reported as a ``StateError`` naming it, after the others were imported.
        """
        try:
            files = sorted(folder.glob("*.json")) if folder.is_dir() else []
        except OSError as exc:
            raise StateError(
                f"{folder}: the folder of old publish ledgers cannot be read ({_reason(exc)})"
            ) from exc
        imported: list[Path] = []
        problems: list[str] = []
        for path in files:
            try:
                announcement, entries = _read_ledger(path)
            except FileNotFoundError:  # another process migrated it meanwhile
                continue
            except (OSError, ValueError) as exc:
                problems.append(
                    f"{path}: an old publish ledger cannot be read ({_reason(exc)}); it records "
                    "what was already published, so crosspost will not publish without it. "
                    f"Fix the file, or rename it to {path.name}{MIGRATED_SUFFIX} to skip it "
                    "(crosspost then forgets what it recorded)"
                )
                continue
            with self._transaction() as db:
                known = db.execute(
                    "SELECT 1 FROM entries WHERE announcement = ? LIMIT 1", (announcement,)
                ).fetchone()
                if known is None:
                    db.execute(
                        "INSERT OR IGNORE INTO announcements (id) VALUES (?)", (announcement,)
                    )
                    for entry in entries:
                        db.execute(
                            f"INSERT INTO entries (announcement, {_ENTRY_COLUMNS}) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                            (announcement, *_row_of(entry)),
                        )
                        note = f"imported from {path.name}"
                        db.execute(
                            "INSERT INTO events (announcement, platform, status, at, message) "
                            "VALUES (?, ?, ?, ?, ?)",
                            (
                                announcement,
                                entry.platform,
                                entry.status,
                                entry.at,
                                f"{note}: {entry.message}" if entry.message else note,
                            ),
                        )
            # Renamed after the commit: a crash in between leaves the file to be
            # seen again, and then skipped because the entries exist.
            try:
                path.rename(_free_name(path.with_name(path.name + MIGRATED_SUFFIX)))
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise StateError(
                    f"{path}: an old publish ledger was imported but cannot be renamed "
                    f"({_reason(exc)}); rename it to {path.name}{MIGRATED_SUFFIX} by hand"
                ) from exc
            if known is None:
                imported.append(path)
        if problems:
            raise StateError("\n".join(problems))
        return imported

    # -- locks -------------------------------------------------------------------

    @contextmanager
    def locked(self, announcement: str, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
        """Hold ``announcement``'s lock; raise ``StateError`` after ``timeout`` seconds."""
        from filelock import FileLock, Timeout

        path = self.directory / "locks" / f"{_file_name(announcement)}.lock"
        lock = FileLock(path)
        try:
            path.parent.mkdir(exist_ok=True)
            lock.acquire(timeout=timeout)
        except Timeout:  # before OSError: filelock's Timeout is a TimeoutError
            raise StateError(
                f"another crosspost run has been publishing '{announcement}' for over "
                f"{_span(timeout)} (lock {path}); nothing was published by this run"
            ) from None
        except OSError as exc:
            raise self._error(exc) from exc
        try:
            yield
        finally:
            lock.release()

    @contextmanager
    def run_lock(self) -> Iterator[bool]:
        """Try the ``crosspost run`` lock without waiting: True when held, False when taken."""
        from filelock import FileLock, Timeout

        lock = FileLock(self.directory / "run.lock")
        try:
            lock.acquire(blocking=False)
            held = True
        except Timeout:
            held = False
        except OSError as exc:
            raise self._error(exc) from exc
        try:
            yield held
        finally:
            if held:
                lock.release()

    def close(self) -> None:
        """Release the database (a second call does nothing)."""
        with self._lock:
            db, self._db = self._db, None
            if db is not None:
                with self._guard():
                    db.close()

    # -- internals ---------------------------------------------------------------

    def _migrate(self) -> None:
        """Bring the schema up to ``len(MIGRATIONS)``, one transaction per version."""
        if self._version() == len(MIGRATIONS):
            return
        with self._transaction() as db:
            # Read again under the write lock: another process may have migrated meanwhile.
            version = self._version()
            for number in range(version + 1, len(MIGRATIONS) + 1):
                for statement in MIGRATIONS[number - 1]:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    def _version(self) -> int:
        """The schema version of the file; StateError when this crosspost cannot use it."""
        version = self._one("PRAGMA user_version")
        number = version[0] if version else 0
        if number > len(MIGRATIONS):
            raise StateError(
                f"{self.path}: the publish state was written by a newer crosspost (schema "
                f"version {number}; this one knows up to {len(MIGRATIONS)}); upgrade crosspost"
            )
        if not isinstance(number, int) or number < 0:
            raise self._unreadable(f"its schema version is {number}")
        return number

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise StateError(f"{self.path}: the publish state was already closed")
        return self._db

    def _one(self, sql: str, *params: object) -> tuple[Any, ...] | None:
        with self._lock, self._guard():
            row: tuple[Any, ...] | None = self._connection().execute(sql, params).fetchone()
            return row

    def _all(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        with self._lock, self._guard():
            return self._connection().execute(sql, params).fetchall()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed (and fsynced) on exit, rolled back on error."""
        with self._lock, self._guard():
            db = self._connection()
            # IMMEDIATE takes the write lock now, so a read-modify-write in it
            # (set_meta, the migration check) cannot race another process.
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    with suppress(sqlite3.Error):
                        db.execute("ROLLBACK")
                raise

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn SQLite's and the file system's errors into a readable ``StateError``."""
        try:
            yield
        except (sqlite3.Error, OSError) as exc:
            raise self._error(exc) from exc

    def _error(self, exc: sqlite3.Error | OSError) -> StateError:
        """The ``StateError`` for ``exc``: what went wrong with which file, and what to do."""
        reason = _reason(exc)
        kind = _kind(exc)
        if kind == "unreadable":
            return self._unreadable(reason)
        if kind == "access":
            return StateError(
                f"{self.path}: crosspost cannot write its publish state ({reason}); "
                f"fix the permissions of {self.directory} or set state_dir in the config"
            )
        if kind == "full":
            return StateError(
                f"{self.path}: the disk holding the publish state is full ({reason}); "
                f"free some space in {self.directory} or set state_dir in the config"
            )
        if kind == "busy":
            return StateError(
                f"{self.path}: another crosspost process kept the publish state busy for over "
                f"{_span(BUSY_TIMEOUT)} ({reason}); try again when it has finished"
            )
        return StateError(
            f"{self.path}: the publish state cannot be used ({reason}); check the disk holding "
            f"{self.directory} or set state_dir in the config"
        )

    def _unreadable(self, reason: str) -> StateError:
        return StateError(
            f"{self.path}: the publish state cannot be read ({reason}); it records what was "
            "already published, so crosspost will not publish without it. Restore the file from "
            "a backup, or move it away to start afresh (crosspost then forgets what it published)"
        )


def open_store(directory: Path, *, legacy: Path | None = None) -> Store:
    """The state in ``directory`` (created if needed); JSON ledgers found are imported.

    ``legacy`` is the folder of the JSON ledgers of earlier versions; by default
    ``<user dir>/ledger``, where they used to live.
    """
    if legacy is None:
        from crosspost.config import user_dir

        legacy = user_dir() / "ledger"
    store = SqliteStore(directory)
    try:
        store.import_ledgers(legacy)
    except BaseException:
        store.close()
        raise
    return store


def state_dir(config_state_dir: str | None, config_source: Path | None) -> Path:
    """The state directory: ``state_dir`` from config (relative to the config file), else
    ``$CROSSPOST_HOME/state``, else the user state directory (platformdirs).

    An empty ``state_dir`` counts as not set. ``~`` is expanded in both.
    """
    if config_state_dir:
        path = Path(config_state_dir).expanduser()
        if not path.is_absolute() and config_source is not None:
            path = config_source.parent / path
        # resolve(), not a textual clean-up: '..' after a symlinked config folder
        # must lead where the operating system would go.
        return path.resolve()
    home = os.environ.get("CROSSPOST_HOME")
    if home:
        path = Path(home).expanduser()
        if not path.is_absolute():
            # cron runs in another working directory: a relative home would find
            # other (or no) state there, and everything would be published again.
            raise ConfigError(
                f"CROSSPOST_HOME is '{home}', a relative path; set it to an absolute path "
                "(a cron job runs in another working directory)"
            )
        return path / "state"
    import platformdirs

    return Path(platformdirs.user_state_dir("crosspost", appauthor=False))


# -- rows and old ledgers ----------------------------------------------------------


def _row_of(entry: Entry) -> tuple[object, ...]:
    """The entry's columns (after ``announcement``); ValueError for what could not be read back."""
    for name in ("platform", "status", "hash", "at"):
        if not isinstance(getattr(entry, name), str):
            raise ValueError(f"Entry.{name} must be a str, not {getattr(entry, name)!r}")
    for name in ("remote_id", "url", "code", "message", "sent_at", "next_try"):
        if not isinstance(getattr(entry, name), str | None):
            raise ValueError(f"Entry.{name} must be a str or None, not {getattr(entry, name)!r}")
    if entry.status not in STATUSES:
        raise ValueError(f"Entry.status must be one of {', '.join(STATUSES)}, not {entry.status!r}")
    if type(entry.attempts) is not int or entry.attempts < 0:
        raise ValueError(f"Entry.attempts must be an int >= 0, not {entry.attempts!r}")
    if not isinstance(entry.reported, bool):
        raise ValueError(f"Entry.reported must be a bool, not {entry.reported!r}")
    handles = json.dumps(dict(entry.handles), ensure_ascii=False, allow_nan=False)
    return (
        entry.platform,
        entry.status,
        entry.hash,
        entry.at,
        entry.remote_id,
        entry.url,
        entry.code,
        entry.message,
        handles,
        entry.sent_at,
        entry.attempts,
        entry.next_try,
        int(entry.reported),
    )


def _entry_from_row(row: tuple[Any, ...]) -> Entry:
    """An ``Entry`` from its columns; ``_Malformed`` for a value crosspost never writes."""
    (platform, status, hash_, at, remote_id, url, code, message) = row[:8]
    (handles, sent_at, attempts, next_try, reported) = row[8:]
    for name, value in (("platform", platform), ("status", status), ("hash", hash_), ("at", at)):
        if not isinstance(value, str):
            raise _Malformed(f"has a {name} that is not a text")
    for name, value in (
        ("remote_id", remote_id),
        ("url", url),
        ("code", code),
        ("message", message),
        ("sent_at", sent_at),
        ("next_try", next_try),
    ):
        if not isinstance(value, str | None):
            raise _Malformed(f"has a {name} that is not a text")
    if status not in STATUSES:
        raise _Malformed(f"has an unknown status '{status}'")
    if type(attempts) is not int or attempts < 0:
        raise _Malformed(f"has attempts '{attempts}', not a count")
    if type(reported) is not int or reported not in (0, 1):
        raise _Malformed(f"has reported '{reported}', not 0 or 1")
    try:
        handles_dict = _json_object(handles)
    except _Malformed as exc:
        raise _Malformed(f"has handles that {exc}") from None
    return Entry(
        platform=platform,
        status=cast(Status, status),
        hash=hash_,
        at=at,
        remote_id=remote_id,
        url=url,
        code=code,
        message=message,
        handles=handles_dict,
        sent_at=sent_at,
        attempts=attempts,
        next_try=next_try,
        reported=bool(reported),
    )


def _json_object(raw: object) -> dict[str, Any]:
    """A JSON object column as a dict; ``_Malformed`` otherwise."""
    if not isinstance(raw, str):
        raise _Malformed("are not JSON text")
    try:
        value = json.loads(raw)
    except ValueError:
        raise _Malformed("are not valid JSON") from None
    if not isinstance(value, dict):
        raise _Malformed("are not a JSON object")
    return value


def _read_ledger(path: Path) -> tuple[str, list[Entry]]:
    """An old JSON ledger: its announcement id and entries (crosspost.ledger's format).

    A ``sending`` or ``unknown`` entry gets ``sent_at`` = its ``at``: the send was
    no later than that, so waiting for the platform to settle counts from a time
    that is late rather than early (docs/state.md).
    """
    data = json.loads(path.read_text("utf-8"))
    if not isinstance(data, dict):
        raise _Malformed("not a JSON object")
    announcement = data.get("announcement", path.stem)
    if not isinstance(announcement, str) or not announcement:
        raise _Malformed("'announcement' is not a text")
    platforms = data.get("platforms", {})
    if not isinstance(platforms, dict):
        raise _Malformed("'platforms' is not an object")
    entries = []
    for name, raw in platforms.items():
        if not isinstance(raw, dict):
            raise _Malformed(f"platform '{name}' is not an object")
        texts = {key: raw.get(key) for key in ("status", "hash", "at")}
        optional = {key: raw.get(key) for key in ("remote_id", "url", "message")}
        for key, value in texts.items():
            if not isinstance(value, str):
                raise _Malformed(f"'{name}.{key}' is missing or not a text")
        for key, value in optional.items():
            if not isinstance(value, str | None):
                raise _Malformed(f"'{name}.{key}' is not a text")
        status = texts["status"]
        if status not in STATUSES:
            raise _Malformed(f"'{name}.status' is '{status}', not one of {', '.join(STATUSES)}")
        at = cast(str, texts["at"])
        entries.append(
            Entry(
                platform=name,
                status=cast(Status, status),
                hash=cast(str, texts["hash"]),
                at=at,
                remote_id=optional["remote_id"],
                url=optional["url"],
                message=optional["message"],
                sent_at=at if status in ("sending", "unknown") else None,
            )
        )
    return announcement, entries


# -- small helpers -----------------------------------------------------------------


def _kind(exc: sqlite3.Error | OSError) -> str:
    """What kind of failure ``exc`` is: unreadable, access, full, busy or other."""
    if isinstance(exc, OSError):
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return "access"
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
            return "full"
        return "other"
    # Extended result codes share their primary code's prefix (SQLITE_IOERR_WRITE).
    # https://www.sqlite.org/rescode.html
    name = getattr(exc, "sqlite_errorname", None) or ""
    for prefix, kind in (
        ("SQLITE_CORRUPT", "unreadable"),
        ("SQLITE_NOTADB", "unreadable"),
        ("SQLITE_FORMAT", "unreadable"),
        ("SQLITE_MISMATCH", "unreadable"),
        ("SQLITE_ERROR", "unreadable"),  # "no such table": not a crosspost state file
        ("SQLITE_READONLY", "access"),
        ("SQLITE_PERM", "access"),
        ("SQLITE_CANTOPEN", "access"),
        ("SQLITE_AUTH", "access"),
        ("SQLITE_FULL", "full"),
        ("SQLITE_BUSY", "busy"),
        ("SQLITE_LOCKED", "busy"),
    ):
        if name.startswith(prefix):
            return kind
    return "other"


def _reason(exc: BaseException) -> str:
    """The cause in words, without an exception class name."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:1].lower() + exc.strerror[1:]  # "permission denied"
    return str(exc) or "no details"


def _span(seconds: float) -> str:
    """``15 minutes``, ``1 minute``, ``30 seconds``, ``0.2 seconds``."""
    if seconds >= 60:
        minutes = seconds / 60
        return f"{minutes:g} minute" + ("" if minutes == 1 else "s")
    return f"{seconds:g} second" + ("" if seconds == 1 else "s")


def _file_name(announcement: str) -> str:
    """``announcement`` as a safe file name: itself when it is one, else escaped or hashed."""
    name = quote(announcement, safe="-_.")
    if name.startswith("."):
        name = "%2E" + name[1:]  # no hidden files, no '.' or '..'
    if len(name) > 200:  # file names stop at 255 bytes
        name = name[:100] + "-" + hashlib.sha256(announcement.encode()).hexdigest()[:16]
    return name


def _free_name(path: Path) -> Path:
    """``path``, or ``path.2``, ``path.3``... : the first that does not exist (never overwrite)."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}.{number}")
    return candidate
