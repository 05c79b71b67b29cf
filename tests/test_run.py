"""`crosspost run DIR`: what cron calls, end to end against the fakes over loopback.

Each test lays out a folder of announcements as an office would (a
``crosspost.toml`` with ``state_dir``, files due, scheduled, late, drafts), runs
the real command as a separate process, and checks both sides: what the fake
platforms received, and what the person reading cron mail is told.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, ROOT
from tests.fakes.world import World


@pytest.fixture
def world(tmp_path: Path) -> World:
    """The fakes, serving the media of the test's folder."""
    folder = tmp_path / "announcements"
    (folder / "media").mkdir(parents=True)
    shutil.copy(EXAMPLE / "media" / "humas.jpg", folder / "media" / "humas.jpg")
    w = World(folder)
    with w.serving():
        yield w  # type: ignore[misc]


def when(**delta: float) -> str:
    """A publish_at relative to now, as TOML writes it."""
    return (datetime.now(UTC) + timedelta(**delta)).replace(microsecond=0).isoformat()


def announcement(folder: Path, name: str, body: str, **keys: str | bool) -> Path:
    """Write an announcement for Facebook and X with the example's photo."""
    lines = [f'body = "{body}"', 'targets = ["facebook", "twitter"]']
    for key, value in keys.items():
        lines.append(
            f"{key} = {str(value).lower()}" if isinstance(value, bool) else f"{key} = {value}"
        )
    lines += ["", "[[media]]", 'path = "media/humas.jpg"', 'alt = "foto"']
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def setup(world: World, tmp_path: Path) -> Path:
    """The office folder with its config (state in ./state) pointed at the fakes."""
    folder = tmp_path / "announcements"
    config = world.config(folder / "crosspost.toml")
    text = config.read_text("utf-8")
    config.write_text('state_dir = "state"\n' + text, encoding="utf-8")
    return folder


def crosspost(
    world: World, tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the command as cron would: no terminal, its own home."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPOST_")}
    environ |= {"CROSSPOST_HOME": str(home), "NO_COLOR": "1"} | world.environ() | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "crosspost", *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=ROOT,
        timeout=180,
        check=False,
    )


def test_run_publishes_what_is_due_once_and_leaves_the_rest(world: World, tmp_path: Path) -> None:
    """Due goes out; scheduled, drafts, unscheduled and parked files do not; a rerun is silent."""
    folder = setup(world, tmp_path)
    announcement(folder, "due.toml", "Rapat pleno hari ini", publish_at=when(minutes=-5))
    announcement(folder, "later.toml", "Rapat pleno lusa", publish_at=when(days=2))
    announcement(folder, "draft.toml", "Draf", publish_at=when(minutes=-5), draft=True)
    announcement(folder, "nodate.toml", "Belum dijadwalkan")
    announcement(folder, "_parked.toml", "Disimpan", publish_at=when(minutes=-5))
    first = crosspost(world, tmp_path, "run", str(folder))
    assert first.returncode == 0, first.stdout + first.stderr
    assert len(world.facebook.posts) == 1 and len(world.twitter.tweets) == 1
    assert world.facebook.posts[0]["message"].startswith("Rapat pleno hari ini")
    assert "due (" in first.stdout
    assert "✓ Facebook: published" in first.stdout and "✓ X / Twitter: published" in first.stdout
    assert "Traceback" not in first.stderr
    again = crosspost(world, tmp_path, "run", str(folder))
    assert again.returncode == 0 and again.stdout == "" and again.stderr == ""
    assert len(world.facebook.posts) == 1 and len(world.twitter.tweets) == 1
    assert (folder / "state" / "state.sqlite3").is_file()


