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

    for name in registry.builtin_names() + registry.opt_in_names():
        for key in registry.adapter_class(name).credentials:
            assert env_name(name, key) in README, (name, key)


def test_readme_opens_with_the_two_newcomer_commands() -> None:
    """The README's first two commands each set up on their own, and .ci/run runs them as is."""
    import re

    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    example, tests = blocks[0], blocks[1]
    assert example.startswith("python3 -m venv .venv && ")
    assert example.endswith("crosspost preview examples/musi-rawas/announcement.toml")
    assert tests.startswith("python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && ")
    assert tests.endswith(
        ".venv/bin/ruff check . && .venv/bin/mypy --strict src adapters && .venv/bin/pytest"
    )
    ci_lines = ci.splitlines()
    assert tests in ci_lines
    assert any(line.startswith(example) for line in ci_lines)
    assert README.index(example) < README.index("## What it does")
