"""End to end over loopback: an office whose TikTok app is not audited publishes the example
in inbox mode, and every command says the post waits in the TikTok inbox.

The real ``crosspost`` command runs as a separate process against FakeTikTok on
127.0.0.1; the app's token carries ``video.upload`` only (no Direct Post).
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
import tomli_w

from tests.conftest import EXAMPLE
from tests.fakes.tiktok import FakeTikTok
from tests.fakes.world import World
from tests.test_e2e import crosspost as run_cli

ANNOUNCEMENT = EXAMPLE / "announcement.toml"
PUBLISH = ("publish", "--now", "--platform", "tiktok")
INBOX = "in the TikTok inbox: open TikTok to finish the post"


@pytest.fixture
def world() -> Iterator[World]:
    """The five fakes on loopback; TikTok's app is unaudited and may only upload."""
    w = World()
    w.tiktok = FakeTikTok(scopes=("user.info.basic", "video.upload"), unaudited=True)
    w.tiktok.gate = w.tripwire
    with w.serving():
        yield w


def inbox_config(world: World, tmp_path: Path) -> Path:
    """The example's config pointed at the fakes, TikTok in inbox mode (no direct options)."""
    path = world.config(tmp_path / "crosspost.toml")
    data = tomllib.loads(path.read_text("utf-8"))
    tiktok = data["platforms"]["tiktok"]
    tiktok.pop("privacy_level", None)
    tiktok["mode"] = "inbox"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def crosspost(world: World, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m crosspost ARGS --config …`` in inbox mode, with wide output lines."""
    return run_cli(
        world,
        tmp_path,
        *args,
        env=world.environ() | {"COLUMNS": "200"},
        config=inbox_config(world, tmp_path),
    )


def test_publish_in_inbox_mode_says_the_post_waits_in_the_inbox(
    world: World, tmp_path: Path
) -> None:
    """publish: the video goes to the inbox upload (no Direct Post call), the result says
    "in the TikTok inbox"; status and queue say it afterwards; a rerun sends nothing."""
    result = crosspost(world, tmp_path, *PUBLISH, str(ANNOUNCEMENT))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("✓ TikTok: published")]
    assert line.endswith(f"({INBOX})"), result.stdout
    [posted] = world.tiktok.in_inbox
    assert posted.received == (EXAMPLE / "media" / "humas.mp4").stat().st_size
    assert world.tiktok.calls(r"POST /v2/post/publish/inbox/video/init/$")
    assert not world.tiktok.calls(r"POST /v2/post/publish/video/init/$")
    assert not world.tiktok.calls(r"creator_info")

    status = crosspost(world, tmp_path, "status", str(ANNOUNCEMENT))
    tiktok = next(x for x in status.stdout.splitlines() if "TikTok" in x)
    assert "TikTok: published at" in tiktok and tiktok.endswith(INBOX), status.stdout
    queue = crosspost(world, tmp_path, "queue", "--json", str(EXAMPLE))
    (row,) = json.loads(queue.stdout)["announcements"]
    (entry,) = [p for p in row["platforms"] if p["platform"] == "tiktok"]
    assert entry["status"] == "published" and entry["visibility"] == INBOX

    again = crosspost(world, tmp_path, *PUBLISH, str(ANNOUNCEMENT))
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(world.tiktok.posts) == 1


def test_publish_json_in_inbox_mode_carries_the_visibility(world: World, tmp_path: Path) -> None:
    """preview says the post will wait in the inbox; publish --json: the TikTok result is
    published, with "visibility" saying the inbox."""
    preview = crosspost(world, tmp_path, "preview", "--platform", "tiktok", str(ANNOUNCEMENT))
    assert "waits in the TikTok inbox: open TikTok to finish the post" in preview.stdout
    assert world.tiktok.requests == []
    result = crosspost(world, tmp_path, *PUBLISH, "--json", str(ANNOUNCEMENT))
    assert result.returncode == 0, result.stdout + result.stderr
    (tiktok,) = [r for r in json.loads(result.stdout)["results"] if r["platform"] == "tiktok"]
    assert tiktok["status"] == "published"
    assert tiktok["visibility"] == INBOX
    assert tiktok["id"] == world.tiktok.in_inbox[0].publish_id
