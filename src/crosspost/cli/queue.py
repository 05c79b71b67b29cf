"""``crosspost queue DIR``: the agenda of a folder of announcements, in the office's time.

Each announcement under DIR (the files ``crosspost run`` would consider) with
its time and where each platform stands: draft, unscheduled, scheduled, due,
late, published (URL), failed (why, and when ``run`` tries again), unknown
(the exact ``crosspost resolve`` command) or in a blackout window (its reason
and end: docs/state.md, "Blackout windows"). It reads the state store and never
contacts a platform. A file that cannot be loaded, or an id used by two files,
is a problem row, not a crash: the queue is information, so it exits 0
(docs/state.md, "Schedules, drafts and the queue").
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crosspost.cli._options import ConfigOpt, JsonOpt

if TYPE_CHECKING:
    from rich.console import Console

    from crosspost.config import Configuration
    from crosspost.models import Loaded
    from crosspost.schedule import Timing, Window
    from crosspost.state import Entry, Store

#: Key in the store's meta: when ``crosspost run`` skipped the announcement as late.
LATE_SKIPPED = "late_skipped"


def queue(
    directory: Annotated[
        Path, typer.Argument(help="The folder of announcements (searched recursively).")
    ],
    json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Show the agenda: every announcement under DIR, by time, and each platform's state."""
    from crosspost.cli._output import human, print_json
    from crosspost.schedule import CONFIG_NAME, duplicate_ids, scan

    now = datetime.now(UTC)
    files = scan(directory)
    sources = Sources(config, directory)
    try:
        rows = [_row(path, sources, now) for path in files]
        for announcement, paths in duplicate_ids({r.file: r.id for r in rows if r.id}).items():
            for row in rows:
                if row.file in paths:
                    others = ", ".join(str(p) for p in paths if p != row.file)
                    row.problem(
                        f"the id '{announcement}' is also used by {others}; "
                        "give each announcement its own id"
                    )
    finally:
        sources.close()
    rows.sort(key=_order)
    zone = sources.zone(directory / CONFIG_NAME)
    if json:
        print_json({"timezone": zone, "announcements": [row.to_json() for row in rows]})
        return
    _show(rows, directory, zone, sources.locations, human(json))


class Sources:
    """Configs and state stores, each loaded once however many announcements share it."""

    def __init__(self, explicit: Path | None, root: Path | None = None) -> None:
        self.explicit = explicit
        self.root = root
        self._configs: dict[Path | None, Configuration | Exception] = {}
        self._stores: dict[Path, Store] = {}

    def config(self, announcement: Path) -> Configuration:
        """The configuration for ``announcement``; a broken one raises its error each time."""
        from crosspost.config import find_config, load_config
        from crosspost.errors import InputError

        path = find_config(self.explicit, announcement, self.root)
        key = path.resolve() if path is not None else None
        if key not in self._configs:
            try:
                self._configs[key] = load_config(path)
            except InputError as exc:
                self._configs[key] = exc
        found = self._configs[key]
        if isinstance(found, Exception):
            raise found
        return found

    def store(self, config: Configuration) -> Store:
        """The state store ``config`` points at."""
        from crosspost.state import open_store, state_dir

        directory = state_dir(config.config.state_dir, config.source)
        if directory not in self._stores:
            self._stores[directory] = open_store(directory)
        return self._stores[directory]

    def zone(self, where: Path) -> str | None:
        """The timezone name of the config that applies at ``where`` (None when it is broken)."""
        from crosspost.errors import InputError

        try:
            return self.config(where).config.profile.timezone or "UTC"
        except InputError:
            return None

    @property
    def locations(self) -> list[str]:
        """Where the state of the announcements shown lives."""
        return sorted({store.location for store in self._stores.values()})

    def close(self) -> None:
        """Release every store opened."""
        for store in self._stores.values():
            store.close()


