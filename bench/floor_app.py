"""The smallest app on crosspost's stack: typer parses one argument, pydantic validates one
model, rich prints one panel. bench/preview.py times it as the floor of any such CLI."""

from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel

app = typer.Typer()


class Note(BaseModel):
    """One validated field."""

    body: str


@app.command()
def preview(file: Annotated[Path, typer.Argument()]) -> None:
    """Validate and print."""
    from rich.console import Console
    from rich.panel import Panel

    Console().print(Panel(Note.model_validate({"body": file.name}).body))


@app.callback()
def root() -> None:
    """The floor app."""


if __name__ == "__main__":
    app()
