"""The README keeps up with the code: every command and every platform is documented."""

from __future__ import annotations

import typer

from crosspost import registry
from crosspost.cli import app
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text("utf-8")


def test_every_command_has_help_and_a_readme_row() -> None:
    """Each CLI command has a help text and appears in the README's command table."""
    command = typer.main.get_command(app)
    names = list(command.commands)  # type: ignore[attr-defined]
    assert set(names) >= {"validate", "preview", "publish", "init"}
    for name in names:
        assert command.commands[name].help, name  # type: ignore[attr-defined]
        assert f"`crosspost {name}" in README, name


def test_every_platform_has_credentials_documented() -> None:
    """Each adapter's secrets are named in the README's credentials table."""
    from crosspost.credentials import env_name

    for name in registry.builtin_names():
        for key in registry.adapter_class(name).credentials:
            assert env_name(name, key) in README, (name, key)


def test_readme_has_the_three_newcomer_commands() -> None:
    """Install, test, and the credential-free example: the commands .ci/run runs too."""
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    for line in (
        ".venv/bin/pip install -e '.[test]'",
        ".venv/bin/ruff check . && .venv/bin/mypy --strict src adapters && .venv/bin/pytest",
        "crosspost preview examples/musi-rawas/announcement.toml",
    ):
        assert line in README and line in ci, line
