"""Everything the CLI prints: consoles, preview panels, results, errors, JSON.

Human output goes to stdout, or to stderr when ``--json`` puts the JSON
document on stdout. rich respects ``NO_COLOR`` and drops colour when the output
is not a terminal, so cron mail stays clean.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from typing import TYPE_CHECKING, Any

from crosspost.redaction import redact

if TYPE_CHECKING:
    from rich.console import Console

    from crosspost.adapter import Post
    from crosspost.planning import Plan
    from crosspost.publishing import Result

#: Set by ``crosspost.cli.main`` from ``--debug`` / ``CROSSPOST_DEBUG``.
DEBUG = False


class _Names(dict[str, str]):
    """Display names by platform: the built-ins' without importing them, a plugin's from
    its adapter's ``display_name``."""

    def get(self, key: str, default: str | None = None) -> str:  # type: ignore[override]
        if key in self:
            return self[key]
        try:
            from crosspost import registry

            return registry.adapter_class(key).display_name
        except Exception:  # an unknown name is shown as it is
            return key if default is None else default


NAMES = _Names(
    facebook="Facebook",
    instagram="Instagram",
    tiktok="TikTok",
    youtube="YouTube",
    twitter="X / Twitter",
)


@cache
def console(stderr: bool = False) -> Console:
    """The rich console for stdout or stderr."""
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def human(json_mode: bool) -> Console:
    """Where human-readable output goes: stderr when stdout carries JSON."""
    return console(stderr=json_mode)


def print_json(data: Any) -> None:
    """Write one JSON document to stdout (secrets redacted)."""
    sys.stdout.write(redact(json.dumps(data, ensure_ascii=False, indent=2)) + "\n")
    sys.stdout.flush()


def error(message: str) -> None:
    """Print an error: one line per problem, on stderr, in red."""
    from rich.text import Text

    out = console(stderr=True)
    for line in redact(message).splitlines() or [""]:
        # soft_wrap: one problem stays one line, however narrow the terminal (cron, grep).
        out.print(Text("error: ", style="bold red") + Text(line), soft_wrap=True)


def show_plan(plan: Plan, out: Console) -> None:
    """One panel per platform: the exact text, its length and limit, what was given up."""
    from rich.text import Text

    out.print(Text(f"Announcement {plan.loaded.id}", style="bold"), end="")
    if plan.loaded.publish_at:
        out.print(Text(f" · scheduled {plan.loaded.publish_at.isoformat()}"), end="")
    if plan.loaded.announcement.draft:
        out.print(Text(" · draft: not published until draft = true is removed"), end="")
    out.print()
    for warning in plan.loaded.warnings:
        out.print(Text(f"! {warning}", style="yellow"), soft_wrap=True)
    for post in plan.posts:
        show_post(post, out)
    show_skipped(plan, out)


def show_skipped(plan: Plan, out: Console) -> None:
    """One line per platform the announcement skips (no ``targets``, and it cannot take it)."""
    from rich.text import Text

    for platform, reason in plan.skipped.items():
        name = NAMES.get(platform, platform)
        out.print(
            Text(f"– {name} skipped: {reason}"),
            style="dim",
            soft_wrap=True,
        )


def show_post(post: Post, out: Console) -> None:
    """The panel of one post."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    name = NAMES.get(post.platform, post.platform)
    rows: list[Text] = []
    if post.title is not None:
        rows.append(Text("Title: ", style="bold") + Text(post.title.text))
        rows.append(
            Text(f"       {_measure(post.title.length, post.title.limit, 'chars')}", style="dim")
        )
        rows.append(Text(""))
    for i, part in enumerate(post.parts):
        if len(post.parts) > 1:
            rows.append(
                Text(
                    f"[{i + 1}/{len(post.parts)}] "
                    f"{_measure(part.length, part.limit, post.unit.value)}",
                    style="bold",
                )
            )
        rows.append(Text(part.text))
        if i < len(post.parts) - 1:
            rows.append(Text(""))
    if post.media:
        rows.append(Text(""))
        for media in post.media:
            where = f" ← {media.url}" if media.url and media.path else ""
            rows.append(Text(f"📎 {media.kind}: {media.name}{where}", style="cyan"))
    comment = post.extra.get("first_comment")
    if comment:
        rows.append(Text(""))
        rows.append(Text("💬 first comment:", style="bold cyan"))
        rows.append(Text(comment, style="cyan"))
    tags = post.extra.get("tags")
    if tags:
        rows.append(Text("tags: " + ", ".join(tags), style="cyan"))
    if post.dropped:
        rows.append(Text("dropped: " + ", ".join(post.dropped), style="dim"))
    if post.visibility:
        rows.append(Text(f"🔒 not public: {post.visibility}", style="bold yellow"))
    for warning in post.warnings:
        rows.append(Text("! " + warning, style="yellow"))
    for problem in post.problems:
        rows.append(Text("✗ " + problem, style="bold red"))
    total = post.parts[0] if len(post.parts) == 1 else None
    status = (
        _measure(total.length, total.limit, post.unit.value)
        if total
        else (f"thread of {len(post.parts)}")
    )
    if post.trimmed:
        status += " · trimmed"
    if post.visibility:
        status += " · not public"
    style = "red" if post.problems else ("yellow" if post.trimmed or post.dropped else "green")
    out.print(
        Panel(
            Group(*rows),
            title=f"[bold]{name}[/bold] · {status}",
            title_align="left",
            border_style=style,
            expand=True,
        )
    )


def _measure(length: int, limit: int, unit: str) -> str:
    return f"{length:,}/{limit:,} {unit}"


def show_results(results: list[Result], out: Console) -> None:
    """One line per platform: published (URL), failed (why), or unknown (what to check)."""
    from rich.text import Text

    marks = {"published": ("✓", "green"), "failed": ("✗", "red"), "unknown": ("?", "yellow")}
    for result in results:
        mark, style = marks[result.status]
        name = NAMES.get(result.platform, result.platform)
        line = Text(f"{mark} {name}: ", style=f"bold {style}")
        if result.status == "published":
            line += Text(f"published {result.url or result.remote_id}")
            if result.message:
                line += Text(f" ({result.message})", style="dim")
        else:
            label = "outcome unknown" if result.status == "unknown" else f"failed ({result.code})"
            message = redact(result.message or "")
            for prefix in (f"{name}: ", f"{result.platform}: ", "X: "):
                message = message.removeprefix(prefix)  # the line already names the platform
            line += Text(f"{label}: {message}")
            if result.retryable:
                line += Text(" (trying again later may work)", style="dim")
        out.print(line, soft_wrap=True)
        if DEBUG and result.exception is not None:
            import traceback

            trace = traceback.format_exception(result.exception)
            console(stderr=True).print(redact("".join(trace)), markup=False)


def platform_message(platform: str, message: str) -> str:
    """A stored or raised message for a line that already names ``platform``: no repeated
    "Facebook: " prefix, secrets redacted (the state keeps messages as they were said)."""
    name = NAMES.get(platform, platform)
    text = redact(message)
    for prefix in (f"{name}: ", f"{platform}: ", "X: "):
        text = text.removeprefix(prefix)
    return text
