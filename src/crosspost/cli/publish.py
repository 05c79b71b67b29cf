"""``crosspost publish``: send the plan to every platform, once.

Inside a blackout window (docs/state.md, "Blackout windows") it refuses, exit
1, unless ``--ignore-blackout --reason TEXT`` says why; the override is kept in
the state store (``blackout_override``).
"""

from __future__ import annotations

import io
import shlex
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crosspost.cli._options import AnnouncementArg, ConfigOpt, JsonOpt, PlatformOpt
from crosspost.cli._output import (
    error,
    human,
    print_json,
    show_plan,
    show_results,
    show_skipped,
)

if TYPE_CHECKING:
    from rich.console import Console

    from crosspost.config import Configuration
    from crosspost.planning import Plan
    from crosspost.publishing import Result
    from crosspost.schedule import Window
    from crosspost.state import Store

#: Key in the state's flags of an announcement: each platform a blackout window
#: held back, with the window and when (so it is reported once, and a late skip
#: can name it).
BLACKOUT_SKIPPED = "blackout_skipped"
#: Key in the state's flags: every ``--ignore-blackout``, with who, when, why and the windows.
BLACKOUT_OVERRIDE = "blackout_override"


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
    ignore_blackout: Annotated[
        bool,
        typer.Option(
            "--ignore-blackout",
            help="Publish inside a blackout window; needs --reason, which the state records.",
        ),
    ] = False,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            help="With --ignore-blackout: why this goes out inside the window (recorded).",
            show_default=False,
        ),
    ] = None,
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
    if ignore_blackout and not (reason and reason.strip()):
        raise ConfigError(
            "--ignore-blackout needs --reason TEXT: why this goes out inside the blackout "
            f"window (it is recorded), e.g. crosspost publish {file} --ignore-blackout "
            '--reason "..."'
        )
    if reason is not None and not ignore_blackout:
        raise ConfigError(
            "--reason goes with --ignore-blackout (it records why a blackout window is "
            f'overridden), e.g. crosspost publish {file} --ignore-blackout --reason "..."'
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
        for line in plan.problem_lines(file):
            error(line)
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

        forced = tuple(canonical(p) for p in platform or ()) if force else ()
        held = _held(plan, store, forced if again else ())
        override: dict[str, Any] | None = None
        if held and not ignore_blackout:
            flags = [f"--platform {p}" for p in platform or ()]
            flags += [
                flag for flag, on in (("--now", now), ("--force", force), ("--again", again)) if on
            ]
            _refuse(plan, store, held, out, json, flags)
        if held:
            assert reason is not None  # checked above: --ignore-blackout needs it
            override = _record_override(plan, store, held, reason.strip())
        policy: Policy = policy_for(plan, mode="publish", force=forced, again=again)
        steps = out
        if not out.is_terminal and not json:
            # Off a terminal (cron) the step lines are kept back and shown only
            # with results worth reading: a quiet run must print nothing at all.
            from rich.console import Console

            steps = Console(file=io.StringIO(), no_color=True, highlight=False, width=out.width)
        if override is not None:
            from rich.text import Text

            for line in _override_lines(plan, held, override["reason"]):
                steps.print(Text(f"! {line}", style="yellow"), soft_wrap=True)
        from crosspost.cli._progress import LineProgress, LiveProgress

        if not json and out.is_terminal:
            with LiveProgress(steps) as shown:
                results = run(plan, store=store, policy=policy, progress=shown)
        else:
            results = run(plan, store=store, policy=policy, progress=LineProgress(steps))
        _alert(plan, store, results)
    finally:
        store.close()
    extra = {BLACKOUT_OVERRIDE: override} if override is not None else {}
    report(plan, results, out, json, steps=_kept(steps, out), extra=extra)


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
        held = late_windows(plan, store)
        late = late_message(plan, str(plan.loaded.source), held)
        if json:
            document: dict[str, Any] = {"announcement": plan.loaded.id, "late": when.isoformat()}
            if held:
                document["blackout"] = blackout_json(held, plan.config)
            print_json(document | {"results": []})
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


def late_message(plan: Plan, file: str, held: Mapping[str, Window] | None = None) -> str:
    """Why a late announcement was not published, and the command that publishes it anyway.

    ``held``: the blackout windows that kept it from going out in time (see
    ``late_windows``), named as the reason.
    """
    from crosspost.duration import describe
    from crosspost.schedule import blackout_note, local, max_late

    when = plan.loaded.publish_at
    assert when is not None
    now = datetime.now(UTC)
    late = now - when
    because = ""
    after = ""
    for window, names in _by_window(held or {}).items():
        because += f"; {_names(names)} held back by {blackout_note(window, plan.config)}"
        if window.end > now:
            after = " after the window"
    return (
        f"{file}: was due {local(when, plan.config)}, {describe(late)} ago (more than max_late "
        f"{describe(max_late(plan.loaded, plan.config))}){because}; not published, since a late "
        f'post can mislead ("tomorrow" may be past). To publish it anyway{after}: '
        f"crosspost publish {file} --now"
    )


# -- blackout windows (docs/state.md, "Blackout windows") ------------------------------


def blackout_json(held: Mapping[str, Window], config: Configuration) -> list[dict[str, Any]]:
    """The ``blackout`` key of ``run --json`` and ``publish --json``: one item per platform."""
    from crosspost.schedule import local

    return [
        {
            "platform": name,
            "reason": window.reason,
            "start": window.start.isoformat(),
            "end": window.end.isoformat(),
            "until": local(window.end, config),
            "place": window.place,
        }
        for name, window in held.items()
    ]


def recorded_blackouts(store: Store, announcement: str) -> dict[str, Window]:
    """The windows the state says held back each platform of ``announcement``."""
    from crosspost.schedule import window_from_json

    recorded = store.meta(announcement).get(BLACKOUT_SKIPPED)
    found: dict[str, Window] = {}
    for name, data in (recorded if isinstance(recorded, dict) else {}).items():
        window = window_from_json(data) if isinstance(data, dict) else None
        if window is not None:
            found[name] = window
    return found


def remember_blackout(store: Store, announcement: str, held: Mapping[str, Window]) -> list[str]:
    """Record in the state that ``held`` windows kept these platforms back.

    Returns the platforms not recorded before with the same window: those are
    reported; the others were reported by an earlier run (cron mails once).
    """
    before = recorded_blackouts(store, announcement)
    fresh = [
        name
        for name, window in held.items()
        if (old := before.get(name)) is None
        or (old.reason, old.start, old.end) != (window.reason, window.start, window.end)
    ]
    if fresh:
        recorded = store.meta(announcement).get(BLACKOUT_SKIPPED)
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        merged = dict(recorded) if isinstance(recorded, dict) else {}
        merged |= {name: held[name].to_json() | {"at": stamp} for name in fresh}
        store.set_meta(announcement, **{BLACKOUT_SKIPPED: merged})
    return fresh


def late_windows(plan: Plan, store: Store) -> dict[str, Window]:
    """For each platform not yet published, a blackout window that kept it from going out.

    A window of the config or the announcement that covered part of the time
    the announcement was due (from ``publish_at`` to ``max_late`` after it),
    else the window a run recorded (it may have been edited away since).
    """
    from crosspost.schedule import held_while_due, windows

    found = windows(plan.loaded, plan.config)
    recorded = recorded_blackouts(store, plan.loaded.id)
    held: dict[str, Window] = {}
    for name in _pending(plan, store):
        window = held_while_due(plan.loaded, plan.config, name, found) or recorded.get(name)
        if window is not None:
            held[name] = window
    return held


def blackout_message(plan: Plan, held: Mapping[str, Window]) -> str:
    """What ``run`` says once when windows hold platforms back: one line per window."""
    from crosspost.duration import describe
    from crosspost.schedule import blackout_note, max_late, too_late_after

    file = str(plan.loaded.source)
    lines = []
    for window, names in _by_window(held).items():
        line = f"{file}: {blackout_note(window, plan.config)}: not published to {_names(names)}"
        if too_late_after(window, plan.loaded, plan.config):
            line += (
                f"; the window ends more than max_late "
                f"{describe(max_late(plan.loaded, plan.config))} after its time, so run will "
                f"then skip it as late; to publish it after the window anyway: crosspost publish "
                f"{shlex.quote(file)} --now"
            )
        else:
            line += "; run publishes it there when the window ends"
        lines.append(line)
    return "\n".join(lines)


def _pending(plan: Plan, store: Store, again: Collection[str] = ()) -> list[str]:
    """The platforms of the plan a publish would send to: not published (or sent ``again``)."""
    entries = store.entries(plan.loaded.id)
    return [
        p.platform
        for p in plan.posts
        if (e := entries.get(p.platform)) is None or e.status != "published" or p.platform in again
    ]


def _held(plan: Plan, store: Store, again: Collection[str]) -> dict[str, Window]:
    """The platforms this publish would send to that a blackout window holds back now."""
    from crosspost.schedule import blocked_platforms, windows

    found = windows(plan.loaded, plan.config)
    return blocked_platforms(datetime.now(UTC), _pending(plan, store, again), found)


def _refuse(
    plan: Plan,
    store: Store,
    held: Mapping[str, Window],
    out: Console,
    json: bool,
    flags: Sequence[str],
) -> None:
    """Refuse to publish inside a window, exit 1; said once when not on a terminal (cron)."""
    from crosspost.schedule import local

    file = shlex.quote(str(plan.loaded.source))
    lines = [
        f"{plan.loaded.source}: not published: {_names(names)} inside a blackout window: "
        f"{window.reason} (from {local(window.start, plan.config)} "
        f"until {local(window.end, plan.config)}; {window.place})"
        for window, names in _by_window(held).items()
    ]
    command = " ".join(["crosspost publish", file, *flags])
    lines.append(
        f'to publish anyway inside the window: {command} --ignore-blackout --reason "WHY" '
        "(the reason is recorded)"
    )
    others = [p.platform for p in plan.posts if p.platform not in held]
    if others:
        chosen = " ".join(f"--platform {name}" for name in others)
        lines.append(f"to publish to the others now: crosspost publish {file} {chosen}")
    fresh = remember_blackout(store, plan.loaded.id, held)
    if json:
        print_json(
            {
                "announcement": plan.loaded.id,
                "blackout": blackout_json(held, plan.config),
                "command": f'{command} --ignore-blackout --reason "WHY"',
                "results": [],
            }
        )
    if out.is_terminal or fresh:
        error("\n".join(lines))
    raise typer.Exit(1)


def _record_override(
    plan: Plan, store: Store, held: Mapping[str, Window], reason: str
) -> dict[str, Any]:
    """Keep ``--ignore-blackout --reason`` in the state: who, when, why, which windows."""
    import getpass

    try:
        who: str | None = getpass.getuser()
    except (OSError, KeyError):  # no login name (a container without a passwd entry)
        who = None
    record: dict[str, Any] = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "by": who,
        "reason": reason,
        "platforms": list(held),
        "windows": [window.to_json() for window in _by_window(held)],
    }
    previous = store.meta(plan.loaded.id).get(BLACKOUT_OVERRIDE)
    earlier = previous if isinstance(previous, list) else []
    store.set_meta(plan.loaded.id, **{BLACKOUT_OVERRIDE: [*earlier, record]})
    return record


