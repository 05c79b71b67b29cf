"""``crosspost alerts test``: send a test message to every alert URL (docs/alerts.md).

Each target is named by its scheme alone (``tgram://…``): an alert URL may
carry a bot token or a password, so it is never printed. Exit 0 when every
target took the message, 1 when one did not, 2 when no alert URL is set.
"""

from __future__ import annotations

import typer

from crosspost.cli._options import ConfigOpt

app = typer.Typer(
    name="alerts",
    help="Alerts: where failed posts, skipped announcements and expiring tokens are reported.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@app.command("test")
def send_test_message(config: ConfigOpt = None) -> None:
    """Send a test message to every alert URL and say, per target, whether it arrived.

    Exit 0 when every target took it, 1 when one did not, 2 when no alert URL is set.
    """
    from rich.text import Text

    from crosspost.alerts import ENV_URLS, send_test
    from crosspost.cli._output import console, error
    from crosspost.config import find_config, load_config
    from crosspost.credentials import credentials_path

    path = find_config(config)
    configuration = load_config(path)
    delivery = send_test(configuration)
    if delivery.status == "unconfigured":
        where = f"[alerts] in {path}" if path else "an [alerts] table in the config"
        error(
            f'no alert URL is set: add urls = ["tgram://…"] under {where}, or under [alerts] '
            f"in {credentials_path()} (mode 0600: URLs may hold tokens), or set {ENV_URLS}; "
            "see docs/alerts.md"
        )
        raise typer.Exit(2)
    out = console()
    for target in delivery.targets:
        if target.delivered:
            line = Text("✓ ", style="bold green") + Text(f"{target.shown}: delivered")
        else:
            line = Text("✗ ", style="bold red") + Text(
                f"{target.shown}: not delivered: {target.reason}"
            )
        out.print(line, soft_wrap=True)
    if delivery.status != "sent":
        raise typer.Exit(1)
