"""Options shared by several commands, spelled once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

AnnouncementArg = Annotated[
    Path,
    typer.Argument(help="The announcement file (TOML).", show_default=False),
]
PlatformOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--platform",
        "-p",
        help="Only this platform (repeat for several): facebook, instagram, tiktok, youtube, "
        "twitter (or x).",
        show_default=False,
    ),
]
JsonOpt = Annotated[
    bool,
    typer.Option("--json", help="Print one JSON document on stdout; messages go to stderr."),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="The config file. Default: $CROSSPOST_CONFIG, crosspost.toml beside the "
        "announcement, ./crosspost.toml, then the user config directory.",
        show_default=False,
    ),
]
