"""``crosspost doctor``: would tonight's run work? Online, read-only checks per platform.

The checks themselves live in ``crosspost.doctor`` (imported here only when the
command runs: it imports httpx). This module parses the options and prints one
block per platform: ✓ ok, ! warning (the run still works), ✗ failure (it would
not). Exit 0 when nothing fails, 1 otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crosspost.cli._options import ConfigOpt, JsonOpt, PlatformOpt
from crosspost.cli._output import error, human, print_json

if TYPE_CHECKING:
    from rich.console import Console

    from crosspost.adapter import Finding
    from crosspost.doctor import Report

#: How findings are marked, by level.
_MARKS = {"ok": ("✓", "green"), "warn": ("!", "yellow"), "fail": ("✗", "red")}


def doctor(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="An announcement: check its targets, its media URLs and what it needs. "
            "Default: every platform set up in the config or the credentials.",
            show_default=False,
        ),
    ] = None,
    platform: PlatformOpt = None,
    json: JsonOpt = False,
    config: ConfigOpt = None,
    warn_days: Annotated[
        int,
        typer.Option(
            "--warn-days",
            min=0,
            help="Warn when a token that cannot renew itself expires within this many days.",
        ),
    ] = 7,
) -> None:
    """Check that publishing would work now: state, credentials, accounts, media URLs.

    Read-only: nothing is posted and no token is renewed. Exit 0 when every check
    passes or only warns, 1 when one fails.
    """
    from crosspost.doctor import examine

    result = examine(file, config_path=config, only=platform or (), warn_days=warn_days)
    if json:
        print_json(result.to_json())
    else:
        show(result, human(False))
    _alert(result, file, config)
    if result.failed:
        raise typer.Exit(1)


def show(result: Report, out: Console) -> None:
    """The human report: the state directory, then one block per platform."""
    from rich.text import Text

    _line(out, result.state, "state")
    if result.credentials is not None:
        _line(out, result.credentials, "credentials file")
    for platform in result.platforms:
        heading = platform.display_name + (f" ({platform.account})" if platform.account else "")
        out.print(Text(heading, style="bold"), soft_wrap=True)
        for finding in platform.findings:
            _line(out, finding, indent="  ")
    for finding in result.general:
        _line(out, finding)


def _line(out: Console, finding: Finding, label: str = "", indent: str = "") -> None:
    from rich.text import Text

    from crosspost.redaction import redact

    mark, style = _MARKS[finding.level]
    text = f"{label}: {finding.message}" if label else finding.message
    out.print(Text(f"{indent}{mark} {redact(text)}", style=style), soft_wrap=True)


def _alert(result: Report, file: Path | None, config: Path | None) -> None:
    """Tell the office about tokens that are dying or dead (once, then reminders).

    Run ``crosspost doctor`` daily from cron: an alert arrives days before a
    token stops a night's run. Tokens found fine again are forgotten, so a later
    problem alerts at once. Delivery problems never change the exit code.
    """
    from crosspost.alerts import TOKEN_KINDS, Event, forget, notify
    from crosspost.config import find_config, load_config
    from crosspost.errors import CrosspostError
    from crosspost.state import open_store, state_dir

    try:
        settings = load_config(find_config(config, file))
        store = open_store(state_dir(settings.config.state_dir, settings.source))
    except CrosspostError:
        return  # doctor has already said what is wrong with the config or the state
    try:
        events = []
        for report in result.platforms:
            bad = [f for f in report.tokens if f.level in ("warn", "fail")]
            if not bad:
                forget(store, kinds=TOKEN_KINDS, platform=report.platform)
            for finding in bad:
                events.append(
                    Event(
                        "token_dead" if finding.level == "fail" else "token_expiring",
                        None,
                        None,
                        report.platform,
                        f"{report.display_name}"
                        + (f" ({report.account})" if report.account else "")
                        + f": {finding.message}",
                        command=f"crosspost auth login {report.platform}",
                    )
                )
        delivery = notify(settings, store, events, title="crosspost doctor: accounts need care")
    finally:
        store.close()
    if delivery.problem:
        error(delivery.problem)
