"""continue_on over loopback: X waits for the Facebook post and links to it (issue #8)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from tests.conftest import EXAMPLE
from tests.fakes.world import World
from tests.test_e2e import crosspost

ANNOUNCEMENT = EXAMPLE / "announcement.toml"


@pytest.fixture
def world() -> Any:
    """Five fakes and a media host, serving on loopback for the test."""
    w = World()
    with w.serving():
        yield w


def _run(world: World, tmp_path: Path, base: Path, *args: str) -> Any:
    original = world.config

    def config(path: Path, base_: Path = base) -> Path:
        return original(path, base_)

    world.config = config  # type: ignore[method-assign]
    try:
        return crosspost(world, tmp_path, *args)
    finally:
        world.config = original  # type: ignore[method-assign]


def _base(tmp_path: Path, **twitter: Any) -> Path:
    data = tomllib.loads((EXAMPLE / "crosspost.toml").read_text("utf-8"))
    data.setdefault("platforms", {}).setdefault("twitter", {}).update(twitter)
    base = tmp_path / "base.toml"
    base.write_text(tomli_w.dumps(data), encoding="utf-8")
    return base


def test_x_links_to_the_facebook_post_published_first(world: World, tmp_path: Path) -> None:
    """publish: Facebook goes first, and the X post's read-more link is Facebook's post URL."""
    base = _base(tmp_path, continue_on="facebook")
    result = _run(world, tmp_path, base, "publish", "--now", "--json", str(ANNOUNCEMENT))
    assert result.returncode == 0, result.stdout + result.stderr
    results = {r["platform"]: r for r in json.loads(result.stdout)["results"]}
    facebook_url = results["facebook"]["url"]
    assert facebook_url and facebook_url.startswith("https://www.facebook.com/")
    tweet = world.twitter.tweets[0]
    assert f"\nSelengkapnya: {facebook_url}\n" in tweet.text
    assert "[facebook post URL]" not in tweet.text
    # Facebook's post existed before the tweet was created.
    assert len(world.facebook.posts) == 1


def test_x_falls_back_to_the_website_when_facebook_fails(world: World, tmp_path: Path) -> None:
    """When the Facebook post does not go out, X still posts, linking to the website."""
    base = _base(tmp_path, continue_on="facebook")
    world.facebook.page_token = "a-token-nobody-has"  # every Facebook call is refused
    result = _run(world, tmp_path, base, "publish", "--now", "--json", str(ANNOUNCEMENT))
    results = {r["platform"]: r for r in json.loads(result.stdout)["results"]}
    assert results["facebook"]["status"] == "failed"
    assert results["twitter"]["status"] == "published"
    assert "did not go out" in results["twitter"]["message"]
    tweet = world.twitter.tweets[0]
    assert "\nSelengkapnya: https://kab-musirawas.kpu.go.id\n" in tweet.text
