"""The ``crosspost`` command: thin command modules, registered here explicitly.

``main`` turns every ``CrosspostError`` into readable lines on stderr and its
exit code (README, Commands); a traceback appears only with ``--debug`` (or
``CROSSPOST_DEBUG=1``), and unexpected errors say how to get one. ``--debug``
adds the traceback and changes nothing else: the exit code is the same.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from crosspost.cli.alerts import app as alerts_app
from crosspost.cli.auth import app as auth_app
from crosspost.cli.doctor import doctor
from crosspost.cli.init import init
from crosspost.cli.preview import preview
from crosspost.cli.publish import publish
from crosspost.cli.queue import queue
from crosspost.cli.resolve import resolve
from crosspost.cli.run import run
from crosspost.cli.status import status
from crosspost.cli.validate import validate

app = typer.Typer(
    name="crosspost",
    help="Publish one announcement, fitted to each platform, to Facebook, Instagram, TikTok, "
    "YouTube and X.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        from crosspost import __version__

        typer.echo(f"crosspost {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show a traceback when something goes wrong.")
    ] = False,
) -> None:
    """crosspost: one announcement, published well on five networks."""


app.command()(validate)
app.command()(preview)
app.command()(publish)
app.command()(run)
app.command()(resolve)
app.command()(status)
app.command()(queue)
app.command()(init)
app.command()(doctor)
app.add_typer(auth_app, name="auth")
app.add_typer(alerts_app, name="alerts")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    from crosspost.errors import CrosspostError

    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("CROSSPOST_DEBUG", "") not in ("", "0")
    from crosspost.cli import _output

    _output.DEBUG = debug
    command = typer.main.get_command(app)
    try:
        # Standalone mode: click prints usage errors itself (exit 2) and turns
        # typer.Exit into SystemExit; our own errors propagate to the handlers below.
        command.main(args=args, prog_name="crosspost", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except CrosspostError as exc:
        _traceback(debug)
        from crosspost.cli._output import error

        error(str(exc))
        return exc.exit_code
    except Exception as exc:
        _traceback(debug)
        from crosspost.cli._output import error

        error(
            f"crosspost failed unexpectedly: {type(exc).__name__}: {exc}. "
            "Run again with --debug to see where, and please report it."
        )
        return 70  # EX_SOFTWARE
    return 0


def _traceback(debug: bool) -> None:
    """With --debug, the traceback of the error being handled, on stderr (secrets redacted).

    Only shown: the exit code stays the one the error has without --debug, so a
    script or cron job behaves the same when someone turns --debug on.
    """
    if debug:
        import traceback

        from crosspost.redaction import redact

        sys.stderr.write(redact(traceback.format_exc()))
        sys.stderr.flush()


def entry() -> None:
    """The console script: run and exit with the code."""
    sys.exit(main())
