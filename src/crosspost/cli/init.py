"""``crosspost init``: write a commented starter config."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def init(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="Where to write it. Default: config.toml in the user config directory."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a starter config.toml (profile, Find Us block, platforms) to fill in."""
    from rich.text import Text

    from crosspost.cli._output import console
    from crosspost.config import user_dir
    from crosspost.errors import InputError
    from crosspost.starter import starter_config

    target = path or user_dir() / "config.toml"
    if target.exists() and not force:
        raise InputError(f"{target}: already exists; use --force to overwrite it")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(starter_config(), encoding="utf-8")
    console().print(Text(f"✓ wrote {target}; edit it, then run: crosspost validate FILE"))
