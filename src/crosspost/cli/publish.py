"""``crosspost publish``: send the plan to every platform, once."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from crosspost.cli._options import AnnouncementArg, ConfigOpt, JsonOpt, PlatformOpt
from crosspost.cli._output import error, human, print_json, show_plan, show_results

if TYPE_CHECKING:
    from rich.console import Console

    from crosspost.planning import Plan
    from crosspost.publishing import Result
    from crosspost.state import Store


def publish(
    file: AnnouncementArg,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan and send nothing (= preview).")
    ] = False,
    platform: PlatformOpt = None,
    json: JsonOpt = False,
    config: ConfigOpt = None,
    now: Annotated[
        bool,
        typer.Option(
            "--now",
            help="Publish now: before publish_at, or after it even when it is more than "
            "max_late ago.",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="With --platform: publish there even though the state says the outcome is "
            "unknown (you checked: the post is not there).",
        ),
    ] = False,
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help="With --force --platform: post a second copy where it is already published.",
        ),
    ] = False,
) -> None:
    """Publish to every platform at once; exit 1 if one failed, 3 if an outcome is unknown."""
    from crosspost.errors import ConfigError
    from crosspost.planning import plan_file

    if force and not platform:
        raise ConfigError(
            f"--force needs --platform: it publishes again only where you checked, e.g. "
            f"crosspost publish {file} --force --platform twitter"
        )
    if again and not force:
        raise ConfigError(
            f"--again goes with --force --platform, e.g. crosspost publish {file} --force "
            "--again --platform twitter"
        )
    plan = plan_file(file, config_path=config, only=platform or ())
    out = human(json)
    if dry_run:
        from crosspost.cli.preview import preview

        preview(file, platform, json, config)
        return
    if plan.loaded.announcement.draft:
        raise ConfigError(
            f"{file}: is a draft (draft = true), so it is not published; remove the draft line "
            "when it is ready"
        )
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
    from crosspost.publishing import Policy, policy_for, run, store_for

    store = store_for(plan)
    try:
        if not now and not _is_due(plan, store, out, json):
            return
        from crosspost.registry import canonical

        policy: Policy = policy_for(
            plan,
            mode="publish",
            force=tuple(canonical(p) for p in platform or ()) if force else (),
            again=again,
        )
        steps = out
        if not out.is_terminal and not json:
            # Off a terminal (cron) the step lines are kept back and shown only
            # with results worth reading: a quiet run must print nothing at all.
            from rich.console import Console

            steps = Console(file=io.StringIO(), no_color=True, highlight=False, width=out.width)
        results = run(
            plan, store=store, policy=policy, out=steps, live=not json and out.is_terminal
        )
    finally:
        store.close()
    report(plan, results, out, json, steps=_kept(steps, out))


def _is_due(plan: Plan, store: Store, out: Console, json: bool) -> bool:
    """Whether the announcement is due now; says why not (a late one once under cron)."""
    from crosspost.schedule import timing

    when = plan.loaded.publish_at
    state = timing(plan.loaded, plan.config, datetime.now(UTC))
    if state == "scheduled" and when is not None:
        from crosspost.schedule import local

        message = (
            f"{plan.loaded.id}: scheduled for {local(when, plan.config)}; not due yet, "
            "nothing published"
        )
        if json:
            print_json({"announcement": plan.loaded.id, "due": when.isoformat(), "results": []})
        if out.is_terminal:  # from cron, say nothing: every quiet run would be a mail
            out.print(message, soft_wrap=True)
        return False
    if state == "late" and when is not None:
        if _all_published(plan, store):
            return True  # nothing will be sent; the results say where it is
        late = late_message(plan, str(plan.loaded.source))
        if json:
            print_json({"announcement": plan.loaded.id, "late": when.isoformat(), "results": []})
        if out.is_terminal or not store.meta(plan.loaded.id).get("late_reported"):
            error(late)
            store.set_meta(plan.loaded.id, late_reported=datetime.now(UTC).isoformat())
        raise typer.Exit(1)
    return True


def _all_published(plan: Plan, store: Store) -> bool:
    entries = store.entries(plan.loaded.id)
    return all(
        (e := entries.get(p.platform)) is not None and e.status == "published" for p in plan.posts
    )


def late_message(plan: Plan, file: str) -> str:
    """Why a late announcement was not published, and the command that publishes it anyway."""
    from crosspost.duration import describe
    from crosspost.schedule import local, max_late

    when = plan.loaded.publish_at
    assert when is not None
    late = datetime.now(UTC) - when
    return (
        f"{file}: was due {local(when, plan.config)}, {describe(late)} ago (more than max_late "
        f"{describe(max_late(plan.loaded, plan.config))}); not published, since a late post can "
        f'mislead ("tomorrow" may be past). To publish it anyway: crosspost publish {file} --now'
    )


def _kept(steps: Console, out: Console) -> str:
    """The step lines held back from cron (empty when they went straight to ``out``)."""
    if steps is out or not isinstance(steps.file, io.StringIO):
        return ""
    return steps.file.getvalue()


def report(plan: Plan, results: list[Result], out: Console, json: bool, *, steps: str = "") -> None:
    """Print the results (quiet under cron when nothing new happened) and exit with the code."""
    from crosspost.publishing import exit_code

    if json:
        print_json({"announcement": plan.loaded.id, "results": [r.to_json() for r in results]})
    elif out.is_terminal or not all(
        r.quiet or (r.earlier and r.status == "published") for r in results
    ):
        # From cron, a run that found nothing new to say stays silent.
        if steps:
            out.file.write(steps)
        show_results(results, out)
    code = exit_code(results)
    if code:
        raise typer.Exit(code)