@dataclass
class Row:
    """One announcement in the agenda (or one file that could not be read as one)."""

    file: Path
    id: str | None = None
    publish_at: datetime | None = None
    local_time: str | None = None
    draft: bool = False
    state: str = "problem"
    detail: str | None = None
    message: str | None = None
    platforms: list[PlatformState] = field(default_factory=list)
    config: Configuration | None = None
    #: The platforms a blackout window holds back at the time ``run`` would publish them.
    blackout: dict[str, Window] = field(default_factory=dict)

    def problem(self, message: str) -> None:
        """Mark the row as a problem: ``run`` cannot publish it as it stands."""
        self.state, self.message, self.detail, self.platforms = "problem", message, None, []

    def to_json(self) -> dict[str, Any]:
        """The row in ``queue --json``."""
        data: dict[str, Any] = {
            "id": self.id,
            "file": str(self.file),
            "publish_at": self.publish_at.isoformat() if self.publish_at else None,
            "local_time": self.local_time,
            "state": self.state,
            "platforms": [p.to_json() for p in self.platforms],
        }
        if self.message:
            data["message"] = self.message
        if self.blackout and self.config is not None:
            from crosspost.cli.publish import blackout_json

            data["blackout"] = blackout_json(self.blackout, self.config)
        return data


def _row(path: Path, sources: Sources, now: datetime) -> Row:
    from crosspost.errors import InputError
    from crosspost.loader import load_announcement
    from crosspost.planning import platforms_for
    from crosspost.schedule import held_back, local, timing, windows

    row = Row(path)
    try:
        cfg = sources.config(path)
        loaded = load_announcement(path, cfg)
        names = list(platforms_for(loaded, cfg))
        found = windows(loaded, cfg)
    except InputError as exc:
        row.problem(_one_line(exc))
        return row
    row.id, row.publish_at, row.draft = loaded.id, loaded.publish_at, loaded.announcement.draft
    row.config = cfg
    row.local_time = local(loaded.publish_at, cfg) if loaded.publish_at else None
    store = sources.store(cfg)
    entries = store.entries(loaded.id)
    names += sorted(name for name in entries if name not in names)  # published, since disabled
    when = timing(loaded, cfg, now)
    skipped = bool(store.meta(loaded.id).get(LATE_SKIPPED))
    held = held_back(loaded, cfg, now, names, found)
    row.platforms = [
        platform_state(
            name,
            entries.get(name),
            when,
            skipped,
            path,
            cfg,
            blackout=held_note(held[name], loaded, cfg) if name in held else None,
        )
        for name in names
    ]
    row.blackout = {p.platform: held[p.platform] for p in row.platforms if p.status == "blackout"}
    states = {p.status for p in row.platforms}
    for state in ("unknown", "failed"):
        if state in states:
            row.state = state
            break
    else:
        if states == {"published"}:
            row.state = "published"
        elif "blackout" in states and states <= {"published", "blackout"}:
            row.state = "blackout"  # what is left waits for the window to end
        else:
            row.state = _timing_state(when, skipped)
    row.detail = when_detail(loaded, cfg, when, skipped, now)
    if row.state == "blackout":
        row.detail = "; ".join(
            dict.fromkeys(p.message for p in row.platforms if p.status == "blackout" and p.message)
        )
    return row


def held_note(window: Window, loaded: Loaded, config: Configuration) -> str:
    """``in blackout: <reason> until <local end>``, and what ``run`` does after the window."""
    from crosspost.duration import describe
    from crosspost.schedule import local, max_late, too_late_after

    note = f"in blackout: {window.reason} until {local(window.end, config)}"
    if too_late_after(window, loaded, config):
        late = describe(max_late(loaded, config))
        return f"{note}; that is more than max_late {late} after its time, so run will skip it"
    return f"{note}; run publishes it when the window ends"


def _one_line(exc: Exception) -> str:
    lines = str(exc).splitlines() or [type(exc).__name__]
    more = len(lines) - 1
    return lines[0] + (f" (and {more} more; see crosspost validate)" if more else "")


def _timing_state(when: Timing, late_skipped: bool) -> str:
    return "late_skipped" if when == "late" and late_skipped else when


