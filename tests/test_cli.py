"""The command line: bad input gets exit 2 and one readable line per problem, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from crosspost.cli import main
from tests.conftest import EXAMPLE, ROOT

CONFIG = """
[profile]
name = "KPU"
{tz}
"""


def make(tmp_path: Path, announcement: str | bytes, config: str = CONFIG.format(tz="")) -> Path:
    """An announcement file (and a config beside it) in a fresh folder, with the example media."""
    folder = tmp_path / "ann"
    folder.mkdir(exist_ok=True)
    shutil.copytree(EXAMPLE / "media", folder / "media", dirs_exist_ok=True)
    (folder / "crosspost.toml").write_text(config, encoding="utf-8")
    path = folder / "announcement.toml"
    if isinstance(announcement, bytes):
        path.write_bytes(announcement)
    else:
        path.write_text(announcement, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; (exit code, stdout, stderr)."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


GOOD = 'body = "Halo #TemanPemilih"\ntargets = ["facebook", "twitter"]\n'

BAD = {
    "toml-syntax": ('body = "Halo"\ntitle = \n', r"announcement.toml:2:\d+: TOML syntax error"),
    "unknown-key": ('bdy = "Halo"\nbody = "x"\n', "unknown key 'bdy'; did you mean 'body'?"),
    "unknown-nested-key": (
        'body = "x"\n[[media]]\npaht = "media/humas.jpg"\n',
        r"media\[0\]: unknown key 'paht'; did you mean 'path'\?",
    ),
    "wrong-type": ('body = "x"\nhashtags = "KPU"\n', "hashtags: Input should be a valid list"),
    "empty-body": ('body = "   \\n  "\n', "body: is empty"),
    "missing-body": ('title = "x"\n', "body: is required"),
    "missing-media": (
        'body = "x"\n[[media]]\npath = "media/nope.jpg"\n',
        r"media\[0\]\.path: 'media/nope.jpg': file not found",
    ),
    "unsupported-media": (
        'body = "x"\n[[media]]\npath = "crosspost.toml"\n',
        "is not a media type crosspost can publish",
    ),
    "naive-publish-at": (
        'body = "x"\npublish_at = 2023-11-30T10:00:00\n',
        "publish_at: has no UTC offset and the config has no \\[profile\\] timezone",
    ),
    "unknown-platform": (
        'body = "x"\ntargets = ["facebook", "tiktoc"]\n',
        r"targets\[1\]: unknown platform 'tiktoc'; known platforms: facebook, instagram, tiktok, "
        "youtube, twitter",
    ),
    "unknown-platform-table": (
        'body = "x"\n[platforms.myspace]\nbody = "y"\n',
        "platforms.myspace: unknown platform 'myspace'",
    ),
    "invalid-hashtag": ('body = "x"\nhashtags = ["Pemilu 2024", "ok", "#!!"]\n', "hashtags"),
    "control-character": ('body = "Halo\\u0007 semua"\n', "control character U\\+0007"),
    "platform-option-typo": (
        'body = "x"\n[platforms.twitter]\nthred = true\n',
        "platforms.twitter: unknown key 'thred'; did you mean 'thread'\\?",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_announcement_exit_2_one_line_per_problem(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each kind of bad input: exit 2, a readable line naming the place, no traceback."""
    import re

    text, expected = BAD[case]
    path = make(tmp_path, text)
    before = sorted(p.name for p in path.parent.rglob("*"))
    for command in ("validate", "preview", "publish"):
        code, out, err = run(capsys, command, str(path))
        assert code == 2, (command, out, err)
        assert "Traceback" not in err + out
        assert re.search(expected, err), err
        assert all(line.startswith("error: ") for line in err.strip().splitlines()), err
    assert sorted(p.name for p in path.parent.rglob("*")) == before  # nothing written


