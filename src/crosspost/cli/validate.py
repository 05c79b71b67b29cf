"""``crosspost validate``: schema, references and media feasibility, per platform."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crosspost.cli._options import ConfigOpt
from crosspost.cli._output import error, human


def validate(
    files: Annotated[list[Path], typer.Argument(help="Announcement files to check.")],
    config: ConfigOpt = None,
) -> None:
    """Check announcements without sending anything; exit 0 when all can be published."""
    from rich.text import Text

    from crosspost.errors import InputError
    from crosspost.planning import plan_file

    out = human(False)
    failed = False
    for path in files:
        try:
            plan = plan_file(path, config_path=config)
        except InputError as exc:
            error(str(exc))
            failed = True
            continue
        if plan.problems:
            failed = True
            for platform, problems in plan.problems.items():
                for problem in problems:
                    error(f"{path}: {platform}: {problem}")
            continue
        names = ", ".join(p.platform for p in plan.posts)
        ready = (
            "a draft (draft = true): not published until that line goes"
            if (plan.loaded.announcement.draft)
            else f"ready for {names}"
        )
        out.print(Text(f"✓ {path}: {ready}", style="green"), soft_wrap=True)
        for warning in plan.loaded.warnings:
            out.print(Text(f"  ! {warning}", style="yellow"), soft_wrap=True)
        for post in plan.posts:
            for warning in post.warnings:
                out.print(Text(f"  ! {post.platform}: {warning}", style="yellow"), soft_wrap=True)
    if failed:
        raise typer.Exit(2)
