"""``crosspost status``: what the state store says about an announcement, platform by platform.

Times are shown in the profile's timezone. A platform not published yet whose
announcement is scheduled for later is "scheduled for <time>", not a failure
(exit 0 for it); one whose time passed longer ago than ``max_late`` is "late",
since ``run`` skips it (docs/state.md, "Schedules, drafts and the queue"). One
that a blackout window holds back is "in blackout: <reason> until <time>" (exit
0 for it, as scheduled: docs/state.md, "Blackout windows").
"""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crosspost.cli._options import ConfigOpt, JsonOpt
from crosspost.cli._output import NAMES, human, platform_message, print_json

if TYPE_CHECKING:
    from crosspost.config import Configuration
    from crosspost.models import Loaded
    from crosspost.schedule import Window

#: Exit code per platform status; the command exits with the worst one.
_EXIT = {"published": 0, "scheduled": 0, "blackout": 0, "unknown": 3}
#: Statuses whose message is the announcement's timing, shown once under its platforms.
_WAITING = ("late", "not published")
_MARKS = {
    "published": ("✓", "green"),
    "unknown": ("?", "yellow"),
    "scheduled": ("•", "cyan"),
    "late": ("!", "yellow"),
    "blackout": ("!", "yellow"),
}


def status(
    files: Annotated[list[Path], typer.Argument(help="Announcement files.")],
    json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Show where each announcement was published; exit 1 if some platform still lacks it.

    A platform scheduled for later counts as fine (exit 0); exit 3 when some outcome is unknown.
    """
    from rich.text import Text

    from crosspost.cli.publish import recorded_blackouts
    from crosspost.cli.queue import (
        LATE_SKIPPED,
        Sources,
        held_note,
        resolve_advice,
        stored_visibility,
        when_detail,
    )
    from crosspost.loader import load_announcement
    from crosspost.planning import platforms_for
    from crosspost.schedule import held_back, held_while_due, timing, windows

    out = human(json)
    now = datetime.now(UTC)
    documents: list[dict[str, Any]] = []
    worst = 0
    sources = Sources(config)
    shown: set[str] = set()
    try:
        for path in files:
            settings = sources.config(path)
            loaded = load_announcement(path, settings)
            store = sources.store(settings)
            entries = store.entries(loaded.id)
            when = timing(loaded, settings, now)
            skipped = bool(store.meta(loaded.id).get(LATE_SKIPPED))
            names = list(platforms_for(loaded, settings))
            names += sorted(name for name in entries if name not in names)
            found = windows(loaded, settings)
            held = held_back(loaded, settings, now, names, found)
            recorded = recorded_blackouts(store, loaded.id)
            rows: list[dict[str, str]] = []
            for name in names:
                entry = entries.get(name)
                state: str = entry.status if entry else "not_published"
                if state == "sending":
                    state = "unknown"  # a run stopped between sending and hearing back
                if state == "not_published" and name in held:
                    state = "blackout"
                elif state == "not_published":
                    state = when if when in ("scheduled", "late") else "not published"
                row = {"platform": name, "status": state}
                if entry is not None and entry.status != "not_published":
                    row["at"] = entry.at
                    if entry.url:
                        row["url"] = entry.url
                    where = stored_visibility(entry) if state == "published" else None
                    if where:
                        row["visibility"] = where
                    if entry.message and state != "published":
                        row["message"] = entry.message
                if state == "blackout":
                    row["message"] = held_note(held[name], loaded, settings)
                elif state == "late":
                    window = held_while_due(loaded, settings, name, found) or recorded.get(name)
                    row["message"] = _late(loaded, settings, skipped, now, path, window)
                elif state == "not published":
                    row["message"] = when_detail(loaded, settings, when, skipped, now)
                rows.append(row)
                worst = max(worst, _EXIT.get(state, 1))
            documents.append(
                {
                    "announcement": loaded.id,
                    "file": str(path),
                    "publish_at": loaded.publish_at.isoformat() if loaded.publish_at else None,
                    "state_dir": store.location,
                    "platforms": rows,
                }
            )
            if json:
                continue
            if store.location not in shown:
                shown.add(store.location)
                out.print(Text(f"state: {store.location}", style="dim"), soft_wrap=True)
            out.print(Text(f"{loaded.id} ({path})", style="bold"), soft_wrap=True)
            notes: list[str] = []
            for row in rows:
                line = _line(row, settings, loaded.publish_at)
                if row["status"] == "unknown":
                    line += f"; {resolve_advice(path, row['platform'])}"
                if row["status"] in _WAITING and row["message"] not in notes:
                    notes.append(row["message"])  # the announcement's, told once below
                mark, style = _MARKS.get(row["status"], ("✗", "red"))
                out.print(Text(f"  {mark} {line}", style=style), soft_wrap=True)
            for note in notes:
                out.print(Text(f"    {note}", style="dim"), soft_wrap=True)
    finally:
        sources.close()
    if json:
        print_json(documents if len(documents) > 1 else documents[0])
    if worst:
        raise typer.Exit(1 if worst == 1 else 3)


def _line(row: dict[str, str], config: Configuration, publish_at: datetime | None) -> str:
    """One platform's line, times in the profile's timezone."""
    from crosspost.schedule import local

    name = NAMES.get(row["platform"], row["platform"])
    state = row["status"]
    if state == "scheduled" and publish_at is not None:
        return f"{name}: scheduled for {local(publish_at, config)}"
    if state == "late":
        return f"{name}: late: skipped, not published"
    if state == "blackout":
        return f"{name}: not published: {row['message']}"
    line = f"{name}: {state}"
    if state in _WAITING:
        return line
    if "at" in row:
        line += f" at {_local_iso(row['at'], config)}"
    message = row.get("message")
    detail = row.get("url") or (platform_message(row["platform"], message) if message else None)
    line += f": {detail}" if detail else ""
    # Where a published post is when it is not public (in the TikTok inbox, private).
    return line + (f"; {row['visibility']}" if row.get("visibility") else "")


def _late(
    loaded: Loaded,
    config: Configuration,
    skipped: bool,
    now: datetime,
    path: Path,
    window: Window | None = None,
) -> str:
    """How late the announcement is, and the command that publishes it anyway.

    ``window``: the blackout window that held it back, named as the reason.
    """
    from crosspost.duration import describe
    from crosspost.schedule import blackout_note, local, max_late

    assert loaded.publish_at is not None  # only a scheduled announcement is late
    by = "run skipped it" if skipped else "run skips it"
    due = loaded.publish_at
    held = f"; held back by {blackout_note(window, config)}" if window is not None else ""
    after = " after the window" if window is not None and window.end > now else ""
    return (
        f"late: was due {local(due, config)}, {describe(now - due)} ago "
        f"(more than max_late {describe(max_late(loaded, config))}; {by}){held}; to publish it "
        f"anyway{after}: crosspost publish {shlex.quote(str(path))} --now"
    )


def _local_iso(text: str, config: Configuration) -> str:
    """A stored ISO-8601 time in the profile's timezone (as stored if it does not parse)."""
    from crosspost.schedule import local

    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return text
    return local(at if at.tzinfo else at.replace(tzinfo=UTC), config)
