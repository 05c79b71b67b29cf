"""The ledger: what was published where, so nothing goes out twice.

One JSON file per announcement in ``<user dir>/ledger/``. Before a platform's
publish starts, its entry is set to ``sending`` and written to disk; afterwards
to ``published``, ``failed`` or ``unknown``. A later run (cron, a retry after a
partial failure) publishes only the platforms that are not yet published, and
refuses the ones whose outcome is unknown (``sending`` left behind by a crash
counts as unknown) until a person has checked and says ``--force``.

Each announcement has a lock file: overlapping runs for the same announcement
wait for each other, and the second then finds the work done.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crosspost.adapter import Post
from crosspost.config import user_dir
from crosspost.errors import CrosspostError

#: How long a run waits for another run of the same announcement to finish.
LOCK_TIMEOUT = 15 * 60


class LedgerError(CrosspostError):
    """The ledger cannot be read, written or locked."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class Entry:
    """One platform's line in the ledger."""

    status: str
    hash: str
    at: str
    remote_id: str | None = None
    url: str | None = None
    message: str | None = None


def fingerprint(post: Post) -> str:
    """A hash of what a post sends: its text, title and media (names and sizes)."""
    data = {
        "parts": [p.text for p in post.parts],
        "title": post.title.text if post.title else None,
        "media": [[m.name, m.size, m.url] for m in post.media],
        "extra": post.extra,
        "options": post.options,
    }
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


class Ledger:
    """The ledger file of one announcement."""

    def __init__(self, announcement: str, directory: Path | None = None) -> None:
        self.directory = directory or user_dir() / "ledger"
        self.path = self.directory / f"{announcement}.json"
        self.announcement = announcement

    def entries(self) -> dict[str, Entry]:
        """Every platform's entry."""
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise LedgerError(
                f"{self.path}: the publish ledger cannot be read ({exc}); it records what was "
                "already published, so crosspost will not publish this announcement without it. "
                "Fix or remove the file (removing it forgets what was published)."
            ) from None
        return {name: Entry(**entry) for name, entry in data.get("platforms", {}).items()}

    def record(self, platform: str, status: str, post: Post, **fields: Any) -> None:
        """Set one platform's entry and write the file atomically (fsync, then rename)."""
        entries = self.entries()
        entries[platform] = Entry(
            status=status,
            hash=fingerprint(post),
            at=datetime.now(UTC).isoformat(timespec="seconds"),
            **fields,
        )
        data = {
            "announcement": self.announcement,
            "platforms": {name: vars_of(entry) for name, entry in entries.items()},
        }
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".ledger-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, ensure_ascii=False, indent=2)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @contextmanager
    def locked(self, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
        """Hold this announcement's lock; another run waits (up to ``timeout`` seconds)."""
        from filelock import FileLock, Timeout

        self.directory.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.path) + ".lock")
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise LedgerError(
                f"another crosspost run has been publishing '{self.announcement}' for over "
                f"{timeout / 60:.0f} minutes; nothing was published by this run"
            ) from None
        try:
            yield
        finally:
            lock.release()


def vars_of(entry: Entry) -> dict[str, Any]:
    """An entry as a JSON object, without empty fields."""
    return {k: getattr(entry, k) for k in entry.__slots__ if getattr(entry, k) is not None}
