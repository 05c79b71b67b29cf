"""``crosspost validate``: schema, references and media feasibility, per platform.

An announcement whose ``publish_at`` falls inside a blackout window is valid,
with a warning naming the window (docs/state.md, "Blackout windows").
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crosspost.cli._options import ConfigOpt
from crosspost.cli._output import error, human

if TYPE_CHECKING:
    from crosspost.planning import Plan
    from crosspost.schedule import Window


def validate(
    files: Annotated[list[Path], typer.Argument(help="Announcement files to check.")],
    config: ConfigOpt = None,
) -> None:
    """Check announcements without sending anything; exit 0 when all can be published."""
    from rich.text import Text

    from crosspost.errors import InputError
    from crosspost.planning import plan_file
    from crosspost.schedule import windows

    out = human(False)
    failed = False
    for path in files:
        try:
            plan = plan_file(path, config_path=config)
            found = windows(plan.loaded, plan.config)
        except InputError as exc:
            error(str(exc))
            failed = True
            continue
        if plan.problems:
            failed = True
            for line in plan.problem_lines(path):
                error(line)
            continue
        names = ", ".join(p.platform for p in plan.posts)
        ready = (
            "a draft (draft = true): not published until that line goes"
            if (plan.loaded.announcement.draft)
            else f"ready for {names}"
        )
        out.print(Text(f"✓ {path}: {ready}", style="green"), soft_wrap=True)
        for platform, reason in plan.skipped.items():
            out.print(Text(f"  – skipped {platform}: {reason}", style="dim"), soft_wrap=True)
        for warning in plan.loaded.warnings:
            out.print(Text(f"  ! {warning}", style="yellow"), soft_wrap=True)
        for warning in blackout_warnings(plan, found):
            out.print(Text(f"  ! {warning}", style="yellow"), soft_wrap=True)
        for post in plan.posts:
            for warning in post.warnings:
                out.print(Text(f"  ! {post.platform}: {warning}", style="yellow"), soft_wrap=True)
    if failed:
        raise typer.Exit(2)


def blackout_warnings(plan: Plan, found: Sequence[Window]) -> list[str]:
    """``blackout: <reason> …`` for each window ``publish_at`` falls into, naming its platforms."""
    from crosspost.cli._output import NAMES
    from crosspost.duration import describe
    from crosspost.schedule import blackout_at, local, max_late, too_late_after

    when = plan.loaded.publish_at
    if when is None:
        return []
    grouped: dict[Window, list[str]] = {}
    for post in plan.posts:
        window = blackout_at(when, post.platform, found)
        if window is not None:
            grouped.setdefault(window, []).append(NAMES.get(post.platform, post.platform))
    lines = []
    for window, names in grouped.items():
        line = (
            f"blackout: {window.reason} (from {local(window.start, plan.config)} until "
            f"{local(window.end, plan.config)}; {window.place}): publish_at falls inside it for "
            f"{', '.join(names)}; "
        )
        if too_late_after(window, plan.loaded, plan.config):
            late = describe(max_late(plan.loaded, plan.config))
            line += f"it ends more than max_late {late} later, so run will skip it as late"
        else:
            line += "run publishes it there when the window ends"
        lines.append(line)
    return lines
