"""``crosspost preview``: the exact posts, fitted per platform, with no network at all."""

from __future__ import annotations

import typer

from crosspost.cli._options import AnnouncementArg, ConfigOpt, JsonOpt, PlatformOpt
from crosspost.cli._output import error, human, print_json, show_plan


def preview(
    file: AnnouncementArg,
    platform: PlatformOpt = None,
    json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Show what each platform will receive; exit 2 when a post has problems."""
    from crosspost.planning import plan_file

    plan = plan_file(file, config_path=config, only=platform or ())
    if json:
        print_json(plan.to_json())
    else:
        show_plan(plan, human(False))
    if plan.problems:
        if json:
            for line in plan.problem_lines(file):
                error(line)
        raise typer.Exit(2)
