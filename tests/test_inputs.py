"""Bad inputs: each is refused on one line naming the place, exit 2, never a traceback.

Media that is not a regular file or whose headers are broken, TOML nested
absurdly deep, secrets with control or non-ASCII characters (never shown),
local times that do not exist or exist twice, retry notices, and --debug
(which shows a traceback but never changes the exit code).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crosspost.cli import main
from crosspost.loader import load_announcement
from tests.conftest import EXAMPLE, ROOT
from tests.fakes.world import World

MP4 = (EXAMPLE / "media" / "humas.mp4").read_bytes()
JPEG = (EXAMPLE / "media" / "humas.jpg").read_bytes()
CONFIG = '[profile]\nname = "KPU"\n{extra}\n'
COMMANDS = ("validate", "preview", "publish")


class Hung(BaseException):
    """Raised by the alarm when a command blocks (main() catches only Exception)."""


@pytest.fixture
def deadline() -> Iterator[None]:
    """Fail, instead of hanging for ever, if the test takes more than 20 seconds."""

    def ring(signum: int, frame: object) -> None:
        raise Hung("blocked for 20 seconds")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def folder(tmp_path: Path, extra: str = "") -> Path:
    """A folder with a config (extra lines appended) and the example's media."""
    where = tmp_path / "ann"
    where.mkdir(exist_ok=True)
    shutil.copytree(EXAMPLE / "media", where / "media", dirs_exist_ok=True)
    (where / "crosspost.toml").write_text(CONFIG.format(extra=extra), encoding="utf-8")
    return where


def announce(where: Path, text: str, name: str = "announcement.toml") -> Path:
    """Write an announcement into ``where``; returns its path."""
    path = where / name
    path.write_text(text, encoding="utf-8")
    return path


def with_media(path: str) -> str:
    """An announcement to X with one media file at ``path``."""
    return f'body = "Halo"\ntargets = ["twitter"]\n[[media]]\npath = "{path}"\n'


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; (exit code, stdout, stderr)."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def refused(
    capsys: pytest.CaptureFixture[str], path: Path, expected: str, commands: tuple[str, ...]
) -> None:
    """Each command exits 2 with an error line matching ``expected``, and no traceback."""
    for command in commands:
        code, out, err = run(capsys, command, str(path))
        assert code == 2, (command, out, err)
        assert "Traceback" not in out + err
        lines = err.strip().splitlines()
        assert all(line.startswith("error: ") for line in lines), err
        assert any(re.search(expected, line) for line in lines), (command, err)


# --- 1. Media: regular files only -------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.usefixtures("deadline")
def test_fifo_media_is_refused_without_hanging(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A named pipe as media: refused at once by validate, preview and publish, never opened."""
    where = folder(tmp_path)
    os.mkfifo(where / "clip.mp4")
    path = announce(where, with_media("clip.mp4"))
    expected = r"media\[0\]\.path: 'clip\.mp4': is a named pipe \(FIFO\), not a regular file$"
    refused(capsys, path, expected, COMMANDS)


def test_device_media_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """/dev/zero as media is a character device, not "an empty file"."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero")
    path = announce(folder(tmp_path), with_media("/dev/zero"))
    expected = r"media\[0\]\.path: '/dev/zero': is a character device, not a regular file$"
    refused(capsys, path, expected, COMMANDS)


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets")
def test_socket_media_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A Unix socket named like a photo is refused as a socket."""
    where = folder(tmp_path)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(where / "photo.jpg"))
        path = announce(where, with_media("photo.jpg"))
        refused(capsys, path, r"'photo\.jpg': is a socket, not a regular file$", COMMANDS)


def test_folder_media_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A folder given as media names the folder."""
    path = announce(folder(tmp_path), with_media("media"))
    refused(capsys, path, r"media\[0\]\.path: 'media': is a folder, not a file$", COMMANDS)


# --- 2. Media: real headers -------------------------------------------------------------

