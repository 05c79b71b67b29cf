"""End to end: the real `crosspost` command against the five fakes over loopback HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, ROOT
from tests.fakes.world import World

ANNOUNCEMENT = EXAMPLE / "announcement.toml"
SEED = ROOT / "tests" / "data" / "musi-rawas-post.txt"


def crosspost(
    world: World,
    tmp_path: Path,
    *args: str,
    env: dict[str, str] | None = None,
    config: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m crosspost` as a separate process, with its home in tmp_path.

    ``env``: the variables instead of the fakes' credentials; ``config``: a config
    file instead of the example's pointed at the fakes.
    """
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPOST_")} | {
        "CROSSPOST_HOME": str(home),
        "NO_COLOR": "1",
    }
    environ |= world.environ() if env is None else env
    config = config or world.config(tmp_path / "config.toml")
    return subprocess.run(
        [sys.executable, "-m", "crosspost", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        env=environ,
        cwd=ROOT,
        timeout=180,
        check=False,
    )


@pytest.fixture
def world() -> World:
    """Five fakes and a media host, serving on loopback for the test."""
    w = World()
    with w.serving():
        yield w  # type: ignore[misc]


def test_publish_example_to_all_five(world: World, tmp_path: Path) -> None:
    """publish posts the example to all five platforms and prints each post's URL."""
    result = crosspost(world, tmp_path, "publish", "--now", str(ANNOUNCEMENT))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "✓ Facebook: published https://www.facebook.com/" in out
    assert "✓ Instagram: published" in out
    assert "✓ TikTok: published" in out
    assert "✓ YouTube: published https://www.youtube.com/watch?v=" in out
    assert "✓ X / Twitter: published https://x.com/" in out
    assert "Traceback" not in result.stderr
    # What went out is the plan: Facebook got the seed post byte for byte.
    assert [p["message"] for p in world.facebook.posts] == [SEED.read_text("utf-8")]
    assert len(world.instagram.posts) == 1
    assert len(world.tiktok.posts) == 1
    assert len(world.youtube.videos) == 1
    assert len(world.twitter.tweets) == 1
    assert world.twitter.tweets[0].text.endswith(
        "…\nSelengkapnya: https://kab-musirawas.kpu.go.id\n#KPUMelayani"
    )


def test_one_platform_failing_does_not_stop_the_others(world: World, tmp_path: Path) -> None:
    """With Instagram refusing the token, the other four still post and the exit code is 1."""
    env = world.environ() | {"CROSSPOST_INSTAGRAM_ACCESS_TOKEN": "revoked-token"}
    result = crosspost(world, tmp_path, "publish", "--now", "--json", str(ANNOUNCEMENT), env=env)
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    status = {r["platform"]: r["status"] for r in data["results"]}
    assert status == {
        "facebook": "published",
        "instagram": "failed",
        "tiktok": "published",
        "youtube": "published",
        "twitter": "published",
    }
    instagram = next(r for r in data["results"] if r["platform"] == "instagram")
    assert instagram["error"] == "auth"
    assert "revoked-token" not in result.stdout + result.stderr
    assert world.instagram.posts == []
    # A second run publishes only what is missing: Instagram, once its token is fixed.
    again = crosspost(world, tmp_path, "publish", "--now", "--json", str(ANNOUNCEMENT))
    assert again.returncode == 0, again.stderr
    assert len(world.facebook.posts) == 1 and len(world.instagram.posts) == 1
    assert len(world.twitter.tweets) == 1


def test_unknown_outcome_exit_3_and_never_reposted(world: World, tmp_path: Path) -> None:
    """The tweet's connection drops and it is not on the timeline: exit 3, never reposted."""
    world.twitter.fail(r"POST /2/tweets$", drop=True)
    result = crosspost(world, tmp_path, "publish", "--now", str(ANNOUNCEMENT))
    assert result.returncode == 3, result.stdout + result.stderr
    assert "? X / Twitter: outcome unknown" in result.stdout
    command = f"crosspost resolve {ANNOUNCEMENT} --platform twitter --not-published"
    assert command in result.stdout
    # Run again (as cron would): X is looked up again, still unknown, and not re-reported.
    again = crosspost(world, tmp_path, "publish", "--now", str(ANNOUNCEMENT))
    assert again.returncode == 3
    assert again.stdout == "" and again.stderr == ""
    assert command in crosspost(world, tmp_path, "status", str(ANNOUNCEMENT)).stdout
    assert len(world.twitter.calls(r"POST /2/tweets$")) == 1
    assert len(world.facebook.posts) == 1
    # The officer looked, the post is not there, and says so with the command given.
    resolved = crosspost(world, tmp_path, *command.split()[1:])
    assert resolved.returncode == 0, resolved.stderr
    assert "recorded as not published" in resolved.stdout
    last = crosspost(world, tmp_path, "publish", "--now", str(ANNOUNCEMENT))
    assert last.returncode == 0, last.stdout + last.stderr
    assert len(world.twitter.tweets) == 1
    assert len(world.facebook.posts) == 1


def test_lost_answer_of_a_landed_post_is_reconciled(world: World, tmp_path: Path) -> None:
    """The tweet landed but its answer was lost: found on the timeline, exit 0, posted once."""
    world.twitter.fail(r"POST /2/tweets$", drop=True, after=True)
    result = crosspost(world, tmp_path, "publish", "--now", str(ANNOUNCEMENT))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"https://x.com/i/web/status/{world.twitter.tweets[0].id}" in result.stdout
    assert len(world.twitter.tweets) == 1


def test_missing_credentials_stop_before_any_request(world: World, tmp_path: Path) -> None:
    """A missing secret: exit 2, the variable named, no request sent to any platform."""
    env = world.environ()
    del env["CROSSPOST_TIKTOK_ACCESS_TOKEN"]
    result = crosspost(world, tmp_path, "publish", "--now", str(ANNOUNCEMENT), env=env)
    assert result.returncode == 2
    assert "CROSSPOST_TIKTOK_ACCESS_TOKEN" in result.stderr
    assert all(not fake.requests for fake in world.fakes.values())


def test_dry_run_sends_nothing(world: World, tmp_path: Path) -> None:
    """publish --dry-run shows the plan and sends no request at all."""
    result = crosspost(world, tmp_path, "publish", "--dry-run", str(ANNOUNCEMENT))
    assert result.returncode == 0
    assert "Find Us On:" in result.stdout
    assert all(not fake.requests for fake in world.fakes.values())


def test_server_errors_and_rate_limits_are_survived(world: World, tmp_path: Path) -> None:
    """A 503 on an upload step and a 429 with Retry-After are retried; every post goes out once."""
    world.youtube.fail(r"PUT /upload/youtube/v3/videos", 503)
    world.facebook.fail(
        r"POST /v[\d.]+/\d+/photos",
        429,
        headers={"retry-after": "1"},
        json={"error": {"message": "busy", "type": "OAuthException", "code": 4}},
    )
    result = crosspost(world, tmp_path, "publish", "--now", str(ANNOUNCEMENT))
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(world.youtube.videos) == 1 and len(world.facebook.posts) == 1


def test_missing_account_id_stops_before_any_request(world: World, tmp_path: Path) -> None:
    """A config without the Facebook page_id: exit 2 naming the setting, nothing sent."""
    import tomllib

    import tomli_w

    base = tmp_path / "base.toml"
    data = tomllib.loads((EXAMPLE / "crosspost.toml").read_text("utf-8"))
    base.write_text(tomli_w.dumps(data), encoding="utf-8")
    config = world.config(tmp_path / "config.toml", base)
    text = tomllib.loads(config.read_text("utf-8"))
    del text["platforms"]["facebook"]["page_id"]
    config.write_text(tomli_w.dumps(text), encoding="utf-8")
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPOST_")}
    env |= world.environ() | {"CROSSPOST_HOME": str(home), "NO_COLOR": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "crosspost",
            "publish",
            "--now",
            str(ANNOUNCEMENT),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "facebook: set page_id in [platforms.facebook] of the config" in result.stderr
    assert all(not fake.requests for fake in world.fakes.values())


def test_cron_rerun_of_a_published_announcement_is_silent(world: World, tmp_path: Path) -> None:
    """From cron (no terminal), a run that finds everything published prints nothing, exit 0."""
    assert crosspost(world, tmp_path, "publish", "--now", str(ANNOUNCEMENT)).returncode == 0
    again = crosspost(world, tmp_path, "publish", "--now", str(ANNOUNCEMENT))
    assert again.returncode == 0
    assert again.stdout == "" and again.stderr == ""
    assert len(world.facebook.posts) == 1


def test_announcement_not_yet_due_sends_nothing(world: World, tmp_path: Path) -> None:
    """publish_at in the future: nothing is sent, silently from cron; --now publishes."""
    import shutil

    folder = tmp_path / "ann"
    shutil.copytree(EXAMPLE, folder)
    ann = folder / "announcement.toml"
    ann.write_text(
        ann.read_text("utf-8").replace("2023-11-30T10:00:00+07:00", "2099-01-01T10:00:00+07:00"),
        encoding="utf-8",
    )
    later = crosspost(world, tmp_path, "publish", str(ann))
    assert later.returncode == 0 and later.stdout == ""
    assert all(not fake.requests for fake in world.fakes.values())
    now = crosspost(world, tmp_path, "publish", "--now", "-p", "facebook", str(ann))
    assert now.returncode == 0, now.stdout + now.stderr
    assert len(world.facebook.posts) == 1


def test_status_shows_the_state(world: World, tmp_path: Path) -> None:
    """status lists each platform's state from the store; its exit code says what is missing."""
    before = crosspost(world, tmp_path, "status", str(ANNOUNCEMENT))
    assert before.returncode == 1 and "not published" in before.stdout
    env = world.environ() | {"CROSSPOST_INSTAGRAM_ACCESS_TOKEN": "revoked-token"}
    crosspost(world, tmp_path, "publish", "--now", str(ANNOUNCEMENT), env=env)
    after = crosspost(world, tmp_path, "status", "--json", str(ANNOUNCEMENT))
    assert after.returncode == 1
    rows = {r["platform"]: r for r in json.loads(after.stdout)["platforms"]}
    assert rows["facebook"]["status"] == "published"
    assert rows["facebook"]["url"].startswith("https://www.facebook.com/")
    assert rows["instagram"]["status"] == "failed"
    assert "revoked-token" not in after.stdout