def test_a_late_announcement_is_skipped_and_reported_once(world: World, tmp_path: Path) -> None:
    """Due two days ago (over max_late): not published, said once, --now sends it."""
    folder = setup(world, tmp_path)
    late = announcement(folder, "besok.toml", "Besok, Sabtu", publish_at=when(days=-2))
    first = crosspost(world, tmp_path, "run", str(folder))
    assert first.returncode == 0
    assert first.stdout.startswith(f"! {late}: was due ")
    assert "not published" in first.stdout and f"crosspost publish {late} --now" in first.stdout
    assert not world.facebook.requests and not world.twitter.requests
    second = crosspost(world, tmp_path, "run", str(folder))
    assert second.stdout == "" and second.stderr == ""
    forced = crosspost(world, tmp_path, "publish", str(late), "--now")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert len(world.facebook.posts) == 1


def test_the_same_id_in_two_files_is_refused_naming_both(world: World, tmp_path: Path) -> None:
    """Two files with one id: neither is published, and the message names both."""
    folder = setup(world, tmp_path)
    one = announcement(folder, "a.toml", "Satu", id='"rapat"', publish_at=when(minutes=-1))
    two = announcement(folder, "b.toml", "Dua", id='"rapat"', publish_at=when(minutes=-1))
    result = crosspost(world, tmp_path, "run", str(folder))
    assert result.returncode == 2
    assert str(one) in result.stderr and str(two) in result.stderr
    assert not world.facebook.posts and not world.twitter.tweets


