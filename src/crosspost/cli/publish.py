"""``crosspost publish``: send the plan to every platform, once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from crosspost.cli._options import AnnouncementArg, ConfigOpt, JsonOpt, PlatformOpt
from crosspost.cli._output import error, human, print_json, show_plan, show_results


def publish(
    file: AnnouncementArg,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan and send nothing (= preview).")
    ] = False,
    platform: PlatformOpt = None,
    json: JsonOpt = False,
    config: ConfigOpt = None,
    now: Annotated[
        bool, typer.Option("--now", help="Publish now even if publish_at is in the future.")
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Publish again to platforms the ledger says are published or unknown.",
        ),
    ] = False,
) -> None:
    """Publish to every platform at once; exit 1 if one failed, 3 if an outcome is unknown."""
    from crosspost.planning import plan_file

    plan = plan_file(file, config_path=config, only=platform or ())
    out = human(json)
    if dry_run:
        from crosspost.cli.preview import preview

        preview(file, platform, json, config)
        return
    if plan.problems:
        show_plan(plan, out)
        for name, problems in plan.problems.items():
            for problem in problems:
                error(f"{file}: {name}: {problem}")
        error(
            "nothing was published: fix the problems above, or leave those platforms out "
            "with --platform or targets"
        )
        raise typer.Exit(2)
    due = plan.loaded.publish_at
    if due is not None and due > datetime.now(UTC) and not now:
        message = (
            f"{plan.loaded.id}: scheduled for {due.isoformat()}; not due yet, nothing published"
        )
        if json:
            print_json({"announcement": plan.loaded.id, "due": due.isoformat(), "results": []})
        if out.is_terminal:  # from cron, say nothing: every quiet run would be a mail
            out.print(message, soft_wrap=True)
        return
    from crosspost.publishing import run

    results = run(plan, out=out, live=not json and out.is_terminal, force=force)
    if json:
        print_json({"announcement": plan.loaded.id, "results": [r.to_json() for r in results]})
    elif out.is_terminal or not all(r.earlier and r.status == "published" for r in results):
        # From cron, a run that found everything already published stays silent.
        show_results(results, out)
    from crosspost.publishing import exit_code

    code = exit_code(results)
    if code:
        raise typer.Exit(code)
