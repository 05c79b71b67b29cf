"""End to end over loopback: `crosspost publish` posts a Reel from a local file to Instagram.

No web server hosts the video (no url, no media_base_url): crosspost opens a
resumable upload container, sends the file's bytes to the (rebased) rupload
host, waits for FINISHED and publishes, as an office without web hosting needs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import tomli_w

from tests.conftest import EXAMPLE, ROOT
from tests.fakes.world import World

RUPLOAD = r"^POST /ig-api-upload/v[\d.]+/\d+$"


def test_a_reel_from_a_local_file_is_uploaded_and_published(tmp_path: Path) -> None:
    """publish --now: one upload of the whole file with Instagram's headers, one Reel whose
    bytes are the file's, and no fetch from any media host."""
    folder = tmp_path / "pengumuman"
    (folder / "video").mkdir(parents=True)
    clip = folder / "video" / "sosialisasi pemilu.mp4"
    shutil.copy(EXAMPLE / "media" / "humas.mp4", clip)
    announcement = folder / "reel.toml"
    announcement.write_text(
        'id = "reel-lokal"\n'
        'targets = ["instagram"]\n'
        'body = "Sosialisasi tahapan Pemilu 2024 #TemanPemilih"\n'
        "[[media]]\n"
        'path = "video/sosialisasi pemilu.mp4"\n',
        encoding="utf-8",
    )
    world = World()
    with world.serving():
        config = world.config(tmp_path / "config.toml")
        data = tomllib.loads(config.read_text("utf-8"))
        del data["platforms"]["instagram"]["media_base_url"]  # no web hosting at all
        config.write_text(tomli_w.dumps(data), encoding="utf-8")
        home = tmp_path / "home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSPOST_")}
        env |= world.environ() | {"CROSSPOST_HOME": str(home), "NO_COLOR": "1"}
        result = subprocess.run(
            [
                *(sys.executable, "-m", "crosspost", "publish", "--now", "--json"),
                *(str(announcement), "--config", str(config)),
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=180,
            check=False,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    [entry] = json.loads(result.stdout)["results"]
    fake = world.instagram
    [post] = fake.posts
    assert entry["platform"] == "instagram" and entry["status"] == "published"
    assert entry["url"] == post["permalink"]
    assert post["media_type"] == "VIDEO"
    assert post["data"] == [clip.read_bytes()]
    [create] = fake.calls(r"^POST /v[\d.]+/\d+/media$")
    assert b"upload_type=resumable" in create.content
    assert b"media_type=REELS" in create.content
    [upload] = fake.calls(RUPLOAD)
    assert upload.headers["authorization"] == f"OAuth {fake.access_token}"
    assert upload.headers["offset"] == "0"
    assert upload.headers["file_size"] == str(clip.stat().st_size)
    assert world.media.requests == []  # nothing was fetched from a web server
    assert fake.access_token not in result.stdout + result.stderr