def test_a_second_run_while_one_is_going_leaves_it_be(world: World, tmp_path: Path) -> None:
    """Overlapping cron lines: the second run exits 0 at once; each post goes out once."""
    folder = setup(world, tmp_path)
    announcement(folder, "due.toml", "Sekali saja", publish_at=when(minutes=-1))
    # The first run must still be inside its publish when the second starts (a
    # process start takes up to a few seconds on a loaded machine).
    world.facebook.delay = 4.0
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPOST_")}
    environ |= {"CROSSPOST_HOME": str(home), "NO_COLOR": "1"} | world.environ()
    first = subprocess.Popen(
        [sys.executable, "-m", "crosspost", "run", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
        cwd=ROOT,
    )
    deadline = time.monotonic() + 60
    while not world.facebook.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    second = crosspost(world, tmp_path, "run", str(folder))
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, out + err
    assert second.returncode == 0
    assert "another crosspost run is already publishing" in second.stdout
    assert len(world.facebook.posts) == 1 and len(world.twitter.tweets) == 1


def test_a_failing_platform_waits_for_its_backoff(world: World, tmp_path: Path) -> None:
    """X refuses the token: reported once; the next cron run does not hammer it."""
    folder = setup(world, tmp_path)
    announcement(folder, "due.toml", "Coba lagi nanti", publish_at=when(minutes=-1))
    env = {"CROSSPOST_TWITTER_ACCESS_TOKEN": "revoked-token"}
    first = crosspost(world, tmp_path, "run", str(folder), env=env)
    assert first.returncode == 1
    assert "✗ X / Twitter: failed" in first.stdout and "revoked-token" not in first.stdout
    sent = len(world.twitter.requests)
    second = crosspost(world, tmp_path, "run", str(folder), env=env)
    assert second.returncode == 1 and second.stdout == ""
    assert len(world.twitter.requests) == sent
    assert len(world.facebook.posts) == 1


def test_json_and_log_lines(world: World, tmp_path: Path) -> None:
    """--json prints one document; --log appends one JSON line per announcement acted on."""
    folder = setup(world, tmp_path)
    announcement(folder, "due.toml", "Dengan catatan", publish_at=when(minutes=-1))
    announcement(folder, "later.toml", "Nanti", publish_at=when(days=1))
    log = tmp_path / "crosspost.log"
    result = crosspost(world, tmp_path, "run", str(folder), "--json", "--log", str(log))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    states = {Path(a["file"]).name: a["state"] for a in data["announcements"]}
    assert states == {"due.toml": "due", "later.toml": "scheduled"}
    lines = [json.loads(line) for line in log.read_text("utf-8").splitlines()]
    assert len(lines) == 1 and lines[0]["id"] == "due"
    assert {r["status"] for r in lines[0]["results"]} == {"published"}


def test_announcements_in_subfolders_use_the_folders_config(world: World, tmp_path: Path) -> None:
    """announcements/2026/x.toml finds announcements/crosspost.toml and its state_dir."""
    folder = setup(world, tmp_path)
    shutil.copytree(folder / "media", folder / "2026" / "media")
    announcement(folder / "2026", "due.toml", "Di subfolder", publish_at=when(minutes=-1))
    result = crosspost(world, tmp_path, "run", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(world.facebook.posts) == 1
    assert (folder / "state" / "state.sqlite3").is_file()


def test_state_that_cannot_be_written_stops_before_sending(world: World, tmp_path: Path) -> None:
    """A state_dir that cannot be created: one clear line, exit 1, nothing sent."""
    folder = setup(world, tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    config = folder / "crosspost.toml"
    config.write_text(
        config.read_text("utf-8").replace('state_dir = "state"', f'state_dir = "{blocker}/state"'),
        encoding="utf-8",
    )
    announcement(folder, "due.toml", "Tidak terkirim", publish_at=when(minutes=-1))
    result = crosspost(world, tmp_path, "run", str(folder))
    assert result.returncode == 1
    assert str(blocker) in result.stderr and "Traceback" not in result.stderr
    assert not world.facebook.requests and not world.twitter.requests


def test_a_moved_state_dir_or_another_home_publishes_nothing_again(
    world: World, tmp_path: Path
) -> None:
    """The state moves with state_dir (mv + config), and HOME no longer matters."""
    folder = setup(world, tmp_path)
    announcement(folder, "due.toml", "Pindah rumah", publish_at=when(minutes=-1))
    assert crosspost(world, tmp_path, "run", str(folder)).returncode == 0
    (folder / "state").rename(folder / "kept-state")
    config = folder / "crosspost.toml"
    config.write_text(
        config.read_text("utf-8").replace('state_dir = "state"', 'state_dir = "kept-state"'),
        encoding="utf-8",
    )
    other_home = {"CROSSPOST_HOME": str(tmp_path / "another-home")}
    again = crosspost(world, tmp_path, "run", str(folder), env=other_home)
    assert again.returncode == 0 and again.stdout == "" and again.stderr == ""
    assert len(world.facebook.posts) == 1 and len(world.twitter.tweets) == 1


def test_an_unknown_outcome_is_mailed_once_and_looked_up_each_run(
    world: World, tmp_path: Path
) -> None:
    """X's answer is lost: the first run says what to check; later runs look again quietly."""
    folder = setup(world, tmp_path)
    due = announcement(folder, "due.toml", "Jawaban hilang", publish_at=when(minutes=-1))
    world.twitter.fail(r"POST /2/tweets$", drop=True)
    first = crosspost(world, tmp_path, "run", str(folder))
    assert first.returncode == 3
    assert f"crosspost resolve {due} --platform twitter --not-published" in first.stdout
    lookups = len(world.twitter.calls(r"GET /2/users/\d+/tweets"))
    second = crosspost(world, tmp_path, "run", str(folder))
    assert second.returncode == 3 and second.stdout == "" and second.stderr == ""
    assert len(world.twitter.calls(r"GET /2/users/\d+/tweets")) > lookups
    assert len(world.twitter.calls(r"POST /2/tweets$")) == 1


def test_a_blackout_skip_is_logged_once_with_its_window(world: World, tmp_path: Path) -> None:
    """--log: the first run inside a window logs the skip with the window; later ones do not."""
    folder = setup(world, tmp_path)
    start = datetime.now(UTC) - timedelta(hours=1)
    end = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    with (folder / "crosspost.toml").open("a", encoding="utf-8") as handle:
        handle.write(
            f"\n[[blackout]]\nstart = {start.isoformat()}\nend = {end.isoformat()}\n"
            'reason = "embargo hasil"\n'
        )
    announcement(folder, "due.toml", "Hasil rekapitulasi", publish_at=when(minutes=-1))
    log = tmp_path / "crosspost.log"
    for _ in range(2):
        result = crosspost(world, tmp_path, "run", str(folder), "--log", str(log))
        assert result.returncode == 0, result.stdout + result.stderr
    (line,) = [json.loads(text) for text in log.read_text("utf-8").splitlines()]
    assert line["state"] == "blackout_skipped"
    assert "blackout: embargo hasil (until " in line["message"]
    assert [(b["platform"], b["reason"]) for b in line["blackout"]] == [
        ("facebook", "embargo hasil"),
        ("twitter", "embargo hasil"),
    ]
    assert datetime.fromisoformat(line["blackout"][0]["end"]) == end
    assert not world.facebook.requests and not world.twitter.requests


# -- alerts (issue: alerts where the office reads them) ----------------------------


def with_alerts(folder: Path, url: str) -> None:
    """Point the folder's config at an alert URL."""
    config = folder / "crosspost.toml"
    config.write_text(f'{config.read_text("utf-8")}\n[alerts]\nurls = ["{url}"]\n', "utf-8")


def test_a_run_alerts_once_about_a_failure_and_an_unknown(world: World, tmp_path: Path) -> None:
    """Facebook refused, X unknown: one message naming both; the next run sends none."""
    from tests.fakes.sink import Sink

    folder = setup(world, tmp_path)
    announcement(folder, "due.toml", "Perlu perhatian", publish_at=when(minutes=-1))
    world.twitter.fail(r"POST /2/tweets$", drop=True)
    env = {"CROSSPOST_FACEBOOK_PAGE_TOKEN": "revoked-page-token"}
    sink = Sink()
    with sink.serving():
        with_alerts(folder, sink.url(userinfo="humas:SINK-SECRET-42"))
        first = crosspost(world, tmp_path, "run", str(folder), env=env)
        assert first.returncode == 3, first.stdout + first.stderr
        messages = sink.messages()
        assert len(messages) == 1
        text = messages[0]["title"] + "\n" + messages[0]["message"]
        assert "Facebook" in text and "X / Twitter" in text
        assert "crosspost resolve" in text
        second = crosspost(world, tmp_path, "run", str(folder), env=env)
        assert second.returncode == 3 and len(sink.messages()) == 1
    for result in (first, second):
        assert "SINK-SECRET-42" not in result.stdout + result.stderr
    database = (folder / "state" / "state.sqlite3").read_bytes()
    assert b"SINK-SECRET-42" not in database


def test_an_alert_that_cannot_be_delivered_changes_nothing(world: World, tmp_path: Path) -> None:
    """The alert target is down: the run's exit code is its own; one line says so."""
    import socket

    folder = setup(world, tmp_path)
    announcement(folder, "due.toml", "Tetap terbit", publish_at=when(minutes=-1))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with_alerts(folder, f"json://127.0.0.1:{port}/hook")
    env = {"CROSSPOST_TWITTER_ACCESS_TOKEN": "revoked-token"}
    result = crosspost(world, tmp_path, "run", str(folder), env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "alert not delivered" in result.stderr
    assert len(world.facebook.posts) == 1


def test_a_late_skip_is_alerted(world: World, tmp_path: Path) -> None:
    """A post skipped as late reaches the office's channel with the command to send it."""
    from tests.fakes.sink import Sink

    folder = setup(world, tmp_path)
    late = announcement(folder, "besok.toml", "Besok, Sabtu", publish_at=when(days=-2))
    sink = Sink()
    with sink.serving():
        with_alerts(folder, sink.url())
        crosspost(world, tmp_path, "run", str(folder))
        crosspost(world, tmp_path, "run", str(folder))
        messages = sink.messages()
    assert len(messages) == 1
    assert f"crosspost publish {late} --now" in messages[0]["message"]
