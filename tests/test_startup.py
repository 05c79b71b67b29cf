"""Start-up stays small: preview imports only what it uses, and the shortcuts that make it
fast change no result (bench/preview.py measures the time itself)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import regex

from crosspost import twittertext
from crosspost.cli import COMMANDS, main
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "musi-rawas" / "announcement.toml"

#: What a preview has no use for: the other commands, publishing, the state store, alerts,
#: the network client.
NOT_FOR_PREVIEW = (
    *(f"crosspost.cli.{name}" for name in COMMANDS if name != "preview"),
    "crosspost.publishing",
    "crosspost.state",
    "crosspost.journal",
    "crosspost.alerts",
    "httpx",
    "asyncio",
)


def test_preview_imports_no_other_command_nor_publishing() -> None:
    """`crosspost preview` loads the preview command alone: no other command module, no
    publishing, state, alerts or HTTP client (each costs start-up time on every preview)."""
    code = (
        "import contextlib, io, json, sys\n"
        "from crosspost.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main(['preview', {str(EXAMPLE)!r}])\n"
        "print(json.dumps([code, sorted(sys.modules)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    exit_code, modules = json.loads(done.stdout.splitlines()[-1])
    assert exit_code == 0, done.stderr
    assert "crosspost.cli.preview" in modules
    loaded = [name for name in NOT_FOR_PREVIEW if name in modules]
    assert loaded == []


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_lazy_command_answers_help(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Each command, imported on demand, builds and shows its own help (exit 0)."""
    assert main([name, "--help"]) == 0
    assert f"crosspost {name}" in capsys.readouterr().out


def test_root_help_lists_every_command_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    """`crosspost --help` lists all commands, in the declared order, each with its summary."""
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    listed = out[out.index("Commands:") :].split("\n")[1:]
    names = [line.split()[0] for line in listed if line.startswith("  ") and line.split()]
    assert names == list(COMMANDS)


def test_a_mistyped_command_still_gets_a_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    """Typo suggestions see every command name, loaded or not."""
    assert main(["previw", "x"]) == 2
    assert "Did you mean 'preview'?" in capsys.readouterr().err


def _code_points(upstream: str, prefix: str) -> str:
    """The extra code points of an upstream class body (after its \\p{..} prefix)."""
    assert upstream.startswith(prefix)
    return "".join(sorted(twittertext._class_chars(upstream[len(prefix) :])))


def test_short_hashtag_letter_class_holds_every_upstream_code_point() -> None:
    """The short letter class (\\p{L}\\p{M} + private-use extras) matches every code point
    of twitter-text's full HASHTAG_LETTERS_AND_MARKS list, and adds none of its own."""
    extras = _code_points(twittertext.HASHTAG_LETTERS_AND_MARKS_UPSTREAM, r"\p{L}\p{M}")
    short = regex.compile(f"[{twittertext._HASHTAG_LETTERS_AND_MARKS}]")
    assert len(extras) > 2000
    assert [ch for ch in extras if not short.fullmatch(ch)] == []
    own = _code_points(twittertext._HASHTAG_LETTERS_AND_MARKS, r"\p{L}\p{M}")
    assert set(own) <= set(extras)


def test_short_hashtag_numeral_class_holds_every_upstream_code_point() -> None:
    """\\p{Nd} alone matches every numeral twitter-text lists beyond \\p{Nd}."""
    extras = _code_points(twittertext.HASHTAG_NUMERALS_UPSTREAM, r"\p{Nd}")
    assert len(extras) > 100
    assert [ch for ch in extras if not regex.fullmatch(r"\p{Nd}", ch)] == []