@dataclass(frozen=True, slots=True)
class PlatformState:
    """Where one platform stands for one announcement: the store's word, else the clock's.

    ``status`` is ``published``, ``failed`` or ``unknown`` from the store, else
    ``blackout`` when a window holds it back (``message`` says which and until
    when), else the announcement's timing (``draft``, ``unscheduled``,
    ``scheduled``, ``due``, ``late``, ``late_skipped``). ``next_try`` (ISO-8601 UTC) is when
    ``run`` tries a failed platform again; ``gave_up`` the number of attempts
    after which it stopped trying; ``command`` resolves an unknown outcome;
    ``visibility`` says where a published post is when it is not public ("in the
    TikTok inbox: open TikTok to finish the post"), as the run stored it.
    """

    platform: str
    status: str
    url: str | None = None
    visibility: str | None = None
    message: str | None = None
    next_try: datetime | None = None
    gave_up: int | None = None
    command: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The platform in ``queue --json``: only the keys that apply."""
        data: dict[str, Any] = {"platform": self.platform, "status": self.status}
        if self.url:
            data["url"] = self.url
        if self.visibility:
            data["visibility"] = self.visibility
        if self.message:
            data["message"] = self.message
        if self.next_try:
            data["next_try"] = self.next_try.isoformat()
        if self.gave_up:
            data["gave_up"] = self.gave_up
        if self.command:
            data["command"] = self.command
        return data


def platform_state(
    name: str,
    entry: Entry | None,
    when: Timing,
    late_skipped: bool,
    path: Path,
    config: Configuration,
    *,
    blackout: str | None = None,
) -> PlatformState:
    """``name``'s state from its store entry (None when the store has none) and the timing.

    ``sending`` (a run stopped between sending and hearing back) is ``unknown``;
    ``not_published`` (a person or a lookup found it is not there) and no entry
    at all both mean ``run`` publishes it when it is due, unless ``blackout``
    (a window's note, see ``held_note``) holds it back.
    """
    status = entry.status if entry is not None else "not_published"
    if (entry is None or status == "not_published") and blackout is not None:
        return PlatformState(name, "blackout", message=blackout)
    if entry is None or status == "not_published":
        return PlatformState(name, _timing_state(when, late_skipped))
    if status == "published":
        return PlatformState(
            name, status, url=entry.url or entry.remote_id, visibility=stored_visibility(entry)
        )
    if status in ("unknown", "sending"):
        return PlatformState(
            name, "unknown", message=entry.message, command=resolve_command(path, name)
        )
    attempts = entry.attempts
    if attempts >= config.config.schedule.max_attempts:  # run stops retrying (docs/state.md)
        return PlatformState(name, status, message=entry.message, gave_up=attempts)
    retry = datetime.fromisoformat(entry.next_try) if entry.next_try else None
    return PlatformState(name, status, message=entry.message, next_try=retry)


def stored_visibility(entry: Entry) -> str | None:
    """Where a published post is when it is not public, as the run stored it with the
    entry's handles (``handles["visibility"]``); None for a public post."""
    where = entry.handles.get("visibility")
    return where if isinstance(where, str) and where else None


def resolve_command(path: Path, platform: str) -> str:
    """The command that records a person's check of an unknown outcome, in usage form."""
    return (
        f"crosspost resolve {shlex.quote(str(path))} --platform {platform} "
        "(--published URL | --not-published)"
    )


def resolve_advice(path: Path, platform: str) -> str:
    """What to do about an unknown outcome, with both exact commands."""
    base = f"crosspost resolve {shlex.quote(str(path))} --platform {platform}"
    return (
        f"check the account; if the post is there run: {base} --published URL; "
        f"if not: {base} --not-published"
    )


def when_detail(
    loaded: Loaded, config: Configuration, when: Timing, late_skipped: bool, now: datetime
) -> str:
    """Where the announcement stands in time, for people: "scheduled, in 2d 3h", "late by 1d…"."""
    from crosspost.duration import describe
    from crosspost.schedule import max_late

    at = loaded.publish_at
    if when == "draft":
        return "draft: run never publishes it (remove draft = true when it is ready)"
    if at is None:
        return (
            "unscheduled: no publish_at, so run leaves it alone; to send it now: "
            f"crosspost publish {shlex.quote(str(loaded.source))}"
        )
    if when == "scheduled":
        return f"scheduled, in {describe(at - now)}"
    if when == "due":
        return "due: the next run publishes it"
    skipped = "skipped by run" if late_skipped else "run skips it"
    return (
        f"late by {describe(now - at)} (max_late {describe(max_late(loaded, config))}): {skipped}"
    )


def _order(row: Row) -> tuple[int, datetime, str]:
    """By time; then drafts and unscheduled ones; then files that could not be loaded."""
    group = 2 if row.id is None else 1 if row.publish_at is None or row.draft else 0
    return (group, row.publish_at or datetime.max.replace(tzinfo=UTC), str(row.file))


_TIMING = ("draft", "unscheduled", "scheduled", "due", "late", "late_skipped", "blackout")
_STYLES = {
    "blackout": ("!", "yellow"),
    "published": ("✓", "green"),
    "failed": ("✗", "red"),
    "unknown": ("?", "yellow"),
    "problem": ("✗", "bold red"),
    "late": ("!", "yellow"),
    "late_skipped": ("!", "yellow"),
    "due": ("•", "bold"),
    "scheduled": ("•", "cyan"),
    "draft": ("·", "dim"),
    "unscheduled": ("·", "dim"),
}


def _show(
    rows: list[Row], directory: Path, zone: str | None, locations: list[str], out: Console
) -> None:
    from rich.text import Text

    from crosspost.cli._output import NAMES, platform_message
    from crosspost.schedule import local

    head = f"{len(rows)} announcement{'s' if len(rows) != 1 else ''} in {directory}"
    if zone:
        head += f" · times in {zone}"
    out.print(Text(head, style="bold"), soft_wrap=True)
    for location in locations:
        out.print(Text(f"state: {location}", style="dim"), soft_wrap=True)
    for row in rows:
        mark, style = _STYLES[row.state]
        when = row.local_time or "no time"
        title = Text(f"{when}  ", style="bold") + Text(f"{row.id or '-'}  ")
        # A timing state says itself in its detail; a store state is told per platform below.
        title += Text(row.detail if row.detail and row.state in _TIMING else row.state, style=style)
        title += Text(f"  {row.file}", style="dim")
        out.print(title, soft_wrap=True)
        if row.message and row.state == "problem":
            out.print(Text(f"    {mark} {row.message}", style=style), soft_wrap=True)
        waiting: dict[str, list[str]] = {}
        for p in row.platforms:
            name = NAMES.get(p.platform, p.platform)
            if p.status == "blackout" and row.state != "blackout":
                # Only some platforms wait for the window: say which, and why.
                out.print(Text(f"    ! {name}: {p.message}", style="yellow"), soft_wrap=True)
                continue
            if p.status not in ("published", "failed", "unknown"):
                waiting.setdefault(p.status, []).append(name)
                continue
            mark, style = _STYLES[p.status]
            line = f"    {mark} {name}: {p.status}"
            detail = p.url if p.status == "published" else p.message
            detail = platform_message(p.platform, detail) if detail else None
            line += f": {detail}" if detail else ""
            if p.visibility:
                # A post that is not public must never read as a public one.
                line += f"; {p.visibility}"
            if p.next_try:
                line += f"; next try {local(p.next_try, row.config)}" if row.config else ""
            if p.gave_up:
                line += (
                    f"; run gave up after {p.gave_up} attempts: fix the cause, then "
                    f"crosspost publish {shlex.quote(str(row.file))} --platform {p.platform}"
                )
            if p.command:
                line += f"; {resolve_advice(row.file, p.platform)}"
            out.print(Text(line, style=style), soft_wrap=True)
        for state, names in waiting.items():
            mark, style = _STYLES[state]
            out.print(Text(f"    {mark} {state}: {', '.join(names)}", style=style), soft_wrap=True)