def test_invalid_hashtags_each_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every invalid hashtag gets its own line naming its position."""
    path = make(tmp_path, BAD["invalid-hashtag"][0])
    code, _, err = run(capsys, "validate", str(path))
    assert code == 2
    assert "hashtags[0]: 'Pemilu 2024' contains a space" in err
    assert "hashtags[2]: '#!!' is not a valid hashtag" in err
    assert "hashtags[1]" not in err


def test_several_problems_reported_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """All problems of a file are listed in one run, not one per run."""
    path = make(
        tmp_path,
        'body = "Halo\\u0001"\nhashtags = ["a b"]\ntargets = ["nope"]\n'
        '[[media]]\npath = "missing.png"\n',
    )
    code, _, err = run(capsys, "validate", str(path))
    assert code == 2
    assert len(err.strip().splitlines()) == 4


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "is empty"),
        (b"  \n\n", "is empty"),
        ('body = "caf\u00e9"'.encode("latin-1"), "is not UTF-8 text"),
        (b'body = "' + b"x" * 1_000_001 + b'"', "the limit is 1,000,000 (1 MB)"),
    ],
    ids=["empty", "whitespace", "not-utf8", "over-1mb"],
)
def test_bad_files(
    content: bytes, expected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Empty, non-UTF-8 and oversized files are refused with one line naming the file."""
    path = make(tmp_path, content)
    code, _, err = run(capsys, "preview", str(path))
    assert code == 2
    assert f"{path}" in err and expected in err
    assert len(err.strip().splitlines()) == 1


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that does not exist is named."""
    code, _, err = run(capsys, "preview", str(tmp_path / "nope.toml"))
    assert code == 2
    assert "nope.toml: no such file" in err


def test_invalid_timezone_in_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A timezone that does not exist is an error in the config, naming the field."""
    path = make(tmp_path, GOOD, CONFIG.format(tz='timezone = "Asia/Jakrta"'))
    code, _, err = run(capsys, "validate", str(path))
    assert code == 2
    assert "crosspost.toml: profile.timezone: 'Asia/Jakrta' is not a timezone name" in err


def test_local_publish_at_uses_profile_timezone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A publish_at without offset takes the profile's timezone."""
    path = make(
        tmp_path,
        GOOD + "publish_at = 2023-11-30T10:00:00\n",
        CONFIG.format(tz='timezone = "Asia/Jakarta"'),
    )
    code, out, _ = run(capsys, "preview", "--json", str(path))
    assert code == 0
    assert json.loads(out)["publish_at"] == "2023-11-30T10:00:00+07:00"


def test_config_errors_name_the_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown keys and platforms in config.toml are named with the config file."""
    path = make(tmp_path, GOOD, '[profil]\nname = "x"\n[platforms.twiter]\nenabled = true\n')
    code, _, err = run(capsys, "preview", str(path))
    assert code == 2
    assert "crosspost.toml: unknown key 'profil'; did you mean 'profile'?" in err


def test_feasibility_problems_fail_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Text alone cannot go to Instagram, TikTok or YouTube: named in targets, validate says
    so per platform; without targets they are skipped with the reason."""
    targeted = make(
        tmp_path, 'body = "Halo"\ntargets = ["facebook", "instagram", "tiktok", "youtube"]\n'
    )
    code, _, err = run(capsys, "validate", str(targeted))
    assert code == 2
    assert "instagram: Instagram needs an image or a video" in err
    assert "tiktok: TikTok needs a video or photos" in err
    assert "youtube: YouTube needs a video" in err
    assert "facebook" not in err
    plain = make(tmp_path, 'body = "Halo"\n')
    code, out, err = run(capsys, "validate", str(plain))
    assert code == 0, err
    assert "ready for facebook, twitter" in out
    assert "skipped youtube: no video" in out


def test_validate_example_ok(capsys: pytest.CaptureFixture[str]) -> None:
    """The example validates for all five platforms."""
    code, out, _ = run(capsys, "validate", str(EXAMPLE / "announcement.toml"))
    assert code == 0
    assert "ready for facebook, instagram, tiktok, youtube, twitter" in out