BROKEN = {
    "12-byte-mp4": (
        "v.mp4",
        b"\x00\x00\x00\x0cftypmp42",
        r"'v\.mp4': is not a valid MP4 video: it has no 'moov' box",
    ),
    "truncated-mp4": (
        "v.mp4",
        MP4[:100_000],
        r"'v\.mp4': is not a valid MP4 video: it is cut short: the 'mdat' box needs "
        r"58,726 more bytes",
    ),
    "mp4-cut-in-moov": (
        "v.mp4",
        MP4[:1000],
        r"'v\.mp4': is not a valid MP4 video: it is cut short: the 'moov' box needs",
    ),
    "mp4-without-moov": (
        "v.mp4",
        MP4[:32] + struct.pack(">I4s", 1008, b"mdat") + bytes(1000),
        r"'v\.mp4': is not a valid MP4 video: it has no 'moov' box",
    ),
    "mov-without-mvhd": (
        "v.mov",
        b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  "
        + struct.pack(">I4s", 16, b"moov")
        + struct.pack(">I4s", 8, b"trak"),
        r"'v\.mov': is not a valid MOV video: the 'moov' box has no 'mvhd' header",
    ),
    "fake-jpeg": (
        "photo.jpg",
        b"\xff\xd8\xff\xe0" + b"this is not a JPEG at all" * 4,
        r"'photo\.jpg': is not a valid JPEG image: it is cut short before its frame header",
    ),
    "jpeg-with-junk-between-markers": (
        "photo.jpg",
        JPEG[:38] + b"junk" + JPEG[38:],
        r"'photo\.jpg': is not a valid JPEG image: its headers are damaged at byte 38",
    ),
    "jpeg-cut-before-sof": (
        "photo.jpg",
        JPEG[:150],
        r"'photo\.jpg': is not a valid JPEG image: it is cut short before its frame header",
    ),
    "jpeg-scan-without-sof": (
        "photo.jpg",
        JPEG[:107] + JPEG[212:],  # DQT, then straight to the scan: the SOF0 and DHT cut out
        r"'photo\.jpg': is not a valid JPEG image: it has no frame header \(SOF\)",
    ),
    "png-without-ihdr": (
        "logo.png",
        b"\x89PNG\r\n\x1a\n" + struct.pack(">I4s", 13, b"IDAT") + bytes(40),
        r"'logo\.png': is not a valid PNG image: it does not start with the IHDR chunk",
    ),
    "text-named-jpeg": (
        "photo.jpg",
        b"<html>404 Not Found</html>",
        r"'photo\.jpg': is not a media type crosspost can publish",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_media_headers_are_refused(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Truncated or fake media are refused at validate (and preview, publish), naming the file."""
    name, data, expected = BROKEN[case]
    where = folder(tmp_path)
    (where / name).write_bytes(data)
    path = announce(where, with_media(name))
    refused(capsys, path, rf"media\[0\]\.path: {expected}", COMMANDS)


def test_sound_media_still_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The strict checks pass real files: the example's photo and video validate."""
    where = folder(tmp_path)
    path = announce(
        where,
        'body = "Halo"\ntargets = ["twitter"]\n[[media]]\npath = "media/humas.jpg"\n'
        '[[media]]\npath = "media/humas.mp4"\n',
    )
    code, _, err = run(capsys, "validate", str(path))
    assert code == 0, err


# --- 3. TOML nesting --------------------------------------------------------------------


@pytest.mark.parametrize(
    "nesting",
    [
        "a = " + "[" * 100_000 + "]" * 100_000,
        "a = " + "{b = " * 100 + "1" + "}" * 100,
        "x" + ".a" * 100_000 + " = 1",
        "[" + "t." * 40 + "u]\n" + "k." * 40 + "v = 1",
    ],
    ids=["arrays", "inline-tables", "dotted-key", "header-and-key"],
)
def test_deep_toml_is_refused(
    nesting: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A TOML nested absurdly deep: 'nested deeper than 64 levels', exit 2, no RecursionError."""
    path = announce(folder(tmp_path), f'body = "Halo"\n{nesting}\n')
    refused(capsys, path, r"announcement\.toml: nested deeper than 64 levels$", COMMANDS)


def test_deep_config_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The config file gets the same cap, naming the config."""
    where = folder(tmp_path, "a = " + "[" * 100_000 + "]" * 100_000)
    path = announce(where, 'body = "Halo"\n')
    refused(capsys, path, r"crosspost\.toml: nested deeper than 64 levels$", ("validate",))


def test_brackets_in_strings_and_comments_are_not_nesting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Brackets and dots inside strings (all four kinds) and comments count for nothing."""
    deep = "[{." * 100
    text = (
        f'body = "Halo {deep} \\" {deep}"\n'
        f"title = '{deep}'\n"
        f'# {deep}\nlink = "https://example.org/{deep}"\n'
        f'[platforms.facebook]\nbody = """\n{deep}\n\\""" {deep}"""""\n'
        f"title = '''{deep}\n'''\n"
    )
    path = announce(folder(tmp_path), f'targets = ["facebook"]\n{text}')
    code, _, err = run(capsys, "validate", str(path))
    assert code == 0, err


# --- 4. Credentials ---------------------------------------------------------------------

BAD_SECRETS = {
    "newline": "AAAA-first-half\nsecond-half-ZZZZ",
    "tab": "AAAA-first-half\tsecond-half-ZZZZ",
    "escape": "AAAA-first-half\x1b[31msecond-half-ZZZZ",
    "non-ascii": "AAAA-first-half\u00e9second-half-ZZZZ",
    "curly-quote": "\u201cAAAA-first-half-second-half-ZZZZ\u201d",
    "nbsp": "AAAA-first-half\u00a0second-half-ZZZZ",
}


@pytest.fixture
def world() -> Iterator[World]:
    """Five fakes and a media host on loopback."""
    w = World()
    with w.serving():
        yield w


def post_to_x(tmp_path: Path, world: World) -> tuple[Path, Path]:
    """An announcement for X with the example photo, and a config pointing at the fakes."""
    where = tmp_path / "post"
    where.mkdir()
    shutil.copy(EXAMPLE / "media" / "humas.jpg", where / "humas.jpg")
    path = announce(
        where,
        'body = "Halo #TemanPemilih"\ntargets = ["twitter"]\n'
        '[[media]]\npath = "humas.jpg"\nalt = "Peserta pelatihan"\n',
    )
    return path, world.config(tmp_path / "config.toml")


def nothing_sent(world: World) -> bool:
    """No fake platform saw a request."""
    return all(not fake.requests for fake in world.fakes.values())


def secret_nowhere(secret: str, *texts: str, under: Path) -> None:
    """Neither the secret nor a piece of it, escaped or not, in output or any file written."""
    pieces = {secret, repr(secret)[1:-1], "first-half", "second-half", "ZZZZ"}
    for text in texts:
        for piece in pieces:
            assert piece not in text, piece
    for file in under.rglob("*"):
        if file.is_file() and file.name != "credentials.toml":
            data = file.read_bytes()
            assert b"first-half" not in data and b"second-half" not in data, file


@pytest.mark.parametrize("kind", sorted(BAD_SECRETS))
@pytest.mark.parametrize("json", [False, True], ids=["human", "json"])
def test_bad_secret_in_environment_is_refused_unseen(
    kind: str,
    json: bool,
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A token with a control or non-ASCII character: exit 2 naming X and the variable,
    nothing sent, and the value in no output and no file."""
    secret = BAD_SECRETS[kind]
    for key, value in world.environ().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CROSSPOST_TWITTER_ACCESS_TOKEN", secret)
    path, config = post_to_x(tmp_path, world)
    args = ["publish", str(path), "--config", str(config), *(["--json"] if json else [])]
    code, out, err = run(capsys, *args)
    assert code == 2, out + err
    assert "Traceback" not in out + err
    assert re.search(
        r"^error: twitter: CROSSPOST_TWITTER_ACCESS_TOKEN contains (a|another) [^;]+; ",
        err,
        re.MULTILINE,
    ), err
    assert "the value is not shown" in err
    assert nothing_sent(world)
    secret_nowhere(secret, out, err, under=tmp_path)


def test_bad_secret_in_credentials_file_names_the_key(
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """From credentials.toml, the message names the key, the table and the file."""
    secret = BAD_SECRETS["newline"]
    for key, value in world.environ().items():
        if key != "CROSSPOST_TWITTER_ACCESS_TOKEN":
            monkeypatch.setenv(key, value)
    file = Path(os.environ["CROSSPOST_HOME"]) / "credentials.toml"
    file.write_text(f"[twitter]\naccess_token = {secret!r}\n".replace("'", '"'), "utf-8")
    file.chmod(0o600)
    path, config = post_to_x(tmp_path, world)
    code, out, err = run(capsys, "publish", str(path), "--config", str(config))
    assert code == 2, out + err
    assert f"error: twitter: access_token under [twitter] in {file} contains a line break" in err
    assert nothing_sent(world)
    secret_nowhere(secret, out, err, under=tmp_path)


# --- 5. Retry notices -------------------------------------------------------------------


def test_retried_step_prints_no_stamina_line_off_a_terminal(world: World, tmp_path: Path) -> None:
    """A 503 on the photo upload is retried and the post goes out; the output (not a
    terminal) has no stamina log line, and any retry notice is in crosspost's words."""
    world.twitter.fail(r"POST /2/media/upload", 503, json={"title": "Service Unavailable"})
    path, config = post_to_x(tmp_path, world)
    home = tmp_path / "home"
    home.mkdir()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPOST_")}
    environ |= world.environ() | {"CROSSPOST_HOME": str(home), "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "crosspost", "publish", str(path), "--config", str(config)],
        capture_output=True,
        text=True,
        env=environ,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert len(world.twitter.calls(r"POST /2/media/upload$")) == 2  # it was retried
    assert len(world.twitter.tweets) == 1
    assert "stamina" not in output
    flat = " ".join(output.split())  # the progress lines may wrap at 80 columns
    assert re.search(
        r"X / Twitter: uploading humas\.jpg: X had a temporary problem \(503: Service "
        r"Unavailable\); retrying (now|in [\d.]+ s) \(attempt 2\) X / Twitter: uploaded",
        flat,
    ), output


def test_retry_told_through_progress_in_crosspost_words(
    world: World,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The retry reaches the platform's progress as a step: the step, the reason, the wait;
    nothing is logged by stamina."""
    from crosspost.api import Progress
    from crosspost.planning import plan_file
    from crosspost.publishing import run as publish_run

    class Steps(Progress):
        def __init__(self) -> None:
            self.lines: list[str] = []

        def step(self, platform: str, message: str) -> None:
            self.lines.append(f"{platform}: {message}")

    for key, value in world.environ().items():
        monkeypatch.setenv(key, value)
    world.twitter.fail(r"POST /2/media/upload", 503, json={"title": "Service Unavailable"})
    path, config = post_to_x(tmp_path, world)
    steps = Steps()
    plan = plan_file(path, config_path=config)
    with caplog.at_level(logging.DEBUG):
        publish_run(plan, progress=steps)
    notices = [line for line in steps.lines if "retrying" in line]
    assert len(notices) == 1, steps.lines
    assert re.fullmatch(
        r"twitter: uploading humas\.jpg: .*503.*; retrying (now|in [\d.]+ s) \(attempt 2\)",
        notices[0],
    ), notices
    assert not [r for r in caplog.records if r.name.startswith("stamina")]


# --- 6. --debug never changes the exit code ---------------------------------------------


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_input_error_exits_2_with_or_without_debug(
    debug: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad TOML: exit 2 either way; the traceback only with --debug, the error line always."""
    path = announce(folder(tmp_path), "body = \n")
    code, _, err = run(capsys, *(["--debug"] if debug else []), "preview", str(path))
    assert code == 2
    assert ("Traceback" in err) is debug
    assert re.search(r"^error: .*announcement\.toml:1:\d+: TOML syntax error", err, re.MULTILINE)


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_unexpected_error_exits_70_with_or_without_debug(
    debug: bool,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug of ours: exit 70 either way; the traceback names the place only with --debug."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in planning")

    monkeypatch.setattr("crosspost.planning.plan_file", broken)
    path = announce(folder(tmp_path), 'body = "Halo"\n')
    code, _, err = run(capsys, *(["--debug"] if debug else []), "preview", str(path))
    assert code == 70
    assert ("Traceback" in err and "in broken" in err) is debug
    assert "error: crosspost failed unexpectedly: RuntimeError: a bug in planning" in err


def test_debug_from_the_environment_keeps_the_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """CROSSPOST_DEBUG=1 is --debug: traceback shown, exit code unchanged."""
    monkeypatch.setenv("CROSSPOST_DEBUG", "1")
    path = announce(folder(tmp_path), 'body = "Halo"\ntargets = ["myspace"]\n')
    code, _, err = run(capsys, "preview", str(path))
    assert code == 2
    assert "Traceback" in err
    assert "targets[0]: unknown platform 'myspace'" in err


# --- 7. publish_at in local time --------------------------------------------------------

NEW_YORK = 'timezone = "America/New_York"'


def test_local_time_in_a_dst_gap_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """02:30 on the night New York springs forward does not exist: refused, naming the field."""
    where = folder(tmp_path, NEW_YORK)
    path = announce(where, 'body = "Halo"\npublish_at = 2026-03-08T02:30:00\n')
    expected = (
        r"announcement\.toml: publish_at: 2026-03-08T02:30:00 does not exist in "
        r"America/New_York: the clocks skip from -05:00 to -04:00"
    )
    refused(capsys, path, expected, COMMANDS)


def test_ambiguous_local_time_is_refused_with_both_offsets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """01:30 on the night New York falls back happens twice: refused, giving both offsets."""
    where = folder(tmp_path, NEW_YORK)
    path = announce(where, 'body = "Halo"\npublish_at = 2026-11-01T01:30:00\n')
    expected = (
        r"publish_at: 2026-11-01T01:30:00 happens twice in America/New_York .*"
        r"2026-11-01T01:30:00-04:00 \(the first\) or 2026-11-01T01:30:00-05:00 \(the second\)"
    )
    refused(capsys, path, expected, COMMANDS)


def test_ambiguous_time_with_an_offset_is_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same moment written with its offset validates."""
    where = folder(tmp_path, NEW_YORK)
    path = announce(
        where, 'body = "Halo"\npublish_at = 2026-11-01T01:30:00-05:00\ntargets = ["twitter"]\n'
    )
    code, _, err = run(capsys, "validate", str(path))
    assert code == 0, err


def test_ordinary_local_time_takes_the_zone(tmp_path: Path) -> None:
    """A summer time in New York is 10:00-04:00."""
    where = folder(tmp_path, NEW_YORK)
    path = announce(where, 'body = "Halo"\npublish_at = 2026-07-01T10:00:00\n')
    from crosspost.config import load_config

    loaded = load_announcement(path, load_config(where / "crosspost.toml"))
    assert loaded.publish_at is not None
    assert loaded.publish_at.isoformat() == "2026-07-01T10:00:00-04:00"
    assert loaded.warnings == ()


def test_publish_at_more_than_a_year_ahead_is_warned_not_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A publish_at years ahead (a typo in the year, most likely) loads with a warning."""
    where = folder(tmp_path)
    path = announce(
        where, 'body = "Halo"\npublish_at = 2099-11-30T10:00:00+07:00\ntargets = ["twitter"]\n'
    )
    loaded = load_announcement(path)
    assert len(loaded.warnings) == 1
    assert re.fullmatch(
        r".*announcement\.toml: publish_at: 2099-11-30T10:00:00\+07:00 is [\d,]+ days ahead, "
        r"more than a year; check the year",
        loaded.warnings[0],
    )
    code, _, err = run(capsys, "validate", str(path))
    assert code == 0, err
