"""The office of issue #12's "done when", over loopback: an unaudited TikTok app and no web
hosting, and the example still goes to all five platforms, each result saying truthfully
where the post is (public, private, or waiting in the TikTok inbox)."""

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
from tests.test_e2e import crosspost

ANNOUNCEMENT = EXAMPLE / "announcement.toml"


@pytest.fixture
def world() -> Iterator[World]:
    """The five fakes on loopback; TikTok's app is unaudited and may only upload."""
    w = World()
    w.tiktok = FakeTikTok(scopes=("user.info.basic", "video.upload"), unaudited=True)
    w.tiktok.gate = w.tripwire
    with w.serving():
        yield w


def run(world: World, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m crosspost ARGS`` with the example's config, minus any web hosting."""
    path = world.config(tmp_path / "crosspost.toml")
    data = tomllib.loads(path.read_text("utf-8"))
    data["platforms"]["instagram"].pop("media_base_url")  # no web server for the media
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return crosspost(world, tmp_path, *args, config=path)


def test_an_office_without_hosting_or_an_audited_app_reaches_all_five(
    world: World, tmp_path: Path
) -> None:
    """Instagram gets the video as a Reel uploaded from the file, TikTok's video waits in the
    inbox, YouTube's video is private: each result says so; nothing is fetched from a host."""
    result = run(world, tmp_path, "publish", "--now", "--json", str(ANNOUNCEMENT))
    assert result.returncode == 0, result.stdout + result.stderr
    results = {r["platform"]: r for r in json.loads(result.stdout)["results"]}
    assert {name: r["status"] for name, r in results.items()} == dict.fromkeys(
        ("facebook", "instagram", "tiktok", "youtube", "twitter"), "published"
    )
    assert results["facebook"]["visibility"] == "public"
    assert results["twitter"]["visibility"] == "public"
    assert results["instagram"]["visibility"] == "public"
    assert results["tiktok"]["visibility"] == "in the TikTok inbox: open TikTok to finish the post"
    assert "private" in results["youtube"]["visibility"]
    assert len(world.instagram.posts) == 1
    assert world.instagram.posts[0]["media_type"] == "VIDEO"  # a Reel, as the Graph API says
    assert world.media.requests == []  # nothing was fetched from a web host
    assert len(world.tiktok.in_inbox) == 1
