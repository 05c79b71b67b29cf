"""``crosspost status``: what the ledger says about an announcement, platform by platform."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from crosspost.cli._options import ConfigOpt, JsonOpt
from crosspost.cli._output import NAMES, human, print_json


def status(
    files: Annotated[list[Path], typer.Argument(help="Announcement files.")],
    json: JsonOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Show where each announcement was published; exit 1 if some platform still lacks it."""
    from rich.text import Text

    from crosspost.config import find_config, load_config
    from crosspost.ledger import Ledger
    from crosspost.loader import load_announcement
    from crosspost.planning import platforms_for

    out = human(json)
    documents: list[dict[str, Any]] = []
    worst = 0
    for path in files:
        settings = load_config(find_config(config, path))
        loaded = load_announcement(path, settings)
        entries = Ledger(loaded.id).entries()
        rows: list[dict[str, str]] = []
        for name in platforms_for(loaded, settings):
            entry = entries.get(name)
            state = entry.status if entry else "not published"
            if state == "sending":
                state = "unknown"  # a run was killed mid-publish
            row = {"platform": name, "status": state}
            if entry is not None:
                row["at"] = entry.at
                if entry.url:
                    row["url"] = entry.url
                if entry.message and state != "published":
                    row["message"] = entry.message
            rows.append(row)
            worst = max(worst, {"published": 0, "unknown": 3}.get(state, 1))
        documents.append({"announcement": loaded.id, "file": str(path), "platforms": rows})
        if json:
            continue
        out.print(Text(f"{loaded.id} ({path})", style="bold"), soft_wrap=True)
        marks = {"published": ("✓", "green"), "unknown": ("?", "yellow")}
        for row in rows:
            mark, style = marks.get(row["status"], ("✗", "red"))
            line = f"  {mark} {NAMES.get(row['platform'], row['platform'])}: {row['status']}"
            if "at" in row:
                line += f" at {row['at']}"
            detail = row.get("url") or row.get("message")
            out.print(Text(line + (f": {detail}" if detail else ""), style=style), soft_wrap=True)
    if json:
        print_json(documents if len(documents) > 1 else documents[0])
    if worst:
        raise typer.Exit(1 if worst == 1 else 3)
