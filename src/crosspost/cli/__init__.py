"""The ``crosspost`` command: thin command modules, listed here explicitly, imported lazily.

``main`` turns every ``CrosspostError`` into readable lines on stderr and its
exit code (README, Commands); a traceback appears only with ``--debug`` (or
``CROSSPOST_DEBUG=1``), and unexpected errors say how to get one. ``--debug``
adds the traceback and changes nothing else: the exit code is the same.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator, MutableMapping
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

#: Every command, in the order ``--help`` lists them: its name and ``module:attribute``
#: (a command function, or a ``typer.Typer`` of subcommands). A command module is
#: imported only when its command runs or help lists it, so ``crosspost preview``
#: neither imports nor builds the other ten (bench/preview.py measures the start-up).
COMMANDS: dict[str, str] = {
    "validate": "crosspost.cli.validate:validate",
    "preview": "crosspost.cli.preview:preview",
    "publish": "crosspost.cli.publish:publish",
    "run": "crosspost.cli.run:run",
    "resolve": "crosspost.cli.resolve:resolve",
    "status": "crosspost.cli.status:status",
    "queue": "crosspost.cli.queue:queue",
    "init": "crosspost.cli.init:init",
    "doctor": "crosspost.cli.doctor:doctor",
    "auth": "crosspost.cli.auth:app",
    "alerts": "crosspost.cli.alerts:app",
}


class _LazyCommands(MutableMapping[str, Any]):
    """The root group's commands: every name known up front, each built on first access.

    click and typer reach commands through ``commands.get(name)``, ``keys()`` (typo
    suggestions) and ``list_commands``; only the first builds, and only the one asked for.
    """

    def __init__(self, built: MutableMapping[str, Any]) -> None:
        self._built = dict(built)

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            if name not in COMMANDS:
                raise KeyError(name)
            self._built[name] = _build(name)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        del self._built[name]

    def __iter__(self) -> Iterator[str]:
        yield from COMMANDS
        yield from (name for name in self._built if name not in COMMANDS)

    def __len__(self) -> int:
        return len(COMMANDS) + sum(1 for name in self._built if name not in COMMANDS)

    def __contains__(self, name: object) -> bool:
        return name in COMMANDS or name in self._built


class _LazyGroup(TyperGroup):
    """typer's group with lazily imported commands (see ``COMMANDS``)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = _LazyCommands(self.commands)

    def list_commands(self, ctx: Any) -> list[str]:
        """The names, in ``COMMANDS`` order, without importing any command."""
        return list(self.commands.keys())


def _build(name: str) -> Any:
    """The click command for ``name``, built by typer exactly as ``app.command()`` or
    ``app.add_typer`` would, on a throwaway app with the root's settings."""
    module_name, _, attribute = COMMANDS[name].partition(":")
    target = getattr(importlib.import_module(module_name), attribute)
    holder = typer.Typer(
        pretty_exceptions_enable=False, add_completion=False, rich_markup_mode=None
    )
    holder.callback()(_noop)  # a callback makes typer build a group even for one command
    if isinstance(target, typer.Typer):
        holder.add_typer(target, name=name)
    else:
        holder.command(name=name)(target)
    group = typer.main.get_command(holder)
    return group.commands[name]  # type: ignore[attr-defined]


def _noop() -> None:
    """The throwaway app's callback."""


app = typer.Typer(
    cls=_LazyGroup,
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


def _plugin_warnings_as_lines() -> None:
    """Show a plugin's warning (a name clash) as one readable line, not Python's format."""
    import warnings

    shown = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        from crosspost.registry import PluginWarning

        if issubclass(category, PluginWarning):
            from crosspost.cli._output import console

            console(stderr=True).print(f"warning: {message}", soft_wrap=True, markup=False)
        else:
            shown(message, category, *args, **kwargs)

    warnings.showwarning = show


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (the console script exits with it)."""
    from crosspost.errors import CrosspostError

    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("CROSSPOST_DEBUG", "") not in ("", "0")
    from crosspost.cli import _output

    _output.DEBUG = debug
    _plugin_warnings_as_lines()
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
