"""The journal: each platform's state written to the store the moment it changes.

Before an irreversible step an entry says ``sending`` with the handles that find
the post afterwards; the moment the platform answers it says ``published``. The
announcement id is bound to the file it is published from. docs/state.md has the
whole table of moments and entries.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crosspost.adapter import Post
from crosspost.api import Journal
from crosspost.errors import AnnouncementError, Problem
from crosspost.state import Entry, Source, Store


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


def now_utc() -> datetime:
    """The current time, in UTC (one place, so the state's times agree)."""
    return datetime.now(UTC)


def stamp(when: datetime | None = None) -> str:
    """A time as the state stores it: ISO-8601 UTC to the second."""
    return (when or now_utc()).astimezone(UTC).isoformat(timespec="seconds")


def parse_stamp(text: str | None) -> datetime | None:
    """A stored time back as an aware datetime (None stays None)."""
    return datetime.fromisoformat(text) if text else None


def source_of(path: Path) -> Source:
    """The announcement file as the state identifies it: its absolute path and a hash."""
    resolved = path.resolve()
    try:
        content = hashlib.sha256(resolved.read_bytes()).hexdigest()[:16]
    except OSError as exc:
        raise AnnouncementError(Problem(str(path), f"cannot read: {exc.strerror}")) from None
    return Source(str(resolved), content)


def declared_id(path: Path) -> str | None:
    """The id a file declares (its ``id``, else its name), or None when it is unreadable."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return None
    value = data.get("id")
    return value if isinstance(value, str) else path.stem


def claim(store: Store, announcement: str, path: Path) -> None:
    """Bind ``announcement`` to the file at ``path``, or refuse a second file using the id.

    The same id in two files (or the same file name in two folders, without an
    id) would otherwise make the second one look published: an error naming
    both files, exit 2. A file that moved (the old path is gone, or no longer
    declares the id) keeps its state.
    """
    mine = source_of(path)
    known = store.source(announcement)
    if known is not None and known.path != mine.path and known.content != mine.content:
        other = Path(known.path)
        if other.is_file() and declared_id(other) == announcement:
            raise AnnouncementError(
                Problem(
                    str(path),
                    f"the id '{announcement}' is already used by {other}, which was published "
                    'from; give one of the two files its own id = "..." (the id keys what '
                    "was published where)",
                )
            )
    if known != mine:
        store.set_source(announcement, mine)


class StoreJournal(Journal):
    """Writes each platform's state changes to the store the moment they happen."""

    def __init__(
        self, store: Store, announcement: str, posts: Mapping[str, Post], file: str = "FILE"
    ) -> None:
        self.store = store
        self.announcement = announcement
        #: The announcement file as the user named it, for the commands messages give.
        self.file = file
        self.hashes = {name: fingerprint(post) for name, post in posts.items()}
        self.handles: dict[str, dict[str, Any]] = {name: {} for name in posts}
        #: Platforms whose irreversible step has been recorded as ``sending``, and when.
        self.sent: set[str] = set()
        self.sent_at: dict[str, str] = {}
        self.previous: dict[str, Entry] = {}
        #: Platforms whose earlier ``sending``/``unknown`` entry is not settled yet: a
        #: failure now must not overwrite it (the next run still has to look).
        self.unsettled: set[str] = set()

    def start(self, platform: str, previous: Entry | None, *, unsettled: bool = False) -> None:
        """A fresh attempt at ``platform`` begins (nothing recorded until ``sending``)."""
        self.handles[platform] = {}
        self.sent.discard(platform)
        self.sent_at.pop(platform, None)
        if previous is not None:
            self.previous[platform] = previous
        if unsettled:
            self.unsettled.add(platform)
        else:
            self.unsettled.discard(platform)

    def public_parts(self, platform: str) -> list[str]:
        """Ids of pieces already public in this attempt (a thread's first parts).

        Adapters record them as the ``ids`` handle as each piece goes out; a
        failure after some are public is never retried blindly.
        """
        ids = self.handles.get(platform, {}).get("ids")
        return [str(i) for i in ids] if isinstance(ids, list) else []

    def sending(self, platform: str, handles: dict[str, Any]) -> None:
        """Record ``sending`` with every handle known, before the irreversible step."""
        self.handles[platform].update(handles)
        self.sent.add(platform)
        self.sent_at.setdefault(platform, stamp())
        self.put(platform, "sending")

    def remember(self, platform: str, handles: dict[str, Any]) -> None:
        """Keep the handles; once ``sending`` is recorded, write them at once."""
        self.handles[platform].update(handles)
        if platform in self.sent:
            self.put(platform, "sending")

    def put(self, platform: str, status: Any, **fields: Any) -> Entry:
        """Write ``platform``'s entry with this attempt's handles and counters."""
        previous = self.previous.get(platform)
        values: dict[str, Any] = {
            "handles": dict(self.handles.get(platform, {})),
            "attempts": previous.attempts if previous else 0,
            "sent_at": self.sent_at.get(platform),
        }
        values.update(fields)
        entry = Entry(
            platform=platform,
            status=status,
            hash=self.hashes[platform],
            at=stamp(),
            **values,
        )
        self.store.put(self.announcement, entry)
        return entry