def _override_lines(plan: Plan, held: Mapping[str, Window], reason: str) -> list[str]:
    from crosspost.schedule import blackout_note

    return [
        f"{_names(names)}: publishing inside {blackout_note(window, plan.config)}; "
        f"--ignore-blackout recorded with the reason: {reason}"
        for window, names in _by_window(held).items()
    ]


def _by_window(held: Mapping[str, Window]) -> dict[Window, list[str]]:
    """The platforms each window holds back, windows in order of their start."""
    grouped: dict[Window, list[str]] = {}
    for name, window in sorted(held.items(), key=lambda item: (item[1].start, item[1].end)):
        grouped.setdefault(window, []).append(name)
    return grouped


def _names(platforms: Sequence[str]) -> str:
    from crosspost.cli._output import NAMES

    return ", ".join(NAMES.get(name, name) for name in platforms)


def _kept(steps: Console, out: Console) -> str:
    """The step lines held back from cron (empty when they went straight to ``out``)."""
    if steps is out or not isinstance(steps.file, io.StringIO):
        return ""
    return steps.file.getvalue()


def report(
    plan: Plan,
    results: list[Result],
    out: Console,
    json: bool,
    *,
    steps: str = "",
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Print the results (quiet under cron when nothing new happened) and exit with the code.

    ``extra``: more keys for the JSON document (``blackout_override``).
    """
    from crosspost.publishing import exit_code

    if json:
        results_json = [r.to_json() for r in results]
        document = {"announcement": plan.loaded.id, **(extra or {}), "results": results_json}
        if plan.skipped:
            document["skipped"] = [{"platform": n, "reason": r} for n, r in plan.skipped.items()]
        print_json(document)
    elif out.is_terminal or not all(
        r.quiet or (r.earlier and r.status == "published") for r in results
    ):
        # From cron, a run that found nothing new to say stays silent.
        if steps:
            out.file.write(steps)
        show_results(results, out)
        show_skipped(plan, out)
    code = exit_code(results)
    if code:
        raise typer.Exit(code)


def _alert(plan: Plan, store: Store, results: list[Result]) -> None:
    """One alert for this publish (failures, unknowns; published only when asked).

    Problems already told are passed again so a persisting one is recalled
    after ``remind_after``; a message that cannot be delivered is one line on
    stderr and never changes the exit code.
    """
    import dataclasses

    from crosspost.alerts import events_from_results, notify

    told = [dataclasses.replace(r, quiet=False) for r in results]
    events = events_from_results(plan.loaded.id, str(plan.loaded.source), told)
    delivery = notify(plan.config, store, events)
    if delivery.problem:
        error(delivery.problem)