def test_preview_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    """preview --json is one document with the fields docs/json.md promises."""
    code, out, _ = run(capsys, "preview", "--json", str(EXAMPLE / "announcement.toml"))
    assert code == 0
    data = json.loads(out)
    assert data["announcement"] == "humas-public-speaking-2023"
    assert [p["platform"] for p in data["posts"]] == [
        "facebook",
        "instagram",
        "tiktok",
        "youtube",
        "twitter",
    ]
    x = data["posts"][-1]
    assert set(x) >= {
        "platform",
        "unit",
        "title",
        "parts",
        "media",
        "trimmed",
        "dropped",
        "warnings",
        "problems",
    }
    assert x["unit"] == "weighted" and x["title"] is None and x["trimmed"] is True
    assert x["parts"][0]["limit"] == 280 and x["parts"][0]["length"] <= 280
    assert x["media"] == [{"path": "media/humas.jpg", "kind": "image"}]
    yt = data["posts"][3]
    assert yt["title"] == {
        "text": "Penguatan Peran Kehumasan dan Public Speaking",
        "length": 45,
        "limit": 100,
    }


def test_dry_run_output_is_identical_to_preview(capsys: pytest.CaptureFixture[str]) -> None:
    """publish --dry-run prints exactly what preview prints (human and JSON)."""
    ann = str(EXAMPLE / "announcement.toml")
    for extra in ([], ["--json"]):
        _, preview_out, _ = run(capsys, "preview", *extra, ann)
        code, dry_out, _ = run(capsys, "publish", "--dry-run", *extra, ann)
        assert code == 0
        assert dry_out == preview_out


def test_platform_filter_and_x_alias(capsys: pytest.CaptureFixture[str]) -> None:
    """--platform x shows only the X post; an unknown name lists the known ones."""
    ann = str(EXAMPLE / "announcement.toml")
    code, out, _ = run(capsys, "preview", "--json", "-p", "x", ann)
    assert code == 0
    assert [p["platform"] for p in json.loads(out)["posts"]] == ["twitter"]
    code, _, err = run(capsys, "preview", "-p", "myspace", ann)
    assert code == 2 and "known platforms: facebook" in err


def test_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong option is a usage error: exit 2."""
    code, _, err = run(capsys, "preview", "--nope", str(EXAMPLE / "announcement.toml"))
    assert code == 2
    assert "No such option" in err


def test_init_writes_a_valid_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """init writes a starter config that validates, and refuses to overwrite it."""
    from crosspost.config import load_config

    target = tmp_path / "config.toml"
    assert run(capsys, "init", str(target))[0] == 0
    settings = load_config(target)
    assert settings.config.profile.timezone == "Asia/Jakarta"
    code, _, err = run(capsys, "init", str(target))
    assert code == 2 and "already exists" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    """--version prints the installed version."""
    from importlib.metadata import version

    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"crosspost {version('crosspost')}"


def _subprocess(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        timeout=120,
        check=False,
    )


def test_preview_imports_no_httpx() -> None:
    """preview makes no network calls and does not even import httpx (fast start-up)."""
    code = (
        "import sys; from crosspost.cli import main; "
        "rc = main(['preview', 'examples/musi-rawas/announcement.toml']); "
        "print('HTTPX' if 'httpx' in sys.modules else 'NO-HTTPX', rc)"
    )
    result = _subprocess("-c", code)
    assert result.stdout.strip().endswith("NO-HTTPX 0"), result.stderr


def test_console_script_runs_example_without_credentials() -> None:
    """The README's example command works from a fresh process with no credentials."""
    result = _subprocess("-m", "crosspost", "preview", "examples/musi-rawas/announcement.toml")
    assert result.returncode == 0, result.stderr
    assert "X / Twitter" in result.stdout and "Find Us On:" in result.stdout


def test_debug_shows_traceback_only_when_asked(tmp_path: Path) -> None:
    """Without --debug no traceback; with --debug the traceback is shown."""
    bad = tmp_path / "a.toml"
    bad.write_text("body = ", encoding="utf-8")
    quiet = _subprocess("-m", "crosspost", "preview", str(bad))
    assert quiet.returncode == 2 and "Traceback" not in quiet.stderr
    loud = _subprocess("-m", "crosspost", "--debug", "preview", str(bad))
    assert "Traceback" in loud.stderr
